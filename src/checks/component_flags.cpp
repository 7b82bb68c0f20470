// Control-plane component flags and the `component-flag` check template
// (see component_flags.hpp for the parsing rules).
#include "checks/component_flags.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"
#include "core/ascii.hpp"

namespace kg {

namespace {

constexpr std::array<std::string_view, 4> kComponentNames{"kube-apiserver", "kube-controller-manager",
                                                          "kube-scheduler", "etcd"};

bool in_list(std::string_view name, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string_view basename(std::string_view s) {
  auto slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "v1.30.2", "1.30", "stable-1.30" → 30; 0 when not a 1.N version.
int minor_of(std::string_view v) {
  auto p = v.find("1.");
  if (p == std::string_view::npos) return 0;
  if (p > 0 && v[p - 1] != 'v' && v[p - 1] != '-') return 0;
  std::string_view rest = v.substr(p + 2);
  int minor = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), minor);
  if (ec != std::errc{} || end == rest.data()) return 0;
  return minor;
}

}  // namespace

std::optional<ControlPlaneComponent> parse_control_plane_component(std::string_view name) {
  for (std::size_t i = 0; i < kComponentNames.size(); ++i)
    if (kComponentNames[i] == name) return static_cast<ControlPlaneComponent>(i);
  return std::nullopt;
}

std::string_view to_string(ControlPlaneComponent c) {
  return kComponentNames[static_cast<std::size_t>(c)];
}

const ComponentFlag* ComponentFlags::find(std::string_view name) const {
  for (const ComponentFlag& f : flags)
    if (f.name == name) return &f;
  return nullptr;
}

bool is_bool_flag(ControlPlaneComponent c, std::string_view flag) {
  // Shared by the Kubernetes components (component-base logs, profiling,
  // leader election, delegated authentication, --version).
  if (c != ControlPlaneComponent::Etcd &&
      in_list(flag, {"profiling", "contention-profiling", "leader-elect", "alsologtostderr",
                     "logtostderr", "add-dir-header", "skip-headers", "skip-log-headers",
                     "one-output", "help", "version", "permit-port-sharing", "permit-address-sharing",
                     "authentication-skip-lookup", "authentication-tolerate-lookup-failure"}))
    return true;
  switch (c) {
    case ControlPlaneComponent::ApiServer:
      return in_list(flag, {"anonymous-auth", "service-account-lookup", "allow-privileged",
                            "enable-bootstrap-token-auth", "enable-aggregator-routing",
                            "enable-priority-and-fairness", "enable-garbage-collector",
                            "audit-log-compress", "kubelet-https", "service-account-extend-token-expiration",
                            "enable-logs-handler", "watch-cache", "encryption-provider-config-automatic-reload",
                            "audit-log-truncate-enabled", "audit-webhook-truncate-enabled",
                            "audit-log-batch-throttle-enable", "audit-webhook-batch-throttle-enable",
                            "aggregator-reject-forwarding-redirect", "disable-http2-serving"});
    case ControlPlaneComponent::ControllerManager:
      return in_list(flag, {"use-service-account-credentials", "allocate-node-cidrs",
                            "configure-cloud-routes", "enable-hostpath-provisioner",
                            "enable-dynamic-provisioning", "enable-garbage-collector",
                            "enable-taint-manager", "enable-leader-migration"});
    case ControlPlaneComponent::Scheduler:
      return false;
    case ControlPlaneComponent::Etcd:
      // etcd 3.5 names and their etcd 3.6 forms without "experimental-".
      return in_list(flag, {"client-cert-auth", "peer-client-cert-auth", "auto-tls", "peer-auto-tls",
                            "enable-pprof", "strict-reconfig-check", "force-new-cluster", "enable-v2",
                            "enable-grpc-gateway", "pre-vote", "version", "help", "socket-reuse-port",
                            "socket-reuse-address", "unsafe-no-fsync", "enable-log-rotation",
                            "experimental-initial-corrupt-check", "initial-corrupt-check",
                            "experimental-enable-distributed-tracing", "enable-distributed-tracing",
                            "experimental-enable-lease-checkpoint", "experimental-enable-lease-checkpoint-persist",
                            "experimental-peer-skip-client-san-verification", "peer-skip-client-san-verification",
                            "experimental-compact-hash-check-enabled", "compact-hash-check-enabled",
                            "experimental-stop-grpc-service-on-defrag", "stop-grpc-service-on-defrag",
                            "experimental-memory-mlock", "memory-mlock",
                            "experimental-txn-mode-write-with-shared-buffer", "txn-mode-write-with-shared-buffer"});
  }
  return false;
}

bool is_slice_flag(ControlPlaneComponent c, std::string_view flag) {
  switch (c) {
    case ControlPlaneComponent::ApiServer:
      return in_list(flag, {"enable-admission-plugins", "disable-admission-plugins", "admission-control",
                            "authorization-mode", "tls-cipher-suites", "service-account-key-file",
                            "api-audiences", "service-account-issuer", "kubelet-preferred-address-types",
                            "etcd-servers", "cors-allowed-origins", "requestheader-allowed-names",
                            "requestheader-username-headers", "requestheader-group-headers",
                            "requestheader-uid-headers", "requestheader-extra-headers-prefix",
                            "tls-sni-cert-key", "etcd-servers-overrides", "watch-cache-sizes",
                            "authentication-token-webhook-cache-ttl-list", "oidc-required-claim",
                            "runtime-config-list"});
    case ControlPlaneComponent::ControllerManager:
    case ControlPlaneComponent::Scheduler:
      return in_list(flag, {"controllers", "tls-cipher-suites", "tls-sni-cert-key",
                            "requestheader-allowed-names", "requestheader-username-headers",
                            "requestheader-group-headers", "requestheader-extra-headers-prefix",
                            "authorization-always-allow-paths"});
    case ControlPlaneComponent::Etcd:
      return false;  // Go's flag package: every repeated flag replaces the last
  }
  return false;
}

std::vector<std::string> split_flag_list(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<bool> parse_flag_bool(std::string_view v) {
  if (in_list(v, {"1", "t", "T", "TRUE", "true", "True"})) return true;
  if (in_list(v, {"0", "f", "F", "FALSE", "false", "False"})) return false;
  return std::nullopt;
}

std::optional<std::string> feature_gate_value(const ComponentFlags& f, std::string_view gate) {
  const ComponentFlag* fg = f.find("feature-gates");
  if (!fg) return std::nullopt;
  std::optional<std::string> found;
  // Each --feature-gates use adds to the map; a gate named twice keeps its last value.
  for (const std::string& given : fg->values) {
    for (const std::string& item : split_flag_list(given)) {
      auto eq = item.find('=');
      if (trim(std::string_view(item).substr(0, eq)) != gate) continue;
      found = eq == std::string::npos ? std::string() : std::string(trim(std::string_view(item).substr(eq + 1)));
    }
  }
  return found;
}

namespace {

// Records one occurrence of a flag, as the component's flag set does.
void set_flag(ComponentFlags& out, std::string name, std::string_view value, const FlagArg& arg) {
  const bool slice = is_slice_flag(out.component, name);
  auto it = std::find_if(out.flags.begin(), out.flags.end(),
                         [&](const ComponentFlag& f) { return f.name == name; });
  if (it == out.flags.end() || it->from_kubeadm || it->from_env) {
    ComponentFlag f;
    f.name = std::move(name);
    if (it != out.flags.end()) {
      *it = std::move(f);
    } else {
      out.flags.push_back(std::move(f));
      it = out.flags.end() - 1;
    }
  }
  it->at = arg.at;
  it->path = arg.path;
  if (slice) {
    // pflag's StringSlice: the first use replaces the default, later ones append.
    it->values.emplace_back(value);
    std::string joined;
    for (const std::string& v : it->values) {
      for (const std::string& item : split_flag_list(v)) {
        if (!joined.empty()) joined += ',';
        joined += item;
      }
    }
    it->value = std::move(joined);
  } else {
    it->values.emplace_back(value);
    it->value = std::string(value);
  }
}

std::string normalise_name(std::string_view name, ControlPlaneComponent c) {
  std::string n(name);
  // The Kubernetes components register cliflag.WordSepNormalizeFunc: '_' is '-'.
  if (c != ControlPlaneComponent::Etcd) std::replace(n.begin(), n.end(), '_', '-');
  return n;
}

}  // namespace

void parse_component_args(std::span<const FlagArg> args, ComponentFlags& out) {
  const bool go_flag = out.component == ControlPlaneComponent::Etcd;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const FlagArg& a = args[i];
    std::string_view s = a.text;
    if (s == "--") break;
    if (s.size() < 2 || s[0] != '-') {
      out.problems.push_back("argument \"" + std::string(s) + "\" is not a flag");
      if (go_flag) break;  // Go's flag package stops at the first non-flag argument
      continue;
    }
    const bool long_form = s.substr(0, 2) == "--";
    s.remove_prefix(long_form ? 2 : 1);
    if (!long_form && !go_flag) {
      // A pflag shorthand (-v=2, -v 2): no control-plane setting is a shorthand.
      if (s.find('=') == std::string_view::npos && s.size() == 1 && s != "h" && i + 1 < args.size()) ++i;
      continue;
    }
    auto eq = s.find('=');
    std::string name = normalise_name(s.substr(0, eq), out.component);
    if (name.empty()) continue;
    if (eq != std::string_view::npos) {
      set_flag(out, std::move(name), s.substr(eq + 1), a);
    } else if (is_bool_flag(out.component, name)) {
      set_flag(out, std::move(name), "true", a);
    } else if (i + 1 < args.size()) {
      // `--flag value`: the next argument is the value, whatever it looks like.
      ++i;
      set_flag(out, std::move(name), args[i].text, args[i]);
    } else {
      out.problems.push_back("flag --" + name + " needs a value");
    }
  }
}

std::vector<std::pair<std::string, std::string>> kubeadm_default_flags(ControlPlaneComponent c,
                                                                       std::string_view cert_dir) {
  const std::string pki(cert_dir.empty() ? std::string_view("/etc/kubernetes/pki") : cert_dir);
  switch (c) {
    case ControlPlaneComponent::ApiServer:
      // getAPIServerCommand; etcd-* are added by the caller (local or external etcd).
      return {{"enable-admission-plugins", "NodeRestriction"},
              {"service-account-key-file", pki + "/sa.pub"},
              {"service-account-signing-key-file", pki + "/sa.key"},
              {"client-ca-file", pki + "/ca.crt"},
              {"tls-cert-file", pki + "/apiserver.crt"},
              {"tls-private-key-file", pki + "/apiserver.key"},
              {"kubelet-client-certificate", pki + "/apiserver-kubelet-client.crt"},
              {"kubelet-client-key", pki + "/apiserver-kubelet-client.key"},
              {"enable-bootstrap-token-auth", "true"},
              {"secure-port", "6443"},
              {"allow-privileged", "true"},
              {"requestheader-client-ca-file", pki + "/front-proxy-ca.crt"},
              {"proxy-client-cert-file", pki + "/front-proxy-client.crt"},
              {"proxy-client-key-file", pki + "/front-proxy-client.key"},
              {"authorization-mode", "Node,RBAC"}};
    case ControlPlaneComponent::ControllerManager:
      return {{"bind-address", "127.0.0.1"},
              {"leader-elect", "true"},
              {"kubeconfig", "/etc/kubernetes/controller-manager.conf"},
              {"authentication-kubeconfig", "/etc/kubernetes/controller-manager.conf"},
              {"authorization-kubeconfig", "/etc/kubernetes/controller-manager.conf"},
              {"client-ca-file", pki + "/ca.crt"},
              {"requestheader-client-ca-file", pki + "/front-proxy-ca.crt"},
              {"root-ca-file", pki + "/ca.crt"},
              {"service-account-private-key-file", pki + "/sa.key"},
              {"cluster-signing-cert-file", pki + "/ca.crt"},
              {"cluster-signing-key-file", pki + "/ca.key"},
              {"use-service-account-credentials", "true"},
              {"controllers", "*,bootstrapsigner,tokencleaner"}};
    case ControlPlaneComponent::Scheduler:
      return {{"bind-address", "127.0.0.1"},
              {"leader-elect", "true"},
              {"kubeconfig", "/etc/kubernetes/scheduler.conf"},
              {"authentication-kubeconfig", "/etc/kubernetes/scheduler.conf"},
              {"authorization-kubeconfig", "/etc/kubernetes/scheduler.conf"}};
    case ControlPlaneComponent::Etcd:
      return {{"data-dir", "/var/lib/etcd"},
              {"cert-file", pki + "/etcd/server.crt"},
              {"key-file", pki + "/etcd/server.key"},
              {"trusted-ca-file", pki + "/etcd/ca.crt"},
              {"client-cert-auth", "true"},
              {"peer-cert-file", pki + "/etcd/peer.crt"},
              {"peer-key-file", pki + "/etcd/peer.key"},
              {"peer-trusted-ca-file", pki + "/etcd/ca.crt"},
              {"peer-client-cert-auth", "true"},
              {"snapshot-count", "10000"},
              {"listen-metrics-urls", "http://127.0.0.1:2381"}};
  }
  return {};
}

std::vector<std::string_view> default_admission_plugins(int minor) {
  // pkg/kubeapiserver/options/plugins.go: every plugin not in DefaultOffAdmissionPlugins.
  struct Since {
    std::string_view name;
    int since;
    int until;  // first minor without it; 0 = still there
  };
  static constexpr Since kDefaults[] = {
      {"NamespaceLifecycle", 0, 0},       {"LimitRanger", 0, 0},
      {"ServiceAccount", 0, 0},           {"TaintNodesByCondition", 17, 0},
      {"PodSecurity", 23, 0},             {"Priority", 0, 0},
      {"DefaultTolerationSeconds", 0, 0}, {"DefaultStorageClass", 0, 0},
      {"StorageObjectInUseProtection", 0, 0}, {"PersistentVolumeClaimResize", 0, 0},
      {"RuntimeClass", 20, 0},            {"CertificateApproval", 18, 0},
      {"CertificateSigning", 18, 0},      {"ClusterTrustBundleAttest", 27, 0},
      {"CertificateSubjectRestriction", 18, 0}, {"DefaultIngressClass", 18, 0},
      {"PodTopologyLabels", 33, 0},       {"MutatingAdmissionPolicy", 32, 0},
      {"MutatingAdmissionWebhook", 0, 0}, {"ValidatingAdmissionPolicy", 26, 0},
      {"ValidatingAdmissionWebhook", 0, 0}, {"ResourceQuota", 0, 0},
  };
  const int m = minor > 0 ? minor : 1000;
  std::vector<std::string_view> out;
  for (const Since& s : kDefaults)
    if (m >= s.since && (s.until == 0 || m < s.until)) out.push_back(s.name);
  return out;
}

std::vector<std::string> effective_admission_plugins(const ComponentFlags& f) {
  std::vector<std::string> on;
  if (const ComponentFlag* legacy = f.find("admission-control")) {
    on = split_flag_list(legacy->value);  // replaces the default list
  } else {
    for (std::string_view p : default_admission_plugins(f.kubernetes_minor)) on.emplace_back(p);
  }
  if (const ComponentFlag* enable = f.find("enable-admission-plugins")) {
    for (std::string& p : split_flag_list(enable->value))
      if (std::find(on.begin(), on.end(), p) == on.end()) on.push_back(std::move(p));
  }
  if (const ComponentFlag* disable = f.find("disable-admission-plugins")) {
    for (const std::string& p : split_flag_list(disable->value))
      on.erase(std::remove(on.begin(), on.end(), p), on.end());
  }
  return on;
}

namespace {

// The arguments of one container as its process receives them (command, then args).
std::vector<FlagArg> container_argv(const ContainerRef& c) {
  std::vector<FlagArg> argv;
  for (std::string_view field : {"command", "args"}) {
    std::size_t i = 0;
    for (const Node* item : items(c.node->get(field))) {
      argv.push_back({item->is_scalar() ? item->text() : std::string_view{}, item,
                      index_path(join_path(c.path, field), i)});
      ++i;
    }
  }
  return argv;
}

// `sh -c "exec kube-apiserver --a=b ..."`: the words after the binary, up to a
// shell operator (no quoting beyond plain words; enough for manifests that wrap the binary).
std::vector<FlagArg> shell_words(const FlagArg& script) {
  std::vector<FlagArg> words;
  std::string_view s = script.text;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\\')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    if (j > i) {
      std::string_view w = s.substr(i, j - i);
      if (w.size() >= 2 && (w.front() == '"' || w.front() == '\'') && w.back() == w.front())
        w = w.substr(1, w.size() - 2);
      words.push_back({w, script.at, script.path});
    }
    i = j;
  }
  return words;
}

