#include "engines/netpol/analysis.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "core/label_index.hpp"

namespace kg::netpol {

namespace {

constexpr std::uint32_t kNone = 0;  // interned id of the empty ConnSet
constexpr std::uint32_t kAll = 1;   // and of every connection

// One direction's rules in force at a pod, in evaluation order.
struct Chain {
  Direction dir = Direction::Ingress;
  std::vector<const Rule*> admin;
  bool np_isolated = false;
  std::vector<std::uint32_t> np_policies;  // isolating NetworkPolicies
  std::vector<const Rule*> np;
  std::vector<const Rule*> baseline;
  bool named = false;  // some rule names a port
  std::uint32_t subject = 0;  // a member: its ports resolve named ports of an ingress chain
  std::vector<std::uint32_t> members;
  // Results.
  std::uint32_t def_pod = kAll, def_host = kAll;
  std::vector<std::uint32_t> def_sig;  // by destination port_sig (egress chains with named ports: differs per sig)
  std::vector<std::pair<std::uint32_t, std::uint32_t>> exceptions;  // (workload, conn), by workload
  std::vector<std::uint32_t> ip;  // conn per atom
};

struct PeerView {
  // OnlyClause: a pod that `only` selects and nothing narrower (exposure).
  enum class Kind : std::uint8_t { Pod, GenericPod, GenericHost, Ip, OnlyClause } kind = Kind::Pod;
  const Clause* only = nullptr;
  const Workload* w = nullptr;
  const Labels* ns_labels = nullptr;
  IpRange atom;
};

std::string selector_key(const LabelSelector& s) {
  std::string k = s.present ? (s.invalid ? "!" : "+") : "-";
  for (const auto& [a, b] : s.match_labels) k += a + '\0' + b + '\1';
  k += '\2';
  for (const auto& r : s.expressions) {
    k += r.key + '\0' + r.op + '\0';
    for (const auto& v : r.values) k += v + '\3';
    k += '\1';
  }
  return k;
}

}  // namespace

struct Analysis::Impl {
  const NetpolInput& in;
  const std::vector<IpRange>& atoms;
  std::vector<ConnSet> conns;
  std::unordered_map<std::string, std::uint32_t> conn_ids;
  mutable std::unordered_map<std::uint64_t, std::uint32_t> meets;
  std::vector<Chain> chains[2];
  std::vector<std::uint32_t> chain_of[2];  // per workload
  std::vector<std::vector<std::uint32_t>> selecting[2];  // per workload: policies, tier order
  std::vector<std::vector<std::uint32_t>> selected;      // per policy: workloads
  std::vector<std::uint32_t> sig_rep;                    // port_sig → a workload with it
  std::vector<std::unique_ptr<LabeledIndex>> ns_index;
  std::vector<std::size_t> ids_scratch;
  std::unordered_map<std::string, std::vector<std::uint32_t>> ns_memo, clause_memo;
  std::vector<std::vector<std::size_t>> ns_ids;  // per namespace, LabeledIndex input (size_t)
  std::vector<std::uint32_t> host_workloads;
  // Candidate collection without sorting duplicates: a workload is in the
  // current chain's list when seen[w] == stamp.
  std::vector<std::uint32_t> seen, pos, cand_scratch;
  std::vector<std::uint32_t> cls_scratch;
  std::uint32_t stamp = 0;

  Impl(const NetpolInput& input, const std::vector<IpRange>& a) : in(input), atoms(a) {
    intern(ConnSet::none());
    intern(ConnSet::all());
  }

  std::uint32_t intern(const ConnSet& c) {
    if (c.empty() && !conns.empty()) return kNone;
    if (c.is_all() && conns.size() > 1) return kAll;
    auto [it, added] = conn_ids.emplace(c.key(), static_cast<std::uint32_t>(conns.size()));
    if (added) conns.push_back(c);
    return it->second;
  }

  std::uint32_t meet(std::uint32_t a, std::uint32_t b) const {
    if (a == kAll || a == b) return b;
    if (b == kAll) return a;
    if (a == kNone || b == kNone) return kNone;
    const std::uint64_t key = (std::uint64_t{std::min(a, b)} << 32) | std::max(a, b);
    auto it = meets.find(key);
    if (it != meets.end()) return it->second;
    auto* self = const_cast<Impl*>(this);  // memo only: the analysis is not shared across threads
    const std::uint32_t id = self->intern(conns[a] & conns[b]);
    meets.emplace(key, id);
    return id;
  }

  // Namespaces a selector picks (memoised by its text).
  const std::vector<std::uint32_t>& namespaces_matching(const LabelSelector& sel) {
    std::string key = selector_key(sel);
    auto it = ns_memo.find(key);
    if (it != ns_memo.end()) return it->second;
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < in.namespaces.size(); ++i)
      if (sel.matches(in.namespaces[i].labels)) out.push_back(i);
    return ns_memo.emplace(std::move(key), std::move(out)).first->second;
  }

