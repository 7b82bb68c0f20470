// The KMS v2 handlers (service.hpp).
#include "engines/kms/service.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <sstream>

#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"

namespace kg::kms {
namespace {

constexpr double kBuckets[12] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
constexpr char kAadPrefix[] = "kguard-kms/v1";

std::string aad_for(const unsigned char header[kHeaderSize], const std::string& key_id) {
  std::string aad(kAadPrefix, sizeof kAadPrefix);  // with its NUL
  aad.append(reinterpret_cast<const char*>(header), kHeaderSize);
  aad += key_id;
  return aad;
}

// A uid for logs: at most 128 bytes (it comes from the caller).
std::string_view short_uid(std::string_view uid) { return uid.substr(0, 128); }

RpcStatus err(StatusCode c, const std::string& msg) { return RpcStatus(c, msg); }

const char* code_name(StatusCode c) {
  switch (c) {
    case StatusCode::OK: return "OK";
    case StatusCode::INVALID_ARGUMENT: return "InvalidArgument";
    case StatusCode::NOT_FOUND: return "NotFound";
    case StatusCode::FAILED_PRECONDITION: return "FailedPrecondition";
    case StatusCode::UNAVAILABLE: return "Unavailable";
    case StatusCode::INTERNAL: return "Internal";
    default: return "Other";
  }
}

std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string num(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", d);
  return buf;
}

}  // namespace

bool is_fqdn(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  int labels = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view l = s.substr(i, j - i);
    if (l.empty() || l.size() > 63) return false;
    for (char c : l)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (l.front() == '-' || l.back() == '-') return false;
    ++labels;
    i = j + 1;
  }
  return labels >= 2;
}

KmsService::KmsService(std::unique_ptr<KeyBackend> backend, ServiceOptions opts)
    : backend_(std::move(backend)), opts_(std::move(opts)) {
  if (!opts_.audit_log.empty()) {
    audit_.open(opts_.audit_log, std::ios::app);
    if (!audit_) throw KmsError(opts_.audit_log + ": the audit log cannot be opened for appending");
  }
  if (opts_.state_dir.empty()) throw KmsError("the state directory is required");
  auto s = read_state(opts_.state_dir);
  if (!s) throw KmsError(state_path(opts_.state_dir) + ": no state: run `kguard kms init` first");
  usage_ = read_usage(opts_.state_dir);
  reload(true);
  if (!snap_) throw KmsError(state_path(opts_.state_dir) + ": the KEK versions do not load (see the log above)");
}

KmsService::KmsService(std::unique_ptr<KeyBackend> backend, KmsState state, ServiceOptions opts)
    : backend_(std::move(backend)), opts_(std::move(opts)) {
  opts_.state_dir.clear();
  take(std::move(state));
}

KmsService::~KmsService() {
  try {
    flush_usage();
  } catch (const std::exception&) {
  }
}

std::shared_ptr<const KmsService::Snapshot> KmsService::snapshot() const {
  std::shared_lock l(mu_);
  return snap_;
}

int KmsService::current_version() const {
  auto s = snapshot();
  return s ? s->state.current : 0;
}

void KmsService::take(KmsState s) {
  std::vector<KeyVersion> active;
  for (const KeyVersion& v : s.versions)
    if (!v.is_retired()) active.push_back(v);
  auto next = std::make_shared<Snapshot>();
  next->state = std::move(s);
  std::unique_lock l(mu_);
  backend_->load(active);  // throws: the old snapshot stays
  snap_ = std::move(next);
}

