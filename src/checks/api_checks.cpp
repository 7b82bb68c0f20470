// Namespace, metadata and API hygiene templates, evaluated on one object:
//
//  * `pattern`: every value (or key) reached by a field path with `*`
//    segments must (or must not) match a regular expression, or must not
//    exist at all (label values, snippet annotations, Gatekeeper repos).
//  * `required-metadata`: labels / annotations that must be present,
//    optionally with one of a set of values.
//  * `namespace-placement`: objects in the default namespace (or with none),
//    or user objects in kube-system.
//  * `deprecated-api`: apiVersion/kind pairs from a deprecation table with
//    the release that deprecated and removed each, and the replacement.
//  * `psp`: a PodSecurityPolicy's own permissive settings.
#include <algorithm>
#include <cctype>
#include <regex>

#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}


// Field path segment for a map key: plain keys join with '.', keys holding
// dots or slashes ("app.kubernetes.io/name") are bracketed.
std::string key_path(std::string_view base, std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (plain) return join_path(base, key);
  return std::string(base) + "[\"" + std::string(key) + "\"]";
}

// ---- pattern --------------------------------------------------------------

struct Hit {
  const Node* node;
  std::string key;  // map key or list index of the last `*`
  std::string path;
};

void walk(const Node* n, const std::vector<std::string>& segs, std::size_t i, std::string path,
          std::string key, std::vector<Hit>& out) {
  if (!n || n->is_null()) return;
  if (i == segs.size()) {
    out.push_back({n, std::move(key), std::move(path)});
    return;
  }
  if (segs[i] == "*") {
    if (n->is_map()) {
      for (const MapEntry& e : n->entries())
        walk(e.value, segs, i + 1, key_path(path, e.key->text()), std::string(e.key->text()), out);
    } else {
      std::size_t j = 0;
      for (const Node* item : n->items()) {
        walk(item, segs, i + 1, index_path(path, j), std::to_string(j), out);
        ++j;
      }
    }
    return;
  }
  walk(n->get(segs[i]), segs, i + 1, join_path(path, segs[i]), std::move(key), out);
}

class PatternCheck final : public Check {
 public:
  enum class Expect { Match, NoMatch, Absent } expect = Expect::Match;
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;  // (text, segments)
  std::optional<std::regex> key_re;
  std::optional<std::regex> value_re;
  // A built-in syntax instead of valuePattern, for checks that run on every
  // object (std::regex costs microseconds per call).
  enum class Format { None, LabelValue } value_format = Format::None;
  std::string message;  // {key}, {value}, {field}

  // Kubernetes label value: empty, or <= 63 characters of [-A-Za-z0-9_.]
  // starting and ending with an alphanumeric.
  static bool label_value_ok(std::string_view v) {
    if (v.empty()) return true;
    if (v.size() > 63) return false;
    auto alnum = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(v.front()) || !alnum(v.back())) return false;
    for (char c : v)
      if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
    return true;
  }

  bool value_matches(const std::string& value) const {
    if (value_format == Format::LabelValue) return label_value_ok(value);
    return std::regex_search(value, *value_re);
  }

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    for (const auto& [text, segs] : fields) {
      std::vector<Hit> hits;
      walk(in.obj.root, segs, 0, in.obj.path_prefix, {}, hits);
      for (const Hit& h : hits) {
        if (key_re && !std::regex_search(h.key, *key_re)) continue;
        const std::string value = h.node->is_scalar() ? std::string(h.node->text()) : std::string();
        bool bad = false;
        switch (expect) {
          case Expect::Absent: bad = !value_re || value_matches(value); break;
          case Expect::Match: bad = !value_matches(value); break;
          case Expect::NoMatch: bad = value_matches(value); break;
        }
        if (bad) out.push_back({render(h, value), h.node, h.path, {}});
      }
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  std::string render(const Hit& h, const std::string& value) const {
    std::string m = message;
    auto replace = [&](std::string_view k, std::string_view with) {
      for (auto pos = m.find(k); pos != std::string::npos; pos = m.find(k, pos + with.size()))
        m.replace(pos, k.size(), with);
    };
    replace("{key}", h.key);
    replace("{field}", h.path);
    // Values are shown only up to 80 characters (snippets can be long).
    replace("{value}", value.size() > 80 ? value.substr(0, 77) + "..." : value);
    return m;
  }
};

