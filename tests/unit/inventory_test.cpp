// The image package catalogers on real data: this machine's dpkg database,
// Python dist-info, npm's node_modules, Debian's JARs and Go binaries, an rpm
// database made by rpm itself, Alpine's installed database from Trivy's
// alpine-3.11 image, and a cargo-auditable section; each compared with what
// the ecosystem's own tool says (dpkg-query, go version -m, rpm -qa,
// importlib.metadata, npm query, unzip).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/base64.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/image/inventory/lang_packages.hpp"
#include "engines/image/inventory/os_packages.hpp"
#include "engines/image/inventory/sbom_input.hpp"
#include "report/sbom.hpp"
#include "unit/inventory_driver.hpp"

namespace kg::image {
namespace {

namespace fs = std::filesystem;
using testing::feed_file;
using testing::feed_tree;

struct Cmd {
  int status = -1;
  std::string out;
};

Cmd sh(const std::string& cmd) {
  Cmd r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  r.status = ::pclose(p);
  return r;
}

bool have(const std::string& tool) { return sh("command -v " + tool + " >/dev/null 2>&1").status == 0; }

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) out.push_back(l);
  return out;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kguard-inventory-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const auto kAll = [](std::string_view, std::size_t) { return true; };

struct Catalog {
  OsInfo os;
  std::vector<Package> packages;
  std::vector<CatalogError> errors;
};

template <typename Feed>
Catalog run(Feed&& feed, const Survives& survives = kAll) {
  Inventory inv;
  feed(inv);
  Catalog c;
  inv.finish(survives, c.os, c.packages);
  c.errors = inv.errors();
  return c;
}

std::vector<Package> of_type(const Catalog& c, PackageType t) {
  std::vector<Package> out;
  for (const Package& p : c.packages)
    if (p.type == t) out.push_back(p);
  return out;
}

// ---- OS ----

TEST(InventoryOs, ThisMachinesOsReleaseThroughItsSymlinkTarget) {
  // /etc/os-release is a symlink on Debian; the walk passes regular files, so
  // the detector must find the OS in /usr/lib/os-release.
  const Catalog c = run([](Inventory& inv) { feed_file(inv, "/usr/lib/os-release", "/usr/lib/os-release"); });
  const Cmd want = sh(". /usr/lib/os-release; printf '%s|%s|%s|%s' \"$ID\" \"$VERSION_ID\" \"$VERSION_CODENAME\" \"$PRETTY_NAME\"");
  EXPECT_EQ(c.os.id + "|" + c.os.version_id + "|" + c.os.version_codename + "|" + c.os.pretty_name, want.out);
  EXPECT_FALSE(c.os.distroless);
}

TEST(InventoryOs, EtcOsReleaseWinsAndQuotingIsShells) {
  const OsInfo os = parse_os_release(
      "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\n# comment\nID_LIKE=\"rhel centos\"\n"
      "PRETTY_NAME='Fedora Linux 40 (Container Image)'\nHOME_URL=\"https://x/\\\"q\\\"\"\n");
  EXPECT_EQ(os.id, "fedora");
  EXPECT_EQ(os.version_id, "40");
  EXPECT_EQ(os.pretty_name, "Fedora Linux 40 (Container Image)");
  EXPECT_EQ(os.id_like, (std::vector<std::string>{"rhel", "centos"}));
}

TEST(InventoryOs, DistrolessStatusDAndFallbackFiles) {
  TempDir t;
  fs::create_directories(t.path() / "var/lib/dpkg/status.d");
  fs::create_directories(t.path() / "etc");
  std::ofstream(t.path() / "etc/debian_version") << "12.7\n";
  std::ofstream(t.path() / "var/lib/dpkg/status.d/base-files")
      << "Package: base-files\nVersion: 12.4+deb12u7\nArchitecture: amd64\n";
  std::ofstream(t.path() / "var/lib/dpkg/status.d/base-files.md5sums") << "0123  etc/issue\n";
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, t.path()); });
  EXPECT_EQ(c.os.id, "debian");
  EXPECT_EQ(c.os.version_id, "12");
  EXPECT_TRUE(c.os.distroless);
  ASSERT_EQ(c.packages.size(), 1u);  // the .md5sums file is not a stanza
  EXPECT_EQ(c.packages[0].purl, "pkg:deb/debian/base-files@12.4%2Bdeb12u7?arch=amd64&distro=debian-12");
  EXPECT_TRUE(c.errors.empty());
}

TEST(InventoryOs, WhitedOutFilesDoNotCount) {
  TempDir t;
  fs::create_directories(t.path() / "etc");
  std::ofstream(t.path() / "etc/alpine-release") << "3.20.1\n";
  // Only the layer-1 copy survives: the layer-0 file was replaced.
  const Catalog c = run(
      [&](Inventory& inv) {
        feed_file(inv, "/etc/alpine-release", "/usr/lib/os-release", 0);
        feed_file(inv, "/etc/alpine-release", t.path() / "etc/alpine-release", 1);
      },
      [](std::string_view, std::size_t layer) { return layer == 1; });
  EXPECT_EQ(c.os.id, "alpine");
  EXPECT_EQ(c.os.version_id, "3.20.1");
}

// ---- dpkg ----

