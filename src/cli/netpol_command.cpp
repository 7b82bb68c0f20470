// kguard netpol: the NetworkPolicy engine's commands (docs/netpol.md):
// list (the connectivity matrix in seven formats), explain (one pair, port by
// port, with the policy and rule that decide), exposure and diff.
#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "cli/args.hpp"
#include "cli/cluster.hpp"
#include "cli/commands.hpp"
#include "cli/netpol_io.hpp"
#include "core/json_writer.hpp"
#include "engines/netpol/analysis.hpp"
#include "report/terminal.hpp"

namespace kg::cli {
namespace {

using netpol::Analysis;
using netpol::ConnSet;
using netpol::PeerRef;
using netpol::Protocol;

constexpr const char* kHelp = R"(Usage: kguard netpol COMMAND [options] [PATH...]

The connectivity that NetworkPolicies, AdminNetworkPolicies,
BaselineAdminNetworkPolicies and ClusterNetworkPolicies (v1alpha2) allow
between the workloads of manifests (files, folders, - for stdin, snapshots)
or of a live cluster (--cluster). Workloads stand for their pods; external
peers are IPv4 ranges cut at every ipBlock/network boundary. docs/netpol.md.

Commands:
  list [PATH...]               every allowed connection (src => dst : conn)
  explain SRC DST [PATH...]    port by port, allowed or denied, and the policy
                               and rule responsible (SRC/DST: ns/name[Kind],
                               ns/name, or an IPv4 address)
  exposure [PATH...]           what each workload is open to: every namespace,
                               namespaces by selector, the internet
  diff OLD NEW                 connections added, removed and changed between
                               two inputs (a path, or "cluster" for --cluster)

Options:
  -o, --output FORMAT          list: text (default), json, csv, markdown, dot,
                               html, netpol-analyzer; explain, exposure, diff:
                               text, json
      --focus-workload NAME    only connections from or to this workload
                               (ns/name[Kind], ns/name or name; repeatable)
  -n, --namespace NS           only connections from or to namespace NS (the
                               cluster is still read whole: every namespace's
                               pods and policies count)
      --port PORT[/PROTOCOL]   only this port (of every protocol unless given)
      --cluster [cluster options]   read the live cluster of the kubeconfig
  -q, --quiet                  no progress on stderr
)";

struct Options {
  std::string command;
  std::vector<std::string> paths;
  std::string format = "text";
  std::vector<std::string> focus;
  std::string ns;
  bool port_filter = false;
  std::uint32_t port = 0;
  bool port_any_protocol = true;
  Protocol port_protocol = Protocol::TCP;
  ClusterFlags cluster;
  bool quiet = false;
};

std::string html_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string dot_id(const std::string& s) {
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\\\"") : std::string(1, c);
  return o + "\"";
}

struct Row {
  std::string src, dst;
  ConnSet conn;
};

// The connections the filters keep, in peer order, each handed to `row` as
// found (a 10,000-workload matrix is not held as text).
bool for_each_row(const Analysis& a, const Options& o, std::string& error, const std::function<void(const Row&)>& row) {
  std::vector<bool> focus(a.input().workloads.size(), o.focus.empty());
  for (const std::string& f : o.focus) {
    bool any = false;
    for (std::size_t i = 0; i < a.input().workloads.size(); ++i) {
      const netpol::Workload& w = a.input().workloads[i];
      if (w.id() == f || w.ns + "/" + w.name == f || w.name == f) focus[i] = any = true;
    }
    if (!any) {
      error = "--focus-workload: no workload '" + f + "' in the input";
      return false;
    }
  }
  auto keep_peer = [&](PeerRef p) { return !p.ip && focus[p.index]; };
  auto in_ns = [&](PeerRef p) { return !p.ip && a.input().workloads[p.index].ns == o.ns; };
  ConnSet port_mask;
  if (o.port_filter) {
    for (Protocol p : netpol::kProtocols)
      if (o.port_any_protocol || p == o.port_protocol) port_mask[p] = netpol::PortSet::range(o.port, o.port);
  }
  Row r;
  a.for_each_connection([&](PeerRef s, PeerRef d, const ConnSet& c) {
    if (!o.focus.empty() && !keep_peer(s) && !keep_peer(d)) return;
    if (!o.ns.empty() && !in_ns(s) && !in_ns(d)) return;
    r.conn = o.port_filter ? c & port_mask : c;
    if (r.conn.empty()) return;
    r.src = a.peer_name(s);
    r.dst = a.peer_name(d);
    row(r);
  });
  return true;
}

