// The collectors of facts about references between objects, for the
// reference checks (checks/reference_checks.cpp): which workload an
// autoscaler scales, which Service an Ingress, a Gateway API route or an Istio
// VirtualService sends traffic to, which Services a ServiceMonitor scrapes,
// which objects provide Secrets and ConfigMaps, and which admission policies
// verify image signatures. What a pod's containers reference is recorded
// with the workload (facts.cpp).
#include "checks/facts.hpp"

namespace kg {
namespace {

std::string text_of(const Node* n) { return std::string(str(n)); }

void add_service_reference(std::vector<ServiceReference>& out, std::size_t id, const std::string& ns, const Node* name,
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
  out.push_back(std::move(r));
}

// networking.k8s.io/v1 backend.service{name, port{name|number}}, or the
// older backend{serviceName, servicePort}.
void add_ingress_backend(std::vector<ServiceReference>& out, std::size_t id, const std::string& ns, const Node* backend,
                         const std::string& path) {
  if (!backend) return;
  if (const Node* svc = backend->get("service")) {
    const Node* port = get(svc, "port");
    add_service_reference(out, id, ns, get(svc, "name"), get(port, "name"), get(port, "number"), svc,
                          join_path(path, "service"));
  } else if (const Node* name = backend->get("serviceName")) {
    add_service_reference(out, id, ns, name, nullptr, backend->get("servicePort"), backend, path);
  }
}

bool audit_only(std::string_view action) { return action == "Audit" || action == "audit"; }

// Kyverno ClusterPolicy/Policy rules[].verifyImages[] (imageReferences, or
// the older single `image`), skipping rules that only audit.
void add_kyverno_image_policy(std::vector<ImagePolicyFacts>& out, std::size_t id, bool cluster_wide, const Node* spec) {
  ImagePolicyFacts p{id, cluster_wide, {}};
  const bool policy_audits = audit_only(str(get(spec, "validationFailureAction")));
  for (const Node* rule : items(get(spec, "rules"))) {
    for (const Node* verify : items(get(rule, "verifyImages"))) {
      const Node* action = get(verify, "failureAction");
      if (action ? audit_only(str(action)) : policy_audits) continue;
      for (const Node* ref : items(get(verify, "imageReferences"))) p.globs.emplace_back(str(ref));
      if (const Node* image = get(verify, "image"); !str(image).empty()) p.globs.emplace_back(str(image));
    }
}
  if (!p.globs.empty()) out.push_back(std::move(p));
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

void add_virtual_service(std::vector<ServiceReference>& out, std::size_t id, const std::string& own_ns, const Node* spec) {
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
        out.push_back(std::move(r));
      }
    }
  }
}

}  // namespace

void Autoscalers::add(std::size_t id, const Object& obj, const PodView&) {
  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
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
  rows.push_back(std::move(a));
}

void ServiceReferences::add(std::size_t id, const Object& obj, const PodView&) {
  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
  const std::string ns(obj.ns);
  if (kind == "Ingress") {
    add_ingress_backend(rows, id, ns, get(spec, "defaultBackend"), "spec.defaultBackend");
    add_ingress_backend(rows, id, ns, get(spec, "backend"), "spec.backend");
    const Node* rules = get(spec, "rules");
    for (std::size_t i = 0; i < items(rules).size(); ++i) {
      const Node* paths = get(get(items(rules)[i], "http"), "paths");
      for (std::size_t j = 0; j < items(paths).size(); ++j) {
        add_ingress_backend(rows, id, ns, get(items(paths)[j], "backend"),
                            join_path(index_path(join_path(index_path("spec.rules", i), "http.paths"), j), "backend"));
}
    }
  } else if (kind == "VirtualService") {
    if (obj.api_version.starts_with("networking.istio.io/")) add_virtual_service(rows, id, ns, spec);
  } else {  // a Gateway API route
    const Node* rules = get(spec, "rules");
    for (std::size_t i = 0; i < items(rules).size(); ++i) {
      const Node* refs = get(items(rules)[i], "backendRefs");
      for (std::size_t j = 0; j < items(refs).size(); ++j) {
        const Node* ref = items(refs)[j];
        const std::string_view group = str(get(ref, "group"));
        const std::string_view ref_kind = str(get(ref, "kind"));
        if (!(group.empty() || group == "core") || !(ref_kind.empty() || ref_kind == "Service")) continue;
        const std::string target_ns = get(ref, "namespace") ? text_of(get(ref, "namespace")) : ns;
        add_service_reference(rows, id, target_ns, get(ref, "name"), nullptr, get(ref, "port"), ref,
                              index_path(join_path(index_path("spec.rules", i), "backendRefs"), j));
      }
    }
  }
}