TEST(InventoryDpkg, ThisMachinesStatusEqualsDpkgQuery) {
  if (!fs::exists("/var/lib/dpkg/status") || !have("dpkg-query")) GTEST_SKIP() << "no dpkg on this machine";
  const Catalog c = run([](Inventory& inv) {
    feed_file(inv, "/usr/lib/os-release", "/usr/lib/os-release");
    feed_file(inv, "/var/lib/dpkg/status", "/var/lib/dpkg/status");
  });
  EXPECT_TRUE(c.errors.empty()) << c.errors.front().to_string();
  std::set<std::string> got;
  for (const Package& p : of_type(c, PackageType::Deb)) {
    got.insert(p.name + "\t" + p.version + "\t" + p.arch + "\t" + (p.source_name.empty() ? p.name : p.source_name) +
               "\t" + (p.source_version.empty() ? p.version : p.source_version));
    EXPECT_EQ(p.evidence.at(0).path, "/var/lib/dpkg/status");
    EXPECT_EQ(p.purl.rfind("pkg:deb/" + c.os.id + "/", 0), 0u) << p.purl;
  }
  const Cmd q = sh(
      "dpkg-query -W -f='${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t"
      "${source:Version}\\n'");
  ASSERT_EQ(q.status, 0);
  std::set<std::string> want;
  for (const std::string& l : lines(q.out)) {
    const std::size_t tab = l.find('\t');
    const std::string state = l.substr(0, tab);
    if (state == "not-installed" || state == "config-files") continue;
    want.insert(l.substr(tab + 1));
  }
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

TEST(InventoryDpkg, SourceWithItsOwnVersionAndUpstreamQualifier) {
  const ParseResult r = parse_dpkg_status(
      "/var/lib/dpkg/status",
      "Package: libuuid1\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n"
      "Source: util-linux (2.38.1-5)\nVersion: 2.38.1-5+b1\nDescription: x\n continued\n\n"
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n"
      "Package: bsdutils\nStatus: install ok installed\nVersion: 1:2.38.1-5+b1\nSource: util-linux\n"
      "Architecture: amd64\n");
  ASSERT_EQ(r.packages.size(), 2u);
  EXPECT_EQ(r.packages[0].source_name, "util-linux");
  EXPECT_EQ(r.packages[0].source_version, "2.38.1-5");
  OsInfo os;
  os.id = "debian";
  os.version_id = "12";
  EXPECT_EQ(package_purl(r.packages[0], os),
            "pkg:deb/debian/libuuid1@2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5");
  EXPECT_EQ(package_purl(r.packages[1], os),
            "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux");
}

TEST(InventoryDpkg, BrokenStanzasAreLocatedAndSkipped) {
  const ParseResult r = parse_dpkg_status("/var/lib/dpkg/status",
                                          "Package: a\nVersion: 1\n\nthis is not a field\nVersion: 2\n\n"
                                          "Package: b\nVersion: 3\n");
  ASSERT_EQ(r.packages.size(), 2u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].to_string(), "/var/lib/dpkg/status:4: expected 'Field: value', got 'this is not a field'");
  EXPECT_EQ(r.errors[1].to_string(), "/var/lib/dpkg/status:5: stanza without a Package field");
}

TEST(InventoryDpkg, LicensesFromMachineReadableCopyrightFiles) {
  if (!fs::exists("/var/lib/dpkg/status")) GTEST_SKIP();
  const Catalog c = run([](Inventory& inv) {
    feed_file(inv, "/var/lib/dpkg/status", "/var/lib/dpkg/status");
    feed_tree(inv, "/usr/share/doc", 0, "sha256:0000000000000000000000000000000000000000000000000000000000000001",
              "/usr/share/doc");
  });
  // Each package whose copyright file is DEP-5 (and at most 256 KiB, the
  // cataloger's cap) gets its License: names, in order, without repeats, joined with AND;
  // DEP-5's or/and written OR/AND, and a compound name in parentheses when it has company.
  const Cmd want = sh("python3 -c \"import os\n"
                      "d = '/usr/share/doc'\n"
                      "for n in sorted(os.listdir(d)):\n"
                      "  f = os.path.join(d, n, 'copyright')\n"
                      "  if os.path.islink(os.path.join(d, n)) or os.path.islink(f) or not os.path.isfile(f): continue\n"
                      "  if os.path.getsize(f) > 256 * 1024: continue\n"
                      "  t = open(f, 'rb').read().decode('utf-8', 'replace')\n"
                      "  if not t.startswith('Format:'): continue\n"
                      "  seen = []\n"
                      "  for l in t.split('\\n'):\n"
                      "    if l.startswith('License:'):\n"
                      "      v = l[8:].strip(' \\t\\r')\n"
                      "      if v and len(v) <= 100 and v not in seen: seen.append(v)\n"
                      "  ops = {'or': 'OR', 'and': 'AND'}\n"
                      "  fmt = [' '.join(ops.get(w.lower(), w) for w in v.split()) for v in seen]\n"
                      "  fmt = ['(' + v + ')' if ' ' in v and len(fmt) > 1 else v for v in fmt]\n"
                      "  if seen: print(n + '\\t' + ' AND '.join(fmt))\"");
  ASSERT_EQ(want.status, 0);
  std::map<std::string, std::string> expected;
  for (const std::string& l : lines(want.out)) expected[l.substr(0, l.find('\t'))] = l.substr(l.find('\t') + 1);
  std::size_t with = 0;
  for (const Package& p : of_type(c, PackageType::Deb)) {
    const auto it = expected.find(p.name);
    EXPECT_EQ(p.license, it == expected.end() ? "" : it->second) << p.name;
    with += it != expected.end();
  }
  EXPECT_GT(with, 10u);
}

TEST(InventoryDpkg, CompoundCopyrightLicensesKeepTheirMeaning) {
  // libssl3's copyright in Debian 12: an "or" beside other names.
  const std::string text =
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
      "Files: *\nLicense: Apache-2.0\n\nFiles: a\nLicense: Artistic or GPL-1+\n\n"
      "License: Artistic\n text\n\nLicense: GPL-1+\n text\n";
  EXPECT_EQ(dpkg_copyright_licenses(text), "Apache-2.0 AND (Artistic OR GPL-1+) AND Artistic AND GPL-1+");
  EXPECT_EQ(dpkg_copyright_licenses("Format: x\nLicense: GPL-2+ or  Artistic\n"), "GPL-2+ OR Artistic");
  EXPECT_EQ(dpkg_copyright_licenses("Format: x\nLicense: LGPL-2.1+ and BSD\nLicense: MIT\n"),
            "(LGPL-2.1+ AND BSD) AND MIT");
  EXPECT_EQ(dpkg_copyright_licenses("Format: x\nLicense: GPL-2+ with OpenSSL exception\nLicense: MIT\n"),
            "(GPL-2+ with OpenSSL exception) AND MIT");
}

// ---- apk ----

