// VEX documents (--vex FILE): OpenVEX v0.2.0 (https://github.com/openvex/spec,
// OPENVEX-SPEC.md) and CycloneDX VEX (JSON, specVersion 1.4–1.7:
// vulnerabilities[] with analysis and affects). Both are read into one
// statement model; handling.cpp decides what a statement does to a match.
//
// Each document is parsed with core's JSON loader. A problem names the file,
// the line and the field ("vex.json:14: statements[2].status: …"); a bad
// statement is reported and left out, and the rest of the document still
// applies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.hpp"

namespace kg::vuln {

enum class VexFormat : std::uint8_t { OpenVex, CycloneDx };
std::string_view to_string(VexFormat f);  // "OpenVEX", "CycloneDX VEX"

// What a statement says, in OpenVEX's four words (CycloneDX's states map onto
// them: not_affected and false_positive → NotAffected, resolved and
// resolved_with_pedigree → Fixed, exploitable → Affected, in_triage →
// UnderInvestigation); the document's own word is kept in status_text.
enum class VexStatus : std::uint8_t { NotAffected, Affected, Fixed, UnderInvestigation };

// A point in time: seconds since the epoch (UTC) and nanoseconds.
struct VexTime {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  bool operator<(const VexTime& o) const {
    return seconds != o.seconds ? seconds < o.seconds : nanos < o.nanos;
  }
  bool operator==(const VexTime& o) const = default;
};
// RFC 3339 ("2023-01-08T18:02:03.647787998-06:00", "2022-01-13T00:00:00Z");
// nullopt when it is not one.
std::optional<VexTime> parse_rfc3339(std::string_view s);

// How a product or subcomponent is named: purls, image digests
// ("sha256:<hex>", from an @id or a sha-256 hash) and any other @id as written.
struct VexComponent {
  std::vector<std::string> ids;
};

struct VexProduct {
  VexComponent component;
  std::vector<VexComponent> subcomponents;  // OpenVEX: the statement is about these inside the product
  // CycloneDX affects[].versions: the exact versions the statement is about
  // (empty: whatever the identifier says).
  std::vector<std::string> versions;
};

struct VexStatement {
  VexFormat format = VexFormat::OpenVex;
  std::string file;
  std::uint32_t line = 0;  // the statement (OpenVEX) or vulnerability entry (CycloneDX)
  std::string field;       // "statements[2]", "vulnerabilities[0]"
  std::string vulnerability;
  std::vector<std::string> aliases;
  std::vector<VexProduct> products;
  VexStatus status = VexStatus::UnderInvestigation;
  std::string status_text;    // as written: not_affected, false_positive, resolved, …
  std::string justification;  // as written (a label of the format's catalog)
  std::string detail;         // impact_statement (OpenVEX), analysis.detail (CycloneDX)
  std::string action;         // action_statement (OpenVEX), analysis.response (CycloneDX)
  std::optional<VexTime> time;  // the statement's, else the document's
  std::size_t order = 0;        // position among every statement loaded: later wins a tie
};

// Parses one document from memory; `file` names it in problems. The format is
// told by the document itself (@context https://openvex.dev/ns…, or
// bomFormat: CycloneDX). Statements are appended to `out`.
void parse_vex(const std::string& file, std::string_view text, std::vector<VexStatement>& out,
               std::vector<InputError>& errors);
// Reads and parses a file; false when it cannot be read or problems left it
// without a single statement (a bad statement among good ones does not).
bool load_vex_file(const std::string& path, std::vector<VexStatement>& out, std::vector<InputError>& errors);

// The labels each format defines (for validation, docs and the zh table).
bool is_openvex_justification(std::string_view label);
bool is_cyclonedx_justification(std::string_view label);

}  // namespace kg::vuln