bool KmsService::reload(bool force) {
  if (opts_.state_dir.empty()) return false;
  struct stat st{};
  Stamp now;
  if (::stat(state_path(opts_.state_dir).c_str(), &st) == 0)
    now = {static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
           static_cast<long long>(st.st_size), static_cast<long long>(st.st_ino)};
  if (!force && now == stamp_) return false;
  stamp_ = now;
  int before = current_version();
  try {
    auto s = read_state(opts_.state_dir);
    if (!s) throw KmsError(state_path(opts_.state_dir) + " is gone");
    take(std::move(*s));
  } catch (const std::exception& e) {
    {
      std::lock_guard<std::mutex> l(metrics_mu_);
      ++reload_failed_;
    }
    log_line("error", "KMS state not loaded; the previous KEK versions stay in force", {{"error", e.what()}});
    audit("reload", "", nullptr, "", err(StatusCode::FAILED_PRECONDITION, e.what()));
    return false;
  }
  {
    std::lock_guard<std::mutex> l(metrics_mu_);
    ++reload_ok_;
  }
  auto snap = snapshot();
  const KeyVersion* cur = snap->state.current_version();
  std::string v = std::to_string(snap->state.current);
  log_line("info", before && before != snap->state.current ? "KEK rotated: new current version" : "KMS state loaded",
           {{"current", v}, {"key_id", cur ? cur->key_id : ""}, {"versions", std::to_string(snap->state.versions.size())}});
  audit("reload", "", cur, cur ? cur->key_id : "", RpcStatus());
  return true;
}

void KmsService::note_use(const std::string& key_id, bool encrypt) {
  std::string now = utc_now_rfc3339();
  std::lock_guard<std::mutex> l(usage_mu_);
  KeyUsage& u = usage_.by_key_id[key_id];
  if (encrypt) {
    u.last_encrypt = now;
    ++u.encrypts;
  } else {
    u.last_decrypt = now;
    ++u.decrypts;
  }
  usage_dirty_ = true;
}

void KmsService::flush_usage() {
  if (opts_.state_dir.empty()) return;
  UsageRecord copy;
  {
    std::lock_guard<std::mutex> l(usage_mu_);
    if (!usage_dirty_) return;
    usage_dirty_ = false;
    usage_.updated = utc_now_rfc3339();
    copy = usage_;
  }
  try {
    write_usage(opts_.state_dir, copy);
  } catch (const std::exception& e) {
    log_line("error", "usage.json not written", {{"error", e.what()}});
    std::lock_guard<std::mutex> l(usage_mu_);
    usage_dirty_ = true;
  }
}

void KmsService::audit(std::string_view op, std::string_view uid, const KeyVersion* v, std::string_view key_id,
                       const RpcStatus& st) {
  if (!audit_.is_open()) return;
  std::ostringstream line;
  {
    JsonWriter w(line);
    w.begin_object();
    w.field("time", utc_now_rfc3339_millis());
    w.field("op", op);
    if (!uid.empty()) w.field("uid", short_uid(uid));
    if (!key_id.empty()) w.field("key_id", key_id.substr(0, kMaxKeyId));
    if (v) w.field("version", v->version);
    w.field("result", st.ok() ? "ok" : "error");
    if (!st.ok()) {
      w.field("code", code_name(st.error_code()));
      w.field("error", st.error_message());
    }
    w.end_object();
  }
  line << '\n';
  std::lock_guard<std::mutex> l(audit_mu_);
  audit_ << line.str();
  audit_.flush();
}

void KmsService::observe(std::string_view method, const RpcStatus& st, std::chrono::steady_clock::time_point t0) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard<std::mutex> l(metrics_mu_);
  MethodStats& m = methods_[std::string(method)];
  ++m.by_code[code_name(st.error_code())];
  for (int i = 0; i < 12; ++i)
    if (secs <= kBuckets[i]) ++m.buckets[i];
  m.sum += secs;
  ++m.count;
}

