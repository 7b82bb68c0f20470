// The plugin's state directory (--state DIR), shared by `kguard kms serve` and the admin commands:
//   state.json  the KEK versions (number, key_id, cipher, created, retired) and which one is current;
//               written by init/rotate/retire (atomically: temp file + rename, mode 0600), re-read by a
//               running server when it changes (polled every second, or at once on SIGHUP)
//   usage.json  written by the server: per key_id the last Encrypt and Decrypt and their counts, what
//               `kguard kms status` and `retire` judge "still needed" by
//   lock        flock'ed by the admin commands so two rotations cannot interleave
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engines/kms/aead.hpp"

namespace kg::kms {

class KmsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KeyVersion {
  int version = 0;
  std::string key_id;
  Cipher cipher = Cipher::Aes256Gcm;
  std::string created;  // RFC 3339
  std::string retired;  // RFC 3339 when retired, else empty
  bool is_retired() const { return !retired.empty(); }
};

struct KmsState {
  std::string backend;  // the backend URI without secrets, as init recorded it
  int current = 0;
  std::vector<KeyVersion> versions;

  const KeyVersion* find(int version) const;
  const KeyVersion* find_key_id(const std::string& key_id) const;
  const KeyVersion* current_version() const { return find(current); }
  int next_version() const;
};

struct KeyUsage {
  std::string last_encrypt, last_decrypt;  // RFC 3339, empty = never
  std::uint64_t encrypts = 0, decrypts = 0;
};

struct UsageRecord {
  std::string updated;
  std::map<std::string, KeyUsage> by_key_id;
};

std::string state_path(const std::string& dir);
std::string usage_path(const std::string& dir);

// nullopt when state.json does not exist; KmsError naming file:line when it is malformed.
std::optional<KmsState> read_state(const std::string& dir);
void write_state(const std::string& dir, const KmsState& s);
UsageRecord read_usage(const std::string& dir);  // empty when absent or unreadable
void write_usage(const std::string& dir, const UsageRecord& u);

// Parses a state.json text (the fuzz target's entry); `where` names it in errors.
KmsState parse_state(const std::string& text, const std::string& where);
std::string render_state(const KmsState& s);

// Writes `text` to `path` through a temp file and rename, mode 0600.
void write_file_atomic(const std::string& path, const std::string& text);

// Holds the state directory's lock (flock on DIR/lock) while alive; creates DIR (0700) when missing.
class StateLock {
 public:
  explicit StateLock(const std::string& dir);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  int fd_ = -1;
};

// "kguard-kms:<name>:v<N>:<12 hex digits>": the name, the version and random bits, so a token or
// file initialised again never repeats a key_id the API server has seen.
std::string make_key_id(const std::string& name, int version);

}  // namespace kg::kms
