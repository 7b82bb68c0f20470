// CVSS v3.0/v3.1 and v4.0 scores (cvss.hpp). Formulas and constants:
//   v3.1: FIRST CVSS v3.1 Specification §7 (equations, metric values) and
//         Appendix A (Roundup); v3.0: the v3.0 Specification §8 (the same but
//         for the scope-changed Modified Impact). Roundup of Appendix A is used
//         for both minor versions: plain ceil(x*10)/10 turns 4.000000000000001
//         into 4.1, which is the floating-point error Appendix A exists to undo.
//   v4.0: FIRST CVSS v4.0 Specification §8 (MacroVectors, EQ1–EQ6, scoring by
//         interpolation) and its reference calculator, FIRSTdotorg /
//         RedHatProductSecurity cvss-v4-calculator (cvss40.js: LOOKUP_TABLE,
//         MAX_COMPOSED, MAX_SEVERITY, METRIC_LEVELS; rounding as fixed upstream
//         in cvss-v4-calculator#67 / cvss#65: +1e-6, then half up). The
//         arithmetic below follows the reference's order of operations step by
//         step so that its IEEE-754 doubles, and hence its x.x5 ties, are ours.
#include "engines/vuln/score/cvss.hpp"

#include <cmath>
#include <cstddef>
#include <limits>

