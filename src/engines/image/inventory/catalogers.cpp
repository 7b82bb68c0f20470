#include "engines/image/inventory/catalogers.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "engines/image/inventory/lang_packages.hpp"
#include "engines/image/inventory/os_packages.hpp"

namespace kg::image {
namespace {

constexpr std::string_view kDocPrefix = "/usr/share/doc/";

class DpkgCataloger final : public BufferedCataloger {
 public:
  std::string_view name() const override { return "dpkg"; }

  void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) override {
    const std::size_t first = out.size();
    BufferedCataloger::finish(survives, os, out);
    // Licenses from the copyright files that survived (the last layer's copy).
    std::map<std::string, std::pair<std::size_t, std::string>, std::less<>> licenses;
    for (auto& [key, value] : copyright_) {
      if (!survives(key.first, key.second)) continue;
      const std::string pkg(base_name(dir_name(key.first)));
      auto it = licenses.find(pkg);
      if (it == licenses.end() || it->second.first < key.second) licenses[pkg] = {key.second, value};
    }
    for (std::size_t i = first; i < out.size(); ++i) {
      Package& p = out[i];
      if (!p.license.empty()) continue;
      if (auto it = licenses.find(p.name); it != licenses.end()) p.license = it->second.second;
    }
    copyright_.clear();
  }

 protected:
  bool wants(const FileEntry& f) const override {
    if (f.path == "/var/lib/dpkg/status") return true;
    if (starts_with(f.path, "/var/lib/dpkg/status.d/"))
      return !ends_with(f.path, ".md5sums") && f.path.find('/', 23) == std::string_view::npos;
    // /usr/share/doc/<package>/copyright
    if (starts_with(f.path, kDocPrefix) && ends_with(f.path, "/copyright")) {
      const std::string_view mid = f.path.substr(kDocPrefix.size(), f.path.size() - kDocPrefix.size() - 10);
      return !mid.empty() && mid.find('/') == std::string_view::npos && f.size <= kCopyrightCap;
    }
    return false;
  }
  ParseResult parse(std::string_view path, std::string_view content) override {
    return parse_dpkg_status(path, content);
  }

 public:
  std::unique_ptr<FileReader> open(const FileEntry& file) override {
    // The copyright files are kept by (path, layer) beside the packages.
    if (starts_with(file.path, kDocPrefix) && wants(file)) {
      return std::make_unique<CopyrightReader>(*this, std::string(file.path), file.layer);
    }
    return BufferedCataloger::open(file);
  }

 private:
  static constexpr std::uint64_t kCopyrightCap = std::uint64_t{256} * 1024;
  class CopyrightReader final : public FileReader {
   public:
    CopyrightReader(DpkgCataloger& owner, std::string path, std::size_t layer)
        : owner_(owner), path_(std::move(path)), layer_(layer) {}
    void data(std::string_view chunk) override {
      if (buf_.size() < kCopyrightCap) buf_.append(chunk.substr(0, kCopyrightCap - buf_.size()));
    }
    void end() override {
      std::string lic = dpkg_copyright_licenses(buf_);
      if (!lic.empty()) owner_.copyright_[{path_, layer_}] = std::move(lic);
    }

   private:
    DpkgCataloger& owner_;
    std::string path_;
    std::size_t layer_;
    std::string buf_;
  };
  std::map<std::pair<std::string, std::size_t>, std::string> copyright_;
};

class ApkCataloger final : public BufferedCataloger {
 public:
  std::string_view name() const override { return "apk"; }

 protected:
  bool wants(const FileEntry& f) const override {
    return f.path == "/lib/apk/db/installed" || f.path == "/usr/lib/apk/db/installed";
  }
  ParseResult parse(std::string_view path, std::string_view content) override {
    return parse_apk_installed(path, content);
  }
};

class RpmCataloger final : public BufferedCataloger {
 public:
  std::string_view name() const override { return "rpm"; }

  // rpmdb.sqlite and its -wal are kept whole until the end: the WAL's pages
  // are applied to the database (rpm leaves it in WAL mode) before reading.
  std::unique_ptr<FileReader> open(const FileEntry& f) override {
    const std::string_view file = rpm_file(f.path);
    if (file == "rpmdb.sqlite" || file == "rpmdb.sqlite-wal")
      return std::make_unique<RawReader>(*this, std::string(f.path), std::string(f.layer_digest), f.layer);
    return BufferedCataloger::open(f);
  }

