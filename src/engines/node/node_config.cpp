#include "engines/node/node_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "checks/component_flags.hpp"
#include "engines/node/etcd_ca.hpp"
#include "core/json_writer.hpp"
#include "core/object.hpp"
#include "sources/host/systemd_unit.hpp"

namespace kg::node {
namespace {

using host::FileFact;
using host::HostRoot;
using host::ParsedFlags;

enum class VT { Bool, Int, String, Duration, List };

// One setting of a component: its KubeletConfiguration (or
// KubeProxyConfiguration) field, the command-line flag that overrides it,
// and the defaults. `config_default` is the v1beta1 default a config file
// gets; `legacy_default` the value without --config (the kubelet's
// applyLegacyDefaults: anonymous auth on, AlwaysAllow, read-only port 10255).
// An empty default is "unset".
struct SettingDef {
  std::string_view key;
  std::string_view flag;
  VT type;
  std::string_view config_default;
  std::string_view legacy_default;
};

constexpr SettingDef kKubelet[] = {
    {"authentication.anonymous.enabled", "anonymous-auth", VT::Bool, "false", "true"},
    {"authentication.webhook.enabled", "authentication-token-webhook", VT::Bool, "true", "false"},
    {"authentication.x509.clientCAFile", "client-ca-file", VT::String, "", ""},
    {"authorization.mode", "authorization-mode", VT::String, "Webhook", "AlwaysAllow"},
    {"address", "address", VT::String, "0.0.0.0", "0.0.0.0"},
    {"port", "port", VT::Int, "10250", "10250"},
    {"readOnlyPort", "read-only-port", VT::Int, "0", "10255"},
    {"streamingConnectionIdleTimeout", "streaming-connection-idle-timeout", VT::Duration, "4h0m0s", "4h0m0s"},
    {"protectKernelDefaults", "protect-kernel-defaults", VT::Bool, "false", "false"},
    {"makeIPTablesUtilChains", "make-iptables-util-chains", VT::Bool, "true", "true"},
    {"hostnameOverride", "hostname-override", VT::String, "", ""},  // a flag only
    {"eventRecordQPS", "event-qps", VT::Int, "50", "50"},
    {"tlsCertFile", "tls-cert-file", VT::String, "", ""},
    {"tlsPrivateKeyFile", "tls-private-key-file", VT::String, "", ""},
    {"tlsCipherSuites", "tls-cipher-suites", VT::List, "", ""},
    {"tlsMinVersion", "tls-min-version", VT::String, "", ""},
    {"rotateCertificates", "rotate-certificates", VT::Bool, "false", "false"},
    {"serverTLSBootstrap", "rotate-server-certificates", VT::Bool, "false", "false"},
    {"podPidsLimit", "pod-max-pids", VT::Int, "-1", "-1"},
    {"seccompDefault", "seccomp-default", VT::Bool, "false", "false"},
    {"staticPodPath", "pod-manifest-path", VT::String, "", ""},
};

// KubeProxyConfiguration (v1alpha1); the flag defaults equal the config's.
constexpr SettingDef kKubeProxy[] = {
    {"metricsBindAddress", "metrics-bind-address", VT::String, "127.0.0.1:10249", "127.0.0.1:10249"},
    {"healthzBindAddress", "healthz-bind-address", VT::String, "0.0.0.0:10256", "0.0.0.0:10256"},
    {"bindAddress", "bind-address", VT::String, "0.0.0.0", "0.0.0.0"},
    {"clientConnection.kubeconfig", "kubeconfig", VT::String, "", ""},
    {"mode", "proxy-mode", VT::String, "", ""},
};

const std::vector<std::string_view> kKubeletBool = {
    "anonymous-auth", "authentication-token-webhook", "protect-kernel-defaults", "make-iptables-util-chains",
    "rotate-certificates", "rotate-server-certificates", "seccomp-default", "fail-swap-on", "register-node",
    "enable-server", "enable-debugging-handlers", "cgroups-per-qos", "serialize-image-pulls", "enforce-node-allocatable",
    "keep-terminated-pod-volumes", "exit-on-lock-contention", "help", "version", "v", "alsologtostderr",
    "logtostderr", "register-schedulable", "kernel-memcg-notification", "local-storage-capacity-isolation",
    "enable-controller-attach-detach", "fail-cgroupv1", "experimental-mounter-path", "allow-privileged"};
const std::vector<std::string_view> kProxyBool = {"cleanup", "masquerade-all", "help", "version", "alsologtostderr",
                                                  "logtostderr", "profiling", "bind-address-hard-fail"};

// A value and where it came from.
struct Value {
  VT type = VT::String;
  std::string scalar;
  std::vector<std::string> list;
  std::string origin;
};

struct Component {
  std::map<std::string, Value> values;        // dotted key -> effective value
  std::map<std::string, std::pair<bool, std::string>> feature_gates;  // gate -> (value, origin)
};

std::optional<bool> parse_bool(std::string_view s) {
  // strconv.ParseBool, which pflag and the YAML decoder's bools both accept.
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") return false;
  return std::nullopt;
}

bool is_int(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return !s.empty() && s.size() < 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    const std::size_t c = s.find(',', i);
    std::string_view item = s.substr(i, c == std::string_view::npos ? std::string_view::npos : c - i);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (c == std::string_view::npos) break;
    i = c + 1;
  }
  return out;
}

// Sets `key` from a text value of type `def.type`; false when the text is not of that type.
bool set_value(Component& c, const SettingDef& def, std::string_view text, const std::string& origin) {
  Value v;
  v.type = def.type;
  v.origin = origin;
  switch (def.type) {
    case VT::Bool: {
      auto b = parse_bool(text);
      if (!b) return false;
      v.scalar = *b ? "true" : "false";
      break;
    }
    case VT::Int:
      if (!is_int(text)) return false;
      v.scalar = std::string(text[0] == '+' ? text.substr(1) : text);
      break;
    case VT::List: v.list = split_commas(text); break;
    default: v.scalar = std::string(text);
  }
  c.values[std::string(def.key)] = std::move(v);
  return true;
}

void apply_defaults(Component& c, std::span<const SettingDef> defs, bool config_file) {
  for (const SettingDef& d : defs) {
    const std::string_view dv = config_file ? d.config_default : d.legacy_default;
    if (dv.empty()) continue;
    set_value(c, d, dv,
              config_file ? "default" : "the kubelet's legacy flag default, no --config");
  }
}

const Node* at_path(const Node* root, std::string_view dotted) {
  const Node* n = root;
  std::size_t i = 0;
  while (n && i <= dotted.size()) {
    const std::size_t dot = dotted.find('.', i);
    n = get(n, dotted.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i));
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return n;
}

// The settings a config file sets, over the defaults; malformed ones are errors at file:line.
void apply_config_file(Component& c, std::span<const SettingDef> defs, const Node* root, const std::string& path,
                       std::vector<InputError>& errors) {
  for (const SettingDef& d : defs) {
    const Node* n = at_path(root, d.key);
    if (!n || n->is_null()) continue;
    const std::string origin = "config file " + path;
    if (d.type == VT::List) {
      if (!n->is_seq()) {
        errors.push_back({path, n->line, n->column, std::string(d.key) + ": expected a list"});
        continue;
      }
      Value v;
      v.type = VT::List;
      v.origin = origin;
      for (const Node* item : n->items()) v.list.emplace_back(str(item));
      c.values[std::string(d.key)] = std::move(v);
      continue;
    }
    if (!n->is_scalar() || !set_value(c, d, n->text(), origin)) {
      errors.push_back({path, n->line, n->column,
                        std::string(d.key) + ": '" + std::string(n->text().substr(0, 60)) + "' is not a " +
                            (d.type == VT::Bool ? "boolean" : d.type == VT::Int ? "whole number" : "string")});
    }
  }
  for (const MapEntry& e : entries(get(root, "featureGates"))) {
    auto b = e.value ? e.value->as_bool() : std::nullopt;
    if (!b) {
      errors.push_back({path, e.key->line, e.key->column, "featureGates." + std::string(str(e.key)) + ": not a boolean"});
      continue;
    }
    c.feature_gates[std::string(str(e.key))] = {*b, "config file " + path};
  }
}

void apply_flags(Component& c, std::span<const SettingDef> defs, const ParsedFlags& flags, const std::string& where,
                 std::vector<InputError>& errors) {
  for (const SettingDef& d : defs) {
    const std::string* v = flags.get(d.flag);
    if (!v) continue;
    if (!set_value(c, d, *v, "flag --" + std::string(d.flag) + " on the " + where))
      errors.push_back({where, 0, 0, "--" + std::string(d.flag) + "=" + v->substr(0, 60) + " is not a valid value"});
  }
  if (const std::string* gates = flags.get("feature-gates")) {
    for (const std::string& g : split_commas(*gates)) {
      const std::size_t eq = g.find('=');
      auto b = eq == std::string::npos ? std::nullopt : parse_bool(std::string_view(g).substr(eq + 1));
      if (!b) {
        errors.push_back({where, 0, 0, "--feature-gates: '" + g.substr(0, 60) + "' is not NAME=true|false"});
        continue;
      }
      c.feature_gates[g.substr(0, eq)] = {*b, "flag --feature-gates on the " + where};
    }
  }
}

// Loads YAML or JSON text; the first document's root (null on failure, errors kept).
const Node* load_root(SourceFile& file, std::vector<InputError>& errors) {
  load_documents(file);
  for (const InputError& e : file.errors) errors.push_back(e);
  return file.documents.empty() ? nullptr : file.documents.front().root;
}

// A tree of dotted keys, to write the flat values as nested JSON.
struct Tree {
  std::map<std::string, Tree> children;
  const Value* leaf = nullptr;
};

void write_value(JsonWriter& w, const Value& v) {
  switch (v.type) {
    case VT::Bool: w.value(v.scalar == "true"); break;
    case VT::Int: {
      const long long n = std::stoll(v.scalar);
      if (n >= INT32_MIN && n <= INT32_MAX) w.value(static_cast<int>(n));
      else w.value(v.scalar);
      break;
    }
    case VT::List:
      w.begin_array();
      for (const std::string& s : v.list) w.value(s);
      w.end_array();
      break;
    default: w.value(v.scalar);
  }
}

void write_tree(JsonWriter& w, const Tree& t) {
  w.begin_object();
  for (const auto& [k, child] : t.children) {
    w.key(k);
    if (child.leaf) write_value(w, *child.leaf);
    else write_tree(w, child);
  }
  w.end_object();
}

void write_component_config(JsonWriter& w, const Component& c) {
  Tree root;
  for (const auto& [key, v] : c.values) {
    Tree* t = &root;
    std::size_t i = 0;
    while (true) {
      const std::size_t dot = key.find('.', i);
      t = &t->children[key.substr(i, dot == std::string::npos ? std::string::npos : dot - i)];
      if (dot == std::string::npos) break;
      i = dot + 1;
    }
    t->leaf = &v;
  }
  w.key("config");
  // featureGates written beside the tree's other keys.
  w.begin_object();
  for (const auto& [k, child] : root.children) {
    w.key(k);
    if (child.leaf) write_value(w, *child.leaf);
    else write_tree(w, child);
  }
  if (!c.feature_gates.empty()) {
    w.key("featureGates").begin_object();
    for (const auto& [g, v] : c.feature_gates) w.field(g, v.first);
    w.end_object();
  }
  w.end_object();
  w.key("origins").begin_object();
  for (const auto& [key, v] : c.values) w.field(key, v.origin);
  for (const auto& [g, v] : c.feature_gates) w.field("featureGates." + g, v.second);
  w.end_object();
}

void write_strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& list) {
  w.key(key).begin_array();
  for (const std::string& s : list) w.value(s);
  w.end_array();
}