void write_json_list(const Analysis& a, const Options& o, std::string& error, std::ostream& out) {
  JsonWriter j(out);
  j.begin_object();
  j.key("workloads").begin_array();
  for (const netpol::Workload& w : a.input().workloads) j.value(w.id());
  j.end_array();
  j.key("ipRanges").begin_array();
  for (const netpol::IpRange& r : a.ip_ranges()) j.value("ip:" + netpol::range_str(r));
  j.end_array();
  j.key("connections").begin_array();
  for_each_row(a, o, error, [&](const Row& r) {
    auto id = [](const std::string& s) { return s.find('[') == std::string::npos ? "ip:" + s : s; };
    j.begin_object();
    j.field("src", id(r.src));
    j.field("dst", id(r.dst));
    for (Protocol p : netpol::kProtocols) j.field(netpol::to_string(p), r.conn[p].str());
    j.field("conn", r.conn.analyzer_str());
    j.end_object();
  });
  j.end_array();
  j.end_object();
  j.flush();
  out << '\n';
}

void write_html(const std::vector<Row>& rows, std::ostream& out) {
  std::vector<std::string> peers;
  std::map<std::pair<std::string, std::string>, std::string> cell;
  for (const Row& r : rows) {
    peers.push_back(r.src);
    peers.push_back(r.dst);
    cell[{r.src, r.dst}] = r.conn.analyzer_str();
  }
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  out << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kguard netpol: connectivity</title>
<style>
body{font-family:system-ui,sans-serif;margin:1em}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 4px;white-space:nowrap}th.col{writing-mode:vertical-rl;transform:rotate(180deg)}
td.all{background:#f8d0c8}td.some{background:#fbe9b7}td.none{color:#bbb}td.self{background:#eee}
</style></head><body>
<h1>Connectivity (rows: from, columns: to)</h1>
<p><label>Filter rows <input id="fr" placeholder="namespace/name"></label>
<label>Filter columns <input id="fc" placeholder="namespace/name"></label>
<label>Connection contains <input id="fx" placeholder="TCP 80"></label></p>
<table id="m"><thead><tr><th>from \ to</th>)";
  for (const std::string& p : peers) out << "<th class=\"col\">" << html_escape(p) << "</th>";
  out << "</tr></thead><tbody>\n";
  for (const std::string& s : peers) {
    out << "<tr><th>" << html_escape(s) << "</th>";
    for (const std::string& d : peers) {
      if (s == d) {
        out << "<td class=\"self\"></td>";
        continue;
      }
      auto it = cell.find({s, d});
      const std::string c = it == cell.end() ? "" : it->second;
      const char* cls = c.empty() ? "none" : c == "All Connections" ? "all" : "some";
      out << "<td class=\"" << cls << "\" title=\"" << html_escape(s + " => " + d) << "\">"
          << html_escape(c.empty() ? "·" : c == "All Connections" ? "all" : c) << "</td>";
    }
    out << "</tr>\n";
  }
  out << R"(</tbody></table>
<script>
const m=document.getElementById('m');
function apply(){const fr=document.getElementById('fr').value.toLowerCase(),fc=document.getElementById('fc').value.toLowerCase(),fx=document.getElementById('fx').value.toLowerCase();
const heads=m.tHead.rows[0].cells;const showCol=[true];
for(let i=1;i<heads.length;i++){showCol.push(heads[i].textContent.toLowerCase().includes(fc));heads[i].style.display=showCol[i]?'':'none';}
for(const r of m.tBodies[0].rows){const rowOk=r.cells[0].textContent.toLowerCase().includes(fr);let any=!fx;
for(let i=1;i<r.cells.length;i++){r.cells[i].style.display=showCol[i]?'':'none';if(fx&&showCol[i]&&r.cells[i].textContent.toLowerCase().includes(fx))any=true;}
r.style.display=rowOk&&any?'':'none';}}
for(const id of ['fr','fc','fx'])document.getElementById(id).addEventListener('input',apply);
</script></body></html>
)";
}