std::optional<ControlPlaneComponent> component_word(std::string_view word) {
  return parse_control_plane_component(basename(word));
}

int image_minor(const Node* container) {
  std::string_view image = str(get(container, "image"));
  auto colon = image.rfind(':');
  if (colon == std::string_view::npos || image.find('/', colon) != std::string_view::npos) return 0;
  std::string_view repo = basename(image.substr(0, colon));
  if (!parse_control_plane_component(repo) || repo == "etcd") return 0;
  return minor_of(image.substr(colon + 1));
}

void add_etcd_env(const ContainerRef& c, ComponentFlags& out) {
  std::size_t i = 0;
  for (const Node* e : items(c.node->get("env"))) {
    std::string_view name = str(get(e, "name"));
    const Node* value = get(e, "value");
    const std::string path = index_path(join_path(c.path, "env"), i++);
    if (name.substr(0, 5) != "ETCD_" || !value || !value->is_scalar()) continue;
    std::string flag = ascii_lower(name.substr(5));
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (out.find(flag)) continue;  // the command line wins over the environment
    ComponentFlag f;
    f.name = std::move(flag);
    f.value = std::string(value->text());
    f.values = {f.value};
    f.at = value;
    f.path = join_path(path, "value");
    f.from_env = true;
    out.flags.push_back(std::move(f));
  }
}

