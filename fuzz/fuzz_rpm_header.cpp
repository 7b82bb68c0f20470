// libFuzzer target for rpm databases read without librpm: one header blob,
// the same bytes as a BerkeleyDB hash file (pages, overflow chains), and as
// an rpmdb.sqlite image (SQLite reading from memory), and as a database
// plus its write-ahead log.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engines/image/inventory/os_packages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  kg::Package p;
  std::string error;
  bool skip = false;
  const bool ok = kg::image::parse_rpm_header(bytes, p, error, skip);
  if (!ok && error.empty()) __builtin_trap();  // a failure always says why
  if (ok && !skip && (p.name.empty() || p.version.empty())) __builtin_trap();
  for (const auto& r : {kg::image::parse_rpmdb_bdb("/var/lib/rpm/Packages", bytes),
                        kg::image::parse_rpmdb_sqlite("/var/lib/rpm/rpmdb.sqlite", bytes)}) {
    for (const auto& q : r.packages)
      if (q.name.empty() || q.version.empty()) __builtin_trap();
    for (const auto& e : r.errors)
      if (e.message.empty()) __builtin_trap();
  }
  // The input as a database and a write-ahead log, cut where its first byte says.
  if (size > 1) {
    const std::size_t cut = 1 + (static_cast<std::size_t>(data[0]) * size) / 256;
    std::string db(bytes.substr(1, cut - 1));
    std::string wal_error;
    (void)kg::image::apply_sqlite_wal(db, bytes.substr(cut), wal_error);
    (void)kg::image::parse_rpmdb_sqlite("/var/lib/rpm/rpmdb.sqlite", bytes.substr(1, cut - 1), bytes.substr(cut));
  }
  return 0;
}