// False with `error` when a filter names nothing.
bool write_list(const Analysis& a, const Options& o, std::ostream& out, std::string& error) {
  const std::string& format = o.format;
  // A focus naming no workload is refused before anything is written.
  for (const std::string& f : o.focus) {
    bool any = false;
    for (const netpol::Workload& w : a.input().workloads) any = any || w.id() == f || w.ns + "/" + w.name == f || w.name == f;
    if (!any) return error = "--focus-workload: no workload '" + f + "' in the input", false;
  }
  if (format == "json") {
    write_json_list(a, o, error, out);
    return true;
  }
  if (format == "csv") {
    out << "src,dst,conn\n";
    return for_each_row(a, o, error, [&](const Row& r) {
      out << csv_field(r.src) << ',' << csv_field(r.dst) << ',' << csv_field(r.conn.analyzer_str()) << '\n';
    });
  }
  if (format == "markdown") {
    out << "| src | dst | conn |\n|-----|-----|------|\n";
    return for_each_row(a, o, error, [&](const Row& r) {
      out << "| " << r.src << " | " << r.dst << " | " << r.conn.analyzer_str() << " |\n";
    });
  }
  std::vector<Row> rows;
  if (!for_each_row(a, o, error, [&](const Row& r) { rows.push_back(r); })) return false;
  if (format == "netpol-analyzer") {
    // Its txt connlist: one line per pair, lines in text order.
    std::vector<std::string> lines;
    for (const Row& r : rows) lines.push_back(r.src + " => " + r.dst + " : " + r.conn.analyzer_str());
    std::sort(lines.begin(), lines.end());
    for (const std::string& l : lines) out << l << '\n';
    return true;
  }
  if (format == "dot") {
    out << "digraph {\n\tnode [shape=box];\n";
    std::map<std::string, std::set<std::string>> by_ns;
    std::set<std::string> ips;
    for (const Row& r : rows)
      for (const std::string* p : {&r.src, &r.dst}) {
        auto slash = p->find('/');
        if (p->find('[') == std::string::npos) ips.insert(*p);
        else by_ns[p->substr(0, slash)].insert(*p);
      }
    for (const auto& [ns, peers] : by_ns) {
      out << "\tsubgraph " << dot_id("cluster_" + ns) << " {\n\t\tlabel=" << dot_id(ns) << ";\n";
      for (const std::string& p : peers) out << "\t\t" << dot_id(p) << " [label=" << dot_id(p.substr(ns.size() + 1)) << "];\n";
      out << "\t}\n";
    }
    for (const std::string& ip : ips) out << '\t' << dot_id(ip) << " [shape=ellipse, color=red];\n";
    for (const Row& r : rows)
      out << '\t' << dot_id(r.src) << " -> " << dot_id(r.dst) << " [label=" << dot_id(r.conn.analyzer_str()) << "];\n";
    out << "}\n";
    return true;
  }
  if (format == "html") {
    // A matrix of n peers has n² cells: past a browser's reach, narrow it first.
    std::set<std::string> peers;
    for (const Row& r : rows) {
      peers.insert(r.src);
      peers.insert(r.dst);
    }
    constexpr std::size_t kMaxHtmlPeers = 1500;
    if (peers.size() > kMaxHtmlPeers)
      return error = "-o html: " + std::to_string(peers.size()) + " peers make a matrix of " +
                     std::to_string(peers.size() * peers.size()) + " cells; narrow it with --namespace or "
                     "--focus-workload (at most " + std::to_string(kMaxHtmlPeers) + " peers)", false;
    write_html(rows, out);
    return true;
  }
  // text
  std::size_t ws = 4, wd = 2;
  for (const Row& r : rows) {
    ws = std::max(ws, r.src.size());
    wd = std::max(wd, r.dst.size());
  }
  out << "FROM" << std::string(ws - 4 + 2, ' ') << "TO" << std::string(wd - 2 + 2, ' ') << "CONNECTIONS\n";
  for (const Row& r : rows)
    out << Tsafe{r.src} << std::string(ws - r.src.size() + 2, ' ') << Tsafe{r.dst}
        << std::string(wd - r.dst.size() + 2, ' ') << r.conn.analyzer_str() << '\n';
  out << rows.size() << " connection(s) between " << a.input().workloads.size() << " workload(s) and "
      << a.ip_ranges().size() << " external range(s)\n";
  return true;
}

