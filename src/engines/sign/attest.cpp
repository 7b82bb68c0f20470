// Attestations in cosign's format (attest.hpp).
#include "core/ascii.hpp"
#include "engines/sign/attest.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>

#include "core/base64.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "model/attestation_types.hpp"
#include "engines/sign/json_read.hpp"
#include "sources/image/json.hpp"
#include "sources/image/registry_client.hpp"
#include "sources/image/stream.hpp"

namespace kg::sign {
namespace {

constexpr std::size_t kMaxEnvelope = std::size_t{16} << 20;  // an SBOM predicate can be large
constexpr std::size_t kMaxLayers = 64;

using json::at;
using json::need;
using json::parse;
using json::q;

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

template <typename F>
auto registry_call(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const image::ImageError& e) {
    throw SignError(e.what());
  }
}

const char* kSeverityNames[] = {"low", "medium", "high", "critical"};

std::optional<int> severity_rank(std::string_view s) {
  std::string l = ascii_lower(s);
  if (l == "low") return 0;
  if (l == "medium" || l == "moderate") return 1;
  if (l == "high" || l == "important") return 2;
  if (l == "critical") return 3;
  return std::nullopt;  // negligible, none, info, unknown: nothing to hold against the image
}

bool truthy(const Node* n) { return n && n->is_scalar() && !n->quoted && str(n) == "true"; }

// Every severity under `n`, with the nearest id: kguard's matches[].severity, Trivy's
// Results[].Vulnerabilities[].Severity, Grype's matches[].vulnerability.severity, CycloneDX's
// vulnerabilities[].ratings[].severity. Suppressed entries (kguard's suppressed: true, a CycloneDX
// analysis that rules the vulnerability out) do not count.
void collect_severities(const Node* n, const std::string& id, int depth, int& worst, std::string& worst_id,
                        std::size_t& count) {
  if (!n || depth > 64) return;
  if (n->is_seq()) {
    for (const Node* i : n->items()) collect_severities(i, id, depth + 1, worst, worst_id, count);
    return;
  }
  if (!n->is_map()) return;
  if (truthy(get(n, "suppressed"))) return;
  std::string state = ascii_lower(str(get(get(n, "analysis"), "state")));
  if (state == "not_affected" || state == "false_positive" || state == "resolved" || state == "resolved_with_pedigree")
    return;
  std::string here = id;
  for (const char* k : {"id", "VulnerabilityID"})
    if (const Node* v = get(n, k); v && v->is_scalar() && !str(v).empty()) here = std::string(str(v));
  bool counted = false;
  for (const MapEntry& e : n->entries()) {
    if (ascii_lower(str(e.key)) == "severity" && e.value->is_scalar()) {
      if (auto r = severity_rank(str(e.value))) {
        if (!counted) ++count;
        counted = true;
        if (*r > worst) {
          worst = *r;
          worst_id = here;
        }
      }
      continue;
    }
    collect_severities(e.value, here, depth + 1, worst, worst_id, count);
  }
}

std::string format_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_duration(std::int64_t s) {
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s >= 86400) return std::to_string(s / 86400) + "d" + std::to_string((s % 86400) / 3600) + "h";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s >= 3600) return std::to_string(s / 3600) + "h" + std::to_string((s % 3600) / 60) + "m";
  return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
}

}  // namespace

std::string predicate_type_uri(const std::string& type) {
  if (auto uri = attestation_predicate_uri(type)) return *uri;
  throw SignError("invalid predicate type: \"" + type + "\" (" + kAttestationTypeNames + ")");
}

std::string attestation_tag(const std::string& digest) { return digest_tag(digest) + ".att"; }

