#include "engines/audit/rules.hpp"

#include <algorithm>
#include <filesystem>

#include "catalog/catalog.hpp"
#include "config/config.hpp"
#include "core/glob.hpp"

namespace kg::audit {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

constexpr std::string_view kRuleKeys[] = {"id",     "title",  "severity", "rationale",   "remediation",
                                          "references", "tags", "enabled",  "zh",          "check",
                                          "params", "needs",  "aggregateBy", "category"};
constexpr std::string_view kNeedKeys[] = {"verbs",      "apiGroups", "resources", "subresources", "namespaces",
                                          "nonResourceURLs", "users", "level", "stages"};
constexpr std::string_view kStages[] = {"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"};
constexpr std::string_view kLevels[] = {"Metadata", "Request", "RequestResponse"};

struct Template_ {
  std::string_view name;
  Template t;
  std::string_view summary;
};
constexpr Template_ kTemplates[] = {
    {"audit-event", Template::Event, "an event matching verbs, resources, names, users, codes, URIs"},
    {"audit-pod", Template::Pod, "a Pod created with a risky spec (privileged, host namespaces, mounts, images)"},
    {"audit-request", Template::Request, "a request whose body is risky (NodePort, credentials, RBAC)"},
    {"audit-burst", Template::Burst, "at least `threshold` matching events from one user or source IP in `window`"},
    {"audit-baseline", Template::Baseline, "a matching request by an identity outside the learned baseline"},
};

class Loader {
 public:
  Loader(const std::string& path, std::string_view id, std::vector<InputError>& errors)
      : path_(path), id_(id), errors_(errors) {}
  bool ok = true;

  void bad(const Node* at, std::string_view field, const std::string& why) {
    errors_.push_back({path_, at ? at->line : 0, at ? at->column : 0,
                       "rule '" + (id_.empty() ? std::string("?") : std::string(id_)) + "': field '" +
                           std::string(field) + "': " + why});
    ok = false;
  }

  std::vector<std::string> list(const Node* n, std::string_view field) {
    std::vector<std::string> out;
    if (!n || n->is_null()) return out;
    if (n->is_scalar()) {
      out.emplace_back(n->text());
      return out;
    }
    if (!n->is_seq()) {
      bad(n, field, "must be a list of strings");
      return out;
    }
    for (const Node* item : n->items()) {
      if (!item->is_scalar()) bad(item, field, "entries must be strings");
      else out.emplace_back(item->text());
    }
    return out;
  }

  void one_of(const Node* at, std::string_view field, const std::vector<std::string>& values,
              std::span<const std::string_view> allowed) {
    for (const std::string& v : values) {
      if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        std::string known;
        for (std::string_view a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        bad(at, field, "'" + v + "' is not one of " + known);
      }
    }
  }

  std::vector<std::pair<int, int>> codes(const Node* n, std::string_view field) {
    std::vector<std::pair<int, int>> out;
    for (const std::string& c : list(n, field)) {
      if (c.size() == 3 && c[0] >= '1' && c[0] <= '5' && c[1] == 'x' && c[2] == 'x') {
        out.push_back({(c[0] - '0') * 100, (c[0] - '0') * 100 + 99});
        continue;
      }
      long long v = 0;
      bool digits = !c.empty() && c.size() <= 3;
      for (char ch : c) {
        if (ch < '0' || ch > '9') digits = false;
        else v = v * 10 + (ch - '0');
      }
      if (!digits || v < 100 || v > 599) bad(n, field, "'" + c + "' is not an HTTP code such as 403 or a class such as 2xx");
      else out.push_back({static_cast<int>(v), static_cast<int>(v)});
    }
    return out;
  }

