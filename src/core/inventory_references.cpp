// Facts about references between objects, for the reference checks
// (checks/reference_checks.cpp): which ports a pod names, which Secrets and
// ConfigMaps its env reads, which workload an autoscaler scales, which
// Service an Ingress or a Gateway API route sends traffic to, which Services a
// ServiceMonitor scrapes, and which objects provide Secrets and ConfigMaps.
#include "core/inventory.hpp"

namespace kg {
namespace {

std::string text_of(const Node* n) { return std::string(str(n)); }

void add_env_sources(WorkloadFacts& w, const PodView& pod) {
  for (const ContainerRef& c : containers_of(pod)) {
    const Node* env = c.node->get("env");
    for (std::size_t i = 0; i < items(env).size(); ++i) {
      const Node* from = get(items(env)[i], "valueFrom");
      for (const auto& [field, kind] : {std::pair<std::string_view, std::string_view>{"secretKeyRef", "Secret"},
                                        {"configMapKeyRef", "ConfigMap"}}) {
        const Node* ref = get(from, field);
        if (!ref || is_true(get(ref, "optional"))) continue;
        w.env_sources.push_back({std::string(kind), text_of(get(ref, "name")), text_of(get(ref, "key")),
                                 std::string(c.name),
                                 join_path(index_path(join_path(c.path, "env"), i), "valueFrom." + std::string(field)),
                                 ref->line, ref->column});
      }
    }
    const Node* env_from = c.node->get("envFrom");
    for (std::size_t i = 0; i < items(env_from).size(); ++i) {
      for (const auto& [field, kind] : {std::pair<std::string_view, std::string_view>{"secretRef", "Secret"},
                                        {"configMapRef", "ConfigMap"}}) {
        const Node* ref = get(items(env_from)[i], field);
        if (!ref || is_true(get(ref, "optional"))) continue;
        w.env_sources.push_back({std::string(kind), text_of(get(ref, "name")), {}, std::string(c.name),
                                 join_path(index_path(join_path(c.path, "envFrom"), i), field), ref->line,
                                 ref->column});
      }
    }
    if (const Node* image = c.node->get("image"); !str(image).empty())
      w.images.push_back({std::string(c.name), text_of(image), join_path(c.path, "image"), image->line, image->column});
    for (const Node* p : items(c.node->get("ports")))
      if (const std::string_view name = str(get(p, "name")); !name.empty()) w.port_names.emplace_back(name);
  }
}

void add_service_reference(Inventory& inv, std::size_t id, const std::string& ns, const Node* name,
                           const Node* port_name, const Node* port_number, const Node* at,
                           std::string path) {
  if (str(name).empty()) return;
  ServiceReference r;
  r.object = id;
  r.ns = ns;
  r.service = text_of(name);
  if (port_name) r.port_name = text_of(port_name);
  if (port_number) {
    if (auto n = port_number->as_int()) {
      r.port_number = *n;
    } else {
      r.port_name = text_of(port_number);  // an IntOrString servicePort holding a name
    }
  }
  r.path = std::move(path);
  r.line = at->line;
  r.column = at->column;
  inv.service_references.push_back(std::move(r));
}

// networking.k8s.io/v1 backend.service{name, port{name|number}}, or the
// older backend{serviceName, servicePort}.
void add_ingress_backend(Inventory& inv, std::size_t id, const std::string& ns, const Node* backend,
                         const std::string& path) {
  if (!backend) return;
  if (const Node* svc = backend->get("service")) {
    const Node* port = get(svc, "port");
    add_service_reference(inv, id, ns, get(svc, "name"), get(port, "name"), get(port, "number"), svc,
                          join_path(path, "service"));
  } else if (const Node* name = backend->get("serviceName")) {
    add_service_reference(inv, id, ns, name, nullptr, backend->get("servicePort"), backend, path);
  }
}

bool audit_only(std::string_view action) { return action == "Audit" || action == "audit"; }

// Kyverno ClusterPolicy/Policy rules[].verifyImages[] (imageReferences, or
// the older single `image`), skipping rules that only audit.
void add_kyverno_image_policy(Inventory& inv, std::size_t id, bool cluster_wide, const Node* spec) {
  ImagePolicyFacts p{id, cluster_wide, {}};
  const bool policy_audits = audit_only(str(get(spec, "validationFailureAction")));
  for (const Node* rule : items(get(spec, "rules")))
    for (const Node* verify : items(get(rule, "verifyImages"))) {
      const Node* action = get(verify, "failureAction");
      if (action ? audit_only(str(action)) : policy_audits) continue;
      for (const Node* ref : items(get(verify, "imageReferences"))) p.globs.emplace_back(str(ref));
      if (const Node* image = get(verify, "image"); !str(image).empty()) p.globs.emplace_back(str(image));
    }
  if (!p.globs.empty()) inv.image_policies.push_back(std::move(p));
}

// Istio destination hosts name Services as "name", "name.ns", "name.ns.svc"
// or "name.ns.svc.cluster.local"; other hosts are external (ServiceEntry).
bool istio_service_host(std::string_view host, std::string_view own_ns, std::string& name, std::string& ns) {
  std::vector<std::string_view> parts;
  while (!host.empty()) {
    const auto dot = host.find('.');
    parts.push_back(host.substr(0, dot));
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  const bool cluster_suffix = (parts.size() == 3 && parts[2] == "svc") ||
                              (parts.size() == 5 && parts[2] == "svc" && parts[3] == "cluster" && parts[4] == "local");
  if (parts.empty() || parts.front().empty() || parts.front() == "*") return false;
  if (parts.size() == 1 || parts.size() == 2 || cluster_suffix) {
    name = std::string(parts[0]);
    ns = std::string(parts.size() == 1 ? own_ns : parts[1]);
    return parts.size() != 2 || parts[1].find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
  }
  return false;
}

void add_virtual_service(Inventory& inv, std::size_t id, const std::string& own_ns, const Node* spec) {
  bool external = false;  // no gateways: the mesh only
  for (const Node* g : items(get(spec, "gateways"))) external |= str(g) != "mesh";
  for (std::string_view proto : {"http", "tcp", "tls"}) {
    const auto routes = items(get(spec, proto));
    for (std::size_t i = 0; i < routes.size(); ++i) {
      const auto dests = items(get(routes[i], "route"));
      for (std::size_t j = 0; j < dests.size(); ++j) {
        const Node* dest = get(dests[j], "destination");
        std::string name, ns;
        if (!dest || !istio_service_host(str(get(dest, "host")), own_ns, name, ns)) continue;
        ServiceReference r;
        r.object = id;
        r.ns = std::move(ns);
        r.service = std::move(name);
        if (auto n = get(get(dest, "port"), "number") ? get(get(dest, "port"), "number")->as_int() : std::nullopt)
          r.port_number = *n;
        r.path = join_path(index_path(join_path(index_path("spec." + std::string(proto), i), "route"), j), "destination");
        r.line = dest->line;
        r.column = dest->column;
        r.external = external;
        inv.service_references.push_back(std::move(r));
      }
    }
  }
}

}  // namespace

void Inventory::add_references(std::size_t id, const Object& obj, const PodView& pod) {
  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
  const std::string ns(obj.ns);
  if (pod) {
    WorkloadFacts& w = workloads.back();
    if (const Node* r = get(spec, "replicas"); r && kind != "Pod") {
      w.replicas_line = r->line;
      w.replicas_column = r->column;
    }
    if (kind == "StatefulSet") {
      const Node* sn = get(spec, "serviceName");
      w.service_name = text_of(sn);
      if (sn) {
        w.service_name_line = sn->line;
        w.service_name_column = sn->column;
      }
    }
    add_env_sources(w, pod);
    return;
  }
  if (kind == "Service") {
    ServiceFacts& s = services.back();
    s.headless = str(get(spec, "clusterIP")) == "None";
    const Node* ports = get(spec, "ports");
    for (std::size_t i = 0; i < items(ports).size(); ++i) {
      const Node* p = items(ports)[i];
      ServicePortFacts f;
      f.name = text_of(get(p, "name"));
      if (auto n = get(p, "port") ? get(p, "port")->as_int() : std::nullopt) f.port = *n;
      if (const Node* t = get(p, "targetPort"); t && t->is_scalar() && !t->as_int()) {
        f.target_port_name = text_of(t);
        f.line = t->line;
        f.column = t->column;
      } else {
        f.line = p->line;
        f.column = p->column;
      }
      f.path = index_path("spec.ports", i);
      s.ports.push_back(std::move(f));
    }
  } else if (kind == "NetworkPolicy") {
    NetworkPolicyFacts& np = network_policies.back();
    for (const auto& [field, peer_field] : {std::pair<std::string_view, std::string_view>{"ingress", "from"},
                                            {"egress", "to"}}) {
      const Node* rules = get(spec, field);
      for (std::size_t i = 0; i < items(rules).size(); ++i) {
        const Node* peers = get(items(rules)[i], peer_field);
        for (std::size_t j = 0; j < items(peers).size(); ++j) {
          const Node* peer = items(peers)[j];
          const Node* sel = get(peer, "podSelector");
          if (!sel || get(peer, "namespaceSelector")) continue;  // other namespaces: not in view
          np.peers.push_back({read_selector(sel),
                              join_path(index_path(join_path(index_path("spec." + std::string(field), i), peer_field), j),
                                        "podSelector"),
                              sel->line, sel->column});
        }
      }
    }
  } else if (kind == "HorizontalPodAutoscaler" || kind == "ScaledObject") {
    const Node* ref = get(spec, "scaleTargetRef");
    if (!ref) return;
    AutoscalerFacts a;
    a.object = id;
    a.target_kind = text_of(get(ref, "kind"));
    // KEDA defaults the target to a Deployment and scales to zero by default.
    if (a.target_kind.empty() && kind == "ScaledObject") a.target_kind = "Deployment";
    a.target_name = text_of(get(ref, "name"));
    const Node* min = get(spec, kind == "ScaledObject" ? "minReplicaCount" : "minReplicas");
    a.min_replicas = min && min->as_int() ? *min->as_int() : (kind == "ScaledObject" ? 0 : 1);
    a.line = ref->line;
    a.column = ref->column;
    autoscalers.push_back(std::move(a));
  } else if (kind == "PodDisruptionBudget") {
    if (const Node* m = get(spec, "minAvailable"); m && m->as_int())
      pdb_min_available.push_back({id, *m->as_int(), field_mark(spec, "minAvailable")});
  } else if (kind == "Ingress") {
    add_ingress_backend(*this, id, ns, get(spec, "defaultBackend"), "spec.defaultBackend");
    add_ingress_backend(*this, id, ns, get(spec, "backend"), "spec.backend");
    const Node* rules = get(spec, "rules");
    for (std::size_t i = 0; i < items(rules).size(); ++i) {
      const Node* paths = get(get(items(rules)[i], "http"), "paths");
      for (std::size_t j = 0; j < items(paths).size(); ++j)
        add_ingress_backend(*this, id, ns, get(items(paths)[j], "backend"),
                            join_path(index_path(join_path(index_path("spec.rules", i), "http.paths"), j), "backend"));
    }
  } else if (kind == "HTTPRoute" || kind == "GRPCRoute" || kind == "TCPRoute" || kind == "TLSRoute" ||
             kind == "UDPRoute") {
    const Node* rules = get(spec, "rules");
    for (std::size_t i = 0; i < items(rules).size(); ++i) {
      const Node* refs = get(items(rules)[i], "backendRefs");
      for (std::size_t j = 0; j < items(refs).size(); ++j) {
        const Node* ref = items(refs)[j];
        const std::string_view group = str(get(ref, "group"));
        const std::string_view ref_kind = str(get(ref, "kind"));
        if (!(group.empty() || group == "core") || !(ref_kind.empty() || ref_kind == "Service")) continue;
        const std::string target_ns = get(ref, "namespace") ? text_of(get(ref, "namespace")) : ns;
        add_service_reference(*this, id, target_ns, get(ref, "name"), nullptr, get(ref, "port"), ref,
                              index_path(join_path(index_path("spec.rules", i), "backendRefs"), j));
      }
    }
  } else if (kind == "VirtualService" && obj.api_version.starts_with("networking.istio.io/")) {
    add_virtual_service(*this, id, ns, spec);
  } else if (kind == "ServiceMonitor") {
    ServiceMonitorFacts m;
    m.object = id;
    m.selector = read_selector(get(spec, "selector"));
    if (const Node* at = get(spec, "selector") ? get(spec, "selector") : spec) {
      m.selector_line = at->line;
      m.selector_column = at->column;
    }
    const Node* nss = get(spec, "namespaceSelector");
    m.any_namespace = is_true(get(nss, "any"));
    for (const Node* n : items(get(nss, "matchNames"))) m.namespaces.emplace_back(str(n));
    service_monitors.push_back(std::move(m));
  } else if (kind == "Secret" || kind == "ConfigMap") {
    DataSourceFacts d{id, std::string(kind), std::string(obj.name), {}, true};
    for (std::string_view field : {"data", "stringData", "binaryData"})
      for (const MapEntry& e : entries(obj.root->get(field))) d.keys.emplace_back(e.key->text());
    data_sources.push_back(std::move(d));
  } else if (kind == "SealedSecret") {
    const Node* tmpl_meta = get(get(spec, "template"), "metadata");
    DataSourceFacts d{id, "Secret", get(tmpl_meta, "name") ? text_of(get(tmpl_meta, "name")) : std::string(obj.name),
                      {}, true};
    for (const MapEntry& e : entries(get(spec, "encryptedData"))) d.keys.emplace_back(e.key->text());
    for (const MapEntry& e : entries(get(get(spec, "template"), "data"))) d.keys.emplace_back(e.key->text());
    data_sources.push_back(std::move(d));
  } else if ((kind == "ClusterPolicy" || kind == "Policy") && obj.api_version.starts_with("kyverno.io/")) {
    add_kyverno_image_policy(*this, id, kind == "ClusterPolicy", spec);
  } else if (kind == "ImageValidatingPolicy" && obj.api_version.starts_with("policies.kyverno.io/")) {
    ImagePolicyFacts p{id, true, {}};
    // validationActions defaults to [Deny]; without Deny it only audits or warns.
    const Node* actions = get(spec, "validationActions");
    bool denies = actions == nullptr;
    for (const Node* a : items(actions)) denies |= str(a) == "Deny";
    if (denies)
      for (const Node* m : items(get(spec, "matchImageReferences")))
        if (const Node* g = get(m, "glob")) p.globs.emplace_back(str(g));
    if (!p.globs.empty()) image_policies.push_back(std::move(p));
  } else if (kind == "ClusterImagePolicy" && obj.api_version.starts_with("policy.sigstore.dev/")) {
    ImagePolicyFacts p{id, true, {}};
    if (str(get(spec, "mode")) != "warn")  // warn mode admits unsigned images
      for (const Node* i : items(get(spec, "images")))
        if (const Node* g = get(i, "glob")) p.globs.emplace_back(str(g));
    if (!p.globs.empty()) image_policies.push_back(std::move(p));
  } else if (kind == "ExternalSecret") {
    const Node* target = get(spec, "target");
    DataSourceFacts d{id, "Secret", get(target, "name") ? text_of(get(target, "name")) : std::string(obj.name),
                      {}, get(spec, "dataFrom") == nullptr};
    for (const Node* item : items(get(spec, "data"))) d.keys.emplace_back(str(get(item, "secretKey")));
    // A target template can add keys of its own.
    for (const MapEntry& e : entries(get(get(target, "template"), "data"))) d.keys.emplace_back(e.key->text());
    data_sources.push_back(std::move(d));
  }
}

}  // namespace kg
