// Compliance views (--framework nsa|mitre|cis|pss): the scan's verdicts by a
// framework's controls. Controls and their titles (English and Chinese) are
// data, rules/data/frameworks/<id>.yaml; a rule belongs to a control when one
// of its rule.yaml references names the control (or the data lists the rule).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/scan/scan.hpp"

namespace kg {

enum class ControlStatus : std::uint8_t { Pass, Fail, Exempt, NotApplicable };
std::string_view to_string(ControlStatus s);  // pass, fail, exempt, not-applicable

struct FrameworkControl {
  std::string id;
  std::string title;  // in the report's language
  ControlStatus status = ControlStatus::NotApplicable;
  std::optional<int> score;  // passed / (passed + failed) × 100; none when not applicable
  RuleTally tally;           // over its rules
  struct RuleResult {
    const Rule* rule = nullptr;
    RuleTally tally;
  };
  std::vector<RuleResult> rules;
};

struct FrameworkView {
  std::string id;
  std::string title;
  std::vector<FrameworkControl> controls;  // those with a rule in force, in the data's order
  std::size_t uncovered = 0;               // controls no rule in force maps to
  std::optional<int> score;                // mean of the applicable controls' scores
  std::size_t passed = 0, failed = 0, exempted = 0, not_applicable = 0;  // controls
};

// "12 controls: 5 pass, 4 fail, 1 exempt, 2 not applicable; 3 controls no rule in force covers"
std::string framework_summary(const FrameworkView& v, Lang lang);

// The framework ids the binary carries ("cis", "mitre", "nsa", "pss").
std::vector<std::string> framework_ids();

// The view of `scan` by framework `id`; nullopt (and `error`) for an unknown id.
std::optional<FrameworkView> build_framework_view(const ScanResult& scan, std::string_view id, Lang lang,
                                                  std::string& error);

// Control keys a rule reference names in framework `id` ("CIS 5.2.3-5.2.5" →
// 5.2.3, 5.2.4, 5.2.5; "MITRE ATT&CK for Containers T1611 Escape to Host" → T1611).
std::vector<std::string> control_keys(std::string_view id, std::string_view reference);

// Problems in the embedded framework files (rules they list that the builtin
// catalog lacks, duplicate control ids, missing titles); empty when sound.
std::vector<std::string> framework_data_problems();

}  // namespace kg
