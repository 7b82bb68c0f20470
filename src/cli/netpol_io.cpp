#include "cli/netpol_io.hpp"

#include <algorithm>
#include <iostream>
#include <iterator>
#include <tuple>

#include "core/object.hpp"
#include "engines/scan/scan.hpp"
#include "report/terminal.hpp"

namespace kg::cli {

std::vector<std::string> netpol_kinds() {
  std::vector<std::string> kinds = PodSpecTable().kinds();
  kinds.erase(std::remove(kinds.begin(), kinds.end(), "PodTemplate"), kinds.end());
  for (const char* k : {"Namespace", "NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                        "ClusterNetworkPolicy", "Service", "Ingress", "Route", "HTTPRoute", "GRPCRoute"})
    kinds.emplace_back(k);
  return kinds;
}

namespace {

void print(const char* what, const InputError& e) {
  std::cerr << "kguard: " << what << Tsafe{e.file}
            << (e.line ? ":" + std::to_string(e.line) + ":" + std::to_string(e.column) : "") << ": "
            << Tsafe{e.message} << '\n';
}

void read_source(SourceFile& file, bool walked, netpol::InputBuilder& builder, const LoadLimits& limits) {
  stream_documents(file, limits, [&](const Document& doc) {
    std::vector<Object> objects;
    std::vector<InputError> errors;
    collect_objects(file, doc, objects, errors);
    // A walked file's documents that are not Kubernetes objects are skipped, as scan skips them.
    if (!walked)
      for (InputError& e : errors) builder.add_error(std::move(e));
    for (const Object& o : objects) builder.add(o);
  });
  for (InputError& e : file.errors) builder.add_error(std::move(e));
}

}  // namespace

bool load_netpol_input(const std::vector<std::string>& paths, ClusterFlags cluster, bool quiet, NetpolLoad& out) {
  PodSpecTable pod_specs;
  netpol::InputBuilder builder(pod_specs);
  LoadLimits limits;
  if (cluster.enabled) {
    cluster.extra_kinds = netpol_kinds();
    auto read = read_cluster_for_scan(cluster, {}, ScanOptions{}, quiet);
    if (!read) return false;
    SourceFile f;
    f.path = "cluster";
    f.content = std::move(read->snapshot);
    read_source(f, false, builder, limits);
    out.inputs.push_back("cluster");
  }
  if (paths.empty() && !cluster.enabled) {
    std::cerr << "kguard netpol: no input (give files, folders, - for stdin, or --cluster)\n";
    return false;
  }
  std::vector<InputError> errors, skipped;
  ScanOptions options;
  std::vector<InputFile> files = expand_inputs(paths, options, errors, skipped);
  for (InputError& e : errors) builder.add_error(std::move(e));
  for (const InputFile& file : files) {
    SourceFile f;
    f.path = file.path == "-" ? std::string("<stdin>") : file.path;
    if (file.path == "-") {
      f.content.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      if (f.content.size() > limits.max_file_bytes) {
        builder.add_error({f.path, 0, 0, "larger than the file size limit; not read"});
        continue;
      }
    } else if (!read_file(file.path, f.content)) {
      builder.add_error({file.path, 0, 0, "cannot be read"});
      continue;
    } else if (f.content.size() > limits.max_file_bytes) {
      builder.add_error({file.path, 0, 0, "larger than the file size limit; not read"});
      continue;
    }
    read_source(f, file.walked, builder, limits);
    out.inputs.push_back(file.path);
  }
  out.input = builder.finish();
  if (!quiet) {
    for (const InputError& e : out.input.errors) print("", e);
    for (const InputError& e : out.input.warnings) print("warning: ", e);
  }
  return true;
}

}  // namespace kg::cli

#include <map>

#include "core/json_writer.hpp"
#include "engines/netpol/analysis.hpp"
#include "engines/netpol/findings.hpp"

namespace kg::cli {

namespace {

// Every allowed connection of one input, "src\0dst" → connection text.
bool connections_of(const std::string& path, const ClusterFlags& cluster, bool quiet,
                    std::map<std::string, std::string>& out, std::size_t& errors) {
  NetpolLoad load;
  ClusterFlags flags = cluster;
  std::vector<std::string> paths;
  if (path == "cluster") flags.enabled = true;
  else {
    flags.enabled = false;
    paths.push_back(path);
  }
  if (!load_netpol_input(paths, flags, quiet, load)) return false;
  errors += load.input.errors.size();
  netpol::Analysis a(load.input);
  a.for_each_connection([&](netpol::PeerRef s, netpol::PeerRef d, const netpol::ConnSet& c) {
    out[a.peer_name(s) + '\0' + a.peer_name(d)] = c.analyzer_str();
  });
  return true;
}

}  // namespace

int netpol_diff(const std::vector<std::string>& paths, const ClusterFlags& cluster, bool quiet,
                const std::string& format) {
  if (paths.size() != 2) {
    std::cerr << "kguard netpol diff: needs OLD and NEW (a path each, or \"cluster\" with --cluster options)\n";
    return 2;
  }
  if (format != "text" && format != "json" && format != "csv") {
    std::cerr << "kguard netpol diff: unknown format '" << format << "' (text, json, csv)\n";
    return 2;
  }
  std::map<std::string, std::string> before, after;
  std::size_t errors = 0;
  if (!connections_of(paths[0], cluster, quiet, before, errors) || !connections_of(paths[1], cluster, quiet, after, errors))
    return 2;
  struct Change {
    std::string type, src, dst, old_conn, new_conn;
  };
  std::vector<Change> changes;
  auto split = [](const std::string& k) {
    auto z = k.find('\0');
    return std::make_pair(k.substr(0, z), k.substr(z + 1));
  };
  for (const auto& [k, v] : after) {
    auto [s, d] = split(k);
    auto it = before.find(k);
    if (it == before.end()) changes.push_back({"added", s, d, "No Connections", v});
    else if (it->second != v) changes.push_back({"changed", s, d, it->second, v});
  }
  for (const auto& [k, v] : before)
    if (!after.count(k)) {
      auto [s, d] = split(k);
      changes.push_back({"removed", s, d, v, "No Connections"});
    }
  std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    return std::tie(a.src, a.dst) < std::tie(b.src, b.dst);
  });
  if (format == "json") {
    JsonWriter j(std::cout);
    j.begin_object().key("changes").begin_array();
    for (const Change& c : changes)
      j.begin_object().field("diffType", c.type).field("src", c.src).field("dst", c.dst)
          .field("old", c.old_conn).field("new", c.new_conn).end_object();
    j.end_array().end_object();
    j.flush();
    std::cout << '\n';
  } else if (format == "csv") {
    std::cout << "diff-type,source,destination,old,new\n";
    for (const Change& c : changes)
      std::cout << c.type << ',' << c.src << ',' << c.dst << ",\"" << c.old_conn << "\",\"" << c.new_conn << "\"\n";
  } else {
    // netpol-analyzer's diff text lines.
    for (const Change& c : changes)
      std::cout << "diff-type: " << c.type << ", source: " << Tsafe{c.src} << ", destination: " << Tsafe{c.dst}
                << ", old: " << c.old_conn << ", new: " << c.new_conn << '\n';
  }
  return errors ? 1 : 0;
}

}  // namespace kg::cli

