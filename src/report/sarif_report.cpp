// SARIF 2.1.0 (OASIS), shaped for GitHub code scanning: rule metadata with
// security-severity, one result per failed (or, suppressed, exempted) finding with a physical location
// relative to the checkout (%SRCROOT%), and a fingerprint that survives edits
// which only move lines, so re-uploads update alerts instead of duplicating.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/formats.hpp"
#include "core/json_writer.hpp"

namespace kg {
namespace {

// Where users find out what kguard is; GitHub links the tool name to it.
constexpr std::string_view kInformationUri = "https://github.com/kguard/kguard";

// SARIF's result level: GitHub shows error/warning/note, and fails a check run
// on "error" by default, which should mean high or critical.
std::string_view sarif_level(Severity s) {
  switch (s) {
    case Severity::Critical:
    case Severity::High: return "error";
    case Severity::Medium: return "warning";
    case Severity::Low: return "note";
  }
  return "warning";
}

// GitHub maps security-severity scores to its own bands (>9.0 critical,
// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low); these sit inside each band.
std::string_view security_severity(Severity s) {
  switch (s) {
    case Severity::Critical: return "9.5";
    case Severity::High: return "8.0";
    case Severity::Medium: return "5.5";
    case Severity::Low: return "3.0";
  }
  return "5.5";
}

// "pss-run-as-user" → "PssRunAsUser": SARIF wants a reader-friendly name
// beside the opaque id.
std::string pascal_case(std::string_view id) {
  std::string out;
  bool upper = true;
  for (char c : id) {
    if (c == '-' || c == '_' || c == '.' || c == '/') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// A POSIX file path as a URI reference: '/' separates segments, and
// everything outside RFC 3986's unreserved set and the path punctuation is
// percent-encoded (spaces, '%', '#', '?', '\\', non-ASCII bytes). A ':' in a
// relative path is encoded too, or "a:b.yaml" would read as scheme "a".
std::string path_to_uri(std::string_view path, bool relative) {
  std::string out;
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    const bool path_punct = c == '/' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
                            c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=' ||
                            c == '@' || (c == ':' && !relative);
    if (unreserved || path_punct) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Input read from stdin has no file to point at; a made-up path would send
// code scanning to a file that does not exist, so such locations are logical only.
bool has_file(std::string_view file) {
  return !file.empty() && file != "-" && file != "<stdin>";
}

// "physicalLocation": artifactLocation + region (when the line is known).
void write_physical_location(JsonWriter& w, std::string_view file, std::uint32_t line,
                             std::uint32_t column) {
  const bool relative = file[0] != '/';
  w.key("physicalLocation").begin_object();
  w.key("artifactLocation").begin_object();
  if (relative) {
    w.field("uri", path_to_uri(file, true)).field("uriBaseId", "%SRCROOT%");
  } else {
    std::string uri = "file://";
    uri += path_to_uri(file, false);
    w.field("uri", uri);
  }
  w.end_object();
  if (line > 0) {  // SARIF lines and columns are 1-based; 0 means unknown here
    w.key("region").begin_object().field("startLine", static_cast<std::uint64_t>(line));
    if (column > 0) w.field("startColumn", static_cast<std::uint64_t>(column));
    w.end_object();
  }
  w.end_object();
}

std::string help_text(const RuleInfo& r, Lang L) {
  std::string s(r.rationale_in(L));
  s += "\n\n";
  s += tr(L, "Remediation");
  s += ": ";
  s += r.remediation_in(L);
  if (!r.references.empty()) {
    s += "\n\n";
    s += tr(L, "References");
    s += ":";
    for (const std::string& ref : r.references) s += "\n- " + ref;
  }
  return s;
}

std::string help_markdown(const RuleInfo& r, Lang L) {
  std::string s(r.rationale_in(L));
  s += "\n\n**";
  s += tr(L, "Remediation");
  s += "**: ";
  s += r.remediation_in(L);
  if (!r.references.empty()) {
    s += "\n\n**";
    s += tr(L, "References");
    s += "**\n";
    for (const std::string& ref : r.references) s += "\n- " + ref;
  }
  return s;
}

// A vulnerability's security-severity is its CVSS base score when it has one
// (what GitHub expects of vulnerability rules), else its severity's band.
void write_rule(JsonWriter& w, const RuleInfo& r, Lang L, const FrameworkView* fw, double cvss) {
  w.begin_object().field("id", r.id).field("name", pascal_case(r.id));
  w.key("shortDescription").begin_object().field("text", r.title_in(L)).end_object();
  w.key("fullDescription").begin_object().field("text", r.rationale_in(L)).end_object();
  w.key("help")
      .begin_object()
      .field("text", help_text(r, L))
      .field("markdown", help_markdown(r, L))
      .end_object();
  w.key("defaultConfiguration").begin_object().field("level", sarif_level(r.severity)).end_object();
  // SARIF wants tags distinct. "security" is always there because GitHub
  // reads security-severity only from rules tagged security.
  std::vector<std::string_view> tags{"security"};
  auto add_tag = [&](std::string_view t) {
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
  };
  add_tag(to_string(r.category));
  for (const std::string& t : r.tags) add_tag(t);
  w.key("properties").begin_object();
  w.key("tags").begin_array();
  for (std::string_view t : tags) w.value(t);
  w.end_array();
  if (cvss >= 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f", cvss);
    w.field("security-severity", std::string_view(buf));
  } else {
    w.field("security-severity", security_severity(r.severity));
  }
  w.field("severity", to_string(r.severity));
  w.field("category", to_string(r.category));
  if (fw) {  // --framework: the controls this rule belongs to
    w.key("frameworkControls").begin_object().key(fw->id).begin_array();
    for (const FrameworkControl& c : fw->controls) {
      for (const FrameworkControl::RuleResult& rr : c.rules)
        if (rr.rule == &r) w.value(c.id);
    }
    w.end_array().end_object();
  }
  w.end_object();
  w.end_object();
}

void write_result(JsonWriter& w, const ReportModel& m, const FindingView f, std::size_t rule_index, bool indexed,
                  BaselineState baseline) {
  w.begin_object().field("ruleId", f.rule->id);
  if (baseline != BaselineState::None)
    w.field("baselineState", baseline == BaselineState::New ? "new" : "unchanged");
  if (indexed) w.field("ruleIndex", static_cast<std::uint64_t>(rule_index));
  w.field("level", sarif_level(f.rule->severity));
  w.key("message").begin_object().field("text", m.message(f)).end_object();
  w.key("locations").begin_array().begin_object();
  // A vulnerability of an image (kguard image) is located at the file inside
  // the image that declares the package (its evidence path); under a
  // workload (scan --images) at the container's image field like any finding.
  const bool in_image = is_vulnerability_rule(*f.rule) && f.kind == "Image";
  if (in_image) {
    std::string_view path = f.location.path;
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (!path.empty() && path.find(':') == std::string_view::npos) {
      w.key("physicalLocation").begin_object().key("artifactLocation").begin_object();
      w.field("uri", path_to_uri(path, true)).end_object().end_object();
    }
    w.key("logicalLocations").begin_array().begin_object();
    w.field("name", f.subject).field("fullyQualifiedName", std::string(f.name) + "/" + std::string(f.subject));
    w.field("kind", "package");
    w.end_object().end_array();
  } else {
    if (has_file(f.location.file))
      write_physical_location(w, f.location.file, f.location.line, f.location.column);
    w.key("logicalLocations").begin_array().begin_object();
    w.field("name", f.name).field("fullyQualifiedName", resource_path(f)).field("kind", "resource");
    w.end_object().end_array();
  }
  w.end_object().end_array();
  w.key("partialFingerprints")
      .begin_object()
      .field("kguardFindingId/v1", m.fingerprint(f))
      .end_object();
  // An exempted finding is reported suppressed, so code scanning shows it as
  // dismissed with its reason instead of losing it: "inSource" for the
  // object's kguard.io/exempt annotation, "external" for the config.
  if (f.result == Result::Exempt) {
    w.key("suppressions").begin_array().begin_object();
    w.field("kind", f.exemption_in_source ? "inSource" : "external")
        .field("status", "accepted")
        .field("justification", f.exemption_reason);
    if (!f.exemption_until.empty())
      w.key("properties").begin_object().field("until", f.exemption_until).end_object();
    w.end_object().end_array();
  }
  w.key("properties").begin_object();
  w.field("kind", f.kind);
  if (!f.ns.empty()) w.field("namespace", f.ns);  // cluster-scoped: none, not ""
  w.field("name", f.name);
  if (!f.container.empty()) w.field("container", f.container);
  if (!f.location.path.empty()) w.field("path", f.location.path);
  if (!f.subject.empty()) w.field("subject", f.subject);
  w.end_object();
  w.end_object();
}

}  // namespace

void write_sarif_report(const ReportModel& m, std::ostream& out) {
  const EngineResult& s = *m.result;
  const Lang L = m.lang;
  std::unordered_map<const RuleInfo*, std::size_t> rule_index;
  for (std::size_t i = 0; i < s.rules.size(); ++i) rule_index.emplace(s.rules[i], i);

  JsonWriter w(out);
  w.begin_object();
  w.field("$schema", "https://json.schemastore.org/sarif-2.1.0.json").field("version", "2.1.0");
  w.key("runs").begin_array().begin_object();

  w.key("tool").begin_object().key("driver").begin_object();
  w.field("name", "kguard")
      .field("version", m.tool_version)
      .field("semanticVersion", m.tool_version)
      .field("informationUri", kInformationUri);
  // Every rule in force, in catalog order, so ruleIndex is stable for a given
  // policy and a rule with no failure still documents what was checked.
  std::unordered_map<std::string_view, double> cvss;  // vulnerability id -> highest CVSS base score
  for (const ImageVulnerabilities& iv : s.vulnerabilities) {
    for (const VulnMatch& v : iv.matches) {
      if (v.cvss_score < 0) continue;
      auto [it, added] = cvss.emplace(v.id, v.cvss_score);
      if (!added) it->second = std::max(it->second, v.cvss_score);
    }
  }
  w.key("rules").begin_array();
  for (const RuleInfo* r : s.rules) {
    const auto it = is_vulnerability_rule(*r) ? cvss.find(r->id) : cvss.end();
    write_rule(w, *r, L, m.framework ? &*m.framework : nullptr, it == cvss.end() ? -1.0 : it->second);
  }
  w.end_array();
  w.end_object().end_object();

  w.key("invocations").begin_array().begin_object();
  // Input errors mean some files were not (fully) scanned: the run did not
  // succeed, and each error becomes a notification at its location.
  w.field("executionSuccessful", s.errors.empty());
  w.key("toolExecutionNotifications").begin_array();
  for (const InputError& e : s.errors) {
    w.begin_object().field("level", "error");
    w.key("message").begin_object().field("text", e.message).end_object();
    if (has_file(e.file)) {
      w.key("locations").begin_array().begin_object();
      write_physical_location(w, e.file, e.line, e.column);
      w.end_object().end_array();
    }
    w.end_object();
  }
  // What a directory walk left out (docs/configuration.md), so an upload
  // shows why a file has no results.
  for (const InputError& e : s.skipped) {
    w.begin_object().field("level", "note");
    w.key("descriptor").begin_object().field("id", "skipped").end_object();
    w.key("message").begin_object().field("text", "skipped: " + e.message).end_object();
    if (has_file(e.file)) {
      w.key("locations").begin_array().begin_object();
      write_physical_location(w, e.file, e.line, e.column);
      w.end_object().end_array();
    }
    w.end_object();
  }
  // A cluster scan's coverage gaps: kinds the identity could not read, so
  // their rules were not evaluated on them.
  {
    for (const CoverageGap& g : s.coverage_gaps()) {
      std::string text = coverage_where(g, L) + ": " + g.reason;
      if (!g.message.empty()) text += " — " + g.message;
      w.begin_object().field("level", "warning");
      w.key("descriptor").begin_object().field("id", "coverage").end_object();
      w.key("message").begin_object().field("text", text).end_object();
      w.key("properties").begin_object().field("kind", g.kind).field("apiVersion", g.api_version);
      w.field("namespace", g.ns).key("rules").begin_array();
      for (const std::string& r : g.rules) w.value(r);
      w.end_array().end_object();
      w.end_object();
    }
  }
  w.end_array();
  if (s.cluster) {
    const ClusterInfo& c = *s.cluster;
    w.key("properties").begin_object().field("server", c.server).field("context", c.context);
    w.field("serverVersion", c.server_version).field("counts", cluster_counts(c, Lang::En));
    w.end_object();
  }
  w.end_object().end_array();

  w.field("language", lang_code(L));
  w.key("results").begin_array();
  for (std::size_t fi = 0; fi < s.findings.size(); ++fi) {
    const FindingView f = s.findings[fi];
    if (f.result == Result::Pass) continue;
    auto it = rule_index.find(f.rule);
    write_result(w, m, f, it == rule_index.end() ? 0 : it->second, it != rule_index.end(),
                 m.baseline.empty() ? BaselineState::None : m.baseline[fi]);
  }
  w.end_array();

  w.end_object().end_array();
  w.end_object();
  out << '\n';
}

}  // namespace kg
