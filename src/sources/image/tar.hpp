// A streaming tar reader: ustar and old-GNU headers, GNU long names ('L',
// 'K'), PAX extended headers ('x' per entry, 'g' global: path, linkpath,
// size, and SCHILY.xattr.* kept for capabilities), base-256 sizes. Entries
// come in order; the caller reads an entry's data or leaves it (next()
// skips what is left). Every header checksum is verified; a truncated or
// corrupt archive is an ImageError naming the entry, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sources/image/stream.hpp"

namespace kg::image {

struct TarLimits {
  std::size_t max_name = 4096;            // a path or link name longer than this is refused
  std::size_t max_pax = std::size_t{1} << 20;  // one PAX or GNU long-name record
};

struct TarEntry {
  std::string name;      // as written in the archive (not normalised)
  std::string linkname;
  char type = '0';       // '0' file, '1' hard link, '2' symlink, '5' dir, ...
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // from PAX SCHILY.xattr.*
  bool is_file() const { return type == '0' || type == '\0' || type == '7'; }
};

class TarReader {
 public:
  TarReader(ByteSource& in, TarLimits limits = {}) : in_(in), limits_(limits) {}
  // The next entry; false at the end of the archive (two zero blocks, or a
  // clean end of stream at a header boundary).
  bool next(TarEntry& e);
  // Up to n bytes of the current entry's data; 0 at its end.
  std::size_t read(char* buf, std::size_t n);
  // Reads past the end-of-archive blocks to the end of the stream (so a
  // digest check on the stream below sees every byte).
  void drain();
  std::uint64_t entries() const { return count_; }

 private:
  bool read_header(char* block);  // false at a clean end
  std::string read_record(std::uint64_t size, const char* what, const std::string& entry);
  void skip_rest();
  ByteSource& in_;
  TarLimits limits_;
  std::uint64_t remaining_ = 0;  // data bytes of the current entry not yet read
  std::uint64_t padding_ = 0;
  std::uint64_t count_ = 0;
  std::string current_;          // the current entry's name, for messages
  std::string global_path_;      // unused PAX globals are ignored, but keep them parsed
};

}  // namespace kg::image
