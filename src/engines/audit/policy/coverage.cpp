#include "engines/audit/policy/coverage.hpp"

#include <algorithm>
#include <set>

namespace kg::audit {

namespace ap = audit_policy;

namespace {

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
  for (const ap::PolicyRule& r : policy.rules) {
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

std::vector<ap::RequestShape> expand_need(const Need& need) {
  std::vector<ap::RequestShape> out;
  ap::RequestShape base;
  base.verbs = need.verbs;
  base.namespaces = need.namespaces;
  base.users = need.users;
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
      // The groups Kubernetes serves the resource from, but not metrics.k8s.io's
      // read-only mirrors of pods and nodes, and for a subresource only the groups
      // whose resource has it.
      groups.clear();
      for (std::string_view g : ap::groups_serving(resource)) {
        if (g == "metrics.k8s.io") continue;
        const ap::BuiltinResource* b = ap::find_builtin(g, resource);
        const bool has_subs = std::all_of(need.subresources.begin(), need.subresources.end(), [&](const std::string& sub) {
          return sub.empty() || sub == "*" || b->has_subresource(sub);
        });
        if (has_subs) groups.emplace_back(g);
      }
      if (groups.empty()) {
        const auto all = ap::groups_serving(resource);
        groups.emplace_back(all.empty() ? std::string_view() : all.front());
      }
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

RuleCoverage judge(const ap::Policy& policy, const AuditRule& rule, std::string_view policy_file) {
  RuleCoverage c;
  c.rule = &rule;
  if (rule.needs.empty()) {
    c.coverage = Coverage::Undeclared;
    c.reasons.push_back("the rule declares no needs: (nothing to judge)");
    return c;
  }
  std::vector<std::string> blind, partial, hints;
  std::set<std::string> seen;
  for (const Need& need : rule.needs) {
    const ap::Level need_level = ap::parse_level(need.level).value_or(ap::Level::Metadata);
    ap::Stages need_stages = 0;
    for (const std::string& st : need.stages)
      if (auto bit = ap::parse_stage(st)) need_stages |= *bit;
    for (const ap::RequestShape& shape : expand_need(need)) {
      bool shape_blind = false;
      ap::explore(policy, shape, [&](const ap::Sample& s) {
        const ap::Decision& d = s.decision;
        std::string why;
        if (d.level < need_level) {
          why = "logged at " + std::string(ap::to_string(d.level)) + " by " + rule_where(policy, d.rule, policy_file) +
                "; needs " + std::string(ap::to_string(need_level));
        } else if (need_stages) {
          // The detection fires on any of its stages: blind only when every one is omitted.
          if ((need_stages & d.omit_stages) == need_stages) {
            why = std::string(need_stages & (need_stages - 1) ? "stages " : "stage ") + ap::stages_text(need_stages) +
                  " omitted by " + rule_where(policy, d.rule, policy_file) + "; the rule fires on " +
                  (need_stages & (need_stages - 1) ? "one of them" : "it");
          }
        } else {
          const bool recorded = d.records(ap::ResponseComplete) ||
                                (long_running(s.request) && d.records(ap::ResponseStarted));
          if (!recorded) {
            why = std::string("stage ") +
                  (long_running(s.request) ? "ResponseStarted and ResponseComplete" : "ResponseComplete") +
                  " omitted by " + rule_where(policy, d.rule, policy_file);
          }
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
    // A resource under a group that does not serve it explains the rest: it comes first.
    c.coverage = Coverage::Blind;
    for (std::string& h : hints)
      if (std::find(c.reasons.begin(), c.reasons.end(), h) == c.reasons.end()) c.reasons.push_back(std::move(h));
    for (std::string& b : blind) c.reasons.push_back(std::move(b));
  } else if (!partial.empty()) {
    c.coverage = Coverage::Partial;
    c.reasons = std::move(partial);
  }
  return c;
}

}  // namespace kg::audit