  void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) override {
    BufferedCataloger::finish(survives, os, out);
    drop_shadowed(raw_);
    for (Raw& db : raw_) {
      if (ends_with(db.path, "-wal") || !survives(db.path, db.layer)) continue;
      std::string_view wal;
      for (const Raw& w : raw_)
        if (w.path == db.path + "-wal" && w.layer >= db.layer && survives(w.path, w.layer)) wal = w.bytes;
      ParseResult r = parse_rpmdb_sqlite(db.path, db.bytes, wal);
      for (CatalogError& e : r.errors) error(std::move(e));
      for (Package& p : r.packages) {
        p.evidence.push_back({db.path, db.digest});
        p.purl = package_purl(p, os);
        out.push_back(std::move(p));
      }
    }
    raw_.clear();
  }

 protected:
  bool wants(const FileEntry& f) const override { return rpm_file(f.path) == "Packages"; }
  std::size_t max_bytes() const override { return kMax; }
  ParseResult parse(std::string_view path, std::string_view content) override {
    return parse_rpmdb_bdb(path, content);
  }

 private:
  static constexpr std::size_t kMax = std::size_t{512} << 20;
  static std::string_view rpm_file(std::string_view path) {
    for (const std::string_view dir : {"/var/lib/rpm/", "/usr/lib/sysimage/rpm/"}) {
      if (starts_with(path, dir)) return path.substr(dir.size());
    }
    return {};
  }
  struct Raw {
    std::string path;
    std::string digest;
    std::size_t layer = 0;
    std::string bytes;
  };
  class RawReader final : public FileReader {
   public:
    RawReader(RpmCataloger& owner, std::string path, std::string digest, std::size_t layer)
        : owner_(owner), raw_{std::move(path), std::move(digest), layer, {}} {}
    void data(std::string_view chunk) override {
      if (over_) return;
      if (raw_.bytes.size() + chunk.size() > kMax) {
        over_ = true;
        raw_.bytes.clear();
        return;
      }
      raw_.bytes.append(chunk);
    }
    void end() override {
      if (over_) {
        owner_.error({raw_.path, 0, "larger than the cataloger's limit of " + std::to_string(kMax >> 20) + " MiB; not read"});
        return;
      }
      owner_.raw_.push_back(std::move(raw_));
    }

   private:
    RpmCataloger& owner_;
    Raw raw_;
    bool over_ = false;
  };
  std::vector<Raw> raw_;
};

class PythonCataloger final : public BufferedCataloger {
 public:
  std::string_view name() const override { return "python"; }

 protected:
  bool wants(const FileEntry& f) const override {
    const std::string_view base = base_name(f.path);
    const std::string_view dir = dir_name(f.path);
    // distutils wrote a single file named <dist>.egg-info instead of a folder.
    return (base == "METADATA" && ends_with(dir, ".dist-info")) || (base == "PKG-INFO" && ends_with(dir, ".egg-info")) ||
           ends_with(base, ".egg-info");
  }
  std::size_t max_bytes() const override { return std::size_t{8} << 20; }
  ParseResult parse(std::string_view path, std::string_view content) override {
    return parse_python_metadata(path, content);
  }
};

class NpmCataloger final : public BufferedCataloger {
 public:
  std::string_view name() const override { return "npm"; }

 protected:
  bool wants(const FileEntry& f) const override {
    if (base_name(f.path) != "package.json") return false;
    // node_modules/<name>/package.json or node_modules/@scope/<name>/package.json:
    // not the package.json files some packages keep in their own subfolders.
    const std::string_view pkg_dir = dir_name(f.path);
    const std::string_view parent = dir_name(pkg_dir);
    if (base_name(parent) == "node_modules") return !base_name(pkg_dir).empty() && base_name(pkg_dir).front() != '@';
    return !base_name(parent).empty() && base_name(parent).front() == '@' &&
           base_name(dir_name(parent)) == "node_modules";
  }
  std::size_t max_bytes() const override { return std::size_t{4} << 20; }
  ParseResult parse(std::string_view path, std::string_view content) override {
    return parse_npm_package_json(path, content);
  }
};

class JavaCataloger final : public BufferedCataloger {
 public:
  std::string_view name() const override { return "java"; }

 protected:
  bool wants(const FileEntry& f) const override {
    const std::string base = to_lower(base_name(f.path));
    return ends_with(base, ".jar") || ends_with(base, ".war") || ends_with(base, ".ear") ||
           ends_with(base, ".jpi") || ends_with(base, ".hpi");
  }
  // A zip's directory is at its end, so the archive is kept whole up to this.
  std::size_t max_bytes() const override { return std::size_t{256} << 20; }
  ParseResult parse(std::string_view path, std::string_view content) override {
    return parse_java_archive(path, content);
  }
};

// Executables: Go build info and cargo-auditable data, streamed (never buffered whole).
class BinaryCataloger final : public ReportingCataloger {
 public:
  std::string_view name() const override { return "binary"; }

  std::unique_ptr<FileReader> open(const FileEntry& f) override {
    if ((f.mode & 0111) == 0 || f.size < 1024) return nullptr;
    return std::make_unique<Reader>(*this, f);
  }