  const LabeledIndex& index_of(std::uint32_t ns) {
    if (!ns_index[ns]) {
      ns_index[ns] = std::make_unique<LabeledIndex>(
          ns_ids[ns], [this](std::size_t id) -> const Labels& { return in.workloads[id].labels; });
    }
    return *ns_index[ns];
  }

  // Non-host-network workloads of namespace `ns` that `sel` selects, ascending.
  void pods_in(std::uint32_t ns, const LabelSelector& sel, std::vector<std::uint32_t>& out) {
    for (std::size_t id : index_of(ns).candidates(sel))
      if (sel.matches(in.workloads[id].labels)) out.push_back(static_cast<std::uint32_t>(id));
  }

  // The workloads a Pods clause matches (memoised).
  const std::vector<std::uint32_t>& pods_matching(const Clause& c) {
    std::string key = (c.same_namespace ? "=" + c.ns + '\0' : selector_key(c.ns_selector)) + '\4' +
                      selector_key(c.pod_selector);
    auto it = clause_memo.find(key);
    if (it != clause_memo.end()) return it->second;
    std::vector<std::uint32_t> out;
    if (c.same_namespace) {
      std::uint32_t ns = in.namespace_index(c.ns);
      if (ns != UINT32_MAX) pods_in(ns, c.pod_selector, out);
    } else {
      for (std::uint32_t ns : namespaces_matching(c.ns_selector)) pods_in(ns, c.pod_selector, out);
      std::sort(out.begin(), out.end());
    }
    return clause_memo.emplace(std::move(key), std::move(out)).first->second;
  }

  bool clause_matches(const Clause& c, const PeerView& p) const {
    switch (c.kind) {
      case Clause::Kind::Any: return true;
      case Clause::Kind::Ips:
        if (p.kind == PeerView::Kind::Ip) {
          for (const IpRange& r : c.ranges)
            if (r.lo <= p.atom.lo && p.atom.hi <= r.hi) return true;
          return false;
        }
        // `networks: 0.0.0.0/0` covers every IPv4 address, a host-network pod's (its node's) too:
        // the API says it allows or denies "all IPv4 pod-to-pod traffic" (tests/netpol/cases/
        // semantics-networks-all-host-network.yaml). GenericHost stands for every such pod.
        return c.matches_pods;  // OnlyClause: a pod too
      case Clause::Kind::Pods:
        if (p.kind == PeerView::Kind::Ip || p.kind == PeerView::Kind::GenericHost) return false;
        if (p.kind == PeerView::Kind::GenericPod) return c.universal();
        if (p.kind == PeerView::Kind::OnlyClause) return &c == p.only || c.universal();
        if (p.w->host_network) return false;  // host-network pods are outside policy (§2.2.7)
        if (c.same_namespace) return p.w->ns == c.ns && c.pod_selector.matches(p.w->labels);
        return c.ns_selector.matches(*p.ns_labels) && c.pod_selector.matches(p.w->labels);
    }
    return false;
  }

  bool rule_matches(const Rule& r, const PeerView& p) const {
    for (const Clause& c : r.peers)
      if (clause_matches(c, p)) return true;
    return false;
  }

  // The ports a rule names, named ports resolved against `dst_ports` (the
  // destination pod's; none for an IP destination).
  static ConnSet rule_ports(const Rule& r, const std::vector<NamedPort>* dst_ports) {
    if (r.ports.empty()) return ConnSet::all();
    ConnSet c;
    for (const PortSpec& s : r.ports) {
      if (s.name.empty()) {
        c[s.protocol] = c[s.protocol] | (s.all_ports ? PortSet::all() : PortSet::range(s.lo, s.hi));
      } else if (dst_ports) {
        for (const NamedPort& np : *dst_ports) {
          if (np.name == s.name && (s.any_protocol || np.protocol == s.protocol))
            c[np.protocol] = c[np.protocol] | PortSet::range(np.port, np.port);
}
      }
    }
    return c;
  }

