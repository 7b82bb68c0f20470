#include <filesystem>
#include <fstream>
#include <iostream>

#include "catalog/catalog.hpp"
#include "catalog/docs.hpp"
#include "catalog/suggest.hpp"
#include "checks/registry.hpp"
#include "cli/commands.hpp"
#include "core/json_writer.hpp"

namespace kg::cli {
namespace {

constexpr const char* kRulesHelp = R"(Usage: kguard rules list [-o text|json]     the rule catalog (text shows on/off by default)
       kguard rules show ID [-o text|json]  one rule with every field
       kguard rules templates [-o text|json]
                                           the check templates custom rules bind, with
                                           their parameters (type, allowed, default)
       kguard rules docs DIR                write the rule reference (docs/rules)

Run `kguard rules SUBCOMMAND --help` for one subcommand.
)";

constexpr const char* kListHelp = R"(Usage: kguard rules list [-o text|json]

Lists the built-in rule catalog: id, category, severity, whether the rule is
on by default, and its title. -o json gives every field of every rule (the
same object as `kguard rules show ID -o json`).
)";

constexpr const char* kShowHelp = R"(Usage: kguard rules show ID [-o text|json]

Shows one rule: risk, fix, references, kinds, its check template and the
parameters it sets (with the template's defaults for the others), the
Chinese text, and its Pod Security Standards level where it has one.
)";

constexpr const char* kTemplatesHelp = R"(Usage: kguard rules templates [-o text|json]

Lists the check templates a rule.yaml can bind (`check:`), each with its
parameters: name, type, allowed values, default, whether required. An unknown
or ill-typed parameter is refused when the rule loads.
)";

constexpr const char* kDocsHelp = R"(Usage: kguard rules docs DIR

Writes the rule reference into DIR: README.md, one file per category and
templates.md (the check templates and their parameters). docs/rules is
generated this way; a test fails when it is stale.
)";

int usage_error(std::string_view sub, const std::string& msg) {
  std::cerr << "kguard rules" << (sub.empty() ? "" : " ") << sub << ": " << msg << "\nRun `kguard rules"
            << (sub.empty() ? "" : " ") << sub << " --help` for usage.\n";
  return 2;
}

// The parsed arguments of one subcommand: positionals and -o.
struct SubArgs {
  std::vector<std::string> positional;
  bool json = false;
  bool help = false;
};

// Reads `-o text|json` (when `output` is allowed), --help and positionals;
// anything else starting with '-' is an error. Returns 0 when fine.
int parse_sub(std::string_view sub, const std::vector<std::string>& args, bool output, SubArgs& out) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
    } else if (output && (a == "-o" || a == "--output" || a.rfind("--output=", 0) == 0 || a.rfind("-o=", 0) == 0)) {
      std::string v;
      if (auto eq = a.find('='); eq != std::string::npos) {
        v = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        v = args[++i];
      } else {
        return usage_error(sub, a + " needs a format: text or json");
      }
      if (v != "text" && v != "json") return usage_error(sub, "-o: format must be text or json, not '" + v + "'");
      out.json = v == "json";
    } else if (a == "--") {
      out.positional.insert(out.positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      return usage_error(sub, "unknown option '" + a + "'");
    } else {
      out.positional.push_back(a);
    }
  }
  return 0;
}

std::string_view scope_of(const Rule& r) {
  // "set" rules need the whole input (NetworkPolicies, RBAC...), so
  // admission, which sees one object, does not run them.
  return r.set_compiled ? "set" : r.cluster_compiled ? "cluster" : "object";
}

std::string pss_version(int minor) { return "v1." + std::to_string(minor); }

// A parameter value as written in rule.yaml, as JSON (plain numbers and
// booleans keep their type; quoted scalars stay strings).
void write_node(JsonWriter& w, const Node* n) {
  if (!n || n->is_null()) {
    w.null();
  } else if (n->is_map()) {
    w.begin_object();
    for (const MapEntry& e : n->entries()) {
      w.key(e.key->text());
      write_node(w, e.value);
    }
    w.end_object();
  } else if (n->is_seq()) {
    w.begin_array();
    for (const Node* i : n->items()) write_node(w, i);
    w.end_array();
  } else if (!n->quoted && n->as_bool()) {
    w.value(*n->as_bool());
  } else if (!n->quoted && n->as_int() && *n->as_int() >= 0) {
    w.value(static_cast<std::uint64_t>(*n->as_int()));
  } else {
    w.value(n->text());
  }
}

std::vector<std::string_view> allowed_values(std::string_view allowed) {
  std::vector<std::string_view> out;
  while (!allowed.empty()) {
    const auto bar = allowed.find('|');
    out.push_back(allowed.substr(0, bar));
    if (bar == std::string_view::npos) break;
    allowed.remove_prefix(bar + 1);
  }
  return out;
}

