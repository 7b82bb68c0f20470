// kguard vuln cvss VECTOR...: the CVSS v3.0/v3.1/v4.0 scores of vectors
// (engines/vuln/score/cvss.hpp), as a user checks what a report shows and as
// tests/integration/cvss_crosscheck_test.py compares kguard with the PyPI
// `cvss` package (`-` reads one vector per line from stdin; -o json writes
// one JSON object per line).
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "engines/vuln/score/cvss.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard vuln cvss [-o text|json] VECTOR...
       kguard vuln cvss [-o text|json] -        (one vector per line on stdin)

Computes the scores of CVSS vectors exactly as FIRST specifies them:
  CVSS:3.0/... and CVSS:3.1/...  Base, Temporal and Environmental scores
                                 (Roundup of v3.1 Appendix A)
  CVSS:4.0/...                   the score of the vector (CVSS-B, -BT, -BE or
                                 -BTE) and its CVSS-B score, by the MacroVector
                                 method of the v4.0 specification
with the qualitative rating (None, Low, Medium, High, Critical) and kguard's
severity (a rating of None has none: it sits below low).

Options:
  -o, --output text|json   text (default), or one JSON object per vector and line
  -h, --help               this help

Exit status: 0 when every vector is valid, 1 when one is not (its error names
the metric), 2 on a usage error.
)";

using vuln::CvssRating;
using vuln::CvssScores;
using vuln::CvssVersion;

void rating_fields(JsonWriter& w, std::string_view rating_key, std::string_view severity_key,
                   double score) {
  const CvssRating r = vuln::cvss_rating(score);
  w.field(rating_key, vuln::to_string(r));
  w.key(severity_key);
  if (auto s = vuln::to_severity(r)) {
    w.value(to_string(*s));
  } else {
    w.null();
  }
}

void write_json(std::string_view vector, const CvssScores* s, const std::string& error) {
  JsonWriter w(std::cout);
  w.begin_object();
  w.field("vector", vector);
  if (s == nullptr) {
    w.field("error", std::string_view(error));
    w.end_object();
    std::cout << '\n';
    return;
  }
  w.field("version", vuln::to_string(s->version));
  w.field("base", s->base);
  rating_fields(w, "rating", "severity", s->base);
  if (s->version == CvssVersion::V4_0) {
    w.field("score", s->score);
    w.field("nomenclature", s->nomenclature);
    w.field("macrovector", std::string_view(s->macrovector.data()));
    rating_fields(w, "score_rating", "score_severity", s->score);
  } else {
    w.field("temporal", s->temporal);
    w.field("environmental", s->environmental);
    w.field("has_temporal", s->has_temporal);
    w.field("has_environmental", s->has_environmental);
  }
  w.end_object();
  std::cout << '\n';
}

std::string line(std::string_view label, double score) {
  char buf[96];
  const CvssRating r = vuln::cvss_rating(score);
  auto s = vuln::to_severity(r);
  std::snprintf(buf, sizeof buf, "%-14s %4.1f  %-8s (%s)", std::string(label).c_str(), score,
                std::string(vuln::to_string(r)).c_str(),
                s ? std::string(to_string(*s)).c_str() : "below low");
  return buf;
}

void write_text(std::string_view vector, const CvssScores& s, bool with_vector) {
  if (with_vector) std::cout << vector << '\n';
  if (s.version == CvssVersion::V4_0) {
    std::cout << line(s.nomenclature, s.score) << '\n';
    if (s.nomenclature != "CVSS-B") std::cout << line("CVSS-B", s.base) << '\n';
    std::cout << "MacroVector    " << s.macrovector.data() << '\n';
  } else {
    std::cout << line("base", s.base) << '\n';
    if (s.has_temporal) std::cout << line("temporal", s.temporal) << '\n';
    if (s.has_environmental) std::cout << line("environmental", s.environmental) << '\n';
  }
}

}  // namespace

int run_vuln_cvss(int argc, char** argv) {
  bool json = false;
  std::vector<std::string> vectors;
  bool from_stdin = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    }
    std::string_view format;
    if (a == "-o" || a == "--output") {
      if (i + 1 >= argc) {
        std::cerr << "kguard vuln cvss: " << a << " needs a value: text or json\n";
        return 2;
      }
      format = argv[++i];
    } else if (a.rfind("--output=", 0) == 0) {
      format = a.substr(9);
    } else if (a == "-") {
      from_stdin = true;
      continue;
    } else if (a.size() > 1 && a[0] == '-') {
      std::cerr << "kguard vuln cvss: unknown option '" << a << "'\n" << kHelp;
      return 2;
    } else {
      vectors.emplace_back(a);
      continue;
    }
    if (format == "json") {
      json = true;
    } else if (format == "text") {
      json = false;
    } else {
      std::cerr << "kguard vuln cvss: unknown output format '" << format << "' (text or json)\n";
      return 2;
    }
  }
  if (from_stdin) {
    std::string l;
    while (std::getline(std::cin, l)) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      if (!l.empty()) vectors.push_back(l);
    }
  }
  if (vectors.empty()) {
    std::cerr << "kguard vuln cvss: no vector given\n" << kHelp;
    return 2;
  }
  int status = 0;
  std::string error;
  for (const std::string& v : vectors) {
    error.clear();
    const auto scores = vuln::cvss_scores(v, &error);
    if (!scores) status = 1;
    if (json) {
      write_json(v, scores ? &*scores : nullptr, error);
    } else if (scores) {
      write_text(v, *scores, vectors.size() > 1);
    } else {
      std::cerr << "kguard vuln cvss: " << error << '\n';
    }
  }
  return status;
}

}  // namespace kg::cli