void pod_components(const PodView& pod, std::vector<ComponentFlags>& out) {
  std::string_view label = str(get(get(pod.meta, "labels"), "component"));
  for (const ContainerRef& c : containers_of(pod)) {
    if (c.kind != ContainerKind::Container) continue;
    std::vector<FlagArg> argv = container_argv(c);
    std::optional<ControlPlaneComponent> comp;
    std::vector<FlagArg> flags;
    std::size_t start = 0;
    if (!argv.empty() && (comp = component_word(argv[0].text))) {
      start = 1;
    } else if (argv.size() > 1 && basename(argv[0].text) == "hyperkube" &&
               (comp = component_word(argv[1].text))) {
      start = 2;
    } else if (!argv.empty() && in_list(basename(argv[0].text), {"sh", "bash", "ash", "dash"})) {
      for (std::size_t i = 1; i + 1 < argv.size() && !comp; ++i) {
        if (argv[i].text != "-c" && argv[i].text != "-ec" && argv[i].text != "-xc") continue;
        std::vector<FlagArg> words = shell_words(argv[i + 1]);
        for (std::size_t w = 0; w < words.size(); ++w) {
          if (!(comp = component_word(words[w].text))) continue;
          for (std::size_t k = w + 1; k < words.size(); ++k) {
            std::string_view t = words[k].text;
            if (in_list(t, {";", "&&", "||", "|", "&"})) break;
            const bool ends = t.back() == ';';
            if (ends) t.remove_suffix(1);
            if (!t.empty()) flags.push_back({t, words[k].at, words[k].path});
            if (ends) break;
          }
          break;
        }
      }
      if (!comp) continue;
      start = argv.size();
    } else if (!c.node->get("command") && !argv.empty() && argv[0].text.substr(0, 1) == "-") {
      // The image's entrypoint runs the binary: only flags are given. Known by
      // the component label, the container name or the image name.
      std::string_view image = str(c.node->get("image"));
      std::string_view repo = basename(image.substr(0, std::min(image.find('@'), image.rfind(':'))));
      comp = parse_control_plane_component(label);
      if (!comp) comp = parse_control_plane_component(c.name);
      if (!comp) comp = parse_control_plane_component(repo);
      if (!comp) continue;
    } else {
      continue;
    }
    for (std::size_t i = start; i < argv.size(); ++i) flags.push_back(argv[i]);
    ComponentFlags f;
    f.component = *comp;
    f.container = std::string(c.name);
    const bool has_args = c.node->get("args") != nullptr;
    f.at = c.node->get(has_args ? "args" : "command");
    if (!f.at) f.at = c.node;
    f.path = join_path(c.path, has_args ? "args" : "command");
    f.kubernetes_minor = image_minor(c.node);
    parse_component_args(flags, f);
    if (*comp == ControlPlaneComponent::Etcd) add_etcd_env(c, f);
    out.push_back(std::move(f));
  }
}

