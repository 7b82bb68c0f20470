// kguard registry-hook: a docker-registry notification endpoint (docs/signing.md "Pipeline").
// The registry POSTs event envelopes (application/vnd.docker.distribution.events.v1+json); each
// pushed image manifest is queued (the request is answered at once: the registry retries a slow or
// failed delivery and holds its queue meanwhile), read from the registry by digest, matched against
// the vulnerability database and judged by the policy; one that passes is signed with the
// configured key in cosign's legacy format, one that fails is logged and left unsigned. It lives in
// the CLI layer because it composes the image, vuln and sign engines, which never include each other.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/image_flags.hpp"
#include "cli/image_vulns.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"
#include "engines/sign/sign.hpp"
#include "engines/vuln/db/database.hpp"
#include "engines/vuln/match/match.hpp"
#include "model/severity.hpp"
#include "server/http_handler.hpp"
#include "server/metrics.hpp"
#include "server/server.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard registry-hook --listen ADDR:PORT --tls-cert FILE --tls-key FILE --key REF [options]

Serves POST /events, the endpoint of a docker-registry `notifications:` section. Each pushed image
manifest is read from the registry by digest, matched against the vulnerability database and judged
by the policy; when it passes, its digest is signed with --key in cosign's legacy format
(sha256-<hex>.sig); when it fails nothing is signed. One JSON line per decision on stdout.
      --key REF               cosign.key (password from COSIGN_PASSWORD), a PEM private key, or a
                              PKCS#11 URI with pin-value
      --config FILE           policy (YAML): failOn: low|medium|high|critical, maxRisk: N,
                              ignoreUnfixed: true|false (default: failOn critical)
      --vuln-db PATH          the database (default ~/.cache/kguard/vuln.db)
      --workers N             event-loop threads (default 2)
      --allow-insecure-registry, --registry-ca FILE, --docker-config FILE, --platform OS/ARCH
                              how images are read and signatures written, as for kguard image
Exit status: 0 after SIGTERM drained it, 2 error.
)";

struct Policy {
  std::optional<Severity> fail_on = Severity::Critical;
  std::optional<double> max_risk;
  bool ignore_unfixed = false;
};

// The policy file: three keys, each checked; errors name the file and line.
bool load_policy(const std::string& path, Policy& p, std::string& error) {
  SourceFile file;
  file.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return error = path + ": cannot be read", false;
  std::ostringstream s;
  s << in.rdbuf();
  file.content = s.str();
  const Node* root = nullptr;
  load_yaml(file, file.arena, false, LoadLimits{}, [&](const Document& d) {
    if (!root) root = d.root;
  });
  if (!file.errors.empty())
    return error = path + ":" + std::to_string(file.errors.front().line) + ": " + file.errors.front().message, false;
  if (!root || !root->is_map()) return error = path + ": the policy is a mapping (failOn, maxRisk, ignoreUnfixed)", false;
  for (const MapEntry& e : root->entries()) {
    const std::string_view k = e.key ? e.key->str() : std::string_view{};
    const std::string_view v = e.value ? e.value->str() : std::string_view{};
    const std::string where = path + ":" + std::to_string(e.value ? e.value->line : 0) + ": " + std::string(k);
    if (k == "failOn") {
      if (v == "none") p.fail_on.reset();
      else if (auto sev = parse_severity(v)) p.fail_on = *sev;
      else return error = where + " is low, medium, high, critical or none, not '" + std::string(v) + "'", false;
    } else if (k == "maxRisk") {
      try {
        std::size_t used = 0;
        double r = std::stod(std::string(v), &used);
        if (used != v.size() || r < 0 || r > 100) throw std::invalid_argument("range");
        p.max_risk = r;
      } catch (const std::exception&) {
        return error = where + " is a number from 0 to 100, not '" + std::string(v) + "'", false;
      }
    } else if (k == "ignoreUnfixed") {
      if (v != "true" && v != "false") return error = where + " is true or false", false;
      p.ignore_unfixed = v == "true";
    } else {
      return error = where + ": unknown key (failOn, maxRisk, ignoreUnfixed)", false;
    }
  }
  return true;
}

