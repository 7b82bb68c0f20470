#include "sources/image/decompress.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace kg::image {

const char* to_string(Compression c) {
  switch (c) {
    case Compression::Gzip: return "gzip";
    case Compression::Zstd: return "zstd";
    case Compression::None: break;
  }
  return "none";
}

namespace {

constexpr std::size_t kChunk = std::size_t{128} * 1024;

// The bytes already read to sniff, then the rest of the stream.
class Prefixed {
 public:
  Prefixed(ByteSource& in, std::string head) : in_(in), head_(std::move(head)) {}
  std::size_t read(char* buf, std::size_t n) {
    if (pos_ < head_.size()) {
      n = std::min(n, head_.size() - pos_);
      std::memcpy(buf, head_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return in_.read(buf, n);
  }

 private:
  ByteSource& in_;
  std::string head_;
  std::size_t pos_ = 0;
};

class Limited : public ByteSource {
 public:
  Limited(std::uint64_t max, std::string what) : max_(max), what_(std::move(what)) {}

 protected:
  void count(std::size_t n) {
    out_ += n;
    if (out_ > max_) {
      throw ImageError(what_ + ": decompresses to more than " + std::to_string(max_) +
                       " bytes (the --max-image-bytes limit; a decompression bomb?)");
    }
  }
  std::uint64_t max_;
  std::string what_;
  std::uint64_t out_ = 0;
};

class Plain : public Limited {
 public:
  Plain(ByteSource& in, std::string head, std::uint64_t max, std::string what)
      : Limited(max, std::move(what)), in_(in, std::move(head)) {}
  std::size_t read(char* buf, std::size_t n) override {
    std::size_t got = in_.read(buf, n);
    count(got);
    return got;
  }

 private:
  Prefixed in_;
};

class Gunzip : public Limited {
 public:
  Gunzip(ByteSource& in, std::string head, std::uint64_t max, std::string what)
      : Limited(max, std::move(what)), in_(in, std::move(head)), buf_(kChunk), z_() {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw ImageError(what_ + ": zlib initialisation failed");
  }
  ~Gunzip() override { inflateEnd(&z_); }
  Gunzip(const Gunzip&) = delete;
  Gunzip& operator=(const Gunzip&) = delete;

  std::size_t read(char* out, std::size_t n) override {
    if (done_) return 0;
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0) {
        std::size_t got = in_.read(buf_.data(), buf_.size());
        if (got == 0) {
          if (member_started_) throw ImageError(what_ + ": gzip stream ends early (truncated)");
          done_ = true;
          break;
        }
        z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_in = static_cast<uInt>(got);
      }
      member_started_ = true;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Another member may follow (concatenated gzip); trailing zeros are padding.
        member_started_ = false;
        if (inflateReset(&z_) != Z_OK) throw ImageError(what_ + ": zlib reset failed");
        if (trailing_zeros()) break;
        continue;
      }
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) continue;
      if (rc != Z_OK)
        throw ImageError(what_ + ": corrupt gzip data (" + (z_.msg ? z_.msg : "zlib error " + std::to_string(rc)) + ")");
    }
    std::size_t produced = n - z_.avail_out;
    count(produced);
    return produced;
  }

 private:
  // After a member: true (and the stream done) when only zero bytes remain.
  bool trailing_zeros() {
    for (;;) {
      while (z_.avail_in > 0) {
        if (*z_.next_in != 0) return false;
        ++z_.next_in;
        --z_.avail_in;
      }
      std::size_t got = in_.read(buf_.data(), buf_.size());
      if (got == 0) {
        done_ = true;
        return true;
      }
      z_.next_in = reinterpret_cast<Bytef*>(buf_.data());
      z_.avail_in = static_cast<uInt>(got);
      if (buf_[0] != 0) return false;
    }
  }
  Prefixed in_;
  std::vector<char> buf_;
  z_stream z_;
  bool done_ = false;
  bool member_started_ = false;
};

class Unzstd : public Limited {
 public:
  Unzstd(ByteSource& in, std::string head, std::uint64_t max, std::string what)
      : Limited(max, std::move(what)), in_(in, std::move(head)), buf_(ZSTD_DStreamInSize()),
        z_(ZSTD_createDStream()) {
    if (!z_) throw ImageError(what_ + ": zstd initialisation failed");
    // Bounds the window a frame may ask for (a hostile header could ask for 2 GiB+).
    ZSTD_DCtx_setParameter(z_, ZSTD_d_windowLogMax, 27);
    in_buf_ = {buf_.data(), 0, 0};
  }
  ~Unzstd() override { ZSTD_freeDStream(z_); }
  Unzstd(const Unzstd&) = delete;
  Unzstd& operator=(const Unzstd&) = delete;

  std::size_t read(char* out, std::size_t n) override {
    if (done_) return 0;
    ZSTD_outBuffer ob{out, n, 0};
    while (ob.pos < ob.size) {
      if (in_buf_.pos == in_buf_.size) {
        std::size_t got = in_.read(buf_.data(), buf_.size());
        if (got == 0) {
          if (pending_) throw ImageError(what_ + ": zstd stream ends early (truncated)");
          done_ = true;
          break;
        }
        in_buf_ = {buf_.data(), got, 0};
      }
      std::size_t rc = ZSTD_decompressStream(z_, &ob, &in_buf_);
      if (ZSTD_isError(rc)) throw ImageError(what_ + ": corrupt zstd data (" + ZSTD_getErrorName(rc) + ")");
      pending_ = rc != 0;
    }
    count(ob.pos);
    return ob.pos;
  }

 private:
  Prefixed in_;
  std::vector<char> buf_;
  ZSTD_DStream* z_;
  ZSTD_inBuffer in_buf_{};
  bool done_ = false;
  bool pending_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> open_decompressed(ByteSource& in, std::uint64_t max_out, const std::string& what,
                                              Compression* detected) {
  std::string head(4, '\0');
  head.resize(read_full(in, head.data(), head.size()));
  auto starts = [&](std::string_view magic) { return head.compare(0, magic.size(), magic) == 0; };
  Compression c = Compression::None;
  if (head.size() >= 2 && starts("\x1f\x8b")) c = Compression::Gzip;
  else if (head.size() >= 4 && starts("\x28\xb5\x2f\xfd")) c = Compression::Zstd;
  if (detected) *detected = c;
  switch (c) {
    case Compression::Gzip: return std::make_unique<Gunzip>(in, std::move(head), max_out, what);
    case Compression::Zstd: return std::make_unique<Unzstd>(in, std::move(head), max_out, what);
    case Compression::None: break;
  }
  return std::make_unique<Plain>(in, std::move(head), max_out, what);
}

}  // namespace kg::image
