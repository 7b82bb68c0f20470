// Reading a live cluster: the flags `kguard scan --cluster` and
// `kguard snapshot` share, progress on stderr, and the snapshot subcommand.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/rbac_inputs.hpp"
#include "report/terminal.hpp"
#include "sources/kube/cluster_reader.hpp"

namespace kg::cli {
namespace {

constexpr const char* kSnapshotHelp = R"(Usage: kguard snapshot [options] -o FILE

Reads every kind the rule catalog needs from the cluster's API server and
writes it to FILE as one kind: List JSON document (- for stdout). Scanning the
file offline (`kguard scan FILE`) gives the same report as `kguard scan
--cluster`, coverage gaps and server version included. Secret values are
blanked and managedFields dropped.

Options:
  -o, --output FILE            where to write the snapshot (required)
)";

}  // namespace

const char* cluster_flags_help() {
  return R"(      --kubeconfig FILE        kubeconfig to use (default: $KUBECONFIG, several
                               files merged like kubectl, else ~/.kube/config,
                               else the in-cluster service account)
      --context NAME           kubeconfig context (default: current-context)
  -n, --namespace NS[,NS...]   only these namespaces (repeatable); cluster-scoped
                               kinds are still read
  -A, --all-namespaces         every namespace (the default)
      --list-parallel N        concurrent list requests (default 4)
      --chunk-size N           objects per list page (default 500, like kubectl)
      --request-timeout SECS   per request (default 60); 429/5xx are retried
                               with backoff
)";
}

int ClusterFlags::parse(const std::vector<std::string>& args, std::size_t& i, std::string& error) {
  const std::string& a = args[i];
  ArgCursor flag(args, i);
  auto value = [&](std::string& out) { return flag.value(out); };
  auto is = [&](std::string_view long_name, std::string_view short_name = {}) {
    return flag.is(long_name, short_name);
  };
  std::string v;
  if (a == "--cluster") {
    enabled = true;
  } else if (is("--kubeconfig")) {
    if (!value(v) || v.empty()) return error = "--kubeconfig needs a file", -1;
    kubeconfig = v;
    enabled = true;
  } else if (is("--context")) {
    if (!value(v) || v.empty()) return error = "--context needs a name", -1;
    context = v;
    enabled = true;
  } else if (is("--namespace", "-n")) {
    if (!value(v) || v.empty()) return error = "--namespace needs a name", -1;
    std::size_t start = 0;
    while (start <= v.size()) {
      auto comma = v.find(',', start);
      std::string ns = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!ns.empty() && std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end())
        namespaces.push_back(ns);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    enabled = true;
  } else if (a == "-A" || a == "--all-namespaces") {
    all_namespaces = true;
    enabled = true;
  } else if (is("--list-parallel")) {
    long long n = 0;
    if (!value(v) || !parse_int_in(v, 1, 64, n))
      return error = "--list-parallel needs a number from 1 to 64", -1;
    parallel = static_cast<unsigned>(n);
  } else if (is("--chunk-size")) {
    long long n = 0;
    if (!value(v) || !parse_int_in(v, 1, 100000, n))
      return error = "--chunk-size needs a number from 1 to 100000", -1;
    chunk_size = static_cast<std::size_t>(n);
  } else if (is("--request-timeout")) {
    long long n = 0;
    if (!value(v) || !parse_int_in(v, 1, 3600, n))
      return error = "--request-timeout needs seconds from 1 to 3600", -1;
    request_timeout_seconds = static_cast<int>(n);
  } else {
    return 0;
  }
  if (all_namespaces && !namespaces.empty())
    return error = "--namespace and --all-namespaces exclude each other", -1;
  return 1;
}

std::vector<std::string> kinds_for_rules(const std::vector<const Rule*>& rules, const ScanOptions& options) {
  std::vector<std::string> kinds = kinds_needed(rules, options.pod_specs);
  for (const std::string& k : kube::counted_kinds())
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  return kinds;
}

std::optional<kube::ClusterRead> read_cluster_for_scan(const ClusterFlags& flags,
                                                       const std::vector<const Rule*>& rules,
                                                       const ScanOptions& options, bool quiet,
                                                       const std::vector<std::string>& extra_kinds) {
  std::vector<std::string> kinds = kinds_for_rules(rules, options);
  for (const std::string& k : extra_kinds)
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  return read_cluster_kinds(flags, kinds, [&](const std::string& kind) {
    std::vector<std::string> ids;
    for (const Rule* r : rules) {
      const std::vector<std::string> needed = kinds_needed({r}, options.pod_specs);
      if (std::find(needed.begin(), needed.end(), kind) != needed.end()) ids.push_back(r->id);
    }
    return ids;
  }, quiet);
}

