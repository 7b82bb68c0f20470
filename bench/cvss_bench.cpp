// Times the vuln engine's scores (engines/vuln/score): parsing and scoring 1M
// CVSS vectors of each kind (v3.1 base, v3.1 with temporal and environmental
// metrics, v4.0 base, v4.0 with threat, environmental and supplemental
// metrics), the severity decision and the risk score of 1M matches. The
// vectors are generated first from a fixed seed, so only scoring is timed.
// Results: bench/results/vulndb-score.md.
//
// usage: cvss_bench [COUNT]   (default 1000000 of each kind)
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "engines/vuln/score/cvss.hpp"
#include "engines/vuln/score/risk.hpp"

namespace {

struct Metric {
  const char* name;
  const char* values;  // one letter each, except "U" (words)
};

const Metric kV3Base[] = {{"AV", "NALP"}, {"AC", "LH"}, {"PR", "NLH"}, {"UI", "NR"},
                          {"S", "UC"},    {"C", "HLN"}, {"I", "HLN"},  {"A", "HLN"}};
const Metric kV3Optional[] = {{"E", "XUPFH"},  {"RL", "XOTWU"}, {"RC", "XURC"},   {"CR", "XLMH"},
                              {"IR", "XLMH"},  {"AR", "XLMH"},  {"MAV", "XNALP"}, {"MAC", "XLH"},
                              {"MPR", "XNLH"}, {"MUI", "XNR"},  {"MS", "XUC"},    {"MC", "XNLH"},
                              {"MI", "XNLH"},  {"MA", "XNLH"}};
const Metric kV4Base[] = {{"AV", "NALP"}, {"AC", "LH"},  {"AT", "NP"},  {"PR", "NLH"},
                          {"UI", "NPA"},  {"VC", "HLN"}, {"VI", "HLN"}, {"VA", "HLN"},
                          {"SC", "HLN"},  {"SI", "HLN"}, {"SA", "HLN"}};
const Metric kV4Optional[] = {{"E", "XAPU"},    {"CR", "XHML"},   {"IR", "XHML"},   {"AR", "XHML"},
                              {"MAV", "XNALP"}, {"MAC", "XLH"},   {"MAT", "XNP"},   {"MPR", "XNLH"},
                              {"MUI", "XNPA"},  {"MVC", "XHLN"},  {"MVI", "XHLN"},  {"MVA", "XHLN"},
                              {"MSC", "XHLN"},  {"MSI", "XSHLN"}, {"MSA", "XSHLN"}, {"S", "XNP"},
                              {"AU", "XNY"},    {"R", "XAUI"},    {"V", "XDC"},     {"RE", "XLMH"}};

template <std::size_t B, std::size_t O>
std::vector<std::string> generate(std::mt19937& rng, const char* prefix, const Metric (&base)[B],
                                  const Metric (&optional)[O], bool full, std::size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  auto pick = [&](const char* values) {
    const std::string v(values);
    return v[rng() % v.size()];
  };
  for (std::size_t i = 0; i < count; ++i) {
    std::string s(prefix);
    for (const Metric& m : base) {
      s += '/';
      s += m.name;
      s += ':';
      s += pick(m.values);
    }
    if (full) {
      for (const Metric& m : optional) {
        s += '/';
        s += m.name;
        s += ':';
        s += pick(m.values);
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Process CPU time, not wall time: on a shared machine other load stretches
// wall time far more than the CPU time of the loop.
struct Clock {
  std::clock_t cpu = std::clock();
  [[nodiscard]] double seconds() const {
    return static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC;
  }
};

void time_vectors(const char* label, const std::vector<std::string>& vectors) {
  const Clock t0;
  double sum = 0;
  std::size_t refused = 0;
  for (const std::string& v : vectors) {
    auto s = kg::vuln::cvss_scores(v);
    if (s) {
      sum += s->overall();
    } else {
      ++refused;
    }
  }
  const double sec = t0.seconds();
  std::printf("| %-44s | %9zu | %7.3f | %7.0f | %10.2f | %.1f |\n", label, vectors.size(), sec,
              sec * 1e9 / static_cast<double>(vectors.size()),
              static_cast<double>(vectors.size()) / sec / 1e6,
              sum / static_cast<double>(vectors.size() - refused));
  if (refused != 0) std::printf("(%zu refused)\n", refused);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  std::mt19937 rng(20261204);
  const auto v31 = generate(rng, "CVSS:3.1", kV3Base, kV3Optional, false, count);
  const auto v31_full = generate(rng, "CVSS:3.1", kV3Base, kV3Optional, true, count);
  const auto v40 = generate(rng, "CVSS:4.0", kV4Base, kV4Optional, false, count);
  const auto v40_full = generate(rng, "CVSS:4.0", kV4Base, kV4Optional, true, count);

  std::printf(
      "| what | count | CPU seconds | ns each | millions/s | mean score "
      "|\n|---|---:|---:|---:|---:|---:|\n");
  time_vectors("CVSS:3.1 base vectors", v31);
  time_vectors("CVSS:3.1 with temporal + environmental", v31_full);
  time_vectors("CVSS:4.0 base vectors (CVSS-B)", v40);
  time_vectors("CVSS:4.0 with threat + environmental + suppl.", v40_full);

  // The severity decision of a match (vendor word absent: both vectors parsed).
  {
    const Clock t0;
    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const auto d = kg::vuln::vuln_severity("debian", "", "nvd", "", v40[i], v31[i]);
      sum += d.cvss_score;
    }
    const double sec = t0.seconds();
    std::printf("| %-44s | %9zu | %7.3f | %7.0f | %10.2f | %.1f |\n",
                "vuln_severity (v4.0 + v3.1 vector)", count, sec,
                sec * 1e9 / static_cast<double>(count), static_cast<double>(count) / sec / 1e6,
                sum / static_cast<double>(count));
  }
  // The risk score alone.
  {
    std::vector<kg::vuln::RiskInput> inputs(count);
    for (auto& in : inputs) {
      in.severity = static_cast<kg::Severity>(rng() % 4);
      in.cvss_score = static_cast<double>(rng() % 101) / 10;
      in.kev = rng() % 50 == 0;
      in.epss = static_cast<double>(rng() % 10000) / 10000;
      in.fix = static_cast<kg::FixState>(rng() % 3);
      in.exposure.external = static_cast<kg::vuln::Tri>(rng() % 3);
    }
    const Clock t0;
    double sum = 0;
    for (const auto& in : inputs) sum += kg::vuln::risk_score(in);
    const double sec = t0.seconds();
    std::printf("| %-44s | %9zu | %7.3f | %7.0f | %10.2f | %.1f |\n", "risk_score", count, sec,
                sec * 1e9 / static_cast<double>(count), static_cast<double>(count) / sec / 1e6,
                sum / static_cast<double>(count));
  }
  return 0;
}
