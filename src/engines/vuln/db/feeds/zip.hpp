// A small zip reader for OSV's per-ecosystem all.zip dumps: the central
// directory (zip64 too: a dump holds more than 65,535 records), stored and
// deflated members, CRC-32 checked. Everything is bounded: member count,
// member size, name length, and every offset against the archive's size; the
// archive is read with pread, never loaded whole.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kg::vuln {

struct ZipLimits {
  std::uint64_t max_entries = 5'000'000;
  std::uint64_t max_entry_bytes = std::uint64_t{64} << 20;  // one OSV record is a few KiB
  std::uint64_t max_directory_bytes = std::uint64_t{1} << 30;
};

class ZipReader {
 public:
  struct Entry {
    std::string name;
    std::uint64_t header_offset = 0;  // the local header
    std::uint64_t compressed = 0;
    std::uint64_t size = 0;
    std::uint32_t crc = 0;
    std::uint16_t method = 0;  // 0 stored, 8 deflate
    std::uint16_t flags = 0;
  };
  // Reads `n` bytes at `offset` into `out`; false when the source is shorter.
  using ReadAt = std::function<bool(std::uint64_t offset, std::size_t n, char* out)>;

  // nullptr and `error` when the central directory cannot be read.
  static std::unique_ptr<ZipReader> open_file(const std::string& path, std::string* error,
                                              const ZipLimits& limits = {});
  static std::unique_ptr<ZipReader> open_memory(std::string_view bytes, std::string* error,
                                                const ZipLimits& limits = {});
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::vector<Entry>& entries() const { return entries_; }
  // The member's bytes; false and `error` (naming the member) when it is
  // encrypted, uses another method, is too large, or its data or CRC is wrong.
  bool read(const Entry& e, std::string& out, std::string* error) const;

 private:
  ZipReader() = default;
  bool load(std::string* error);

  std::string name_;
  std::uint64_t size_ = 0;
  ReadAt read_at_;
  int fd_ = -1;
  ZipLimits limits_;
  std::vector<Entry> entries_;
};

}  // namespace kg::vuln
