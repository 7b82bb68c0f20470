// Set-level reference checks: an object names another object (an autoscaler
// its workload, an Ingress or route its Service, a container its Secret, a
// StatefulSet its headless Service, a NetworkPolicy peer its pods, a
// ServiceMonitor its Services) and the named object is missing from the
// input or does not fit. Facts: checks/facts_references.cpp and facts.cpp.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "checks/check_util.hpp"
#include "checks/facts.hpp"
#include "checks/registry.hpp"
#include "core/glob.hpp"
#include "core/label_index.hpp"

namespace kg {
namespace {

std::string plural(std::int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string describe_selector(const LabelSelector& sel) {
  std::string s;
  for (const auto& [k, v] : sel.match_labels) s.append(s.empty() ? "" : ", ").append(k).append("=").append(v);
  for (const auto& r : sel.expressions) s.append(s.empty() ? "" : ", ").append(r.key).append(" ").append(r.op);
  return s.empty() ? "{}" : s;
}

bool top_level(const Inventory& inv, const WorkloadFacts& w) { return !inv.controlled_by_input(w.object); }

std::string key_of(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string k;
  k.append(kind).append("/").append(ns).append("/").append(name);
  return k;
}

// --- autoscaling ---------------------------------------------------------------

enum class AutoscalingMode { TargetMissing, StaticReplicas, ReplicasMin, PdbAboveMin };

class Autoscaling final : public SetCheck {
 public:
  AutoscalingMode mode = AutoscalingMode::TargetMissing;
  std::int64_t min = 2;
  std::vector<std::string> kinds{"Deployment"};

  std::vector<std::string> needs_kinds() const override {
    if (mode == AutoscalingMode::PdbAboveMin)
      return {"PodDisruptionBudget", "HorizontalPodAutoscaler", "ScaledObject", "workloads"};
    return {"HorizontalPodAutoscaler", "ScaledObject", "workloads"};  // and the scale targets
  }
  std::vector<const FactCollector*> facts() const override {
    switch (mode) {
      case AutoscalingMode::TargetMissing: return {&Autoscalers::collector()};  // targets: identities
      case AutoscalingMode::PdbAboveMin:
        return {&PodDisruptionBudgets::collector(), &Autoscalers::collector(), &Workloads::collector()};
      default: return {&Autoscalers::collector(), &Workloads::collector()};
    }
  }

  // "Kind/ns/name" of every autoscaled workload → its autoscaler.
  static std::unordered_map<std::string, const AutoscalerFacts*> autoscaled(const Inventory& inv) {
    std::unordered_map<std::string, const AutoscalerFacts*> out;
    for (const AutoscalerFacts& a : Autoscalers::of(inv).rows)
      out.emplace(key_of(a.target_kind, inv.objects[a.object].ns, a.target_name), &a);
    return out;
  }

  bool kind_selected(std::string_view kind) const {
    return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  }

  void evaluate(const Inventory& inv, SetSink& sink) const override {
    switch (mode) {
      case AutoscalingMode::TargetMissing:
        for (const AutoscalerFacts& a : Autoscalers::of(inv).rows) {
          const ObjectFacts& o = inv.objects[a.object];
          if (!a.target_kind.empty() && !a.target_name.empty() &&
              inv.has_object(a.target_kind, o.ns, a.target_name)) {
            sink.pass(a.object);
            continue;
          }
          sink.fail(a.object, {{o.kind + " scales " + a.target_kind + " \"" + a.target_name +
                                    "\", which is not in " + checks::namespace_phrase(o.ns) + " of this input",
                                "spec.scaleTargetRef", a.line, a.column, {}}});
        }
        return;
      case AutoscalingMode::StaticReplicas:
      case AutoscalingMode::ReplicasMin: {
        const auto scaled = autoscaled(inv);
        for (const WorkloadFacts& w : Workloads::of(inv).rows) {
          const ObjectFacts& o = inv.objects[w.object];
          if (!kind_selected(o.kind) || !top_level(inv, w)) continue;
          auto a = scaled.find(key_of(o.kind, o.ns, o.name));
          if (mode == AutoscalingMode::StaticReplicas) {
            if (a == scaled.end()) continue;
            if (w.replicas_line == 0) {
              sink.pass(w.object);
            } else {
              const ObjectFacts& ao = inv.objects[a->second->object];
              sink.fail(w.object, {{ao.kind + " \"" + ao.name + "\" scales this " + o.kind +
                                        ", but spec.replicas is set too; every apply resets the replica count the autoscaler chose",
                                    "spec.replicas", w.replicas_line, w.replicas_column, {}}});
            }
            continue;
          }
          // The autoscaler owns the replica count; its own rules judge it.
          if (a != scaled.end()) continue;
          if (w.replicas_line != 0 && !w.replicas) continue;  // not an integer
          const std::int64_t n = w.replicas.value_or(1);
          if (n == 0) continue;  // scaled to zero on purpose
          if (n >= min) {
            sink.pass(w.object);
          } else {
            // spec.replicas, or the spec that leaves it out (the default, 1).
            const Mark at = first_mark(Mark{w.replicas_line, w.replicas_column}, w.object_spec_at);
            sink.fail(w.object, {{o.kind + " runs " + plural(n, "replica", "replicas") +
                                      (w.replicas_line ? "" : " (spec.replicas unset)") + "; at least " +
                                      std::to_string(min) +
                                      " survive a node or pod failure, and no HorizontalPodAutoscaler scales it",
                                  "spec.replicas", at.line, at.column, {}}});
          }
        }
        return;
      }
      case AutoscalingMode::PdbAboveMin: {
        const auto scaled = autoscaled(inv);
        const Workloads& workloads = Workloads::of(inv);
        for (const PdbFacts& pm : PodDisruptionBudgets::of(inv).rows) {
          if (!pm.min_available) continue;
          const std::size_t pdb = pm.object;
          const std::int64_t min_available = *pm.min_available;
          const ObjectFacts& po = inv.objects[pdb];
          const LabelSelector* sel = &pm.selector;
          bool evaluated = false;
          std::vector<SetViolation> violations;
          for (std::size_t wi : workloads.in(inv, po.ns)) {
            const WorkloadFacts& w = workloads.rows[wi];
            const ObjectFacts& o = inv.objects[w.object];
            if (!top_level(inv, w) || !sel->matches(w.pod_labels)) continue;
            auto a = scaled.find(key_of(o.kind, o.ns, o.name));
            // With as many pods as minAvailable demands, the disruption
            // controller allows 0 evictions: equal blocks as surely as above.
            if (a == scaled.end()) {
              if (w.replicas_line != 0 && !w.replicas) continue;  // not an integer
              if (!w.replicas_line && o.kind != "Deployment" && o.kind != "StatefulSet" &&
                  o.kind != "ReplicaSet" && o.kind != "ReplicationController")
                continue;  // DaemonSets, Jobs, Pods: the count is not spec.replicas
              const std::int64_t n = w.replicas.value_or(1);
              if (n == 0) continue;  // scaled to zero on purpose
              evaluated = true;
              if (min_available >= n) {
                violations.push_back({"minAvailable is " + std::to_string(min_available) + ", but " +
                                          o.kind + " \"" + o.name + "\" runs " +
                                          plural(n, "replica", "replicas") +
                                          (w.replicas_line ? "" : " (spec.replicas unset)") +
                                          "; no pod can be evicted and node drains block",
                                      "spec.minAvailable", pm.min_available_at.line, pm.min_available_at.column, {}});
              }
              continue;
            }
            evaluated = true;
            if (min_available >= a->second->min_replicas) {
              const ObjectFacts& ao = inv.objects[a->second->object];
              violations.push_back({"minAvailable is " + std::to_string(min_available) + ", but " + ao.kind +
                                        " \"" + ao.name + "\" may scale " + o.kind + " \"" + o.name +
                                        "\" down to " + plural(a->second->min_replicas, "replica", "replicas") +
                                        "; then no pod can be evicted and node drains block",
                                    "spec.minAvailable", pm.min_available_at.line, pm.min_available_at.column, {}});
            }
          }
          if (!evaluated) continue;
          if (violations.empty()) {
            sink.pass(pdb);
          } else {
            sink.fail(pdb, std::move(violations));
          }
        }
        return;
      }
    }
  }
};

// --- reference-target ------------------------------------------------------------

enum class Reference {
  StatefulSetService,
  NetworkPolicyPeer,
  ServiceTargetPort,
  IngressBackend,
  RouteBackend,
  ServiceMonitor,
  EnvSource,
  ImageSignaturePolicy,
  ExposedWorkload,
};

class ReferenceTarget final : public SetCheck {
 public:
  Reference reference = Reference::StatefulSetService;

  std::vector<std::string> needs_kinds() const override {
    switch (reference) {
      case Reference::StatefulSetService: return {"workloads", "Service"};
      case Reference::NetworkPolicyPeer: return {"NetworkPolicy", "workloads"};
      case Reference::ServiceTargetPort: return {"Service", "workloads"};
      case Reference::IngressBackend: return {"Ingress", "Service", "Namespace"};
      case Reference::RouteBackend:
        return {"HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute", "VirtualService",
                "Service", "Namespace"};
      case Reference::ServiceMonitor: return {"ServiceMonitor", "Service"};
      case Reference::EnvSource:
        return {"workloads", "Secret", "ConfigMap", "SealedSecret", "ExternalSecret"};
      case Reference::ImageSignaturePolicy:
        return {"workloads", "ClusterPolicy", "Policy", "ImageValidatingPolicy", "ClusterImagePolicy"};
      case Reference::ExposedWorkload:
        return {"workloads", "Service", "Ingress", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute",
                "UDPRoute", "VirtualService"};
    }
    return {};
  }
  std::vector<const FactCollector*> facts() const override {
    const FactCollector* workloads = &Workloads::collector();
    const FactCollector* services = &Services::collector();
    const FactCollector* references = &ServiceReferences::collector();
    switch (reference) {
      case Reference::StatefulSetService: return {workloads, services};
      case Reference::NetworkPolicyPeer: return {&NetworkPolicies::collector(), workloads};
      case Reference::ServiceTargetPort: return {services, workloads};
      case Reference::IngressBackend:
      case Reference::RouteBackend: return {references, services};  // namespaces: identities
      case Reference::ServiceMonitor: return {&ServiceMonitors::collector(), services};
      case Reference::EnvSource: return {workloads, &DataSources::collector()};
      case Reference::ImageSignaturePolicy: return {workloads, &ImagePolicies::collector()};
      case Reference::ExposedWorkload: return {workloads, services, references};
    }
    return {};
  }

  // "ns/name" → every Service of that identity (one input may hold several
  // variants of an app, e.g. overlays scanned together).
  using ServicesByName = std::unordered_map<std::string, std::vector<const ServiceFacts*>>;
  static ServicesByName services_by_name(const Inventory& inv) {
    ServicesByName out;
    for (const ServiceFacts& s : Services::of(inv).rows) {
      const ObjectFacts& o = inv.objects[s.object];
      out[o.ns + "/" + o.name].push_back(&s);
    }
    return out;
  }

  void evaluate(const Inventory& inv, SetSink& sink) const override {
    switch (reference) {
      case Reference::StatefulSetService: return statefulset_service(inv, sink);
      case Reference::NetworkPolicyPeer: return network_policy_peer(inv, sink);
      case Reference::ServiceTargetPort: return service_target_port(inv, sink);
      case Reference::IngressBackend: return backends(inv, sink, true);
      case Reference::RouteBackend: return backends(inv, sink, false);
      case Reference::ServiceMonitor: return service_monitor(inv, sink);
      case Reference::EnvSource: return env_source(inv, sink);
      case Reference::ImageSignaturePolicy: return image_signature_policy(inv, sink);
      case Reference::ExposedWorkload: return exposed_workload(inv, sink);
    }
  }

  static void statefulset_service(const Inventory& inv, SetSink& sink) {
    const auto by_name = services_by_name(inv);
    for (const WorkloadFacts& w : Workloads::of(inv).rows) {
      const ObjectFacts& o = inv.objects[w.object];
      if (o.kind != "StatefulSet" || !top_level(inv, w)) continue;
      std::string problem;
      if (w.service_name.empty()) {
        problem = "StatefulSet has no spec.serviceName, so its pods get no stable DNS names";
      } else {
        auto it = by_name.find(o.ns + "/" + w.service_name);
        if (it == by_name.end()) {
          problem = "spec.serviceName is \"" + w.service_name + "\", but no Service of that name is in " + checks::namespace_phrase(o.ns) +
                    " of this input";
        } else if (std::none_of(it->second.begin(), it->second.end(),
                                [](const ServiceFacts* s) { return s->headless; })) {
          problem = "Service \"" + w.service_name + "\" is not headless (clusterIP: None), so the pods get no per-pod DNS names";
        } else if (std::none_of(it->second.begin(), it->second.end(), [&](const ServiceFacts* s) {
                     return s->headless && s->selector.matches(w.pod_labels);
                   })) {
          problem = "headless Service \"" + w.service_name + "\" does not select this StatefulSet's pods";
        }
      }
      if (problem.empty()) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, {{problem, "spec.serviceName", w.service_name_line, w.service_name_column, {}}});
      }
    }
  }

