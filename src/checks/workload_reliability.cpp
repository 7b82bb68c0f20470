// Workload check templates for reliability and availability: replica counts,
// HPAs, PodDisruptionBudgets, spreading, update strategy, selectors and
// pod-spec hygiene. Each is generic and parameterised; rules bind them.
#include <charconv>
#include <set>

#include "checks/registry.hpp"
#include "checks/workload_util.hpp"

namespace kg {
namespace {

using namespace workload;

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool positive_int_param(const Params& params, std::string_view key, std::int64_t& out,
                        std::string& error) {
  const Node* n = params.get(key);
  if (!n) return true;
  auto v = n->as_int();
  if (!v || *v < 0) {
    error = std::string(key) + " must be a non-negative integer";
    return false;
  }
  out = *v;
  return true;
}

const Node* or_parent(const Node* n, const Node* parent) { return n ? n : parent; }

// ---------------------------------------------------------------- replicas

class ReplicasCheck final : public Check {
 public:
  bool hpa_range = false;  // mode hpa-min-equals-max; else min
  std::int64_t min = 2;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const Node* at = or_parent(spec, in.obj.root);
    if (in.obj.kind == "HorizontalPodAutoscaler") {
      const Node* min_node = get(spec, "minReplicas");
      std::int64_t lo = 1;
      if (min_node && !min_node->is_null()) {
        if (!min_node->as_int()) return Outcome::NotApplicable;
        lo = *min_node->as_int();
      }
      const std::string min_path = join_path(in.obj.path_prefix, "spec.minReplicas");
      if (hpa_range) {
        auto hi = get(spec, "maxReplicas") ? get(spec, "maxReplicas")->as_int() : std::nullopt;
        if (!hi) return Outcome::NotApplicable;
        if (lo == *hi) {
          out.push_back({"HorizontalPodAutoscaler minReplicas equals maxReplicas (" +
                             std::to_string(lo) + "), so it can never scale",
                         get(spec, "maxReplicas"),
                         join_path(in.obj.path_prefix, "spec.maxReplicas"),
                         {}});
        }
        return outcome(true, out);
      }
      if (lo < min) {
        out.push_back({"HorizontalPodAutoscaler minReplicas is " + std::to_string(lo) +
                           (min_node ? "" : " (the default)") + "; at least " +
                           std::to_string(min) + " keep the workload available",
                       or_parent(min_node, at),
                       min_path,
                       {}});
      }
      return outcome(true, out);
    }
    if (hpa_range || !has_replicas(in.obj.kind)) return Outcome::NotApplicable;
    auto n = replicas_of(in.obj);
    if (!n || *n == 0) return Outcome::NotApplicable;  // not an integer, or scaled to zero on purpose
    const Node* r = get(spec, "replicas");
    if (*n < min) {
      out.push_back({std::string(in.obj.kind) + std::string(" runs ") + std::to_string(*n) +
                         (*n == 1 ? " replica" : " replicas") +
                         (r ? "" : " (spec.replicas unset)") + "; at least " + std::to_string(min) +
                         " survive a node or pod failure",
                     or_parent(r, at),
                     join_path(in.obj.path_prefix, "spec.replicas"),
                     {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_replicas(const Params& params, std::string& error) {
  auto check = std::make_unique<ReplicasCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "min" || mode.empty()) {
    check->hpa_range = false;
  } else if (mode == "hpa-min-equals-max") {
    check->hpa_range = true;
  } else {
    error = "mode must be min or hpa-min-equals-max";
    return nullptr;
  }
  if (!positive_int_param(params, "min", check->min, error)) return nullptr;
  return check;
}

// ---------------------------------------------------------------- pdb

// An IntOrString as a count or a percentage; nullopt when malformed.
struct Budget {
  bool percent = false;
  std::int64_t value = 0;
};
std::optional<Budget> budget(const Node* n) {
  auto v = int_or_string(n);
  if (!v) return std::nullopt;
  Budget b;
  std::string_view t = v->text;
  if (!t.empty() && t.back() == '%') {
    b.percent = true;
    t.remove_suffix(1);
  }
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), b.value);
  if (ec != std::errc{} || p != t.data() + t.size()) return std::nullopt;
  return b;
}

class PdbCheck final : public Check {
 public:
  bool blocks = true;  // mode blocks-evictions; else policy

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (in.obj.kind != "PodDisruptionBudget") return Outcome::NotApplicable;
    const Node* spec = get(in.obj.root, "spec");
    const Node* min = get(spec, "minAvailable");
    const Node* max = get(spec, "maxUnavailable");
    if (min && min->is_null()) min = nullptr;
    if (max && max->is_null()) max = nullptr;
    const std::string base = join_path(in.obj.path_prefix, "spec");
    if (blocks) {
      if (auto b = budget(min); b && b->percent && b->value >= 100) {
        out.push_back({"PodDisruptionBudget minAvailable is " + std::string(str(min)) +
                           ": no pod can ever be evicted, so node drains hang",
                       min,
                       join_path(base, "minAvailable"),
                       {}});
      }
      if (auto b = budget(max); b && b->value == 0) {
        out.push_back({"PodDisruptionBudget maxUnavailable is " + std::string(str(max)) +
                           ": no pod can ever be evicted, so node drains hang",
                       max,
                       join_path(base, "maxUnavailable"),
                       {}});
      }
      return outcome(true, out);
    }
    if (!min && !max) {
      out.push_back({"PodDisruptionBudget sets neither minAvailable nor maxUnavailable",
                     or_parent(spec, in.obj.root), join_path(base, "maxUnavailable"), {}});
    } else if (min && max) {
      out.push_back(
          {"PodDisruptionBudget sets both minAvailable and maxUnavailable (the API "
           "accepts only one)",
           max,
           join_path(base, "maxUnavailable"),
           {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_pdb(const Params& params, std::string& error) {
  auto check = std::make_unique<PdbCheck>();
  std::string_view mode = params.string("mode");
  if (mode != "blocks-evictions" && mode != "policy") {
    error = "mode must be blocks-evictions or policy";
    return nullptr;
  }
  check->blocks = mode == "blocks-evictions";
  return check;
}

// ---------------------------------------------------------------- spread

enum class SpreadMode { AntiAffinity, TopologySpread, TopologySpreadValid };

class SpreadCheck final : public Check {
 public:
  SpreadMode mode = SpreadMode::AntiAffinity;
  std::int64_t min_replicas = 2;
  std::string topology_key = "kubernetes.io/hostname";
  bool accept_topology_spread = true;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const Node* spec = in.pod.spec;
    const Node* constraints = get(spec, "topologySpreadConstraints");
    const std::string tsc_path = join_path(in.pod.spec_path, "topologySpreadConstraints");
    if (mode == SpreadMode::TopologySpreadValid) {
      if (items(constraints).empty()) return Outcome::NotApplicable;
      for (std::size_t i = 0; i < items(constraints).size(); ++i) {
        const Node* c = items(constraints)[i];
        const std::string path = index_path(tsc_path, i);
        const Node* skew = get(c, "maxSkew");
        if (!skew || !skew->as_int() || *skew->as_int() <= 0) {
          out.push_back({"topologySpreadConstraints[" + std::to_string(i) +
                             "].maxSkew must be an integer greater than 0",
                         or_parent(skew, c),
                         join_path(path, "maxSkew"),
                         {}});
        }
        if (str(get(c, "topologyKey")).empty()) {
          out.push_back({"topologySpreadConstraints[" + std::to_string(i) + "] has no topologyKey",
                         c,
                         join_path(path, "topologyKey"),
                         {}});
        }
        std::string_view when = str(get(c, "whenUnsatisfiable"));
        if (when != "DoNotSchedule" && when != "ScheduleAnyway") {
          out.push_back({"topologySpreadConstraints[" + std::to_string(i) +
                             "].whenUnsatisfiable must be DoNotSchedule or ScheduleAnyway",
                         or_parent(get(c, "whenUnsatisfiable"), c),
                         join_path(path, "whenUnsatisfiable"),
                         {}});
        }
        // apps validation (validateMinDomains): positive, and only with DoNotSchedule.
        if (const Node* md = get(c, "minDomains"); md && !md->is_null()) {
          if (!md->as_int() || *md->as_int() <= 0) {
            out.push_back({"topologySpreadConstraints[" + std::to_string(i) +
                               "].minDomains must be an integer greater than 0",
                           md, join_path(path, "minDomains"), {}});
          } else if (when != "DoNotSchedule") {
            out.push_back(
                {"topologySpreadConstraints[" + std::to_string(i) +
                     "].minDomains can only be used with whenUnsatisfiable: DoNotSchedule",
                 md,
                 join_path(path, "minDomains"),
                 {}});
          }
        }
      }
      return outcome(true, out);
    }
    if (!has_replicas(in.obj.kind)) return Outcome::NotApplicable;
    auto n = replicas_of(in.obj);
    if (!n || *n < min_replicas) return Outcome::NotApplicable;
    const std::string count = std::to_string(*n) + " replicas";
    if (mode == SpreadMode::TopologySpread) {
      if (items(constraints).empty()) {
        out.push_back({std::string(in.obj.kind) + std::string(" runs ") + count +
                           " without topologySpreadConstraints; they may all land in one zone "
                           "or on one node",
                       spec,
                       tsc_path,
                       {}});
      }
      return outcome(true, out);
    }
    const Node* labels = get(in.pod.meta, "labels");
    auto term_ok = [&](const Node* term) {
      return str(get(term, "topologyKey")) == topology_key &&
             selector_matches(get(term, "labelSelector"), labels);
    };
    const Node* anti = get(get(spec, "affinity"), "podAntiAffinity");
    bool ok = false;
    for (const Node* t : items(get(anti, "requiredDuringSchedulingIgnoredDuringExecution")))
      ok |= term_ok(t);
    for (const Node* t : items(get(anti, "preferredDuringSchedulingIgnoredDuringExecution")))
      ok |= term_ok(get(t, "podAffinityTerm"));
    if (accept_topology_spread)
      for (const Node* c : items(constraints)) ok |= term_ok(c);
    if (!ok) {
      out.push_back({std::string(in.obj.kind) + std::string(" runs ") + count +
                         " without a podAntiAffinity term on " + topology_key +
                         " that selects its own pods; one node failure can take them all down",
                     or_parent(anti, spec),
                     join_path(in.pod.spec_path, "affinity.podAntiAffinity"),
                     {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_spread(const Params& params, std::string& error) {
  auto check = std::make_unique<SpreadCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "anti-affinity") check->mode = SpreadMode::AntiAffinity;
  else if (mode == "topology-spread") check->mode = SpreadMode::TopologySpread;
  else if (mode == "topology-spread-valid") check->mode = SpreadMode::TopologySpreadValid;
  else {
    error = "mode must be anti-affinity, topology-spread or topology-spread-valid";
    return nullptr;
  }
  if (!positive_int_param(params, "minReplicas", check->min_replicas, error)) return nullptr;
  if (params.get("topologyKey")) {
    check->topology_key = std::string(params.string("topologyKey"));
    if (check->topology_key.empty()) {
      error = "topologyKey must be a non-empty node label key";
      return nullptr;
    }
  }
  if (const Node* a = params.get("acceptTopologySpread")) {
    if (!a->as_bool()) {
      error = "acceptTopologySpread must be true or false";
      return nullptr;
    }
    check->accept_topology_spread = *a->as_bool();
  }
  return check;
}

// ---------------------------------------------------------------- update-strategy

class UpdateStrategyCheck final : public Check {
 public:
  std::vector<std::string> allowed{"RollingUpdate"};

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    std::string field;
    if (in.obj.kind == "Deployment") field = "strategy";
    else if (in.obj.kind == "StatefulSet" || in.obj.kind == "DaemonSet") field = "updateStrategy";
    else return Outcome::NotApplicable;
    const Node* spec = get(in.obj.root, "spec");
    const Node* strategy = get(spec, field);
    const Node* type = get(strategy, "type");
    std::string_view value = type && !type->is_null() ? str(type) : "RollingUpdate";  // API default
    if (!contains(allowed, value)) {
      out.push_back({std::string(in.obj.kind) + std::string(" uses the ") + std::string(value) +
                         " update strategy; updates will not roll out gradually",
                     or_parent(type, or_parent(strategy, or_parent(spec, in.obj.root))),
                     join_path(in.obj.path_prefix, "spec." + field + ".type"),
                     {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_update_strategy(const Params& params, std::string& error) {
  auto check = std::make_unique<UpdateStrategyCheck>();
  if (params.get("allowed")) {
    check->allowed = params.strings("allowed");
    if (check->allowed.empty()) {
      error = "allowed must list at least one strategy type";
      return nullptr;
    }
  }
  return check;
}

// ---------------------------------------------------------------- priority-class

class PriorityClassCheck final : public Check {
 public:
  std::vector<std::string> accepted;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const Node* pc = get(in.pod.spec, "priorityClassName");
    const std::string path = join_path(in.pod.spec_path, "priorityClassName");
    if (str(pc).empty()) {
      out.push_back({"pod sets no priorityClassName; it is preempted like any best-effort pod",
                     in.pod.spec, path, {}});
    } else if (!accepted.empty() && !contains(accepted, str(pc))) {
      out.push_back({"pod priorityClassName \"" + std::string(str(pc)) +
                         "\" is not one of the accepted classes",
                     pc,
                     path,
                     {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_priority_class(const Params& params, std::string&) {
  auto check = std::make_unique<PriorityClassCheck>();
  check->accepted = params.strings("accepted");
  return check;
}

// ---------------------------------------------------------------- owner-reference

class OwnerReferenceCheck final : public Check {
 public:
  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* meta = get(in.obj.root, "metadata");
    if (items(get(meta, "ownerReferences")).empty()) {
      out.push_back(
          {std::string(in.obj.kind) + std::string(" has no owner (no controller recreates it when "
                                                  "its node fails or it is evicted)"),
           or_parent(meta, in.obj.root),
           join_path(in.obj.path_prefix, "metadata.ownerReferences"),
           {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_owner_reference(const Params&, std::string&) {
  return std::make_unique<OwnerReferenceCheck>();
}

// ---------------------------------------------------------------- selector-match

class SelectorMatchCheck final : public Check {
 public:
  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const std::string_view kind = in.obj.kind;
    const bool plain_map = kind == "ReplicationController" || kind == "DeploymentConfig";
    const bool optional = plain_map || kind == "Job";
    if (!in.pod || kind == "Pod" || kind == "PodTemplate" || kind == "CronJob")
      return Outcome::NotApplicable;
    const Node* spec = get(in.obj.root, "spec");
    const Node* selector = get(spec, "selector");
    const Node* labels = get(in.pod.meta, "labels");
    const std::string path = join_path(in.obj.path_prefix, "spec.selector");
    if (!selector || selector->is_null()) {
      if (!optional) {
        out.push_back({std::string(kind) + " has no spec.selector (required)",
                       or_parent(spec, in.obj.root),
                       path,
                       {}});
      }
      return outcome(true, out);
    }
    if (plain_map) {
      for (const MapEntry& e : entries(selector)) {
        const Node* have = get(labels, e.key->text());
        if (!have || str(have) != str(e.value)) {
          out.push_back({std::string(kind) + " selector " + std::string(e.key->text()) + "=" +
                             std::string(str(e.value)) + " does not match the pod template labels",
                         e.value, join_path(path, e.key->text()), {}});
          break;
        }
      }
      return outcome(true, out);
    }
    const bool empty = entries(get(selector, "matchLabels")).empty() &&
                       items(get(selector, "matchExpressions")).empty();
    if (empty) {
      if (!optional) {
        out.push_back({std::string(kind) + " has an empty spec.selector, which the API rejects",
                       selector,
                       path,
                       {}});
      }
    } else if (!selector_matches(selector, labels)) {
      out.push_back({std::string(kind) + " spec.selector does not match its pod template labels; "
                                         "the controller cannot find the pods it creates",
                     selector, path, {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_selector_match(const Params&, std::string&) {
  return std::make_unique<SelectorMatchCheck>();
}

// ---------------------------------------------------------------- dns-config-option

class DnsConfigOptionCheck final : public Check {
 public:
  std::string name;
  std::string value;  // empty: any value

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    const Node* dns = get(in.pod.spec, "dnsConfig");
    bool found = false;
    for (const Node* o : items(get(dns, "options"))) {
      if (str(get(o, "name")) == name && (value.empty() || str(get(o, "value")) == value))
        found = true;
    }
    if (!found) {
      out.push_back({"pod dnsConfig.options lacks " + name + (value.empty() ? "" : "=" + value),
                     or_parent(dns, in.pod.spec),
                     join_path(in.pod.spec_path, "dnsConfig.options"),
                     {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_dns_config_option(const Params& params, std::string& error) {
  auto check = std::make_unique<DnsConfigOptionCheck>();
  check->name = std::string(params.string("name"));
  if (check->name.empty()) {
    error = "name (the resolver option, e.g. ndots) is required";
    return nullptr;
  }
  check->value = std::string(params.string("value"));
  return check;
}

// ---------------------------------------------------------------- label-matches-name

class LabelMatchesNameCheck final : public Check {
 public:
  std::string label;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* v = get(get(get(in.obj.root, "metadata"), "labels"), label);
    if (!v || v->is_null()) return Outcome::NotApplicable;
    if (str(v) != in.obj.name) {
      out.push_back({"label " + label + "=" + std::string(str(v)) +
                         " does not match metadata.name \"" + std::string(in.obj.name) + "\"",
                     v,
                     join_path(in.obj.path_prefix, "metadata.labels." + label),
                     {}});
    }
    return outcome(true, out);
  }
};

std::unique_ptr<Check> compile_label_matches_name(const Params& params, std::string& error) {
  auto check = std::make_unique<LabelMatchesNameCheck>();
  check->label = std::string(params.string("label"));
  if (check->label.empty()) {
    error = "label is required";
    return nullptr;
  }
  return check;
}

// ---------------------------------------------------------------- duplicate-env

class DuplicateEnvCheck final : public Check {
 public:
  std::vector<ContainerKind> kinds{ContainerKind::Init, ContainerKind::Container,
                                   ContainerKind::Ephemeral};

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      if (!selected(kinds, c.kind)) continue;
      any = true;
      std::set<std::string_view> seen;
      const Node* env = c.node->get("env");
      for (std::size_t i = 0; i < items(env).size(); ++i) {
        const Node* name = get(items(env)[i], "name");
        if (str(name).empty()) continue;
        if (!seen.insert(str(name)).second) {
          out.push_back(container_violation(
              c,
              who(c) + " defines env var " + std::string(str(name)) +
                  " more than once; only the last value takes effect",
              name, join_path(index_path(join_path(c.path, "env"), i), "name")));
        }
      }
    }
    return outcome(any, out);
  }
};

std::unique_ptr<Check> compile_duplicate_env(const Params& params, std::string& error) {
  auto check = std::make_unique<DuplicateEnvCheck>();
  if (!container_kinds_param(params, check->kinds, error)) return nullptr;
  return check;
}

}  // namespace

std::unique_ptr<Check> compile_replicas_check(const Params& p, std::string& e) {
  return compile_replicas(p, e);
}
std::unique_ptr<Check> compile_pdb_check(const Params& p, std::string& e) { return compile_pdb(p, e); }
std::unique_ptr<Check> compile_spread_check(const Params& p, std::string& e) {
  return compile_spread(p, e);
}
std::unique_ptr<Check> compile_update_strategy_check(const Params& p, std::string& e) {
  return compile_update_strategy(p, e);
}
std::unique_ptr<Check> compile_priority_class_check(const Params& p, std::string& e) {
  return compile_priority_class(p, e);
}
std::unique_ptr<Check> compile_owner_reference_check(const Params& p, std::string& e) {
  return compile_owner_reference(p, e);
}
std::unique_ptr<Check> compile_selector_match_check(const Params& p, std::string& e) {
  return compile_selector_match(p, e);
}
std::unique_ptr<Check> compile_dns_config_option_check(const Params& p, std::string& e) {
  return compile_dns_config_option(p, e);
}
std::unique_ptr<Check> compile_label_matches_name_check(const Params& p, std::string& e) {
  return compile_label_matches_name(p, e);
}
std::unique_ptr<Check> compile_duplicate_env_check(const Params& p, std::string& e) {
  return compile_duplicate_env(p, e);
}

}  // namespace kg
