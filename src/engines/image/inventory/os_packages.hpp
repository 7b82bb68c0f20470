// OS package databases: dpkg, apk and rpm. Each parser takes one file's
// bytes and the file's path (for evidence and error locations); the catalogers
// that wrap them live in catalogers.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engines/image/inventory/common.hpp"

namespace kg::image {

// /var/lib/dpkg/status or one distroless /var/lib/dpkg/status.d/<name>
// file: RFC 822 stanzas. Packages whose Status says they are not installed
// (config-files, not-installed) are left out; status.d stanzas have no Status.
ParseResult parse_dpkg_status(std::string_view path, std::string_view content);

// A DEP-5 (machine-readable) /usr/share/doc/<pkg>/copyright: the short names
// of its License: fields, in order, without duplicates, joined with " AND ";
// empty when the file is not machine-readable.
std::string dpkg_copyright_licenses(std::string_view content);

// /lib/apk/db/installed: "K:value" lines, a blank line between packages.
ParseResult parse_apk_installed(std::string_view path, std::string_view content);

// The source package of an rpm from its SOURCERPM ("bash-5.1.8-6.el9.src.rpm"):
// source_name and source_version (name-version-release).
void set_rpm_source(Package& p, std::string_view sourcerpm);

// One rpm header blob (as stored in rpmdb.sqlite's Packages.blob, the
// BerkeleyDB Packages values and ndb): index entries and a data store,
// bounds-checked. Returns false with `error` set when malformed; `skip` is
// set for entries that are not packages (gpg-pubkey).
bool parse_rpm_header(std::string_view blob, Package& out, std::string& error, bool& skip);

// An rpmdb.sqlite image (read from memory, never from disk), with the pages
// of its write-ahead log (rpmdb.sqlite-wal) applied first when one is given.
ParseResult parse_rpmdb_sqlite(std::string_view path, std::string_view content, std::string_view wal = {});

// Applies the committed frames of an SQLite write-ahead log to a database
// image, as SQLite's checkpoint would (sqlite.org/fileformat2.html, "WAL"):
// frames whose salts and cumulative checksums hold, up to the last commit.
// Returns false (with `error`) when the log is not one; a log with no valid
// frame changes nothing.
bool apply_sqlite_wal(std::string& db, std::string_view wal, std::string& error);

// A BerkeleyDB hash database (the Packages file of RHEL <= 8, CentOS,
// Amazon Linux 2): the header blobs of its values, overflow pages followed.
ParseResult parse_rpmdb_bdb(std::string_view path, std::string_view content);

}  // namespace kg::image