std::string join_words(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string basename_of(std::string_view p) {
  const std::size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// ---- what this process may not read -----------------------------------------

bool denied(int error) { return error == EACCES || error == EPERM; }

NodeGap make_gap(std::string path, std::string scope, int error, std::string_view what) {
  NodeGap g;
  g.path = std::move(path);
  g.scope = std::move(scope);
  g.reason = denied(error) ? "Forbidden" : "Unreadable";
  g.message = std::string(what) + " " + g.path + " cannot be read as uid " + std::to_string(::geteuid()) + ": " +
              std::strerror(error);
  return g;
}

// ---- the kubelet -----------------------------------------------------------

struct ComponentRead {
  bool found = false;
  host::ServiceUnit unit;
  std::string config_file;      // the config file read (empty: none)
  bool config_flag = false;     // --config given
  std::string kubeconfig;       // --kubeconfig (kubelet) / clientConnection.kubeconfig (proxy)
  Component c;
  std::string unreadable;       // a file of it this uid may not read (its settings are then a gap)
};

// The running configuration of a kubelet's /configz answer: every default and
// flag already applied; false (with an error) when it is not one.
bool apply_configz(ComponentRead& k, const std::string& text, const std::string& source, std::vector<InputError>& errors) {
  SourceFile f;
  f.path = source;
  f.content = text;
  const Node* root = load_root(f, errors);
  const Node* cfg = get(root, "kubeletconfig");
  if (!cfg || !cfg->is_map()) {
    errors.push_back({source, root ? root->line : 0, root ? root->column : 0,
                      "not a kubelet /configz answer (no kubeletconfig object)"});
    return false;
  }
  k.found = true;
  apply_config_file(k.c, kKubelet, cfg, source, errors);
  for (auto& [key, v] : k.c.values) v.origin = "the running kubelet, " + source;
  for (auto& [g, v] : k.c.feature_gates) v.second = "the running kubelet, " + source;
  return true;
}

ComponentRead read_kubelet(const HostRoot& root, const NodeReadOptions& options, NodeRead& out) {
  std::vector<InputError>& errors = out.errors;
  std::vector<std::string>& notes = out.notes;
  ComponentRead k;
  k.unit = host::read_service(root, "kubelet.service");
  for (const InputError& e : k.unit.errors) errors.push_back(e);
  ParsedFlags flags;
  const std::string where = k.unit.unit_path.empty() ? std::string("kubelet.service") : "kubelet.service command line";
  if (!k.unit.argv.empty()) flags = host::parse_flags(k.unit.argv, 1, kKubeletBool);
  // A unit, drop-in, EnvironmentFile or config file that is there but not for this uid: the
  // kubelet's settings would be defaults and part of its flags, so they are not judged from the
  // files (never a pass). The running kubelet's /configz stands in when the caller can fetch it;
  // otherwise the kubelet rules are a coverage gap. The files' modes and owners are still judged.
  auto unreadable = [&](const std::string& path, int error, std::string_view what) {
    NodeGap gap = make_gap(path, "kubelet", error, what);
    std::string source;
    std::string why;
    if (options.kubelet_configz) {
      if (auto configz = options.kubelet_configz(source, why)) {
        ComponentRead running;
        running.unit = k.unit;
        running.config_file = k.config_file;
        running.config_flag = k.config_flag;
        if (apply_configz(running, *configz, source, errors)) {
          notes.push_back(gap.message + "; judging the running kubelet's configuration from " + source);
          if (const std::string* kc = flags.get("kubeconfig")) running.kubeconfig = *kc;
          running.unreadable = path;
          return running;
        }
        why = source + " is not a /configz answer";
      }
      gap.message += "; the running configuration could not be read either: " + why;
    }
    out.gaps.push_back(std::move(gap));
    k.found = false;
    k.c = Component{};
    k.unreadable = path;
    if (const std::string* kc = flags.get("kubeconfig")) k.kubeconfig = *kc;
    return k;
  };
  if (const std::string* cfg = flags.get("config")) {
    k.config_flag = true;
    k.config_file = *cfg;
  }
  if (!k.unit.denied.empty()) return unreadable(k.unit.denied.front(), EACCES, "the kubelet's unit");
  if (!k.config_flag && !k.unit.found() && root.exists("/var/lib/kubelet/config.yaml")) {
    k.config_file = "/var/lib/kubelet/config.yaml";  // no unit: kubeadm's config file alone
    notes.push_back("no kubelet.service unit found; judging /var/lib/kubelet/config.yaml without flags");
  }
  k.found = k.unit.found() || !k.config_file.empty();
  if (!k.found) {
    notes.push_back("no kubelet found (no kubelet.service unit, no /var/lib/kubelet/config.yaml): kubelet rules not applicable");
    return k;
  }
  if (k.unit.found() && k.unit.argv.empty())
    errors.push_back({k.unit.unit_path, 0, 0, "kubelet.service has no ExecStart= in force"});
  apply_defaults(k.c, kKubelet, !k.config_file.empty());
  if (!k.config_file.empty()) {
    SourceFile f;
    f.path = k.config_file;
    int error = 0;
    if (!root.read(k.config_file, f.content, std::size_t{4} << 20, &error) && error != ENOENT && error != ENOTDIR)
      return unreadable(k.config_file, error, "the kubelet's config file");
    if (error != 0) {
      errors.push_back({k.config_file, 0, 0, "the kubelet's config file cannot be read"});
    } else if (const Node* r = load_root(f, errors)) {
      const std::string_view kind = str(get(r, "kind"));
      if (kind != "KubeletConfiguration")
        errors.push_back({k.config_file, r->line, r->column, "kind is '" + std::string(kind) + "', expected KubeletConfiguration"});
      apply_config_file(k.c, kKubelet, r, k.config_file, errors);
    }
  }
  apply_flags(k.c, kKubelet, flags, where, errors);
  if (const std::string* kc = flags.get("kubeconfig")) k.kubeconfig = *kc;
  return k;
}

ComponentRead read_kube_proxy(const HostRoot& root, NodeRead& out) {
  std::vector<InputError>& errors = out.errors;
  std::vector<std::string>& notes = out.notes;
  ComponentRead p;
  p.unit = host::read_service(root, "kube-proxy.service");
  for (const InputError& e : p.unit.errors) errors.push_back(e);
  if (!p.unit.denied.empty()) {
    out.gaps.push_back(make_gap(p.unit.denied.front(), "kubeProxy", EACCES, "kube-proxy's unit"));
    return p;  // not found: its settings are unknown, so its rules are not judged
  }
  ParsedFlags flags;
  if (!p.unit.argv.empty()) flags = host::parse_flags(p.unit.argv, 1, kProxyBool);
  if (const std::string* cfg = flags.get("config")) {
    p.config_flag = true;
    p.config_file = *cfg;
  } else if (!p.unit.found() && root.exists("/var/lib/kube-proxy/config.conf")) {
    p.config_file = "/var/lib/kube-proxy/config.conf";  // kubeadm's ConfigMap, as its Pod mounts it
  }
  p.found = p.unit.found() || !p.config_file.empty();
  if (!p.found) {
    notes.push_back("no kube-proxy found on the node (no kube-proxy.service, no /var/lib/kube-proxy/config.conf); "
                    "a kubeadm kube-proxy runs as a DaemonSet whose ConfigMap a cluster scan reads");
    return p;
  }
  apply_defaults(p.c, kKubeProxy, true);
  // kube-proxy with --config takes its settings from the file and ignores the flags.
  if (!p.config_file.empty()) {
    SourceFile f;
    f.path = p.config_file;
    int error = 0;
    if (!root.read(p.config_file, f.content, std::size_t{4} << 20, &error) && error != ENOENT && error != ENOTDIR) {
      out.gaps.push_back(make_gap(p.config_file, "kubeProxy", error, "kube-proxy's config file"));
      p.found = false;
      p.c = Component{};
      return p;
    }
    if (error != 0) {
      errors.push_back({p.config_file, 0, 0, "kube-proxy's config file cannot be read"});
    } else if (const Node* r = load_root(f, errors)) {
      apply_config_file(p.c, kKubeProxy, r, p.config_file, errors);
    }
  } else {
    apply_flags(p.c, kKubeProxy, flags, "kube-proxy.service command line", errors);
  }
  if (auto it = p.c.values.find("clientConnection.kubeconfig"); it != p.c.values.end()) p.kubeconfig = it->second.scalar;
  return p;
}

void write_component(JsonWriter& w, std::string_view key, const ComponentRead& r, bool kubelet) {
  w.key(key).begin_object();
  w.field("found", r.found);
  if (r.found) {
    w.field("unit", r.unit.unit_path);
    write_strings(w, "dropIns", r.unit.drop_ins);
    write_strings(w, "environmentFiles", r.unit.env_files);
    w.field("commandLine", join_words(r.unit.argv));
    w.field("configFile", r.config_file);
    if (kubelet) w.field("kubeconfig", r.kubeconfig);
    write_component_config(w, r.c);
  }
  w.end_object();
}

// ---- files -----------------------------------------------------------------

struct RoleFile {
  std::string role;
  FileFact fact;
};

std::string octal(std::uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777U);
  return buf;
}

// The etcd data directory: --data-dir of the etcd static Pod (read by the
// control-plane rules' flag parser, checks/component_flags: Go's flag package,
// `-data-dir` as well, ETCD_DATA_DIR), else kubeadm's default. A manifest this
// uid may not read leaves the directory unknown (nullopt, and a gap).
std::optional<std::string> etcd_data_dir(const HostRoot& root, const std::string& manifest, std::vector<NodeGap>& gaps) {
  std::string content;
  int error = 0;
  if (!root.read(manifest, content, std::size_t{4} << 20, &error)) {
    if (denied(error)) {
      // Its --data-dir is unknown: a gap; kubeadm's default is still judged when it is there.
      gaps.push_back(make_gap(manifest, "file:etcdDataDir", error, "the etcd manifest (for --data-dir)"));
      if (root.exists("/var/lib/etcd")) return "/var/lib/etcd";
      return std::nullopt;
    }
    return "/var/lib/etcd";
  }
  if (const auto etcd = component_of_manifest(manifest, std::move(content), ControlPlaneComponent::Etcd))
    if (const ComponentFlag* d = etcd->find("data-dir"); d && !d->value.empty()) return d->value;
  return "/var/lib/etcd";
}

// The files the file rules judge, and what this uid could not see of them.
struct FileScan {
  std::vector<RoleFile> files;
  std::vector<NodeGap>& gaps;
};

void add_file(FileScan& out, const HostRoot& root, std::string role, const std::string& path) {
  if (path.empty()) return;
  FileFact f = root.stat(path);
  if (!f.exists) {
    // stat needs no read access, only a way through the folders above it.
    if (f.error != 0 && f.error != ENOENT && f.error != ENOTDIR)
      out.gaps.push_back(make_gap(f.path, "file:" + role, f.error, "the mode and owner of"));
    return;
  }
  out.files.push_back({std::move(role), std::move(f)});
}

// Every file and folder under `dir` (bounded), for the PKI folder.
void add_tree(FileScan& out, const HostRoot& root, const std::string& dir,
              const std::function<std::string(const FileFact&)>& role_of, const std::string& gap_role, int depth = 0) {
  if (depth > 4) return;
  int error = 0;
  const std::vector<std::string> names = root.list(dir, &error);
  if (denied(error)) out.gaps.push_back(make_gap(dir, "file:" + gap_role, error, "the folder"));
  for (const std::string& name : names) {
    const std::string p = dir + "/" + name;
    FileFact f = root.stat(p);
    if (!f.exists) continue;
    const bool is_dir = f.is_dir;
    const std::string role = role_of(f);
    if (!role.empty()) out.files.push_back({role, f});
    if (is_dir) add_tree(out, root, p, role_of, gap_role, depth + 1);
    if (out.files.size() > 20000) return;
  }
}

std::vector<RoleFile> collect_files(const HostRoot& root, const ComponentRead& kubelet, const ComponentRead& proxy,
                                    std::vector<NodeGap>& gaps) {
  FileScan out{{}, gaps};
  std::string manifests = "/etc/kubernetes/manifests";
  if (auto it = kubelet.c.values.find("staticPodPath"); it != kubelet.c.values.end() && !it->second.scalar.empty())
    manifests = it->second.scalar;
  static constexpr std::pair<std::string_view, std::string_view> kManifests[] = {
      {"apiserverManifest", "kube-apiserver.yaml"},
      {"controllerManagerManifest", "kube-controller-manager.yaml"},
      {"schedulerManifest", "kube-scheduler.yaml"},
      {"etcdManifest", "etcd.yaml"}};
  for (const auto& [role, name] : kManifests) add_file(out, root, std::string(role), manifests + "/" + std::string(name));
  {
    int error = 0;
    const std::vector<std::string> cni = root.list("/etc/cni/net.d", &error);
    if (denied(error)) gaps.push_back(make_gap("/etc/cni/net.d", "file:cniConfig", error, "the folder"));
    for (const std::string& name : cni) add_file(out, root, "cniConfig", "/etc/cni/net.d/" + name);
  }
  const std::string etcd_manifest = manifests + "/etcd.yaml";
  if (root.exists(etcd_manifest) || root.exists("/var/lib/etcd"))
    if (const auto dir = etcd_data_dir(root, etcd_manifest, gaps)) add_file(out, root, "etcdDataDir", *dir);
  add_file(out, root, "adminKubeconfig", "/etc/kubernetes/admin.conf");
  add_file(out, root, "adminKubeconfig", "/etc/kubernetes/super-admin.conf");
  add_file(out, root, "schedulerKubeconfig", "/etc/kubernetes/scheduler.conf");
  add_file(out, root, "controllerManagerKubeconfig", "/etc/kubernetes/controller-manager.conf");
  if (root.exists("/etc/kubernetes/pki")) {
    add_file(out, root, "pkiDir", "/etc/kubernetes/pki");
    add_tree(out, root, "/etc/kubernetes/pki", [](const FileFact&) { return std::string("pkiDir"); }, "pkiDir");
    std::vector<NodeGap> again;  // the same folders, listed a second time: their gaps are already named
    FileScan keys{{}, again};
    add_tree(keys, root, "/etc/kubernetes/pki", [](const FileFact& f) -> std::string {
      if (f.is_dir) return {};
      if (f.path.ends_with(".crt")) return "pkiCert";
      if (f.path.ends_with(".key")) return "pkiKey";
      return {};
    }, "pkiDir");
    for (RoleFile& f : keys.files) out.files.push_back(std::move(f));
    for (NodeGap& g : again) {
      g.scope = "file:pkiKey";  // the key and certificate rules cannot see into it either
      gaps.push_back(g);
      g.scope = "file:pkiCert";
      gaps.push_back(std::move(g));
    }
  }
  add_file(out, root, "kubeletService", kubelet.unit.unit_path);
  for (const std::string& d : kubelet.unit.drop_ins) add_file(out, root, "kubeletService", d);
  std::string proxy_kubeconfig = proxy.kubeconfig;
  if (proxy_kubeconfig.empty() && root.exists("/var/lib/kube-proxy/kubeconfig.conf"))
    proxy_kubeconfig = "/var/lib/kube-proxy/kubeconfig.conf";
  add_file(out, root, "proxyKubeconfig", proxy_kubeconfig);
  add_file(out, root, "kubeletKubeconfig", kubelet.kubeconfig.empty() && (kubelet.found || kubelet.unit.found()) ? "/etc/kubernetes/kubelet.conf" : kubelet.kubeconfig);
  const auto ca = kubelet.c.values.find("authentication.x509.clientCAFile");
  if (ca != kubelet.c.values.end()) add_file(out, root, "clientCA", ca->second.scalar);
  add_file(out, root, "kubeletConfig", kubelet.config_file);
  // Paths only the unreadable file would have named: their files are not judged either.
  if (!kubelet.unreadable.empty()) {
    NodeGap g;
    g.path = kubelet.unreadable;
    g.reason = "Forbidden";
    if (kubelet.config_file.empty()) {
      g.scope = "file:kubeletConfig";
      g.message = "the kubelet's config file is unknown: its --config is in " + kubelet.unreadable +
                  ", which uid " + std::to_string(::geteuid()) + " cannot read";
      gaps.push_back(g);
    }
    if (ca == kubelet.c.values.end()) {
      g.scope = "file:clientCA";
      g.message = "the kubelet's client CA file is unknown: it is named in " + kubelet.unreadable + ", which uid " +
                  std::to_string(::geteuid()) + " cannot read";
      gaps.push_back(std::move(g));
    }
  }
  return std::move(out.files);
}

// ---- long-lived credentials ------------------------------------------------

struct Credential {
  std::string path;
  std::string type;    // private-key | kubeconfig-token | kubeconfig-client-key | cloud-credentials
  std::string detail;  // what it is, for the message
  std::string mode;
};

bool under(std::string_view path, std::string_view dir) {
  return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

// Where credentials belong: the kubelet's and the control plane's PKI, the
// components' own kubeconfigs (judged by the file rules), SSH host keys.
bool expected_location(const std::string& path) {
  if (under(path, "/etc/kubernetes/pki") || under(path, "/var/lib/kubelet/pki")) return true;
  static constexpr std::string_view kComponentKubeconfigs[] = {
      "/etc/kubernetes/kubelet.conf", "/etc/kubernetes/bootstrap-kubelet.conf", "/etc/kubernetes/scheduler.conf",
      "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf",
      "/var/lib/kube-proxy/kubeconfig.conf", "/var/lib/kubelet/kubeconfig"};
  for (std::string_view k : kComponentKubeconfigs)
    if (path == k) return true;
  if (path.starts_with("/etc/ssh/ssh_host_")) return true;
  return false;
}

std::optional<Credential> classify(const std::string& path, const std::string& text) {
  Credential c;
  c.path = path;
  const std::string name = basename_of(path);
  if (path.ends_with("/.aws/credentials") && text.find("aws_secret_access_key") != std::string::npos) {
    c.type = "cloud-credentials";
    c.detail = "AWS access keys";
    return c;
  }
  if (name == "application_default_credentials.json" || name == "credentials.db" ||
      (text.find("\"type\": \"service_account\"") != std::string::npos && text.find("\"private_key\"") != std::string::npos)) {
    if (text.find("private_key") != std::string::npos || text.find("refresh_token") != std::string::npos ||
        name == "credentials.db") {
      c.type = "cloud-credentials";
      c.detail = "Google Cloud credentials";
      return c;
    }
  }
  if ((name == "azure.json" && text.find("aadClientSecret") != std::string::npos &&
       text.find("\"aadClientSecret\": \"\"") == std::string::npos) ||
      name == "accessTokens.json" || name == "msal_token_cache.json") {
    c.type = "cloud-credentials";
    c.detail = "Azure credentials";
    return c;
  }
  if (text.find("-----BEGIN ") != std::string::npos && text.find("PRIVATE KEY-----") != std::string::npos) {
    // "-----BEGIN RSA PRIVATE KEY-----", "EC", "OPENSSH", "ENCRYPTED", plain PKCS#8.
    const std::size_t b = text.find("-----BEGIN ");
    const std::size_t e = text.find("-----", b + 11);
    if (e != std::string::npos && text.substr(b + 11, e - b - 11).ends_with("PRIVATE KEY")) {
      c.type = "private-key";
      c.detail = "PEM " + text.substr(b + 11, e - b - 11);
      return c;
    }
  }
  if (text.find("kind: Config") != std::string::npos || text.find("\"kind\": \"Config\"") != std::string::npos) {
    if (text.find("clusters:") != std::string::npos || text.find("\"clusters\"") != std::string::npos) {
      if (text.find("client-key-data:") != std::string::npos || text.find("client-key:") != std::string::npos ||
          text.find("\"client-key-data\"") != std::string::npos) {
        c.type = "kubeconfig-client-key";
        c.detail = "kubeconfig with a client certificate key";
        return c;
      }
      if (text.find(" token:") != std::string::npos || text.find("\"token\"") != std::string::npos ||
          text.find("password:") != std::string::npos) {
        c.type = "kubeconfig-token";
        c.detail = "kubeconfig with a bearer token or password";
        return c;
      }
    }
  }
  return std::nullopt;
}

void walk_credentials(const HostRoot& root, const std::string& dir, int depth, std::size_t& budget,
                      std::vector<Credential>& out, std::vector<std::string>& denied_paths) {
  if (depth > 6 || budget == 0) return;
  int list_error = 0;
  const std::vector<std::string> names = root.list(dir, &list_error);
  if (denied(list_error)) denied_paths.push_back(dir);
  for (const std::string& name : names) {
    if (budget == 0) return;
    const std::string p = (dir == "/" ? "" : dir) + "/" + name;
    if (expected_location(p)) continue;
    // Links are not followed: they could loop or lead out of the walked folders, and a linked
    // file is found at its target when that is walked. The walk never enters a link, so the
    // host path is the root's plus the node path.
    std::error_code ec;
    if (std::filesystem::is_symlink(root.root() + p, ec)) continue;
    FileFact f = root.stat(p);
    if (!f.exists) continue;
    --budget;
    if (f.is_dir) {
      // Kernel file systems, and the test data and package trees of language runtimes and
      // tools (their test suites ship sample private keys: not credentials).
      static constexpr std::string_view kSkip[] = {"proc", "sys", "dev", ".git", "node_modules", "site-packages",
                                                   "dist-packages", "test", "tests", "testdata", ".cache"};
      if (std::find(std::begin(kSkip), std::end(kSkip), name) != std::end(kSkip)) continue;
      walk_credentials(root, p, depth + 1, budget, out, denied_paths);
      continue;
    }
    // Source code holds sample keys in its tests; a credential is never a source file.
    static constexpr std::string_view kSourceExt[] = {".go", ".py", ".js", ".ts", ".java", ".c", ".h", ".cc", ".cpp",
                                                      ".rs", ".rb", ".php", ".cs", ".kt", ".scala", ".swift", ".pl",
                                                      ".sh", ".md", ".html", ".rst"};
    const std::size_t dot = name.rfind('.');
    if (dot != std::string::npos &&
        std::find(std::begin(kSourceExt), std::end(kSourceExt), std::string_view(name).substr(dot)) != std::end(kSourceExt))
      continue;
    std::string text;
    int error = 0;
    if (!root.read(p, text, std::size_t{256} << 10, &error)) {
      if (denied(error)) denied_paths.push_back(p);
      continue;
    }
    if (auto c = classify(p, text)) {
      c->mode = octal(f.mode);
      out.push_back(std::move(*c));
    }
  }
}

std::vector<Credential> find_credentials(const HostRoot& root, std::size_t max_files, std::vector<NodeGap>& gaps) {
  std::vector<Credential> out;
  std::size_t budget = max_files;
  static constexpr std::string_view kDirs[] = {"/root", "/home", "/etc", "/var/lib/kubelet", "/opt", "/srv", "/tmp",
                                               "/var/tmp", "/usr/local/etc"};
  std::vector<std::string> denied_paths;
  for (std::string_view d : kDirs) walk_credentials(root, std::string(d), 0, budget, out, denied_paths);
  // One gap for the walk, naming the first paths this uid could not read and how many in all.
  if (!denied_paths.empty()) {
    NodeGap g;
    g.path = denied_paths.front();
    g.scope = "credentials";
    g.reason = "Forbidden";
    g.message = "the credentials walk could not read " + std::to_string(denied_paths.size()) + " path" +
                (denied_paths.size() == 1 ? "" : "s") + " as uid " + std::to_string(::geteuid()) + ": ";
    for (std::size_t i = 0; i < denied_paths.size() && i < 10; ++i) g.message += (i ? ", " : "") + denied_paths[i];
    if (denied_paths.size() > 10) g.message += ", ...";
    gaps.push_back(std::move(g));
  }
  std::sort(out.begin(), out.end(), [](const Credential& a, const Credential& b) { return a.path < b.path; });
  out.erase(std::unique(out.begin(), out.end(), [](const Credential& a, const Credential& b) { return a.path == b.path; }),
            out.end());
  return out;
}

std::string node_name_of(const HostRoot& root, const NodeReadOptions& options, const ComponentRead& kubelet) {
  if (!options.node_name.empty()) return options.node_name;
  if (auto it = kubelet.c.values.find("hostnameOverride"); it != kubelet.c.values.end() && !it->second.scalar.empty())
    return it->second.scalar;
  std::string h;
  if (root.read("/etc/hostname", h, 4096)) {
    while (!h.empty() && (h.back() == '\n' || h.back() == ' ' || h.back() == '\r')) h.pop_back();
    if (const std::size_t nl = h.find('\n'); nl != std::string::npos) h.resize(nl);
    if (!h.empty()) return h;
  }
  return "node";
}

}  // namespace

const std::vector<std::string_view>& kubelet_bool_flags() { return kKubeletBool; }

NodeRead read_node(const HostRoot& root, const NodeReadOptions& options) {
  NodeRead r;
  const ComponentRead kubelet = read_kubelet(root, options, r);
  const ComponentRead proxy = read_kube_proxy(root, r);
  const std::vector<RoleFile> files = collect_files(root, kubelet, proxy, r.gaps);
  const std::vector<Credential> credentials =
      options.credentials ? find_credentials(root, options.max_credential_files, r.gaps) : std::vector<Credential>{};
  r.node_name = node_name_of(root, options, kubelet);
  std::string manifests = "/etc/kubernetes/manifests";
  if (auto it = kubelet.c.values.find("staticPodPath"); it != kubelet.c.values.end() && !it->second.scalar.empty())
    manifests = it->second.scalar;
  const EtcdCa etcd_ca = read_etcd_ca(root, manifests);
  r.coverage = etcd_ca_coverage(etcd_ca, r.node_name);
  std::ostringstream out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.field("apiVersion", "kguard.io/v1");
    w.field("kind", "NodeConfig");
    w.key("metadata").begin_object();
    w.field("name", r.node_name);
    w.end_object();
    w.key("spec").begin_object();
    w.field("source", "files");
    w.field("root", root.root().empty() ? std::string("/") : root.root());
    write_component(w, "kubelet", kubelet, true);
    write_component(w, "kubeProxy", proxy, false);
    w.key("files").begin_array();
    for (const RoleFile& f : files) {
      w.begin_object();
      w.field("role", f.role);
      w.field("path", f.fact.path);
      w.field("type", f.fact.is_dir ? "directory" : "file");
      w.field("mode", octal(f.fact.mode));
      w.field("uid", static_cast<std::uint64_t>(f.fact.uid));
      w.field("gid", static_cast<std::uint64_t>(f.fact.gid));
      w.field("user", f.fact.user.empty() ? std::to_string(f.fact.uid) : f.fact.user);
      w.field("group", f.fact.group.empty() ? std::to_string(f.fact.gid) : f.fact.group);
      w.end_object();
    }
    w.end_array();
    write_etcd_ca(w, etcd_ca);
    w.field("credentialsScanned", options.credentials);
    w.key("credentials").begin_array();
    for (const Credential& c : credentials) {
      w.begin_object();
      w.field("path", c.path);
      w.field("type", c.type);
      w.field("mode", c.mode);
      w.field("finding", c.path + ": " + c.detail + " (mode " + c.mode + ")");
      w.end_object();
    }
    w.end_array();
    w.end_object();
    w.end_object();
  }
  r.object_json = out.str();
  return r;
}

NodeRead node_from_configz(const std::string& node_name, std::string_view configz_json, const std::string& source) {
  NodeRead r;
  r.node_name = node_name;
  ComponentRead k;
  apply_configz(k, std::string(configz_json), source, r.errors);
  std::ostringstream out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.field("apiVersion", "kguard.io/v1");
    w.field("kind", "NodeConfig");
    w.key("metadata").begin_object();
    w.field("name", node_name);
    w.end_object();
    w.key("spec").begin_object();
    w.field("source", "configz");
    w.key("kubelet").begin_object();
    w.field("found", k.found);
    if (k.found) {
      w.field("configFile", source);
      write_component_config(w, k.c);
    }
    w.end_object();
    w.key("kubeProxy").begin_object();
    w.field("found", false);
    w.end_object();
    w.end_object();
    w.end_object();
  }
  r.object_json = out.str();
  return r;
}

}  // namespace kg::node
