// Rule documentation generated from the catalog (docs/rules/). The test
// suite regenerates it and fails when the committed copy is stale.
#pragma once

#include <map>
#include <string>

#include "catalog/catalog.hpp"

namespace kg {

// File name (relative to docs/rules/) → Markdown content.
std::map<std::string, std::string> render_rule_docs(const Catalog& catalog);

}  // namespace kg