void write_param_spec(JsonWriter& w, const ParamSpec& p) {
  w.field("name", p.name).field("type", to_string(p.type)).field("required", p.required);
  w.key("allowed");
  if (p.allowed.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (std::string_view v : allowed_values(p.allowed)) w.value(v);
    w.end_array();
  }
  w.key("default");
  if (p.default_value.empty()) w.null();
  else w.value(p.default_value);
  if (p.type == ParamType::Integer || p.type == ParamType::IntegerList) {
    w.key("min");
    if (p.min == INT64_MIN) w.null();
    else w.value(static_cast<int>(p.min));
    w.key("max");
    if (p.max == INT64_MAX) w.null();
    else w.value(static_cast<int>(p.max));
  }
  w.field("description", p.description);
}

void write_rule(JsonWriter& w, const Rule& r) {
  w.begin_object()
      .field("id", r.id)
      .field("title", r.title)
      .field("category", to_string(r.category))
      .field("severity", to_string(r.severity))
      .field("enabledByDefault", r.enabled_by_default)
      .field("check", r.check)
      .field("scope", scope_of(r))
      .field("rationale", r.rationale)
      .field("remediation", r.remediation);
  w.key("references").begin_array();
  for (const auto& x : r.references) w.value(x);
  w.end_array();
  w.key("kinds").begin_array();
  for (const auto& k : r.kinds) w.value(k);
  w.end_array();
  w.key("tags").begin_array();
  for (const auto& t : r.tags) w.value(t);
  w.end_array();
  w.key("zh").begin_object().field("title", r.zh.title).field("rationale", r.zh.rationale)
      .field("remediation", r.zh.remediation).end_object();
  w.key("pss");
  if (r.pss_level) {
    w.begin_object().field("level", to_string(*r.pss_level)).field("since", pss_version(r.pss_since));
    w.key("overriddenAtRestrictedFrom");
    if (r.pss_overridden_from >= 0) w.value(pss_version(r.pss_overridden_from));
    else w.null();
    w.end_object();
  } else {
    w.null();
  }
  w.key("when");
  if (r.deferral == Deferral::SelectedByService) w.value("selected-by-service");
  else w.null();
  // The rule's parameters as written, then every parameter of its template
  // with the value in force: the rule's, else the template's default.
  w.key("params");
  write_node(w, r.params);
  w.key("parameters").begin_array();
  if (const CheckTemplate* t = find_check_template(r.check)) {
    for (const ParamSpec& p : t->params) {
      w.begin_object();
      write_param_spec(w, p);
      const Node* set = get(r.params, p.name);
      w.field("set", set != nullptr);
      w.key("value");
      if (set) write_node(w, set);
      else if (!p.default_value.empty()) w.value(p.default_value);
      else w.null();
      w.end_object();
    }
  }
  w.end_array();
  w.field("source", r.source);
  w.end_object();
}

void print_node(std::ostream& out, const Node* n) {
  if (!n || n->is_null()) {
    out << "null";
  } else if (n->is_scalar()) {
    out << n->text();
  } else if (n->is_seq()) {
    out << '[';
    bool first = true;
    for (const Node* i : n->items()) {
      out << (first ? "" : ", ");
      print_node(out, i);
      first = false;
    }
    out << ']';
  } else {
    out << '{';
    bool first = true;
    for (const MapEntry& e : n->entries()) {
      out << (first ? "" : ", ") << e.key->text() << ": ";
      print_node(out, e.value);
      first = false;
    }
    out << '}';
  }
}

int list_rules(const Catalog& catalog, bool json) {
  if (json) {
    JsonWriter w(std::cout);
    w.begin_array();
    for (const auto& r : catalog.rules()) write_rule(w, *r);
    w.end_array();
    w.flush();
    std::cout << '\n';
    return 0;
  }
  auto pad = [](std::string_view s, std::size_t width) {
    return std::string(s) + std::string(s.size() < width ? width - s.size() : 1, ' ');
  };
  std::cout << pad("RULE", 42) << pad("CATEGORY", 12) << pad("SEVERITY", 10) << pad("DEFAULT", 9)
            << "TITLE\n";
  for (const auto& r : catalog.rules()) {
    std::cout << pad(r->id, 42) << pad(to_string(r->category), 12)
              << pad(to_string(r->severity), 10) << pad(r->enabled_by_default ? "on" : "off", 9)
              << r->title << '\n';
  }
  return 0;
}

