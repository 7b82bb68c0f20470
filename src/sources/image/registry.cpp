// A registry through the OCI distribution API (libcurl): GET /v2/ to learn
// the auth scheme, the WWW-Authenticate challenge flow (Basic, or a Bearer
// token from the realm, anonymous or with credentials from docker's
// config.json and credential helpers), manifests by tag or digest with every
// manifest media type accepted, blobs streamed (307 redirects followed) and
// verified as they pass. Transient failures (connection, 429, 5xx) are
// retried with backoff; plain HTTP only with --allow-insecure-registry.
#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "sources/image/json.hpp"
#include "sources/image/registry_client.hpp"
#include "sources/image/sources.hpp"
#include "sources/render/process.hpp"

namespace kg::image {
namespace {

constexpr const char* kAccept =
    "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

bool unbase64(std::string_view in, std::string& out) {
  while (!in.empty() && (in.back() == '\n' || in.back() == ' ')) in.remove_suffix(1);
  if (in.size() % 4 != 0) return false;
  out.assign(3 * in.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --len;  // DecodeBlock keeps padding bytes
  out.resize(len);
  return true;
}

std::string url_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '/') out += static_cast<char>(c);
    else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct Credentials {
  std::string user, secret;
  std::string from;  // where they came from, for messages
  bool empty() const { return user.empty() && secret.empty(); }
};

ImageError bad_auth(const std::string& path, const std::string& key) {
  return ImageError(path + ": auths." + key + ".auth is not base64 of user:password");
}

// docker's config.json: credHelpers[host], then auths[host], then credsStore.
Credentials docker_credentials(const std::string& host, const ReadOptions& options, std::vector<std::string>& notes) {
  std::string path = options.docker_config;
  if (path.empty()) {
    const char* dc = std::getenv("DOCKER_CONFIG");
    const char* home = std::getenv("HOME");
    if (dc && *dc) path = std::string(dc) + "/config.json";
    else if (home && *home) path = std::string(home) + "/.docker/config.json";
    else return {};
  }
  if (::access(path.c_str(), R_OK) != 0) return {};
  std::unique_ptr<JsonDoc> doc;
  auto in = open_file_source(path);
  doc = parse_json(read_all(*in, kMaxJsonBlob, path), path);
  std::vector<std::string> keys = {host, "https://" + host, "http://" + host, "https://" + host + "/v1/"};
  if (host == "registry-1.docker.io") keys.insert(keys.begin(), {"https://index.docker.io/v1/", "docker.io", "index.docker.io"});
  auto run_helper = [&](std::string_view name) -> Credentials {
    std::string program = render::find_executable("docker-credential-" + std::string(name));
    if (program.empty()) {
      notes.push_back(path + ": credential helper docker-credential-" + std::string(name) + " not found; anonymous");
      return {};
    }
    char tmpl[] = "/tmp/kguard-cred-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) throw ImageError("cannot create a temporary file for the credential helper");
    std::string server = host == "registry-1.docker.io" ? "https://index.docker.io/v1/" : host;
    bool wrote = ::write(fd, server.data(), server.size()) == static_cast<ssize_t>(server.size());
    ::close(fd);
    render::ProcessLimits limits;
    limits.timeout = std::chrono::milliseconds(30'000);
    limits.max_stdout = 1 << 20;
    limits.stdin_path = tmpl;
    render::ProcessResult r;
    if (wrote) r = render::run_process(program, {"get"}, limits);
    ::unlink(tmpl);
    if (!r.ok()) {
      notes.push_back("docker-credential-" + std::string(name) + " has no credentials for " + host + "; anonymous");
      return {};
    }
    auto out = parse_json(r.out, "docker-credential-" + std::string(name) + " output");
    Credentials c{std::string(str(get(out->root, "Username"))), std::string(str(get(out->root, "Secret"))),
                  "docker-credential-" + std::string(name)};
    if (c.user == "<token>")
      notes.push_back("docker-credential-" + std::string(name) + " gave an identity token, which kguard does not use yet");
    return c.user == "<token>" ? Credentials{} : c;
  };
  for (const std::string& k : keys)
    if (const Node* h = get(get(doc->root, "credHelpers"), k)) return run_helper(str(h));
  for (const std::string& k : keys) {
    const Node* a = get(get(doc->root, "auths"), k);
    if (!a) continue;
    Credentials c;
    c.from = path;
    if (std::string_view auth = str(get(a, "auth")); !auth.empty()) {
      std::string decoded;
      std::size_t colon = 0;
      if (!unbase64(auth, decoded) || (colon = decoded.find(':')) == std::string::npos)
        throw bad_auth(path, k);
      c.user = decoded.substr(0, colon);
      c.secret = decoded.substr(colon + 1);
    } else {
      c.user = str(get(a, "username"));
      c.secret = str(get(a, "password"));
    }
    if (!c.empty()) return c;
  }
  if (const Node* store = get(doc->root, "credsStore"); store && !str(store).empty()) return run_helper(str(store));
  return {};
}

// `Bearer realm="...",service="...",scope="..."` into its scheme and params.
std::string parse_challenge(const std::string& header, std::map<std::string, std::string>& params) {
  std::size_t sp = header.find(' ');
  std::string scheme = lower(header.substr(0, sp));
  std::size_t i = sp == std::string::npos ? header.size() : sp + 1;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    std::size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = lower(header.substr(i, eq - i));
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i++];
      }
      ++i;
    } else {
      std::size_t end = header.find(',', i);
      value = header.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? header.size() : end;
    }
    params[key] = value;
  }
  return scheme;
}

