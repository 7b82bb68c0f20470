// The Pod Security Standards controls, exactly as k8s.io/pod-security-admission
// evaluates them, for every policy version (docs/pss-semantics.md is the
// specification; the conformance test runs all upstream fixtures).
//
// Upstream semantics differ from "effective security context" in places on
// purpose (e.g. a pod-level runAsNonRoot: false fails even when every
// container sets true); those quirks are reproduced, not fixed.
#include <algorithm>
#include <array>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

using checks::describe;
using checks::present;
using checks::quote;
using checks::starts_with;

enum class Control {
  AppArmorProfile,
  CapabilitiesBaseline,
  HostNamespaces,
  HostPathVolumes,
  HostPorts,
  Privileged,
  ProcMount,
  SeccompBaseline,
  SeLinuxOptions,
  Sysctls,
  WindowsHostProcess,
  HostProbesAndLifecycle,
  RestrictedVolumes,
  RunAsNonRoot,
  AllowPrivilegeEscalation,
  SeccompRestricted,
  CapabilitiesRestricted,
  RunAsUser,
  ProcMountRestricted,
};

struct ControlName {
  std::string_view name;
  Control control;
};

constexpr ControlName kControls[] = {
    {"appArmorProfile", Control::AppArmorProfile},
    {"capabilities_baseline", Control::CapabilitiesBaseline},
    {"hostNamespaces", Control::HostNamespaces},
    {"hostPathVolumes", Control::HostPathVolumes},
    {"hostPorts", Control::HostPorts},
    {"privileged", Control::Privileged},
    {"procMount", Control::ProcMount},
    {"seccompProfile_baseline", Control::SeccompBaseline},
    {"seLinuxOptions", Control::SeLinuxOptions},
    {"sysctls", Control::Sysctls},
    {"windowsHostProcess", Control::WindowsHostProcess},
    {"hostProbesAndHostLifecycle", Control::HostProbesAndLifecycle},
    {"restrictedVolumes", Control::RestrictedVolumes},
    {"runAsNonRoot", Control::RunAsNonRoot},
    {"allowPrivilegeEscalation", Control::AllowPrivilegeEscalation},
    {"seccompProfile_restricted", Control::SeccompRestricted},
    {"capabilities_restricted", Control::CapabilitiesRestricted},
    {"runAsUser", Control::RunAsUser},
    {"procMount_restricted", Control::ProcMountRestricted},
};




// Collects violations for one object with the paths that findings need.
class Sink {
 public:
  Sink(const CheckInput& in, std::vector<Violation>& out) : in_(in), out_(out) {}
  void add(std::string message, const Node* at, std::string path, std::string_view container = {}) {
    out_.push_back(Violation{std::move(message), at, std::move(path), std::string(container)});
  }
  const PodView& pod() const { return in_.pod; }
  const Node* spec() const { return in_.pod.spec; }
  const Node* pod_sc() const { return in_.pod.spec->get("securityContext"); }
  std::string pod_sc_path(std::string_view field = {}) const {
    return join_path(join_path(in_.pod.spec_path, "securityContext"), field);
  }
  bool empty() const { return out_.empty(); }

 private:
  const CheckInput& in_;
  std::vector<Violation>& out_;
};

std::string sc_path(const ContainerRef& c, std::string_view field) {
  return join_path(join_path(c.path, "securityContext"), field);
}


bool is_windows(const Node* spec) { return str(get(get(spec, "os"), "name")) == "windows"; }
bool user_namespaced(const Node* spec) { return is_false(get(spec, "hostUsers")); }

// --- controls -------------------------------------------------------------

void app_armor(Sink& s, const std::vector<ContainerRef>& cs) {
  static constexpr std::string_view kPrefix = "container.apparmor.security.beta.kubernetes.io/";
  for (const MapEntry& e : entries(get(s.pod().meta, "annotations"))) {
    std::string_view key = e.key->text();
    if (!starts_with(key, kPrefix)) continue;
    std::string_view v = str(e.value);
    if (v.empty() || v == "runtime/default" || starts_with(v, "localhost/")) continue;
    s.add("annotation " + std::string(key) + "=" + quote(v) + " sets a forbidden AppArmor profile",
          e.value, join_path(join_path(s.pod().meta_path, "annotations"), key),
          key.substr(kPrefix.size()));
  }
  auto field_ok = [](const Node* profile) {
    std::string_view t = str(get(profile, "type"));
    return t == "RuntimeDefault" || t == "Localhost";
  };
  if (const Node* p = get(s.pod_sc(), "appArmorProfile"); present(p) && !field_ok(p)) {
    s.add("pod sets a forbidden AppArmor profile type " + quote(str(get(p, "type"))), p,
          s.pod_sc_path("appArmorProfile.type"));
  }
  for (const ContainerRef& c : cs) {
    if (const Node* p = get(c.node->get("securityContext"), "appArmorProfile");
        present(p) && !field_ok(p)) {
      s.add(describe(c) + " sets a forbidden AppArmor profile type " + quote(str(get(p, "type"))),
            p, sc_path(c, "appArmorProfile.type"), c.name);
    }
  }
}

