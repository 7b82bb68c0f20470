// What every vulnerability feed parser must hold whatever its input: records
// with an id, a namespace and a package; range events with versions; errors
// that say something; and each record survives the database's row encoding.
#pragma once

#include "engines/vuln/db/codec.hpp"
#include "engines/vuln/db/writer.hpp"

inline void fuzz_vuln_check(const kg::vuln::CollectSink& sink) {
  for (const kg::vuln::AffectedRecord& r : sink.records) {
    if (r.vuln_id.empty() || r.ns.empty() || r.package.empty() || r.feed.empty()) __builtin_trap();
    if (r.status == kg::vuln::AffectedStatus::Affected && r.ranges.empty() && r.versions.empty()) __builtin_trap();
    for (const kg::vuln::AffectedRange& range : r.ranges) {
      if (range.events.empty()) __builtin_trap();
      for (const kg::vuln::RangeEvent& e : range.events)
        if (e.version.empty()) __builtin_trap();
    }
    std::vector<kg::vuln::AffectedRange> back;
    std::vector<std::string> versions;
    if (!kg::vuln::unpack_ranges(kg::vuln::pack_ranges(r.ranges), back) || back.size() != r.ranges.size())
      __builtin_trap();
    if (!kg::vuln::unpack_strings(kg::vuln::pack_strings(r.versions), versions) || versions != r.versions)
      __builtin_trap();
  }
  for (const kg::vuln::Advisory& a : sink.advisories)
    if (a.id.empty()) __builtin_trap();
  for (const std::string& e : sink.errors)
    if (e.empty()) __builtin_trap();
}