struct Response {
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercased names, last value
  bool overflow = false;
};

class Registry;

// A blob as a pull stream: curl's multi interface is driven from read(), so
// at most one network chunk is buffered and nothing reaches the disk.
class HttpStream : public ByteSource {
 public:
  HttpStream(Registry& reg, const std::string& url);
  ~HttpStream() override;
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;
  std::size_t read(char* buf, std::size_t n) override;
  long status() const { return status_; }
  // Runs until the response status is known (or the transfer ends).
  void start();
  std::string error_body;

 private:
  static std::size_t on_write(char* p, std::size_t size, std::size_t n, void* self);
  void pump();
  CURLM* multi_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  std::string url_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool done_ = false;
  bool paused_ = false;
  long status_ = 0;
  char errbuf_[CURL_ERROR_SIZE] = {};
  static constexpr std::size_t kMaxBuffered = std::size_t{1} << 20;
};

class Registry : public ImageSource {
 public:
  Registry(const ImageRef& ref, const ReadOptions& options) : ref_(ref), options_(options) {
    base_ = "https://" + ref.registry;
  }

  void setup(CURL* c, const std::string& url, curl_slist*& headers, bool accept_manifest) const {
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_insecure ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, options_.allow_insecure ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kguard");
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (options_.allow_insecure) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (accept_manifest) headers = curl_slist_append(headers, kAccept);
    if (!auth_.empty()) headers = curl_slist_append(headers, ("Authorization: " + auth_).c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  }

  // One buffered request (manifests, tokens, /v2/), retried on transient failures.
  Response request(const std::string& url, bool accept_manifest, const std::string& basic_auth = "",
                   bool head = false) const {
    Response r;
    for (int attempt = 0;; ++attempt) {
      r = Response{};
      CURL* c = curl_easy_init();
      if (!c) throw ImageError("libcurl initialisation failed");
      curl_slist* headers = nullptr;
      setup(c, url, headers, accept_manifest);
      if (head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      if (!basic_auth.empty()) {
        curl_slist_free_all(headers);
        headers = curl_slist_append(nullptr, ("Authorization: Basic " + basic_auth).c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
      }
      char errbuf[CURL_ERROR_SIZE] = {};
      curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* ud) -> std::size_t {
        auto* resp = static_cast<Response*>(ud);
        if (resp->body.size() + s * n > kMaxJsonBlob) {
          resp->overflow = true;
          return 0;
        }
        resp->body.append(p, s * n);
        return s * n;
      });
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
      curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* ud) -> std::size_t {
        auto* resp = static_cast<Response*>(ud);
        std::string line(p, s * n);
        if (line.rfind("HTTP/", 0) == 0) resp->headers.clear();  // a redirect's headers are not the answer's
        std::size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string v = line.substr(colon + 1);
          while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
          while (!v.empty() && v.front() == ' ') v.erase(0, 1);
          resp->headers[lower(line.substr(0, colon))] = v;
        }
        return s * n;
      });
      curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
      r.curl = curl_easy_perform(c);
      r.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(r.curl);
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
      curl_slist_free_all(headers);
      curl_easy_cleanup(c);
      if (r.overflow) throw ImageError(url + ": response larger than " + std::to_string(kMaxJsonBlob) + " bytes");
      bool transient = (r.curl != CURLE_OK && r.curl != CURLE_SSL_CACERT && r.curl != CURLE_PEER_FAILED_VERIFICATION &&
                        r.curl != CURLE_UNSUPPORTED_PROTOCOL && r.curl != CURLE_SSL_CONNECT_ERROR) ||
                       r.status == 429 || r.status >= 500;
      if (!transient || attempt >= options_.retries) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    }
  }

  [[noreturn]] void fail(const std::string& what, const Response& r) const {
    if (r.curl != CURLE_OK) throw ImageError(ref_.registry + ": " + what + ": " + r.curl_error);
    std::string detail;
    if (auto doc = r.body.size() < 4096 ? r.body : r.body.substr(0, 4096); !doc.empty()) {
      try {
        auto j = parse_json(doc, "error");
        for (const Node* e : items(get(j->root, "errors"))) {
          detail += std::string(detail.empty() ? "" : "; ") + std::string(str(get(e, "code"))) + " " +
                    std::string(str(get(e, "message")));
        }
      } catch (const ImageError&) {
      }
    }
    std::string hint = r.status == 401 ? " (authentication failed: check the credentials in docker's config.json)"
                       : r.status == 404 ? " (no such repository, tag or blob)"
                                         : "";
    throw ImageError(ref_.registry + ": " + what + ": HTTP " + std::to_string(r.status) + hint +
                     (detail.empty() ? "" : ": " + detail));
  }

  // Answers a 401's challenge (each caller retries its request once after
  // it: a token may also expire during a long pull); false without one.
  bool authenticate(const Response& r) {
    auto it = r.headers.find("www-authenticate");
    if (it == r.headers.end()) return false;
    if (!creds_loaded_) {
      creds_ = docker_credentials(ref_.registry, options_, notes);
      creds_loaded_ = true;
    }
    std::map<std::string, std::string> params;
    std::string scheme = parse_challenge(it->second, params);
    std::string basic = creds_.empty() ? "" : base64(creds_.user + ":" + creds_.secret);
    if (scheme == "basic") {
      if (basic.empty()) throw ImageError(ref_.registry + ": the registry requires a login (Basic auth) and docker's config.json has none for it");
      auth_ = "Basic " + basic;
      return true;
    }
    if (scheme != "bearer") throw ImageError(ref_.registry + ": unsupported authentication scheme '" + scheme + "'");
    std::string realm = params["realm"];
    if (realm.empty()) throw ImageError(ref_.registry + ": Bearer challenge without a realm");
    if (!options_.allow_insecure && realm.rfind("https://", 0) != 0)
      throw ImageError(ref_.registry + ": token realm '" + realm + "' is not HTTPS (--allow-insecure-registry allows it)");
    std::string scope = "repository:" + ref_.repository + ":pull";
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + "scope=" + url_escape(scope);
    if (!params["service"].empty()) url += "&service=" + url_escape(params["service"]);
    std::string saved = auth_;
    auth_.clear();
    Response t = request(url, false, basic);
    auth_ = saved;
    if (t.curl != CURLE_OK || t.status != 200) fail("token request to " + realm, t);
    auto doc = parse_json(t.body, realm + " token response");
    std::string token(str(get(doc->root, "token")));
    if (token.empty()) token = str(get(doc->root, "access_token"));
    if (token.empty()) throw ImageError(ref_.registry + ": token response from " + realm + " holds no token");
    auth_ = "Bearer " + token;
    return true;
  }

  Response get_with_auth(const std::string& url, bool accept_manifest, const std::string& what) {
    Response r = request(url, accept_manifest);
    if (r.status == 401 && authenticate(r)) r = request(url, accept_manifest);
    if (r.curl != CURLE_OK || r.status != 200) fail(what, r);
    return r;
  }

  std::string fetch(const Descriptor& d) {
    bool is_manifest = d.media_type.find("manifest") != std::string::npos || d.media_type.find("index") != std::string::npos;
    std::string url = base_ + "/v2/" + ref_.repository + (is_manifest ? "/manifests/" : "/blobs/") + d.digest;
    Response r = get_with_auth(url, is_manifest, (is_manifest ? "manifest " : "blob ") + d.digest);
    StringSource s(std::move(r.body));
    VerifyingSource v(std::make_unique<StringSource>(std::move(s)), d.digest, d.size,
                      ref_.registry + "/" + ref_.repository + ": " + d.digest);
    return read_all(v, kMaxJsonBlob, d.digest);
  }

  std::unique_ptr<ByteSource> open_layer(const Descriptor& d) override {
    std::string url = base_ + "/v2/" + ref_.repository + "/blobs/" + d.digest;
    std::unique_ptr<HttpStream> s;
    bool reauthenticated = false;
    for (int attempt = 0;; ++attempt) {
      s = std::make_unique<HttpStream>(*this, url);
      s->start();
      if (s->status() == 401 && !reauthenticated) {
        reauthenticated = true;
        Response challenge;
        challenge.status = 401;
        challenge.headers["www-authenticate"] = last_challenge_;
        if (authenticate(challenge)) continue;
      }
      if (s->status() == 200) break;
      bool transient = s->status() == 0 || s->status() == 429 || s->status() >= 500;
      if (!transient || attempt >= options_.retries) {
        Response r;
        r.status = s->status();
        r.body = s->error_body;
        if (r.status == 0) {
          r.curl = CURLE_RECV_ERROR;
          r.curl_error = "connection failed";
        }
        fail("layer " + d.digest, r);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    }
    return std::make_unique<VerifyingSource>(std::move(s), d.digest, d.size,
                                             ref_.registry + "/" + ref_.repository + ": layer " + d.digest);
  }

  // The digest the reference names now: HEAD of the manifest (the registry's
  // Docker-Content-Digest), else GET and hash it. The top-level digest (an
  // index's for a multi-platform tag), as a pin @sha256:… would name it.
  std::string head_digest() {
    ping();
    const std::string reference = ref_.digest.empty() ? ref_.tag : ref_.digest;
    const std::string url = base_ + "/v2/" + ref_.repository + "/manifests/" + reference;
    Response r = request(url, true, "", true);
    if (r.status == 401 && authenticate(r)) r = request(url, true, "", true);
    if (r.curl == CURLE_OK && r.status == 200) {
      if (auto h = r.headers.find("docker-content-digest"); h != r.headers.end() && valid_digest(h->second))
        return h->second;
    }
    r = request(url, true);
    if (r.status == 401 && authenticate(r)) r = request(url, true);
    if (r.curl != CURLE_OK || r.status != 200) fail("manifest " + ref_.repository + ":" + reference, r);
    return "sha256:" + sha256_hex(r.body);
  }

  void ping() {
    // The ping learns the auth scheme before the first real request.
    Response pong = request(base_ + "/v2/", false);
    if (pong.curl != CURLE_OK && options_.allow_insecure) {
      // cosign's --allow-insecure-registry: unverified TLS, else plain HTTP.
      base_ = "http://" + ref_.registry;
      pong = request(base_ + "/v2/", false);
      if (pong.curl == CURLE_OK) notes.push_back(ref_.registry + ": plain HTTP (--allow-insecure-registry)");
    }
    if (pong.curl != CURLE_OK) fail("GET /v2/", pong);
    if (pong.status == 401) authenticate(pong);
    else if (pong.status != 200 && pong.status != 404) fail("GET /v2/", pong);
  }

  void open() {
    ping();
    std::string reference = ref_.digest.empty() ? ref_.tag : ref_.digest;
    std::string url = base_ + "/v2/" + ref_.repository + "/manifests/" + reference;
    Response r = request(url, true);
    if (r.status == 401) {
      if (authenticate(r)) r = request(url, true);
    }
    if (r.curl != CURLE_OK || r.status != 200) fail("manifest " + ref_.repository + ":" + reference, r);
    std::string digest = "sha256:" + sha256_hex(r.body);
    if (!ref_.digest.empty() && digest != ref_.digest)
      throw ImageError(ref_.registry + ": manifest " + ref_.digest + ": digest mismatch: content is " + digest);
    if (auto h = r.headers.find("docker-content-digest"); h != r.headers.end() && valid_digest(h->second) && h->second != digest) {
      throw ImageError(ref_.registry + ": manifest " + reference + ": digest mismatch: content is " + digest +
                       ", the registry says " + h->second);
    }
    std::string ct = r.headers.count("content-type") ? r.headers["content-type"] : "";
    if (std::size_t semi = ct.find(';'); semi != std::string::npos) ct.resize(semi);
    resolve_manifest(*this, std::move(r.body), digest, ct, ref_.registry + "/" + ref_.repository + ":" + reference,
                     options_, [this](const Descriptor& d) { return fetch(d); });
    tag = ref_.tag;
  }

  std::string auth_;          // the Authorization header value
  std::string last_challenge_;
  std::string base_;

 private:
  ImageRef ref_;
  ReadOptions options_;
  Credentials creds_;
  bool creds_loaded_ = false;
};

