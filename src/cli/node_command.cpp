// kguard node: the kubelet's and kube-proxy's effective configuration and the
// node's file modes, owners and stray credentials, judged by the catalog's
// NodeConfig rules (CIS Kubernetes Benchmark sections 1.1 and 4; docs/node.md),
// reported in every format of the inspection report.
#include <unistd.h>

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "catalog/catalog.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/report_outputs.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "engines/node/node_config.hpp"
#include "engines/node/node_lint.hpp"
#include "report/model.hpp"
#include "report/renderers.hpp"
#include "report/terminal.hpp"
#include "sources/host/host_root.hpp"
#include "sources/kube/client.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard node [options]

Reads a node: the kubelet's configuration file and flags (its systemd unit,
drop-ins and EnvironmentFiles, flags over the file as the kubelet applies
them), kube-proxy's configuration, the modes and owners of the control-plane
manifests, kubeconfigs, PKI files, unit files and data directories, and
long-lived credentials left on the node; judges them with the catalog's
NodeConfig rules (CIS Kubernetes Benchmark 1.1 and 4.x, host hardening).

Options:
  --root DIR               the directory standing for the node's / (default /;
                           /host in the DaemonSet; a copy of a node's files)
  --node-name NAME         the node's name in the report (default: the kubelet's
                           --hostname-override, else the root's /etc/hostname)
  --configz FILE           judge a kubelet's /configz answer (JSON) instead of a root
  --cluster                judge every node's running kubelet configuration, read
                           through the API server (nodes/NAME/proxy/configz; needs get
                           on nodes/proxy); a node that cannot be read is a coverage gap
  --no-credentials         do not walk the node for stray private keys and tokens
  -o, --output FORMAT[=FILE]
                           text (default), json, sarif, html, markdown, csv, junit,
                           policyreport (a ClusterPolicyReport named kguard-node-NAME),
                           ci, or object (the NodeConfig object itself); repeatable
  --only SELECTORS         rule ids, categories or tags (comma-separated)
  --config FILE            .kguard.yaml: rule overrides and exemptions
  --fail-on SEVERITY       exit 1 when a finding is at or above SEVERITY
  --lang en|zh             language of the report
  --no-color               no ANSI colours in text output
  --publish                apply the ClusterPolicyReport kguard-node-NAME to the cluster
                           (server-side apply, wgpolicyk8s.io/v1alpha2; in a pod its
                           ServiceAccount, else --kubeconfig / $KUBECONFIG)
  --kubeconfig FILE, --context NAME
                           the cluster --publish writes to
  --serviceaccount-dir DIR in a pod: the folder of the ServiceAccount token, ca.crt
                           and namespace (a projected volume) for --publish and
                           --configz-from-api (default /var/run/secrets/kubernetes.io/
                           serviceaccount)
  --configz-from-api       when the kubelet's config file cannot be read (a non-root
                           DaemonSet and a 0600 file), judge the running kubelet's
                           configuration read through the API server
                           (nodes/NAME/proxy/configz for --node-name; needs get on
                           nodes/proxy); without it, or when that fails too, the
                           kubelet rules are a coverage gap
  --interval DURATION      read, judge and publish again every DURATION (30s, 15m,
                           1h); without it kguard node runs once
  --heartbeat FILE         write the time to FILE when the loop starts and after each
                           run (for the liveness probe below)
  --alive FILE --max-age DURATION
                           the liveness probe: exit 0 when FILE was written within
                           DURATION, 1 (saying why) when not or when it is missing

Files and folders this process may not read (a non-root uid) are coverage gaps
naming the path and the uid, with the rules they hide; never passes. Modes and
owners need no read access: stat sees them through traversable folders.

Exit status: 0 done (no finding at --fail-on), 1 --fail-on crossed, 2 error.
)";

void print_errors(const std::vector<InputError>& errors, const char* what) {
  for (const InputError& e : errors) {
    std::cerr << "kguard node: " << what << terminal_safe(e.file) << (e.line ? ":" + std::to_string(e.line) : "")
              << (e.column ? ":" + std::to_string(e.column) : "") << ": " << terminal_safe(e.message) << '\n';
  }
}

// "90", "30s", "15m", "1h" as seconds; 0 when malformed.
long long parse_interval(const std::string& v) {
  long long n = 0;
  std::size_t i = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9' && n < 1'000'000'000) n = n * 10 + (v[i++] - '0');
  if (i == 0) return 0;
  const std::string unit = v.substr(i);
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  return 0;
}

