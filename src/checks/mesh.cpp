// Service-mesh posture (docs/mesh.md): the mesh fact table, the set-level
// template `service-mesh` (Istio mTLS and authorization coverage, sidecar
// injection, Linkerd default inbound policy, mesh policies that select no
// workload), the object-level template `mesh-object` (DestinationRule TLS,
// allow-all AuthorizationPolicies, Linkerd authorizations without
// authentication) and the east-west posture per namespace the report shows.
//
// Istio's semantics (security.istio.io v1 and v1beta1): a PeerAuthentication
// in the root namespace (istio-system unless configured) without a selector
// is mesh-wide, one without a selector in a namespace is namespace-wide, one
// with a selector is workload-wide and may set portLevelMtls; the most
// specific wins and UNSET (or no mtls) inherits from the next level up; with
// none at all the mode is PERMISSIVE. A selector in the root namespace is
// ignored. AuthorizationPolicy: CUSTOM, then DENY, then ALLOW; a workload
// that any ALLOW policy applies to denies what none allows, so an ALLOW
// policy without rules (`spec: {}`) denies everything and one with a rule
// `{}` allows everything. A selector in the root namespace matches workloads
// of every namespace. Linkerd: the default inbound policy
// (config.linkerd.io/default-inbound-policy on the workload, else its
// namespace, else the control plane's, all-unauthenticated by default).
#include "checks/mesh.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return u;
}

bool istio_group(std::string_view api_version) { return api_version.starts_with("security.istio.io/"); }
bool linkerd_group(std::string_view api_version) { return api_version.starts_with("policy.linkerd.io/"); }

// An Istio selector: matchLabels only; empty or absent is no selector.
LabelSelector istio_selector(const Node* selector) {
  LabelSelector s = read_map_selector(get(selector, "matchLabels"));
  if (s.match_labels.empty()) s.present = false;
  return s;
}

std::string meta_path_of(const Object& obj, const PodView& pod) {
  std::string p = pod ? pod.meta_path : join_path(obj.path_prefix, "metadata");
  if (!obj.path_prefix.empty() && p.rfind(obj.path_prefix + ".", 0) == 0) p.erase(0, obj.path_prefix.size() + 1);
  if (pod && p.empty()) p = "metadata";
  return p;
}

}  // namespace

void MeshTable::add(std::size_t id, const Object& obj, const PodView& pod) {
  MeshRow r;
  r.object = id;
  const Node* spec = get(obj.root, "spec");
  if (pod) {
    r.kind = MeshRowKind::Workload;
    const Node* meta = pod.meta;
    r.labels = read_labels(get(meta, "labels"));
    r.meta_at = mark_of(meta);
    if (!r.meta_at) r.meta_at = field_mark(obj.root, "metadata");
    r.meta_path = meta_path_of(obj, pod);
    const Node* labels = get(meta, "labels");
    const Node* annotations = get(meta, "annotations");
    // Istio reads the label first, then the (deprecated) annotation.
    if (const Node* l = get(labels, "sidecar.istio.io/inject")) {
      r.istio_inject = std::string(str(l));
      r.istio_inject_at = mark_of(l);
    } else if (const Node* a = get(annotations, "sidecar.istio.io/inject")) {
      r.istio_inject = std::string(str(a));
      r.istio_inject_at = mark_of(a);
    }
    if (const Node* a = get(annotations, "linkerd.io/inject")) {
      r.linkerd_inject = std::string(str(a));
      r.linkerd_inject_at = mark_of(a);
    }
    if (const Node* a = get(annotations, "config.linkerd.io/default-inbound-policy")) {
      r.linkerd_policy = std::string(str(a));
      r.linkerd_policy_at = mark_of(a);
    }
  } else if (obj.kind == "Namespace") {
    r.kind = MeshRowKind::Namespace;
    const Node* meta = get(obj.root, "metadata");
    r.labels = read_labels(get(meta, "labels"));
    r.meta_at = field_mark(meta, "name");
    if (!r.meta_at) r.meta_at = field_mark(obj.root, "metadata");
    r.meta_path = "metadata.name";
    const Node* labels = get(meta, "labels");
    const Node* annotations = get(meta, "annotations");
    if (const Node* l = get(labels, "istio-injection")) {
      r.istio_inject = std::string(str(l));
      r.istio_inject_at = mark_of(l);
    }
    r.istio_rev = get(labels, "istio.io/rev") != nullptr;
    if (const Node* a = get(annotations, "linkerd.io/inject")) {
      r.linkerd_inject = std::string(str(a));
      r.linkerd_inject_at = mark_of(a);
    }
    if (const Node* a = get(annotations, "config.linkerd.io/default-inbound-policy")) {
      r.linkerd_policy = std::string(str(a));
      r.linkerd_policy_at = mark_of(a);
    }
  } else if (obj.kind == "PeerAuthentication" && istio_group(obj.api_version)) {
    r.kind = MeshRowKind::PeerAuthentication;
    r.selector = istio_selector(get(spec, "selector"));
    r.selector_at = field_mark(spec, "selector");
    r.selector_path = "spec.selector.matchLabels";
    const Node* mode = get(get(spec, "mtls"), "mode");
    r.mode = upper(str(mode));
    if (r.mode == "UNSET") r.mode.clear();
    r.mode_at = mode ? mark_of(mode) : field_mark(obj.root, "spec");
    const Node* ports = get(spec, "portLevelMtls");
    if (ports && ports->is_map()) {
      for (const MapEntry& e : entries(ports)) {
        const Node* m = get(e.value, "mode");
        std::string mm = upper(str(m));
        if (mm == "UNSET") mm.clear();
        r.port_modes.push_back({std::string(str(e.key)), mm, "spec.portLevelMtls." + std::string(str(e.key)) + ".mode",
                                m ? mark_of(m) : mark_of(e.key)});
      }
    }
  } else if (obj.kind == "AuthorizationPolicy" && istio_group(obj.api_version)) {
    r.kind = MeshRowKind::IstioAuthorization;
    r.selector = istio_selector(get(spec, "selector"));
    r.selector_at = field_mark(spec, "selector");
    r.selector_path = "spec.selector.matchLabels";
    const Node* action = get(spec, "action");
    r.mode = action ? upper(str(action)) : "ALLOW";
    r.mode_at = action ? mark_of(action) : field_mark(obj.root, "spec");
    const Node* rules = get(spec, "rules");
    r.no_rules = items(rules).empty();
    for (const Node* rule : items(rules)) {
      if (!get(rule, "from") && !get(rule, "to") && !get(rule, "when")) r.matches_all = true;
    }
  } else if (obj.kind == "Server" && linkerd_group(obj.api_version)) {
    r.kind = MeshRowKind::LinkerdServer;
    r.selector = read_selector(get(spec, "podSelector"));
    r.selector_at = field_mark(spec, "podSelector");
    r.selector_path = "spec.podSelector";
  } else {
    return;
  }
  changed();
  rows.push_back(std::move(r));
}