RpcStatus KmsService::status(const v2::StatusRequest&, v2::StatusResponse* resp) {
  auto t0 = std::chrono::steady_clock::now();
  resp->set_version("v2");
  std::shared_lock l(mu_);
  std::shared_ptr<const Snapshot> snap = snap_;
  const KeyVersion* cur = snap ? snap->state.current_version() : nullptr;
  std::string health = "ok";
  if (!cur) {
    health = "kguard kms: no current KEK version";
  } else {
    resp->set_key_id(cur->key_id);
    // The current key must still be there and still encrypt and decrypt: a key deleted from the
    // token, a revoked permission or a wrong passphrase shows at the next poll.
    try {
      backend_->probe(*cur);
      std::string probe = random_bytes(32), nonce = random_bytes(kNonceSize), back;
      std::string aad = std::string("kguard-kms/health\0", 18) + cur->key_id;
      std::string sealed = backend_->seal(*cur, nonce, aad, probe);
      if (!backend_->open(*cur, nonce, aad, sealed, back) || back != probe)
        health = "kguard kms: KEK version " + std::to_string(cur->version) + " does not decrypt what it encrypts";
    } catch (const std::exception& e) {
      health = std::string("kguard kms: KEK version ") + std::to_string(cur->version) + " failed: " + e.what();
    }
  }
  l.unlock();
  resp->set_healthz(health);
  bool ok = health == "ok";
  if (healthy_.exchange(ok ? 1 : 0) != (ok ? 1 : 0))
    log_line(ok ? "info" : "error", ok ? "KMS healthy again" : "KMS unhealthy", {{"healthz", health}});
  RpcStatus st = ok ? RpcStatus() : err(StatusCode::UNAVAILABLE, health);
  audit("status", "", cur, cur ? cur->key_id : "", st);
  observe("Status", RpcStatus(), t0);
  return RpcStatus();  // the verdict travels in healthz, as the API server reads it
}

RpcStatus KmsService::encrypt(const v2::EncryptRequest& req, v2::EncryptResponse* resp) {
  auto t0 = std::chrono::steady_clock::now();
  RpcStatus st;
  const KeyVersion* cur = nullptr;
  std::shared_ptr<const Snapshot> snap;
  const std::string& pt = req.plaintext();
  if (pt.empty() || pt.size() > kMaxPlaintext) {
    st = err(StatusCode::INVALID_ARGUMENT, "plaintext is " + std::to_string(pt.size()) +
                                                     " bytes; it must be 1 to " + std::to_string(kMaxPlaintext) +
                                                     " (the API server sends a 32-byte DEK seed)");
  } else {
    std::shared_lock l(mu_);
    snap = snap_;
    cur = snap ? snap->state.current_version() : nullptr;
    if (!cur) {
      st = err(StatusCode::FAILED_PRECONDITION, "no current KEK version");
    } else {
      try {
        unsigned char header[kHeaderSize] = {1, static_cast<unsigned char>(cur->cipher)};
        std::string nonce = random_bytes(kNonceSize);
        std::string sealed = backend_->seal(*cur, nonce, aad_for(header, cur->key_id), pt);
        std::string out(reinterpret_cast<const char*>(header), kHeaderSize);
        out += nonce;
        out += sealed;
        resp->set_ciphertext(std::move(out));
        resp->set_key_id(cur->key_id);
        (*resp->mutable_annotations())[kFormatAnnotation] = "1";
      } catch (const std::exception& e) {
        st = err(StatusCode::UNAVAILABLE, e.what());
      }
    }
  }
  if (st.ok()) {
    note_use(cur->key_id, true);
    std::lock_guard<std::mutex> l(metrics_mu_);
    ++key_ops_[{cur->version, "encrypt"}];
  } else {
    log_line("warn", "Encrypt failed", {{"uid", short_uid(req.uid())}, {"error", st.error_message()}});
  }
  audit("encrypt", req.uid(), cur, cur ? cur->key_id : "", st);
  observe("Encrypt", st, t0);
  return st;
}

