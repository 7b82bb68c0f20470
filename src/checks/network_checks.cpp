// Networking templates, evaluated on one object at a time:
//
//  * `network-policy`: a NetworkPolicy's own spec (allow-all rules, no
//    selectors at all).
//  * `container-ports`: the ports a pod template declares (privileged port
//    numbers; invalid, duplicate or missing port names and numbers).
//  * `service-exposure`: a Service's own spec (externalIPs / externalName;
//    a sensitive interface published through NodePort or LoadBalancer).
//
// Which pods a policy selects, and whether a Service's targetPort names a
// port of the pods it selects, need the whole input set and live elsewhere.
#include <algorithm>
#include <cctype>
#include <map>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"
#include "core/ascii.hpp"

namespace kg {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// ---- network-policy -------------------------------------------------------

// A rule with no peers and no ports admits every source (or destination) on
// every port: `ingress: [{}]`.
bool allows_everything(const Node* rule, std::string_view peers_key) {
  return items(get(rule, peers_key)).empty() && items(get(rule, "ports")).empty();
}

bool selector_empty(const Node* sel) {
  return !sel || sel->is_null() ||
         (entries(get(sel, "matchLabels")).empty() && items(get(sel, "matchExpressions")).empty());
}

class NetworkPolicyCheck final : public Check {
 public:
  enum class Mode { AllowAll, NoSelectors } mode = Mode::AllowAll;
  bool require_empty_pod_selector = true;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const std::string spec_path = join_path(in.obj.path_prefix, "spec");
    if (mode == Mode::NoSelectors) {
      const Node* ps = get(spec, "podSelector");
      if (ps && !ps->is_null()) return Outcome::Pass;
      for (std::string_view dir : {"ingress", "egress"}) {
        const std::string_view peers = dir == "ingress" ? "from" : "to";
        for (const Node* rule : items(get(spec, dir))) {
          for (const Node* peer : items(get(rule, peers)))
            if (get(peer, "podSelector") || get(peer, "namespaceSelector")) return Outcome::Pass;
        }
      }
      out.push_back(
          {"NetworkPolicy has no podSelector and no peer podSelector or namespaceSelector",
           spec ? spec : in.obj.root,
           join_path(spec_path, "podSelector"),
           {}});
      return Outcome::Fail;
    }
    const bool all_pods = selector_empty(get(spec, "podSelector"));
    if (require_empty_pod_selector && !all_pods) return Outcome::Pass;
    for (std::string_view dir : {"ingress", "egress"}) {
      const std::string_view peers = dir == "ingress" ? "from" : "to";
      const std::string dir_path = join_path(spec_path, dir);
      std::size_t i = 0;
      for (const Node* rule : items(get(spec, dir))) {
        const std::string rpath = index_path(dir_path, i++);
        if (!allows_everything(rule, peers)) continue;
        out.push_back({"NetworkPolicy " + std::string(dir) + " rule " + index_path(dir, i - 1) +
                           " allows all " + (dir == "ingress" ? "sources" : "destinations") +
                           " on all ports for " +
                           (all_pods ? "every pod in the namespace" : "the selected pods"),
                       rule,
                       rpath,
                       {}});
      }
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

// ---- container-ports ------------------------------------------------------

// IANA_SVC_NAME: 1-15 characters, [a-z0-9-], at least one letter, no
// leading, trailing or doubled hyphen (k8s.io/apimachinery validation).
std::string iana_problem(std::string_view n) {
  if (n.size() > 15) return "is longer than 15 characters";
  bool letter = false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    if (c >= 'a' && c <= 'z') {
      letter = true;
    } else if (c == '-') {
      if (i == 0 || i + 1 == n.size()) return "starts or ends with a hyphen";
      if (n[i + 1] == '-') return "contains \"--\"";
    } else if (!(c >= '0' && c <= '9')) {
      return "contains characters other than a-z, 0-9 and -";
    }
  }
  if (!letter) return "contains no letter";
  return {};
}

class ContainerPortsCheck final : public Check {
 public:
  enum class Mode { Privileged, Names } mode = Mode::Privileged;
  std::int64_t below = 1024;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    std::map<std::string, std::string, std::less<>> seen;  // port name -> container
    for (const ContainerRef& c : containers_of(in.pod)) {
      if (c.kind == ContainerKind::Ephemeral) continue;  // cannot declare ports
      any = true;
      const std::string who = checks::describe(c);
      const std::string ports_path = join_path(c.path, "ports");
      std::size_t i = 0;
      for (const Node* p : items(get(c.node, "ports"))) {
        const std::string ppath = index_path(ports_path, i++);
        const Node* cp = get(p, "containerPort");
        std::int64_t num = -1;  // -1: missing or not a number
        if (cp)
          if (auto v = cp->as_int()) num = *v;
        const Node* name = get(p, "name");
        if (mode == Mode::Privileged) {
          if (num > 0 && num < below) {
            out.push_back({who + " listens on privileged port " + std::to_string(num) + " (below " +
                               std::to_string(below) + ")",
                           cp, join_path(ppath, "containerPort"), std::string(c.name)});
          }
          continue;
        }
        if (num < 1 || num > 65535) {
          out.push_back({who + " port " + index_path("ports", i - 1) +
                             (cp ? " has an invalid containerPort \"" + std::string(str(cp)) + "\""
                                 : " has no containerPort"),
                         cp ? cp : p, join_path(ppath, "containerPort"), std::string(c.name)});
        }
        if (const Node* hp = get(p, "hostPort")) {
          const auto h = hp->as_int();
          if (!h || *h < 0 || *h > 65535) {
            out.push_back({who + " has an invalid hostPort \"" + std::string(str(hp)) + "\"", hp,
                           join_path(ppath, "hostPort"), std::string(c.name)});
          }
        }
        if (!name || name->is_null()) continue;
        const std::string_view n = str(name);
        if (std::string problem = iana_problem(n); !problem.empty()) {
          out.push_back({who + " port name \"" + std::string(n) + "\" " + problem +
                             " (must be an IANA_SVC_NAME)",
                         name, join_path(ppath, "name"), std::string(c.name)});
          continue;
        }
        auto [it, fresh] = seen.emplace(std::string(n), std::string(c.name));
        if (!fresh) {
          out.push_back({who + " port name \"" + std::string(n) +
                             "\" is already used by container \"" + it->second +
                             "\" (port names must be unique in a pod)",
                         name, join_path(ppath, "name"), std::string(c.name)});
        }
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

// ---- service-exposure -----------------------------------------------------

class ServiceExposureCheck final : public Check {
 public:
  enum class Mode { ExternalEndpoints, Sensitive } mode = Mode::ExternalEndpoints;
  std::vector<std::string> allowed_external_ips;
  std::vector<std::string> interfaces;  // lower-case names
  std::vector<std::string> types{"NodePort", "LoadBalancer"};
  std::vector<std::string> label_keys{"app", "app.kubernetes.io/name", "k8s-app",
                                      "app.kubernetes.io/component"};

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const std::string spec_path = join_path(in.obj.path_prefix, "spec");
    if (mode == Mode::ExternalEndpoints) {
      const std::string ips_path = join_path(spec_path, "externalIPs");
      std::size_t i = 0;
      for (const Node* ip : items(get(spec, "externalIPs"))) {
        const std::string p = index_path(ips_path, i++);
        if (contains(allowed_external_ips, str(ip))) continue;
        out.push_back({"Service claims external IP " + std::string(str(ip)) +
                           " (any Service may intercept traffic to it, CVE-2020-8554)",
                       ip,
                       p,
                       {}});
      }
      if (const Node* en = get(spec, "externalName"); en && !str(en).empty()) {
        out.push_back({"Service is an alias (externalName) for \"" + std::string(str(en)) + "\"",
                       en,
                       join_path(spec_path, "externalName"),
                       {}});
      }
      return out.empty() ? Outcome::Pass : Outcome::Fail;
    }
    const Node* type = get(spec, "type");
    if (!contains(types, str(type))) return Outcome::Pass;
    // The interface is recognised by the Service's name, its identifying
    // labels or its selector values.
    std::vector<std::pair<std::string, std::string>> names;  // (where, value)
    names.emplace_back("name", std::string(in.obj.name));
    const Node* meta = get(in.obj.root, "metadata");
    for (const std::string& k : label_keys) {
      if (const Node* v = get(get(meta, "labels"), k))
        names.emplace_back("label " + k, std::string(str(v)));
      if (const Node* v = get(get(spec, "selector"), k))
        names.emplace_back("selector " + k, std::string(str(v)));
    }
    for (const auto& [where, value] : names) {
      const std::string v = ascii_lower(value);
      for (const std::string& iface : interfaces) {
        const bool hit =
            v == iface || v.rfind(iface + "-", 0) == 0 ||
            (v.size() > iface.size() &&
             v.compare(v.size() - iface.size() - 1, std::string::npos, "-" + iface) == 0);
        if (!hit) continue;
        out.push_back({"Service of type " + std::string(str(type)) + " exposes " + iface + " (" +
                           where + " \"" + value + "\") outside the cluster",
                       type,
                       join_path(spec_path, "type"),
                       {}});
        return Outcome::Fail;
      }
    }
    return Outcome::Pass;
  }
};

}  // namespace

std::unique_ptr<Check> compile_network_policy_check(const Params& params, std::string& error) {
  auto check = std::make_unique<NetworkPolicyCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "allow-all") {
    check->mode = NetworkPolicyCheck::Mode::AllowAll;
  } else if (mode == "no-selectors") {
    check->mode = NetworkPolicyCheck::Mode::NoSelectors;
  } else {
    error = "mode must be allow-all or no-selectors";
    return nullptr;
  }
  if (const Node* r = params.get("requireEmptyPodSelector")) {
    if (!r->as_bool()) {
      error = "requireEmptyPodSelector must be true or false";
      return nullptr;
    }
    check->require_empty_pod_selector = *r->as_bool();
  }
  return check;
}

std::unique_ptr<Check> compile_container_ports_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ContainerPortsCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "privileged") {
    check->mode = ContainerPortsCheck::Mode::Privileged;
  } else if (mode == "names") {
    check->mode = ContainerPortsCheck::Mode::Names;
  } else {
    error = "mode must be privileged or names";
    return nullptr;
  }
  if (params.get("below")) {
    auto b = params.integer("below");
    if (!b || *b < 1 || *b > 65536) {
      error = "below must be a port number between 1 and 65536";
      return nullptr;
    }
    check->below = *b;
  }
  return check;
}

std::unique_ptr<Check> compile_service_exposure_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ServiceExposureCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "external-endpoints") {
    check->mode = ServiceExposureCheck::Mode::ExternalEndpoints;
    check->allowed_external_ips = params.strings("allowedExternalIPs");
  } else if (mode == "sensitive") {
    check->mode = ServiceExposureCheck::Mode::Sensitive;
    for (const std::string& s : params.strings("interfaces")) check->interfaces.push_back(ascii_lower(s));
    if (check->interfaces.empty()) {
      error = "interfaces must list at least one interface name";
      return nullptr;
    }
    if (params.get("types")) check->types = params.strings("types");
    if (params.get("labelKeys")) check->label_keys = params.strings("labelKeys");
  } else {
    error = "mode must be external-endpoints or sensitive";
    return nullptr;
  }
  return check;
}

}  // namespace kg
