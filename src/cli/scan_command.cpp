#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "report/model.hpp"
#include "report/renderers.hpp"

namespace kg::cli {
namespace {

constexpr const char* kScanHelp = R"(Usage: kguard scan [options] PATH...
       kguard scan --cluster [cluster options] [options]

Scans Kubernetes manifests (YAML or JSON; files, directories walked for
.yaml/.yml/.json, or - for stdin), or a live cluster through its API server,
and writes the inspection report.

Options:
  -o, --output FORMAT[=FILE]   report format: text (default), json, sarif, junit,
                               html, markdown, csv, policyreport; repeatable, so
                               one scan writes several; FILE defaults to stdout
      --pss LEVEL              Pod Security Standards level: privileged, baseline,
                               restricted (default restricted)
      --pss-version VERSION    policy version v1.0 ... v1.37 or latest (default latest)
      --only SELECTOR[,...]    only rules matching an id, a category
                               (health, images, networking, resources, security)
                               or a tag (pss, pss-baseline, pss-restricted)
      --fail-on SEVERITY       exit 1 when a check of this severity or higher fails
                               (low, medium, high, critical)
      --min-score N            exit 1 when the health score is below N
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
  -j, --jobs N                 files scanned in parallel (default: number of cores)
      --lang en|zh             language of the report (default: from LANG, else en)
      --no-color               never colour the text report
  -q, --quiet                  no progress or summary lines on stderr
      --target-version 1.N     judge deprecated/removed apiVersions against this
                               Kubernetes release (default: the cluster's version
                               when reading a cluster or a snapshot)

Cluster options (reading through the API server, like kubectl):
      --cluster                scan the cluster of the kubeconfig's context
)";

constexpr const char* kScanExitCodes = R"(
Exit codes: 0 no failure at or above the thresholds; 1 thresholds exceeded;
2 usage or input errors (the report is still written for what could be read).
)";

struct Output {
  std::string format;
  std::string file;  // empty = stdout
};

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

