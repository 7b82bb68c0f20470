// Secret and sensitive-data templates (scanners.md §2.7):
//  - `env-var`: literal secrets in container env (by name and by value
//    pattern), Secrets consumed as env vars, and env names whose mere presence
//    is a finding;
//  - `configmap-data`: ConfigMap keys or values that look like secrets or PII.
// Messages never contain a value: they name the key and what matched.
//
// Patterns are ECMAScript regular expressions; a leading "(?i)" makes one
// case-insensitive. Each is either a string or {name, pattern, keywords},
// the name being what findings report and keywords (optional) substrings of
// which one must occur in a line, case-insensitively, before the regex runs:
// std::regex is slow, and this keeps large ConfigMaps cheap. Each pattern
// also carries a RegexPrefilter derived from it, so a line without the
// characters a match needs never reaches std::regex. Text is matched
// line by line with bounded line and total lengths, so hostile input cannot
// make the matcher recurse deeply or run long.
#include <algorithm>
#include <regex>
#include <utility>

#include "checks/check_util.hpp"
#include "checks/regex_cache.hpp"
#include "checks/regex_prefilter.hpp"
#include "checks/registry.hpp"
#include "core/ascii.hpp"

namespace kg {
namespace {

using checks::describe;
using checks::quote;

constexpr std::size_t kMaxLine = 512;           // longer lines are matched by their start
constexpr std::size_t kMaxScanned = std::size_t{256} * 1024;  // per value



struct Pattern {
  std::string name;
  std::shared_ptr<const LazyRegex> re;
  std::vector<std::string> keywords;  // lower-case; empty = always run the regex
  RegexPrefilter required;            // what any match contains, derived from the pattern
};

struct SearchScratch {
  std::string folded;
  std::vector<const Pattern*> live;
};

class Patterns {
 public:
  // Compiles params[key]; false (with error) when an entry is malformed.
  bool compile(const Params& params, std::string_view key, std::string& error) {
    const Node* list = params.get(key);
    if (!list) return true;
    if (!list->is_seq()) {
      error = std::string(key) + " must be a list of patterns";
      return false;
    }
    for (const Node* item : list->items()) {
      std::string name;
      std::string_view text;
      std::vector<std::string> keywords;
      if (item->is_scalar()) {
        text = item->text();
      } else if (item->is_map()) {
        name = std::string(str(item->get("name")));
        text = str(item->get("pattern"));
        const Node* kw = item->get("keywords");
        if (kw && !kw->is_seq()) {
          error = std::string(key) + ": keywords must be a list of strings";
          return false;
        }
        for (const Node* k : items(kw)) {
          if (str(k).empty()) {
            error = std::string(key) + ": keywords must be non-empty strings";
            return false;
          }
          keywords.push_back(ascii_lower(str(k)));
        }
      }
      if (text.empty()) {
        error = std::string(key) + " entries must be a pattern string or {name, pattern, keywords}";
        return false;
      }
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      std::string source(text);
      if (source.starts_with("(?i)")) {
        source.erase(0, 4);
        flags |= std::regex::icase;
      }
      try {
        const bool icase = (flags & std::regex::icase) != 0;
        patterns_.push_back({name.empty() ? std::string(text) : name, compile_lazy_regex(params.regexes(), source, flags),
                             std::move(keywords), RegexPrefilter::analyze(source, icase)});
        if (!patterns_.back().keywords.empty()) any_keywords_ = true;
      } catch (const std::regex_error& e) {
        error = std::string(key) + ": invalid pattern " + quote(text) + ": " + e.what();
        return false;
      }
    }
    return true;
  }

  bool empty() const { return patterns_.empty(); }

