#include "engines/rbac/compact.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace kg::rbac {
namespace {

// One (scope, group, resource, names) or (scope, url) with its verbs.
struct Atom {
  std::string scope;
  bool url = false;
  std::string group;
  std::string resource;  // or the URL
  std::vector<std::string> names;
  std::set<std::string> verbs;
  std::set<std::string> via;
  bool assumed = true;  // stays true only while every grant of it is assumed
};

bool verbs_cover(const std::set<std::string>& owner, const std::set<std::string>& sub) {
  if (owner.count("*")) return true;
  return std::includes(owner.begin(), owner.end(), sub.begin(), sub.end());
}

bool resource_covers(const std::string& owner, const std::string& sub) {
  if (owner == "*" || owner == sub) return true;
  const auto slash = sub.find('/');
  return slash != std::string::npos && owner == "*/" + sub.substr(slash + 1);
}

bool url_covers(const std::string& owner, const std::string& sub) {
  if (owner == "*" || owner == sub) return true;
  if (owner.empty() || owner.back() != '*') return false;
  std::string_view prefix(owner);
  while (!prefix.empty() && prefix.back() == '*') prefix.remove_suffix(1);
  return sub.compare(0, prefix.size(), prefix) == 0;
}

bool names_cover(const std::vector<std::string>& owner, const std::vector<std::string>& sub) {
  if (owner.empty()) return true;
  if (sub.empty()) return false;
  return std::all_of(sub.begin(), sub.end(),
                     [&](const std::string& n) { return std::find(owner.begin(), owner.end(), n) != owner.end(); });
}

// `a` grants everything `b` does (and is not `b` itself).
bool atom_covers(const Atom& a, const Atom& b) {
  if (&a == &b || a.url != b.url) return false;
  if (!(a.scope.empty() || a.scope == b.scope)) return false;
  if (!verbs_cover(a.verbs, b.verbs)) return false;
  if (a.url) return url_covers(a.resource, b.resource);
  return (a.group == "*" || a.group == b.group) && resource_covers(a.resource, b.resource) &&
         names_cover(a.names, b.names);
}

}  // namespace