void kubeadm_components(const Object& obj, std::vector<ComponentFlags>& out) {
  const Node* root = obj.root;
  const std::string cert_dir(str(get(root, "certificatesDir")));
  const int minor = minor_of(str(get(root, "kubernetesVersion")));
  const Node* etcd = get(root, "etcd");
  const Node* external = get(etcd, "external");
  struct Section {
    ControlPlaneComponent component;
    const Node* node;
    std::string path;
  };
  std::vector<Section> sections = {
      {ControlPlaneComponent::ApiServer, get(root, "apiServer"), "apiServer"},
      {ControlPlaneComponent::ControllerManager, get(root, "controllerManager"), "controllerManager"},
      {ControlPlaneComponent::Scheduler, get(root, "scheduler"), "scheduler"},
  };
  if (!external) sections.push_back({ControlPlaneComponent::Etcd, get(etcd, "local"), "etcd.local"});
  for (const Section& s : sections) {
    ComponentFlags f;
    f.component = s.component;
    f.kubernetes_minor = minor;
    const Node* extra = get(s.node, "extraArgs");
    f.at = extra ? extra : s.node ? s.node : root;
    f.path = join_path(obj.path_prefix, s.path + ".extraArgs");
    // The arguments as kubeadm writes them: extraArgs, v1beta3 a map, v1beta4 a list of {name, value}.
    std::vector<std::string> texts;
    std::vector<FlagArg> args;
    std::vector<std::string> named;
    if (extra && extra->is_map()) {
      for (const MapEntry& e : extra->entries()) {
        texts.push_back("--" + std::string(str(e.key)) + "=" + std::string(str(e.value)));
        args.push_back({{}, e.value ? e.value : e.key, join_path(f.path, str(e.key))});
        named.emplace_back(str(e.key));
      }
    } else {
      std::size_t i = 0;
      for (const Node* item : items(extra)) {
        std::string_view name = str(get(item, "name"));
        if (!name.empty()) {
          texts.push_back("--" + std::string(name) + "=" + std::string(str(get(item, "value"))));
          args.push_back({{}, item, index_path(f.path, i)});
          named.emplace_back(name);
        }
        ++i;
      }
    }
    for (std::size_t i = 0; i < args.size(); ++i) args[i].text = texts[i];
    // kubeadm's own arguments, each replaced by an extraArgs entry of the same name.
    auto defaults = kubeadm_default_flags(s.component, cert_dir);
    if (s.component == ControlPlaneComponent::ApiServer) {
      if (!external) {
        const std::string pki = cert_dir.empty() ? "/etc/kubernetes/pki" : cert_dir;
        defaults.emplace_back("etcd-cafile", pki + "/etcd/ca.crt");
        defaults.emplace_back("etcd-certfile", pki + "/apiserver-etcd-client.crt");
        defaults.emplace_back("etcd-keyfile", pki + "/apiserver-etcd-client.key");
      } else {
        for (auto [field, flag] : {std::pair{"caFile", "etcd-cafile"}, std::pair{"certFile", "etcd-certfile"},
                                   std::pair{"keyFile", "etcd-keyfile"}})
          if (!str(get(external, field)).empty()) defaults.emplace_back(flag, str(get(external, field)));
      }
    }
    for (auto& [name, value] : defaults) {
      if (std::find(named.begin(), named.end(), name) != named.end()) continue;
      ComponentFlag d;
      d.name = name;
      d.value = value;
      d.values = {value};
      d.at = f.at;
      d.path = f.path;
      d.from_kubeadm = true;
      f.flags.push_back(std::move(d));
    }
    parse_component_args(args, f);
    out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<ComponentFlags> parse_component_flags(const Object& obj, const PodView& pod) {
  std::vector<ComponentFlags> out;
  if (obj.kind == "ClusterConfiguration") {
    if (obj.api_version.substr(0, 12) == "kubeadm.k8s.") kubeadm_components(obj, out);
  } else if (pod) {
    pod_components(pod, out);
  }
  return out;
}

// ---------------------------------------------------------------- component-flag template

namespace {

enum class Mode : std::uint8_t {
  Present,
  Absent,
  Equals,
  NotEquals,
  ListContains,
  ListNotContains,
  ListSubset,
  Min,
  Max,
  FeatureGate,
  AdmissionEnabled,
  AdmissionDisabled,
  DurationBetween,
};

// A Go duration (time.ParseDuration, as pflag's DurationVar reads it:
// "60s", "1m30s", "1.5h", "-5m", "0"), in nanoseconds (as a double: the
// bounds compared with are far inside its precision); nullopt when Go
// refuses it.
std::optional<double> parse_go_duration(std::string_view s) {
  double sign = 1;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    if (s[0] == '-') sign = -1;
    s.remove_prefix(1);
  }
  if (s == "0") return 0.0;
  if (s.empty()) return std::nullopt;
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"\u00b5s", 1e3}, {"\u03bcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
  };
  double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    bool digits = false;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
      digits = digits || s[i] != '.';
      ++i;
    }
    if (!digits) return std::nullopt;
    const std::string number(s.substr(0, i));
    if (std::count(number.begin(), number.end(), '.') > 1) return std::nullopt;
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && !((s[u] >= '0' && s[u] <= '9') || s[u] == '.')) ++u;
    const std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale = 0;
    for (const auto& [name, ns] : kUnits)
      if (name == unit) scale = ns;
    if (scale == 0) return std::nullopt;  // no unit ("60") or an unknown one: Go refuses both
    total += std::strtod(number.c_str(), nullptr) * scale;
  }
  return sign * total;
}