namespace {

enum class Inject : std::uint8_t { On, Off, Unknown };

struct InjectState {
  Inject state = Inject::Unknown;
  std::string why;  // for Off: what turns it off
  bool by_workload = false;  // the workload's own label/annotation decided
};

// Everything the mesh checks and the posture derive from the table.
class MeshView {
 public:
  MeshView(const Inventory& inv, const MeshSettings& settings) : inv_(inv), t_(MeshTable::of(inv)), s_(settings) {
    for (std::size_t i = 0; i < t_.rows.size(); ++i) {
      const MeshRow& r = t_.rows[i];
      switch (r.kind) {
        case MeshRowKind::Namespace:
          namespaces_.try_emplace(inv.objects[r.object].name, i);
          if (r.istio_inject == "enabled" || r.istio_rev) istio_ = true;
          if (r.linkerd_inject == "enabled" || !r.linkerd_policy.empty()) linkerd_ = true;
          break;
        case MeshRowKind::Workload:
          if (!inv.controlled_by_input(r.object)) workloads_[inv.objects[r.object].ns].push_back(i);
          if (r.istio_inject == "true") istio_ = true;
          if (r.linkerd_inject == "enabled" || r.linkerd_inject == "ingress" || !r.linkerd_policy.empty())
            linkerd_ = true;
          break;
        case MeshRowKind::PeerAuthentication:
        case MeshRowKind::IstioAuthorization: istio_ = true; break;
        case MeshRowKind::LinkerdServer: linkerd_ = true; break;
        case MeshRowKind::Other: break;
      }
    }
  }

  bool istio() const { return istio_; }
  bool linkerd() const { return linkerd_; }
  const MeshTable& table() const { return t_; }
  const MeshSettings& settings() const { return s_; }
  const std::map<std::string, std::vector<std::size_t>>& workloads() const { return workloads_; }
  const MeshRow* namespace_row(const std::string& ns) const {
    auto it = namespaces_.find(ns);
    return it == namespaces_.end() ? nullptr : &t_.rows[it->second];
  }
  const std::map<std::string, std::size_t>& namespace_rows() const { return namespaces_; }
  const ObjectFacts& object(const MeshRow& r) const { return inv_.objects[r.object]; }
  std::string name_of(const MeshRow& r) const {
    const ObjectFacts& o = inv_.objects[r.object];
    return o.ns.empty() ? o.name : o.ns + "/" + o.name;
  }

