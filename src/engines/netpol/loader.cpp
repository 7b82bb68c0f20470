// Manifests into the engine's model (model.hpp): every rule of research
// §2.2 that is decided at read time lives here — policyTypes defaulting,
// missing vs empty lists, peers, ipBlock except, protocol defaults, endPort.
#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <unordered_set>

#include "engines/netpol/model.hpp"

namespace kg::netpol {

std::string_view to_string(Action a) {
  switch (a) {
    case Action::Allow: return "Allow";
    case Action::Deny: return "Deny";
    case Action::Pass: return "Pass";
  }
  return "Allow";
}

std::string_view to_string(Tier t) {
  switch (t) {
    case Tier::Admin: return "Admin";
    case Tier::NetworkPolicy: return "NetworkPolicy";
    case Tier::Baseline: return "Baseline";
  }
  return "NetworkPolicy";
}

std::string ip_str(std::uint32_t ip) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return buf;
}

std::string range_str(const IpRange& r) { return ip_str(r.lo) + "-" + ip_str(r.hi); }

bool parse_cidr(std::string_view text, IpRange& out, bool& ipv6) {
  ipv6 = text.find(':') != std::string_view::npos;
  if (ipv6) return false;
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view addr = text.substr(0, slash), len = text.substr(slash + 1);
  std::uint32_t ip = 0;
  int parts = 0;
  std::size_t i = 0;
  while (i <= addr.size() && parts < 4) {
    std::size_t dot = addr.find('.', i);
    std::string_view p = addr.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    if (p.empty() || p.size() > 3) return false;
    unsigned v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 255) return false;
    ip = (ip << 8) | v;
    ++parts;
    if (dot == std::string_view::npos) {
      i = addr.size() + 1;
      break;
    }
    i = dot + 1;
  }
  if (parts != 4 || i != addr.size() + 1) return false;
  if (len.empty() || len.size() > 2) return false;
  unsigned bits = 0;
  for (char c : len) {
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + static_cast<unsigned>(c - '0');
  }
  if (bits > 32) return false;
  const std::uint32_t host = bits == 0 ? 0xffffffffu : bits == 32 ? 0u : (0xffffffffu >> bits);
  out.lo = ip & ~host;  // Kubernetes accepts host bits set in ipBlock.cidr and masks them
  out.hi = out.lo | host;
  return true;
}

std::uint32_t NetpolInput::namespace_index(const std::string& name) const {
  for (std::uint32_t i = 0; i < namespaces.size(); ++i)
    if (namespaces[i].name == name) return i;
  return UINT32_MAX;
}

namespace {

std::string ns_of(const Object& obj) { return obj.ns.empty() ? std::string("default") : std::string(obj.ns); }

// Ranges of `r` minus each of `cuts`.
std::vector<IpRange> subtract(std::vector<IpRange> ranges, const IpRange& cut) {
  std::vector<IpRange> out;
  for (const IpRange& r : ranges) {
    if (cut.hi < r.lo || cut.lo > r.hi) {
      out.push_back(r);
      continue;
    }
    if (cut.lo > r.lo) out.push_back({r.lo, cut.lo - 1});
    if (cut.hi < r.hi) out.push_back({cut.hi + 1, r.hi});
  }
  return out;
}

}  // namespace

void InputBuilder::error(const Object& obj, const Node* at, std::string message) {
  const Node* n = at ? at : obj.root;
  in_.errors.push_back({obj.file ? obj.file->path : std::string(), n ? n->line : obj.line, n ? n->column : obj.column,
                        obj.display() + ": " + std::move(message)});
}

void InputBuilder::warn(const Object& obj, const Node* at, std::string message) {
  const Node* n = at ? at : obj.root;
  in_.warnings.push_back({obj.file ? obj.file->path : std::string(), n ? n->line : obj.line,
                          n ? n->column : obj.column, obj.display() + ": " + std::move(message)});
}