  // One direction at one end (research §2.2 and the tier order of
  // network-policy-api): what `ch` allows toward/from `peer`.
  ConnSet eval(const Chain& ch, const PeerView& peer, const std::vector<NamedPort>* dst_ports,
               std::vector<Decision>* trace) const {
    ConnSet allowed, undecided = ConnSet::all(), passed;
    auto note = [&](const ConnSet& c, bool ok, Tier t, const Rule* r, std::string why) {
      if (!trace || c.empty()) return;
      Decision d;
      d.conns = c;
      d.allowed = ok;
      d.tier = t;
      if (r) {
        d.policy = r->policy;
        d.rule = r->index;
      }
      d.reason = std::move(why);
      trace->push_back(std::move(d));
    };
    for (const Rule* r : ch.admin) {
      if (undecided.empty()) break;
      if (!rule_matches(*r, peer)) continue;
      ConnSet take = undecided & rule_ports(*r, dst_ports);
      if (take.empty()) continue;
      if (r->action == Action::Allow) allowed = allowed | take;
      else if (r->action == Action::Pass) passed = passed | take;
      note(take, r->action == Action::Allow, Tier::Admin, r, std::string(to_string(r->action)));
      undecided = undecided - take;
    }
    ConnSet next = undecided | passed;
    if (next.empty()) return allowed;
    if (ch.np_isolated) {
      ConnSet np_allowed;
      for (const Rule* r : ch.np) {
        if (!rule_matches(*r, peer)) continue;
        ConnSet part = (next & rule_ports(*r, dst_ports)) - np_allowed;
        if (part.empty()) continue;
        note(part, true, Tier::NetworkPolicy, r, "Allow");
        np_allowed = np_allowed | part;
      }
      if (trace) {
        ConnSet denied = next - np_allowed;
        if (!denied.empty()) {
          Decision d;
          d.conns = denied;
          d.tier = Tier::NetworkPolicy;
          d.isolating = ch.np_policies;
          d.reason = "isolated, no rule allows";
          trace->push_back(std::move(d));
        }
      }
      return allowed | np_allowed;
    }
    for (const Rule* r : ch.baseline) {
      if (next.empty()) break;
      if (!rule_matches(*r, peer)) continue;
      ConnSet take = next & rule_ports(*r, dst_ports);
      if (take.empty()) continue;
      // Pass in the Baseline tier hands over to the default: allow.
      if (r->action != Action::Deny) allowed = allowed | take;
      note(take, r->action != Action::Deny, Tier::Baseline, r, std::string(to_string(r->action)));
      next = next - take;
    }
    note(next, true, Tier::Baseline, nullptr, "default allow");
    return allowed | next;
  }

  PeerView pod_view(std::uint32_t w) const {
    PeerView v;
    v.kind = PeerView::Kind::Pod;
    v.w = &in.workloads[w];
    v.ns_labels = &in.namespaces[v.w->ns_index].labels;
    return v;
  }
  PeerView ip_view(std::uint32_t atom) const {
    PeerView v;
    v.kind = PeerView::Kind::Ip;
    v.atom = atoms[atom];
    return v;
  }
  const std::vector<NamedPort>* subject_ports(const Chain& ch) const {
    return ch.members.empty() ? nullptr : &in.workloads[ch.subject].ports;
  }
  // Named ports resolve at the destination: the peer for egress, the subject for ingress.
  const std::vector<NamedPort>* dst_ports(const Chain& ch, const PeerView& peer) const {
    if (ch.dir == Direction::Ingress) return subject_ports(ch);
    if (peer.kind == PeerView::Kind::Pod) return &peer.w->ports;
    return nullptr;
  }

  void build();
  void build_chains(Direction dir);
  void compute(Chain& ch);

  std::uint32_t lookup(const Chain& ch, std::uint32_t w) const {
    auto it = std::lower_bound(ch.exceptions.begin(), ch.exceptions.end(), std::make_pair(w, std::uint32_t{0}));
    if (it != ch.exceptions.end() && it->first == w) return it->second;
    const Workload& d = in.workloads[w];
    if (d.host_network) return ch.def_host;
    return ch.def_sig[d.port_sig];
  }
};

void Analysis::Impl::build() {
  const std::size_t n = in.workloads.size();
  ns_ids.assign(in.namespaces.size(), {});
  ns_index.resize(in.namespaces.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    const Workload& w = in.workloads[i];
    if (w.port_sig >= sig_rep.size()) sig_rep.resize(w.port_sig + 1, UINT32_MAX);
    if (sig_rep[w.port_sig] == UINT32_MAX) sig_rep[w.port_sig] = i;
    if (!w.host_network) ns_ids[w.ns_index].push_back(i);
    else host_workloads.push_back(i);
  }
  seen.assign(n, 0);
  pos.assign(n, 0);
  // Who each policy selects (host-network pods are outside every policy).
  selected.assign(in.policies.size(), {});
  selecting[0].assign(n, {});
  selecting[1].assign(n, {});
  for (std::uint32_t p = 0; p < in.policies.size(); ++p) {
    const Policy& pol = in.policies[p];
    std::vector<std::uint32_t>& out = selected[p];
    if (pol.subject_same_namespace) {
      std::uint32_t ns = in.namespace_index(pol.ns);
      if (ns != UINT32_MAX) pods_in(ns, pol.pod_selector, out);
    } else {
      for (std::uint32_t ns : namespaces_matching(pol.ns_selector)) pods_in(ns, pol.pod_selector, out);
      std::sort(out.begin(), out.end());
    }
    for (std::uint32_t w : out) {
      if (pol.affects_ingress) selecting[0][w].push_back(p);
      if (pol.affects_egress) selecting[1][w].push_back(p);
    }
  }
  // Tier order: Admin by priority (ties by kind, then name: the API leaves
  // them to the implementation), NetworkPolicies, Baseline by priority (the
  // BaselineAdminNetworkPolicy after any Baseline ClusterNetworkPolicy).
  auto rank = [this](std::uint32_t p) {
    const Policy& pol = in.policies[p];
    std::int64_t pr = pol.kind == "BaselineAdminNetworkPolicy" ? 1001 : pol.priority;
    return std::make_tuple(static_cast<int>(pol.tier), pr, pol.kind, pol.name, p);
  };
  for (auto& per_dir : selecting) {
    for (auto& list : per_dir)
      std::sort(list.begin(), list.end(), [&](std::uint32_t a, std::uint32_t b) { return rank(a) < rank(b); });
}
  build_chains(Direction::Ingress);
  build_chains(Direction::Egress);
}

