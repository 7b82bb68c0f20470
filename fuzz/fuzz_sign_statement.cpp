// libFuzzer target for in-toto statements (untrusted: the payload of an attestation, signed by a
// key the policy trusts but written by any tool) and the policy that reads their predicate
// (severities anywhere under scanner.result / vulnerabilities, RFC 3339 timestamps), plus the
// policy file parser and the statement builder on the same bytes.
// Property: a statement built around these bytes as a predicate parses back with its subject.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/attest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kg::sign::AttestationPolicy policy;
  policy.max_severity = 2;
  policy.max_age = 7 * 86400;
  try {
    (void)kg::sign::parse_statement(text, "fuzz");
    for (const auto& c : kg::sign::check_statement(policy, text, 1796000000))
      if (c.name.empty() || c.detail.empty()) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  (void)kg::sign::parse_rfc3339(text);
  (void)kg::sign::parse_duration(text);
  try {
    (void)kg::sign::parse_policy(text, "policy");
  } catch (const kg::sign::SignError&) {
  }
  const std::string digest = "sha256:" + std::string(64, 'a');
  for (const char* type : {"custom", "spdx", "cyclonedx"}) {
    std::string st;
    try {
      st = kg::sign::build_statement(type, text, "registry.example/app", digest, "2026-12-04T00:00:00Z", "fuzz");
    } catch (const kg::sign::SignError&) {
      continue;  // not JSON where JSON is needed
    }
    try {
      kg::sign::Statement s = kg::sign::parse_statement(st, "built");
      if (s.subject_digests.size() != 1 || s.subject_digests.front() != digest) __builtin_trap();
    } catch (const kg::sign::SignError&) {
      __builtin_trap();  // kguard wrote a statement it cannot read
    }
  }
  return 0;
}
