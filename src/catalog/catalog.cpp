#include "catalog/catalog.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/suggest.hpp"
#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> string_list(const Node* n) {
  std::vector<std::string> out;
  if (n && n->is_scalar()) out.emplace_back(n->text());
  for (const Node* item : items(n))
    if (item->is_scalar()) out.emplace_back(item->text());
  return out;
}

const Node* or_self(const Node* n, const Node* parent) { return n ? n : parent; }

bool valid_rule_id(std::string_view id) {
  if (id.empty() || id.front() == '-' || id.back() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// kguard's rule categories: the ids rule.yaml names, the English titles
// reports show, in report order.
constexpr std::pair<std::string_view, std::string_view> kCategories[] = {
    {"health", "Health checks"}, {"images", "Images"},     {"networking", "Networking"},
    {"resources", "Resources"},  {"security", "Security"},
};

}  // namespace

Catalog::Catalog() {
  for (const auto& [id, title] : kCategories) categories_.add(id, title);
}

// The keys a rule.yaml may hold; anything else is a typo or a field from
// another tool, and is refused rather than silently ignored.
constexpr std::string_view kRuleKeys[] = {"id",      "title",  "category", "severity", "rationale",
                                          "remediation", "references", "tags", "supersedes", "kinds", "zh",
                                          "enabled", "pss",    "check",    "when",     "params"};
constexpr std::string_view kZhKeys[] = {"title", "rationale", "remediation"};
constexpr std::string_view kPssKeys[] = {"level", "since", "overriddenAtRestrictedFrom", "overriddenBy"};

// Loading a rule is staged: parse (YAML), validate (every key and value of
// rule.yaml, then the params against the template's declarations), compile
// (the template builds its check). Every problem of a stage is reported, each
// with file:line:column and the field; a later stage runs only on a clean one.
bool Catalog::add_rule(const std::string& path, std::string_view content,
                       std::vector<InputError>& errors, RegexCache& regexes) {
  auto src = std::make_unique<SourceFile>();
  src->path = path;
  src->content = std::string(content);
  load_documents(*src);
  if (!src->errors.empty()) {
    for (auto& e : src->errors) errors.push_back(e);
    return false;
  }
  if (src->documents.size() != 1 || !src->documents[0].root->is_map()) {
    errors.push_back({path, 1, 1, "rule file must hold exactly one mapping"});
    return false;
  }
  const Node* root = src->documents[0].root;
  auto rule = std::make_unique<Rule>();
  rule->source = path;
  std::string id(str(root->get("id")));
  bool ok = true;
  auto bad = [&](const Node* at, std::string_view field, const std::string& why) {
    const Node* where = at ? at : root;
    errors.push_back({path, where->line, where->column,
                      "rule '" + (id.empty() ? std::string("?") : id) + "': field '" +
                          std::string(field) + "': " + why});
    ok = false;
    return false;
  };
  auto known_keys = [&](const Node* map, std::string_view prefix, std::span<const std::string_view> keys) {
    const std::vector<std::string_view> names(keys.begin(), keys.end());
    for (const MapEntry& e : map->entries()) {
      const std::string_view k = e.key->text();
      if (std::find(names.begin(), names.end(), k) == names.end())
        bad(e.key, std::string(prefix) + std::string(k), "unknown field" + did_you_mean(k, names));
    }
  };
  auto text = [&](std::string_view field, bool required) -> std::string {
    const Node* n = root->get(field);
    if (!n || n->is_null()) {
      if (required) bad(nullptr, field, "required and must be a non-empty string");
      return {};
    }
    if (!n->is_scalar() || (required && n->text().empty())) {
      bad(n, field, required ? "required and must be a non-empty string" : "must be a string");
      return {};
    }
    return std::string(n->text());
  };
  auto string_list_field = [&](std::string_view field) {
    const Node* n = root->get(field);
    if (n && !n->is_null() && !n->is_scalar() && !n->is_seq()) {
      bad(n, field, "must be a list of strings");
      return std::vector<std::string>{};
    }
    for (const Node* item : items(n))
      if (!item->is_scalar()) bad(item, field, "entries must be strings");
    return string_list(n);
  };

  // Stage 2: validate rule.yaml itself.
  known_keys(root, "", kRuleKeys);
  if (!valid_rule_id(id)) bad(root->get("id"), "id", "missing or not kebab-case");
  else if (find(id)) bad(root->get("id"), "id", "duplicate rule id");
  rule->id = id;
  rule->title = text("title", true);
  rule->rationale = text("rationale", true);
  rule->remediation = text("remediation", true);
  rule->check = text("check", true);
  if (const std::string c = text("category", true); !c.empty()) {
    if (auto cat = categories_.find(c)) {
      rule->category = *cat;
    } else {
      std::string known;
      for (Category k : categories_.all()) known += (known.empty() ? "" : ", ") + std::string(k.id());
      bad(root->get("category"), "category", "must be one of " + known);
    }
  }
  if (const std::string v = text("severity", true); !v.empty()) {
    if (auto sev = parse_severity(v)) rule->severity = *sev;
    else bad(root->get("severity"), "severity", "must be one of low, medium, high, critical");
  }
  if (const Node* zh = root->get("zh")) {
    if (!zh->is_map()) {
      bad(zh, "zh", "must be a mapping with title, rationale, remediation");
    } else {
      known_keys(zh, "zh.", kZhKeys);
      for (const MapEntry& e : zh->entries())
        if (!e.value->is_scalar()) bad(e.value, "zh." + std::string(e.key->text()), "must be a string");
      rule->zh.title = std::string(str(zh->get("title")));
      rule->zh.rationale = std::string(str(zh->get("rationale")));
      rule->zh.remediation = std::string(str(zh->get("remediation")));
    }
  }
  if (const Node* en = root->get("enabled")) {
    if (!en->as_bool()) bad(en, "enabled", "must be true or false");
    else rule->enabled_by_default = *en->as_bool();
  }
  rule->references = string_list_field("references");
  rule->tags = string_list_field("tags");
  rule->supersedes = string_list_field("supersedes");
  rule->kinds = string_list_field("kinds");
  if (rule->kinds.empty()) bad(root->get("kinds"), "kinds", "at least one kind is required");
  if (const Node* pss = root->get("pss")) {
    if (!pss->is_map()) {
      bad(pss, "pss", "must be a mapping with level, since and optionally overriddenAtRestrictedFrom and overriddenBy");
    } else {
      known_keys(pss, "pss.", kPssKeys);
      auto level = parse_pss_level(str(get(pss, "level")));
      if (!level || *level == PssLevel::Privileged)
        bad(or_self(get(pss, "level"), pss), "pss.level", "must be baseline or restricted");
      rule->pss_level = level;
      auto since = parse_pss_version(str(get(pss, "since")));
      if (!since) bad(or_self(get(pss, "since"), pss), "pss.since", "must be a version such as v1.19");
      else rule->pss_since = *since;
      if (const Node* o = get(pss, "overriddenAtRestrictedFrom")) {
        auto from = parse_pss_version(str(o));
        if (!from) bad(o, "pss.overriddenAtRestrictedFrom", "must be a version such as v1.22");
        else rule->pss_overridden_from = *from;
        rule->pss_overridden_by = std::string(str(get(pss, "overriddenBy")));
        if (rule->pss_overridden_by.empty())
          bad(o, "pss.overriddenBy", "name the restricted rule that overrides this one");
      }
    }
  }
  if (const Node* when = root->get("when")) {
    if (str(when) == "selected-by-service") rule->deferral = Deferral::SelectedByService;
    else bad(when, "when", "must be selected-by-service");
  }
  const CheckTemplate* tmpl = nullptr;
  if (!rule->check.empty()) {
    tmpl = find_check_template(rule->check);
    if (!tmpl) {
      std::vector<std::string_view> names;
      for (const CheckTemplate& t : check_templates()) names.push_back(t.name);
      bad(root->get("check"), "check",
          "unknown check template '" + rule->check + "'" + did_you_mean(rule->check, names) +
              "; `kguard rules templates` lists them");
    }
  }
  rule->params = root->get("params");
  // "mode: 'x' is not one of ..." names field params.mode.
  auto param_problem = [&](const ParamProblem& p) {
    const auto colon = p.message.find(": ");
    const bool named = colon != std::string::npos && p.message.find(' ') > colon;
    bad(p.at ? p.at : root, named ? "params." + p.message.substr(0, colon) : std::string("params"),
        named ? p.message.substr(colon + 2) : p.message);
  };
  if (tmpl)
    for (const ParamProblem& p : validate_params(*tmpl, rule->params)) param_problem(p);
  if (!ok) return false;

  // Stage 3: compile.
  std::vector<ParamProblem> problems;
  if (!compile_rule(*rule, rule->params, problems, &regexes)) {
    // A template's own message names its fields itself.
    for (const ParamProblem& p : problems) bad(p.at ? p.at : root, "params", p.message);
    return false;
  }
  rules_.push_back(std::move(rule));
  sources_.push_back(std::move(src));
  return true;
}

void Catalog::add_files(std::span<const CatalogFile> files, std::vector<InputError>& errors, bool trusted) {
  RegexCache regexes;
  regexes.defer = trusted;
  for (const CatalogFile& f : files) {
    // rules/audit/ holds audit-log detection rules, loaded by the audit engine (engines/audit).
    if (f.path.substr(0, 6) == "audit/") continue;
    if (ends_with(f.path, "rule.yaml")) add_rule(std::string(f.path), f.content, errors, regexes);
  }
}

void Catalog::add_directory(const std::string& dir, std::vector<InputError>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back({dir, 0, 0, "rules directory does not exist"});
    return;
  }
  // Only files named rule.yaml are rules (docs/configuration.md): a rule's
  // pass.yaml/fail.yaml fixtures and any other YAML beside it are not.
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename() == "rule.yaml" &&
        it->path().lexically_relative(dir).string().rfind("audit/", 0) != 0)  // audit rules: engines/audit
      paths.push_back(it->path().string());
  }
  if (ec) errors.push_back({dir, 0, 0, "cannot walk rules directory: " + ec.message()});
  if (paths.empty() && !ec) errors.push_back({dir, 0, 0, "no rule.yaml under this directory"});
  std::sort(paths.begin(), paths.end());
  RegexCache regexes;
  for (const std::string& p : paths) {
    std::string text;
    if (!read_file(p, text)) {
      errors.push_back({p, 0, 0, "cannot read rule file"});
      continue;
    }
    add_rule(p, text, errors, regexes);
  }
}

const Rule* Catalog::find(std::string_view id) const {
  for (const auto& r : rules_)
    if (r->id == id) return r.get();
  return nullptr;
}

const Catalog& Catalog::builtin() {
  static const Catalog kCatalog = [] {
    Catalog c;
    std::vector<InputError> errors;
    // Its regexes compile at first use (start-up is most of a small scan):
    // Catalog.LoadsWithoutErrorsAndEveryRuleIsComplete loads it eagerly.
    c.add_files(embedded_catalog_files(), errors, true);
    // The embedded catalog is tested at build time; an error here is a bug.
    for (const auto& e : errors) {
      std::fprintf(stderr, "kguard: internal catalog error: %s:%u: %s\n", e.file.c_str(), e.line,
                   e.message.c_str());
    }
    return c;
  }();
  return kCatalog;
}

}  // namespace kg
