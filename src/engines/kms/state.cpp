// state.json, usage.json and the lock (state.hpp).
#include "engines/kms/state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"

namespace kg::kms {
namespace {

std::string at(const std::string& where, const Node* n) {
  return n ? where + ":" + std::to_string(n->line) : where;
}

std::string need_str(const Node* parent, std::string_view key, const std::string& where, bool optional = false) {
  const Node* n = get(parent, key);
  if (!n) {
    if (optional) return {};
    throw KmsError(at(where, parent) + ": " + std::string(key) + " is missing");
  }
  if (!n->is_scalar()) throw KmsError(at(where, n) + ": " + std::string(key) + " is not a string");
  return std::string(str(n));
}

long long need_int(const Node* parent, std::string_view key, const std::string& where, long long lo, long long hi) {
  const Node* n = get(parent, key);
  if (!n || !n->is_scalar()) throw KmsError(at(where, n ? n : parent) + ": " + std::string(key) + " is missing or not a number");
  std::string_view s = str(n);
  long long v = 0;
  bool ok = !s.empty() && s.size() < 19;
  for (char c : s) ok = ok && c >= '0' && c <= '9';
  if (ok) {
    for (char c : s) v = v * 10 + (c - '0');
  }
  if (!ok || v < lo || v > hi)
    throw KmsError(at(where, n) + ": " + std::string(key) + " must be a whole number in [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  return v;
}

const Node* parse_root(SourceFile& f, const std::string& where) {
  load_documents(f);
  if (!f.errors.empty())
    throw KmsError(where + ":" + std::to_string(f.errors[0].line) + ": " + f.errors[0].message);
  if (f.documents.size() != 1 || !f.documents[0].root || !f.documents[0].root->is_map())
    throw KmsError(where + ": expected one JSON object");
  return f.documents[0].root;
}

}  // namespace

const KeyVersion* KmsState::find(int version) const {
  for (const KeyVersion& v : versions)
    if (v.version == version) return &v;
  return nullptr;
}

const KeyVersion* KmsState::find_key_id(const std::string& key_id) const {
  for (const KeyVersion& v : versions)
    if (v.key_id == key_id) return &v;
  return nullptr;
}

int KmsState::next_version() const {
  int n = 0;
  for (const KeyVersion& v : versions) n = std::max(n, v.version);
  return n + 1;
}

std::string state_path(const std::string& dir) { return dir + "/state.json"; }
std::string usage_path(const std::string& dir) { return dir + "/usage.json"; }

KmsState parse_state(const std::string& text, const std::string& where) {
  SourceFile f;
  f.path = where;
  f.content = text;
  const Node* root = parse_root(f, where);
  if (need_str(root, "kind", where) != "kguard-kms-state") throw KmsError(where + ": kind is not kguard-kms-state");
  if (need_int(root, "format", where, 1, 1) != 1) throw KmsError(where + ": unknown format");
  KmsState s;
  s.backend = need_str(root, "backend", where);
  s.current = static_cast<int>(need_int(root, "current", where, 1, 1'000'000));
  const Node* vs = get(root, "versions");
  if (!vs || !vs->is_seq()) throw KmsError(at(where, vs ? vs : root) + ": versions is missing or not a list");
  for (const Node* v : items(vs)) {
    if (!v || !v->is_map()) throw KmsError(at(where, v) + ": a version is not an object");
    KeyVersion k;
    k.version = static_cast<int>(need_int(v, "version", where, 1, 1'000'000));
    k.key_id = need_str(v, "key_id", where);
    if (k.key_id.empty() || k.key_id.size() > 1024) throw KmsError(at(where, v) + ": key_id must be 1 to 1024 bytes");
    std::string c = need_str(v, "cipher", where);
    auto cipher = parse_cipher(c);
    if (!cipher) throw KmsError(at(where, get(v, "cipher")) + ": unknown cipher \"" + c + "\"");
    k.cipher = *cipher;
    k.created = need_str(v, "created", where, true);
    k.retired = need_str(v, "retired", where, true);
    if (s.find(k.version) || s.find_key_id(k.key_id))
      throw KmsError(at(where, v) + ": version " + std::to_string(k.version) + " or its key_id appears twice");
    s.versions.push_back(std::move(k));
  }
  const KeyVersion* cur = s.current_version();
  if (!cur) throw KmsError(where + ": current version " + std::to_string(s.current) + " is not listed");
  if (cur->is_retired()) throw KmsError(where + ": current version " + std::to_string(s.current) + " is retired");
  return s;
}

std::string render_state(const KmsState& s) {
  std::ostringstream out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.field("kind", "kguard-kms-state");
    w.field("format", 1);
    w.field("backend", s.backend);
    w.field("current", s.current);
    w.key("versions").begin_array();
    for (const KeyVersion& v : s.versions) {
      w.begin_object();
      w.field("version", v.version);
      w.field("key_id", v.key_id);
      w.field("cipher", cipher_name(v.cipher));
      w.field("created", v.created);
      if (v.is_retired()) w.field("retired", v.retired);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  out << '\n';
  return out.str();
}

std::optional<KmsState> read_state(const std::string& dir) {
  std::string path = state_path(dir), text;
  if (!std::filesystem::exists(path)) return std::nullopt;
  if (!read_file(path, text)) throw KmsError(path + ": cannot be read: " + std::strerror(errno));
  return parse_state(text, path);
}

void write_state(const std::string& dir, const KmsState& s) { write_file_atomic(state_path(dir), render_state(s)); }

UsageRecord read_usage(const std::string& dir) {
  UsageRecord u;
  std::string path = usage_path(dir), text;
  if (!read_file(path, text)) return u;
  try {
    SourceFile f;
    f.path = path;
    f.content = text;
    const Node* root = parse_root(f, path);
    u.updated = need_str(root, "updated", path, true);
    for (const MapEntry& e : entries(get(root, "keys"))) {
      if (!e.value || !e.value->is_map()) continue;
      KeyUsage k;
      k.last_encrypt = need_str(e.value, "last_encrypt", path, true);
      k.last_decrypt = need_str(e.value, "last_decrypt", path, true);
      k.encrypts = static_cast<std::uint64_t>(need_int(e.value, "encrypts", path, 0, 1LL << 62));
      k.decrypts = static_cast<std::uint64_t>(need_int(e.value, "decrypts", path, 0, 1LL << 62));
      u.by_key_id[std::string(str(e.key))] = k;
    }
  } catch (const KmsError&) {
    return UsageRecord{};
  }
  return u;
}

void write_usage(const std::string& dir, const UsageRecord& u) {
  std::ostringstream out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.field("updated", u.updated);
    w.key("keys").begin_object();
    for (const auto& [id, k] : u.by_key_id) {
      w.key(id).begin_object();
      if (!k.last_encrypt.empty()) w.field("last_encrypt", k.last_encrypt);
      if (!k.last_decrypt.empty()) w.field("last_decrypt", k.last_decrypt);
      w.field("encrypts", k.encrypts);
      w.field("decrypts", k.decrypts);
      w.end_object();
    }
    w.end_object();
    w.end_object();
  }
  out << '\n';
  write_file_atomic(usage_path(dir), out.str());
}

void write_file_atomic(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw KmsError(tmp + ": cannot be written: " + std::strerror(errno));
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw KmsError(tmp + ": write failed: " + std::strerror(e));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw KmsError(tmp + ": cannot be flushed: " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw KmsError(path + ": cannot be replaced: " + std::strerror(e));
  }
}

StateLock::StateLock(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir)) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      throw KmsError(dir + ": cannot create the state directory: " + std::strerror(errno));
  }
  std::string path = dir + "/lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw KmsError(path + ": cannot be opened: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX) != 0) {
    ::close(fd_);
    throw KmsError(path + ": cannot be locked: " + std::strerror(errno));
  }
}

StateLock::~StateLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

std::string make_key_id(const std::string& name, int version) {
  std::string r = random_bytes(6), hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : r) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return "kguard-kms:" + name + ":v" + std::to_string(version) + ":" + hex;
}

}  // namespace kg::kms