  static void network_policy_peer(const Inventory& inv, SetSink& sink) {
    const Workloads& workloads = Workloads::of(inv);
    PerNamespace<LabeledIndex> by_labels(
        [&](const std::string& ns) -> const std::vector<std::size_t>& { return workloads.in(inv, ns); },
        [&](std::size_t wi) -> const Labels& { return workloads.rows[wi].pod_labels; });
    for (const NetworkPolicyFacts& np : NetworkPolicies::of(inv).rows) {
      const ObjectFacts& o = inv.objects[np.object];
      std::vector<SetViolation> violations;
      bool evaluated = false;
      for (const NetworkPolicyFacts::Peer& peer : np.peers) {
        if (peer.selector.empty()) continue;  // {} is every pod of the namespace, present or future
        evaluated = true;
        const auto& in_ns = by_labels.in(o.ns).candidates(peer.selector);
        const bool any = std::any_of(in_ns.begin(), in_ns.end(), [&](std::size_t wi) {
          return peer.selector.matches(workloads.rows[wi].pod_labels);
        });
        if (!any) {
          violations.push_back({"peer podSelector (" + describe_selector(peer.selector) +
                                    ") matches no pod template in " + checks::namespace_phrase(o.ns) +
                                    ", so this rule allows nothing (a typo in a label?)",
                                peer.path, peer.line, peer.column, {}});
        }
      }
      if (!evaluated) continue;
      if (violations.empty()) {
        sink.pass(np.object);
      } else {
        sink.fail(np.object, std::move(violations));
      }
    }
  }

