#include "engines/image/inventory/os_detect.hpp"

#include "engines/image/inventory/common.hpp"

namespace kg::image {
namespace {

std::string unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    const char q = v.front();
    v = v.substr(1, v.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (q == '"' && v[i] == '\\' && i + 1 < v.size()) ++i;  // \" \\ \$ \`
      out += v[i];
    }
    return out;
  }
  return std::string(v);
}

constexpr std::size_t kMaxOsFile = std::size_t{64} * 1024;

bool is_os_file(std::string_view p) {
  return p == "/etc/os-release" || p == "/usr/lib/os-release" || p == "/etc/alpine-release" ||
         p == "/etc/debian_version" || p == "/etc/apk/repositories";
}

}  // namespace

OsInfo parse_os_release(std::string_view content) {
  OsInfo os;
  std::string name;
  while (!content.empty()) {
    const std::size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view{} : content.substr(nl + 1);
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, eq));
    std::string value = unquote(line.substr(eq + 1));
    if (key == "ID") os.id = to_lower(value);
    else if (key == "VERSION_ID") os.version_id = value;
    else if (key == "VERSION_CODENAME") os.version_codename = value;
    else if (key == "PRETTY_NAME") os.pretty_name = value;
    else if (key == "NAME") name = value;
    else if (key == "HOME_URL" && value.find("distroless") != std::string::npos) os.distroless = true;
    else if (key == "ID_LIKE") {
      std::string_view rest = value;
      while (!rest.empty()) {
        const std::size_t sp = rest.find(' ');
        const std::string_view word = trim(rest.substr(0, sp));
        if (!word.empty()) os.id_like.push_back(to_lower(word));
        rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
      }
    }
  }
  if (os.pretty_name.empty()) os.pretty_name = name;
  if (os.pretty_name.find("Distroless") != std::string::npos) os.distroless = true;
  return os;
}

class OsDetector::Reader : public FileReader {
 public:
  Reader(OsDetector& owner, const FileEntry& f) : owner_(owner), path_(f.path), layer_(f.layer) {}
  void data(std::string_view chunk) override {
    if (buf_.size() < kMaxOsFile) buf_.append(chunk.substr(0, kMaxOsFile - buf_.size()));
  }
  void end() override { owner_.seen_.push_back({path_, layer_, std::move(buf_)}); }

 private:
  OsDetector& owner_;
  std::string path_;
  std::size_t layer_;
  std::string buf_;
};

std::unique_ptr<FileReader> OsDetector::open(const FileEntry& file) {
  if (starts_with(file.path, "/var/lib/dpkg/status.d/")) {
    status_d_.emplace_back(std::string(file.path), file.layer);
    return nullptr;
  }
  if (!is_os_file(file.path)) return nullptr;
  return std::make_unique<Reader>(*this, file);
}

std::string alpine_release_stream(std::string_view repositories) {
  while (!repositories.empty()) {
    const std::size_t nl = repositories.find('\n');
    std::string_view line = trim(repositories.substr(0, nl));
    repositories = nl == std::string_view::npos ? std::string_view{} : repositories.substr(nl + 1);
    // Comments and tagged repositories ("@testing URL", pinned on purpose) say nothing of the branch.
    if (line.empty() || line.front() == '#' || line.front() == '@') continue;
    while (!line.empty() && line.back() == '/') line.remove_suffix(1);
    const std::size_t last = line.rfind('/');
    if (last == std::string_view::npos) continue;
    const std::string_view repo = line.substr(last + 1);
    if (repo != "main" && repo != "community") continue;
    const std::string_view rest = line.substr(0, last);
    const std::string_view branch = rest.substr(rest.rfind('/') + 1);  // npos + 1 == 0
    if (branch == "edge") return "edge";
    if (branch.size() > 1 && branch.front() == 'v' && branch[1] >= '0' && branch[1] <= '9')
      return std::string(branch.substr(1));
  }
  return {};
}

OsInfo detect_os(const std::function<const std::string*(std::string_view path)>& text) {
  OsInfo os;
  if (const std::string* s = text("/etc/os-release")) os = parse_os_release(*s);
  if (os.id.empty())
    if (const std::string* u = text("/usr/lib/os-release")) os = parse_os_release(*u);
  if (os.id.empty()) {
    if (const std::string* a = text("/etc/alpine-release")) {
      os.id = "alpine";
      os.version_id = std::string(trim(*a));
      os.pretty_name = "Alpine Linux v" + os.version_id;
    } else if (const std::string* d = text("/etc/debian_version")) {
      os.id = "debian";
      const std::string v(trim(*d));
      // "12.5" -> 12; "bookworm/sid" is testing/unstable: keep it as the codename.
      if (!v.empty() && v.front() >= '0' && v.front() <= '9') os.version_id = v.substr(0, v.find('.'));
      else os.version_codename = v.substr(0, v.find('/'));
      os.pretty_name = "Debian GNU/Linux " + v;
    }
  }
  if (os.id == "alpine")
    if (const std::string* r = text("/etc/apk/repositories")) os.release_stream = alpine_release_stream(*r);
  return os;
}

OsInfo OsDetector::result(const Survives& survives) const {
  // The surviving copy of each file: the last layer's, if it survived.
  OsInfo os = detect_os([&](std::string_view path) -> const std::string* {
    const Seen* best = nullptr;
    for (const Seen& s : seen_)
      if (s.path == path && survives(s.path, s.layer) && (!best || s.layer >= best->layer)) best = &s;
    return best ? &best->content : nullptr;
  });
  for (const auto& [path, layer] : status_d_) {
    if (survives(path, layer)) {
      os.distroless = true;
      break;
    }
  }
  return os;
}

}  // namespace kg::image
