// Byte streams the image reader is built from: a blob is read once, front to
// back, in bounded chunks (a layer never reaches the disk or memory whole);
// decompressors, the tar reader and the digest check wrap one another.
//
// Errors inside the image reader are ImageError exceptions: a corrupt blob
// can surface from deep inside a decompressor under the tar reader, and the
// one catch at the reader's API (engines/image: read_image) turns it into a
// message naming the source, the blob and the entry. Nothing else throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kg::image {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `n` bytes into `buf`; 0 only at the end. Throws ImageError.
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  // Skips `n` bytes (a file seeks, others read and drop); false when the
  // stream ends first.
  virtual bool skip(std::uint64_t n);
};

// A region [offset, offset + length) of a file (length -1: to the end).
// Seekable, so skip() is free; the file stays open as long as the source.
std::unique_ptr<ByteSource> open_file_source(const std::string& path, std::uint64_t offset = 0,
                                             std::uint64_t length = UINT64_MAX);

class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  std::size_t read(char* buf, std::size_t n) override;
  bool skip(std::uint64_t n) override;

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// The whole stream into a string; ImageError past `max` bytes (`what` names it).
std::string read_all(ByteSource& in, std::size_t max, std::string_view what);
// read() until `n` bytes or the end; the count read.
std::size_t read_full(ByteSource& in, char* buf, std::size_t n);

// Incremental SHA-256 (OpenSSL).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t n);
  std::string hex();  // finishes; call once
 private:
  void* ctx_;
};
std::string sha256_hex(std::string_view data);

// "sha256:<64 lowercase hex>" — the only algorithm images use in practice;
// sha512 digests are refused with a clear error rather than left unchecked.
bool valid_digest(std::string_view digest);

// Passes the bytes of `inner` through and, at its end, checks that they
// were exactly `size` bytes (when known, not UINT64_MAX) hashing to `digest`.
// A mismatch is an ImageError naming `what`: no silent reads.
class VerifyingSource : public ByteSource {
 public:
  VerifyingSource(std::unique_ptr<ByteSource> inner, std::string digest, std::uint64_t size,
                  std::string what);
  std::size_t read(char* buf, std::size_t n) override;
  std::uint64_t count() const { return count_; }

 private:
  void finish();
  std::unique_ptr<ByteSource> inner_;
  std::string digest_;
  std::uint64_t size_;
  std::string what_;
  Sha256 sha_;
  std::uint64_t count_ = 0;
  bool done_ = false;
};

// Counts and hashes the bytes that pass (the uncompressed layer's diff_id);
// with `hash` false it only counts (an uncompressed blob's digest is its diff_id).
class HashingSource : public ByteSource {
 public:
  explicit HashingSource(ByteSource& inner, bool hash = true) : inner_(inner), hash_(hash) {}
  std::size_t read(char* buf, std::size_t n) override;
  std::string digest() { return "sha256:" + sha_.hex(); }
  std::uint64_t count() const { return count_; }

 private:
  ByteSource& inner_;
  bool hash_;
  Sha256 sha_;
  std::uint64_t count_ = 0;
};

}  // namespace kg::image
