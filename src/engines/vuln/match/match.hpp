// Matching installed packages against the vulnerability database
// (docs/vulnerabilities.md "Matching"). False positives come from looking up
// the wrong name, in the wrong release stream, or ordering versions the wrong
// way, so each of those is decided here explicitly and recorded in the match:
//   - OS packages are looked up by their source package (dpkg Source, apk
//     origin, source RPM name) in the namespace of the image's release stream
//     ("debian:12", "alpine:3.10", "rhel:9", "wolfi:rolling");
//   - language packages by their ecosystem's normalised name ("pypi" PEP 503,
//     "maven" group:artifact, "go" module path or "stdlib");
//   - versions are placed in the record's OSV ranges exactly as the OSV
//     schema's Evaluation pseudo-code says, with the ecosystem's own order
//     (apk-tools 3 or 2 as the image ships).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/vuln/db/database.hpp"
#include "engines/vuln/db/records.hpp"
#include "engines/vuln/score/risk.hpp"
#include "engines/vuln/version/version.hpp"
#include "model/package.hpp"
#include "model/vulnerability.hpp"

namespace kg::vuln {

struct MatchOptions {
  // Drop findings no fix can be installed for: FixState::Unfixed and
  // FixState::WontFix (as Trivy's --ignore-unfixed and Grype's --only-fixed).
  bool ignore_unfixed = false;
  // The exposure of the workload that runs the image, for each finding's risk
  // score (score/risk.hpp); all unknown when the image is scanned alone.
  WorkloadExposure exposure;
};

// The OS side of an image, decided once: which namespace its OS packages are
// looked up in and which version order they are compared with.
struct OsContext {
  std::string ns;  // "debian:12", "alpine:3.10", "" when no supported release stream is known
  VersionScheme scheme = VersionScheme::Dpkg;
  std::string note;  // why ns is empty, or how the stream / order was chosen
};

// The namespace of an OS (model OsInfo) and the order its packages use.
// `apk_tools_version` is the installed apk-tools package's version ("" when
// absent); it decides apk-tools 3 (VersionScheme::Apk) or 2 (Apk2).
OsContext os_context(const OsInfo& os, std::string_view apk_tools_version = {});
// The same, with apk-tools looked up among the inventory's packages.
OsContext os_context(const ImageInventory& inv);

// One lookup: the key in the database and the version placed in its ranges.
struct PackageQuery {
  std::string ns;       // "debian:12", "npm", …
  std::string name;     // the key looked up (source package for OS packages)
  std::string version;  // the version compared (dpkg: the source version when the package names one)
  VersionScheme scheme = VersionScheme::Semver;  // the order of ECOSYSTEM ranges
};

// The query for an installed package; nullopt when it cannot be matched (an OS
// package without a release stream, a package without a version, a Go module
// built from a working tree "(devel)").
std::optional<PackageQuery> package_query(const Package& p, const OsContext& os);

// The query for a language package named as an OSV ecosystem ("npm", "PyPI",
// "Go", "Maven", "RubyGems", "crates.io"; case-insensitive): SBOM components
// whose type the inventory model has no PackageType for (gems) come here.
std::optional<PackageQuery> language_query(std::string_view ecosystem, std::string_view name,
                                           std::string_view version);

// How one record places one version.
struct RecordVerdict {
  bool affected = false;
  FixState fix = FixState::Unfixed;
  std::string fixed_version;  // the first `fixed` event above the version
  std::string range;          // the range that holds it, as text ("introduced 0, fixed 1.2-r3"), or "versions"
};

// OSV "Evaluation": affected when the version is listed in `versions` or lies
// in a range: before some `limit` (when the range has any), and, walking the
// events sorted by version ("0" first), last set vulnerable by an
// `introduced` <= v rather than cleared by a `fixed` <= v or a
// `last_affected` < v. SEMVER ranges use SemVer 2.0 order whatever the
// ecosystem (Go's leading 'v' ignored); ECOSYSTEM ranges use `scheme`.
// Statuses: Unfixed and WontFix records without ranges affect every version;
// NotAffected never does.
RecordVerdict evaluate_record(const AffectedRecord& rec, std::string_view version, VersionScheme scheme);

// Every vulnerability of one query: the records of (ns, name) evaluated,
// then one VulnMatch per vulnerability (aliases folded; the distribution's
// NotAffected verdict for an id suppresses every other record of that id in
// the namespace). Package-side fields (package index, name, purl) are left
// for the caller; match_image fills them.
std::vector<VulnMatch> match_query(const PackageQuery& q, const VulnDatabase& db, const MatchOptions& opt);

// One package of an image or an SBOM: its query, its matches, package fields filled.
std::vector<VulnMatch> match_package(const Package& p, std::size_t index, const OsContext& os,
                                     const VulnDatabase& db, const MatchOptions& opt);

// Every package of an inventory; matches sorted (risk, severity, id, package),
// so the result is the same for the same inventory and database.
ImageVulnerabilities match_image(const ImageInventory& inv, const VulnDatabase& db, const MatchOptions& opt);

}  // namespace kg::vuln
