#include "cli/admit_signatures.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/sign_keys.hpp"
#include "engines/sign/attest.hpp"
#include "engines/sign/keyring.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"
#include "engines/sign/sign.hpp"
#include "sources/image/sources.hpp"

namespace kg::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxTags = 4096;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string short_fp(const std::string& fp) { return "sha256:" + fp.substr(0, 16); }

}  // namespace

std::shared_ptr<const sign::KeylessOptions> RegistrySignatureSource::keyless(const admit::SignaturePolicy& policy,
                                                                             std::string& error) {
  const admit::SignatureKeyless& k = policy.keyless;
  // Keyed by every field, as key files are by path: a reloaded config with other trust reads anew.
  const std::string id = k.trusted_root + "|" + k.certificate_chain + "|" + k.timestamp_chain + "|" + k.identity + "|" +
                         k.identity_regexp + "|" + k.issuer + "|" + k.issuer_regexp + (k.ignore_tlog ? "|now" : "|ts");
  std::lock_guard lock(keys_mu_);
  if (auto it = keyless_.find(id); it != keyless_.end()) return it->second;
  KeylessFlags f;
  f.identity = {k.identity, k.identity_regexp, k.issuer, k.issuer_regexp};
  f.trusted_root = k.trusted_root;
  f.certificate_chain = k.certificate_chain;
  f.timestamp_chain = k.timestamp_chain;
  f.ignore_tlog = k.ignore_tlog;
  f.any = true;
  try {
    auto o = std::make_shared<const sign::KeylessOptions>(f.options());
    keyless_[id] = o;  // only what loaded: a missing file is looked for again next time
    return o;
  } catch (const std::exception& e) {
    error = std::string("keyless trust of policy ") + policy.name + ": " + e.what();
    return nullptr;
  }
}

std::string RegistrySignatureSource::refusals(const admit::SignaturePolicy& policy,
                                              const std::vector<std::shared_ptr<const sign::PublicKey>>& keys,
                                              std::vector<const sign::PublicKey*>& ptrs,
                                              std::vector<std::shared_ptr<const sign::PublicKey>>& revoked_keys,
                                              std::map<std::string, std::string>& refused) {
  // A key outside its validity window (a rotation's old key after notAfter, the new one before
  // notBefore) is still verified against, so a signature it made is reported as its.
  const std::int64_t now = std::time(nullptr);
  for (std::size_t i = 0; i < keys.size() && i < policy.key_windows.size(); ++i) {
    const admit::SignatureKeyWindow& w = policy.key_windows[i];
    sign::KeyWindow kw{w.name, w.not_before, w.not_after};
    const std::string fp = keys[i]->fingerprint();
    if (std::string why = sign::window_refusal(kw, fp, now); !why.empty()) refused[fp] = why;
  }
  for (const std::string& ref : policy.revoked_keys) {
    std::string fp = sign::fingerprint_hex(ref);
    if (fp.empty()) {
      std::string error;
      auto k = key(ref, error);
      if (!k) return "revoked " + error;  // a revocation that cannot be read must not be skipped
      fp = k->fingerprint();
      bool listed = false;
      for (const auto* p : ptrs) listed = listed || p->fingerprint() == fp;
      if (!listed) {
        ptrs.push_back(k.get());
        revoked_keys.push_back(std::move(k));
      }
    }
    std::string name;
    for (std::size_t i = 0; i < keys.size() && i < policy.key_windows.size(); ++i)
      if (keys[i]->fingerprint() == fp) name = policy.key_windows[i].name;
    refused[fp] = sign::revoked_reason(fp, name);
  }
  return "";
}

RegistrySignatureSource::RegistrySignatureSource(AdmitSignatureSettings settings)
    : settings_(std::move(settings)),
      tags_(std::chrono::milliseconds(settings_.tag_ttl_ms), kMaxTags),
      verdicts_(std::chrono::milliseconds(settings_.verdict_ttl_ms), settings_.cache_entries),
      unverified_verdicts_(std::chrono::milliseconds(settings_.unverified_ttl_ms), settings_.cache_entries),
      workers_(4, "verify") {}