HttpStream::HttpStream(Registry& reg, const std::string& url)
    : multi_(curl_multi_init()), easy_(curl_easy_init()), url_(url) {
  if (!multi_ || !easy_) throw ImageError("libcurl initialisation failed");
  reg.setup(easy_, url, headers_, false);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpStream::on_write);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* ud) -> std::size_t {
    auto* r = static_cast<Registry*>(ud);
    std::string line(p, s * n);
    if (lower(line.substr(0, 17)) == "www-authenticate:") {
      std::string v = line.substr(17);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      r->last_challenge_ = v;
    }
    return s * n;
  });
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &reg);
  curl_multi_add_handle(multi_, easy_);
}

HttpStream::~HttpStream() {
  curl_multi_remove_handle(multi_, easy_);
  curl_easy_cleanup(easy_);
  curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
}

std::size_t HttpStream::on_write(char* p, std::size_t size, std::size_t n, void* ud) {
  auto* self = static_cast<HttpStream*>(ud);
  curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &self->status_);
  if (self->status_ != 200) {
    if (self->error_body.size() < 4096) self->error_body.append(p, std::min<std::size_t>(size * n, 4096));
    return size * n;
  }
  // Bounds what is buffered: curl may read a fast socket dry in one perform.
  if (self->buf_.size() - self->pos_ >= kMaxBuffered) {
    self->paused_ = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  self->buf_.append(p, size * n);
  return size * n;
}