  static void service_target_port(const Inventory& inv, SetSink& sink) {
    const Workloads& workloads = Workloads::of(inv);
    PerNamespace<LabeledIndex> by_labels(
        [&](const std::string& ns) -> const std::vector<std::size_t>& { return workloads.in(inv, ns); },
        [&](std::size_t wi) -> const Labels& { return workloads.rows[wi].pod_labels; });
    for (const ServiceFacts& s : Services::of(inv).rows) {
      if (!s.selector.present || s.type == "ExternalName") continue;
      const bool named = std::any_of(s.ports.begin(), s.ports.end(),
                                     [](const ServicePortFacts& p) { return !p.target_port_name.empty(); });
      if (!named) continue;
      const ObjectFacts& o = inv.objects[s.object];
      std::vector<const WorkloadFacts*> selected;
      for (std::size_t wi : by_labels.in(o.ns).candidates(s.selector)) {
        const WorkloadFacts& w = workloads.rows[wi];
        if (top_level(inv, w) && s.selector.matches(w.pod_labels)) selected.push_back(&w);
      }
      if (selected.empty()) continue;  // service-selects-no-pods reports that
      std::vector<SetViolation> violations;
      // Pods without the port are just not endpoints for it; the port is
      // broken only when no selected pod declares the name.
      std::string names;
      for (const WorkloadFacts* w : selected) {
        const ObjectFacts& wo = inv.objects[w->object];
        names += (names.empty() ? "" : ", ") + wo.kind + " \"" + wo.name + "\"";
      }
      for (const ServicePortFacts& p : s.ports) {
        if (p.target_port_name.empty()) continue;
        const bool declared = std::any_of(selected.begin(), selected.end(), [&](const WorkloadFacts* w) {
          return std::find(w->port_names.begin(), w->port_names.end(), p.target_port_name) != w->port_names.end();
        });
        if (!declared) {
          violations.push_back({"targetPort \"" + p.target_port_name +
                                    "\" is not a port name of any container of the pods this Service selects (" +
                                    names + "); traffic to port " + std::to_string(p.port) + " has nowhere to go",
                                join_path(p.path, "targetPort"), p.line, p.column, {}});
        }
      }
      if (violations.empty()) {
        sink.pass(s.object);
      } else {
        sink.fail(s.object, std::move(violations));
      }
    }
  }

