// Object-level templates about what a manifest itself says, beyond pod
// security: image versions with known advisories or other than expected, the
// API server's own validation of core kinds, key order, subPath mounts on
// clusters affected by CVE-2021-25741, and which volume sources a pod mounts.
#include <algorithm>
#include <map>
#include <array>
#include <cctype>
#include <set>

#include "checks/workload_quantity.hpp"
#include "checks/workload_util.hpp"
#include "core/ascii.hpp"
#include "core/glob.hpp"
#include "core/inventory.hpp"

namespace kg {
namespace {

using workload::container_violation;
using workload::outcome;
using workload::who;

// major.minor.patch; a leading "v" and a suffix such as "-alpine" are ignored.
using Version = std::array<std::int64_t, 3>;

// `parts` = how many numeric components the text had (0 when none).
Version parse_version(std::string_view s, int& parts) {
  Version v{0, 0, 0};
  parts = 0;
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  std::size_t i = 0;
  while (parts < 3 && i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    std::int64_t n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && n < 1000000000) n = n * 10 + (s[i++] - '0');
    v[static_cast<std::size_t>(parts++)] = n;
    if (i < s.size() && s[i] == '.') {
      ++i;
    } else {
      break;
    }
  }
  return v;
}

std::string format_version(const Version& v) {
  return std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
}

// --- image-version -----------------------------------------------------------

class ImageVersionCheck final : public Check {
 public:
  struct Range {
    std::optional<Version> from;  // inclusive
    Version below{};              // exclusive
  };
  struct Component {
    std::string name;
    std::vector<std::string> images;  // globs on registry/repository, lower-case
    std::vector<Range> affected;
    std::string advisory;
  };
  std::vector<Component> components;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    for (const ContainerRef& c : in.containers) {
      const Node* img = c.node->get("image");
      if (str(img).empty()) continue;
      const workload::ImageName name = workload::parse_image_name(str(img));
      const std::string canonical = ascii_lower(name.canonical());
      for (const Component& comp : components) {
        if (std::none_of(comp.images.begin(), comp.images.end(),
                         [&](const std::string& g) { return glob_match(g, canonical); }))
          continue;
        int parts = 0;
        const Version v = parse_version(name.tag, parts);
        if (parts < 3) break;  // no exact version in the tag: cannot tell
        for (const Range& r : comp.affected) {
          if ((r.from && v < *r.from) || !(v < r.below)) continue;
          const std::string range = r.from ? "versions from " + format_version(*r.from) + " and before " +
                                                 format_version(r.below)
                                           : "versions before " + format_version(r.below);
          out.push_back(container_violation(
              c, who(c) + " runs " + comp.name + " " + format_version(v) + "; " + range + " are affected by " +
                     comp.advisory,
              img, join_path(c.path, "image")));
          break;
        }
        break;
      }
    }
    return outcome(true, out);
  }
};

// --- image-expected-tag --------------------------------------------------------

class ImageExpectedTagCheck final : public Check {
 public:
  std::vector<std::pair<std::string, std::string>> expected;  // canonical name → tag

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    for (const ContainerRef& c : in.containers) {
      const Node* img = c.node->get("image");
      if (str(img).empty()) continue;
      const workload::ImageName name = workload::parse_image_name(str(img));
      const std::string canonical = ascii_lower(name.canonical());
      for (const auto& [image, tag] : expected) {
        if (image != canonical || name.tag == tag) continue;
        std::string message = who(c);
        message.append(" runs ").append(image);
        if (name.tag.empty()) message.append(" without a tag");
        else message.append(":").append(name.tag);
        message.append(", but the expected tag is ").append(tag);
        out.push_back(container_violation(c, message, img, join_path(c.path, "image")));
      }
    }
    return outcome(true, out);
  }
};

// --- sorted-keys -----------------------------------------------------------------

class SortedKeysCheck final : public Check {
 public:
  std::size_t max_reports = 5;

