#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/scan_kubelets.hpp"
#include "cli/commands.hpp"
#include "catalog/catalog.hpp"
#include "cli/render_flags.hpp"
#include "cli/image_flags.hpp"
#include "cli/scan_images.hpp"
#include "cli/scan_rbac.hpp"
#include "cli/image_vulns.hpp"
#include "cli/netpol_io.hpp"
#include "checks/mesh.hpp"
#include "engines/image/lint/lint.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "report/model.hpp"
#include "report/renderers.hpp"
#include "report/terminal.hpp"

namespace kg::cli {
namespace {

// The framework file data/frameworks/<id>.yaml embedded with the catalog.
std::optional<FrameworkData> find_framework(std::string_view id) {
  const std::string path = "data/frameworks/" + std::string(id) + ".yaml";
  for (const CatalogFile& f : embedded_catalog_files()) {
    if (f.path != path) continue;
    std::vector<std::string> problems;  // the data is checked by the unit tests
    return parse_framework(f.path, f.content, problems);
  }
  return std::nullopt;
}

}  // namespace

namespace {

constexpr const char* kScanHelp = R"(Usage: kguard scan [options] PATH...
       kguard scan --cluster [cluster options] [options]

Scans Kubernetes manifests (YAML or JSON; files, directories walked for
.yaml/.yml/.json, or - for stdin), or a live cluster through its API server,
and writes the inspection report. Directory walks skip hidden files and
folders, .kguard.yaml, --exclude globs, files known not to be manifests
(Chart.yaml, values*.yaml, kustomization.yaml, compose, CI, OpenAPI files)
and YAML documents with neither apiVersion nor kind; the report lists what
was skipped. Files named on the command line are always read.

Options:
  -o, --output FORMAT[=FILE]   report format: text (default), json, sarif, junit,
                               html, markdown, csv, policyreport, ci; repeatable,
                               so one scan writes several (each to its own
                               destination); FILE defaults to stdout
      --netpol                 add the NetworkPolicy engine's findings (reachability,
                               DNS, namespace isolation, dead policies; docs/netpol.md)
      --exclude GLOB           leave matching files and folders out of directory
                               walks (repeatable; a GLOB without '/' matches a
                               name at any depth, one with '/' the path under the
                               scanned folder; ** crosses folders)
      --allow-empty            exit 0 when no Kubernetes object was found
                               (default: exit 2, an empty scan is not a pass)
      --severity LEVEL[,...]   show only findings of these severities (low,
                               medium, high, critical; "high+" = high and above);
                               the score and --fail-on still count every finding
      --pss LEVEL              Pod Security Standards level: privileged, baseline,
                               restricted (default restricted)
      --pss-version VERSION    policy version v1.0 ... v1.37 or latest (default latest)
      --framework ID           also show the report by a framework's controls,
                               with a compliance score: nsa, mitre, cis, pss
      --scope MODE             which objects set-level rules relate (references,
                               selectors, RBAC): auto (default: dir when top-level
                               folders define the same objects, else all), dir,
                               file or all; cluster reads are always all
      --only SELECTOR[,...]    only rules matching an id, a category
                               (health, images, networking, resources, security)
                               or a tag (pss, pss-baseline, pss-restricted)
      --fail-on SEVERITY       exit 1 when a check of this severity or higher fails
                               (low, medium, high, critical); stderr says which
                               findings crossed it
      --min-score N            exit 1 when the health score is below N (0-100)
      --show-passed            list passed checks in the details too
      --baseline FILE          compare with a previous JSON report: findings are
                               marked new or unchanged (by fingerprint, not line),
                               and fixed ones listed
      --fail-on-new            exit 1 only for new failures (at or above --fail-on
                               when given); needs --baseline
      --config FILE            configuration file (default: .kguard.yaml in the
                               first scanned path's directory or its parents)
      --no-config              do not look for .kguard.yaml
      --no-exemptions          ignore every exemption (annotations, config, built-in)
      --rules DIR              also load custom rules (rule.yaml files) from DIR
  -j, --jobs N                 workers scanning files (and the pieces of large
                               ones) in parallel, 1-1024 (default: number of cores)
      --split-size SIZE        a larger input (a YAML stream, a JSON List) is cut
                               into pieces of about SIZE that every worker takes;
                               the report is the same (default 2MiB; 0: never cut)
      --max-file-size SIZE     larger files (and stdin) are not scanned, an input
                               error (default 256MiB; units B, KiB, MiB, GiB)
      --max-document-size SIZE larger YAML documents / JSON values are skipped,
                               an input error (default 128MiB)
      --max-errors-per-file N  input errors listed per file; the rest are counted
                               in one summary error (default 100)
      --lang en|zh             language of the report (default: from LANG, else en)
      --no-color               never colour the text report
  -q, --quiet                  no progress or summary lines on stderr (the reason
                               for exit code 1 or 2 is still printed)
      --target-version 1.N     judge deprecated/removed apiVersions against this
                               Kubernetes release (default: the cluster's version
                               when reading a cluster or a snapshot)

Cluster options (reading through the API server, like kubectl):
      --cluster                scan the cluster of the kubeconfig's context
)";

constexpr const char* kRenderHelpHeading = R"(
Helm charts and kustomizations (a folder holding Chart.yaml or kustomization.yaml
is rendered by helm template or kustomize build, and its output scanned instead
of its files; findings name the template, or the kustomization folder):
)";