void InputBuilder::add(const Object& obj) {
  ++in_.objects;
  present_.push_back(std::string(obj.kind) + "/" + ns_of(obj) + "/" + std::string(obj.name));
  const std::string_view kind = obj.kind;
  if (kind == "Namespace") {
    declared_namespaces_.emplace_back(std::string(obj.name), read_labels(get(get(obj.root, "metadata"), "labels")));
    return;
  }
  if (kind == "NetworkPolicy" && obj.group() == "networking.k8s.io") return add_network_policy(obj);
  if ((kind == "AdminNetworkPolicy" || kind == "BaselineAdminNetworkPolicy" || kind == "ClusterNetworkPolicy") &&
      obj.group() == "policy.networking.k8s.io")
    return add_cluster_policy(obj);
  if (kind == "Service" || kind == "Ingress" || kind == "Route" || kind == "HTTPRoute" || kind == "GRPCRoute" ||
      kind == "TLSRoute" || kind == "TCPRoute" || kind == "UDPRoute")
    return add_exposer(obj);
  if (kind == "PodTemplate") return;  // a template no controller runs by itself
  PodView pod = pod_view(obj, pod_specs_);
  if (pod) add_workload(obj, pod);
}

void InputBuilder::add_workload(const Object& obj, const PodView& pod) {
  if (obj.kind == "Pod") {
    std::string_view phase = str(get(get(obj.root, "status"), "phase"));
    if (phase == "Succeeded" || phase == "Failed") return;  // holds no connections
  }
  Workload w;
  w.kind = std::string(obj.kind);
  w.ns = ns_of(obj);
  w.name = std::string(obj.name);
  w.labels = read_labels(get(pod.meta, "labels"));
  w.host_network = is_true(get(pod.spec, "hostNetwork"));
  w.file = obj.file ? obj.file->path : std::string();
  w.line = obj.line;
  auto read_ports = [&](const Node* c) {
    for (const Node* p : items(get(c, "ports"))) {
      NamedPort np;
      np.name = std::string(str(get(p, "name")));
      auto num = get(p, "containerPort") ? get(p, "containerPort")->as_int() : std::nullopt;
      if (!num || *num < 1 || *num > 65535) continue;
      np.port = static_cast<std::uint32_t>(*num);
      std::string_view proto = str(get(p, "protocol"));
      if (!proto.empty() && !parse_protocol(proto, np.protocol)) continue;
      w.ports.push_back(std::move(np));
    }
  };
  for (const Node* c : items(get(pod.spec, "containers"))) read_ports(c);
  // Native sidecars (init containers that keep running) serve ports too.
  for (const Node* c : items(get(pod.spec, "initContainers")))
    if (str(get(c, "restartPolicy")) == "Always") read_ports(c);
  // Owned by a controller that may be in the input (snapshots list the Pods of
  // a Deployment's ReplicaSets): decided in finish(), once everything is seen.
  for (const Node* o : items(get(get(obj.root, "metadata"), "ownerReferences"))) {
    if (is_true(get(o, "controller"))) {
      owned_.push_back({in_.workloads.size(), std::string(str(get(o, "kind"))), std::string(str(get(o, "name")))});
      break;
    }
  }
  in_.workloads.push_back(std::move(w));
}

namespace {

// The port list of a NetworkPolicy rule (networking/v1 NetworkPolicyPort).
struct PortReader {
  std::vector<PortSpec> out;
  std::string problem;
  const Node* at = nullptr;
  bool read_np(const Node* ports) {
    for (const Node* p : items(ports)) {
      PortSpec s;
      std::string_view proto = str(get(p, "protocol"));
      if (!proto.empty() && !parse_protocol(proto, s.protocol)) {
        problem = "ports.protocol '" + std::string(proto) + "' is not TCP, UDP or SCTP";
        at = get(p, "protocol");
        return false;
      }
      const Node* port = get(p, "port");
      const Node* end = get(p, "endPort");
      if (!port || port->is_null()) {
        if (end && !end->is_null()) {
          problem = "ports.endPort needs a numeric port";
          at = end;
          return false;
        }
        s.all_ports = true;
      } else if (auto n = port->as_int()) {
        if (*n < 1 || *n > 65535) {
          problem = "ports.port " + std::to_string(*n) + " is not in 1-65535";
          at = port;
          return false;
        }
        s.lo = s.hi = static_cast<std::uint32_t>(*n);
        if (end && !end->is_null()) {
          auto e = end->as_int();
          if (!e || *e < *n || *e > 65535) {
            problem = "ports.endPort must be a number from port to 65535";
            at = end;
            return false;
          }
          s.hi = static_cast<std::uint32_t>(*e);
        }
      } else {
        s.name = std::string(port->str());
        if (s.name.empty()) {
          problem = "ports.port is neither a number nor a port name";
          at = port;
          return false;
        }
        if (end && !end->is_null()) {
          problem = "ports.endPort needs a numeric port, not the named port '" + s.name + "'";
          at = end;
          return false;
        }
      }
      out.push_back(std::move(s));
    }
    return true;
  }
};

}  // namespace