TEST(InventoryApk, TrivysAlpine311ImageEqualsItsInstalledDatabase) {
  const fs::path tarball = fs::path(KGUARD_CORPORA_DIR) / "supply-chain/alpine/aquasecurity/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz";
  if (!fs::exists(tarball)) GTEST_SKIP() << "shared corpora not found";
  TempDir t;
  // The docker-save archive's one layer, unpacked with tar (the layer walk is not this test's subject).
  const Cmd x = sh("cd '" + t.path().string() + "' && tar -xzf '" + tarball.string() +
                   "' && mkdir root && tar -xf */layer.tar -C root 2>/dev/null; echo done");
  ASSERT_NE(x.out.find("done"), std::string::npos);
  const fs::path root = t.path() / "root";
  ASSERT_TRUE(fs::exists(root / "lib/apk/db/installed"));
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, root); });
  EXPECT_EQ(c.os.id, "alpine");
  const Cmd release = sh(". '" + (root / "etc/os-release").string() + "'; printf %s \"$VERSION_ID\"");
  EXPECT_EQ(c.os.version_id, release.out);
  EXPECT_EQ(c.os.version_id.rfind("3.11.", 0), 0u);
  const auto apk = of_type(c, PackageType::Apk);
  // Expected: each P:/V:/A:/o: record, read with awk.
  const Cmd want = sh("awk -F: '/^P:/{p=$2} /^V:/{v=$2} /^A:/{a=$2} /^o:/{o=$2} /^$/{if(p!=\"\")print p\"\\t\"v\"\\t\"a\"\\t\"o; p=\"\"} END{if(p!=\"\")print p\"\\t\"v\"\\t\"a\"\\t\"o}' '" +
                      (root / "lib/apk/db/installed").string() + "' | sort");
  std::vector<std::string> got;
  for (const Package& p : apk)
    got.push_back(p.name + "\t" + p.version + "\t" + p.arch + "\t" + (p.source_name.empty() ? p.name : p.source_name));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, lines(want.out));
  EXPECT_EQ(apk.size(), 14u);
  const auto musl = std::find_if(apk.begin(), apk.end(), [](const Package& p) { return p.name == "libcrypto1.1"; });
  ASSERT_NE(musl, apk.end());
  EXPECT_EQ(musl->version, "1.1.1d-r3");
  EXPECT_EQ(musl->source_name, "openssl");
  EXPECT_EQ(musl->license, "OpenSSL");
  EXPECT_EQ(musl->checksum.rfind("Q1", 0), 0u);
  EXPECT_EQ(musl->purl, "pkg:apk/alpine/libcrypto1.1@1.1.1d-r3?arch=x86_64&distro=alpine-" + release.out +
                            "&upstream=openssl");
}

TEST(InventoryApk, RecordWithoutVersionIsAnErrorWithItsLine) {
  const ParseResult r = parse_apk_installed("/lib/apk/db/installed", "P:a\nV:1\n\nP:b\nA:x86_64\n\nnonsense\n");
  ASSERT_EQ(r.packages.size(), 1u);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].to_string(), "/lib/apk/db/installed:4: package without P: (name) or V: (version)");
  EXPECT_EQ(r.errors[1].line, 7u);
}

// ---- rpm ----

// Builds two tiny packages with rpmbuild and installs them with rpm into a
// fresh root: a real rpmdb.sqlite, whose header blobs rpm itself wrote.
fs::path make_rpm_root(const TempDir& t) {
  const std::string d = t.path().string();
  const std::string spec =
      "Name: kguard-hello\nVersion: 1.2.3\nRelease: 4%{?dist}\nEpoch: 2\nSummary: test\nLicense: MIT AND "
      "Apache-2.0\nBuildArch: noarch\n%description\ntest\n%files\n\n"
      "%package -n kguard-other\nSummary: other\nLicense: GPL-2.0-or-later\nVersion: 0.9\n%description -n kguard-other\n"
      "other\n%files -n kguard-other\n";
  std::ofstream(t.path() / "hello.spec") << spec;
  const Cmd b = sh("cd '" + d + "' && rpmbuild --quiet -bb --define '_topdir " + d +
                   "/top' --define 'dist .kg1' hello.spec 2>&1 && rpm --root '" + d +
                   "/root' --dbpath /var/lib/rpm --initdb 2>&1 && rpm --root '" + d +
                   "/root' --dbpath /var/lib/rpm -i --nodeps --noscripts --ignorearch --ignoreos top/RPMS/noarch/*.rpm 2>&1");
  if (b.status != 0) {
    ADD_FAILURE() << b.out;
    return {};
  }
  return t.path() / "root";
}

TEST(InventoryRpm, RpmdbSqliteEqualsRpmQa) {
  if (!have("rpmbuild") || !have("rpm")) GTEST_SKIP() << "rpm and rpmbuild are not installed (scripts/install-deps.sh)";
  TempDir t;
  const fs::path root = make_rpm_root(t);
  ASSERT_FALSE(root.empty());
  ASSERT_TRUE(fs::exists(root / "var/lib/rpm/rpmdb.sqlite"));
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, root); });
  EXPECT_TRUE(c.errors.empty()) << c.errors.front().to_string();
  const Cmd q = sh("rpm --root '" + root.string() + "' --dbpath /var/lib/rpm -qa --qf "
                   "'%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\t%{SOURCERPM}\\n' | sort");
  std::vector<std::string> got;
  for (const Package& p : of_type(c, PackageType::Rpm))
    got.push_back(p.name + "\t" + p.version + "\t" + p.arch + "\t" + p.license + "\t" +
                  (p.source_name.empty() ? p.name : p.source_name) + "-" + p.source_version + ".src.rpm");
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, lines(q.out));
  ASSERT_EQ(got.size(), 2u);
  const auto rpms = of_type(c, PackageType::Rpm);
  EXPECT_EQ(rpms[0].purl,
            "pkg:rpm/redhat/kguard-hello@1.2.3-4.kg1?arch=noarch&epoch=2&upstream=kguard-hello-1.2.3-4.kg1.src.rpm");
  EXPECT_EQ(rpms[0].checksum.rfind("sha256:", 0), 0u);
}

