// The `audit-policy` check template: an audit.k8s.io Policy document judged
// with kube-apiserver's own semantics (checks/audit_policy.hpp): refused by
// the API server, request bodies of sensitive resources written to the log,
// requests detection needs logged too low or with their stage omitted, no
// catch-all rule, resources under a group that does not serve them, rules
// an earlier rule shadows.
#include <algorithm>
#include <map>
#include <set>

#include "checks/audit_policy.hpp"
#include "checks/registry.hpp"
#include "checks/workload_util.hpp"

namespace kg {

namespace {

namespace ap = audit_policy;

enum class Mode : std::uint8_t { Valid, MaxLevel, MinLevel, CatchAll, WrongGroup, Shadowed };

std::string rule_name(std::size_t index) { return "rules[" + std::to_string(index) + "]"; }

const Node* level_node(const ap::PolicyRule& r) {
  const Node* n = r.node ? r.node->get("level") : nullptr;
  return n ? n : r.node;
}

bool has_request_body(std::string_view verb) {
  return verb != "get" && verb != "list" && verb != "watch" && verb != "delete" && verb != "deletecollection";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (const std::string& x : v) {
    if (!s.empty()) s += sep;
    s += x;
  }
  return s;
}

// One request class of a min-level / max-level check.
struct Requests {
  std::vector<std::string> verbs;
  std::vector<ap::ResourceRef> resources;
  ap::Level level = ap::Level::Metadata;
  ap::Stages stages = 0;
};

class AuditPolicyCheck final : public Check {
 public:
  Mode mode = Mode::Valid;
  ap::Level level = ap::Level::Metadata;
  std::vector<Requests> requests;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    // Mode valid judges every audit.k8s.io Policy, an unknown version included.
    const bool audit_group = in.obj.kind == "Policy" && in.obj.api_version.substr(0, 13) == "audit.k8s.io/";
    if (!ap::is_policy(in.obj.api_version, in.obj.kind) && !(mode == Mode::Valid && audit_group))
      return Outcome::NotApplicable;
    ap::Policy policy;
    std::vector<ap::Problem> problems;
    const bool valid = ap::read_policy(in.obj.root, policy, problems);
    const std::string& prefix = in.obj.path_prefix;
    if (mode == Mode::Valid) {
      for (const ap::Problem& p : problems) {
        if (!p.error) continue;
        out.push_back({"kube-apiserver refuses this Policy: " + (p.field.empty() ? std::string("policy") : p.field) +
                           ": " + p.message,
                       p.at ? p.at : in.obj.root, join_path(prefix, p.field), {}});
      }
      return workload::outcome(true, out);
    }
    if (!valid) return Outcome::NotApplicable;  // audit-policy-invalid reports it
    switch (mode) {
      case Mode::MaxLevel: max_level(policy, prefix, out); break;
      case Mode::MinLevel: min_level(policy, in, out); break;
      case Mode::CatchAll: catch_all(policy, in, out); break;
      case Mode::WrongGroup: wrong_group(policy, prefix, out); break;
      case Mode::Shadowed: shadowed(policy, prefix, out); break;
      case Mode::Valid: break;
    }
    return workload::outcome(true, out);
  }

 private:
  static ap::RequestShape shape_of(const std::vector<std::string>& verbs, const ap::ResourceRef& r) {
    ap::RequestShape shape;
    shape.verbs = verbs;
    shape.group = r.group;
    shape.resource = r.resource;
    shape.subresource = r.subresource;
    return shape;
  }

  void max_level(const ap::Policy& policy, const std::string& prefix, std::vector<Violation>& out) const {
    for (const Requests& req : requests) {
      for (const ap::ResourceRef& ref : req.resources) {
        // rule index -> (verbs, the highest level seen)
        std::map<int, std::pair<std::vector<std::string>, ap::Level>> over;
        ap::explore(policy, shape_of(req.verbs, ref), [&](const ap::Sample& s) {
          if (s.decision.level <= req.level) return;
          // Request adds the request's body, which reads and deletes do not have
          // (a DeleteOptions at most); RequestResponse adds the response's, which all have.
          if (s.decision.level == ap::Level::Request && req.level == ap::Level::Metadata && !has_request_body(s.request.verb))
            return;
          auto& [verbs, lvl] = over[s.decision.rule];
          if (std::find(verbs.begin(), verbs.end(), s.request.verb) == verbs.end())
            verbs.emplace_back(s.request.verb);
          lvl = std::max(lvl, s.decision.level);
        });
        for (const auto& [rule, what] : over) {
          const ap::PolicyRule& r = policy.rules[static_cast<std::size_t>(rule)];
          out.push_back({rule_name(r.index) + " logs " + join(what.first, ", ") + " of " + ref.text() + " at " +
                             std::string(ap::to_string(what.second)) + ", above " +
                             std::string(ap::to_string(req.level)) + ": their bodies reach the audit log",
                         level_node(r), join_path(prefix, rule_name(r.index) + ".level"), {}});
        }
      }
    }
  }