// ---- required-metadata ----------------------------------------------------

struct Required {
  std::string key;
  std::vector<std::string> values;  // empty = any value
};

class RequiredMetadataCheck final : public Check {
 public:
  std::vector<Required> labels;
  std::vector<Required> annotations;
  std::vector<std::string> exclude_names;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (contains(exclude_names, in.obj.name)) return Outcome::NotApplicable;
    const Node* meta = get(in.obj.root, "metadata");
    const std::string meta_path = join_path(in.obj.path_prefix, "metadata");
    check(in, meta, meta_path, "labels", "label", labels, out);
    check(in, meta, meta_path, "annotations", "annotation", annotations, out);
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  static void check(const CheckInput& in, const Node* meta, const std::string& meta_path,
                    std::string_view field, std::string_view noun, const std::vector<Required>& req,
                    std::vector<Violation>& out) {
    const Node* map = get(meta, field);
    const std::string map_path = join_path(meta_path, field);
    for (const Required& r : req) {
      const Node* v = get(map, r.key);
      if (!v || v->is_null()) {
        out.push_back(
            {std::string(in.obj.kind) + " has no " + std::string(noun) + " \"" + r.key + "\"",
             map ? map : (meta ? meta : in.obj.root),
             key_path(map_path, r.key),
             {}});
        continue;
      }
      if (!r.values.empty() && !contains(r.values, str(v))) {
        std::string allowed;
        for (const std::string& a : r.values) allowed += (allowed.empty() ? "" : ", ") + a;
        out.push_back({std::string(in.obj.kind) + " " + std::string(noun) + " \"" + r.key +
                           "\" is \"" + std::string(str(v)) + "\"; expected one of " + allowed,
                       v,
                       key_path(map_path, r.key),
                       {}});
      }
    }
  }
};

// ---- namespace-placement --------------------------------------------------

class NamespacePlacementCheck final : public Check {
 public:
  enum class Mode { Default, System } mode = Mode::Default;
  bool flag_unset = true;
  std::vector<std::string> namespaces{"kube-system"};
  std::vector<std::pair<std::string, std::string>> exempt_labels;  // value "" = any

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* meta = get(in.obj.root, "metadata");
    const Node* ns = get(meta, "namespace");
    const std::string path = join_path(join_path(in.obj.path_prefix, "metadata"), "namespace");
    if (mode == Mode::Default) {
      if (in.obj.ns == "default") {
        out.push_back({std::string(in.obj.kind) + " is in the default namespace", ns, path, {}});
      } else if (in.obj.ns.empty() && flag_unset) {
        out.push_back({std::string(in.obj.kind) +
                           " sets no namespace, so it lands in the default namespace unless the "
                           "tool that applies it sets one",
                       meta ? meta : in.obj.root,
                       path,
                       {}});
      }
      return out.empty() ? Outcome::Pass : Outcome::Fail;
    }
    if (!contains(namespaces, in.obj.ns)) return Outcome::Pass;
    for (const auto& [k, v] : exempt_labels) {
      const Node* lv = get(get(meta, "labels"), k);
      if (lv && (v.empty() || str(lv) == v)) return Outcome::Pass;
    }
    out.push_back(
        {std::string(in.obj.kind) + " runs in the system namespace " + std::string(in.obj.ns),
         ns,
         path,
         {}});
    return Outcome::Fail;
  }
};

// ---- deprecated-api -------------------------------------------------------

