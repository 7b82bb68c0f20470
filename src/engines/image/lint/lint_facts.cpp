#include "engines/image/lint/lint_facts.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "core/document.hpp"
#include "sources/image/image_source.hpp"
#include "sources/image/json.hpp"

namespace kg::image {
namespace {

constexpr std::uint64_t kAccountFileMax = std::uint64_t{1} << 20;  // /etc/passwd, /etc/shadow
constexpr std::uint64_t kSecretFileMax = std::uint64_t{256} << 10;  // a key or credentials file
constexpr std::size_t kSecretKeep = std::size_t{64} << 10;          // bytes of it looked at

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
std::string_view base_name(std::string_view p) { return p.substr(p.rfind('/') + 1); }
std::string_view dir_name(std::string_view p) {
  const std::size_t s = p.rfind('/');
  return s == 0 || s == std::string_view::npos ? std::string_view("/") : p.substr(0, s);
}

std::string octal(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// Package managers and network tools by executable name (the team's list,
// Dockle's and Trivy's); pip3.11 and the like are pip.
constexpr std::array<std::string_view, 15> kPackageManagers = {
    "dpkg", "apt", "apt-get", "aptitude", "apk", "rpm", "dnf", "yum", "microdnf", "tdnf", "zypper", "pip", "pip3",
    "npm", "easy_install"};
constexpr std::array<std::string_view, 19> kNetworkTools = {
    "curl", "wget", "nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "socat", "telnet", "ssh", "sshd",
    "scp", "sftp", "ftp", "tftp", "nmap", "tcpdump", "tshark", "rsync"};
constexpr std::array<std::string_view, 8> kShells = {"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"};
constexpr std::array<std::string_view, 6> kStandardBinDirs = {"/bin", "/sbin", "/usr/bin", "/usr/sbin",
                                                              "/usr/local/bin", "/usr/local/sbin"};
constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string_view tool_name(std::string_view base, bool managers) {
  if (managers) {
    for (std::string_view n : kPackageManagers)
      if (base == n) return n;
    // pip3.11, pip-3.12
    if (starts_with(base, "pip") && base.size() > 3 && (base[3] == '3' || base[3] == '-')) return "pip";
    return {};
  }
  for (std::string_view n : kNetworkTools)
    if (base == n) return n;
  return {};
}

void add(std::vector<FileFact>& list, std::size_t& dropped, FileFact f) {
  if (list.size() < kMaxFacts) list.push_back(std::move(f));
  else ++dropped;
}

// The package cache a path lies in: (cache directory, ecosystem), or empty.
std::pair<std::string, std::string_view> cache_of(std::string_view p) {
  if (starts_with(p, "/var/cache/apt/archives/") && ends_with(p, ".deb") &&
      dir_name(p) == "/var/cache/apt/archives")
    return {"/var/cache/apt/archives", "apt"};
  if (starts_with(p, "/var/lib/apt/lists/") && dir_name(p) == "/var/lib/apt/lists" && base_name(p) != "lock")
    return {"/var/lib/apt/lists", "apt"};
  if (starts_with(p, "/var/cache/apk/")) return {"/var/cache/apk", "apk"};
  if (starts_with(p, "/var/cache/yum/")) return {"/var/cache/yum", "yum"};
  if (starts_with(p, "/var/cache/dnf/")) return {"/var/cache/dnf", "dnf"};
  if (starts_with(p, "/var/cache/zypp/packages/")) return {"/var/cache/zypp/packages", "zypper"};
  for (auto [marker, eco] : {std::pair<std::string_view, std::string_view>{"/.cache/pip/", "pip"},
                             {"/.npm/_cacache/", "npm"}, {"/.cache/yarn/", "yarn"}}) {
    const std::size_t at = p.find(marker);
    if (at != std::string_view::npos) return {std::string(p.substr(0, at + marker.size() - 1)), eco};
  }
  return {};
}

class KeepReader final : public FileReader {
 public:
  KeepReader(LintCataloger& owner, std::string path, std::size_t layer, std::size_t max)
      : owner_(owner), path_(std::move(path)), layer_(layer), max_(max) {}
  void data(std::string_view chunk) override {
    if (buf_.size() < max_) buf_.append(chunk.substr(0, max_ - buf_.size()));
  }
  void end() override { owner_.keep(std::move(path_), layer_, std::move(buf_)); }

 private:
  LintCataloger& owner_;
  std::string path_;
  std::size_t layer_;
  std::size_t max_;
  std::string buf_;
};

// Lines of a colon-separated account file: (field 0, field 1, field 2).
template <class F>
void each_account(std::string_view text, F&& f) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') continue;
    std::array<std::string_view, 3> fields{};
    std::size_t n = 0;
    std::string_view rest = line;
    while (n < fields.size()) {
      const std::size_t c = rest.find(':');
      fields[n++] = rest.substr(0, c);
      if (c == std::string_view::npos) break;
      rest = rest.substr(c + 1);
    }
    if (n >= 2 && !fields[0].empty()) f(fields[0], fields[1], n >= 3 ? fields[2] : std::string_view());
  }
}

}  // namespace