  // Applies `params` (the rule's, then a config override's) to the rule.
  void params(AuditRule& r, const Node* p) {
    if (!p || p->is_null()) return;
    if (!p->is_map()) {
      bad(p, "params", "must be a mapping");
      return;
    }
    for (const MapEntry& e : p->entries()) {
      const std::string k(e.key->text());
      const std::string f = "params." + k;
      const Node* v = e.value;
      if (k == "verbs") r.verbs = list(v, f);
      else if (k == "apiGroups") {
        r.api_groups = list(v, f);
        r.api_groups_set = true;
      } else if (k == "resources") r.resources = list(v, f);
      else if (k == "subresources") {
        r.subresources = list(v, f);
        r.subresources_set = true;
      } else if (k == "namespaces") r.namespaces = list(v, f);
      else if (k == "notNamespaces") r.not_namespaces = list(v, f);
      else if (k == "names") r.names = list(v, f);
      else if (k == "notNames") r.not_names = list(v, f);
      else if (k == "users") r.users = list(v, f);
      else if (k == "notUsers") r.not_users = list(v, f);
      else if (k == "groups") r.groups = list(v, f);
      else if (k == "notGroups") r.not_groups = list(v, f);
      else if (k == "codes") r.codes = codes(v, f);
      else if (k == "notCodes") r.not_codes = codes(v, f);
      else if (k == "decision") {
        r.decision = std::string(str(v));
        if (r.decision != "allow" && r.decision != "forbid") bad(v, f, "must be allow or forbid");
      } else if (k == "uris") r.uris = list(v, f);
      else if (k == "notUris") r.not_uris = list(v, f);
      else if (k == "nonResource") {
        if (!v->as_bool()) bad(v, f, "must be true or false");
        else r.non_resource = *v->as_bool();
      } else if (k == "stages") {
        r.stages = list(v, f);
        one_of(v, f, r.stages, kStages);
      } else if (k == "images" && (r.tmpl == Template::Pod)) r.images = list(v, f);
      else if (k == "paths" && r.tmpl == Template::Pod) r.paths = list(v, f);
      else if (k == "words" && r.tmpl == Template::Request) r.words = list(v, f);
      else if (k == "roles" && r.tmpl == Template::Request) r.role_names = list(v, f);
      else if (k == "condition" && r.tmpl == Template::Pod) {
        const std::string_view c = str(v);
        constexpr std::pair<std::string_view, PodCondition> kc[] = {
            {"privileged", PodCondition::Privileged},       {"hostNetwork", PodCondition::HostNetwork},
            {"hostPID", PodCondition::HostPID},             {"hostIPC", PodCondition::HostIPC},
            {"sensitiveMount", PodCondition::SensitiveMount}, {"imageNotAllowed", PodCondition::ImageNotAllowed}};
        r.pod = PodCondition::None;
        for (const auto& [n, pc] : kc)
          if (c == n) r.pod = pc;
        if (r.pod == PodCondition::None)
          bad(v, f, "must be privileged, hostNetwork, hostPID, hostIPC, sensitiveMount or imageNotAllowed");
      } else if (k == "condition" && r.tmpl == Template::Request) {
        const std::string_view c = str(v);
        constexpr std::pair<std::string_view, RequestCondition> kc[] = {
            {"nodePortService", RequestCondition::NodePortService},
            {"configMapCredentials", RequestCondition::ConfigMapCredentials},
            {"ingressNoTLS", RequestCondition::IngressNoTLS},
            {"roleWildcard", RequestCondition::RoleWildcard},
            {"roleWrite", RequestCondition::RoleWrite},
            {"rolePodExec", RequestCondition::RolePodExec},
            {"bindingClusterAdmin", RequestCondition::BindingClusterAdmin}};
        r.request = RequestCondition::None;
        for (const auto& [n, rc] : kc)
          if (c == n) r.request = rc;
        if (r.request == RequestCondition::None)
          bad(v, f,
              "must be nodePortService, configMapCredentials, ingressNoTLS, roleWildcard, roleWrite, rolePodExec or "
              "bindingClusterAdmin");
      } else if (k == "threshold" && r.tmpl == Template::Burst) {
        const auto n = v->as_int();
        if (!n || *n < 1 || *n > 1'000'000'000) bad(v, f, "must be a whole number from 1");
        else r.threshold = static_cast<std::uint64_t>(*n);
      } else if (k == "window" && r.tmpl == Template::Burst) {
        const auto n = v->as_int();
        if (!n || *n < 1 || *n > 86400 * 30) bad(v, f, "must be a number of seconds from 1");
        else r.window_us = *n * 1'000'000;
      } else if (k == "by" && r.tmpl == Template::Burst) {
        const std::string_view b = str(v);
        if (b != "user" && b != "sourceIP") bad(v, f, "must be user or sourceIP");
        r.by_source_ip = b == "sourceIP";
      } else if (k == "perNamespace" && r.tmpl == Template::Baseline) {
        if (!v->as_bool()) bad(v, f, "must be true or false");
        else r.per_namespace = *v->as_bool();
      } else {
        bad(e.key, f, "unknown parameter for template " + r.check);
      }
    }
  }

 private:
  const std::string& path_;
  std::string_view id_;
  std::vector<InputError>& errors_;
};

void compile_patterns(AuditRule& r) {
  r.p_namespaces = PatternSet::of(r.namespaces);
  r.p_not_namespaces = PatternSet::of(r.not_namespaces);
  r.p_names = PatternSet::of(r.names);
  r.p_not_names = PatternSet::of(r.not_names);
  r.p_users = PatternSet::of(r.users);
  r.p_not_users = PatternSet::of(r.not_users);
  r.p_groups = PatternSet::of(r.groups);
  r.p_not_groups = PatternSet::of(r.not_groups);
  r.p_uris = PatternSet::of(r.uris);
  r.p_not_uris = PatternSet::of(r.not_uris);
}

void derive_needs(AuditRule& r) {
  Need n;
  n.verbs = r.verbs;
  n.api_groups = r.api_groups;
  n.resources = r.resources;
  if (r.subresources_set) {
    for (const std::string& s : r.subresources)
      if (s != "*") n.subresources.push_back(s);
  } else if (!r.resources.empty()) {
    n.subresources = {""};
  }
  for (const std::string& ns : r.namespaces)
    if (ns.find_first_of("*?") == std::string::npos) n.namespaces.push_back(ns);
  if (r.non_resource == true) n.non_resource_urls = r.uris.empty() ? std::vector<std::string>{"*"} : r.uris;
  for (const std::string& u : r.users)
    if (u.find_first_of("*?") == std::string::npos) n.users.push_back(u);
  if (n.users.size() != r.users.size()) n.users.clear();
  n.level = r.needs_body() ? "Request" : "Metadata";
  n.stages = r.stages;
  r.needs.push_back(std::move(n));
}

}  // namespace

std::string_view template_name(Template t) {
  for (const Template_& x : kTemplates)
    if (x.t == t) return x.name;
  return "?";
}

const AuditRule* RuleSet::find(std::string_view id) const {
  for (const auto& r : rules)
    if (r->id == id) return r.get();
  return nullptr;
}

bool add_rule(RuleSet& set, const std::string& path, std::string_view content, std::vector<InputError>& errors) {
  SourceFile src;
  src.path = path;
  src.content = std::string(content);
  load_documents(src);
  if (!src.errors.empty()) {
    for (auto& e : src.errors) errors.push_back(e);
    return false;
  }
  if (src.documents.size() != 1 || !src.documents[0].root->is_map()) {
    errors.push_back({path, 1, 1, "rule file must hold exactly one mapping"});
    return false;
  }
  const Node* root = src.documents[0].root;
  auto rule = std::make_unique<AuditRule>();
  rule->source = path;
  const std::string id(str(root->get("id")));
  Loader l(path, id, errors);
  for (const MapEntry& e : root->entries()) {
    const std::string_view k = e.key->text();
    if (std::find(std::begin(kRuleKeys), std::end(kRuleKeys), k) == std::end(kRuleKeys))
      l.bad(e.key, k, "unknown field");
  }
  const bool kebab = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!kebab || !starts_with(id, "audit-")) l.bad(root->get("id"), "id", "missing, not kebab-case or not starting with audit-");
  else if (set.find(id)) l.bad(root->get("id"), "id", "duplicate rule id");
  rule->id = id;
  auto text = [&](std::string_view f) {
    const Node* n = root->get(f);
    if (!n || !n->is_scalar() || n->text().empty()) {
      l.bad(n, f, "required and must be a non-empty string");
      return std::string();
    }
    return std::string(n->text());
  };
  rule->title = text("title");
  rule->rationale = text("rationale");
  rule->remediation = text("remediation");
  rule->check = text("check");
  if (const std::string sev = text("severity"); !sev.empty()) {
    if (auto s = parse_severity(sev)) rule->severity = *s;
    else l.bad(root->get("severity"), "severity", "must be one of low, medium, high, critical");
  }
  if (const Node* zh = root->get("zh")) {
    if (!zh->is_map()) {
      l.bad(zh, "zh", "must be a mapping with title, rationale, remediation");
    } else {
      for (const MapEntry& e : zh->entries()) {
        const std::string_view k = e.key->text();
        if (k != "title" && k != "rationale" && k != "remediation") l.bad(e.key, "zh." + std::string(k), "unknown field");
      }
      rule->zh.title = std::string(str(zh->get("title")));
      rule->zh.rationale = std::string(str(zh->get("rationale")));
      rule->zh.remediation = std::string(str(zh->get("remediation")));
    }
  }
  if (const Node* en = root->get("enabled")) {
    if (!en->as_bool()) l.bad(en, "enabled", "must be true or false");
    else rule->enabled = *en->as_bool();
  }
  rule->references = l.list(root->get("references"), "references");
  rule->tags = l.list(root->get("tags"), "tags");
  if (std::find(rule->tags.begin(), rule->tags.end(), "audit") == rule->tags.end()) rule->tags.insert(rule->tags.begin(), "audit");
  bool known = false;
  for (const Template_& t : kTemplates) {
    if (t.name == rule->check) {
      rule->tmpl = t.t;
      known = true;
    }
  }
  if (!known && !rule->check.empty()) {
    std::string names;
    for (const Template_& t : kTemplates) names += (names.empty() ? "" : ", ") + std::string(t.name);
    l.bad(root->get("check"), "check", "unknown audit template '" + rule->check + "' (one of " + names + ")");
  }
  if (known) l.params(*rule, root->get("params"));
  if (rule->tmpl == Template::Pod && rule->pod == PodCondition::None)
    l.bad(root->get("params"), "params.condition", "audit-pod needs a condition");
  if (rule->tmpl == Template::Request && rule->request == RequestCondition::None)
    l.bad(root->get("params"), "params.condition", "audit-request needs a condition");
  if (rule->tmpl == Template::Burst && (rule->threshold == 0 || rule->window_us == 0))
    l.bad(root->get("params"), "params", "audit-burst needs threshold and window");
  if (rule->pod == PodCondition::SensitiveMount && rule->paths.empty())
    l.bad(root->get("params"), "params.paths", "sensitiveMount needs the host paths");
  if (rule->request == RequestCondition::ConfigMapCredentials && rule->words.empty())
    l.bad(root->get("params"), "params.words", "configMapCredentials needs the words");
  if (rule->request == RequestCondition::BindingClusterAdmin && rule->role_names.empty())
    rule->role_names = {"cluster-admin"};
  if (const Node* agg = root->get("aggregateBy")) {
    constexpr std::pair<std::string_view, unsigned> kAgg[] = {
        {"user", kAggUser}, {"verb", kAggVerb},         {"resource", kAggResource}, {"namespace", kAggNamespace},
        {"name", kAggName}, {"sourceIP", kAggSourceIP}, {"auditID", kAggAuditID}};
    rule->aggregate = 0;
    for (const std::string& a : l.list(agg, "aggregateBy")) {
      bool found = false;
      for (const auto& [n, bit] : kAgg) {
        if (a == n) {
          rule->aggregate |= bit;
          found = true;
        }
      }
      if (!found) l.bad(agg, "aggregateBy", "'" + a + "' is not one of user, verb, resource, namespace, name, sourceIP, auditID");
    }
  }
  if (const Node* needs = root->get("needs")) {
    if (!needs->is_seq()) {
      l.bad(needs, "needs", "must be a list of {verbs, apiGroups, resources, subresources, namespaces, nonResourceURLs, level, stages}");
    } else {
      std::size_t i = 0;
      for (const Node* item : needs->items()) {
        const std::string f = "needs[" + std::to_string(i++) + "]";
        if (!item->is_map()) {
          l.bad(item, f, "must be a mapping");
          continue;
        }
        for (const MapEntry& e : item->entries()) {
          const std::string_view k = e.key->text();
          if (std::find(std::begin(kNeedKeys), std::end(kNeedKeys), k) == std::end(kNeedKeys))
            l.bad(e.key, f + "." + std::string(k), "unknown field");
        }
        Need n;
        n.verbs = l.list(item->get("verbs"), f + ".verbs");
        n.api_groups = l.list(item->get("apiGroups"), f + ".apiGroups");
        n.resources = l.list(item->get("resources"), f + ".resources");
        n.subresources = l.list(item->get("subresources"), f + ".subresources");
        n.namespaces = l.list(item->get("namespaces"), f + ".namespaces");
        n.non_resource_urls = l.list(item->get("nonResourceURLs"), f + ".nonResourceURLs");
        n.users = l.list(item->get("users"), f + ".users");
        if (const Node* lv = item->get("level")) {
          n.level = std::string(str(lv));
          l.one_of(lv, f + ".level", {n.level}, kLevels);
        }
        n.stages = l.list(item->get("stages"), f + ".stages");
        l.one_of(item->get("stages"), f + ".stages", n.stages, kStages);
        rule->needs.push_back(std::move(n));
      }
    }
  }
  if (!l.ok) return false;
  if (rule->needs.empty()) derive_needs(*rule);
  if (rule->stages.empty()) rule->stages = {"ResponseComplete"};
  compile_patterns(*rule);
  set.rules.push_back(std::move(rule));
  return true;
}