  void walk(const Node* n, const std::string& path, std::vector<Violation>& out) const {
    if (!n || out.size() >= max_reports) return;
    if (n->is_map()) {
      const auto es = n->entries();
      for (std::size_t i = 1; i < es.size(); ++i) {
        if (es[i].key->text() < es[i - 1].key->text()) {
          out.push_back({"key \"" + std::string(es[i].key->text()) + "\" comes after \"" +
                             std::string(es[i - 1].key->text()) + "\"; keys are not in alphabetical order",
                         es[i].key, join_path(path, es[i].key->text()), {}});
          break;
        }
      }
      for (const MapEntry& e : es) walk(e.value, join_path(path, e.key->text()), out);
    } else {
      const auto list = items(n);
      for (std::size_t i = 0; i < list.size(); ++i) walk(list[i], index_path(path, i), out);
    }
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    walk(in.obj.root, in.obj.path_prefix, out);
    return outcome(true, out);
  }
};

// --- object-schema -----------------------------------------------------------------

bool dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

bool dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  while (!s.empty()) {
    const auto dot = s.find('.');
    if (!dns_label(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return true;
}

bool one_of(std::string_view v, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

class ObjectSchemaCheck final : public Check {
 public:
  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const std::string& pre = in.obj.path_prefix;
    const Node* meta = in.obj.root->get("metadata");
    check_name(in, meta, out);
    const Node* spec = in.obj.root->get("spec");
    const Node* spec_at = spec ? spec : in.obj.root;
    if (in.obj.api_version == "apps/v1" &&
        one_of(in.obj.kind, {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}) &&
        !get(spec, "selector")) {
      out.push_back({"spec.selector is required for apps/v1 " + std::string(in.obj.kind),
                     spec_at,
                     join_path(pre, "spec.selector"),
                     {}});
    }
    if (workload::has_replicas(in.obj.kind)) {
      if (const Node* r = get(spec, "replicas");
          r && !r->is_null() && !(r->as_int() && *r->as_int() >= 0)) {
        out.push_back(
            {"spec.replicas must be a non-negative integer, not \"" + std::string(str(r)) + "\"",
             r,
             join_path(pre, "spec.replicas"),
             {}});
      }
    }
    if (in.obj.kind == "Service") check_service(in, spec, out);
    if (in.pod) check_pod(in, out);
    check_selectors(in, spec, out);
    return outcome(true, out);
  }

  // A selector apimachinery refuses (LabelSelectorAsSelector) is rejected by
  // the API server, and selects nothing in kguard's set-level rules either.
  static void check_selectors(const CheckInput& in, const Node* spec, std::vector<Violation>& out) {
    auto one = [&](const Node* selector, const std::string& path) {
      std::string why, field;
      if (const Node* at = invalid_selector_requirement(selector, why, field))
        out.push_back({path + "." + field + ": " + why, at, join_path(path, field), {}});
    };
    const std::string& pre = in.obj.path_prefix;
    one(get(spec, "selector"), join_path(pre, "spec.selector"));
    if (in.obj.kind == "NetworkPolicy") one(get(spec, "podSelector"), join_path(pre, "spec.podSelector"));
    if (!in.pod) return;
    const auto tsc = items(in.pod.spec->get("topologySpreadConstraints"));
    for (std::size_t i = 0; i < tsc.size(); ++i) {
      one(get(tsc[i], "labelSelector"),
          join_path(index_path(join_path(in.pod.spec_path, "topologySpreadConstraints"), i),
                    "labelSelector"));
    }
    const Node* affinity = in.pod.spec->get("affinity");
    for (const char* kind : {"podAffinity", "podAntiAffinity"}) {
      const std::string base = join_path(join_path(in.pod.spec_path, "affinity"), kind);
      const auto required = items(get(get(affinity, kind), "requiredDuringSchedulingIgnoredDuringExecution"));
      for (std::size_t i = 0; i < required.size(); ++i) {
        one(get(required[i], "labelSelector"),
            join_path(
                index_path(join_path(base, "requiredDuringSchedulingIgnoredDuringExecution"), i),
                "labelSelector"));
      }
      const auto preferred = items(get(get(affinity, kind), "preferredDuringSchedulingIgnoredDuringExecution"));
      for (std::size_t i = 0; i < preferred.size(); ++i) {
        one(get(get(preferred[i], "podAffinityTerm"), "labelSelector"),
            join_path(
                index_path(join_path(base, "preferredDuringSchedulingIgnoredDuringExecution"), i),
                "podAffinityTerm.labelSelector"));
      }
    }
  }

  static void check_name(const CheckInput& in, const Node* meta, std::vector<Violation>& out) {
    const std::string path = join_path(in.obj.path_prefix, "metadata.name");
    const Node* name = get(meta, "name");
    if (str(name).empty()) {
      if (!get(meta, "generateName"))
        out.push_back({"metadata.name is required", meta ? meta : in.obj.root, path, {}});
      return;
    }
    const std::string_view n = str(name);
    if (one_of(in.obj.kind, {"Namespace", "Service"})) {
      if (!dns_label(n)) {
        out.push_back(
            {std::string(in.obj.kind) + " name \"" + std::string(n) +
                 "\" must be a DNS-1123 label (at most 63 lower-case letters, digits and '-')",
             name,
             path,
             {}});
      }
    } else if (in.pod || one_of(in.obj.kind, {"ConfigMap", "Secret", "ServiceAccount", "PersistentVolumeClaim",
                                          "Ingress", "NetworkPolicy", "PodDisruptionBudget",
                                          "HorizontalPodAutoscaler"})) {
      if (!dns_subdomain(n)) {
        out.push_back(
            {std::string(in.obj.kind) + " name \"" + std::string(n) +
                 "\" must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
             name,
             path,
             {}});
      }
    }
  }

  static void check_service(const CheckInput& in, const Node* spec, std::vector<Violation>& out) {
    const std::string& pre = in.obj.path_prefix;
    if (const Node* t = get(spec, "type");
        t && !one_of(str(t), {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"})) {
      out.push_back({"spec.type \"" + std::string(str(t)) +
                         "\" is not ClusterIP, NodePort, LoadBalancer or ExternalName",
                     t,
                     join_path(pre, "spec.type"),
                     {}});
    }
    const auto ports = items(get(spec, "ports"));
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      const std::string path = index_path(join_path(pre, "spec.ports"), i);
      const Node* port = get(ports[i], "port");
      auto n = port ? port->as_int() : std::nullopt;
      if (!n || *n < 1 || *n > 65535) {
        out.push_back(
            {"spec.ports[" + std::to_string(i) + "].port must be a number from 1 to 65535",
             port ? port : ports[i],
             join_path(path, "port"),
             {}});
      }
      const std::string_view name = str(get(ports[i], "name"));
      if (ports.size() > 1 && name.empty()) {
        out.push_back({"spec.ports[" + std::to_string(i) + "].name is required when a Service has several ports",
                       ports[i], join_path(path, "name"), {}});
      } else if (!name.empty() && !names.insert(name).second) {
        out.push_back({"Service port name \"" + std::string(name) + "\" is used twice",
                       get(ports[i], "name"),
                       join_path(path, "name"),
                       {}});
      }
    }
  }

  // core/validation ValidateResourceRequirements: every request and limit is
  // a quantity (resource.ParseQuantity's grammar) and not negative, and a
  // request does not exceed the limit of the same resource.
  static void check_resources(const ContainerRef& c, std::vector<Violation>& out) {
    const Node* res = c.node->get("resources");
    const std::string res_path = join_path(c.path, "resources");
    std::map<std::string_view, Quantity> limits;
    for (const char* field : {"limits", "requests"}) {
      const Node* list = get(res, field);
      if (!list || !list->is_map()) continue;
      for (const auto& [key, value] : list->entries()) {
        const std::string_view name = key->text();
        // Extended resources ("nvidia.com/gpu") are bracketed, as elsewhere.
        const bool plain = std::all_of(name.begin(), name.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
        });
        const std::string path = plain ? join_path(join_path(res_path, field), name)
                                       : join_path(res_path, field) + "[\"" + std::string(name) + "\"]";
        const std::string label = std::string(field) + "." + std::string(name);
        std::optional<Quantity> q;
        if (value->is_scalar() && !value->is_null()) q = parse_quantity(value->text());
        if (!q) {
          out.push_back(container_violation(
              c, who(c) + ": resources." + label + " \"" + std::string(str(value)) +
                     "\" is not a valid quantity (e.g. 500m, 2, 128Mi, 1Gi)",
              value, path));
          continue;
        }
        if (q->nano < 0) {
          out.push_back(container_violation(
              c, who(c) + ": resources." + label + " \"" + std::string(str(value)) +
                     "\" must be greater than or equal to 0",
              value, path));
          continue;
        }
        if (std::string_view(field) == "limits") {
          limits.emplace(name, *q);
        } else if (auto lim = limits.find(name); lim != limits.end() && *q > lim->second) {
          out.push_back(container_violation(
              c, who(c) + ": resources.requests." + std::string(name) + " \"" +
                     std::string(str(value)) + "\" must be less than or equal to its limit",
              value, path));
        }
      }
    }
  }

  static void check_pod(const CheckInput& in, std::vector<Violation>& out) {
    const Node* spec = in.pod.spec;
    const Node* containers = spec->get("containers");
    if (items(containers).empty()) {
      out.push_back({"the pod spec has no containers",
                     containers ? containers : spec,
                     join_path(in.pod.spec_path, "containers"),
                     {}});
    }
    std::set<std::string_view> volumes;
    // A StatefulSet's claim templates are volumes of its pods too.
    for (const Node* claim : items(get(get(in.obj.root, "spec"), "volumeClaimTemplates")))
      volumes.insert(str(get(get(claim, "metadata"), "name")));
    const auto vols = items(spec->get("volumes"));
    for (std::size_t i = 0; i < vols.size(); ++i) {
      const std::string_view name = str(get(vols[i], "name"));
      const std::string path = join_path(index_path(join_path(in.pod.spec_path, "volumes"), i), "name");
      if (!dns_label(name)) {
        out.push_back({"volume name \"" + std::string(name) + "\" must be a DNS-1123 label", vols[i], path, {}});
      } else if (!volumes.insert(name).second) {
        out.push_back({"volume name \"" + std::string(name) + "\" is used twice",
                       get(vols[i], "name"),
                       path,
                       {}});
      }
    }
    std::set<std::string_view> container_names;
    for (const ContainerRef& c : in.containers) {
      if (!dns_label(c.name)) {
        out.push_back(container_violation(c, "container name \"" + std::string(c.name) +
                                                 "\" must be a DNS-1123 label",
                                          c.node, join_path(c.path, "name")));
      } else if (!container_names.insert(c.name).second) {
        out.push_back(container_violation(c, who(c) + ": the name is used by another container of the pod",
                                          c.node->get("name"), join_path(c.path, "name")));
      }
      if (str(c.node->get("image")).empty())
        out.push_back(container_violation(c, who(c) + " has no image", c.node, join_path(c.path, "image")));
      const auto ports = items(c.node->get("ports"));
      for (std::size_t i = 0; i < ports.size(); ++i) {
        if (const Node* p = get(ports[i], "protocol");
            p && !one_of(str(p), {"TCP", "UDP", "SCTP"})) {
          out.push_back(container_violation(
              c, who(c) + ": port protocol \"" + std::string(str(p)) + "\" is not TCP, UDP or SCTP",
              p, join_path(index_path(join_path(c.path, "ports"), i), "protocol")));
        }
      }
      const auto env = items(c.node->get("env"));
      for (std::size_t i = 0; i < env.size(); ++i) {
        if (str(get(env[i], "name")).empty()) {
          out.push_back(container_violation(
              c, who(c) + ": env[" + std::to_string(i) + "] has no name", env[i],
              join_path(index_path(join_path(c.path, "env"), i), "name")));
        }
      }
      check_resources(c, out);
      const auto mounts = items(c.node->get("volumeMounts"));
      for (std::size_t i = 0; i < mounts.size(); ++i) {
        const std::string path = index_path(join_path(c.path, "volumeMounts"), i);
        const std::string_view name = str(get(mounts[i], "name"));
        if (!volumes.count(name)) {
          out.push_back(container_violation(c,
                                            who(c) + " mounts volume \"" + std::string(name) +
                                                "\", which the pod does not declare",
                                            mounts[i], join_path(path, "name")));
        }
        if (str(get(mounts[i], "mountPath")).empty()) {
          out.push_back(container_violation(
              c, who(c) + ": volumeMounts[" + std::to_string(i) + "] has no mountPath", mounts[i],
              join_path(path, "mountPath")));
        }
      }
    }
  }
};

// --- subpath-mount ---------------------------------------------------------------

class SubPathMountCheck final : public Check {
 public:
  std::optional<Version> cluster;  // unknown when unset
  std::vector<Version> fixed_in;   // first fixed patch of each affected minor, ascending
  std::string advisory;

  // The cluster's version: the rule's parameter, else the version of the
  // cluster the scan read (live or from a snapshot); unset when unknown.
  std::optional<Version> version_of(const CheckInput& in) const {
    if (cluster) return cluster;
    int parts = 0;
    const Version v = parse_version(in.cluster_version, parts);
    if (parts >= 2) return v;
    return std::nullopt;
  }

  bool affected(const std::optional<Version>& version) const {
    if (!version) return true;
    const Version& v = *version;
    for (const Version& f : fixed_in)
      if (f[0] == v[0] && f[1] == v[1]) return v < f;
    // Minors older than every listed one are affected; newer ones shipped the fix.
    return !fixed_in.empty() && v < fixed_in.front();
  }

  std::string fixed_list() const {
    std::string s;
    for (const Version& f : fixed_in) s += (s.empty() ? "" : ", ") + format_version(f);
    return s;
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const std::optional<Version> version = version_of(in);
    if (!affected(version)) return Outcome::Pass;
    const std::string when =
        version ? "the cluster runs " + format_version(*version) + ", which is affected by " + advisory
                : "on clusters older than " + fixed_list() + " this is " + advisory +
                      " (scan the cluster or its snapshot, or set params.kubernetesVersion)";
    for (const ContainerRef& c : in.containers) {
      const auto mounts = items(c.node->get("volumeMounts"));
      for (std::size_t i = 0; i < mounts.size(); ++i) {
        for (std::string_view field : {"subPath", "subPathExpr"}) {
          if (const Node* sp = get(mounts[i], field); !str(sp).empty()) {
            out.push_back(container_violation(
                c, who(c) + " mounts volume \"" + std::string(str(get(mounts[i], "name"))) + "\" with " +
                       std::string(field) + "; " + when,
                sp, join_path(index_path(join_path(c.path, "volumeMounts"), i), field)));
            break;
          }
        }
      }
    }
    return outcome(true, out);
  }
};

// --- volume-source -----------------------------------------------------------------

class VolumeSourceCheck final : public Check {
 public:
  std::vector<std::string> sources;

  bool listed(std::string_view s) const { return std::find(sources.begin(), sources.end(), s) != sources.end(); }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const auto vols = items(in.pod.spec->get("volumes"));
    for (std::size_t i = 0; i < vols.size(); ++i) {
      const std::string path = index_path(join_path(in.pod.spec_path, "volumes"), i);
      const std::string volume(str(get(vols[i], "name")));
      auto report = [&](std::string_view source, const Node* at, const std::string& at_path) {
        const Node* named = get(at, source == "persistentVolumeClaim" ? "claimName" : source == "secret" ? "secretName" : "name");
        out.push_back({"volume \"" + volume + "\" mounts " + std::string(source) +
                           (str(named).empty() ? std::string() : " \"" + std::string(str(named)) + "\""),
                       at, at_path, {}});
      };
      for (const MapEntry& e : entries(vols[i])) {
        if (listed(e.key->text())) report(e.key->text(), e.value, join_path(path, e.key->text()));
        if (e.key->text() != "projected") continue;
        const auto projected = items(get(e.value, "sources"));
        for (std::size_t j = 0; j < projected.size(); ++j) {
          for (const MapEntry& p : entries(projected[j])) {
            if (listed(p.key->text())) {
              report(p.key->text(), p.value,
                     join_path(index_path(join_path(path, "projected.sources"), j), p.key->text()));
            }
          }
        }
      }
    }
    return outcome(true, out);
  }
};

bool read_version(std::string_view text, Version& v) {
  int parts = 0;
  v = parse_version(text, parts);
  return parts >= 2;
}

}  // namespace