RpcStatus KmsService::decrypt(const v2::DecryptRequest& req, v2::DecryptResponse* resp) {
  auto t0 = std::chrono::steady_clock::now();
  RpcStatus st;
  const KeyVersion* v = nullptr;
  std::shared_ptr<const Snapshot> snap;
  const std::string& ct = req.ciphertext();
  const std::string& key_id = req.key_id();
  std::size_t ann_size = 0;
  std::string ann_problem;
  for (const auto& [k, val] : req.annotations()) {
    ann_size += k.size() + val.size();
    if (ann_problem.empty()) {
      if (!is_fqdn(k)) ann_problem = "annotation key \"" + k.substr(0, 64) + "\" is not a DNS name";
      else if (k != kFormatAnnotation) ann_problem = "annotation " + k + " is not one kguard kms writes";
      else if (val != "1") ann_problem = std::string(kFormatAnnotation) + " is \"" + val.substr(0, 16) + "\"; this plugin reads format 1";
    }
  }
  if (key_id.empty() || key_id.size() > kMaxKeyId) {
    st = err(StatusCode::INVALID_ARGUMENT, "key_id must be 1 to 1024 bytes");
  } else if (ann_size > kMaxAnnotations) {
    st = err(StatusCode::INVALID_ARGUMENT, "annotations exceed 32 KiB");
  } else if (!ann_problem.empty()) {
    st = err(StatusCode::INVALID_ARGUMENT, ann_problem);
  } else if (ct.size() < kHeaderSize + kNonceSize + kTagSize + 1 || ct.size() > kMaxCiphertext) {
    st = err(StatusCode::INVALID_ARGUMENT, "ciphertext is " + std::to_string(ct.size()) +
                                                     " bytes; a kguard kms ciphertext is 31 to 1024");
  } else if (static_cast<unsigned char>(ct[0]) != 1) {
    st = err(StatusCode::INVALID_ARGUMENT, "ciphertext format " + std::to_string(static_cast<unsigned char>(ct[0])) + " is unknown");
  } else {
    std::shared_lock l(mu_);
    snap = snap_;
    v = snap ? snap->state.find_key_id(key_id) : nullptr;
    if (!v) {
      st = err(StatusCode::NOT_FOUND, "key_id " + key_id.substr(0, 128) + " is not a KEK version of this plugin");
    } else if (v->is_retired()) {
      st = err(StatusCode::FAILED_PRECONDITION,
               "KEK version " + std::to_string(v->version) + " was retired at " + v->retired);
    } else if (static_cast<unsigned char>(ct[1]) != static_cast<unsigned char>(v->cipher)) {
      st = err(StatusCode::INVALID_ARGUMENT, "the ciphertext's cipher is not KEK version " + std::to_string(v->version) + "'s");
    } else {
      try {
        unsigned char header[kHeaderSize] = {static_cast<unsigned char>(ct[0]), static_cast<unsigned char>(ct[1])};
        std::string_view rest(ct);
        std::string plain;
        if (!backend_->open(*v, rest.substr(kHeaderSize, kNonceSize), aad_for(header, v->key_id),
                            rest.substr(kHeaderSize + kNonceSize), plain)) {
          st = err(StatusCode::INVALID_ARGUMENT,
                   "the ciphertext does not authenticate under KEK version " + std::to_string(v->version) +
                       " (altered, or written under another key_id)");
        } else {
          resp->set_plaintext(plain);
        }
        wipe(plain.data(), plain.size());
      } catch (const std::exception& e) {
        st = err(StatusCode::UNAVAILABLE, e.what());
      }
    }
  }
  if (st.ok()) {
    note_use(v->key_id, false);
    std::lock_guard<std::mutex> l(metrics_mu_);
    ++key_ops_[{v->version, "decrypt"}];
  } else {
    log_line("warn", "Decrypt failed", {{"uid", short_uid(req.uid())}, {"error", st.error_message()}});
  }
  audit("decrypt", req.uid(), v, key_id, st);
  observe("Decrypt", st, t0);
  return st;
}

