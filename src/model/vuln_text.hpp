// What a report says about a suppressed vulnerability, in each language:
// "suppressed by <who>: <why>". <who> is VulnMatch::suppressed_by as the vuln
// engine's handling writes it (engines/vuln/handling): "<file>:<line>" for an
// ignore in the config, "<file>:<line> (OpenVEX): not_affected — <justification>"
// for a VEX statement, "--ignore-unfixed"; the VEX status and justification
// labels are translated, file names and the document's own words are not.
#pragma once

#include <string>
#include <string_view>

#include "model/i18n.hpp"
#include "model/vulnerability.hpp"

namespace kg {

// A VEX status, state or justification label in `lang` ("not_affected" →
// "不受影响"); the label itself for English or when unknown.
std::string_view vex_label_text(std::string_view label, Lang lang);

// VulnMatch::suppressed_by in `lang` (zh: "vex.json:14（OpenVEX）：不受影响（not_affected）— …").
std::string suppressed_by_text(std::string_view suppressed_by, Lang lang);

// The whole sentence for a suppressed match ("" when it is not suppressed).
std::string suppression_text(const VulnMatch& m, Lang lang);

}  // namespace kg
