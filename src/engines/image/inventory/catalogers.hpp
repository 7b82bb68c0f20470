// The package catalogers the layer walk runs, in one list, and a helper that
// runs them (with OS detection) over files a caller feeds.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/image/cataloger.hpp"
#include "engines/image/inventory/common.hpp"
#include "engines/image/inventory/os_detect.hpp"
#include "engines/image/walk.hpp"
#include "model/package.hpp"

namespace kg::image {

// dpkg, apk, rpm, python, npm, binary (Go and Rust), java: a fresh set per image.
std::vector<std::unique_ptr<Cataloger>> make_catalogers();

// Packages in the order every output lists them: by type, name, version, file.
void sort_packages(std::vector<Package>& packages);
// The problems the catalogers met (file:line: message), in cataloger order.
std::vector<CatalogError> catalog_errors(const std::vector<std::unique_ptr<Cataloger>>& catalogers);

// `kguard image`'s walk: read_image with every cataloger, packages sorted,
// the catalogers' problems in ImageReadResult::package_errors.
ImageReadResult inventory_image(const std::string& reference, const ReadOptions& options,
                                const WalkLimits& limits);

// One image's cataloging: the OS detector and every cataloger, fed the same
// files. The walk calls open() for each regular file of each layer (it
// returns a reader fanning the bytes out to whoever wants them, or nullptr),
// then finish() once after the last layer.
class Inventory {
 public:
  Inventory();
  std::unique_ptr<FileReader> open(const FileEntry& file);
  // Fills os and packages (packages sorted by type, name, version, path).
  void finish(const Survives& survives, OsInfo& os, std::vector<Package>& packages);
  // Problems met in metadata files (file:line: message), for the report.
  std::vector<CatalogError> errors() const;

 private:
  OsDetector os_;
  std::vector<std::unique_ptr<Cataloger>> catalogers_;
};

}  // namespace kg::image