  // Istio injection of a workload (null: a namespace's new pod) in `ns`.
  InjectState istio_injection(const MeshRow* w, const std::string& ns) const {
    const MeshRow* n = namespace_row(ns);
    if (n && n->istio_inject == "disabled") return {Inject::Off, "namespace label istio-injection=disabled", false};
    if (w && w->istio_inject == "false") return {Inject::Off, "sidecar.istio.io/inject: \"false\"", true};
    if (w && w->istio_inject == "true") return {Inject::On, {}, true};
    if (n && (n->istio_inject == "enabled" || n->istio_rev)) return {Inject::On, {}, false};
    if (n) return {Inject::Off, "namespace has neither istio-injection=enabled nor istio.io/rev", false};
    return {Inject::Unknown, {}, false};
  }
  // Linkerd injection (the workload's annotation overrides its namespace's).
  InjectState linkerd_injection(const MeshRow* w, const std::string& ns) const {
    const MeshRow* n = namespace_row(ns);
    if (w && w->linkerd_inject == "disabled") return {Inject::Off, "linkerd.io/inject: disabled", true};
    if (w && (w->linkerd_inject == "enabled" || w->linkerd_inject == "ingress")) return {Inject::On, {}, true};
    if (n && n->linkerd_inject == "enabled") return {Inject::On, {}, false};
    if (n && n->linkerd_inject == "disabled") return {Inject::Off, "namespace annotation linkerd.io/inject: disabled", false};
    if (n) return {Inject::Off, "namespace has no linkerd.io/inject: enabled annotation", false};
    return {Inject::Unknown, {}, false};
  }
  // The mesh whose proxy the workload runs ("" none), assuming injection
  // where the input does not say (no Namespace object) and the mesh is there.
  std::string mesh_of(const MeshRow* w, const std::string& ns) const {
    const Inject i = istio_ ? istio_injection(w, ns).state : Inject::Off;
    const Inject l = linkerd_ ? linkerd_injection(w, ns).state : Inject::Off;
    if (i == Inject::On) return "istio";
    if (l == Inject::On) return "linkerd";
    if (i == Inject::Unknown) return "istio";
    if (l == Inject::Unknown) return "linkerd";
    return {};
  }

  struct Mtls {
    std::string mode;  // STRICT, PERMISSIVE, DISABLE
    std::string level;  // workload, namespace, mesh-wide, default
    const MeshRow* policy = nullptr;
    std::vector<std::pair<const MeshPortMode*, std::string>> ports;  // ports whose effective mode is not STRICT
  };
  Mtls istio_mtls(const Labels& labels, const std::string& ns) const {
    const MeshRow *mesh = nullptr, *nsw = nullptr, *wl = nullptr;
    for (std::size_t i : t_.in(inv_, s_.root_namespace)) {
      const MeshRow& r = t_.rows[i];
      if (r.kind == MeshRowKind::PeerAuthentication && !r.selector.present && !mesh) mesh = &r;
    }
    for (std::size_t i : t_.in(inv_, ns)) {
      const MeshRow& r = t_.rows[i];
      if (r.kind != MeshRowKind::PeerAuthentication) continue;
      if (!r.selector.present) {
        if (!nsw && ns != s_.root_namespace) nsw = &r;
      } else if (!wl && ns != s_.root_namespace && r.selector.matches(labels)) {
        wl = &r;
      }
    }
    Mtls m{"PERMISSIVE", "default", nullptr, {}};
    if (mesh && !mesh->mode.empty()) m = {mesh->mode, "mesh-wide", mesh, {}};
    if (nsw && !nsw->mode.empty()) m = {nsw->mode, "namespace", nsw, {}};
    if (wl && !wl->mode.empty()) m = {wl->mode, "workload", wl, {}};
    if (wl) {
      for (const MeshPortMode& p : wl->port_modes) {
        const std::string mode = p.mode.empty() ? m.mode : p.mode;
        if (mode != "STRICT") m.ports.push_back({&p, mode});
      }
      if (!m.ports.empty()) m.policy = m.policy ? m.policy : wl;
    }
    return m;
  }
  bool istio_strict(const Labels& labels, const std::string& ns) const {
    const Mtls m = istio_mtls(labels, ns);
    return m.mode == "STRICT" && m.ports.empty();
  }

