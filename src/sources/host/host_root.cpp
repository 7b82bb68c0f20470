#include "sources/host/host_root.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <sstream>

namespace kg::host {
namespace {

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    const std::size_t j = path.find('/', i);
    const std::size_t end = j == std::string::npos ? path.size() : j;
    if (end > i) out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

// name:x:id:... lines of /etc/passwd or /etc/group.
std::map<std::uint32_t, std::string> read_ids(const HostRoot& root, const std::string& path) {
  std::map<std::uint32_t, std::string> ids;
  std::string text;
  if (!root.read(path, text, std::size_t{1} << 20)) return ids;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto a = line.find(':');
    const auto b = a == std::string::npos ? a : line.find(':', a + 1);
    const auto c = b == std::string::npos ? b : line.find(':', b + 1);
    if (c == std::string::npos) continue;
    const std::string id = line.substr(b + 1, c - b - 1);
    if (id.empty() || id.size() > 10 || !std::all_of(id.begin(), id.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    ids.emplace(static_cast<std::uint32_t>(std::stoull(id)), line.substr(0, a));
  }
  return ids;
}

}  // namespace

std::string normalize_path(const std::string& path) {
  std::vector<std::string> out;
  for (std::string& c : components(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(c));
  }
  std::string s;
  for (const std::string& c : out) s += "/" + c;
  return s.empty() ? "/" : s;
}

HostRoot::HostRoot(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_ == "/") root_.clear();  // host path = root_ + node path
  users_ = read_ids(*this, "/etc/passwd");
  groups_ = read_ids(*this, "/etc/group");
}

std::optional<std::string> HostRoot::resolve(const std::string& path, int* error) const {
  if (error) *error = 0;
  // Walk the node path component by component; a link's target replaces the
  // walked prefix (absolute) or joins it (relative), always inside the root.
  std::vector<std::string> todo = components(path);
  std::reverse(todo.begin(), todo.end());
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(c);
    std::string node_path;
    for (const std::string& d : done) node_path += "/" + d;
    const std::string host_path = root_ + node_path;
    struct stat st {};
    if (::lstat(host_path.c_str(), &st) != 0) {
      if (error) *error = errno;
      return std::nullopt;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > 40) {
        if (error) *error = ELOOP;
        return std::nullopt;
      }
      std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      const ssize_t n = ::readlink(host_path.c_str(), target.data(), target.size());
      if (n < 0) {
        if (error) *error = errno;
        return std::nullopt;
      }
      target.resize(static_cast<std::size_t>(n));
      done.pop_back();
      if (!target.empty() && target[0] == '/') done.clear();
      std::vector<std::string> more = components(target);
      for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
    }
  }
  std::string node_path;
  for (const std::string& d : done) node_path += "/" + d;
  return root_ + (node_path.empty() ? std::string("/") : node_path);
}

bool HostRoot::read(const std::string& path, std::string& out, std::size_t max_bytes, int* error) const {
  int ignored = 0;
  int& err = error ? *error : ignored;
  const auto host_path = resolve(path, &err);
  if (!host_path) return false;
  struct stat st {};
  if (::stat(host_path->c_str(), &st) != 0) return err = errno, false;
  if (!S_ISREG(st.st_mode)) return err = EINVAL, false;
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) return err = EFBIG, false;
  const int fd = ::open(host_path->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return err = errno, false;
  out.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return err = EFBIG, false;
    }
  }
  ::close(fd);
  err = 0;
  return true;
}

FileFact HostRoot::stat(const std::string& path) const {
  FileFact f;
  f.path = normalize_path(path);
  const auto host_path = resolve(path, &f.error);
  struct stat st {};
  if (!host_path) return f;
  if (::stat(host_path->c_str(), &st) != 0) {
    f.error = errno;
    return f;
  }
  f.exists = true;
  f.is_dir = S_ISDIR(st.st_mode);
  f.mode = static_cast<std::uint32_t>(st.st_mode) & 07777U;
  f.uid = static_cast<std::uint32_t>(st.st_uid);
  f.gid = static_cast<std::uint32_t>(st.st_gid);
  if (auto it = users_.find(f.uid); it != users_.end()) f.user = it->second;
  else if (f.uid == 0) f.user = "root";
  if (auto it = groups_.find(f.gid); it != groups_.end()) f.group = it->second;
  else if (f.gid == 0) f.group = "root";
  return f;
}

std::vector<std::string> HostRoot::list(const std::string& dir, int* error) const {
  std::vector<std::string> out;
  const auto host_path = resolve(dir, error);
  if (!host_path) return out;
  std::error_code ec;
  std::filesystem::directory_iterator it(*host_path, ec);
  if (ec) {
    if (error) *error = ec.value();
    return out;
  }
  for (const auto& e : it) {
    out.push_back(e.path().filename().string());
    if (out.size() >= 100000) break;  // a node's config folders hold tens of files
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kg::host