TEST(InventoryRpm, PagesStillInTheWriteAheadLogAreApplied) {
  if (!have("rpmbuild") || !have("rpm")) GTEST_SKIP() << "rpm and rpmbuild are not installed (scripts/install-deps.sh)";
  TempDir t;
  const fs::path root = make_rpm_root(t);
  ASSERT_FALSE(root.empty());
  // SQLite itself removes one package in WAL mode, and the files are copied
  // while its connection is open: the database file still lists two
  // packages, the log says one is gone (as an image layer may hold them).
  const fs::path copy = t.path() / "walroot/var/lib/rpm";
  fs::create_directories(copy);
  const Cmd w = sh("python3 -c \"import sqlite3, shutil\n"
                   "db = '" + (root / "var/lib/rpm/rpmdb.sqlite").string() + "'\n"
                   "c = sqlite3.connect(db)\n"
                   "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n"
                   "n = c.execute('SELECT hnum FROM Name WHERE key = ?', ('kguard-other',)).fetchone()[0]\n"
                   "c.execute('DELETE FROM Packages WHERE hnum = ?', (n,)); c.execute('DELETE FROM Name WHERE hnum = ?', (n,))\n"
                   "c.commit()\n"
                   "for f in ('', '-wal'): shutil.copy(db + f, '" + copy.string() + "/rpmdb.sqlite' + f)\n"
                   "c.close()\" 2>&1");
  ASSERT_EQ(w.status, 0) << w.out;
  ASSERT_GT(fs::file_size(copy / "rpmdb.sqlite-wal"), 0u);
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, t.path() / "walroot"); });
  EXPECT_TRUE(c.errors.empty()) << c.errors.front().to_string();
  std::vector<std::string> got;
  for (const Package& p : c.packages) got.push_back(p.name);
  // rpm's own reading of the copied files (SQLite applies the log).
  const Cmd q = sh("rpm --root '" + (t.path() / "walroot").string() + "' --dbpath /var/lib/rpm -qa --qf '%{NAME}\\n'");
  EXPECT_EQ(got, lines(q.out));
  EXPECT_EQ(got, std::vector<std::string>{"kguard-hello"});
  // Without the log the database file alone still lists both.
  const Catalog stale = run([&](Inventory& inv) { feed_file(inv, "/var/lib/rpm/rpmdb.sqlite", copy / "rpmdb.sqlite"); });
  EXPECT_EQ(stale.packages.size(), 2u);
}

TEST(InventoryRpm, BerkeleyDbPackagesFromDbLoad) {
  if (!have("rpmbuild") || !have("rpm") || !have("sqlite3")) GTEST_SKIP() << "rpm, rpmbuild or sqlite3 missing";
  std::string db_load;
  for (const char* tool : {"db_load", "db5.3_load"})
    if (have(tool)) db_load = tool;
  if (db_load.empty()) GTEST_SKIP() << "db_load (db5.3-util) not installed";
  TempDir t;
  const fs::path root = make_rpm_root(t);
  ASSERT_FALSE(root.empty());
  // The same header blobs as values of a real BerkeleyDB hash file, written by
  // BerkeleyDB's own db_load (what rpm <= 4.15 kept in /var/lib/rpm/Packages).
  const std::string sqlite = (root / "var/lib/rpm/rpmdb.sqlite").string();
  const std::string dump = (t.path() / "dump.txt").string();
  const Catalog sql = run([&](Inventory& inv) { feed_tree(inv, root); });
  // 4 KiB pages put the headers on overflow pages; 64 KiB pages keep them inline.
  for (const std::string pagesize : {"4096", "65536"}) {
    SCOPED_TRACE("page size " + pagesize);
    const fs::path bdb = t.path() / ("bdb" + pagesize);
    const Cmd d = sh("{ printf 'VERSION=3\\nformat=bytevalue\\ntype=hash\\nHEADER=END\\n'; sqlite3 '" + sqlite +
                     "' \"SELECT printf(' %08x', hnum), ' ' || lower(hex(blob)) FROM Packages ORDER BY hnum\" "
                     "| tr '|' '\\n'; printf 'DATA=END\\n'; } > '" + dump + "' && mkdir -p '" + bdb.string() +
                     "/var/lib/rpm' && " + db_load + " -c db_pagesize=" + pagesize + " -f '" + dump + "' '" +
                     bdb.string() + "/var/lib/rpm/Packages' 2>&1");
    ASSERT_EQ(d.status, 0) << d.out;
    const Catalog c = run([&](Inventory& inv) { feed_tree(inv, bdb); });
    EXPECT_TRUE(c.errors.empty()) << c.errors.front().to_string();
    ASSERT_EQ(c.packages.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(c.packages[i].name, sql.packages[i].name);
      EXPECT_EQ(c.packages[i].version, sql.packages[i].version);
      EXPECT_EQ(c.packages[i].license, sql.packages[i].license);
      EXPECT_EQ(c.packages[i].evidence[0].path, "/var/lib/rpm/Packages");
    }
  }
}

TEST(InventoryRpm, HeaderBlobBoundsAreChecked) {
  Package p;
  std::string error;
  bool skip = false;
  // One index entry (NAME, STRING at offset 100) over 4 data bytes.
  const std::string blob = std::string("\0\0\0\1\0\0\0\4", 8) + std::string("\0\0\x03\xe8\0\0\0\x06\0\0\0\x64\0\0\0\1", 16) + "abc";
  EXPECT_FALSE(parse_rpm_header(blob, p, error, skip));
  EXPECT_EQ(error, "header blob is 27 bytes, its index says 28");
  const std::string blob2 = blob + std::string(1, '\0');
  EXPECT_FALSE(parse_rpm_header(blob2, p, error, skip));
  EXPECT_EQ(error, "tag 1000 points outside the data store");
}

// ---- Python ----

TEST(InventoryPython, DistPackagesEqualImportlibMetadata) {
  const fs::path site = "/usr/lib/python3/dist-packages";
  if (!fs::exists(site)) GTEST_SKIP();
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, site, 0, "sha256:01", site.string()); });
  std::set<std::string> got;
  for (const Package& p : of_type(c, PackageType::Python)) got.insert(p.name + "\t" + p.version);
  const Cmd want = sh(
      "python3 -c \"import importlib.metadata as m\n"
      "for d in m.distributions(path=['" + site.string() + "']):\n"
      "  n = d.metadata['Name'] if d.metadata else None\n"
      "  if n and d.version: print(n + '\\t' + d.version)\"");
  ASSERT_EQ(want.status, 0);
  const auto w = lines(want.out);
  EXPECT_EQ(got, std::set<std::string>(w.begin(), w.end()));
  EXPECT_GT(got.size(), 5u);
}

