#include "sources/image/tar.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace kg::image {
namespace {

constexpr std::size_t kBlock = 512;

bool all_zero(const char* b) {
  return std::all_of(b, b + kBlock, [](char c) { return c == 0; });
}

// An octal field (space/NUL terminated) or GNU base-256 (high bit set).
bool parse_number(const char* f, std::size_t len, std::uint64_t& out) {
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(f[i]); };
  out = 0;
  if (len > 0 && (u(0) & 0x80)) {
    if (u(0) != 0x80) return false;  // negative base-256
    for (std::size_t i = 1; i < len; ++i) {
      if (out >> 56) return false;
      out = (out << 8) | u(i);
    }
    return true;
  }
  std::size_t i = 0;
  while (i < len && (f[i] == ' ' || f[i] == '\0')) ++i;
  bool any = false;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (out >> 60) return false;
    out = out * 8 + static_cast<std::uint64_t>(f[i] - '0');
    any = true;
  }
  for (; i < len; ++i)
    if (f[i] != ' ' && f[i] != '\0') return false;
  (void)any;
  return true;
}

std::string field(const char* f, std::size_t len) {
  return std::string(f, strnlen(f, len));
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (s.size() > 200) out += "...";
  return out;
}

}  // namespace

std::string TarReader::read_record(std::uint64_t size, const char* what, const std::string& entry) {
  if (size > limits_.max_pax) {
    throw ImageError("tar entry '" + printable(entry) + "': " + what + " of " + std::to_string(size) +
                     " bytes is over the " + std::to_string(limits_.max_pax) + "-byte limit");
  }
  std::string data(static_cast<std::size_t>(size), '\0');
  if (read_full(in_, data.data(), data.size()) != data.size())
    throw ImageError("tar entry '" + printable(entry) + "': archive ends inside its " + what + " (truncated)");
  std::uint64_t pad = (kBlock - size % kBlock) % kBlock;
  if (!in_.skip(pad)) throw ImageError("tar: archive ends inside padding (truncated)");
  return data;
}

bool TarReader::read_header(char* block) {
  std::size_t got = read_full(in_, block, kBlock);
  if (got == 0) return false;
  if (got != kBlock)
    throw ImageError("tar: archive ends inside a header after entry '" + printable(current_) + "' (truncated)");
  return true;
}

void TarReader::skip_rest() {
  if (remaining_ + padding_ > 0 && !in_.skip(remaining_ + padding_))
    throw ImageError("tar entry '" + printable(current_) + "': archive ends inside its data (truncated)");
  remaining_ = padding_ = 0;
}

