// Lookups in a built vulnerability database, as a scan makes them: N
// (namespace, package) pairs, each every record of the package through the
// (ns, package) index, plus the advisory of each record. Prints the time per
// lookup and the peak RSS, which must stay far below the file's size: the
// reader never loads the database, SQLite's page cache holds what was read.
//
// Usage: vuln_db_lookup DB [N [records-only]]   (pairs are taken from the database itself,
// every k-th package, so hits are real; 1 in 4 is a miss)
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "engines/vuln/db/database.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: vuln_db_lookup DB [N]\n");
    return 2;
  }
  const long n = argc > 2 ? std::atol(argv[2]) : 1000;
  const bool with_advisories = argc <= 3 || std::string(argv[3]) != "records-only";
  // The sample of keys comes from a separate connection, closed before timing.
  std::vector<std::pair<std::string, std::string>> keys;
  {
    sqlite3* db = nullptr;
    sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT DISTINCT ns, package FROM affected", -1, &st, nullptr);
    std::vector<std::pair<std::string, std::string>> all;
    while (sqlite3_step(st) == SQLITE_ROW)
      all.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                       reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    sqlite3_close(db);
    const std::size_t step = all.size() / static_cast<std::size_t>(n) + 1;
    for (std::size_t i = 0; i < all.size() && keys.size() < static_cast<std::size_t>(n); i += step) {
      keys.push_back(all[i]);
      if (keys.size() % 4 == 0) keys.back().second += "-not-there";
    }
  }
  struct rusage before {};
  getrusage(RUSAGE_SELF, &before);
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  auto db = kg::vuln::VulnDatabase::open(argv[1], &error);
  if (!db) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const auto t1 = std::chrono::steady_clock::now();
  std::size_t records = 0, advisories = 0;
  for (const auto& [ns, pkg] : keys) {
    db->for_each_affected(ns, pkg, [&](const kg::vuln::AffectedRecord& r) {
      ++records;
      if (with_advisories && db->advisory(r.vuln_id)) ++advisories;
    });
  }
  const auto t2 = std::chrono::steady_clock::now();
  struct rusage after {};
  getrusage(RUSAGE_SELF, &after);
  auto cpu_ms = [](const struct rusage& r) {
    return 1000.0 * static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  const double lookup_cpu_ms = cpu_ms(after) - cpu_ms(before);
  const double open_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double total_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  const double per = static_cast<double>(keys.size());
  std::printf("lookups %zu (records %zu, advisories %zu): open %.2f ms; wall %.1f ms (%.1f us per lookup); "
              "CPU %.1f ms (%.1f us per lookup); peak RSS %ld KiB, listing the sample's keys included\n",
              keys.size(), records, advisories, open_ms, total_ms, 1000.0 * total_ms / per, lookup_cpu_ms,
              1000.0 * lookup_cpu_ms / per, after.ru_maxrss);
  return 0;
}
