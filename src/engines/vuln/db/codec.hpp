// How an affected record's ranges and versions are stored in one SQLite row:
// a packed, length-prefixed encoding (varint lengths), so any byte a feed
// puts in a version survives, a row decodes without a parser, and a row is a
// few dozen bytes. Decoding is bounded: a corrupt blob is refused, never read
// past its end.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engines/vuln/db/records.hpp"

namespace kg::vuln {

// The database's schema version (meta.schema); a reader refuses any other.
inline constexpr int kSchemaVersion = 1;
// meta.kind of every kguard database, so another SQLite file is not taken for one.
inline constexpr std::string_view kDbKind = "kguard-vulndb";

std::string pack_ranges(const std::vector<AffectedRange>& ranges);
std::string pack_strings(const std::vector<std::string>& strings);
bool unpack_ranges(std::string_view blob, std::vector<AffectedRange>& out);
bool unpack_strings(std::string_view blob, std::vector<std::string>& out);

std::string_view to_string(AffectedStatus s);  // "affected", "unfixed", "wont-fix", "not-affected"
bool parse_status(std::string_view text, AffectedStatus& out);

}  // namespace kg::vuln