void add_rules(RuleSet& set, std::span<const CatalogFile> files, std::vector<InputError>& errors) {
  for (const CatalogFile& f : files) {
    const std::string_view p = f.path;
    if (starts_with(p, "audit/") && p.size() > 9 && p.substr(p.size() - 9) == "rule.yaml")
      add_rule(set, std::string(p), f.content, errors);
  }
}

void add_rules_dir(RuleSet& set, const std::string& dir, std::vector<InputError>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back({dir, 0, 0, "rules directory does not exist"});
    return;
  }
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec))
    if (it->is_regular_file() && it->path().filename() == "rule.yaml") paths.push_back(it->path().string());
  if (paths.empty()) errors.push_back({dir, 0, 0, "no rule.yaml under this directory"});
  std::sort(paths.begin(), paths.end());
  for (const std::string& p : paths) {
    std::string text;
    if (!read_file(p, text)) {
      errors.push_back({p, 0, 0, "cannot read rule file"});
      continue;
    }
    add_rule(set, p, text, errors);
  }
}

RuleSet builtin_rules(std::vector<InputError>& errors) {
  RuleSet set;
  add_rules(set, embedded_catalog_files(), errors);
  return set;
}

bool apply_override(AuditRule& rule, const RuleOverride& o, std::vector<InputError>& errors) {
  const std::size_t before = errors.size();
  if (o.enabled) rule.enabled = *o.enabled;
  if (o.severity) rule.severity = *o.severity;
  if (o.params) {
    Loader l(o.file, rule.id, errors);
    l.params(rule, o.params);
    rule.needs.clear();
    derive_needs(rule);
    if (rule.stages.empty()) rule.stages = {"ResponseComplete"};
    compile_patterns(rule);
  }
  return errors.size() == before;
}

