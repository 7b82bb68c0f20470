#include "engines/netpol/findings.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace kg::netpol {
namespace {

// English and Chinese text of each rule (docs/netpol.md "Findings").
constexpr EngineRuleText kRules[] = {
    {kOpenToAllNamespaces, Severity::Medium, "Workload selected by network policies is reachable from every namespace",
     "A policy selects the workload, yet a rule lets pods of any namespace in (an empty namespaceSelector, or a rule "
     "without from): a compromised pod anywhere in the cluster can connect to it.",
     "Narrow the ingress rule's peers to the namespaces and pods that need the workload (namespaceSelector with "
     "labels, podSelector), or remove the allow-all rule.",
     "已被网络策略选中的工作负载仍可从所有命名空间访问",
     "有策略选中该工作负载，但某条规则允许任意命名空间的 Pod 进入（空的 namespaceSelector 或没有 from 的规则）：集群中任何被攻破的 Pod 都能连接它。",
     "将入站规则的对端收窄到确实需要访问的命名空间和 Pod（带标签的 namespaceSelector、podSelector），或删除放行全部的规则。"},
    {kInternetEgress, Severity::Low, "Workload can open any connection to the internet",
     "No egress policy limits the workload, so it can reach every public address on every port: exfiltration and "
     "command-and-control traffic leave unhindered.",
     "Isolate egress (a default-deny Egress policy in the namespace) and allow only the destinations and ports the "
     "workload needs, DNS included.",
     "工作负载可向互联网发起任意连接",
     "没有出站策略限制该工作负载，它可以在任意端口访问所有公网地址：数据外泄和命令控制流量畅通无阻。",
     "隔离出站流量（命名空间内的默认拒绝 Egress 策略），只放行工作负载需要的目的地和端口，包括 DNS。"},
    {kDnsBlocked, Severity::Medium, "DNS is not allowed under egress isolation",
     "The workload's egress is isolated and no rule allows UDP port 53 to the cluster DNS (or any resolver): name "
     "resolution fails, and the workload breaks in ways that look unrelated to policy.",
     "Add an egress rule allowing UDP and TCP 53 to the kube-dns/CoreDNS pods (namespaceSelector "
     "kubernetes.io/metadata.name: kube-system, podSelector k8s-app: kube-dns).",
     "出站隔离下未放行 DNS",
     "该工作负载的出站已被隔离，且没有规则放行到集群 DNS（或任何解析器）的 UDP 53 端口：域名解析会失败，故障表现往往看似与策略无关。",
     "添加出站规则，放行到 kube-dns/CoreDNS Pod 的 UDP 和 TCP 53 端口（namespaceSelector kubernetes.io/metadata.name: kube-system，podSelector k8s-app: kube-dns）。"},
    {kNamespaceOpen, Severity::Medium, "Namespace is not isolated from other namespaces",
     "Pods of other namespaces can connect to workloads of this namespace: it lacks the deny-from-other-namespaces "
     "isolation that keeps tenants and environments apart.",
     "Add a policy selecting every pod of the namespace whose ingress allows only the namespace itself "
     "(deny-from-other-namespaces: podSelector {}, ingress from podSelector {}), then open what must be shared.",
     "命名空间未与其他命名空间隔离",
     "其他命名空间的 Pod 可以连接本命名空间的工作负载：缺少隔离租户和环境的 deny-from-other-namespaces 策略。",
     "添加选中命名空间内所有 Pod、入站只放行本命名空间的策略（deny-from-other-namespaces：podSelector {}，ingress from podSelector {}），再开放必须共享的部分。"},
    {kPolicyNoEffect, Severity::Low, "Network policy selects or allows nothing",
     "The policy selects no workload, or one of its rules can match no peer or port in the input: it protects "
     "nothing, or a selector or port name has a typo and the intended traffic is blocked.",
     "Check the policy's selectors and named ports against the workloads' labels and container ports; delete "
     "policies that no longer apply.",
     "网络策略未选中或未放行任何对象",
     "该策略未选中任何工作负载，或某条规则在输入中匹配不到任何对端或端口：它什么也没保护，或选择器、端口名写错导致预期流量被阻断。",
     "对照工作负载的标签和容器端口检查策略的选择器和命名端口；删除已不再适用的策略。"},
    {kNamedPortUndeclared, Severity::Low, "Policy names a port that no pod declares",
     "A named port resolves against the destination pod's containerPort names; a name no selected pod declares "
     "matches nothing, so the rule silently allows less than intended.",
     "Use a port name the destination containers declare (containers[].ports[].name), or the port number.",
     "策略引用了没有 Pod 声明的端口名",
     "命名端口根据目标 Pod 的 containerPort 名称解析；没有被选中的 Pod 声明的名称匹配不到任何端口，规则放行的流量会悄然少于预期。",
     "使用目标容器声明的端口名（containers[].ports[].name），或直接使用端口号。"},
    {kAdminPriorityOverlap, Severity::Medium, "Admin policies share a priority and select the same pods",
     "Two Admin-tier policies with the same priority select the same pods: which one decides is left to the "
     "network plugin, so the effective policy is unpredictable.",
     "Give every Admin-tier policy that can match the same traffic its own priority.",
     "管理员策略优先级相同且选中相同的 Pod",
     "两个相同优先级的 Admin 层策略选中了相同的 Pod：由哪个策略决定取决于网络插件，实际生效的策略无法预测。",
     "为可能匹配相同流量的每个 Admin 层策略设置不同的优先级。"},
};

class Sink {
 public:
  Sink(EngineResult& r, Category networking, const ObjectIndexOf& index_of) : r_(r), index_of_(index_of) {
    if (networking && std::find(r_.categories.begin(), r_.categories.end(), networking) == r_.categories.end())
      r_.categories.push_back(networking);
    for (const EngineRuleText& t : kRules) {
      auto owned = make_rule(t, networking);
      owned->tags = {"netpol"};
      index_[t.id] = r_.add_owned_rule(std::move(owned));
    }
  }

