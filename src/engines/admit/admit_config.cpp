// The `admission:` section of the config file:
//
//   admission:
//     defaults: {enforce: baseline, warn: restricted, kguard-audit: hardened}
//     profiles:
//       hardened: {rules: [security, images], pss: restricted, pssVersion: latest}
//     exemptions: {usernames: [...], namespaces: [...], runtimeClasses: [...]}
//     enforceWorkloads: false
//     annotationExemptions: true
//     namespaces:
//       shop: {pod-security.kubernetes.io/enforce: restricted, kguard.io/enforce: hardened}
//     vulnerabilities:            # first match decides (docs/admission.md "Vulnerability policy")
//       - name: prod
//         registries: ["registry.example.com/*"]
//         namespaces: [shop]      # and/or namespaceSelector: {matchLabels: {...}}
//         mode: enforce           # enforce | warn | audit
//         failOn: high
//         maxRisk: 70
//         ignoreUnfixed: true
//         ignores: [{id: CVE-2024-1, package: openssl, reason: "...", until: 2027-01-31}]
//         onMiss: scan            # scan | deny | allow
//         budget: 5s              # or milliseconds: 5000
//         failClosed: true        # the CLI flags' spellings (fail-on, …) are accepted too
//     signatures:                 # first match decides (docs/signing.md "Admission")
//       - name: prod-signed
//         registries: ["registry.example.com/*"]
//         namespaces: [shop]      # and/or namespaceSelector
//         keys: [keys/release.pub, "pkcs11:token=kguard;object=release?module-path=..."]
//         require: any            # any | all
//         mode: enforce           # enforce | warn | audit
//         budget: 5s
//         failClosed: true        # enforce's default: deny when the registry cannot be asked
//         attestations:           # each attached to the digest, signed by the keys, its content passing
//           - {type: vuln, maxSeverity: high, maxAge: 7d}
//           - cyclonedx
//         # rotation: a key may be a map {key, name, notBefore, notAfter} (dates or RFC 3339 UTC)
//         revokedKeys: [keys/leaked.pub, "sha256:<hex>"]   # never count (docs/signing.md)
//         keyless: {certificateChain: ca/chain.pem, identity: dev@example.com, issuer: https://…,
//                   timestampCertificateChain: ca/tsa.pem}   # or ignoreTlog: true
//     revokedKeys: [keys/leaked.pub]   # revoked in every signature policy
#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/clock.hpp"
#include "engines/admit/admit.hpp"
#include "model/attestation_types.hpp"
#include "server/server.hpp"

