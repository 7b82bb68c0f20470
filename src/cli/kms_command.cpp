// kguard kms: the KMS v2 plugin (docs/kms.md): serve, init, rotate, status, retire.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "engines/kms/admin.hpp"
#include "engines/kms/server.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard kms COMMAND [options]

A Kubernetes KMS v2 plugin: envelope encryption of Secrets (and any resource
an EncryptionConfiguration names) with key-encryption keys (KEKs) kept in a
PKCS#11 HSM or, for labs, a passphrase-sealed key file. docs/kms.md.

Commands:
  serve    the KMS v2 gRPC service on a UNIX socket
  init     create KEK version 1
  rotate   create KEK version N+1 and make it current (a running server picks
           it up within a second: state.json is polled; SIGHUP reloads at once)
  status   the versions, which is current, last use, whether each is needed
  retire VERSION   stop accepting a version (refused while it may be in use)

Options:
  --backend URI          pkcs11:token=T;object=NAME?module-path=M&pin-source=file:P
                         (pin-value=PIN for tests) or file:PATH (sealed key file)
  --passphrase-file F    the file backend's passphrase (mode 0600)
  --state DIR            state directory (default /var/lib/kguard/kms)
  --audit-log FILE       append key operations as JSON lines (no key material,
                         no plaintext)
  --socket PATH          serve: unix:///PATH or PATH (created mode 0600)
  --metrics-listen A:P   serve: /metrics and /healthz over HTTP on 127.0.0.1:PORT
  --threads N            serve: request threads and PKCS#11 sessions (default 4)
  --cipher C             init/rotate: aes-256-gcm (default) or sm4-gcm (file
                         backend only; see docs/kms.md for its interop limits)
  -o json                status: JSON
  --since TIME           retire: no Decrypt with the version since TIME (RFC
                         3339 UTC); default: now minus 25 hours
  --force                retire: skip the in-use check (audited)
  --destroy              retire: also delete the key from the HSM / key file
)";

}  // namespace

int kms_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  kms::ServeOptions serve;
  kms::AdminOptions admin;
  kms::RetireOptions retire;
  std::string state_dir = "/var/lib/kguard/kms", output;
  std::vector<std::string> positional;
  for (std::size_t i = 1; i < args.size(); ++i) {
    ArgCursor a(args, i);
    std::string v;
    auto need = [&](const char* flag) {
      if (!a.value(v)) {
        std::cerr << "kguard kms " << cmd << ": " << flag << " needs a value\n";
        return false;
      }
      return true;
    };
    if (a.is("--help", "-h")) {
      std::fputs(kHelp, stdout);
      return 0;
    } else if (a.is("--backend")) {
      if (!need("--backend")) return 2;
      serve.backend.uri = admin.backend.uri = v;
    } else if (a.is("--passphrase-file")) {
      if (!need("--passphrase-file")) return 2;
      serve.backend.passphrase_file = admin.backend.passphrase_file = v;
    } else if (a.is("--state")) {
      if (!need("--state")) return 2;
      state_dir = v;
    } else if (a.is("--audit-log")) {
      if (!need("--audit-log")) return 2;
      serve.audit_log = admin.audit_log = v;
    } else if (a.is("--socket")) {
      if (!need("--socket")) return 2;
      serve.socket = v;
    } else if (a.is("--metrics-listen")) {
      if (!need("--metrics-listen")) return 2;
      serve.metrics_listen = v;
    } else if (a.is("--threads")) {
      long long n = 0;
      if (!need("--threads")) return 2;
      if (!parse_int_in(v, 1, 64, n)) {
        std::cerr << "kguard kms: --threads must be 1 to 64\n";
        return 2;
      }
      serve.threads = static_cast<unsigned>(n);
    } else if (a.is("--cipher")) {
      if (!need("--cipher")) return 2;
      admin.cipher = kms::parse_cipher(v);
      if (!admin.cipher) {
        std::cerr << "kguard kms: --cipher must be aes-256-gcm or sm4-gcm\n";
        return 2;
      }
    } else if (a.is("--output", "-o")) {
      if (!need("--output")) return 2;
      output = v;
    } else if (a.is("--since")) {
      if (!need("--since")) return 2;
      retire.since = v;
    } else if (a.is("--force")) {
      retire.force = true;
    } else if (a.is("--destroy")) {
      retire.destroy = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::cerr << "kguard kms " << cmd << ": unknown option " << args[i] << " (kguard kms --help)\n";
      return 2;
    } else {
      positional.push_back(args[i]);
    }
  }
  serve.state_dir = admin.state_dir = state_dir;
  bool needs_backend = cmd == "serve" || cmd == "init" || cmd == "rotate";
  if (needs_backend && admin.backend.uri.empty()) {
    std::cerr << "kguard kms " << cmd << ": --backend is required\n";
    return 2;
  }
  try {
    if (cmd == "serve") {
      if (serve.socket.empty()) {
        std::cerr << "kguard kms serve: --socket is required\n";
        return 2;
      }
      return kms::serve(serve);
    }
    if (cmd == "init" || cmd == "rotate") {
      kms::KeyVersion v = cmd == "init" ? kms::kms_init(admin) : kms::kms_rotate(admin);
      std::cout << (cmd == "init" ? "created" : "rotated to") << " KEK version " << v.version << " ("
                << kms::cipher_name(v.cipher) << ")\nkey_id " << v.key_id << "\n";
      return 0;
    }
    if (cmd == "status") {
      if (!output.empty() && output != "json" && output != "text") {
        std::cerr << "kguard kms status: -o must be text or json\n";
        return 2;
      }
      kms::kms_status(state_dir, output == "json", std::cout);
      return 0;
    }
    if (cmd == "retire") {
      long long n = 0;
      if (positional.size() != 1 || !parse_int_in(positional[0], 1, 1'000'000, n)) {
        std::cerr << "kguard kms retire: give one VERSION number\n";
        return 2;
      }
      retire.version = static_cast<int>(n);
      if (retire.destroy && admin.backend.uri.empty()) {
        std::cerr << "kguard kms retire --destroy: --backend is required\n";
        return 2;
      }
      kms::kms_retire(admin, retire);
      std::cout << "retired KEK version " << n << (retire.destroy ? " (key destroyed)" : "") << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "kguard kms " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "kguard kms: unknown command " << cmd << " (serve, init, rotate, status, retire)\n";
  return 2;
}

}  // namespace kg::cli
