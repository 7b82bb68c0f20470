// Encryption at rest on the kube-apiserver's side (issue 20): the flags that
// only matter once --encryption-provider-config is set, read through the
// control-plane flag parser (component_flags.hpp, contract C1), and the
// liveness probe of its Pod.
//
// automatic-reload: without --encryption-provider-config-automatic-reload
//   (default false) a changed EncryptionConfiguration (a new provider first, a
//   key removed after migration) needs a restart of every API server.
// liveness-probe: kube-apiserver registers its KMS health check (kms-providers,
//   or kms-provider-N per KMS v1 plugin) in /healthz and /readyz, and in /livez
//   before Kubernetes 1.29 (kubernetes/kubernetes#120583 took it out of
//   /livez). A liveness probe on /healthz, or on /livez of a release before
//   1.29, without `exclude=kms-provider...` makes the kubelet restart the API
//   server while the KMS plugin is down, which throws away its cache of
//   decrypted data keys (tests/e2e/kms_e2e.py shows both on a real server).
//   /livez of an unknown release is not reported.
#include <algorithm>

#include "checks/check_util.hpp"
#include "checks/component_flags.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

using checks::quote;

enum class Mode : std::uint8_t { AutomaticReload, LivenessProbe };

// Whether an httpGet path reaches the KMS health check: /healthz (any release)
// or /livez (releases before 1.29; `minor` 0 = unknown: not assumed), with or
// without a trailing slash, and no exclude of kms-provider(s); or a path
// naming the KMS check itself.
bool probe_includes_kms(std::string_view path, int minor) {
  std::string_view query;
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const bool livez_has_kms = minor > 0 && minor < 29;
  for (std::string_view endpoint : {"/livez", "/healthz"}) {
    if (endpoint == "/livez" && !livez_has_kms) continue;
    if (path == endpoint) {
      // exclude=kms-providers (one check for KMS v2 or automatic reload) or
      // exclude=kms-provider-N (one per plugin).
      std::size_t pos = 0;
      while (pos < query.size()) {
        std::size_t amp = query.find('&', pos);
        if (amp == std::string_view::npos) amp = query.size();
        const std::string_view kv = query.substr(pos, amp - pos);
        if (checks::starts_with(kv, "exclude=kms-provider")) return false;
        pos = amp + 1;
      }
      return true;
    }
    if (checks::starts_with(path, std::string(endpoint) + "/kms-provider")) return true;
  }
  return false;
}

class ApiServerEncryptionCheck final : public Check {
 public:
  Mode mode = Mode::AutomaticReload;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    bool any = false;
    for (const ComponentFlags& f : parse_component_flags(in.obj, in.pod)) {
      if (f.component != ControlPlaneComponent::ApiServer) continue;
      const int minor = f.kubernetes_minor > 0 ? f.kubernetes_minor : in.kubernetes_minor;
      const ComponentFlag* config = f.find("encryption-provider-config");
      if (!config || config->value.empty()) continue;  // no encryption at rest: other rules say so
      if (mode == Mode::AutomaticReload) {
        any = true;
        const ComponentFlag* reload = f.find("encryption-provider-config-automatic-reload");
        const std::optional<bool> on = reload ? parse_flag_bool(reload->value) : std::optional<bool>(false);
        if (!on || !*on) {
          Violation v;
          v.message = "kube-apiserver reads " + config->value +
                      " only at start-up: --encryption-provider-config-automatic-reload is " +
                      (reload ? reload->value : std::string("unset (default false)"));
          v.at = reload && reload->at ? reload->at : config->at ? config->at : f.at;
          v.path = reload && !reload->path.empty() ? reload->path : !config->path.empty() ? config->path : f.path;
          v.container = f.container;
          out.push_back(std::move(v));
        }
        continue;
      }
      // LivenessProbe: the container that runs this kube-apiserver.
      if (f.container.empty()) continue;  // a ClusterConfiguration: kubeadm writes the probe
      const auto c = std::find_if(in.containers.begin(), in.containers.end(),
                                  [&](const ContainerRef& r) { return r.name == f.container; });
      if (c == in.containers.end()) continue;
      any = true;
      const Node* probe = get(c->node, "livenessProbe");
      const Node* http = get(probe, "httpGet");
      const Node* path = get(http, "path");
      if (!http) continue;  // no probe, or exec/tcpSocket/grpc: not the health endpoints
      const std::string_view p = path ? str(path) : std::string_view("/");
      if (probe_includes_kms(p, minor)) {
        Violation v;
        v.message = "the liveness probe of kube-apiserver (" + quote(p) +
                    ") includes the KMS health check: when the KMS plugin is down the kubelet restarts the "
                    "API server, which loses its cache of decrypted data keys";
        v.at = path ? path : http;
        v.path = join_path(join_path(join_path(c->path, "livenessProbe"), "httpGet"), "path");
        v.container = f.container;
        out.push_back(std::move(v));
      }
    }
    if (!out.empty()) return Outcome::Fail;
    return any ? Outcome::Pass : Outcome::NotApplicable;
  }
};

}  // namespace

std::unique_ptr<Check> compile_apiserver_encryption_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ApiServerEncryptionCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "automatic-reload") {
    check->mode = Mode::AutomaticReload;
  } else if (mode == "liveness-probe") {
    check->mode = Mode::LivenessProbe;
  } else {
    error = "mode must be automatic-reload or liveness-probe";
    return nullptr;
  }
  return check;
}

}  // namespace kg
