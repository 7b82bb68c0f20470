#include <iostream>
#include <limits>
#include <memory>

#include "cli/admit_images.hpp"
#include "cli/admit_signatures.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/image_flags.hpp"
#include "cli/scan_images.hpp"
#include "engines/admit/admission_handler.hpp"
#include "core/log.hpp"
#include "server/server.hpp"
#include "sources/kube/kubeconfig.hpp"
#include "sources/kube/namespace_cache.hpp"

namespace kg::cli {
namespace {

struct AdmitFlags {
  std::string config_file;
  // Namespace labels from a watch of Namespace objects through the API server
  // (kubeconfig or in-cluster) instead of the config file.
  bool namespaces_from_api = false;
  std::string kubeconfig;  // empty: $KUBECONFIG, ~/.kube/config, else in-cluster
  std::string context;
  int resync_seconds = 300;
  // The vulnerability gate's registry access, database and caches.
  AdmitImageSettings images;
  int signature_ttl_ms = 300'000;  // the signature gate's verified digests
  int unsigned_ttl_ms = 10'000;    // and its unverified ones
};

constexpr const char* kAdmitHelp = R"(Usage: kguard admit --listen ADDR:PORT --tls-cert FILE --tls-key FILE [options]

Runs the validating admission webhook: AdmissionReview v1 over HTTPS at
/validate, with /healthz, /readyz and /metrics (Prometheus). Policies come
from namespace labels (pod-security.kubernetes.io/enforce|audit|warn with
Pod Security Admission's semantics, kguard.io/enforce|audit|warn naming a
profile from the config); see docs/admission.md.

Options:
      --listen ADDR:PORT       address to serve on (default 0.0.0.0:8443; port 0 = any)
      --tls-cert FILE          serving certificate chain (PEM)
      --tls-key FILE           its private key (PEM)
      --client-ca FILE         require a client certificate issued by these CAs (PEM
                               bundle): the API server's admission kubeconfig identity
      --config FILE            kguard config with an `admission:` section
      --audit-log FILE         decisions as JSON lines (default - = stdout; "" = none)
      --workers N              event-loop threads (default 2)
      --max-connections N      open connections at most (default 10000); beyond:
                               503 with Retry-After, or closed at accept
      --max-body-bytes-in-flight N
                               request bodies being received at once, in bytes
                               (default 268435456); beyond: 503
      --header-timeout DUR     TLS handshake and request head (default 10s)
      --body-timeout DUR       request body after its head (default 30s)
      --idle-timeout DUR       idle keep-alive connection (default 120s)
      --drain-delay DUR        after SIGTERM keep serving, /readyz 503 (default 0s)
      --drain-timeout DUR      then finish in-flight requests within (default 30s)
      --watch-interval DUR     check cert, key and config for changes (default 1s)
      --namespace-labels config|api
                               namespace labels from the config's admission.namespaces
                               (default) or from a watch of Namespaces through the
                               API server (needs get, list, watch on namespaces)
      --kubeconfig FILE, --context NAME
                               for --namespace-labels api; default kubectl's order,
                               else the in-cluster service account
      --resync DUR             relist namespaces this often (default 5m)

Vulnerability gate (the config's admission.vulnerabilities; docs/admission.md):
      --vuln-db PATH           the database images are matched against (default
                               ~/.cache/kguard/vuln.db; kguard db build)
      --scan-cache-entries N   scan results kept by image digest (default 512)
      --tag-ttl DUR            how long a tag's digest is trusted before the
                               registry is asked again (default 30s; 0s = always)
      --scan-workers N         images scanned at once (default 1)
      --image-cache DIR        the inventory of each digest read, kept on disk as
                               scan --images keeps it (default ~/.cache/kguard/images),
                               so a restart does not read those images again
      --no-image-cache         memory only
      --allow-insecure-registry, --registry-ca FILE, --docker-config FILE,
      --platform OS/ARCH, --max-image-bytes SIZE, --max-files N
                               how images are read, as for kguard image

Signature gate (the config's admission.signatures; docs/signing.md "Admission"):
      --signature-ttl DUR      how long a verified digest is kept (default 5m;
                               0s = verify every time)
      --unsigned-ttl DUR       how long an unverified digest is kept (default 10s)
                               registry access and --tag-ttl as for the
                               vulnerability gate

Durations are Go style: 500ms, 10s, 2m. SIGHUP reloads the certificate, key,
config and reopens the audit log; changed files are reloaded on their own.
SIGTERM drains: stop accepting, answer what is in flight, exit 0.
)";

// Where namespace labels come from, the handler and the server core, wired.
int run_admit(const server::ServerOptions& server_options, admit::AdmissionOptions admission,
              const AdmitFlags& flags) {
  // Before the watch thread starts, so that it never takes SIGTERM.
  if (!server::Server::block_signals()) return 2;
  std::shared_ptr<kube::NamespaceCache> cache;
  if (flags.namespaces_from_api) {
    std::vector<InputError> errors;
    kube::KubeconfigOptions ko;
    ko.kubeconfig = flags.kubeconfig;
    ko.context = flags.context;
    auto client_config = kube::resolve_client_config(ko, errors);
    std::string error;
    std::shared_ptr<const kube::Session> session;
    if (client_config) session = kube::Session::connect(*client_config, {}, error);
    if (!session) {
      for (const InputError& e : errors) error += (error.empty() ? "" : "; ") + e.file + ": " + e.message;
      log_line("error", "cannot reach the API server for namespace labels", {{"error", error}});
      return 2;
    }
    cache = std::make_shared<kube::NamespaceCache>(session, std::chrono::seconds(flags.resync_seconds));
    admission.api_namespaces = cache;
  }
  // Built once: its caches outlive config reloads. The database is opened per
  // scan, so a missing one only matters when a policy asks for a scan.
  admission.images = std::make_shared<RegistryImageSource>(flags.images);
  AdmitSignatureSettings sig;
  sig.read = flags.images.read;
  sig.tag_ttl_ms = flags.images.tag_ttl_ms;
  sig.verdict_ttl_ms = flags.signature_ttl_ms;
  sig.unverified_ttl_ms = flags.unsigned_ttl_ms;
  admission.signatures = std::make_shared<RegistrySignatureSource>(std::move(sig));
  admit::AdmissionHandler handler(std::move(admission));
  if (!handler.start()) return 2;
  server::ServerOptions so = server_options;
  so.describe = {{"config", flags.config_file.empty() ? "(none)" : flags.config_file},
                 {"namespaces", handler.namespaces_description()}};
  server::Metrics metrics;
  server::Server server(std::move(so), handler, metrics);
  const int code = server.run();
  if (cache) cache->stop();  // ends the watch and joins its thread
  return code;
}

int usage_error(const std::string& msg) {
  std::cerr << "kguard admit: " << msg << "\nRun `kguard admit --help` for usage.\n";
  return 2;
}

}  // namespace

int admit_command(const std::vector<std::string>& args) {
  server::ServerOptions o;
  admit::AdmissionOptions admission;
  AdmitFlags flags;
  flags.images.disk_cache_dir = default_image_cache_dir();
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name = a, v;
    bool inline_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      v = a.substr(eq + 1);
      inline_value = true;
    }
    if (name == "-h" || name == "--help") {
      std::cout << kAdmitHelp;
      return 0;
    }
    auto value = [&]() -> bool {
      if (inline_value) return true;
      if (i + 1 >= args.size()) return false;
      v = args[++i];
      return true;
    };
    auto duration = [&](int& out) -> bool {
      if (!value()) return false;
      const double ms = server::parse_duration_ms(v);
      if (ms < 0 || ms > 24.0 * 3600 * 1000) return false;
      out = static_cast<int>(ms);
      return true;
    };
    auto count = [&](auto& out) -> bool {
      using T = std::remove_reference_t<decltype(out)>;
      // The target type's range, so a huge value cannot wrap into a valid one.
      constexpr long long kHi = static_cast<unsigned long long>(std::numeric_limits<T>::max()) >
                                       static_cast<unsigned long long>(std::numeric_limits<long long>::max())
                                   ? std::numeric_limits<long long>::max()
                                   : static_cast<long long>(std::numeric_limits<T>::max());
      long long n = 0;
      if (!value() || !parse_int_in(v, 1, kHi, n)) return false;
      out = static_cast<T>(n);
      return true;
    };
    if (name == "--listen") {
      if (!value()) return usage_error("--listen needs ADDR:PORT");
      o.listen = v;
    } else if (name == "--tls-cert") {
      if (!value()) return usage_error("--tls-cert needs a file");
      o.cert_file = v;
    } else if (name == "--tls-key") {
      if (!value()) return usage_error("--tls-key needs a file");
      o.key_file = v;
    } else if (name == "--client-ca") {
      if (!value()) return usage_error("--client-ca needs a PEM bundle");
      o.client_ca_file = v;
    } else if (name == "--config") {
      if (!value()) return usage_error("--config needs a file");
      admission.config_file = flags.config_file = v;
    } else if (name == "--audit-log") {
      if (!value()) return usage_error("--audit-log needs a file, - or \"\"");
      admission.audit_log = v;
    } else if (name == "--workers") {
      if (!count(o.workers) || o.workers > 64) return usage_error("--workers needs a number from 1 to 64");
    } else if (name == "--max-connections") {
      if (!count(o.limits.max_connections)) return usage_error("--max-connections needs a positive number");
    } else if (name == "--max-body-bytes-in-flight") {
      if (!count(o.limits.max_body_bytes_in_flight))
        return usage_error("--max-body-bytes-in-flight needs a positive number of bytes");
    } else if (name == "--header-timeout") {
      if (!duration(o.limits.header_timeout_ms)) return usage_error("--header-timeout needs a duration (10s)");
    } else if (name == "--body-timeout") {
      if (!duration(o.limits.body_timeout_ms)) return usage_error("--body-timeout needs a duration (30s)");
    } else if (name == "--idle-timeout") {
      if (!duration(o.limits.idle_timeout_ms)) return usage_error("--idle-timeout needs a duration (120s)");
    } else if (name == "--drain-delay") {
      if (!duration(o.drain_delay_ms)) return usage_error("--drain-delay needs a duration (5s)");
    } else if (name == "--drain-timeout") {
      if (!duration(o.drain_timeout_ms)) return usage_error("--drain-timeout needs a duration (30s)");
    } else if (name == "--namespace-labels") {
      if (!value() || (v != "config" && v != "api"))
        return usage_error("--namespace-labels must be config or api");
      flags.namespaces_from_api = v == "api";
    } else if (name == "--kubeconfig") {
      if (!value()) return usage_error("--kubeconfig needs a file");
      flags.kubeconfig = v;
    } else if (name == "--context") {
      if (!value()) return usage_error("--context needs a name");
      flags.context = v;
    } else if (name == "--resync") {
      int ms = 0;
      if (!duration(ms) || ms < 1000) return usage_error("--resync needs a duration of at least 1s");
      flags.resync_seconds = ms / 1000;
    } else if (name == "--vuln-db") {
      if (!value() || v.empty()) return usage_error("--vuln-db needs a file");
      flags.images.db_path = v;
    } else if (name == "--scan-cache-entries") {
      if (!count(flags.images.cache_entries) || flags.images.cache_entries > 1'000'000)
        return usage_error("--scan-cache-entries needs a number from 1 to 1000000");
    } else if (name == "--tag-ttl") {
      if (!duration(flags.images.tag_ttl_ms)) return usage_error("--tag-ttl needs a duration (30s)");
    } else if (name == "--signature-ttl") {
      if (!duration(flags.signature_ttl_ms)) return usage_error("--signature-ttl needs a duration (5m)");
    } else if (name == "--unsigned-ttl") {
      if (!duration(flags.unsigned_ttl_ms)) return usage_error("--unsigned-ttl needs a duration (10s)");
    } else if (name == "--image-cache") {
      if (!value() || v.empty()) return usage_error("--image-cache needs a directory");
      flags.images.disk_cache_dir = v;
    } else if (name == "--no-image-cache") {
      flags.images.disk_cache_dir.clear();
    } else if (name == "--scan-workers") {
      if (!count(flags.images.scan_workers) || flags.images.scan_workers > 16)
        return usage_error("--scan-workers needs a number from 1 to 16");
    } else if (name == "--allow-insecure-registry" || name == "--registry-ca" || name == "--docker-config" ||
               name == "--platform" || name == "--max-image-bytes" || name == "--max-files" ||
               name == "--max-path") {
      std::string error;
      if (parse_image_read_flag(args, i, flags.images.read, flags.images.limits, error) != 1)
        return usage_error(error.empty() ? "bad " + name : error);
    } else if (name == "--watch-interval") {
      if (!duration(o.watch_interval_ms) || o.watch_interval_ms < 10)
        return usage_error("--watch-interval needs a duration of at least 10ms");
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  if (o.cert_file.empty() || o.key_file.empty())
    return usage_error("--tls-cert and --tls-key are required (see deploy/gen-certs.sh)");
  return run_admit(o, std::move(admission), flags);
}

}  // namespace kg::cli