std::string build_statement(const std::string& type, const std::string& predicate, const std::string& repo,
                            const std::string& digest, const std::string& timestamp, const std::string& where) {
  std::string uri = predicate_type_uri(type);
  std::string body;
  if (type == "custom" || type == kPredicateCustom) {
    // cosign's CosignPredicate: the file's bytes as a string, and when.
    body = "{\"Data\":" + q(predicate) + ",\"Timestamp\":" + q(timestamp) + "}";
  } else if (type == "spdx") {
    body = q(predicate);  // tag-value SPDX, a string
  } else {
    auto doc = parse(predicate, where);  // an object, strictly JSON
    (void)doc;
    body = trim(predicate);
    // The parser skips a UTF-8 byte order mark (editors write one); inside the statement it would
    // be a stray byte no reader accepts (fuzz_sign_statement found it).
    if (body.rfind("\xEF\xBB\xBF", 0) == 0) body = trim(body.substr(3));
  }
  std::string hexd = digest.substr(digest.find(':') + 1);
  return "{\"_type\":" + q(kInTotoStatementV01) + ",\"predicateType\":" + q(uri) + ",\"subject\":[{\"name\":" + q(repo) +
         ",\"digest\":{\"sha256\":" + q(hexd) + "}}],\"predicate\":" + body + "}";
}

std::string build_dsse_envelope(const std::string& payload_type, const std::string& payload, const std::string& signature) {
  return "{\"payloadType\":" + q(payload_type) + ",\"payload\":" + q(base64_encode(payload)) +
         ",\"signatures\":[{\"keyid\":\"\",\"sig\":" + q(base64_encode(signature)) + "}]}";
}

DsseEnvelope parse_dsse_envelope(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  DsseEnvelope e;
  e.payload_type = need(doc->root, "payloadType", where);
  auto payload = base64_decode(need(doc->root, "payload", where));
  if (!payload) throw SignError(at(where, get(doc->root, "payload")) + ": payload is not base64");
  e.payload = std::move(*payload);
  const Node* sigs = get(doc->root, "signatures");
  if (!sigs || !sigs->is_seq()) throw SignError(at(where, sigs ? sigs : doc->root) + ": signatures is not a list");
  std::size_t i = 0;
  for (const Node* s : sigs->items()) {
    std::string path = "signatures[" + std::to_string(i++) + "].sig";
    const Node* sig = get(s, "sig");
    if (!sig || !sig->is_scalar() || !sig->quoted) throw SignError(at(where, sig ? sig : s) + ": " + path + " is missing");
    auto d = base64_decode(str(sig));
    if (!d) throw SignError(at(where, sig) + ": " + path + " is not base64");
    e.signatures.push_back(std::move(*d));
  }
  if (e.signatures.empty()) throw SignError(where + ": the envelope has no signature");
  return e;
}

FullStatement check_envelope(const std::string& payload_type, const std::string& payload,
                             const std::vector<std::string>& signatures, const std::vector<const PublicKey*>& keys,
                             const std::string& digest, std::string& key_out) {
  if (payload_type != kInTotoPayloadType) throw SignError("DSSE payloadType is \"" + payload_type + "\", not in-toto");
  std::string pae = dsse_pae(payload_type, payload);
  key_out.clear();
  for (const std::string& sig : signatures)
    for (const PublicKey* k : keys)
      if (key_out.empty() && k->verify(pae, sig)) key_out = k->fingerprint();
  if (key_out.empty()) throw SignError("the DSSE signature does not verify with the given key(s)");
  FullStatement s;
  s.header = parse_statement(payload, "statement");
  s.json = payload;
  if (s.header.type != kInTotoStatementV01 && s.header.type != kInTotoStatementV1 &&
      s.header.type != "https://in-toto.io/Statement/v0.2")
    throw SignError("_type \"" + s.header.type + "\" is not an in-toto statement");
  bool names_it = std::find(s.header.subject_digests.begin(), s.header.subject_digests.end(), digest) !=
                  s.header.subject_digests.end();
  if (!names_it)
    throw SignError("the statement's subject is " +
                    (s.header.subject_digests.empty() ? std::string("no sha256 digest") : s.header.subject_digests.front()) +
                    ", not the image's " + digest);
  return s;
}

