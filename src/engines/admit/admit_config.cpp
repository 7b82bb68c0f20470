// The `admission:` section of the config file:
//
//   admission:
//     defaults: {enforce: baseline, warn: restricted, kguard-audit: hardened}
//     profiles:
//       hardened: {rules: [security, images], pss: restricted, pssVersion: latest}
//     exemptions: {usernames: [...], namespaces: [...], runtimeClasses: [...]}
//     enforceWorkloads: false
//     annotationExemptions: true
//     namespaces:
//       shop: {pod-security.kubernetes.io/enforce: restricted, kguard.io/enforce: hardened}
#include "engines/admit/admit.hpp"

namespace kg::admit {
namespace {

const char* const kDefaultKeys[] = {"enforce", "enforce-version", "audit", "audit-version",
                                    "warn", "warn-version", "kguard-enforce", "kguard-audit",
                                    "kguard-warn"};

}  // namespace

bool read_admit_config(const Config& config, AdmitConfig& out, std::vector<InputError>& errors) {
  if (!config.source || config.source->documents.empty()) return true;
  const Node* root = config.source->documents.front().root;
  const Node* section = get(root, "admission");
  if (!section || section->is_null()) return true;
  const std::string& path = config.path;
  bool ok = true;
  auto bad = [&](const Node* at, const std::string& msg) {
    errors.push_back({path, at ? at->line : 0, at ? at->column : 0, msg});
    ok = false;
  };
  auto strings = [&](const Node* n, const std::string& where, std::vector<std::string>& into) {
    if (n->is_null()) return;
    if (!n->is_seq()) return bad(n, where + ": must be a list of strings");
    for (const Node* item : n->items()) {
      if (!item->is_scalar()) return bad(item, where + ": must be a list of strings");
      into.emplace_back(item->str());
    }
  };
  auto label_map = [&](const Node* n, const std::string& where, Labels& into) {
    if (n->is_null()) return;
    if (!n->is_map()) return bad(n, where + ": must be a map of label to value");
    for (const MapEntry& e : n->entries()) {
      if (!e.value->is_scalar()) {
        bad(e.value, where + "." + std::string(e.key->text()) + ": must be a string");
        continue;
      }
      into.emplace_back(std::string(e.key->text()), std::string(e.value->str()));
    }
    std::sort(into.begin(), into.end());
  };
  if (!section->is_map()) {
    bad(section, "admission: must be a map");
    return false;
  }
  for (const MapEntry& e : section->entries()) {
    const std::string key(e.key->text());
    if (key == "defaults") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.defaults: must be a map");
        continue;
      }
      for (const MapEntry& d : e.value->entries()) {
        const std::string k(d.key->text());
        if (std::find(std::begin(kDefaultKeys), std::end(kDefaultKeys), k) == std::end(kDefaultKeys)) {
          bad(d.key, "admission.defaults: unknown field '" + k +
                         "' (enforce, audit, warn, their -version, kguard-enforce, kguard-audit, "
                         "kguard-warn)");
          continue;
        }
        const std::string v(d.value->str());
        if (k.ends_with("-version")) {
          if (!parse_psa_version(v, PssLevel::Restricted))
            bad(d.value, "admission.defaults." + k + ": must be latest or v1.N, not '" + v + "'");
        } else if (!k.starts_with("kguard-") && !parse_psa_level(v)) {
          bad(d.value, "admission.defaults." + k + ": must be privileged, baseline or restricted");
        }
        out.default_labels[k] = v;
      }
    } else if (key == "profiles") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.profiles: must be a map of profile name to profile");
        continue;
      }
      for (const MapEntry& p : e.value->entries()) {
        Profile prof;
        prof.name = std::string(p.key->text());
        const std::string where = "admission.profiles." + prof.name;
        if (p.value->is_seq()) {
          strings(p.value, where, prof.rules);
        } else if (p.value->is_map()) {
          for (const MapEntry& f : p.value->entries()) {
            const std::string field(f.key->text());
            if (field == "rules") {
              strings(f.value, where + ".rules", prof.rules);
            } else if (field == "pss") {
              auto l = parse_psa_level(f.value->str());
              if (!l) bad(f.value, where + ".pss: must be privileged, baseline or restricted");
              else prof.pss_level = *l;
            } else if (field == "pssVersion") {
              auto v = parse_psa_version(f.value->str(), prof.pss_level);
              if (!v) bad(f.value, where + ".pssVersion: must be latest or v1.N");
              else prof.pss_minor = v->minor;
            } else {
              bad(f.key, where + ": unknown field '" + field + "' (rules, pss, pssVersion)");
            }
          }
        } else {
          bad(p.value, where + ": must be a list of rule selectors or a map with rules");
        }
        out.profiles[prof.name] = std::move(prof);
      }
    } else if (key == "exemptions") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.exemptions: must be a map");
        continue;
      }
      for (const MapEntry& x : e.value->entries()) {
        const std::string field(x.key->text());
        const std::string where = "admission.exemptions." + field;
        if (field == "usernames") strings(x.value, where, out.exempt_usernames);
        else if (field == "namespaces") strings(x.value, where, out.exempt_namespaces);
        else if (field == "runtimeClasses") strings(x.value, where, out.exempt_runtime_classes);
        else bad(x.key, "admission.exemptions: unknown field '" + field +
                            "' (usernames, namespaces, runtimeClasses)");
      }
    } else if (key == "enforceWorkloads" || key == "annotationExemptions") {
      auto b = e.value->as_bool();
      if (!b) bad(e.value, "admission." + key + ": must be true or false");
      else (key == "enforceWorkloads" ? out.enforce_workloads : out.annotation_exemptions) = *b;
    } else if (key == "namespaces") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.namespaces: must be a map of namespace to labels");
        continue;
      }
      for (const MapEntry& n : e.value->entries()) {
        Labels labels;
        label_map(n.value, "admission.namespaces." + std::string(n.key->text()), labels);
        out.namespaces[std::string(n.key->text())] = std::move(labels);
      }
    } else {
      bad(e.key, "admission: unknown field '" + key +
                     "' (defaults, profiles, exemptions, enforceWorkloads, annotationExemptions, "
                     "namespaces)");
    }
  }
  // Profiles named by the defaults must exist.
  for (const char* k : {"kguard-enforce", "kguard-audit", "kguard-warn"}) {
    auto it = out.default_labels.find(k);
    if (it != out.default_labels.end() && !out.profiles.count(it->second)) {
      errors.push_back({path, section->line, section->column,
                        std::string("admission.defaults.") + k + ": no profile named '" +
                            it->second + "' in admission.profiles"});
      ok = false;
    }
  }
  return ok;
}

}  // namespace kg::admit
