// Where the key-encryption keys live. Two backends behind one interface:
//   pkcs11:token=…;object=NAME?module-path=…&pin-source=file:…   version N is the token's AES-256
//       secret key labelled NAME-vN (CKA_ID = its key_id), generated in the token sensitive and
//       non-extractable; AES-256-GCM runs in the token (C_Encrypt with CKM_AES_GCM).
//   file:PATH   a sealed key file (mode 0600, checked): each version's key sealed with AES-256-GCM under
//       a key derived from a passphrase by scrypt; the keys, once unsealed, sit in locked memory.
// The envelope around what Encrypt returns is the service's (service.hpp); a backend seals bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engines/kms/state.hpp"

namespace kg::kms {

struct BackendOptions {
  std::string uri;              // pkcs11:… or file:PATH
  std::string passphrase_file;  // file backend
  bool admin = false;           // init/rotate/retire: a read/write token session
  unsigned sessions = 4;        // PKCS#11 sessions for concurrent requests
};

class KeyBackend {
 public:
  virtual ~KeyBackend() = default;
  virtual std::string describe() const = 0;  // the URI without secrets
  virtual std::string name() const = 0;      // the key_id's name part (object label, file name)
  virtual bool supports(Cipher c) const = 0;
  // Creates version v's key (init, rotate). KmsError when it exists already or cannot be made.
  virtual void create(const KeyVersion& v) = 0;
  // Removes version v's key for good (retire --destroy).
  virtual void destroy(const KeyVersion& v) = 0;
  // Makes exactly these (non-retired) versions usable, dropping the others; KmsError naming the first
  // version whose key is missing or wrong. Called at start and on every state change.
  virtual void load(const std::vector<KeyVersion>& versions) = 0;
  // AEAD with the version's key: ciphertext || tag. KmsError when the backend fails.
  virtual std::string seal(const KeyVersion& v, std::string_view nonce, std::string_view aad, std::string_view pt) = 0;
  // False when the tag does not verify; KmsError when the backend fails.
  virtual bool open(const KeyVersion& v, std::string_view nonce, std::string_view aad, std::string_view sealed,
                    std::string& plaintext) = 0;
  // Looks the version's key up again in the backend (a key deleted from the token shows here).
  virtual void probe(const KeyVersion& v) = 0;
};

std::unique_ptr<KeyBackend> open_backend(const BackendOptions& o);
std::unique_ptr<KeyBackend> open_pkcs11_backend(const BackendOptions& o);
std::unique_ptr<KeyBackend> open_file_backend(const BackendOptions& o);
// A file backend whose keys are given (tests, the fuzz target): no file, no passphrase.
std::unique_ptr<KeyBackend> memory_backend();

// The redacted form of a backend URI (no PIN), for state.json, logs and status.
std::string redact_backend_uri(const std::string& uri);

}  // namespace kg::kms
