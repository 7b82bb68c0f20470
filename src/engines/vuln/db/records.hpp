// The vulnerability database's records: every feed (OSV JSON, Alpine secdb,
// the Debian security tracker, Grype's vunnel results) is normalised into
// these, so the matcher evaluates one shape — OSV's affected ranges — and each
// record still says which feed it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engines/vuln/version/version.hpp"

namespace kg::vuln {

// One event of an OSV range, in the order the feed gives them.
struct RangeEvent {
  enum class Kind : std::uint8_t { Introduced, Fixed, LastAffected, Limit };
  Kind kind = Kind::Introduced;
  std::string version;  // "0" for introduced means "from the start"
};

struct AffectedRange {
  std::string type;  // OSV range type: ECOSYSTEM, SEMVER (GIT ranges are not stored)
  std::vector<RangeEvent> events;
};

// What a package's record says about it in one namespace.
enum class AffectedStatus : std::uint8_t {
  Affected,     // ranges/versions decide (a fix exists when a range has a `fixed` event)
  Unfixed,      // affected in every version, no fix yet (tracker "<unfixed>", vunnel without Version)
  WontFix,      // the distribution decided not to fix ("<no-dsa>", "<ignored>", "wont-fix")
  NotAffected,  // the feed says this namespace's package is not affected (secdb/tracker "0", "<not-affected>")
};

// One package's exposure to one vulnerability in one namespace.
//
// Namespaces: OS feeds are per release stream, "debian:12", "ubuntu:22.04",
// "alpine:3.19", "rhel:9", "wolfi:rolling"; language feeds are the ecosystem,
// lower case: "npm", "pypi", "go", "maven", "rubygems", "crates.io", "nuget".
// Package: the source package for OS namespaces (dpkg Source, apk origin,
// source RPM name); the ecosystem's name otherwise (normalised: PyPI per
// PEP 503, Maven "group:artifact").
struct AffectedRecord {
  std::string vuln_id;  // the record's own id: CVE-…, GHSA-…, DLA-…, ALPINE-…
  std::string ns;
  std::string package;
  VersionScheme scheme = VersionScheme::Semver;
  AffectedStatus status = AffectedStatus::Affected;
  std::vector<AffectedRange> ranges;
  std::vector<std::string> versions;  // OSV `versions`: explicitly affected versions
  std::string severity;  // the namespace's vendor severity as the feed writes it (Debian urgency, …)
  std::string feed;      // "osv", "alpine-secdb", "debian-tracker", "vunnel:<provider>"
};

// What is known about a vulnerability itself, whatever package it affects.
struct Advisory {
  std::string id;
  std::vector<std::string> aliases;  // CVE ↔ GHSA ↔ DLA …
  std::string summary;
  std::string severity;   // the feed's own word (CRITICAL, High, …) when it has one
  std::string cvss_v3;    // vector string CVSS:3.x/…; score computed from it
  std::string cvss_v4;    // vector string CVSS:4.0/…
  std::string published;  // RFC 3339
  std::string modified;
  std::vector<std::string> references;
  bool kev = false;    // in CISA's Known Exploited Vulnerabilities catalog
  double epss = -1;    // EPSS probability 0..1; negative when unknown
  std::string feed;
};

}  // namespace kg::vuln