TEST(InventoryPython, LicenseExpressionThenShortLicenseThenClassifiers) {
  auto lic = [](const std::string& headers) {
    const ParseResult r = parse_python_metadata("/x.dist-info/METADATA", "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n" + headers + "\nbody\n");
    return r.packages.empty() ? std::string("?") : r.packages[0].license;
  };
  EXPECT_EQ(lic("License-Expression: MIT OR Apache-2.0\nLicense: BSD\n"), "MIT OR Apache-2.0");
  EXPECT_EQ(lic("License: BSD\nClassifier: License :: OSI Approved :: MIT License\n"), "BSD");
  EXPECT_EQ(lic("License: Copyright (c) x\n        Permission is hereby granted\n"
                "Classifier: License :: OSI Approved :: MIT License\n"),
            "MIT");
  const ParseResult r = parse_python_metadata("/x.dist-info/METADATA", "Name: Foo_Bar.baz\nVersion: 1.0\n");
  EXPECT_EQ(package_purl(r.packages.at(0), {}), "pkg:pypi/foo-bar-baz@1.0");
}

// ---- npm ----

TEST(InventoryNpm, NpmsOwnNodeModulesEqualNpmQuery) {
  const fs::path npm = "/usr/lib/node_modules/npm";
  if (!fs::exists(npm / "node_modules") || !have("npm")) GTEST_SKIP() << "no npm installation under /usr/lib/node_modules";
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, npm, 0, "sha256:01", npm.string()); });
  std::set<std::string> got;
  for (const Package& p : of_type(c, PackageType::Npm)) got.insert(p.name + "@" + p.version);
  // npm's own view of what is installed there: its bundled dependencies, and
  // npm itself (the root, which sits in /usr/lib/node_modules).
  const Cmd q = sh("cd '" + npm.string() + "' && npm query '*' 2>/dev/null | python3 -c \"import json,sys\n"
                   "for p in json.load(sys.stdin): print(p['name'] + '@' + p['version'])\"");
  ASSERT_EQ(q.status, 0);
  const auto w = lines(q.out);
  EXPECT_EQ(got, std::set<std::string>(w.begin(), w.end()));
  EXPECT_GT(got.size(), 50u);
}

TEST(InventoryNpm, ScopedNamesLicensesAndNestedPackageJsonFiles) {
  TempDir t;
  fs::create_directories(t.path() / "app/node_modules/@types/node");
  fs::create_directories(t.path() / "app/node_modules/left-pad/lib");
  std::ofstream(t.path() / "app/node_modules/@types/node/package.json")
      << R"({"name":"@types/node","version":"20.1.0","license":"MIT"})";
  std::ofstream(t.path() / "app/node_modules/left-pad/package.json")
      << R"({"name":"left-pad","version":"1.3.0","licenses":[{"type":"WTFPL"},{"type":"MIT"}]})";
  // Not a package: a package.json inside a package's own folder.
  std::ofstream(t.path() / "app/node_modules/left-pad/lib/package.json") << R"({"name":"inner","version":"0"})";
  std::ofstream(t.path() / "app/package.json") << R"({"name":"app","version":"1.0.0"})";
  const Catalog c = run([&](Inventory& inv) { feed_tree(inv, t.path()); });
  ASSERT_EQ(c.packages.size(), 2u);
  EXPECT_EQ(c.packages[0].purl, "pkg:npm/%40types/node@20.1.0");
  EXPECT_EQ(c.packages[0].license, "MIT");
  EXPECT_EQ(c.packages[1].license, "WTFPL OR MIT");
  EXPECT_EQ(c.packages[1].evidence[0].path, "/app/node_modules/left-pad/package.json");
}

// ---- Go ----

// `go version -m` as packages: stdlib (go1.x), mod and dep lines, => applied.
std::set<std::string> go_version_m(const std::string& binary) {
  std::set<std::string> out;
  const Cmd r = sh("go version -m '" + binary + "'");
  std::string last;
  for (const std::string& l : lines(r.out)) {
    if (l.find(": go") != std::string::npos && l.front() != '\t') {
      out.insert("stdlib\t" + l.substr(l.find(": go") + 2));
      continue;
    }
    std::istringstream in(l);
    std::string kind, path, version;
    in >> kind >> path >> version;
    if (kind == "mod" || kind == "dep") {
      last = path + "\t" + version;
      out.insert(last);
    } else if (kind == "=>") {
      // A replacement by a local directory has no version: the module keeps its path.
      out.erase(last);
      out.insert(version.empty() ? last.substr(0, last.find('\t')) + "\t(devel)" : path + "\t" + version);
    }
  }
  return out;
}

void expect_go_binary(const fs::path& binary, std::size_t chunk = 65536) {
  SCOPED_TRACE(binary.string() + " in chunks of " + std::to_string(chunk));
  const Catalog c = run([&](Inventory& inv) { feed_file(inv, "/usr/local/bin/app", binary, 0, "sha256:01", chunk); });
  std::set<std::string> got;
  for (const Package& p : c.packages) {
    EXPECT_EQ(p.type, PackageType::Golang);
    got.insert(p.name + "\t" + p.version);
    EXPECT_EQ(p.evidence.at(0).path, "/usr/local/bin/app");
  }
  EXPECT_EQ(got, go_version_m(binary.string()));
  EXPECT_TRUE(c.errors.empty()) << c.errors.front().to_string();
}

TEST(InventoryGo, BuildInfoEqualsGoVersionM) {
  if (!have("go")) GTEST_SKIP() << "no go toolchain";
  const fs::path go = sh("command -v go").out.substr(0, sh("command -v go").out.find('\n'));
  expect_go_binary(fs::canonical(go));
  // A program with a module of its own, built here (no dependencies: no network).
  TempDir t;
  std::ofstream(t.path() / "go.mod") << "module example.com/kguard/hello\n\ngo 1.21\n";
  std::ofstream(t.path() / "main.go") << "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n";
  const Cmd b = sh("cd '" + t.path().string() + "' && GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o hello . 2>&1");
  ASSERT_EQ(b.status, 0) << b.out;
  // The walk cuts files anywhere: the same packages whatever the chunk size.
  for (const std::size_t chunk : {std::size_t{65536}, std::size_t{4095}, std::size_t{100}, std::size_t{1}})
    expect_go_binary(t.path() / "hello", chunk);
}

