// The sealed key file backend (backend.hpp): scrypt(passphrase) → AES-256-GCM wrapping key; each
// version's key sealed with the version, key_id and cipher as additional data, so an entry moved to
// another version or key_id does not open.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include <openssl/evp.h>

#include "core/base64.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "engines/kms/backend.hpp"

namespace kg::kms {
namespace {

constexpr std::uint64_t kScryptN = 1u << 15, kScryptR = 8, kScryptP = 1;

struct Entry {
  int version = 0;
  std::string key_id;
  Cipher cipher = Cipher::Aes256Gcm;
  std::string nonce, sealed;
};

struct SealedFile {
  std::string salt;
  std::uint64_t n = kScryptN, r = kScryptR, p = kScryptP;
  std::vector<Entry> entries;
};

std::string mode_text(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0%03o", static_cast<unsigned>(m & 0777));
  return buf;
}

// Owner-only (0600 or 0400): the sealed keys and the passphrase are worth a guess at the passphrase.
void check_private_file(const std::string& path, const char* what) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw KmsError(path + ": cannot read the " + what + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw KmsError(path + ": the " + std::string(what) + " is not a regular file");
  if (st.st_mode & 077)
    throw KmsError(path + ": the " + std::string(what) + " has mode " + mode_text(st.st_mode) +
                   "; it must be readable by its owner only (chmod 600)");
}

std::string aad_of(const Entry& e) {
  return "kguard-kms-sealed/v1\n" + std::to_string(e.version) + "\n" + e.key_id + "\n" + cipher_name(e.cipher);
}

long long as_int(const Node* n) {
  std::string_view s = str(n);
  if (s.empty() || s.size() > 18) return -1;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

SealedFile parse_sealed(const std::string& text, const std::string& where) {
  SourceFile f;
  f.path = where;
  f.content = text;
  load_documents(f);
  if (!f.errors.empty()) throw KmsError(where + ":" + std::to_string(f.errors[0].line) + ": " + f.errors[0].message);
  if (f.documents.size() != 1 || !f.documents[0].root || !f.documents[0].root->is_map())
    throw KmsError(where + ": expected one JSON object");
  const Node* root = f.documents[0].root;
  auto bad = [&](const Node* n, const std::string& what) {
    return KmsError(where + ":" + std::to_string(n ? n->line : root->line) + ": " + what);
  };
  if (str(get(root, "kind")) != "kguard-kms-sealed-keys") throw bad(get(root, "kind"), "kind is not kguard-kms-sealed-keys");
  const Node* kdf = get(root, "kdf");
  if (!kdf || str(get(kdf, "name")) != "scrypt") throw bad(kdf, "kdf.name must be scrypt");
  SealedFile s;
  auto salt = base64_decode(str(get(kdf, "salt")));
  if (!salt || salt->size() < 16) throw bad(get(kdf, "salt"), "kdf.salt must be base64 of at least 16 bytes");
  s.salt = *salt;
  long long n = as_int(get(kdf, "n")), r = as_int(get(kdf, "r")), p = as_int(get(kdf, "p"));
  // Bounded so a hostile file cannot ask for gigabytes: N ≤ 2^20, r ≤ 16, p ≤ 4.
  if (n < 1024 || n > (1 << 20) || (n & (n - 1)) != 0 || r < 1 || r > 16 || p < 1 || p > 4)
    throw bad(kdf, "kdf parameters out of range (n a power of two in [1024, 2^20], r in [1, 16], p in [1, 4])");
  s.n = static_cast<std::uint64_t>(n);
  s.r = static_cast<std::uint64_t>(r);
  s.p = static_cast<std::uint64_t>(p);
  const Node* keys = get(root, "keys");
  if (!keys || !keys->is_seq()) throw bad(keys, "keys is missing or not a list");
  for (const Node* k : items(keys)) {
    Entry e;
    long long v = as_int(get(k, "version"));
    if (v < 1 || v > 1'000'000) throw bad(k, "version must be a whole number in [1, 1000000]");
    e.version = static_cast<int>(v);
    e.key_id = std::string(str(get(k, "key_id")));
    if (e.key_id.empty()) throw bad(k, "key_id is missing");
    auto c = parse_cipher(str(get(k, "cipher")));
    if (!c) throw bad(get(k, "cipher"), "unknown cipher");
    e.cipher = *c;
    auto nonce = base64_decode(str(get(k, "nonce")));
    auto sealed = base64_decode(str(get(k, "sealed")));
    if (!nonce || nonce->size() != kNonceSize) throw bad(get(k, "nonce"), "nonce must be base64 of 12 bytes");
    if (!sealed || sealed->size() != cipher_key_size(e.cipher) + kTagSize)
      throw bad(get(k, "sealed"), "sealed has the wrong size for its cipher");
    e.nonce = *nonce;
    e.sealed = *sealed;
    s.entries.push_back(std::move(e));
  }
  return s;
}

std::string render_sealed(const SealedFile& s) {
  std::ostringstream out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.field("kind", "kguard-kms-sealed-keys");
    w.field("format", 1);
    w.key("kdf").begin_object();
    w.field("name", "scrypt");
    w.field("n", s.n).field("r", s.r).field("p", s.p);
    w.field("salt", base64_encode(s.salt));
    w.end_object();
    w.key("keys").begin_array();
    for (const Entry& e : s.entries) {
      w.begin_object();
      w.field("version", e.version);
      w.field("key_id", e.key_id);
      w.field("cipher", cipher_name(e.cipher));
      w.field("nonce", base64_encode(e.nonce));
      w.field("sealed", base64_encode(e.sealed));
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  out << '\n';
  return out.str();
}

class FileBackend : public KeyBackend {
 public:
  // path empty: the memory backend (keys made by create, held only here).
  FileBackend(std::string path, SecretBytes passphrase) : path_(std::move(path)), passphrase_(std::move(passphrase)) {}

  std::string describe() const override { return path_.empty() ? "memory:" : "file:" + path_; }
  std::string name() const override {
    return path_.empty() ? "memory" : std::filesystem::path(path_).filename().string();
  }
  bool supports(Cipher) const override { return true; }

  void create(const KeyVersion& v) override {
    SecretBytes key(cipher_key_size(v.cipher));
    random_fill(key.data(), key.size());
    if (path_.empty()) {
      if (memory_.count(v.version)) throw KmsError("memory: version " + std::to_string(v.version) + " exists");
      memory_.emplace(v.version, std::move(key));
      return;
    }
    SealedFile s = read_or_new();
    for (const Entry& e : s.entries)
      if (e.version == v.version) throw KmsError(path_ + ": version " + std::to_string(v.version) + " is already sealed there");
    const SecretBytes& wrap = wrapping_key(s);
    Entry e;
    e.version = v.version;
    e.key_id = v.key_id;
    e.cipher = v.cipher;
    e.nonce = random_bytes(kNonceSize);
    e.sealed = aead_seal(Cipher::Aes256Gcm, wrap, e.nonce, aad_of(e), key.view());
    s.entries.push_back(std::move(e));
    write_file_atomic(path_, render_sealed(s));
  }

  void destroy(const KeyVersion& v) override {
    if (path_.empty()) {
      memory_.erase(v.version);
      return;
    }
    SealedFile s = read_existing();
    std::erase_if(s.entries, [&](const Entry& e) { return e.version == v.version; });
    write_file_atomic(path_, render_sealed(s));
  }

  void load(const std::vector<KeyVersion>& versions) override {
    std::map<int, Loaded> next;
    if (path_.empty()) {
      for (const KeyVersion& v : versions) {
        auto it = memory_.find(v.version);
        if (it == memory_.end()) throw KmsError("memory: no key for version " + std::to_string(v.version));
        next.emplace(v.version, Loaded{v.key_id, v.cipher, SecretBytes(it->second.view())});
      }
      keys_ = std::move(next);
      return;
    }
    SealedFile s = read_existing();
    const SecretBytes& wrap = wrapping_key(s);
    for (const KeyVersion& v : versions) {
      const Entry* found = nullptr;
      for (const Entry& e : s.entries)
        if (e.version == v.version) found = &e;
      if (!found) throw KmsError(path_ + ": version " + std::to_string(v.version) + " (" + v.key_id + ") is not sealed there");
      if (found->key_id != v.key_id || found->cipher != v.cipher)
        throw KmsError(path_ + ": version " + std::to_string(v.version) + " has key_id " + found->key_id +
                       " there but " + v.key_id + " in state.json (another file or state?)");
      auto key = aead_open(Cipher::Aes256Gcm, wrap, found->nonce, aad_of(*found), found->sealed);
      if (!key) throw KmsError(path_ + ": version " + std::to_string(v.version) + " does not unseal: wrong passphrase, or the file was altered");
      next.emplace(v.version, Loaded{v.key_id, v.cipher, std::move(*key)});
    }
    keys_ = std::move(next);
  }

  std::string seal(const KeyVersion& v, std::string_view nonce, std::string_view aad, std::string_view pt) override {
    return aead_seal(v.cipher, key_of(v), nonce, aad, pt);
  }

  bool open(const KeyVersion& v, std::string_view nonce, std::string_view aad, std::string_view sealed,
            std::string& plaintext) override {
    auto pt = aead_open(v.cipher, key_of(v), nonce, aad, sealed);
    if (!pt) return false;
    plaintext.assign(pt->view());
    return true;
  }

  void probe(const KeyVersion& v) override {
    key_of(v);
    if (!path_.empty()) check_private_file(path_, "sealed key file");
  }

 private:
  struct Loaded {
    std::string key_id;
    Cipher cipher;
    SecretBytes key;
  };

  const SecretBytes& key_of(const KeyVersion& v) const {
    auto it = keys_.find(v.version);
    if (it == keys_.end() || it->second.key_id != v.key_id || it->second.cipher != v.cipher)
      throw KmsError(describe() + ": version " + std::to_string(v.version) + " is not loaded");
    return it->second.key;
  }

  SealedFile read_existing() {
    check_private_file(path_, "sealed key file");
    std::string text;
    if (!read_file(path_, text)) throw KmsError(path_ + ": cannot be read: " + std::strerror(errno));
    return parse_sealed(text, path_);
  }

  SealedFile read_or_new() {
    if (std::filesystem::exists(path_)) return read_existing();
    SealedFile s;
    s.salt = random_bytes(16);
    return s;
  }

  // scrypt is slow on purpose (~0.1 s, 32 MiB): the key is kept for the salt it was made for.
  const SecretBytes& wrapping_key(const SealedFile& s) {
    if (!wrap_.empty() && wrap_salt_ == s.salt) return wrap_;
    SecretBytes k(32);
    if (EVP_PBE_scrypt(reinterpret_cast<const char*>(passphrase_.data()), passphrase_.size(),
                       reinterpret_cast<const unsigned char*>(s.salt.data()), s.salt.size(), s.n, s.r, s.p,
                       std::uint64_t{1} << 30, k.data(), k.size()) != 1)
      throw KmsError(path_ + ": scrypt failed");
    wrap_ = std::move(k);
    wrap_salt_ = s.salt;
    return wrap_;
  }

  std::string path_;
  SecretBytes passphrase_;
  SecretBytes wrap_;
  std::string wrap_salt_;
  std::map<int, Loaded> keys_;
  std::map<int, SecretBytes> memory_;  // the memory backend's keys
};

}  // namespace

std::unique_ptr<KeyBackend> open_file_backend(const BackendOptions& o) {
  std::string path = o.uri.substr(5);
  if (path.empty()) throw KmsError("file backend: name the sealed key file (file:/etc/kguard/kms.keys)");
  if (o.passphrase_file.empty())
    throw KmsError("file backend: --passphrase-file is required (the passphrase the keys are sealed with)");
  check_private_file(o.passphrase_file, "passphrase file");
  std::string text;
  if (!read_file(o.passphrase_file, text)) throw KmsError(o.passphrase_file + ": cannot be read");
  std::size_t end = text.find_first_of("\r\n");
  if (end != std::string::npos) text.resize(end);
  SecretBytes pass(text);
  wipe(text.data(), text.size());
  if (pass.size() < 8) throw KmsError(o.passphrase_file + ": the passphrase must be at least 8 characters");
  return std::make_unique<FileBackend>(path, std::move(pass));
}

std::unique_ptr<KeyBackend> memory_backend() { return std::make_unique<FileBackend>("", SecretBytes()); }

}  // namespace kg::kms