namespace kg::vuln {

namespace {

// ---------------------------------------------------------------- parsing --

struct MetricDef {
  std::string_view name;
  std::string_view values;  // allowed values: one letter each, or space-separated words (v4.0 U)
  bool mandatory;
};

// A metric name (at most 3 letters) as one integer, so that looking it up costs
// no string comparison: the length in the top byte, the letters below.
constexpr std::uint32_t name_key(std::string_view n) {
  if (n.empty() || n.size() > 3) return 0;
  std::uint32_t k = static_cast<std::uint32_t>(n.size()) << 24;
  for (std::size_t i = 0; i < n.size(); ++i)
    k |= static_cast<std::uint32_t>(static_cast<unsigned char>(n[i])) << (8 * i);
  return k;
}

template <std::size_t N>
constexpr std::array<std::uint32_t, N> keys_of(const MetricDef (&defs)[N]) {
  std::array<std::uint32_t, N> keys{};
  for (std::size_t i = 0; i < N; ++i) keys[i] = name_key(defs[i].name);
  return keys;
}

// v3.x, in the specification's table order (Table 15 of v3.1).
constexpr MetricDef kV3[] = {
    {"AV", "NALP", true},   {"AC", "LH", true},     {"PR", "NLH", true},     {"UI", "NR", true},
    {"S", "UC", true},      {"C", "HLN", true},     {"I", "HLN", true},      {"A", "HLN", true},
    {"E", "XHFPU", false},  {"RL", "XUWTO", false}, {"RC", "XCRU", false},   {"CR", "XHML", false},
    {"IR", "XHML", false},  {"AR", "XHML", false},  {"MAV", "XNALP", false}, {"MAC", "XLH", false},
    {"MPR", "XNLH", false}, {"MUI", "XNR", false},  {"MS", "XUC", false},    {"MC", "XHLN", false},
    {"MI", "XHLN", false},  {"MA", "XHLN", false},
};
enum V3 : std::uint8_t {
  AV3,
  AC3,
  PR3,
  UI3,
  S3,
  C3,
  I3,
  A3,
  E3,
  RL3,
  RC3,
  CR3,
  IR3,
  AR3,
  MAV3,
  MAC3,
  MPR3,
  MUI3,
  MS3,
  MC3,
  MI3,
  MA3,
  kV3Count
};
static_assert(sizeof(kV3) / sizeof(kV3[0]) == kV3Count);
constexpr auto kV3Keys = keys_of(kV3);

// v4.0, in the specification's order (§7, Table 23).
constexpr MetricDef kV4[] = {
    {"AV", "NALP", true},    {"AC", "LH", true},
    {"AT", "NP", true},      {"PR", "NLH", true},
    {"UI", "NPA", true},     {"VC", "HLN", true},
    {"VI", "HLN", true},     {"VA", "HLN", true},
    {"SC", "HLN", true},     {"SI", "HLN", true},
    {"SA", "HLN", true},     {"E", "XAPU", false},
    {"CR", "XHML", false},   {"IR", "XHML", false},
    {"AR", "XHML", false},   {"MAV", "XNALP", false},
    {"MAC", "XLH", false},   {"MAT", "XNP", false},
    {"MPR", "XNLH", false},  {"MUI", "XNPA", false},
    {"MVC", "XHLN", false},  {"MVI", "XHLN", false},
    {"MVA", "XHLN", false},  {"MSC", "XHLN", false},
    {"MSI", "XSHLN", false}, {"MSA", "XSHLN", false},
    {"S", "XNP", false},     {"AU", "XNY", false},
    {"R", "XAUI", false},    {"V", "XDC", false},
    {"RE", "XLMH", false},   {"U", "X Clear Green Amber Red", false},
};
enum V4 : std::uint8_t {
  AV,
  AC,
  AT,
  PR,
  UI,
  VC,
  VI,
  VA,
  SC,
  SI,
  SA,
  E,
  CR,
  IR,
  AR,
  MAV,
  MAC,
  MAT,
  MPR,
  MUI,
  MVC,
  MVI,
  MVA,
  MSC,
  MSI,
  MSA,
  kV4Supplemental,
  kV4Count = kV4Supplemental + 6
};
static_assert(sizeof(kV4) / sizeof(kV4[0]) == kV4Count);
constexpr auto kV4Keys = keys_of(kV4);

// A parsed value is the first letter of the value word (all of a metric's words
// start differently), 0 when the metric is absent; 'X' is kept as given.
template <std::size_t N>
using Values = std::array<char, N>;

void fail(std::string* error, std::string_view label, std::string_view vector,
          std::string_view what) {
  if (!error) return;
  // A hostile feed can hold a megabyte "vector": name a bounded part of it.
  constexpr std::size_t kShown = 120;
  error->assign(label);
  error->append(" vector \"");
  error->append(vector.substr(0, kShown));
  if (vector.size() > kShown) error->append("…");
  error->append("\": ");
  error->append(what);
}

// Only v4.0's U (Provider Urgency) has words for values; every other metric one letter each.
bool words(std::string_view values) {
  return values.size() > 5 && values.find(' ') != std::string_view::npos;
}

std::string expected_list(std::string_view values) {
  std::string out;
  if (!words(values)) {
    for (char c : values) {
      if (!out.empty()) out += ", ";
      out += c;
    }
    return out;
  }
  std::size_t start = 0;
  while (start < values.size()) {
    std::size_t sp = values.find(' ', start);
    if (sp == std::string_view::npos) sp = values.size();
    if (!out.empty()) out += ", ";
    out.append(values.substr(start, sp - start));
    start = sp + 1;
  }
  return out;
}

// Whether `value` is one of `values` (letters, or words for v4.0 U).
bool allowed(std::string_view values, std::string_view value) {
  if (!words(values)) {
    if (value.size() != 1) return false;
    for (char c : values) {
      if (c == value[0]) return true;
    }
    return false;
  }
  std::size_t start = 0;
  while (start < values.size()) {
    std::size_t sp = values.find(' ', start);
    if (sp == std::string_view::npos) sp = values.size();
    if (values.substr(start, sp - start) == value) return true;
    start = sp + 1;
  }
  return false;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  if (s.size() > 40) out += "…";
  return out;
}

template <std::size_t N>
bool parse_metrics(std::string_view vector, std::string_view body, std::string_view label,
                   const MetricDef (&defs)[N], const std::array<std::uint32_t, N>& keys,
                   Values<N>& out, std::string* error) {
  out.fill(0);
  // One pass over the bytes: components are short, so a plain loop beats
  // find() calls into memchr (the scan is most of a score's cost).
  std::size_t pos = 0;
  std::size_t index = 0;
  std::size_t next = 0;
  while (true) {
    ++index;
    std::size_t end = pos;
    std::size_t colon = std::string_view::npos;
    int colons = 0;
    while (end < body.size() && body[end] != '/') {
      if (body[end] == ':') {
        if (colons++ == 0) colon = end - pos;
      }
      ++end;
    }
    const std::string_view part = body.substr(pos, end - pos);
    if (part.empty()) {
      fail(error, label, vector,
           std::string("component " + std::to_string(index) +
                       " is empty (a doubled or trailing '/')"));
      return false;
    }
    if (colons != 1) {
      fail(error, label, vector,
           std::string("component \"" + printable(part) + "\" is not METRIC:VALUE"));
      return false;
    }
    const std::string_view name = part.substr(0, colon);
    const std::string_view value = part.substr(colon + 1);
    // Vectors list their metrics in the table's order, so the search starts
    // after the previous metric and usually ends at once.
    const std::uint32_t k = name_key(name);
    std::size_t m = N;
    for (std::size_t i = 0; k != 0 && i < N; ++i) {
      const std::size_t at = next + i < N ? next + i : next + i - N;
      if (keys[at] == k) {
        m = at;
        break;
      }
    }
    if (m == N) {
      fail(error, label, vector, std::string("unknown metric " + printable(name)));
      return false;
    }
    if (out[m] != 0) {
      fail(error, label, vector, std::string("metric " + std::string(name) + " is given twice"));
      return false;
    }
    if (!allowed(defs[m].values, value)) {
      fail(error, label, vector,
           std::string("metric " + std::string(name) + " has value \"" + printable(value) +
                       "\"; expected one of " + expected_list(defs[m].values)));
      return false;
    }
    out[m] = value[0];
    next = m + 1 < N ? m + 1 : 0;
    if (end == body.size()) break;
    pos = end + 1;
  }
  std::string missing;
  for (std::size_t m = 0; m < N; ++m) {
    if (defs[m].mandatory && out[m] == 0) {
      if (!missing.empty()) missing += ", ";
      missing.append(defs[m].name);
    }
  }
  if (!missing.empty()) {
    fail(error, label, vector,
         std::string(missing.find(',') != std::string::npos ? "missing base metrics "
                                                            : "missing base metric ") +
             missing);
    return false;
  }
  return true;
}

bool defined(char c) {
  return c != 0 && c != 'X';
}

// ----------------------------------------------------------------- v3.x --

double av_weight(char c) {
  switch (c) {
    case 'N': return 0.85;
    case 'A': return 0.62;
    case 'L': return 0.55;
    default: return 0.2;  // P
  }
}
double ac_weight(char c) {
  return c == 'L' ? 0.77 : 0.44;
}
double pr_weight(char c, bool scope_changed) {
  switch (c) {
    case 'N': return 0.85;
    case 'L': return scope_changed ? 0.68 : 0.62;
    default: return scope_changed ? 0.5 : 0.27;  // H
  }
}
double ui_weight(char c) {
  return c == 'N' ? 0.85 : 0.62;
}
double cia_weight(char c) {
  switch (c) {
    case 'H': return 0.56;
    case 'L': return 0.22;
    default: return 0;  // N
  }
}
double e_weight(char c) {
  switch (c) {
    case 'F': return 0.97;
    case 'P': return 0.94;
    case 'U': return 0.91;
    default: return 1;  // X, H, absent
  }
}
double rl_weight(char c) {
  switch (c) {
    case 'W': return 0.97;
    case 'T': return 0.96;
    case 'O': return 0.95;
    default: return 1;  // X, U, absent
  }
}
double rc_weight(char c) {
  switch (c) {
    case 'R': return 0.96;
    case 'U': return 0.92;
    default: return 1;  // X, C, absent
  }
}
double req_weight(char c) {
  switch (c) {
    case 'H': return 1.5;
    case 'L': return 0.5;
    default: return 1;  // X, M, absent
  }
}

// The modified metric when defined, else the base one.
char pick(char modified, char base) {
  return defined(modified) ? modified : base;
}

void score_v3(const Values<kV3Count>& v, bool v30, CvssScores& out) {
  // Base (v3.1 §7.1).
  const bool changed = v[S3] == 'C';
  const double iss =
      1 - ((1 - cia_weight(v[C3])) * (1 - cia_weight(v[I3])) * (1 - cia_weight(v[A3])));
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability =
      8.22 * av_weight(v[AV3]) * ac_weight(v[AC3]) * pr_weight(v[PR3], changed) * ui_weight(v[UI3]);
  if (impact <= 0) {
    out.base = 0;
  } else if (changed) {
    out.base = cvss3_roundup(std::fmin(1.08 * (impact + exploitability), 10));
  } else {
    out.base = cvss3_roundup(std::fmin(impact + exploitability, 10));
  }
  // Temporal (§7.2).
  const double temporal_factor = e_weight(v[E3]) * rl_weight(v[RL3]) * rc_weight(v[RC3]);
  out.temporal = cvss3_roundup(out.base * temporal_factor);
  out.has_temporal = defined(v[E3]) || defined(v[RL3]) || defined(v[RC3]);
  // Environmental (§7.3).
  const bool mchanged = pick(v[MS3], v[S3]) == 'C';
  const double miss = std::fmin(1 - ((1 - cia_weight(pick(v[MC3], v[C3])) * req_weight(v[CR3])) *
                                     (1 - cia_weight(pick(v[MI3], v[I3])) * req_weight(v[IR3])) *
                                     (1 - cia_weight(pick(v[MA3], v[A3])) * req_weight(v[AR3]))),
                                0.915);
  double mimpact = 0;
  if (!mchanged) {
    mimpact = 6.42 * miss;
  } else if (v30) {
    mimpact = 7.52 * (miss - 0.029) - 3.25 * std::pow(miss - 0.02, 15);
  } else {
    mimpact = 7.52 * (miss - 0.029) - 3.25 * std::pow(miss * 0.9731 - 0.02, 13);
  }
  const double mexploitability =
      8.22 * av_weight(pick(v[MAV3], v[AV3])) * ac_weight(pick(v[MAC3], v[AC3])) *
      pr_weight(pick(v[MPR3], v[PR3]), mchanged) * ui_weight(pick(v[MUI3], v[UI3]));
  if (mimpact <= 0) {
    out.environmental = 0;
  } else {
    const double modified = mchanged
                                ? cvss3_roundup(std::fmin(1.08 * (mimpact + mexploitability), 10))
                                : cvss3_roundup(std::fmin(mimpact + mexploitability, 10));
    out.environmental = cvss3_roundup(modified * temporal_factor);
  }
  out.has_environmental = false;
  for (int m = CR3; m <= MA3; ++m) out.has_environmental = out.has_environmental || defined(v[m]);
}

// ----------------------------------------------------------------- v4.0 --

constexpr double kNo = std::numeric_limits<double>::quiet_NaN();

// The MacroVector scores: FIRST's reference calculator, cvss40.js
// CVSS40.LOOKUP_TABLE (cvss_lookup.js in earlier layouts), all 270 entries
// (EQ3=2 with EQ6=0 does not exist: VC/VI/VA none High cannot meet a High
// requirement of a High impact). Indexed [EQ1][EQ2][EQ3][EQ4][EQ5][EQ6], one
// row per EQ1..EQ4 holding EQ5×EQ6 = 00 01 10 11 20 21. The same 270 values as
// the PyPI `cvss` package's constants4.CVSS_LOOKUP_GLOBAL (checked when this
// table was written).
constexpr double kLookup[3 * 2 * 3 * 3 * 3 * 2] = {
    10.0, 9.9, 9.8, 9.5, 9.5, 9.2,  // 0000..
    10.0, 9.6, 9.3, 8.7, 9.1, 8.1,  // 0001..
    9.3,  9.0, 8.9, 8.0, 8.1, 6.8,  // 0002..
    9.8,  9.5, 9.5, 9.2, 9.0, 8.4,  // 0010..
    9.3,  9.2, 8.9, 8.1, 8.1, 6.5,  // 0011..
    8.8,  8.0, 7.8, 7.0, 6.9, 4.8,  // 0012..
    kNo,  9.2, kNo, 8.2, kNo, 7.2,  // 0020..
    kNo,  7.9, kNo, 6.9, kNo, 5.0,  // 0021..
    kNo,  6.9, kNo, 5.5, kNo, 2.7,  // 0022..
    9.9,  9.7, 9.5, 9.2, 9.2, 8.5,  // 0100..
    9.5,  9.1, 9.0, 8.3, 8.4, 7.1,  // 0101..
    9.2,  8.1, 8.2, 7.1, 7.2, 5.3,  // 0102..
    9.5,  9.3, 9.2, 8.5, 8.5, 7.3,  // 0110..
    9.2,  8.2, 8.0, 7.2, 7.0, 5.9,  // 0111..
    8.4,  7.0, 7.1, 5.2, 5.0, 3.0,  // 0112..
    kNo,  8.6, kNo, 7.5, kNo, 5.2,  // 0120..
    kNo,  7.1, kNo, 5.2, kNo, 2.9,  // 0121..
    kNo,  6.3, kNo, 2.9, kNo, 1.7,  // 0122..
    9.8,  9.5, 9.4, 8.7, 9.1, 8.1,  // 1000..
    9.4,  8.9, 8.6, 7.4, 7.7, 6.4,  // 1001..
    8.7,  7.5, 7.4, 6.3, 6.3, 4.9,  // 1002..
    9.4,  8.9, 8.8, 7.7, 7.6, 6.7,  // 1010..
    8.6,  7.6, 7.4, 5.8, 5.9, 5.0,  // 1011..
    7.2,  5.7, 5.7, 5.2, 5.2, 2.5,  // 1012..
    kNo,  8.3, kNo, 7.0, kNo, 5.4,  // 1020..
    kNo,  6.5, kNo, 5.8, kNo, 2.6,  // 1021..
    kNo,  5.3, kNo, 2.1, kNo, 1.3,  // 1022..
    9.5,  9.0, 8.8, 7.6, 7.6, 7.0,  // 1100..
    9.0,  7.7, 7.5, 6.2, 6.1, 5.3,  // 1101..
    7.7,  6.6, 6.8, 5.9, 5.2, 3.0,  // 1102..
    8.9,  7.8, 7.6, 6.7, 6.2, 5.8,  // 1110..
    7.4,  5.9, 5.7, 5.7, 4.7, 2.3,  // 1111..
    6.1,  5.2, 5.7, 2.9, 2.4, 1.6,  // 1112..
    kNo,  7.1, kNo, 5.9, kNo, 3.0,  // 1120..
    kNo,  5.8, kNo, 2.6, kNo, 1.5,  // 1121..
    kNo,  2.3, kNo, 1.3, kNo, 0.6,  // 1122..
    9.3,  8.7, 8.6, 7.2, 7.5, 5.8,  // 2000..
    8.6,  7.4, 7.4, 6.1, 5.6, 3.4,  // 2001..
    7.0,  5.4, 5.2, 4.0, 4.0, 2.2,  // 2002..
    8.5,  7.5, 7.4, 5.5, 6.2, 5.1,  // 2010..
    7.2,  5.7, 5.5, 4.1, 4.6, 1.9,  // 2011..
    5.3,  3.6, 3.4, 1.9, 1.9, 0.8,  // 2012..
    kNo,  6.4, kNo, 5.1, kNo, 2.0,  // 2020..
    kNo,  4.7, kNo, 2.1, kNo, 1.1,  // 2021..
    kNo,  2.4, kNo, 0.9, kNo, 0.4,  // 2022..
    8.8,  7.5, 7.3, 5.3, 6.0, 5.0,  // 2100..
    7.3,  5.5, 5.9, 4.0, 4.1, 2.0,  // 2101..
    5.4,  4.3, 4.5, 2.2, 2.0, 1.1,  // 2102..
    7.5,  5.5, 5.8, 4.5, 4.0, 2.1,  // 2110..
    6.1,  5.1, 4.8, 1.8, 2.0, 0.9,  // 2111..
    4.6,  1.8, 1.7, 0.7, 0.8, 0.2,  // 2112..
    kNo,  5.3, kNo, 2.4, kNo, 1.4,  // 2120..
    kNo,  2.4, kNo, 1.2, kNo, 0.5,  // 2121..
    kNo,  1.0, kNo, 0.3, kNo, 0.1,  // 2122..
};

double lookup(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) {
  if (eq1 > 2 || eq2 > 1 || eq3 > 2 || eq4 > 2 || eq5 > 2 || eq6 > 1) return kNo;
  return kLookup[((((eq1 * 2 + eq2) * 3 + eq3) * 3 + eq4) * 3 + eq5) * 2 + eq6];
}

// The effective value of a metric (reference: getEffectiveMetricValue): E, CR,
// IR, AR undefined count as their worst case (A, H, H, H); a base metric is
// replaced by its modified one when that is defined.
struct Effective {
  char av, ac, at, pr, ui, vc, vi, va, sc, si, sa, e, cr, ir, ar;
};

Effective effective(const Values<kV4Count>& v, bool threat, bool environmental) {
  auto mod = [&](V4 base, V4 modified) {
    return environmental ? pick(v[modified], v[base]) : v[base];
  };
  Effective f{};
  f.av = mod(AV, MAV);
  f.ac = mod(AC, MAC);
  f.at = mod(AT, MAT);
  f.pr = mod(PR, MPR);
  f.ui = mod(UI, MUI);
  f.vc = mod(VC, MVC);
  f.vi = mod(VI, MVI);
  f.va = mod(VA, MVA);
  f.sc = mod(SC, MSC);
  f.si = mod(SI, MSI);
  f.sa = mod(SA, MSA);
  f.e = threat && defined(v[E]) ? v[E] : 'A';
  f.cr = environmental && defined(v[CR]) ? v[CR] : 'H';
  f.ir = environmental && defined(v[IR]) ? v[IR] : 'H';
  f.ar = environmental && defined(v[AR]) ? v[AR] : 'H';
  return f;
}

struct Macro {
  int eq[6];
};

Macro macrovector(const Effective& f) {
  Macro m{};
  // EQ1: 0 AV:N and PR:N and UI:N; 1 (AV:N or PR:N or UI:N) and not all three and not AV:P; 2
  // otherwise.
  if (f.av == 'N' && f.pr == 'N' && f.ui == 'N') {
    m.eq[0] = 0;
  } else if ((f.av == 'N' || f.pr == 'N' || f.ui == 'N') && f.av != 'P') {
    m.eq[0] = 1;
  } else {
    m.eq[0] = 2;
  }
  // EQ2: 0 AC:L and AT:N; 1 otherwise.
  m.eq[1] = (f.ac == 'L' && f.at == 'N') ? 0 : 1;
  // EQ3: 0 VC:H and VI:H; 1 one of VC, VI, VA High; 2 none High.
  if (f.vc == 'H' && f.vi == 'H') {
    m.eq[2] = 0;
  } else if (f.vc == 'H' || f.vi == 'H' || f.va == 'H') {
    m.eq[2] = 1;
  } else {
    m.eq[2] = 2;
  }
  // EQ4: 0 MSI:S or MSA:S; 1 one of SC, SI, SA High; 2 otherwise.
  if (f.si == 'S' || f.sa == 'S') {
    m.eq[3] = 0;
  } else if (f.sc == 'H' || f.si == 'H' || f.sa == 'H') {
    m.eq[3] = 1;
  } else {
    m.eq[3] = 2;
  }
  // EQ5: E:A 0, E:P 1, E:U 2.
  m.eq[4] = f.e == 'A' ? 0 : f.e == 'P' ? 1 : 2;
  // EQ6: 0 (CR:H and VC:H) or (IR:H and VI:H) or (AR:H and VA:H); 1 otherwise.
  m.eq[5] =
      ((f.cr == 'H' && f.vc == 'H') || (f.ir == 'H' && f.vi == 'H') || (f.ar == 'H' && f.va == 'H'))
          ? 0
          : 1;
  return m;
}

// Metric levels of the severity distance (reference: METRIC_LEVELS), as the
// same double literals.
double level_av(char c) {
  return c == 'N' ? 0.0 : c == 'A' ? 0.1 : c == 'L' ? 0.2 : 0.3;
}
double level_pr(char c) {
  return c == 'N' ? 0.0 : c == 'L' ? 0.1 : 0.2;
}
double level_ui(char c) {
  return c == 'N' ? 0.0 : c == 'P' ? 0.1 : 0.2;
}
double level_ac(char c) {
  return c == 'L' ? 0.0 : 0.1;
}
double level_at(char c) {
  return c == 'N' ? 0.0 : 0.1;
}
double level_v(char c) {
  return c == 'H' ? 0.0 : c == 'L' ? 0.1 : 0.2;
}  // VC VI VA
double level_sc(char c) {
  return c == 'H' ? 0.1 : c == 'L' ? 0.2 : 0.3;
}  // SC
double level_s(char c) {
  return c == 'S' ? 0.0 : c == 'H' ? 0.1 : c == 'L' ? 0.2 : 0.3;
}  // SI SA
double level_req(char c) {
  return c == 'H' ? 0.0 : c == 'M' ? 0.1 : 0.2;
}  // CR IR AR

// The highest-severity vectors of each EQ level (reference: MAX_COMPOSED), as
// the metric values they fix, in the reference's order (the first that is at
// least as severe as the scored vector is the one used).
struct Max1 {
  char av, pr, ui;
};
struct Max2 {
  char ac, at;
};
struct Max36 {
  char vc, vi, va, cr, ir, ar;
};
struct Max4 {
  char sc, si, sa;
};
struct Span1 {
  const Max1* p;
  int n;
};
struct Span2 {
  const Max2* p;
  int n;
};
struct Span36 {
  const Max36* p;
  int n;
};

constexpr Max1 kMax1Level0[] = {{'N', 'N', 'N'}};
constexpr Max1 kMax1Level1[] = {{'A', 'N', 'N'}, {'N', 'L', 'N'}, {'N', 'N', 'P'}};
constexpr Max1 kMax1Level2[] = {{'P', 'N', 'N'}, {'A', 'L', 'P'}};
constexpr Span1 kMax1[] = {{kMax1Level0, 1}, {kMax1Level1, 3}, {kMax1Level2, 2}};
constexpr Max2 kMax2Level0[] = {{'L', 'N'}};
constexpr Max2 kMax2Level1[] = {{'H', 'N'}, {'L', 'P'}};
constexpr Span2 kMax2[] = {{kMax2Level0, 1}, {kMax2Level1, 2}};
constexpr Max36 kMax36Level00[] = {{'H', 'H', 'H', 'H', 'H', 'H'}};
constexpr Max36 kMax36Level01[] = {{'H', 'H', 'L', 'M', 'M', 'H'}, {'H', 'H', 'H', 'M', 'M', 'M'}};
constexpr Max36 kMax36Level10[] = {{'L', 'H', 'H', 'H', 'H', 'H'}, {'H', 'L', 'H', 'H', 'H', 'H'}};
constexpr Max36 kMax36Level11[] = {{'L', 'H', 'L', 'H', 'M', 'H'},
                                   {'L', 'H', 'H', 'H', 'M', 'M'},
                                   {'H', 'L', 'H', 'M', 'H', 'M'},
                                   {'H', 'L', 'L', 'M', 'H', 'H'},
                                   {'L', 'L', 'H', 'H', 'H', 'M'}};
constexpr Max36 kMax36Level21[] = {{'L', 'L', 'L', 'H', 'H', 'H'}};
constexpr Max4 kMax4[] = {{'H', 'S', 'S'}, {'H', 'H', 'H'}, {'L', 'L', 'L'}};

Span36 max36(int eq3, int eq6) {
  if (eq3 == 0) return eq6 == 0 ? Span36{kMax36Level00, 1} : Span36{kMax36Level01, 2};
  if (eq3 == 1) return eq6 == 0 ? Span36{kMax36Level10, 2} : Span36{kMax36Level11, 5};
  return Span36{kMax36Level21, 1};
}

// The depth of each MacroVector in severity-distance steps, +1 (reference:
// MAX_SEVERITY), already multiplied by the step of 0.1 as the reference does.
double max_severity_eq1(int eq1) {
  return (eq1 == 0 ? 1 : eq1 == 1 ? 4 : 5) * 0.1;
}
double max_severity_eq2(int eq2) {
  return (eq2 == 0 ? 1 : 2) * 0.1;
}
double max_severity_eq36(int eq3, int eq6) {
  if (eq3 == 0) return (eq6 == 0 ? 7 : 6) * 0.1;
  if (eq3 == 1) return 8 * 0.1;
  return 10 * 0.1;
}
double max_severity_eq4(int eq4) {
  return (eq4 == 0 ? 6 : eq4 == 1 ? 5 : 4) * 0.1;
}

struct Distances {
  double av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar;
  [[nodiscard]] bool all_non_negative() const {
    return av >= 0 && pr >= 0 && ui >= 0 && ac >= 0 && at >= 0 && vc >= 0 && vi >= 0 && va >= 0 &&
           sc >= 0 && si >= 0 && sa >= 0 && cr >= 0 && ir >= 0 && ar >= 0;
  }
};

// v4.0 §8.2 "Scoring": the MacroVector's score less the mean, over the EQs
// that have a lower MacroVector, of (score drop to it) × (severity distance
// from the MacroVector's highest vector / the MacroVector's depth).
double score_v4(const Effective& f, const Macro& mv) {
  // No impact on any system: 0.0 whatever else (reference shortcut).
  if (f.vc == 'N' && f.vi == 'N' && f.va == 'N' && f.sc == 'N' && f.si == 'N' && f.sa == 'N')
    return 0.0;
  const int eq1 = mv.eq[0], eq2 = mv.eq[1], eq3 = mv.eq[2], eq4 = mv.eq[3], eq5 = mv.eq[4],
            eq6 = mv.eq[5];
  double value = lookup(eq1, eq2, eq3, eq4, eq5, eq6);

  // 1a. The next lower MacroVector of each EQ (NaN when there is none).
  const double lower_eq1 = lookup(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
  const double lower_eq2 = lookup(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
  double lower_eq36 = 0;
  if (eq3 < 2 && eq6 == 1) {
    lower_eq36 = lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6);  // 11 -> 21, 01 -> 11
  } else if (eq3 == 1 && eq6 == 0) {
    lower_eq36 = lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1);  // 10 -> 11
  } else if (eq3 == 0 && eq6 == 0) {
    // 00 -> 01 or 10: the higher of the two.
    const double left = lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1);
    const double right = lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6);
    lower_eq36 = left > right ? left : right;
  } else {
    lower_eq36 = kNo;  // 21 -> 32 does not exist
  }
  const double lower_eq4 = lookup(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
  const double lower_eq5 = lookup(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

  // 1b. Severity distance from the first highest vector of the MacroVector
  // that is at least as severe in every metric (the last one tried if none is).
  const Span1 m1 = kMax1[eq1];
  const Span2 m2 = kMax2[eq2];
  const Span36 m36 = max36(eq3, eq6);
  const Max4& m4 = kMax4[eq4];
  Distances d{};
  bool found = false;
  for (int i1 = 0; i1 < m1.n && !found; ++i1) {
    for (int i2 = 0; i2 < m2.n && !found; ++i2) {
      for (int i36 = 0; i36 < m36.n && !found; ++i36) {
        const Max1& a = m1.p[i1];
        const Max2& b = m2.p[i2];
        const Max36& c = m36.p[i36];
        d.av = level_av(f.av) - level_av(a.av);
        d.pr = level_pr(f.pr) - level_pr(a.pr);
        d.ui = level_ui(f.ui) - level_ui(a.ui);
        d.ac = level_ac(f.ac) - level_ac(b.ac);
        d.at = level_at(f.at) - level_at(b.at);
        d.vc = level_v(f.vc) - level_v(c.vc);
        d.vi = level_v(f.vi) - level_v(c.vi);
        d.va = level_v(f.va) - level_v(c.va);
        d.sc = level_sc(f.sc) - level_sc(m4.sc);
        d.si = level_s(f.si) - level_s(m4.si);
        d.sa = level_s(f.sa) - level_s(m4.sa);
        d.cr = level_req(f.cr) - level_req(c.cr);
        d.ir = level_req(f.ir) - level_req(c.ir);
        d.ar = level_req(f.ar) - level_req(c.ar);
        found = d.all_non_negative();
      }
    }
  }
  const double distance_eq1 = d.av + d.pr + d.ui;
  const double distance_eq2 = d.ac + d.at;
  const double distance_eq36 = d.vc + d.vi + d.va + d.cr + d.ir + d.ar;
  const double distance_eq4 = d.sc + d.si + d.sa;

  // 1c–d. Proportional distances of the EQs with a lower MacroVector (the
  // reference skips a missing one; one that would rise is skipped too).
  const double available_eq1 = value - lower_eq1;
  const double available_eq2 = value - lower_eq2;
  const double available_eq36 = value - lower_eq36;
  const double available_eq4 = value - lower_eq4;
  const double available_eq5 = value - lower_eq5;
  int existing = 0;
  double normalized_eq1 = 0, normalized_eq2 = 0, normalized_eq36 = 0, normalized_eq4 = 0,
         normalized_eq5 = 0;
  if (available_eq1 >= 0) {  // false for NaN
    ++existing;
    normalized_eq1 = available_eq1 * (distance_eq1 / max_severity_eq1(eq1));
  }
  if (available_eq2 >= 0) {
    ++existing;
    normalized_eq2 = available_eq2 * (distance_eq2 / max_severity_eq2(eq2));
  }
  if (available_eq36 >= 0) {
    ++existing;
    normalized_eq36 = available_eq36 * (distance_eq36 / max_severity_eq36(eq3, eq6));
  }
  if (available_eq4 >= 0) {
    ++existing;
    normalized_eq4 = available_eq4 * (distance_eq4 / max_severity_eq4(eq4));
  }
  if (available_eq5 >= 0) {
    // EQ5 has one vector per level: its proportion is always 0.
    ++existing;
    normalized_eq5 = available_eq5 * 0;
  }
  // 2. Their mean; 3. subtracted from the MacroVector's score, one decimal.
  const double mean =
      existing == 0
          ? 0
          : (normalized_eq1 + normalized_eq2 + normalized_eq36 + normalized_eq4 + normalized_eq5) /
                existing;
  value -= mean;
  value = std::fmax(0.0, value);
  value = std::fmin(10.0, value);
  // Half up, after lifting by 1e-6 so that 8.549999999999999 (the double of
  // 8.6 - 7.2 …) rounds as the 8.55 it stands for.
  return std::floor((value + 1e-6) * 10 + 0.5) / 10;
}

}  // namespace

std::string_view to_string(CvssVersion v) {
  switch (v) {
    case CvssVersion::V3_0: return "3.0";
    case CvssVersion::V3_1: return "3.1";
    case CvssVersion::V4_0: return "4.0";
  }
  return "3.1";
}

CvssRating cvss_rating(double score) {
  // Scores carry one decimal; compare with half a tenth of slack.
  if (score < 0.05) return CvssRating::None;
  if (score < 3.95) return CvssRating::Low;
  if (score < 6.95) return CvssRating::Medium;
  if (score < 8.95) return CvssRating::High;
  return CvssRating::Critical;
}

std::string_view to_string(CvssRating r) {
  switch (r) {
    case CvssRating::None: return "None";
    case CvssRating::Low: return "Low";
    case CvssRating::Medium: return "Medium";
    case CvssRating::High: return "High";
    case CvssRating::Critical: return "Critical";
  }
  return "None";
}

std::optional<Severity> to_severity(CvssRating r) {
  switch (r) {
    case CvssRating::None: return std::nullopt;
    case CvssRating::Low: return Severity::Low;
    case CvssRating::Medium: return Severity::Medium;
    case CvssRating::High: return Severity::High;
    case CvssRating::Critical: return Severity::Critical;
  }
  return std::nullopt;
}

double CvssScores::overall() const {
  if (version == CvssVersion::V4_0) return score;
  if (has_environmental) return environmental;
  if (has_temporal) return temporal;
  return base;
}

double cvss3_roundup(double x) {
  // v3.1 Appendix A, verbatim in C++.
  const long long int_input = std::llround(x * 100000);
  if (int_input % 10000 == 0) return static_cast<double>(int_input) / 100000.0;
  return (std::floor(static_cast<double>(int_input) / 10000) + 1) / 10.0;
}

std::optional<CvssScores> cvss_scores(std::string_view vector, std::string* error) {
  const std::size_t slash = vector.find('/');
  const std::string_view prefix = vector.substr(0, slash);
  CvssScores out;
  if (prefix == "CVSS:3.0" || prefix == "CVSS:3.1") {
    if (slash == std::string_view::npos) {
      fail(error, prefix, vector, "has no metrics");
      return std::nullopt;
    }
    out.version = prefix == "CVSS:3.0" ? CvssVersion::V3_0 : CvssVersion::V3_1;
    Values<kV3Count> v{};
    if (!parse_metrics(vector, vector.substr(slash + 1), prefix, kV3, kV3Keys, v, error))
      return std::nullopt;
    score_v3(v, out.version == CvssVersion::V3_0, out);
    return out;
  }
  if (prefix == "CVSS:4.0") {
    if (slash == std::string_view::npos) {
      fail(error, prefix, vector, "has no metrics");
      return std::nullopt;
    }
    out.version = CvssVersion::V4_0;
    Values<kV4Count> v{};
    if (!parse_metrics(vector, vector.substr(slash + 1), prefix, kV4, kV4Keys, v, error))
      return std::nullopt;
    const bool threat = defined(v[E]);
    bool environmental = false;
    for (int m = CR; m <= MSA; ++m) environmental = environmental || defined(v[m]);
    out.nomenclature =
        threat ? (environmental ? "CVSS-BTE" : "CVSS-BT") : (environmental ? "CVSS-BE" : "CVSS-B");
    const Effective whole = effective(v, true, true);
    const Macro mv = macrovector(whole);
    for (int i = 0; i < 6; ++i)
      out.macrovector[static_cast<std::size_t>(i)] = static_cast<char>('0' + mv.eq[i]);
    out.score = score_v4(whole, mv);
    if (threat || environmental) {
      const Effective base = effective(v, false, false);
      out.base = score_v4(base, macrovector(base));
    } else {
      out.base = out.score;
    }
    return out;
  }
  if (vector.empty()) {
    fail(error, "CVSS", vector, "is empty");
  } else if (prefix.substr(0, 5) == "CVSS:") {
    fail(error, "CVSS", vector,
         "has unsupported version \"" + printable(prefix.substr(5)) +
             "\" (kguard reads CVSS:3.0, CVSS:3.1 and CVSS:4.0)");
  } else {
    fail(error, "CVSS", vector, "does not start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/");
  }
  return std::nullopt;
}

}  // namespace kg::vuln