struct VersionDefault {
  int before = 0;  // applies to components of a minor release below this
  std::string value;
};

class ComponentFlagCheck final : public Check {
 public:
  ControlPlaneComponent component = ControlPlaneComponent::ApiServer;
  std::vector<std::string> flags;  // flag, or each of flags (present/absent)
  Mode mode = Mode::Present;
  std::vector<std::string> values;
  std::optional<std::string> default_value;
  std::vector<VersionDefault> version_defaults;
  std::string gate;
  std::vector<std::string> unless_present;

  // The object's flags, parsed once for all the rules of this template (an
  // object meets some fifty of them).
  struct Parsed {
    std::uint64_t object = 0;  // EvalContext::object() they were parsed for
    const Node* root = nullptr;
    std::vector<ComponentFlags> flags;
  };

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    Parsed& cache = in.ctx.local<Parsed>();
    if (cache.object != in.ctx.object() || in.ctx.object() == 0 || cache.root != in.obj.root) {
      cache.object = in.ctx.object();
      cache.root = in.obj.root;
      cache.flags = parse_component_flags(in.obj, in.pod);
      for (ComponentFlags& f : cache.flags)
        if (f.kubernetes_minor == 0) f.kubernetes_minor = in.kubernetes_minor;
    }
    bool any = false;
    for (const ComponentFlags& f : cache.flags) {
      if (f.component != component) continue;
      if (std::any_of(unless_present.begin(), unless_present.end(),
                      [&](const std::string& n) { return f.find(n) != nullptr; }))
        continue;
      any = true;
      judge(f, out);
    }
    if (!out.empty()) return Outcome::Fail;
    return any ? Outcome::Pass : Outcome::NotApplicable;
  }

 private:
  std::string name() const { return std::string(to_string(component)); }

  std::string expected() const {
    std::string e;
    for (const std::string& v : values) e += (e.empty() ? "" : ", ") + v;
    return e;
  }

  std::optional<std::string> default_for(const ComponentFlags& f) const {
    for (const VersionDefault& d : version_defaults)
      if (f.kubernetes_minor > 0 && f.kubernetes_minor < d.before) return d.value;
    return default_value;
  }

  void report(const ComponentFlags& f, const ComponentFlag* flag, std::string message,
              std::vector<Violation>& out) const {
    Violation v;
    v.message = std::move(message);
    v.at = flag && flag->at ? flag->at : f.at;
    v.path = flag && !flag->path.empty() ? flag->path : f.path;
    v.container = f.container;
    out.push_back(std::move(v));
  }

  // "kube-apiserver: --profiling=true", "... --profiling not set (default true)",
  // "... (written by kubeadm)", "... --profiling not set".
  std::string seen(const std::string& flag, const ComponentFlag* given,
                   const std::optional<std::string>& value) const {
    std::string s = name() + ": --" + flag;
    if (given) {
      s += "=" + given->value;
      if (given->from_kubeadm) s += " (written by kubeadm)";
      if (given->from_env) s += " (from the environment)";
    } else if (value) {
      s += " not set (default " + (value->empty() ? std::string("\"\"") : *value) + ")";
    } else {
      s += " not set";
    }
    return s;
  }

  static bool same(std::string_view a, std::string_view b) {
    auto ba = parse_flag_bool(a);
    auto bb = parse_flag_bool(b);
    if (ba && bb) return *ba == *bb;
    return a == b;
  }

  void judge(const ComponentFlags& f, std::vector<Violation>& out) const {
    if (mode == Mode::AdmissionEnabled || mode == Mode::AdmissionDisabled) {
      const std::vector<std::string> on = effective_admission_plugins(f);
      const ComponentFlag* where = f.find("enable-admission-plugins");
      if (!where) where = f.find("admission-control");
      for (const std::string& plugin : values) {
        const bool enabled = std::find(on.begin(), on.end(), plugin) != on.end();
        if (mode == Mode::AdmissionEnabled && !enabled) {
          const ComponentFlag* off = f.find("disable-admission-plugins");
          const bool disabled = off && std::ranges::count(split_flag_list(off->value), plugin) > 0;
          report(f, disabled ? off : where,
                 name() + ": admission plugin " + plugin +
                     (disabled ? " is disabled by --disable-admission-plugins" : " is not enabled"),
                 out);
        } else if (mode == Mode::AdmissionDisabled && enabled) {
          const ComponentFlag* by = where && std::ranges::count(split_flag_list(where->value), plugin) > 0 ? where : nullptr;
          report(f, by, name() + ": admission plugin " + plugin + (by ? " is enabled" : " is enabled by default"), out);
        }
      }
      return;
    }
    if (mode == Mode::FeatureGate) {
      const ComponentFlag* fg = f.find("feature-gates");
      std::optional<std::string> v = feature_gate_value(f, gate);
      const std::string want = values.empty() ? "true" : values[0];
      if (v && !same(*v, want)) {
        report(f, fg, name() + ": feature gate " + gate + "=" + *v + ", must be " + want, out);
      } else if (!v && default_value && !same(*default_value, want)) {
        report(f, fg, name() + ": feature gate " + gate + " not set (default " + *default_value + "), must be " + want, out);
      }
      return;
    }
    for (const std::string& flag : flags) {
      const ComponentFlag* given = f.find(flag);
      const std::optional<std::string> value = given ? std::optional<std::string>(given->value) : default_for(f);
      const std::string head = seen(flag, given, value);
      switch (mode) {
        case Mode::Present:
          if (!given) {
            report(f, given, head, out);
          } else if (given->value.empty()) {
            report(f, given, name() + ": --" + flag + " is empty", out);
          }
          break;
        case Mode::Absent:
          if (given) report(f, given, head + ", must not be set", out);
          break;
        case Mode::Equals:
          if (!value || std::none_of(values.begin(), values.end(), [&](const std::string& w) { return same(*value, w); }))
            report(f, given, head + (values.size() > 1 ? ", must be one of " : ", must be ") + expected(), out);
          break;
        case Mode::NotEquals:
          if (value && std::any_of(values.begin(), values.end(), [&](const std::string& w) { return same(*value, w); }))
            report(f, given, head + ", must not be " + *value, out);
          break;
        case Mode::ListContains: {
          const std::vector<std::string> list = value ? split_flag_list(*value) : std::vector<std::string>{};
          std::string missing;
          for (const std::string& w : values)
            if (std::find(list.begin(), list.end(), w) == list.end()) missing += (missing.empty() ? "" : ", ") + w;
          if (!missing.empty()) report(f, given, head + ", must include " + missing, out);
          break;
        }
        case Mode::ListNotContains: {
          const std::vector<std::string> list = value ? split_flag_list(*value) : std::vector<std::string>{};
          std::string found;
          for (const std::string& w : values)
            if (std::find(list.begin(), list.end(), w) != list.end()) found += (found.empty() ? "" : ", ") + w;
          if (!found.empty()) report(f, given, head + ", must not include " + found, out);
          break;
        }
        case Mode::ListSubset: {
          if (!value) {
            report(f, given, head + ", must be among " + expected(), out);
            break;
          }
          const std::vector<std::string> items = split_flag_list(*value);
          std::string outside;
          for (const std::string& item : items) {
            if (std::find(values.begin(), values.end(), item) == values.end())
              outside += (outside.empty() ? "" : ", ") + item;
          }
          if (items.empty()) {
            report(f, given, name() + ": --" + flag + " is empty", out);
          } else if (!outside.empty()) {
            report(f, given, head + ", includes " + outside + " outside the allowed values", out);
          }
          break;
        }
        case Mode::DurationBetween: {
          const std::string range = ", must be between " + values[0] + " and " + values[1];
          if (!value) break;  // no default: nothing to judge
          const std::optional<double> have = parse_go_duration(*value);
          if (!have) {
            report(f, given, head + ", not a duration the component accepts (e.g. 60s, 1m30s)", out);
          } else if (*have <= 0) {
            report(f, given, head + (*have == 0 ? ": no default deadline for requests" : ": refused (negative)") + range, out);
          } else if (*have < *parse_go_duration(values[0]) || *have > *parse_go_duration(values[1])) {
            report(f, given, head + range, out);
          }
          break;
        }
        case Mode::Min:
        case Mode::Max: {
          if (!value) {
            report(f, given, head + (mode == Mode::Min ? ", must be at least " : ", must be at most ") + values[0], out);
            break;
          }
          std::int64_t have = 0;
          std::int64_t want = 0;
          auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), have);
          std::from_chars(values[0].data(), values[0].data() + values[0].size(), want);
          if (ec != std::errc{} || p != value->data() + value->size()) {
            report(f, given, head + ", not an integer", out);
          } else if (mode == Mode::Min ? have < want : have > want) {
            report(f, given, head + (mode == Mode::Min ? ", must be at least " : ", must be at most ") + values[0], out);
          }
          break;
        }
        default:
          break;
      }
    }
  }
};

