// kguard registry-hook: a docker-registry notification endpoint (docs/signing.md "Pipeline").
// The registry POSTs event envelopes (application/vnd.docker.distribution.events.v1+json); each
// pushed image manifest (by tag) or index is journaled on disk (--state-dir) and queued before the
// request is answered (the registry retries a slow or failed delivery and holds its queue
// meanwhile; a restart replays what was accepted and not decided), read from the registry by digest
// (an index: each platform manifest), matched against the vulnerability database and judged by the
// policy; one that passes is signed with the configured key and gets its SBOM and scan attestations
// (an index: every platform and then the index, only when all pass), one that fails is left
// unsigned. Every decision is a line of the signing record. It lives in the CLI layer because it
// composes the image, vuln and sign engines, which never include each other.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli/args.hpp"
#include "cli/attest_predicates.hpp"
#include "cli/commands.hpp"
#include "cli/image_flags.hpp"
#include "cli/image_json.hpp"
#include "cli/image_vulns.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "engines/image/inventory/catalogers.hpp"
#include "engines/sign/attest.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"
#include "engines/sign/sign.hpp"
#include "engines/vuln/db/database.hpp"
#include "engines/vuln/match/match.hpp"
#include "model/severity.hpp"
#include "server/http_handler.hpp"
#include "server/metrics.hpp"
#include "server/server.hpp"
#include "sources/image/json.hpp"
#include "sources/image/registry_client.hpp"
#include "sources/image/registry_events.hpp"

namespace kg::cli {
namespace {

constexpr const char* kHelp = R"(Usage: kguard registry-hook --listen ADDR:PORT --tls-cert FILE --tls-key FILE --key REF [options]

Serves POST /events, the endpoint of a docker-registry `notifications:` section. Each image pushed
by tag, and each multi-platform index, is read from the registry by digest (an index: every platform
manifest), matched against the vulnerability database and judged by the policy; when it passes, its
digest is signed with --key in cosign's format and its CycloneDX SBOM and vulnerability scan are
attached as attestations signed by the same key (an index: each platform and the index, only when
every platform passes); when it fails nothing is signed. One JSON line per decision on stdout and in
the signing record.
      --key REF               cosign.key (password from COSIGN_PASSWORD), a PEM private key, or a
                              PKCS#11 URI with pin-value
      --config FILE           policy (YAML): failOn: low|medium|high|critical|none, maxRisk: N,
                              ignoreUnfixed: true|false (default: failOn critical)
      --vuln-db PATH          the database (default ~/.cache/kguard/vuln.db)
      --state-dir DIR         queue.jsonl (each accepted push, on disk before the registry is
                              answered; replayed after a restart) and records.jsonl (the signing
                              record; what it holds as signed or rejected is never judged again)
      --record FILE           the signing record elsewhere (default DIR/records.jsonl)
      --format legacy|bundle  how signatures and attestations are attached (default legacy, cosign's)
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

// One accepted push (sources/image/registry_events): a tagged image manifest or an index. What is
// signed is a repository's digest: the same digest in another repository is another job.
using Job = image::PushEvent;

// Reads a JSON-lines file one object at a time; a torn last line (a crash mid-write) is skipped.
template <typename F>
void each_json_line(const std::string& path, F&& f) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    SourceFile file;
    file.path = path;
    file.content = line;
    const Node* root = nullptr;
    load_json(file, file.arena, false, LoadLimits{}, [&](const Document& d) {
      if (!root) root = d.root;
    });
    if (file.errors.empty() && root && root->is_map()) f(root);
  }
}

std::string_view field_of(const Node* n, std::string_view k) {
  const Node* v = n && n->is_map() ? n->get(k) : nullptr;
  return v && v->is_scalar() ? v->str() : std::string_view{};
}

// The hook's state on disk (--state-dir): queue.jsonl, every accepted push, appended and fsync'd
// before the registry is answered; records.jsonl, every decision (the signing record). On start the
// pushes without a decision are queued again, and the queue file is rewritten with only them.
class Journal {
 public:
  bool open(const std::string& dir, const std::string& record_path, std::string& error) {
    dir_ = dir;
    record_path_ = record_path;
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return error = dir + ": " + ec.message(), false;
    }
    if (!record_path_.empty()) {
      record_fd_ = ::open(record_path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      if (record_fd_ < 0) return error = record_path_ + ": " + std::strerror(errno), false;
      // A line torn by a crash is ended, so the next record starts a line of its own.
      const off_t size = ::lseek(record_fd_, 0, SEEK_END);
      char last = '\n';
      if (size > 0 && ::pread(record_fd_, &last, 1, size - 1) == 1 && last != '\n') write_all(record_fd_, "\n");
    }
    return true;
  }