void Analysis::Impl::build_chains(Direction dir) {
  const int d = dir == Direction::Ingress ? 0 : 1;
  std::unordered_map<std::string, std::uint32_t> by_key;
  chain_of[d].assign(in.workloads.size(), 0);
  for (std::uint32_t w = 0; w < in.workloads.size(); ++w) {
    const std::vector<std::uint32_t>& pols = selecting[d][w];
    bool named = false;
    for (std::uint32_t p : pols) {
      for (const Rule& r : dir == Direction::Ingress ? in.policies[p].ingress : in.policies[p].egress)
        named = named || r.uses_named_ports();
}
    std::string key(reinterpret_cast<const char*>(pols.data()), pols.size() * sizeof(std::uint32_t));
    // An ingress chain's named ports resolve against the subject's own ports.
    if (named && dir == Direction::Ingress) key += "#" + std::to_string(in.workloads[w].port_sig);
    auto [it, added] = by_key.emplace(std::move(key), static_cast<std::uint32_t>(chains[d].size()));
    if (added) {
      Chain ch;
      ch.dir = dir;
      ch.named = named;
      ch.subject = w;
      for (std::uint32_t p : pols) {
        const Policy& pol = in.policies[p];
        const auto& rules = dir == Direction::Ingress ? pol.ingress : pol.egress;
        for (const Rule& r : rules) {
          if (pol.tier == Tier::Admin) ch.admin.push_back(&r);
          else if (pol.tier == Tier::Baseline) ch.baseline.push_back(&r);
          else ch.np.push_back(&r);
        }
        if (pol.tier == Tier::NetworkPolicy) {
          ch.np_isolated = true;
          ch.np_policies.push_back(p);
        }
      }
      chains[d].push_back(std::move(ch));
    }
    chain_of[d][w] = it->second;
    chains[d][it->second].members.push_back(w);
  }
  for (Chain& ch : chains[d]) compute(ch);
}

