#include "catalog/catalog.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

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

bool Catalog::add_rule(const std::string& path, std::string_view content,
                       std::vector<InputError>& errors) {
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
  auto bad = [&](const Node* at, std::string_view field, const std::string& why) {
    const Node* where = at ? at : root;
    errors.push_back({path, where->line, where->column,
                      "rule '" + (id.empty() ? std::string("?") : id) + "': field '" +
                          std::string(field) + "': " + why});
    return false;
  };
  auto required = [&](std::string_view field) -> const Node* {
    const Node* n = root->get(field);
    if (!n || !n->is_scalar() || n->text().empty()) return nullptr;
    return n;
  };
  if (!valid_rule_id(id)) return bad(root->get("id"), "id", "missing or not kebab-case");
  if (find(id)) return bad(root->get("id"), "id", "duplicate rule id");
  rule->id = id;
  for (std::string_view f : {"title", "category", "severity", "rationale", "remediation", "check"})
    if (!required(f)) return bad(root->get(f), f, "required and must be a non-empty string");
  rule->title = std::string(str(root->get("title")));
  rule->rationale = std::string(str(root->get("rationale")));
  rule->remediation = std::string(str(root->get("remediation")));
  auto cat = categories_.find(str(root->get("category")));
  if (!cat) {
    std::string known;
    for (Category c : categories_.all()) known += (known.empty() ? "" : ", ") + std::string(c.id());
    return bad(root->get("category"), "category", "must be one of " + known);
  }
  rule->category = *cat;
  auto sev = parse_severity(str(root->get("severity")));
  if (!sev) return bad(root->get("severity"), "severity", "must be one of low, medium, high, critical");
  rule->severity = *sev;
  if (const Node* zh = root->get("zh")) {
    if (!zh->is_map()) return bad(zh, "zh", "must be a mapping with title, rationale, remediation");
    rule->zh.title = std::string(str(zh->get("title")));
    rule->zh.rationale = std::string(str(zh->get("rationale")));
    rule->zh.remediation = std::string(str(zh->get("remediation")));
  }
  if (const Node* en = root->get("enabled")) {
    if (!en->as_bool()) return bad(en, "enabled", "must be true or false");
    rule->enabled_by_default = *en->as_bool();
  }
  rule->references = string_list(root->get("references"));
  rule->tags = string_list(root->get("tags"));
  rule->kinds = string_list(root->get("kinds"));
  if (rule->kinds.empty()) return bad(root->get("kinds"), "kinds", "at least one kind is required");
  if (const Node* pss = root->get("pss")) {
    auto level = parse_pss_level(str(get(pss, "level")));
    if (!level || *level == PssLevel::Privileged)
      return bad(pss, "pss.level", "must be baseline or restricted");
    rule->pss_level = level;
    auto since = parse_pss_version(str(get(pss, "since")));
    if (!since) return bad(pss, "pss.since", "must be a version such as v1.19");
    rule->pss_since = *since;
    if (const Node* o = get(pss, "overriddenAtRestrictedFrom")) {
      auto from = parse_pss_version(str(o));
      if (!from) return bad(o, "pss.overriddenAtRestrictedFrom", "must be a version such as v1.22");
      rule->pss_overridden_from = *from;
    }
  }
  rule->check = std::string(str(root->get("check")));
  if (const Node* when = root->get("when")) {
    if (str(when) == "selected-by-service") {
      rule->deferral = Deferral::SelectedByService;
    } else {
      return bad(when, "when", "must be selected-by-service");
    }
  }
  if (!find_check_template(rule->check))
    return bad(root->get("check"), "check", "unknown check template '" + rule->check + "'");
  std::string error;
  rule->params = root->get("params");
  if (!compile_rule(*rule, rule->params, error))
    return bad(rule->params, "params", error);
  rules_.push_back(std::move(rule));
  sources_.push_back(std::move(src));
  return true;
}

void Catalog::add_files(std::span<const CatalogFile> files, std::vector<InputError>& errors) {
  for (const CatalogFile& f : files)
    if (ends_with(f.path, "rule.yaml")) add_rule(std::string(f.path), f.content, errors);
}

void Catalog::add_directory(const std::string& dir, std::vector<InputError>& errors) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back({dir, 0, 0, "rules directory does not exist"});
    return;
  }
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::string p = it->path().string();
    if (it->is_regular_file() && (ends_with(p, ".yaml") || ends_with(p, ".yml")) &&
        it->path().filename() != "pass.yaml" && it->path().filename() != "fail.yaml")
      paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  for (const std::string& p : paths) {
    std::string text;
    if (!read_file(p, text)) {
      errors.push_back({p, 0, 0, "cannot read rule file"});
      continue;
    }
    add_rule(p, text, errors);
  }
}

const Rule* Catalog::find(std::string_view id) const {
  for (const auto& r : rules_)
    if (r->id == id) return r.get();
  return nullptr;
}

const Catalog& Catalog::builtin() {
  static const Catalog catalog = [] {
    Catalog c;
    std::vector<InputError> errors;
    c.add_files(embedded_catalog_files(), errors);
    // The embedded catalog is tested at build time; an error here is a bug.
    for (const auto& e : errors)
      std::fprintf(stderr, "kguard: internal catalog error: %s:%u: %s\n", e.file.c_str(), e.line,
                   e.message.c_str());
    return c;
  }();
  return catalog;
}

}  // namespace kg