std::vector<std::string> path_dirs_of(std::string_view config_json) {
  std::string path(kDefaultPath);
  if (!config_json.empty()) {
    try {
      auto doc = parse_json(std::string(config_json), "config");
      for (const Node* e : items(get(get(doc->root, "config"), "Env"))) {
        const std::string_view v = str(e);
        if (starts_with(v, "PATH=")) path = std::string(v.substr(5));
      }
    } catch (const ImageError&) {
      // The walk parsed the same config already; a config it refused never gets here.
    }
  }
  std::vector<std::string> dirs;
  std::string_view rest = path;
  while (!rest.empty()) {
    const std::size_t c = rest.find(':');
    std::string_view d = rest.substr(0, c);
    rest = c == std::string_view::npos ? std::string_view() : rest.substr(c + 1);
    if (!d.empty() && d.front() == '/' && std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.emplace_back(d);
  }
  return dirs;
}

std::vector<std::string> empty_password_accounts(std::string_view text) {
  std::vector<std::string> out;
  each_account(text, [&](std::string_view user, std::string_view password, std::string_view) {
    if (password.empty()) out.emplace_back(user);
  });
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> duplicate_uids(std::string_view passwd) {
  std::map<std::string, std::vector<std::string>> by_uid;
  std::vector<std::string> order;
  each_account(passwd, [&](std::string_view user, std::string_view, std::string_view uid) {
    if (uid.empty()) return;
    auto& users = by_uid[std::string(uid)];
    if (users.empty()) order.emplace_back(uid);
    users.emplace_back(user);
  });
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const std::string& uid : order)
    if (by_uid[uid].size() > 1) out.emplace_back(uid, by_uid[uid]);
  return out;
}

bool secret_candidate(std::string_view p) {
  // Test data of libraries ships throwaway keys; a secret there is not the image's.
  for (std::string_view skip : {"/test/", "/tests/", "/testdata/", "/usr/share/doc/"})
    if (p.find(skip) != std::string_view::npos) return false;
  const std::string_view b = base_name(p);
  for (std::string_view n : {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", ".git-credentials", ".netrc",
                             ".pypirc", ".npmrc", "credentials.json", "application_default_credentials.json",
                             "accessTokens.json", "credentials.db"})
    if (b == n) return true;
  for (std::string_view ext : {".pem", ".key", "_key", ".p8", ".asc", ".gpg"})
    if (ends_with(b, ext)) return true;
  if (b == "credentials" && (ends_with(dir_name(p), "/.aws") || ends_with(dir_name(p), "/.docker"))) return true;
  if (b == "config.json" && ends_with(dir_name(p), "/.docker")) return true;
  return false;
}

std::string secret_kind(std::string_view path, std::string_view content) {
  const std::string_view b = base_name(path);
  // PEM (RSA, EC, PKCS#8, encrypted), OpenSSH and OpenPGP armour; public keys and certificates are not secrets.
  const bool has_key = content.find("-----BEGIN ") != std::string_view::npos &&
                       (content.find("PRIVATE KEY-----") != std::string_view::npos ||
                        content.find("PRIVATE KEY BLOCK-----") != std::string_view::npos);
  if (has_key) return ends_with(b, "_key") && b.substr(0, 9) == "ssh_host_" ? "an SSH host private key" : "a private key";
  auto has = [&](std::string_view s) { return content.find(s) != std::string_view::npos; };
  if (b == "credentials" && ends_with(dir_name(path), "/.aws") && has("aws_secret_access_key"))
    return "AWS credentials";
  if (b == "config.json" && ends_with(dir_name(path), "/.docker") && has("\"auth\"")) return "registry credentials";
  if (b == ".git-credentials" && has("@")) return "git credentials";
  if (b == ".netrc" && has("password")) return "netrc credentials";
  if (b == ".pypirc" && has("password")) return "PyPI credentials";
  if (b == ".npmrc" && (has("_authToken") || has("_auth") || has("_password"))) return "npm credentials";
  if (b == "application_default_credentials.json" || (b == "credentials.db" && path.find("/gcloud/") != std::string_view::npos))
    return "Google Cloud credentials";
  if (b == "accessTokens.json" && path.find("/.azure/") != std::string_view::npos) return "Azure credentials";
  if (b == "credentials.json" && (has("private_key") || has("client_secret"))) return "cloud credentials";
  if (b == ".env") {
    // A dotenv file with at least one NAME=value line.
    for (std::size_t at = 0; at < content.size();) {
      const std::size_t nl = content.find('\n', at);
      std::string_view line = content.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
      at = nl == std::string_view::npos ? content.size() : nl + 1;
      const std::size_t eq = line.find('=');
      if (eq != std::string_view::npos && eq > 0 && line.front() != '#' && eq + 1 < line.size()) return "a .env file";
    }
  }
  return {};
}

std::unique_ptr<FileReader> LintCataloger::open(const FileEntry& file) {
  if ((file.path == "/etc/passwd" || file.path == "/etc/shadow") && file.size <= kAccountFileMax)
    return std::make_unique<KeepReader>(*this, std::string(file.path), file.layer, kAccountFileMax);
  if (file.size <= kSecretFileMax && secret_candidate(file.path))
    return std::make_unique<KeepReader>(*this, std::string(file.path), file.layer, kSecretKeep);
  return nullptr;
}

void LintCataloger::keep(std::string path, std::size_t layer, std::string content) {
  if (path == "/etc/passwd" || path == "/etc/shadow") {
    texts_[{std::move(path), layer}] = std::move(content);
    return;
  }
  // A secret candidate is judged now (content is dropped at once); whether a
  // later layer removed it is known at finish().
  std::string kind = secret_kind(path, content);
  if (kind.empty()) return;
  texts_[{std::move(path), layer}] = "\x01" + kind;  // marked: a secret's kind, not a file's text
}

void LintCataloger::final_tree(const FinalTree& tree) {
  facts_.path_dirs = path_dirs_of(tree.config());
  std::set<std::string, std::less<>> path_dirs, bin_dirs;
  for (const std::string& d : facts_.path_dirs)
    if (auto r = tree.resolve(d)) path_dirs.insert(*r);
  bin_dirs = path_dirs;
  for (std::string_view d : kStandardBinDirs)
    if (auto r = tree.resolve(d)) bin_dirs.insert(*r);
  struct Cache {
    std::string_view name;
    std::uint64_t files = 0, bytes = 0;
    std::size_t layer = 0;  // the last layer that left a file there
  };
  std::map<std::string, Cache> caches;
  tree.each([&](const TreeEntry& e) {
    const bool regular = e.type == '0' || e.type == '1';
    if (regular && (e.mode & 06000)) {
      add(facts_.setid, facts_.dropped,
          {std::string(e.path), (e.mode & 06000) == 06000 ? "setuid and setgid" : (e.mode & 04000) ? "setuid" : "setgid",
           octal(e.mode), e.layer});
    }
    const std::string_view dir = dir_name(e.path);
    if ((e.mode & 0002) && e.type != '2' &&
        ((regular && path_dirs.count(dir)) || (e.type == '5' && path_dirs.count(e.path)))) {
      add(facts_.world_writable, facts_.dropped,
          {std::string(e.path), e.type == '5' ? "directory" : "file", octal(e.mode), e.layer});
    }
    if (regular) {
      auto [root, eco] = cache_of(e.path);
      if (!root.empty()) {
        Cache& c = caches[root];
        c.name = eco;
        c.layer = std::max(c.layer, e.layer);
        ++c.files;
        c.bytes += e.size;
      }
    }
    if (e.type == '5' && (ends_with(e.path, "/site-packages/pip") || ends_with(e.path, "/dist-packages/pip")))
      add(facts_.package_managers, facts_.dropped, {std::string(e.path), "pip", "Python module", e.layer});
    if (!bin_dirs.count(dir) || (e.type != '0' && e.type != '1' && e.type != '2')) return;
    const std::string_view base = base_name(e.path);
    const std::string_view manager = tool_name(base, true);
    const std::string_view net = tool_name(base, false);
    const bool shell = std::find(kShells.begin(), kShells.end(), base) != kShells.end();
    if (manager.empty() && net.empty() && !shell) return;
    // A symlink counts when it leads to a file (alternatives, busybox applets).
    if (e.type == '2') {
      auto target = tree.resolve(e.path);
      auto t = target ? tree.find(*target) : std::nullopt;
      if (!t || (t->type != '0' && t->type != '1')) return;
    }
    std::string how = e.type == '2' ? "-> " + std::string(e.link) : octal(e.mode);
    if (!manager.empty()) add(facts_.package_managers, facts_.dropped, {std::string(e.path), std::string(manager), how, e.layer});
    if (!net.empty()) add(facts_.network_tools, facts_.dropped, {std::string(e.path), std::string(net), how, e.layer});
    if (shell) add(facts_.shells, facts_.dropped, {std::string(e.path), std::string(base), how, e.layer});
  });
  for (const auto& [root, c] : caches) {
    add(facts_.package_caches, facts_.dropped,
        {root, std::string(c.name),
         std::to_string(c.files) + (c.files == 1 ? " file, " : " files, ") + format_bytes(static_cast<std::size_t>(c.bytes)),
         c.layer});
  }
}

void LintCataloger::finish(const Survives& survives, const OsInfo&, std::vector<Package>&) {
  for (auto& [key, text] : texts_) {
    const auto& [path, layer] = key;
    const bool survived = survives(path, layer);
    if (!text.empty() && text.front() == '\x01') {
      add(facts_.secrets, facts_.dropped, {path, text.substr(1), {}, layer, !survived});
      continue;
    }
    if (!survived) continue;  // an account file a later layer replaced: the final one is judged
    for (const std::string& user : empty_password_accounts(text))
      add(facts_.empty_passwords, facts_.dropped, {path, user, {}, layer});
    if (path != "/etc/passwd") continue;
    for (auto& [uid, users] : duplicate_uids(text)) {
      std::string joined;
      for (const std::string& u : users) {
        if (!joined.empty()) joined += ", ";
        joined += u;
      }
      add(facts_.duplicate_uids, facts_.dropped, {path, uid, joined, layer});
    }
  }
  texts_.clear();
}

}  // namespace kg::image