  // The decided pushes (signed or rejected: an error is tried again) and the accepted ones still
  // waiting, in the order they came; the queue file is compacted to the latter.
  bool load(std::set<std::string>& decided, std::vector<Job>& pending, std::string& error) {
    if (!record_path_.empty())
      each_json_line(record_path_, [&](const Node* r) {
        const std::string_view v = field_of(r, "verdict");
        if (v == "signed" || v == "rejected") decided.insert(std::string(field_of(r, "image")));
      });
    if (dir_.empty()) return true;
    std::set<std::string> queued;
    std::ifstream in(queue_path(), std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      std::optional<Job> j = image::parse_push_event_json(line);
      if (!j || decided.count(j->reference()) || !queued.insert(j->reference()).second) continue;
      pending.push_back(std::move(*j));
    }
    // Compaction: a temporary file, fsync'd, renamed over the queue.
    const std::string tmp = queue_path() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return error = tmp + ": " + std::strerror(errno), false;
    std::string all;
    for (const Job& j : pending) all += image::push_event_json(j) + "\n";
    const bool ok = write_all(fd, all) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), queue_path().c_str()) != 0)
      return error = queue_path() + ": " + std::strerror(errno), false;
    if (int d = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
      ::fsync(d);  // the rename itself survives a crash
      ::close(d);
    }
    queue_fd_ = ::open(queue_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (queue_fd_ < 0) return error = queue_path() + ": " + std::strerror(errno), false;
    return true;
  }

  // Durable before the registry hears 200: false when the disk refused (the registry retries).
  bool accept(const Job& j) {
    if (queue_fd_ < 0) return true;
    std::lock_guard lock(mu_);
    return write_all(queue_fd_, image::push_event_json(j) + "\n") && ::fdatasync(queue_fd_) == 0;
  }
  void record(const std::string& line) {
    if (record_fd_ < 0) return;
    std::lock_guard lock(mu_);
    if (!write_all(record_fd_, line + "\n") || ::fdatasync(record_fd_) != 0)
      log_line("error", "cannot write the signing record", {{"file", record_path_}, {"error", std::strerror(errno)}});
  }
  ~Journal() {
    if (queue_fd_ >= 0) ::close(queue_fd_);
    if (record_fd_ >= 0) ::close(record_fd_);
  }

 private:
  std::string queue_path() const { return dir_ + "/queue.jsonl"; }
  static bool write_all(int fd, const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
      const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  std::string dir_, record_path_;
  int queue_fd_ = -1, record_fd_ = -1;
  std::mutex mu_;
};

// What the hook wrote for one digest: its signature and attestations.
struct Written {
  std::string image, signature;
  bool already_signed = false;
  std::vector<std::pair<std::string, std::string>> attestations;  // predicate type, location
};

// One image manifest read, matched and judged.
struct Scan {
  std::string digest, platform;  // platform: os/arch[/variant] of an index's entry
  image::ImageReadResult read;
  ImageVulnerabilities vulns;
  std::size_t counts[4] = {0, 0, 0, 0}, blocking = 0;
  double top_risk = 0;
  std::string first;  // the first match over the policy
  std::chrono::system_clock::time_point started, finished;
};

