// Workload check templates for images, resources and health checks. Each
// template is generic and parameterised (kube-linter's model); the rules in
// rules/images, rules/resources and rules/health bind them with parameters.
// Reliability templates live in workload_reliability.cpp.
#include <array>
#include <cctype>
#include <charconv>

#include "checks/registry.hpp"
#include "core/ascii.hpp"
#include "core/glob.hpp"
#include "checks/workload_quantity.hpp"
#include "checks/workload_util.hpp"

namespace kg {
namespace {

using namespace workload;

constexpr std::array<ContainerKind, 3> kAllContainers{ContainerKind::Init, ContainerKind::Container,
                                                     ContainerKind::Ephemeral};
constexpr std::array<ContainerKind, 1> kMainContainers{ContainerKind::Container};


bool int_list(const Params& params, std::string_view key, std::vector<std::int64_t>& out,
              std::string& error) {
  for (const std::string& s : params.strings(key)) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) {
      error = std::string(key) + " must be a list of integers";
      return false;
    }
    out.push_back(v);
  }
  return true;
}

bool contains(const std::vector<std::int64_t>& v, std::int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// ---------------------------------------------------------------- image-registry

class ImageRegistryCheck final : public Check {
 public:
  bool allow = true;
  std::vector<std::string> entries;  // "host" or "host/path"; host may start with "*."

  static bool matches(const ImageName& n, std::string_view entry) {
    auto slash = entry.find('/');
    std::string_view host = entry.substr(0, slash);
    bool host_ok = host == n.registry ||
                   (host.size() > 2 && host.substr(0, 2) == "*." &&
                    n.registry.size() > host.size() - 1 &&
                    n.registry.compare(n.registry.size() - (host.size() - 1), host.size() - 1,
                                       host.substr(1)) == 0);
    if (!host_ok) return false;
    if (slash == std::string_view::npos) return true;
    std::string_view path = entry.substr(slash + 1);
    return n.repository == path ||
           (n.repository.size() > path.size() && n.repository.compare(0, path.size(), path) == 0 &&
            n.repository[path.size()] == '/');
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      const Node* img = c.node->get("image");
      if (str(img).empty()) continue;
      any = true;
      ImageName n = parse_image_name(str(img));
      bool matched = std::any_of(entries.begin(), entries.end(),
                                 [&](const std::string& e) { return matches(n, e); });
      if (allow && !matched) {
        out.push_back(container_violation(c,
                                          who(c) + " pulls \"" + std::string(str(img)) +
                                              "\" from \"" + n.registry +
                                              "\", which is not an allowed registry",
                                          img, join_path(c.path, "image")));
      }
      if (!allow && matched) {
        out.push_back(container_violation(c,
                                          who(c) + " pulls \"" + std::string(str(img)) +
                                              "\" from \"" + n.registry +
                                              "\", a registry on the blocked list",
                                          img, join_path(c.path, "image")));
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_image_registry(const Params& params, std::string& error) {
  auto check = std::make_unique<ImageRegistryCheck>();
  std::string_view mode = params.string("mode");
  if (mode != "allow" && mode != "block") {
    error = "mode must be allow or block";
    return nullptr;
  }
  check->allow = mode == "allow";
  const std::string_view key = check->allow ? "allowedRegistries" : "blockedRegistries";
  for (const std::string& r : params.strings(key)) {
    auto slash = r.find('/');
    std::string host = ascii_lower(r.substr(0, slash));
    if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
    if (host.empty()) {
      error = std::string(key) + " entries must start with a registry host";
      return nullptr;
    }
    check->entries.push_back(slash == std::string::npos ? host : host + r.substr(slash));
  }
  if (check->entries.empty()) {
    error = std::string(key) + " is required (a list of registry hosts or host/path prefixes)";
    return nullptr;
  }
  return check;
}

// ---------------------------------------------------------------- image-pull-policy

class ImagePullPolicyCheck final : public Check {
 public:
  bool mutable_only = false;  // mode mutable-tag: only :latest / untagged images

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      const Node* img = c.node->get("image");
      if (str(img).empty()) continue;
      any = true;
      ImageName n = parse_image_name(str(img));
      const bool latest = n.tag == "latest" || (n.tag.empty() && n.digest.empty());
      const Node* policy = c.node->get("imagePullPolicy");
      const bool explicit_policy = policy && !policy->is_null();
      // The API server defaults to Always for :latest (or no tag and no digest).
      std::string_view effective =
          explicit_policy ? str(policy) : (latest ? std::string_view("Always") : "IfNotPresent");
      const std::string path = join_path(c.path, "imagePullPolicy");
      if (mutable_only) {
        if (latest && n.digest.empty() && explicit_policy && effective != "Always") {
          out.push_back(container_violation(c,
                                            who(c) + " runs mutable image \"" +
                                                std::string(str(img)) + "\" with imagePullPolicy " +
                                                std::string(effective) +
                                                ", so nodes keep whatever version they cached",
                                            policy, path));
        }
      } else if (effective != "Always") {
        out.push_back(container_violation(
            c, who(c) + " has imagePullPolicy " + std::string(effective) +
                   (explicit_policy ? "" : " (the default for a pinned tag)") + ", not Always",
            explicit_policy ? policy : c.node, path));
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_image_pull_policy(const Params& params, std::string& error) {
  auto check = std::make_unique<ImagePullPolicyCheck>();
  std::string_view mode = params.string("mode");
  if (mode != "always" && mode != "mutable-tag") {
    error = "mode must be always or mutable-tag";
    return nullptr;
  }
  check->mutable_only = mode == "mutable-tag";
  return check;
}

// ---------------------------------------------------------------- known-component

class KnownComponentCheck final : public Check {
 public:
  std::string component;
  std::vector<std::string> images;                                // globs on registry/repository
  std::vector<std::vector<std::pair<std::string, std::string>>> labels;  // any of (all of k=v)
  std::vector<std::int64_t> ports;

  const std::vector<std::pair<std::string, std::string>>* label_match(const Node* map) const {
    if (!map || !map->is_map()) return nullptr;
    for (const auto& all : labels) {
      bool ok = std::all_of(all.begin(), all.end(), [&](const auto& kv) {
        const Node* v = get(map, kv.first);
        return v && v->is_scalar() && v->text() == kv.second;
      });
      if (ok) return &all;
    }
    return nullptr;
  }

  bool check_labels(const Node* map, const std::string& path, std::string_view where,
                    std::string_view display, std::vector<Violation>& out) const {
    const auto* m = label_match(map);
    if (!m) return false;
    std::string kv;
    for (const auto& [k, v] : *m) kv += (kv.empty() ? "" : ",") + k + "=" + v;
    out.push_back({std::string(display) + " is " + component + " (" + std::string(where) + " " +
                       kv + ")",
                   map, path, {}});
    return true;
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* meta = get(in.obj.root, "metadata");
    const std::string meta_path = join_path(in.obj.path_prefix, "metadata.labels");
    if (in.obj.kind == "Service") {
      const Node* spec = get(in.obj.root, "spec");
      if (!check_labels(get(meta, "labels"), meta_path, "labels", "Service", out)) {
        check_labels(get(spec, "selector"), join_path(in.obj.path_prefix, "spec.selector"),
                     "selector", "Service", out);
      }
      if (out.empty()) {
        const Node* list = get(spec, "ports");
        for (std::size_t i = 0; i < items(list).size(); ++i) {
          const Node* p = items(list)[i];
          for (std::string_view f : {"port", "targetPort"}) {
            auto v = int_or_string(get(p, f));
            if (v && v->is_int && contains(ports, v->number)) {
              out.push_back({"Service exposes port " + std::to_string(v->number) + ", the " +
                                 component + " port",
                             get(p, f),
                             join_path(index_path(join_path(in.obj.path_prefix, "spec.ports"), i), f),
                             {}});
              break;
            }
          }
          if (!out.empty()) break;
        }
      }
      return outcome(true, out);
    }
    if (!in.pod) return Outcome::NotApplicable;
    // One finding per workload: the container that runs the component (image
    // or port) is the most precise; its labels only when no container shows it.
    for (const ContainerRef& c : containers_of(in.pod)) {
      const Node* img = c.node->get("image");
      bool hit = false;
      if (!str(img).empty()) {
        std::string canonical = ascii_lower(parse_image_name(str(img)).canonical());
        for (const std::string& g : images) {
          if (glob_match(g, canonical)) {
            out.push_back(container_violation(c, who(c) + " runs " + component + " (image \"" +
                                                     std::string(str(img)) + "\")",
                                              img, join_path(c.path, "image")));
            hit = true;
            break;
          }
        }
      }
      const Node* list = c.node->get("ports");
      for (std::size_t i = 0; !hit && i < items(list).size(); ++i) {
        const Node* cp = get(items(list)[i], "containerPort");
        if (cp && cp->as_int() && contains(ports, *cp->as_int())) {
          out.push_back(container_violation(
              c, who(c) + " listens on port " + std::string(cp->text()) + ", the " + component +
                     " port",
              cp, join_path(index_path(join_path(c.path, "ports"), i), "containerPort")));
          hit = true;
        }
      }
    }
    if (out.empty() && !check_labels(get(meta, "labels"), meta_path, "labels", in.obj.kind, out) &&
        in.pod.meta) {
      check_labels(get(in.pod.meta, "labels"), join_path(in.pod.meta_path, "labels"), "pod labels",
                   in.obj.kind, out);
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_known_component(const Params& params, std::string& error) {
  auto check = std::make_unique<KnownComponentCheck>();
  check->component = std::string(params.string("component"));
  if (check->component.empty()) {
    error = "component (the display name) is required";
    return nullptr;
  }
  for (const std::string& g : params.strings("images")) check->images.push_back(ascii_lower(g));
  for (const std::string& entry : params.strings("labels")) {
    std::vector<std::pair<std::string, std::string>> all;
    std::string_view rest = entry;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view kv = rest.substr(0, comma);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        error = "labels entries must be key=value[,key=value...]";
        return nullptr;
      }
      all.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    check->labels.push_back(std::move(all));
  }
  if (!int_list(params, "ports", check->ports, error)) return nullptr;
  if (check->images.empty() && check->labels.empty() && check->ports.empty()) {
    error = "at least one of images, labels or ports is required";
    return nullptr;
  }
  return check;
}

// ---------------------------------------------------------------- command-word

class CommandWordCheck final : public Check {
 public:
  std::vector<std::string> words;
  std::vector<ContainerKind> kinds{kAllContainers.begin(), kAllContainers.end()};

  bool has_word(std::string_view s, std::string& found) const {
    auto sep = [](char c) {
      return std::isspace(static_cast<unsigned char>(c)) || c == ';' || c == '&' || c == '|' ||
             c == '(' || c == ')' || c == '`' || c == '\'' || c == '"' || c == '$' || c == '{' ||
             c == '}';
    };
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && sep(s[i])) ++i;
      std::size_t j = i;
      while (j < s.size() && !sep(s[j])) ++j;
      std::string_view tok = s.substr(i, j - i);
      if (auto slash = tok.rfind('/'); slash != std::string_view::npos) tok.remove_prefix(slash + 1);
      if (!tok.empty() && contains(words, tok)) {
        found = std::string(tok);
        return true;
      }
      i = j;
    }
    return false;
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      if (!selected(kinds, c.kind)) continue;
      any = true;
      bool hit = false;
      for (std::string_view field : {"command", "args"}) {
        const Node* list = c.node->get(field);
        for (std::size_t i = 0; i < items(list).size() && !hit; ++i) {
          std::string word;
          if (has_word(str(items(list)[i]), word)) {
            out.push_back(container_violation(
                c, who(c) + " runs \"" + word + "\" in its " + std::string(field), items(list)[i],
                index_path(join_path(c.path, field), i)));
            hit = true;
          }
        }
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_command_word(const Params& params, std::string& error) {
  auto check = std::make_unique<CommandWordCheck>();
  check->words = params.strings("words");
  if (check->words.empty()) {
    error = "words is required";
    return nullptr;
  }
  if (!container_kinds_param(params, check->kinds, error)) return nullptr;
  return check;
}

// ---------------------------------------------------------------- port-exposed

class PortExposedCheck final : public Check {
 public:
  std::vector<std::int64_t> container_ports;
  std::vector<std::int64_t> service_ports;
  std::string what;

  static bool tcp(const Node* port) {
    std::string_view p = str(get(port, "protocol"));
    return p.empty() || p == "TCP";
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (in.obj.kind == "Service") {
      const Node* list = get(get(in.obj.root, "spec"), "ports");
      const std::string base = join_path(in.obj.path_prefix, "spec.ports");
      for (std::size_t i = 0; i < items(list).size(); ++i) {
        const Node* p = items(list)[i];
        if (!tcp(p)) continue;
        for (std::string_view f : {"port", "targetPort"}) {
          auto v = int_or_string(get(p, f));
          if (v && v->is_int && contains(service_ports, v->number)) {
            out.push_back({"Service " + std::string(f) + " " + std::to_string(v->number) +
                               " exposes " + what,
                           get(p, f), join_path(index_path(base, i), f), {}});
            break;
          }
        }
      }
      return outcome(true, out);
    }
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      any = true;
      const Node* list = c.node->get("ports");
      for (std::size_t i = 0; i < items(list).size(); ++i) {
        const Node* p = items(list)[i];
        const Node* cp = get(p, "containerPort");
        if (tcp(p) && cp && cp->as_int() && contains(container_ports, *cp->as_int())) {
          out.push_back(container_violation(
              c, who(c) + " exposes containerPort " + std::string(cp->text()) + " (" + what + ")",
              cp, join_path(index_path(join_path(c.path, "ports"), i), "containerPort")));
        }
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_port_exposed(const Params& params, std::string& error) {
  auto check = std::make_unique<PortExposedCheck>();
  if (!int_list(params, "containerPorts", check->container_ports, error)) return nullptr;
  if (!int_list(params, "servicePorts", check->service_ports, error)) return nullptr;
  if (check->container_ports.empty() && check->service_ports.empty()) {
    error = "containerPorts or servicePorts is required";
    return nullptr;
  }
  check->what = std::string(params.string("service"));
  if (check->what.empty()) check->what = "a sensitive service";
  return check;
}

// ---------------------------------------------------------------- resource-quantity

enum class ResourceMode { Present, Bounds, Equal };

class ResourceQuantityCheck final : public Check {
 public:
  ResourceMode mode = ResourceMode::Present;
  std::string resource;
  std::vector<std::string> fields{"requests", "limits"};
  std::vector<ContainerKind> kinds{kMainContainers.begin(), kMainContainers.end()};
  struct Bound {
    std::string text;
    std::optional<Quantity> value;
  };
  Bound request_min, request_max, limit_min, limit_max;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      if (!selected(kinds, c.kind)) continue;
      const Node* res = c.node->get("resources");
      const std::string res_path = join_path(c.path, "resources");
      auto value_of = [&](std::string_view field) -> const Node* {
        const Node* v = get(get(res, field), resource);
        return v && !v->is_null() && !str(v).empty() ? v : nullptr;
      };
      auto path_of = [&](std::string_view field) {
        return join_path(join_path(res_path, field), resource);
      };
      auto nearest = [&](std::string_view field) -> const Node* {
        if (const Node* f = get(res, field); f && f->is_map()) return f;
        return res ? res : c.node;
      };
      switch (mode) {
        case ResourceMode::Present:
          any = true;
          for (const std::string& f : fields) {
            if (!value_of(f)) {
              out.push_back(container_violation(
                  c, who(c) + " has no " + resource + " " + (f == "requests" ? "request" : "limit"),
                  nearest(f), path_of(f)));
            }
          }
          break;
        case ResourceMode::Bounds:
          for (const char* f : {"requests", "limits"}) {
            const Node* v = value_of(f);
            if (!v) continue;
            any = true;
            const bool req = std::string_view(f) == "requests";
            const std::string label = resource + (req ? " request " : " limit ") + "\"" +
                                      std::string(str(v)) + "\"";
            auto q = parse_quantity(str(v));
            if (!q) {
              out.push_back(container_violation(c, who(c) + ": " + label + " is not a valid quantity",
                                                v, path_of(f)));
              continue;
            }
            const Bound& lo = req ? request_min : limit_min;
            const Bound& hi = req ? request_max : limit_max;
            if (lo.value && *q < *lo.value) {
              out.push_back(container_violation(
                  c, who(c) + ": " + label + " is below the minimum " + lo.text, v, path_of(f)));
            }
            if (hi.value && *q > *hi.value) {
              out.push_back(container_violation(
                  c, who(c) + ": " + label + " is above the maximum " + hi.text, v, path_of(f)));
            }
          }
          break;
        case ResourceMode::Equal: {
          any = true;
          const Node* req = value_of("requests");
          const Node* lim = value_of("limits");
          if (!lim) {
            out.push_back(container_violation(
                c, who(c) + " has no " + resource + " limit, so its request cannot equal it",
                nearest("limits"), path_of("limits")));
            break;
          }
          if (!req) break;  // the request defaults to the limit
          auto rq = parse_quantity(str(req));
          auto lq = parse_quantity(str(lim));
          if (!rq || !lq) {
            const Node* bad = rq ? lim : req;
            out.push_back(container_violation(c, who(c) + ": " + resource + " \"" +
                                                     std::string(str(bad)) +
                                                     "\" is not a valid quantity",
                                              bad, path_of(rq ? "limits" : "requests")));
          } else if (*rq != *lq) {
            out.push_back(container_violation(
                c, who(c) + ": " + resource + " request " + std::string(str(req)) +
                       " differs from its limit " + std::string(str(lim)),
                req, path_of("requests")));
          }
          break;
        }
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_resource_quantity(const Params& params, std::string& error) {
  auto check = std::make_unique<ResourceQuantityCheck>();
  check->resource = std::string(params.string("resource"));
  if (check->resource.empty()) {
    error = "resource is required (cpu, memory, ephemeral-storage, ...)";
    return nullptr;
  }
  std::string_view mode = params.string("mode");
  if (mode == "present") {
    check->mode = ResourceMode::Present;
    if (params.get("fields")) {
      check->fields = params.strings("fields");
      for (const std::string& f : check->fields) {
        if (f != "requests" && f != "limits") {
          error = "fields entries must be requests or limits";
          return nullptr;
        }
      }
      if (check->fields.empty()) {
        error = "fields must list requests and/or limits";
        return nullptr;
      }
    }
  } else if (mode == "bounds") {
    check->mode = ResourceMode::Bounds;
    bool any = false;
    for (auto [key, bound] : {std::pair{"requestMin", &check->request_min},
                              std::pair{"requestMax", &check->request_max},
                              std::pair{"limitMin", &check->limit_min},
                              std::pair{"limitMax", &check->limit_max}}) {
      const Node* n = params.get(key);
      if (!n || n->is_null()) continue;
      bound->text = std::string(str(n));
      bound->value = parse_quantity(bound->text);
      if (!bound->value) {
        error = std::string(key) + " must be a Kubernetes quantity such as 100m or 1Gi";
        return nullptr;
      }
      any = true;
    }
    if (!any) {
      error = "bounds mode needs at least one of requestMin, requestMax, limitMin, limitMax";
      return nullptr;
    }
  } else if (mode == "equal") {
    check->mode = ResourceMode::Equal;
  } else {
    error = "mode must be present, bounds or equal";
    return nullptr;
  }
  if (!container_kinds_param(params, check->kinds, error)) return nullptr;
  return check;
}

// ---------------------------------------------------------------- volume-claim-templates

class VolumeClaimTemplatesCheck final : public Check {
 public:
  bool storage = true;  // mode storage-request; else access-modes
  std::vector<std::string> access_modes;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* list = get(get(in.obj.root, "spec"), "volumeClaimTemplates");
    if (items(list).empty()) return Outcome::NotApplicable;
    const std::string base = join_path(in.obj.path_prefix, "spec.volumeClaimTemplates");
    for (std::size_t i = 0; i < items(list).size(); ++i) {
      const Node* t = items(list)[i];
      const std::string name(str(get(get(t, "metadata"), "name")));
      const std::string who = "volumeClaimTemplate \"" + name + "\"";
      const Node* spec = get(t, "spec");
      const std::string spec_path = join_path(index_path(base, i), "spec");
      if (storage) {
        const Node* s = get(get(get(spec, "resources"), "requests"), "storage");
        auto q = parse_quantity(str(s));
        if (!s || str(s).empty()) {
          out.push_back({who + " requests no storage size", spec ? spec : t,
                         join_path(spec_path, "resources.requests.storage"), {}});
        } else if (!q || q->nano <= 0) {
          out.push_back({who + " requests an invalid storage size \"" + std::string(str(s)) + "\"",
                         s,
                         join_path(spec_path, "resources.requests.storage"),
                         {}});
        }
      } else {
        const Node* modes = get(spec, "accessModes");
        if (items(modes).empty()) {
          out.push_back({who + " sets no accessModes", spec ? spec : t,
                         join_path(spec_path, "accessModes"), {}});
          continue;
        }
        for (std::size_t j = 0; j < items(modes).size(); ++j) {
          if (!contains(access_modes, str(items(modes)[j]))) {
            out.push_back({who + " uses access mode " + std::string(str(items(modes)[j])),
                           items(modes)[j],
                           index_path(join_path(spec_path, "accessModes"), j),
                           {}});
          }
        }
      }
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_volume_claim_templates(const Params& params, std::string& error) {
  auto check = std::make_unique<VolumeClaimTemplatesCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "storage-request") {
    check->storage = true;
  } else if (mode == "access-modes") {
    check->storage = false;
    check->access_modes = params.strings("allowedAccessModes");
    if (check->access_modes.empty()) {
      error = "allowedAccessModes is required for mode access-modes";
      return nullptr;
    }
  } else {
    error = "mode must be storage-request or access-modes";
    return nullptr;
  }
  return check;
}

// ---------------------------------------------------------------- probe-handlers

bool deep_equal(const Node* a, const Node* b) {
  if (!a || !b) return a == b;
  if (a->is_null() && b->is_null()) return true;
  if (a->type != b->type) return false;
  if (a->is_scalar()) return a->text() == b->text();
  if (a->is_seq()) {
    if (a->items().size() != b->items().size()) return false;
    for (std::size_t i = 0; i < a->items().size(); ++i)
      if (!deep_equal(a->items()[i], b->items()[i])) return false;
    return true;
  }
  if (a->entries().size() != b->entries().size()) return false;
  for (const MapEntry& e : a->entries())
    if (!deep_equal(e.value, b->get(e.key->text()))) return false;
  return true;
}

constexpr std::string_view kHandlers[] = {"exec", "httpGet", "tcpSocket", "grpc"};

class ProbeHandlersCheck final : public Check {
 public:
  bool identical = true;  // mode identical; else port
  std::vector<std::string> probes{"livenessProbe", "readinessProbe", "startupProbe"};
  std::vector<ContainerKind> kinds{kMainContainers.begin(), kMainContainers.end()};

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      if (!selected(kinds, c.kind)) continue;
      if (identical) {
        const Node* live = c.node->get("livenessProbe");
        const Node* ready = c.node->get("readinessProbe");
        if (!live || !ready || !live->is_map() || !ready->is_map()) continue;
        any = true;
        for (std::string_view h : kHandlers) {
          const Node* lh = live->get(h);
          if (lh && deep_equal(lh, ready->get(h))) {
            out.push_back(container_violation(
                c, who(c) + " uses the same " + std::string(h) +
                       " handler for its liveness and readiness probes",
                live, join_path(c.path, "livenessProbe")));
            break;
          }
        }
        continue;
      }
      std::vector<std::int64_t> numbers;
      std::vector<std::string_view> names;
      for (const Node* p : items(c.node->get("ports"))) {
        if (auto n = get(p, "containerPort"); n && n->as_int()) numbers.push_back(*n->as_int());
        if (auto n = str(get(p, "name")); !n.empty()) names.push_back(n);
      }
      for (const std::string& probe : probes) {
        const Node* pr = c.node->get(probe);
        for (std::string_view h : kHandlers) {
          const Node* port = get(get(pr, h), "port");
          auto v = int_or_string(port);
          if (!v) continue;
          any = true;
          const bool found = v->is_int ? contains(numbers, v->number)
                                       : std::find(names.begin(), names.end(), v->text) != names.end();
          if (!found) {
            out.push_back(container_violation(
                c,
                who(c) + " " + probe + " uses " + (v->is_int ? "port " : "port name \"") +
                    std::string(v->text) + (v->is_int ? "" : "\"") +
                    ", which the container does not declare in ports",
                port, join_path(join_path(join_path(c.path, probe), h), "port")));
          }
        }
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_probe_handlers(const Params& params, std::string& error) {
  auto check = std::make_unique<ProbeHandlersCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "identical") {
    check->identical = true;
  } else if (mode == "port") {
    check->identical = false;
    if (params.get("probes")) {
      check->probes = params.strings("probes");
      for (const std::string& p : check->probes) {
        if (p != "livenessProbe" && p != "readinessProbe" && p != "startupProbe") {
          error = "probes entries must be livenessProbe, readinessProbe or startupProbe";
          return nullptr;
        }
      }
    }
  } else {
    error = "mode must be identical or port";
    return nullptr;
  }
  if (!container_kinds_param(params, check->kinds, error)) return nullptr;
  return check;
}

// ---------------------------------------------------------------- job-ttl

class JobTtlCheck final : public Check {
 public:
  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (in.obj.kind != "Job") return Outcome::NotApplicable;
    // Jobs created by a CronJob are cleaned up by its history limits.
    if (!items(get(get(in.obj.root, "metadata"), "ownerReferences")).empty())
      return Outcome::NotApplicable;
    const Node* spec = get(in.obj.root, "spec");
    const Node* ttl = get(spec, "ttlSecondsAfterFinished");
    if (!ttl || ttl->is_null()) {
      out.push_back(
          {"Job sets no spec.ttlSecondsAfterFinished; finished Jobs and their pods are "
           "never garbage-collected",
           spec ? spec : in.obj.root,
           join_path(in.obj.path_prefix, "spec.ttlSecondsAfterFinished"),
           {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_job_ttl(const Params&, std::string&) {
  return std::make_unique<JobTtlCheck>();
}

// ---------------------------------------------------------------- restart-policy

class RestartPolicyCheck final : public Check {
 public:
  std::vector<std::string> job_policies{"OnFailure", "Never"};
  std::vector<std::string> controller_policies{"Always"};

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod || in.obj.kind == "Pod" || in.obj.kind == "PodTemplate")
      return Outcome::NotApplicable;
    const bool job = in.obj.kind == "Job" || in.obj.kind == "CronJob";
    const Node* rp = get(in.pod.spec, "restartPolicy");
    const bool set = rp && !rp->is_null();
    std::string_view value = set ? str(rp) : std::string_view("Always");
    const auto& allowed = job ? job_policies : controller_policies;
    if (!contains(allowed, value)) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : " or ") + a;
      out.push_back({std::string(in.obj.kind) + std::string(" pod restartPolicy is ") + std::string(value) +
                         (set ? "" : " (the default)") + "; it must be " + list,
                     set ? rp : in.pod.spec, join_path(in.pod.spec_path, "restartPolicy"), {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_restart_policy(const Params& params, std::string&) {
  auto check = std::make_unique<RestartPolicyCheck>();
  if (params.get("jobPolicies")) check->job_policies = params.strings("jobPolicies");
  if (params.get("controllerPolicies"))
    check->controller_policies = params.strings("controllerPolicies");
  return check;
}

}  // namespace

std::unique_ptr<Check> compile_image_registry_check(const Params& p, std::string& e) {
  return compile_image_registry(p, e);
}
std::unique_ptr<Check> compile_image_pull_policy_check(const Params& p, std::string& e) {
  return compile_image_pull_policy(p, e);
}
std::unique_ptr<Check> compile_known_component_check(const Params& p, std::string& e) {
  return compile_known_component(p, e);
}
std::unique_ptr<Check> compile_command_word_check(const Params& p, std::string& e) {
  return compile_command_word(p, e);
}
std::unique_ptr<Check> compile_port_exposed_check(const Params& p, std::string& e) {
  return compile_port_exposed(p, e);
}
std::unique_ptr<Check> compile_resource_quantity_check(const Params& p, std::string& e) {
  return compile_resource_quantity(p, e);
}
std::unique_ptr<Check> compile_volume_claim_templates_check(const Params& p, std::string& e) {
  return compile_volume_claim_templates(p, e);
}
std::unique_ptr<Check> compile_probe_handlers_check(const Params& p, std::string& e) {
  return compile_probe_handlers(p, e);
}
std::unique_ptr<Check> compile_job_ttl_check(const Params& p, std::string& e) {
  return compile_job_ttl(p, e);
}
std::unique_ptr<Check> compile_restart_policy_check(const Params& p, std::string& e) {
  return compile_restart_policy(p, e);
}

}  // namespace kg