TEST(InventoryGo, KubernetesBinariesEqualGoVersionM) {
  // Built by tests/e2e/build_cluster_binaries.sh; large binaries with hundreds of modules.
  const char* home = std::getenv("HOME");
  const fs::path dir = fs::path(home ? home : "/root") / ".cache/kguard-e2e";
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && (e.path().filename() == "kube-apiserver" || e.path().filename() == "etcd"))
      found.push_back(e.path());
  if (found.empty() || !have("go")) GTEST_SKIP() << "no kube binaries in ~/.cache/kguard-e2e";
  for (const fs::path& f : found) expect_go_binary(f);
}

TEST(InventoryGo, ReplacementsByModuleAndByLocalDirectory) {
  std::vector<Package> pkgs;
  parse_go_modinfo("path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
                   "dep\tgolang.org/x/net\tv0.1.0\th1:a=\n=>\tgithub.com/fork/net\tv0.1.1\th1:b=\n"
                   "dep\texample.com/lib\tv1.0.0\t\n=>\t../lib\t\t\nbuild\t-compiler=gc\n",
                   "go1.22.1 X:boringcrypto", pkgs);
  ASSERT_EQ(pkgs.size(), 4u);
  EXPECT_EQ(pkgs[0].name + "@" + pkgs[0].version, "stdlib@go1.22.1");
  EXPECT_EQ(pkgs[0].purl, "pkg:golang/stdlib@1.22.1");
  EXPECT_EQ(pkgs[1].name + "@" + pkgs[1].version, "example.com/app@(devel)");
  // "(devel)" names no version: the purl leaves it out, as Syft's and Trivy's do.
  EXPECT_EQ(package_purl(pkgs[1], OsInfo{}), "pkg:golang/example.com/app");
  EXPECT_EQ(package_purl(pkgs[2], OsInfo{}), "pkg:golang/github.com/fork/net@v0.1.1");
  EXPECT_EQ(pkgs[2].name + "@" + pkgs[2].version, "github.com/fork/net@v0.1.1");
  EXPECT_EQ(pkgs[2].checksum, "h1:b=");
  EXPECT_EQ(pkgs[3].name + "@" + pkgs[3].version, "example.com/lib@(devel)");
}

TEST(InventoryGo, ScriptsAndNonExecutablesAreNotRead) {
  TempDir t;
  const fs::path script = t.path() / "run.sh";
  std::ofstream(script) << "#!/bin/sh\n" << std::string(4096, '#') << "\n\xff Go buildinf:";
  fs::permissions(script, fs::perms::owner_all);
  const Catalog c = run([&](Inventory& inv) { feed_file(inv, "/run.sh", script); });
  EXPECT_TRUE(c.packages.empty());
}

// ---- Rust (cargo-auditable) ----

TEST(InventoryCargo, DepV0SectionAddedWithObjcopy) {
  if (!have("objcopy")) GTEST_SKIP();
  TempDir t;
  const std::string d = t.path().string();
  // cargo-auditable's format: zlib-compressed JSON in an ELF section .dep-v0.
  const Cmd b = sh("cd '" + d + "' && python3 -c \"import zlib,json\n"
                   "doc={'packages':[{'name':'hello','version':'0.1.0','source':'local','root':True,'dependencies':[1]},"
                   "{'name':'serde','version':'1.0.210','source':'crates.io'}]}\n"
                   "open('dep.z','wb').write(zlib.compress(json.dumps(doc).replace(' ','').encode(),7))\" && "
                   "objcopy --add-section .dep-v0=dep.z --set-section-flags .dep-v0=readonly,data /bin/true hello "
                   "&& chmod +x hello 2>&1");
  ASSERT_EQ(b.status, 0) << b.out;
  ASSERT_EQ(sh("objdump -h '" + d + "/hello' | grep -c dep-v0").out, "1\n");
  for (const std::size_t chunk : {std::size_t{65536}, std::size_t{333}, std::size_t{3}}) {
    Inventory inv;
    feed_file(inv, "/usr/bin/hello", t.path() / "hello", 0, "sha256:01", chunk);
    OsInfo os;
    std::vector<Package> pkgs;
    inv.finish(kAll, os, pkgs);
    ASSERT_EQ(pkgs.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(pkgs[0].purl, "pkg:cargo/hello@0.1.0");
    EXPECT_EQ(pkgs[1].purl, "pkg:cargo/serde@1.0.210");
  }
}

// ---- Java ----

TEST(InventoryJava, DebiansJarsEqualTheirPomProperties) {
  const fs::path dir = "/usr/share/java";
  if (!fs::exists(dir) || !have("unzip")) GTEST_SKIP() << "no /usr/share/java";
  std::size_t checked = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.is_symlink() || e.path().extension() != ".jar") continue;
    SCOPED_TRACE(e.path().string());
    const Catalog c = run([&](Inventory& inv) { feed_file(inv, "/usr/share/java/" + e.path().filename().string(), e.path()); });
    // unzip's view: every pom.properties's groupId:artifactId and version.
    const Cmd poms = sh("unzip -Z1 '" + e.path().string() + "' 'META-INF/maven/*/pom.properties' 2>/dev/null");
    std::set<std::string> want;
    for (const std::string& entry : lines(poms.out)) {
      const Cmd props = sh("unzip -p '" + e.path().string() + "' '" + entry + "' | tr -d '\\r'");
      std::string g, a, v;
      for (const std::string& l : lines(props.out)) {
        if (l.rfind("groupId=", 0) == 0) g = l.substr(8);
        if (l.rfind("artifactId=", 0) == 0) a = l.substr(11);
        if (l.rfind("version=", 0) == 0) v = l.substr(8);
      }
      want.insert(g + ":" + a + "@" + v);
    }
    if (want.empty()) continue;
    std::set<std::string> got;
    for (const Package& p : c.packages) got.insert(p.name + "@" + p.version);
    EXPECT_EQ(got, want);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no JAR with pom.properties";
}