namespace {

bool in(const std::vector<std::string>& set, std::string_view v) {
  for (const std::string& s : set)
    if ((s.size() == 1 && s[0] == '*') || s == v) return true;
  return false;
}

bool code_in(const std::vector<std::pair<int, int>>& ranges, int code) {
  for (const auto& [lo, hi] : ranges)
    if (code >= lo && code <= hi) return true;
  return false;
}

std::string_view uri_path(std::string_view uri) {
  const auto q = uri.find('?');
  return q == std::string_view::npos ? uri : uri.substr(0, q);
}

// Most patterns are names or prefixes ("system:*"): those without a wildcard elsewhere are
// compared directly, the rest go to glob_match.
bool pattern_match(std::string_view p, std::string_view text) {
  const std::size_t w = p.find_first_of("*?");
  if (w == std::string_view::npos) return p == text;
  if (w + 1 == p.size() && p[w] == '*') return text.substr(0, w) == p.substr(0, w);
  return glob_match(p, text);
}

bool any_glob_sv(const std::vector<std::string>& patterns, std::string_view text) {
  for (const std::string& p : patterns)
    if (pattern_match(p, text)) return true;
  return false;
}

}  // namespace

PatternSet PatternSet::of(const std::vector<std::string>& patterns) {
  PatternSet p;
  for (const std::string& s : patterns) {
    const std::size_t w = s.find_first_of("*?");
    if (w == std::string::npos) p.exact.push_back(s);
    else if (w + 1 == s.size() && s[w] == '*') p.prefix.push_back(s.substr(0, w));
    else p.glob.push_back(s);
  }
  return p;
}