std::unique_ptr<Check> compile_image_version_check(const Params& params, std::string& error) {
  auto c = std::make_unique<ImageVersionCheck>();
  const Node* list = params.get("components");
  for (std::size_t i = 0; i < items(list).size(); ++i) {
    const Node* n = items(list)[i];
    const std::string where = "components[" + std::to_string(i) + "]";
    ImageVersionCheck::Component comp;
    comp.name = std::string(str(get(n, "component")));
    comp.advisory = std::string(str(get(n, "advisory")));
    for (const Node* g : items(get(n, "images"))) comp.images.push_back(ascii_lower(str(g)));
    for (const Node* r : items(get(n, "affected"))) {
      ImageVersionCheck::Range range;
      Version v{};
      if (!read_version(str(get(r, "below")), range.below)) {
        error = where + ".affected: below must be a version such as 1.12.1";
        return nullptr;
      }
      if (get(r, "from")) {
        if (!read_version(str(get(r, "from")), v)) {
          error = where + ".affected: from must be a version such as 1.12.0";
          return nullptr;
        }
        range.from = v;
      }
      comp.affected.push_back(range);
    }
    if (comp.name.empty() || comp.images.empty() || comp.affected.empty() || comp.advisory.empty()) {
      error = where + " needs component, images, affected and advisory";
      return nullptr;
    }
    c->components.push_back(std::move(comp));
  }
  if (c->components.empty()) {
    error = "components must list at least one component";
    return nullptr;
  }
  return c;
}

