// Security templates beyond the PSS controls (scanners.md §2.1–2.6):
//  - `security`: named pod-security controls whose semantics differ from PSS
//    (Polaris/Trivy/kube-linter variants: effective security context, lax
//    privilege escalation, UID/GID thresholds, hardening, service accounts);
//  - `capabilities`: add/drop conditions on Linux capabilities, compared
//    case-insensitively with an optional CAP_ prefix;
//  - `host-path`: hostPath volumes by configurable path globs, or mounted writable.
#include <algorithm>
#include <cctype>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

using checks::describe;
using checks::present;
using checks::quote;
using checks::starts_with;




std::string sc_path(const ContainerRef& c, std::string_view field) {
  return join_path(join_path(c.path, "securityContext"), field);
}

bool is_windows(const Node* spec) { return str(get(get(spec, "os"), "name")) == "windows"; }

// A non-empty mapping (an empty `securityContext: {}` configures nothing).
bool non_empty_map(const Node* n) { return n && n->is_map() && !n->entries().empty(); }

// Capability names: case-insensitive, optional CAP_ prefix.
std::string normalize_cap(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (starts_with(out, "CAP_")) out.erase(0, 4);
  return out;
}

void add(std::vector<Violation>& out, std::string message, const Node* at, std::string path,
         std::string_view container = {}) {
  out.push_back(Violation{std::move(message), at, std::move(path), std::string(container)});
}

// Parses the `containers` parameter (default: every container type).
bool parse_container_kinds(const Params& params, std::vector<ContainerKind>& kinds,
                           std::string& error) {
  kinds = {ContainerKind::Init, ContainerKind::Container, ContainerKind::Ephemeral};
  return params.container_kinds(kinds, error);
}

