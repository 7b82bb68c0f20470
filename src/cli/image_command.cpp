// kguard image REF: read an image from any source (engines/image: the layer
// walk with every package cataloger and the hardening lint's facts) or an SBOM,
// and write what it is, what it holds and how it is hardened: the inventory
// (text, JSON), SBOMs (CycloneDX, SPDX) and the lint findings in every report
// format (docs/images.md "Output").
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "catalog/catalog.hpp"
#include "catalog/messages_zh.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/image_flags.hpp"
#include "cli/image_json.hpp"
#include "cli/image_vulns.hpp"
#include "cli/report_outputs.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/image/inventory/sbom_input.hpp"
#include "engines/image/lint/image_object.hpp"
#include "engines/image/lint/lint.hpp"
#include "engines/image/walk.hpp"
#include "engines/vuln/findings.hpp"
#include "report/model.hpp"
#include "report/renderers.hpp"
#include "report/sbom.hpp"
#include "report/terminal.hpp"
#include "report/vulns.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard image [options] REF

Reads a container image without extracting it (every layer once, as a
stream, each blob checked against its digest) and prints what it is and
what is installed in it: reference, manifest digest, platform, operating
system, layers and packages (dpkg, apk, rpm, Python, npm, Go, Java, Rust),
each with its purl, license, the file it came from and the layer that added it.

REF is one of:
  oci:DIR[:TAG]              an OCI image layout directory
  oci-archive:FILE[:TAG]     a tar of an OCI layout (skopeo, podman, buildah)
  docker-archive:FILE[:TAG]  docker save output (legacy or Docker 25+; plain or gzip)
  dir:PATH                   an unpacked root filesystem
  sbom:FILE                  a CycloneDX or SPDX JSON SBOM (packages, no files)
  [REGISTRY/]REPO[:TAG][@sha256:...]   an image in a registry (OCI distribution
                             API; credentials from docker's config.json)

The image is also linted for hardening by the catalog's image rules
(rules/images/image-*: root user, secrets in env, history and files, package
managers, network tools, setuid files, caches, size, layers...), each finding
located by path, layer digest and history step, and its packages (or the
SBOM's) are matched against the offline vulnerability database when there is
one: each vulnerability is a finding in the Images category (rule = its id),
and the text report lists them per image, highest risk first.

Options:
  -o, --output FORMAT[=FILE]   repeatable, one per destination:
                               text (default): the inventory, then the report
                               json: the inventory (packages, layers, OS) and
                               its vulnerabilities
                               cyclonedx, spdx: SBOMs (CycloneDX 1.6 with the
                               vulnerabilities, SPDX 2.3 JSON)
                               report-json: the report (lint findings and
                               vulnerabilities) in kguard scan's JSON
                               sarif, html, markdown, csv, junit, policyreport, ci:
                               the report in that format
                               object: the kind: Image object the rules judged
      --fail-on SEVERITY       exit 1 when a lint finding or an unsuppressed
                               vulnerability is at SEVERITY or above
                               (low, medium, high, critical)
      --only SELECTORS         lint with these rules, categories or tags only
                               (comma-separated)
      --config FILE            a .kguard.yaml: rule overrides (e.g. the limits
                               image-too-large maxMegabytes, image-too-many-layers
                               maxLayers), exemptions (kind Image, name = REF)
      --no-lint                inventory only: no lint report
      --lang en|zh             language of the lint report
      --no-color               never colour the text report
      --list-files             also list every path of the final filesystem
                               (type, mode, size, the layer that added it)
)";

constexpr const char* kExitStatus = R"(
Exit status: 0 read, 1 --fail-on or --max-risk crossed, 2 the image could not
be read (the message names the blob and the entry), the database or a VEX
file could not be read, or bad usage.
)";

std::string human(std::uint64_t n) { return format_bytes(static_cast<std::size_t>(n)); }