  static bool is_route(std::string_view kind) { return kind != "Ingress"; }

  static void backends(const Inventory& inv, SetSink& sink, bool ingress) {
    const auto by_name = services_by_name(inv);
    std::unordered_map<std::string, bool> namespace_known;
    for (const std::string& ns : inv.namespaces_in_use()) namespace_known[ns] = true;
    // References of one object are contiguous: they were added together.
    std::size_t i = 0;
    const auto& refs = ServiceReferences::of(inv).rows;
    while (i < refs.size()) {
      const std::size_t object = refs[i].object;
      const ObjectFacts& o = inv.objects[object];
      bool evaluated = false;
      std::vector<SetViolation> violations;
      for (; i < refs.size() && refs[i].object == object; ++i) {
        const ServiceReference& r = refs[i];
        if (is_route(o.kind) == ingress) continue;
        // Another namespace that the input does not show: unknown, not missing.
        if (r.ns != o.ns && !namespace_known.count(r.ns)) continue;
        evaluated = true;
        auto it = by_name.find(r.ns + "/" + r.service);
        if (it == by_name.end()) {
          violations.push_back({"backend Service \"" + r.service + "\" is not in " + checks::namespace_phrase(r.ns) +
                                    " of this input; requests to this backend fail",
                                r.path, r.line, r.column, {}});
          continue;
        }
        const bool port_ok =
            (r.port_name.empty() && r.port_number == 0) ||
            std::any_of(it->second.begin(), it->second.end(), [&](const ServiceFacts* s) {
              return std::any_of(s->ports.begin(), s->ports.end(), [&](const ServicePortFacts& p) {
                return r.port_name.empty() ? p.port == r.port_number : p.name == r.port_name;
              });
            });
        if (!port_ok) {
          violations.push_back({"Service \"" + r.service + "\" has no port " +
                                    (r.port_name.empty() ? std::to_string(r.port_number) : "named \"" + r.port_name + "\""),
                                r.path, r.line, r.column, {}});
        }
      }
      if (!evaluated) continue;
      if (violations.empty()) {
        sink.pass(object);
      } else {
        sink.fail(object, std::move(violations));
      }
    }
  }

