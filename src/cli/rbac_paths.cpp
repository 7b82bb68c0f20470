// `kguard rbac paths`: the shortest escalation path of every identity
// (engines/rbac/paths) and the credential hygiene (engines/rbac/hygiene),
// over manifests, snapshots or a live cluster, in text, JSON, CSV or Markdown.
#include <chrono>
#include <iostream>

#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/commands.hpp"
#include "cli/rbac_inputs.hpp"
#include "config/config.hpp"
#include "core/json_writer.hpp"
#include "engines/rbac/findings.hpp"
#include "engines/rbac/hygiene.hpp"
#include "engines/rbac/paths.hpp"
#include "report/terminal.hpp"

namespace kg::cli {
namespace {

constexpr const char* kPathsHelp = R"(Usage:
  kguard rbac paths [INPUT...] [--from SUBJECT] [-o text|json|csv|markdown]

Every identity the input's bindings name that can reach cluster-admin, root
on a node, or the Secrets of every namespace, by its shortest path: each step
with the permission it uses and the binding, role and rule that grant it, and
the workloads it passes (a pod running as a powerful ServiceAccount is a
step). Known controllers (kube-controller-manager's ServiceAccounts, the
scheduler, nodes, system:masters, and .kguard.yaml rbac.knownControllers) are
not reported as attackers. Then the credential hygiene: long-lived
ServiceAccount token Secrets (their age, whether their account has a path)
and bindings to ServiceAccounts that do not exist.

Options:
      --from SUBJECT           only this identity, every target it reaches
                               (user:NAME, group:NAME, sa:NAMESPACE:NAME)
      --known-controller SUBJ  not an attacker (repeatable; sa:NS:* a prefix)
      --config FILE            .kguard.yaml to read rbac.knownControllers from
                               (default: found upward from the first input)
      --bootstrap assume|none  add the bootstrap policy where absent (default assume)
      --default-namespace NS   namespace of objects that name none (default "default")
  -o, --output FORMAT          text (default), json, csv, markdown
  -q, --quiet                  no notes on stderr
      --cluster                read the kubeconfig's cluster (--kubeconfig FILE,
                               --context NAME, --request-timeout SECS)
Exit code: 0 none found, 1 some identity has a path, 2 on errors.
)";

int usage(const std::string& m) {
  std::cerr << "kguard rbac paths: " << Tsafe{m} << "\n(see kguard rbac paths --help)\n";
  return 2;
}

std::string cell(const std::string& s, const std::string& format) {
  if (format == "csv") {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
    return o + "\"";
  }
  std::string o;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>') o += '\\';
    o += c == '\n' ? ' ' : c;
  }
  return o;
}

long today_days() {
  using namespace std::chrono;
  return static_cast<long>(duration_cast<hours>(system_clock::now().time_since_epoch()).count() / 24);
}

}  // namespace

