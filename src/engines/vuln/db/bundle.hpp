// The database bundle for air-gapped networks: one gzip-compressed tar with
// manifest.json first (format, schema, built_at, kguard version, feeds, and
// the database's size and SHA-256) and vuln.db after it. Import checks the
// manifest, streams vuln.db into a file beside the target while hashing it,
// refuses it unless size and SHA-256 match and it opens as a database of this
// schema, and only then renames it over the target: a damaged or truncated
// bundle never replaces a working database.
#pragma once

#include <string>

#include "engines/vuln/db/database.hpp"

namespace kg::vuln {

inline constexpr std::string_view kBundleFormat = "kguard-vulndb-bundle";

struct BundleManifest {
  std::string format;
  int version = 0;  // of the bundle format
  int schema = 0;   // of the database
  std::string built_at, kguard_version;
  std::string db_name;  // "vuln.db"
  std::uint64_t db_size = 0;
  std::string db_sha256;  // lower-case hex
  std::string signature;  // empty until bundles are signed
  std::vector<FeedStatus> feeds;
};

// Writes the bundle of the database at `db_path` to `out_path`.
bool export_bundle(const std::string& db_path, const std::string& out_path, BundleManifest* manifest,
                   std::string* error);
// Verifies the bundle at `bundle_path` and replaces `db_path` with its database.
bool import_bundle(const std::string& bundle_path, const std::string& db_path, BundleManifest* manifest,
                   std::string* error);

// SIGNATURE HOOK: where a bundle's signature will be verified once kguard's
// signing lands (the signing issue). Today bundles carry no signature, so this
// accepts an unsigned bundle (`note` says it was not signature-checked) and
// refuses one that claims a signature it cannot verify, rather than pretend.
bool verify_bundle_signature(const BundleManifest& manifest, std::string* note, std::string* error);

// SHA-256 of a file as lower-case hex; empty on a read error.
std::string sha256_file(const std::string& path);

}  // namespace kg::vuln
