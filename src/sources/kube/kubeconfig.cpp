#include "sources/kube/kubeconfig.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace kg::kube {
namespace fs = std::filesystem;

std::string ClientConfig::describe() const {
  std::string s = server;
  if (!context.empty()) s += " (context " + context + ")";
  std::string how;
  if (exec) how = "exec plugin " + exec->command;
  else if (!client_cert_file.empty() || !client_cert_pem.empty()) how = "client certificate";
  else if (!token_file.empty()) how = "token file";
  else if (!token.empty()) how = "bearer token";
  else if (!username.empty()) how = "basic auth";
  else how = "anonymous";
  return s + " as " + how;
}

namespace {

struct NamedEntry {
  const Node* body = nullptr;  // the cluster/user/context map
  const Node* at = nullptr;    // the list element, for locations
  std::string file;
};

struct Merged {
  std::vector<std::unique_ptr<SourceFile>> sources;
  std::map<std::string, NamedEntry, std::less<>> clusters, users, contexts;
  std::string current_context;
};

class Resolver {
 public:
  explicit Resolver(std::vector<InputError>& errors) : errors_(errors) {}

  void add_text(const std::string& name, std::string text, Merged& merged) {
    auto file = std::make_unique<SourceFile>();
    file->path = name;
    file->content = std::move(text);
    load_documents(*file);
    for (const InputError& e : file->errors) errors_.push_back(e);
    if (!file->errors.empty()) return;
    const SourceFile& f = *file;
    merged.sources.push_back(std::move(file));
    if (f.documents.empty() || !f.documents[0].root || f.documents[0].root->is_null()) return;
    const Node* root = f.documents[0].root;
    if (!root->is_map()) {
      bad(f.path, root, "a kubeconfig must be a mapping (apiVersion: v1, kind: Config)");
      return;
    }
    if (const Node* k = root->get("kind"); k && !k->is_null() && k->str() != "Config")
      bad(f.path, k, "kind must be Config, not '" + std::string(k->str()) + "'");
    collect(f.path, root, "clusters", "cluster", merged.clusters);
    collect(f.path, root, "users", "user", merged.users);
    collect(f.path, root, "contexts", "context", merged.contexts);
    if (merged.current_context.empty()) {
      if (const Node* cc = root->get("current-context"); cc && cc->is_scalar())
        merged.current_context = std::string(cc->str());
    }
  }

  std::optional<ClientConfig> resolve(Merged& m, const std::string& wanted) {
    if (!errors_.empty()) return std::nullopt;
    const std::string name = wanted.empty() ? m.current_context : wanted;
    if (name.empty()) {
      errors_.push_back({origin(m), 0, 0,
                         "no current-context in the kubeconfig; pass --context NAME"});
      return std::nullopt;
    }
    auto ctx = m.contexts.find(name);
    if (ctx == m.contexts.end()) {
      errors_.push_back({origin(m), 0, 0, "context '" + name + "' not found in the kubeconfig"});
      return std::nullopt;
    }
    ClientConfig c;
    c.context = name;
    c.origin = origin(m);
    const NamedEntry& ce = ctx->second;
    const std::string cluster_name(str(get(ce.body, "cluster")));
    const std::string user_name(str(get(ce.body, "user")));
    c.namespace_ = std::string(str(get(ce.body, "namespace")));
    auto cl = m.clusters.find(cluster_name);
    if (cluster_name.empty() || cl == m.clusters.end()) {
      bad(ce.file, ce.at,
          "context '" + name + "': cluster '" + cluster_name + "' not found in the kubeconfig");
      return std::nullopt;
    }
    cluster(cl->second, c);
    if (!user_name.empty()) {
      auto u = m.users.find(user_name);
      if (u == m.users.end()) {
        bad(ce.file, ce.at, "context '" + name + "': user '" + user_name + "' not found in the kubeconfig");
        return std::nullopt;
      }
      user(u->second, c);
    }
    if (!ok_) return std::nullopt;
    return c;
  }

 private:
  void bad(const std::string& file, const Node* at, std::string message) {
    errors_.push_back({file, at ? at->line : 0, at ? at->column : 0, std::move(message)});
    ok_ = false;
  }

  static std::string origin(const Merged& m) {
    std::string s;
    for (const auto& f : m.sources) s += (s.empty() ? "" : ":") + f->path;
    return s.empty() ? "kubeconfig" : s;
  }