  // The AuthorizationPolicies that apply to a workload with `labels` in `ns`.
  template <class Fn>
  void istio_policies(const Labels* labels, const std::string& ns, Fn&& fn) const {
    auto visit = [&](const std::string& where) {
      for (std::size_t i : t_.in(inv_, where)) {
        const MeshRow& r = t_.rows[i];
        if (r.kind != MeshRowKind::IstioAuthorization) continue;
        // Namespace-wide (mesh-wide in the root namespace), or selecting
        // the workload (a root namespace selector selects in every namespace).
        if (!r.selector.present || (labels && r.selector.matches(*labels))) fn(r);
      }
    };
    visit(ns);
    if (ns != s_.root_namespace) visit(s_.root_namespace);
  }
  // Whether what no policy allows is denied (a default deny) for a workload.
  bool istio_authorised(const Labels* labels, const std::string& ns) const {
    bool deny_all = false, any_allow = false, allow_all = false;
    istio_policies(labels, ns, [&](const MeshRow& r) {
      if (r.mode == "DENY" && r.matches_all) deny_all = true;
      if (r.mode == "ALLOW") {
        any_allow = true;
        if (r.matches_all) allow_all = true;
      }
    });
    return deny_all || (any_allow && !allow_all);
  }

  // Linkerd's effective default inbound policy and where it comes from.
  std::pair<std::string, std::string> linkerd_policy(const MeshRow* w, const std::string& ns) const {
    if (w && !w->linkerd_policy.empty()) return {w->linkerd_policy, "the workload's annotation"};
    if (const MeshRow* n = namespace_row(ns); n && !n->linkerd_policy.empty())
      return {n->linkerd_policy, "the namespace's annotation"};
    return {s_.linkerd_default_policy, "the control plane's default"};
  }
  static bool linkerd_authenticated(std::string_view policy) {
    return policy == "all-authenticated" || policy == "cluster-authenticated" || policy == "deny";
  }

 private:
  const Inventory& inv_;
  const MeshTable& t_;
  const MeshSettings& s_;
  bool istio_ = false, linkerd_ = false;
  std::map<std::string, std::size_t> namespaces_;              // name → row
  std::map<std::string, std::vector<std::size_t>> workloads_;  // ns → top workload rows
};

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// --- service-mesh (set level) ---------------------------------------------------

enum class MeshMode : std::uint8_t {
  IstioMtls,
  IstioDefaultDeny,
  IstioInjection,
  LinkerdDefaultPolicy,
  LinkerdInjection,
  SelectsNothing,
};

class ServiceMesh final : public SetCheck {
 public:
  MeshMode mode = MeshMode::IstioMtls;
  MeshSettings settings;
  std::vector<std::string> system_namespaces;

  std::vector<std::string> needs_kinds() const override {
    switch (mode) {
      case MeshMode::IstioMtls:
      case MeshMode::IstioInjection: return {"Namespace", "workloads", "PeerAuthentication"};
      case MeshMode::IstioDefaultDeny: return {"Namespace", "workloads", "AuthorizationPolicy"};
      case MeshMode::LinkerdDefaultPolicy:
      case MeshMode::LinkerdInjection: return {"Namespace", "workloads"};
      case MeshMode::SelectsNothing: return {"workloads", "PeerAuthentication", "AuthorizationPolicy", "Server"};
    }
    return {};
  }
  std::vector<const FactCollector*> facts() const override { return {&MeshTable::collector()}; }

  void evaluate(const Inventory& inv, SetSink& sink) const override {
    const MeshView v(inv, settings);
    switch (mode) {
      case MeshMode::IstioMtls: return istio_mtls(v, sink);
      case MeshMode::IstioDefaultDeny: return istio_default_deny(v, sink);
      case MeshMode::IstioInjection:
      case MeshMode::LinkerdInjection: return injection(v, sink, mode == MeshMode::IstioInjection);
      case MeshMode::LinkerdDefaultPolicy: return linkerd_policy(v, sink);
      case MeshMode::SelectsNothing: return selects_nothing(inv, v, sink);
    }
  }

 private:
  static SetViolation at(std::string message, const std::string& path, Mark m) {
    return {std::move(message), path, m.line, m.column, {}};
  }

  void istio_mtls(const MeshView& v, SetSink& sink) const {
    if (!v.istio()) return;
    for (const auto& [ns, rows] : v.workloads()) {
      for (std::size_t i : rows) {
        const MeshRow& w = v.table().rows[i];
        if (v.istio_injection(&w, ns).state == Inject::Off) continue;  // no sidecar: the injection rule's
        const MeshView::Mtls m = v.istio_mtls(w.labels, ns);
        if (m.mode == "STRICT" && m.ports.empty()) {
          sink.pass(w.object);
          continue;
        }
        std::vector<SetViolation> out;
        if (m.mode != "STRICT") {
          std::string msg = m.policy ? "Istio mTLS mode for this workload is " + m.mode + " (" + m.level +
                                           " PeerAuthentication " + v.name_of(*m.policy) + ")"
                                     : std::string("Istio mTLS mode for this workload is PERMISSIVE: no "
                                                   "PeerAuthentication applies and Istio defaults to PERMISSIVE");
          out.push_back(at(std::move(msg), w.meta_path, w.meta_at));
        }
        for (const auto& [p, port_mode] : m.ports) {
          out.push_back(at("port " + p->port + " of this workload accepts " + port_mode +
                               " mTLS (portLevelMtls of PeerAuthentication " + v.name_of(*m.policy) + ")",
                           w.meta_path, w.meta_at));
        }
        sink.fail(w.object, std::move(out));
      }
    }
  }