void print_text(std::ostream& out, const image::ImageReadResult& r) {
  const ImageInventory& inv = r.inventory;
  auto safe = [](std::string_view s) { return terminal_safe(s); };
  out << "Image:     " << safe(inv.reference) << '\n';
  if (!r.tag.empty()) out << "Tag:       " << safe(r.tag) << '\n';
  if (!inv.manifest_digest.empty()) out << "Digest:    " << inv.manifest_digest << '\n';
  if (!inv.config_digest.empty()) out << "Config:    " << inv.config_digest << '\n';
  if (!inv.platform.empty()) out << "Platform:  " << safe(inv.platform) << '\n';
  const OsInfo& os = inv.os;
  out << "OS:        ";
  if (os.id.empty()) out << "unknown";
  else {
    out << safe(os.id) << (os.version_id.empty() ? "" : " ") << safe(os.version_id);
    if (!os.pretty_name.empty()) out << " (" << safe(os.pretty_name) << ")";
  }
  if (os.distroless) out << ", distroless";
  out << '\n';
  std::uint64_t total = 0;
  for (const LayerInfo& l : inv.layers) total += l.size;
  out << "Layers:    " << inv.layers.size() << " (" << human(total) << " stored, " << human(r.bytes)
      << " uncompressed)\n";
  for (std::size_t i = 0; i < inv.layers.size(); ++i) {
    const LayerInfo& l = inv.layers[i];
    out << "  " << (i + 1) << "  " << (l.digest.empty() ? "-" : l.digest) << "  " << human(l.size);
    if (!l.created_by.empty()) out << "  " << safe(l.created_by.substr(0, 80));
    out << '\n';
  }
  out << "Files:     " << r.files << " (" << r.entries << " layer entries)\n";
  if (!inv.packages.empty()) {
    std::map<std::string_view, std::size_t> by_type;
    for (const Package& p : inv.packages) ++by_type[to_string(p.type)];
    out << "Packages:  " << inv.packages.size() << " (";
    const char* sep = "";
    for (const auto& [type, n] : by_type) {
      out << sep << n << ' ' << type;
      sep = ", ";
    }
    out << ")\n";
    for (const Package& p : inv.packages) {
      out << "  " << to_string(p.type) << "  " << safe(p.name) << ' ' << safe(p.version)
          << (p.license.empty() ? "" : "  ") << safe(p.license) << '\n';
    }
  }
  for (const std::string& e : r.package_errors) out << "Warning:   " << safe(e) << '\n';
  for (const std::string& n : r.notes) out << "Note:      " << safe(n) << '\n';
  if (!r.file_list.empty()) out << "\nFiles (type mode size layer path):\n";
  for (const image::FileInfo& f : r.file_list) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", f.mode & 07777);
    out << (f.type == '5' ? 'd' : f.type == '2' ? 'l' : f.type == '1' ? 'h' : f.type == '0' ? '-' : '?') << ' '
        << mode << ' ' << f.size << ' ' << (f.layer + 1) << ' ' << safe(f.path);
    if (!f.link.empty()) out << " -> " << safe(f.link);
    out << '\n';
  }
}

}  // namespace