bool TarReader::next(TarEntry& e) {
  skip_rest();
  std::string long_name, long_link;
  bool have_long_name = false, have_long_link = false, have_size = false;
  std::uint64_t pax_size = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  char b[kBlock];
  for (;;) {
    if (!read_header(b)) return false;
    if (all_zero(b)) {
      // End of archive (one zero block is enough; a second is usual).
      return false;
    }
    // Checksum: the sum of the header bytes with the checksum field as spaces.
    std::uint64_t want = 0;
    if (!parse_number(b + 148, 8, want))
      throw ImageError("tar: corrupt header after entry '" + printable(current_) + "' (bad checksum field)");
    std::uint64_t sum_u = 0;
    std::int64_t sum_s = 0;
    for (std::size_t i = 0; i < kBlock; ++i) {
      char c = (i >= 148 && i < 156) ? ' ' : b[i];
      sum_u += static_cast<unsigned char>(c);
      sum_s += static_cast<signed char>(c);
    }
    if (want != sum_u && static_cast<std::int64_t>(want) != sum_s)
      throw ImageError("tar: corrupt header after entry '" + printable(current_) + "' (checksum mismatch)");

    e = TarEntry{};
    e.type = b[156];
    std::uint64_t n = 0;
    if (!parse_number(b + 124, 12, n)) throw ImageError("tar: corrupt size field after entry '" + printable(current_) + "'");
    e.size = n;
    if (parse_number(b + 100, 8, n)) e.mode = static_cast<std::uint32_t>(n & 07777);
    if (parse_number(b + 108, 8, n)) e.uid = static_cast<std::uint32_t>(n);
    if (parse_number(b + 116, 8, n)) e.gid = static_cast<std::uint32_t>(n);
    e.name = field(b, 100);
    e.linkname = field(b + 157, 100);
    if (std::memcmp(b + 257, "ustar", 5) == 0 && std::memcmp(b + 257, "ustar  ", 7) != 0) {
      std::string prefix = field(b + 345, 155);
      if (!prefix.empty()) e.name = prefix + "/" + e.name;
    }
    current_ = e.name;

    if (e.type == 'L' || e.type == 'K') {
      std::string rec = read_record(e.size, e.type == 'L' ? "GNU long name" : "GNU long link name", e.name);
      rec.resize(strnlen(rec.data(), rec.size()));
      if (rec.size() > limits_.max_name) {
        throw ImageError("tar: a name of " + std::to_string(rec.size()) + " bytes is over the " +
                         std::to_string(limits_.max_name) + "-byte path limit (--max-path)");
      }
      (e.type == 'L' ? long_name : long_link) = std::move(rec);
      (e.type == 'L' ? have_long_name : have_long_link) = true;
      continue;
    }
    if (e.type == 'x' || e.type == 'g') {
      std::string rec = read_record(e.size, "PAX header", e.name);
      std::string_view r = rec;
      while (!r.empty()) {
        // "<len> <key>=<value>\n", len counting the whole record.
        std::size_t sp = r.find(' ');
        std::uint64_t len = 0;
        if (sp == std::string_view::npos || sp == 0 || sp > 20) throw ImageError("tar entry '" + printable(e.name) + "': malformed PAX record");
        for (char c : r.substr(0, sp)) {
          if (c < '0' || c > '9') throw ImageError("tar entry '" + printable(e.name) + "': malformed PAX record length");
          len = len * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (len <= sp + 1 || len > r.size() || r[len - 1] != '\n')
          throw ImageError("tar entry '" + printable(e.name) + "': malformed PAX record");
        std::string_view kv = r.substr(sp + 1, len - sp - 2);
        r.remove_prefix(len);
        std::size_t eq = kv.find('=');
        if (eq == std::string_view::npos) throw ImageError("tar entry '" + printable(e.name) + "': PAX record without '='");
        std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
        if (e.type == 'g') continue;  // globals: nothing an image needs
        if (key == "path") {
          long_name = value;
          have_long_name = true;
        } else if (key == "linkpath") {
          long_link = value;
          have_long_link = true;
        } else if (key == "size") {
          pax_size = 0;
          if (value.empty() || value.size() > 19) throw ImageError("tar entry '" + printable(e.name) + "': bad PAX size");
          for (char c : value) {
            if (c < '0' || c > '9') throw ImageError("tar entry '" + printable(e.name) + "': bad PAX size");
            pax_size = pax_size * 10 + static_cast<std::uint64_t>(c - '0');
          }
          have_size = true;
        } else if (key.substr(0, 13) == "SCHILY.xattr.") {
          xattrs.emplace_back(key.substr(13), value);
        }
      }
      if (have_long_name && long_name.size() > limits_.max_name) {
        throw ImageError("tar: a name of " + std::to_string(long_name.size()) + " bytes is over the " +
                         std::to_string(limits_.max_name) + "-byte path limit (--max-path)");
      }
      continue;
    }
    if (have_long_name) e.name = std::move(long_name);
    if (have_long_link) e.linkname = std::move(long_link);
    if (have_size) e.size = pax_size;
    e.xattrs = std::move(xattrs);
    current_ = e.name;
    if (e.name.size() > limits_.max_name) {
      throw ImageError("tar entry '" + printable(e.name) + "': name over the " + std::to_string(limits_.max_name) +
                       "-byte path limit (--max-path)");
    }
    // Only these carry data in the archive; a size on links or dirs is ignored by tar too.
    bool has_data = e.is_file() || e.type == 'S';
    if (!has_data && e.type != '1' && e.type != '2' && e.type != '5' && e.type != '3' && e.type != '4' &&
        e.type != '6')
      has_data = true;  // unknown types: skip their data as tar does
    if (!has_data) e.size = 0;
    remaining_ = e.size;
    padding_ = (kBlock - e.size % kBlock) % kBlock;
    ++count_;
    return true;
  }
}

std::size_t TarReader::read(char* buf, std::size_t n) {
  if (remaining_ == 0) return 0;
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
  std::size_t got = in_.read(buf, n);
  if (got == 0) throw ImageError("tar entry '" + printable(current_) + "': archive ends inside its data (truncated)");
  remaining_ -= got;
  return got;
}

void TarReader::drain() {
  skip_rest();
  char buf[16384];
  while (in_.read(buf, sizeof buf) > 0) {
  }
}

}  // namespace kg::image
