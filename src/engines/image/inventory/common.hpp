// Shared pieces of the package catalogers: text helpers, package URLs, and
// the buffering base most catalogers use (a metadata file is small: keep
// its bytes, parse at end(), and emit at finish() only what survived).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engines/image/cataloger.hpp"
#include "model/package.hpp"

namespace kg::image {

// A problem in a metadata file: which file, which line, what. Catalogers keep
// going past it (one bad stanza costs only itself); tests and fuzz targets read them.
struct CatalogError {
  std::string path;
  std::uint32_t line = 0;  // 1-based; 0 when the file has no lines (binary formats)
  std::string message;
  std::string to_string() const;
};

struct ParseResult {
  std::vector<Package> packages;
  std::vector<CatalogError> errors;
};

std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view p);
bool ends_with(std::string_view s, std::string_view p);
std::string to_lower(std::string_view s);
// The last path component: "/a/b/c" -> "c".
std::string_view base_name(std::string_view path);
// Everything before the last '/': "/a/b/c" -> "/a/b".
std::string_view dir_name(std::string_view path);

// The lines of a metadata file, LF or CR LF, without their line ends and
// numbered from 1 (the numbers errors carry).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    std::size_t nl = text_.find('\n', pos_);
    if (nl == std::string_view::npos) nl = text_.size();
    line = text_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    ++number_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
  }
  std::uint32_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::uint32_t number_ = 0;
};

// Package URLs (purl-spec): every component percent-encoded except the
// unreserved characters, qualifiers sorted by key, empty values left out.
std::string purl_encode(std::string_view s);
std::string make_purl(std::string_view type, std::string_view ns, std::string_view name,
                      std::string_view version,
                      std::vector<std::pair<std::string, std::string>> qualifiers = {});
// The OS packages' purl from the package and the detected OS
// (pkg:deb/debian/..., pkg:apk/alpine/..., pkg:rpm/fedora/...); the language
// packages' purl does not depend on the OS.
std::string package_purl(const Package& p, const OsInfo& os);

// A layer may hold the same path twice (forbidden by the spec, seen in the
// wild): the later entry is the file, as when the tar is extracted. Keeps the
// last of each (path, layer) in `seen`, in order.
template <typename Seen>
void drop_shadowed(std::vector<Seen>& seen) {
  std::set<std::pair<std::string, std::size_t>> later;
  std::vector<Seen> kept;
  for (std::size_t i = seen.size(); i-- > 0;)
    if (later.emplace(seen[i].path, seen[i].layer).second) kept.push_back(std::move(seen[i]));
  seen.assign(std::make_move_iterator(kept.rbegin()), std::make_move_iterator(kept.rend()));
}

// After the walk: the packages of each kept file that survived, with purls
// filled in from the OS where the parser left them empty. Empties `seen`.
template <typename Seen>
void emit_surviving(std::vector<Seen>& seen, const Survives& survives, const OsInfo& os, std::vector<Package>& out) {
  drop_shadowed(seen);
  for (Seen& s : seen) {
    if (!survives(s.path, s.layer)) continue;
    for (Package& p : s.packages) {
      if (p.purl.empty()) p.purl = package_purl(p, os);
      out.push_back(std::move(p));
    }
  }
  seen.clear();
}

// A cataloger that keeps the problems it met (the Cataloger seam has no
// error channel; Inventory::errors() collects them from here).
class ReportingCataloger : public Cataloger {
 public:
  const std::vector<CatalogError>& errors() const { return errors_; }

 protected:
  void error(CatalogError e) {
    if (errors_.size() < kMaxErrors) errors_.push_back(std::move(e));
  }

 private:
  static constexpr std::size_t kMaxErrors = 1000;
  std::vector<CatalogError> errors_;
};

// The base for catalogers over small metadata files: open() decides by path,
// the bytes are kept up to max_bytes (past it the file is dropped, not
// half-parsed), parse() runs at end(), and finish() emits the packages of
// the files that survived, with their purls.
class BufferedCataloger : public ReportingCataloger {
 public:
  std::unique_ptr<FileReader> open(const FileEntry& file) override;
  void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) override;

 protected:
  virtual bool wants(const FileEntry& file) const = 0;
  virtual std::size_t max_bytes() const { return std::size_t{64} << 20; }
  virtual ParseResult parse(std::string_view path, std::string_view content) = 0;

 private:
  struct Seen {
    std::string path;
    std::size_t layer = 0;
    std::vector<Package> packages;
  };
  class Reader;
  std::vector<Seen> seen_;
};

}  // namespace kg::image