RegistrySignatureSource::~RegistrySignatureSource() = default;

std::shared_ptr<const sign::PublicKey> RegistrySignatureSource::key(const std::string& ref, std::string& error) {
  std::lock_guard lock(keys_mu_);
  if (auto it = keys_.find(ref); it != keys_.end()) return it->second;
  try {
    std::shared_ptr<const sign::PublicKey> k;
    if (sign::is_pkcs11_uri(ref)) {
      k = std::make_shared<const sign::PublicKey>(sign::pkcs11_public_key(ref));
    } else {
      std::ifstream in(ref, std::ios::binary);
      if (!in) {
        error = "key " + ref + ": cannot be read";
        return nullptr;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      k = std::make_shared<const sign::PublicKey>(sign::PublicKey::from_pem(ss.str(), ref));
    }
    keys_[ref] = k;  // only keys that loaded: a missing file is looked for again next time
    return k;
  } catch (const std::exception& e) {
    error = std::string("key ") + ref + ": " + e.what();
    return nullptr;
  }
}

RegistrySignatureSource::Resolved RegistrySignatureSource::resolve_now(const std::string& image) {
  Resolved r;
  std::string error;
  const image::ImageRef ref = image::parse_reference(image, error);
  if (!error.empty()) {
    r.error = error;
    return r;
  }
  if (ref.kind != image::ImageRef::Kind::Registry) {
    r.error = "'" + image + "' is not a registry reference";
    return r;
  }
  if (!ref.digest.empty()) {
    r.digest = ref.digest;
  } else {
    try {
      r.digest = image::registry_manifest_digest(ref, settings_.read);
    } catch (const std::exception& e) {
      r.error = std::string("resolving ") + image + ": " + e.what();
      return r;
    }
  }
  r.pinned = ref.registry + "/" + ref.repository + "@" + r.digest;
  return r;
}

admit::SignatureVerdict RegistrySignatureSource::verify_now(const std::string& pinned, const std::string& digest,
                                                            const admit::SignaturePolicy& policy) {
  using Status = admit::SignatureVerdict::Status;
  admit::SignatureVerdict v;
  v.digest = digest;
  const auto start = Clock::now();
  std::vector<std::shared_ptr<const sign::PublicKey>> keys;
  std::vector<const sign::PublicKey*> ptrs;
  for (const std::string& ref : policy.keys) {
    std::string error;
    auto k = key(ref, error);
    if (!k) {
      v.status = Status::Error;
      v.reason = error;
      v.verify_ms = ms_since(start);
      return v;
    }
    ptrs.push_back(k.get());
    keys.push_back(std::move(k));
  }
  sign::VerifyOptions what;
  std::shared_ptr<const sign::KeylessOptions> keyless_trust;
  if (policy.keyless.present) {
    std::string error;
    keyless_trust = keyless(policy, error);
    if (!keyless_trust) {
      v.status = Status::Error;
      v.reason = error;
      v.verify_ms = ms_since(start);
      return v;
    }
    what.keyless = keyless_trust.get();
  }
  std::vector<std::shared_ptr<const sign::PublicKey>> revoked_keys;  // held while verifying
  if (std::string error = refusals(policy, keys, ptrs, revoked_keys, what.refused_keys); !error.empty()) {
    v.status = Status::Error;
    v.reason = error;
    v.verify_ms = ms_since(start);
    return v;
  }
  try {
    sign::RegistryOptions options;
    options.read = settings_.read;
    const sign::VerifyResult res = sign::verify_image(pinned, ptrs, what, options);
    // The payload names this digest (verify_image checks it against the image, never a tag).
    std::set<std::string> by, identities;
    for (const sign::Signature& s : res.signatures) {
      if (!s.verified) continue;
      by.insert(s.key);
      if (!s.identity.empty()) identities.insert(s.identity);
    }
    for (const std::string& fp : by) v.signed_by.push_back(short_fp(fp));
    for (const std::string& id : identities) v.signed_by.push_back("keyless:" + id);
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < policy.keys.size(); ++i)
      if (!by.count(keys[i]->fingerprint())) missing.push_back(policy.keys[i]);
    // Signatures by revoked (or retired) keys: the reason names the key when nothing else verified.
    std::string refused;
    std::set<std::string> refused_seen;
    for (const sign::Signature& s : res.signatures)
      if (s.refused && refused_seen.insert(s.key).second) refused += (refused.empty() ? "" : "; ") + s.reason;
    // Keyless counts as one more signer: under require: all it must have signed too.
    if (policy.keyless.present && identities.empty()) missing.push_back("a keyless certificate");
    const bool ok = policy.require_all ? missing.empty() : !by.empty();
    if (ok) {
      v.status = Status::Verified;
    } else {
      v.status = Status::Unverified;
      if (res.signatures.empty()) {
        v.reason = "no cosign signature found for " + digest;
      } else if (by.empty() && !refused.empty()) {
        v.reason = "no signature by a valid key: " + refused;
      } else if (by.empty()) {
        // The first rejection is the one users need (wrong key, payload over another digest, ...).
        v.reason = std::to_string(res.signatures.size()) + " signature(s) found, none verified by " +
                   (policy.keys.size() == 1 && !policy.keyless.present ? "the key " + policy.keys.front()
                    : policy.keys.empty()                               ? "the policy's keyless trust"
                                                                        : "any of the policy's keys");
        for (const sign::Signature& s : res.signatures)
          if (!s.reason.empty()) {
            v.reason += " (" + s.reason + ")";
            break;
          }
      } else {
        std::string list;
        for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
        v.reason = "require: all, but not signed by " + list;
        if (!refused.empty()) v.reason += " (" + refused + ")";
      }
    }
  } catch (const std::exception& e) {
    v.status = Status::Error;
    v.reason = std::string("verifying ") + pinned + ": " + e.what();
  }
  if (v.status != Status::Error && !policy.attestations.empty()) check_attestations(pinned, digest, policy, v);
  v.verify_ms = ms_since(start);
  return v;
}