class RegistryHook final : public server::HttpHandler {
 public:
  RegistryHook(Policy policy, std::unique_ptr<sign::Signer> signer, std::string db_path,
               image::ReadOptions read, image::WalkLimits limits, sign::Format format, Journal& journal,
               std::vector<Job> pending, std::set<std::string> decided)
      : policy_(policy), signer_(std::move(signer)), db_path_(std::move(db_path)),
        read_(std::move(read)), limits_(limits), format_(format), journal_(journal) {
    seen_ = std::move(decided);
    for (Job& j : pending)
      if (seen_.insert(j.reference()).second) queue_.push_back(std::move(j));
    replayed_ = queue_.size();
    router_.add("POST", "/events", [this](const server::Request& r) { return events(r); });
    worker_ = std::thread([this] { run(); });
  }
  ~RegistryHook() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  std::size_t replayed() const { return replayed_; }
  server::Response handle(const server::Request& r) override { return router_.route(r); }
  void render_metrics(std::string& out) const override {
    std::lock_guard lock(mu_);
    out += "# TYPE kguard_registry_hook_decisions_total counter\n";
    out += "kguard_registry_hook_decisions_total{verdict=\"signed\"} " + std::to_string(signed_) + "\n";
    out += "kguard_registry_hook_decisions_total{verdict=\"rejected\"} " + std::to_string(rejected_) + "\n";
    out += "kguard_registry_hook_decisions_total{verdict=\"error\"} " + std::to_string(errors_) + "\n";
    out += "# TYPE kguard_registry_hook_queue_length gauge\nkguard_registry_hook_queue_length " +
           std::to_string(queue_.size()) + "\n";
    out += "# TYPE kguard_registry_hook_replayed_total counter\nkguard_registry_hook_replayed_total " +
           std::to_string(replayed_) + "\n";
  }