  // The subject of a namespace's verdict: its Namespace object, else its
  // first top-level workload.
  template <class Fn>
  void for_each_namespace(const MeshView& v, Fn&& fn) const {
    std::set<std::string> names;
    for (const auto& [ns, row] : v.namespace_rows()) names.insert(ns);
    for (const auto& [ns, rows] : v.workloads()) names.insert(ns);
    for (const std::string& ns : names) {
      if (contains(system_namespaces, ns) || ns == settings.root_namespace) continue;
      const MeshRow* n = v.namespace_row(ns);
      const MeshRow* first = nullptr;
      if (auto it = v.workloads().find(ns); it != v.workloads().end() && !it->second.empty())
        first = &v.table().rows[it->second.front()];
      fn(ns, n, first);
    }
  }

  void istio_default_deny(const MeshView& v, SetSink& sink) const {
    if (!v.istio()) return;
    for_each_namespace(v, [&](const std::string& ns, const MeshRow* n, const MeshRow* first) {
      // Namespaces in the mesh only: injected, or unknown with workloads.
      const InjectState inj = v.istio_injection(nullptr, ns);
      if (inj.state == Inject::Off) return;
      if (inj.state == Inject::Unknown && !first) return;
      const MeshRow* subject = n ? n : first;
      bool deny_all = false, allow_nothing = false;
      const MeshRow* allow_all = nullptr;
      v.istio_policies(nullptr, ns, [&](const MeshRow& r) {
        if (r.mode == "DENY" && r.matches_all) deny_all = true;
        if (r.mode == "ALLOW" && r.no_rules) allow_nothing = true;
        if (r.mode == "ALLOW" && r.matches_all && !allow_all) allow_all = &r;
      });
      if (deny_all || (allow_nothing && !allow_all)) {
        sink.pass(subject->object);
        return;
      }
      const std::string path = n ? "metadata.name" : "metadata.namespace";
      const ObjectFacts& so = v.object(*subject);
      const Mark m = first_mark(n ? so.name_at : so.namespace_at, so.metadata_at);
      std::string msg = allow_all ? checks::namespace_phrase(ns) + " has an ALLOW AuthorizationPolicy " +
                                        v.name_of(*allow_all) + " with an empty rule ({}), which allows every request"
                                  : checks::namespace_phrase(ns) +
                                        " has no default-deny AuthorizationPolicy (an ALLOW policy without selector "
                                        "and rules, spec: {}), so requests no policy names are allowed";
      sink.fail(subject->object, {at(std::move(msg), path, m)});
    });
  }

  void injection(const MeshView& v, SetSink& sink, bool istio) const {
    if (istio ? !v.istio() : !v.linkerd()) return;
    const std::string mesh = istio ? "Istio" : "Linkerd";
    auto state = [&](const MeshRow* w, const std::string& ns) {
      return istio ? v.istio_injection(w, ns) : v.linkerd_injection(w, ns);
    };
    // What runs the other mesh's proxy is in a mesh: not this rule's.
    auto other_mesh = [&](const MeshRow* w, const std::string& ns) {
      return istio ? v.linkerd() && v.linkerd_injection(w, ns).state == Inject::On
                   : v.istio() && v.istio_injection(w, ns).state == Inject::On;
    };
    for_each_namespace(v, [&](const std::string& ns, const MeshRow* n, const MeshRow*) {
      if (n && !other_mesh(nullptr, ns)) {
        const InjectState s = state(nullptr, ns);
        if (s.state == Inject::On) {
          sink.pass(n->object);
        } else {
          const Mark m = first_mark(istio ? n->istio_inject_at : n->linkerd_inject_at, n->meta_at);
          sink.fail(n->object, {at(checks::namespace_phrase(ns) + " is not enabled for " + mesh +
                                       " sidecar injection (" + s.why + ")",
                                   n->meta_path, m)});
        }
      }
      auto it = v.workloads().find(ns);
      if (it == v.workloads().end()) return;
      for (std::size_t i : it->second) {
        const MeshRow& w = v.table().rows[i];
        if (other_mesh(&w, ns)) continue;
        const InjectState s = state(&w, ns);
        if (s.state != Inject::Off) {
          sink.pass(w.object);
          continue;
        }
        const Mark m = first_mark(s.by_workload ? (istio ? w.istio_inject_at : w.linkerd_inject_at) : Mark{}, w.meta_at);
        sink.fail(w.object, {at("this workload runs without the " + mesh + " proxy (" + s.why + ")", w.meta_path, m)});
      }
    });
  }

