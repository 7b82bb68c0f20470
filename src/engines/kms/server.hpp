// `kguard kms serve`: the KMS v2 gRPC service on a UNIX socket (mode 0600), a plain-HTTP /metrics and
// /healthz listener on loopback, state reloads (state.json polled every second; SIGHUP reloads at
// once), usage.json flushed every second, SIGTERM/SIGINT stop it (in-flight calls finish, 5 s at most).
#pragma once

#include <string>

#include "engines/kms/backend.hpp"

namespace kg::kms {

struct ServeOptions {
  std::string socket;          // PATH or unix:///PATH
  BackendOptions backend;
  std::string state_dir;
  std::string audit_log;
  std::string metrics_listen;  // 127.0.0.1:PORT; empty = none
  unsigned threads = 4;        // gRPC request threads (and PKCS#11 sessions)
};

// Serves until SIGTERM/SIGINT: 0; 2 when it cannot start (message on stderr as a JSON log line).
int serve(const ServeOptions& o);

}  // namespace kg::kms
