// The `field` template: one condition on one field, evaluated per container,
// on the pod spec or on the object. Most simple rules are this template with
// parameters (kube-linter's model), so users can write them without C++.
#include <algorithm>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

enum class Scope { Container, Pod, Object };
enum class Expect { Present, Absent, True, NotTrue, False, In, NotIn };

struct Resolved {
  const Node* value = nullptr;    // the field, when present
  const Node* nearest = nullptr;  // deepest node that exists on the way
};

Resolved resolve(const Node* base, const std::vector<std::string>& segments) {
  Resolved r{nullptr, base};
  const Node* n = base;
  for (const std::string& seg : segments) {
    n = get(n, seg);
    if (!n || n->is_null()) return r;
    r.nearest = n;
  }
  r.value = n;
  return r;
}


class FieldCheck final : public Check {
 public:
  Scope scope = Scope::Container;
  Expect expect = Expect::Present;
  std::string field;
  std::vector<std::string> segments;
  std::vector<std::string> values;
  std::vector<ContainerKind> container_kinds{ContainerKind::Container};
  std::vector<std::string> skip_kinds;
  // For securityContext fields that the pod level can also set.
  bool pod_fallback = false;
  std::string message;

  bool ok(const Node* v) const {
    const bool has = v != nullptr;
    switch (expect) {
      case Expect::Present: return has;
      case Expect::Absent: return !has;
      case Expect::True: return is_true(v);
      case Expect::NotTrue: return !is_true(v);
      case Expect::False: return is_false(v);
      case Expect::In:
        return has && std::find(values.begin(), values.end(), str(v)) != values.end();
      case Expect::NotIn:
        return !has || std::find(values.begin(), values.end(), str(v)) == values.end();
    }
    return true;
  }

  std::string render(std::string_view who, const Node* v) const {
    std::string m = message;
    auto replace = [&](std::string_view key, std::string_view with) {
      for (auto pos = m.find(key); pos != std::string::npos; pos = m.find(key, pos + with.size()))
        m.replace(pos, key.size(), with);
    };
    replace("{who}", who);
    replace("{value}", v && v->is_scalar() ? v->text() : std::string_view("unset"));
    return m;
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (std::find(skip_kinds.begin(), skip_kinds.end(), in.obj.kind) != skip_kinds.end())
      return Outcome::NotApplicable;
    if (scope == Scope::Object) {
      Resolved r = resolve(in.obj.root, segments);
      if (!ok(r.value)) {
        out.push_back({render(in.obj.kind, r.value),
                       r.value ? r.value : r.nearest,
                       join_path(in.obj.path_prefix, field),
                       {}});
      }
      return out.empty() ? Outcome::Pass : Outcome::Fail;
    }
    if (!in.pod) return Outcome::NotApplicable;
    if (scope == Scope::Pod) {
      Resolved r = resolve(in.pod.spec, segments);
      if (!ok(r.value)) {
        out.push_back({render("pod", r.value),
                       r.value ? r.value : r.nearest,
                       join_path(in.pod.spec_path, field),
                       {}});
      }
      return out.empty() ? Outcome::Pass : Outcome::Fail;
    }
    bool any = false;
    for (const ContainerRef& c : in.containers) {
      if (std::find(container_kinds.begin(), container_kinds.end(), c.kind) == container_kinds.end())
        continue;
      any = true;
      Resolved r = resolve(c.node, segments);
      std::string path = join_path(c.path, field);
      if (!r.value && pod_fallback) {
        // securityContext.X falls back to the pod's securityContext.X.
        Resolved p = resolve(in.pod.spec, segments);
        if (p.value) {
          r = p;
          path = join_path(in.pod.spec_path, field);
        }
      }
      if (!ok(r.value)) {
        out.push_back({render(checks::describe(c), r.value), r.value ? r.value : r.nearest,
                       std::move(path), std::string(c.name)});
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

}  // namespace

std::unique_ptr<Check> compile_field_check(const Params& params, std::string& error) {
  auto check = std::make_unique<FieldCheck>();
  std::string_view scope = params.string("scope");
  if (scope == "container" || scope.empty()) {
    check->scope = Scope::Container;
  } else if (scope == "pod") {
    check->scope = Scope::Pod;
  } else if (scope == "object") {
    check->scope = Scope::Object;
  } else {
    error = "scope must be container, pod or object";
    return nullptr;
  }
  check->field = std::string(params.string("field"));
  if (check->field.empty()) {
    error = "field is required";
    return nullptr;
  }
  check->segments = split_field_path(check->field);
  static constexpr std::pair<std::string_view, Expect> kExpect[] = {
      {"present", Expect::Present}, {"absent", Expect::Absent}, {"true", Expect::True},
      {"notTrue", Expect::NotTrue}, {"false", Expect::False},   {"in", Expect::In},
      {"notIn", Expect::NotIn}};
  std::string_view expect = params.string("expect");
  auto it = std::find_if(std::begin(kExpect), std::end(kExpect),
                         [&](const auto& p) { return p.first == expect; });
  if (it == std::end(kExpect)) {
    error = "expect must be one of present, absent, true, notTrue, false, in, notIn";
    return nullptr;
  }
  check->expect = it->second;
  check->values = params.strings("values");
  if ((check->expect == Expect::In || check->expect == Expect::NotIn) && check->values.empty()) {
    error = "values is required for expect in/notIn";
    return nullptr;
  }
  if (!params.container_kinds(check->container_kinds, error)) return nullptr;
  check->skip_kinds = params.strings("skipKinds");
  check->pod_fallback = is_true(params.get("podFallback"));
  check->message = std::string(params.string("message"));
  if (check->message.empty()) check->message = "{who}: " + check->field + " is {value}";
  return check;
}

}  // namespace kg
