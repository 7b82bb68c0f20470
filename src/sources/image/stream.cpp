#include "sources/image/stream.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace kg::image {

bool ByteSource::skip(std::uint64_t n) {
  std::vector<char> buf(std::min<std::uint64_t>(n, std::uint64_t{64} * 1024));
  while (n > 0) {
    std::size_t got = read(buf.data(), std::min<std::uint64_t>(n, buf.size()));
    if (got == 0) return false;
    n -= got;
  }
  return true;
}

namespace {

class FileSource : public ByteSource {
 public:
  FileSource(int fd, std::string path, std::uint64_t offset, std::uint64_t length)
      : fd_(fd), path_(std::move(path)), pos_(offset), end_(length == UINT64_MAX ? UINT64_MAX : offset + length) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::size_t read(char* buf, std::size_t n) override {
    if (pos_ >= end_) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end_ - pos_));
    for (;;) {
      ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw ImageError(path_ + ": read failed: " + std::strerror(errno));
      pos_ += static_cast<std::uint64_t>(got);
      if (got == 0 && end_ != UINT64_MAX)
        throw ImageError(path_ + ": file ends before the expected " + std::to_string(end_) + " bytes (truncated)");
      return static_cast<std::size_t>(got);
    }
  }
  bool skip(std::uint64_t n) override {
    if (end_ != UINT64_MAX && n > end_ - pos_) return false;
    pos_ += n;
    return true;
  }

 private:
  int fd_;
  std::string path_;
  std::uint64_t pos_;
  std::uint64_t end_;
};

}  // namespace

std::unique_ptr<ByteSource> open_file_source(const std::string& path, std::uint64_t offset,
                                             std::uint64_t length) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ImageError(path + ": cannot open: " + std::strerror(errno));
  return std::make_unique<FileSource>(fd, path, offset, length);
}

std::size_t StringSource::read(char* buf, std::size_t n) {
  n = std::min(n, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, n);
  pos_ += n;
  return n;
}

bool StringSource::skip(std::uint64_t n) {
  if (n > data_.size() - pos_) return false;
  pos_ += static_cast<std::size_t>(n);
  return true;
}

std::size_t read_full(ByteSource& in, char* buf, std::size_t n) {
  std::size_t total = 0;
  while (total < n) {
    std::size_t got = in.read(buf + total, n - total);
    if (got == 0) break;
    total += got;
  }
  return total;
}

std::string read_all(ByteSource& in, std::size_t max, std::string_view what) {
  std::string out;
  char buf[16384];
  for (;;) {
    std::size_t got = in.read(buf, sizeof buf);
    if (got == 0) return out;
    if (out.size() + got > max)
      throw ImageError(std::string(what) + ": larger than the " + std::to_string(max) + "-byte limit for it");
    out.append(buf, got);
  }
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    throw ImageError("sha256: OpenSSL initialisation failed");
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(const void* data, std::size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}
std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 s;
  s.update(data.data(), data.size());
  return s.hex();
}

bool valid_digest(std::string_view d) {
  if (d.size() != 71 || d.substr(0, 7) != "sha256:") return false;
  return std::all_of(d.begin() + 7, d.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

VerifyingSource::VerifyingSource(std::unique_ptr<ByteSource> inner, std::string digest, std::uint64_t size,
                                 std::string what)
    : inner_(std::move(inner)), digest_(std::move(digest)), size_(size), what_(std::move(what)) {
  if (!valid_digest(digest_))
    throw ImageError(what_ + ": unsupported or malformed digest '" + digest_ + "' (expected sha256:<64 hex>)");
}

std::size_t VerifyingSource::read(char* buf, std::size_t n) {
  if (done_) return 0;
  std::size_t got = inner_->read(buf, n);
  if (got == 0) {
    finish();
    return 0;
  }
  count_ += got;
  if (size_ != UINT64_MAX && count_ > size_)
    throw ImageError(what_ + ": more bytes than the " + std::to_string(size_) + " its descriptor declares");
  sha_.update(buf, got);
  return got;
}

void VerifyingSource::finish() {
  done_ = true;
  if (size_ != UINT64_MAX && count_ != size_) {
    throw ImageError(what_ + ": " + std::to_string(count_) + " bytes, but its descriptor declares " +
                     std::to_string(size_) + " (truncated)");
  }
  std::string got = "sha256:" + sha_.hex();
  if (got != digest_) throw ImageError(what_ + ": digest mismatch: content is " + got + ", expected " + digest_);
}

std::size_t HashingSource::read(char* buf, std::size_t n) {
  std::size_t got = inner_.read(buf, n);
  count_ += got;
  if (hash_) sha_.update(buf, got);
  return got;
}

}  // namespace kg::image