int show_rule(const Rule& r, bool json) {
  if (json) {
    JsonWriter w(std::cout);
    write_rule(w, r);
    w.flush();
    std::cout << '\n';
    return 0;
  }
  std::cout << r.id << ": " << r.title << "\n\n"
            << "Category:    " << category_title(r.category) << "\n"
            << "Severity:    " << to_string(r.severity) << "\n"
            << "Default:     " << (r.enabled_by_default ? "on" : "off (enable with --only " + r.id + " or the config)")
            << "\n"
            << "Applies to:  ";
  for (std::size_t i = 0; i < r.kinds.size(); ++i) std::cout << (i ? ", " : "") << r.kinds[i];
  std::cout << "\n";
  if (!r.tags.empty()) {
    std::cout << "Tags:        ";
    for (std::size_t i = 0; i < r.tags.size(); ++i) std::cout << (i ? ", " : "") << r.tags[i];
    std::cout << "\n";
  }
  if (r.pss_level) {
    std::cout << "PSS:         " << to_string(*r.pss_level) << " control since "
              << pss_version(r.pss_since)
              << (r.pss_overridden_from >= 0
                      ? ", replaced at restricted from " + pss_version(r.pss_overridden_from)
                      : "")
              << "\n";
  }
  std::cout << "Check:       " << r.check << " (" << scope_of(r) << " level)\n"
            << "\nRisk:        " << r.rationale << "\nFix:         " << r.remediation << "\n";
  if (!r.zh.title.empty()) {
    std::cout << "\n中文:        " << r.zh.title << "\n风险:        " << r.zh.rationale
              << "\n修复:        " << r.zh.remediation << "\n";
  }
  if (const CheckTemplate* t = find_check_template(r.check); t && !t->params.empty()) {
    std::cout << "\nParameters:\n";
    for (const ParamSpec& p : t->params) {
      std::cout << "  " << p.name << ": ";
      if (const Node* set = get(r.params, p.name)) print_node(std::cout, set);
      else if (!p.default_value.empty()) std::cout << p.default_value << " (default)";
      else std::cout << "(unset)";
      std::cout << '\n';
    }
  }
  std::cout << "\nReferences:\n";
  for (const auto& ref : r.references) std::cout << "  - " << ref << '\n';
  return 0;
}

int list_templates(bool json) {
  if (json) {
    JsonWriter w(std::cout);
    w.begin_array();
    for (const CheckTemplate& t : check_templates()) {
      w.begin_object().field("name", t.name).field("description", t.summary);
      w.field("scope", t.compile_set ? "set" : t.compile_cluster ? "cluster" : "object");
      w.key("parameters").begin_array();
      for (const ParamSpec& p : t.params) {
        w.begin_object();
        write_param_spec(w, p);
        w.end_object();
      }
      w.end_array().end_object();
    }
    w.end_array();
    w.flush();
    std::cout << '\n';
    return 0;
  }
  for (const CheckTemplate& t : check_templates()) {
    std::cout << t.name << " — " << t.summary << '\n';
    if (t.params.empty()) std::cout << "    (no parameters)\n";
    for (const ParamSpec& p : t.params) {
      std::cout << "    " << p.name << " (" << to_string(p.type) << (p.required ? ", required" : "") << ")";
      if (!p.allowed.empty()) {
        std::cout << " one of: ";
        const auto values = allowed_values(p.allowed);
        for (std::size_t i = 0; i < values.size(); ++i) std::cout << (i ? ", " : "") << values[i];
      }
      if (!p.default_value.empty()) std::cout << "; default " << p.default_value;
      std::cout << "\n        " << p.description << '\n';
    }
  }
  return 0;
}

}  // namespace

int rules_command(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")) {
    std::cout << kRulesHelp;
    return 0;
  }
  const Catalog& catalog = Catalog::builtin();
  // `kguard rules` alone lists the catalog, as it always did.
  const std::string sub = args.empty() ? "list" : args[0];
  const std::vector<std::string> rest = args.empty() ? std::vector<std::string>{"list"} : args;
  SubArgs a;
  if (sub == "list") {
    if (int rc = parse_sub(sub, rest, true, a)) return rc;
    if (a.help) return std::cout << kListHelp, 0;
    if (!a.positional.empty()) return usage_error(sub, "unexpected argument '" + a.positional[0] + "'");
    return list_rules(catalog, a.json);
  }
  if (sub == "show") {
    if (int rc = parse_sub(sub, rest, true, a)) return rc;
    if (a.help) return std::cout << kShowHelp, 0;
    if (a.positional.size() != 1) return usage_error(sub, "give exactly one rule id");
    const Rule* r = catalog.find(a.positional[0]);
    if (!r) {
      std::vector<std::string_view> ids;
      for (const auto& x : catalog.rules()) ids.push_back(x->id);
      std::cerr << "kguard rules: no rule '" << a.positional[0] << "'" << did_you_mean(a.positional[0], ids) << '\n';
      return 2;
    }
    return show_rule(*r, a.json);
  }
  if (sub == "templates") {
    if (int rc = parse_sub(sub, rest, true, a)) return rc;
    if (a.help) return std::cout << kTemplatesHelp, 0;
    if (!a.positional.empty()) return usage_error(sub, "unexpected argument '" + a.positional[0] + "'");
    return list_templates(a.json);
  }
  if (sub == "docs") {
    if (int rc = parse_sub(sub, rest, false, a)) return rc;
    if (a.help) return std::cout << kDocsHelp, 0;
    if (a.positional.size() != 1) return usage_error(sub, "give exactly one output directory");
    const std::string& dir = a.positional[0];
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      std::cerr << "kguard rules docs: cannot create " << dir << ": " << ec.message() << '\n';
      return 2;
    }
    for (const auto& [name, text] : render_rule_docs(catalog)) {
      std::ofstream out(std::filesystem::path(dir) / name, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) {
        std::cerr << "kguard rules: cannot write " << dir << '/' << name << '\n';
        return 2;
      }
    }
    return 0;
  }
  return usage_error("", "unknown subcommand '" + sub + "' (list, show, templates, docs)");
}

}  // namespace kg::cli