std::unique_ptr<sign::Signer> open_signer(const std::string& ref) {
  if (sign::is_pkcs11_uri(ref))
    return sign::open_pkcs11_signer(ref, []() -> std::string {
      throw sign::SignError("the PKCS#11 URI needs pin-value: the hook cannot ask for a PIN");
    });
  std::ifstream in(ref, std::ios::binary);
  if (!in) throw sign::SignError(ref + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  const std::string pem = s.str();
  const bool encrypted = sign::pem_label(pem).rfind("ENCRYPTED", 0) == 0;
  const char* pw = std::getenv("COSIGN_PASSWORD");
  if (encrypted && !pw) throw sign::SignError(ref + ": an encrypted key needs COSIGN_PASSWORD");
  return sign::load_private_key(pem, encrypted ? std::string(pw) : std::string(), ref);
}

struct Job {
  std::string reference;  // host/repository@digest
  std::string digest;
};

class RegistryHook final : public server::HttpHandler {
 public:
  RegistryHook(Policy policy, std::unique_ptr<sign::Signer> signer, std::string db_path, image::ReadOptions read,
               image::WalkLimits limits)
      : policy_(policy), signer_(std::move(signer)), db_path_(std::move(db_path)), read_(std::move(read)),
        limits_(limits), worker_([this] { run(); }) {
    router_.add("POST", "/events", [this](const server::Request& r) { return events(r); });
  }
  ~RegistryHook() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  server::Response handle(const server::Request& r) override { return router_.route(r); }
  void render_metrics(std::string& out) const override {
    std::lock_guard lock(mu_);
    out += "# TYPE kguard_registry_hook_decisions_total counter\n";
    out += "kguard_registry_hook_decisions_total{verdict=\"signed\"} " + std::to_string(signed_) + "\n";
    out += "kguard_registry_hook_decisions_total{verdict=\"rejected\"} " + std::to_string(rejected_) + "\n";
    out += "kguard_registry_hook_decisions_total{verdict=\"error\"} " + std::to_string(errors_) + "\n";
    out += "# TYPE kguard_registry_hook_queue_length gauge\nkguard_registry_hook_queue_length " +
           std::to_string(queue_.size()) + "\n";
  }

 private:
  static bool image_manifest(std::string_view mt) {
    return mt == "application/vnd.oci.image.manifest.v1+json" ||
           mt == "application/vnd.docker.distribution.manifest.v2+json";
  }
  // cosign's own artifacts (our signature pushes among them): sha256-<hex>.sig/.att/.sbom tags.
  static bool cosign_tag(std::string_view tag) {
    if (tag.rfind("sha256-", 0) != 0) return false;
    for (std::string_view suffix : {".sig", ".att", ".sbom"})
      if (tag.size() > suffix.size() && tag.substr(tag.size() - suffix.size()) == suffix) return true;
    return tag.size() == 7 + 64;  // the referrers fallback index tag
  }

  server::Response events(const server::Request& r) {
    SourceFile file;
    file.path = "events";
    file.content = std::string(r.body);
    const Node* root = nullptr;
    load_json(file, file.arena, false, LoadLimits{}, [&](const Document& d) {
      if (!root) root = d.root;
    });
    if (!file.errors.empty() || !root || !root->is_map())
      return server::Response::text(400, "body is not a JSON events envelope\n");
    const Node* events = root->get("events");
    if (!events || !events->is_seq()) return server::Response::text(400, "envelope has no events array\n");
    std::size_t queued = 0;
    for (const Node* e : events->items()) {
      if (!e || !e->is_map()) continue;
      auto s = [](const Node* n, std::string_view k) { return n && n->is_map() && n->get(k) ? n->get(k)->str() : std::string_view{}; };
      const Node* target = e->get("target");
      if (s(e, "action") != "push" || !image_manifest(s(target, "mediaType")) || cosign_tag(s(target, "tag"))) continue;
      const std::string digest(s(target, "digest"));
      const std::string repo(s(target, "repository"));
      const std::string host(s(e->get("request"), "host"));
      if (digest.rfind("sha256:", 0) != 0 || repo.empty() || host.empty()) continue;
      std::lock_guard lock(mu_);
      if (!seen_.insert(digest).second) continue;  // dedupe: a digest is judged once per run
      queue_.push_back({host + "/" + repo + "@" + digest, digest});
      ++queued;
    }
    if (queued) cv_.notify_one();
    return server::Response::text(200, "queued " + std::to_string(queued) + "\n");
  }

  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      decide(job);
    }
  }

  void decide(const Job& job) {
    const auto start = std::chrono::steady_clock::now();
    std::string verdict = "error", reason;
    std::size_t counts[4] = {0, 0, 0, 0}, blocking = 0;
    double top_risk = 0;
    try {
      std::string error;
      auto db = vuln::VulnDatabase::open(db_path_, &error);
      if (!db) throw std::runtime_error("vulnerability database " + db_path_ + ": " + error);
      image::ImageReadResult read = image::inventory_image(job.reference, read_, limits_);
      if (!read.ok()) throw std::runtime_error(read.error);
      ImageVulnerabilities iv = vuln::match_image(read.inventory, *db, vuln::MatchOptions{});
      score_matches(iv, vuln::WorkloadExposure{});
      std::string first;
      for (const VulnMatch& m : iv.matches) {
        if (m.suppressed) continue;
        ++counts[static_cast<int>(m.severity)];
        top_risk = std::max(top_risk, m.risk);
        if (policy_.ignore_unfixed && m.fix != FixState::Fixed) continue;
        const bool sev = policy_.fail_on && m.severity >= *policy_.fail_on;
        const bool risk = policy_.max_risk && m.risk > *policy_.max_risk;
        if (sev || risk) {
          if (!blocking++) first = m.id + " (" + std::string(to_string(m.severity)) + ", risk " + std::to_string(m.risk).substr(0, 5) + ")";
        }
      }
      if (blocking) {
        verdict = "rejected";
        reason = std::to_string(blocking) + " vulnerabilities over the policy, first " + first;
      } else {
        sign::RegistryOptions ro;
        ro.read = read_;
        auto res = sign::sign_image(job.reference, *signer_, sign::Format::Legacy, ro);
        verdict = "signed";
        reason = res.already_signed ? "already signed by this key" : res.location;
      }
    } catch (const std::exception& e) {
      reason = e.what();
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard lock(mu_);
      ++(verdict == "signed" ? signed_ : verdict == "rejected" ? rejected_ : errors_);
      // An error is not a decision: the next push of the digest tries again.
      if (verdict == "error") seen_.erase(job.digest);
    }
    std::ostringstream line;
    {
      JsonWriter w(line);
      w.begin_object();
      w.field("image", job.reference).field("digest", job.digest).field("verdict", verdict).field("reason", reason);
      w.key("counts").begin_object();
      w.field("critical", static_cast<std::uint64_t>(counts[3])).field("high", static_cast<std::uint64_t>(counts[2]));
      w.field("medium", static_cast<std::uint64_t>(counts[1])).field("low", static_cast<std::uint64_t>(counts[0]));
      w.end_object();
      w.field("blocking", static_cast<std::uint64_t>(blocking)).field("maxRisk", top_risk);
      w.field("key", "sha256:" + signer_->public_key().fingerprint());
      w.field("scanMs", ms);
      w.end_object();
    }
    std::lock_guard lock(out_mu_);
    std::cout << line.str() << std::endl;
  }

  Policy policy_;
  std::unique_ptr<sign::Signer> signer_;
  std::string db_path_;
  image::ReadOptions read_;
  image::WalkLimits limits_;
  server::Router router_;
  mutable std::mutex mu_;
  std::mutex out_mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::set<std::string> seen_;
  bool stop_ = false;
  std::uint64_t signed_ = 0, rejected_ = 0, errors_ = 0;
  std::thread worker_;  // last: started once everything it touches exists
};