TEST(InventoryJava, NestedJarsManifestOnlyJarsAndStoredEntries) {
  TempDir t;
  // Built with Python's zipfile: a deflated outer archive holding a stored
  // nested JAR (as Spring Boot does) and a deflated one without pom.properties.
  const Cmd b = sh("cd '" + t.path().string() + "' && python3 -c \"import zipfile, io\n"
                   "def jar(files, method):\n"
                   "  b = io.BytesIO()\n"
                   "  with zipfile.ZipFile(b, 'w', method) as z:\n"
                   "    for n, c in files.items(): z.writestr(n, c)\n"
                   "  return b.getvalue()\n"
                   "inner = jar({'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\\r\\nImplementation-Version: 2.11.0\\r\\n"
                   "Bundle-SymbolicName: org.apache.commons.commons-io\\r\\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\\r\\n\\r\\n'}, zipfile.ZIP_DEFLATED)\n"
                   "lib = jar({'META-INF/maven/com.google.guava/guava/pom.properties': 'version=33.0.0-jre\\ngroupId=com.google.guava\\nartifactId=guava\\n'}, zipfile.ZIP_DEFLATED)\n"
                   "outer = {'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\\nMain-Class: x\\n',\n"
                   "  'META-INF/maven/com.example/app/pom.properties': '#c\\ngroupId=com.example\\nartifactId=app\\nversion=1.0.0\\n'}\n"
                   "b = io.BytesIO()\n"
                   "with zipfile.ZipFile(b, 'w', zipfile.ZIP_DEFLATED) as z:\n"
                   "  for n, c in outer.items(): z.writestr(n, c)\n"
                   "  z.writestr(zipfile.ZipInfo('BOOT-INF/lib/commons-io-2.11.0.jar'), inner, zipfile.ZIP_STORED)\n"
                   "  z.writestr('BOOT-INF/lib/guava-33.0.0-jre.jar', lib)\n"
                   "open('app.jar', 'wb').write(b'#!/bin/sh\\nexec java -jar $0\\n' + b.getvalue())\" 2>&1");
  ASSERT_EQ(b.status, 0) << b.out;
  const Catalog c = run([&](Inventory& inv) { feed_file(inv, "/app/app.jar", t.path() / "app.jar"); });
  EXPECT_TRUE(c.errors.empty()) << c.errors.front().to_string();
  ASSERT_EQ(c.packages.size(), 3u);
  EXPECT_EQ(c.packages[0].purl, "pkg:maven/com.example/app@1.0.0");
  EXPECT_EQ(c.packages[0].evidence[0].path, "/app/app.jar");
  EXPECT_EQ(c.packages[1].purl, "pkg:maven/com.google.guava/guava@33.0.0-jre");
  EXPECT_EQ(c.packages[1].evidence[0].path, "/app/app.jar:BOOT-INF/lib/guava-33.0.0-jre.jar");
  EXPECT_EQ(c.packages[2].purl, "pkg:maven/org.apache.commons/commons-io@2.11.0");
  EXPECT_EQ(c.packages[2].license, "https://www.apache.org/licenses/LICENSE-2.0.txt");
}

TEST(InventoryJava, CorruptArchivesAreLocatedErrors) {
  std::vector<ZipEntry> entries;
  std::string error;
  EXPECT_FALSE(zip_entries("PK\x03\x04 not really a zip, no end record here at all", entries, error));
  EXPECT_EQ(error, "no end of central directory record");
  const ParseResult r = parse_java_archive("/x.jar", "garbage garbage garbage garbage");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/x.jar: no end of central directory record");
}

// ---- the seam: survival across layers ----

TEST(InventorySeam, OnlyTheSurvivingCopyOfADatabaseCounts) {
  TempDir t;
  std::ofstream(t.path() / "old") << "Package: old\nVersion: 1\nStatus: install ok installed\n";
  std::ofstream(t.path() / "new") << "Package: new\nVersion: 2\nStatus: install ok installed\n";
  const Catalog c = run(
      [&](Inventory& inv) {
        feed_file(inv, "/var/lib/dpkg/status", t.path() / "old", 0, "sha256:aa");
        feed_file(inv, "/var/lib/dpkg/status", t.path() / "new", 1, "sha256:bb");
      },
      [](std::string_view path, std::size_t layer) { return path == "/var/lib/dpkg/status" && layer == 1; });
  ASSERT_EQ(c.packages.size(), 1u);
  EXPECT_EQ(c.packages[0].name, "new");
  EXPECT_EQ(c.packages[0].evidence[0].layer_digest, "sha256:bb");
}

TEST(InventorySeam, TheLaterOfTwoEntriesForOnePathInOneLayerIsTheFile) {
  TempDir t;
  std::ofstream(t.path() / "first") << "Package: first\nVersion: 1\n";
  std::ofstream(t.path() / "second") << "Package: second\nVersion: 2\n";
  const Catalog c = run([&](Inventory& inv) {
    feed_file(inv, "/var/lib/dpkg/status", t.path() / "first", 0);
    feed_file(inv, "/var/lib/dpkg/status", t.path() / "second", 0);
  });
  ASSERT_EQ(c.packages.size(), 1u);
  EXPECT_EQ(c.packages[0].name, "second");
}

}  // namespace
}  // namespace kg::image

