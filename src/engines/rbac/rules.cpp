#include "engines/rbac/rules.hpp"

#include <algorithm>
#include <unordered_set>

namespace kg::rbac {
namespace {

bool has(const std::vector<std::string>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool has_all(const std::vector<std::string>& set, const std::vector<std::string>& wanted) {
  const std::unordered_set<std::string_view> owning(set.begin(), set.end());
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) { return owning.count(w) > 0; });
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Go's strings.TrimRight(s, "*"): every trailing star goes.
std::string_view trim_stars(std::string_view s) {
  while (!s.empty() && s.back() == '*') s.remove_suffix(1);
  return s;
}

// policy_comparator.go resourceCoversAll.
bool resource_covers_all(const std::vector<std::string>& set, const std::vector<std::string>& wanted) {
  if (has(set, "*") || has_all(set, wanted)) return true;
  for (const std::string& path : wanted) {
    if (has(set, path)) continue;
    const auto slash = path.find('/');
    if (slash == std::string::npos) return false;
    if (!has(set, "*/" + path.substr(slash + 1))) return false;
  }
  return true;
}

bool non_resource_url_covers(std::string_view owner, std::string_view sub) {
  if (owner == sub) return true;
  return ends_with(owner, "*") && starts_with(sub, trim_stars(owner));
}

bool non_resource_urls_cover_all(const std::vector<std::string>& set, const std::vector<std::string>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& path) {
    return std::any_of(set.begin(), set.end(),
                       [&](const std::string& owner) { return non_resource_url_covers(owner, path); });
  });
}

// policy_comparator.go ruleCovers: `sub` has at most one verb, resource and name.
bool rule_covers(const PolicyRule& owner, const PolicyRule& sub) {
  const bool verbs = has(owner.verbs, "*") || has_all(owner.verbs, sub.verbs);
  const bool groups = has(owner.api_groups, "*") || has_all(owner.api_groups, sub.api_groups);
  const bool resources = resource_covers_all(owner.resources, sub.resources);
  const bool urls = non_resource_urls_cover_all(owner.non_resource_urls, sub.non_resource_urls);
  const bool names = sub.resource_names.empty()
                         ? owner.resource_names.empty()
                         : owner.resource_names.empty() || has_all(owner.resource_names, sub.resource_names);
  return verbs && groups && resources && names && urls;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ',';
    out += s.empty() ? "\"\"" : s;
  }
  return out;
}

}  // namespace

bool verb_matches(const PolicyRule& rule, std::string_view verb) {
  return std::any_of(rule.verbs.begin(), rule.verbs.end(),
                     [&](const std::string& v) { return v == "*" || v == verb; });
}

bool api_group_matches(const PolicyRule& rule, std::string_view group) {
  return std::any_of(rule.api_groups.begin(), rule.api_groups.end(),
                     [&](const std::string& g) { return g == "*" || g == group; });
}

bool resource_matches(const PolicyRule& rule, std::string_view combined, std::string_view subresource) {
  for (const std::string& r : rule.resources) {
    if (r == "*" || r == combined) return true;
    if (subresource.empty()) continue;
    // "*/sub": exactly two characters longer than the subresource asked for.
    if (r.size() == subresource.size() + 2 && starts_with(r, "*/") && ends_with(r, subresource)) return true;
  }
  return false;
}

bool resource_name_matches(const PolicyRule& rule, std::string_view name) {
  return rule.resource_names.empty() || has(rule.resource_names, name);
}

bool non_resource_url_matches(const PolicyRule& rule, std::string_view path) {
  for (const std::string& u : rule.non_resource_urls) {
    if (u == "*" || u == path) return true;
    if (ends_with(u, "*") && starts_with(path, trim_stars(u))) return true;
  }
  return false;
}

bool rule_allows(const Request& request, const PolicyRule& rule) {
  if (request.resource_request) {
    return verb_matches(rule, request.verb) && api_group_matches(rule, request.api_group) &&
           resource_matches(rule, request.combined_resource(), request.subresource) &&
           resource_name_matches(rule, request.name);
  }
  return verb_matches(rule, request.verb) && non_resource_url_matches(rule, request.path);
}

std::vector<PolicyRule> breakdown_rule(const PolicyRule& rule) {
  std::vector<PolicyRule> out;
  for (const std::string& group : rule.api_groups) {
    for (const std::string& resource : rule.resources) {
      for (const std::string& verb : rule.verbs) {
        if (!rule.resource_names.empty()) {
          for (const std::string& name : rule.resource_names)
            out.push_back({{verb}, {group}, {resource}, {name}, {}});
        } else {
          out.push_back({{verb}, {group}, {resource}, {}, {}});
        }
      }
    }
  }
  for (const std::string& url : rule.non_resource_urls)
    for (const std::string& verb : rule.verbs) out.push_back({{verb}, {}, {}, {}, {url}});
  return out;
}

bool covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& servant,
            std::vector<PolicyRule>* uncovered) {
  bool all = true;
  for (const PolicyRule& s : servant) {
    for (PolicyRule& sub : breakdown_rule(s)) {
      const bool covered =
          std::any_of(owner.begin(), owner.end(), [&](const PolicyRule& o) { return rule_covers(o, sub); });
      if (covered) continue;
      all = false;
      if (!uncovered) return false;
      uncovered->push_back(std::move(sub));
    }
  }
  return all;
}

std::string describe_rule(const PolicyRule& rule) {
  std::string out = join(rule.verbs);
  if (!rule.non_resource_urls.empty()) return out + " " + join(rule.non_resource_urls);
  out += " " + join(rule.resources);
  out += " (apiGroups: " + join(rule.api_groups) + ")";
  if (!rule.resource_names.empty()) out += " names: " + join(rule.resource_names);
  return out;
}

}  // namespace kg::rbac