std::optional<int> parse_minor(std::string_view s) {
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  if (s.substr(0, 2) != "1.") return std::nullopt;
  s.remove_prefix(2);
  if (auto dot = s.find('.'); dot != std::string_view::npos) s = s.substr(0, dot);
  if (s.empty() || s.size() > 3) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

struct DeprecatedApi {
  std::string api_version;
  std::vector<std::string> kinds;  // empty = every kind of that apiVersion
  int deprecated = 0;              // minor version; 0 = unknown
  int removed = 0;
  std::string replacement;  // "" = no replacement
  std::string note;
};

class DeprecatedApiCheck final : public Check {
 public:
  std::vector<DeprecatedApi> table;
  int target = 0;  // 0 = newest: everything in the table

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    // The scan's target (--target-version, or the version of the cluster
    // read) wins over the rule's kubernetesVersion parameter.
    const int t = in.kubernetes_minor > 0 ? in.kubernetes_minor : target;
    const Node* api = get(in.obj.root, "apiVersion");
    Outcome o = check(in.obj.api_version, in.obj.kind, t, api ? api : in.obj.root,
                      join_path(in.obj.path_prefix, "apiVersion"), "", out);
    if (o == Outcome::Fail) return o;
    // What was last applied to a cluster (kubectl apply keeps it in an
    // annotation): the server converts objects to the version it lists, so
    // a deprecated apiVersion in the manifest only shows here.
    const Node* ann = get(get(get(in.obj.root, "metadata"), "annotations"),
                          "kubectl.kubernetes.io/last-applied-configuration");
    if (!ann || ann->str().empty()) return Outcome::Pass;
    SourceFile applied;
    applied.path = "last-applied-configuration";
    applied.content = std::string(ann->str());
    load_documents(applied);
    if (!applied.errors.empty() || applied.documents.empty()) return Outcome::Pass;
    const Node* root = applied.documents[0].root;
    const std::string_view kind = str(get(root, "kind"));
    return check(str(get(root, "apiVersion")), kind.empty() ? in.obj.kind : kind, t, ann,
                 join_path(in.obj.path_prefix,
                           "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration"),
                 " (last applied with kubectl)", out);
  }

 private:
  Outcome check(std::string_view api_version, std::string_view kind, int t, const Node* at,
                std::string path, std::string_view where, std::vector<Violation>& out) const {
    for (const DeprecatedApi& d : table) {
      if (d.api_version != api_version) continue;
      if (!d.kinds.empty() && !contains(d.kinds, kind)) continue;
      const bool removed = t == 0 || t >= d.removed;
      if (!removed && d.deprecated > 0 && t < d.deprecated) return Outcome::Pass;
      std::string m = std::string(api_version) + " " + std::string(kind) + std::string(where);
      if (d.deprecated > 0)
        m += " was deprecated in Kubernetes 1." + std::to_string(d.deprecated) + " and";
      m += removed ? " is no longer served since 1." : " will no longer be served from 1.";
      m += std::to_string(d.removed);
      m += d.replacement.empty() ? "; it has no replacement" : "; use " + d.replacement;
      if (!d.note.empty()) m += " (" + d.note + ")";
      out.push_back({std::move(m), at, std::move(path), {}});
      return Outcome::Fail;
    }
    return Outcome::Pass;
  }
};

// ---- psp ------------------------------------------------------------------

std::string upper_cap(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u.rfind("CAP_", 0) == 0) u.erase(0, 4);
  return u;
}