bool PatternSet::match(std::string_view text) const {
  for (const std::string& e : exact)
    if (e == text) return true;
  for (const std::string& pre : prefix)
    if (text.substr(0, pre.size()) == pre) return true;
  for (const std::string& g : glob)
    if (glob_match(g, text)) return true;
  return false;
}

bool matches_event(const AuditRule& r, const AuditEvent& ev) {
  if (!ev.stage.empty() && !in(r.stages, ev.stage)) return false;
  if (!r.verbs.empty() && !in(r.verbs, ev.verb)) return false;
  if (r.non_resource) {
    if (*r.non_resource == ev.has_object_ref) return false;
  }
  if (!r.resources.empty() && !in(r.resources, ev.object.resource)) return false;
  if (r.api_groups_set && !in(r.api_groups, ev.object.api_group)) return false;
  if (r.subresources_set) {
    if (!in(r.subresources, ev.object.subresource)) return false;
  } else if (!r.resources.empty() && !ev.object.subresource.empty()) {
    return false;  // a rule on a resource means the resource itself
  }
  if (!r.codes.empty() && !code_in(r.codes, ev.code)) return false;
  if (!r.not_codes.empty() && code_in(r.not_codes, ev.code)) return false;
  if (!r.decision.empty() && ev.decision != r.decision) return false;
  if (!r.p_namespaces.empty() && !r.p_namespaces.match(ev.object.ns)) return false;
  if (r.p_not_namespaces.match(ev.object.ns)) return false;
  if (!r.p_names.empty() && !r.p_names.match(ev.object.name)) return false;
  if (r.p_not_names.match(ev.object.name)) return false;
  if (!r.p_users.empty() && !r.p_users.match(ev.username)) return false;
  if (r.p_not_users.match(ev.username)) return false;
  if (!r.p_groups.empty()) {
    bool any = false;
    for (std::string_view g : ev.groups) any = any || r.p_groups.match(g);
    if (!any) return false;
  }
  if (!r.p_not_groups.empty())
    for (std::string_view g : ev.groups)
      if (r.p_not_groups.match(g)) return false;
  if (!r.p_uris.empty() && !r.p_uris.match(uri_path(ev.request_uri))) return false;
  if (!r.p_not_uris.empty() && r.p_not_uris.match(uri_path(ev.request_uri))) return false;
  return true;
}