  // One subject checked by `rule`; a failure when `message` is not empty.
  void judge(const char* rule, const std::string& kind, const std::string& ns, const std::string& name,
             const std::string& file, std::uint32_t line, const std::string& path, const std::string& message = {},
             const std::string& evidence = {}) {
    const std::size_t ri = index_.at(rule);
    RuleTally& t = r_.tallies[ri];
    // The scopes' lines add up to the totals: the subject counts in the scope of its file.
    RuleTally* scoped = nullptr;
    if (auto scope = r_.scope_of_file(file)) scoped = &r_.scopes[*scope].tallies[ri];
    ++t.evaluated;
    if (scoped) ++scoped->evaluated;
    if (message.empty()) {
      ++t.passed;
      if (scoped) ++scoped->passed;
      return;
    }
    ++t.failed;
    if (scoped) ++scoped->failed;
    Finding f;
    f.rule = r_.rules[ri];
    f.result = Result::Fail;
    f.kind = kind;
    f.ns = ns;
    f.name = name;
    f.subject = evidence;
    f.message = message;
    f.location = {file, line, 1, path};
    std::optional<std::size_t> at = index_of_ ? index_of_(kind, ns, name) : std::nullopt;
    f.object = at.value_or(r_.objects);  // after the scan's objects when not one of them
    r_.findings.push_back(f);
  }