void capabilities_baseline(Sink& s, const std::vector<ContainerRef>& cs) {
  static constexpr std::array<std::string_view, 13> kAllowed = {
      "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID",   "KILL",      "MKNOD",
      "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"};
  for (const ContainerRef& c : cs) {
    const Node* add = get(get(c.node->get("securityContext"), "capabilities"), "add");
    std::size_t i = 0;
    for (const Node* cap : items(add)) {
      std::string_view name = str(cap);
      if (std::find(kAllowed.begin(), kAllowed.end(), name) == kAllowed.end()) {
        s.add(describe(c) + " adds non-default capability " + quote(name), cap,
              index_path(sc_path(c, "capabilities.add"), i), c.name);
      }
      ++i;
    }
  }
}

void host_namespaces(Sink& s) {
  for (std::string_view f : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (const Node* n = s.spec()->get(f); is_true(n)) {
      s.add("pod shares the host's namespaces: " + std::string(f) + "=true", n,
            join_path(s.pod().spec_path, f));
    }
  }
}

void host_path_volumes(Sink& s) {
  std::size_t i = 0;
  for (const Node* v : items(s.spec()->get("volumes"))) {
    if (const Node* hp = get(v, "hostPath"); present(hp)) {
      s.add("volume " + quote(str(get(v, "name"))) + " mounts a hostPath (" +
                std::string(str(get(hp, "path"))) + ")",
            hp, join_path(index_path(join_path(s.pod().spec_path, "volumes"), i), "hostPath"));
    }
    ++i;
  }
}

void host_ports(Sink& s, const std::vector<ContainerRef>& cs) {
  for (const ContainerRef& c : cs) {
    std::size_t i = 0;
    for (const Node* p : items(c.node->get("ports"))) {
      const Node* hp = get(p, "hostPort");
      if (present(hp) && hp->as_int() != 0) {
        s.add(describe(c) + " uses hostPort " + std::string(hp->text()), hp,
              join_path(index_path(join_path(c.path, "ports"), i), "hostPort"), c.name);
      }
      ++i;
    }
  }
}

void privileged(Sink& s, const std::vector<ContainerRef>& cs) {
  for (const ContainerRef& c : cs) {
    if (const Node* p = get(c.node->get("securityContext"), "privileged"); is_true(p)) {
      s.add(describe(c) + " must not set securityContext.privileged=true", p,
            sc_path(c, "privileged"), c.name);
    }
  }
}

void proc_mount(Sink& s, const std::vector<ContainerRef>& cs) {
  for (const ContainerRef& c : cs) {
    if (const Node* p = get(c.node->get("securityContext"), "procMount");
        present(p) && p->text() != "Default") {
      s.add(describe(c) + " must not set securityContext.procMount to " + quote(p->text()), p,
            sc_path(c, "procMount"), c.name);
    }
  }
}

bool seccomp_annotation_ok(std::string_view v) {
  return v == "runtime/default" || v == "docker/default" || starts_with(v, "localhost/");
}

bool seccomp_type_ok(const Node* profile) {
  std::string_view t = str(get(profile, "type"));
  return t == "RuntimeDefault" || t == "Localhost";
}

