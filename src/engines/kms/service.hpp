// The KMS v2 service behind the gRPC socket (grpc_h2.hpp): Status, Encrypt and Decrypt as kube-apiserver calls them
// (docs/kms.md; research §4.1). The limits are the API server's own validation
// (k8s.io/apiserver kmsv2 envelope): ciphertext and key_id at most 1 KiB each, annotation keys DNS
// names (RFC 1123 subdomains with a dot) and keys + values at most 32 KiB.
//
// What Encrypt returns (the "ciphertext", at most 1 KiB):
//   0x01 (format) | cipher (0x01 AES-256-GCM, 0x02 SM4-GCM) | 12-byte random nonce | sealed DEK | 16-byte tag
// sealed by the current KEK version with additional data "kguard-kms/v1\0" + the two header bytes +
// the key_id, so a ciphertext presented under another key_id, or altered, does not open.
// Annotations: version.kms.kguard.dev = "1" (the format); Decrypt refuses keys it does not know.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "engines/kms/wire.hpp"

#include "engines/kms/backend.hpp"
#include "engines/kms/state.hpp"

namespace kg::kms {

constexpr std::size_t kMaxCiphertext = 1024;   // the API server's encryptedDEKSourceMaxSize
constexpr std::size_t kMaxKeyId = 1024;        // KeyIDMaxSize
constexpr std::size_t kMaxAnnotations = 32 * 1024;  // annotationsMaxSize (keys + values)
constexpr std::size_t kHeaderSize = 2;
constexpr std::size_t kMaxPlaintext = kMaxCiphertext - kHeaderSize - kNonceSize - kTagSize;  // 994
constexpr const char* kFormatAnnotation = "version.kms.kguard.dev";

// RFC 1123 subdomain with at least two labels (the API server's IsFullyQualifiedDomainName).
bool is_fqdn(std::string_view s);

struct ServiceOptions {
  std::string state_dir;  // empty: no state file (tests, fuzz): the state given is fixed
  std::string audit_log;  // JSON lines of key operations; empty: none
};

class KmsService {
 public:
  // Reads state.json from opts.state_dir and loads its keys; KmsError when it cannot.
  KmsService(std::unique_ptr<KeyBackend> backend, ServiceOptions opts);
  // A fixed state (no directory): tests and the fuzz target.
  KmsService(std::unique_ptr<KeyBackend> backend, KmsState state, ServiceOptions opts = {});
  ~KmsService();

  RpcStatus status(const v2::StatusRequest& req, v2::StatusResponse* resp);
  RpcStatus encrypt(const v2::EncryptRequest& req, v2::EncryptResponse* resp);
  RpcStatus decrypt(const v2::DecryptRequest& req, v2::DecryptResponse* resp);

  // Re-reads state.json when its stamp changed (or `force`): the new KEK versions take effect for the
  // next request; when the new state or its keys do not load, the old stay in force (logged, counted).
  // True when a new state was taken.
  bool reload(bool force);
  // Writes usage.json when anything changed since the last write.
  void flush_usage();
  // Prometheus text of the service's metrics.
  std::string render_metrics() const;
  int current_version() const;

 private:
  struct Stamp {
    long long mtime_ns = 0, size = -1, ino = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Snapshot {
    KmsState state;
  };
  std::shared_ptr<const Snapshot> snapshot() const;
  void take(KmsState s);  // loads the backend's keys for s, then swaps
  void note_use(const std::string& key_id, bool encrypt);
  void audit(std::string_view op, std::string_view uid, const KeyVersion* v, std::string_view key_id,
             const RpcStatus& st);
  void observe(std::string_view method, const RpcStatus& st, std::chrono::steady_clock::time_point t0);

  std::unique_ptr<KeyBackend> backend_;
  ServiceOptions opts_;
  mutable std::shared_mutex mu_;  // exclusive while keys are (re)loaded; shared for requests
  std::shared_ptr<const Snapshot> snap_;
  Stamp stamp_;
  std::string health_;  // last health verdict, for the metric

  mutable std::mutex usage_mu_;
  UsageRecord usage_;
  bool usage_dirty_ = false;

  std::mutex audit_mu_;
  std::ofstream audit_;

  struct MethodStats {
    std::map<std::string, std::uint64_t> by_code;
    std::uint64_t buckets[12] = {};
    double sum = 0;
    std::uint64_t count = 0;
  };
  mutable std::mutex metrics_mu_;
  std::map<std::string, MethodStats> methods_;
  std::map<std::pair<int, std::string>, std::uint64_t> key_ops_;  // (version, op)
  std::uint64_t reload_ok_ = 0, reload_failed_ = 0;
  std::atomic<int> healthy_{1};
};

// The service behind a raw serialized request (the gRPC transport's and the fuzz target's entry):
// parses `bytes` as the method's ("Status", "Encrypt", "Decrypt") request message and calls it;
// the response serialized, or empty on error (`st` says which: INTERNAL for a malformed message,
// UNIMPLEMENTED for another method).
std::string handle_raw(KmsService& s, std::string_view method, std::string_view bytes, RpcStatus& st);

}  // namespace kg::kms
