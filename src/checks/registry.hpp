// The check templates. Every template is registered in the one explicit list
// in registry.cpp; rules bind a template by name with their own parameters.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "catalog/rule.hpp"

namespace kg {

// Reads a template's parameters; errors name the offending field.
class Params {
 public:
  explicit Params(const Node* node) : node_(node) {}
  const Node* node() const { return node_; }
  const Node* get(std::string_view key) const { return kg::get(node_, key); }
  std::string_view string(std::string_view key) const { return str(get(key)); }
  std::vector<std::string> strings(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key) const;

 private:
  const Node* node_;
};

using CompileFn = std::unique_ptr<Check> (*)(const Params& params, std::string& error);
using CompileSetFn = std::unique_ptr<SetCheck> (*)(const Params& params, std::string& error);

// Exactly one of compile / compile_set is set.
struct CheckTemplate {
  std::string_view name;
  std::string_view summary;
  CompileFn compile;
  CompileSetFn compile_set = nullptr;
};

// Binds `rule` to its template with `params`; false with `error` on failure.
bool compile_rule(Rule& rule, const Node* params, std::string& error);

std::span<const CheckTemplate> check_templates();
const CheckTemplate* find_check_template(std::string_view name);

// Template families, each defined in its own file.
std::unique_ptr<Check> compile_pss_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_field_check(const Params& params, std::string& error);
std::unique_ptr<Check> compile_image_check(const Params& params, std::string& error);
// Set-level templates (set_checks.cpp).
std::unique_ptr<SetCheck> compile_network_coverage_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_namespace_policy_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_selector_target_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_pdb_coverage_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_service_account_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_rbac_grant_check(const Params& params, std::string& error);
std::unique_ptr<SetCheck> compile_sandbox_check(const Params& params, std::string& error);

}  // namespace kg