// Options shared by every subcommand; false with `error` on a bad one.
bool parse_options(const std::vector<std::string>& args, std::size_t start, Options& o, std::string& error) {
  for (std::size_t i = start; i < args.size(); ++i) {
    const std::string& a = args[i];
    ArgCursor flag(args, i);
    std::string v;
    if (flag.is("--output", "-o")) {
      if (!flag.value(v)) return error = "--output needs a format", false;
      o.format = v;
    } else if (flag.is("--focus-workload")) {
      if (!flag.value(v) || v.empty()) return error = "--focus-workload needs a workload", false;
      o.focus.push_back(v);
    } else if (flag.is("--namespace", "-n")) {
      // Always the filter: a cluster read needs every namespace, whose pods and policies all count.
      if (!flag.value(v) || v.empty()) return error = "--namespace needs a namespace", false;
      o.ns = v;
    } else if (flag.is("--port")) {
      if (!flag.value(v)) return error = "--port needs PORT[/PROTOCOL]", false;
      auto slash = v.find('/');
      long long n = 0;
      if (!parse_int_in(v.substr(0, slash), 1, 65535, n)) return error = "--port needs a port from 1 to 65535", false;
      o.port = static_cast<std::uint32_t>(n);
      o.port_filter = true;
      if (slash != std::string::npos) {
        if (!netpol::parse_protocol(v.substr(slash + 1), o.port_protocol))
          return error = "--port: protocol must be TCP, UDP or SCTP", false;
        o.port_any_protocol = false;
      }
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return error = "", false;
    } else if (int c = o.cluster.parse(args, i, error); c != 0) {
      if (c < 0) return false;
    } else if (a.size() > 1 && a[0] == '-') {
      return error = "unknown option '" + a + "'", false;
    } else {
      o.paths.push_back(a);
    }
  }
  return true;
}

std::string describe(const netpol::NetpolInput& in, const netpol::Decision& d, bool egress) {
  if (d.policy >= 0) {
    const netpol::Policy& p = in.policies[static_cast<std::size_t>(d.policy)];
    const auto& rules = egress ? p.egress : p.ingress;
    std::string rule = std::string(egress ? "egress" : "ingress") + " rule " + std::to_string(d.rule);
    for (const netpol::Rule& r : rules)
      if (static_cast<std::int64_t>(r.index) == d.rule && !r.name.empty()) rule += " '" + r.name + "'";
    std::string tier = p.tier == netpol::Tier::NetworkPolicy ? "" : std::string(netpol::to_string(p.tier)) + " tier ";
    if (p.tier == netpol::Tier::Admin) tier += "priority " + std::to_string(p.priority) + " ";
    return tier + p.display() + " " + rule + " (" + d.reason + ")";
  }
  if (!d.isolating.empty()) {
    std::string s = "isolated for " + std::string(egress ? "egress" : "ingress") + " by ";
    for (std::size_t i = 0; i < d.isolating.size(); ++i) {
      if (i) s += ", ";
      s += in.policies[d.isolating[i]].display();
    }
    return s + "; no rule of theirs allows it";
  }
  return std::string("no policy decides ") + (egress ? "egress" : "ingress") + ": default allow";
}

int explain(const Analysis& a, PeerRef src, PeerRef dst, const Options& o) {
  netpol::Explanation e = a.explain(src, dst);
  const netpol::NetpolInput& in = a.input();
  // Elementary port intervals per protocol with the decision of each side.
  struct Segment {
    Protocol proto;
    std::uint32_t lo, hi;
    int eg, ing;  // decision index, -1: no policy applies at that end
  };
  std::vector<Segment> segs;
  auto find = [](const std::vector<netpol::Decision>& ds, Protocol p, std::uint32_t port) {
    for (std::size_t i = 0; i < ds.size(); ++i)
      if (ds[i].conns[p].contains(port)) return static_cast<int>(i);
    return -1;
  };
  for (Protocol p : netpol::kProtocols) {
    std::set<std::uint32_t> cuts = {netpol::kMinPort, netpol::kMaxPort + 1};
    for (const auto* ds : {&e.egress_decisions, &e.ingress_decisions})
      for (const netpol::Decision& d : *ds)
        for (const auto& [lo, hi] : d.conns[p].intervals()) {
          cuts.insert(lo);
          cuts.insert(hi + 1);
        }
    for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
      Segment s{p, *it, *std::next(it) - 1, find(e.egress_decisions, p, *it), find(e.ingress_decisions, p, *it)};
      if (o.port_filter && (s.hi < o.port || s.lo > o.port || (!o.port_any_protocol && p != o.port_protocol))) continue;
      if (o.port_filter) s.lo = s.hi = o.port;
      if (!segs.empty() && segs.back().proto == p && segs.back().eg == s.eg && segs.back().ing == s.ing &&
          segs.back().hi + 1 == s.lo)
        segs.back().hi = s.hi;
      else
        segs.push_back(s);
    }
  }
  auto side = [&](const std::vector<netpol::Decision>& ds, int i, bool egress, bool external) -> std::pair<bool, std::string> {
    if (external) return {true, egress ? "external source: no egress policy" : "external destination: no ingress policy"};
    if (i < 0) return {true, std::string("no policy selects the ") + (egress ? "source" : "destination") + " for " + (egress ? "egress" : "ingress")};
    return {ds[static_cast<std::size_t>(i)].allowed, describe(in, ds[static_cast<std::size_t>(i)], egress)};
  };
  const std::string sname = a.peer_name(src), dname = a.peer_name(dst);
  if (o.format == "json") {
    JsonWriter j(std::cout);
    j.begin_object().field("src", sname).field("dst", dname).field("allowed", e.allowed.analyzer_str());
    j.key("ports").begin_array();
    for (const Segment& s : segs) {
      auto [eok, ewhy] = side(e.egress_decisions, s.eg, true, src.ip);
      auto [iok, iwhy] = side(e.ingress_decisions, s.ing, false, dst.ip);
      j.begin_object().field("protocol", netpol::to_string(s.proto))
          .field("ports", s.lo == s.hi ? std::to_string(s.lo) : std::to_string(s.lo) + "-" + std::to_string(s.hi))
          .field("allowed", eok && iok);
      j.key("egress").begin_object().field("allowed", eok).field("by", ewhy).end_object();
      j.key("ingress").begin_object().field("allowed", iok).field("by", iwhy).end_object();
      j.end_object();
    }
    j.end_array().end_object();
    j.flush();
    std::cout << '\n';
    return 0;
  }
  std::cout << Tsafe{sname} << " => " << Tsafe{dname} << " : " << e.allowed.analyzer_str() << "\n";
  for (const Segment& s : segs) {
    auto [eok, ewhy] = side(e.egress_decisions, s.eg, true, src.ip);
    auto [iok, iwhy] = side(e.ingress_decisions, s.ing, false, dst.ip);
    std::string ports = s.lo == s.hi ? std::to_string(s.lo) : std::to_string(s.lo) + "-" + std::to_string(s.hi);
    std::cout << "  " << netpol::to_string(s.proto) << ' ' << ports << ": " << (eok && iok ? "ALLOWED" : "DENIED") << '\n'
              << "    egress  " << (eok ? "allows" : "denies") << ": " << Tsafe{ewhy} << '\n'
              << "    ingress " << (iok ? "allows" : "denies") << ": " << Tsafe{iwhy} << '\n';
  }
  return 0;
}

}  // namespace

