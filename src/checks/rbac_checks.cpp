// RBAC templates, evaluated on one object at a time:
//
//  * `rbac-rules`: a Role's or ClusterRole's own `rules` grant an access
//    (resource/verb pairs, matched as the Kubernetes RBAC authorizer matches
//    them: `*` verbs, `*/subresource`, apiGroups, resourceNames), or use
//    wildcards. A bare `*` resource is left to the wildcard rule unless
//    `matchWildcardResources: true`, so one `*/*/*` role yields one finding,
//    not one per dangerous resource.
//  * `rbac-binding`: a RoleBinding's or ClusterRoleBinding's own roleRef
//    and subjects (binding to cluster-admin, to system:anonymous, ...).
//
// What a binding grants through a role defined in another document, and
// aggregated ClusterRoles, need the whole input set and are not handled here.
#include <algorithm>

#include "checks/rbac_bootstrap.hpp"
#include "checks/registry.hpp"
#include "core/glob.hpp"

namespace kg {
namespace {

template <typename List>
bool contains(const List& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Views into the document: the hot path of every RBAC rule allocates nothing.
std::vector<std::string_view> scalar_views(const Node* n) {
  std::vector<std::string_view> out;
  if (n && n->is_scalar()) out.push_back(n->text());
  for (const Node* item : items(n))
    if (item->is_scalar()) out.push_back(item->text());
  return out;
}

std::vector<std::string> scalars(const Node* n) {
  std::vector<std::string> out;
  if (n && n->is_scalar()) out.emplace_back(n->text());
  for (const Node* item : items(n))
    if (item->is_scalar()) out.emplace_back(item->text());
  return out;
}

template <typename Strings>
std::string join(const Strings& v) {
  std::string s;
  for (std::string_view x : v) {
    if (!s.empty()) s += ", ";
    s += x;
  }
  return s;
}

// Exclusion shared by both templates: the API server's own bootstrap roles
// and bindings (exactly those, not every `system:` name: a user's
// "system:backdoor" role is judged like any other), plus the names and name
// prefixes a rule's params list.
struct Exclusions {
  std::vector<std::string> prefixes;
  std::vector<std::string> names;

  bool load(const Params& params, std::string& error) {
    if (params.get("excludeNamePrefixes")) prefixes = params.strings("excludeNamePrefixes");
    names = params.strings("excludeNames");
    if (params.get("excludeNamePrefixes") && !params.get("excludeNamePrefixes")->is_seq()) {
      error = "excludeNamePrefixes must be a list of name prefixes";
      return false;
    }
    return true;
  }
  bool excluded(const Object& obj) const {
    const std::string_view name = obj.name;
    if (checks::is_bootstrap_rbac(obj.kind, obj.ns, name)) return true;
    if (contains(names, name)) return true;
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
      return !p.empty() && name.substr(0, p.size()) == p;
    });
  }
};

// One resource the rule cares about, in kubectl's `resource[/sub][.group]`
// notation: "secrets", "pods/exec", "deployments.apps",
// "certificatesigningrequests/approval.certificates.k8s.io". A subresource
// of `*` ("userextras/*") stands for every subresource.
struct Target {
  std::string resource;     // "pods"
  std::string subresource;  // "exec", "*" or ""
  std::string group;        // "" for the core group
  std::string display;      // as written in the params
};

Target parse_target(std::string_view s) {
  Target t;
  t.display = std::string(s);
  std::string_view res = s;
  if (auto dot = s.find('.'); dot != std::string_view::npos) {
    res = s.substr(0, dot);
    t.group = std::string(s.substr(dot + 1));
  }
  if (auto slash = res.find('/'); slash != std::string_view::npos) {
    t.subresource = std::string(res.substr(slash + 1));
    res = res.substr(0, slash);
  }
  t.resource = std::string(res);
  return t;
}

// rbac/v1 ResourceMatches: `*`, an exact "resource/sub" match, or "*/sub".
bool resource_matches(std::string_view rule_resource, const Target& t, bool match_star) {
  if (rule_resource == "*") return match_star;
  if (t.subresource == "*") {
    // Any subresource of t.resource, or "*/x" (some subresource of everything).
    return (rule_resource.size() > t.resource.size() + 1 &&
            rule_resource.substr(0, t.resource.size()) == t.resource &&
            rule_resource[t.resource.size()] == '/') ||
           rule_resource.substr(0, 2) == "*/";
  }
  if (t.subresource.empty()) return rule_resource == t.resource;
  if (rule_resource == t.resource + "/" + t.subresource) return true;
  return rule_resource == "*/" + t.subresource;
}

struct Grant {
  std::vector<Target> targets;
  std::vector<std::string> verbs;
};

class RbacRulesCheck final : public Check {
 public:
  enum class Mode { Access, Wildcard } mode = Mode::Access;
  std::vector<Grant> grants;
  std::vector<std::string> resource_names;  // only rules that may touch these names
  std::vector<std::string> namespaces;      // Roles only count in these namespaces
  std::vector<std::string> wildcard_fields{"resources", "verbs"};
  bool match_wildcard_resources = false;
  std::string what;  // "read Secrets"
  Exclusions exclusions;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (exclusions.excluded(in.obj)) return Outcome::NotApplicable;
    const Node* rules = get(in.obj.root, "rules");
    if (items(rules).empty()) return Outcome::Pass;
    const std::string rules_path = join_path(in.obj.path_prefix, "rules");
    if (!namespaces.empty() && in.obj.kind == "Role" && !contains(namespaces, in.obj.ns))
      return Outcome::Pass;
    std::size_t i = 0;
    for (const Node* rule : items(rules)) {
      // Paths and labels are built only for the rare rule that is reported.
      const std::size_t index = i++;
      if (mode == Mode::Wildcard) {
        std::vector<std::string_view> fields;
        const Node* first = nullptr;
        std::string_view first_field;
        std::size_t first_index = 0;
        for (const std::string& field : wildcard_fields) {
          std::size_t j = 0;
          for (const Node* v : items(get(rule, field))) {
            if (str(v) == "*") {
              fields.push_back(field);
              if (!first) {
                first = v;
                first_field = field;
                first_index = j;
              }
              break;
            }
            ++j;
          }
        }
        if (first) {
          out.push_back(
              {std::string(in.obj.kind) + " " + index_path("rules", index) +
                   " uses the wildcard \"*\" in " + join(fields),
               first,
               index_path(join_path(index_path(rules_path, index), first_field), first_index),
               {}});
        }
        continue;
      }
      check_access(in, rule, index, rules_path, out);
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  // A PolicyRule's lists, parsed once per object and shared by the ~18 rules
  // that bind this template (cached in the evaluation context).
  struct ParsedRule {
    std::vector<std::string_view> groups, resources, verbs, names;
    bool any_group = false;  // apiGroups contains "*"
    bool any_verb = false;   // verbs contains "*"
  };
  struct ParsedRules {
    std::uint64_t object = 0;  // EvalContext::object() the rules were parsed for
    std::vector<ParsedRule> rules;
  };
  static const ParsedRule& parsed(const CheckInput& in, std::size_t index) {
    ParsedRules& cache = in.ctx.local<ParsedRules>();
    if (cache.object != in.ctx.object() || in.ctx.object() == 0) {
      cache.object = in.ctx.object();
      cache.rules.clear();
      for (const Node* r : items(get(in.obj.root, "rules"))) {
        ParsedRule p;
        p.groups = get(r, "apiGroups") ? scalar_views(get(r, "apiGroups"))
                                       : std::vector<std::string_view>{""};
        p.resources = scalar_views(get(r, "resources"));
        p.verbs = scalar_views(get(r, "verbs"));
        p.names = scalar_views(get(r, "resourceNames"));
        p.any_group = contains(p.groups, "*");
        p.any_verb = contains(p.verbs, "*");
        cache.rules.push_back(std::move(p));
      }
    }
    return cache.rules[index];
  }

  void check_access(const CheckInput& in, const Node* rule, std::size_t rule_index,
                    const std::string& rules_path, std::vector<Violation>& out) const {
    const ParsedRule& pr = parsed(in, rule_index);
    const std::vector<std::string_view>& groups = pr.groups;
    const std::vector<std::string_view>& resources = pr.resources;
    const std::vector<std::string_view>& verbs = pr.verbs;
    const std::vector<std::string_view>& names = pr.names;
    if (resources.empty() || verbs.empty()) return;  // nonResourceURLs rules
    if (!resource_names.empty() && !names.empty() &&
        std::none_of(names.begin(), names.end(),
                     [&](std::string_view n) { return contains(resource_names, n); }))
      return;
    auto granted = [&](const std::string& v) { return pr.any_verb || contains(verbs, v); };
    std::vector<std::string_view> hit_resources;
    std::vector<std::string_view> hit_verbs;
    for (const Grant& g : grants) {
      if (std::none_of(g.verbs.begin(), g.verbs.end(), granted)) continue;
      bool matched = false;
      for (const Target& t : g.targets) {
        if (!pr.any_group && !contains(groups, t.group)) continue;
        if (std::none_of(resources.begin(), resources.end(), [&](std::string_view r) {
              return resource_matches(r, t, match_wildcard_resources);
            }))
          continue;
        matched = true;
        if (!contains(hit_resources, t.display)) hit_resources.push_back(t.display);
      }
      if (!matched) continue;
      for (const std::string& v : g.verbs)
        if (granted(v) && !contains(hit_verbs, v)) hit_verbs.push_back(v);
    }
    if (hit_resources.empty()) return;
    std::string msg = std::string(in.obj.kind) + " " + index_path("rules", rule_index) + " grants " +
                      join(hit_verbs) + " on " + join(hit_resources);
    if (!names.empty()) msg += " (resourceNames: " + join(names) + ")";
    if (!what.empty()) msg += ": " + what;
    const Node* at = get(rule, "verbs") ? get(rule, "verbs") : rule;
    out.push_back({std::move(msg), at, join_path(index_path(rules_path, rule_index), "verbs"), {}});
  }
};

struct SubjectPattern {
  std::string kind;  // empty = any kind
  std::string name;  // glob
};

class RbacBindingCheck final : public Check {
 public:
  std::vector<std::string> roles;          // roleRef.name globs
  std::vector<std::string> roleref_kinds;  // empty = Role and ClusterRole
  std::vector<SubjectPattern> subjects;
  std::vector<std::string> allowed_roles;  // subjects bound to these roles are fine
  std::string what;
  Exclusions exclusions;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (exclusions.excluded(in.obj)) return Outcome::NotApplicable;
    const Node* ref = get(in.obj.root, "roleRef");
    const std::string_view ref_name = str(get(ref, "name"));
    const std::string_view ref_kind = str(get(ref, "kind"));
    const std::string ref_path = join_path(in.obj.path_prefix, "roleRef");
    if (any_glob(allowed_roles, ref_name)) return Outcome::Pass;
    if (!roles.empty()) {
      if (!any_glob(roles, ref_name)) return Outcome::Pass;
      if (!roleref_kinds.empty() && !contains(roleref_kinds, ref_kind)) return Outcome::Pass;
    }
    const std::string role =
        std::string(ref_kind.empty() ? "role" : ref_kind) + " \"" + std::string(ref_name) + "\"";
    if (subjects.empty()) {
      std::string msg = std::string(in.obj.kind) + " binds " + role;
      const std::size_t n = items(get(in.obj.root, "subjects")).size();
      if (n > 0) msg += " to " + std::to_string(n) + " subject" + (n == 1 ? "" : "s");
      if (!what.empty()) msg += ": " + what;
      out.push_back({std::move(msg),
                     get(ref, "name") ? get(ref, "name") : in.obj.root,
                     join_path(ref_path, "name"),
                     {}});
      return Outcome::Fail;
    }
    const std::string subjects_path = join_path(in.obj.path_prefix, "subjects");
    std::size_t i = 0;
    for (const Node* s : items(get(in.obj.root, "subjects"))) {
      const std::string spath = index_path(subjects_path, i++);
      const std::string_view kind = str(get(s, "kind"));
      const std::string_view name = str(get(s, "name"));
      const bool hit = std::any_of(subjects.begin(), subjects.end(), [&](const SubjectPattern& p) {
        return (p.kind.empty() || p.kind == kind) && glob_match(p.name, name);
      });
      if (!hit) continue;
      std::string who = std::string(kind) + " \"" + std::string(name) + "\"";
      if (const std::string_view ns = str(get(s, "namespace")); !ns.empty())
        who += " in namespace " + std::string(ns);
      std::string msg = std::string(in.obj.kind) + " binds " + role + " to " + who;
      if (!what.empty()) msg += ": " + what;
      out.push_back(
          {std::move(msg), get(s, "name") ? get(s, "name") : s, join_path(spath, "name"), {}});
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

}  // namespace

std::unique_ptr<Check> compile_rbac_rules_check(const Params& params, std::string& error) {
  auto check = std::make_unique<RbacRulesCheck>();
  if (!check->exclusions.load(params, error)) return nullptr;
  check->what = std::string(params.string("what"));
  check->resource_names = params.strings("resourceNames");
  check->namespaces = params.strings("namespaces");
  const std::string_view mode = params.string("mode");
  if (mode == "wildcard") {
    check->mode = RbacRulesCheck::Mode::Wildcard;
    if (params.get("fields")) check->wildcard_fields = params.strings("fields");
    for (const std::string& f : check->wildcard_fields) {
      if (f != "apiGroups" && f != "resources" && f != "verbs" && f != "nonResourceURLs") {
        error = "fields entries must be apiGroups, resources, verbs or nonResourceURLs";
        return nullptr;
      }
    }
    return check;
  }
  if (const Node* m = params.get("matchWildcardResources")) {
    if (!m->as_bool()) {
      error = "matchWildcardResources must be true or false";
      return nullptr;
    }
    check->match_wildcard_resources = *m->as_bool();
  }
  if (!mode.empty() && mode != "access") {
    error = "mode must be access or wildcard";
    return nullptr;
  }
  const Node* grants = params.get("grants");
  if (!grants || !grants->is_seq() || grants->items().empty()) {
    error = "grants must be a non-empty list of {resources, verbs}";
    return nullptr;
  }
  for (const Node* g : grants->items()) {
    Grant grant;
    for (const std::string& r : scalars(get(g, "resources"))) {
      if (r.empty() || r.front() == '.' || r.front() == '/') {
        error = "grants[].resources entries must be resource[/subresource][.group]";
        return nullptr;
      }
      grant.targets.push_back(parse_target(r));
    }
    grant.verbs = scalars(get(g, "verbs"));
    if (grant.targets.empty() || grant.verbs.empty()) {
      error = "each entry of grants needs resources and verbs";
      return nullptr;
    }
    check->grants.push_back(std::move(grant));
  }
  return check;
}

std::unique_ptr<Check> compile_rbac_binding_check(const Params& params, std::string& error) {
  auto check = std::make_unique<RbacBindingCheck>();
  if (!check->exclusions.load(params, error)) return nullptr;
  check->what = std::string(params.string("what"));
  check->roles = params.strings("roles");
  check->roleref_kinds = params.strings("roleRefKinds");
  for (const std::string& k : check->roleref_kinds) {
    if (k != "Role" && k != "ClusterRole") {
      error = "roleRefKinds entries must be Role or ClusterRole";
      return nullptr;
    }
  }
  check->allowed_roles = params.strings("allowedRoles");
  for (const Node* s : items(params.get("subjects"))) {
    SubjectPattern p{std::string(str(get(s, "kind"))), std::string(str(get(s, "name")))};
    if (p.name.empty()) {
      error = "subjects entries need a name (a glob; * matches any text)";
      return nullptr;
    }
    if (!p.kind.empty() && p.kind != "User" && p.kind != "Group" && p.kind != "ServiceAccount") {
      error = "subjects[].kind must be User, Group or ServiceAccount";
      return nullptr;
    }
    check->subjects.push_back(std::move(p));
  }
  if (check->roles.empty() && check->subjects.empty()) {
    error = "rbac-binding needs roles and/or subjects";
    return nullptr;
  }
  return check;
}

}  // namespace kg
