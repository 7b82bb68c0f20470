// Matching time of one image against a large vulnerability database
// (bench/results/vulndb-match.md). Builds, once, a database of RECORDS
// affected records (default 500,000) through the real writer, in the shapes
// the real feeds give (Debian tracker: introduced 0 / fixed, unfixed, won't
// fix, not affected; Alpine secdb; OSV npm/PyPI/Go with several ranges and
// aliases, GHSA ↔ CVE), with a heavy tail of records per package as real
// sources have (a kernel-like source with thousands); then matches an
// inventory of PACKAGES packages (default 1,000: a Debian image's binaries
// from ~300 sources plus npm, PyPI and Go modules) with match_image, and
// prints the wall time of each run (the first one separately: a cold page
// cache of the process's SQLite connection).
//
//   vuln_match_bench [--db PATH] [--records N] [--packages N] [--runs N]
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "engines/vuln/db/database.hpp"
#include "engines/vuln/db/writer.hpp"
#include "engines/vuln/match/match.hpp"

namespace fs = std::filesystem;
using namespace kg;
using namespace kg::vuln;

namespace {

// This process's CPU time: on a shared machine the wall time also counts the
// time other processes held the cores.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Args {
  std::string db;
  std::size_t records = 500'000;
  std::size_t packages = 1'000;
  int runs = 20;
};

// Source packages and their record counts: a Zipf-like tail (rank r gets ~ C/r records).
struct NameSpace {
  std::string ns;
  std::string prefix;
  VersionScheme scheme;
  std::size_t names;
  double share;  // of all records
};

