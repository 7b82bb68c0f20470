// Catalogs directory trees of this machine as the layers of an image and
// writes the inventory as an SBOM or as TSV, so tests/integration/sbom_test.py
// can validate the SBOM writers on real package sets without an image.
//   inventory_probe [--reference REF] [--digest sha256:...] -o cyclonedx|spdx|tsv DIR[=/prefix]...
// Each DIR is one layer; "=/prefix" places its files under /prefix.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "engines/image/inventory/catalogers.hpp"
#include "report/sbom.hpp"
#include "unit/inventory_driver.hpp"

int main(int argc, char** argv) {
  std::string format = "tsv";
  kg::ImageInventory inv;
  inv.reference = "dir:probe";
  inv.manifest_digest = "sha256:5a0e8a7f0a4f3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "-o" || a == "--reference" || a == "--digest") && i + 1 < argc) {
      const std::string v = argv[++i];
      if (a == "-o") format = v;
      else if (a == "--reference") inv.reference = v;
      else inv.manifest_digest = v;
    } else {
      dirs.push_back(a);
    }
  }
  if (dirs.empty()) {
    std::cerr << "usage: inventory_probe [--reference REF] [--digest D] -o cyclonedx|spdx|tsv DIR[=/prefix]...\n";
    return 2;
  }
  kg::image::Inventory catalog;
  for (std::size_t layer = 0; layer < dirs.size(); ++layer) {
    std::string dir = dirs[layer];
    std::string prefix;
    if (const std::size_t eq = dir.find('='); eq != std::string::npos) {
      prefix = dir.substr(eq + 1);
      dir.resize(eq);
    }
    char digest[80];
    std::snprintf(digest, sizeof digest, "sha256:%064zx", layer + 1);
    inv.layers.push_back({digest, digest, "application/vnd.oci.image.layer.v1.tar", 0, "probe layer"});
    kg::image::testing::feed_tree(catalog, dir, layer, digest, prefix);
  }
  catalog.finish([](std::string_view, std::size_t) { return true; }, inv.os, inv.packages);
  for (const auto& e : catalog.errors()) std::cerr << "inventory_probe: " << e.to_string() << "\n";
  if (format == "tsv") {
    std::cout << "os\t" << inv.os.id << "\t" << inv.os.version_id << "\n";
    for (const kg::Package& p : inv.packages)
      std::cout << kg::to_string(p.type) << "\t" << p.name << "\t" << p.version << "\t" << p.purl << "\t" << p.license
                << "\t" << (p.evidence.empty() ? "" : p.evidence[0].path) << "\n";
    return 0;
  }
  const kg::SbomWriter* w = kg::find_sbom_writer(format);
  if (!w) {
    std::cerr << "inventory_probe: unknown format " << format << "\n";
    return 2;
  }
  w->write(inv, std::cout, {});
  return 0;
}