std::string report_name(const std::string& node) {
  std::string name = "kguard-node-";
  for (char c : node) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return name;
}

// Server-side apply of the node's ClusterPolicyReport; false after printing why not.
bool publish(const kube::KubeconfigOptions& where, const ReportModel& model, const std::string& node) {
  std::vector<InputError> errors;
  const auto config = kube::resolve_client_config(where, errors);
  if (!config) {
    print_errors(errors, "--publish: ");
    return false;
  }
  std::string error;
  const auto session = kube::Session::connect(*config, {}, error);
  if (!session) {
    std::cerr << "kguard node: --publish: " << terminal_safe(error) << '\n';
    return false;
  }
  std::ostringstream yaml;
  find_renderer("policyreport")->render(model, RenderOptions{}, yaml);
  std::string body = yaml.str();
  if (body.rfind("---\n", 0) == 0) body.erase(0, 4);
  kube::Client client(session);
  const std::string name = report_name(node);
  const auto r = client.apply(
      "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/" + name + "?fieldManager=kguard-node&force=true", body);
  if (!r.ok()) {
    std::cerr << "kguard node: --publish: ClusterPolicyReport " << terminal_safe(name) << ": "
              << (r.error.empty() ? "HTTP " + std::to_string(r.status) : terminal_safe(r.error))
              << (r.status == 404 ? " (is the wgpolicyk8s.io PolicyReport CRD installed?)" : "") << '\n';
    return false;
  }
  std::cerr << "kguard node: published ClusterPolicyReport " << terminal_safe(name) << '\n';
  return true;
}

// Every node's /configz through the API server: one NodeConfig per node read,
// a coverage gap (Forbidden, unreachable kubelet…) per node that is not.
int node_cluster(const kube::KubeconfigOptions& where, const std::vector<OutputSpec>& outputs, const EvalOptions& eval,
                 bool no_color, Lang lang) {
  std::vector<InputError> errors;
  const auto config = kube::resolve_client_config(where, errors);
  if (!config) {
    print_errors(errors, "--cluster: ");
    return 2;
  }
  std::string error;
  const auto session = kube::Session::connect(*config, {}, error);
  if (!session) {
    std::cerr << "kguard node: --cluster: " << terminal_safe(error) << '\n';
    return 2;
  }
  kube::Client client(session);
  ClusterInfo info;
  info.server = config->server;
  info.context = config->context;
  info.read_at = utc_now_rfc3339();
  std::vector<std::string> names;
  const auto listed = client.list("/api/v1/nodes", 500, [&](const Node& item) {
    names.emplace_back(str(get(get(&item, "metadata"), "name")));
  });
  if (!listed.ok()) {
    std::cerr << "kguard node: --cluster: cannot list nodes: "
              << terminal_safe(listed.error.empty() ? "HTTP " + std::to_string(listed.status) : listed.error) << '\n';
    return 2;
  }
  info.nodes = names.size();
  const Catalog& catalog = Catalog::builtin();
  std::vector<std::string> node_rules;
  for (const auto& r : catalog.rules())
    if (node::is_node_rule(*r) && r->id.rfind("kubelet-", 0) == 0) node_rules.push_back(r->id);
  std::string list = R"({"apiVersion":"v1","kind":"List","items":[)";
  bool first = true;
  for (const std::string& name : names) {
    const auto r = client.get("/api/v1/nodes/" + name + "/proxy/configz");
    if (!r.ok()) {
      CoverageGap gap;
      gap.kind = "NodeConfig";
      gap.api_version = "v1";
      gap.resource = "nodes/proxy";
      gap.reason = r.reason.empty() ? (r.status ? "HTTP " + std::to_string(r.status) : std::string("Error")) : r.reason;
      gap.message = "node " + name + ": the kubelet's /configz could not be read" +
                    (r.error.empty() ? std::string() : ": " + r.error);
      gap.rules = node_rules;
      info.coverage.push_back(std::move(gap));
      continue;
    }
    node::NodeRead read = node::node_from_configz(name, r.body, "nodes/" + name + "/proxy/configz");
    print_errors(read.errors, "");
    list += (first ? "" : ",") + read.object_json;
    first = false;
  }
  list += "]}";
  const node::NodeLinter linter(catalog, eval);
  EngineResult result = linter.lint(config->server, list);
  result.cluster = std::move(info);
  if (!result.errors.empty()) {
    print_errors(result.errors, "");
    return 2;
  }
  const ReportModel model = build_report(result, utc_now_rfc3339(), lang);
  const bool written = write_outputs("node", outputs, no_color,
                                     [&](const OutputSpec& o, const RenderOptions& render_options, std::ostream& out) {
                                       if (o.format == "object") out << list << '\n';
                                       else find_renderer(o.format)->render(model, render_options, out);
                                     });
  if (!written) return 2;
  for (const CoverageGap& g : result.cluster->coverage)
    std::cerr << "kguard node: coverage gap: " << terminal_safe(g.message) << " (" << terminal_safe(g.reason) << ")\n";
  return 0;
}