namespace {

// "registry.k8s.io/kube-proxy" of "registry.k8s.io/kube-proxy:v1.30@sha256:…".
std::string_view repository(std::string_view image) {
  if (const auto at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) image = image.substr(0, colon);
  return image;
}

struct Container {
  std::string_view name, image;
  const Node* node;
};

std::vector<Container> containers(const Node* spec) {
  std::vector<Container> out;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"})
    for (const Node* c : items(get(spec, list)))
      if (c->is_map()) out.push_back({str(c->get("name")), str(c->get("image")), c});
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Every container's repository is in `images` (Falco's `in` on a list field).
bool all_images_in(const std::vector<Container>& cs, const std::vector<std::string>& images) {
  if (images.empty() || cs.empty()) return false;
  for (const Container& c : cs)
    if (!any_glob_sv(images, repository(c.image))) return false;
  return true;
}

std::string trim_slash(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return std::string(p);
}

}  // namespace

std::string body_condition(const AuditRule& r, const Node* obj) {
  if (!obj || !obj->is_map()) {
    // Without a body (logged at Metadata) only "no TLS" cannot be judged either: nothing holds.
    return {};
  }
  if (r.tmpl == Template::Pod) {
    const Node* spec = obj->get("spec");
    const std::vector<Container> cs = containers(spec);
    switch (r.pod) {
      case PodCondition::Privileged: {
        std::string who;
        for (const Container& c : cs)
          if (is_true(get(c.node->get("securityContext"), "privileged")))
            who += (who.empty() ? "" : ", ") + std::string(c.name);
        if (who.empty() || all_images_in(cs, r.images)) return {};
        return "privileged container " + who;
      }
      case PodCondition::HostNetwork:
      case PodCondition::HostPID:
      case PodCondition::HostIPC: {
        const char* field = r.pod == PodCondition::HostNetwork ? "hostNetwork" : r.pod == PodCondition::HostPID ? "hostPID" : "hostIPC";
        if (!is_true(get(spec, field)) || all_images_in(cs, r.images)) return {};
        return std::string(field) + ": true";
      }
      case PodCondition::SensitiveMount: {
        std::string hit;
        for (const Node* v : items(get(spec, "volumes"))) {
          const std::string p = trim_slash(str(get(get(v, "hostPath"), "path")));
          if (p.empty()) continue;
          for (const std::string& s : r.paths)
            if (trim_slash(s) == p) hit += (hit.empty() ? "" : ", ") + p;
        }
        if (hit.empty() || all_images_in(cs, r.images)) return {};
        return "hostPath volume " + hit;
      }
      case PodCondition::ImageNotAllowed: {
        std::string bad;
        for (const Container& c : cs)
          if (!any_glob_sv(r.images, repository(c.image))) bad += (bad.empty() ? "" : ", ") + std::string(c.image);
        if (bad.empty()) return {};
        return "image " + bad + " not in the allowed list";
      }
      case PodCondition::None:
        return {};
    }
    return {};
  }
  if (r.tmpl != Template::Request) return {};
  switch (r.request) {
    case RequestCondition::NodePortService:
      if (str(get(obj->get("spec"), "type")) == "NodePort") return "type: NodePort";
      return {};
    case RequestCondition::ConfigMapCredentials: {
      for (const char* part : {"data", "binaryData"}) {
        for (const MapEntry& e : entries(obj->get(part))) {
          const std::string text = lower(e.key->text()) + "=" + lower(str(e.value));
          for (const std::string& w : r.words)
            if (text.find(lower(w)) != std::string::npos) return "key " + std::string(e.key->text()) + " holds '" + w + "'";
        }
      }
      return {};
    }
    case RequestCondition::IngressNoTLS: {
      const Node* tls = get(obj->get("spec"), "tls");
      if (tls && tls->is_seq() && !tls->items().empty()) return {};
      return "no spec.tls";
    }
    case RequestCondition::RoleWildcard:
    case RequestCondition::RoleWrite:
    case RequestCondition::RolePodExec: {
      for (const Node* rule : items(obj->get("rules"))) {
        for (const Node* v : items(rule->get("verbs"))) {
          const std::string_view verb = str(v);
          if (r.request == RequestCondition::RoleWildcard && verb == "*") return "verbs: [\"*\"]";
          if (r.request == RequestCondition::RoleWrite &&
              (verb == "create" || verb == "update" || verb == "patch" || verb == "delete" ||
               verb == "deletecollection" || verb == "*"))
            return "verb " + std::string(verb);
        }
        for (const Node* res : items(rule->get("resources"))) {
          const std::string_view s = str(res);
          if (r.request == RequestCondition::RoleWildcard && s == "*") return "resources: [\"*\"]";
          if (r.request == RequestCondition::RolePodExec && (s == "pods/exec" || s == "pods/*"))
            return "resource " + std::string(s);
        }
      }
      return {};
    }
    case RequestCondition::BindingClusterAdmin: {
      const Node* ref = obj->get("roleRef");
      const std::string_view name = str(get(ref, "name"));
      if (!name.empty() && in(r.role_names, name) && str(get(ref, "kind")) != "Role") {
        std::string subjects;
        for (const Node* s : items(obj->get("subjects")))
          subjects += (subjects.empty() ? "" : ", ") + std::string(str(s->get("kind"))) + " " +
                      (str(s->get("namespace")).empty() ? "" : std::string(str(s->get("namespace"))) + "/") +
                      std::string(str(s->get("name")));
        return "roleRef " + std::string(name) + (subjects.empty() ? "" : " for " + subjects);
      }
      return {};
    }
    case RequestCondition::None:
      return {};
  }
  return {};
}

}  // namespace kg::audit