std::optional<kube::ClusterRead> read_cluster_kinds(
    const ClusterFlags& flags, std::vector<std::string> kinds,
    const std::function<std::vector<std::string>(const std::string&)>& rules_for_kind, bool quiet) {
  std::vector<InputError> errors;
  auto config = kube::resolve_client_config({flags.kubeconfig, flags.context, {}}, errors);
  for (const InputError& e : errors) {
    std::cerr << "kguard: " << Tsafe{e.file}
              << (e.line ? ":" + std::to_string(e.line) + ":" + std::to_string(e.column) : "")
              << ": " << Tsafe{e.message} << '\n';
  }
  if (!config) return std::nullopt;
  kube::ClientOptions client_options;
  client_options.request_timeout = std::chrono::seconds(flags.request_timeout_seconds);
  std::string error;
  auto session = kube::Session::connect(*config, client_options, error);
  if (!session) {
    std::cerr << "kguard: " << Tsafe{error} << '\n';  // may quote the server or the kubeconfig
    return std::nullopt;
  }
  if (!quiet) std::cerr << "kguard: reading " << config->describe() << '\n';
  kube::ReadOptions read;
  read.kinds = std::move(kinds);
  for (const std::string& k : flags.extra_kinds)
    if (std::find(read.kinds.begin(), read.kinds.end(), k) == read.kinds.end()) read.kinds.push_back(k);
  read.namespaces = flags.namespaces;
  read.parallel = flags.parallel;
  read.page_size = flags.chunk_size;
  read.rules_for_kind = rules_for_kind;
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [&](const kube::ReadProgress& p) {
    if (quiet) return;
    if (tty) {
      constexpr int kWidth = 30;
      const int filled = p.total ? static_cast<int>(kWidth * p.done / p.total) : kWidth;
      std::cerr << "\r\x1b[K[" << std::string(filled, '#') << std::string(kWidth - filled, ' ')
                << "] " << p.done << '/' << p.total << " lists, " << p.objects << " objects";
      if (p.done == p.total) std::cerr << '\n';
    } else {
      std::cerr << "kguard: listed " << p.what << ": "
                << (p.failed ? std::string("not readable") : std::to_string(p.listed) + " objects")
                << " (" << p.done << '/' << p.total << ")\n";
    }
  };
  kube::ClusterRead r = kube::read_cluster(session, read, progress);
  if (!r.error.empty()) {
    std::cerr << "kguard: " << Tsafe{r.error} << '\n';
    return std::nullopt;
  }
  if (!quiet) {
    std::cerr << "kguard: read " << r.objects << " objects from Kubernetes "
              << r.info.server_version;
    if (!r.info.coverage.empty())
      std::cerr << "; " << r.info.coverage.size() << " list(s) not readable (see the report's coverage)";
    std::cerr << '\n';
  }
  return r;
}

int snapshot_command(const std::vector<std::string>& args) {
  ClusterFlags flags;
  std::string output;
  bool quiet = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string error;
    const int consumed = flags.parse(args, i, error);
    if (consumed < 0) {
      std::cerr << "kguard snapshot: " << error << '\n';
      return 2;
    }
    if (consumed > 0) continue;
    if (a == "-h" || a == "--help") {
      std::cout << kSnapshotHelp << cluster_flags_help()
                << "  -q, --quiet                  no progress on stderr\n";
      return 0;
    } else if (a == "-o" || a == "--output") {
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        std::cerr << "kguard snapshot: -o needs a file\n";
        return 2;
      }
      output = args[++i];
    } else if (a.rfind("--output=", 0) == 0) {
      output = a.substr(9);
      if (output.empty()) {
        std::cerr << "kguard snapshot: -o needs a file\n";
        return 2;
      }
    } else if (a == "-q" || a == "--quiet") {
      quiet = true;
    } else {
      std::cerr << "kguard snapshot: unknown option '" << a << "'\nRun `kguard snapshot --help`.\n";
      return 2;
    }
  }
  if (output.empty()) {
    std::cerr << "kguard snapshot: -o FILE is required\n";
    return 2;
  }
  // Every kind any catalog rule names, so the snapshot serves any later scan
  // (--only, --pss, rules enabled by a config).
  std::vector<const Rule*> rules;
  for (const auto& r : Catalog::builtin().rules()) rules.push_back(r.get());
  ScanOptions options;
  // ...and what scan's escalation paths and credential hygiene read.
  auto read = read_cluster_for_scan(flags, rules, options, quiet, rbac_path_kinds());
  if (!read) return 2;
  if (output == "-") {
    std::cout << read->snapshot;
    std::cout.flush();
    return std::cout ? 0 : 2;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << read->snapshot;
  out.close();
  if (!out) {
    std::cerr << "kguard snapshot: cannot write " << output << '\n';
    return 2;
  }
  if (!quiet) std::cerr << "kguard: wrote snapshot (" << read->objects << " objects) to " << output << '\n';
  return 0;
}

}  // namespace kg::cli