 private:
  server::Response events(const server::Request& r) {
    std::vector<Job> pushes;
    std::string error;
    if (!image::parse_push_events(r.body, pushes, error)) return server::Response::text(400, error + "\n");
    std::size_t queued = 0;
    const std::string now = utc_rfc3339(std::chrono::system_clock::now());
    for (Job& job : pushes) {
      job.accepted = now;
      {
        std::lock_guard lock(mu_);
        if (!seen_.insert(job.reference()).second) continue;  // dedupe: a repository's digest is judged once
      }
      // On disk before the registry hears 200; a refusal is a 503, and the registry delivers again.
      if (!journal_.accept(job)) {
        std::lock_guard lock(mu_);
        seen_.erase(job.reference());
        return server::Response::text(503, "the queue journal cannot be written\n");
      }
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(job));
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

  Scan scan(const std::string& reference, const vuln::VulnDatabase& db) {
    Scan s;
    s.started = std::chrono::system_clock::now();
    s.read = image::inventory_image(reference, read_, limits_);
    if (!s.read.ok()) throw std::runtime_error(s.read.error);
    s.vulns = vuln::match_image(s.read.inventory, db, vuln::MatchOptions{});
    score_matches(s.vulns, vuln::WorkloadExposure{});
    for (const VulnMatch& m : s.vulns.matches) {
      if (m.suppressed) continue;
      ++s.counts[static_cast<int>(m.severity)];
      s.top_risk = std::max(s.top_risk, m.risk);
      if (policy_.ignore_unfixed && m.fix != FixState::Fixed) continue;
      const bool sev = policy_.fail_on && m.severity >= *policy_.fail_on;
      const bool risk = policy_.max_risk && m.risk > *policy_.max_risk;
      if ((sev || risk) && !s.blocking++)
        s.first = m.id + " (" + std::string(to_string(m.severity)) + ", risk " + std::to_string(m.risk).substr(0, 5) + ")";
    }
    s.finished = std::chrono::system_clock::now();
    return s;
  }

  // The platform manifests an index lists (nested indexes and buildx's attestation manifests,
  // platform unknown/unknown, are not images to run).
  std::vector<std::pair<std::string, std::string>> platforms_of(const Job& job) {
    image::RegistryClient c(job.host, job.repository, read_, false);
    auto m = c.get_manifest(job.digest);
    if (!m) throw std::runtime_error(job.reference() + ": the index is gone");
    auto doc = image::parse_json(m->bytes, job.reference());
    const Node* list = doc->root->get("manifests");
    if (!list || !list->is_seq() || list->items().empty()) throw std::runtime_error(job.reference() + ": the index lists no manifests");
    std::vector<std::pair<std::string, std::string>> out;
    for (const Node* d : list->items()) {
      const Node* p = d && d->is_map() ? d->get("platform") : nullptr;
      std::string platform = std::string(field_of(p, "os")) + "/" + std::string(field_of(p, "architecture"));
      if (!field_of(p, "variant").empty()) platform += "/" + std::string(field_of(p, "variant"));
      if (field_of(p, "os") == "unknown") continue;
      if (!image::is_image_manifest_type(field_of(d, "mediaType")))
        throw std::runtime_error(job.reference() + ": " + std::string(field_of(d, "digest")) +
                                 " is a nested index, which the hook does not judge");
      out.emplace_back(std::string(field_of(d, "digest")), platform);
    }
    if (out.empty()) throw std::runtime_error(job.reference() + ": the index lists no platform image");
    return out;
  }

  // Signs `reference` and attaches its SBOM and scan attestations with the same key; what was
  // written goes into the record. `replace`: the .att layers of the same predicate type go first
  // (a replayed job does not stack a second scan).
  Written sign_and_attest(const std::string& reference, const std::vector<std::pair<std::string, std::string>>& sboms,
                          const std::string& vuln_predicate) {
    sign::RegistryOptions ro;
    ro.read = read_;
    Written out;
    out.image = reference;
    auto sig = sign::sign_image(reference, *signer_, format_, ro);
    out.signature = sig.location;
    out.already_signed = sig.already_signed;
    bool first_sbom = true;
    for (const auto& [where, sbom] : sboms) {
      auto a = sign::attest_image(reference, *signer_, "cyclonedx", sbom, where, format_, first_sbom, ro);
      first_sbom = false;
      out.attestations.emplace_back(a.predicate_type, a.location);
    }
    auto a = sign::attest_image(reference, *signer_, "vuln", vuln_predicate, "the scan of " + reference, format_, true, ro);
    out.attestations.emplace_back(a.predicate_type, a.location);
    return out;
  }

  void decide(const Job& job) {
    const auto start = std::chrono::steady_clock::now();
    std::string verdict = "error", reason;
    std::vector<Scan> scans;
    std::vector<Written> written;
    {
      try {
        std::string error;
        auto db = vuln::VulnDatabase::open(db_path_, &error);
        if (!db) throw std::runtime_error("vulnerability database " + db_path_ + ": " + error);
        const bool index = job.index();
        if (index) {
          for (const auto& [digest, platform] : platforms_of(job)) {
            scans.push_back(scan(job.host + "/" + job.repository + "@" + digest, *db));
            scans.back().digest = digest;
            scans.back().platform = platform;
          }
        } else {
          scans.push_back(scan(job.reference(), *db));
          scans.back().digest = job.digest;
        }
        std::size_t blocking = 0;
        std::string first;
        for (const Scan& s : scans) {
          if (s.blocking && first.empty()) first = (s.platform.empty() ? "" : s.platform + ": ") + s.first;
          blocking += s.blocking;
        }
        if (blocking) {
          verdict = "rejected";
          reason = std::to_string(blocking) + " vulnerabilities over the policy, first " + first;
          if (index) reason += " (the index and none of its platforms are signed)";
        } else {
          // Every platform first, the index last (cosign sign --recursive's set): the index digest a
          // tag resolves to is signed only once everything under it is.
          for (const Scan& s : scans) {
            const std::string ref = job.host + "/" + job.repository + "@" + s.digest;
            written.push_back(sign_and_attest(ref, {{"the SBOM of " + ref, cyclonedx_sbom_json(s.read.inventory)}},
                                              vuln_predicate_json(s.read, s.vulns, db_path_, s.started, s.finished)));
          }
          if (index)
            written.push_back(sign_and_attest(job.reference(), index_sboms(job, scans), index_vuln_predicate(scans)));
          verdict = "signed";
          reason = index ? "the index and its " + std::to_string(scans.size()) + " platform manifests passed" : "passed";
        }
      } catch (const std::exception& e) {
        reason = e.what();
      }
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    {
      std::lock_guard lock(mu_);
      ++(verdict == "signed" ? signed_ : verdict == "rejected" ? rejected_ : errors_);
      // An error is not a decision: the next push of the digest (or the next start) tries again.
      if (verdict == "error") seen_.erase(job.reference());
    }
    const std::string line = record(job, verdict, reason, scans, written, ms);
    journal_.record(line);
    std::lock_guard lock(out_mu_);
    std::cout << line << std::endl;
  }

  // The index's SBOM attestations: each platform's SBOM, attached to the index digest too.
  static std::vector<std::pair<std::string, std::string>> index_sboms(const Job& job, const std::vector<Scan>& scans) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Scan& s : scans)
      out.emplace_back("the SBOM of " + s.platform + " in " + job.reference(), cyclonedx_sbom_json(s.read.inventory));
    return out;
  }
  // The index's scan: cosign's vuln predicate whose result lists each platform's kguard image JSON.
  std::string index_vuln_predicate(const std::vector<Scan>& scans) const {
    std::string result = "{\"manifests\":[";
    for (std::size_t i = 0; i < scans.size(); ++i) {
      std::ostringstream one;
      print_image_json(one, scans[i].read, &scans[i].vulns);
      std::string body = one.str();
      while (!body.empty() && body.back() == '\n') body.pop_back();
      result += i ? ",{\"platform\":" : "{\"platform\":";
      JsonWriter::escape(result, scans[i].platform);
      result += ",\"digest\":";
      JsonWriter::escape(result, scans[i].digest);
      result += ",\"result\":" + body + "}";
    }
    result += "]}";
    return vuln_predicate_json(result, db_path_, scans.front().vulns.db_built_at, scans.front().started,
                               scans.back().finished);
  }