void seccomp_baseline(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  if (minor < 19) {
    // Before v1.19 the policy read the alpha annotations, never the fields.
    const Node* ann = get(s.pod().meta, "annotations");
    const std::string ann_path = join_path(s.pod().meta_path, "annotations");
    static constexpr std::string_view kPod = "seccomp.security.alpha.kubernetes.io/pod";
    if (const Node* v = get(ann, kPod); v && !seccomp_annotation_ok(str(v))) {
      s.add("forbidden annotation " + std::string(kPod) + "=" + quote(str(v)), v,
            join_path(ann_path, kPod));
    }
    for (const ContainerRef& c : cs) {
      std::string key = "container.seccomp.security.alpha.kubernetes.io/" + std::string(c.name);
      if (const Node* v = get(ann, key); v && !seccomp_annotation_ok(str(v))) {
        s.add("forbidden annotation " + key + "=" + quote(str(v)), v, join_path(ann_path, key),
              c.name);
      }
    }
    return;
  }
  if (const Node* p = get(s.pod_sc(), "seccompProfile"); present(p) && !seccomp_type_ok(p)) {
    s.add("pod must not set securityContext.seccompProfile.type to " + quote(str(get(p, "type"))),
          p, s.pod_sc_path("seccompProfile.type"));
  }
  for (const ContainerRef& c : cs) {
    if (const Node* p = get(c.node->get("securityContext"), "seccompProfile");
        present(p) && !seccomp_type_ok(p)) {
      s.add(describe(c) + " must not set securityContext.seccompProfile.type to " +
                quote(str(get(p, "type"))),
            p, sc_path(c, "seccompProfile.type"), c.name);
    }
  }
}

void selinux_options(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  auto check = [&](const Node* opts, const std::string& who, std::string path,
                   std::string_view container) {
    if (!present(opts)) return;
    std::string_view type = str(get(opts, "type"));
    const bool type_ok = type.empty() || type == "container_t" || type == "container_init_t" ||
                         type == "container_kvm_t" || (minor >= 31 && type == "container_engine_t");
    std::string problems;
    if (!type_ok) problems += "type " + quote(type);
    for (std::string_view f : {"user", "role"}) {
      if (!str(get(opts, f)).empty()) {
        if (!problems.empty()) problems += "; ";
        problems += std::string(f) + " may not be set";
      }
    }
    if (!problems.empty()) {
      s.add(who + " sets forbidden securityContext.seLinuxOptions: " + problems, opts,
            std::move(path), container);
    }
  };
  check(get(s.pod_sc(), "seLinuxOptions"), "pod", s.pod_sc_path("seLinuxOptions"), {});
  for (const ContainerRef& c : cs) {
    check(get(c.node->get("securityContext"), "seLinuxOptions"), describe(c),
          sc_path(c, "seLinuxOptions"), c.name);
  }
}

bool sysctl_allowed(std::string_view name, int minor) {
  struct Safe {
    std::string_view name;
    int since;
  };
  static constexpr Safe kSafe[] = {
      {"kernel.shm_rmid_forced", 0},
      {"net.ipv4.ip_local_port_range", 0},
      {"net.ipv4.tcp_syncookies", 0},
      {"net.ipv4.ping_group_range", 0},
      {"net.ipv4.ip_unprivileged_port_start", 0},
      {"net.ipv4.ip_local_reserved_ports", 27},
      {"net.ipv4.tcp_keepalive_time", 29},
      {"net.ipv4.tcp_fin_timeout", 29},
      {"net.ipv4.tcp_keepalive_intvl", 29},
      {"net.ipv4.tcp_keepalive_probes", 29},
      {"net.ipv4.tcp_rmem", 32},
      {"net.ipv4.tcp_wmem", 32},
      {"net.ipv4.tcp_slow_start_after_idle", 37},
      {"net.ipv4.tcp_notsent_lowat", 37},
  };
  return std::any_of(std::begin(kSafe), std::end(kSafe),
                     [&](const Safe& sf) { return sf.name == name && minor >= sf.since; });
}

void sysctls(Sink& s, int minor) {
  std::size_t i = 0;
  for (const Node* sc : items(get(s.pod_sc(), "sysctls"))) {
    std::string_view name = str(get(sc, "name"));
    if (!sysctl_allowed(name, minor)) {
      s.add("forbidden sysctl " + quote(name), sc,
            join_path(index_path(s.pod_sc_path("sysctls"), i), "name"));
    }
    ++i;
  }
}