  static void service_monitor(const Inventory& inv, SetSink& sink) {
    const Services& services = Services::of(inv);
    for (const ServiceMonitorFacts& m : ServiceMonitors::of(inv).rows) {
      const ObjectFacts& o = inv.objects[m.object];
      std::vector<std::string> namespaces = m.namespaces;
      if (namespaces.empty()) namespaces.push_back(o.ns);
      bool found = false;
      if (m.any_namespace) {
        found = std::any_of(services.rows.begin(), services.rows.end(), [&](const ServiceFacts& s) {
          return m.selector.matches(inv.objects[s.object].labels);
        });
      } else {
        for (const std::string& ns : namespaces) {
          for (std::size_t si : services.in(inv, ns))
            found |= m.selector.matches(inv.objects[services.rows[si].object].labels);
        }
      }
      if (found) {
        sink.pass(m.object);
        continue;
      }
      std::string where = m.any_namespace ? std::string("any namespace") : "namespace";
      if (!m.any_namespace) {
        if (namespaces.size() > 1) where += "s";
        for (std::size_t i = 0; i < namespaces.size(); ++i)
          where += (i ? ", \"" : " \"") + namespaces[i] + "\"";
      }
      sink.fail(m.object, {{"selector (" + describe_selector(m.selector) + ") matches the labels of no Service in " +
                                where + " of this input, so nothing is scraped",
                            "spec.selector", m.selector_line, m.selector_column, {}}});
    }
  }

