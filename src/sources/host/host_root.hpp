// A node's filesystem read under a root directory: `/` on the node itself,
// `/host` in the DaemonSet (the node's root mounted read-only), or a folder
// copied from a node (`kguard node --root DIR`). Paths are the node's
// absolute paths; symbolic links are followed inside the root (an absolute
// link target is taken relative to the root, `..` never climbs above it), so
// a copied tree reads as the node would.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kg::host {

// What stat says of one path, in the node's terms.
struct FileFact {
  std::string path;  // the node's absolute path
  bool exists = false;
  bool is_dir = false;
  std::uint32_t mode = 0;  // permission bits (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string user;   // from the root's /etc/passwd ("root" for uid 0 when absent)
  std::string group;  // from the root's /etc/group
  int error = 0;      // errno when it could not be stat'ed (ENOENT: missing; EACCES: not ours to see)
};

class HostRoot {
 public:
  // `root` is the directory standing for the node's `/`.
  explicit HostRoot(std::string root);

  const std::string& root() const { return root_; }
  // The host path of the node's absolute `path`, links resolved inside the
  // root; nullopt when a component is missing or the links loop (`error`,
  // when given, is then set to the errno: ENOENT, EACCES, ELOOP).
  std::optional<std::string> resolve(const std::string& path, int* error = nullptr) const;
  // The file's bytes (at most `max_bytes`); false when it is missing,
  // unreadable, not a regular file, or larger. `error`, when given, is set to
  // the errno of a failed open or stat (EACCES: this uid may not read it),
  // EFBIG when too large, EINVAL when not a regular file, 0 on success.
  bool read(const std::string& path, std::string& out, std::size_t max_bytes = std::size_t{4} << 20,
            int* error = nullptr) const;
  // stat of the path (links followed inside the root).
  FileFact stat(const std::string& path) const;
  // The entries of a directory (names only, sorted); empty when none. `error`,
  // when given, is set to the errno of a directory that could not be opened.
  std::vector<std::string> list(const std::string& dir, int* error = nullptr) const;
  bool exists(const std::string& path) const { return resolve(path).has_value(); }

 private:
  std::string root_;
  std::map<std::uint32_t, std::string> users_;
  std::map<std::uint32_t, std::string> groups_;
};

// The lexically normal absolute form of `path` (`//`, `.`, `..` folded; `..`
// at the top stays at `/`).
std::string normalize_path(const std::string& path);

}  // namespace kg::host
