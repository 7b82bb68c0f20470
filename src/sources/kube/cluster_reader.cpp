#include "sources/kube/cluster_reader.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/clock.hpp"
#include "core/cluster_json.hpp"

namespace kg::kube {
namespace {

struct ApiResource {
  std::string group_version;  // v1, apps/v1
  std::string resource;       // deployments
  bool namespaced = true;
};

std::string collection_base(const std::string& gv) {
  return gv == "v1" ? "/api/v1" : "/apis/" + gv;
}

// Writes a loaded JSON node back as JSON (strings were unescaped by the
// loader and are escaped again; numbers, booleans and null stay as written).
void append_json(std::string& out, const Node& n) {
  switch (n.type) {
    case NodeType::Null: out += "null"; break;
    case NodeType::Scalar:
      if (n.quoted) JsonWriter::escape(out, n.text());
      else out += n.text();
      break;
    case NodeType::Map: {
      out += '{';
      bool first = true;
      for (const MapEntry& e : n.entries()) {
        if (!first) out += ',';
        first = false;
        JsonWriter::escape(out, e.key->text());
        out += ':';
        append_json(out, *e.value);
      }
      out += '}';
      break;
    }
    case NodeType::Seq: {
      out += '[';
      bool first = true;
      for (const Node* i : n.items()) {
        if (!first) out += ',';
        first = false;
        append_json(out, *i);
      }
      out += ']';
      break;
    }
  }
}

// One listed object as a snapshot item: apiVersion and kind first (list
// responses omit them on items), without metadata.managedFields (bookkeeping
// no rule reads), and with Secret values blanked: the snapshot is a file
// people pass around, and no rule reads a Secret's values.
void append_item(std::string& out, const Node& item, const std::string& api_version,
                 const std::string& kind) {
  out += "{\"apiVersion\":";
  JsonWriter::escape(out, api_version);
  out += ",\"kind\":";
  JsonWriter::escape(out, kind);
  const bool secret = kind == "Secret" && api_version == "v1";
  for (const MapEntry& e : item.entries()) {
    const std::string_view key = e.key->text();
    if (key == "apiVersion" || key == "kind") continue;
    out += ',';
    JsonWriter::escape(out, key);
    out += ':';
    if (key == "metadata" && e.value->is_map()) {
      out += '{';
      bool first = true;
      for (const MapEntry& m : e.value->entries()) {
        if (m.key->text() == "managedFields") continue;
        if (!first) out += ',';
        first = false;
        JsonWriter::escape(out, m.key->text());
        out += ':';
        append_json(out, *m.value);
      }
      out += '}';
    } else if (secret && (key == "data" || key == "stringData") && e.value->is_map()) {
      out += '{';
      bool first = true;
      for (const MapEntry& m : e.value->entries()) {
        if (!first) out += ',';
        first = false;
        JsonWriter::escape(out, m.key->text());
        out += ":\"\"";
      }
      out += '}';
    } else {
      append_json(out, *e.value);
    }
  }
  out += '}';
}

struct Task {
  std::string kind;
  ApiResource api;
  std::string ns;         // "" = all namespaces or cluster-scoped
  bool get_one = false;   // GET one object (a Namespace in scope) instead of a list
  std::string get_path;   // get_one: this path instead of the Namespace's
  std::string item_kind;  // the kind written on items when not `kind` (kubeadm-config: a ConfigMap)
  bool absent_ok = false; // get_one: 404 is an empty answer (a cluster kubeadm did not make)
  bool keep = true;       // false: counted only (Nodes)
  std::string items;      // serialized items joined by ",\n"
  std::uint64_t count = 0;
  bool ok = false;
  Response failure;
};

// Runs fn(client, i) for i in [0, n) on up to `parallel` clients.
void parallel_for(const std::shared_ptr<const Session>& session, std::size_t n, unsigned parallel,
                  const std::function<void(Client&, std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    Client client(session);
    for (std::size_t i; (i = next.fetch_add(1)) < n;) fn(client, i);
  };
  const unsigned threads = std::max(1u, std::min<unsigned>(parallel, static_cast<unsigned>(n)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

template <typename F>
bool parse_json(const std::string& name, std::string text, F&& use) {
  SourceFile file;
  file.path = name;
  file.content = std::move(text);
  load_documents(file);
  if (!file.errors.empty() || file.documents.empty() || !file.documents[0].root) return false;
  use(*file.documents[0].root);
  return true;
}

std::string fatal_message(const Response& r, const std::string& server, std::string_view what) {
  if (r.status == 0) return r.error.empty() ? "cannot reach " + server : r.error;
  if (r.status == 401) {
    return "the API server at " + server +
           " rejected the credentials (401 Unauthorized) when reading " + std::string(what);
  }
  return "reading " + std::string(what) + " from " + server + " failed: " + r.error;
}

}  // namespace

std::vector<std::string> counted_kinds() { return {"Namespace", "Node", "Pod"}; }

std::string snapshot_header(const ClusterInfo& c) {
  std::ostringstream s;
  {
    JsonWriter w(s);
    w.begin_object();
    write_cluster_facts(w, c);
    w.key("coverage").begin_array();
    for (const CoverageGap& g : c.coverage) write_coverage_gap(w, g);
    w.end_array();
    w.end_object();
  }
  return R"({"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"kguardSnapshot":)" +
         s.str() + R"(,"items":[)";
}

std::optional<ClusterInfo> peek_snapshot(const std::string& path) {
  // Only a regular file's first line, and only so much of it: /dev/zero or
  // a FIFO given as a path must not be read here (the scan refuses them).
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  constexpr std::string_view kStart = R"({"apiVersion":"v1","kind":"List",)";
  constexpr std::size_t kMaxLine = std::size_t{1} << 20;
  std::string line;
  for (char c; line.size() <= kMaxLine && in.get(c) && c != '\n';) line += c;
  if (line.size() > kMaxLine) return std::nullopt;
  constexpr std::string_view kEnd = R"("items":[)";
  if (line.rfind(kStart, 0) != 0 || line.size() < kEnd.size() ||
      line.compare(line.size() - kEnd.size(), kEnd.size(), kEnd) != 0)
    return std::nullopt;
  std::optional<ClusterInfo> info;
  std::vector<InputError> ignored;  // the scan itself reports them
  parse_json(path, line + "]}", [&](const Node& root) {
    if (const Node* s = get(&root, "kguardSnapshot")) info = parse_cluster_info(path, *s, ignored);
  });
  return info;
}

ClusterRead read_cluster(const std::shared_ptr<const Session>& session, const ReadOptions& options,
                         const std::function<void(const ReadProgress&)>& progress) {
  ClusterRead out;
  ClusterInfo& info = out.info;
  const ClientConfig& cfg = session->config();
  info.server = cfg.server;
  info.context = cfg.context;
  info.namespaces = options.namespaces;
  info.read_at = utc_now_rfc3339();

  Client client(session);
  Response version = client.get("/version");
  if (!version.ok()) {
    out.error = fatal_message(version, cfg.server, "/version");
    return out;
  }
  parse_json("/version", version.body, [&](const Node& root) {
    info.server_version = std::string(str(get(&root, "gitVersion")));
  });

  // Discovery: the core group, then every group at its preferred version.
  Response core = client.get("/api/v1");
  if (!core.ok()) {
    out.error = fatal_message(core, cfg.server, "API discovery (/api/v1)");
    return out;
  }
  Response groups = client.get("/apis");
  if (!groups.ok()) {
    out.error = fatal_message(groups, cfg.server, "API discovery (/apis)");
    return out;
  }
  std::vector<std::string> group_versions{"v1"};
  parse_json("/apis", groups.body, [&](const Node& root) {
    // Each group at its preferred version first, then its other versions: a
    // group's CRDs need not share a version (Linkerd's Server is v1beta3, its
    // AuthorizationPolicy v1alpha1), and a version lists only its own kinds.
    for (const Node* g : items(get(&root, "groups"))) {
      std::string gv(str(get(get(g, "preferredVersion"), "groupVersion")));
      if (!gv.empty()) group_versions.push_back(gv);
      for (const Node* v : items(get(g, "versions"))) {
        std::string other(str(get(v, "groupVersion")));
        if (!other.empty() && other != gv) group_versions.push_back(std::move(other));
      }
    }
  });
  std::vector<std::string> bodies(group_versions.size());
  bodies[0] = std::move(core.body);
  std::vector<Response> discovery_failures(group_versions.size());
  parallel_for(session, group_versions.size() - 1, options.parallel, [&](Client& c, std::size_t i) {
    Response r = c.get("/apis/" + group_versions[i + 1]);
    if (r.ok()) bodies[i + 1] = std::move(r.body);
    else discovery_failures[i + 1] = std::move(r);
  });
  // The groups serving each kind, discovery order. A kind two API groups
  // define (Istio's and Linkerd's AuthorizationPolicy) is listed from each;
  // a built-in kind served again by a *.k8s.io group (Event in v1 and
  // events.k8s.io) is the same objects twice: the first group wins.
  std::map<std::string, std::vector<ApiResource>, std::less<>> by_kind;
  auto group_of = [](const std::string& gv) {
    return gv.find('/') == std::string::npos ? std::string() : gv.substr(0, gv.find('/'));
  };
  auto builtin_group = [&](const std::string& gv) {
    const std::string group = group_of(gv);
    return group.empty() || group.ends_with(".k8s.io") || group.find('.') == std::string::npos;
  };
  for (std::size_t i = 0; i < group_versions.size(); ++i) {
    parse_json(group_versions[i], std::move(bodies[i]), [&](const Node& root) {
      for (const Node* r : items(get(&root, "resources"))) {
        const std::string name(str(get(r, "name")));
        if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
        bool can_list = false;
        for (const Node* v : items(get(r, "verbs"))) can_list = can_list || str(v) == "list";
        if (!can_list) continue;
        std::vector<ApiResource>& served = by_kind[std::string(str(get(r, "kind")))];
        const std::string group = group_of(group_versions[i]);
        if (std::any_of(served.begin(), served.end(),
                        [&](const ApiResource& a) { return group_of(a.group_version) == group; }))
          continue;  // another version of the same group: the preferred one came first
        if (!served.empty() && builtin_group(group_versions[i])) continue;
        if (!served.empty() && builtin_group(served.front().group_version)) continue;
        served.push_back(ApiResource{group_versions[i], name, is_true(get(r, "namespaced"))});
      }
    });
  }

  // The kinds to read, in a stable order: as given, without repeats.
  std::vector<std::string> kinds;
  for (const std::string& k : options.kinds)
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  std::vector<Task> tasks;
  const bool lists_kube_system_config_maps =
      std::find(kinds.begin(), kinds.end(), "ConfigMap") != kinds.end() &&
      (options.namespaces.empty() ||
       std::find(options.namespaces.begin(), options.namespaces.end(), "kube-system") != options.namespaces.end());
  for (const std::string& kind : kinds) {
    auto it = by_kind.find(kind);
    if (it == by_kind.end() && kind == "ClusterConfiguration") {
      // No API serves it: kubeadm keeps it as text in the ConfigMap kube-system/kubeadm-config, which
      // the scan unpacks (core/kubeadm_config). Read that one ConfigMap unless ConfigMaps of
      // kube-system are listed anyway; out of a namespace scope without kube-system it is not read.
      auto cm = by_kind.find("ConfigMap");
      const bool in_scope = options.namespaces.empty() ||
                            std::find(options.namespaces.begin(), options.namespaces.end(), "kube-system") !=
                                options.namespaces.end();
      if (cm != by_kind.end() && in_scope) {
        if (lists_kube_system_config_maps) continue;
        Task t;
        t.kind = kind;
        t.item_kind = "ConfigMap";
        t.api = cm->second.front();
        t.ns = "kube-system";
        t.get_one = true;
        t.get_path = "/api/v1/namespaces/kube-system/configmaps/kubeadm-config";
        t.absent_ok = true;
        tasks.push_back(std::move(t));
        continue;
      }
    }
    if (it == by_kind.end()) {
      info.kinds_not_served.push_back(kind);
      continue;
    }
    for (const ApiResource& api : it->second) {
      Task t;
      t.kind = kind;
      t.api = api;
      t.keep = kind != "Node";
      if (api.namespaced && !options.namespaces.empty()) {
        for (const std::string& ns : options.namespaces) {
          t.ns = ns;
          tasks.push_back(t);
        }
      } else if (kind == "Namespace" && !options.namespaces.empty()) {
        // Only the namespaces in scope: GET each rather than list all.
        for (const std::string& ns : options.namespaces) {
          t.ns = ns;
          t.get_one = true;
          tasks.push_back(t);
        }
      } else {
        tasks.push_back(t);
      }
    }
  }

  std::mutex progress_mutex;
  std::uint64_t listed_so_far = 0;
  std::size_t done = 0;
  parallel_for(session, tasks.size(), options.parallel, [&](Client& c, std::size_t i) {
    Task& t = tasks[i];
    const std::string base = collection_base(t.api.group_version);
    auto take = [&](const Node& item) {
      ++t.count;
      if (!t.keep) return;
      if (!t.items.empty()) t.items += ",\n";
      append_item(t.items, item, t.api.group_version, t.item_kind.empty() ? t.kind : t.item_kind);
    };
    if (t.get_one) {
      Response r = c.get(t.get_path.empty() ? base + "/" + t.api.resource + "/" + t.ns : t.get_path);
      if (t.absent_ok && r.status == 404) {
        t.ok = true;
      } else if (r.ok()) {
        t.ok = parse_json(t.ns, std::move(r.body), take);
        if (!t.ok) t.failure.error = "unexpected response: not JSON";
      } else {
        t.failure = std::move(r);
      }
    } else {
      const std::string path =
          t.ns.empty() ? base + "/" + t.api.resource : base + "/namespaces/" + t.ns + "/" + t.api.resource;
      Response r = c.list(path, options.page_size, take);
      t.ok = r.ok();
      if (!t.ok) {
        t.failure = std::move(r);
        t.items.clear();  // a partial list would make the report look complete
        t.count = 0;
      }
    }
    if (!progress) return;
    std::lock_guard lock(progress_mutex);
    listed_so_far += t.count;
    ReadProgress p;
    p.done = ++done;
    p.total = tasks.size();
    p.objects = listed_so_far;
    p.what = t.kind + (t.ns.empty() ? std::string() : " in " + t.ns);
    p.listed = t.count;
    p.failed = !t.ok;
    progress(p);
  });

  // Counts are known only when every list they need succeeded.
  auto count_of = [&](std::string_view kind) -> std::optional<std::uint64_t> {
    std::uint64_t n = 0;
    bool seen = false;
    for (const Task& t : tasks) {
      if (t.kind != kind) continue;
      if (!t.ok) return std::nullopt;
      seen = true;
      n += t.count;
    }
    if (!seen) return std::nullopt;
    return n;
  };
  info.nodes = count_of("Node");
  info.namespace_count = count_of("Namespace");
  info.pods = count_of("Pod");

  std::size_t unreachable = 0;
  for (Task& t : tasks) {
    if (t.ok) continue;
    if (t.failure.status == 401) {
      out.error = fatal_message(t.failure, cfg.server, t.api.resource);
      return out;
    }
    if (t.failure.status == 0) ++unreachable;
    CoverageGap g;
    g.kind = t.kind;
    g.api_version = t.api.group_version;
    g.resource = t.api.resource;
    g.ns = t.ns;
    g.reason = !t.failure.reason.empty() ? t.failure.reason
               : t.failure.status == 0   ? "Error"
                                         : "HTTP " + std::to_string(t.failure.status);
    g.message = t.failure.error;
    if (options.rules_for_kind) g.rules = options.rules_for_kind(t.kind);
    info.coverage.push_back(std::move(g));
  }
  if (!tasks.empty() && unreachable == tasks.size()) {
    out.error = tasks.front().failure.error;
    return out;
  }

  out.snapshot = snapshot_header(info);
  out.snapshot += '\n';
  bool first = true;
  for (Task& t : tasks) {
    out.objects += t.keep ? t.count : 0;
    if (t.items.empty()) continue;
    if (!first) out.snapshot += ",\n";
    first = false;
    out.snapshot += t.items;
    std::string().swap(t.items);
  }
  out.snapshot += "\n]}\n";
  return out;
}

}  // namespace kg::kube