void HttpStream::pump() {
  int running = 0;
  CURLMcode mc = curl_multi_perform(multi_, &running);
  if (mc != CURLM_OK) throw ImageError(url_ + ": " + curl_multi_strerror(mc));
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    done_ = true;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status_);
    if (m->data.result != CURLE_OK && status_ == 200)
      throw ImageError(url_ + ": transfer failed: " + (errbuf_[0] ? errbuf_ : curl_easy_strerror(m->data.result)));
    if (m->data.result != CURLE_OK) status_ = 0;
  }
  if (!done_ && !paused_ && buf_.size() == pos_) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
}

void HttpStream::start() {
  while (!done_ && buf_.empty()) pump();
  if (!done_ || status_ == 0) curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status_);
}

std::size_t HttpStream::read(char* buf, std::size_t n) {
  while (pos_ == buf_.size()) {
    if (done_) return 0;
    buf_.clear();
    pos_ = 0;
    if (paused_) {
      paused_ = false;
      curl_easy_pause(easy_, CURLPAUSE_CONT);  // may deliver the held chunk at once
      if (pos_ < buf_.size()) break;
    }
    pump();
  }
  n = std::min(n, buf_.size() - pos_);
  std::memcpy(buf, buf_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace

std::unique_ptr<ImageSource> open_registry(const ImageRef& ref, const ReadOptions& options) {
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInit;
  auto src = std::make_unique<Registry>(ref, options);
  src->open();
  return src;
}

std::string registry_manifest_digest(const ImageRef& ref, const ReadOptions& options) {
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInit;
  Registry reg(ref, options);
  return reg.head_digest();
}

// ---- RegistryClient: reads and writes for signing (registry_client.hpp) ----

struct RegistryClient::Impl {
  std::string registry, repository;
  ReadOptions options;
  bool push = false;
  std::string base;
  std::string auth;  // Authorization header value
  bool opened = false;
  Credentials creds;
  bool creds_loaded = false;
  std::vector<std::string>* notes = nullptr;

  struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;
    const std::string* body = nullptr;
    std::size_t max = kMaxJsonBlob;
    std::string basic;  // token requests: Basic credentials instead of auth
  };

  // One easy handle for the client's life: curl_easy_reset keeps its connection cache, so the
  // requests of one sign or verify share a TLS connection instead of a handshake each.
  CURL* easy = nullptr;
  ~Impl() {
    if (easy) curl_easy_cleanup(easy);
  }

  Response perform(const Request& q) {
    Response r;
    for (int attempt = 0;; ++attempt) {
      r = Response{};
      if (!easy) easy = curl_easy_init();
      if (!easy) throw ImageError("libcurl initialisation failed");
      CURL* c = easy;
      curl_easy_reset(c);
      curl_slist* headers = nullptr;
      curl_easy_setopt(c, CURLOPT_URL, q.url.c_str());
      // Writes are never redirected (a 307 on PUT would resend the body elsewhere); reads follow.
      curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, q.method == "GET" || q.method == "HEAD" ? 1L : 0L);
      curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
      curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options.allow_insecure ? "http,https" : "https");
      curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, options.allow_insecure ? "http,https" : "https");
      curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
      curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(c, CURLOPT_USERAGENT, "kguard");
      if (!options.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
      if (options.allow_insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
      }
      for (const std::string& h : q.headers) headers = curl_slist_append(headers, h.c_str());
      if (!q.basic.empty()) headers = curl_slist_append(headers, ("Authorization: Basic " + q.basic).c_str());
      else if (!auth.empty()) headers = curl_slist_append(headers, ("Authorization: " + auth).c_str());
      if (q.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      } else if (q.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q.method.c_str());
        static const std::string kEmpty;
        const std::string& body = q.body ? *q.body : kEmpty;
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        headers = curl_slist_append(headers, "Expect:");
      }
      curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
      char errbuf[CURL_ERROR_SIZE] = {};
      curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
      struct Sink {
        Response* r;
        std::size_t max;
      } sink{&r, q.max};
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* ud) -> std::size_t {
        auto* k = static_cast<Sink*>(ud);
        if (k->r->body.size() + s * n > k->max) {
          k->r->overflow = true;
          return 0;
        }
        k->r->body.append(p, s * n);
        return s * n;
      });
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
      curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* ud) -> std::size_t {
        auto* resp = static_cast<Response*>(ud);
        std::string line(p, s * n);
        if (line.rfind("HTTP/", 0) == 0) resp->headers.clear();
        std::size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string v = line.substr(colon + 1);
          while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
          while (!v.empty() && v.front() == ' ') v.erase(0, 1);
          resp->headers[lower(line.substr(0, colon))] = v;
        }
        return s * n;
      });
      curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
      r.curl = curl_easy_perform(c);
      r.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(r.curl);
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
      curl_slist_free_all(headers);
      if (r.overflow) throw ImageError(q.url + ": response larger than " + std::to_string(q.max) + " bytes");
      bool transient = (r.curl != CURLE_OK && r.curl != CURLE_SSL_CACERT && r.curl != CURLE_PEER_FAILED_VERIFICATION &&
                        r.curl != CURLE_UNSUPPORTED_PROTOCOL && r.curl != CURLE_SSL_CONNECT_ERROR &&
                        r.curl != CURLE_COULDNT_CONNECT) ||
                       r.status == 429 || r.status >= 500;
      if (!transient || attempt >= options.retries) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    }
  }

  [[noreturn]] void fail(const std::string& what, const Response& r) const {
    if (r.curl != CURLE_OK) throw ImageError(registry + ": " + what + ": " + r.curl_error);
    std::string detail;
    if (!r.body.empty() && r.body.size() < 4096) {
      try {
        auto j = parse_json(r.body, "error");
        for (const Node* e : items(get(j->root, "errors"))) {
          detail += std::string(detail.empty() ? "" : "; ") + std::string(str(get(e, "code"))) + " " +
                    std::string(str(get(e, "message")));
        }
      } catch (const ImageError&) {
      }
    }
    std::string hint = r.status == 401   ? " (authentication failed: check the credentials in docker's config.json)"
                       : r.status == 403 ? " (denied: the credentials may not push to " + repository + ")"
                                         : "";
    throw ImageError(registry + "/" + repository + ": " + what + ": HTTP " + std::to_string(r.status) + hint +
                     (detail.empty() ? "" : ": " + detail));
  }

  bool authenticate(const Response& r) {
    auto it = r.headers.find("www-authenticate");
    if (it == r.headers.end()) return false;
    if (!creds_loaded) {
      creds = docker_credentials(registry, options, *notes);
      creds_loaded = true;
    }
    std::map<std::string, std::string> params;
    std::string scheme = parse_challenge(it->second, params);
    std::string basic = creds.empty() ? "" : base64(creds.user + ":" + creds.secret);
    if (scheme == "basic") {
      if (basic.empty())
        throw ImageError(registry + ": the registry requires a login (Basic auth) and docker's config.json has none for it");
      auth = "Basic " + basic;
      return true;
    }
    if (scheme != "bearer") throw ImageError(registry + ": unsupported authentication scheme '" + scheme + "'");
    std::string realm = params["realm"];
    if (realm.empty()) throw ImageError(registry + ": Bearer challenge without a realm");
    if (!options.allow_insecure && realm.rfind("https://", 0) != 0)
      throw ImageError(registry + ": token realm '" + realm + "' is not HTTPS (--allow-insecure-registry allows it)");
    std::string scope = "repository:" + repository + (push ? ":pull,push" : ":pull");
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + "scope=" + url_escape(scope);
    if (!params["service"].empty()) url += "&service=" + url_escape(params["service"]);
    Request q;
    q.url = url;
    q.basic = basic;
    std::string saved = auth;
    auth.clear();
    Response t = perform(q);
    auth = saved;
    if (t.curl != CURLE_OK || t.status != 200) fail("token request to " + realm, t);
    auto doc = parse_json(t.body, realm + " token response");
    std::string token(str(get(doc->root, "token")));
    if (token.empty()) token = str(get(doc->root, "access_token"));
    if (token.empty()) throw ImageError(registry + ": token response from " + realm + " holds no token");
    auth = "Bearer " + token;
    return true;
  }

  void open() {
    if (opened) return;
    base = "https://" + registry;
    Request ping;
    ping.url = base + "/v2/";
    Response r = perform(ping);
    if (r.curl != CURLE_OK && options.allow_insecure) {
      base = "http://" + registry;
      ping.url = base + "/v2/";
      r = perform(ping);
      if (r.curl == CURLE_OK) notes->push_back(registry + ": plain HTTP (--allow-insecure-registry)");
    }
    if (r.curl != CURLE_OK) fail("GET /v2/", r);
    if (r.status == 401) authenticate(r);
    else if (r.status != 200 && r.status != 404) fail("GET /v2/", r);
    opened = true;
  }

  // One request, answered once more after a 401's challenge (a token for this scope).
  Response call(Request q) {
    open();
    if (q.url.rfind("http", 0) != 0) q.url = base + q.url;
    Response r = perform(q);
    if (r.status == 401 && authenticate(r)) r = perform(q);
    return r;
  }

  std::string path(const std::string& kind, const std::string& ref) const {
    return "/v2/" + repository + "/" + kind + "/" + ref;
  }
};