  // The signing record: which key signed what, when, after which scan.
  std::string record(const Job& job, const std::string& verdict, const std::string& reason, const std::vector<Scan>& scans,
                     const std::vector<Written>& written, double ms) const {
    std::size_t counts[4] = {0, 0, 0, 0}, blocking = 0;
    double top_risk = 0;
    for (const Scan& s : scans) {
      for (int i = 0; i < 4; ++i) counts[i] += s.counts[i];
      blocking += s.blocking;
      top_risk = std::max(top_risk, s.top_risk);
    }
    std::ostringstream line;
    JsonWriter w(line);
    auto write_counts = [&](const std::size_t* c) {
      w.key("counts").begin_object();
      w.field("critical", static_cast<std::uint64_t>(c[3])).field("high", static_cast<std::uint64_t>(c[2]));
      w.field("medium", static_cast<std::uint64_t>(c[1])).field("low", static_cast<std::uint64_t>(c[0]));
      w.end_object();
    };
    w.begin_object();
    w.field("time", utc_rfc3339(std::chrono::system_clock::now()));
    w.field("image", job.reference()).field("repository", job.host + "/" + job.repository);
    w.field("tag", job.tag).field("digest", job.digest);
    w.field("kind", job.index() ? "index" : "image").field("accepted", job.accepted);
    w.field("verdict", verdict).field("reason", reason);
    write_counts(counts);
    w.field("blocking", static_cast<std::uint64_t>(blocking)).field("maxRisk", top_risk);
    w.field("key", "sha256:" + signer_->public_key().fingerprint()).field("keyRef", signer_->describe());
    // The scan the decision rests on: the database and, per manifest, what was found.
    w.key("scan").begin_object();
    w.field("db", db_path_).field("dbBuiltAt", scans.empty() ? std::string() : scans.front().vulns.db_built_at);
    w.field("failOn", policy_.fail_on ? std::string(to_string(*policy_.fail_on)) : std::string("none"));
    if (policy_.max_risk) w.field("maxRiskPolicy", *policy_.max_risk);
    w.field("ignoreUnfixed", policy_.ignore_unfixed);
    w.key("manifests").begin_array();
    for (const Scan& s : scans) {
      w.begin_object().field("digest", s.digest);
      if (!s.platform.empty()) w.field("platform", s.platform);
      w.field("os", s.vulns.os).field("packages", static_cast<std::uint64_t>(s.read.inventory.packages.size()));
      write_counts(s.counts);
      w.field("blocking", static_cast<std::uint64_t>(s.blocking));
      if (!s.first.empty()) w.field("first", s.first);
      w.field("scanStartedOn", utc_rfc3339(s.started)).field("scanFinishedOn", utc_rfc3339(s.finished));
      w.end_object();
    }
    w.end_array().end_object();
    // What was signed and attached, with the key above (a rejected image: nothing).
    w.key("signed").begin_array();
    for (const Written& x : written) {
      w.begin_object().field("image", x.image).field("signature", x.signature).field("alreadySigned", x.already_signed);
      w.key("attestations").begin_array();
      for (const auto& [type, location] : x.attestations)
        w.begin_object().field("predicateType", type).field("location", location).end_object();
      w.end_array().end_object();
    }
    w.end_array();
    w.field("scanMs", ms);
    w.end_object();
    w.flush();
    return line.str();
  }

