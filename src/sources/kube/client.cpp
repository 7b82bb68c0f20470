#include "sources/kube/client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

extern char** environ;

namespace kg::kube {
namespace {

void trim(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
}

// Parses one JSON value held in `text` and hands its root to `use`.
template <typename F>
bool with_json(std::string name, std::string text, F&& use) {
  SourceFile file;
  file.path = std::move(name);
  file.content = std::move(text);
  load_documents(file);
  if (!file.errors.empty() || file.documents.empty() || !file.documents[0].root) return false;
  use(*file.documents[0].root);
  return true;
}

// Fills the error and reason of a failed response from its Status body.
void describe_failure(Response& r) {
  if (r.ok() || r.status == 0) return;
  std::string message;
  std::string reason;
  if (!r.body.empty() && r.body.front() == '{') {
    with_json("response", r.body, [&](const Node& root) {
      message = std::string(str(get(&root, "message")));
      reason = std::string(str(get(&root, "reason")));
    });
  }
  r.reason = reason;
  r.error = "HTTP " + std::to_string(r.status) + (message.empty() ? "" : ": " + message);
}

bool retryable_status(long s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

bool retryable_transport(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_RECV_ERROR ||
         c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE;
}

struct Transfer {
  std::string body;
  long retry_after = -1;  // seconds
  const std::function<bool(std::string_view)>* on_chunk = nullptr;
  bool aborted = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->on_chunk) {
    if (!(*t->on_chunk)(std::string_view(data, len))) {
      t->aborted = true;
      return 0;  // ends the transfer
    }
    return len;
  }
  t->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view h(data, size * n);
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (h.size() > kRetryAfter.size()) {
    std::string lower(h.substr(0, kRetryAfter.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == kRetryAfter) {
      long v = 0;
      bool digits = false;
      for (char c : h.substr(kRetryAfter.size())) {
        if (c >= '0' && c <= '9') {
          v = v * 10 + (c - '0');
          digits = true;
        } else if (digits) {
          break;
        }
      }
      if (digits) t->retry_after = v;
    }
  }
  return size * n;
}

std::once_flag curl_init;

// Appends the query separator for `path`.
std::string with_param(std::string_view path, std::string_view param) {
  std::string p(path);
  p += path.find('?') == std::string_view::npos ? '?' : '&';
  p += param;
  return p;
}

std::string url_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::optional<ExecCredential> run_exec_plugin(const ExecPlugin& plugin, const std::string& server,
                                              std::string& error) {
  // KUBERNETES_EXEC_INFO tells the plugin what client asks (client-go sends
  // the same; spec.cluster only with provideClusterInfo, which we do not).
  std::string info = R"({"apiVersion":")" + plugin.api_version +
                     R"(","kind":"ExecCredential","spec":{"interactive":false}})";
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    const std::string_view name = kv.substr(0, kv.find('='));
    bool overridden = name == "KUBERNETES_EXEC_INFO";
    for (const auto& [n, v] : plugin.env) overridden = overridden || n == name;
    if (!overridden) env_strings.emplace_back(kv);
  }
  for (const auto& [n, v] : plugin.env) env_strings.push_back(n + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + info);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{plugin.command};
  argv_strings.insert(argv_strings.end(), plugin.args.begin(), plugin.args.end());
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  if (pipe(out_pipe) != 0) {
    error = "exec plugin: cannot create a pipe";
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, out_pipe[1]);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, plugin.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    error = "exec plugin " + plugin.command + " (" + plugin.origin + "): " + std::strerror(rc);
    if (!plugin.install_hint.empty()) error += "; " + plugin.install_hint;
    return std::nullopt;
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      if (out.size() > (1u << 20)) break;  // an ExecCredential is small
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(out_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    error = "exec plugin " + plugin.command + " (" + plugin.origin + ") failed with " +
            (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                               : std::string("a signal"));
    return std::nullopt;
  }
  ExecCredential cred;
  std::string problem;
  const bool parsed = with_json(plugin.command + " output", out, [&](const Node& root) {
    if (str(get(&root, "kind")) != "ExecCredential") {
      problem = "its output is not an ExecCredential";
      return;
    }
    if (str(get(&root, "apiVersion")) != plugin.api_version) {
      problem = "its output's apiVersion is not " + plugin.api_version;
      return;
    }
    const Node* st = get(&root, "status");
    cred.token = std::string(str(get(st, "token")));
    cred.cert_pem = std::string(str(get(st, "clientCertificateData")));
    cred.key_pem = std::string(str(get(st, "clientKeyData")));
    if (cred.token.empty() && (cred.cert_pem.empty() || cred.key_pem.empty()))
      problem = "its ExecCredential has neither status.token nor a client certificate and key";
  });
  if (!parsed) problem = "its output is not valid JSON";
  if (!problem.empty()) {
    error = "exec plugin " + plugin.command + " (" + plugin.origin + "): " + problem;
    return std::nullopt;
  }
  (void)server;
  return cred;
}

