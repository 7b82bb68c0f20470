// Compliance views (--framework nsa|mitre|cis|pss): the scan's verdicts by a
// framework's controls. Controls and their titles (English and Chinese) are
// data, rules/data/frameworks/<id>.yaml; a rule belongs to a control when one
// of its rule.yaml references names the control (or the data lists the rule).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/engine_result.hpp"

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
    const RuleInfo* rule = nullptr;
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

// One framework file: its controls, their titles and how rules map to them.
struct FrameworkData {
  struct Control {
    std::string id, title, zh;
    std::vector<std::string> keys;   // lower-case: the id and the data's `keys`
    std::vector<std::string> rules;  // rule ids the data lists
    std::uint32_t line = 0;
  };
  std::string id, title, zh, path;
  std::vector<Control> controls;
};

// Reads a framework file; problems (missing titles, duplicate ids, bad YAML)
// name the file and line. nullopt when it has no id.
std::optional<FrameworkData> parse_framework(std::string_view path, std::string_view content,
                                             std::vector<std::string>& problems);

// The view of `result` by the framework `data`.
FrameworkView build_framework_view(const EngineResult& result, const FrameworkData& data, Lang lang);

// Control keys a rule reference names in framework `id` ("CIS 5.2.3-5.2.5" →
// 5.2.3, 5.2.4, 5.2.5; "MITRE ATT&CK for Containers T1611 Escape to Host" → T1611).
std::vector<std::string> control_keys(std::string_view id, std::string_view reference);


}  // namespace kg