  void linkerd_policy(const MeshView& v, SetSink& sink) const {
    if (!v.linkerd()) return;
    for (const auto& [ns, rows] : v.workloads()) {
      for (std::size_t i : rows) {
        const MeshRow& w = v.table().rows[i];
        if (v.linkerd_injection(&w, ns).state != Inject::On) continue;
        const auto [policy, from] = v.linkerd_policy(&w, ns);
        if (MeshView::linkerd_authenticated(policy)) {
          sink.pass(w.object);
          continue;
        }
        const Mark m = first_mark(w.linkerd_policy_at, w.meta_at);
        sink.fail(w.object, {at("Linkerd's default inbound policy for this workload is " + policy + " (from " + from +
                                    "), so clients without a mesh identity are admitted",
                                w.meta_path, m)});
      }
    }
  }

  void selects_nothing(const Inventory& inv, const MeshView& v, SetSink& sink) const {
    const MeshTable& t = v.table();
    for (const MeshRow& r : t.rows) {
      if (r.kind != MeshRowKind::PeerAuthentication && r.kind != MeshRowKind::IstioAuthorization &&
          r.kind != MeshRowKind::LinkerdServer)
        continue;
      if (!r.selector.present || r.selector.empty()) continue;  // namespace-wide
      const ObjectFacts& o = inv.objects[r.object];
      // An Istio AuthorizationPolicy of the root namespace selects in every namespace.
      const bool everywhere = r.kind == MeshRowKind::IstioAuthorization && o.ns == settings.root_namespace;
      bool any = false;
      for (const auto& [ns, rows] : v.workloads()) {
        if (!everywhere && ns != o.ns) continue;
        for (std::size_t i : rows) any = any || r.selector.matches(t.rows[i].labels);
      }
      if (any) {
        sink.pass(r.object);
        continue;
      }
      std::string what = o.kind + " " + (o.ns.empty() ? o.name : o.ns + "/" + o.name);
      sink.fail(r.object, {at("the selector of " + what + " matches no workload " +
                                  (everywhere ? std::string("of any namespace") : "in " + checks::namespace_phrase(o.ns)) +
                                  ", so it applies to nothing",
                              r.selector_path, first_mark(r.selector_at, mark_of(nullptr)))});
    }
  }
};

// --- mesh-object (object level) -------------------------------------------------

enum class MeshObjectMode : std::uint8_t { DestinationRuleTls, IstioAllowAll, LinkerdUnauthenticated };

// A host inside the cluster: a short name, *.svc, *.cluster.local, *.local.
bool in_mesh_host(std::string_view host) {
  if (host.empty() || host == "*") return true;
  if (host.find('.') == std::string_view::npos) return true;
  return host.ends_with(".svc") || host.ends_with(".local");
}

class MeshObject final : public Check {
 public:
  MeshObjectMode mode = MeshObjectMode::DestinationRuleTls;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const std::string spec_path = join_path(in.obj.path_prefix, "spec");
    switch (mode) {
      case MeshObjectMode::DestinationRuleTls: {
        if (!in.obj.api_version.starts_with("networking.istio.io/")) return Outcome::NotApplicable;
        const std::string host(str(get(spec, "host")));
        if (!in_mesh_host(host)) return Outcome::Pass;
        auto policy = [&](const Node* tp, const std::string& tp_path) {
          auto tls = [&](const Node* holder, const std::string& holder_path, const std::string& where) {
            const Node* m = get(get(holder, "tls"), "mode");
            const std::string tls_mode = upper(str(m));
            if (tls_mode != "DISABLE" && tls_mode != "SIMPLE") return;
            out.push_back({"DestinationRule sets tls.mode " + tls_mode + where + " toward in-mesh host \"" + host +
                               "\", which " +
                               (tls_mode == "DISABLE" ? "sends plaintext instead of Istio mutual TLS"
                                                  : "replaces Istio mutual TLS with one-way TLS"),
                           m, join_path(holder_path, "tls.mode"), {}});
          };
          tls(tp, tp_path, "");
          std::size_t i = 0;
          for (const Node* p : items(get(tp, "portLevelSettings"))) {
            const Node* number = get(get(p, "port"), "number");
            tls(p, index_path(join_path(tp_path, "portLevelSettings"), i++),
                " for port " + std::string(number ? str(number) : std::string_view("?")));
          }
        };
        policy(get(spec, "trafficPolicy"), join_path(spec_path, "trafficPolicy"));
        std::size_t j = 0;
        for (const Node* s : items(get(spec, "subsets"))) {
          const std::string sp = index_path(join_path(spec_path, "subsets"), j++);
          policy(get(s, "trafficPolicy"), join_path(sp, "trafficPolicy"));
        }
        return out.empty() ? Outcome::Pass : Outcome::Fail;
      }
      case MeshObjectMode::IstioAllowAll: {
        if (!istio_group(in.obj.api_version)) return Outcome::NotApplicable;
        const Node* action = get(spec, "action");
        const std::string a = action ? upper(str(action)) : "ALLOW";
        if (a != "ALLOW") return Outcome::Pass;
        std::size_t i = 0;
        for (const Node* rule : items(get(spec, "rules"))) {
          if (!get(rule, "from") && !get(rule, "to") && !get(rule, "when")) {
            const bool scoped = get(get(spec, "selector"), "matchLabels") != nullptr;
            out.push_back({std::string("ALLOW rule {} matches every request, so this policy allows all traffic to ") +
                               (scoped ? "the workloads it selects" : "every workload of its namespace"),
                           rule, index_path(join_path(spec_path, "rules"), i), {}});
          }
          ++i;
        }
        return out.empty() ? Outcome::Pass : Outcome::Fail;
      }
      case MeshObjectMode::LinkerdUnauthenticated: {
        if (!linkerd_group(in.obj.api_version)) return Outcome::NotApplicable;
        if (in.obj.kind == "ServerAuthorization") {
          const Node* client = get(spec, "client");
          const Node* unauth = get(client, "unauthenticated");
          const Node* tls = get(get(client, "meshTLS"), "unauthenticatedTLS");
          if (is_true(unauth)) {
            out.push_back({"ServerAuthorization admits unauthenticated clients (client.unauthenticated: true)", unauth,
                           join_path(spec_path, "client.unauthenticated"), {}});
          }
          if (is_true(tls)) {
            out.push_back({"ServerAuthorization admits TLS clients without a mesh identity (client.meshTLS.unauthenticatedTLS: true)",
                           tls, join_path(spec_path, "client.meshTLS.unauthenticatedTLS"), {}});
          }
          return out.empty() ? Outcome::Pass : Outcome::Fail;
        }
        if (in.obj.kind != "AuthorizationPolicy") return Outcome::NotApplicable;
        const Node* refs = get(spec, "requiredAuthenticationRefs");
        for (const Node* r : items(refs)) {
          const std::string_view k = str(get(r, "kind"));
          if (k == "MeshTLSAuthentication" || k == "ServiceAccount") return Outcome::Pass;
        }
        out.push_back({"AuthorizationPolicy requires no mesh identity (no MeshTLSAuthentication or ServiceAccount in "
                       "requiredAuthenticationRefs), so unauthenticated clients are authorised",
                       refs ? refs : spec, join_path(spec_path, "requiredAuthenticationRefs"), {}});
        return Outcome::Fail;
      }
    }
    return Outcome::NotApplicable;
  }
};

}  // namespace

