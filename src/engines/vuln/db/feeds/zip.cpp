#include "engines/vuln/db/feeds/zip.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace kg::vuln {
namespace {

std::uint16_t u16(const char* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(p[0]) | (static_cast<unsigned char>(p[1]) << 8));
}
std::uint32_t u32(const char* p) {
  return static_cast<std::uint32_t>(u16(p)) | (static_cast<std::uint32_t>(u16(p + 2)) << 16);
}
std::uint64_t u64(const char* p) { return static_cast<std::uint64_t>(u32(p)) | (static_cast<std::uint64_t>(u32(p + 4)) << 32); }

constexpr std::uint32_t kEocd = 0x06054b50, kEocd64 = 0x06064b50, kLocator64 = 0x07064b50, kCentral = 0x02014b50,
                        kLocal = 0x04034b50;

}  // namespace

ZipReader::~ZipReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<ZipReader> ZipReader::open_file(const std::string& path, std::string* error, const ZipLimits& limits) {
  std::unique_ptr<ZipReader> z(new ZipReader());
  z->name_ = path;
  z->limits_ = limits;
  z->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (z->fd_ < 0 || ::fstat(z->fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (error) *error = path + ": cannot open the zip archive";
    return nullptr;
  }
  z->size_ = static_cast<std::uint64_t>(st.st_size);
  const int fd = z->fd_;
  z->read_at_ = [fd](std::uint64_t off, std::size_t n, char* out) {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(off + done));
      if (r <= 0) return false;
      done += static_cast<std::size_t>(r);
    }
    return true;
  };
  if (!z->load(error)) return nullptr;
  return z;
}

std::unique_ptr<ZipReader> ZipReader::open_memory(std::string_view bytes, std::string* error, const ZipLimits& limits) {
  std::unique_ptr<ZipReader> z(new ZipReader());
  z->name_ = "zip";
  z->limits_ = limits;
  z->size_ = bytes.size();
  z->read_at_ = [bytes](std::uint64_t off, std::size_t n, char* out) {
    if (off > bytes.size() || n > bytes.size() - off) return false;
    std::memcpy(out, bytes.data() + off, n);
    return true;
  };
  if (!z->load(error)) return nullptr;
  return z;
}