void Analysis::Impl::compute(Chain& ch) {
  const std::size_t sigs = sig_rep.size();
  if (ch.admin.empty() && !ch.np_isolated && ch.baseline.empty()) {
    ch.def_sig.assign(sigs, kAll);
    ch.ip.assign(atoms.size(), kAll);
    return;  // no policy: every connection
  }
  PeerView generic;
  generic.kind = PeerView::Kind::GenericPod;
  const bool per_sig = ch.named && ch.dir == Direction::Egress;
  if (per_sig) {
    ch.def_sig.assign(sigs, kNone);
    for (std::uint32_t sig = 0; sig < sigs; ++sig) {
      if (sig_rep[sig] != UINT32_MAX)
        ch.def_sig[sig] = intern(eval(ch, generic, &in.workloads[sig_rep[sig]].ports, nullptr));
}
  } else {
    ch.def_pod = intern(eval(ch, generic, dst_ports(ch, generic), nullptr));
    ch.def_sig.assign(sigs, ch.def_pod);
  }
  PeerView host;
  host.kind = PeerView::Kind::GenericHost;
  ch.def_host = intern(eval(ch, host, dst_ports(ch, host), nullptr));
  // The clauses that decide in this chain (the Baseline's only when no
  // NetworkPolicy isolates: it is never reached otherwise).
  std::vector<const Clause*> clauses;
  auto gather = [&](const std::vector<const Rule*>& rules) {
    for (const Rule* r : rules) {
      for (const Clause& c : r->peers)
        if (c.kind != Clause::Kind::Any) clauses.push_back(&c);
}
  };
  gather(ch.admin);
  gather(ch.np_isolated ? ch.np : ch.baseline);
  // Exceptions: the pods some non-universal clause names (and, for egress
  // with named ports, host-network destinations, whose ports their generic
  // default does not know). Peers matching the same clauses (and, where
  // named ports resolve at the peer, with the same ports) get the same
  // verdict: one evaluation per signature.
  // Each candidate's signature (which clauses match it) comes from the
  // clauses' memoised pod lists, so no selector is matched again here.
  std::vector<std::uint32_t>& cand = cand_scratch;
  cand.clear();
  ++stamp;
  auto add = [&](std::uint32_t w) {
    if (seen[w] != stamp) {
      seen[w] = stamp;
      pos[w] = static_cast<std::uint32_t>(cand.size());
      cand.push_back(w);
    }
  };
  bool ip_clauses = false;
  std::vector<const std::vector<std::uint32_t>*> lists(clauses.size(), nullptr);
  for (std::size_t k = 0; k < clauses.size(); ++k) {
    const Clause& c = *clauses[k];
    if (c.kind == Clause::Kind::Ips) ip_clauses = true;
    if (c.kind != Clause::Kind::Pods || c.universal()) continue;
    lists[k] = &pods_matching(c);
    for (std::uint32_t w : *lists[k]) add(w);
  }
  if (per_sig)
    for (std::uint32_t w : host_workloads) add(w);
  // Partition refinement: candidates start in one class per host flag
  // (universal clauses and all-address networks match every non-host pod)
  // and each clause's pod list splits the classes it touches; a class is a
  // set of peers matching the same clauses.
  std::vector<std::uint32_t>& cls = cls_scratch;
  cls.resize(cand.size());
  std::uint32_t classes = 2;
  for (std::size_t i = 0; i < cand.size(); ++i) cls[i] = in.workloads[cand[i]].host_network ? 1 : 0;
  std::unordered_map<std::uint32_t, std::uint32_t> split;
  for (std::size_t k = 0; k < clauses.size(); ++k) {
    if (!lists[k]) continue;
    split.clear();
    for (std::uint32_t w : *lists[k]) {
      std::uint32_t& c = cls[pos[w]];
      auto [it, added] = split.emplace(c, classes);
      if (added) ++classes;
      c = it->second;
    }
  }
  std::unordered_map<std::uint64_t, std::uint32_t> memo;
  for (std::size_t i = 0; i < cand.size(); ++i) {
    const std::uint32_t w = cand[i];
    const Workload& d = in.workloads[w];
    // Where named ports resolve at the peer, its ports are part of its class.
    const std::uint64_t key = (std::uint64_t{cls[i]} << 32) | (per_sig ? d.port_sig : 0u);
    auto it = memo.find(key);
    std::uint32_t id;
    if (it != memo.end()) {
      id = it->second;
    } else {
      PeerView v = pod_view(w);
      id = intern(eval(ch, v, dst_ports(ch, v), nullptr));
      memo.emplace(key, id);
    }
    const std::uint32_t def = d.host_network ? ch.def_host : ch.def_sig[d.port_sig];
    if (id != def) ch.exceptions.emplace_back(w, id);
  }
  std::sort(ch.exceptions.begin(), ch.exceptions.end());
  // External ranges: by the Ips clauses holding each.
  PeerView outside;
  outside.kind = PeerView::Kind::Ip;
  outside.atom = {1, 0};  // inside no range: only Any clauses match
  const std::uint32_t ip_def = intern(eval(ch, outside, dst_ports(ch, outside), nullptr));
  ch.ip.assign(atoms.size(), ip_def);
  if (ip_clauses) {
    std::unordered_map<std::string, std::uint32_t> ip_memo;
    std::string ip_key;
    for (std::uint32_t a = 0; a < atoms.size(); ++a) {
      PeerView v = ip_view(a);
      ip_key.clear();
      for (const Clause* c : clauses) ip_key += c->kind == Clause::Kind::Ips && clause_matches(*c, v) ? '1' : '0';
      auto it = ip_memo.find(ip_key);
      if (it != ip_memo.end()) {
        ch.ip[a] = it->second;
        continue;
      }
      ch.ip[a] = intern(eval(ch, v, dst_ports(ch, v), nullptr));
      ip_memo.emplace(ip_key, ch.ip[a]);
    }
  }
}

Analysis::Analysis(const NetpolInput& input) : in_(input) {
  // Disjoint external ranges cut at every boundary any ipBlock or network names.
  std::set<std::uint64_t> cuts = {0, std::uint64_t{1} << 32};
  for (const Policy& p : in_.policies) {
    for (const auto* rules : {&p.ingress, &p.egress}) {
      for (const Rule& r : *rules) {
        for (const Clause& c : r.peers) {
          for (const IpRange& range : c.ranges) {
            cuts.insert(range.lo);
            cuts.insert(std::uint64_t{range.hi} + 1);
          }
}
}
}
}
  for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it)
    atoms_.push_back({static_cast<std::uint32_t>(*it), static_cast<std::uint32_t>(*std::next(it) - 1)});
  impl_ = std::make_unique<Impl>(in_, atoms_);
  impl_->build();
}

Analysis::~Analysis() = default;

std::string Analysis::peer_name(PeerRef p) const {
  return p.ip ? range_str(atoms_[p.index]) : in_.workloads[p.index].id();
}