void InputBuilder::add_network_policy(const Object& obj) {
  const Node* spec = get(obj.root, "spec");
  Policy p;
  p.kind = "NetworkPolicy";
  p.ns = ns_of(obj);
  p.name = std::string(obj.name);
  p.tier = Tier::NetworkPolicy;
  p.file = obj.file ? obj.file->path : std::string();
  p.line = obj.line;
  p.subject_same_namespace = true;
  const Node* sel = get(spec, "podSelector");
  p.pod_selector = read_selector(sel);
  if (!p.pod_selector.present) p.pod_selector.present = true;  // omitted ≡ {}
  if (p.pod_selector.invalid) error(obj, sel, "spec.podSelector is not a valid label selector: it selects no pod");
  // policyTypes defaulting (§2.2.2): Ingress always; Egress iff egress rules exist.
  const Node* types = get(spec, "policyTypes");
  if (types && !items(types).empty()) {
    for (const Node* t : items(types)) {
      if (t->str() == "Ingress") p.affects_ingress = true;
      else if (t->str() == "Egress") p.affects_egress = true;
      else error(obj, t, "spec.policyTypes entry '" + std::string(t->str()) + "' is neither Ingress nor Egress");
    }
  } else {
    p.affects_ingress = true;
    p.affects_egress = !items(get(spec, "egress")).empty();
  }
  const std::uint32_t index = static_cast<std::uint32_t>(in_.policies.size());
  for (Direction dir : {Direction::Ingress, Direction::Egress}) {
    const bool ingress = dir == Direction::Ingress;
    const char* list_key = ingress ? "ingress" : "egress";
    const char* peer_key = ingress ? "from" : "to";
    std::uint32_t i = 0;
    for (const Node* r : items(get(spec, list_key))) {
      Rule rule;
      rule.action = Action::Allow;
      rule.index = i++;
      rule.policy = index;
      rule.direction = dir;
      rule.line = r->line;
      PortReader ports;
      if (!ports.read_np(get(r, "ports"))) {
        // An invalid port the API server would refuse: the rule allows nothing.
        error(obj, ports.at, std::string("spec.") + list_key + "[" + std::to_string(rule.index) + "]." + ports.problem +
                                 "; the rule is ignored");
        continue;
      }
      rule.ports = std::move(ports.out);
      const Node* peers = get(r, peer_key);
      if (items(peers).empty()) {
        rule.peers.push_back(Clause{});  // missing or empty: every peer (§2.2.4)
      }
      for (const Node* peer : items(peers)) {
        const Node* ipb = get(peer, "ipBlock");
        const Node* ps = get(peer, "podSelector");
        const Node* nss = get(peer, "namespaceSelector");
        const std::string where = std::string("spec.") + list_key + "[" + std::to_string(rule.index) + "]." + peer_key;
        if (ipb) {
          if (ps || nss) error(obj, ipb, where + ": ipBlock cannot be combined with selectors; the peer is ignored");
          if (ps || nss) continue;
          Clause c;
          c.kind = Clause::Kind::Ips;
          IpRange cidr;
          bool v6 = false;
          std::string_view text = str(get(ipb, "cidr"));
          if (!parse_cidr(text, cidr, v6)) {
            if (v6) warn(obj, get(ipb, "cidr"), where + ".ipBlock.cidr " + std::string(text) + ": IPv6 is not analysed; the peer is ignored");
            else error(obj, get(ipb, "cidr"), where + ".ipBlock.cidr '" + std::string(text) + "' is not a CIDR; the peer is ignored");
            continue;
          }
          c.ranges = {cidr};
          bool bad = false;
          for (const Node* e : items(get(ipb, "except"))) {
            IpRange cut;
            if (!parse_cidr(e->str(), cut, v6)) {
              error(obj, e, where + ".ipBlock.except '" + std::string(e->str()) + "' is not an IPv4 CIDR; the peer is ignored");
              bad = true;
              break;
            }
            if (cut.lo < cidr.lo || cut.hi > cidr.hi) {
              error(obj, e, where + ".ipBlock.except " + std::string(e->str()) + " is not inside cidr " +
                                std::string(text) + "; the peer is ignored");
              bad = true;
              break;
            }
            c.ranges = subtract(std::move(c.ranges), cut);
          }
          if (!bad) rule.peers.push_back(std::move(c));
          continue;
        }
        if (!ps && !nss) {
          error(obj, peer, where + ": a peer needs podSelector, namespaceSelector or ipBlock; the peer is ignored");
          continue;
        }
        Clause c;
        c.kind = Clause::Kind::Pods;
        c.pod_selector = read_selector(ps);
        if (!ps) c.pod_selector.present = true;  // namespaceSelector alone: every pod there
        if (nss) {
          c.ns_selector = read_selector(nss);
        } else {
          c.same_namespace = true;  // podSelector alone: the policy's namespace
          c.ns = p.ns;
        }
        if (c.pod_selector.invalid || (nss && c.ns_selector.invalid))
          error(obj, c.pod_selector.invalid ? ps : nss, where + ": an invalid label selector selects nothing");
        rule.peers.push_back(std::move(c));
      }
      if (rule.peers.empty()) continue;  // every peer was refused: matches nothing
      (ingress ? p.ingress : p.egress).push_back(std::move(rule));
    }
  }
  in_.policies.push_back(std::move(p));
}

