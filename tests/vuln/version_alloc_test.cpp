// The matcher compares versions in its hot loop: compare_versions (without
// `why`), valid_version (without `error`) and npm_range_satisfied must not
// touch the heap on ordinary versions. This program counts every operator new
// while it runs every vector file's pairs through every scheme, and fails on
// any. (Maven spills to the heap only past 96 items, which no real version has.)
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "engines/vuln/version/version.hpp"

namespace {
bool g_counting = false;
long g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

int main() {
  using kg::vuln::VersionScheme;
  const std::string dir = std::string(KGUARD_CORPORA_DIR) +
                          "/supply-chain/version-vectors/google/osv-scalibr/semantic/testdata/";
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const char* f : {"debian-versions-generated.txt", "alpine-versions-generated.txt",
                        "redhat-versions.txt", "semver-versions.txt", "debian-versions.txt"}) {
    std::ifstream in(dir + f);
    if (!in) {
      std::fprintf(stderr, "cannot read %s%s\n", dir.c_str(), f);
      return 1;
    }
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string a, op, b;
      if (ss >> a >> op >> b && a[0] != '#') pairs.emplace_back(a, b);
    }
  }
  const VersionScheme schemes[] = {
      VersionScheme::Dpkg,  VersionScheme::Apk,    VersionScheme::Apk2,
      VersionScheme::Rpm,   VersionScheme::Semver, VersionScheme::Pep440,
      VersionScheme::Maven, VersionScheme::Go,     VersionScheme::RubyGems};
  long sink = 0, compares = 0;
  int failed = 0;
  for (VersionScheme s : schemes) {
    g_allocations = 0;
    g_counting = true;
    for (const auto& [a, b] : pairs) {
      sink += kg::vuln::compare_versions(s, a, b);
      sink += kg::vuln::valid_version(s, a) ? 1 : 0;
      ++compares;
    }
    g_counting = false;
    std::printf("[alloc] %-8s %zu pairs: %ld allocations\n",
                std::string(kg::vuln::to_string(s)).c_str(), pairs.size(), g_allocations);
    if (g_allocations != 0) ++failed;
  }
  g_allocations = 0;
  g_counting = true;
  for (const char* range : {"^1.2.3", ">=1.0.0 <2.0.0 || 3.x", "1.2.3 - 2.3.4", "~1.2", "*"})
    for (const char* v : {"1.2.3", "2.0.0-beta.1", "3.1.4"})
      sink += kg::vuln::npm_range_satisfied(v, range).value_or(false) ? 1 : 0;
  g_counting = false;
  std::printf("[alloc] npm ranges: %ld allocations\n", g_allocations);
  if (g_allocations != 0) ++failed;
  std::printf("%ld compares (checksum %ld)\n", compares, sink % 1000);
  return failed == 0 ? 0 : 1;
}
