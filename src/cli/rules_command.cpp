#include <filesystem>
#include <fstream>
#include <iostream>

#include "catalog/catalog.hpp"
#include "catalog/docs.hpp"
#include "cli/commands.hpp"
#include "core/json_writer.hpp"

namespace kg::cli {

int rules_command(const std::vector<std::string>& args) {
  const Catalog& catalog = Catalog::builtin();
  if (args.empty() || args[0] == "list") {
    const bool json = args.size() >= 3 && args[1] == "-o" && args[2] == "json";
    if (json) {
      JsonWriter w(std::cout);
      w.begin_array();
      for (const auto& r : catalog.rules()) {
        w.begin_object()
            .field("id", r->id)
            .field("title", r->title)
            .field("category", to_string(r->category))
            .field("severity", to_string(r->severity))
            .field("check", r->check)
            // "set" rules need the whole input (NetworkPolicies, RBAC...), so
            // admission, which sees one object, does not run them.
            .field("scope", r->set_compiled ? "set" : "object");
        w.key("tags").begin_array();
        for (const auto& t : r->tags) w.value(t);
        w.end_array().end_object();
      }
      w.end_array();
      std::cout << '\n';
      return 0;
    }
    for (const auto& r : catalog.rules())
      std::cout << r->id << std::string(r->id.size() < 34 ? 34 - r->id.size() : 1, ' ')
                << to_string(r->category) << std::string(12 - to_string(r->category).size(), ' ')
                << to_string(r->severity) << std::string(10 - to_string(r->severity).size(), ' ')
                << r->title << '\n';
    return 0;
  }
  if (args[0] == "show" && args.size() == 2) {
    const Rule* r = catalog.find(args[1]);
    if (!r) {
      std::cerr << "kguard rules: no rule '" << args[1] << "'\n";
      return 2;
    }
    std::cout << r->id << ": " << r->title << "\n\n"
              << "Category:    " << category_title(r->category) << "\n"
              << "Severity:    " << to_string(r->severity) << "\n"
              << "Applies to:  ";
    for (std::size_t i = 0; i < r->kinds.size(); ++i) std::cout << (i ? ", " : "") << r->kinds[i];
    std::cout << "\n\nRisk:        " << r->rationale << "\nFix:         " << r->remediation
              << "\n\nReferences:\n";
    for (const auto& ref : r->references) std::cout << "  - " << ref << '\n';
    return 0;
  }
  if (args[0] == "docs" && args.size() == 2) {
    std::filesystem::create_directories(args[1]);
    for (const auto& [name, text] : render_rule_docs(catalog)) {
      std::ofstream out(std::filesystem::path(args[1]) / name, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) {
        std::cerr << "kguard rules: cannot write " << args[1] << '/' << name << '\n';
        return 2;
      }
    }
    return 0;
  }
  std::cerr << "Usage: kguard rules list [-o json] | kguard rules show ID | kguard rules docs DIR\n";
  return 2;
}

}  // namespace kg::cli
