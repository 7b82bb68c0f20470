// The operator's side of the KEK lifecycle (kguard kms init | rotate | status | retire). Each holds the
// state directory's lock, changes the backend first and state.json second (a crash in between leaves
// an unused key in the backend, never a state naming a key that does not exist), and appends to the
// audit log when one is given.
//
// "Still needed" — the rule retire enforces (docs/kms.md "Retiring a version"): the plugin cannot see
// etcd, so it judges by what the API server asks of it. kube-apiserver decrypts every stored DEK seed
// it reads (its watch cache reads every Secret at start) and caches seeds for at most 24 h. A version
// may be retired when it is not current and no Decrypt used it since a time T the operator names with
// --since (after migrating every object and restarting every API server); without --since T is now
// minus 25 h, the cache TTL plus an hour. --force skips the check and says so in the audit log.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "engines/kms/backend.hpp"
#include "engines/kms/state.hpp"

namespace kg::kms {

struct AdminOptions {
  BackendOptions backend;
  std::string state_dir;
  std::string audit_log;
  std::optional<Cipher> cipher;  // init/rotate; default AES-256-GCM
};

// Creates version 1. KmsError when state.json exists already.
KeyVersion kms_init(const AdminOptions& o);
// Creates version N+1 and makes it current; the older versions stay for Decrypt.
KeyVersion kms_rotate(const AdminOptions& o);

struct RetireOptions {
  int version = 0;
  std::string since;  // RFC 3339 or date; empty = now - 25 h
  bool force = false;
  bool destroy = false;  // also delete the key from the backend (irreversible)
};
// Marks the version retired (Decrypt refuses it from the server's next reload); KmsError saying why
// when the rule above refuses.
void kms_retire(const AdminOptions& o, const RetireOptions& r);

// Every version with its usage; `json` selects the format. Needs no backend (reads the state dir).
void kms_status(const std::string& state_dir, bool json, std::ostream& out);

// Appends one JSON line to an audit log (admin operations); nothing when path is empty.
void audit_admin(const std::string& path, std::string_view op, const KeyVersion* v, std::string_view result,
                 std::string_view detail);

}  // namespace kg::kms