std::string KmsService::render_metrics() const {
  std::string out;
  auto snap = snapshot();
  std::lock_guard<std::mutex> l(metrics_mu_);
  out += "# HELP kguard_kms_requests_total KMS v2 calls by method and gRPC code.\n# TYPE kguard_kms_requests_total counter\n";
  for (const auto& [m, s] : methods_)
    for (const auto& [code, n] : s.by_code)
      out += "kguard_kms_requests_total{method=\"" + m + "\",code=\"" + code + "\"} " + std::to_string(n) + "\n";
  out += "# HELP kguard_kms_request_duration_seconds Time to answer a KMS v2 call.\n# TYPE kguard_kms_request_duration_seconds histogram\n";
  for (const auto& [m, s] : methods_) {
    for (int i = 0; i < 12; ++i)
      out += "kguard_kms_request_duration_seconds_bucket{method=\"" + m + "\",le=\"" + num(kBuckets[i]) + "\"} " +
             std::to_string(s.buckets[i]) + "\n";
    out += "kguard_kms_request_duration_seconds_bucket{method=\"" + m + "\",le=\"+Inf\"} " + std::to_string(s.count) + "\n";
    out += "kguard_kms_request_duration_seconds_sum{method=\"" + m + "\"} " + num(s.sum) + "\n";
    out += "kguard_kms_request_duration_seconds_count{method=\"" + m + "\"} " + std::to_string(s.count) + "\n";
  }
  out += "# HELP kguard_kms_key_operations_total Successful Encrypt/Decrypt calls per KEK version.\n# TYPE kguard_kms_key_operations_total counter\n";
  for (const auto& [k, n] : key_ops_)
    out += "kguard_kms_key_operations_total{version=\"" + std::to_string(k.first) + "\",op=\"" + k.second + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP kguard_kms_healthy 1 when the last Status round trip with the current KEK succeeded.\n# TYPE kguard_kms_healthy gauge\n";
  out += "kguard_kms_healthy " + std::to_string(healthy_.load()) + "\n";
  out += "# HELP kguard_kms_current_version The KEK version Encrypt uses.\n# TYPE kguard_kms_current_version gauge\n";
  out += "kguard_kms_current_version " + std::to_string(snap ? snap->state.current : 0) + "\n";
  if (snap) {
    std::size_t active = 0, retired = 0;
    for (const KeyVersion& v : snap->state.versions) (v.is_retired() ? retired : active)++;
    out += "# HELP kguard_kms_key_versions KEK versions by state.\n# TYPE kguard_kms_key_versions gauge\n";
    out += "kguard_kms_key_versions{state=\"active\"} " + std::to_string(active) + "\n";
    out += "kguard_kms_key_versions{state=\"retired\"} " + std::to_string(retired) + "\n";
    if (const KeyVersion* c = snap->state.current_version())
      out += "kguard_kms_current_key_info{key_id=\"" + label(c->key_id) + "\"} 1\n";
  }
  out += "# HELP kguard_kms_state_reloads_total state.json reloads by result.\n# TYPE kguard_kms_state_reloads_total counter\n";
  out += "kguard_kms_state_reloads_total{result=\"ok\"} " + std::to_string(reload_ok_) + "\n";
  out += "kguard_kms_state_reloads_total{result=\"error\"} " + std::to_string(reload_failed_) + "\n";
  return out;
}

std::string handle_raw(KmsService& s, std::string_view method, std::string_view bytes, RpcStatus& st) {
  std::string out;
  auto malformed = [&](const std::string& why) {
    st = err(StatusCode::INTERNAL, "malformed " + std::string(method) + " request: " + why);
  };
  if (method == "Status") {
    v2::StatusRequest req;
    v2::StatusResponse resp;
    if (std::string why = req.parse(bytes); !why.empty()) malformed(why);
    else st = s.status(req, &resp);
    if (st.ok()) out = resp.SerializeAsString();
  } else if (method == "Encrypt") {
    v2::EncryptRequest req;
    v2::EncryptResponse resp;
    if (std::string why = req.parse(bytes); !why.empty()) malformed(why);
    else st = s.encrypt(req, &resp);
    if (st.ok()) out = resp.SerializeAsString();
  } else if (method == "Decrypt") {
    v2::DecryptRequest req;
    v2::DecryptResponse resp;
    if (std::string why = req.parse(bytes); !why.empty()) malformed(why);
    else st = s.decrypt(req, &resp);
    if (st.ok()) out = resp.SerializeAsString();
  } else {
    st = err(StatusCode::UNIMPLEMENTED, "unknown method " + std::string(method).substr(0, 128));
  }
  return out;
}

}  // namespace kg::kms
