#include "config/config.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/inventory.hpp"

namespace kg {

std::vector<ExemptionRule> builtin_exemptions() {
  ExemptionRule kube_system;
  kube_system.rules = {"*"};
  // Rules about kube-system itself stay on: they exist to watch it. So do the control-plane
  // flag rules (tag control-plane): the components they judge run in kube-system.
  kube_system.except_rules = {"workload-in-kube-system", "rbac-aws-auth-write", "control-plane"};
  kube_system.namespaces = {"kube-system"};
  kube_system.reason =
      "kube-system runs cluster components that need host access; review them with the "
      "platform vendor (built-in pack, turn off with defaultExemptions: false)";
  kube_system.origin = "built-in kube-system pack";
  return {kube_system};
}

void Config::apply(PolicyOptions& options) const {
  for (const auto& [kind, tpl] : pod_template_paths) options.pod_specs.set(kind, tpl);
  for (const auto& [id, o] : rules) options.overrides[id] = o;
  if (scope) options.scope = *scope;
  options.exemptions.insert(options.exemptions.end(), exemptions.begin(), exemptions.end());
  if (default_exemptions) {
    auto builtin = builtin_exemptions();
    options.exemptions.insert(options.exemptions.end(), builtin.begin(), builtin.end());
  }
}

std::optional<Config> load_config(const std::string& path, std::vector<InputError>& errors) {
  auto file = std::make_shared<SourceFile>();
  file->path = path;
  if (!read_file(path, file->content)) {
    errors.push_back({path, 0, 0, "cannot read config file"});
    return std::nullopt;
  }
  load_documents(*file);
  if (!file->errors.empty()) {
    errors.insert(errors.end(), file->errors.begin(), file->errors.end());
    return std::nullopt;
  }
  Config cfg;
  cfg.path = path;
  cfg.source = file;
  if (file->documents.empty()) return cfg;
  const Node* root = file->documents[0].root;
  bool ok = true;
  auto bad = [&](const Node* at, const std::string& msg) {
    errors.push_back({path, at->line, at->column, msg});
    ok = false;
  };
  auto string_list = [&](const Node* n, const std::string& field) {
    std::vector<std::string> out;
    if (n && n->is_scalar()) {
      out.emplace_back(n->text());
    } else if (n && n->is_seq()) {
      for (const Node* i : n->items()) {
        if (!i->is_scalar()) bad(i, field + ": entries must be strings");
        else out.emplace_back(i->text());
      }
    } else if (n && !n->is_null()) {
      bad(n, field + ": must be a string or a list of strings");
    }
    return out;
  };
  if (!root->is_map()) {
    bad(root, "config must be a mapping");
    return std::nullopt;
  }
  for (const MapEntry& e : root->entries()) {
    const std::string key(e.key->text());
    if (key == "podTemplatePaths") {
      if (!e.value->is_map()) {
        bad(e.value, "podTemplatePaths: must map a kind to the path of its pod template");
        continue;
      }
      for (const MapEntry& p : e.value->entries()) {
        std::string_view tpl = str(p.value);
        if (tpl.empty() || tpl.front() == '.' || tpl.back() == '.') {
          bad(p.value, "podTemplatePaths." + std::string(p.key->text()) +
                           ": must be a dotted field path such as spec.template");
          continue;
        }
        cfg.pod_template_paths.emplace_back(std::string(p.key->text()), std::string(tpl));
      }
    } else if (key == "scope") {
      cfg.scope = parse_scope_mode(str(e.value));
      if (!cfg.scope) bad(e.value, "scope: must be auto, dir, file or all");
    } else if (key == "rules") {
      if (!e.value->is_map()) {
        bad(e.value, "rules: must map rule ids to settings");
        continue;
      }
      for (const MapEntry& r : e.value->entries()) {
        const std::string id(r.key->text());
        RuleOverride o;
        o.origin = path + ":" + std::to_string(r.key->line);
        o.file = path;
        if (!r.value->is_map()) {
          bad(r.value, "rules." + id + ": must be a mapping (enabled, severity, params)");
          continue;
        }
        for (const MapEntry& f : r.value->entries()) {
          const std::string field(f.key->text());
          if (field == "enabled") {
            if (!f.value->as_bool()) bad(f.value, "rules." + id + ".enabled: must be true or false");
            else o.enabled = *f.value->as_bool();
          } else if (field == "severity") {
            o.severity = parse_severity(str(f.value));
            if (!o.severity) bad(f.value, "rules." + id + ".severity: must be low, medium, high or critical");
          } else if (field == "params") {
            if (!f.value->is_map()) bad(f.value, "rules." + id + ".params: must be a mapping");
            else o.params = f.value;
          } else {
            bad(f.key, "rules." + id + ": unknown field '" + field + "'");
          }
        }
        cfg.rules[id] = o;
      }
    } else if (key == "exemptions") {
      if (!e.value->is_seq()) {
        bad(e.value, "exemptions: must be a list");
        continue;
      }
      std::size_t i = 0;
      for (const Node* x : e.value->items()) {
        const std::string where = "exemptions[" + std::to_string(i++) + "]";
        if (!x->is_map()) {
          bad(x, where + ": must be a mapping");
          continue;
        }
        ExemptionRule r;
        r.origin = path + ":" + std::to_string(x->line);
        r.file = path;
        r.line = x->line;
        r.column = x->column;
        r.field = where;
        for (const MapEntry& f : x->entries()) {
          const std::string field(f.key->text());
          const std::string name = where + "." + field;
          if (field == "rules") r.rules = string_list(f.value, name);
          else if (field == "exceptRules") r.except_rules = string_list(f.value, name);
          else if (field == "namespaces") r.namespaces = string_list(f.value, name);
          else if (field == "names") r.names = string_list(f.value, name);
          else if (field == "kinds") r.kinds = string_list(f.value, name);
          else if (field == "containers") r.containers = string_list(f.value, name);
          else if (field == "files") r.files = string_list(f.value, name);
          else if (field == "reason") r.reason = std::string(str(f.value));
          else if (field == "until") {
            r.until = std::string(str(f.value));
            if (!is_iso_date(r.until)) bad(f.value, name + ": must be a date YYYY-MM-DD");
          } else {
            bad(f.key, where + ": unknown field '" + field + "'");
          }
        }
        if (r.reason.empty()) bad(x, where + ".reason: every exemption needs a reason");
        if (r.rules.empty()) bad(x, where + ".rules: name the rules (ids, categories, tags or \"*\")");
        // A wildcard silences every rule, present and future: only with a
        // reason and an expiry, so it cannot outlive the review it came from.
        if (std::any_of(r.rules.begin(), r.rules.end(), [](const std::string& s) { return s == "*" || s == "all"; }) &&
            r.until.empty())
          bad(x, where + ".until: an exemption of every rule (\"*\") needs an expiry date YYYY-MM-DD");
        cfg.exemptions.push_back(std::move(r));
      }
    } else if (key == "vulnerabilities") {
      if (!parse_vuln_config(e.value, path, cfg.vulnerabilities, errors)) ok = false;
    } else if (key == "admission") {
      // Read and validated by `kguard admit` (engines/admit/admit_config.cpp).
    } else if (key == "limits") {
      if (!e.value->is_map()) {
        bad(e.value, "limits: must be a mapping (maxFileSize, maxDocumentSize, maxErrorsPerFile)");
        continue;
      }
      for (const MapEntry& f : e.value->entries()) {
        const std::string field(f.key->text());
        if (field == "maxFileSize" || field == "maxDocumentSize") {
          auto n = f.value->is_scalar() ? parse_byte_size(f.value->text()) : std::nullopt;
          if (!n) {
            bad(f.value, "limits." + field + ": must be a size such as 256MiB, 64M, 512KiB or bytes");
            continue;
          }
          (field == "maxFileSize" ? cfg.max_file_bytes : cfg.max_document_bytes) = *n;
        } else if (field == "maxErrorsPerFile") {
          auto n = f.value->as_int();
          if (!n || *n < 1) {
            bad(f.value, "limits.maxErrorsPerFile: must be a whole number of at least 1");
            continue;
          }
          cfg.max_errors_per_file = static_cast<std::size_t>(*n);
        } else {
          bad(f.key, "limits: unknown field '" + field + "'");
        }
      }
    } else if (key == "exclude") {
      cfg.exclude = string_list(e.value, "exclude");
    } else if (key == "rbac") {
      if (!e.value->is_map()) {
        bad(e.value, "rbac: must be a mapping (knownControllers)");
        continue;
      }
      for (const MapEntry& f : e.value->entries()) {
        if (f.key->text() == "knownControllers") cfg.rbac_known_controllers = string_list(f.value, "rbac.knownControllers");
        else bad(f.key, "rbac: unknown field '" + std::string(f.key->text()) + "'");
      }
    } else if (key == "defaultExemptions") {
      if (!e.value->as_bool()) bad(e.value, "defaultExemptions: must be true or false");
      else cfg.default_exemptions = *e.value->as_bool();
    } else {
      bad(e.key, "unknown config field '" + key + "'");
    }
  }
  if (!ok) return std::nullopt;
  return cfg;
}

std::string find_config_upward(const std::string& start) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return {};
  if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
  for (; !dir.empty(); dir = dir.parent_path()) {
    fs::path candidate = dir / ".kguard.yaml";
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    if (dir == dir.root_path()) break;
  }
  return {};
}

}  // namespace kg