const std::vector<NameSpace> kSpaces = {
    {"debian:12", "src", VersionScheme::Dpkg, 30'000, 0.45},
    {"alpine:3.19", "apk", VersionScheme::Apk, 8'000, 0.10},
    {"npm", "npm-pkg", VersionScheme::Semver, 40'000, 0.25},
    {"pypi", "py-pkg", VersionScheme::Pep440, 20'000, 0.12},
    {"go", "github.com/org/mod", VersionScheme::Go, 15'000, 0.08},
};

std::string name_of(const NameSpace& s, std::size_t i) { return s.prefix + std::to_string(i); }

std::string os_version(std::size_t major, std::size_t minor, std::size_t rev, VersionScheme s) {
  const std::string base = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(rev);
  switch (s) {
    case VersionScheme::Dpkg: return base + "-" + std::to_string(1 + rev % 3) + "+deb12u" + std::to_string(rev % 5);
    case VersionScheme::Apk:
    case VersionScheme::Apk2: return base + "-r" + std::to_string(rev % 4);
    case VersionScheme::Go: return "v" + base;
    default: return base;
  }
}

// Records per name, rank 1-based: a heavy tail C/(r+10), total ≈ share × records.
// At 500,000 records the heaviest Debian source has ~2,600 (the kernel's order).
std::vector<std::size_t> tail(std::size_t names, std::size_t total) {
  double h = 0;
  for (std::size_t r = 1; r <= names; ++r) h += 1.0 / static_cast<double>(r + 10);
  std::vector<std::size_t> out(names);
  for (std::size_t r = 1; r <= names; ++r)
    out[r - 1] = static_cast<std::size_t>(static_cast<double>(total) / (h * static_cast<double>(r + 10)) + 0.5);
  return out;
}

bool build(const Args& a) {
  std::string error;
  std::unique_ptr<DbWriter> w = DbWriter::create(a.db, &error);
  if (!w) {
    std::cerr << "vuln_match_bench: " << error << "\n";
    return false;
  }
  std::mt19937_64 rng(42);
  std::size_t cve = 0;
  std::size_t written = 0;
  w->begin_feed("bench", "generated");
  for (const NameSpace& s : kSpaces) {
    const std::vector<std::size_t> per = tail(s.names, static_cast<std::size_t>(s.share * static_cast<double>(a.records)));
    const bool os = s.ns.find(':') != std::string::npos;
    for (std::size_t n = 0; n < s.names; ++n) {
      for (std::size_t k = 0; k < per[n]; ++k) {
        AffectedRecord r;
        r.ns = s.ns;
        r.package = name_of(s, n);
        r.scheme = s.scheme;
        ++cve;
        const std::string cve_id = "CVE-2" + std::to_string(100 + cve / 100'000) + "-" + std::to_string(10000 + cve % 100'000);
        const auto roll = rng() % 100;
        const std::size_t major = rng() % 5;
        const std::size_t minor = rng() % 20;
        const std::size_t rev = rng() % 30;
        using K = RangeEvent::Kind;
        if (os) {
          r.vuln_id = cve_id;
          r.feed = s.ns.rfind("debian", 0) == 0 ? "debian-tracker" : "alpine-secdb";
          r.severity = roll % 4 == 0 ? "low" : roll % 4 == 1 ? "medium" : roll % 4 == 2 ? "high" : "";
          if (roll < 80) {
            r.ranges.push_back({"ECOSYSTEM", {{K::Introduced, "0"}, {K::Fixed, os_version(major, minor, rev, s.scheme)}}});
          } else if (roll < 86) {
            r.status = AffectedStatus::Unfixed;
          } else if (roll < 90) {
            r.status = AffectedStatus::WontFix;
          } else {
            r.status = AffectedStatus::NotAffected;
          }
        } else {
          r.vuln_id = "GHSA-" + std::to_string(cve);
          r.feed = "osv";
          // One or two ranges, sometimes last_affected, sometimes explicit versions.
          r.ranges.push_back({"ECOSYSTEM",
                              {{K::Introduced, roll < 50 ? "0" : os_version(major, 0, 0, s.scheme)},
                               {roll < 85 ? K::Fixed : K::LastAffected, os_version(major, minor, rev, s.scheme)}}});
          if (roll % 3 == 0)
            r.ranges.push_back({"ECOSYSTEM", {{K::Introduced, os_version(major + 1, 0, 0, s.scheme)},
                                              {K::Fixed, os_version(major + 1, minor, rev, s.scheme)}}});
          if (roll % 7 == 0) r.versions = {os_version(major, minor, 0, s.scheme), os_version(major, minor, 1, s.scheme)};
          Advisory adv;
          adv.id = r.vuln_id;
          adv.aliases = {cve_id};
          adv.summary = "generated advisory " + r.vuln_id;
          adv.severity = roll % 2 == 0 ? "HIGH" : "";
          adv.cvss_v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
          adv.feed = "osv";
          w->advisory(std::move(adv));
        }
        w->affected(std::move(r));
        ++written;
      }
    }
  }
  w->end_feed();
  if (!w->commit(&error)) {
    std::cerr << "vuln_match_bench: " << error << "\n";
    return false;
  }
  std::cerr << "built " << a.db << ": " << written << " affected records\n";
  return true;
}

// A Debian-based image of PACKAGES packages: 60% dpkg binaries from ~300
// sources — 20 heavy ones (ranks 20-39, ~800 records each at 500,000: glibc,
// openssl, perl, python, systemd, imagemagick are of that order) and the rest
// from the long tail — and 40% npm, PyPI and Go packages, ten of them among
// their ecosystem's most advised, the rest anywhere in the tail. Most are
// current (major 5, above every generated fix); one in seven is old, below
// some fixes. Unfixed and won't-fix records match whatever the version.
ImageInventory inventory(std::size_t n) {
  ImageInventory inv;
  inv.reference = "bench";
  inv.os.id = "debian";
  inv.os.version_id = "12";
  std::mt19937_64 rng(7);
  const std::size_t deb = n * 6 / 10;
  for (std::size_t i = 0; i < n; ++i) {
    Package p;
    const std::size_t minor = rng() % 20;
    const std::size_t rev = rng() % 30;
    if (i < deb) {
      p.type = PackageType::Deb;
      // A source's binaries share its version: two binaries per source.
      const std::size_t k = i / 2;
      const std::size_t src = k < 20 ? 20 + k : 100 + (k * 7919) % (kSpaces[0].names - 100);
      p.source_name = name_of(kSpaces[0], src);
      p.name = "bin" + std::to_string(i);
      p.version = os_version(src % 7 == 3 ? src % 5 : 5, src % 20, src % 30, VersionScheme::Dpkg);
    } else {
      const NameSpace& s = kSpaces[2 + (i % 3)];
      p.type = s.scheme == VersionScheme::Semver ? PackageType::Npm
               : s.scheme == VersionScheme::Pep440 ? PackageType::Python
                                                   : PackageType::Golang;
      const std::size_t rank = i - deb < 10 ? 20 + (i - deb) : rng() % s.names;
      p.name = name_of(s, rank);
      p.version = os_version(i % 7 == 3 ? rng() % 5 : 5, minor, rev, s.scheme);
    }
    inv.packages.push_back(std::move(p));
  }
  return inv;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  const char* home = std::getenv("HOME");
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (k == "--db") a.db = v, ++i;
    else if (k == "--records") a.records = std::stoul(v), ++i;
    else if (k == "--packages") a.packages = std::stoul(v), ++i;
    else if (k == "--runs") a.runs = std::stoi(v), ++i;
    else {
      std::cerr << "usage: vuln_match_bench [--db PATH] [--records N] [--packages N] [--runs N]\n";
      return 2;
    }
  }
  if (a.db.empty())
    a.db = std::string(home != nullptr ? home : ".") + "/.cache/kguard-bench/vuln-match-" + std::to_string(a.records) + ".db";
  fs::create_directories(fs::path(a.db).parent_path());
  if (!fs::exists(a.db)) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!build(a)) return 1;
    std::cerr << "build: " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  }
  std::string error;
  const auto t_open = std::chrono::steady_clock::now();
  std::unique_ptr<VulnDatabase> db = VulnDatabase::open(a.db, &error);
  if (!db) {
    std::cerr << "vuln_match_bench: " << error << "\n";
    return 1;
  }
  const double open_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_open).count();
  const DbStatus st = db->status();
  const ImageInventory inv = inventory(a.packages);
  std::vector<double> ms;
  std::vector<double> cpu;
  std::size_t matches = 0;
  for (int r = 0; r < a.runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_ms();
    const ImageVulnerabilities v = match_image(inv, *db, MatchOptions{});
    cpu.push_back(cpu_ms() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    matches = v.matches.size();
  }
  // The floor under the matcher: the same lookups with a callback that only counts
  // (the database's own read and decode of each record).
  std::vector<double> floor_ms;
  std::size_t records_read = 0;
  const OsContext osc = os_context(inv);
  std::vector<PackageQuery> queries;
  for (const Package& p : inv.packages)
    if (auto q = package_query(p, osc)) queries.push_back(*q);
  std::sort(queries.begin(), queries.end(), [](const PackageQuery& x, const PackageQuery& y) {
    return std::tie(x.ns, x.name, x.version) < std::tie(y.ns, y.name, y.version);
  });
  queries.erase(std::unique(queries.begin(), queries.end(),
                            [](const PackageQuery& x, const PackageQuery& y) {
                              return x.ns == y.ns && x.name == y.name && x.version == y.version;
                            }),
                queries.end());
  std::vector<double> floor_cpu;
  for (int r = 0; r < std::max(3, a.runs / 2); ++r) {
    records_read = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_ms();
    for (const PackageQuery& q : queries) db->for_each_affected(q.ns, q.name, [&](const AffectedRecord&) { ++records_read; });
    floor_cpu.push_back(cpu_ms() - c0);
    floor_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(floor_cpu.begin(), floor_cpu.end());
  std::sort(floor_ms.begin(), floor_ms.end());
  const double first = ms.front();
  std::vector<double> rest(ms.begin() + 1, ms.end());
  std::sort(rest.begin(), rest.end());
  const auto pct = [&](double p) { return rest.empty() ? first : rest[static_cast<std::size_t>(p * static_cast<double>(rest.size() - 1))]; };
  std::printf("db: %llu affected records, %llu advisories, %.1f MiB; open %.2f ms\n",
              static_cast<unsigned long long>(st.affected), static_cast<unsigned long long>(st.advisories),
              static_cast<double>(fs::file_size(a.db)) / (1024.0 * 1024.0), open_ms);
  std::printf("packages: %zu, distinct lookups: %zu, records read: %zu, matches: %zu\n", inv.packages.size(),
              queries.size(), records_read, matches);
  std::printf("lookups alone (for_each_affected, counting): median %.2f ms wall, %.2f ms CPU\n",
              floor_ms[floor_ms.size() / 2], floor_cpu[floor_cpu.size() / 2]);
  std::printf("match_image: first %.2f ms; then median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms (%zu runs)\n", first,
              pct(0.5), pct(0.9), rest.empty() ? first : rest.front(), rest.empty() ? first : rest.back(), rest.size());
  std::vector<double> cpu_rest(cpu.begin() + 1, cpu.end());
  std::sort(cpu_rest.begin(), cpu_rest.end());
  std::printf("match_image CPU time: first %.2f ms; then median %.2f ms, min %.2f ms\n", cpu.front(),
              cpu_rest.empty() ? cpu.front() : cpu_rest[cpu_rest.size() / 2], cpu_rest.empty() ? cpu.front() : cpu_rest.front());
  return 0;
}