namespace kg::cli {

int netpol_exposure(const std::vector<std::string>& paths, const ClusterFlags& cluster, bool quiet,
                    const std::string& format) {
  if (format != "text" && format != "json") {
    std::cerr << "kguard netpol exposure: unknown format '" << format << "' (text, json)\n";
    return 2;
  }
  NetpolLoad load;
  if (!load_netpol_input(paths, cluster, quiet, load)) return 2;
  netpol::Analysis a(load.input);
  const auto& W = load.input.workloads;
  if (format == "json") {
    JsonWriter j(std::cout);
    j.begin_object().key("workloads").begin_array();
    for (std::uint32_t w = 0; w < W.size(); ++w) {
      netpol::Exposure e = a.exposure(w);
      j.begin_object().field("workload", W[w].id());
      j.field("ingressFromEntireCluster", e.from_cluster.analyzer_str());
      j.field("ingressFromInternet", e.from_internet.analyzer_str());
      j.field("egressToEntireCluster", e.to_cluster.analyzer_str());
      j.field("egressToInternet", e.to_internet.analyzer_str());
      j.key("bySelector").begin_array();
      for (const auto& b : e.by_selector)
        j.begin_object().field("direction", b.direction == netpol::Direction::Ingress ? "ingress" : "egress")
            .field("namespaces", b.namespaces).field("pods", b.pods).field("conn", b.conns.analyzer_str()).end_object();
      j.end_array().key("publicEntries").begin_array();
      for (const auto& p : e.entries)
        j.begin_object().field("kind", p.kind).field("namespace", p.ns).field("name", p.name).field("how", p.how)
            .field("ports", p.ports.analyzer_str()).field("allowed", p.allowed.analyzer_str()).end_object();
      j.end_array().end_object();
    }
    j.end_array().end_object();
    j.flush();
    std::cout << '\n';
    return load.input.errors.empty() ? 0 : 1;
  }
  for (std::uint32_t w = 0; w < W.size(); ++w) {
    netpol::Exposure e = a.exposure(w);
    std::cout << Tsafe{W[w].id()} << '\n';
    std::cout << "  <= entire-cluster : " << e.from_cluster.analyzer_str() << '\n';
    for (const auto& b : e.by_selector)
      if (b.direction == netpol::Direction::Ingress)
        std::cout << "  <= [namespace with {" << Tsafe{b.namespaces} << "}]/[pods with {" << Tsafe{b.pods}
                  << "}] : " << b.conns.analyzer_str() << '\n';
    std::cout << "  <= internet : " << e.from_internet.analyzer_str() << '\n';
    for (const auto& p : e.entries)
      std::cout << "  <= internet via " << p.how << ' ' << Tsafe{p.ns + "/" + p.name} << " (ports "
                << p.ports.analyzer_str() << ") : " << p.allowed.analyzer_str() << '\n';
    std::cout << "  => entire-cluster : " << e.to_cluster.analyzer_str() << '\n';
    for (const auto& b : e.by_selector)
      if (b.direction == netpol::Direction::Egress)
        std::cout << "  => [namespace with {" << Tsafe{b.namespaces} << "}]/[pods with {" << Tsafe{b.pods}
                  << "}] : " << b.conns.analyzer_str() << '\n';
    std::cout << "  => internet : " << e.to_internet.analyzer_str() << '\n';
  }
  return load.input.errors.empty() ? 0 : 1;
}

}  // namespace kg::cli