std::optional<PeerRef> Analysis::find_peer(const std::string& text, std::string& why) const {
  IpRange r;
  bool v6 = false;
  std::string cidr = text.find('/') == std::string::npos ? text + "/32" : text;
  if (text.find('[') == std::string::npos && parse_cidr(cidr, r, v6)) {
    for (std::uint32_t i = 0; i < atoms_.size(); ++i)
      if (atoms_[i].lo <= r.lo && r.lo <= atoms_[i].hi) return PeerRef{true, i};
  }
  std::optional<PeerRef> found;
  for (std::uint32_t i = 0; i < in_.workloads.size(); ++i) {
    const Workload& w = in_.workloads[i];
    if (w.id() == text) return PeerRef{false, i};
    if (w.ns + "/" + w.name == text || (w.ns == "default" && w.name == text)) {
      if (found) {
        why = "'" + text + "' names several workloads; add the kind: ns/name[Kind]";
        return std::nullopt;
      }
      found = PeerRef{false, i};
    }
  }
  if (!found) why = "no workload or IPv4 address '" + text + "' in the input";
  return found;
}

ConnSet Analysis::connection(PeerRef src, PeerRef dst) const {
  if (src == dst) return ConnSet::all();
  if (src.ip && dst.ip) return ConnSet::all();  // outside the cluster: no policy applies
  std::uint32_t eg = kAll, ing = kAll;
  if (!src.ip) {
    const Chain& ch = impl_->chains[1][impl_->chain_of[1][src.index]];
    eg = dst.ip ? ch.ip[dst.index] : impl_->lookup(ch, dst.index);
  }
  if (!dst.ip) {
    const Chain& ch = impl_->chains[0][impl_->chain_of[0][dst.index]];
    ing = src.ip ? ch.ip[src.index] : impl_->lookup(ch, src.index);
  }
  return impl_->conns[impl_->meet(eg, ing)];
}

Explanation Analysis::explain(PeerRef src, PeerRef dst) const {
  Explanation e;
  e.egress = e.ingress = ConnSet::all();
  if (!src.ip) {
    const Chain& ch = impl_->chains[1][impl_->chain_of[1][src.index]];
    PeerView v = dst.ip ? impl_->ip_view(dst.index) : impl_->pod_view(dst.index);
    e.egress = impl_->eval(ch, v, impl_->dst_ports(ch, v), &e.egress_decisions);
  }
  if (!dst.ip) {
    const Chain& ch = impl_->chains[0][impl_->chain_of[0][dst.index]];
    PeerView v = src.ip ? impl_->ip_view(src.index) : impl_->pod_view(src.index);
    e.ingress = impl_->eval(ch, v, impl_->dst_ports(ch, v), &e.ingress_decisions);
  }
  e.allowed = src == dst ? ConnSet::all() : e.egress & e.ingress;
  return e;
}

namespace {

// The rows of the matrix, one source at a time: egress verdicts of the
// source's chain (its defaults by destination, then its exceptions) and
// ingress verdicts of each destination's chain toward this source (their
// defaults, then the exceptions naming this source), met pair by pair.
// `row(s, key)` is asked first with the row's identity (its egress chain,
// host flag and the ingress exceptions naming the source): false skips the
// row (totals reuse an identical row's counts).
struct RowKey {
  std::uint32_t chain = 0;
  bool host = false;
  const std::pair<std::uint32_t, std::uint32_t>* begin = nullptr;
  const std::pair<std::uint32_t, std::uint32_t>* end = nullptr;
};

template <class Visit, class Row>
void walk_rows(const Analysis::Impl& im, std::size_t atoms, Visit&& visit, Row&& row) {
  const auto& workloads = im.in.workloads;
  const std::uint32_t n = static_cast<std::uint32_t>(workloads.size());
  // Ingress exceptions by source, flattened: (destination, conn).
  std::vector<std::uint32_t> start(n + 1, 0);
  for (const Chain& c : im.chains[0])
    for (const auto& [w, id] : c.exceptions) start[w + 1] += static_cast<std::uint32_t>(c.members.size());
  for (std::uint32_t i = 0; i < n; ++i) start[i + 1] += start[i];
  std::vector<std::pair<std::uint32_t, std::uint32_t>> by_src(start[n]);
  {
    std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
    for (const Chain& c : im.chains[0]) {
      for (const auto& [w, id] : c.exceptions)
        for (std::uint32_t d : c.members) by_src[fill[w]++] = {d, id};
}
  }
  std::vector<std::uint32_t> in_pod(n), in_host(n), sig(n);
  std::vector<std::uint8_t> host(n);
  for (std::uint32_t d = 0; d < n; ++d) {
    const Chain& ic = im.chains[0][im.chain_of[0][d]];
    in_pod[d] = ic.def_pod;
    in_host[d] = ic.def_host;
    sig[d] = workloads[d].port_sig;
    host[d] = workloads[d].host_network;
  }
  std::vector<std::uint32_t> eg(n), ing(n);
  for (std::uint32_t s = 0; s < n; ++s) {
    const Chain& ec = im.chains[1][im.chain_of[1][s]];
    if (!row(s, RowKey{im.chain_of[1][s], host[s] != 0, by_src.data() + start[s], by_src.data() + start[s + 1]}))
      continue;
    const std::uint32_t* def = ec.def_sig.data();
    for (std::uint32_t d = 0; d < n; ++d) eg[d] = host[d] ? ec.def_host : def[sig[d]];
    for (const auto& [d, id] : ec.exceptions) eg[d] = id;
    ing = host[s] ? in_host : in_pod;
    for (std::uint32_t k = start[s]; k < start[s + 1]; ++k) ing[by_src[k].first] = by_src[k].second;
    for (std::uint32_t d = 0; d < n; ++d)
      if (d != s) visit(PeerRef{false, s}, PeerRef{false, d}, im.meet(eg[d], ing[d]));
    for (std::uint32_t a = 0; a < atoms; ++a) visit(PeerRef{false, s}, PeerRef{true, a}, ec.ip[a]);
  }
  for (std::uint32_t a = 0; a < atoms; ++a) {
    for (std::uint32_t d = 0; d < n; ++d)
      visit(PeerRef{true, a}, PeerRef{false, d}, im.chains[0][im.chain_of[0][d]].ip[a]);
}
}

}  // namespace