namespace {

// An admin peer's `pods: {namespaceSelector, podSelector}` or `namespaces:`.
bool read_admin_pods(const Node* peer, Clause& c) {
  if (const Node* ns = get(peer, "namespaces")) {
    c.kind = Clause::Kind::Pods;
    // v1alpha1 once wrapped the selector as {namespaceSelector: …}.
    const Node* sel = get(ns, "namespaceSelector") ? get(ns, "namespaceSelector") : ns;
    c.ns_selector = read_selector(sel);
    c.pod_selector.present = true;
    return true;
  }
  if (const Node* pods = get(peer, "pods")) {
    c.kind = Clause::Kind::Pods;
    const Node* nss = get(pods, "namespaceSelector");
    if (const Node* nsw = get(pods, "namespaces")) nss = get(nsw, "namespaceSelector") ? get(nsw, "namespaceSelector") : nsw;
    c.ns_selector = read_selector(nss);
    if (!nss) c.ns_selector.present = true;  // omitted: every namespace
    c.pod_selector = read_selector(get(pods, "podSelector"));
    if (!get(pods, "podSelector")) c.pod_selector.present = true;
    return true;
  }
  return false;
}

}  // namespace

void InputBuilder::add_cluster_policy(const Object& obj) {
  const Node* spec = get(obj.root, "spec");
  const bool cnp = obj.kind == "ClusterNetworkPolicy";
  const bool banp = obj.kind == "BaselineAdminNetworkPolicy";
  Policy p;
  p.kind = std::string(obj.kind);
  p.name = std::string(obj.name);
  p.file = obj.file ? obj.file->path : std::string();
  p.line = obj.line;
  if (cnp) {
    std::string_view tier = str(get(spec, "tier"));
    if (tier == "Admin") p.tier = Tier::Admin;
    else if (tier == "Baseline") p.tier = Tier::Baseline;
    else {
      error(obj, get(spec, "tier") ? get(spec, "tier") : spec, "spec.tier must be Admin or Baseline; the policy is ignored");
      return;
    }
  } else {
    p.tier = banp ? Tier::Baseline : Tier::Admin;
  }
  if (banp && p.name != "default")
    warn(obj, get(obj.root, "metadata"), "a BaselineAdminNetworkPolicy other than 'default' is refused by the API server; analysed anyway");
  if (!banp) {
    const Node* pr = get(spec, "priority");
    auto v = pr ? pr->as_int() : std::nullopt;
    if (!v || *v < 0 || *v > 1000) {
      error(obj, pr ? pr : spec, "spec.priority must be a number from 0 to 1000; the policy is ignored");
      return;
    }
    p.priority = *v;
  }
  Clause subject;
  if (!read_admin_pods(get(spec, "subject"), subject)) {
    error(obj, get(spec, "subject") ? get(spec, "subject") : spec,
          "spec.subject needs namespaces or pods; the policy is ignored");
    return;
  }
  p.ns_selector = subject.ns_selector;
  p.pod_selector = subject.pod_selector;
  const std::uint32_t index = static_cast<std::uint32_t>(in_.policies.size());
  for (Direction dir : {Direction::Ingress, Direction::Egress}) {
    const bool ingress = dir == Direction::Ingress;
    const char* list_key = ingress ? "ingress" : "egress";
    const char* peer_key = ingress ? "from" : "to";
    std::uint32_t i = 0;
    for (const Node* r : items(get(spec, list_key))) {
      Rule rule;
      rule.index = i++;
      rule.policy = index;
      rule.direction = dir;
      rule.line = r->line;
      rule.name = std::string(str(get(r, "name")));
      const std::string where = std::string("spec.") + list_key + "[" + std::to_string(rule.index) + "]";
      std::string_view action = str(get(r, "action"));
      if (action == "Allow" || action == "Accept") rule.action = Action::Allow;
      else if (action == "Deny") rule.action = Action::Deny;
      else if (action == "Pass" && !banp) rule.action = Action::Pass;
      else {
        error(obj, get(r, "action") ? get(r, "action") : r, where + ".action '" + std::string(action) + "' is not valid here; the rule is ignored");
        continue;
      }
      // Fail closed (network-policy-api): an unreadable peer or port makes an
      // Allow rule match nothing and a Deny/Pass rule match everything.
      bool fail_closed = false;
      for (const Node* peer : items(get(r, peer_key))) {
        Clause c;
        if (read_admin_pods(peer, c)) {
          rule.peers.push_back(std::move(c));
        } else if (const Node* nets = get(peer, "networks"); nets && !ingress) {
          c.kind = Clause::Kind::Ips;
          for (const Node* n : items(nets)) {
            IpRange range;
            bool v6 = false;
            if (parse_cidr(n->str(), range, v6)) {
              c.ranges.push_back(range);
              if (range.lo == 0 && range.hi == 0xffffffffu) c.matches_pods = true;
            } else if (v6) {
              warn(obj, n, where + ".to.networks " + std::string(n->str()) + ": IPv6 is not analysed");
            } else {
              error(obj, n, where + ".to.networks '" + std::string(n->str()) + "' is not a CIDR");
              fail_closed = true;
            }
          }
          std::sort(c.ranges.begin(), c.ranges.end(), [](const IpRange& a, const IpRange& b) { return a.lo < b.lo; });
          rule.peers.push_back(std::move(c));
        } else if ((get(peer, "nodes") || get(peer, "domainNames")) && !ingress) {
          // Node IPs and DNS names are not in the input: the peer matches none of the analysed peers.
          warn(obj, peer, where + ".to: " + std::string(get(peer, "nodes") ? "nodes" : "domainNames") +
                              " peers are not analysed (no node addresses or DNS answers in the input)");
        } else {
          error(obj, peer, where + "." + peer_key + ": unknown peer; the rule fails closed");
          fail_closed = true;
        }
      }
      if (!get(r, peer_key)) {
        error(obj, r, where + "." + peer_key + " is required; the rule fails closed");
        fail_closed = true;
      }
      const Node* ports = cnp ? get(r, "protocols") : get(r, "ports");
      for (const Node* pn : items(ports)) {
        PortSpec s;
        bool ok = true;
        if (cnp) {
          if (const Node* named = get(pn, "destinationNamedPort")) {
            s.any_protocol = true;
            s.name = std::string(named->str());
          } else {
            const Node* body = nullptr;
            for (Protocol pr : kProtocols) {
              std::string key(to_string(pr));
              for (char& ch : key) ch = static_cast<char>(ch + 32);
              if (const Node* b = get(pn, key)) {
                s.protocol = pr;
                body = b;
              }
            }
            const Node* dp = get(body, "destinationPort");
            if (!body) ok = false;
            else if (!dp) s.all_ports = true;
            else if (auto n = get(dp, "number") ? get(dp, "number")->as_int() : std::nullopt) {
              ok = *n >= 1 && *n <= 65535;
              s.lo = s.hi = static_cast<std::uint32_t>(*n);
            } else if (const Node* range = get(dp, "range")) {
              auto a = get(range, "start") ? get(range, "start")->as_int() : std::nullopt;
              auto b = get(range, "end") ? get(range, "end")->as_int() : std::nullopt;
              ok = a && b && *a >= 1 && *b <= 65535 && *a <= *b;
              if (ok) s.lo = static_cast<std::uint32_t>(*a), s.hi = static_cast<std::uint32_t>(*b);
            } else {
              ok = false;
            }
          }
        } else if (const Node* named = get(pn, "namedPort")) {
          s.any_protocol = true;
          s.name = std::string(named->str());
        } else if (const Node* num = get(pn, "portNumber")) {
          std::string_view proto = str(get(num, "protocol"));
          auto n = get(num, "port") ? get(num, "port")->as_int() : std::nullopt;
          ok = (proto.empty() || parse_protocol(proto, s.protocol)) && n && *n >= 1 && *n <= 65535;
          if (ok) s.lo = s.hi = static_cast<std::uint32_t>(*n);
        } else if (const Node* range = get(pn, "portRange")) {
          std::string_view proto = str(get(range, "protocol"));
          auto a = get(range, "start") ? get(range, "start")->as_int() : std::nullopt;
          auto b = get(range, "end") ? get(range, "end")->as_int() : std::nullopt;
          ok = (proto.empty() || parse_protocol(proto, s.protocol)) && a && b && *a >= 1 && *b <= 65535 && *a <= *b;
          if (ok) s.lo = static_cast<std::uint32_t>(*a), s.hi = static_cast<std::uint32_t>(*b);
        } else {
          ok = false;
        }
        if (!ok) {
          error(obj, pn, where + "." + (cnp ? "protocols" : "ports") + ": unreadable port; the rule fails closed");
          fail_closed = true;
          break;
        }
        rule.ports.push_back(std::move(s));
      }
      if (fail_closed) {
        if (rule.action == Action::Allow) continue;  // matches nothing
        rule.peers = {Clause{}};
        rule.ports.clear();
      }
      if (rule.peers.empty()) continue;
      (ingress ? p.ingress : p.egress).push_back(std::move(rule));
    }
    // An admin policy affects a direction only through its rules of it.
    (ingress ? p.affects_ingress : p.affects_egress) = !(ingress ? p.ingress : p.egress).empty();
  }
  in_.policies.push_back(std::move(p));
}

