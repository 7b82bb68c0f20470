// Package URLs (purl-spec) as VEX documents and ignore entries name packages
// and images: parsed into their parts and matched the way OpenVEX's reference
// implementation matches them (go-vex PurlMatches): type, namespace and name
// must be equal; a purl without a version matches every version; every
// qualifier the general purl states must hold in the specific one, and those
// it leaves out are unconstrained.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kg::vuln {

struct Purl {
  std::string type;       // lower case
  std::string ns;         // decoded segments joined by '/'
  std::string name;       // decoded
  std::string version;    // decoded ("sha256:…" for an oci purl)
  std::vector<std::pair<std::string, std::string>> qualifiers;  // keys lower case, values decoded
  std::string subpath;

  std::string_view qualifier(std::string_view key) const;
};

// Parses "pkg:type/namespace/name@version?qualifiers#subpath"; nullopt when it
// is not a purl (no "pkg:" scheme, no type or no name, bad percent escape).
// Names are normalised as the spec asks per type (pypi: lower case and '_' as
// '-'; npm, deb, apk, github, bitbucket, composer: lower case).
std::optional<Purl> parse_purl(std::string_view text);

// True when `general` (from a VEX statement or an ignore) covers `specific`
// (an installed package's purl). Either one unparsable: false (fails closed:
// nothing is suppressed on a purl kguard cannot read).
bool purl_matches(const Purl& general, const Purl& specific);
bool purl_matches(std::string_view general, std::string_view specific);

}  // namespace kg::vuln