int usage_error(const std::string& msg) {
  std::cerr << "kguard scan: " << msg << "\nRun `kguard scan --help` for usage.\n";
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
  bool no_config = false;
  bool no_exemptions = false;
  std::string baseline_path;
  bool fail_on_new = false;
  std::vector<std::string> rule_dirs;
  ClusterFlags cluster;
  std::string target_version;

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
    if (a == "-h" || a == "--help") {
      std::cout << kScanHelp << cluster_flags_help() << kScanExitCodes;
      return 0;
    } else if (is("--output", "-o")) {
      if (!value(v)) return usage_error("-o needs FORMAT[=FILE]");
      Output o;
      auto eq = v.find('=');
      o.format = v.substr(0, eq);
      if (eq != std::string::npos) o.file = v.substr(eq + 1);
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
    } else if (is("--only")) {
      if (!value(v)) return usage_error("--only needs selectors");
      for (auto& s : split_commas(v)) options.only.push_back(s);
    } else if (is("--fail-on")) {
      if (!value(v)) return usage_error("--fail-on needs a severity");
      fail_on = parse_severity(v);
      if (!fail_on) return usage_error("--fail-on must be low, medium, high or critical");
    } else if (is("--min-score")) {
      if (!value(v)) return usage_error("--min-score needs a number");
      try {
        min_score = std::stoi(v);
      } catch (...) {
        return usage_error("--min-score needs a number");
      }
    } else if (is("--jobs", "-j") || (a.size() > 2 && a.rfind("-j", 0) == 0)) {
      if (a.size() > 2 && a.rfind("-j", 0) == 0) {
        v = a.substr(2);
      } else if (!value(v)) {
        return usage_error("--jobs needs a number");
      }
      try {
        options.jobs = static_cast<unsigned>(std::max(1, std::stoi(v)));
      } catch (...) {
        return usage_error("--jobs needs a number");
      }
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
  if (cluster.enabled && !paths.empty())
    return usage_error("--cluster reads the cluster; do not give paths too (scan a snapshot file instead)");
  if (!cluster.enabled && paths.empty())
    return usage_error("no input: give files, directories, - for stdin, or --cluster");
  if (fail_on_new && baseline_path.empty()) return usage_error("--fail-on-new needs --baseline FILE");
  std::optional<Baseline> baseline;
  if (!baseline_path.empty()) {
    std::vector<InputError> errors;
    baseline = load_baseline(baseline_path, errors);
    for (const InputError& e : errors)
      std::cerr << "kguard: " << e.file << ':' << e.line << ':' << e.column << ": " << e.message
                << '\n';
    if (!baseline) return 2;
  }
  if (outputs.empty()) outputs.push_back({"text", ""});

  if (!no_config && config_path.empty() && !paths.empty() && paths[0] != "-")
    config_path = find_config_upward(paths[0]);
  Config config;
  if (!config_path.empty()) {
    std::vector<InputError> errors;
    auto loaded = load_config(config_path, errors);
    for (const InputError& e : errors)
      std::cerr << "kguard: " << e.file << ':' << e.line << ':' << e.column << ": " << e.message
                << '\n';
    if (!loaded) return 2;
    config = std::move(*loaded);
  }
  config.apply(options);
  options.use_exemptions = !no_exemptions;

  // Custom rules join the built-in catalog; a malformed one is refused.
  Catalog custom;
  const Catalog* catalog_ptr = &Catalog::builtin();
  if (!rule_dirs.empty()) {
    std::vector<InputError> errors;
    custom.add_files(embedded_catalog_files(), errors);
    for (const std::string& dir : rule_dirs) custom.add_directory(dir, errors);
    for (const InputError& e : errors)
      std::cerr << "kguard: " << e.file << ':' << e.line << ':' << e.column << ": " << e.message
                << '\n';
    if (!errors.empty()) return 2;
    catalog_ptr = &custom;
  }
  const Catalog& catalog = *catalog_ptr;
  if (!options.only.empty()) {
    for (const std::string& sel : options.only) {
      bool known = catalog.categories().find(sel).has_value();
      for (const auto& r : catalog.rules())
        if (r->id == sel || r->has_tag(sel)) known = true;
      if (!known) return usage_error("--only: no rule, category or tag named '" + sel + "'");
    }
  }

  // Deprecated APIs are judged against --target-version, else the version
  // of the cluster read (live, or recorded in a snapshot).
  std::optional<kube::ClusterRead> cluster_read;
  if (cluster.enabled) {
    std::vector<const Rule*> selected;
    for (const auto& r : catalog.rules())
      if (rule_selected(*r, options)) selected.push_back(r.get());
    cluster_read = read_cluster_for_scan(cluster, selected, options, quiet);
    if (!cluster_read) return 2;
    options.kubernetes_minor = kubernetes_minor(cluster_read->info.server_version).value_or(0);
    options.cluster_version = cluster_read->info.server_version;
  } else {
    for (const std::string& p : paths)
      if (auto info = kube::peek_snapshot(p); info && options.cluster_version.empty()) {
        options.kubernetes_minor = kubernetes_minor(info->server_version).value_or(0);
        options.cluster_version = info->server_version;
      }
  }
  if (!target_version.empty()) options.kubernetes_minor = *kubernetes_minor(target_version);

  Scanner scanner(catalog, options);
  for (const InputError& e : scanner.setup_errors())
    std::cerr << "kguard: " << e.file << (e.line ? ":" + std::to_string(e.line) : "") << ": "
              << e.message << '\n';
  if (!scanner.setup_errors().empty()) return 2;
  ScanResult result =
      cluster_read ? scanner.scan_buffer("cluster:" + (cluster_read->info.context.empty()
                                                           ? cluster_read->info.server
                                                           : cluster_read->info.context),
                                         std::move(cluster_read->snapshot))
                   : scanner.scan(paths);
  ReportModel model = build_report(result, utc_now_rfc3339(), lang);
  if (baseline) apply_baseline(model, *baseline);

  for (const Output& o : outputs) {
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!o.file.empty() && o.file != "-") {
      file.open(o.file, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::cerr << "kguard scan: cannot write " << o.file << '\n';
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
      std::cerr << "kguard: wrote " << o.format << " report to " << o.file << '\n';
  }

  if (!result.errors.empty()) {
    if (!quiet)
      std::cerr << "kguard: " << result.errors.size() << " input error(s); see the report\n";
    return 2;
  }
  if (fail_on_new) {
    // Only what this change introduced fails the build.
    for (std::size_t i = 0; i < result.findings.size(); ++i)
      if (model.baseline[i] == BaselineState::New &&
          (!fail_on || result.findings[i].rule->severity >= *fail_on))
        return 1;
    return 0;
  }
  if (fail_on) {
    for (std::size_t i = 0; i < result.rules.size(); ++i)
      if (result.rules[i]->severity >= *fail_on && result.tallies[i].failed > 0) return 1;
  }
  if (min_score >= 0 && model.score < min_score) return 1;
  return 0;
}

}  // namespace kg::cli
