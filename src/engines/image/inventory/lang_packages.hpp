// Language packages: Python metadata, node_modules package.json, Go module
// build info and cargo-auditable data in binaries, Java archives.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/image/inventory/common.hpp"

namespace kg::image {

// *.dist-info/METADATA or *.egg-info/PKG-INFO (core metadata, RFC 822 headers).
ParseResult parse_python_metadata(std::string_view path, std::string_view content);

// node_modules/<name>/package.json.
ParseResult parse_npm_package_json(std::string_view path, std::string_view content);

// Go's build info blob: what follows the "\xff Go buildinf:" magic (Go 1.18+
// inline format: varint-prefixed version and module info strings). `packages`
// gets the stdlib, the main module and each dependency (replacements applied).
bool parse_go_buildinfo(std::string_view blob, std::vector<Package>& packages, std::string& error);
// The module info text itself ("path\t...", "mod\t...", "dep\t...", "=>\t...").
void parse_go_modinfo(std::string_view modinfo, std::string_view go_version, std::vector<Package>& packages);

// cargo-auditable's JSON ({"packages":[{"name","version","source",...}]}).
bool parse_cargo_auditable_json(std::string_view json, std::vector<Package>& packages, std::string& error);

// Scans an executable as it streams past, for Go build info and
// cargo-auditable's zlib-compressed .dep-v0 data, keeping a few KiB at most:
// both are found by their content (Go's magic on a 16-byte boundary; a zlib
// stream that inflates to {"packages":[), not by the section table that ELF
// keeps at the end of the file.
class BinaryScanner {
 public:
  void data(std::string_view chunk);
  // Packages found (call after the last chunk).
  std::vector<Package> finish(std::string& error);
  bool is_elf() const { return elf_; }

 private:
  void scan(std::string_view window, bool final);
  bool try_cargo(std::string_view at);
  void go_check();
  std::uint64_t offset_ = 0;      // bytes of the file before `carry_`
  std::string carry_;             // tail of the previous chunk (a magic may straddle)
  std::string go_blob_;           // bytes after the Go magic, while collecting
  bool go_found_ = false;
  bool go_done_ = false;
  bool cargo_found_ = false;
  bool elf_ = false;
  bool checked_magic_ = false;
  bool not_binary_ = false;
};

// A zip archive (JAR, WAR, EAR) in memory: entries from the central directory.
struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 stored, 8 deflate
  std::uint64_t compressed = 0;
  std::uint64_t size = 0;
  std::uint64_t local_offset = 0;
};
bool zip_entries(std::string_view zip, std::vector<ZipEntry>& entries, std::string& error);
// The entry's bytes, inflated; false (with `error`) when they would pass `limit`.
bool zip_read(std::string_view zip, const ZipEntry& e, std::size_t limit, std::string& out, std::string& error);

// The Maven packages of a Java archive: one per META-INF/maven/**/pom.properties,
// else one from META-INF/MANIFEST.MF and the file name; nested archives
// (WEB-INF/lib, BOOT-INF/lib) recursed into up to a depth. Evidence paths of
// nested archives are "outer.jar:inner/path.jar".
ParseResult parse_java_archive(std::string_view path, std::string_view content);
// MANIFEST.MF main section: "Key: value" with 72-byte continuation lines.
std::vector<std::pair<std::string, std::string>> parse_jar_manifest(std::string_view content);

}  // namespace kg::image
