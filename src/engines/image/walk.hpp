// The layer walk: every layer of an image read once, in order, as a stream
// (verify the blob digest, decompress, tar) — never extracted. Whiteouts and
// opaque directories apply to the lower layers whatever their place in the
// layer; a merged index of every path answers which files survive, resolves
// symlinks inside the image root only, and gives the OS; the catalogers see
// each regular file as it passes (cataloger.hpp). Hostile input is bounded
// (WalkLimits) and reported, never followed (docs/images.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engines/image/cataloger.hpp"
#include "model/package.hpp"
#include "sources/image/image_source.hpp"

namespace kg::image {

struct WalkLimits {
  std::uint64_t max_bytes = std::uint64_t{16} << 30;  // uncompressed bytes of all layers
  std::uint64_t max_files = 2'000'000;                 // tar entries of all layers
  std::size_t max_path = 4096;                         // one entry or link name
  bool list_files = false;  // keep the final filesystem in ImageReadResult::file_list
};

// One path of the final filesystem (after every layer and whiteout).
struct FileInfo {
  std::string path;
  char type = '0';  // tar typeflag: '0' file, '1' hard link, '2' symlink, '5' directory
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::size_t layer = 0;
  std::string link;
  std::string resolved;  // a symlink's target resolved inside the root ("" for a loop)
};

struct ImageReadResult {
  ImageInventory inventory;
  std::string tag;
  std::vector<std::string> notes;  // what was skipped or worth knowing (not errors)
  std::string error;               // set when the image could not be read: the message names the blob and entry
  std::uint64_t entries = 0;       // tar entries read (all layers)
  std::uint64_t files = 0;         // entries of the final filesystem
  std::uint64_t bytes = 0;         // uncompressed layer bytes read
  std::vector<FileInfo> file_list; // with WalkLimits::list_files
  std::vector<std::string> package_errors;  // a metadata file the catalogers could not read (file:line: what)
  bool ok() const { return error.empty(); }
};

// Opens `reference` (image_source.hpp's forms), walks it and runs the
// catalogers. Never throws on bad input: the error is in the result.
ImageReadResult read_image(const std::string& reference, const ReadOptions& options, const WalkLimits& limits,
                           const std::vector<Cataloger*>& catalogers);

// The same walk over a source already open (fuzz targets hand one in).
ImageReadResult walk_source(ImageSource& src, const std::string& reference, const WalkLimits& limits,
                            const std::vector<Cataloger*>& catalogers);

}  // namespace kg::image