std::unique_ptr<SetCheck> compile_service_mesh_check(const Params& params, std::string& error) {
  auto c = std::make_unique<ServiceMesh>();
  const std::string_view mode = params.string("mode");
  if (mode == "istio-mtls") c->mode = MeshMode::IstioMtls;
  else if (mode == "istio-default-deny") c->mode = MeshMode::IstioDefaultDeny;
  else if (mode == "istio-injection") c->mode = MeshMode::IstioInjection;
  else if (mode == "linkerd-default-policy") c->mode = MeshMode::LinkerdDefaultPolicy;
  else if (mode == "linkerd-injection") c->mode = MeshMode::LinkerdInjection;
  else if (mode == "selects-nothing") c->mode = MeshMode::SelectsNothing;
  else {
    error = "mode must be istio-mtls, istio-default-deny, istio-injection, linkerd-default-policy, "
            "linkerd-injection or selects-nothing";
    return nullptr;
  }
  if (params.get("rootNamespace")) c->settings.root_namespace = std::string(params.string("rootNamespace"));
  if (params.get("linkerdDefaultPolicy"))
    c->settings.linkerd_default_policy = std::string(params.string("linkerdDefaultPolicy"));
  c->system_namespaces = params.get("systemNamespaces")
                             ? params.strings("systemNamespaces")
                             : std::vector<std::string>{"kube-system", "kube-public", "kube-node-lease",
                                                        "istio-system", "linkerd", "linkerd-viz", "linkerd-cni"};
  if (c->settings.root_namespace.empty()) {
    error = "rootNamespace must not be empty";
    return nullptr;
  }
  return c;
}