void Analysis::for_each_connection(const std::function<void(PeerRef, PeerRef, const ConnSet&)>& f) const {
  walk_rows(
      *impl_, atoms_.size(),
      [&](PeerRef s, PeerRef d, std::uint32_t id) {
        if (id != kNone) f(s, d, impl_->conns[id]);
      },
      [](std::uint32_t, const RowKey&) { return true; });
}

Analysis::Totals Analysis::totals() const {
  // Sources whose rows are identical but for the diagonal (same egress chain,
  // host flag and ingress exceptions naming them) are counted once; each
  // source's own diagonal cell is then taken out.
  struct Counts {
    std::uint64_t allowed = 0, all = 0;
    RowKey key;
  };
  std::unordered_map<std::uint64_t, std::vector<Counts>> rows;
  Totals t;
  Counts* current = nullptr;
  const std::uint32_t n = static_cast<std::uint32_t>(in_.workloads.size());
  auto self_cell = [&](std::uint32_t s) { return connection_id(s); };
  walk_rows(
      *impl_, atoms_.size(),
      [&](PeerRef s, PeerRef, std::uint32_t id) {
        ++t.pairs;
        t.allowed += id != kNone;
        t.all += id == kAll;
        if (current && !s.ip) {
          current->allowed += id != kNone;
          current->all += id == kAll;
        }
      },
      [&](std::uint32_t s, const RowKey& key) {
        std::uint64_t h = (std::uint64_t{key.chain} << 1) | (key.host ? 1 : 0);
        for (auto* p = key.begin; p != key.end; ++p) h = h * 1000003u ^ (std::uint64_t{p->first} << 20 ^ p->second);
        std::vector<Counts>& bucket = rows[h];
        for (Counts& c : bucket) {
          if (c.key.chain == key.chain && c.key.host == key.host && c.key.end - c.key.begin == key.end - key.begin &&
              std::equal(key.begin, key.end, c.key.begin)) {
            // Same row: the counts of the first, its diagonal back in, ours out.
            const std::uint32_t mine = self_cell(s);
            t.pairs += n - 1 + atoms_.size();
            t.allowed += c.allowed - (mine != kNone);
            t.all += c.all - (mine == kAll);
            current = nullptr;
            return false;
          }
        }
        bucket.push_back(Counts{});
        current = &bucket.back();
        current->key = key;
        // Counted by visit without the diagonal: add it so reuse can take each source's own out.
        const std::uint32_t mine = self_cell(s);
        current->allowed += mine != kNone;
        current->all += mine == kAll;
        return true;
      });
  return t;
}

std::uint32_t Analysis::connection_id(std::uint32_t s) const {
  // The diagonal cell as the matrix walk would compute it (egress of s toward
  // s met with ingress of s from s), not the "always allowed" of connection().
  const Impl& im = *impl_;
  const Chain& ec = im.chains[1][im.chain_of[1][s]];
  const Chain& ic = im.chains[0][im.chain_of[0][s]];
  return im.meet(im.lookup(ec, s), im.lookup(ic, s));
}

std::string selector_text(const LabelSelector& s) {
  if (!s.present || s.invalid) return "(nothing)";
  std::string t;
  for (const auto& [k, v] : s.match_labels) t += (t.empty() ? "" : ",") + k + "=" + v;
  for (const auto& r : s.expressions) {
    t += (t.empty() ? "" : ",") + r.key + " " + r.op;
    if (!r.values.empty()) {
      t += " (";
      for (std::size_t i = 0; i < r.values.size(); ++i) t += (i ? "," : "") + r.values[i];
      t += ")";
    }
  }
  return t.empty() ? "{}" : t;
}

namespace {

// Private, loopback, link-local and shared address space: not the internet.
bool inside_private(const IpRange& r) {
  static constexpr IpRange kPrivate[] = {{0x0A000000u, 0x0AFFFFFFu}, {0xAC100000u, 0xAC1FFFFFu}, {0xC0A80000u, 0xC0A8FFFFu},
                                         {0x7F000000u, 0x7FFFFFFFu}, {0xA9FE0000u, 0xA9FEFFFFu}, {0x64400000u, 0x647FFFFFu}};
  for (const IpRange& p : kPrivate)
    if (p.lo <= r.lo && r.hi <= p.hi) return true;
  return false;
}

}  // namespace