namespace kg::image {
namespace {

// ---- an SBOM as the input ----

TEST(InventorySbomInput, PurlsParseBackIntoPackages) {
  const auto deb = package_from_purl("pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5");
  ASSERT_TRUE(deb);
  EXPECT_EQ(deb->name, "bsdutils");
  EXPECT_EQ(deb->version, "1:2.38.1-5+b1");
  EXPECT_EQ(deb->arch, "amd64");
  EXPECT_EQ(deb->source_name, "util-linux");
  EXPECT_EQ(deb->source_version, "2.38.1-5");
  const auto npm = package_from_purl("pkg:npm/%40types/node@20.1.0");
  ASSERT_TRUE(npm);
  EXPECT_EQ(npm->name, "@types/node");
  const auto rpm = package_from_purl("pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&epoch=1&upstream=bash-5.2.26-3.fc40.src.rpm");
  ASSERT_TRUE(rpm);
  EXPECT_EQ(rpm->version, "1:5.2.26-3.fc40");
  EXPECT_EQ(rpm->source_name, "");  // the same as the name: left empty, as the catalogers do
  EXPECT_EQ(rpm->source_version, "5.2.26-3.fc40");
  const auto go = package_from_purl("pkg:golang/github.com/spf13/cobra@v1.8.0");
  ASSERT_TRUE(go);
  EXPECT_EQ(go->name, "github.com/spf13/cobra");
  EXPECT_FALSE(package_from_purl("pkg:gem/rails@7.0.0"));  // no inventory kind for it
  EXPECT_FALSE(parse_purl("not-a-purl"));
}

// Writing this machine's inventory as CycloneDX and SPDX and reading each back
// gives the same packages: what `kguard image sbom:FILE` starts from.
TEST(InventorySbomInput, BothFormatsRoundTripThisMachinesPackages) {
  ImageInventory inv;
  inv.reference = "registry.example/team/probe:1.0";
  inv.manifest_digest = "sha256:" + std::string(64, 'a');
  inv.layers.push_back({"sha256:" + std::string(64, 'b'), "sha256:" + std::string(64, 'c'), "", 0, ""});
  Inventory catalog;
  const std::string layer = inv.layers[0].digest;
  for (const char* dir : {"/usr/lib/os-release", "/var/lib/dpkg/status", "/usr/share/doc", "/usr/lib/python3/dist-packages",
                          "/usr/share/java"})
    if (fs::exists(dir)) feed_tree(catalog, dir, 0, layer, dir);
  catalog.finish(kAll, inv.os, inv.packages);
  if (inv.packages.empty()) GTEST_SKIP() << "no packages on this machine";
  auto key = [](const Package& p) {
    std::string k = std::string(to_string(p.type)) + "|" + p.name + "|" + p.version + "|" + p.arch + "|" + p.purl + "|" +
                    to_lower(p.license) + "|" + p.source_name + "|" + p.source_version;
    for (const PackageEvidence& e : p.evidence) k += "|" + e.path + "@" + e.layer_digest;
    return k;
  };
  std::vector<std::string> want;
  for (const Package& p : inv.packages) want.push_back(key(p));
  std::sort(want.begin(), want.end());
  for (const std::string format : {"cyclonedx", "spdx"}) {
    SCOPED_TRACE(format);
    std::ostringstream out;
    find_sbom_writer(format)->write(inv, out, {});
    ImageInventory back;
    std::vector<CatalogError> errors;
    ASSERT_TRUE(read_sbom("sbom.json", out.str(), back, errors));
    EXPECT_TRUE(errors.empty()) << errors.front().to_string();
    EXPECT_EQ(back.manifest_digest, inv.manifest_digest);
    EXPECT_EQ(back.os.id, inv.os.id);
    EXPECT_EQ(back.os.version_id, inv.os.version_id);
    std::vector<std::string> got;
    for (const Package& p : back.packages) got.push_back(key(p));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got.size(), want.size());
    std::vector<std::string> missing, extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
    EXPECT_TRUE(missing.empty() && extra.empty()) << "first lost: " << (missing.empty() ? "" : missing.front())
                                                  << "\nfirst read back: " << (extra.empty() ? "" : extra.front());
  }
}

TEST(CoreBase64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain);
  }
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

// SPDX has a package checksum field of its own (an algorithm and hex): each ecosystem's checksum
// goes there and comes back in its own spelling; CycloneDX keeps it as a property.
TEST(InventorySbomInput, EachEcosystemsChecksumRoundTrips) {
  ImageInventory inv;
  inv.reference = "registry.example/team/probe:1.0";
  inv.manifest_digest = "sha256:" + std::string(64, 'a');
  inv.os.id = "alpine";
  inv.os.version_id = "3.11.5";
  auto add = [&](PackageType type, std::string name, std::string purl, std::string checksum) {
    Package p;
    p.type = type;
    p.name = std::move(name);
    p.version = "1";
    p.purl = std::move(purl);
    p.checksum = std::move(checksum);
    inv.packages.push_back(std::move(p));
  };
  // Values from real databases: Trivy's alpine 3.11 (musl), go.sum (google/uuid), rpm's SHA256HEADER.
  add(PackageType::Apk, "musl", "pkg:apk/alpine/musl@1?arch=x86_64", "Q1yyMWoYnr7lKCxKm9mHlMwkd6dMY=");
  add(PackageType::Golang, "github.com/google/uuid", "pkg:golang/github.com/google/uuid@1",
      "h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=");
  add(PackageType::Rpm, "bash", "pkg:rpm/redhat/bash@1?arch=x86_64",
      "sha256:129cedeecf63fea041b409d863dd81e490b439bc49da3c11edc3dfe5654d4885");
  add(PackageType::Npm, "left-pad", "pkg:npm/left-pad@1", "");
  std::ostringstream spdx;
  find_sbom_writer("spdx")->write(inv, spdx, {});
  // The hex digests, as Python's base64 module decodes the two base64 forms.
  EXPECT_NE(spdx.str().find(R"("algorithm":"SHA1","checksumValue":"cb2316a189ebee5282c4a9bd98794cc2477a74c6")"),
            std::string::npos);
  EXPECT_NE(spdx.str().find(R"("algorithm":"SHA256","checksumValue":"348bda24330eb231c0f27d630212d2833ac0cf2d4782bfa136b6f9edefbde05d")"),
            std::string::npos);
  for (const std::string format : {"cyclonedx", "spdx"}) {
    SCOPED_TRACE(format);
    std::ostringstream out;
    find_sbom_writer(format)->write(inv, out, {});
    ImageInventory back;
    std::vector<CatalogError> errors;
    ASSERT_TRUE(read_sbom("sbom.json", out.str(), back, errors));
    ASSERT_EQ(back.packages.size(), inv.packages.size());
    for (std::size_t i = 0; i < inv.packages.size(); ++i)
      EXPECT_EQ(back.packages[i].checksum, inv.packages[i].checksum) << inv.packages[i].name;
  }
}

TEST(InventorySbomInput, NotAnSbomIsALocatedError) {
  ImageInventory inv;
  std::vector<CatalogError> errors;
  EXPECT_FALSE(read_sbom("x.json", "{\n  \"kind\": \"Pod\"\n}", inv, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), "x.json:1: neither a CycloneDX (bomFormat) nor an SPDX 2.x (spdxVersion) JSON document");
  errors.clear();
  EXPECT_FALSE(read_sbom("y.json", "{\"bomFormat\": ", inv, errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].path, "y.json");
}

}  // namespace
}  // namespace kg::image