void InputBuilder::add_exposer(const Object& obj) {
  const Node* spec = get(obj.root, "spec");
  Exposer e;
  e.kind = std::string(obj.kind);
  e.ns = ns_of(obj);
  e.name = std::string(obj.name);
  if (obj.kind == "Service") {
    std::string_view type = str(get(spec, "type"));
    e.how = type.empty() ? "ClusterIP" : std::string(type);
    e.selector = read_map_selector(get(spec, "selector"));
    for (const Node* p : items(get(spec, "ports"))) {
      const Node* tp = get(p, "targetPort") ? get(p, "targetPort") : get(p, "port");
      if (auto n = tp ? tp->as_int() : std::nullopt) {
        e.ports.push_back(static_cast<std::uint32_t>(*n));
        e.port_names.emplace_back();
      } else {
        e.ports.push_back(0);
        e.port_names.emplace_back(str(tp));
      }
    }
  } else if (obj.kind == "Ingress") {
    e.how = "Ingress";
    if (auto s = str(get(get(get(spec, "defaultBackend"), "service"), "name")); !s.empty()) e.services.emplace_back(s);
    for (const Node* rule : items(get(spec, "rules")))
      for (const Node* path : items(get(get(rule, "http"), "paths")))
        if (auto s = str(get(get(get(path, "backend"), "service"), "name")); !s.empty()) e.services.emplace_back(s);
  } else if (obj.kind == "Route") {
    e.how = "Route";
    if (str(get(get(spec, "to"), "kind")) == "Service" || !get(get(spec, "to"), "kind"))
      if (auto s = str(get(get(spec, "to"), "name")); !s.empty()) e.services.emplace_back(s);
    for (const Node* b : items(get(spec, "alternateBackends")))
      if (auto s = str(get(b, "name")); !s.empty()) e.services.emplace_back(s);
  } else {
    e.how = "Gateway " + std::string(obj.kind);
    for (const Node* rule : items(get(spec, "rules")))
      for (const Node* b : items(get(rule, "backendRefs"))) {
        std::string_view kind = str(get(b, "kind"));
        if (!kind.empty() && kind != "Service") continue;
        std::string_view bns = str(get(b, "namespace"));
        if (!bns.empty() && bns != e.ns) continue;  // cross-namespace backends need a ReferenceGrant; not followed
        if (auto s = str(get(b, "name")); !s.empty()) e.services.emplace_back(s);
      }
  }
  in_.exposers.push_back(std::move(e));
}