void windows_host_process(Sink& s, const std::vector<ContainerRef>& cs) {
  if (const Node* hp = get(get(s.pod_sc(), "windowsOptions"), "hostProcess"); is_true(hp)) {
    s.add("pod must not set securityContext.windowsOptions.hostProcess=true", hp,
          s.pod_sc_path("windowsOptions.hostProcess"));
  }
  for (const ContainerRef& c : cs) {
    if (const Node* hp = get(get(c.node->get("securityContext"), "windowsOptions"), "hostProcess");
        is_true(hp)) {
      s.add(describe(c) + " must not set securityContext.windowsOptions.hostProcess=true", hp,
            sc_path(c, "windowsOptions.hostProcess"), c.name);
    }
  }
}

void host_probes(Sink& s, const std::vector<ContainerRef>& cs) {
  auto check_handler = [&](const ContainerRef& c, const Node* handler, const std::string& path) {
    for (std::string_view kind : {"httpGet", "tcpSocket"}) {
      if (const Node* host = get(get(handler, kind), "host"); !str(host).empty()) {
        s.add(describe(c) + " uses probe or lifecycle host " + quote(host->text()), host,
              join_path(join_path(path, kind), "host"), c.name);
      }
    }
  };
  for (const ContainerRef& c : cs) {
    for (std::string_view probe : {"livenessProbe", "readinessProbe", "startupProbe"})
      check_handler(c, c.node->get(probe), join_path(c.path, probe));
    for (std::string_view hook : {"postStart", "preStop"}) {
      check_handler(c, get(c.node->get("lifecycle"), hook),
                    join_path(join_path(c.path, "lifecycle"), hook));
    }
  }
}

void restricted_volumes(Sink& s) {
  static constexpr std::string_view kAllowed[] = {
      "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
      "image",     "persistentVolumeClaim", "projected", "secret"};
  std::size_t i = 0;
  for (const Node* v : items(s.spec()->get("volumes"))) {
    bool allowed = false;
    const MapEntry* restricted = nullptr;
    for (const MapEntry& e : entries(v)) {
      std::string_view k = e.key->text();
      if (k == "name" || !present(e.value)) continue;
      if (std::find(std::begin(kAllowed), std::end(kAllowed), k) != std::end(kAllowed)) {
        allowed = true;
      } else if (!restricted) {
        restricted = &e;
      }
    }
    // A volume with no source at all is defaulted to emptyDir by the API.
    if (!allowed && restricted) {
      s.add("volume " + quote(str(get(v, "name"))) + " uses restricted volume type " +
                quote(restricted->key->text()),
            restricted->key,
            join_path(index_path(join_path(s.pod().spec_path, "volumes"), i),
                      restricted->key->text()));
    }
    ++i;
  }
}

void run_as_non_root(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  if (minor >= 35 && user_namespaced(s.spec())) return;
  const Node* pod_value = get(s.pod_sc(), "runAsNonRoot");
  if (is_false(pod_value)) {
    s.add("pod must not set securityContext.runAsNonRoot=false", pod_value,
          s.pod_sc_path("runAsNonRoot"));
  }
  const bool pod_true = is_true(pod_value);
  for (const ContainerRef& c : cs) {
    const Node* v = get(c.node->get("securityContext"), "runAsNonRoot");
    if (is_false(v)) {
      s.add(describe(c) + " must not set securityContext.runAsNonRoot=false", v,
            sc_path(c, "runAsNonRoot"), c.name);
    } else if (!present(v) && !pod_true) {
      s.add("pod or " + describe(c) + " must set securityContext.runAsNonRoot=true", c.node,
            sc_path(c, "runAsNonRoot"), c.name);
    }
  }
}

void allow_privilege_escalation(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  if (minor >= 25 && is_windows(s.spec())) return;
  for (const ContainerRef& c : cs) {
    const Node* v = get(c.node->get("securityContext"), "allowPrivilegeEscalation");
    if (!is_false(v)) {
      s.add(describe(c) + " must set securityContext.allowPrivilegeEscalation=false",
            v ? v : c.node, sc_path(c, "allowPrivilegeEscalation"), c.name);
    }
  }
}