bool Session::obtain(Credentials& c, std::string& error) const {
  auto load = [&](const std::string& pem, const std::string& file, std::string& into,
                  const char* what) {
    if (!pem.empty()) {
      into = pem;
      return true;
    }
    if (file.empty()) return true;
    if (!read_file(file, into)) {
      error = std::string("cannot read ") + what + " " + file;
      return false;
    }
    return true;
  };
  if (!load(config_.client_cert_pem, config_.client_cert_file, c.cert_pem, "client certificate") ||
      !load(config_.client_key_pem, config_.client_key_file, c.key_pem, "client key"))
    return false;
  if (!config_.token_file.empty()) {
    if (!read_file(config_.token_file, c.token)) {
      error = "cannot read token file " + config_.token_file;
      return false;
    }
    trim(c.token);
  } else {
    c.token = config_.token;
  }
  if (config_.exec) {
    auto cred = run_exec_plugin(*config_.exec, config_.server, error);
    if (!cred) return false;
    if (!cred->token.empty()) c.token = cred->token;
    if (!cred->cert_pem.empty()) {
      c.cert_pem = cred->cert_pem;
      c.key_pem = cred->key_pem;
    }
  }
  return true;
}

std::shared_ptr<const Session> Session::connect(const ClientConfig& config, ClientOptions options,
                                                std::string& error) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto s = std::make_shared<Session>();
  s->config_ = config;
  s->options_ = std::move(options);
  if (!config.ca_pem.empty()) {
    s->ca_pem_ = config.ca_pem;
  } else if (!config.ca_file.empty() && !read_file(config.ca_file, s->ca_pem_)) {
    error = "cannot read certificate authority " + config.ca_file;
    return nullptr;
  }
  auto creds = std::make_shared<Credentials>();
  if (!s->obtain(*creds, error)) return nullptr;
  s->credentials_ = std::move(creds);
  return s;
}

std::shared_ptr<const Credentials> Session::credentials() const {
  std::lock_guard lock(mutex_);
  return credentials_;
}

bool Session::refresh(std::uint64_t generation) const {
  if (!config_.exec && config_.token_file.empty()) return false;
  std::lock_guard lock(mutex_);
  if (credentials_->generation != generation) return true;  // another thread refreshed
  auto fresh = std::make_shared<Credentials>();
  std::string error;
  if (!obtain(*fresh, error)) return false;
  fresh->generation = generation + 1;
  credentials_ = std::move(fresh);
  return true;
}

Client::Client(std::shared_ptr<const Session> session) : session_(std::move(session)) {
  curl_ = curl_easy_init();
}