// kguard image -o json (image_json.hpp): also the result the vuln attestations carry.
void print_image_json(std::ostream& out, const image::ImageReadResult& r, const ImageVulnerabilities* vulns) {
  const ImageInventory& inv = r.inventory;
  JsonWriter w(out);
  w.begin_object();
  w.field("reference", inv.reference);
  w.field("tag", r.tag);
  w.field("manifestDigest", inv.manifest_digest);
  w.field("configDigest", inv.config_digest);
  w.field("platform", inv.platform);
  w.key("os").begin_object();
  w.field("id", inv.os.id);
  w.field("versionId", inv.os.version_id);
  w.field("versionCodename", inv.os.version_codename);
  w.field("prettyName", inv.os.pretty_name);
  w.key("idLike").begin_array();
  for (const std::string& s : inv.os.id_like) w.value(s);
  w.end_array();
  w.field("distroless", inv.os.distroless);
  w.end_object();
  w.key("layers").begin_array();
  for (const LayerInfo& l : inv.layers) {
    w.begin_object();
    w.field("digest", l.digest);
    w.field("diffId", l.diff_id);
    w.field("mediaType", l.media_type);
    w.field("size", static_cast<std::uint64_t>(l.size));
    w.field("createdBy", l.created_by);
    w.end_object();
  }
  w.end_array();
  w.field("files", r.files);
  w.field("entries", r.entries);
  w.field("uncompressedBytes", r.bytes);
  w.key("packages").begin_array();
  for (const Package& p : inv.packages) {
    w.begin_object();
    w.field("type", to_string(p.type));
    w.field("name", p.name);
    w.field("version", p.version);
    auto optional = [&](const char* key, const std::string& v) {
      if (!v.empty()) w.field(key, v);
    };
    optional("sourceName", p.source_name);
    optional("sourceVersion", p.source_version);
    optional("arch", p.arch);
    optional("license", p.license);
    w.field("purl", p.purl);
    optional("checksum", p.checksum);
    w.key("locations").begin_array();
    for (const PackageEvidence& e : p.evidence) {
      w.begin_object();
      w.field("path", e.path);
      w.field("layer", e.layer_digest);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("packageErrors").begin_array();
  for (const std::string& e : r.package_errors) w.value(e);
  w.end_array();
  if (!r.file_list.empty()) {
    w.key("fileList").begin_array();
    for (const image::FileInfo& f : r.file_list) {
      w.begin_object();
      w.field("path", f.path);
      w.field("type", std::string_view(f.type == '5' ? "dir" : f.type == '2' ? "symlink" : f.type == '1' ? "hardlink"
                                       : f.type == '0' ? "file" : "other"));
      w.field("mode", static_cast<std::uint64_t>(f.mode));
      w.field("size", f.size);
      w.field("layer", static_cast<std::uint64_t>(f.layer + 1));
      if (!f.link.empty()) w.field("link", f.link);
      if (f.type == '2') w.field("resolved", f.resolved);
      w.end_object();
    }
    w.end_array();
  }
  w.key("notes").begin_array();
  for (const std::string& n : r.notes) w.value(n);
  w.end_array();
  if (vulns) {
    w.key("vulnerabilities");
    write_vulnerabilities_json(w, *vulns, {});
  }
  w.end_object();
  w.flush();
  out << '\n';
}

namespace {

// `sbom:FILE`: the inventory an SBOM describes (no layers are read). An input
// that is no SBOM, or cannot be read, is an error naming the file and line.
image::ImageReadResult read_sbom_file(const std::string& path) {
  image::ImageReadResult r;
  constexpr std::uintmax_t kMaxSbomBytes = std::uintmax_t{1} << 30;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    r.error = path + ": not a regular file";
    return r;
  }
  if (std::filesystem::file_size(path, ec) > kMaxSbomBytes) {
    r.error = path + ": larger than 1 GiB, the SBOM size limit";
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    r.error = path + ": cannot read";
    return r;
  }
  std::vector<image::CatalogError> errors;
  r.inventory.reference = "sbom:" + path;
  if (!image::read_sbom(path, text.str(), r.inventory, errors)) {
    r.error = errors.empty() ? path + ": not an SBOM" : errors.front().to_string();
    return r;
  }
  for (const image::CatalogError& e : errors) r.package_errors.push_back(e.to_string());
  return r;
}


// The formats of the lint report (report/renderers.cpp) that `kguard image`
// writes under their own names; text and json are the inventory's here
// (text adds the lint report after it), the JSON report is report-json.
const Renderer* lint_renderer(std::string_view format) {
  if (format == "text" || format == "json") return nullptr;
  if (format == "report-json") return find_renderer("json");
  return find_renderer(format);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int image_command(const std::vector<std::string>& args) {
  std::string reference;
  std::vector<OutputSpec> outputs;
  image::ReadOptions options;
  image::WalkLimits limits;
  EvalOptions eval;
  std::optional<Config> config;
  std::optional<Severity> fail_on;
  Lang lang = Lang::En;
  bool lint = true, no_color = false;
  VulnSettings vuln_settings;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    ArgCursor flag(args, i);
    std::string v;
    auto need = [&](const char* what) {
      if (!flag.value(v) || v.empty()) {
        std::cerr << "kguard image: " << what << '\n';
        return false;
      }
      return true;
    };
    if (std::string error; const int consumed = parse_image_read_flag(args, i, options, limits, error)) {
      if (consumed < 0) {
        std::cerr << "kguard image: " << error << '\n';
        return 2;
      }
      continue;
    }
    if (std::string error; const int consumed = parse_vuln_flag(args, i, vuln_settings, error)) {
      if (consumed < 0) {
        std::cerr << "kguard image: " << error << '\n';
        return 2;
      }
      continue;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kHelp << vuln_flags_help() << image_read_flags_help() << kExitStatus;
      return 0;
    } else if (flag.is("--output", "-o")) {
      if (!need("--output needs FORMAT[=FILE]")) return 2;
      OutputSpec o = OutputSpec::parse(v);
      if (o.format != "text" && o.format != "json" && o.format != "object" && !find_sbom_writer(o.format) &&
          !lint_renderer(o.format)) {
        std::cerr << "kguard image: unknown output format '" << o.format
                  << "' (text, json, cyclonedx, spdx, object, report-json, sarif, html, markdown, csv, junit, "
                     "policyreport, ci)\n";
        return 2;
      }
      outputs.push_back(o);
    } else if (flag.is("--fail-on")) {
      if (!need("--fail-on needs a severity")) return 2;
      fail_on = parse_severity(v);
      if (!fail_on) {
        std::cerr << "kguard image: --fail-on must be low, medium, high or critical\n";
        return 2;
      }
    } else if (flag.is("--only")) {
      if (!need("--only needs selectors")) return 2;
      for (std::string& sel : split_commas(v)) eval.only.push_back(std::move(sel));
    } else if (flag.is("--lang")) {
      if (!need("--lang needs en or zh")) return 2;
      auto l = parse_lang(v);
      if (!l) {
        std::cerr << "kguard image: --lang must be en or zh\n";
        return 2;
      }
      lang = *l;
    } else if (flag.is("--config")) {
      if (!need("--config needs a file")) return 2;
      std::vector<InputError> errors;
      config = load_config(v, errors);
      for (const InputError& e : errors) {
        std::cerr << "kguard image: " << terminal_safe(e.file) << ':' << e.line << ':' << e.column << ": "
                  << terminal_safe(e.message) << '\n';
      }
      if (!config) return 2;
      config->apply(eval);  // the overrides' params point into `config`, which lives until the end
    } else if (a == "--no-lint") {
      lint = false;
    } else if (a == "--no-color") {
      no_color = true;
    } else if (a == "--list-files") {
      limits.list_files = true;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "kguard image: unknown option '" << a << "'\n";
      return 2;
    } else if (reference.empty()) {
      reference = a;
    } else {
      std::cerr << "kguard image: one image at a time ('" << reference << "' and '" << a << "')\n";
      return 2;
    }
  }
  if (reference.empty()) {
    std::cerr << "kguard image: which image? (kguard image --help)\n";
    return 2;
  }
  if (outputs.empty()) outputs.push_back({"text", ""});
  if (std::string clash = output_clash(outputs); !clash.empty()) {
    std::cerr << "kguard image: " << clash << '\n';
    return 2;
  }
  const bool from_sbom = reference.rfind("sbom:", 0) == 0;
  const Catalog& catalog = Catalog::builtin();
  for (const std::string& sel : eval.only) {
    bool known = catalog.categories().find(sel).has_value();
    for (const auto& r : catalog.rules())
      if (r->id == sel || r->has_tag(sel)) known = true;
    if (!known) {
      std::cerr << "kguard image: --only: no rule, category or tag named '" << terminal_safe(sel) << "'\n";
      return 2;
    }
  }
  // An SBOM holds packages, not files or a config: nothing to lint.
  if (from_sbom) lint = false;
  // The vulnerability database, once: a missing default one is a warning.
  VulnRun vulns;
  {
    std::vector<std::string> notes;
    std::vector<InputError> errors;
    const bool ok = vulns.open(vuln_settings, config ? &*config : nullptr, notes, errors);
    for (const std::string& n : notes) std::cerr << "kguard image: warning: " << terminal_safe(n) << '\n';
    for (const InputError& e : errors) {
      std::cerr << "kguard image: " << terminal_safe(e.file) << (e.line ? ":" + std::to_string(e.line) : "") << ": "
                << terminal_safe(e.message) << '\n';
    }
    if (!ok) return 2;
  }
  // The gate's defaults from .kguard.yaml's vulnerabilities section; flags win.
  if (!fail_on && vulns.policy().fail_on) fail_on = vulns.policy().fail_on;
  std::optional<double> max_risk = vuln_settings.max_risk;
  if (!max_risk && vulns.policy().max_risk) max_risk = vulns.policy().max_risk;
  const bool report = lint || vulns.active();
  const std::string why_no_report =
      from_sbom ? "an SBOM cannot be linted (it lists packages, not files) and no vulnerability database is open"
                : "--no-lint is set and no vulnerability database is open";
  if (fail_on && !report) {
    std::cerr << "kguard image: --fail-on gates on lint findings and vulnerabilities, and " << why_no_report << '\n';
    return 2;
  }
  if (max_risk && !vulns.active()) {
    std::cerr << "kguard image: --max-risk gates on vulnerabilities, and no vulnerability database is open"
              << (vuln_settings.enabled ? " (--db PATH, kguard db build, kguard db import)" : " (--no-vulns)") << '\n';
    return 2;
  }
  for (const OutputSpec& o : outputs) {
    if ((o.format == "object" && !lint) || (!report && lint_renderer(o.format))) {
      std::cerr << "kguard image: -o " << o.format << " is the " << (o.format == "object" ? "lint object" : "report")
                << ", and " << (o.format == "object" ? (from_sbom ? "an SBOM cannot be linted" : "--no-lint is set")
                                                     : why_no_report)
                << '\n';
      return 2;
    }
  }
  image::LintCataloger lint_facts;
  image::ImageReadResult r = from_sbom ? read_sbom_file(reference.substr(5))
                             : lint ? image::inventory_image(reference, options, limits, {&lint_facts})
                                    : image::inventory_image(reference, options, limits);
  if (!r.ok()) {
    std::cerr << "kguard image: " << terminal_safe(r.error) << '\n';
    return 2;
  }
  std::string object;
  std::optional<image::ImageLinter> linter;  // owns the rules the config changed: outlives the report
  EngineResult result;
  std::optional<ReportModel> model;
  if (lint) {
    object = image::image_object_json(r, lint_facts.facts());
    linter.emplace(catalog, eval);
    result = linter->lint(r.inventory.reference, object);
    for (const InputError& e : result.errors) {
      std::cerr << "kguard image: " << terminal_safe(e.file) << (e.line ? ":" + std::to_string(e.line) : "") << ": "
                << terminal_safe(e.message) << '\n';
    }
    if (!result.errors.empty()) return 2;
  } else if (report) {
    // Vulnerabilities alone: the report's subject is the image (or SBOM).
    result.engine = "image";
    result.inputs = {r.inventory.reference};
    result.policy = "Vulnerabilities";
    result.messages_zh = &builtin_messages_zh();
    result.objects = 1;
    result.kinds["Image"] = 1;
  }
  if (vulns.active()) {
    std::vector<InputError> warnings;
    // An image scanned alone: its workload's exposure is unknown.
    ImageVulnerabilities iv = vulns.match(r.inventory, vuln::WorkloadExposure{}, warnings);
    for (InputError& w : warnings) result.warnings.push_back(std::move(w));
    for (const InputError& w : vuln::expired_ignores(vulns.policy(), utc_today())) result.warnings.push_back(w);
    vuln::VulnFindings findings(result, images_category(catalog));
    vuln::VulnSubject subject;
    subject.name = r.inventory.reference;
    subject.location.file = r.inventory.reference;
    findings.add(iv, r.inventory, subject);
    result.vulnerabilities.push_back(std::move(iv));
    findings.finish();
  }
  if (report) model.emplace(build_report(result, utc_now_rfc3339(), lang));
  const bool written = write_outputs("image", outputs, no_color, [&](const OutputSpec& o, const RenderOptions& render_options,
                                                                      std::ostream& out) {
    if (o.format == "json") {
      print_image_json(out, r, result.vulnerabilities.empty() ? nullptr : &result.vulnerabilities.front());
    } else if (o.format == "text") {
      print_text(out, r);
      if (model) {
        out << '\n';
        find_renderer("text")->render(*model, render_options, out);
      }
    } else if (o.format == "object") {
      out << object;
    } else if (const SbomWriter* sbom = find_sbom_writer(o.format)) {
      SbomOptions sbom_options;
      if (!result.vulnerabilities.empty() && o.format == "cyclonedx")
        sbom_options.vulnerabilities = &result.vulnerabilities.front();
      sbom->write(r.inventory, out, sbom_options);
    } else {
      lint_renderer(o.format)->render(*model, render_options, out);
    }
  });
  if (!written) return 2;
  // The gate: any failed lint finding or unsuppressed vulnerability (both are
  // failed findings) at --fail-on or above; any unsuppressed vulnerability
  // whose risk is above --max-risk.
  bool crossed = false;
  if (fail_on && model) {
    const std::vector<FindingView> hits = fail_on_hits(result, fail_on);
    if (!hits.empty()) {
      crossed = true;
      std::cerr << "kguard image: --fail-on " << to_string(*fail_on) << " crossed: " << hits.size() << " finding"
                << (hits.size() == 1 ? "" : "s") << '\n';
      constexpr std::size_t kShown = 5;  // the rest are in the report
      for (std::size_t i = 0; i < hits.size() && i < kShown; ++i) {
        std::cerr << "  " << to_string(hits[i].rule->severity) << "  " << terminal_safe(hits[i].rule->id) << "  "
                  << terminal_safe(hits[i].message) << '\n';
      }
      if (hits.size() > kShown) std::cerr << "  ... and " << hits.size() - kShown << " more (see the report)\n";
    }
  }
  if (max_risk) {
    std::vector<std::string> lines;
    if (const std::size_t n = risk_gate(result, *max_risk, lines); n > 0) {
      crossed = true;
      std::cerr << "kguard image: --max-risk " << decimal(*max_risk) << " crossed: " << n << " vulnerabilit"
                << (n == 1 ? "y" : "ies") << " above it\n";
      for (const std::string& l : lines) std::cerr << terminal_safe(l) << '\n';
    }
  }
  if (crossed) return 1;
  return 0;
}

}  // namespace kg::cli