NetpolInput InputBuilder::finish() {
  // Children whose controller is in the input stand for nothing of their own.
  std::unordered_set<std::string> present(present_.begin(), present_.end());
  std::vector<bool> drop(in_.workloads.size(), false);
  for (const Owned& o : owned_) {
    const Workload& w = in_.workloads[o.workload];
    if (present.count(o.owner_kind + "/" + w.ns + "/" + o.owner_name)) drop[o.workload] = true;
  }
  std::vector<Workload> kept;
  for (std::size_t i = 0; i < in_.workloads.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(in_.workloads[i]));
  in_.workloads = std::move(kept);
  // Sorted by their "ns/name[Kind]" text: the order every output lists them in.
  std::stable_sort(in_.workloads.begin(), in_.workloads.end(),
                   [](const Workload& a, const Workload& b) { return a.id() < b.id(); });
  // One object defined twice (two files, a snapshot and a folder): the later
  // definition is the one applied, as kubectl apply would leave it.
  std::vector<Workload> unique;
  for (std::size_t i = 0; i < in_.workloads.size(); ++i) {
    if (i + 1 < in_.workloads.size() && in_.workloads[i + 1].id() == in_.workloads[i].id()) {
      in_.warnings.push_back({in_.workloads[i].file, in_.workloads[i].line, 1,
                              in_.workloads[i].id() + " is defined again later; the later definition is analysed"});
      continue;
    }
    unique.push_back(std::move(in_.workloads[i]));
  }
  in_.workloads = std::move(unique);
  // A policy defined twice: the later definition, as for workloads.
  {
    std::map<std::string, std::size_t> last;
    for (std::size_t i = 0; i < in_.policies.size(); ++i)
      last[in_.policies[i].kind + "/" + in_.policies[i].ns + "/" + in_.policies[i].name] = i;
    std::vector<Policy> kept_policies;
    for (std::size_t i = 0; i < in_.policies.size(); ++i) {
      Policy& p = in_.policies[i];
      if (last[p.kind + "/" + p.ns + "/" + p.name] != i) {
        in_.warnings.push_back({p.file, p.line, 1, p.display() + " is defined again later; the later definition is analysed"});
        continue;
      }
      const auto index = static_cast<std::uint32_t>(kept_policies.size());
      for (auto* rules : {&p.ingress, &p.egress})
        for (Rule& r : *rules) r.policy = index;
      kept_policies.push_back(std::move(p));
    }
    in_.policies = std::move(kept_policies);
  }
  // Namespaces: declared ones with their labels, then every one mentioned.
  std::map<std::string, Namespace> ns;
  for (auto& [name, labels] : declared_namespaces_) {
    Namespace& n = ns[name];
    n.name = name;
    n.labels = labels;
    n.declared = true;
  }
  auto mention = [&](const std::string& name) {
    Namespace& n = ns[name];
    n.name = name;
  };
  for (const Workload& w : in_.workloads) mention(w.ns);
  for (const Policy& p : in_.policies)
    if (!p.ns.empty()) mention(p.ns);
  in_.namespaces.clear();
  for (auto& [name, n] : ns) {
    // The API server sets this label on every namespace (1.22+).
    auto it = std::find_if(n.labels.begin(), n.labels.end(),
                           [](const auto& kv) { return kv.first == "kubernetes.io/metadata.name"; });
    if (it == n.labels.end()) {
      n.labels.emplace_back("kubernetes.io/metadata.name", name);
      std::sort(n.labels.begin(), n.labels.end());
    } else {
      it->second = name;
    }
    in_.namespaces.push_back(std::move(n));
  }
  std::map<std::string, std::uint32_t> ns_index;
  for (std::uint32_t i = 0; i < in_.namespaces.size(); ++i) ns_index[in_.namespaces[i].name] = i;
  std::map<std::string, std::uint32_t> sigs;
  for (Workload& w : in_.workloads) {
    w.ns_index = ns_index[w.ns];
    std::string sig;
    for (const NamedPort& p : w.ports)
      if (!p.name.empty()) sig += p.name + "/" + std::string(to_string(p.protocol)) + "/" + std::to_string(p.port) + ";";
    w.port_sig = sigs.emplace(sig, static_cast<std::uint32_t>(sigs.size())).first->second;
  }
  return std::move(in_);
}

}  // namespace kg::netpol