  void min_level(const ap::Policy& policy, const CheckInput& in, std::vector<Violation>& out) const {
    const std::string& prefix = in.obj.path_prefix;
    for (const Requests& req : requests) {
      // One finding per deciding rule and reason, over every resource of the entry.
      struct Gap {
        std::vector<std::pair<std::string, std::vector<std::string>>> verbs_of;  // resource -> verbs
        std::vector<std::string> who;
        ap::Level level = ap::Level::None;
      };
      std::map<std::pair<int, std::string>, Gap> gaps;
      for (const ap::ResourceRef& ref : req.resources) {
        const std::string resource = ref.text();
        ap::explore(policy, shape_of(req.verbs, ref), [&](const ap::Sample& s) {
          std::string reason;
          if (s.decision.level < req.level) {
            reason = "level";
          } else {
            for (ap::Stages bit = 1; bit <= ap::Panic; bit = static_cast<ap::Stages>(bit << 1)) {
              if ((req.stages & bit) && (s.decision.omit_stages & bit)) {
                reason = std::string(ap::to_string(static_cast<ap::Stage>(bit)));
                break;
              }
            }
          }
          if (reason.empty()) return;
          Gap& g = gaps[{s.decision.rule, reason}];
          auto it = std::find_if(g.verbs_of.begin(), g.verbs_of.end(), [&](const auto& p) { return p.first == resource; });
          if (it == g.verbs_of.end()) it = g.verbs_of.insert(g.verbs_of.end(), {resource, {}});
          if (std::find(it->second.begin(), it->second.end(), s.request.verb) == it->second.end())
            it->second.emplace_back(s.request.verb);
          const std::string who = s.generic ? "any authenticated user" : s.identity;
          if (std::find(g.who.begin(), g.who.end(), who) == g.who.end()) g.who.push_back(who);
          g.level = s.decision.level;
        });
      }
      for (const auto& [key, g] : gaps) {
        const auto& [rule, reason] = key;
        std::string what;
        for (const auto& [resource, verbs] : g.verbs_of)
          what += (what.empty() ? "" : ", ") + resource + " (" + join(verbs, ", ") + ")";
        std::string who = g.who.front();
        if (g.who.size() > 1) who += ", " + g.who[1];
        if (g.who.size() > 2) who += " and " + std::to_string(g.who.size() - 2) + " more";
        const std::string min(ap::to_string(req.level));
        const ap::PolicyRule* r = rule >= 0 ? &policy.rules[static_cast<std::size_t>(rule)] : nullptr;
        if (!r) {
          const Node* rules = in.obj.root->get("rules");
          out.push_back({what + " by " + who + ": not logged, no rule matches them (the default level is None); "
                                               "detection needs " + min + " or more",
                         rules ? rules : in.obj.root, join_path(prefix, "rules"), {}});
        } else if (reason == "level") {
          out.push_back({what + " by " + who + ": logged at " + std::string(ap::to_string(g.level)) + " by " +
                             rule_name(r->index) + ", detection needs " + min + " or more",
                         level_node(*r), join_path(prefix, rule_name(r->index) + ".level"), {}});
        } else {
          const bool own = (r->own_omit_stages & *ap::parse_stage(reason)) != 0;
          const Node* at = own ? r->node->get("omitStages") : policy.node->get("omitStages");
          out.push_back({what + " by " + who + ": matched by " + rule_name(r->index) + ", which omits stage " +
                             reason + " that detection needs",
                         at ? at : in.obj.root,
                         join_path(prefix, own ? rule_name(r->index) + ".omitStages" : std::string("omitStages")), {}});
        }
      }
    }
  }

  void catch_all(const ap::Policy& policy, const CheckInput& in, std::vector<Violation>& out) const {
    for (const ap::PolicyRule& r : policy.rules) {
      if (!r.selects_everything()) continue;
      if (r.level < level) {
        out.push_back({"the catch-all " + rule_name(r.index) + " logs at " + std::string(ap::to_string(r.level)) +
                           ": requests no earlier rule names are not logged (at least " +
                           std::string(ap::to_string(level)) + " is needed)",
                       level_node(r), join_path(in.obj.path_prefix, rule_name(r.index) + ".level"), {}});
      }
      return;
    }
    const Node* rules = in.obj.root->get("rules");
    out.push_back({"no catch-all rule: requests no rule names are not logged (the default level is None)",
                   rules ? rules : in.obj.root, join_path(in.obj.path_prefix, "rules"), {}});
  }