int usage(const std::string& msg) {
  std::cerr << "kguard registry-hook: " << msg << "\nRun `kguard registry-hook --help` for usage.\n";
  return 2;
}

}  // namespace

int registry_hook_command(const std::vector<std::string>& args) {
  server::ServerOptions o;
  std::string key, config, db_path;
  image::ReadOptions read;
  image::WalkLimits limits;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    }
    if (flag.is("--listen")) {
      if (!flag.value(v)) return usage("--listen needs ADDR:PORT");
      o.listen = v;
    } else if (flag.is("--tls-cert")) {
      if (!flag.value(v)) return usage("--tls-cert needs a file");
      o.cert_file = v;
    } else if (flag.is("--tls-key")) {
      if (!flag.value(v)) return usage("--tls-key needs a file");
      o.key_file = v;
    } else if (flag.is("--key")) {
      if (!flag.value(v) || v.empty()) return usage("--key needs a key file or PKCS#11 URI");
      key = v;
    } else if (flag.is("--config")) {
      if (!flag.value(v) || v.empty()) return usage("--config needs a file");
      config = v;
    } else if (flag.is("--vuln-db")) {
      if (!flag.value(v) || v.empty()) return usage("--vuln-db needs a file");
      db_path = v;
    } else if (flag.is("--workers")) {
      long long n = 0;
      if (!flag.value(v) || !parse_int_in(v, 1, 64, n)) return usage("--workers needs a number from 1 to 64");
      o.workers = static_cast<unsigned>(n);
    } else {
      std::string error;
      const int r = parse_image_read_flag(args, i, read, limits, error);
      if (r != 1) return usage(r < 0 || !error.empty() ? error : "unknown option '" + a + "'");
    }
  }
  if (o.cert_file.empty() || o.key_file.empty() || key.empty())
    return usage("--tls-cert, --tls-key and --key are required");
  Policy policy;
  std::string error;
  if (!config.empty() && !load_policy(config, policy, error)) return usage(error);
  if (db_path.empty()) db_path = vuln::default_db_path();
  std::unique_ptr<sign::Signer> signer;
  try {
    signer = open_signer(key);
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  if (!server::Server::block_signals()) return 2;
  RegistryHook hook(policy, std::move(signer), db_path, read, limits);
  o.describe = {{"key", key}, {"db", db_path}};
  server::Metrics metrics;
  server::Server server(std::move(o), hook, metrics);
  return server.run();
}

}  // namespace kg::cli