RegistryClient::RegistryClient(std::string registry, std::string repository, ReadOptions options, bool push)
    : impl_(std::make_unique<Impl>()) {
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInit;
  impl_->registry = std::move(registry);
  impl_->repository = std::move(repository);
  impl_->options = std::move(options);
  impl_->push = push;
  impl_->notes = &notes;
}

RegistryClient::~RegistryClient() = default;

const std::string& RegistryClient::registry() const { return impl_->registry; }
const std::string& RegistryClient::repository() const { return impl_->repository; }

namespace {
std::string content_type(const Response& r) {
  auto it = r.headers.find("content-type");
  std::string ct = it == r.headers.end() ? "" : it->second;
  if (std::size_t semi = ct.find(';'); semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct;
}
}  // namespace

std::optional<RemoteManifest> RegistryClient::get_manifest(const std::string& reference) {
  Impl::Request q;
  q.url = impl_->path("manifests", reference);
  q.headers.push_back(std::string(kAccept));
  Response r = impl_->call(q);
  if (r.curl == CURLE_OK && r.status == 404) return std::nullopt;
  if (r.curl != CURLE_OK || r.status != 200) impl_->fail("manifest " + reference, r);
  RemoteManifest m;
  m.digest = "sha256:" + sha256_hex(r.body);
  if (reference.rfind("sha256:", 0) == 0 && m.digest != reference) {
    throw ImageError(impl_->registry + "/" + impl_->repository + ": manifest " + reference +
                     ": digest mismatch: content is " + m.digest);
  }
  m.media_type = content_type(r);
  if (m.media_type.empty() || m.media_type == "application/json" || m.media_type == "text/plain") {
    try {
      auto doc = parse_json(r.body, reference);
      m.media_type = str(get(doc->root, "mediaType"));
    } catch (const ImageError&) {
    }
  }
  m.bytes = std::move(r.body);
  return m;
}

std::optional<Descriptor> RegistryClient::head_manifest(const std::string& reference) {
  Impl::Request q;
  q.method = "HEAD";
  q.url = impl_->path("manifests", reference);
  q.headers.push_back(std::string(kAccept));
  Response r = impl_->call(q);
  if (r.curl == CURLE_OK && r.status == 404) return std::nullopt;
  if (r.curl != CURLE_OK || r.status != 200) impl_->fail("HEAD manifest " + reference, r);
  Descriptor d;
  d.media_type = content_type(r);
  auto dg = r.headers.find("docker-content-digest");
  auto len = r.headers.find("content-length");
  if (dg == r.headers.end() || !valid_digest(dg->second) || len == r.headers.end()) {
    // Without the digest header the body decides (GET is the fallback).
    auto m = get_manifest(reference);
    if (!m) return std::nullopt;
    d.media_type = m->media_type;
    d.digest = m->digest;
    d.size = m->bytes.size();
    return d;
  }
  d.digest = dg->second;
  d.size = std::strtoull(len->second.c_str(), nullptr, 10);
  return d;
}

std::string RegistryClient::get_blob(const std::string& digest, std::size_t max) {
  Impl::Request q;
  q.url = impl_->path("blobs", digest);
  q.max = max;
  Response r = impl_->call(q);
  if (r.curl != CURLE_OK || r.status != 200) impl_->fail("blob " + digest, r);
  if ("sha256:" + sha256_hex(r.body) != digest)
    throw ImageError(impl_->registry + "/" + impl_->repository + ": blob " + digest + ": digest mismatch");
  return std::move(r.body);
}

bool RegistryClient::blob_exists(const std::string& digest) {
  Impl::Request q;
  q.method = "HEAD";
  q.url = impl_->path("blobs", digest);
  Response r = impl_->call(q);
  if (r.curl == CURLE_OK && r.status == 200) return true;
  if (r.curl == CURLE_OK && r.status == 404) return false;
  impl_->fail("HEAD blob " + digest, r);
}

std::string RegistryClient::put_blob(const std::string& bytes) {
  std::string digest = "sha256:" + sha256_hex(bytes);
  if (blob_exists(digest)) return digest;
  Impl::Request post;
  post.method = "POST";
  post.url = "/v2/" + impl_->repository + "/blobs/uploads/";
  Response r = impl_->call(post);
  if (r.curl != CURLE_OK || r.status != 202) impl_->fail("POST blob upload", r);
  auto loc = r.headers.find("location");
  if (loc == r.headers.end() || loc->second.empty())
    throw ImageError(impl_->registry + "/" + impl_->repository + ": blob upload answered 202 without a Location");
  std::string url = loc->second;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) url = impl_->base + (url[0] == '/' ? "" : "/") + url;
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + url_escape(digest);
  Impl::Request put;
  put.method = "PUT";
  put.url = url;
  put.body = &bytes;
  put.headers.push_back("Content-Type: application/octet-stream");
  Response p = impl_->call(put);
  if (p.curl != CURLE_OK || p.status != 201) impl_->fail("PUT blob " + digest, p);
  return digest;
}