Exposure Analysis::exposure(std::uint32_t w) const {
  const Impl& im = *impl_;
  Exposure e;
  e.workload = w;
  const Chain& ic = im.chains[0][im.chain_of[0][w]];
  const Chain& ec = im.chains[1][im.chain_of[1][w]];
  const Workload& self = in_.workloads[w];
  PeerView generic;
  generic.kind = PeerView::Kind::GenericPod;
  e.from_cluster = im.eval(ic, generic, im.dst_ports(ic, generic), nullptr);
  // Egress toward "any pod": named ports resolve at pods we do not know, so
  // only numbered ports count here.
  e.to_cluster = im.eval(ec, generic, nullptr, nullptr);
  for (std::uint32_t a = 0; a < atoms_.size(); ++a) {
    if (inside_private(atoms_[a])) continue;
    e.from_internet = e.from_internet | im.conns[ic.ip[a]];
    e.to_internet = e.to_internet | im.conns[ec.ip[a]];
  }
  for (const Chain* ch : {&ic, &ec}) {
    std::vector<const Rule*> rules = ch->admin;
    const auto& rest = ch->np_isolated ? ch->np : ch->baseline;
    rules.insert(rules.end(), rest.begin(), rest.end());
    std::set<std::string> done;
    for (const Rule* r : rules) {
      for (const Clause& c : r->peers) {
        if (c.kind != Clause::Kind::Pods || c.same_namespace || c.universal()) continue;
        Exposure::BySelector b;
        b.direction = ch->dir;
        b.namespaces = selector_text(c.ns_selector);
        b.pods = selector_text(c.pod_selector);
        if (!done.insert(b.namespaces + '\0' + b.pods).second) continue;
        PeerView v;
        v.kind = PeerView::Kind::OnlyClause;
        v.only = &c;
        b.conns = im.eval(*ch, v, ch->dir == Direction::Ingress ? im.dst_ports(*ch, v) : nullptr, nullptr);
        if (b.conns == (ch->dir == Direction::Ingress ? e.from_cluster : e.to_cluster)) continue;  // nothing beyond "any pod"
        e.by_selector.push_back(std::move(b));
      }
}
  }
  // Entries from outside: Services of type LoadBalancer/NodePort selecting the
  // workload, and Ingresses, Routes and Gateway routes whose backend Service does.
  auto service_ports = [&](const Exposer& svc) {
    if (svc.ports.empty()) return ConnSet::all();
    ConnSet c;
    for (std::size_t i = 0; i < svc.ports.size(); ++i) {
      if (svc.ports[i]) {
        c[Protocol::TCP] = c[Protocol::TCP] | PortSet::range(svc.ports[i], svc.ports[i]);
        continue;
      }
      for (const NamedPort& np : self.ports)
        if (np.name == svc.port_names[i]) c[np.protocol] = c[np.protocol] | PortSet::range(np.port, np.port);
    }
    return c;
  };
  auto selects = [&](const Exposer& svc) {
    return svc.kind == "Service" && svc.ns == self.ns && svc.selector.present && svc.selector.matches(self.labels);
  };
  for (const Exposer& x : in_.exposers) {
    if (x.kind == "Service") {
      if ((x.how == "LoadBalancer" || x.how == "NodePort") && selects(x)) {
        ConnSet ports = service_ports(x);
        e.entries.push_back({x.kind, x.ns, x.name, x.how, ports, ports & e.from_internet});
      }
      continue;
    }
    for (const std::string& name : x.services) {
      for (const Exposer& svc : in_.exposers) {
        if (svc.kind == "Service" && svc.name == name && svc.ns == x.ns && selects(svc)) {
          ConnSet ports = service_ports(svc);
          // The controller's own pods relay the traffic: they are cluster peers.
          e.entries.push_back({x.kind, x.ns, x.name, x.how + " via Service " + svc.name, ports, ports & e.from_cluster});
        }
}
}
  }
  return e;
}

const std::vector<std::uint32_t>& Analysis::selecting(std::uint32_t workload, Direction dir) const {
  return impl_->selecting[dir == Direction::Ingress ? 0 : 1][workload];
}
const std::vector<std::uint32_t>& Analysis::selected_by(std::uint32_t policy) const { return impl_->selected[policy]; }
std::size_t Analysis::chain_count(Direction dir) const { return impl_->chains[dir == Direction::Ingress ? 0 : 1].size(); }
const std::vector<std::uint32_t>& Analysis::pods_matching(const Clause& c) const {
  return impl_->pods_matching(c);  // memoised: the analysis is used by one thread at a time
}

std::size_t Analysis::conn_count() const { return impl_->conns.size(); }

}  // namespace kg::netpol