  // The first pattern found in `text` (line by line), or nullptr. Scratch
  // buffers live in the evaluation context.
  const Pattern* search(std::string_view text, EvalContext& ctx) const {
    if (patterns_.empty()) return nullptr;
    text = text.substr(0, kMaxScanned);
    SearchScratch& scratch = ctx.local<SearchScratch>();
    // Fold the whole text once; a line's folded form is the same slice of it.
    std::string& folded = scratch.folded;
    if (any_keywords_) {
      folded.assign(text);
      for (char& c : folded)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    auto has_keyword = [](const Pattern& p, std::string_view in) {
      return p.keywords.empty() ||
             std::any_of(p.keywords.begin(), p.keywords.end(),
                         [&](const std::string& k) { return in.find(k) != std::string_view::npos; });
    };
    // Patterns that cannot match anywhere in the text (no keyword, not the
    // characters a match needs) are dropped before the line loop.
    const std::string_view folded_text = any_keywords_ ? std::string_view(folded) : std::string_view{};
    std::vector<const Pattern*>& live = scratch.live;
    live.clear();
    for (const Pattern& p : patterns_)
      if (has_keyword(p, folded_text) && p.required.may_match(text)) live.push_back(&p);
    if (live.empty()) return nullptr;
    std::size_t offset = 0;
    while (offset < text.size()) {
      const std::string_view rest = text.substr(offset);
      const auto nl = rest.find('\n');
      const std::string_view line = rest.substr(0, std::min(nl, kMaxLine));
      const std::string_view folded_line =
          any_keywords_ ? folded_text.substr(offset, line.size()) : std::string_view{};
      for (const Pattern* p : live) {
        if (!has_keyword(*p, folded_line)) continue;
        if (!p->required.may_match(line)) continue;
        if (std::regex_search(line.begin(), line.end(), p->re->get())) return p;
      }
      if (nl == std::string_view::npos) break;
      offset += nl + 1;
    }
    return nullptr;
  }

 private:
  std::vector<Pattern> patterns_;
  bool any_keywords_ = false;
};

// --- `env-var` ----------------------------------------------------------------------

enum class EnvMode { Literal, SecretRef, Name };

class EnvVarCheck final : public Check {
 public:
  EnvMode mode = EnvMode::Literal;
  Patterns names, ignore_names, values, ignore_values;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : containers_of(in.pod)) {
      any = true;
      const std::string env_path = join_path(c.path, "env");
      std::size_t i = 0;
      for (const Node* e : items(c.node->get("env"))) {
        check_env(in, c, e, index_path(env_path, i), out);
        ++i;
      }
      if (mode == EnvMode::SecretRef) {
        i = 0;
        for (const Node* e : items(c.node->get("envFrom"))) {
          if (const Node* ref = get(e, "secretRef"); ref && !ref->is_null()) {
            out.push_back({describe(c) + " loads every key of Secret " +
                               quote(str(get(ref, "name"))) + " into environment variables",
                           ref, join_path(index_path(join_path(c.path, "envFrom"), i), "secretRef"),
                           std::string(c.name)});
          }
          ++i;
        }
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  void check_env(const CheckInput& in, const ContainerRef& c, const Node* e,
                 const std::string& path, std::vector<Violation>& out) const {
    const Node* name_node = get(e, "name");
    std::string_view name = str(name_node);
    switch (mode) {
      case EnvMode::SecretRef: {
        const Node* ref = get(get(e, "valueFrom"), "secretKeyRef");
        if (ref && !ref->is_null()) {
          out.push_back({describe(c) + " reads Secret " + quote(str(get(ref, "name"))) + " key " +
                             quote(str(get(ref, "key"))) + " into environment variable " +
                             quote(name),
                         ref, join_path(path, "valueFrom.secretKeyRef"), std::string(c.name)});
        }
        return;
      }
      case EnvMode::Name:
        if (names.search(name, in.ctx)) {
          out.push_back({describe(c) + " sets environment variable " + quote(name), name_node,
                         join_path(path, "name"), std::string(c.name)});
        }
        return;
      case EnvMode::Literal: {
        const Node* value = get(e, "value");
        if (!value || !value->is_scalar() || value->text().empty()) return;
        std::string_view v = value->text();
        std::string why;
        if (const Pattern* p = values.search(v, in.ctx)) {
          why = "its value looks like " + p->name;
        } else if (names.search(name, in.ctx) && !ignore_names.search(name, in.ctx) &&
                   !ignore_values.search(v, in.ctx)) {
          why = "its name looks like a secret";
        } else {
          return;
        }
        out.push_back({describe(c) + " sets environment variable " + quote(name) +
                           " to a literal value (redacted); " + why +
                           ". Use valueFrom.secretKeyRef or a mounted Secret",
                       value, join_path(path, "value"), std::string(c.name)});
        return;
      }
    }
  }
};

// --- `configmap-data` ---------------------------------------------------------------

class ConfigMapDataCheck final : public Check {
 public:
  Patterns keys, ignore_keys, values, ignore_values;
  std::string what;  // "secret-like content"

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* data = get(in.obj.root, "data");
    const std::string base = join_path(in.obj.path_prefix, "data");
    for (const MapEntry& e : entries(data)) {
      std::string_view key = e.key->text();
      std::string_view v = str(e.value);
      std::string why;
      if (const Pattern* p = values.search(v, in.ctx)) {
        why = "its value matches " + p->name;
      } else if (!v.empty() && keys.search(key, in.ctx) && !ignore_keys.search(key, in.ctx) &&
                 !ignore_values.search(v, in.ctx)) {
        why = "its key name matches " + keys.search(key, in.ctx)->name;
      } else {
        continue;
      }
      out.push_back({"ConfigMap key " + quote(key) + " holds " + what + " (value redacted): " +
                         why,
                     e.key, join_path(base, key), {}});
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

}  // namespace

std::unique_ptr<Check> compile_env_var_check(const Params& params, std::string& error) {
  auto check = std::make_unique<EnvVarCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "literal") check->mode = EnvMode::Literal;
  else if (mode == "secret-ref") check->mode = EnvMode::SecretRef;
  else if (mode == "name") check->mode = EnvMode::Name;
  else {
    error = "mode must be literal, secret-ref or name";
    return nullptr;
  }
  if (!check->names.compile(params, "names", error) ||
      !check->ignore_names.compile(params, "ignoreNames", error) ||
      !check->values.compile(params, "values", error) ||
      !check->ignore_values.compile(params, "ignoreValues", error))
    return nullptr;
  if (check->mode == EnvMode::Name && check->names.empty()) {
    error = "names is required for mode name";
    return nullptr;
  }
  if (check->mode == EnvMode::Literal && check->names.empty() && check->values.empty()) {
    error = "names or values is required for mode literal";
    return nullptr;
  }
  return check;
}

std::unique_ptr<Check> compile_configmap_data_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ConfigMapDataCheck>();
  if (!check->keys.compile(params, "keys", error) ||
      !check->ignore_keys.compile(params, "ignoreKeys", error) ||
      !check->values.compile(params, "values", error) ||
      !check->ignore_values.compile(params, "ignoreValues", error))
    return nullptr;
  if (check->keys.empty() && check->values.empty()) {
    error = "keys or values is required";
    return nullptr;
  }
  check->what = std::string(params.string("description"));
  if (check->what.empty()) check->what = "sensitive content";
  return check;
}

}  // namespace kg
