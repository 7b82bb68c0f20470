// The NetworkPolicy engine (engines/netpol): one test per semantic rule of
// research §2.2 and per tier, each as the connections expected between a few
// workloads; and the fast matrix (chains, defaults, exceptions) against the
// direct per-pair evaluation that explain runs, on every pair of every case.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/object.hpp"
#include "engines/netpol/analysis.hpp"
#include "engines/netpol/findings.hpp"

namespace kg::netpol {
namespace {

NetpolInput load(const std::string& yaml) {
  PodSpecTable specs;
  InputBuilder b(specs);
  SourceFile f;
  f.path = "test.yaml";
  f.content = yaml;
  stream_documents(f, LoadLimits{}, [&](const Document& d) {
    std::vector<Object> objs;
    std::vector<InputError> errs;
    collect_objects(f, d, objs, errs);
    for (const Object& o : objs) b.add(o);
  });
  for (InputError& e : f.errors) b.add_error(std::move(e));
  return b.finish();
}

std::string ns(const std::string& name, const std::string& labels = "{}") {
  return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + ", labels: " + labels + "}\n---\n";
}

// A Deployment whose pods carry `labels` and declare `ports` (a flow list).
std::string deploy(const std::string& n, const std::string& name, const std::string& labels,
                   const std::string& ports = "[]", bool host = false) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: " + n +
         "}\nspec:\n  template:\n    metadata: {labels: " + labels + "}\n    spec:\n      hostNetwork: " +
         (host ? "true" : "false") + "\n      containers: [{name: c, image: i, ports: " + ports + "}]\n---\n";
}

std::string netpol(const std::string& n, const std::string& name, const std::string& spec) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + n +
         "}\nspec:\n" + spec + "\n---\n";
}

std::string cluster_policy(const std::string& kind, const std::string& version, const std::string& name,
                           const std::string& spec) {
  return "apiVersion: policy.networking.k8s.io/" + version + "\nkind: " + kind + "\nmetadata: {name: " + name +
         "}\nspec:\n" + spec + "\n---\n";
}

// The connection between two peers named "ns/name" (Deployments) or an IPv4 address.
std::string conn(const Analysis& a, const std::string& src, const std::string& dst) {
  auto resolve = [&](const std::string& s) {
    std::string why;
    auto p = a.find_peer(s.find('[') == std::string::npos && s.find('/') != std::string::npos && s.find('.') == std::string::npos
                             ? s + "[Deployment]"
                             : s,
                         why);
    EXPECT_TRUE(p) << why;
    return p.value_or(PeerRef{});
  };
  return a.connection(resolve(src), resolve(dst)).analyzer_str();
}

// Every pair: the matrix walk, the single-pair look-up and the direct
// evaluation (explain) agree.
void check_consistent(const Analysis& a) {
  std::map<std::pair<std::string, std::string>, std::string> walked;
  a.for_each_connection([&](PeerRef s, PeerRef d, const ConnSet& c) {
    walked[{a.peer_name(s), a.peer_name(d)}] = c.analyzer_str();
  });
  const std::size_t n = a.input().workloads.size(), m = a.ip_ranges().size();
  std::vector<PeerRef> peers;
  for (std::uint32_t i = 0; i < n; ++i) peers.push_back({false, i});
  for (std::uint32_t i = 0; i < m; ++i) peers.push_back({true, i});
  for (PeerRef s : peers)
    for (PeerRef d : peers) {
      if (s == d || (s.ip && d.ip)) continue;
      const ConnSet fast = a.connection(s, d);
      const ConnSet slow = a.explain(s, d).allowed;
      EXPECT_EQ(fast.analyzer_str(), slow.analyzer_str()) << a.peer_name(s) << " => " << a.peer_name(d);
      auto it = walked.find({a.peer_name(s), a.peer_name(d)});
      EXPECT_EQ(it == walked.end() ? std::string("No Connections") : it->second, fast.analyzer_str())
          << a.peer_name(s) << " => " << a.peer_name(d);
    }
}

const std::string kTwoNs = ns("x", "{team: x}") + ns("y", "{team: y}") + deploy("x", "a", "{app: a}") +
                           deploy("x", "b", "{app: b}") + deploy("y", "c", "{app: c}");

TEST(Netpol, NoPolicyAllowsEverything) {
  NetpolInput in = load(kTwoNs);
  Analysis a(in);
  EXPECT_EQ(conn(a, "x/a", "y/c"), "All Connections");
  EXPECT_EQ(conn(a, "x/a", "8.8.8.8"), "All Connections");
  EXPECT_EQ(conn(a, "8.8.8.8", "x/a"), "All Connections");
  EXPECT_EQ(a.ip_ranges().size(), 1u);
  check_consistent(a);
}