void seccomp_restricted(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  if (minor >= 25 && is_windows(s.spec())) return;
  const Node* pod_profile = get(s.pod_sc(), "seccompProfile");
  const bool pod_ok = present(pod_profile) && seccomp_type_ok(pod_profile);
  if (present(pod_profile) && !pod_ok) {
    s.add("pod must not set securityContext.seccompProfile.type to " +
              quote(str(get(pod_profile, "type"))),
          pod_profile, s.pod_sc_path("seccompProfile.type"));
  }
  for (const ContainerRef& c : cs) {
    const Node* p = get(c.node->get("securityContext"), "seccompProfile");
    if (present(p)) {
      if (!seccomp_type_ok(p)) {
        s.add(describe(c) + " must not set securityContext.seccompProfile.type to " +
                  quote(str(get(p, "type"))),
              p, sc_path(c, "seccompProfile.type"), c.name);
      }
    } else if (!pod_ok) {
      s.add("pod or " + describe(c) +
                " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
                "\"Localhost\"",
            c.node, sc_path(c, "seccompProfile.type"), c.name);
    }
  }
}

void capabilities_restricted(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  if (minor >= 25 && is_windows(s.spec())) return;
  for (const ContainerRef& c : cs) {
    const Node* caps = get(c.node->get("securityContext"), "capabilities");
    const Node* drop = get(caps, "drop");
    bool drops_all = false;
    for (const Node* d : items(drop))
      if (str(d) == "ALL") drops_all = true;
    if (!drops_all) {
      s.add(describe(c) + " must set securityContext.capabilities.drop=[\"ALL\"]",
            present(drop)   ? drop
            : present(caps) ? caps
                            : c.node,
            sc_path(c, "capabilities.drop"), c.name);
    }
    std::size_t i = 0;
    for (const Node* a : items(get(caps, "add"))) {
      if (str(a) != "NET_BIND_SERVICE") {
        s.add(describe(c) + " must not include " + quote(str(a)) +
                  " in securityContext.capabilities.add",
              a, index_path(sc_path(c, "capabilities.add"), i), c.name);
      }
      ++i;
    }
  }
}

void run_as_user(Sink& s, const std::vector<ContainerRef>& cs, int minor) {
  if (minor >= 35 && user_namespaced(s.spec())) return;
  if (const Node* v = get(s.pod_sc(), "runAsUser"); v && v->as_int() == 0)
    s.add("pod must not set runAsUser=0", v, s.pod_sc_path("runAsUser"));
  for (const ContainerRef& c : cs) {
    if (const Node* v = get(c.node->get("securityContext"), "runAsUser"); v && v->as_int() == 0)
      s.add(describe(c) + " must not set runAsUser=0", v, sc_path(c, "runAsUser"), c.name);
  }
}

class PssCheck final : public Check {
 public:
  explicit PssCheck(Control control) : control_(control) {}

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    Sink s(in, out);
    const int v = in.pss_minor;
    const std::vector<ContainerRef>& cs = in.containers;
    switch (control_) {
      case Control::AppArmorProfile: app_armor(s, cs); break;
      case Control::CapabilitiesBaseline: capabilities_baseline(s, cs); break;
      case Control::HostNamespaces: host_namespaces(s); break;
      case Control::HostPathVolumes: host_path_volumes(s); break;
      case Control::HostPorts: host_ports(s, cs); break;
      case Control::Privileged: privileged(s, cs); break;
      case Control::ProcMount:
        if (!(v >= 35 && user_namespaced(in.pod.spec))) proc_mount(s, cs);
        break;
      case Control::SeccompBaseline: seccomp_baseline(s, cs, v); break;
      case Control::SeLinuxOptions: selinux_options(s, cs, v); break;
      case Control::Sysctls: sysctls(s, v); break;
      case Control::WindowsHostProcess: windows_host_process(s, cs); break;
      case Control::HostProbesAndLifecycle: host_probes(s, cs); break;
      case Control::RestrictedVolumes: restricted_volumes(s); break;
      case Control::RunAsNonRoot: run_as_non_root(s, cs, v); break;
      case Control::AllowPrivilegeEscalation: allow_privilege_escalation(s, cs, v); break;
      case Control::SeccompRestricted: seccomp_restricted(s, cs, v); break;
      case Control::CapabilitiesRestricted: capabilities_restricted(s, cs, v); break;
      case Control::RunAsUser: run_as_user(s, cs, v); break;
      case Control::ProcMountRestricted: proc_mount(s, cs); break;
    }
    return s.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  Control control_;
};

}  // namespace

std::unique_ptr<Check> compile_pss_check(const Params& params, std::string& error) {
  std::string_view name = params.string("control");
  for (const ControlName& c : kControls)
    if (c.name == name) return std::make_unique<PssCheck>(c.control);
  error = "unknown PSS control '" + std::string(name) + "'";
  return nullptr;
}

}  // namespace kg