  static void wrong_group(const ap::Policy& policy, const std::string& prefix, std::vector<Violation>& out) {
    for (const ap::PolicyRule& r : policy.rules) {
      for (std::size_t g = 0; g < r.resources.size(); ++g) {
        const ap::GroupResources& gr = r.resources[g];
        if (!ap::is_builtin_group(gr.group)) continue;  // a CRD's group, or one Kubernetes no longer serves
        for (std::size_t i = 0; i < gr.resources.size(); ++i) {
          const std::string& item = gr.resources[i];
          const std::size_t slash = item.find('/');
          const std::string base = item.substr(0, slash);
          const std::string sub = slash == std::string::npos ? std::string() : item.substr(slash + 1);
          if (base == "*") continue;
          const std::string path = join_path(prefix, rule_name(r.index) + ".resources[" + std::to_string(g) +
                                                          "].resources[" + std::to_string(i) + "]");
          const Node* at = gr.resource_nodes[i];
          const ap::BuiltinResource* b = ap::find_builtin(gr.group, base);
          if (!b) {
            const std::vector<std::string_view> others = ap::groups_serving(base);
            if (others.empty()) {
              out.push_back({"\"" + item + "\" is not a resource of group " + ap::group_phrase(gr.group) +
                                 ": this entry never matches",
                             at, path, {}});
            } else {
              std::string served;
              for (std::string_view o : others) served += (served.empty() ? "" : " and ") + ap::group_phrase(o);
              out.push_back({"\"" + item + "\" is listed under group " + ap::group_phrase(gr.group) +
                                 ", which does not serve " + base + " (" + served + " does): this entry never matches",
                             at, path, {}});
            }
          } else if (!sub.empty() && sub != "*" && !b->has_subresource(sub)) {
            out.push_back({"\"" + item + "\": " + base + " in group " + ap::group_phrase(gr.group) +
                               " has no subresource \"" + sub + "\" (" +
                               (b->subresources.empty() ? std::string("it has none") : std::string(b->subresources)) +
                               "): this entry never matches",
                           at, path, {}});
          }
        }
      }
    }
  }

  static bool subset(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
    // `outer` empty means any; `inner` empty means any, which only an empty outer covers.
    if (outer.empty()) return true;
    if (inner.empty()) return false;
    return std::all_of(inner.begin(), inner.end(), [&](const std::string& s) {
      return std::find(outer.begin(), outer.end(), s) != outer.end();
    });
  }

  static bool item_covers(std::string_view a, std::string_view b) {
    if (a == "*" || a == b) return true;
    const std::size_t slash = b.find('/');
    const std::string_view base = b.substr(0, slash);
    const std::string_view sub = slash == std::string_view::npos ? std::string_view() : b.substr(slash + 1);
    if (a.size() > 2 && a.substr(a.size() - 2) == "/*" && a.substr(0, a.size() - 2) == base && base != "*")
      return true;  // "pods/*" covers pods and each pods/x
    if (!sub.empty() && sub != "*" && a.size() > 2 && a.substr(0, 2) == "*/" && a.substr(2) == sub) return true;
    return false;
  }

  static bool url_covers(std::string_view a, std::string_view b) {
    if (a == "*" || a == b) return true;
    if (!a.empty() && a.back() == '*') {
      std::string_view prefix = a;
      while (!prefix.empty() && prefix.back() == '*') prefix.remove_suffix(1);
      return b.substr(0, prefix.size()) == prefix;
    }
    return false;
  }