int rbac_paths_command(const std::vector<std::string>& args) {
  std::string from, output = "text", config_path, default_ns = "default";
  std::vector<std::string> known, paths;
  bool bootstrap = true, quiet = false;
  ClusterFlags cluster;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    ArgCursor flag(args, i);
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << kPathsHelp;
      return 0;
    } else if (flag.is("--from")) {
      if (!flag.value(v) || v.empty()) return usage("--from needs a subject");
      from = v;
    } else if (flag.is("--known-controller")) {
      if (!flag.value(v) || v.empty()) return usage("--known-controller needs a subject");
      known.push_back(v);
    } else if (flag.is("--config")) {
      if (!flag.value(v) || v.empty()) return usage("--config needs a file");
      config_path = v;
    } else if (flag.is("--bootstrap")) {
      if (!flag.value(v) || (v != "assume" && v != "none")) return usage("--bootstrap takes assume or none");
      bootstrap = v == "assume";
    } else if (flag.is("--default-namespace")) {
      if (!flag.value(v) || v.empty()) return usage("--default-namespace needs a name");
      default_ns = v;
    } else if (flag.is("--output", "-o")) {
      if (!flag.value(v) || (v != "text" && v != "json" && v != "csv" && v != "markdown"))
        return usage("--output takes text, json, csv or markdown");
      output = v;
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else if (a == "--cluster" || flag.is("--kubeconfig") || flag.is("--context") || flag.is("--request-timeout")) {
      std::string error;
      if (cluster.parse(args, i, error) < 0) return usage(error);
    } else if (a.size() > 1 && a[0] == '-') {
      return usage("unknown option " + a);
    } else {
      paths.push_back(a);
    }
  }
  if (cluster.enabled && !paths.empty()) return usage("--cluster reads the cluster; do not give inputs too");
  if (!cluster.enabled && paths.empty()) return usage("no input: give files, folders, - for stdin, or --cluster");
  for (const std::string& k : known) {
    rbac::SubjectKind kind;
    std::string n, ns;
    if (!rbac::parse_path_subject(k, kind, n, ns)) return usage("--known-controller: not a subject: " + k);
  }

  if (config_path.empty() && !paths.empty() && paths[0] != "-") config_path = find_config_upward(paths[0]);
  if (!config_path.empty()) {
    std::vector<InputError> errors;
    auto config = load_config(config_path, errors);
    for (const InputError& e : errors)
      std::cerr << "kguard: " << Tsafe{e.file} << ':' << e.line << ':' << e.column << ": " << Tsafe{e.message} << '\n';
    if (!config) return 2;
    known.insert(known.end(), config->rbac_known_controllers.begin(), config->rbac_known_controllers.end());
  }

  RbacInputs in;
  in.loader = rbac::PolicyLoader(rbac::LoadOptions{default_ns});
  in.default_namespace = default_ns;
  if (cluster.enabled) {
    auto read = read_cluster_kinds(cluster, rbac_path_kinds(), [](const std::string&) { return std::vector<std::string>{}; },
                                   quiet);
    if (!read) return 2;
    SourceFile file;
    file.path = "cluster:" + (read->info.context.empty() ? read->info.server : read->info.context);
    file.content = std::move(read->snapshot);
    in.add_source(file, false);
  } else {
    in.add_paths(paths);
  }
  for (const InputError& e : in.errors) {
    std::cerr << "kguard rbac: " << Tsafe{e.file};
    if (e.line) std::cerr << ':' << e.line << ':' << e.column;
    std::cerr << ": " << Tsafe{e.message} << '\n';
  }
  const std::size_t assumed = bootstrap ? in.loader.add_bootstrap() : 0;
  if (!quiet && assumed) {
    std::cerr << "kguard rbac: assumed " << assumed << " object(s) of the Kubernetes v" << rbac::bootstrap_version()
              << " bootstrap policy the input lacks (--bootstrap none to leave them out)\n";
  }
  const rbac::RbacIndex index(in.loader.take());
  rbac::PathOptions options;
  options.known_controllers = known;
  const rbac::PathAnalysis analysis(index, in.assets, options);
  const auto snapshot_day = rbac::days_since_epoch(in.read_at);
  const rbac::Hygiene hygiene = rbac::check_hygiene(analysis, snapshot_day ? snapshot_day : today_days());

  std::vector<rbac::Path> found;
  if (!from.empty()) {
    rbac::SubjectKind kind;
    std::string n, ns;
    if (!rbac::parse_path_subject(from, kind, n, ns)) return usage("--from: not a subject: " + from);
    if (auto node = analysis.find_subject(from)) found = analysis.paths_from(*node);
  } else {
    found = analysis.all_paths();
  }

  auto node_json = [&](JsonWriter& w, std::uint32_t id) {
    const rbac::PathNode& n = analysis.node(id);
    static constexpr const char* kKinds[] = {"identity", "holder", "pool", "workload", "target"};
    w.begin_object().field("type", kKinds[static_cast<int>(n.kind)]).field("label", n.label());
    if (n.kind == rbac::NodeKind::Identity) {
      w.field("kind", rbac::subject_kind_name(n.subject)).field("name", n.name);
      if (!n.ns.empty()) w.field("namespace", n.ns);
    }
    if (n.kind == rbac::NodeKind::Workload) {
      const rbac::Workload& wl = in.assets.workloads[static_cast<std::size_t>(n.workload)];
      w.field("file", wl.origin.file).field("line", std::uint64_t{wl.origin.line});
      w.field("serviceAccount", wl.service_account);
    }
    if (n.kind == rbac::NodeKind::Target) w.field("target", rbac::target_id(n.target));
    w.end_object();
  };

  if (output == "json") {
    JsonWriter w(std::cout);
    w.begin_object().field("bootstrapVersion", rbac::bootstrap_version());
    w.field("nodes", std::uint64_t{analysis.node_count()}).field("edges", std::uint64_t{analysis.edge_count()});
    w.key("paths").begin_array();
    for (const rbac::Path& p : found) {
      w.begin_object().key("from");
      node_json(w, p.from);
      w.field("target", rbac::target_id(p.target)).field("steps", std::uint64_t{p.steps.size()});
      w.field("assumed", p.assumed).field("text", rbac::path_text(analysis, p));
      w.key("path").begin_array();
      for (const rbac::PathStep& s : p.steps) {
        w.begin_object().field("kind", rbac::step_kind_id(s.kind)).field("permission", s.permission);
        w.key("via").begin_array();
        for (const rbac::Witness& wi : s.via) w.value(rbac::witness_text(index, wi));
        w.end_array().key("to");
        node_json(w, s.to);
        w.end_object();
      }
      w.end_array().end_object();
    }
    w.end_array();
    w.key("hygiene").begin_object().key("tokenSecrets").begin_array();
    for (const rbac::TokenHygiene& t : hygiene.tokens) {
      const rbac::TokenSecret& s = in.assets.token_secrets[t.secret];
      w.begin_object().field("namespace", s.ns).field("name", s.name).field("serviceAccount", s.service_account);
      if (t.age_days) w.field("ageDays", static_cast<std::uint64_t>(*t.age_days));
      if (t.reaches) w.field("reaches", rbac::target_id(*t.reaches));
      w.field("accountExists", t.account_exists).field("file", s.origin.file).field("line", std::uint64_t{s.origin.line});
      w.end_object();
    }
    w.end_array().key("danglingSubjects").begin_array();
    for (const rbac::DanglingSubject& d : hygiene.dangling) {
      const rbac::Binding& b = index.binding(d.binding);
      const rbac::Subject& s = b.subjects[d.subject];
      w.begin_object().field("binding", (b.cluster ? "ClusterRoleBinding " + b.name : "RoleBinding " + b.ns + "/" + b.name));
      w.field("serviceAccount", (s.ns.empty() ? b.ns : s.ns) + "/" + s.name).field("file", b.origin.file);
      w.field("line", std::uint64_t{b.origin.line}).end_object();
    }
    w.end_array().field("usersAndGroups", "assumed to exist: the input cannot show which users and groups exist");
    w.end_object().end_object();
    w.flush();
    std::cout << '\n';
  } else if (output == "text") {
    if (found.empty()) std::cout << "no escalation path" << (from.empty() ? "" : " from " + from) << '\n';
    for (const rbac::Path& p : found) {
      std::cout << Tsafe{analysis.node(p.from).label()} << " → " << rbac::target_title(p.target) << " in "
                << p.steps.size() << " step" << (p.steps.size() == 1 ? "" : "s") << (p.assumed ? " (assumed bootstrap policy)" : "")
                << '\n';
      std::size_t k = 0;
      for (const rbac::PathStep& s : p.steps) {
        std::cout << "  " << ++k << ". " << Tsafe{s.permission} << "  [" << rbac::step_kind_id(s.kind) << "]\n";
        for (const rbac::Witness& wi : s.via) std::cout << "     via " << Tsafe{rbac::witness_text(index, wi)} << '\n';
        std::cout << "     → " << Tsafe{analysis.node(s.to).label()} << '\n';
      }
    }
    if (!hygiene.tokens.empty() || !hygiene.dangling.empty()) std::cout << "\ncredential hygiene:\n";
    for (const rbac::TokenHygiene& t : hygiene.tokens) {
      const rbac::TokenSecret& s = in.assets.token_secrets[t.secret];
      std::cout << "  long-lived token Secret " << Tsafe{s.ns + "/" + s.name} << " of ServiceAccount "
                << Tsafe{s.service_account};
      if (t.age_days) std::cout << ", " << *t.age_days << " days old";
      if (t.reaches) std::cout << ", reaches " << rbac::target_title(*t.reaches);
      if (!t.account_exists) std::cout << " (the ServiceAccount does not exist)";
      std::cout << '\n';
    }
    for (const rbac::DanglingSubject& d : hygiene.dangling) {
      const rbac::Binding& b = index.binding(d.binding);
      const rbac::Subject& s = b.subjects[d.subject];
      std::cout << "  " << (b.cluster ? "ClusterRoleBinding " : "RoleBinding ") << Tsafe{b.cluster ? b.name : b.ns + "/" + b.name}
                << " names ServiceAccount " << Tsafe{(s.ns.empty() ? b.ns : s.ns) + "/" + s.name}
                << ", which does not exist\n";
    }
  } else {
    const char* sep = output == "csv" ? "," : " | ";
    const std::vector<std::string> cols = {"IDENTITY", "TARGET", "STEPS", "ASSUMED", "PATH"};
    auto row = [&](const std::vector<std::string>& cells) {
      if (output == "markdown") std::cout << "| ";
      for (std::size_t i = 0; i < cells.size(); ++i) std::cout << (i ? sep : "") << cell(cells[i], output);
      std::cout << (output == "markdown" ? " |\n" : "\n");
    };
    row(cols);
    if (output == "markdown") std::cout << "|---|---|---|---|---|\n";
    for (const rbac::Path& p : found) {
      row({analysis.node(p.from).label(), std::string(rbac::target_id(p.target)), std::to_string(p.steps.size()),
           p.assumed ? "yes" : "no", rbac::path_text(analysis, p)});
    }
  }
  std::cout.flush();
  if (!in.errors.empty()) return 2;
  return found.empty() ? 0 : 1;
}

}  // namespace kg::cli