AttestResult attest_image(const std::string& ref, Signer& signer, const std::string& type, const std::string& predicate,
                          const std::string& predicate_where, Format format, bool replace,
                          const RegistryOptions& options) {
  AttestResult res;
  res.format = format;
  res.predicate_type = predicate_type_uri(type);
  res.image = resolve_image(ref, options, true);
  const ResolvedImage& img = res.image;
  std::string statement = build_statement(type, predicate, img.docker_reference, img.digest,
                                          format_time(std::time(nullptr)), predicate_where);
  std::string signature = signer.sign(dsse_pae(kInTotoPayloadType, statement));
  image::RegistryClient c(img.registry, img.repository, options.read, true);
  registry_call([&] {
    if (format == Format::Bundle) {
      // cosign attest --new-bundle-format: the same envelope inside a bundle, as a referrer.
      AttachResult a = attach_bundle(c, img, build_bundle(statement, signature, signer.public_key()), res.predicate_type);
      res.location = a.manifest_digest;
      res.referrers_fallback = a.fallback;
      return 0;
    }
    std::string tag = attestation_tag(img.digest);
    res.location = tag;
    std::vector<Descriptor> layers;
    if (auto existing = c.get_manifest(tag)) {
      SignatureManifest sm = parse_signature_manifest(existing->bytes, img.registry + "/" + img.repository + ":" + tag);
      // Malformed layers cannot be written back; they are dropped, and said so.
      for (const std::string& s : sm.skipped) c.notes.push_back(s + ": dropped from the rewritten " + tag);
      for (Descriptor& l : sm.layers)
        if (!replace || l.annotation(kPredicateTypeAnnotation) != res.predicate_type) layers.push_back(std::move(l));
    }
    std::string envelope = build_dsse_envelope(kInTotoPayloadType, statement, signature);
    Descriptor layer;
    layer.media_type = kDsseLayerMediaType;
    layer.digest = c.put_blob(envelope);
    layer.size = envelope.size();
    // static.NewAttestation: an empty signature annotation (the signature is in the envelope).
    layer.annotations = {{kSignatureAnnotation, ""}, {kPredicateTypeAnnotation, res.predicate_type}};
    layers.push_back(layer);
    BuiltManifest built = build_signature_manifest(layers);
    c.put_blob(built.config);
    c.put_manifest(tag, kOciManifestMediaType, built.manifest);
    return 0;
  });
  res.notes = c.notes;
  return res;
}

AttestationsResult verify_attestations(const std::string& ref, const std::vector<const PublicKey*>& keys,
                                       const VerifyOptions& what, const RegistryOptions& options,
                                       const std::vector<std::string>& only_types) {
  AttestationsResult res;
  res.image = resolve_image(ref, options, false);
  const ResolvedImage& img = res.image;
  image::RegistryClient c(img.registry, img.repository, options.read, false);
  std::string repo = img.registry + "/" + img.repository;
  registry_call([&] {
    if (what.legacy) {
      std::string tag = attestation_tag(img.digest);
      if (auto m = c.get_manifest(tag)) {
        SignatureManifest sm = parse_signature_manifest(m->bytes, repo + ":" + tag);
        for (const std::string& s : sm.skipped) res.notes.push_back(s);
        if (sm.layers.size() > kMaxLayers)
          res.notes.push_back(tag + " has " + std::to_string(sm.layers.size()) + " layers: the first " +
                              std::to_string(kMaxLayers) + " were read");
        for (std::size_t i = 0; i < sm.layers.size() && i < kMaxLayers; ++i) {
          const Descriptor& l = sm.layers[i];
          if (l.media_type != kDsseLayerMediaType) continue;
          if (!predicate_type_wanted(l.annotation(kPredicateTypeAnnotation), only_types)) continue;  // not downloaded
          if (!fetchable_sha256(l, repo + ":" + tag, "layers", res.notes)) continue;
          Attestation a;
          a.format = Format::Legacy;
          a.location = tag + " layer " + std::to_string(l.position);
          a.predicate_type = l.annotation(kPredicateTypeAnnotation);
          try {
            if (l.size > kMaxEnvelope) throw SignError("the envelope is " + std::to_string(l.size) + " bytes");
            DsseEnvelope e = parse_dsse_envelope(c.get_blob(l.digest, kMaxEnvelope), repo + "@" + l.digest);
            FullStatement s = check_envelope(e.payload_type, e.payload, e.signatures, keys, img.digest, a.key);
            a.predicate_type = s.header.predicate_type;
            a.statement = std::move(s.json);
            a.verified = true;
          } catch (const SignError& e) {
            a.reason = e.what();
          } catch (const image::ImageError& e) {
            a.reason = e.what();
          }
          res.attestations.push_back(std::move(a));
        }
      }
    }
    if (what.bundle) {
      for (FoundBundle& f : fetch_bundles(c, img, res.notes, only_types)) {
        Attestation a;
        a.format = Format::Bundle;
        a.location = f.location;
        a.predicate_type = f.predicate_type;
        if (f.predicate_type == kCosignSignPredicate) continue;  // a signature: verify's business
        if (!f.error.empty()) {
          a.reason = f.error;
          res.attestations.push_back(std::move(a));
          continue;
        }
        try {
          Bundle b = parse_bundle(f.bytes, repo + "@" + f.location);
          if (!b.has_dsse) throw SignError("the bundle holds no DSSE envelope");
          FullStatement s = check_envelope(b.payload_type, b.payload, b.signatures, keys, img.digest, a.key);
          if (s.header.predicate_type == kCosignSignPredicate) continue;
          a.predicate_type = s.header.predicate_type;
          a.statement = std::move(s.json);
          a.verified = true;
        } catch (const SignError& e) {
          a.reason = e.what();
        }
        res.attestations.push_back(std::move(a));
      }
    }
    return 0;
  });
  for (const std::string& n : c.notes) res.notes.push_back(n);
  return res;
}