  // Every request B matches, A matches too.
  static bool covers(const ap::PolicyRule& a, const ap::PolicyRule& b) {
    if (!subset(b.users, a.users) || !subset(b.user_groups, a.user_groups) || !subset(b.verbs, a.verbs))
      return false;
    const bool a_res = !a.namespaces.empty() || !a.resources.empty();
    const bool b_res = !b.namespaces.empty() || !b.resources.empty();
    if (a_res) {
      if (!b_res) return false;
      if (!subset(b.namespaces, a.namespaces)) return false;
      if (a.resources.empty()) return true;
      if (b.resources.empty()) return false;
      return std::all_of(b.resources.begin(), b.resources.end(), [&](const ap::GroupResources& bg) {
        return std::any_of(a.resources.begin(), a.resources.end(), [&](const ap::GroupResources& ag) {
          if (ag.group != bg.group) return false;
          if (ag.resources.empty()) return true;
          if (bg.resources.empty()) return false;
          if (!ag.resource_names.empty() && !subset(bg.resource_names, ag.resource_names)) return false;
          return std::all_of(bg.resources.begin(), bg.resources.end(), [&](const std::string& item) {
            return std::any_of(ag.resources.begin(), ag.resources.end(),
                               [&](const std::string& ai) { return item_covers(ai, item); });
          });
        });
      });
    }
    if (!a.non_resource_urls.empty()) {
      if (b_res || b.non_resource_urls.empty()) return false;
      return std::all_of(b.non_resource_urls.begin(), b.non_resource_urls.end(), [&](const std::string& u) {
        return std::any_of(a.non_resource_urls.begin(), a.non_resource_urls.end(),
                           [&](const std::string& au) { return url_covers(au, u); });
      });
    }
    return true;
  }

  static void shadowed(const ap::Policy& policy, const std::string& prefix, std::vector<Violation>& out) {
    for (std::size_t j = 1; j < policy.rules.size(); ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        if (!covers(policy.rules[i], policy.rules[j])) continue;
        const ap::PolicyRule& r = policy.rules[j];
        out.push_back({rule_name(j) + " never applies: the earlier " + rule_name(i) +
                           " matches every request it names (first match wins)",
                       r.node, join_path(prefix, rule_name(j)), {}});
        break;
      }
    }
  }
};

bool parse_requests(const Node* list, ap::Level default_level, ap::Stages default_stages,
                    std::vector<Requests>& out, std::string& error) {
  for (const Node* item : items(list)) {
    if (!item->is_map()) return error = "requests: each entry is {verbs, resources, level, stages}", false;
    Requests r;
    r.level = default_level;
    r.stages = default_stages;
    for (const MapEntry& e : item->entries()) {
      const std::string_view key = e.key->text();
      if (key == "verbs") {
        for (const Node* v : items(e.value)) r.verbs.emplace_back(v->text());
      } else if (key == "resources") {
        for (const Node* v : items(e.value)) {
          auto ref = ap::parse_resource_ref(v->text());
          if (!ref) return error = "requests: resource \"" + std::string(v->text()) + "\" is not resource[/sub][.group]", false;
          r.resources.push_back(std::move(*ref));
        }
      } else if (key == "level") {
        auto l = ap::parse_level(e.value->text());
        if (!l) return error = "requests: level must be None, Metadata, Request or RequestResponse", false;
        r.level = *l;
      } else if (key == "stages") {
        r.stages = 0;
        for (const Node* v : items(e.value)) {
          auto s = ap::parse_stage(v->text());
          if (!s) return error = "requests: unknown stage \"" + std::string(v->text()) + "\"", false;
          r.stages |= *s;
        }
      } else {
        return error = "requests: unknown key \"" + std::string(key) + "\" (verbs, resources, level, stages)", false;
      }
    }
    if (r.resources.empty()) return error = "requests: each entry needs resources", false;
    out.push_back(std::move(r));
  }
  return true;
}

}  // namespace

std::unique_ptr<Check> compile_audit_policy_check(const Params& params, std::string& error) {
  auto check = std::make_unique<AuditPolicyCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "valid") check->mode = Mode::Valid;
  else if (mode == "max-level") check->mode = Mode::MaxLevel;
  else if (mode == "min-level") check->mode = Mode::MinLevel;
  else if (mode == "catch-all") check->mode = Mode::CatchAll;
  else if (mode == "wrong-group") check->mode = Mode::WrongGroup;
  else if (mode == "shadowed") check->mode = Mode::Shadowed;
  else return error = "mode: unknown mode", nullptr;
  if (params.get("level")) {
    auto l = ap::parse_level(params.string("level"));
    if (!l) return error = "level: must be None, Metadata, Request or RequestResponse", nullptr;
    check->level = *l;
  }
  ap::Stages stages = 0;
  for (const std::string& s : params.strings("stages")) {
    auto st = ap::parse_stage(s);
    if (!st) return error = "stages: unknown stage \"" + s + "\"", nullptr;
    stages |= *st;
  }
  if (!parse_requests(params.get("requests"), check->level, stages, check->requests, error)) return nullptr;
  if ((check->mode == Mode::MaxLevel || check->mode == Mode::MinLevel) && check->requests.empty())
    return error = "requests: required for modes max-level and min-level", nullptr;
  return check;
}

}  // namespace kg
