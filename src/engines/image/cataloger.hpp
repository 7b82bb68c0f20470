// The seam between the layer walk and the package catalogers. The walk reads
// each layer once, as a stream (no layer reaches the disk, gzip cannot seek),
// so a cataloger says per entry whether it wants the bytes and receives them
// in chunks as they pass; after the last layer it learns which of the files
// it read survived (whiteouts, overwrites by a later layer) and emits
// packages for those only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/package.hpp"

namespace kg::image {

// One regular file of one layer, as the walk meets it. Paths are absolute
// inside the image root and normalised ("/var/lib/dpkg/status").
struct FileEntry {
  std::string_view path;
  std::uint32_t mode = 0;       // permission and type bits as in the tar header
  std::uint64_t size = 0;
  std::size_t layer = 0;        // index into ImageInventory::layers
  std::string_view layer_digest;
};

// Receives one file's content in order. Bytes past the cataloger's own
// limit should be ignored by it, not buffered.
class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual void data(std::string_view chunk) = 0;
  virtual void end() = 0;  // the whole file has been delivered
};

// Whether the file at `path` as added by `layer` is the one the final image
// holds (no later layer deleted or replaced it).
using Survives = std::function<bool(std::string_view path, std::size_t layer)>;

// One path of the final filesystem (after every layer and whiteout).
struct TreeEntry {
  std::string_view path;
  char type = '0';  // tar typeflag: '0' file, '1' hard link, '2' symlink, '5' directory
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::size_t layer = 0;  // the layer that added it (index into ImageInventory::layers)
  std::string_view link;  // symlink target as written; hard link target normalised
};

// The final filesystem as the walk holds it after the last layer, for a
// cataloger that judges the tree itself (paths, modes, owners) rather than
// file contents: the hardening lint's facts. Valid during final_tree() only.
class FinalTree {
 public:
  virtual ~FinalTree() = default;
  // Every path, in byte order of the path.
  virtual void each(const std::function<void(const TreeEntry&)>& visit) const = 0;
  // `path` with its symlinks resolved inside the root; nullopt on a loop.
  virtual std::optional<std::string> resolve(std::string_view path) const = 0;
  // The entry at exactly `path` (no resolution); nullopt when absent.
  virtual std::optional<TreeEntry> find(std::string_view path) const = 0;
  // The image config as stored (JSON), "" for a root filesystem directory.
  virtual std::string_view config() const = 0;
};

class Cataloger {
 public:
  virtual ~Cataloger() = default;
  virtual std::string_view name() const = 0;
  // Called for every regular file of every layer: keep it cheap (path tests).
  // nullptr when the file is not wanted.
  virtual std::unique_ptr<FileReader> open(const FileEntry& file) = 0;
  // After the last layer: append the packages of the files that survived;
  // `os` is already filled (os-release is read first by the walk's own cataloger).
  virtual void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) = 0;
  // After the last layer, before finish(): the final filesystem, for
  // catalogers that read the tree (default: nothing).
  virtual void final_tree(const FinalTree& tree) { (void)tree; }
};

}  // namespace kg::image