std::optional<Mode> parse_mode(std::string_view m) {
  static constexpr std::pair<std::string_view, Mode> kModes[] = {
      {"present", Mode::Present},
      {"absent", Mode::Absent},
      {"equals", Mode::Equals},
      {"not-equals", Mode::NotEquals},
      {"list-contains", Mode::ListContains},
      {"list-not-contains", Mode::ListNotContains},
      {"list-subset", Mode::ListSubset},
      {"min", Mode::Min},
      {"max", Mode::Max},
      {"feature-gate", Mode::FeatureGate},
      {"admission-enabled", Mode::AdmissionEnabled},
      {"admission-disabled", Mode::AdmissionDisabled},
      {"duration-between", Mode::DurationBetween},
  };
  for (const auto& [name, mode] : kModes)
    if (name == m) return mode;
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Check> compile_component_flag_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ComponentFlagCheck>();
  auto comp = parse_control_plane_component(params.string("component"));
  auto mode = parse_mode(params.string("mode"));
  if (!comp || !mode) {
    error = !comp ? "component: must be kube-apiserver, kube-controller-manager, kube-scheduler or etcd"
                  : "mode: unknown mode";
    return nullptr;
  }
  check->component = *comp;
  check->mode = *mode;
  if (params.get("flag")) check->flags.emplace_back(params.string("flag"));
  for (std::string& f : params.strings("flags")) check->flags.push_back(std::move(f));
  for (std::string& f : check->flags)
    if (f.substr(0, 2) == "--") f.erase(0, 2);
  if (params.get("value")) check->values.emplace_back(params.string("value"));
  for (std::string& v : params.strings("values")) check->values.push_back(std::move(v));
  if (params.get("default")) check->default_value = std::string(params.string("default"));
  check->gate = std::string(params.string("gate"));
  check->unless_present = params.strings("unlessPresent");
  for (const Node* d : items(params.get("versionDefaults"))) {
    const int before = minor_of(str(get(d, "before")));
    const Node* v = get(d, "value");
    if (before == 0 || !v || !v->is_scalar()) {
      error = "versionDefaults: each entry is {before: \"1.N\", value: VALUE}";
      return nullptr;
    }
    check->version_defaults.push_back({before, std::string(v->text())});
  }
  const bool flagless = *mode == Mode::FeatureGate || *mode == Mode::AdmissionEnabled ||
                        *mode == Mode::AdmissionDisabled;
  if (flagless && *comp != ControlPlaneComponent::ApiServer && *mode != Mode::FeatureGate) {
    error = "mode: admission-enabled and admission-disabled are kube-apiserver's";
    return nullptr;
  }
  if (!flagless && check->flags.empty()) {
    error = "flag: required for mode " + std::string(params.string("mode"));
    return nullptr;
  }
  if (*mode == Mode::FeatureGate && check->gate.empty()) {
    error = "gate: required for mode feature-gate";
    return nullptr;
  }
  const bool needs_values = *mode != Mode::Present && *mode != Mode::Absent && *mode != Mode::FeatureGate;
  if (needs_values && check->values.empty()) {
    error = "value: required for mode " + std::string(params.string("mode")) + " (value or values)";
    return nullptr;
  }
  if (*mode == Mode::DurationBetween &&
      (check->values.size() != 2 || !parse_go_duration(check->values[0]) || !parse_go_duration(check->values[1]))) {
    error = "values: mode duration-between takes two Go durations, [min, max] (e.g. [1s, 5m])";
    return nullptr;
  }
  if ((*mode == Mode::Min || *mode == Mode::Max)) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(check->values[0].data(), check->values[0].data() + check->values[0].size(), n);
    if (ec != std::errc{} || p != check->values[0].data() + check->values[0].size()) {
      error = "value: must be an integer for mode min or max";
      return nullptr;
    }
  }
  return check;
}

}  // namespace kg
