// The body both VEX fuzz targets share: one parser over the input, then the
// statements applied to an image whose packages and vulnerabilities are the
// ones the seed documents talk about, and the report's sentence built in both
// languages. Invariants: a statement kept has a vulnerability and a product,
// and a suppressed match says by whom.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engines/vuln/handling/handling.hpp"
#include "model/vuln_text.hpp"

namespace kg::vuln::fuzz {

inline void run_vex(VexFormat format, const std::uint8_t* data, std::size_t size) {
  std::vector<VexStatement> statements;
  std::vector<InputError> errors;
  parse_vex_as(format, "fuzz.json", std::string_view(reinterpret_cast<const char*>(data), size), statements, errors);
  for (const VexStatement& s : statements)
    if (s.vulnerability.empty() || s.products.empty()) __builtin_trap();

  ImageInventory inv;
  inv.reference = "ghcr.io/aquasecurity/trivy:0.52.0";
  inv.manifest_digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  ImageVulnerabilities vulns;
  vulns.reference = inv.reference;
  vulns.manifest_digest = inv.manifest_digest;
  const char* purls[] = {"pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3", "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
                         "pkg:apk/alpine/git@2.43.0-r0", "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0",
                         "pkg:golang/github.com/aws/aws-sdk-go@1.44.234", "pkg:pypi/requests@2.28.1", "pkg:npm/a@1.0.0"};
  const char* ids[] = {"CVE-2021-44228", "CVE-2023-12345", "CVE-2024-32002", "CVE-2020-25649",
                       "CVE-2020-8911",  "CVE-2023-32681", "CVE-2024-0008"};
  for (std::size_t i = 0; i < std::size(purls); ++i) {
    Package p;
    p.purl = purls[i];
    p.name = "p" + std::to_string(i);
    p.version = "1";
    inv.packages.push_back(p);
    VulnMatch m;
    m.id = ids[i];
    m.aliases = {"GHSA-jfh8-c2jp-5v3q"};
    m.package = i;
    m.purl = purls[i];
    m.fix = i % 2 ? FixState::Fixed : FixState::Unfixed;
    vulns.matches.push_back(m);
  }
  HandlingPolicy policy;
  policy.statements = std::move(statements);
  for (std::size_t i = 0; i < policy.statements.size(); ++i) policy.statements[i].order = i;
  HandlingReport r = apply_handling(vulns, inv, policy, "2026-12-04");
  std::size_t suppressed = 0;
  for (const VulnMatch& m : vulns.matches) {
    if (!m.suppressed) continue;
    ++suppressed;
    if (m.suppressed_by.empty()) __builtin_trap();
    if (suppression_text(m, Lang::Zh).empty() || suppression_text(m, Lang::En).empty()) __builtin_trap();
  }
  if (suppressed != r.suppressed) __builtin_trap();
}

}  // namespace kg::vuln::fuzz
