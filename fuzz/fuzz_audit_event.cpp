// libFuzzer target for the audit engine (engines/audit): any bytes as an audit log (JSON lines,
// pretty values, EventLists) through the event parser and every built-in rule (bodies parsed by
// the core JSON loader when a rule needs them, bursts, aggregation, de-duplication). What must hold
// for any input: every error names something; every alert names its rule and has a count; the
// input read in two chunks (a stream) yields the same events and errors as read whole.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "engines/audit/detector.hpp"
#include "engines/audit/event.hpp"
#include "engines/audit/rules.hpp"

namespace {

std::shared_ptr<const kg::audit::RuleSet> rules() {
  std::vector<kg::InputError> errors;
  auto set = std::make_shared<kg::audit::RuleSet>(kg::audit::builtin_rules(errors));
  for (auto& r : set->rules) r->enabled = true;
  return set;
}

struct Seen {
  std::vector<std::string> ids;
  std::size_t errors = 0;
};

Seen read(std::string_view text, std::size_t cut, kg::audit::Detector* d) {
  Seen s;
  kg::audit::EventParser p;
  auto on_value = [&](std::string_view v, std::uint64_t) {
    kg::audit::ParseError e;
    if (!p.parse_value(v, [&](const kg::audit::AuditEvent& ev) {
          s.ids.emplace_back(ev.audit_id);
          if (d) d->process(ev, 0, "fuzz", 1);
        }, e)) {
      if (e.message.empty()) __builtin_trap();
      ++s.errors;
    }
  };
  auto on_error = [&](std::uint64_t, const std::string& m) {
    if (m.empty()) __builtin_trap();
    ++s.errors;
  };
  std::string buf(text.substr(0, cut));
  std::uint64_t line = 1, lines = 0;
  std::size_t used = kg::audit::split_values(buf, line, false, on_value, on_error, &lines);
  buf.erase(0, used);
  line += lines;
  buf.append(text.substr(cut));
  kg::audit::split_values(buf, line, true, on_value, on_error);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::shared_ptr<const kg::audit::RuleSet> kRules = rules();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<kg::audit::Alert> alerts;
  kg::audit::DetectorOptions o;
  kg::audit::Detector d(kRules, o, [&](kg::audit::Alert&& a) { alerts.push_back(std::move(a)); });
  const Seen whole = read(text, size, &d);
  d.finish();
  for (const kg::audit::Alert& a : alerts) {
    if (!a.rule || a.count == 0 || a.message.empty()) __builtin_trap();
    if (kg::audit::alert_json(a).empty()) __builtin_trap();
  }
  // A stream cut anywhere reads the same (a pretty value split mid-way waits for its end).
  const Seen chunked = read(text, size / 2, nullptr);
  if (chunked.ids != whole.ids || chunked.errors != whole.errors) __builtin_trap();
  return 0;
}