  Policy policy_;
  std::unique_ptr<sign::Signer> signer_;
  std::string db_path_;
  image::ReadOptions read_;
  image::WalkLimits limits_;
  sign::Format format_;
  Journal& journal_;
  server::Router router_;
  mutable std::mutex mu_;
  std::mutex out_mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::set<std::string> seen_;  // queued, being judged, or decided
  std::size_t replayed_ = 0;
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
  std::string key, config, db_path, state_dir, record_path;
  sign::Format format = sign::Format::Legacy;
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
    } else if (flag.is("--state-dir")) {
      if (!flag.value(v) || v.empty()) return usage("--state-dir needs a directory");
      state_dir = v;
    } else if (flag.is("--record")) {
      if (!flag.value(v) || v.empty()) return usage("--record needs a file");
      record_path = v;
    } else if (flag.is("--format")) {
      if (!flag.value(v) || (v != "legacy" && v != "bundle")) return usage("--format is legacy or bundle");
      format = v == "bundle" ? sign::Format::Bundle : sign::Format::Legacy;
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
  if (record_path.empty() && !state_dir.empty()) record_path = state_dir + "/records.jsonl";
  Journal journal;
  std::set<std::string> decided;
  std::vector<Job> pending;
  if (!journal.open(state_dir, record_path, error) || !journal.load(decided, pending, error)) return usage(error);
  if (!server::Server::block_signals()) return 2;
  const std::string key_description = signer->describe();
  RegistryHook hook(policy, std::move(signer), db_path, read, limits, format, journal, std::move(pending),
                    std::move(decided));
  if (hook.replayed())
    log_line("info", "accepted pushes without a decision replayed",
             {{"count", std::to_string(hook.replayed())}, {"queue", state_dir + "/queue.jsonl"}});
  o.describe = {{"key", key_description}, {"db", db_path}, {"state", state_dir.empty() ? "memory" : state_dir}};
  server::Metrics metrics;
  server::Server server(std::move(o), hook, metrics);
  return server.run();
}

}  // namespace kg::cli
