// Feeds files from this machine to the image catalogers as the layer walk
// does: one FileEntry per regular file, its bytes in chunks, then end().
// Used by the inventory tests and tests/unit/inventory_probe.cpp.
#pragma once

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engines/image/cataloger.hpp"

namespace kg::image::testing {

// Feeds `host` as `image_path` of `layer`; chunk sizes vary so the catalogers
// see files split at arbitrary points.
template <typename Sink>
bool feed_file(Sink& sink, const std::string& image_path, const std::filesystem::path& host, std::size_t layer = 0,
               const std::string& digest = "sha256:0000000000000000000000000000000000000000000000000000000000000001",
               std::size_t chunk = 65536) {
  struct stat st {};
  if (::lstat(host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  FileEntry e;
  e.path = image_path;
  e.mode = st.st_mode & 07777;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.layer = layer;
  e.layer_digest = digest;
  auto reader = sink.open(e);
  if (!reader) return true;
  std::ifstream in(host, std::ios::binary);
  std::vector<char> buf(chunk);
  std::size_t n = 0;
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    // Every third read is split in two uneven parts.
    const auto got = static_cast<std::size_t>(in.gcount());
    if (++n % 3 == 0 && got > 7) {
      reader->data(std::string_view(buf.data(), 7));
      reader->data(std::string_view(buf.data() + 7, got - 7));
    } else {
      reader->data(std::string_view(buf.data(), got));
    }
  }
  reader->end();
  return true;
}

// Every regular file under `root` (symlinks not followed), as "/" + its path
// relative to root, prefixed with `under` ("" or "/app"); a file as `under`.
template <typename Sink>
std::size_t feed_tree(Sink& sink, const std::filesystem::path& root, std::size_t layer = 0,
                      const std::string& digest = "sha256:0000000000000000000000000000000000000000000000000000000000000001",
                      const std::string& under = "") {
  namespace fs = std::filesystem;
  std::size_t files = 0;
  std::error_code ec;
  if (fs::is_regular_file(root, ec))  // a single file: `under` is its image path
    return feed_file(sink, under.empty() ? "/" + root.filename().string() : under, root, layer, digest) ? 1 : 0;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
       it != end; it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    const std::string rel = fs::relative(it->path(), root, ec).generic_string();
    if (feed_file(sink, under + "/" + rel, it->path(), layer, digest)) ++files;
  }
  return files;
}

}  // namespace kg::image::testing
