// The operating system of an image, from its own files: os-release (the file
// /etc/os-release, else /usr/lib/os-release, which /etc/os-release links to on
// Debian), /etc/alpine-release, /etc/debian_version, and the distroless markers
// (a dpkg status.d folder, "Distroless" in os-release).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/image/cataloger.hpp"
#include "model/package.hpp"

namespace kg::image {

// os-release(5): KEY=value lines, values optionally quoted with shell escapes.
OsInfo parse_os_release(std::string_view content);

// Alpine's branch from /etc/apk/repositories: the first main or community line's
// ".../v3.10/main" → "3.10", ".../edge/community" → "edge"; "" when none names one.
std::string alpine_release_stream(std::string_view repositories);

// The OS of a root from the surviving text of its files (`text` gives nullptr for a file the
// root does not hold): /etc/os-release, else /usr/lib/os-release, else /etc/alpine-release, else
// /etc/debian_version; Alpine's release_stream from /etc/apk/repositories. The one reading of these files: the image walk and OsDetector both use it.
OsInfo detect_os(const std::function<const std::string*(std::string_view path)>& text);

// Watches the walk for the files above (feed it every regular file, as a
// Cataloger is fed) and says at the end what the surviving ones tell.
class OsDetector {
 public:
  std::unique_ptr<FileReader> open(const FileEntry& file);
  OsInfo result(const Survives& survives) const;

 private:
  struct Seen {
    std::string path;
    std::size_t layer = 0;
    std::string content;
  };
  class Reader;
  std::vector<Seen> seen_;
  std::vector<std::pair<std::string, std::size_t>> status_d_;  // distroless marker files
};

}  // namespace kg::image
