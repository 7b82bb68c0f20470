// wgpolicyk8s.io/v1alpha2 PolicyReport / ClusterPolicyReport YAML, the CRDs
// that Kyverno, Trivy Operator and the Policy Reporter UI read: one
// PolicyReport per namespace, one ClusterPolicyReport for cluster-scoped
// resources and manifests without a namespace. A result is one evaluated
// (resource, check) pair, like a check in the tallies, so summary.fail adds up
// to the JSON overview's failed count; several failing fields of one check
// are joined in its message.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "report/formats.hpp"

namespace kg {
namespace {

// A YAML double-quoted scalar. JSON-style escapes for quote, backslash and
// controls, plus \u escapes for what YAML does not allow raw in a stream or
// would read as a line break (DEL, C1 controls including NEL, U+2028/2029,
// BOM, U+FFFE/U+FFFF). Invalid UTF-8 arrives here as U+FFFD.
std::string yq(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const bool printable = (cp >= 0x20 && cp <= 0x7E) || (cp >= 0xA0 && cp <= 0xD7FF) ||
                               (cp >= 0xE000 && cp <= 0xFFFD && cp != 0xFEFF) || cp >= 0x10000;
        if (printable && cp != 0x2028 && cp != 0x2029) {
          append_utf8(out, cp);
        } else {
          char buf[16];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
          out += buf;
        }
      }
    }
  }
  out += '"';
  return out;
}

std::string_view policy_result(Result r) {
  switch (r) {
    case Result::Fail: return "fail";
    case Result::Pass: return "pass";
    case Result::Exempt: return "skip";
  }
  return "fail";
}

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

void write_result(std::ostream& out, const ReportModel& m, const CheckRun& run, long long seconds) {
  const FindingStore& fs = m.result->findings;
  const Lang L = m.lang;
  const FindingView f = fs[run.first];
  const RuleInfo& r = *f.rule;
  std::string message;
  std::vector<std::string_view> paths;
  std::vector<std::string_view> containers;
  auto add_distinct = [](std::vector<std::string_view>& list, std::string_view item) {
    if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end())
      list.push_back(item);
  };
  for (std::size_t i = run.first; i < run.last; ++i) {
    if (i != run.first) message += "; ";
    message += m.message(fs[i]);
    add_distinct(paths, fs[i].location.path);
    add_distinct(containers, fs[i].container);
  }
  if (f.result == Result::Pass) message = std::string(r.title_in(L));
  out << "  - policy: kguard\n"
      << "    rule: " << yq(r.id) << '\n'
      << "    category: " << yq(tr(L, category_title(r.category))) << '\n'
      << "    severity: " << to_string(r.severity) << '\n'
      << "    result: " << policy_result(f.result) << '\n'
      << "    scored: true\n"
      << "    message: " << yq(message) << '\n'
      << "    source: kguard\n"
      << "    timestamp:\n"
      << "      seconds: " << seconds << '\n'
      << "      nanos: 0\n"
      << "    resources:\n"
      << "      - kind: " << yq(f.kind) << '\n'
      << "        name: " << yq(f.name) << '\n';
  if (!f.ns.empty()) out << "        namespace: " << yq(f.ns) << '\n';
  // properties is a map of strings in the CRD, so the line is quoted too.
  out << "    properties:\n"
      << "      file: " << yq(f.location.file) << '\n'
      << "      line: " << yq(std::to_string(f.location.line)) << '\n'
      << "      path: " << yq(join(paths)) << '\n';
  if (!containers.empty()) out << "      container: " << yq(join(containers)) << '\n';
}

// kguard node reports one node: its report is named after it, so each node's
// DaemonSet Pod replaces its own report and not the others'.
std::string cluster_report_name(const EngineResult& r) {
  const std::string_view node = r.fact("node");
  if (r.engine != "node" || node.empty()) return "kguard-cluster";
  std::string name = "kguard-node-";
  for (char c : node) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return name;
}

void write_document(std::ostream& out, const ReportModel& m, std::string_view ns,
                    const std::vector<CheckRun>& runs, long long seconds) {
  const FindingStore& fs = m.result->findings;
  std::uint64_t pass = 0;
  std::uint64_t fail = 0;
  std::uint64_t skip = 0;
  for (const CheckRun& run : runs) {
    switch (fs[run.first].result) {
      case Result::Pass: ++pass; break;
      case Result::Fail: ++fail; break;
      case Result::Exempt: ++skip; break;
    }
  }
  const bool cluster = ns.empty();
  // Kinds a cluster scan could not read: "error" results (the policy could
  // not be evaluated), in the cluster-wide report.
  static const std::vector<CoverageGap> kNoGaps;
  const std::vector<CoverageGap>& gaps =
      cluster ? m.result->coverage_gaps() : kNoGaps;
  out << "---\napiVersion: wgpolicyk8s.io/v1alpha2\n"
      << "kind: " << (cluster ? "ClusterPolicyReport" : "PolicyReport") << '\n'
      << "metadata:\n"
      << "  name: " << yq(cluster ? cluster_report_name(*m.result) : "kguard-" + std::string(ns))
      << '\n';
  if (!cluster) out << "  namespace: " << yq(ns) << '\n';
  out << "  labels:\n    app.kubernetes.io/managed-by: kguard\n"
      << "summary:\n"
      << "  pass: " << pass << "\n  fail: " << fail << "\n  warn: 0\n  error: " << gaps.size()
      << "\n  skip: " << skip << '\n';
  if (runs.empty() && gaps.empty()) {
    out << "results: []\n";
    return;
  }
  out << "results:\n";
  for (const CheckRun& run : runs) write_result(out, m, run, seconds);
  for (const CoverageGap& g : gaps) {
    std::string message = g.reason + (g.message.empty() ? "" : ": " + g.message);
    if (!g.rules.empty()) {
      message += " (";
      for (std::size_t i = 0; i < g.rules.size(); ++i) message += (i ? ", " : "") + g.rules[i];
      message += ")";
    }
    out << "  - policy: kguard\n"
        << "    rule: coverage\n"
        << "    result: error\n"
        << "    scored: false\n"
        << "    message: " << yq(message) << '\n'
        << "    source: kguard\n"
        << "    timestamp:\n"
        << "      seconds: " << seconds << '\n'
        << "      nanos: 0\n"
        << "    resources:\n"
        << "      - kind: " << yq(g.kind) << '\n'
        << "        apiVersion: " << yq(g.api_version) << '\n';
    if (!g.ns.empty()) out << "        namespace: " << yq(g.ns) << '\n';
  }
}

}  // namespace

void write_policyreport_report(const ReportModel& m, std::ostream& out) {
  const FindingStore& fs = m.result->findings;
  // Checks by namespace; "" collects cluster-scoped and namespace-less resources.
  std::map<std::string, std::vector<CheckRun>, std::less<>> by_namespace;
  for (const CheckRun& run : check_runs(fs)) by_namespace[std::string(fs[run.first].ns)].push_back(run);
  const long long seconds = utc_epoch_seconds(m.generated_at);
  for (const auto& [ns, runs] : by_namespace)
    if (!ns.empty()) write_document(out, m, ns, runs, seconds);
  // Always present, so the stream is never empty and a clean scan still
  // replaces an older cluster report when applied.
  auto cluster = by_namespace.find("");
  write_document(out, m, "",
                 cluster == by_namespace.end() ? std::vector<CheckRun>{} : cluster->second,
                 seconds);
}

}  // namespace kg