std::unique_ptr<Check> compile_mesh_object_check(const Params& params, std::string& error) {
  auto c = std::make_unique<MeshObject>();
  const std::string_view mode = params.string("mode");
  if (mode == "destination-rule-tls") c->mode = MeshObjectMode::DestinationRuleTls;
  else if (mode == "istio-allow-all") c->mode = MeshObjectMode::IstioAllowAll;
  else if (mode == "linkerd-unauthenticated") c->mode = MeshObjectMode::LinkerdUnauthenticated;
  else {
    error = "mode must be destination-rule-tls, istio-allow-all or linkerd-unauthenticated";
    return nullptr;
  }
  return c;
}

// --- the east-west posture --------------------------------------------------------

std::vector<std::string> east_west_kinds() {
  return {"Namespace", "workloads", "NetworkPolicy", "PeerAuthentication", "AuthorizationPolicy", "Server"};
}

std::vector<const FactCollector*> east_west_facts() {
  return {&MeshTable::collector(), &NetworkPolicies::collector()};
}

EastWestPosture east_west_posture(const Inventory& inv, const MeshSettings& settings) {
  const MeshView v(inv, settings);
  EastWestPosture p;
  if (v.istio()) p.meshes.emplace_back("istio");
  if (v.linkerd()) p.meshes.emplace_back("linkerd");
  const NetworkPolicies& nps = NetworkPolicies::of(inv);
  std::set<std::string> names;
  for (const auto& [ns, row] : v.namespace_rows()) names.insert(ns);
  for (const auto& [ns, rows] : v.workloads()) names.insert(ns);
  auto grade = [](std::uint32_t yes, std::uint32_t of, std::string_view all) {
    return std::string(yes == of ? all : yes > 0 ? std::string_view("partial") : std::string_view("none"));
  };
  const Labels no_labels;
  for (const std::string& ns : names) {
    NamespaceTraffic t;
    t.ns = ns;
    // Each workload; a namespace without any stands for the pod it would get.
    std::vector<const MeshRow*> subjects;
    if (auto it = v.workloads().find(ns); it != v.workloads().end())
      for (std::size_t i : it->second) subjects.push_back(&v.table().rows[i]);
    t.workloads = static_cast<std::uint32_t>(subjects.size());
    if (subjects.empty()) subjects.push_back(nullptr);
    std::uint32_t meshed = 0, strict = 0, authorised = 0;
    std::set<std::string> meshes;
    std::set<std::string> modes;
    for (const MeshRow* w : subjects) {
      const std::string mesh = v.mesh_of(w, ns);
      if (mesh.empty()) continue;
      ++meshed;
      meshes.insert(mesh);
      const Labels& labels = w ? w->labels : no_labels;
      if (mesh == "istio") {
        const MeshView::Mtls m = v.istio_mtls(labels, ns);
        modes.insert(m.ports.empty() ? m.mode : std::string("PERMISSIVE"));
        if (m.mode == "STRICT" && m.ports.empty()) ++strict;
        if (v.istio_authorised(w ? &labels : nullptr, ns)) ++authorised;
      } else {
        const std::string policy = v.linkerd_policy(w, ns).first;
        modes.insert(MeshView::linkerd_authenticated(policy) ? "STRICT" : "PERMISSIVE");
        if (MeshView::linkerd_authenticated(policy)) ++strict;
        if (policy == "deny") ++authorised;
      }
    }
    const auto n = static_cast<std::uint32_t>(subjects.size());
    t.meshed = t.workloads == 0 ? 0 : meshed;
    for (const std::string& m : meshes) t.mesh += (t.mesh.empty() ? "" : "+") + m;
    if (strict == n) t.mtls = "strict";
    else if (strict > 0) t.mtls = "partial";
    else if (meshed == 0) t.mtls = "none";
    else t.mtls = modes.count("DISABLE") && modes.size() == 1 ? "disabled" : "permissive";
    t.authorization = grade(authorised, n, "default-deny");
    bool deny = false, any = false;
    for (std::size_t i : nps.in(inv, ns)) {
      const NetworkPolicyFacts& np = nps.rows[i];
      any = true;
      if (np.pod_selector.empty() && np.ingress_type && np.ingress_rules == 0) deny = true;
    }
    t.network_policy = deny ? "default-deny" : any ? "partial" : "none";
    const bool by_mesh = t.mtls == "strict" && t.authorization == "default-deny";
    const bool by_np = deny;
    t.protected_by = by_mesh && by_np ? "both" : by_mesh ? "mesh" : by_np ? "network-policy" : "none";
    p.namespaces.push_back(std::move(t));
  }
  return p;
}

}  // namespace kg