std::string RegistryClient::put_manifest(const std::string& reference, const std::string& media_type,
                                         const std::string& bytes, bool* subject_accepted) {
  Impl::Request q;
  q.method = "PUT";
  q.url = impl_->path("manifests", reference);
  q.body = &bytes;
  q.headers.push_back("Content-Type: " + media_type);
  Response r = impl_->call(q);
  if (r.curl != CURLE_OK || (r.status != 201 && r.status != 200)) impl_->fail("PUT manifest " + reference, r);
  if (subject_accepted) *subject_accepted = r.headers.count("oci-subject") > 0;
  return "sha256:" + sha256_hex(bytes);
}

std::optional<std::string> RegistryClient::referrers(const std::string& digest) {
  Impl::Request q;
  q.url = impl_->path("referrers", digest);
  q.headers.push_back("Accept: application/vnd.oci.image.index.v1+json");
  Response r = impl_->call(q);
  if (r.curl == CURLE_OK && (r.status == 404 || r.status == 405 || r.status == 400)) return std::nullopt;
  if (r.curl != CURLE_OK || r.status != 200) impl_->fail("referrers of " + digest, r);
  // A registry without the API may still answer 200 with something that is no index.
  try {
    auto doc = parse_json(r.body, "referrers of " + digest);
    if (str(get(doc->root, "mediaType")) != "application/vnd.oci.image.index.v1+json" &&
        !get(doc->root, "manifests"))
      return std::nullopt;
  } catch (const ImageError&) {
    return std::nullopt;
  }
  return std::move(r.body);
}

}  // namespace kg::image