  static void env_source(const Inventory& inv, SetSink& sink) {
    std::unordered_map<std::string, std::vector<const DataSourceFacts*>> sources;
    for (const DataSourceFacts& d : DataSources::of(inv).rows)
      sources[key_of(d.kind, inv.objects[d.object].ns, d.name)].push_back(&d);
    for (const WorkloadFacts& w : Workloads::of(inv).rows) {
      if (w.env_sources.empty() || !top_level(inv, w)) continue;
      const ObjectFacts& o = inv.objects[w.object];
      std::vector<SetViolation> violations;
      for (const EnvSourceReference& r : w.env_sources) {
        auto it = sources.find(key_of(r.kind, o.ns, r.name));
        if (it == sources.end()) {
          violations.push_back({checks::describe_container(r.container, r.path) + " reads " + r.kind + " \"" + r.name +
                                    "\", which is not in " + checks::namespace_phrase(o.ns) +
                                    " of this input; the pod will not start until it exists",
                                r.path, r.line, r.column, r.container});
          continue;
        }
        if (r.key.empty()) continue;
        const bool has_key = std::any_of(it->second.begin(), it->second.end(), [&](const DataSourceFacts* d) {
          return !d->keys_known || std::find(d->keys.begin(), d->keys.end(), r.key) != d->keys.end();
        });
        if (!has_key) {
          violations.push_back({checks::describe_container(r.container, r.path) + " reads key \"" + r.key + "\" of " + r.kind +
                                    " \"" + r.name + "\", which has no such key; the pod will not start",
                                r.path, r.line, r.column, r.container});
        }
      }
      if (violations.empty()) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, std::move(violations));
      }
    }
  }

  // Admission verifies signatures only for images some enforcing policy
  // names; the signatures themselves live in the registry.
  static void image_signature_policy(const Inventory& inv, SetSink& sink) {
    const auto& policies = ImagePolicies::of(inv).rows;
    for (const WorkloadFacts& w : Workloads::of(inv).rows) {
      if (w.images.empty() || !top_level(inv, w)) continue;
      const ObjectFacts& o = inv.objects[w.object];
      std::vector<SetViolation> violations;
      for (const WorkloadFacts::Image& img : w.images) {
        // Policies name images as written or in full (docker.io/library/nginx:1.27).
        std::string full = img.image;
        if (full.find('/') == std::string::npos) full.insert(0, "docker.io/library/");
        else if (const std::string first = full.substr(0, full.find('/'));
                 first.find('.') == std::string::npos && first.find(':') == std::string::npos && first != "localhost")
          full.insert(0, "docker.io/");
        const bool covered = std::any_of(policies.begin(), policies.end(), [&](const ImagePolicyFacts& p) {
          if (!p.cluster_wide && inv.objects[p.object].ns != o.ns) return false;
          return std::any_of(p.globs.begin(), p.globs.end(), [&](const std::string& g) {
            return glob_match(g, img.image) || glob_match(g, full);
          });
        });
        if (!covered) {
          violations.push_back({checks::describe_container(img.container, img.path) + " runs \"" + img.image +
                                    "\", which no enforcing image-verification policy in this input covers, so an unsigned or re-tagged image is admitted",
                                img.path, img.line, img.column, img.container});
        }
      }
      if (violations.empty()) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, std::move(violations));
      }
    }
  }

  // Reachable from outside the cluster: selected by a NodePort/LoadBalancer
  // Service, or by a Service that an Ingress or Gateway API route sends to.
  static void exposed_workload(const Inventory& inv, SetSink& sink) {
    std::unordered_map<std::string, const ServiceReference*> routed;  // "ns/service" → first reference
    for (const ServiceReference& r : ServiceReferences::of(inv).rows)
      if (r.external) routed.emplace(r.ns + "/" + r.service, &r);
    // Only a Service that exposes (NodePort, LoadBalancer, or routed to from
    // outside) can make `via`: the others are not indexed at all.
    const Services& service_table = Services::of(inv);
    std::unordered_map<std::string, std::vector<std::size_t>> exposing;
    for (std::size_t si = 0; si < service_table.rows.size(); ++si) {
      const ServiceFacts& s = service_table.rows[si];
      const ObjectFacts& so = inv.objects[s.object];
      if (s.type == "NodePort" || s.type == "LoadBalancer" || routed.count(so.ns + "/" + so.name))
        exposing[so.ns].push_back(si);
    }
    const std::vector<std::size_t> none;
    PerNamespace<SelectorIndex> services(
        [&](const std::string& ns) -> const std::vector<std::size_t>& {
          auto it = exposing.find(ns);
          return it == exposing.end() ? none : it->second;
        },
        [&](std::size_t si) -> const LabelSelector& { return service_table.rows[si].selector; });
    std::vector<std::size_t> candidates;
    for (const WorkloadFacts& w : Workloads::of(inv).rows) {
      if (!w.long_running || !top_level(inv, w)) continue;
      const ObjectFacts& o = inv.objects[w.object];
      std::string via;
      services.in(o.ns).candidates(w.pod_labels, candidates);
      for (std::size_t si : candidates) {
        const ServiceFacts& s = service_table.rows[si];
        if (!s.selector.matches(w.pod_labels)) continue;
        const ObjectFacts& so = inv.objects[s.object];
        if (s.type == "NodePort" || s.type == "LoadBalancer") {
          via = s.type + " Service \"" + so.name + "\"";
        } else if (auto it = routed.find(so.ns + "/" + so.name); it != routed.end()) {
          const ObjectFacts& ro = inv.objects[it->second->object];
          via = ro.kind + " \"" + ro.name + "\" through Service \"" + so.name + "\"";
        }
        if (!via.empty()) break;
      }
      if (via.empty()) {
        sink.pass(w.object);
      } else {
        sink.fail(w.object, {{"reachable from outside the cluster via " + via, w.spec_path, w.spec_line,
                              w.spec_column, {}}});
      }
    }
  }
};

}  // namespace

