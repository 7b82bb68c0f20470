// The JSON report, schema version 1 (docs/report.md). Extend, never break.
#include "core/cluster_json.hpp"
#include "core/json_writer.hpp"
#include "report/model.hpp"
#include "report/vulns.hpp"

namespace kg {

void write_json_report(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  JsonWriter w(out);
  w.begin_object();
  w.field("schemaVersion", 1);
  w.key("tool").begin_object().field("name", "kguard").field("version", m.tool_version).end_object();
  w.field("generatedAt", m.generated_at);
  w.key("source").begin_object().field("type", s.cluster ? "cluster" : "files");
  w.key("names").begin_array();
  for (const std::string& n : s.inputs) w.value(n);
  w.end_array();
  w.key("policy").begin_object();
  for (const ReportFact& f : s.facts) w.field(f.key, f.value);
  w.end_object();
  w.end_object();

  if (s.cluster) {
    w.key("cluster").begin_object();
    write_cluster_facts(w, *s.cluster);
    w.end_object();
  }
  // What could not be checked and why (kinds the identity could not list).
  w.key("coverage").begin_array();
  for (const CoverageGap& g : s.coverage_gaps()) write_coverage_gap(w, g);
  w.end_array();

  // East-west traffic per namespace (docs/mesh.md); only when computed.
  if (s.east_west) {
    w.key("eastWest").begin_object();
    w.key("meshes").begin_array();
    for (const std::string& mesh : s.east_west->meshes) w.value(mesh);
    w.end_array();
    w.key("namespaces").begin_array();
    for (const NamespaceTraffic& t : s.east_west->namespaces) {
      w.begin_object()
          .field("namespace", t.ns)
          .field("workloads", static_cast<std::uint64_t>(t.workloads))
          .field("meshed", static_cast<std::uint64_t>(t.meshed))
          .field("mesh", t.mesh)
          .field("mtls", t.mtls)
          .field("authorization", t.authorization)
          .field("networkPolicy", t.network_policy)
          .field("protectedBy", t.protected_by);
      if (!t.scope.empty()) w.field("scope", t.scope);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }

  w.key("overview").begin_object();
  w.field("checks", m.tally.checks)
      .field("passed", m.tally.passed)
      .field("failed", m.tally.failed)
      .field("exempted", m.tally.exempted);
  w.field("documents", s.documents).field("objects", s.objects).field("bytes", s.bytes);
  w.key("resources").begin_array();
  for (const auto& [kind, count] : s.kinds) {
    w.begin_object().field("kind", kind).field("count", count);
    w.field("percent", s.objects ? 100.0 * static_cast<double>(count) / static_cast<double>(s.objects)
                                 : 0.0);
    w.end_object();
  }
  w.end_array();
  w.field("score", m.score).field("grade", m.grade).field("scoreGrade", m.score_grade);
  if (m.grade_cap) {
    w.key("gradeCap").begin_object().field("grade", m.grade_cap->grade).field("reason", m.grade_cap->reason);
    w.end_object();
  } else {
    w.key("gradeCap").null();
  }
  w.key("bySeverity").begin_object();
  for (Severity sev : {Severity::Critical, Severity::High, Severity::Medium, Severity::Low})
    w.field(to_string(sev), m.by_severity[static_cast<std::size_t>(sev)]);
  w.end_object();
  w.end_object();

  // Reference scopes (--scope): one entry per folder or file when the input
  // was split, each with its own verdict; [] when it is one set.
  w.key("scope").begin_object().field("mode", to_string(s.scope_mode));
  w.key("scopes").begin_array();
  for (const ScopeReport& sc : m.scopes) {
    w.begin_object()
        .field("name", sc.name)
        .field("objects", sc.objects)
        .field("checks", sc.tally.checks)
        .field("passed", sc.tally.passed)
        .field("failed", sc.tally.failed)
        .field("exempted", sc.tally.exempted)
        .field("score", sc.grading.score)
        .field("grade", sc.grading.grade)
        .field("scoreGrade", sc.grading.score_grade);
    if (sc.grading.cap) {
      w.key("gradeCap").begin_object().field("grade", sc.grading.cap->grade).field("reason", sc.grading.cap->reason);
      w.end_object();
    } else {
      w.key("gradeCap").null();
    }
    w.key("bySeverity").begin_object();
    for (Severity sev : {Severity::Critical, Severity::High, Severity::Medium, Severity::Low})
      w.field(to_string(sev), sc.by_severity[static_cast<std::size_t>(sev)]);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.end_object();

  // --framework: the verdicts by the framework's controls.
  if (m.framework) {
    const FrameworkView& fw = *m.framework;
    w.key("framework").begin_object().field("id", fw.id).field("title", fw.title);
    if (fw.score) {
      w.field("score", *fw.score);
    } else {
      w.key("score").null();
    }
    w.field("passed", static_cast<std::uint64_t>(fw.passed))
        .field("failed", static_cast<std::uint64_t>(fw.failed))
        .field("exempted", static_cast<std::uint64_t>(fw.exempted))
        .field("notApplicable", static_cast<std::uint64_t>(fw.not_applicable))
        .field("uncovered", static_cast<std::uint64_t>(fw.uncovered));
    w.key("controls").begin_array();
    for (const FrameworkControl& c : fw.controls) {
      w.begin_object().field("id", c.id).field("title", c.title).field("status", to_string(c.status));
      if (c.score) {
        w.field("score", *c.score);
      } else {
        w.key("score").null();
      }
      w.key("rules").begin_array();
      for (const FrameworkControl::RuleResult& r : c.rules) {
        w.begin_object()
            .field("rule", r.rule->id)
            .field("evaluated", r.tally.evaluated)
            .field("passed", r.tally.passed)
            .field("failed", r.tally.failed)
            .field("exempted", r.tally.exempted)
            .end_object();
      }
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }

  w.key("categories").begin_array();
  for (const CategoryReport& c : m.categories) {
    w.begin_object()
        .field("id", to_string(c.category))
        .field("title", category_title(c.category))
        .field("checks", c.tally.checks)
        .field("passed", c.tally.passed)
        .field("failed", c.tally.failed)
        .field("exempted", c.tally.exempted)
        .field("score", c.score)
        .end_object();
  }
  w.end_array();

  // Per-check compliance (passed resources / evaluated resources).
  w.key("checks").begin_array();
  for (std::size_t i = 0; i < s.rules.size(); ++i) {
    const RuleInfo& r = *s.rules[i];
    const RuleTally& t = s.tallies[i];
    if (t.evaluated == 0 && t.exempted == 0) continue;
    w.begin_object()
        .field("rule", r.id)
        .field("title", r.title)
        .field("category", to_string(r.category))
        .field("severity", to_string(r.severity))
        .field("evaluated", t.evaluated)
        .field("passed", t.passed)
        .field("failed", t.failed)
        .field("exempted", t.exempted);
    w.field("compliance", t.evaluated ? 100.0 * static_cast<double>(t.passed) /
                                            static_cast<double>(t.evaluated)
                                      : 100.0);
    w.end_object();
  }
  w.end_array();

  if (!m.baseline_file.empty()) {
    std::uint64_t unchanged = 0;
    for (BaselineState b : m.baseline) unchanged += b == BaselineState::Unchanged ? 1 : 0;
    w.key("baseline").begin_object().field("file", m.baseline_file).field("new", m.new_failures);
    w.field("unchanged", unchanged).field("fixedCount", static_cast<std::uint64_t>(m.fixed.size()));
    w.key("fixed").begin_array();
    for (const FixedFinding& x : m.fixed) {
      w.begin_object()
          .field("rule", x.rule)
          .field("kind", x.kind)
          .field("namespace", x.ns)
          .field("name", x.name)
          .field("container", x.container)
          .field("path", x.path)
          .field("message", x.message)
          .field("fingerprint", x.fingerprint)
          .end_object();
    }
    w.end_array().end_object();
  }

  w.key("findings").begin_array();
  for (std::size_t fi = 0; fi < s.findings.size(); ++fi) {
    const FindingView f = s.findings[fi];
    w.begin_object()
        .field("rule", f.rule->id)
        .field("title", f.rule->title_in(m.lang))
        .field("category", to_string(f.rule->category))
        .field("severity", to_string(f.rule->severity))
        .field("result", to_string(f.result))
        .field("kind", f.kind);
    // A cluster-scoped object (or one whose namespace is defaulted) has none:
    // no `"namespace": ""`.
    if (!f.ns.empty()) w.field("namespace", f.ns);
    w.field("name", f.name).field("container", f.container);
    // Engines whose subject is narrower than an object (an image, a layer path).
    if (!f.subject.empty()) w.field("subject", f.subject);
    w.field("message", m.message(f))
        .field("remediation", f.rule->remediation_in(m.lang));
    w.key("location")
        .begin_object()
        .field("file", f.location.file)
        .field("line", static_cast<std::uint64_t>(f.location.line))
        .field("column", static_cast<std::uint64_t>(f.location.column))
        .field("path", f.location.path)
        .end_object();
    if (f.result == Result::Exempt) {
      w.key("exemption").begin_object().field("reason", f.exemption_reason);
      if (!f.exemption_until.empty()) w.field("until", f.exemption_until);
      w.end_object();
    }
    w.field("fingerprint", m.fingerprint(f));
    if (!m.baseline.empty() && m.baseline[fi] != BaselineState::None)
      w.field("baseline", m.baseline[fi] == BaselineState::New ? "new" : "unchanged");
    w.end_object();
  }
  w.end_array();

  // Each image's vulnerabilities with every field of the match (the
  // findings above hold the same matches as rule = id, for gates and
  // baselines); only when vulnerabilities were matched.
  if (!s.vulnerabilities.empty()) {
    w.key("vulnerabilities").begin_array();
    for (const ImageVulnerabilities& iv : s.vulnerabilities) write_vulnerabilities_json(w, iv, s.image_uses);
    w.end_array();
  }

  w.key("errors").begin_array();
  for (const InputError& e : s.errors) {
    w.begin_object()
        .field("file", e.file)
        .field("line", static_cast<std::uint64_t>(e.line))
        .field("column", static_cast<std::uint64_t>(e.column))
        .field("message", e.message)
        .end_object();
  }
  w.end_array();

  w.key("warnings").begin_array();
  for (const InputError& e : s.warnings) {
    w.begin_object()
        .field("file", e.file)
        .field("line", static_cast<std::uint64_t>(e.line))
        .field("message", e.message)
        .end_object();
  }
  w.end_array();

  // What directory walks left out, and why (docs/configuration.md).
  w.key("skipped").begin_array();
  for (const InputError& e : s.skipped) {
    w.begin_object().field("file", e.file);
    if (e.line) w.field("line", static_cast<std::uint64_t>(e.line));
    w.field("reason", e.message).end_object();
  }
  w.end_array();
  w.end_object();
  out << '\n';
}

}  // namespace kg