struct RunOptions {
  std::string root = "/";
  std::string node_name;
  std::string configz;
  bool credentials = true;
  bool configz_from_api = false;
  bool no_color = false;
  std::vector<OutputSpec> outputs;
  EvalOptions eval;
  std::optional<Severity> fail_on;
  Lang lang = Lang::En;
  bool publish = false;
  kube::KubeconfigOptions where;
};

int node_run(const RunOptions& run);

// "kguard node --alive FILE --max-age DURATION": 0 when FILE was written within
// the last `max_age` seconds, 1 when not (or missing), saying why.
int alive(const std::string& file, long long max_age) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    std::cerr << "kguard node: --alive: " << terminal_safe(file) << " is missing: no run has started\n";
    return 1;
  }
  const long long age = static_cast<long long>(std::time(nullptr)) - static_cast<long long>(st.st_mtime);
  if (age > max_age) {
    std::cerr << "kguard node: --alive: the last heartbeat is " << age << "s old (--max-age " << max_age
              << "s): the loop is stuck\n";
    return 1;
  }
  return 0;
}

// The loop's heartbeat: the time, written to a temporary file renamed over FILE.
void heartbeat(const std::string& file) {
  if (file.empty()) return;
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << utc_now_rfc3339() << '\n';
    if (!out) {
      std::cerr << "kguard node: --heartbeat: cannot write " << terminal_safe(tmp) << '\n';
      return;
    }
  }
  if (std::rename(tmp.c_str(), file.c_str()) != 0)
    std::cerr << "kguard node: --heartbeat: cannot write " << terminal_safe(file) << '\n';
}

}  // namespace

