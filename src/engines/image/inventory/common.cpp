#include "engines/image/inventory/common.hpp"

#include <algorithm>

namespace kg::image {

std::string CatalogError::to_string() const {
  std::string s = path;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": " + message;
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dir_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
}

std::string purl_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string make_purl(std::string_view type, std::string_view ns, std::string_view name,
                      std::string_view version,
                      std::vector<std::pair<std::string, std::string>> qualifiers) {
  std::string out = "pkg:";
  out += type;
  out += '/';
  // Namespace segments keep their '/' separators; each segment is encoded.
  std::size_t start = 0;
  while (start < ns.size()) {
    std::size_t slash = ns.find('/', start);
    if (slash == std::string_view::npos) slash = ns.size();
    if (slash > start) {
      out += purl_encode(ns.substr(start, slash - start));
      out += '/';
    }
    start = slash + 1;
  }
  out += purl_encode(name);
  if (!version.empty()) {
    out += '@';
    out += purl_encode(version);
  }
  std::erase_if(qualifiers, [](const auto& q) { return q.second.empty(); });
  std::sort(qualifiers.begin(), qualifiers.end());
  char sep = '?';
  for (const auto& [k, v] : qualifiers) {
    out += sep;
    out += k;
    out += '=';
    out += purl_encode(v);
    sep = '&';
  }
  return out;
}

namespace {

std::string distro_qualifier(const OsInfo& os) {
  if (os.id.empty()) return {};
  return os.version_id.empty() ? os.id : os.id + "-" + os.version_id;
}

std::string upstream_qualifier(const Package& p) {
  if (p.source_name.empty() || p.source_name == p.name) {
    if (!p.source_version.empty() && p.source_version != p.version)
      return p.name + "@" + p.source_version;
    return {};
  }
  return p.source_version.empty() || p.source_version == p.version
             ? p.source_name
             : p.source_name + "@" + p.source_version;
}

}  // namespace

std::string package_purl(const Package& p, const OsInfo& os) {
  switch (p.type) {
    case PackageType::Deb:
      return make_purl("deb", os.id.empty() || os.id == "distroless" ? "debian" : os.id, p.name, p.version,
                       {{"arch", p.arch}, {"distro", distro_qualifier(os)}, {"upstream", upstream_qualifier(p)}});
    case PackageType::Apk:
      return make_purl("apk", os.id.empty() ? "alpine" : os.id, p.name, p.version,
                       {{"arch", p.arch}, {"distro", distro_qualifier(os)}, {"upstream", upstream_qualifier(p)}});
    case PackageType::Rpm: {
      // rpm versions carry the epoch as a qualifier, not in the version.
      std::string version = p.version;
      std::string epoch;
      if (const std::size_t colon = version.find(':'); colon != std::string::npos) {
        epoch = version.substr(0, colon);
        version.erase(0, colon + 1);
      }
      std::string ns = os.id.empty() ? "redhat" : os.id;
      if (ns == "rhel") ns = "redhat";
      std::string upstream;
      if (!p.source_version.empty())
        upstream = (p.source_name.empty() ? p.name : p.source_name) + "-" + p.source_version + ".src.rpm";
      return make_purl("rpm", ns, p.name, version,
                       {{"arch", p.arch}, {"epoch", epoch}, {"distro", distro_qualifier(os)}, {"upstream", upstream}});
    }
    case PackageType::Python: {
      // PEP 503 normalisation, which the purl spec asks for pypi names.
      std::string name;
      for (const char c : to_lower(p.name)) {
        const bool sep = c == '-' || c == '_' || c == '.';
        if (sep) {
          if (name.empty() || name.back() != '-') name += '-';
        } else {
          name += c;
        }
      }
      return make_purl("pypi", "", name, p.version);
    }
    case PackageType::Npm: {
      if (!p.name.empty() && p.name.front() == '@') {
        const std::size_t slash = p.name.find('/');
        if (slash != std::string::npos)
          return make_purl("npm", p.name.substr(0, slash), p.name.substr(slash + 1), p.version);
      }
      return make_purl("npm", "", p.name, p.version);
    }
    case PackageType::Golang: {
      // "(devel)" is Go's placeholder for a module built from a working tree, not a version: a
      // purl carrying it would match no advisory range (Syft and Trivy leave the version out too).
      const std::string_view version = p.version == "(devel)" ? std::string_view{} : std::string_view{p.version};
      const std::size_t slash = p.name.rfind('/');
      if (slash == std::string::npos) return make_purl("golang", "", p.name, version);
      return make_purl("golang", p.name.substr(0, slash), p.name.substr(slash + 1), version);
    }
    case PackageType::Maven: {
      // name is "group:artifact".
      const std::size_t colon = p.name.find(':');
      if (colon == std::string::npos) return make_purl("maven", "", p.name, p.version);
      return make_purl("maven", p.name.substr(0, colon), p.name.substr(colon + 1), p.version);
    }
    case PackageType::Cargo:
      return make_purl("cargo", "", p.name, p.version);
  }
  return {};
}

class BufferedCataloger::Reader : public FileReader {
 public:
  Reader(BufferedCataloger& owner, const FileEntry& f)
      : owner_(owner), path_(f.path), digest_(f.layer_digest), layer_(f.layer),
        limit_(owner.max_bytes()) {
    if (f.size <= limit_) buf_.reserve(static_cast<std::size_t>(f.size));
  }
  void data(std::string_view chunk) override {
    if (over_) return;
    if (buf_.size() + chunk.size() > limit_) {
      over_ = true;
      buf_.clear();
      buf_.shrink_to_fit();
      return;
    }
    buf_.append(chunk);
  }
  void end() override {
    if (over_) {
      owner_.error({path_, 0, "larger than the cataloger's limit of " +
                                              std::to_string(limit_ >> 20) + " MiB; not read"});
      return;
    }
    ParseResult r = owner_.parse(path_, buf_);
    for (CatalogError& e : r.errors) owner_.error(std::move(e));
    for (Package& p : r.packages) {
      if (p.evidence.empty()) p.evidence.push_back({path_, digest_});
      for (PackageEvidence& e : p.evidence)
        if (e.layer_digest.empty()) e.layer_digest = digest_;
    }
    owner_.seen_.push_back({path_, layer_, std::move(r.packages)});
  }

 private:
  BufferedCataloger& owner_;
  std::string path_;
  std::string digest_;
  std::size_t layer_;
  std::size_t limit_;
  std::string buf_;
  bool over_ = false;
};

std::unique_ptr<FileReader> BufferedCataloger::open(const FileEntry& file) {
  if (!wants(file)) return nullptr;
  return std::make_unique<Reader>(*this, file);
}

void BufferedCataloger::finish(const Survives& survives, const OsInfo& os, std::vector<Package>& out) {
  emit_surviving(seen_, survives, os, out);
}

}  // namespace kg::image