std::unique_ptr<Check> compile_image_expected_tag_check(const Params& params, std::string& error) {
  auto c = std::make_unique<ImageExpectedTagCheck>();
  for (const std::string& image : params.strings("images")) {
    const workload::ImageName name = workload::parse_image_name(image);
    if (name.tag.empty()) {
      error = "images entries must be name:tag, e.g. registry.example.com/shop/api:2.4.1 ('" + image + "')";
      return nullptr;
    }
    c->expected.emplace_back(ascii_lower(name.canonical()), name.tag);
  }
  if (c->expected.empty()) {
    error = "images must list at least one name:tag";
    return nullptr;
  }
  return c;
}

std::unique_ptr<Check> compile_sorted_keys_check(const Params&, std::string&) {
  return std::make_unique<SortedKeysCheck>();
}

std::unique_ptr<Check> compile_object_schema_check(const Params&, std::string&) {
  return std::make_unique<ObjectSchemaCheck>();
}

std::unique_ptr<Check> compile_subpath_mount_check(const Params& params, std::string& error) {
  auto c = std::make_unique<SubPathMountCheck>();
  if (const std::string_view v = params.string("kubernetesVersion"); !v.empty()) {
    Version version{};
    if (!read_version(v, version)) {
      error = "kubernetesVersion must be a version such as 1.21.3, or empty when unknown";
      return nullptr;
    }
    c->cluster = version;
  }
  for (const std::string& f : params.strings("fixedIn")) {
    Version version{};
    if (!read_version(f, version)) {
      error = "fixedIn entries must be versions such as 1.22.2 ('" + f + "')";
      return nullptr;
    }
    c->fixed_in.push_back(version);
  }
  std::sort(c->fixed_in.begin(), c->fixed_in.end());
  c->advisory = std::string(params.string("advisory"));
  if (c->fixed_in.empty() || c->advisory.empty()) {
    error = "fixedIn and advisory are required";
    return nullptr;
  }
  return c;
}

std::unique_ptr<Check> compile_volume_source_check(const Params& params, std::string& error) {
  auto c = std::make_unique<VolumeSourceCheck>();
  c->sources = params.strings("sources");
  if (c->sources.empty()) {
    error = "sources must list at least one volume source, e.g. secret";
    return nullptr;
  }
  return c;
}

}  // namespace kg