int node_command(const std::vector<std::string>& args) {
  RunOptions run;
  std::string& root = run.root;
  std::string& node_name = run.node_name;
  std::string& configz = run.configz;
  bool& credentials = run.credentials;
  bool& no_color = run.no_color;
  std::vector<OutputSpec>& outputs = run.outputs;
  EvalOptions& eval = run.eval;
  std::optional<Config> config;
  std::optional<Severity>& fail_on = run.fail_on;
  Lang& lang = run.lang;
  bool& publish_report = run.publish;
  kube::KubeconfigOptions& where = run.where;
  long long interval = 0;
  bool cluster = false;
  std::string heartbeat_file;
  std::string alive_file;
  long long max_age = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    ArgCursor flag(args, i);
    std::string v;
    auto need = [&](const char* what) {
      if (!flag.value(v) || v.empty()) {
        std::cerr << "kguard node: " << what << '\n';
        return false;
      }
      return true;
    };
    // The flags that take one text value.
    const std::tuple<const char*, const char*, std::string*> text_flags[] = {
        {"--root", "a directory", &root},
        {"--node-name", "a name", &node_name},
        {"--configz", "a file", &configz},
        {"--kubeconfig", "a file", &where.kubeconfig},
        {"--context", "a name", &where.context},
        {"--serviceaccount-dir", "a directory", &where.serviceaccount_dir},
        {"--heartbeat", "a file", &heartbeat_file},
        {"--alive", "a file", &alive_file}};
    bool taken = false;
    for (const auto& [name, needs, into] : text_flags) {
      if (!flag.is(name)) continue;
      if (!need((std::string(name) + " needs " + needs).c_str())) return 2;
      *into = v;
      taken = true;
      break;
    }
    if (taken) continue;
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--cluster") {
      cluster = true;
    } else if (a == "--publish") {
      publish_report = true;
    } else if (a == "--configz-from-api") {
      run.configz_from_api = true;
    } else if (flag.is("--max-age") || flag.is("--interval")) {
      const char* name = flag.is("--max-age") ? "--max-age" : "--interval";
      if (!need((std::string(name) + " needs a duration").c_str())) return 2;
      long long& seconds = name[2] == 'm' ? max_age : interval;
      seconds = parse_interval(v);
      if (seconds <= 0) {
        std::cerr << "kguard node: " << name << " must be a duration such as 30s, 15m or 1h\n";
        return 2;
      }
    } else if (a == "--no-credentials") {
      credentials = false;
    } else if (a == "--no-color") {
      no_color = true;
    } else if (flag.is("--output", "-o")) {
      if (!need("--output needs FORMAT[=FILE]")) return 2;
      OutputSpec o = OutputSpec::parse(v);
      if (o.format != "object" && !find_renderer(o.format)) {
        std::cerr << "kguard node: unknown output format '" << terminal_safe(o.format)
                  << "' (text, json, sarif, html, markdown, csv, junit, policyreport, ci, object)\n";
        return 2;
      }
      outputs.push_back(o);
    } else if (flag.is("--only")) {
      if (!need("--only needs selectors")) return 2;
      std::size_t start = 0;
      while (start <= v.size()) {
        const std::size_t comma = v.find(',', start);
        std::string sel = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!sel.empty()) eval.only.push_back(std::move(sel));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (flag.is("--fail-on")) {
      if (!need("--fail-on needs a severity")) return 2;
      fail_on = parse_severity(v);
      if (!fail_on) {
        std::cerr << "kguard node: --fail-on must be low, medium, high or critical\n";
        return 2;
      }
    } else if (flag.is("--lang")) {
      if (!need("--lang needs en or zh")) return 2;
      auto l = parse_lang(v);
      if (!l) {
        std::cerr << "kguard node: --lang must be en or zh\n";
        return 2;
      }
      lang = *l;
    } else if (flag.is("--config")) {
      if (!need("--config needs a file")) return 2;
      std::vector<InputError> errors;
      config = load_config(v, errors);
      print_errors(errors, "");
      if (!config) return 2;
      config->apply(eval);
    } else {
      std::cerr << "kguard node: unknown argument '" << terminal_safe(a) << "' (kguard node --help)\n";
      return 2;
    }
  }
  if (!alive_file.empty() || max_age > 0) {
    if (alive_file.empty() || max_age <= 0) {
      std::cerr << "kguard node: --alive FILE and --max-age DURATION go together\n";
      return 2;
    }
    return alive(alive_file, max_age);
  }
  if (run.configz_from_api && node_name.empty()) {
    std::cerr << "kguard node: --configz-from-api needs --node-name (the node whose kubelet to ask)\n";
    return 2;
  }
  if (outputs.empty() && !publish_report) outputs.push_back({"text", ""});
  if (std::string clash = output_clash(outputs); !clash.empty()) {
    std::cerr << "kguard node: " << clash << '\n';
    return 2;
  }
  const Catalog& catalog = Catalog::builtin();
  for (const std::string& sel : eval.only) {
    bool known = catalog.categories().find(sel).has_value();
    for (const auto& r : catalog.rules())
      if (r->id == sel || r->has_tag(sel)) known = true;
    if (!known) {
      std::cerr << "kguard node: --only: no rule, category or tag named '" << terminal_safe(sel) << "'\n";
      return 2;
    }
  }
  if (cluster) {
    if (publish_report || interval > 0 || !configz.empty()) {
      std::cerr << "kguard node: --cluster reads every node through the API; --publish, --interval and --configz do not apply\n";
      return 2;
    }
    return node_cluster(where, outputs, eval, no_color, lang);
  }
  heartbeat(heartbeat_file);
  for (;;) {
    const int code = node_run(run);
    heartbeat(heartbeat_file);
    if (interval <= 0) return code;
    if (code == 2 && !publish_report) return code;
    std::this_thread::sleep_for(std::chrono::seconds(interval));
  }
}