constexpr const char* kScanExitCodes = R"(
Exit codes: 0 no failure at or above the thresholds; 1 thresholds exceeded;
2 usage or input errors (the report is still written for what could be read).
)";

using Output = OutputSpec;

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// One finding as the gate message lists it:
//   high      pss-privileged  Pod shop/api  deploy/api.yaml:9:19
std::string gate_line(const FindingView& f) {
  std::string sev(to_string(f.rule->severity));
  sev.resize(std::max<std::size_t>(sev.size() + 1, 9), ' ');
  std::string where(f.location.file);
  if (f.location.line) where += ":" + std::to_string(f.location.line) + ":" + std::to_string(f.location.column);
  return "  " + sev + terminal_safe(f.rule->id) + "  " +
         terminal_safe(std::string(f.kind) + " " + (f.ns.empty() ? std::string() : std::string(f.ns) + "/") +
                       std::string(f.name)) +
         "  " +
         terminal_safe(where);
}

int usage_error(const std::string& msg) {
  std::cerr << "kguard scan: " << terminal_safe(msg) << "\nRun `kguard scan --help` for usage.\n";
  return 2;
}

}  // namespace

int scan_command(const std::vector<std::string>& args) {
  ScanOptions options;
  options.jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<Output> outputs;
  std::vector<std::string> paths;
  std::optional<Severity> fail_on;
  int min_score = -1;
  bool no_color = false;
  bool quiet = false;
  std::string config_path;
  Lang lang = lang_from_env();
  std::string framework;
  std::optional<ScopeMode> cli_scope;
  bool no_config = false;
  bool no_exemptions = false;
  std::string baseline_path;
  bool fail_on_new = false;
  std::vector<std::string> rule_dirs;
  ClusterFlags cluster;
  std::string target_version;
  std::optional<std::size_t> max_file_bytes, max_document_bytes, max_errors_per_file;
  std::vector<std::string> exclude;
  bool allow_empty = false;
  std::array<bool, 4> shown{true, true, true, true};  // --severity, by Severity
  ImageScanSettings images;
  images.cache_dir = default_image_cache_dir();
  VulnSettings vuln_settings;
  bool netpol = false;  // --netpol: the NetworkPolicy engine's findings join the report

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    ArgCursor flag(args, i);
    auto value = [&](std::string& out) { return flag.value(out); };
    auto is = [&](std::string_view long_name, std::string_view short_name = {}) {
      return flag.is(long_name, short_name);
    };
    std::string v;
    if (std::string cluster_error; const int consumed = cluster.parse(args, i, cluster_error)) {
      if (consumed < 0) return usage_error(cluster_error);
      continue;
    }
    if (std::string render_error; const int consumed = parse_render_flag(args, i, options.render, render_error)) {
      if (consumed < 0) return usage_error(render_error);
      continue;
    }
    if (std::string image_error; const int consumed = parse_image_scan_flag(args, i, images, image_error)) {
      if (consumed < 0) return usage_error(image_error);
      continue;
    }
    if (std::string vuln_error; const int consumed = parse_vuln_flag(args, i, vuln_settings, vuln_error)) {
      if (consumed < 0) return usage_error(vuln_error);
      continue;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kScanHelp << cluster_flags_help() << kRenderHelpHeading << render_flags_help()
                << image_scan_flags_help() << vuln_flags_help() << image_read_flags_help() << kScanExitCodes;
      return 0;
    } else if (a == "--netpol") {
      netpol = true;
    } else if (is("--output", "-o")) {
      if (!value(v)) return usage_error("-o needs FORMAT[=FILE]");
      Output o = OutputSpec::parse(v);
      if (!find_renderer(o.format)) {
        std::string known;
        for (const Renderer& r : renderers()) known += (known.empty() ? "" : ", ") + std::string(r.format);
        return usage_error("unknown format '" + o.format + "' (use " + known + ")");
      }
      outputs.push_back(o);
    } else if (is("--pss")) {
      if (!value(v)) return usage_error("--pss needs a level");
      auto level = parse_pss_level(v);
      if (!level) return usage_error("--pss must be privileged, baseline or restricted");
      options.pss_level = *level;
    } else if (is("--pss-version")) {
      if (!value(v)) return usage_error("--pss-version needs a version");
      auto minor = parse_pss_version(v);
      if (!minor) return usage_error("--pss-version must be v1.N or latest, not '" + v + "'");
      options.pss_minor = *minor;
    } else if (is("--framework")) {
      if (!value(v)) return usage_error("--framework needs nsa, mitre, cis or pss");
      if (!find_framework(v)) return usage_error("--framework must be nsa, mitre, cis or pss, not '" + v + "'");
      framework = v;
    } else if (is("--scope")) {
      if (!value(v)) return usage_error("--scope needs a mode");
      auto mode = parse_scope_mode(v);
      if (!mode) return usage_error("--scope must be auto, dir, file or all, not '" + v + "'");
      cli_scope = *mode;
    } else if (is("--only")) {
      if (!value(v)) return usage_error("--only needs selectors");
      for (auto& s : split_commas(v)) options.only.push_back(s);
    } else if (is("--fail-on")) {
      if (!value(v)) return usage_error("--fail-on needs a severity");
      fail_on = parse_severity(v);
      if (!fail_on) return usage_error("--fail-on must be low, medium, high or critical");
    } else if (is("--min-score")) {
      long long n = 0;
      if (!value(v) || !parse_int_in(v, 0, 100, n))
        return usage_error("--min-score needs a score from 0 to 100, not '" + v + "'");
      min_score = static_cast<int>(n);
    } else if (is("--jobs", "-j") || (a.size() > 2 && a.rfind("-j", 0) == 0 && a[1] == 'j')) {
      if (a.size() > 2 && a.rfind("-j", 0) == 0) {
        v = a.substr(2);
      } else if (!value(v)) {
        return usage_error("--jobs needs a number from 1 to 1024");
      }
      long long n = 0;
      if (!parse_int_in(v, 1, 1024, n))
        return usage_error("--jobs needs a number from 1 to 1024, not '" + v + "'");
      options.jobs = static_cast<unsigned>(n);
    } else if (is("--exclude")) {
      if (!value(v) || v.empty()) return usage_error("--exclude needs a glob");
      exclude.push_back(v);
    } else if (a == "--allow-empty") {
      allow_empty = true;
    } else if (is("--severity")) {
      if (!value(v)) return usage_error("--severity needs levels");
      shown.fill(false);
      const std::vector<std::string> levels = split_commas(v);
      for (const std::string& l : levels) {
        const bool and_above = l.size() > 1 && l.back() == '+';
        const auto sev = parse_severity(and_above ? l.substr(0, l.size() - 1) : l);
        if (!sev)
          return usage_error("--severity takes low, medium, high or critical (or LEVEL+), not '" + l + "'");
        for (int k = static_cast<int>(*sev); k <= (and_above ? 3 : static_cast<int>(*sev)); ++k)
          shown[static_cast<std::size_t>(k)] = true;
      }
      if (levels.empty()) return usage_error("--severity needs levels");
    } else if (is("--config")) {
      if (!value(v)) return usage_error("--config needs a file");
      config_path = v;
    } else if (is("--lang")) {
      if (!value(v)) return usage_error("--lang needs en or zh");
      auto l = parse_lang(v);
      if (!l) return usage_error("--lang must be en or zh");
      lang = *l;
    } else if (is("--baseline")) {
      if (!value(v)) return usage_error("--baseline needs a JSON report");
      baseline_path = v;
    } else if (is("--target-version")) {
      if (!value(v)) return usage_error("--target-version needs a version such as 1.32");
      if (!kubernetes_minor(v)) return usage_error("--target-version must be 1.N, not '" + v + "'");
      target_version = v;
    } else if (is("--split-size")) {
      if (!value(v)) return usage_error("--split-size needs a size such as 2MiB, or 0");
      auto n = v == "0" ? std::optional<std::size_t>(0) : parse_byte_size(v);
      if (!n) return usage_error("--split-size must be a size such as 2MiB, 512KiB or bytes, or 0, not '" + v + "'");
      options.piece_bytes = *n;
    } else if (is("--max-file-size") || is("--max-document-size")) {
      const bool file_limit = is("--max-file-size");
      const std::string name = file_limit ? "--max-file-size" : "--max-document-size";
      if (!value(v)) return usage_error(name + " needs a size such as 256MiB");
      auto n = parse_byte_size(v);
      if (!n) return usage_error(name + " must be a size such as 256MiB, 64M, 512KiB or bytes, not '" + v + "'");
      (file_limit ? max_file_bytes : max_document_bytes) = *n;
    } else if (is("--max-errors-per-file")) {
      if (!value(v)) return usage_error("--max-errors-per-file needs a number");
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc{} || p != v.data() + v.size() || n < 1)
        return usage_error("--max-errors-per-file must be a whole number of at least 1, not '" + v + "'");
      max_errors_per_file = n;
    } else if (a == "--fail-on-new") {
      fail_on_new = true;
    } else if (a == "--no-exemptions") {
      no_exemptions = true;
    } else if (is("--rules")) {
      if (!value(v)) return usage_error("--rules needs a directory");
      rule_dirs.push_back(v);
    } else if (a == "--no-config") {
      no_config = true;
    } else if (a == "--show-passed") {
      options.show_passed = true;
    } else if (a == "--no-color") {
      no_color = true;
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "-" || a.empty() || a[0] != '-') {
      paths.push_back(a);
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  // -n is kubectl's and the cluster read's; helm's --namespace is --release-namespace here.
  if (cluster.enabled && !paths.empty() && !cluster.namespaces.empty()) {
    return usage_error("--namespace selects what --cluster reads; to render Helm charts into a "
                       "namespace use --release-namespace");
  }
  if (cluster.enabled && !paths.empty())
    return usage_error("--cluster reads the cluster; do not give paths too (scan a snapshot file instead)");
  if (!cluster.enabled && paths.empty())
    return usage_error("no input: give files, directories, - for stdin, or --cluster");
  if (fail_on_new && baseline_path.empty()) return usage_error("--fail-on-new needs --baseline FILE");
  std::optional<Baseline> baseline;
  if (!baseline_path.empty()) {
    std::vector<InputError> errors;
    baseline = load_baseline(baseline_path, errors);
    for (const InputError& e : errors) {
      std::cerr << "kguard: " << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": "
                << Tsafe{e.message} << '\n';
    }
    if (!baseline) return 2;
  }
  if (outputs.empty()) outputs.push_back({"text", ""});
  if (std::string clash = output_clash(outputs); !clash.empty()) return usage_error(clash);

  if (!no_config && config_path.empty() && !paths.empty() && paths[0] != "-")
    config_path = find_config_upward(paths[0]);
  Config config;
  if (!config_path.empty()) {
    std::vector<InputError> errors;
    auto loaded = load_config(config_path, errors);
    for (const InputError& e : errors) {
      std::cerr << "kguard: " << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": "
                << Tsafe{e.message} << '\n';
    }
    if (!loaded) return 2;
    config = std::move(*loaded);
  }
  config.apply(options);
  // Input walking is the scan engine's, not the policy's: the config's
  // `exclude:` and its own path go to the engine from here.
  options.exclude = config.exclude;
  options.exclude.insert(options.exclude.end(), exclude.begin(), exclude.end());
  options.config_file = config.path;
  if (cli_scope) options.scope = *cli_scope;
  options.use_exemptions = !no_exemptions;
  // Limits: the config's, then the flags'.
  if (config.max_file_bytes) options.limits.max_file_bytes = *config.max_file_bytes;
  if (config.max_document_bytes) options.limits.max_document_bytes = *config.max_document_bytes;
  if (config.max_errors_per_file) options.limits.max_errors_per_file = *config.max_errors_per_file;
  if (max_file_bytes) options.limits.max_file_bytes = *max_file_bytes;
  if (max_document_bytes) options.limits.max_document_bytes = *max_document_bytes;
  if (max_errors_per_file) options.limits.max_errors_per_file = *max_errors_per_file;

  // Custom rules join the built-in catalog; a malformed one is refused.
  Catalog custom;
  const Catalog* catalog_ptr = &Catalog::builtin();
  if (!rule_dirs.empty()) {
    std::vector<InputError> errors;
    custom.add_files(embedded_catalog_files(), errors);
    for (const std::string& dir : rule_dirs) custom.add_directory(dir, errors);
    for (const InputError& e : errors) {
      std::cerr << "kguard: " << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": "
                << Tsafe{e.message} << '\n';
    }
    if (!errors.empty()) return 2;
    catalog_ptr = &custom;
  }
  const Catalog& catalog = *catalog_ptr;
  if (!options.only.empty()) {
    for (const std::string& sel : options.only) {
      bool known = catalog.categories().find(sel).has_value();
      for (const auto& r : catalog.rules())
        if (r->id == sel || r->has_tag(sel)) known = true;
      if (rbac_selector(sel)) known = true;  // engines/rbac's own rules
      if (!known) return usage_error("--only: no rule, category or tag named '" + sel + "'");
      if (const Rule* r = catalog.find(sel); r && !quiet) {
        if (const std::string note = pss_selection_note(*r, options); !note.empty())
          std::cerr << "kguard: note: --only " << note << '\n';
      }
    }
  }

  // Deprecated APIs are judged against --target-version, else the version
  // of the cluster read (live, or recorded in a snapshot).
  // The east-west posture per namespace (checks/mesh.hpp) joins the report
  // when a networking rule is in force.
  for (const auto& r : catalog.rules())
    if (r->category.id() == "networking" && rule_selected(*r, options)) options.east_west = true;
  std::optional<kube::ClusterRead> cluster_read;
  if (cluster.enabled) {
    std::vector<const Rule*> selected;
    for (const auto& r : catalog.rules())
      if (rule_selected(*r, options)) selected.push_back(r.get());
    if (netpol) cluster.extra_kinds = netpol_kinds();
    std::vector<std::string> extra = rbac_rules_selected(options) ? rbac_path_kinds() : std::vector<std::string>{};
    if (options.east_west) {
      for (const std::string& k : east_west_kinds()) {
        if (k == "workloads") {
          for (const std::string& wk : options.pod_specs.kinds()) extra.push_back(wk);
        } else {
          extra.push_back(k);
        }
      }
    }
    cluster_read = read_cluster_for_scan(cluster, selected, options, quiet, extra);
    if (!cluster_read) return 2;
    options.kubernetes_minor = kubernetes_minor(cluster_read->info.server_version).value_or(0);
    options.cluster_version = cluster_read->info.server_version;
  } else {
    for (const std::string& p : paths) {
      if (auto info = kube::peek_snapshot(p); info && options.cluster_version.empty()) {
        options.kubernetes_minor = kubernetes_minor(info->server_version).value_or(0);
        options.cluster_version = info->server_version;
      }
    }
  }
  if (!target_version.empty()) options.kubernetes_minor = *kubernetes_minor(target_version);

  options.collect_images = images.enabled;
  // Vulnerabilities of the images (--images with a database): opened once.
  VulnRun vulns;
  std::optional<double> max_risk = vuln_settings.max_risk;
  bool exposure_rule_added = false;
  if (images.enabled) {
    std::vector<std::string> notes;
    std::vector<InputError> errors;
    const bool ok = vulns.open(vuln_settings, &config, notes, errors);
    for (const std::string& n : notes)
      if (!quiet) std::cerr << "kguard: warning: " << Tsafe{n} << '\n';
    for (const InputError& e : errors) {
      std::cerr << "kguard: " << Tsafe{e.file} << (e.line ? ":" + std::to_string(e.line) : "") << ": "
                << Tsafe{e.message} << '\n';
    }
    if (!ok) return 2;
    if (!max_risk && vulns.policy().max_risk) max_risk = vulns.policy().max_risk;
    // Reachability from outside raises a vulnerability's risk: the rule that
    // finds it runs even when not selected, and its findings are dropped then.
    if (vulns.active()) {
      const Rule* exposed = catalog.find(kExposedRule);
      if (exposed && !rule_selected(*exposed, options)) {
        auto it = options.overrides.find(kExposedRule);
        if (it == options.overrides.end() || !it->second.enabled || *it->second.enabled) {
          options.overrides[std::string(kExposedRule)].enabled = true;
          if (!options.only.empty()) options.only.emplace_back(kExposedRule);
          exposure_rule_added = rule_selected(*exposed, options);
        }
      }
    }
  }
  if (max_risk && !vulns.active())
    return usage_error("--max-risk gates on vulnerabilities: it needs --images and a vulnerability database");
  Scanner scanner(catalog, options);
  for (const InputError& e : scanner.setup_errors()) {
    std::cerr << "kguard: " << Tsafe{e.file} << (e.line ? ":" + std::to_string(e.line) : "") << ": "
              << Tsafe{e.message} << '\n';
  }
  if (!scanner.setup_errors().empty()) return 2;
  std::string netpol_snapshot = netpol && cluster_read ? cluster_read->snapshot : std::string();
  // Escalation paths and credential hygiene read the same inputs (the
  // snapshot before the scan takes it; stdin is the scan's alone).
  std::optional<RbacInputs> rbac_inputs;
  if (rbac_rules_selected(options)) {
    rbac_inputs.emplace();
    rbac_inputs->pod_specs = options.pod_specs;
    if (cluster_read) {
      SourceFile file;
      file.path = "cluster:" + (cluster_read->info.context.empty() ? cluster_read->info.server : cluster_read->info.context);
      file.content = cluster_read->snapshot;
      rbac_inputs->add_source(file, false);
    }
  }
  ScanResult result =
      cluster_read ? scanner.scan_buffer("cluster:" + (cluster_read->info.context.empty()
                                                           ? cluster_read->info.server
                                                           : cluster_read->info.context),
                                         std::move(cluster_read->snapshot))
                   : scanner.scan(paths);
  std::unique_ptr<image::ImageLinter> image_linter;  // owns image rules a config changed, while the report lives
  if (images.enabled) add_image_findings(result, catalog, options, images, quiet, image_linter, &vulns);
  if (exposure_rule_added) strip_rule(result, kExposedRule);
  if (cluster_read)  // each node's running kubelet configuration (nodes/proxy/configz)
    add_kubelet_findings(result, catalog, options, {cluster.kubeconfig, cluster.context, {}}, cluster.parallel, quiet);
  if (netpol)
    add_netpol_findings(result, catalog.categories().find("networking").value_or(Category{}), paths,
                        std::move(netpol_snapshot));
  if (rbac_inputs && !cluster_read) {
    // Files are read a second time only when they hold something the paths
    // or the hygiene report on (the scan counted the kinds).
    bool any = false;
    for (const char* kind : {"RoleBinding", "ClusterRoleBinding", "Secret"}) any |= result.kinds.count(kind) > 0;
    if (any) {
      std::vector<std::string> files;
      for (const std::string& p : paths)
        if (p != "-") files.push_back(p);
      rbac_inputs->add_paths(files);
    } else {
      rbac_inputs.reset();
    }
  }
  if (rbac_inputs) add_rbac_scan_findings(result, catalog, options, *rbac_inputs, config.rbac_known_controllers);
  if (vulns.active())
    for (const InputError& w : vuln::expired_ignores(vulns.policy(), utc_today())) result.warnings.push_back(w);
  ReportModel model = build_report(result, utc_now_rfc3339(), lang);
  if (baseline) apply_baseline(model, *baseline);
  if (!framework.empty()) model.framework = build_framework_view(result, *find_framework(framework), lang);

  // The gate is decided on every finding, before --severity narrows what is shown.
  std::vector<std::string> gate;  // why the exit code is 1: a reason, then its findings
  auto explain = [&](const std::string& reason, auto&& crossed) {
    std::vector<std::size_t> hits;
    std::array<std::uint64_t, 4> by{};
    for (std::size_t i = 0; i < result.findings.size(); ++i) {
      if (crossed(i)) {
        hits.push_back(i);
        ++by[static_cast<std::size_t>(result.findings[i].rule->severity)];
      }
    }
    std::string counts;
    for (int k = 3; k >= 0; --k) {
      if (by[static_cast<std::size_t>(k)]) {
        counts += (counts.empty() ? "" : ", ") + std::to_string(by[static_cast<std::size_t>(k)]) + " " +
                  std::string(to_string(static_cast<Severity>(k)));
      }
    }
    gate.push_back(reason + ": " + std::to_string(hits.size()) + " finding" + (hits.size() == 1 ? "" : "s") +
                   (counts.empty() ? "" : " (" + counts + ")"));
    constexpr std::size_t kShown = 5;
    for (std::size_t i = 0; i < hits.size() && i < kShown; ++i) gate.push_back(gate_line(result.findings[hits[i]]));
    if (hits.size() > kShown)
      gate.push_back("  ... and " + std::to_string(hits.size() - kShown) + " more (see the report)");
  };
  auto failing_at = [&](std::size_t i, std::optional<Severity> at) {
    const FindingView f = result.findings[i];
    return f.result == Result::Fail && (!at || f.rule->severity >= *at);
  };
  if (fail_on_new) {
    // Only what this change introduced fails the build.
    bool any = false;
    for (std::size_t i = 0; i < result.findings.size(); ++i)
      any |= model.baseline[i] == BaselineState::New && failing_at(i, fail_on);
    if (any) {
      explain("new failures not in the baseline " + terminal_safe(baseline_path) +
                  (fail_on ? " at " + std::string(to_string(*fail_on)) + " or above" : std::string()),
              [&](std::size_t i) { return model.baseline[i] == BaselineState::New && failing_at(i, fail_on); });
    }
  } else {
    bool crossed = false;
    if (fail_on) {
      for (std::size_t i = 0; i < result.rules.size(); ++i)
        crossed |= result.rules[i]->severity >= *fail_on && result.tallies[i].failed > 0;
    }
    if (crossed) {
      explain("--fail-on " + std::string(to_string(*fail_on)) + " crossed",
              [&](std::size_t i) { return failing_at(i, fail_on); });
    }
    if (max_risk) {
      std::vector<std::string> lines;
      if (const std::size_t n = risk_gate(result, *max_risk, lines); n > 0) {
        char limit[16];
        std::snprintf(limit, sizeof limit, "%.1f", *max_risk);
        gate.push_back("--max-risk " + std::string(limit) + " crossed: " + std::to_string(n) + " vulnerabilit" +
                       (n == 1 ? "y" : "ies") + " above it");
        for (std::string& l : lines) gate.push_back(terminal_safe(l));
      }
    }
    if (min_score >= 0 && model.score < min_score) {
      gate.push_back("--min-score " + std::to_string(min_score) + " not reached: the score is " +
                     std::to_string(model.score) + "/100 (" + model.grade + ")");
    }
  }

  // --severity: what is shown, not what is counted (the score, the tallies
  // and the gate above saw every finding).
  if (std::find(shown.begin(), shown.end(), false) != shown.end()) {
    std::size_t kept = 0;
    std::vector<bool> keep(result.findings.size(), false);
    for (std::size_t i = 0; i < result.findings.size(); ++i) {
      if (!shown[static_cast<std::size_t>(result.findings[i].rule->severity)]) continue;
      keep[i] = true;
      if (kept != i && !model.baseline.empty()) model.baseline[kept] = model.baseline[i];
      ++kept;
    }
    result.findings.keep(keep);
    if (!model.baseline.empty()) model.baseline.resize(kept);
  }

  for (const Output& o : outputs) {
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!o.file.empty() && o.file != "-") {
      file.open(o.file, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << "kguard scan: cannot write " << Tsafe{o.file} << '\n';
        return 2;
      }
      out = &file;
    }
    const bool to_tty = out == &std::cout && isatty(STDOUT_FILENO);
    RenderOptions render_options;
    render_options.color = to_tty && !no_color && !std::getenv("NO_COLOR");
    find_renderer(o.format)->render(model, render_options, *out);
    out->flush();
    if (!o.file.empty() && o.file != "-" && !quiet)
      std::cerr << "kguard: wrote " << o.format << " report to " << Tsafe{o.file} << '\n';
  }

  if (!quiet) {
    std::cerr << "kguard: " << result.objects << " resource" << (result.objects == 1 ? "" : "s") << " in "
              << result.documents << " document" << (result.documents == 1 ? "" : "s");
    if (!result.skipped.empty()) std::cerr << " (" << result.skipped.size() << " skipped)";
    std::cerr << ": " << model.tally.failed << " failed check" << (model.tally.failed == 1 ? "" : "s") << " ("
              << model.by_severity[3] << " critical, " << model.by_severity[2] << " high, "
              << model.by_severity[1] << " medium, " << model.by_severity[0] << " low), "
              << model.tally.exempted << " exempted; score " << model.score << "/100 (" << model.grade
              << ")\n";
  }
  int code = gate.empty() ? 0 : 1;
  if (!result.errors.empty()) {
    std::cerr << "kguard: " << result.errors.size() << " input error(s); see the report\n";
    code = 2;
  }
  if (result.objects == 0 && !allow_empty) {
    std::cerr << "kguard: no Kubernetes objects found";
    if (!cluster.enabled) {
      std::cerr << " in";
      for (const std::string& p : paths) std::cerr << ' ' << Tsafe{p};
    }
    if (!result.skipped.empty()) std::cerr << " (" << result.skipped.size() << " skipped, see the report)";
    std::cerr << "; nothing was checked, so this is not a pass (--allow-empty accepts it)\n";
    code = 2;
  }
  if (code != 2)
    for (const std::string& line : gate) std::cerr << (line.rfind("  ", 0) == 0 ? "" : "kguard: ") << line << '\n';
  return code;
}

}  // namespace kg::cli