class PspCheck final : public Check {
 public:
  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const std::string sp = join_path(in.obj.path_prefix, "spec");
    auto flag = [&](const Node* at, std::string_view field, std::string msg) {
      out.push_back({"PodSecurityPolicy " + std::move(msg),
                     at ? at : (spec ? spec : in.obj.root),
                     join_path(sp, field),
                     {}});
    };
    for (std::string_view f : {"privileged", "hostPID", "hostIPC", "hostNetwork"})
      if (is_true(get(spec, f))) flag(get(spec, f), f, "allows " + std::string(f));
    if (!is_false(get(spec, "allowPrivilegeEscalation"))) {
      flag(get(spec, "allowPrivilegeEscalation"), "allowPrivilegeEscalation",
           "allows privilege escalation (allowPrivilegeEscalation is not false)");
    }
    if (!items(get(spec, "hostPorts")).empty())
      flag(get(spec, "hostPorts"), "hostPorts", "allows host ports");
    const Node* run_as = get(get(spec, "runAsUser"), "rule");
    const std::string_view rule = str(run_as);
    bool non_root = rule == "MustRunAsNonRoot";
    if (rule == "MustRunAs") {
      non_root = !items(get(get(spec, "runAsUser"), "ranges")).empty();
      for (const Node* r : items(get(get(spec, "runAsUser"), "ranges"))) {
        const Node* min = get(r, "min");
        if (!min || !min->as_int() || *min->as_int() < 1) non_root = false;
      }
    }
    if (!non_root) {
      flag(run_as, "runAsUser.rule",
           "admits containers running as root (runAsUser.rule is " +
               (rule.empty() ? std::string("unset") : std::string(rule)) + ")");
    }
    bool drops_net_raw = false;
    for (const Node* c : items(get(spec, "requiredDropCapabilities")))
      if (upper_cap(str(c)) == "ALL" || upper_cap(str(c)) == "NET_RAW") drops_net_raw = true;
    if (!drops_net_raw) {
      flag(get(spec, "requiredDropCapabilities"), "requiredDropCapabilities",
           "does not require dropping NET_RAW (or ALL)");
    }
    if (!items(get(spec, "allowedCapabilities")).empty()) {
      flag(get(spec, "allowedCapabilities"), "allowedCapabilities",
           "lets containers add capabilities (allowedCapabilities is set)");
    }
    for (const Node* v : items(get(spec, "volumes"))) {
      if (str(v) == "*" || str(v) == "hostPath") {
        flag(v, "volumes", "allows " + std::string(str(v)) + " volumes");
        break;
      }
    }
    const Node* ann = get(get(in.obj.root, "metadata"), "annotations");
    const Node* seccomp = get(ann, "seccomp.security.alpha.kubernetes.io/defaultProfileName");
    const std::string_view sv = str(seccomp);
    if (sv != "runtime/default" && sv != "docker/default" && sv.substr(0, 10) != "localhost/") {
      out.push_back(
          {"PodSecurityPolicy sets no default seccomp profile (annotation "
           "seccomp.security.alpha.kubernetes.io/defaultProfileName)",
           seccomp ? seccomp : (ann ? ann : in.obj.root),
           key_path(join_path(join_path(in.obj.path_prefix, "metadata"), "annotations"),
                    "seccomp.security.alpha.kubernetes.io/defaultProfileName"),
           {}});
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

}  // namespace

std::unique_ptr<Check> compile_pattern_check(const Params& params, std::string& error) {
  auto check = std::make_unique<PatternCheck>();
  std::vector<std::string> fields = params.strings("fields");
  if (params.get("field")) fields.insert(fields.begin(), std::string(params.string("field")));
  if (fields.empty()) {
    error =
        "field (or fields) is required: a dotted path where * walks every map value or list item";
    return nullptr;
  }
  for (const std::string& f : fields) check->fields.emplace_back(f, split_field_path(f));
  const bool icase = is_true(params.get("ignoreCase"));
  const auto flags = std::regex::ECMAScript | (icase ? std::regex::icase : std::regex::ECMAScript);
  auto compile = [&](std::string_view key, std::optional<std::regex>& out) {
    if (!params.get(key)) return true;
    try {
      out = compile_regex(params.regexes(), std::string(params.string(key)), flags);
    } catch (const std::regex_error&) {
      error = std::string(key) + " is not a valid regular expression";
      return false;
    }
    return true;
  };
  if (!compile("keyPattern", check->key_re) || !compile("valuePattern", check->value_re))
    return nullptr;
  const std::string_view expect = params.string("expect");
  if (expect == "match") {
    check->expect = PatternCheck::Expect::Match;
  } else if (expect == "noMatch") {
    check->expect = PatternCheck::Expect::NoMatch;
  } else if (expect == "absent") {
    check->expect = PatternCheck::Expect::Absent;
  } else {
    error = "expect must be match, noMatch or absent";
    return nullptr;
  }
  if (params.get("valueFormat")) {
    if (params.string("valueFormat") != "label-value") {
      error = "valueFormat must be label-value";
      return nullptr;
    }
    check->value_format = PatternCheck::Format::LabelValue;
  }
  if (check->expect != PatternCheck::Expect::Absent && !check->value_re &&
      check->value_format == PatternCheck::Format::None) {
    error = "valuePattern (or valueFormat) is required for expect match/noMatch";
    return nullptr;
  }
  check->message = std::string(params.string("message"));
  if (check->message.empty()) check->message = "{field} is \"{value}\"";
  return check;
}

std::unique_ptr<Check> compile_required_metadata_check(const Params& params, std::string& error) {
  auto check = std::make_unique<RequiredMetadataCheck>();
  auto load = [&](std::string_view key, std::vector<Required>& out) {
    for (const Node* item : items(params.get(key))) {
      Required r;
      if (item->is_scalar()) {
        r.key = std::string(item->text());
      } else {
        r.key = std::string(str(get(item, "key")));
        for (const Node* v : items(get(item, "values"))) r.values.emplace_back(str(v));
      }
      if (r.key.empty()) {
        error = std::string(key) + " entries must be a key or {key, values}";
        return false;
      }
      out.push_back(std::move(r));
    }
    return true;
  };
  if (!load("labels", check->labels) || !load("annotations", check->annotations)) return nullptr;
  if (check->labels.empty() && check->annotations.empty()) {
    error = "labels or annotations must list at least one required key";
    return nullptr;
  }
  check->exclude_names = params.strings("excludeNames");
  return check;
}

std::unique_ptr<Check> compile_namespace_placement_check(const Params& params, std::string& error) {
  auto check = std::make_unique<NamespacePlacementCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "default") {
    check->mode = NamespacePlacementCheck::Mode::Default;
    if (const Node* f = params.get("flagUnset")) {
      if (!f->as_bool()) {
        error = "flagUnset must be true or false";
        return nullptr;
      }
      check->flag_unset = *f->as_bool();
    }
  } else if (mode == "system") {
    check->mode = NamespacePlacementCheck::Mode::System;
    if (params.get("namespaces")) check->namespaces = params.strings("namespaces");
    for (const std::string& l : params.strings("exemptLabels")) {
      auto eq = l.find('=');
      check->exempt_labels.emplace_back(l.substr(0, eq),
                                        eq == std::string::npos ? "" : l.substr(eq + 1));
    }
  } else {
    error = "mode must be default or system";
    return nullptr;
  }
  return check;
}