Client::~Client() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Response Client::perform(std::string_view path, bool streaming,
                         const std::function<bool(std::string_view)>* on_chunk) {
  const Session& s = *session_;
  const ClientConfig& c = s.config();
  const ClientOptions& o = s.options();
  Response r;
  CURL* h = static_cast<CURL*>(curl_);
  if (!h) {
    r.error = "cannot initialise libcurl";
    return r;
  }
  const std::string url = c.server + std::string(path);
  auto backoff = o.first_backoff;
  bool refreshed = false;
  for (int attempt = 0;; ++attempt) {
    const std::shared_ptr<const Credentials> creds = s.credentials();
    curl_easy_reset(h);
    Transfer t;
    t.on_chunk = on_chunk;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, o.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip when the server offers it
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
    if (!streaming) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.request_timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    // Like kubectl: verify unless the kubeconfig says insecure-skip-tls-verify.
    if (c.insecure_skip_tls_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!s.ca_pem().empty()) {
      curl_blob ca{const_cast<char*>(s.ca_pem().data()), s.ca_pem().size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (!creds->cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(creds->cert_pem.data()), creds->cert_pem.size(), CURL_BLOB_NOCOPY};
      curl_blob key{const_cast<char*>(creds->key_pem.data()), creds->key_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    }
    if (!c.proxy_url.empty()) curl_easy_setopt(h, CURLOPT_PROXY, c.proxy_url.c_str());
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (apply_body_) {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, apply_body_->data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(apply_body_->size()));
      headers = curl_slist_append(headers, "Content-Type: application/apply-patch+yaml");
    }
    std::string auth;
    if (!creds->token.empty()) {
      auth = "Authorization: Bearer " + creds->token;
      headers = curl_slist_append(headers, auth.c_str());
    } else if (!c.username.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, c.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, c.password.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    char curl_error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
    if (cancel_) {
      // libcurl calls this often during a transfer and about once a second
      // while waiting, so a blocked watch notices the flag.
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, cancel_);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, +[](void* flag, curl_off_t, curl_off_t, curl_off_t,
                                                        curl_off_t) -> int {
        return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
      });
    }
    const CURLcode code = curl_easy_perform(h);
    curl_slist_free_all(headers);
    std::fill(auth.begin(), auth.end(), '\0');
    r = Response{};
    r.attempts = attempt + 1;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    r.body = std::move(t.body);
    if (t.aborted) return r;  // the caller stopped a stream
    if (cancelled()) {
      r.status = 0;
      r.error = "cancelled";
      return r;
    }
    bool retry = false;
    long wait_ms = backoff.count();
    if (code != CURLE_OK) {
      r.status = r.status == 0 ? 0 : r.status;
      r.error = "cannot reach " + c.server + ": " +
                (curl_error[0] ? std::string(curl_error) : std::string(curl_easy_strerror(code)));
      retry = retryable_transport(code) && !streaming;
      if (code != CURLE_OK && r.status != 0 && !retryable_transport(code)) r.status = 0;
    } else if (r.status == 401 && !refreshed && s.refresh(creds->generation)) {
      // Expired or rotated credentials: fetch new ones once and try again now.
      refreshed = true;
      --attempt;
      continue;
    } else if (retryable_status(r.status)) {
      describe_failure(r);
      retry = true;
      if (t.retry_after >= 0) wait_ms = std::min<long>(t.retry_after * 1000, 10'000);
    } else {
      describe_failure(r);
    }
    if (!retry || attempt >= o.max_retries) {
      if (code != CURLE_OK) r.status = 0;
      return r;
    }
    // In slices, so that a cancelled client does not sit out a long Retry-After.
    for (auto left = std::chrono::milliseconds(wait_ms); left.count() > 0 && !cancelled();
         left -= std::chrono::milliseconds(50))
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
    if (cancelled()) {
      r.status = 0;
      r.error = "cancelled";
      return r;
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
  }
}

Response Client::get(std::string_view path) { return perform(path, false, nullptr); }

Response Client::apply(std::string_view path, std::string_view body) {
  apply_body_ = body;
  Response r = perform(path, false, nullptr);
  apply_body_.reset();
  return r;
}

Response Client::list(std::string_view path, std::size_t page_size, const ItemSink& on_item,
                      std::string* resource_version) {
  std::string cont;
  for (;;) {
    std::string p = with_param(path, "limit=" + std::to_string(page_size));
    if (!cont.empty()) p = with_param(p, "continue=" + url_escape(cont));
    Response r = get(p);
    if (!r.ok()) return r;
    SourceFile page;
    page.path = std::string(path);
    page.content = std::move(r.body);
    std::string next;
    bool saw_list = false;
    stream_documents(page, LoadLimits{}, [&](const Document& d) {
      if (d.list_index >= 0) {
        on_item(*d.root);
      } else {
        saw_list = kg::get(d.root, "items") != nullptr;
        const Node* meta = kg::get(d.root, "metadata");
        next = std::string(str(kg::get(meta, "continue")));
        if (resource_version) *resource_version = std::string(str(kg::get(meta, "resourceVersion")));
      }
    });
    if (!page.errors.empty() || !saw_list) {
      r.status = 0;
      r.error = "unexpected response to " + p + ": " +
                (page.errors.empty() ? std::string("not a list") : page.errors[0].message);
      return r;
    }
    r.body.clear();
    if (next.empty()) return r;
    cont = std::move(next);
  }
}

Response Client::watch(std::string_view path, const EventSink& on_event) {
  std::string pending;
  std::function<bool(std::string_view)> on_chunk = [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = pending.substr(start, nl - start);
      if (line.empty()) continue;
      bool keep = true;
      with_json("watch event", std::move(line), [&](const Node& ev) {
        const Node* obj = kg::get(&ev, "object");
        if (obj) keep = on_event(str(kg::get(&ev, "type")), *obj);
      });
      if (!keep) return false;
    }
    pending.erase(0, start);
    return true;
  };
  return perform(with_param(path, "watch=1"), true, &on_chunk);
}

}  // namespace kg::kube