  void finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) override {
    emit_surviving(seen_, survives, os, out);
  }

 private:
  struct Seen {
    std::string path;
    std::size_t layer;
    std::vector<Package> packages;
  };
  class Reader final : public FileReader {
   public:
    Reader(BinaryCataloger& owner, const FileEntry& f)
        : owner_(owner), path_(f.path), digest_(f.layer_digest), layer_(f.layer) {}
    void data(std::string_view chunk) override { scanner_.data(chunk); }
    void end() override {
      std::string error;
      std::vector<Package> found = scanner_.finish(error);
      if (!error.empty()) owner_.error({path_, 0, error});
      if (found.empty()) return;
      for (Package& p : found) p.evidence.push_back({path_, digest_});
      owner_.seen_.push_back({path_, layer_, std::move(found)});
    }

   private:
    BinaryCataloger& owner_;
    std::string path_;
    std::string digest_;
    std::size_t layer_;
    BinaryScanner scanner_;
  };
  std::vector<Seen> seen_;
};

class FanOut final : public FileReader {
 public:
  explicit FanOut(std::vector<std::unique_ptr<FileReader>> readers) : readers_(std::move(readers)) {}
  void data(std::string_view chunk) override {
    for (auto& r : readers_) r->data(chunk);
  }
  void end() override {
    for (auto& r : readers_) r->end();
  }

 private:
  std::vector<std::unique_ptr<FileReader>> readers_;
};

int type_rank(PackageType t) { return static_cast<int>(t); }

}  // namespace

std::vector<std::unique_ptr<Cataloger>> make_catalogers() {
  std::vector<std::unique_ptr<Cataloger>> out;
  out.push_back(std::make_unique<DpkgCataloger>());
  out.push_back(std::make_unique<ApkCataloger>());
  out.push_back(std::make_unique<RpmCataloger>());
  out.push_back(std::make_unique<PythonCataloger>());
  out.push_back(std::make_unique<NpmCataloger>());
  out.push_back(std::make_unique<BinaryCataloger>());
  out.push_back(std::make_unique<JavaCataloger>());
  return out;
}

Inventory::Inventory() : catalogers_(make_catalogers()) {}

std::unique_ptr<FileReader> Inventory::open(const FileEntry& file) {
  std::vector<std::unique_ptr<FileReader>> readers;
  if (auto r = os_.open(file)) readers.push_back(std::move(r));
  for (auto& c : catalogers_)
    if (auto r = c->open(file)) readers.push_back(std::move(r));
  if (readers.empty()) return nullptr;
  if (readers.size() == 1) return std::move(readers.front());
  return std::make_unique<FanOut>(std::move(readers));
}

void sort_packages(std::vector<Package>& packages) {
  std::stable_sort(packages.begin(), packages.end(), [](const Package& a, const Package& b) {
    const std::string_view pa = a.evidence.empty() ? std::string_view{} : a.evidence.front().path;
    const std::string_view pb = b.evidence.empty() ? std::string_view{} : b.evidence.front().path;
    if (a.type != b.type) return type_rank(a.type) < type_rank(b.type);
    return std::tie(a.name, a.version, pa) < std::tie(b.name, b.version, pb);
  });
}

std::vector<CatalogError> catalog_errors(const std::vector<std::unique_ptr<Cataloger>>& catalogers) {
  std::vector<CatalogError> out;
  for (const auto& c : catalogers) {
    if (const auto* r = dynamic_cast<const ReportingCataloger*>(c.get()))
      out.insert(out.end(), r->errors().begin(), r->errors().end());
  }
  return out;
}

void Inventory::finish(const Survives& survives, OsInfo& os, std::vector<Package>& packages) {
  os = os_.result(survives);
  for (auto& c : catalogers_) c->finish(survives, os, packages);
  sort_packages(packages);
}

std::vector<CatalogError> Inventory::errors() const { return catalog_errors(catalogers_); }

ImageReadResult inventory_image(const std::string& reference, const ReadOptions& options,
                                const WalkLimits& limits, const std::vector<Cataloger*>& extra) {
  std::vector<std::unique_ptr<Cataloger>> owned = make_catalogers();
  std::vector<Cataloger*> catalogers;
  catalogers.reserve(owned.size() + extra.size());
  for (auto& c : owned) catalogers.push_back(c.get());
  catalogers.insert(catalogers.end(), extra.begin(), extra.end());
  ImageReadResult r = read_image(reference, options, limits, catalogers);
  if (!r.ok()) return r;
  sort_packages(r.inventory.packages);
  for (const CatalogError& e : catalog_errors(owned)) r.package_errors.push_back(e.to_string());
  return r;
}

}  // namespace kg::image
