// The KMS v2 messages (proto/kms_v2.proto, the wire contract) and their proto3 wire format, written
// by hand so the kguard binary needs no protobuf library: varints (at most 10 bytes, the 10th at
// most 1), length-delimited fields, map<string, bytes> as repeated entry messages (key = 1,
// value = 2; the last entry of a key wins), unknown fields of every wire type skipped (groups
// nested at most 64 deep), a known field under another wire type skipped as protobuf does, string
// fields checked as UTF-8 (proto3). Truncated or overlong input is refused with the reason.
//
// The accessors follow protobuf's generated C++ (plaintext(), set_plaintext(), annotations(),
// mutable_annotations()) so the service reads the same either way. Also the gRPC status the
// service answers with (grpc's numeric codes).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace kg::kms {

// gRPC status codes (the numbers are the protocol's).
enum class StatusCode : int {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
};

class RpcStatus {
 public:
  RpcStatus() = default;
  RpcStatus(StatusCode c, std::string msg) : code_(c), message_(std::move(msg)) {}
  bool ok() const { return code_ == StatusCode::OK; }
  StatusCode error_code() const { return code_; }
  const std::string& error_message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::OK;
  std::string message_;
};

namespace v2 {

using Annotations = std::map<std::string, std::string>;

// Every message: parse() clears, then reads `in`: "" when well-formed, else why not;
// ParseFromString() is parse() == ""; SerializeAsString() writes the fields that are set
// (proto3: empty strings are not written), in field-number order.
class StatusRequest {
 public:
  std::string parse(std::string_view in);
  bool ParseFromString(std::string_view in) { return parse(in).empty(); }
  std::string SerializeAsString() const;
};

class StatusResponse {
 public:
  const std::string& version() const { return version_; }
  const std::string& healthz() const { return healthz_; }
  const std::string& key_id() const { return key_id_; }
  void set_version(std::string v) { version_ = std::move(v); }
  void set_healthz(std::string v) { healthz_ = std::move(v); }
  void set_key_id(std::string v) { key_id_ = std::move(v); }
  std::string parse(std::string_view in);
  bool ParseFromString(std::string_view in) { return parse(in).empty(); }
  std::string SerializeAsString() const;

 private:
  std::string version_, healthz_, key_id_;
};

class DecryptRequest {
 public:
  const std::string& ciphertext() const { return ciphertext_; }
  const std::string& uid() const { return uid_; }
  const std::string& key_id() const { return key_id_; }
  const Annotations& annotations() const { return annotations_; }
  void set_ciphertext(std::string v) { ciphertext_ = std::move(v); }
  void set_uid(std::string v) { uid_ = std::move(v); }
  void set_key_id(std::string v) { key_id_ = std::move(v); }
  Annotations* mutable_annotations() { return &annotations_; }
  void clear_annotations() { annotations_.clear(); }
  std::string parse(std::string_view in);
  bool ParseFromString(std::string_view in) { return parse(in).empty(); }
  std::string SerializeAsString() const;

 private:
  std::string ciphertext_, uid_, key_id_;
  Annotations annotations_;
};

class DecryptResponse {
 public:
  const std::string& plaintext() const { return plaintext_; }
  void set_plaintext(std::string v) { plaintext_ = std::move(v); }
  std::string parse(std::string_view in);
  bool ParseFromString(std::string_view in) { return parse(in).empty(); }
  std::string SerializeAsString() const;

 private:
  std::string plaintext_;
};

class EncryptRequest {
 public:
  const std::string& plaintext() const { return plaintext_; }
  const std::string& uid() const { return uid_; }
  void set_plaintext(std::string v) { plaintext_ = std::move(v); }
  void set_uid(std::string v) { uid_ = std::move(v); }
  std::string parse(std::string_view in);
  bool ParseFromString(std::string_view in) { return parse(in).empty(); }
  std::string SerializeAsString() const;

 private:
  std::string plaintext_, uid_;
};

class EncryptResponse {
 public:
  const std::string& ciphertext() const { return ciphertext_; }
  const std::string& key_id() const { return key_id_; }
  const Annotations& annotations() const { return annotations_; }
  void set_ciphertext(std::string v) { ciphertext_ = std::move(v); }
  void set_key_id(std::string v) { key_id_ = std::move(v); }
  Annotations* mutable_annotations() { return &annotations_; }
  void clear_annotations() { annotations_.clear(); }
  std::string parse(std::string_view in);
  bool ParseFromString(std::string_view in) { return parse(in).empty(); }
  std::string SerializeAsString() const;

 private:
  std::string ciphertext_, key_id_;
  Annotations annotations_;
};

}  // namespace v2

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): what proto3 requires of strings.
bool is_utf8(std::string_view s);

}  // namespace kg::kms
