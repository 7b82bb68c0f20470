#include "engines/audit/policy/coverage.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "catalog/catalog.hpp"

namespace kg::audit {

namespace ap = audit_policy;

namespace {

void add_error(std::vector<InputError>& errors, const SourceFile& file, const Node* at, std::string message) {
  errors.push_back({file.path, at ? at->line : 0, at ? at->column : 0, std::move(message)});
}

bool strings(const SourceFile& file, const Node* n, std::string_view key, std::vector<std::string>& out,
             std::vector<InputError>& errors) {
  if (!n || n->is_null()) return true;
  if (n->is_scalar()) {
    out.emplace_back(n->text());
    return true;
  }
  if (!n->is_seq()) {
    add_error(errors, file, n, "needs: " + std::string(key) + " must be a list of strings");
    return false;
  }
  for (const Node* item : n->items()) {
    if (!item->is_scalar()) {
      add_error(errors, file, item, "needs: " + std::string(key) + " must be a list of strings");
      return false;
    }
    out.emplace_back(item->text());
  }
  return true;
}

bool long_running(const ap::Request& r) {
  return r.verb == "watch" || r.subresource == "exec" || r.subresource == "attach" ||
         r.subresource == "portforward" || r.subresource == "proxy";
}

std::string describe(const ap::Sample& s) {
  const ap::Request& r = s.request;
  std::string d(r.verb);
  d += ' ';
  if (!r.resource_request) {
    d += r.path;
  } else {
    d += r.resource;
    if (!r.subresource.empty()) d += "/" + std::string(r.subresource);
    if (!r.group.empty()) d += "." + std::string(r.group);
    if (r.ns.empty()) {
      // cluster-scoped, or a list across namespaces: nothing to say
    } else if (r.ns != "kguard-any-namespace") {
      d += " in namespace \"" + std::string(r.ns) + "\"";
    }
    if (r.name != "kguard-any-name") d += " named \"" + std::string(r.name) + "\"";
  }
  d += " by " + s.identity;
  return d;
}

std::string rule_where(const ap::Policy& policy, int rule, std::string_view file) {
  if (rule < 0) return "no rule (the default level None)";
  const ap::PolicyRule& r = policy.rules[static_cast<std::size_t>(rule)];
  std::string s = "rules[" + std::to_string(r.index) + "]";
  if (r.node) s += " (" + std::string(file) + ":" + std::to_string(r.node->line) + ")";
  return s;
}

// The policy's rules that list `resource` under a group that does not serve it.
void wrong_group_hints(const ap::Policy& policy, const ap::RequestShape& shape, std::string_view file,
                       std::vector<std::string>& out) {
  for (const ap::PolicyRule& r : policy.rules)
    for (const ap::GroupResources& gr : r.resources) {
      if (gr.group == shape.group) continue;
      for (const std::string& item : gr.resources) {
        const std::string base = item.substr(0, item.find('/'));
        if (base != shape.resource || ap::find_builtin(gr.group, base)) continue;
        out.push_back("rules[" + std::to_string(r.index) + "] (" + std::string(file) + ":" +
                      std::to_string(gr.node ? gr.node->line : 0) + ") lists \"" + item + "\" under group " +
                      ap::group_phrase(gr.group) + ", which does not serve " + base + " (" +
                      ap::group_phrase(shape.group) + " does): that entry never matches");
      }
    }
}

}  // namespace

std::string_view to_string(Coverage c) {
  switch (c) {
    case Coverage::Covered: return "covered";
    case Coverage::Partial: return "partial";
    case Coverage::Blind: return "blind";
    case Coverage::Undeclared: return "undeclared";
  }
  return "?";
}

bool read_detection_rule(const SourceFile& file, const Node* root, DetectionRule& out,
                         std::vector<InputError>& errors) {
  if (!root || !root->is_map() || str(root->get("id")).empty()) return false;
  out = DetectionRule{};
  out.id = std::string(str(root->get("id")));
  out.title = std::string(str(root->get("title")));
  out.source = file.path;
  const Node* needs = root->get("needs");
  if (!needs || needs->is_null()) return true;
  out.has_needs = true;
  if (!needs->is_seq()) {
    add_error(errors, file, needs, "needs: must be a list of {verbs, apiGroups, resources, ...}");
    return true;
  }
  for (const Node* item : needs->items()) {
    if (!item->is_map()) {
      add_error(errors, file, item, "needs: each entry must be a mapping");
      continue;
    }
    Need n;
    n.line = item->line;
    bool ok = true;
    for (const MapEntry& e : item->entries()) {
      const std::string_view key = e.key->text();
      if (key == "verbs") ok &= strings(file, e.value, key, n.verbs, errors);
      else if (key == "apiGroups") ok &= strings(file, e.value, key, n.api_groups, errors);
      else if (key == "resources") ok &= strings(file, e.value, key, n.resources, errors);
      else if (key == "subresources") ok &= strings(file, e.value, key, n.subresources, errors);
      else if (key == "namespaces") ok &= strings(file, e.value, key, n.namespaces, errors);
      else if (key == "nonResourceURLs") ok &= strings(file, e.value, key, n.non_resource_urls, errors);
      else if (key == "users") ok &= strings(file, e.value, key, n.users, errors);
      else if (key == "userGroups") ok &= strings(file, e.value, key, n.user_groups, errors);
      else if (key == "level") {
        if (auto l = ap::parse_level(str(e.value))) {
          n.level = *l;
        } else {
          add_error(errors, file, e.value, "needs: level must be Metadata, Request or RequestResponse");
          ok = false;
        }
      } else if (key == "stages") {
        std::vector<std::string> names;
        ok &= strings(file, e.value, key, names, errors);
        for (const std::string& s : names) {
          if (auto st = ap::parse_stage(s)) {
            n.stages |= *st;
          } else {
            add_error(errors, file, e.value, "needs: unknown stage \"" + s + "\"");
            ok = false;
          }
        }
      } else {
        add_error(errors, file, e.key, "needs: unknown key \"" + std::string(key) + "\"");
        ok = false;
      }
    }
    if (ok) out.needs.push_back(std::move(n));
  }
  return true;
}

std::vector<DetectionRule> load_detection_rules_dir(const std::string& dir, std::vector<InputError>& errors) {
  std::vector<std::string> paths;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    errors.push_back({dir, 0, 0, "not a directory of detection rules"});
    return {};
  }
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename() == "rule.yaml") paths.push_back(it->path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<DetectionRule> rules;
  for (const std::string& p : paths) {
    SourceFile file;
    file.path = p;
    if (!read_file(p, file.content)) {
      errors.push_back({p, 0, 0, "cannot read"});
      continue;
    }
    load_documents(file);
    for (const InputError& e : file.errors) errors.push_back(e);
    for (const Document& d : file.documents) {
      DetectionRule r;
      if (read_detection_rule(file, d.root, r, errors)) rules.push_back(std::move(r));
    }
  }
  return rules;
}