std::vector<CompactRule> compact_rules(const RbacIndex& index, const Identity& who,
                                       const std::optional<std::string>& ns) {
  // 1. Atoms, verbs merged per key.
  std::map<std::tuple<std::string, bool, std::string, std::string, std::vector<std::string>>, Atom> atoms;
  if (std::find(who.groups.begin(), who.groups.end(), kMastersGroup) != who.groups.end()) {
    Atom all{"", false, "*", "*", {}, {"*"}, {"system:masters (before RBAC)"}, false};
    Atom urls{"", true, "", "*", {}, {"*"}, {"system:masters (before RBAC)"}, false};
    atoms.emplace(std::make_tuple(all.scope, false, all.group, all.resource, all.names), all);
    atoms.emplace(std::make_tuple(urls.scope, true, urls.group, urls.resource, urls.names), urls);
  }
  for (const GrantRef& g : index.grants_of(who)) {
    if (g.role < 0) continue;
    const Binding& b = index.binding(g.binding);
    if (!b.cluster && ns && *ns != b.ns) continue;
    const Role& role = index.role(static_cast<std::size_t>(g.role));
    const std::string scope = b.cluster ? std::string() : b.ns;
    const std::string via = std::string(role.cluster ? "ClusterRole " : "Role ") + role.name;
    const bool assumed = b.origin.assumed || role.origin.assumed;
    for (const PolicyRule* rule : index.effective_rules(static_cast<std::size_t>(g.role))) {
      auto add = [&](bool url, const std::string& group, const std::string& resource,
                     const std::vector<std::string>& names) {
        auto key = std::make_tuple(scope, url, group, resource, names);
        auto [it, fresh] = atoms.try_emplace(key, Atom{scope, url, group, resource, names, {}, {}, true});
        it->second.verbs.insert(rule->verbs.begin(), rule->verbs.end());
        it->second.via.insert(via);
        it->second.assumed = it->second.assumed && assumed;
        (void)fresh;
      };
      // Non-resource URLs count only through a ClusterRoleBinding.
      if (b.cluster)
        for (const std::string& u : rule->non_resource_urls) add(true, "", u, {});
      for (const std::string& group : rule->api_groups)
        for (const std::string& res : rule->resources) add(false, group, res, rule->resource_names);
    }
  }
  std::vector<Atom> list;
  for (auto& [key, atom] : atoms) {
    if (atom.verbs.count("*")) atom.verbs = {"*"};
    list.push_back(std::move(atom));
  }
  // 2. Drop what another atom covers (an exact duplicate cannot occur: keys
  // differ). Only atoms of the same or the cluster scope, the same or `*`
  // group, and the same, `*` or `*/sub` resource can cover one: look those up.
  std::map<std::tuple<std::string_view, bool, std::string_view, std::string_view>, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < list.size(); ++i)
    by_key[{list[i].scope, list[i].url, list[i].group, list[i].resource}].push_back(i);
  std::vector<bool> dropped(list.size(), false);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Atom& a = list[i];
    std::vector<std::string> resources{a.resource, "*"};
    if (!a.url) {
      if (const auto slash = a.resource.find('/'); slash != std::string::npos)
        resources.push_back("*/" + a.resource.substr(slash + 1));
    }
    const std::vector<std::string_view> scopes = a.scope.empty() ? std::vector<std::string_view>{""}
                                                                 : std::vector<std::string_view>{a.scope, ""};
    const std::vector<std::string_view> groups = a.url ? std::vector<std::string_view>{""}
                                                       : std::vector<std::string_view>{a.group, "*"};
    for (const std::string_view scope : scopes) {
      for (const std::string_view group : groups) {
        for (const std::string& resource : resources) {
          auto it = by_key.find({scope, a.url, group, resource});
          if (it == by_key.end()) continue;
          for (const std::size_t j : it->second)
            if (!dropped[i] && i != j && !dropped[j] && atom_covers(list[j], a)) dropped[i] = true;
        }
      }
    }
    if (a.url && !dropped[i]) {
      // A URL prefix ("/api/*") covers longer URLs: few URL atoms, compare them all.
      for (std::size_t j = 0; j < list.size() && !dropped[i]; ++j)
        if (i != j && list[j].url && !dropped[j] && atom_covers(list[j], a)) dropped[i] = true;
    }
  }
  // 3. Fold resources (then groups) that share everything else into one row.
  using RowKey = std::tuple<std::string, bool, std::string, std::vector<std::string>, std::set<std::string>>;
  std::map<RowKey, CompactRule> rows;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (dropped[i]) continue;
    const Atom& a = list[i];
    RowKey key{a.scope, a.url, a.group, a.names, a.verbs};
    auto [it, fresh] = rows.try_emplace(key);
    CompactRule& r = it->second;
    if (fresh) {
      r.scope = a.scope;
      r.rule.verbs.assign(a.verbs.begin(), a.verbs.end());
      if (!a.url) r.rule.api_groups = {a.group};
      r.rule.resource_names = a.names;
      r.assumed = true;
    }
    (a.url ? r.rule.non_resource_urls : r.rule.resources).push_back(a.resource);
    for (const std::string& v : a.via)
      if (std::find(r.via.begin(), r.via.end(), v) == r.via.end()) r.via.push_back(v);
    r.assumed = r.assumed && a.assumed;
  }
  std::map<std::tuple<std::string, std::vector<std::string>, std::vector<std::string>, std::vector<std::string>,
                      std::vector<std::string>>,
           CompactRule>
      folded;
  for (auto& [key, r] : rows) {
    std::sort(r.rule.resources.begin(), r.rule.resources.end());
    auto fk = std::make_tuple(r.scope, r.rule.resources, r.rule.non_resource_urls, r.rule.resource_names, r.rule.verbs);
    auto [it, fresh] = folded.try_emplace(fk, r);
    if (fresh) continue;
    CompactRule& into = it->second;
    into.rule.api_groups.insert(into.rule.api_groups.end(), r.rule.api_groups.begin(), r.rule.api_groups.end());
    for (const std::string& v : r.via)
      if (std::find(into.via.begin(), into.via.end(), v) == into.via.end()) into.via.push_back(v);
    into.assumed = into.assumed && r.assumed;
  }
  std::vector<CompactRule> out;
  for (auto& [key, r] : folded) {
    std::sort(r.via.begin(), r.via.end());
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const CompactRule& a, const CompactRule& b) {
    const bool au = !a.rule.non_resource_urls.empty(), bu = !b.rule.non_resource_urls.empty();
    return std::tie(a.scope, au, a.rule.api_groups, a.rule.resources) <
           std::tie(b.scope, bu, b.rule.api_groups, b.rule.resources);
  });
  return out;
}

}  // namespace kg::rbac
