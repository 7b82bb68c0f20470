#include "catalog/docs.hpp"

#include "checks/registry.hpp"

#include <algorithm>
#include <climits>
#include <sstream>
#include <vector>

namespace kg {
namespace {

std::string escape_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string kinds_of(const Rule& r) {
  std::string s;
  for (const auto& k : r.kinds) s += (s.empty() ? "" : ", ") + k;
  return s;
}

std::string render_template_docs() {
  std::ostringstream doc;
  doc << "# Check templates\n\n"
      << "Generated from the template declarations (`src/checks/registry.cpp`) by "
         "`kguard rules docs docs/rules`; do not edit by hand. `kguard rules templates` prints the "
         "same.\n\n"
      << "A rule (built-in, or custom with `kguard scan --rules DIR`) names one template in `check:` "
         "and sets its parameters in `params:`. An unknown parameter, a value of the wrong type, a "
         "value outside the allowed ones or a missing required parameter is refused with the "
         "file, line, column and field; so is the same mistake in a `.kguard.yaml` rule "
         "override's `params`.\n\n"
      << "| Template | Level | What it checks |\n|---|---|---|\n";
  for (const CheckTemplate& t : check_templates()) {
    doc << "| [`" << t.name << "`](#" << t.name << ") | "
        << (t.compile_set       ? "whole input"
            : t.compile_cluster ? "cluster"
                                : "object")
        << " | " << escape_cell(t.summary) << " |\n";
  }
  for (const CheckTemplate& t : check_templates()) {
    doc << "\n## " << t.name << "\n\n" << t.summary << ".\n\n";
    if (t.params.empty()) {
      doc << "No parameters.\n";
      continue;
    }
    doc << "| Parameter | Type | Required | Allowed | Default | Description |\n|---|---|---|---|---|---|\n";
    for (const ParamSpec& p : t.params) {
      std::string allowed;
      for (char c : p.allowed) allowed += c == '|' ? std::string(", ") : std::string(1, c);
      doc << "| `" << p.name << "` | " << to_string(p.type) << " | " << (p.required ? "yes" : "no") << " | "
          << escape_cell(allowed) << " | " << (p.default_value.empty() ? "" : "`" + escape_cell(p.default_value) + "`")
          << " | " << escape_cell(p.description);
      if ((p.type == ParamType::Integer || p.type == ParamType::IntegerList) &&
          (p.min != INT64_MIN || p.max != INT64_MAX)) {
        doc << " (" << (p.min != INT64_MIN ? std::to_string(p.min) : std::string()) << ".."
            << (p.max != INT64_MAX ? std::to_string(p.max) : std::string()) << ")";
      }
      doc << " |\n";
    }
  }
  return doc.str();
}

}  // namespace

std::map<std::string, std::string> render_rule_docs(const Catalog& catalog) {
  std::map<std::string, std::string> files;
  std::ostringstream index;
  index << "# kguard rules\n\n"
        << "Generated from `rules/` by `kguard rules docs docs/rules`; do not edit by hand.\n\n"
        << "| Category | Rules | Enabled by default |\n|---|---:|---:|\n";
  for (Category c : catalog.categories().all()) {
    std::vector<const Rule*> rules;
    for (const auto& r : catalog.rules())
      if (r->category == c) rules.push_back(r.get());
    std::size_t enabled = 0;
    for (const Rule* r : rules) enabled += r->enabled_by_default ? 1 : 0;
    const std::string file = std::string(to_string(c)) + ".md";
    index << "| [" << category_title(c) << "](" << file << ") | " << rules.size() << " | "
          << enabled << " |\n";

    std::ostringstream doc;
    doc << "# " << category_title(c) << " rules\n\n"
        << "Generated from `rules/` by `kguard rules docs docs/rules`; do not edit by hand.\n\n"
        << "| Rule | Severity | Title |\n|---|---|---|\n";
    for (const Rule* r : rules) {
      doc << "| [`" << r->id << "`](#" << r->id << ") | " << to_string(r->severity) << " | "
          << escape_cell(r->title) << (r->enabled_by_default ? "" : " (off by default)") << " |\n";
    }
    for (const Rule* r : rules) {
      doc << "\n## " << r->id << "\n\n"
          << "**" << r->title << "** — " << to_string(r->severity) << ", applies to "
          << kinds_of(*r) << (r->set_compiled ? " (whole-input check)" : r->cluster_compiled ? " (cluster check: the API server read by `kguard scan --cluster`)" : "")
          << (r->enabled_by_default ? "" : "; off by default, enable with `--only " + r->id +
                                               "` or the config")
          << ".\n\n"
          << "- **Risk:** " << r->rationale << "\n"
          << "- **Fix:** " << r->remediation << "\n";
      if (!r->zh.title.empty()) doc << "- **中文:** " << r->zh.title << "\n";
      if (r->pss_level) {
        doc << "- **Pod Security Standards:** " << to_string(*r->pss_level) << " control since v1."
            << r->pss_since;
        if (!r->pss_overridden_by.empty()) {
          doc << "; at restricted from v1." << r->pss_overridden_from << " replaced by [`"
              << r->pss_overridden_by << "`](#" << r->pss_overridden_by << ")";
        }
        doc << "\n";
      }
      // One risk, one finding: the related rules and which one reports a shared field.
      auto link = [&](const std::string& id) {
        const Rule* other = catalog.find(id);
        const std::string page =
            other && other->category != r->category ? std::string(to_string(other->category)) + ".md" : "";
        return "[`" + id + "`](" + page + "#" + id + ")";
      };
      if (!r->supersedes.empty()) {
        doc << "- **Related (reported here):** ";
        for (std::size_t i = 0; i < r->supersedes.size(); ++i) doc << (i ? ", " : "") << link(r->supersedes[i]);
        doc << " — when both fail the same field of an object, only this rule reports it\n";
      }
      std::vector<std::string> owners;
      for (const auto& other : catalog.rules()) {
        if (std::find(other->supersedes.begin(), other->supersedes.end(), r->id) != other->supersedes.end())
          owners.push_back(other->id);
      }
      if (!owners.empty()) {
        doc << "- **Related (reported there):** ";
        for (std::size_t i = 0; i < owners.size(); ++i) doc << (i ? ", " : "") << link(owners[i]);
        doc << " — when both fail the same field of an object, that rule reports it and this one is not repeated\n";
      }
      if (!r->references.empty()) {
        doc << "- **References:** ";
        for (std::size_t i = 0; i < r->references.size(); ++i)
          doc << (i ? "; " : "") << r->references[i];
        doc << "\n";
      }
      doc << "- **Check:** [`" << r->check << "`](templates.md#" << r->check << ") template, defined in `rules/"
          << r->source << "`\n";
    }
    files[file] = doc.str();
  }
  index << "\nCustom rules (`kguard scan --rules DIR`) bind one of the [check templates](templates.md) "
           "with their own parameters.\n";
  files["README.md"] = index.str();
  files["templates.md"] = render_template_docs();
  return files;
}

}  // namespace kg
