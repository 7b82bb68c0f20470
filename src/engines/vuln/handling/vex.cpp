#include "engines/vuln/handling/vex.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "engines/vuln/handling/purl.hpp"

namespace kg::vuln {
namespace {

// OpenVEX v0.2.0 "Status Justifications" (from CISA's VEX Status
// Justifications, June 2022).
constexpr std::array<std::string_view, 5> kOpenVexJustifications = {
    "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist"};
// CycloneDX 1.4–1.6 vulnerability.analysis.justification.
constexpr std::array<std::string_view, 9> kCdxJustifications = {
    "code_not_present",       "code_not_reachable",     "requires_configuration",
    "requires_dependency",    "requires_environment",   "protected_by_compiler",
    "protected_at_runtime",   "protected_at_perimeter", "protected_by_mitigating_control"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A lower-case "sha256:<hex>" from a digest or bare hex; empty when neither.
std::string digest_id(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.rfind("sha256:", 0) == 0) out.erase(0, 7);
  if (out.size() != 64 || !std::all_of(out.begin(), out.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return {};
  return "sha256:" + out;
}

class Reader {
 public:
  Reader(const std::string& file, std::vector<VexStatement>& out, std::vector<InputError>& errors)
      : file_(file), out_(out), errors_(errors) {}

  void problem(const Node* at, const std::string& msg) {
    errors_.push_back({file_, at ? at->line : 0, at ? at->column : 0, msg});
  }

  // A string field; problems when present but not a string.
  std::optional<std::string> text(const Node* parent, std::string_view key, const std::string& where) {
    const Node* n = get(parent, key);
    if (!n || n->is_null()) return std::nullopt;
    if (!n->is_scalar()) {
      problem(n, where + "." + std::string(key) + ": must be a string");
      return std::nullopt;
    }
    return std::string(n->text());
  }

  bool time_field(const Node* parent, std::string_view key, const std::string& where,
                  std::optional<VexTime>& into) {
    auto s = text(parent, key, where);
    if (!s) return true;
    into = parse_rfc3339(*s);
    if (!into) {
      problem(get(parent, key), where + "." + std::string(key) + ": '" + *s + "' is not an RFC 3339 time");
      return false;
    }
    return true;
  }

  // An OpenVEX component: @id, identifiers{purl,cpe…}, hashes{sha-256…}.
  VexComponent openvex_component(const Node* n, const std::string& where, bool& ok) {
    VexComponent c;
    if (n->is_scalar()) {  // v0.0.1 wrote products as plain strings
      add_id(c, n->text());
      return c;
    }
    if (!n->is_map()) {
      problem(n, where + ": must be an object (@id, identifiers, hashes)");
      ok = false;
      return c;
    }
    if (auto id = text(n, "@id", where)) add_id(c, *id);
    for (const MapEntry& e : entries(get(n, "identifiers")))
      if (e.value->is_scalar()) add_id(c, e.value->text());
    for (const MapEntry& e : entries(get(n, "hashes")))
      if (e.key->text() == "sha-256" && e.value->is_scalar()) {
        std::string d = digest_id(e.value->text());
        if (!d.empty()) c.ids.push_back(d);
      }
    if (c.ids.empty()) {
      problem(n, where + ": names nothing kguard can match (an @id, identifiers.purl or hashes.sha-256)");
      ok = false;
    }
    return c;
  }

  void add_id(VexComponent& c, std::string_view id) {
    if (id.empty()) return;
    std::string d = digest_id(id);
    c.ids.push_back(d.empty() ? std::string(id) : d);
  }

  void openvex(const Node* root) {
    std::optional<VexTime> doc_time;
    time_field(root, "timestamp", "document", doc_time);
    const Node* statements = get(root, "statements");
    if (!statements || !statements->is_seq()) {
      problem(statements ? statements : root, "statements: an OpenVEX document needs a list of statements");
      return;
    }
    std::size_t i = 0;
    for (const Node* s : statements->items()) {
      const std::string where = "statements[" + std::to_string(i++) + "]";
      if (!s->is_map()) {
        problem(s, where + ": must be an object");
        continue;
      }
      VexStatement st;
      st.format = VexFormat::OpenVex;
      st.file = file_;
      st.line = s->line;
      st.field = where;
      bool ok = true;
      const Node* v = get(s, "vulnerability");
      if (v && v->is_scalar()) {  // v0.0.1: "vulnerability": "CVE-…"
        st.vulnerability = std::string(v->text());
      } else if (v && v->is_map()) {
        st.vulnerability = text(v, "name", where + ".vulnerability").value_or("");
        if (auto id = text(v, "@id", where + ".vulnerability")) {
          // An @id is an IRI such as https://nvd.nist.gov/vuln/detail/CVE-…: its last segment is an alias.
          const std::size_t slash = id->rfind('/');
          st.aliases.push_back(slash == std::string::npos ? *id : id->substr(slash + 1));
        }
        for (const Node* a : items(get(v, "aliases")))
          if (a->is_scalar()) st.aliases.emplace_back(a->text());
      }
      if (st.vulnerability.empty()) {
        problem(v ? v : s, where + ".vulnerability.name: a statement must name its vulnerability");
        ok = false;
      }
      const std::string status = text(s, "status", where).value_or("");
      st.status_text = status;
      if (status == "not_affected") st.status = VexStatus::NotAffected;
      else if (status == "affected") st.status = VexStatus::Affected;
      else if (status == "fixed") st.status = VexStatus::Fixed;
      else if (status == "under_investigation") st.status = VexStatus::UnderInvestigation;
      else {
        problem(get(s, "status") ? get(s, "status") : s,
                where + ".status: " + (status.empty() ? std::string("missing") : "'" + status + "' is not an OpenVEX status") +
                    " (not_affected, affected, fixed, under_investigation)");
        ok = false;
      }
      st.justification = text(s, "justification", where).value_or("");
      st.detail = text(s, "impact_statement", where).value_or("");
      st.action = text(s, "action_statement", where).value_or("");
      if (!st.justification.empty() && !in(kOpenVexJustifications, st.justification)) {
        problem(get(s, "justification"), where + ".justification: '" + st.justification +
                                             "' is not an OpenVEX justification (component_not_present, "
                                             "vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "
                                             "vulnerable_code_cannot_be_controlled_by_adversary, "
                                             "inline_mitigations_already_exist)");
        ok = false;
      }
      if (st.status == VexStatus::NotAffected && ok && st.justification.empty() && st.detail.empty()) {
        // OpenVEX: a not_affected statement MUST give a justification or an impact_statement.
        problem(s, where + ".justification: a not_affected statement needs a justification or an impact_statement");
        ok = false;
      }
      if (!time_field(s, "timestamp", where, st.time)) ok = false;
      if (!st.time) st.time = doc_time;
      const Node* products = get(s, "products");
      std::size_t j = 0;
      for (const Node* p : items(products)) {
        const std::string pw = where + ".products[" + std::to_string(j++) + "]";
        VexProduct prod;
        prod.component = openvex_component(p, pw, ok);
        std::size_t k = 0;
        for (const Node* sc : items(get(p, "subcomponents")))
          prod.subcomponents.push_back(openvex_component(sc, pw + ".subcomponents[" + std::to_string(k++) + "]", ok));
        st.products.push_back(std::move(prod));
      }
      if (st.products.empty()) {
        problem(products ? products : s, where + ".products: a statement needs at least one product");
        ok = false;
      }
      if (ok) push(std::move(st));
    }
  }

  // CycloneDX: bom-ref → purl of every component (metadata.component and the
  // components tree).
  void collect_refs(const Node* c) {
    if (!c || !c->is_map()) return;
    std::string ref(str(get(c, "bom-ref")));
    std::string purl(str(get(c, "purl")));
    if (!ref.empty()) refs_.emplace_back(std::move(ref), std::move(purl));
    for (const Node* sub : items(get(c, "components"))) collect_refs(sub);
  }

  // What an affects[].ref names: a component of this document, a BOM-Link
  // into another BOM (urn:cdx:serial/version#bom-ref) or a purl itself.
  std::string resolve_ref(std::string_view ref) {
    std::string_view key = ref;
    if (ref.rfind("urn:cdx:", 0) == 0) {
      const std::size_t hash = ref.find('#');
      if (hash == std::string_view::npos) return {};
      key = ref.substr(hash + 1);
    }
    for (const auto& [r, purl] : refs_)
      if (r == key || r == ref) return purl;
    // A BOM-Link fragment is percent-encoded; purl bom-refs (as Trivy and
    // Syft write them) are purls.
    if (key.rfind("pkg:", 0) == 0) return std::string(key);
    if (key.rfind("pkg%3A", 0) == 0 || key.rfind("pkg%3a", 0) == 0) {
      std::string decoded;
      for (std::size_t i = 0; i < key.size(); ++i) {
        const int hi = i + 2 < key.size() && key[i] == '%' ? hex(key[i + 1]) : -1;
        const int lo = hi >= 0 ? hex(key[i + 2]) : -1;
        if (key[i] == '%' && (hi < 0 || lo < 0)) return {};
        if (key[i] == '%') {
          decoded += static_cast<char>(hi * 16 + lo);
          i += 2;
        } else {
          decoded += key[i];
        }
      }
      return decoded;
    }
    return {};
  }

  void cyclonedx(const Node* root) {
    const std::string spec(str(get(root, "specVersion")));
    if (spec != "1.4" && spec != "1.5" && spec != "1.6" && spec != "1.7") {
      problem(get(root, "specVersion") ? get(root, "specVersion") : root,
              "specVersion: '" + spec + "': CycloneDX VEX is read from specVersion 1.4 to 1.7");
      return;
    }
    std::optional<VexTime> doc_time;
    time_field(get(root, "metadata"), "timestamp", "metadata", doc_time);
    collect_refs(get(get(root, "metadata"), "component"));
    for (const Node* c : items(get(root, "components"))) collect_refs(c);
    const Node* vulns = get(root, "vulnerabilities");
    if (!vulns || !vulns->is_seq()) {
      problem(vulns ? vulns : root, "vulnerabilities: a CycloneDX VEX document needs a list of vulnerabilities");
      return;
    }
    std::size_t i = 0;
    for (const Node* v : vulns->items()) {
      const std::string where = "vulnerabilities[" + std::to_string(i++) + "]";
      if (!v->is_map()) {
        problem(v, where + ": must be an object");
        continue;
      }
      VexStatement st;
      st.format = VexFormat::CycloneDx;
      st.file = file_;
      st.line = v->line;
      st.field = where;
      bool ok = true;
      st.vulnerability = text(v, "id", where).value_or("");
      if (st.vulnerability.empty()) {
        problem(v, where + ".id: a vulnerability must have an id");
        ok = false;
      }
      for (const Node* r : items(get(v, "references")))
        if (auto id = text(r, "id", where + ".references")) st.aliases.push_back(*id);
      const Node* a = get(v, "analysis");
      if (!a || !a->is_map()) {
        problem(a ? a : v, where + ".analysis: a VEX entry needs analysis.state");
        continue;
      }
      const std::string state = text(a, "state", where + ".analysis").value_or("");
      st.status_text = state;
      if (state == "not_affected" || state == "false_positive") st.status = VexStatus::NotAffected;
      else if (state == "resolved" || state == "resolved_with_pedigree") st.status = VexStatus::Fixed;
      else if (state == "exploitable") st.status = VexStatus::Affected;
      else if (state == "in_triage") st.status = VexStatus::UnderInvestigation;
      else {
        problem(get(a, "state") ? get(a, "state") : a,
                where + ".analysis.state: " + (state.empty() ? std::string("missing") : "'" + state + "' is not a CycloneDX state") +
                    " (resolved, resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected)");
        ok = false;
      }
      st.justification = text(a, "justification", where + ".analysis").value_or("");
      if (!st.justification.empty() && !in(kCdxJustifications, st.justification)) {
        problem(get(a, "justification"),
                where + ".analysis.justification: '" + st.justification +
                    "' is not a CycloneDX justification (code_not_present, code_not_reachable, "
                    "requires_configuration, requires_dependency, requires_environment, protected_by_compiler, "
                    "protected_at_runtime, protected_at_perimeter, protected_by_mitigating_control)");
        ok = false;
      }
      st.detail = text(a, "detail", where + ".analysis").value_or("");
      const Node* response = get(a, "response");
      if (response && response->is_scalar()) {
        st.action = std::string(response->text());
      } else {
        for (const Node* r : items(response)) {
          if (!r->is_scalar()) continue;
          if (!st.action.empty()) st.action += ", ";
          st.action += r->text();
        }
      }
      if (!time_field(a, "lastUpdated", where + ".analysis", st.time)) ok = false;
      if (!st.time && !time_field(a, "firstIssued", where + ".analysis", st.time)) ok = false;
      if (!st.time) st.time = doc_time;
      const Node* affects = get(v, "affects");
      std::size_t j = 0;
      for (const Node* af : items(affects)) {
        const std::string aw = where + ".affects[" + std::to_string(j++) + "]";
        const std::string ref = text(af, "ref", aw).value_or("");
        const std::string purl = resolve_ref(ref);
        if (purl.empty()) {
          problem(af, aw + ".ref: '" + ref + "' names no component with a purl in this document; this target is skipped");
          continue;
        }
        VexProduct prod;
        prod.component.ids.push_back(purl);
        // versions[]: exact `version`s are honoured; `range`s (vers:) are
        // not evaluated, so a target given only by ranges is skipped rather
        // than widened to every version.
        const Node* versions = get(af, "versions");
        std::vector<const Node*> list;
        if (versions && versions->is_map()) list.push_back(versions);  // written as one object in some examples
        for (const Node* x : items(versions)) list.push_back(x);
        bool ranged = false;
        for (const Node* x : list) {
          std::string status(str(get(x, "status")));
          if (status.empty()) status = std::string(str(get(x, "state")));
          // An entry that says the opposite of the analysis is not what the statement is about.
          const bool contrary = (st.status == VexStatus::NotAffected || st.status == VexStatus::Fixed)
                                    ? status == "affected"
                                    : status == "unaffected";
          if (contrary) continue;
          if (const Node* ver = get(x, "version"); ver && ver->is_scalar()) prod.versions.emplace_back(ver->text());
          else if (get(x, "range")) ranged = true;
        }
        if (!list.empty() && prod.versions.empty()) {
          if (ranged)
            problem(versions, aw + ".versions: version ranges (vers:) are not evaluated; this target is skipped");
          continue;
        }
        st.products.push_back(std::move(prod));
      }
      if (st.products.empty()) {
        if (!affects || affects->items().empty()) problem(affects ? affects : v, where + ".affects: names no component");
        ok = false;
      }
      if (ok) push(std::move(st));
    }
  }

  void push(VexStatement st) { out_.push_back(std::move(st)); }

 private:
  const std::string& file_;
  std::vector<VexStatement>& out_;
  std::vector<InputError>& errors_;
  std::vector<std::pair<std::string, std::string>> refs_;
};

}  // namespace

std::string_view to_string(VexFormat f) { return f == VexFormat::OpenVex ? "OpenVEX" : "CycloneDX VEX"; }

bool is_openvex_justification(std::string_view label) { return in(kOpenVexJustifications, label); }
bool is_cyclonedx_justification(std::string_view label) { return in(kCdxJustifications, label); }

std::optional<VexTime> parse_rfc3339(std::string_view s) {
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  std::size_t p = 19;
  std::int32_t nanos = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    const std::size_t start = p;
    std::int32_t scale = 100'000'000;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      nanos += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    auto oh = digits(p + 1, 2), om = digits(p + 4, 2);
    if (!oh || !om || p + 3 >= s.size() || s[p + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset = (*oh * 3600 + *om * 60) * (s[p] == '-' ? -1 : 1);
    p += 6;
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  return VexTime{days * 86400 + *h * 3600 + *mi * 60 + *se - offset, nanos};
}

void parse_vex(const std::string& file, std::string_view text, std::vector<VexStatement>& out,
               std::vector<InputError>& errors) {
  SourceFile src;
  src.path = file;
  src.content = std::string(text);
  std::vector<const Node*> roots;
  load_json(src, src.arena, false, LoadLimits{}, [&](const Document& d) { roots.push_back(d.root); });
  for (InputError& e : src.errors) {
    e.file = file;
    errors.push_back(std::move(e));
  }
  if (!src.errors.empty()) return;
  Reader r(file, out, errors);
  if (roots.size() != 1) {
    r.problem(roots.empty() ? nullptr : roots[1], roots.empty() ? "empty: no VEX document" : "more than one JSON value: a VEX file holds one document");
    return;
  }
  const Node* root = roots[0];
  if (!root->is_map()) {
    r.problem(root, "a VEX document must be a JSON object");
    return;
  }
  const std::string_view context = str(get(root, "@context"));
  if (context.rfind("https://openvex.dev/ns", 0) == 0) {
    r.openvex(root);
  } else if (str(get(root, "bomFormat")) == "CycloneDX") {
    r.cyclonedx(root);
  } else {
    r.problem(root, "neither an OpenVEX document (@context: https://openvex.dev/ns/v0.2.0) nor a CycloneDX BOM "
                    "(bomFormat: CycloneDX)");
  }
}

bool load_vex_file(const std::string& path, std::vector<VexStatement>& out, std::vector<InputError>& errors) {
  std::string text;
  if (!read_file(path, text)) {
    errors.push_back({path, 0, 0, "cannot read VEX file"});
    return false;
  }
  const std::size_t before = errors.size();
  const std::size_t had = out.size();
  parse_vex(path, text, out, errors);
  // No statement and a problem: the document as a whole was refused.
  return !(out.size() == had && errors.size() > before);
}

}  // namespace kg::vuln