bool wants(const std::vector<ContainerKind>& kinds, ContainerKind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

// --- `security` template --------------------------------------------------------

enum class Control {
  HostAliases,
  HostUsers,
  PrivilegeEscalation,
  RunAsRoot,
  MinId,
  RootGroup,
  SecurityContextMissing,
  LinuxHardening,
  AppArmorMissing,
  SeccompAnnotationUnconfined,
  SeccompAnnotationDeprecated,
  AutomountToken,
  DefaultServiceAccount,
  DeprecatedServiceAccount,
};

constexpr std::pair<std::string_view, Control> kControls[] = {
    {"hostAliases", Control::HostAliases},
    {"hostUsers", Control::HostUsers},
    {"privilegeEscalation", Control::PrivilegeEscalation},
    {"runAsRoot", Control::RunAsRoot},
    {"minId", Control::MinId},
    {"rootGroup", Control::RootGroup},
    {"securityContextMissing", Control::SecurityContextMissing},
    {"linuxHardening", Control::LinuxHardening},
    {"appArmorMissing", Control::AppArmorMissing},
    {"seccompAnnotationUnconfined", Control::SeccompAnnotationUnconfined},
    {"seccompAnnotationDeprecated", Control::SeccompAnnotationDeprecated},
    {"automountServiceAccountToken", Control::AutomountToken},
    {"defaultServiceAccount", Control::DefaultServiceAccount},
    {"deprecatedServiceAccountField", Control::DeprecatedServiceAccount},
};

constexpr std::string_view kSeccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
constexpr std::string_view kSeccompContainerPrefix = "container.seccomp.security.alpha.kubernetes.io/";
constexpr std::string_view kAppArmorPrefix = "container.apparmor.security.beta.kubernetes.io/";

class SecurityCheck final : public Check {
 public:
  Control control = Control::HostAliases;
  std::string id_field;        // minId: runAsUser or runAsGroup
  std::int64_t threshold = 0;  // minId: the id must be greater than this
  std::vector<ContainerKind> kinds;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const PodView& pod = in.pod;
    const Node* spec = pod.spec;
    // Linux-only settings do not apply to pods declared as Windows pods.
    const bool linux_only = control == Control::HostUsers || control == Control::RunAsRoot ||
                            control == Control::MinId || control == Control::RootGroup ||
                            control == Control::LinuxHardening ||
                            control == Control::AppArmorMissing;
    if (linux_only && is_windows(spec)) return Outcome::NotApplicable;
    std::vector<ContainerRef> cs;
    for (ContainerRef& c : containers_of(pod))
      if (wants(kinds, c.kind)) cs.push_back(std::move(c));
    const bool per_container = control == Control::PrivilegeEscalation ||
                               control == Control::RunAsRoot || control == Control::MinId ||
                               control == Control::SecurityContextMissing ||
                               control == Control::LinuxHardening ||
                               control == Control::AppArmorMissing;
    if (per_container && cs.empty()) return Outcome::NotApplicable;
    switch (control) {
      case Control::HostAliases: host_aliases(pod, out); break;
      case Control::HostUsers: host_users(pod, out); break;
      case Control::PrivilegeEscalation: privilege_escalation(cs, out); break;
      case Control::RunAsRoot: run_as_root(pod, cs, out); break;
      case Control::MinId: min_id(pod, cs, out); break;
      case Control::RootGroup: root_group(pod, cs, out); break;
      case Control::SecurityContextMissing: security_context_missing(pod, cs, out); break;
      case Control::LinuxHardening: linux_hardening(pod, cs, out); break;
      case Control::AppArmorMissing: apparmor_missing(pod, cs, out); break;
      case Control::SeccompAnnotationUnconfined: seccomp_annotations(pod, true, out); break;
      case Control::SeccompAnnotationDeprecated: seccomp_annotations(pod, false, out); break;
      case Control::AutomountToken: automount(pod, out); break;
      case Control::DefaultServiceAccount: default_sa(pod, out); break;
      case Control::DeprecatedServiceAccount: deprecated_sa(pod, out); break;
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  static void host_aliases(const PodView& pod, std::vector<Violation>& out) {
    const Node* h = pod.spec->get("hostAliases");
    if (!present(h) || (h->is_seq() && h->items().empty())) return;
    add(out, "pod sets hostAliases, which rewrites /etc/hosts in every container", h,
        join_path(pod.spec_path, "hostAliases"));
  }

  static void host_users(const PodView& pod, std::vector<Violation>& out) {
    const Node* h = pod.spec->get("hostUsers");
    if (is_false(h)) return;
    // Host namespaces cannot be combined with a user namespace; those pods
    // are reported by the host-namespace rules instead.
    for (std::string_view f : {"hostNetwork", "hostPID", "hostIPC"})
      if (is_true(pod.spec->get(f))) return;
    add(out,
        h ? "pod sets hostUsers: " + std::string(h->text()) + "; container root is host root"
          : std::string("pod does not set hostUsers: false; container root is host root"),
        h ? h : pod.spec, join_path(pod.spec_path, "hostUsers"));
  }

  static void privilege_escalation(const std::vector<ContainerRef>& cs,
                                   std::vector<Violation>& out) {
    for (const ContainerRef& c : cs) {
      const Node* sc = c.node->get("securityContext");
      if (const Node* ape = get(sc, "allowPrivilegeEscalation"); is_true(ape)) {
        add(out, describe(c) + " sets securityContext.allowPrivilegeEscalation: true", ape,
            sc_path(c, "allowPrivilegeEscalation"), c.name);
        continue;
      }
      if (const Node* p = get(sc, "privileged"); is_true(p)) {
        add(out, describe(c) + " is privileged, which always allows privilege escalation", p,
            sc_path(c, "privileged"), c.name);
        continue;
      }
      std::size_t i = 0;
      for (const Node* cap : items(get(get(sc, "capabilities"), "add"))) {
        if (normalize_cap(str(cap)) == "SYS_ADMIN") {
          add(out,
              describe(c) + " adds " + quote(str(cap)) +
                  ", which always allows privilege escalation",
              cap, index_path(sc_path(c, "capabilities.add"), i), c.name);
          break;
        }
        ++i;
      }
    }
  }

  static void run_as_root(const PodView& pod, const std::vector<ContainerRef>& cs,
                          std::vector<Violation>& out) {
    for (const ContainerRef& c : cs) {
      Effective nonroot = effective_security_field(pod, c, "runAsNonRoot");
      if (is_true(nonroot.value)) continue;
      Effective user = effective_security_field(pod, c, "runAsUser");
      const auto uid = user.value ? user.value->as_int() : std::nullopt;
      if (uid && *uid > 0) continue;
      if (uid && *uid == 0) {
        add(out, describe(c) + " runs as root (runAsUser: 0)", user.value, user.path, c.name);
      } else if (is_false(nonroot.value)) {
        add(out,
            describe(c) + " sets runAsNonRoot: false and no non-zero runAsUser; it may run as root",
            nonroot.value, nonroot.path, c.name);
      } else {
        add(out,
            describe(c) +
                " may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set "
                "for it or the pod",
            c.node, sc_path(c, "runAsNonRoot"), c.name);
      }
    }
  }

  void min_id(const PodView& pod, const std::vector<ContainerRef>& cs,
              std::vector<Violation>& out) const {
    // In a user namespace (hostUsers: false) container IDs map to a private
    // range of host IDs, so they cannot collide with a host account.
    if (is_false(pod.spec->get("hostUsers"))) return;
    for (const ContainerRef& c : cs) {
      Effective e = effective_security_field(pod, c, id_field);
      const auto id = e.value ? e.value->as_int() : std::nullopt;
      if (id && *id > threshold) continue;
      const std::string limit = std::to_string(threshold);
      if (id) {
        add(out,
            describe(c) + " runs with " + id_field + " " + std::to_string(*id) +
                ", which is not above " + limit + " and may collide with a host account",
            e.value, e.path, c.name);
      } else {
        add(out,
            describe(c) + " does not set " + id_field + " (pod or container); set one above " +
                limit,
            c.node, e.path, c.name);
      }
    }
  }

  static void root_group(const PodView& pod, const std::vector<ContainerRef>& cs,
                         std::vector<Violation>& out) {
    const Node* psc = pod.spec->get("securityContext");
    const std::string psc_path = join_path(pod.spec_path, "securityContext");
    for (std::string_view f : {"runAsGroup", "fsGroup"}) {
      if (const Node* v = get(psc, f); v && v->as_int() == 0) {
        add(out, "pod sets securityContext." + std::string(f) + ": 0 (the root group)", v,
            join_path(psc_path, f));
      }
    }
    std::size_t i = 0;
    for (const Node* g : items(get(psc, "supplementalGroups"))) {
      if (g->as_int() == 0) {
        add(out, "pod lists the root group 0 in securityContext.supplementalGroups", g,
            index_path(join_path(psc_path, "supplementalGroups"), i));
      }
      ++i;
    }
    for (const ContainerRef& c : cs) {
      if (const Node* v = get(c.node->get("securityContext"), "runAsGroup");
          v && v->as_int() == 0) {
        add(out, describe(c) + " sets securityContext.runAsGroup: 0 (the root group)", v,
            sc_path(c, "runAsGroup"), c.name);
      }
    }
  }

  static void security_context_missing(const PodView& pod, const std::vector<ContainerRef>& cs,
                                       std::vector<Violation>& out) {
    if (non_empty_map(pod.spec->get("securityContext"))) return;
    for (const ContainerRef& c : cs) {
      const Node* sc = c.node->get("securityContext");
      if (non_empty_map(sc)) continue;
      add(out, describe(c) + " has no securityContext, and neither does the pod",
          present(sc) ? sc : c.node, join_path(c.path, "securityContext"), c.name);
    }
  }

  static bool profile_confines(const Node* profile) {
    return present(profile) && !str(get(profile, "type")).empty() &&
           str(get(profile, "type")) != "Unconfined";
  }

  static void linux_hardening(const PodView& pod, const std::vector<ContainerRef>& cs,
                              std::vector<Violation>& out) {
    const Node* ann = get(pod.meta, "annotations");
    const std::string_view pod_seccomp_ann = str(get(ann, kSeccompPodAnnotation));
    for (const ContainerRef& c : cs) {
      if (profile_confines(effective_security_field(pod, c, "seccompProfile").value)) continue;
      if (non_empty_map(effective_security_field(pod, c, "seLinuxOptions").value)) continue;
      if (profile_confines(effective_security_field(pod, c, "appArmorProfile").value)) continue;
      const std::string name(c.name);
      if (std::string_view a = str(get(ann, std::string(kAppArmorPrefix) + name));
          !a.empty() && a != "unconfined")
        continue;
      std::string_view sa = str(get(ann, std::string(kSeccompContainerPrefix) + name));
      if (sa.empty()) sa = pod_seccomp_ann;
      if (!sa.empty() && sa != "unconfined") continue;
      const Node* drop = get(get(c.node->get("securityContext"), "capabilities"), "drop");
      if (drop && drop->is_seq() && !drop->items().empty()) continue;
      add(out,
          describe(c) +
              " has no Linux hardening: no seccomp profile, SELinux options, AppArmor profile "
              "or dropped capabilities",
          c.node, sc_path(c, "seccompProfile"), c.name);
    }
  }

  static void apparmor_missing(const PodView& pod, const std::vector<ContainerRef>& cs,
                               std::vector<Violation>& out) {
    const Node* ann = get(pod.meta, "annotations");
    for (const ContainerRef& c : cs) {
      if (present(effective_security_field(pod, c, "appArmorProfile").value)) continue;
      if (present(get(ann, std::string(kAppArmorPrefix) + std::string(c.name)))) continue;
      add(out, describe(c) + " has no AppArmor profile (securityContext.appArmorProfile)",
          c.node, sc_path(c, "appArmorProfile"), c.name);
    }
  }

  static void seccomp_annotations(const PodView& pod, bool only_unconfined,
                                  std::vector<Violation>& out) {
    const std::string base = join_path(pod.meta_path, "annotations");
    for (const MapEntry& e : entries(get(pod.meta, "annotations"))) {
      std::string_view key = e.key->text();
      if (key != kSeccompPodAnnotation && !starts_with(key, kSeccompContainerPrefix)) continue;
      std::string_view container =
          key == kSeccompPodAnnotation ? std::string_view{} : key.substr(kSeccompContainerPrefix.size());
      std::string_view v = str(e.value);
      if (only_unconfined) {
        if (v == "unconfined") {
          add(out,
              "annotation " + std::string(key) +
                  " is \"unconfined\": the API server copies it into the pod's seccompProfile, "
                  "disabling seccomp",
              e.value, join_path(base, key), container);
        }
      } else {
        add(out,
            "deprecated annotation " + std::string(key) +
                "; use securityContext.seccompProfile instead",
            e.key, join_path(base, key), container);
      }
    }
  }

  static void automount(const PodView& pod, std::vector<Violation>& out) {
    const Node* a = pod.spec->get("automountServiceAccountToken");
    if (is_false(a)) return;
    add(out,
        a ? std::string("pod sets automountServiceAccountToken: ") + std::string(a->text())
          : std::string("pod does not set automountServiceAccountToken: false, so the service "
                        "account token is mounted unless the ServiceAccount disables it"),
        a ? a : pod.spec, join_path(pod.spec_path, "automountServiceAccountToken"));
  }

  static void default_sa(const PodView& pod, std::vector<Violation>& out) {
    const Node* name = pod.spec->get("serviceAccountName");
    std::string_view sa = str(name);
    std::string field = "serviceAccountName";
    if (sa.empty()) {
      // The deprecated alias still selects the account when the new field is unset.
      if (const Node* old = pod.spec->get("serviceAccount"); !str(old).empty()) {
        name = old;
        sa = str(old);
        field = "serviceAccount";
      }
    }
    if (!sa.empty() && sa != "default") return;
    add(out,
        sa.empty() ? std::string("pod sets no serviceAccountName and runs as the namespace's "
                                 "\"default\" service account")
                   : "pod runs as the \"default\" service account (" + field + ")",
        name && !sa.empty() ? name : pod.spec, join_path(pod.spec_path, field));
  }

  static void deprecated_sa(const PodView& pod, std::vector<Violation>& out) {
    const Node* old = pod.spec->get("serviceAccount");
    std::string_view value = str(old);
    if (value.empty()) return;
    // The API server fills serviceAccount with serviceAccountName on read; equal
    // values are that echo, not a manifest using the deprecated field.
    if (value == str(pod.spec->get("serviceAccountName"))) return;
    add(out,
        "pod uses the deprecated field serviceAccount (" + quote(value) +
            "); use serviceAccountName",
        old, join_path(pod.spec_path, "serviceAccount"));
  }
};

// --- `capabilities` template ------------------------------------------------------

enum class CapMode { AddForbidden, AddAllowedOnly, DropRequired };

class CapabilitiesCheck final : public Check {
 public:
  CapMode mode = CapMode::AddForbidden;
  std::vector<std::string> caps;  // normalized
  std::vector<ContainerKind> kinds;

  bool listed(std::string_view cap) const {
    return std::find(caps.begin(), caps.end(), normalize_cap(cap)) != caps.end();
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    // Capabilities are a Linux setting; Windows pods cannot carry them.
    if (is_windows(in.pod.spec)) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      if (!wants(kinds, c.kind)) continue;
      any = true;
      const Node* capsn = get(c.node->get("securityContext"), "capabilities");
      if (mode == CapMode::DropRequired) {
        const Node* drop = get(capsn, "drop");
        // A drop that `add` takes back (the same capability, or ALL in any
        // case) hardens nothing: the runtime applies drop, then add.
        const Node* add_list = get(capsn, "add");
        auto re_added = [&](const std::string& dropped) {
          for (const Node* a : items(add_list)) {
            const std::string added = normalize_cap(str(a));
            if (added == "ALL" || added == dropped) return true;
            if (dropped == "ALL" && !caps.empty() && listed(added)) return true;
          }
          return false;
        };
        bool ok = false, taken_back = false;
        for (const Node* d : items(drop)) {
          if (!caps.empty() && !listed(str(d))) continue;
          if (re_added(normalize_cap(str(d)))) taken_back = true;
          else ok = true;
        }
        if (ok) continue;
        std::string want;
        for (const std::string& cap : caps) want += (want.empty() ? "" : " or ") + quote(cap);
        add(out,
            describe(c) +
                (caps.empty() ? std::string(" drops no capabilities")
                              : " does not drop " + want) +
                " in securityContext.capabilities.drop" +
                (taken_back ? std::string(" (capabilities.add adds back what it drops)") : ""),
            present(drop) ? drop : present(capsn) ? capsn : c.node,
            sc_path(c, "capabilities.drop"), c.name);
        continue;
      }
      std::size_t i = 0;
      for (const Node* cap : items(get(capsn, "add"))) {
        const bool bad = mode == CapMode::AddForbidden ? listed(str(cap)) : !listed(str(cap));
        if (bad) {
          add(out,
              describe(c) + " adds capability " + quote(str(cap)) +
                  (mode == CapMode::AddForbidden ? "" : ", which is not in the allowed set"),
              cap, index_path(sc_path(c, "capabilities.add"), i), c.name);
        }
        ++i;
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

// --- `host-path` template ---------------------------------------------------------

// Collapses repeated slashes, "." segments and a trailing slash. Kubernetes
// rejects hostPath paths with ".." segments, so they need no resolution.
std::vector<std::string_view> path_segments(std::string_view p) {
  std::vector<std::string_view> segs;
  while (!p.empty()) {
    auto slash = p.find('/');
    std::string_view seg = p.substr(0, slash);
    if (!seg.empty() && seg != ".") segs.push_back(seg);
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return segs;
}

// `*` matches within one segment.
bool segment_match(std::string_view pat, std::string_view s) {
  if (pat.empty()) return s.empty();
  if (pat.front() == '*') {
    for (std::size_t i = 0; i <= s.size(); ++i)
      if (segment_match(pat.substr(1), s.substr(i))) return true;
    return false;
  }
  return !s.empty() && pat.front() == s.front() && segment_match(pat.substr(1), s.substr(1));
}

// `**` matches any number of segments (including none).
bool glob_match(std::span<const std::string_view> pat, std::span<const std::string_view> path) {
  if (pat.empty()) return path.empty();
  if (pat.front() == "**") {
    for (std::size_t i = 0; i <= path.size(); ++i)
      if (glob_match(pat.subspan(1), path.subspan(i))) return true;
    return false;
  }
  return !path.empty() && segment_match(pat.front(), path.front()) &&
         glob_match(pat.subspan(1), path.subspan(1));
}

struct PathPattern {
  std::string text;
  std::vector<std::string_view> segs;  // views into text
};

enum class HostPathMode { Paths, Writable };

class HostPathCheck final : public Check {
 public:
  HostPathMode mode = HostPathMode::Paths;
  std::vector<std::unique_ptr<PathPattern>> patterns;
  std::string what;  // e.g. "a sensitive host path"

  const PathPattern* matching(std::string_view path) const {
    if (path.empty() || path.front() != '/') return nullptr;
    std::vector<std::string_view> segs = path_segments(path);
    if (segs.size() > 64) return nullptr;  // deeper than any listed path
    for (const auto& p : patterns)
      if (glob_match(p->segs, segs)) return p.get();
    return nullptr;
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const std::string vols_path = join_path(in.pod.spec_path, "volumes");
    if (mode == HostPathMode::Paths) {
      std::size_t i = 0;
      for (const Node* v : items(in.pod.spec->get("volumes"))) {
        const Node* hp = get(v, "hostPath");
        const Node* path = get(hp, "path");
        if (present(hp) && matching(str(path))) {
          add(out,
              "volume " + quote(str(get(v, "name"))) + " mounts " + what + " (hostPath " +
                  quote(str(path)) + ")",
              path, join_path(index_path(vols_path, i), "hostPath.path"));
        }
        ++i;
      }
      return out.empty() ? Outcome::Pass : Outcome::Fail;
    }
    std::vector<std::pair<std::string_view, std::string_view>> host_vols;  // name, path
    for (const Node* v : items(in.pod.spec->get("volumes"))) {
      if (const Node* hp = get(v, "hostPath"); present(hp))
        host_vols.emplace_back(str(get(v, "name")), str(get(hp, "path")));
    }
    for (const ContainerRef& c : containers_of(in.pod)) {
      std::size_t i = 0;
      for (const Node* m : items(c.node->get("volumeMounts"))) {
        std::string_view name = str(get(m, "name"));
        auto it = std::find_if(host_vols.begin(), host_vols.end(),
                               [&](const auto& hv) { return hv.first == name; });
        if (it != host_vols.end() && !is_true(get(m, "readOnly"))) {
          add(out,
              describe(c) + " mounts hostPath volume " + quote(name) + " (" + quote(it->second) +
                  ") writable at " + quote(str(get(m, "mountPath"))),
              get(m, "readOnly") ? get(m, "readOnly") : m,
              join_path(index_path(join_path(c.path, "volumeMounts"), i), "readOnly"), c.name);
        }
        ++i;
      }
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

}  // namespace

std::unique_ptr<Check> compile_security_check(const Params& params, std::string& error) {
  auto check = std::make_unique<SecurityCheck>();
  std::string_view name = params.string("control");
  auto it = std::find_if(std::begin(kControls), std::end(kControls),
                         [&](const auto& p) { return p.first == name; });
  if (it == std::end(kControls)) {
    error = "control: unknown security control '" + std::string(name) + "'";
    return nullptr;
  }
  check->control = it->second;
  if (!parse_container_kinds(params, check->kinds, error)) return nullptr;
  if (check->control == Control::MinId) {
    check->id_field = std::string(params.string("field"));
    if (check->id_field != "runAsUser" && check->id_field != "runAsGroup") {
      error = "field must be runAsUser or runAsGroup";
      return nullptr;
    }
    auto t = params.integer("threshold");
    if (!t || *t < 0) {
      error = "threshold must be a non-negative integer";
      return nullptr;
    }
    check->threshold = *t;
  }
  return check;
}

std::unique_ptr<Check> compile_capabilities_check(const Params& params, std::string& error) {
  auto check = std::make_unique<CapabilitiesCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "add-forbidden") check->mode = CapMode::AddForbidden;
  else if (mode == "add-allowed-only") check->mode = CapMode::AddAllowedOnly;
  else if (mode == "drop-required") check->mode = CapMode::DropRequired;
  else {
    error = "mode must be add-forbidden, add-allowed-only or drop-required";
    return nullptr;
  }
  const Node* list = params.get("capabilities");
  if (list && !list->is_seq()) {
    error = "capabilities must be a list of capability names";
    return nullptr;
  }
  for (const std::string& cap : params.strings("capabilities")) {
    if (cap.empty()) {
      error = "capabilities must not contain empty names";
      return nullptr;
    }
    check->caps.push_back(normalize_cap(cap));
  }
  if (check->mode == CapMode::AddForbidden && check->caps.empty()) {
    error = "capabilities is required for mode add-forbidden";
    return nullptr;
  }
  if (!parse_container_kinds(params, check->kinds, error)) return nullptr;
  return check;
}

std::unique_ptr<Check> compile_host_path_check(const Params& params, std::string& error) {
  auto check = std::make_unique<HostPathCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "paths") check->mode = HostPathMode::Paths;
  else if (mode == "writable") check->mode = HostPathMode::Writable;
  else {
    error = "mode must be paths or writable";
    return nullptr;
  }
  if (check->mode == HostPathMode::Paths) {
    const Node* list = params.get("paths");
    if (!list || !list->is_seq() || list->items().empty()) {
      error = "paths must be a non-empty list of absolute path globs";
      return nullptr;
    }
    for (const std::string& p : params.strings("paths")) {
      if (!starts_with(p, "/") && !starts_with(p, "**/")) {
        error = "paths entry " + quote(p) +
                " must be an absolute path or start with **/ (globs: * within a segment, ** "
                "for any depth)";
        return nullptr;
      }
      auto pat = std::make_unique<PathPattern>();
      pat->text = p;
      pat->segs = path_segments(pat->text);
      check->patterns.push_back(std::move(pat));
    }
    check->what = std::string(params.string("description"));
    if (check->what.empty()) check->what = "a sensitive host path";
  }
  return check;
}

}  // namespace kg