void RegistrySignatureSource::check_attestations(const std::string& pinned, const std::string& digest,
                                                 const admit::SignaturePolicy& policy, admit::SignatureVerdict& v) {
  using Status = admit::SignatureVerdict::Status;
  // Every key any requirement names, loaded once; the attestations are read once under all of them
  // and each requirement then keeps those its own keys signed.
  std::map<std::string, std::shared_ptr<const sign::PublicKey>> loaded;
  std::vector<const sign::PublicKey*> all;
  for (const admit::RequiredAttestation& req : policy.attestations)
    for (const std::string& ref : admit::attestation_keys(policy, req)) {
      if (loaded.count(ref)) continue;
      std::string error;
      auto k = key(ref, error);
      if (!k) {
        v.status = Status::Error;
        v.reason = error;
        return;
      }
      all.push_back(k.get());
      loaded[ref] = std::move(k);
    }
  sign::AttestationsResult found;
  try {
    sign::RegistryOptions options;
    options.read = settings_.read;
    // Only the required types (and the SBOM types require-sbom reads) are downloaded.
    std::vector<std::string> wanted;
    for (const admit::RequiredAttestation& req : policy.attestations) {
      wanted.push_back(req.predicate_type);
      if (req.require_sbom) wanted.insert(wanted.end(), {sign::kPredicateCycloneDX, sign::kPredicateSPDX});
    }
    found = sign::verify_attestations(pinned, all, sign::VerifyOptions{}, options, wanted);
  } catch (const std::exception& e) {
    v.status = Status::Error;
    v.reason = std::string("reading the attestations of ") + pinned + ": " + e.what();
    return;
  }
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  for (const admit::RequiredAttestation& req : policy.attestations) {
    const std::vector<std::string>& refs = admit::attestation_keys(policy, req);
    std::map<std::string, std::string> ref_of;  // fingerprint -> key reference
    for (const std::string& ref : refs) ref_of[loaded[ref]->fingerprint()] = ref;
    sign::AttestationPolicy content;
    content.max_severity = req.max_severity;
    content.max_age = req.max_age_s;
    bool have_sbom = false;
    for (const sign::Attestation& a : found.attestations)
      if (a.verified && ref_of.count(a.key) &&
          (a.predicate_type == sign::kPredicateCycloneDX || a.predicate_type == sign::kPredicateSPDX))
        have_sbom = true;
    admit::AttestationVerdict out;
    out.predicate_type = req.predicate_type;
    std::set<std::string> passed_by;  // fingerprints with a passing attestation of this type
    std::size_t of_type = 0, rejected = 0;
    std::string first_rejection, first_failure;
    for (const sign::Attestation& a : found.attestations) {
      if (!a.verified) {
        // Unverified ones of this type (by the annotation's hint, or with none) explain a "missing".
        if (a.predicate_type.empty() || a.predicate_type == req.predicate_type) {
          if (first_rejection.empty()) first_rejection = a.reason;
          ++rejected;
        }
        continue;
      }
      if (a.predicate_type != req.predicate_type || !ref_of.count(a.key)) continue;
      ++of_type;
      std::vector<sign::PolicyCheck> checks;
      try {
        checks = sign::check_statement(content, a.statement, now);
      } catch (const std::exception& e) {
        checks.push_back({"statement", false, e.what()});
      }
      if (req.require_sbom)
        checks.push_back({"require-sbom", have_sbom, "no verified CycloneDX or SPDX attestation by the same keys"});
      bool ok = true;
      for (const sign::PolicyCheck& c : checks)
        if (!c.passed) {
          ok = false;
          if (first_failure.empty()) first_failure = c.name + ": " + c.detail;
          break;
        }
      if (ok) passed_by.insert(a.key);
    }
    for (const std::string& fp : passed_by) out.signed_by.push_back(short_fp(fp));
    std::vector<std::string> missing;
    for (const auto& [fp, ref] : ref_of)
      if (!passed_by.count(fp)) missing.push_back(ref);
    const bool every_key = admit::attestation_require_all(policy, req);
    if (every_key ? missing.empty() : !passed_by.empty()) {
      out.outcome = "verified";
    } else if (of_type == 0) {
      out.outcome = "missing";
      out.reason = "no attestation of this type signed by " +
                   (refs.size() == 1 ? "the key " + refs.front() : std::string("any of the policy's keys")) + " on " +
                   digest;
      if (rejected) out.reason += " (" + std::to_string(rejected) + " rejected: " + first_rejection + ")";
    } else if (passed_by.empty()) {
      out.outcome = "failed";
      out.reason = first_failure;
    } else {
      std::string list;
      for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
      out.outcome = "missing";
      out.reason = "require: all, but no passing attestation by " + list;
    }
    v.attestations.push_back(std::move(out));
  }
}