bool ZipReader::load(std::string* error) {
  auto bad = [&](const std::string& what) {
    if (error) *error = name_ + ": " + what;
    return false;
  };
  // The end record is in the last 22 + 65,535 bytes (its comment is at most that long).
  const std::uint64_t tail = std::min<std::uint64_t>(size_, 22 + 65535);
  if (tail < 22) return bad("not a zip archive (too short)");
  std::string buf(tail, '\0');
  if (!read_at_(size_ - tail, tail, buf.data())) return bad("cannot read the end of the archive");
  std::size_t pos = std::string::npos;
  for (std::size_t i = tail - 22 + 1; i-- > 0;) {
    if (u32(buf.data() + i) == kEocd && i + 22 + u16(buf.data() + i + 20) <= tail) {
      pos = i;
      break;
    }
  }
  if (pos == std::string::npos) return bad("not a zip archive (no end of central directory record)");
  const char* e = buf.data() + pos;
  std::uint64_t count = u16(e + 10);
  std::uint64_t dir_size = u32(e + 12);
  std::uint64_t dir_offset = u32(e + 16);
  const std::uint64_t eocd_offset = size_ - tail + pos;
  if (count == 0xFFFF || dir_size == 0xFFFFFFFF || dir_offset == 0xFFFFFFFF) {
    // Zip64: a locator just before the end record points at the zip64 end record.
    if (eocd_offset < 20) return bad("zip64 locator missing");
    char loc[20];
    if (!read_at_(eocd_offset - 20, 20, loc) || u32(loc) != kLocator64) return bad("zip64 locator missing");
    const std::uint64_t rec = u64(loc + 8);
    char z64[56];
    if (rec > size_ || size_ - rec < 56 || !read_at_(rec, 56, z64) || u32(z64) != kEocd64)
      return bad("zip64 end of central directory record missing");
    count = u64(z64 + 32);
    dir_size = u64(z64 + 40);
    dir_offset = u64(z64 + 48);
  }
  if (count > limits_.max_entries) return bad("more than " + std::to_string(limits_.max_entries) + " members");
  if (dir_size > limits_.max_directory_bytes || dir_offset > size_ || dir_size > size_ - dir_offset)
    return bad("central directory outside the archive");
  std::string dir(dir_size, '\0');
  if (!read_at_(dir_offset, dir_size, dir.data())) return bad("cannot read the central directory");
  std::size_t p = 0;
  entries_.reserve(std::min<std::uint64_t>(count, dir_size / 46));
  for (std::uint64_t i = 0; i < count; ++i) {
    if (dir_size - p < 46 || u32(dir.data() + p) != kCentral)
      return bad("central directory entry " + std::to_string(i) + " is damaged");
    const char* h = dir.data() + p;
    Entry en;
    en.flags = u16(h + 8);
    en.method = u16(h + 10);
    en.crc = u32(h + 16);
    en.compressed = u32(h + 20);
    en.size = u32(h + 24);
    const std::size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    en.header_offset = u32(h + 42);
    if (dir_size - p - 46 < name_len + extra_len + comment_len)
      return bad("central directory entry " + std::to_string(i) + " runs past the directory");
    en.name.assign(h + 46, name_len);
    // Zip64 extra field: the 64-bit sizes and offset, for those set to 0xFFFFFFFF.
    const char* x = h + 46 + name_len;
    std::size_t xi = 0;
    while (xi + 4 <= extra_len) {
      const std::uint16_t id = u16(x + xi), len = u16(x + xi + 2);
      if (xi + 4 + len > extra_len) break;
      if (id == 0x0001) {
        std::size_t f = xi + 4;
        const std::size_t fend = xi + 4 + len;
        if (en.size == 0xFFFFFFFF && f + 8 <= fend) { en.size = u64(x + f); f += 8; }
        if (en.compressed == 0xFFFFFFFF && f + 8 <= fend) { en.compressed = u64(x + f); f += 8; }
        if (en.header_offset == 0xFFFFFFFF && f + 8 <= fend) { en.header_offset = u64(x + f); }
      }
      xi += 4 + len;
    }
    p += 46 + name_len + extra_len + comment_len;
    entries_.push_back(std::move(en));
  }
  return true;
}

bool ZipReader::read(const Entry& e, std::string& out, std::string* error) const {
  auto bad = [&](const std::string& what) {
    if (error) *error = name_ + ": " + e.name + ": " + what;
    return false;
  };
  out.clear();
  if (e.flags & 1) return bad("encrypted member; skipped");
  if (e.method != 0 && e.method != 8) return bad("compression method " + std::to_string(e.method) + " not supported");
  if (e.size > limits_.max_entry_bytes) return bad("member larger than " + std::to_string(limits_.max_entry_bytes) + " bytes");
  char lh[30];
  if (e.header_offset > size_ || size_ - e.header_offset < 30 || !read_at_(e.header_offset, 30, lh) ||
      u32(lh) != kLocal)
    return bad("local header missing");
  const std::uint64_t data = e.header_offset + 30 + u16(lh + 26) + u16(lh + 28);
  if (data > size_ || e.compressed > size_ - data) return bad("data runs past the archive");
  // Deflate expands at most ~1032:1; a larger claim is a lie and is refused.
  if (e.method == 0 ? e.compressed != e.size : e.size > e.compressed * 1032 + 64) return bad("sizes are inconsistent");
  std::string in(e.compressed, '\0');
  if (!read_at_(data, e.compressed, in.data())) return bad("cannot read the data");
  if (e.method == 0) {
    out = std::move(in);
  } else {
    out.resize(e.size);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return bad("inflate failed to start");
    zs.next_in = reinterpret_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_FINISH);
    // A member whose declared size is 0 still has a deflate end block to read.
    if (rc == Z_BUF_ERROR && zs.avail_out == 0 && out.empty()) rc = Z_STREAM_END;
    const std::uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != e.size) return bad("deflate data is damaged or longer than declared");
  }
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(out.size())));
  if (crc != e.crc) return bad("CRC-32 mismatch");
  return true;
}

}  // namespace kg::vuln