std::unique_ptr<Check> compile_deprecated_api_check(const Params& params, std::string& error) {
  auto check = std::make_unique<DeprecatedApiCheck>();
  if (const std::string_view v = params.string("kubernetesVersion"); !v.empty() && v != "latest") {
    auto m = parse_minor(v);
    if (!m) {
      error = "kubernetesVersion must be \"latest\" or a version such as 1.29";
      return nullptr;
    }
    check->target = *m;
  }
  const Node* apis = params.get("apis");
  if (!apis || !apis->is_seq() || apis->items().empty()) {
    error = "apis must list {apiVersion, kinds, deprecated, removed, replacement} entries";
    return nullptr;
  }
  std::size_t i = 0;
  for (const Node* a : apis->items()) {
    DeprecatedApi d;
    d.api_version = std::string(str(get(a, "apiVersion")));
    for (const Node* k : items(get(a, "kinds"))) d.kinds.emplace_back(str(k));
    d.replacement = std::string(str(get(a, "replacement")));
    d.note = std::string(str(get(a, "note")));
    auto removed = parse_minor(str(get(a, "removed")));
    auto deprecated = parse_minor(str(get(a, "deprecated")));
    if (d.api_version.empty() || !removed || (get(a, "deprecated") && !deprecated)) {
      error = "apis[" + std::to_string(i) +
              "] needs apiVersion, removed (e.g. \"1.22\") and optionally deprecated";
      return nullptr;
    }
    d.removed = *removed;
    d.deprecated = deprecated.value_or(0);
    check->table.push_back(std::move(d));
    ++i;
  }
  return check;
}

std::unique_ptr<Check> compile_psp_check(const Params&, std::string&) {
  return std::make_unique<PspCheck>();
}

}  // namespace kg