admit::SignatureVerdict RegistrySignatureSource::verify(const std::string& image, const admit::SignaturePolicy& policy,
                                                        admit::Deadline deadline) {
  using Status = admit::SignatureVerdict::Status;
  admit::SignatureVerdict v;
  // Reference → digest (a pinned digest needs no round trip).
  Resolved r;
  if (image.find("@sha256:") != std::string::npos) {
    r = resolve_now(image);
  } else if (auto digest = tags_.get(image)) {
    r = resolve_now(image + "@" + *digest);  // parses only
  } else {
    auto flight = resolving_.run(image, workers_, [this, image] {
      Resolved x = resolve_now(image);
      if (x.error.empty()) tags_.put(image, x.digest);
      return x;
    });
    if (flight.wait_until(deadline) != std::future_status::ready) {
      v.status = Status::Timeout;
      v.reason = "resolving " + image + " through the registry did not finish in time";
      std::lock_guard lock(metrics_mu_);
      ++timeouts_;
      return v;
    }
    r = flight.get();
  }
  if (!r.error.empty()) {
    v.status = Status::Error;
    v.reason = r.error;
    std::lock_guard lock(metrics_mu_);
    ++errors_;
    return v;
  }
  // Digest + keys → verdict: cached by both (another policy's keys decide differently).
  std::string cache_key = r.digest + "|" + admit::verdict_cache_key(policy);
  // Which keys are inside their validity window now decides too.
  const std::int64_t now = std::time(nullptr);
  for (const admit::SignatureKeyWindow& w : policy.key_windows)
    cache_key += now < w.not_before ? "|early" : now > w.not_after ? "|retired" : "|in";
  auto hit = verdicts_.get(cache_key);
  if (!hit) hit = unverified_verdicts_.get(cache_key);
  if (hit) {
    v = *hit;
    v.cache_hit = true;
    v.verify_ms = 0;
    std::lock_guard lock(metrics_mu_);
    ++hits_;
    return v;
  }
  {
    std::lock_guard lock(metrics_mu_);
    ++misses_;
  }
  auto flight = verifying_.run(cache_key, workers_, [this, cache_key, pinned = r.pinned, digest = r.digest, policy] {
    admit::SignatureVerdict x = verify_now(pinned, digest, policy);
    // Answers are kept; failures to ask are not (the registry may be back next time).
    bool attested = true;
    for (const admit::AttestationVerdict& a : x.attestations) attested = attested && a.outcome == "verified";
    // A missing attestation is kept as briefly as a missing signature: the pipeline may attach it soon.
    if (x.status == Status::Verified && attested) verdicts_.put(cache_key, x);
    else if (x.status == Status::Verified || x.status == Status::Unverified) unverified_verdicts_.put(cache_key, x);
    std::lock_guard lock(metrics_mu_);
    ++(x.status == Status::Verified ? verified_ : x.status == Status::Unverified ? unverified_ : errors_);
    return x;
  });
  if (flight.wait_until(deadline) != std::future_status::ready) {
    v.status = Status::Timeout;
    v.digest = r.digest;
    v.reason = "verifying " + r.pinned + " did not finish in time";
    std::lock_guard lock(metrics_mu_);
    ++timeouts_;
    return v;
  }
  return flight.get();
}