namespace {

// The kubelet's /configz through the API server, for its own node
// (--configz-from-api): the answer, or nullopt with why not.
node::ConfigzFallback configz_from_api(const kube::KubeconfigOptions& where, const std::string& node) {
  return [where, node](std::string& source, std::string& error) -> std::optional<std::string> {
    source = "nodes/" + node + "/proxy/configz";
    std::vector<InputError> errors;
    const auto config = kube::resolve_client_config(where, errors);
    if (!config) {
      error = errors.empty() ? std::string("no client configuration") : errors.front().file + ": " + errors.front().message;
      return std::nullopt;
    }
    const auto session = kube::Session::connect(*config, {}, error);
    if (!session) return std::nullopt;
    kube::Client client(session);
    const auto r = client.get("/api/v1/nodes/" + node + "/proxy/configz");
    if (!r.ok()) {
      error = (r.reason.empty() ? (r.status ? "HTTP " + std::to_string(r.status) : std::string("Error")) : r.reason) +
              (r.error.empty() ? std::string() : ": " + r.error);
      return std::nullopt;
    }
    return r.body;
  };
}

// The rules a node gap hides: by its scope (node_config.hpp NodeGap).
std::vector<std::string> gap_rules(const Catalog& catalog, const std::string& scope) {
  std::vector<std::string> ids;
  for (const auto& r : catalog.rules()) {
    if (!node::is_node_rule(*r)) continue;
    const std::string_view role = str(get(r->params, "role"));
    const std::string_view field = str(get(r->params, "field"));
    const bool hit = scope == "kubelet"       ? r->id.rfind("kubelet-", 0) == 0
                     : scope == "kubeProxy"   ? r->id.rfind("kube-proxy-", 0) == 0
                     : scope == "credentials" ? field.starts_with("spec.credentials")
                                              : scope.rfind("file:", 0) == 0 && !role.empty() && scope.substr(5) == role;
    if (hit) ids.push_back(r->id);
  }
  return ids;
}

int node_run(const RunOptions& run) {
  const Catalog& catalog = Catalog::builtin();
  node::NodeRead read;
  std::string subject;
  if (!run.configz.empty()) {
    std::string text;
    if (!read_file(run.configz, text)) {
      std::cerr << "kguard node: cannot read " << terminal_safe(run.configz) << '\n';
      return 2;
    }
    read = node::node_from_configz(run.node_name.empty() ? std::string("node") : run.node_name, text, run.configz);
    subject = run.configz;
  } else {
    std::error_code ec;
    if (!std::filesystem::is_directory(run.root, ec)) {
      std::cerr << "kguard node: --root " << terminal_safe(run.root) << " is not a directory\n";
      return 2;
    }
    const host::HostRoot host(run.root);
    node::NodeReadOptions options;
    options.node_name = run.node_name;
    options.credentials = run.credentials;
    if (run.configz_from_api) options.kubelet_configz = configz_from_api(run.where, run.node_name);
    read = node::read_node(host, options);
    subject = run.root;
  }
  // Problems with what was read are reported and the rest is still judged.
  print_errors(read.errors, "");
  for (const std::string& n : read.notes) std::cerr << "kguard node: note: " << terminal_safe(n) << '\n';
  const node::NodeLinter linter(catalog, run.eval);
  EngineResult result = linter.lint(subject, read.object_json);
  result.facts.push_back({"node", read.node_name});
  for (const InputError& e : read.errors) result.warnings.push_back(e);
  // What this uid could not read: coverage gaps with the rules they hide, never passes.
  for (const node::NodeGap& g : read.gaps) {
    CoverageGap gap;
    gap.kind = "NodeConfig";
    gap.api_version = "kguard.io/v1";
    gap.resource = g.path;
    gap.reason = g.reason;
    gap.message = g.message;
    gap.rules = gap_rules(catalog, g.scope);
    result.coverage.push_back(std::move(gap));
    std::cerr << "kguard node: coverage gap: " << terminal_safe(g.message) << '\n';
  }
  for (const CoverageGap& g : read.coverage) {  // rules left unjudged by what was read (etcd's CA)
    result.coverage.push_back(g);
    std::cerr << "kguard node: coverage gap: " << terminal_safe(g.message) << " (" << terminal_safe(g.reason) << ")\n";
  }
  if (!result.errors.empty()) {
    print_errors(result.errors, "");
    return 2;
  }
  const ReportModel model = build_report(result, utc_now_rfc3339(), run.lang);
  const bool written = write_outputs("node", run.outputs, run.no_color,
                                     [&](const OutputSpec& o, const RenderOptions& render_options, std::ostream& out) {
                                       if (o.format == "object") out << read.object_json << '\n';
                                       else find_renderer(o.format)->render(model, render_options, out);
                                     });
  if (!written) return 2;
  if (run.publish && !publish(run.where, model, read.node_name)) return 2;
  if (const std::size_t hits = fail_on_hits(result, run.fail_on).size(); hits > 0) {
    std::cerr << "kguard node: --fail-on " << to_string(*run.fail_on) << " crossed: " << hits << " finding"
              << (hits == 1 ? "" : "s") << '\n';
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace kg::cli