int netpol_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kHelp;
    return args.empty() ? 2 : 0;
  }
  Options o;
  o.command = args[0];
  std::string error;
  if (!parse_options(args, 1, o, error)) {
    if (error.empty()) return 0;  // --help
    std::cerr << "kguard netpol: " << error << '\n';
    return 2;
  }
  static const std::set<std::string> kListFormats = {"text", "json", "csv", "markdown", "md", "dot", "html", "netpol-analyzer"};
  if (o.format == "md") o.format = "markdown";
  if (o.command == "list") {
    if (!kListFormats.count(o.format)) {
      std::cerr << "kguard netpol list: unknown format '" << o.format
                << "' (text, json, csv, markdown, dot, html, netpol-analyzer)\n";
      return 2;
    }
    NetpolLoad load;
    if (!load_netpol_input(o.paths, o.cluster, o.quiet, load)) return 2;
    Analysis a(load.input);
    if (!write_list(a, o, std::cout, error)) {
      std::cerr << "kguard netpol: " << error << '\n';
      return 2;
    }
    return load.input.errors.empty() ? 0 : 1;
  }
  if (o.command == "explain") {
    if (o.paths.size() < 2) {
      std::cerr << "kguard netpol explain: needs SRC and DST\n";
      return 2;
    }
    if (o.format != "text" && o.format != "json") {
      std::cerr << "kguard netpol explain: unknown format '" << o.format << "' (text, json)\n";
      return 2;
    }
    const std::string src = o.paths[0], dst = o.paths[1];
    std::vector<std::string> paths(o.paths.begin() + 2, o.paths.end());
    NetpolLoad load;
    if (!load_netpol_input(paths, o.cluster, o.quiet, load)) return 2;
    Analysis a(load.input);
    std::string why;
    auto s = a.find_peer(src, why);
    if (!s) {
      std::cerr << "kguard netpol explain: " << why << '\n';
      return 2;
    }
    auto d = a.find_peer(dst, why);
    if (!d) {
      std::cerr << "kguard netpol explain: " << why << '\n';
      return 2;
    }
    explain(a, *s, *d, o);
    return load.input.errors.empty() ? 0 : 1;
  }
  if (o.command == "exposure") return netpol_exposure(o.paths, o.cluster, o.quiet, o.format);
  if (o.command == "diff") return netpol_diff(o.paths, o.cluster, o.quiet, o.format);
  std::cerr << "kguard netpol: unknown command '" << o.command << "' (list, explain, exposure, diff)\n";
  return 2;
}

}  // namespace kg::cli