TEST(Netpol, SelectionIsolatesOnlySelectedPodsPerDirection) {
  NetpolInput in = load(kTwoNs + netpol("x", "deny-a", "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Ingress]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "x/b", "x/a"), "No Connections");      // a isolated for ingress
  EXPECT_EQ(conn(a, "x/a", "x/b"), "All Connections");     // a's egress untouched
  EXPECT_EQ(conn(a, "y/c", "x/b"), "All Connections");     // b not selected
  check_consistent(a);
}

TEST(Netpol, OmittedPodSelectorSelectsTheWholeNamespace) {
  NetpolInput in = load(kTwoNs + netpol("x", "deny", "  policyTypes: [Ingress]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "No Connections");
  EXPECT_EQ(conn(a, "y/c", "x/b"), "No Connections");
  check_consistent(a);
}

TEST(Netpol, PolicyTypesDefaulting) {
  // Egress rules without policyTypes: Ingress and Egress both in force.
  NetpolInput in = load(kTwoNs + netpol("x", "p", "  podSelector: {matchLabels: {app: a}}\n  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "x/a", "x/b"), "All Connections");
  EXPECT_EQ(conn(a, "x/a", "y/c"), "No Connections");  // egress isolated
  EXPECT_EQ(conn(a, "x/b", "x/a"), "No Connections");  // ingress isolated (no ingress rules)
  // `egress: []` does not add Egress: only ingress is isolated.
  NetpolInput in2 = load(kTwoNs + netpol("x", "p", "  podSelector: {matchLabels: {app: a}}\n  egress: []"));
  Analysis a2(in2);
  EXPECT_EQ(conn(a2, "x/a", "y/c"), "All Connections");
  EXPECT_EQ(conn(a2, "x/b", "x/a"), "No Connections");
  // An egress-only policy must say so; then ingress stays open.
  NetpolInput in3 = load(kTwoNs + netpol("x", "p", "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]"));
  Analysis a3(in3);
  EXPECT_EQ(conn(a3, "x/a", "y/c"), "No Connections");
  EXPECT_EQ(conn(a3, "x/b", "x/a"), "All Connections");
  check_consistent(a);
  check_consistent(a2);
  check_consistent(a3);
}

TEST(Netpol, EmptyVersusMissingLists) {
  // ingress: [{}] allows everything; a rule without ports: every port; without from: every peer.
  NetpolInput in = load(kTwoNs + netpol("x", "all", "  podSelector: {}\n  ingress: [{}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "All Connections");
  EXPECT_EQ(conn(a, "1.2.3.4", "x/a"), "All Connections");
  // ingress: [] with Ingress in force: nothing.
  NetpolInput in2 = load(kTwoNs + netpol("x", "none", "  podSelector: {}\n  ingress: []"));
  Analysis a2(in2);
  EXPECT_EQ(conn(a2, "y/c", "x/a"), "No Connections");
  // from: [] is every peer, restricted to the ports given.
  NetpolInput in3 = load(kTwoNs + netpol("x", "p", "  podSelector: {}\n  ingress: [{from: [], ports: [{port: 80}]}]"));
  Analysis a3(in3);
  EXPECT_EQ(conn(a3, "y/c", "x/a"), "TCP 80");
  EXPECT_EQ(conn(a3, "9.9.9.9", "x/a"), "TCP 80");
  check_consistent(a);
  check_consistent(a3);
}

TEST(Netpol, AdditiveUnionOfPoliciesAndRules) {
  NetpolInput in = load(kTwoNs + netpol("x", "p1", "  podSelector: {}\n  ingress: [{ports: [{port: 80}]}]") +
                        netpol("x", "p2", "  podSelector: {matchLabels: {app: a}}\n  ingress: [{ports: [{port: 53, protocol: UDP}]}, {ports: [{port: 443}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "TCP 80,443,UDP 53");
  EXPECT_EQ(conn(a, "y/c", "x/b"), "TCP 80");
  check_consistent(a);
}

TEST(Netpol, PeersAndWithinOneOrAcross) {
  const std::string base = kTwoNs + deploy("y", "d", "{app: a}");
  // One peer with both selectors: pods app=a in namespaces team=y.
  NetpolInput in_and = load(base + netpol("x", "p", "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: y}}\n      podSelector: {matchLabels: {app: a}}"));
  Analysis a_and(in_and);
  EXPECT_EQ(conn(a_and, "y/d", "x/b"), "All Connections");
  EXPECT_EQ(conn(a_and, "y/c", "x/b"), "No Connections");
  EXPECT_EQ(conn(a_and, "x/a", "x/b"), "No Connections");
  // The same selectors as two peers: either.
  NetpolInput in_or = load(base + netpol("x", "p", "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: y}}\n    - podSelector: {matchLabels: {app: a}}"));
  Analysis a_or(in_or);
  EXPECT_EQ(conn(a_or, "y/d", "x/b"), "All Connections");
  EXPECT_EQ(conn(a_or, "y/c", "x/b"), "All Connections");
  EXPECT_EQ(conn(a_or, "x/a", "x/b"), "All Connections");  // podSelector alone: the policy's namespace
  // podSelector alone never reaches other namespaces.
  NetpolInput in_pod = load(base + netpol("x", "p", "  podSelector: {matchLabels: {app: b}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]"));
  Analysis a_pod(in_pod);
  EXPECT_EQ(conn(a_pod, "y/d", "x/b"), "No Connections");
  // namespaceSelector {} is every namespace; kubernetes.io/metadata.name is always there.
  NetpolInput in_name = load(base + netpol("x", "p", "  podSelector: {matchLabels: {app: b}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]"));
  Analysis a_name(in_name);
  EXPECT_EQ(conn(a_name, "y/c", "x/b"), "All Connections");
  EXPECT_EQ(conn(a_name, "x/a", "x/b"), "No Connections");
  for (const Analysis* a : {&a_and, &a_or, &a_pod, &a_name}) check_consistent(*a);
}

TEST(Netpol, IpBlockWithExceptMatchesExternalRangesOnly) {
  NetpolInput in = load(kTwoNs + netpol("x", "p", "  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "x/a", "10.2.0.1"), "All Connections");
  EXPECT_EQ(conn(a, "x/a", "10.1.2.3"), "No Connections");
  EXPECT_EQ(conn(a, "x/a", "11.0.0.1"), "No Connections");
  EXPECT_EQ(conn(a, "x/a", "y/c"), "No Connections");  // a pod is not an ipBlock peer
  std::vector<std::string> ranges;
  for (const IpRange& r : a.ip_ranges()) ranges.push_back(range_str(r));
  EXPECT_EQ(ranges, (std::vector<std::string>{"0.0.0.0-9.255.255.255", "10.0.0.0-10.0.255.255", "10.1.0.0-10.1.255.255",
                                              "10.2.0.0-10.255.255.255", "11.0.0.0-255.255.255.255"}));
  // except outside cidr: refused with an error, the peer ignored.
  NetpolInput bad = load(kTwoNs + netpol("x", "p", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]"));
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].message.find("not inside cidr"), std::string::npos);
  EXPECT_GT(bad.errors[0].line, 0u);
  check_consistent(a);
}

TEST(Netpol, ProtocolDefaultsAndPortRanges) {
  NetpolInput in = load(kTwoNs + netpol("x", "p", "  podSelector: {}\n  ingress: [{ports: [{port: 80}, {protocol: UDP}, {port: 8000, endPort: 8080, protocol: SCTP}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "SCTP 8000-8080,TCP 80,UDP 1-65535");
  // endPort with a named port is refused.
  NetpolInput bad = load(kTwoNs + netpol("x", "p", "  podSelector: {}\n  ingress: [{ports: [{port: http, endPort: 90}]}]"));
  EXPECT_EQ(bad.errors.size(), 1u);
  check_consistent(a);
}

TEST(Netpol, NamedPortsResolvePerDestination) {
  const std::string base = ns("x") + ns("y") + deploy("x", "a", "{tier: web}", "[{name: http, containerPort: 8080}]") +
                           deploy("x", "b", "{tier: web}", "[{name: http, containerPort: 9090}, {name: dns, containerPort: 53, protocol: UDP}]") +
                           deploy("x", "n", "{tier: web}") + deploy("y", "c", "{app: c}");
  // Ingress: each selected pod resolves the name against its own ports.
  NetpolInput in = load(base + netpol("x", "p", "  podSelector: {}\n  ingress: [{ports: [{port: http}, {port: dns, protocol: UDP}, {port: dns}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "TCP 8080");
  EXPECT_EQ(conn(a, "y/c", "x/b"), "TCP 9090,UDP 53");  // dns/TCP matches no TCP port named dns
  EXPECT_EQ(conn(a, "y/c", "x/n"), "No Connections");   // no such name: nothing
  // Egress: resolved against each destination; never toward an IP range.
  NetpolInput in2 = load(base + netpol("y", "p", "  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: http}]}]"));
  Analysis a2(in2);
  EXPECT_EQ(conn(a2, "y/c", "x/a"), "TCP 8080");
  EXPECT_EQ(conn(a2, "y/c", "x/b"), "TCP 9090");
  EXPECT_EQ(conn(a2, "y/c", "x/n"), "No Connections");
  EXPECT_EQ(conn(a2, "y/c", "1.1.1.1"), "No Connections");
  check_consistent(a);
  check_consistent(a2);
}

TEST(Netpol, HostNetworkPodsAreOutsidePolicy) {
  NetpolInput in = load(kTwoNs + deploy("x", "h", "{app: a}", "[]", true) +
                        netpol("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]") +
                        netpol("y", "from-a", "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {}}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "x/h", "x/b"), "No Connections");   // b is isolated; h matches no selector
  EXPECT_EQ(conn(a, "x/a", "x/h"), "No Connections");   // a's egress is isolated
  EXPECT_EQ(conn(a, "y/c", "x/h"), "All Connections");  // h selects nothing for itself
  EXPECT_EQ(conn(a, "x/h", "8.8.8.8"), "All Connections");
  EXPECT_EQ(conn(a, "x/h", "y/c"), "No Connections");   // namespaceSelector {} leaves host-network pods out
  check_consistent(a);
}

TEST(Netpol, ControlledChildrenStandForTheirController) {
  NetpolInput in = load(kTwoNs +
                        "apiVersion: v1\nkind: Pod\nmetadata: {name: a-1, namespace: x, labels: {app: a}, ownerReferences: [{kind: Deployment, name: a, controller: true}]}\nspec: {containers: [{name: c, image: i}]}\n---\n"
                        "apiVersion: v1\nkind: Pod\nmetadata: {name: orphan, namespace: x, ownerReferences: [{kind: ReplicaSet, name: gone, controller: true}]}\nspec: {containers: [{name: c, image: i}]}\n");
  std::vector<std::string> ids;
  for (const Workload& w : in.workloads) ids.push_back(w.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"x/a[Deployment]", "x/b[Deployment]", "x/orphan[Pod]", "y/c[Deployment]"}));
}

const std::string kAdminBase = kTwoNs + deploy("y", "d", "{app: d}");

TEST(Netpol, AdminTierPriorityAndRuleOrder) {
  // Priority 10 denies c→a on 80; priority 20 allows everything from y: the lower number wins.
  NetpolInput in = load(kAdminBase +
      cluster_policy("AdminNetworkPolicy", "v1alpha1", "allow-y", "  priority: 20\n  subject: {namespaces: {matchLabels: {team: x}}}\n  ingress: [{name: all-y, action: Allow, from: [{namespaces: {matchLabels: {team: y}}}]}]") +
      cluster_policy("AdminNetworkPolicy", "v1alpha1", "deny-80", "  priority: 10\n  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}\n  ingress:\n  - {name: allow-d, action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: d}}}}], ports: [{portNumber: {port: 80, protocol: TCP}}]}\n  - {name: deny-80, action: Deny, from: [{namespaces: {}}], ports: [{portNumber: {port: 80, protocol: TCP}}]}") +
      netpol("x", "deny-all", "  podSelector: {}\n  policyTypes: [Ingress]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535");  // deny 80 first, then allow-y over the NP
  EXPECT_EQ(conn(a, "y/d", "x/a"), "All Connections");  // rule order: allow-d before deny-80
  EXPECT_EQ(conn(a, "y/c", "x/b"), "All Connections");  // Admin Allow overrides the NetworkPolicy
  EXPECT_EQ(conn(a, "x/b", "x/a"), "No Connections");   // not from y: the NetworkPolicy denies
  check_consistent(a);
}

TEST(Netpol, PassDelegatesToNetworkPolicyThenBaseline) {
  const std::string anp = cluster_policy("AdminNetworkPolicy", "v1alpha1", "pass", "  priority: 1\n  subject: {namespaces: {}}\n  ingress: [{action: Pass, from: [{namespaces: {}}], ports: [{portNumber: {port: 80, protocol: TCP}}]}, {action: Deny, from: [{namespaces: {}}]}]");
  const std::string banp = cluster_policy("BaselineAdminNetworkPolicy", "v1alpha1", "default", "  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {matchLabels: {team: y}}}]}]");
  NetpolInput in = load(kAdminBase + anp + banp + netpol("x", "allow-b", "  podSelector: {matchLabels: {app: b}}\n  ingress: [{}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/b"), "TCP 80");          // passed to the NetworkPolicy, which allows
  EXPECT_EQ(conn(a, "y/c", "x/a"), "No Connections");  // passed; no NetworkPolicy: the Baseline denies y
  EXPECT_EQ(conn(a, "x/b", "x/a"), "TCP 80");          // passed; Baseline does not match x: default allow
  check_consistent(a);
}

TEST(Netpol, BaselineAppliesOnlyWithoutNetworkPolicy) {
  NetpolInput in = load(kAdminBase +
      cluster_policy("BaselineAdminNetworkPolicy", "v1alpha1", "default", "  subject: {namespaces: {}}\n  egress: [{action: Deny, to: [{networks: [0.0.0.0/0]}]}]") +
      netpol("x", "egress-a", "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 8.8.8.8/32}}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "x/a", "8.8.8.8"), "All Connections");   // NetworkPolicy decides for a
  EXPECT_EQ(conn(a, "x/a", "y/c"), "No Connections");
  EXPECT_EQ(conn(a, "x/b", "8.8.8.8"), "No Connections");    // Baseline denies 0.0.0.0/0 ...
  EXPECT_EQ(conn(a, "x/b", "y/c"), "No Connections");        // ... which covers pods too
  check_consistent(a);
}

TEST(Netpol, ClusterNetworkPolicyV1alpha2Tiers) {
  NetpolInput in = load(kAdminBase +
      cluster_policy("ClusterNetworkPolicy", "v1alpha2", "admin", "  tier: Admin\n  priority: 5\n  subject: {namespaces: {matchLabels: {team: x}}}\n  ingress:\n  - {action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: d}}}}], protocols: [{tcp: {destinationPort: {range: {start: 80, end: 90}}}}]}\n  - {action: Pass, from: [{namespaces: {matchLabels: {team: y}}}], protocols: [{udp: {destinationPort: {number: 53}}}]}\n  - {action: Deny, from: [{namespaces: {matchLabels: {team: y}}}]}") +
      cluster_policy("ClusterNetworkPolicy", "v1alpha2", "baseline", "  tier: Baseline\n  priority: 1\n  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{udp: {destinationPort: {number: 53}}}]}]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/d", "x/a"), "TCP 80-90");  // Accept 80-90; Pass UDP 53 → Baseline denies; rest denied
  EXPECT_EQ(conn(a, "y/c", "x/a"), "No Connections");
  EXPECT_EQ(conn(a, "x/b", "x/a"), "SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535");  // Baseline only
  check_consistent(a);
}

TEST(Netpol, EgressAcceptStillNeedsIngressAtTheDestination) {
  NetpolInput in = load(kAdminBase +
      cluster_policy("ClusterNetworkPolicy", "v1alpha2", "out", "  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchLabels: {team: y}}}\n  egress: [{action: Accept, to: [{namespaces: {}}]}]") +
      netpol("x", "deny", "  podSelector: {}\n  policyTypes: [Ingress]"));
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "No Connections");
  EXPECT_EQ(conn(a, "y/c", "y/d"), "All Connections");
  check_consistent(a);
}

TEST(Netpol, FailClosed) {
  // An unknown peer: an Allow rule matches nothing, a Deny rule everything.
  NetpolInput in = load(kAdminBase +
      cluster_policy("AdminNetworkPolicy", "v1alpha1", "weird", "  priority: 3\n  subject: {namespaces: {matchLabels: {team: x}}}\n  ingress: [{action: Allow, from: [{somethingNew: {}}]}, {action: Deny, from: [{alsoNew: {}}], ports: [{portNumber: {port: 22, protocol: TCP}}]}]"));
  Analysis a(in);
  EXPECT_EQ(in.errors.size(), 2u);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "No Connections");
  EXPECT_EQ(conn(a, "y/c", "y/d"), "All Connections");
  check_consistent(a);
}

TEST(Netpol, ExplainNamesTheDecidingRule) {
  NetpolInput in = load(kTwoNs + netpol("x", "web", "  podSelector: {}\n  ingress: [{ports: [{port: 80}]}, {ports: [{port: 443}]}]"));
  Analysis a(in);
  std::string why;
  Explanation e = a.explain(*a.find_peer("y/c", why), *a.find_peer("x/a", why));
  ASSERT_EQ(e.ingress_decisions.size(), 3u);
  EXPECT_EQ(e.ingress_decisions[0].rule, 0);
  EXPECT_EQ(e.ingress_decisions[0].conns.analyzer_str(), "TCP 80");
  EXPECT_EQ(e.ingress_decisions[1].rule, 1);
  EXPECT_FALSE(e.ingress_decisions[2].allowed);
  EXPECT_EQ(e.ingress_decisions[2].isolating.size(), 1u);
}

TEST(Netpol, PortSetAlgebra) {
  PortSet a = PortSet::range(1, 100) | PortSet::range(200, 300);
  EXPECT_EQ((a - PortSet::range(50, 250)).str(), "1-49,251-300");
  EXPECT_EQ((a & PortSet::range(90, 210)).str(), "90-100,200-210");
  EXPECT_EQ((PortSet::range(1, 5) | PortSet::range(6, 9)).str(), "1-9");
  EXPECT_TRUE((PortSet::all() - PortSet::all()).empty());
}

}  // namespace
}  // namespace kg::netpol

namespace kg::netpol {
namespace {

// The findings each carry their connection; a clean subject passes.
TEST(NetpolFindings, EachRiskWithItsConnection) {
  NetpolInput in = load(ns("x", "{team: x}") + ns("y", "{team: y}") + ns("kube-system") +
      deploy("kube-system", "coredns", "{k8s-app: kube-dns}", "[{name: dns, containerPort: 53, protocol: UDP}]") +
      deploy("x", "a", "{app: a}") + deploy("x", "b", "{app: b}") + deploy("y", "c", "{app: c}") +
      // a: egress isolated without DNS; b: open to every namespace although selected.
      netpol("x", "a-out", "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]") +
      netpol("x", "b-in", "  podSelector: {matchLabels: {app: b}}\n  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 80}, {port: web}]}]") +
      netpol("y", "ghost", "  podSelector: {matchLabels: {app: nobody}}\n  ingress: []") +
      cluster_policy("AdminNetworkPolicy", "v1alpha1", "ghost", "  priority: 50\n  subject: {namespaces: {matchLabels: {team: nobody}}}\n  ingress: [{action: Deny, from: [{namespaces: {}}]}]") +
      netpol("y", "c-in", "  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]") +
      cluster_policy("AdminNetworkPolicy", "v1alpha1", "one", "  priority: 7\n  subject: {namespaces: {matchLabels: {team: x}}}\n  ingress: [{action: Pass, from: [{namespaces: {}}]}]") +
      cluster_policy("AdminNetworkPolicy", "v1alpha1", "two", "  priority: 7\n  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}\n  ingress: [{action: Pass, from: [{namespaces: {}}]}]"));
  Analysis a(in);
  EngineResult r;
  add_findings(a, r, Category{});
  std::multimap<std::string, std::string> found;  // rule → "kind ns/name: message"
  for (const FindingView& f : r.findings)
    found.emplace(f.rule->id, std::string(f.kind) + " " + std::string(f.ns) + "/" + std::string(f.name) + ": " + std::string(f.message));
  auto has = [&](const char* rule, const std::string& part) {
    auto [lo, hi] = found.equal_range(rule);
    for (auto it = lo; it != hi; ++it)
      if (it->second.find(part) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has(kDnsBlocked, "x/a: egress is isolated and DNS is not allowed: x/a[Deployment] => kube-system/coredns[Deployment] : No Connections"));
  EXPECT_EQ(found.count(kDnsBlocked), 1u);
  EXPECT_TRUE(has(kOpenToAllNamespaces, "x/b: selected by network policies, yet reachable from pods in every namespace"));
  EXPECT_FALSE(has(kOpenToAllNamespaces, "y/c"));  // only its own namespace gets in
  EXPECT_TRUE(has(kPolicyNoEffect, "AdminNetworkPolicy ghost selects no workload"));
  EXPECT_FALSE(has(kPolicyNoEffect, "NetworkPolicy y/ghost"));  // the catalog's network-policy-selects-no-pods
  EXPECT_TRUE(has(kNamedPortUndeclared, "named port 'web'"));
  EXPECT_TRUE(has(kAdminPriorityOverlap, "priority 7 is also AdminNetworkPolicy two's; both select x/a[Deployment]"));
  EXPECT_TRUE(has(kNamespaceOpen, "Namespace /x: pods of other namespaces reach this namespace"));
  EXPECT_FALSE(has(kNamespaceOpen, "/y:"));
  EXPECT_TRUE(has(kInternetEgress, "y/c: no egress policy limits it: y/c[Deployment] => internet : All Connections"));
  EXPECT_FALSE(has(kInternetEgress, "x/a"));
  // Every rule is in force with its tallies; each finding a failure counted once.
  EXPECT_EQ(r.rules.size(), 7u);
  std::uint64_t failed = 0;
  for (const RuleTally& t : r.tallies) failed += t.failed;
  EXPECT_EQ(failed, r.findings.size());
  for (const RuleInfo* rule : r.rules) EXPECT_FALSE(rule->zh.title.empty()) << rule->id;
}

}  // namespace
}  // namespace kg::netpol

namespace kg::netpol {
namespace {

// network-policy-api conformance, CNPAdminTierIntegration (api_integration/
// standard-anp-np-banp): the houses model, an Admin-tier CNP denying
// gryffindor <-> slytherin, a NetworkPolicy allowing it, a Baseline CNP
// denying it; the suite's five PokeServer verdicts on TCP 80 and 8080.
std::string houses() {
  std::string y;
  for (const char* h : {"gryffindor", "slytherin", "hufflepuff", "ravenclaw"}) {
    const std::string ns_name = std::string("network-policy-conformance-") + h;
    y += ns(ns_name, std::string("{conformance-house: ") + h + "}");
    const std::string pod = std::string(h) == "gryffindor" ? "harry-potter" : std::string(h) == "slytherin" ? "draco-malfoy"
                            : std::string(h) == "hufflepuff" ? "cedric-diggory" : "luna-lovegood";
    y += "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: " + pod + ", namespace: " + ns_name +
         "}\nspec:\n  template:\n    metadata: {labels: {conformance-house: " + h + "}}\n    spec: {containers: [{name: c, image: i}]}\n---\n";
  }
  return y;
}

std::string integration(const std::string& ingress_action, const std::string& egress_action, bool with_np) {
  std::string y = houses() +
      cluster_policy("ClusterNetworkPolicy", "v1alpha2", "pass-example",
                     "  tier: Admin\n  priority: 10\n  subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}\n"
                     "  ingress: [{name: i, action: " + ingress_action + ", from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]\n"
                     "  egress: [{name: e, action: " + egress_action + ", to: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]") +
      cluster_policy("ClusterNetworkPolicy", "v1alpha2", "default",
                     "  tier: Baseline\n  priority: 10\n  subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}\n"
                     "  ingress: [{action: Deny, from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]\n"
                     "  egress: [{action: Deny, to: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]}]");
  if (with_np)
    y += netpol("network-policy-conformance-gryffindor", "allow-gress-from-to-slytherin-to-gryffindor",
                "  podSelector:\n  policyTypes: [Ingress, Egress]\n"
                "  ingress: [{from: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]\n"
                "  egress: [{to: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]");
  return y;
}

bool pokes(const Analysis& a, const std::string& from, const std::string& to, std::uint32_t port) {
  std::string why;
  auto s = a.find_peer(from, why), d = a.find_peer(to, why);
  EXPECT_TRUE(s && d) << why;
  return a.connection(*s, *d)[Protocol::TCP].contains(port);
}

TEST(NetpolConformance, AdminTierIntegration) {
  const std::string draco = "network-policy-conformance-slytherin/draco-malfoy[StatefulSet]";
  const std::string harry = "network-policy-conformance-gryffindor/harry-potter[StatefulSet]";
  const std::string luna = "network-policy-conformance-ravenclaw/luna-lovegood[StatefulSet]";
  {  // Deny traffic from slytherin to gryffindor, and to slytherin from gryffindor, respecting the admin CNP.
    NetpolInput in = load(integration("Deny", "Deny", true));
    Analysis a(in);
    for (std::uint32_t port : {80u, 8080u}) {
      EXPECT_FALSE(pokes(a, draco, harry, port));
      EXPECT_FALSE(pokes(a, harry, draco, port));
    }
    EXPECT_FALSE(pokes(a, luna, harry, 80));  // the NetworkPolicy isolates gryffindor: ravenclaw is not allowed
    check_consistent(a);
  }
  {  // pass-ingress / pass-egress: the NetworkPolicy's Allow takes effect.
    NetpolInput in = load(integration("Pass", "Pass", true));
    Analysis a(in);
    for (std::uint32_t port : {80u, 8080u}) {
      EXPECT_TRUE(pokes(a, draco, harry, port));
      EXPECT_TRUE(pokes(a, harry, draco, port));
    }
    check_consistent(a);
  }
  {  // The NetworkPolicy deleted: passed traffic meets the Baseline's Deny.
    NetpolInput in = load(integration("Pass", "Pass", false));
    Analysis a(in);
    for (std::uint32_t port : {80u, 8080u}) {
      EXPECT_FALSE(pokes(a, draco, harry, port));
      EXPECT_FALSE(pokes(a, harry, draco, port));
    }
    EXPECT_TRUE(pokes(a, luna, harry, 80));  // nothing matches ravenclaw: default allow
    check_consistent(a);
  }
}

// The Kubernetes documentation's deny-from-other-namespaces and
// default-deny idioms in the x/y/z × a/b/c model, as truth tables
// (rows from, columns to; '.' allowed on TCP 80, 'X' blocked).
std::string xyz(const std::string& policies) {
  std::string y;
  for (const char* n : {"x", "y", "z"}) {
    y += ns(n, std::string("{ns: ") + n + "}");
    for (const char* p : {"a", "b", "c"})
      y += "apiVersion: v1\nkind: Pod\nmetadata: {name: " + std::string(p) + ", namespace: " + n + ", labels: {pod: " + p +
           "}}\nspec: {containers: [{name: c, image: i, ports: [{name: serve-80, containerPort: 80}]}]}\n---\n";
  }
  return y + policies;
}

std::string truth_table(const Analysis& a) {
  std::string t;
  for (std::uint32_t s = 0; s < a.input().workloads.size(); ++s) {
    for (std::uint32_t d = 0; d < a.input().workloads.size(); ++d)
      t += s == d || a.connection({false, s}, {false, d})[Protocol::TCP].contains(80) ? '.' : 'X';
    t += '\n';
  }
  return t;
}

TEST(NetpolConformance, KubernetesDocsTruthTables) {
  // deny-from-other-namespaces in x: only x's own pods reach x.
  NetpolInput in = load(xyz(netpol("x", "deny-from-other-namespaces", "  podSelector: {}\n  ingress: [{from: [{podSelector: {}}]}]")));
  Analysis a(in);
  EXPECT_EQ(truth_table(a),
            ".........\n.........\n.........\n"
            "XXX......\nXXX......\nXXX......\n"
            "XXX......\nXXX......\nXXX......\n");
  // Every pod of y isolated, only x/b let in, on the named port (AND of both selectors in one peer).
  NetpolInput in2 = load(xyz(netpol("y", "allow-xb", "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: b}}}], ports: [{port: serve-80}]}]")));
  Analysis a2(in2);
  EXPECT_EQ(truth_table(a2),
            "...XXX...\n.........\n...XXX...\n"
            "....XX...\n...X.X...\n...XX....\n"
            "...XXX...\n...XXX...\n...XXX...\n");
  // The same selectors as two peers (OR): all of x, and every b pod in y.
  NetpolInput in3 = load(xyz(netpol("y", "allow-x-or-b", "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: x}}}, {podSelector: {matchLabels: {pod: b}}}]}]")));
  Analysis a3(in3);
  EXPECT_EQ(truth_table(a3),
            ".........\n.........\n.........\n"
            "....XX...\n.........\n...XX....\n"
            "...XXX...\n...XXX...\n...XXX...\n");
  check_consistent(a);
  check_consistent(a2);
  check_consistent(a3);
}

}  // namespace
}  // namespace kg::netpol

namespace kg::netpol {
namespace {

TEST(Netpol, AWorkloadDefinedTwiceIsAnalysedOnceAsItsLaterDefinition) {
  NetpolInput in = load(kTwoNs + deploy("x", "a", "{app: changed}"));
  ASSERT_EQ(in.workloads.size(), 3u);
  EXPECT_EQ(label(in.workloads[0].labels, "app"), "changed");
  EXPECT_EQ(in.warnings.size(), 1u);
}

}  // namespace
}  // namespace kg::netpol

namespace kg::netpol {
namespace {

TEST(Netpol, APolicyDefinedTwiceIsItsLaterDefinition) {
  NetpolInput in = load(kTwoNs + netpol("x", "p", "  podSelector: {}\n  policyTypes: [Ingress]") +
                        netpol("x", "p", "  podSelector: {}\n  ingress: [{ports: [{port: 80}]}]"));
  ASSERT_EQ(in.policies.size(), 1u);
  Analysis a(in);
  EXPECT_EQ(conn(a, "y/c", "x/a"), "TCP 80");
  check_consistent(a);
}

}  // namespace
}  // namespace kg::netpol