std::vector<DetectionRule> load_builtin_detection_rules(std::vector<InputError>& errors) {
  std::vector<DetectionRule> rules;
  for (const CatalogFile& f : embedded_catalog_files()) {
    const std::string_view path = f.path;
    const bool audit = path.substr(0, 6) == "audit/" || path.find("/audit/") != std::string_view::npos;
    if (!audit || path.size() < 10 || path.substr(path.size() - 10) != "/rule.yaml") continue;
    SourceFile file;
    file.path = "rules/" + std::string(path);
    file.content = std::string(f.content);
    load_documents(file);
    for (const InputError& e : file.errors) errors.push_back(e);
    for (const Document& d : file.documents) {
      DetectionRule r;
      if (read_detection_rule(file, d.root, r, errors)) rules.push_back(std::move(r));
    }
  }
  return rules;
}

std::vector<ap::RequestShape> expand_need(const Need& need) {
  std::vector<ap::RequestShape> out;
  ap::RequestShape base;
  base.verbs = need.verbs;
  base.namespaces = need.namespaces;
  base.users = need.users;
  base.user_groups = need.user_groups;
  if (!need.non_resource_urls.empty()) {
    ap::RequestShape s = base;
    s.resource_request = false;
    s.paths = need.non_resource_urls;
    out.push_back(std::move(s));
  }
  if (need.resources.empty()) {
    if (need.non_resource_urls.empty()) {
      // Any request: one no rule names by resource, and one non-resource.
      ap::RequestShape r = base;
      r.group = need.api_groups.empty() ? std::string() : need.api_groups.front();
      r.resource = "kguard-any-resource";
      out.push_back(r);
      ap::RequestShape n = base;
      n.resource_request = false;
      n.namespaces.clear();
      out.push_back(std::move(n));
    }
    return out;
  }
  for (const std::string& resource : need.resources) {
    std::vector<std::string> groups = need.api_groups;
    if (groups.empty() || std::find(groups.begin(), groups.end(), "*") != groups.end()) {
      groups.clear();
      for (std::string_view g : ap::groups_serving(resource)) groups.emplace_back(g);
      if (groups.empty()) groups.emplace_back();
    }
    for (const std::string& group : groups) {
      std::vector<std::string> subs = need.subresources;
      if (subs.empty()) subs.emplace_back();
      if (std::find(subs.begin(), subs.end(), "*") != subs.end()) {
        subs = {""};
        if (const ap::BuiltinResource* b = ap::find_builtin(group, resource)) {
          std::string_view rest = b->subresources;
          while (!rest.empty()) {
            const std::size_t sp = rest.find(' ');
            subs.emplace_back(rest.substr(0, sp));
            if (sp == std::string_view::npos) break;
            rest.remove_prefix(sp + 1);
          }
        }
      }
      for (const std::string& sub : subs) {
        ap::RequestShape s = base;
        s.group = group;
        s.resource = resource;
        s.subresource = sub;
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

RuleCoverage judge(const ap::Policy& policy, const DetectionRule& rule, std::string_view policy_file) {
  RuleCoverage c;
  c.rule = &rule;
  if (!rule.has_needs || rule.needs.empty()) {
    c.coverage = Coverage::Undeclared;
    c.reasons.push_back("the rule declares no needs: (nothing to judge)");
    return c;
  }
  std::vector<std::string> blind, partial, hints;
  std::set<std::string> seen;
  for (const Need& need : rule.needs) {
    for (const ap::RequestShape& shape : expand_need(need)) {
      bool shape_blind = false;
      ap::explore(policy, shape, [&](const ap::Sample& s) {
        const ap::Decision& d = s.decision;
        std::string why;
        if (d.level < need.level) {
          why = "logged at " + std::string(ap::to_string(d.level)) + " by " + rule_where(policy, d.rule, policy_file) +
                "; needs " + std::string(ap::to_string(need.level));
        } else if (need.stages) {
          for (ap::Stages bit = 1; bit <= ap::Panic; bit = static_cast<ap::Stages>(bit << 1))
            if ((need.stages & bit) && !d.records(static_cast<ap::Stage>(bit))) {
              why = "stage " + std::string(ap::to_string(static_cast<ap::Stage>(bit))) + " omitted by " +
                    rule_where(policy, d.rule, policy_file) + "; the rule needs it";
              break;
            }
        } else {
          const bool recorded = d.records(ap::ResponseComplete) ||
                                (long_running(s.request) && d.records(ap::ResponseStarted));
          if (!recorded)
            why = std::string("stage ") + (long_running(s.request) ? "ResponseStarted and ResponseComplete" : "ResponseComplete") +
                  " omitted by " + rule_where(policy, d.rule, policy_file);
        }
        if (why.empty()) return;
        const std::string line = describe(s) + ": " + why;
        if (!seen.insert(line).second) return;
        (s.generic ? blind : partial).push_back(line);
        if (s.generic) shape_blind = true;
      });
      if (shape_blind && shape.resource_request) wrong_group_hints(policy, shape, policy_file, hints);
    }
  }
  if (!blind.empty()) {
    c.coverage = Coverage::Blind;
    c.reasons = std::move(blind);
    for (std::string& h : hints)
      if (std::find(c.reasons.begin(), c.reasons.end(), h) == c.reasons.end()) c.reasons.push_back(std::move(h));
  } else if (!partial.empty()) {
    c.coverage = Coverage::Partial;
    c.reasons = std::move(partial);
  }
  return c;
}

}  // namespace kg::audit