 private:
  EngineResult& r_;
  const ObjectIndexOf& index_of_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace

void add_findings(const Analysis& a, EngineResult& result, Category networking, const ObjectIndexOf& index_of) {
  Sink sink(result, networking, index_of);
  const NetpolInput& in = a.input();
  const auto& workloads = in.workloads;
  std::vector<Exposure> exp;
  exp.reserve(workloads.size());
  for (std::uint32_t w = 0; w < workloads.size(); ++w) exp.push_back(a.exposure(w));
  // DNS servers in the input: kube-dns / CoreDNS pods.
  std::vector<std::uint32_t> dns;
  for (std::uint32_t w = 0; w < workloads.size(); ++w) {
    const std::string_view app = label(workloads[w].labels, "k8s-app");
    if (app == "kube-dns" || app == "coredns" || label(workloads[w].labels, "app.kubernetes.io/name") == "coredns") dns.push_back(w);
  }
  std::map<std::string, std::pair<std::uint32_t, ConnSet>> ns_open;  // namespace → a workload open to others
  for (std::uint32_t w = 0; w < workloads.size(); ++w) {
    const Workload& wl = workloads[w];
    if (wl.host_network) continue;  // outside policy: nothing a policy could fix
    const Exposure& e = exp[w];
    const bool selected_in = !a.selecting(w, Direction::Ingress).empty();
    const bool selected_out = !a.selecting(w, Direction::Egress).empty();
    const std::string me = wl.id();
    // Reachable from every namespace although policies select it.
    if (selected_in) {
      if (!e.from_cluster.empty()) {
        sink.judge(kOpenToAllNamespaces, wl.kind, wl.ns, wl.name, wl.file, wl.line, "",
                   "selected by network policies, yet reachable from pods in every namespace: entire-cluster => " + me +
                       " : " + e.from_cluster.analyzer_str(),
                   "entire-cluster => " + me + " : " + e.from_cluster.analyzer_str());
      } else {
        sink.judge(kOpenToAllNamespaces, wl.kind, wl.ns, wl.name, wl.file, wl.line, "");
}
    }
    // Internet egress on every port, nothing limiting it.
    if (e.to_internet.is_all() && !selected_out) {
      sink.judge(kInternetEgress, wl.kind, wl.ns, wl.name, wl.file, wl.line, "",
                 "no egress policy limits it: " + me + " => internet : All Connections",
                 me + " => internet : All Connections");
    } else {
      sink.judge(kInternetEgress, wl.kind, wl.ns, wl.name, wl.file, wl.line, "");
}
    // DNS under egress isolation.
    if (selected_out) {
      bool ok = e.to_cluster[Protocol::UDP].contains(53) || e.to_internet[Protocol::UDP].contains(53);
      ConnSet to_dns;
      std::string dns_name = "kube-dns";
      for (std::uint32_t d : dns) {
        if (d == w) {
          ok = true;
          continue;
        }
        ConnSet c = a.connection(PeerRef{false, w}, PeerRef{false, d});
        if (c[Protocol::UDP].contains(53)) ok = true;
        dns_name = workloads[d].id();
        to_dns = c;
      }
      for (std::uint32_t r = 0; r < a.ip_ranges().size() && !ok; ++r)
        ok = a.connection(PeerRef{false, w}, PeerRef{true, r})[Protocol::UDP].contains(53);
      if (!ok) {
        sink.judge(kDnsBlocked, wl.kind, wl.ns, wl.name, wl.file, wl.line, "",
                   "egress is isolated and DNS is not allowed: " + me + " => " + dns_name + " : " + to_dns.analyzer_str(),
                   me + " => " + dns_name + " : " + to_dns.analyzer_str());
      } else {
        sink.judge(kDnsBlocked, wl.kind, wl.ns, wl.name, wl.file, wl.line, "");
}
    }
    if (!e.from_cluster.empty() && !ns_open.count(wl.ns)) ns_open[wl.ns] = {w, e.from_cluster};
  }
  // Namespaces: is any workload open to pods of other namespaces?
  std::set<std::string> with_workloads;
  for (const Workload& wl : workloads)
    if (!wl.host_network) with_workloads.insert(wl.ns);
  for (const std::string& ns : with_workloads) {
    auto it = ns_open.find(ns);
    if (it == ns_open.end()) {
      sink.judge(kNamespaceOpen, "Namespace", "", ns, "", 0, "");
      continue;
    }
    const std::string ev = "entire-cluster => " + workloads[it->second.first].id() + " : " + it->second.second.analyzer_str();
    sink.judge(kNamespaceOpen, "Namespace", "", ns, "", 0, "",
               "pods of other namespaces reach this namespace: " + ev, ev);
  }
  // Policies: selecting nothing, rules matching nothing, undeclared named ports.
  std::set<std::string> declared;  // every container port name in the input
  for (const Workload& wl : workloads) {
    for (const NamedPort& p : wl.ports)
      if (!p.name.empty()) declared.insert(p.name);
}
  for (std::uint32_t p = 0; p < in.policies.size(); ++p) {
    const Policy& pol = in.policies[p];
    const std::vector<std::uint32_t>& subjects = a.selected_by(p);
    std::string why;
    std::string path;
    if (subjects.empty()) {
      why = "selects no workload";
      path = pol.tier == Tier::NetworkPolicy ? "spec.podSelector" : "spec.subject";
    }
    std::vector<std::pair<std::string, std::string>> undeclared;  // (name, path)
    for (const auto* rules : {&pol.ingress, &pol.egress}) {
      for (const Rule& r : *rules) {
        const std::string rpath = std::string("spec.") + (r.direction == Direction::Ingress ? "ingress[" : "egress[") +
                                  std::to_string(r.index) + "]";
        bool any_peer = false;
        for (const Clause& c : r.peers) {
          if (c.kind == Clause::Kind::Any || c.kind == Clause::Kind::Ips || c.universal() || !a.pods_matching(c).empty())
            any_peer = true;
        }
        if (!any_peer && why.empty() && r.action == Action::Allow) {
          why = "rule " + std::to_string(r.index) + " matches no pod in the input";
          path = rpath;
        }
        for (const PortSpec& ps : r.ports) {
          if (ps.name.empty()) continue;
          // Ingress names resolve at the subjects; egress names at any destination.
          bool found = false;
          if (r.direction == Direction::Ingress) {
            for (std::uint32_t w : subjects) {
              for (const NamedPort& np : workloads[w].ports)
                found = found || (np.name == ps.name && (ps.any_protocol || np.protocol == ps.protocol));
}
            if (subjects.empty()) found = true;  // reported as selecting nothing
          } else {
            found = declared.count(ps.name) > 0;
          }
          if (!found) undeclared.emplace_back(ps.name, rpath + ".ports");
        }
      }
    }
    // NetworkPolicies that select nothing, or whose peers select nothing, are the
    // catalog's network-policy-selects-no-pods and -peer-selects-no-pods: one risk, one finding.
    if (pol.tier == Tier::NetworkPolicy) {
    } else if (!why.empty()) {
      sink.judge(kPolicyNoEffect, pol.kind, pol.ns, pol.name, pol.file, pol.line, path, pol.display() + " " + why,
                 pol.display());
    } else {
      sink.judge(kPolicyNoEffect, pol.kind, pol.ns, pol.name, pol.file, pol.line, "");
    }
    if (undeclared.empty()) {
      sink.judge(kNamedPortUndeclared, pol.kind, pol.ns, pol.name, pol.file, pol.line, "");
    }
    for (const auto& [name, upath] : undeclared) {
      sink.judge(kNamedPortUndeclared, pol.kind, pol.ns, pol.name, pol.file, pol.line, upath,
                 "named port '" + name + "' is declared by no pod it could reach", pol.display() + " port " + name);
}
  }
  // Admin-tier policies of equal priority selecting the same pods.
  std::map<std::int64_t, std::vector<std::uint32_t>> by_priority;
  for (std::uint32_t p = 0; p < in.policies.size(); ++p)
    if (in.policies[p].tier == Tier::Admin) by_priority[in.policies[p].priority].push_back(p);
  for (const auto& [prio, ps] : by_priority) {
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const Policy& pol = in.policies[ps[i]];
      std::string clash;
      for (std::size_t j = 0; j < ps.size() && clash.empty(); ++j) {
        if (i == j) continue;
        const auto& x = a.selected_by(ps[i]);
        const auto& y = a.selected_by(ps[j]);
        std::vector<std::uint32_t> both;
        std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(both));
        if (!both.empty()) {
          clash = "priority " + std::to_string(prio) + " is also " + in.policies[ps[j]].display() +
                  "'s; both select " + workloads[both.front()].id();
}
      }
      sink.judge(kAdminPriorityOverlap, pol.kind, pol.ns, pol.name, pol.file, pol.line, clash.empty() ? "" : "spec.priority",
                 clash, clash.empty() ? "" : pol.display());
    }
  }
}

}  // namespace kg::netpol