std::unique_ptr<SetCheck> compile_autoscaling_check(const Params& params, std::string& error) {
  auto c = std::make_unique<Autoscaling>();
  const std::string_view mode = params.string("mode");
  if (mode == "target-missing") c->mode = AutoscalingMode::TargetMissing;
  else if (mode == "static-replicas") c->mode = AutoscalingMode::StaticReplicas;
  else if (mode == "replicas-min") c->mode = AutoscalingMode::ReplicasMin;
  else if (mode == "pdb-above-min") c->mode = AutoscalingMode::PdbAboveMin;
  else {
    error = "mode must be target-missing, static-replicas, replicas-min or pdb-above-min";
    return nullptr;
  }
  if (params.get("min")) {
    auto n = params.integer("min");
    if (!n || *n < 1) {
      error = "min must be a positive integer";
      return nullptr;
    }
    c->min = *n;
  }
  if (params.get("kinds")) {
    c->kinds = params.strings("kinds");
    if (c->kinds.empty()) {
      error = "kinds must list at least one workload kind";
      return nullptr;
    }
  }
  return c;
}

std::unique_ptr<SetCheck> compile_reference_target_check(const Params& params, std::string& error) {
  static const std::pair<std::string_view, Reference> kReferences[] = {
      {"statefulset-service", Reference::StatefulSetService},
      {"network-policy-peer", Reference::NetworkPolicyPeer},
      {"service-target-port", Reference::ServiceTargetPort},
      {"ingress-backend", Reference::IngressBackend},
      {"route-backend", Reference::RouteBackend},
      {"service-monitor", Reference::ServiceMonitor},
      {"env-source", Reference::EnvSource},
      {"image-signature-policy", Reference::ImageSignaturePolicy},
      {"exposed-workload", Reference::ExposedWorkload},
  };
  auto c = std::make_unique<ReferenceTarget>();
  const std::string_view ref = params.string("reference");
  for (const auto& [name, value] : kReferences) {
    if (name == ref) {
      c->reference = value;
      return c;
    }
  }
  error =
      "reference must be statefulset-service, network-policy-peer, service-target-port, ingress-backend, "
      "route-backend, service-monitor, env-source, image-signature-policy or exposed-workload";
  return nullptr;
}

}  // namespace kg
