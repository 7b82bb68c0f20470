// CVSS scores computed from their vector strings, exactly as FIRST specifies
// them: v3.0 and v3.1 (Base, Temporal, Environmental; Roundup as v3.1
// Appendix A defines it, for both minor versions) and v4.0 (the MacroVector
// method of the v4.0 specification §8 and its reference calculator: EQ1–EQ6,
// the 270 MacroVector scores, severity distances, one decimal). Pure functions,
// no allocation on success, so the matcher can score every record it meets.
//
// Vectors are read strictly: the prefix names the version, every base metric is
// present once, every value is one the version defines; other metrics are
// optional and "X" means "not defined". Metric order is free (FIRST prefers the
// table order; NVD and OSV data follow it, but a reordered vector means the same
// thing, and the PyPI `cvss` package reads it too).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/severity.hpp"

namespace kg::vuln {

enum class CvssVersion : std::uint8_t { V3_0, V3_1, V4_0 };
std::string_view to_string(CvssVersion v);  // "3.0", "3.1", "4.0"

// The qualitative severity rating scale, identical in v3.1 §5 and v4.0 §6:
// None 0.0, Low 0.1–3.9, Medium 4.0–6.9, High 7.0–8.9, Critical 9.0–10.0.
enum class CvssRating : std::uint8_t { None, Low, Medium, High, Critical };
CvssRating cvss_rating(double score);
std::string_view to_string(CvssRating r);  // "None", "Low", … as the specifications write them

// kguard's Severity has four levels and no "none": a CVSS None (score 0.0: no
// impact on any system) sits below Low, so it has no Severity of its own. This
// returns nullopt for None; vuln_severity (risk.hpp) then reports Low with
// `below_low` set, and the risk score gives it less weight than any Low.
std::optional<Severity> to_severity(CvssRating r);

struct CvssScores {
  CvssVersion version = CvssVersion::V3_1;
  // v3: the Base score. v4: the CVSS-B score, i.e. of the base metrics alone
  // (threat and environmental metrics in the vector set aside).
  double base = 0;
  // v3 only: the Temporal and Environmental scores. Both are always computed
  // (undefined metrics count as X, as FIRST's calculator does); the flags say
  // whether the vector defines any metric of the group.
  double temporal = 0;
  double environmental = 0;
  bool has_temporal = false;
  bool has_environmental = false;
  // v4 only: the score of the whole vector (base + threat + environmental as
  // given), named by `nomenclature`: CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE.
  double score = 0;
  std::string_view nomenclature;
  std::array<char, 7> macrovector{};  // v4: EQ1..EQ6 of the whole vector, NUL-terminated ("001100")
  // The score a report shows for the vector: v3 Environmental if the vector has
  // environmental metrics, else Temporal if it has temporal ones, else Base;
  // v4 `score`.
  [[nodiscard]] double overall() const;
};

// Parses and scores a vector ("CVSS:3.1/AV:N/…", "CVSS:4.0/AV:N/…"). On a
// malformed vector returns nullopt and, with `error`, one sentence naming the
// component or metric at fault: "CVSS:3.1 vector: metric AV has value Q;
// expected one of N, A, L, P".
std::optional<CvssScores> cvss_scores(std::string_view vector, std::string* error = nullptr);

// The v3.1 Appendix A Roundup: the smallest number with one decimal that is
// equal to or higher than x, robust to the floating-point error of x.
double cvss3_roundup(double x);

}  // namespace kg::vuln