void RegistrySignatureSource::render_metrics(std::string& out) const {
  std::lock_guard lock(metrics_mu_);
  out += "# HELP kguard_admission_signature_cache_total Signature verdicts asked of the digest-keyed cache.\n"
         "# TYPE kguard_admission_signature_cache_total counter\n"
         "kguard_admission_signature_cache_total{result=\"hit\"} " + std::to_string(hits_) + "\n"
         "kguard_admission_signature_cache_total{result=\"miss\"} " + std::to_string(misses_) + "\n";
  out += "# HELP kguard_admission_signature_verifications_total Verifications against the registry, by result.\n"
         "# TYPE kguard_admission_signature_verifications_total counter\n"
         "kguard_admission_signature_verifications_total{result=\"verified\"} " + std::to_string(verified_) + "\n"
         "kguard_admission_signature_verifications_total{result=\"unverified\"} " + std::to_string(unverified_) + "\n"
         "kguard_admission_signature_verifications_total{result=\"error\"} " + std::to_string(errors_) + "\n";
  out += "# HELP kguard_admission_signature_timeouts_total Requests whose resolution or verification outlasted the budget.\n"
         "# TYPE kguard_admission_signature_timeouts_total counter\n"
         "kguard_admission_signature_timeouts_total " + std::to_string(timeouts_) + "\n";
}

}  // namespace kg::cli