  void collect(const std::string& file, const Node* root, std::string_view list,
               std::string_view body_key, std::map<std::string, NamedEntry, std::less<>>& into) {
    const Node* seq = root->get(list);
    if (!seq || seq->is_null()) return;
    if (!seq->is_seq()) {
      bad(file, seq, std::string(list) + " must be a list");
      return;
    }
    for (const Node* e : seq->items()) {
      const Node* name = get(e, "name");
      const Node* body = get(e, body_key);
      if (!e->is_map() || !name || !name->is_scalar() || name->str().empty()) {
        bad(file, e, std::string(list) + ": every entry needs a name");
        continue;
      }
      if (!body || !body->is_map()) {
        bad(file, e, std::string(list) + "[" + std::string(name->str()) + "]: missing " +
                         std::string(body_key) + " mapping");
        continue;
      }
      // The first file (and first entry) to define a name wins, as in kubectl.
      into.try_emplace(std::string(name->str()), NamedEntry{body, e, file});
    }
  }

  // A path from a kubeconfig is relative to the file's directory.
  static std::string relative_to(const std::string& file, std::string_view p) {
    fs::path path{std::string(p)};
    if (path.is_absolute() || p.empty()) return std::string(p);
    std::string expanded(p);
    if (expanded.rfind("~/", 0) == 0)
      if (const char* home = std::getenv("HOME")) return std::string(home) + expanded.substr(1);
    return (fs::path(file).parent_path() / path).lexically_normal().string();
  }

  std::string scalar(const std::string& file, const Node* body, std::string_view key) {
    const Node* n = get(body, key);
    if (!n || n->is_null()) return {};
    if (!n->is_scalar()) {
      bad(file, n, std::string(key) + " must be a string");
      return {};
    }
    return std::string(n->str());
  }

  std::string data(const std::string& file, const Node* body, std::string_view key) {
    const Node* n = get(body, key);
    const std::string raw = scalar(file, body, key);
    if (raw.empty()) return {};
    auto decoded = base64_decode(raw);
    if (!decoded) {
      bad(file, n, std::string(key) + " is not valid base64");
      return {};
    }
    return *decoded;
  }

  void cluster(const NamedEntry& e, ClientConfig& c) {
    const std::string& f = e.file;
    c.server = scalar(f, e.body, "server");
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    if (c.server.empty()) {
      bad(f, e.at, "cluster has no server");
    } else if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0) {
      bad(f, get(e.body, "server"), "server must be an http:// or https:// URL");
    }
    c.ca_pem = data(f, e.body, "certificate-authority-data");
    if (std::string ca = scalar(f, e.body, "certificate-authority"); !ca.empty() && c.ca_pem.empty())
      c.ca_file = relative_to(f, ca);
    if (const Node* insecure = get(e.body, "insecure-skip-tls-verify")) {
      auto b = insecure->as_bool();
      if (!b) bad(f, insecure, "insecure-skip-tls-verify must be true or false");
      c.insecure_skip_tls_verify = b.value_or(false);
    }
    c.proxy_url = scalar(f, e.body, "proxy-url");
    if (get(e.body, "tls-server-name"))
      bad(f, get(e.body, "tls-server-name"), "tls-server-name is not supported by kguard yet");
  }

  void user(const NamedEntry& e, ClientConfig& c) {
    const std::string& f = e.file;
    c.client_cert_pem = data(f, e.body, "client-certificate-data");
    c.client_key_pem = data(f, e.body, "client-key-data");
    if (std::string p = scalar(f, e.body, "client-certificate"); !p.empty() && c.client_cert_pem.empty())
      c.client_cert_file = relative_to(f, p);
    if (std::string p = scalar(f, e.body, "client-key"); !p.empty() && c.client_key_pem.empty())
      c.client_key_file = relative_to(f, p);
    const bool has_cert = !c.client_cert_pem.empty() || !c.client_cert_file.empty();
    const bool has_key = !c.client_key_pem.empty() || !c.client_key_file.empty();
    if (has_cert != has_key) {
      bad(f, e.body,
          has_cert ? "client certificate given without client-key or client-key-data"
                   : "client key given without client-certificate or client-certificate-data");
    }
    c.token = scalar(f, e.body, "token");
    if (std::string p = scalar(f, e.body, "tokenFile"); !p.empty()) c.token_file = relative_to(f, p);
    c.username = scalar(f, e.body, "username");
    c.password = scalar(f, e.body, "password");
    if (const Node* ap = get(e.body, "auth-provider"); ap && !ap->is_null())
      bad(f, ap, "auth-provider plugins were removed from Kubernetes; use an exec plugin");
    const Node* ex = get(e.body, "exec");
    if (!ex || ex->is_null()) return;
    if (!ex->is_map()) {
      bad(f, ex, "exec must be a mapping");
      return;
    }
    ExecPlugin p;
    p.origin = f + ":" + std::to_string(ex->line);
    p.api_version = scalar(f, ex, "apiVersion");
    if (p.api_version != "client.authentication.k8s.io/v1" &&
        p.api_version != "client.authentication.k8s.io/v1beta1") {
      bad(f, get(ex, "apiVersion") ? get(ex, "apiVersion") : ex,
          "exec.apiVersion must be client.authentication.k8s.io/v1 or v1beta1");
    }
    p.command = scalar(f, ex, "command");
    if (p.command.empty()) bad(f, ex, "exec.command is required");
    // client-go: a relative command containing a path separator is relative
    // to the kubeconfig; a bare name is looked up in PATH.
    if (p.command.find('/') != std::string::npos) p.command = relative_to(f, p.command);
    p.install_hint = scalar(f, ex, "installHint");
    if (const Node* args = get(ex, "args"); args && !args->is_null()) {
      if (!args->is_seq()) bad(f, args, "exec.args must be a list of strings");
      for (const Node* a : args->items()) {
        if (!a->is_scalar()) bad(f, a, "exec.args must be a list of strings");
        else p.args.emplace_back(a->str());
      }
    }
    if (const Node* env = get(ex, "env"); env && !env->is_null()) {
      if (!env->is_seq()) bad(f, env, "exec.env must be a list of {name, value}");
      for (const Node* v : env->items()) {
        const Node* name = get(v, "name");
        if (!name || !name->is_scalar() || name->str().empty()) {
          bad(f, v, "exec.env entries need a name");
          continue;
        }
        p.env.emplace_back(std::string(name->str()), std::string(str(get(v, "value"))));
      }
    }
    c.exec = std::move(p);
  }