void ServiceMonitors::add(std::size_t id, const Object& obj, const PodView&) {
  const Node* spec = obj.root->get("spec");
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
  rows.push_back(std::move(m));
}

void DataSources::add(std::size_t id, const Object& obj, const PodView&) {
  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
  if (kind == "Secret" || kind == "ConfigMap") {
    DataSourceFacts d{id, std::string(kind), std::string(obj.name), {}, true};
    for (std::string_view field : {"data", "stringData", "binaryData"})
      for (const MapEntry& e : entries(obj.root->get(field))) d.keys.emplace_back(e.key->text());
    rows.push_back(std::move(d));
  } else if (kind == "SealedSecret") {
    const Node* tmpl_meta = get(get(spec, "template"), "metadata");
    DataSourceFacts d{id, "Secret", get(tmpl_meta, "name") ? text_of(get(tmpl_meta, "name")) : std::string(obj.name),
                      {}, true};
    for (const MapEntry& e : entries(get(spec, "encryptedData"))) d.keys.emplace_back(e.key->text());
    for (const MapEntry& e : entries(get(get(spec, "template"), "data"))) d.keys.emplace_back(e.key->text());
    rows.push_back(std::move(d));
  } else if (kind == "ExternalSecret") {
    const Node* target = get(spec, "target");
    DataSourceFacts d{id, "Secret", get(target, "name") ? text_of(get(target, "name")) : std::string(obj.name),
                      {}, get(spec, "dataFrom") == nullptr};
    for (const Node* item : items(get(spec, "data"))) d.keys.emplace_back(str(get(item, "secretKey")));
    // A target template can add keys of its own.
    for (const MapEntry& e : entries(get(get(target, "template"), "data"))) d.keys.emplace_back(e.key->text());
    rows.push_back(std::move(d));
  }
}


void ImagePolicies::add(std::size_t id, const Object& obj, const PodView&) {
  const std::string_view kind = obj.kind;
  const Node* spec = obj.root->get("spec");
  if ((kind == "ClusterPolicy" || kind == "Policy") && obj.api_version.starts_with("kyverno.io/")) {
    add_kyverno_image_policy(rows, id, kind == "ClusterPolicy", spec);
  } else if (kind == "ImageValidatingPolicy" && obj.api_version.starts_with("policies.kyverno.io/")) {
    ImagePolicyFacts p{id, true, {}};
    // validationActions defaults to [Deny]; without Deny it only audits or warns.
    const Node* actions = get(spec, "validationActions");
    bool denies = actions == nullptr;
    for (const Node* a : items(actions)) denies |= str(a) == "Deny";
    if (denies) {
      for (const Node* m : items(get(spec, "matchImageReferences")))
        if (const Node* g = get(m, "glob")) p.globs.emplace_back(str(g));
}
    if (!p.globs.empty()) rows.push_back(std::move(p));
  } else if (kind == "ClusterImagePolicy" && obj.api_version.starts_with("policy.sigstore.dev/")) {
    ImagePolicyFacts p{id, true, {}};
    if (str(get(spec, "mode")) != "warn") {  // warn mode admits unsigned images
      for (const Node* i : items(get(spec, "images")))
        if (const Node* g = get(i, "glob")) p.globs.emplace_back(str(g));
}
    if (!p.globs.empty()) rows.push_back(std::move(p));
  }
}

}  // namespace kg