// ---- policy ----

std::optional<std::int64_t> parse_duration(const std::string& text) { return parse_age_seconds(text); }

std::optional<std::int64_t> parse_rfc3339(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!digits(0, 4, y) || t.size() < 20 || t[4] != '-' || !digits(5, 2, mo) || t[7] != '-' || !digits(8, 2, d) ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, h) || t[13] != ':' || !digits(14, 2, mi) ||
      t[16] != ':' || !digits(17, 2, s))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t p = 19;
  if (p < t.size() && t[p] == '.') {
    ++p;
    std::size_t start = p;
    while (p < t.size() && std::isdigit(static_cast<unsigned char>(t[p]))) ++p;
    if (p == start) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (p < t.size() && (t[p] == 'Z' || t[p] == 'z')) {
    ++p;
  } else if (p < t.size() && (t[p] == '+' || t[p] == '-')) {
    int oh, om;
    if (!digits(p + 1, 2, oh) || p + 3 >= t.size() || t[p + 3] != ':' || !digits(p + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = (t[p] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    p += 6;
  } else {
    return std::nullopt;
  }
  if (p != t.size()) return std::nullopt;
  // days from civil (Howard Hinnant's algorithm): no timegm, no locale.
  int yy = y - (mo <= 2);
  int era = (yy >= 0 ? yy : yy - 399) / 400;
  int yoe = yy - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
  return days * 86400 + h * 3600 + mi * 60 + s - offset;
}

AttestationPolicy parse_policy(const std::string& text, const std::string& where) {
  AttestationPolicy p;
  p.source = where;
  std::size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (std::size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::string l = trim(line);
    if (l.empty() || l == "---") continue;
    std::string loc = where + ":" + std::to_string(line_no);
    std::size_t colon = l.find(':');
    if (colon == std::string::npos) throw SignError(loc + ": expected `key: value`");
    std::string key = trim(l.substr(0, colon)), value = trim(l.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (key == "max-severity") {
      auto r = severity_rank(value);
      if (!r) throw SignError(loc + ": max-severity: \"" + value + "\" is not low, medium, high or critical");
      p.max_severity = *r;
    } else if (key == "max-age") {
      auto d = parse_duration(value);
      if (!d) throw SignError(loc + ": max-age: \"" + value + "\" is not a duration (e.g. 7d, 12h, 30m, 2w)");
      p.max_age = *d;
    } else if (key == "require-sbom") {
      if (value != "true" && value != "false") throw SignError(loc + ": require-sbom: \"" + value + "\" is not true or false");
      p.require_sbom = value == "true";
    } else {
      throw SignError(loc + ": unknown key \"" + key + "\" (max-severity, max-age, require-sbom)");
    }
  }
  return p;
}

std::vector<PolicyCheck> check_statement(const AttestationPolicy& p, const std::string& statement_json,
                                         std::int64_t now) {
  std::vector<PolicyCheck> out;
  auto doc = parse(statement_json, "statement");
  std::string type(str(get(doc->root, "predicateType")));
  const Node* pred = get(doc->root, "predicate");
  if (p.max_severity) {
    PolicyCheck c;
    c.name = "max-severity";
    const Node* vulns = nullptr;
    if (type == kPredicateVuln) {
      vulns = get(get(pred, "scanner"), "result");
      if (!vulns) c.detail = "the vuln predicate has no scanner.result";
    } else if (type == kPredicateCycloneDX) {
      vulns = get(pred, "vulnerabilities");
      if (!vulns) c.detail = "the CycloneDX predicate has no vulnerabilities section (an SBOM without a scan)";
    } else {
      c.detail = "a " + type + " predicate carries no vulnerability result";
    }
    if (vulns) {
      int worst = -1;
      std::string worst_id;
      std::size_t count = 0;
      collect_severities(vulns, "", 0, worst, worst_id, count);
      std::string limit = kSeverityNames[*p.max_severity];
      if (worst > *p.max_severity) {
        c.detail = "a " + std::string(kSeverityNames[worst]) + " vulnerability" +
                   (worst_id.empty() ? "" : " (" + worst_id + ")") + " at scan time, above " + limit;
      } else {
        c.passed = true;
        c.detail = std::to_string(count) + " vulnerabilities with a severity, none above " + limit +
                   (worst >= 0 ? " (worst: " + std::string(kSeverityNames[worst]) + ")" : "");
      }
    }
    out.push_back(c);
  }
  if (p.max_age) {
    PolicyCheck c;
    c.name = "max-age";
    const Node* stamp = nullptr;
    const char* field = "";
    if (type == kPredicateVuln) stamp = get(get(pred, "metadata"), "scanFinishedOn"), field = "metadata.scanFinishedOn";
    else if (type == kPredicateCycloneDX) stamp = get(get(pred, "metadata"), "timestamp"), field = "metadata.timestamp";
    else if (type == kPredicateSPDX) stamp = get(get(pred, "creationInfo"), "created"), field = "creationInfo.created";
    else if (type == kPredicateCustom) stamp = get(pred, "Timestamp"), field = "Timestamp";
    else if (type == "https://slsa.dev/provenance/v0.2") stamp = get(get(pred, "metadata"), "buildFinishedOn"), field = "metadata.buildFinishedOn";
    else if (type == "https://slsa.dev/provenance/v1")
      stamp = get(get(get(pred, "runDetails"), "metadata"), "finishedOn"), field = "runDetails.metadata.finishedOn";
    std::optional<std::int64_t> t = stamp ? parse_rfc3339(str(stamp)) : std::nullopt;
    if (!*field) {
      c.detail = "no timestamp is known for a " + type + " predicate";
    } else if (!stamp) {
      c.detail = std::string("predicate.") + field + " is missing";
    } else if (!t) {
      c.detail = std::string("predicate.") + field + " \"" + std::string(str(stamp)) + "\" is not an RFC 3339 time";
    } else if (*t > now + 300) {
      c.detail = std::string("predicate.") + field + " " + format_time(*t) + " is in the future";
    } else if (now - *t > *p.max_age) {
      c.detail = std::string("predicate.") + field + " " + format_time(*t) + " is " + format_duration(now - *t) +
                 " old, older than " + format_duration(*p.max_age);
    } else {
      c.passed = true;
      c.detail = std::string("predicate.") + field + " " + format_time(*t) + " (" + format_duration(std::max<std::int64_t>(0, now - *t)) +
                 " old, within " + format_duration(*p.max_age) + ")";
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace kg::sign
