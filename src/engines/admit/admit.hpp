// The admission engine: AdmissionReview v1 request → decision, with Pod
// Security Admission's semantics for the pod-security.kubernetes.io labels
// and kguard's own profiles (kguard.io/enforce|audit|warn) for the rest of
// the catalog. Every verdict comes from the shared object-level
// Evaluator::evaluate_object (catalog/evaluator.hpp), the evaluation `kguard
// scan` runs on each object, so both agree on any object under the same policy.
//
// The engine knows nothing about HTTP or TLS (that is src/server/); it turns
// bytes into a response body and a summary for metrics and the audit log.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/evaluator.hpp"
#include "config/config.hpp"
#include "engines/admit/image_gate.hpp"
#include "engines/admit/signature_gate.hpp"
#include "sources/namespaces.hpp"

namespace kg::admit {

// A PSS level at a version, as PSA writes it: "restricted:latest", "baseline:v1.30".
struct LevelVersion {
  PssLevel level = PssLevel::Privileged;
  int minor = kLatestPssMinor;
  bool latest = true;
  std::string display() const;
  bool operator==(const LevelVersion& o) const {
    return level == o.level && minor == o.minor;
  }
};

// PSA's label value parsers: nullopt when invalid.
std::optional<PssLevel> parse_psa_level(std::string_view s);
std::optional<LevelVersion> parse_psa_version(std::string_view s, PssLevel level);

// The policy of one namespace, after PSA's PolicyToEvaluate and kguard's
// profile labels. Profile names are empty when unset.
struct NamespacePolicy {
  LevelVersion enforce, audit, warn;
  std::string kguard_enforce, kguard_audit, kguard_warn;
  std::vector<std::string> errors;  // invalid labels, in label order
  bool enforce_invalid = false;     // invalid enforce label: evaluated fail-closed
};

// A kguard profile: a set of rule selectors (ids, categories, tags; empty =
// every rule enabled by default) at a PSS level and version for the PSS rules.
struct Profile {
  std::string name;
  std::vector<std::string> rules;
  PssLevel pss_level = PssLevel::Restricted;
  int pss_minor = kLatestPssMinor;
};

// The `admission:` section of the config file (docs/admission.md).
struct AdmitConfig {
  // PSA's PodSecurityConfiguration defaults, as namespace labels would give them.
  std::map<std::string, std::string, std::less<>> default_labels;
  std::map<std::string, Profile, std::less<>> profiles;
  std::vector<std::string> exempt_usernames, exempt_namespaces, exempt_runtime_classes;
  bool enforce_workloads = false;  // kguard profiles deny workload templates too
  bool annotation_exemptions = true;
  // Namespace labels when kguard runs without API access.
  std::map<std::string, Labels, std::less<>> namespaces;
  // The vulnerability gate's policies, in order (the first that matches an image decides).
  std::vector<VulnPolicy> vulnerabilities;
  // The signature gate's policies, in order (the first that matches an image decides).
  std::vector<SignaturePolicy> signatures;
  // admission.revokedKeys: revoked in every signature policy (already added to each one's revoked_keys).
  std::vector<std::string> revoked_signature_keys;
};

// Reads the `admission:` section of an already loaded config; errors name the
// file, line and field.
bool read_admit_config(const Config& config, AdmitConfig& out, std::vector<InputError>& errors);

// Applies PSA's PolicyToEvaluate to namespace labels over the defaults.
NamespacePolicy policy_for_labels(const Labels& labels, const AdmitConfig& config);

// What the vulnerability gate decided for one image of a Pod (the audit log's "images").
struct ImageCheck {
  std::string image;
  std::string digest;
  std::string policy;
  std::string mode;     // enforce, warn, audit
  std::string outcome;  // pass, violation, error, timeout, miss
  std::string cache;    // hit, scan ("" when not answered)
  double scan_ms = 0;
  std::uint64_t counts[4] = {};  // unsuppressed matches by severity, Low..Critical
  std::vector<std::string> violations;  // ids over the threshold, worst first (at most 10)
  std::vector<std::string> ignored;     // ids accepted by the policy's ignores
  std::string error;
};

// What the signature gate decided for one image of a Pod (the audit log's "signatures").
struct SignatureCheck {
  std::string image;
  std::string digest;
  std::string policy;
  std::string mode;     // enforce, warn, audit
  std::string outcome;  // verified, unverified, error, timeout
  std::string cache;    // hit, verify ("" when not answered)
  double verify_ms = 0;
  std::vector<std::string> signed_by;  // key fingerprints that verified
  std::string reason;
  std::vector<AttestationVerdict> attestations;  // the policy's required attestations, each judged
};

// What happened to one request, for metrics, logs and the audit log.
struct ReviewSummary {
  std::string uid;
  std::string kind;
  std::string ns;
  std::string name;
  std::string operation;
  std::string sub_resource;
  std::string username;
  bool dry_run = false;
  std::string decision = "error";  // allow, deny, warn, exempt, error
  int code = 200;
  std::string message;             // denial or error message
  std::vector<std::string> enforce_rules, audit_rules, warn_rules;
  std::string exempt;              // namespace, user, runtimeClass
  std::vector<ImageCheck> images;  // the vulnerability gate, one per image it judged
  std::vector<SignatureCheck> signatures;  // the signature gate, one per image it verified
};

struct ReviewOutcome {
  int http_status = 200;  // 200 for any AdmissionReview response; 400 for bad input
  std::string body;       // JSON AdmissionReview, or a plain-text error for 400
  ReviewSummary summary;
};

// The immutable engine for one configuration: built on start and on every
// reload, shared by the server's worker threads.
class Engine {
 public:
  // nullptr with errors when the configuration is invalid.
  // `images` answers the vulnerability gate; null when there is none (then a
  // config with admission.vulnerabilities is refused).
  static std::unique_ptr<Engine> create(const Config& config, const AdmitConfig& admit,
                                        std::shared_ptr<const NamespaceSource> namespaces,
                                        std::vector<InputError>& errors,
                                        std::shared_ptr<ImageVerdictSource> images = nullptr,
                                        std::shared_ptr<ImageSignatureSource> signatures = nullptr);

  // Reviews one AdmissionReview body. `deadline` bounds the work: past it,
  // Pods are denied (fail closed) and other kinds allowed with an error
  // annotation, as PSA does for internal errors.
  ReviewOutcome review(std::string body, std::chrono::steady_clock::time_point deadline) const;

  const NamespaceSource& namespaces() const { return *namespaces_; }
  const AdmitConfig& config() const { return admit_; }

 private:
  Engine() = default;
  const Evaluator& pss_evaluator(const LevelVersion& lv) const;
  const Evaluator* profile_evaluator(std::string_view name) const;

  AdmitConfig admit_;
  std::shared_ptr<const NamespaceSource> namespaces_;
  std::shared_ptr<ImageVerdictSource> images_;
  std::shared_ptr<ImageSignatureSource> signatures_;
  PodSpecTable pod_specs_;
  // [level - 1][minor]: baseline and restricted at every version.
  std::vector<std::unique_ptr<Evaluator>> pss_[2];
  std::map<std::string, std::unique_ptr<Evaluator>, std::less<>> profiles_;
  std::unique_ptr<Evaluator> strictest_;  // unknown enforce profile: every rule, fail closed
  Config config_;
};

}  // namespace kg::admit