namespace kg::admit {
namespace {

const char* const kDefaultKeys[] = {"enforce", "enforce-version", "audit", "audit-version",
                                    "warn", "warn-version", "kguard-enforce", "kguard-audit",
                                    "kguard-warn"};

// "fail-on" → "failOn".
std::string camel(std::string_view key) {
  std::string out;
  bool up = false;
  for (char c : key) {
    if (c == '-') {
      up = true;
      continue;
    }
    out.push_back(up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    up = false;
  }
  return out;
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

using BadFn = std::function<void(const Node*, const std::string&)>;

void read_ignores(const Node* n, const std::string& where, std::vector<VulnIgnore>& out, const BadFn& bad) {
  if (n->is_null()) return;
  if (!n->is_seq()) return bad(n, where + ": must be a list of {id, reason[, package, until]}");
  for (const Node* item : n->items()) {
    VulnIgnore ig;
    ig.line = item->line;
    if (item->is_scalar()) {  // a bare id: accepted, but a reason is required below
      ig.id = std::string(item->str());
    } else if (item->is_map()) {
      for (const MapEntry& f : item->entries()) {
        const std::string k(f.key->text());
        if (!f.value->is_scalar()) {
          bad(f.value, where + "." + k + ": must be a string");
          continue;
        }
        const std::string v(f.value->str());
        if (k == "id") ig.id = v;
        else if (k == "package") ig.package = v;
        else if (k == "reason") ig.reason = v;
        else if (k == "until") {
          if (!valid_date(v)) bad(f.value, where + ".until: must be a date YYYY-MM-DD, not '" + v + "'");
          ig.until = v;
        } else {
          bad(f.key, where + ": unknown field '" + k + "' (id, package, reason, until)");
        }
      }
    } else {
      bad(item, where + ": each ignore must be a map {id, reason[, package, until]}");
      continue;
    }
    if (ig.id.empty()) bad(item, where + ": an ignore needs an id (CVE-…, GHSA-…)");
    else if (ig.reason.empty()) bad(item, where + ": the ignore of " + ig.id + " needs a reason");
    out.push_back(std::move(ig));
  }
}

// The keys every image policy shares (name, registries, namespaces,
// namespaceSelector): true when `k` is one of them and was read.
bool read_match_key(const std::string& k, const Node* value, const std::string& at, std::vector<std::string>& registries,
                    std::vector<std::string>& namespaces, LabelSelector& namespace_selector, const BadFn& bad,
                    const std::function<void(const Node*, const std::string&, std::vector<std::string>&)>& strings) {
  if (k == "name") {
    if (!value->is_scalar() || value->str().empty()) bad(value, at + ": must be a non-empty string");
  } else if (k == "registries") {
    strings(value, at, registries);
  } else if (k == "namespaces") {
    strings(value, at, namespaces);
  } else if (k == "namespaceSelector") {
    if (!value->is_map()) {
      bad(value, at + ": must be a label selector {matchLabels, matchExpressions}");
      return true;
    }
    std::string why, field;
    if (const Node* x = invalid_selector_requirement(value, why, field)) bad(x, at + "." + field + ": " + why);
    namespace_selector = read_selector(value);
  } else {
    return false;
  }
  return true;
}

void read_vuln_policy(const Node* n, std::size_t index, VulnPolicy& p, const BadFn& bad,
                      const std::function<void(const Node*, const std::string&, std::vector<std::string>&)>& strings) {
  p.line = n->line;
  p.name = "policy-" + std::to_string(index + 1);
  std::string where = "admission.vulnerabilities[" + std::to_string(index) + "]";
  if (!n->is_map()) return bad(n, where + ": must be a map (name, registries, namespaces, mode, failOn, ...)");
  if (const Node* name = n->get("name"); name && name->is_scalar() && !name->str().empty()) {
    p.name = std::string(name->str());
    where = "admission.vulnerabilities." + p.name;
  }
  bool fail_closed_set = false;
  for (const MapEntry& e : n->entries()) {
    // camelCase as the rest of the config (and .kguard.yaml's vulnerabilities
    // section); the CLI flags' spellings (fail-on, max-risk, …) are accepted too.
    const std::string k = camel(e.key->text());
    const std::string at = where + "." + std::string(e.key->text());
    const std::string v = e.value->is_scalar() ? std::string(e.value->str()) : std::string();
    if (read_match_key(k, e.value, at, p.registries, p.namespaces, p.namespace_selector, bad, strings)) {
      // name, registries, namespaces, namespaceSelector: the keys both gates share
    } else if (k == "mode") {
      if (v == "enforce") p.mode = GateMode::Enforce;
      else if (v == "warn") p.mode = GateMode::Warn;
      else if (v == "audit") p.mode = GateMode::Audit;
      else bad(e.value, at + ": must be enforce, warn or audit, not '" + v + "'");
    } else if (k == "failOn") {
      auto s = parse_severity(v);
      if (!s) bad(e.value, at + ": must be low, medium, high or critical, not '" + v + "'");
      else p.fail_on = *s;
    } else if (k == "maxRisk") {
      double d = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size() || !std::isfinite(d) || d < 0 || d > 100) {
        bad(e.value, at + ": must be a number from 0 to 100, not '" + v + "'");
      } else {
        p.max_risk = d;
      }
    } else if (k == "ignoreUnfixed" || k == "failClosed") {
      auto b = e.value->as_bool();
      if (!b) {
        bad(e.value, at + ": must be true or false");
        continue;
      }
      if (k == "ignoreUnfixed") p.ignore_unfixed = *b;
      else {
        p.fail_closed = *b;
        fail_closed_set = true;
      }
    } else if (k == "ignores") {
      read_ignores(e.value, at, p.ignores, bad);
    } else if (k == "onMiss") {
      if (v == "scan") p.on_miss = OnMiss::Scan;
      else if (v == "deny") p.on_miss = OnMiss::Deny;
      else if (v == "allow") p.on_miss = OnMiss::Allow;
      else bad(e.value, at + ": must be scan, deny or allow, not '" + v + "'");
    } else if (k == "budget") {
      // A bare number is milliseconds; else a Go duration (500ms, 5s).
      double ms = -1;
      if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) {
        std::from_chars(v.data(), v.data() + v.size(), ms);
      } else if (!v.empty()) {
        ms = server::parse_duration_ms(v);
      }
      if (ms < 1 || ms > 60'000) bad(e.value, at + ": must be a duration from 1ms to 60s (5s, 2000), not '" + v + "'");
      else p.budget_ms = static_cast<int>(ms);
    } else {
      bad(e.key, where + ": unknown field '" + k +
                     "' (name, registries, namespaces, namespaceSelector, mode, failOn, maxRisk, "
                     "ignoreUnfixed, ignores, onMiss, budget, failClosed)");
    }
  }
  if (!p.fail_on && !p.max_risk) bad(n, where + ": needs a threshold: failOn: SEVERITY and/or maxRisk: N");
  // Fail closed by default only where the policy enforces: warn and audit never deny.
  if (!fail_closed_set) p.fail_closed = p.mode == GateMode::Enforce;
}

// A signature policy's `attestations:` (docs/signing.md "Admission"): a list of predicate types,
// each a name (`vuln`) or a map {type, keys, require, maxSeverity, maxAge, requireSbom}; the
// content keys are `kguard verify-attestation`'s (its kebab-case spellings are accepted too).
void read_required_attestations(const Node* n, const std::string& where, std::vector<RequiredAttestation>& out,
                                const BadFn& bad,
                                const std::function<void(const Node*, const std::string&, std::vector<std::string>&)>& strings) {
  if (n->is_null()) return;
  if (!n->is_seq()) return bad(n, where + ": must be a list of predicate types (vuln, cyclonedx, a URI, or a map "
                                          "with type, keys, require, maxSeverity, maxAge, requireSbom)");
  std::size_t index = 0;
  for (const Node* item : n->items()) {
    RequiredAttestation a;
    a.line = item->line;
    std::string at = where + "[" + std::to_string(index++) + "]";
    const Node* type_node = item->is_scalar() ? item : item->is_map() ? item->get("type") : nullptr;
    if (!item->is_scalar() && !item->is_map()) {
      bad(item, at + ": must be a predicate type or a map (type, keys, require, maxSeverity, maxAge, requireSbom)");
      continue;
    }
    if (!type_node || !type_node->is_scalar() || type_node->str().empty()) {
      bad(item, at + ": needs type: a predicate type (" + std::string(kAttestationTypeNames) + ")");
      continue;
    }
    a.type = std::string(type_node->str());
    if (auto uri = attestation_predicate_uri(a.type)) {
      a.predicate_type = *uri;
    } else {
      bad(type_node, at + ".type: '" + a.type + "' is not a predicate type (" + kAttestationTypeNames + ")");
      continue;
    }
    at = where + "." + a.type;
    if (item->is_map()) {
      for (const MapEntry& e : item->entries()) {
        const std::string k = camel(e.key->text());
        const std::string fat = at + "." + std::string(e.key->text());
        const std::string v = e.value->is_scalar() ? std::string(e.value->str()) : std::string();
        if (k == "type") {
        } else if (k == "keys") {
          strings(e.value, fat, a.keys);
          for (const std::string& key : a.keys)
            if (key.empty()) bad(e.value, fat + ": a key may not be empty");
        } else if (k == "require") {
          if (v == "any" || v == "all") a.require_all = v == "all", a.require_set = true;
          else bad(e.value, fat + ": must be any or all, not '" + v + "'");
        } else if (k == "maxSeverity") {
          if (auto sev = parse_severity(v)) a.max_severity = static_cast<int>(*sev);
          else bad(e.value, fat + ": must be low, medium, high or critical, not '" + v + "'");
        } else if (k == "maxAge") {
          if (auto age = parse_age_seconds(v)) a.max_age_s = *age;
          else bad(e.value, fat + ": must be a duration (30m, 12h, 7d, 2w), not '" + v + "'");
        } else if (k == "requireSbom") {
          auto b = e.value->as_bool();
          if (!b) bad(e.value, fat + ": must be true or false");
          else a.require_sbom = *b;
        } else {
          bad(e.key, at + ": unknown field '" + k + "' (type, keys, require, maxSeverity, maxAge, requireSbom)");
        }
      }
    }
    for (const RequiredAttestation& q : out)
      if (q.predicate_type == a.predicate_type) bad(item, at + ": " + a.predicate_type + " is required twice");
    out.push_back(std::move(a));
  }
}

// A signature policy's keys: each a string (a PEM public key file or a PKCS#11 URI) or, for a
// rotation, a map {key, name, notBefore, notAfter}; p.key_windows stays parallel to p.keys.
void read_signature_keys(const Node* list, const std::string& at, SignaturePolicy& p, const BadFn& bad) {
  if (list->is_null()) return;
  if (!list->is_seq()) return bad(list, at + ": must be a list of keys (files, pkcs11: URIs, or {key, name, notBefore, notAfter})");
  for (const Node* item : list->items()) {
    SignatureKeyWindow w;
    std::string ref;
    if (item->is_scalar()) {
      ref = std::string(item->str());
    } else if (item->is_map()) {
      const std::string where = at + "[" + std::to_string(p.keys.size()) + "]";
      for (const MapEntry& e : item->entries()) {
        const std::string k = camel(e.key->text());
        const std::string v = e.value->is_scalar() ? std::string(e.value->str()) : std::string();
        if (!e.value->is_scalar()) {
          bad(e.value, where + "." + k + ": must be a string");
        } else if (k == "key") {
          ref = v;
        } else if (k == "name") {
          w.name = v;
        } else if (k == "notBefore" || k == "notAfter") {
          long long t = 0;
          if (!utc_date_or_time_seconds(v, k == "notAfter", t))
            bad(e.value, where + "." + k + ": must be a date (2026-12-31) or an RFC 3339 UTC time, not '" + v + "'");
          else if (k == "notBefore") w.not_before = t;
          else w.not_after = t;
        } else {
          bad(e.key, where + ": unknown field '" + k + "' (key, name, notBefore, notAfter)");
        }
      }
      if (ref.empty()) bad(item, where + ": needs key: a PEM public key file or a pkcs11: URI");
      if (w.not_before > w.not_after) bad(item, where + ": notBefore is after notAfter");
    } else {
      bad(item, at + ": a key is a string or a map {key, name, notBefore, notAfter}");
      continue;
    }
    p.keys.push_back(std::move(ref));
    p.key_windows.push_back(std::move(w));
  }
}

// A policy's keyless signer: {trustedRoot | certificateChain, identity | identityRegexp,
// issuer | issuerRegexp, timestampCertificateChain | ignoreTlog: true}.
void read_signature_keyless(const Node* n, const std::string& at, SignatureKeyless& k, const BadFn& bad) {
  if (!n->is_map()) return bad(n, at + ": must be a map (trustedRoot or certificateChain, identity, issuer, ...)");
  k.present = true;
  for (const MapEntry& e : n->entries()) {
    const std::string key = camel(e.key->text());
    const std::string field = at + "." + key;
    if (key == "ignoreTlog") {
      auto b = e.value->as_bool();
      if (!b) bad(e.value, field + ": must be true or false");
      else k.ignore_tlog = *b;
      continue;
    }
    std::string* into = key == "trustedRoot"                 ? &k.trusted_root
                        : key == "certificateChain"          ? &k.certificate_chain
                        : key == "timestampCertificateChain" ? &k.timestamp_chain
                        : key == "identity"                  ? &k.identity
                        : key == "identityRegexp"            ? &k.identity_regexp
                        : key == "issuer"                    ? &k.issuer
                        : key == "issuerRegexp"              ? &k.issuer_regexp
                                                             : nullptr;
    if (!into) {
      bad(e.key, at + ": unknown field '" + key +
                     "' (trustedRoot, certificateChain, identity, identityRegexp, issuer, issuerRegexp, "
                     "timestampCertificateChain, ignoreTlog)");
    } else if (!e.value->is_scalar() || e.value->str().empty()) {
      bad(e.value, field + ": must be a non-empty string");
    } else {
      *into = std::string(e.value->str());
    }
  }
  if (k.trusted_root.empty() == k.certificate_chain.empty())
    bad(n, at + ": needs one trust source: trustedRoot or certificateChain");
  if (k.identity.empty() == k.identity_regexp.empty()) bad(n, at + ": needs one of identity or identityRegexp");
  if (k.issuer.empty() == k.issuer_regexp.empty()) bad(n, at + ": needs one of issuer or issuerRegexp");
  // No verified transparency log: the signing time is a timestamp, or now when the config says so.
  if (k.timestamp_chain.empty() && !k.ignore_tlog)
    bad(n, at + ": needs the signing time: timestampCertificateChain, or ignoreTlog: true to check certificates "
               "at the current time");
}

void read_signature_policy(const Node* n, std::size_t index, SignaturePolicy& p, const BadFn& bad,
                           const std::function<void(const Node*, const std::string&, std::vector<std::string>&)>& strings) {
  p.line = n->line;
  p.name = "signatures-" + std::to_string(index + 1);
  std::string where = "admission.signatures[" + std::to_string(index) + "]";
  if (!n->is_map()) return bad(n, where + ": must be a map (name, registries, namespaces, keys, mode, ...)");
  if (const Node* name = n->get("name"); name && name->is_scalar() && !name->str().empty()) {
    p.name = std::string(name->str());
    where = "admission.signatures." + p.name;
  }
  bool fail_closed_set = false;
  const Node* keys_node = n;
  for (const MapEntry& e : n->entries()) {
    const std::string k = camel(e.key->text());
    const std::string at = where + "." + std::string(e.key->text());
    const std::string v = e.value->is_scalar() ? std::string(e.value->str()) : std::string();
    if (read_match_key(k, e.value, at, p.registries, p.namespaces, p.namespace_selector, bad, strings)) {
      // name, registries, namespaces, namespaceSelector: the keys both gates share
    } else if (k == "keys") {
      keys_node = e.value;
      read_signature_keys(e.value, at, p, bad);
    } else if (k == "revokedKeys") {
      strings(e.value, at, p.revoked_keys);
    } else if (k == "keyless") {
      read_signature_keyless(e.value, at, p.keyless, bad);
    } else if (k == "require") {
      // any: one key's signature admits (a key rotation: old and new both listed); all: every key's.
      if (v == "any") p.require_all = false;
      else if (v == "all") p.require_all = true;
      else bad(e.value, at + ": must be any or all, not '" + v + "'");
    } else if (k == "mode") {
      if (v == "enforce") p.mode = GateMode::Enforce;
      else if (v == "warn") p.mode = GateMode::Warn;
      else if (v == "audit") p.mode = GateMode::Audit;
      else bad(e.value, at + ": must be enforce, warn or audit, not '" + v + "'");
    } else if (k == "failClosed") {
      auto b = e.value->as_bool();
      if (!b) {
        bad(e.value, at + ": must be true or false");
        continue;
      }
      p.fail_closed = *b;
      fail_closed_set = true;
    } else if (k == "budget") {
      double ms = -1;
      if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) {
        std::from_chars(v.data(), v.data() + v.size(), ms);
      } else if (!v.empty()) {
        ms = server::parse_duration_ms(v);
      }
      if (ms < 1 || ms > 60'000) bad(e.value, at + ": must be a duration from 1ms to 60s (5s, 2000), not '" + v + "'");
      else p.budget_ms = static_cast<int>(ms);
    } else if (k == "attestations") {
      read_required_attestations(e.value, at, p.attestations, bad, strings);
    } else {
      bad(e.key, where + ": unknown field '" + k +
                     "' (name, registries, namespaces, namespaceSelector, keys, revokedKeys, keyless, require, mode, "
                     "budget, failClosed, attestations)");
    }
  }
  if (p.keys.empty() && !p.keyless.present)
    bad(keys_node, where + ": needs keys: a list of PEM public key files or pkcs11: URIs (or keyless)");
  for (const std::string& key : p.keys)
    if (key.empty()) bad(keys_node, where + ".keys: a key may not be empty");
  if (!fail_closed_set) p.fail_closed = p.mode == GateMode::Enforce;
}

// Revoked keys named by file are relative to the config file, as the keys are; PKCS#11 URIs and
// sha256:<hex> fingerprints are left as they are.
void relative_to_config(const std::string& config_path, std::vector<std::string>& refs) {
  const auto slash = config_path.rfind('/');
  if (slash == std::string::npos) return;
  for (std::string& k : refs) {
    const bool fingerprint = k.size() == 71 && k.rfind("sha256:", 0) == 0;
    if (!k.empty() && k[0] != '/' && k.rfind("pkcs11:", 0) != 0 && !fingerprint) k = config_path.substr(0, slash + 1) + k;
  }
}

}  // namespace

bool read_admit_config(const Config& config, AdmitConfig& out, std::vector<InputError>& errors) {
  if (!config.source || config.source->documents.empty()) return true;
  const Node* root = config.source->documents.front().root;
  const Node* section = get(root, "admission");
  if (!section || section->is_null()) return true;
  const std::string& path = config.path;
  bool ok = true;
  auto bad = [&](const Node* at, const std::string& msg) {
    errors.push_back({path, at ? at->line : 0, at ? at->column : 0, msg});
    ok = false;
  };
  auto strings = [&](const Node* n, const std::string& where, std::vector<std::string>& into) {
    if (n->is_null()) return;
    if (!n->is_seq()) return bad(n, where + ": must be a list of strings");
    for (const Node* item : n->items()) {
      if (!item->is_scalar()) return bad(item, where + ": must be a list of strings");
      into.emplace_back(item->str());
    }
  };
  auto label_map = [&](const Node* n, const std::string& where, Labels& into) {
    if (n->is_null()) return;
    if (!n->is_map()) return bad(n, where + ": must be a map of label to value");
    for (const MapEntry& e : n->entries()) {
      if (!e.value->is_scalar()) {
        bad(e.value, where + "." + std::string(e.key->text()) + ": must be a string");
        continue;
      }
      into.emplace_back(std::string(e.key->text()), std::string(e.value->str()));
    }
    std::sort(into.begin(), into.end());
  };
  if (!section->is_map()) {
    bad(section, "admission: must be a map");
    return false;
  }
  for (const MapEntry& e : section->entries()) {
    const std::string key(e.key->text());
    if (key == "defaults") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.defaults: must be a map");
        continue;
      }
      for (const MapEntry& d : e.value->entries()) {
        const std::string k(d.key->text());
        if (std::find(std::begin(kDefaultKeys), std::end(kDefaultKeys), k) == std::end(kDefaultKeys)) {
          bad(d.key, "admission.defaults: unknown field '" + k +
                         "' (enforce, audit, warn, their -version, kguard-enforce, kguard-audit, "
                         "kguard-warn)");
          continue;
        }
        const std::string v(d.value->str());
        if (k.ends_with("-version")) {
          if (!parse_psa_version(v, PssLevel::Restricted))
            bad(d.value, "admission.defaults." + k + ": must be latest or v1.N, not '" + v + "'");
        } else if (!k.starts_with("kguard-") && !parse_psa_level(v)) {
          bad(d.value, "admission.defaults." + k + ": must be privileged, baseline or restricted");
        }
        out.default_labels[k] = v;
      }
    } else if (key == "profiles") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.profiles: must be a map of profile name to profile");
        continue;
      }
      for (const MapEntry& p : e.value->entries()) {
        Profile prof;
        prof.name = std::string(p.key->text());
        const std::string where = "admission.profiles." + prof.name;
        if (p.value->is_seq()) {
          strings(p.value, where, prof.rules);
        } else if (p.value->is_map()) {
          for (const MapEntry& f : p.value->entries()) {
            const std::string field(f.key->text());
            if (field == "rules") {
              strings(f.value, where + ".rules", prof.rules);
            } else if (field == "pss") {
              auto l = parse_psa_level(f.value->str());
              if (!l) bad(f.value, where + ".pss: must be privileged, baseline or restricted");
              else prof.pss_level = *l;
            } else if (field == "pssVersion") {
              auto v = parse_psa_version(f.value->str(), prof.pss_level);
              if (!v) bad(f.value, where + ".pssVersion: must be latest or v1.N");
              else prof.pss_minor = v->minor;
            } else {
              bad(f.key, where + ": unknown field '" + field + "' (rules, pss, pssVersion)");
            }
          }
        } else {
          bad(p.value, where + ": must be a list of rule selectors or a map with rules");
        }
        out.profiles[prof.name] = std::move(prof);
      }
    } else if (key == "exemptions") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.exemptions: must be a map");
        continue;
      }
      for (const MapEntry& x : e.value->entries()) {
        const std::string field(x.key->text());
        const std::string where = "admission.exemptions." + field;
        if (field == "usernames") strings(x.value, where, out.exempt_usernames);
        else if (field == "namespaces") strings(x.value, where, out.exempt_namespaces);
        else if (field == "runtimeClasses") strings(x.value, where, out.exempt_runtime_classes);
        else bad(x.key, "admission.exemptions: unknown field '" + field +
                            "' (usernames, namespaces, runtimeClasses)");
      }
    } else if (key == "enforceWorkloads" || key == "annotationExemptions") {
      auto b = e.value->as_bool();
      if (!b) bad(e.value, "admission." + key + ": must be true or false");
      else (key == "enforceWorkloads" ? out.enforce_workloads : out.annotation_exemptions) = *b;
    } else if (key == "namespaces") {
      if (!e.value->is_map()) {
        bad(e.value, "admission.namespaces: must be a map of namespace to labels");
        continue;
      }
      for (const MapEntry& n : e.value->entries()) {
        Labels labels;
        label_map(n.value, "admission.namespaces." + std::string(n.key->text()), labels);
        out.namespaces[std::string(n.key->text())] = std::move(labels);
      }
    } else if (key == "vulnerabilities") {
      if (e.value->is_null()) continue;
      if (!e.value->is_seq()) {
        bad(e.value, "admission.vulnerabilities: must be a list of policies (the first that matches decides)");
        continue;
      }
      std::size_t index = 0;
      for (const Node* item : e.value->items()) {
        VulnPolicy p;
        read_vuln_policy(item, index++, p, bad, strings);
        for (const VulnPolicy& q : out.vulnerabilities)
          if (q.name == p.name) bad(item, "admission.vulnerabilities: two policies named '" + p.name + "'");
        out.vulnerabilities.push_back(std::move(p));
      }
    } else if (key == "signatures") {
      if (e.value->is_null()) continue;
      if (!e.value->is_seq()) {
        bad(e.value, "admission.signatures: must be a list of policies (the first that matches decides)");
        continue;
      }
      std::size_t index = 0;
      for (const Node* item : e.value->items()) {
        SignaturePolicy p;
        read_signature_policy(item, index++, p, bad, strings);
        for (const SignaturePolicy& q : out.signatures)
          if (q.name == p.name) bad(item, "admission.signatures: two policies named '" + p.name + "'");
        // Key files are relative to the config file (as it is mounted with them).
        const auto slash = config.path.rfind('/');
        if (slash != std::string::npos) {
          for (std::string& k : p.keys)
            if (!k.empty() && k[0] != '/' && k.rfind("pkcs11:", 0) != 0) k = config.path.substr(0, slash + 1) + k;
          for (RequiredAttestation& a : p.attestations) relative_to_config(config.path, a.keys);
          relative_to_config(config.path, p.revoked_keys);
          std::vector<std::string> keyless_files = {p.keyless.trusted_root, p.keyless.certificate_chain,
                                                    p.keyless.timestamp_chain};
          relative_to_config(config.path, keyless_files);
          p.keyless.trusted_root = keyless_files[0];
          p.keyless.certificate_chain = keyless_files[1];
          p.keyless.timestamp_chain = keyless_files[2];
        }
        out.signatures.push_back(std::move(p));
      }
    } else if (key == "revokedKeys") {
      strings(e.value, "admission.revokedKeys", out.revoked_signature_keys);
      relative_to_config(config.path, out.revoked_signature_keys);
    } else {
      bad(e.key, "admission: unknown field '" + key +
                     "' (defaults, profiles, exemptions, enforceWorkloads, annotationExemptions, "
                     "namespaces, vulnerabilities, signatures, revokedKeys)");
    }
  }
  // A key revoked for the whole admission is revoked in every signature policy.
  for (SignaturePolicy& p : out.signatures)
    for (const std::string& k : out.revoked_signature_keys)
      if (std::find(p.revoked_keys.begin(), p.revoked_keys.end(), k) == p.revoked_keys.end()) p.revoked_keys.push_back(k);
  // Profiles named by the defaults must exist.
  for (const char* k : {"kguard-enforce", "kguard-audit", "kguard-warn"}) {
    auto it = out.default_labels.find(k);
    if (it != out.default_labels.end() && !out.profiles.count(it->second)) {
      errors.push_back({path, section->line, section->column,
                        std::string("admission.defaults.") + k + ": no profile named '" +
                            it->second + "' in admission.profiles"});
      ok = false;
    }
  }
  return ok;
}

}  // namespace kg::admit