  std::vector<InputError>& errors_;
  bool ok_ = true;
};

}  // namespace

std::vector<std::string> kubeconfig_files(const KubeconfigOptions& options) {
  if (!options.kubeconfig.empty()) return {options.kubeconfig};
  std::vector<std::string> files;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string_view s(env);
    while (!s.empty()) {
      auto colon = s.find(':');
      std::string_view part = s.substr(0, colon);
      if (!part.empty() && std::find(files.begin(), files.end(), part) == files.end())
        files.emplace_back(part);
      if (colon == std::string_view::npos) break;
      s.remove_prefix(colon + 1);
    }
    return files;
  }
  if (const char* home = std::getenv("HOME")) {
    std::string p = std::string(home) + "/.kube/config";
    std::error_code ec;
    if (fs::exists(p, ec)) files.push_back(p);
  }
  return files;
}

std::optional<ClientConfig> load_kubeconfig(const std::vector<std::string>& files,
                                            const std::string& context,
                                            std::vector<InputError>& errors) {
  Merged merged;
  Resolver r(errors);
  for (const std::string& path : files) {
    std::string text;
    if (!read_file(path, text)) {
      // kubectl skips missing entries of a $KUBECONFIG list but not a
      // single explicit file.
      if (files.size() == 1) errors.push_back({path, 0, 0, "cannot read kubeconfig"});
      continue;
    }
    r.add_text(path, std::move(text), merged);
  }
  if (merged.sources.empty() && errors.empty()) {
    errors.push_back({files.empty() ? "kubeconfig" : files[0], 0, 0, "no readable kubeconfig file"});
    return std::nullopt;
  }
  return r.resolve(merged, context);
}

std::optional<ClientConfig> load_kubeconfig_text(const std::string& name, std::string text,
                                                 const std::string& context,
                                                 std::vector<InputError>& errors) {
  Merged merged;
  Resolver r(errors);
  r.add_text(name, std::move(text), merged);
  return r.resolve(merged, context);
}

std::optional<ClientConfig> in_cluster_config(std::vector<InputError>& errors, const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    errors.push_back({"in-cluster", 0, 0,
                      "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                      "are not set, and no kubeconfig was found"});
    return std::nullopt;
  }
  std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  if (const char* d = std::getenv("KGUARD_SERVICEACCOUNT_DIR"); d && *d) dir = d;
  if (!sa_dir.empty()) dir = sa_dir;
  ClientConfig c;
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  c.server = "https://" + h + ":" + port;
  c.token_file = dir + "/token";
  c.ca_file = dir + "/ca.crt";
  c.context = "in-cluster";
  c.origin = dir;
  std::string ns;
  if (read_file(dir + "/namespace", ns)) {
    while (!ns.empty() && (ns.back() == '\n' || ns.back() == ' ')) ns.pop_back();
    c.namespace_ = ns;
  }
  std::error_code ec;
  if (!fs::exists(c.token_file, ec)) {
    errors.push_back({c.token_file, 0, 0, "in-cluster: service account token not found"});
    return std::nullopt;
  }
  return c;
}

std::optional<ClientConfig> resolve_client_config(const KubeconfigOptions& options,
                                                  std::vector<InputError>& errors) {
  std::vector<std::string> files = kubeconfig_files(options);
  if (files.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    if (host && *host) return in_cluster_config(errors, options.serviceaccount_dir);
    errors.push_back({"kubeconfig", 0, 0,
                      "no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, "
                      "or run inside a pod"});
    return std::nullopt;
  }
  return load_kubeconfig(files, options.context, errors);
}

}  // namespace kg::kube