namespace kg::cli {

void add_netpol_findings(EngineResult& result, Category networking, const std::vector<std::string>& paths,
                         std::string snapshot) {
  NetpolLoad load;
  if (!snapshot.empty()) {
    PodSpecTable pod_specs;
    netpol::InputBuilder builder(pod_specs);
    SourceFile f;
    f.path = "cluster";
    f.content = std::move(snapshot);
    read_source(f, false, builder, LoadLimits{});
    load.input = builder.finish();
  } else if (!load_netpol_input(paths, ClusterFlags{}, true, load)) {
    return;
  }
  // The scan reported the input's errors already; the engine's own (policy
  // fields it refuses) are warnings of the report.
  for (InputError& e : load.input.errors) result.warnings.push_back(std::move(e));
  netpol::Analysis analysis(load.input);
  // Subjects the scan knows (those with findings) keep their place in the report.
  std::map<std::string, std::size_t> objects;
  for (const FindingView& f : result.findings)
    objects.emplace(std::string(f.kind) + '\0' + std::string(f.ns) + '\0' + std::string(f.name), f.object);
  netpol::add_findings(analysis, result, networking,
                       [&](const std::string& kind, const std::string& ns, const std::string& name) -> std::optional<std::size_t> {
                         auto it = objects.find(kind + '\0' + ns + '\0' + name);
                         if (it == objects.end() && ns == "default") it = objects.find(kind + '\0' + '\0' + name);
                         if (it == objects.end()) return std::nullopt;
                         return it->second;
                       });
  order_findings(result.findings);
}

}  // namespace kg::cli
