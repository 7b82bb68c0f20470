// OSV's Evaluation pseudo-code (ossf/osv-schema docs/schema.md "Evaluation"),
// over the database's normalised records.
#include <algorithm>
#include <array>
#include <span>

#include "engines/vuln/match/match.hpp"

namespace kg::vuln {
namespace {

// SEMVER ranges compare SemVer 2.0 precedence; Go writes its versions with a
// leading 'v' that SemVer does not have.
std::string_view semver_form(std::string_view v) {
  if (v.size() > 1 && v.front() == 'v' && v[1] >= '0' && v[1] <= '9') v.remove_prefix(1);
  return v;
}

struct Order {
  VersionScheme scheme;
  bool semver;  // SEMVER range: strip Go's 'v'
  int operator()(std::string_view a, std::string_view b) const {
    if (semver) return compare_versions(scheme, semver_form(a), semver_form(b));
    return compare_versions(scheme, a, b);
  }
};

const char* kind_name(RangeEvent::Kind k) {
  switch (k) {
    case RangeEvent::Kind::Introduced: return "introduced";
    case RangeEvent::Kind::Fixed: return "fixed";
    case RangeEvent::Kind::LastAffected: return "last_affected";
    case RangeEvent::Kind::Limit: return "limit";
  }
  return "?";
}

std::string range_text(const AffectedRange& r) {
  std::string out;
  for (const RangeEvent& e : r.events) {
    if (!out.empty()) out += ", ";
    out += kind_name(e.kind);
    out += ' ';
    out += e.version;
  }
  return out;
}

// "introduced: 0" is before every version, whatever the order says of "0".
bool is_zero(const RangeEvent& e) { return e.kind == RangeEvent::Kind::Introduced && e.version == "0"; }

}  // namespace

RecordVerdict evaluate_record(const AffectedRecord& rec, std::string_view version, VersionScheme scheme) {
  RecordVerdict out;
  if (rec.status == AffectedStatus::NotAffected) return out;
  const FixState no_fix = rec.status == AffectedStatus::WontFix ? FixState::WontFix : FixState::Unfixed;
  // Unfixed / WontFix without ranges: every version of the package in this namespace.
  if ((rec.status == AffectedStatus::Unfixed || rec.status == AffectedStatus::WontFix) && rec.ranges.empty() &&
      rec.versions.empty()) {
    out.affected = true;
    out.fix = no_fix;
    out.range = rec.status == AffectedStatus::WontFix ? "every version (will not be fixed)" : "every version (no fix yet)";
    return out;
  }

  // Ranges first: a range also says where the fix is. Events are sorted through
  // pointers in a small buffer (a range rarely has more than four events; the
  // matcher evaluates every record of a package, so no allocation per record).
  std::array<const RangeEvent*, 16> small{};
  std::vector<const RangeEvent*> large;
  for (const AffectedRange& r : rec.ranges) {
    const bool semver = r.type == "SEMVER";
    if (!semver && r.type != "ECOSYSTEM" && !r.type.empty()) continue;  // GIT: commits, not versions
    const Order cmp{semver ? VersionScheme::Semver : scheme, semver};
    // BeforeLimits: with limit events, only versions below one of them.
    bool has_limit = false;
    bool before_limit = false;
    for (const RangeEvent& e : r.events) {
      if (e.kind != RangeEvent::Kind::Limit) continue;
      has_limit = true;
      if (e.version == "*" || cmp(version, e.version) < 0) before_limit = true;
    }
    if (has_limit && !before_limit) continue;
    std::span<const RangeEvent*> sorted;
    if (r.events.size() <= small.size()) {
      std::size_t n = 0;
      for (const RangeEvent& e : r.events)
        if (e.kind != RangeEvent::Kind::Limit) small[n++] = &e;
      sorted = std::span<const RangeEvent*>(small.data(), n);
    } else {
      large.clear();
      for (const RangeEvent& e : r.events)
        if (e.kind != RangeEvent::Kind::Limit) large.push_back(&e);
      sorted = std::span<const RangeEvent*>(large);
    }
    // sorted(range.events): by version, "0" first; equal versions keep the feed's order.
    // (Insertion sort: stable, and no comparison at all for the common [introduced 0, fixed X].)
    const auto before = [&](const RangeEvent* a, const RangeEvent* b) {
      if (is_zero(*a) || is_zero(*b)) return is_zero(*a) && !is_zero(*b);
      return cmp(a->version, b->version) < 0;
    };
    for (std::size_t i = 1; i < sorted.size(); ++i)
      for (std::size_t j = i; j > 0 && before(sorted[j], sorted[j - 1]); --j) std::swap(sorted[j], sorted[j - 1]);
    bool vulnerable = false;
    std::size_t at = 0;  // the event that decided
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      const RangeEvent& e = *sorted[i];
      if (e.kind == RangeEvent::Kind::Introduced) {
        if (is_zero(e) || cmp(version, e.version) >= 0) {
          vulnerable = true;
          at = i;
        }
      } else if (e.kind == RangeEvent::Kind::Fixed) {
        if (cmp(version, e.version) >= 0) vulnerable = false;
      } else if (e.kind == RangeEvent::Kind::LastAffected) {
        if (cmp(version, e.version) > 0) vulnerable = false;
      }
    }
    if (!vulnerable) continue;
    out.affected = true;
    out.range = range_text(r);
    // The fix: the first `fixed` event after the introduction that holds v.
    for (std::size_t i = at + 1; i < sorted.size(); ++i) {
      if (sorted[i]->kind == RangeEvent::Kind::Fixed) {
        out.fixed_version = sorted[i]->version;
        break;
      }
      if (sorted[i]->kind == RangeEvent::Kind::LastAffected) break;  // no fix known past it
    }
    out.fix = out.fixed_version.empty() ? no_fix : FixState::Fixed;
    return out;
  }

  // IncludedInVersions: `v == version`, as the schema says: an order's equality
  // is looser (SemVer build metadata, PEP 440 "1.0" == "1.0.0") than a list of
  // released versions means.
  for (const std::string& v : rec.versions) {
    if (v == version || (scheme == VersionScheme::Go && semver_form(v) == semver_form(version))) {
      out.affected = true;
      out.fix = no_fix;
      out.range = "versions: " + v;
      return out;
    }
  }
  return out;
}

}  // namespace kg::vuln
