// cosign's signature formats (formats.hpp).
#include "engines/sign/formats.hpp"

#include <cstdlib>

#include "core/base64.hpp"
#include "core/document.hpp"
#include "core/json_writer.hpp"
#include "engines/sign/json_read.hpp"
#include "sources/image/json.hpp"
#include "sources/image/stream.hpp"

namespace kg::sign {
namespace {

using json::at;
using json::need;
using json::parse;
using json::q;

// `parent`'s "size" (a missing one is reported at the parent's line).
std::uint64_t size_of(const Node* parent, const std::string& where, const std::string& path) {
  const Node* n = get(parent, "size");
  std::string_view t = str(n);
  if (!n || n->quoted || t.empty() || t.size() > 19 || t.find_first_not_of("0123456789") != std::string_view::npos)
    throw SignError(at(where, n ? n : parent) + ": " + path + (n ? " is not a size" : " is missing"));
  return std::strtoull(std::string(t).c_str(), nullptr, 10);
}

Annotations annotations_of(const Node* n, const std::string& where, const std::string& path) {
  Annotations out;
  if (!n || n->type == NodeType::Null) return out;
  if (!n->is_map()) throw SignError(at(where, n) + ": " + path + " is not an object");
  for (const MapEntry& e : n->entries()) {
    if (!e.value->is_scalar() || !e.value->quoted)
      throw SignError(at(where, e.value) + ": " + path + "." + std::string(str(e.key)) + " is not a string");
    out.emplace_back(std::string(str(e.key)), std::string(str(e.value)));
  }
  return out;
}

// sha256_only: a descriptor kguard fetches at once (a referrer's subject and layers); an index's
// entries and a .sig manifest's layers may name other algorithms (their readers skip them).
Descriptor descriptor_of(const Node* n, const std::string& where, const std::string& path, bool sha256_only = true) {
  if (!n || !n->is_map()) throw SignError(at(where, n) + ": " + path + " is not an object");
  Descriptor d;
  d.media_type = need(n, "mediaType", where, path + ".mediaType");
  d.digest = need(n, "digest", where, path + ".digest");
  if (sha256_only ? !is_sha256_digest(d.digest) : !is_oci_digest(d.digest))
    throw SignError(at(where, get(n, "digest")) + ": " + path + ".digest is not a " + (sha256_only ? "sha256 " : "") + "digest");
  d.size = size_of(n, where, path + ".size");
  if (const Node* a = get(n, "artifactType")) d.artifact_type = str(a);
  d.annotations = annotations_of(get(n, "annotations"), where, path + ".annotations");
  return d;
}

// The list's well-formed descriptors; each malformed one is named in skipped and left out.
std::vector<Descriptor> descriptors_of(const Node* list, const std::string& where, const std::string& name,
                                       std::vector<std::string>& skipped) {
  std::vector<Descriptor> out;
  const auto entries = items(list);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::string path = name + "[" + std::to_string(i) + "]";
    try {
      out.push_back(descriptor_of(entries[i], where, path, false));
      out.back().position = i;
    } catch (const SignError& e) {
      skipped.push_back(std::string(e.what()) + " (" + path + " skipped)");
    }
  }
  return out;
}

void write_annotations(std::string& out, const Annotations& a) {
  out += "{";
  for (std::size_t i = 0; i < a.size(); ++i) out += (i ? "," : "") + q(a[i].first) + ":" + q(a[i].second);
  out += "}";
}

std::string descriptor_json(const Descriptor& d) {
  std::string out = "{\"mediaType\":" + q(d.media_type) + ",\"size\":" + std::to_string(d.size) +
                    ",\"digest\":" + q(d.digest);
  if (!d.artifact_type.empty()) out += ",\"artifactType\":" + q(d.artifact_type);
  if (!d.annotations.empty()) {
    out += ",\"annotations\":";
    write_annotations(out, d.annotations);
  }
  return out + "}";
}

std::string decode64(std::string_view s, const std::string& what) {
  auto d = base64_decode(s);
  if (!d) throw SignError(what + " is not base64");
  return *d;
}

}  // namespace

bool is_sha256_digest(std::string_view d) {
  return d.size() == 71 && d.substr(0, 7) == "sha256:" &&
         d.substr(7).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool is_oci_digest(std::string_view d) {
  // digest ::= algorithm ":" encoded; algorithm ::= [a-z0-9]+ ([+._-] [a-z0-9]+)*; encoded ::= [a-zA-Z0-9=_-]+
  std::size_t colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == d.size()) return false;
  std::string_view algo = d.substr(0, colon), encoded = d.substr(colon + 1);
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (std::size_t i = 0; i < algo.size(); ++i) {
    if (lower_alnum(algo[i])) continue;
    bool separator = algo[i] == '+' || algo[i] == '.' || algo[i] == '_' || algo[i] == '-';
    if (!separator || i == 0 || i + 1 == algo.size() || !lower_alnum(algo[i - 1])) return false;
  }
  for (char c : encoded)
    if (!lower_alnum(c) && !(c >= 'A' && c <= 'Z') && c != '=' && c != '_' && c != '-') return false;
  // The spec's registered algorithms fix the encoded form; sha256's is what kguard fetches.
  if (algo == "sha256") return is_sha256_digest(d);
  if (algo == "sha512")
    return encoded.size() == 128 && encoded.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  return true;
}

bool fetchable_sha256(const Descriptor& d, const std::string& where, const std::string& list,
                      std::vector<std::string>& notes) {
  if (is_sha256_digest(d.digest)) return true;
  notes.push_back(where + ": " + list + "[" + std::to_string(d.position) + "].digest is " + d.digest.substr(0, d.digest.find(':')) +
                  ", which kguard does not fetch: not read");
  return false;
}

std::string stated_predicate_type(const Annotations& annotations) {
  for (const auto& [k, v] : annotations)
    if (k == "predicateType" || k == "dev.sigstore.bundle.predicateType") return v;
  return "";
}

bool predicate_type_wanted(const std::string& stated, const std::vector<std::string>& wanted) {
  if (stated.empty() || wanted.empty()) return true;
  for (const std::string& w : wanted)
    if (w == stated) return true;
  return false;
}

std::string digest_tag(const std::string& digest) {
  std::string t = digest;
  if (std::size_t c = t.find(':'); c != std::string::npos) t[c] = '-';
  return t;
}
std::string signature_tag(const std::string& digest) { return digest_tag(digest) + ".sig"; }

std::string Descriptor::annotation(std::string_view key) const {
  for (const auto& [k, v] : annotations)
    if (k == key) return v;
  return "";
}

std::string simple_signing_payload(const std::string& docker_reference, const std::string& digest) {
  return "{\"critical\":{\"identity\":{\"docker-reference\":" + q(docker_reference) +
         "},\"image\":{\"docker-manifest-digest\":" + q(digest) + "},\"type\":" + q(kSimpleSigningType) +
         "},\"optional\":null}";
}

SimpleSigning parse_simple_signing(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  const Node* critical = get(doc->root, "critical");
  if (!critical || !critical->is_map()) throw SignError(where + ": critical is missing: not a simple-signing payload");
  SimpleSigning s;
  s.docker_reference = need(get(critical, "identity"), "docker-reference", where, "critical.identity.docker-reference");
  s.digest = need(get(critical, "image"), "docker-manifest-digest", where, "critical.image.docker-manifest-digest");
  s.type = need(critical, "type", where, "critical.type");
  return s;
}

SignatureManifest parse_signature_manifest(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  const Node* layers = get(doc->root, "layers");
  if (!layers || !layers->is_seq()) throw SignError(at(where, layers ? layers : doc->root) + ": layers is not a list");
  SignatureManifest m;
  m.layers = descriptors_of(layers, where, "layers", m.skipped);
  return m;
}

BuiltManifest build_signature_manifest(const std::vector<Descriptor>& layers) {
  BuiltManifest b;
  b.config = R"({"architecture":"","created":"0001-01-01T00:00:00Z","history":[)";
  for (std::size_t i = 0; i < layers.size(); ++i) b.config += std::string(i ? "," : "") + R"({"created":"0001-01-01T00:00:00Z"})";
  b.config += R"(],"os":"","rootfs":{"type":"layers","diff_ids":[)";
  for (std::size_t i = 0; i < layers.size(); ++i) b.config += (i ? "," : "") + q(layers[i].digest);
  b.config += R"(]},"config":{}})";
  Descriptor config;
  config.media_type = kOciConfigMediaType;
  config.digest = "sha256:" + hex(sha256_bytes(b.config));
  config.size = b.config.size();
  b.manifest = "{\"schemaVersion\":2,\"mediaType\":" + q(kOciManifestMediaType) + ",\"config\":" + descriptor_json(config) +
               ",\"layers\":[";
  for (std::size_t i = 0; i < layers.size(); ++i) b.manifest += (i ? "," : "") + descriptor_json(layers[i]);
  b.manifest += "]}";
  return b;
}

std::string dsse_pae(const std::string& payload_type, const std::string& payload) {
  return "DSSEv1 " + std::to_string(payload_type.size()) + " " + payload_type + " " + std::to_string(payload.size()) +
         " " + payload;
}

std::string sign_statement(const std::string& digest) {
  std::string algo = digest.substr(0, digest.find(':'));
  std::string value = digest.substr(digest.find(':') + 1);
  return "{\"_type\":" + q(kInTotoStatementV1) + ",\"subject\":[{\"digest\":{" + q(algo) + ":" + q(value) +
         "}}],\"predicateType\":" + q(kCosignSignPredicate) + "}";
}

Statement parse_statement(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  Statement s;
  s.type = need(doc->root, "_type", where, "_type");
  s.predicate_type = need(doc->root, "predicateType", where, "predicateType");
  const Node* subject = get(doc->root, "subject");
  if (!subject || !subject->is_seq()) throw SignError(at(where, subject ? subject : doc->root) + ": subject is not a list");
  for (const Node* sub : subject->items()) {
    const Node* digest = get(sub, "digest");
    if (!digest || !digest->is_map()) throw SignError(at(where, sub) + ": subject[].digest is not an object");
    if (const Node* sha = get(digest, "sha256"); sha && sha->is_scalar()) s.subject_digests.push_back("sha256:" + std::string(str(sha)));
  }
  return s;
}

std::string build_bundle(const std::string& payload, const std::string& signature, const PublicKey& key) {
  std::string hint = base64_encode(sha256_bytes(key.der()));
  return "{\"mediaType\":" + q(kBundleMediaType) + ",\"verificationMaterial\":{\"publicKey\":{\"hint\":" + q(hint) +
         "}},\"dsseEnvelope\":{\"payload\":" + q(base64_encode(payload)) + ",\"payloadType\":" + q(kInTotoPayloadType) +
         ",\"signatures\":[{\"sig\":" + q(base64_encode(signature)) + "}]}}";
}

std::string build_certificate_bundle(const std::string& payload, const std::string& signature,
                                     const std::string& certificate_der) {
  return "{\"mediaType\":" + q(kBundleMediaType) + ",\"verificationMaterial\":{\"certificate\":{\"rawBytes\":" +
         q(base64_encode(certificate_der)) + "}},\"dsseEnvelope\":{\"payload\":" + q(base64_encode(payload)) +
         ",\"payloadType\":" + q(kInTotoPayloadType) + ",\"signatures\":[{\"sig\":" + q(base64_encode(signature)) + "}]}}";
}

Bundle parse_bundle(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  Bundle b;
  b.media_type = need(doc->root, "mediaType", where, "mediaType");
  if (b.media_type.rfind("application/vnd.dev.sigstore.bundle", 0) != 0)
    throw SignError(where + ": mediaType \"" + b.media_type + "\" is not a Sigstore bundle");
  const Node* vm = get(doc->root, "verificationMaterial");
  if (!vm || !vm->is_map()) throw SignError(where + ": verificationMaterial is missing");
  if (const Node* pk = get(vm, "publicKey")) b.key_hint = str(get(pk, "hint"));
  b.has_certificate = get(vm, "certificate") || get(vm, "x509CertificateChain");
  // v0.3 carries the leaf alone; v0.1/v0.2 a chain whose first certificate is the leaf. A bad one
  // is remembered, not thrown: a key-based verification does not need it.
  auto raw = [&](const Node* c) -> std::string {
    auto der = base64_decode(str(get(c, "rawBytes")));
    if (!der || der->empty()) b.certificate_error = at(where, c) + ": rawBytes is not a base64 certificate";
    return der ? *der : std::string();
  };
  if (const Node* c = get(vm, "certificate")) {
    b.certificate = raw(c);
  } else if (const Node* chain = get(vm, "x509CertificateChain")) {
    const auto certs = items(get(chain, "certificates"));
    if (certs.empty()) b.certificate_error = at(where, chain) + ": x509CertificateChain has no certificates";
    for (std::size_t i = 0; i < certs.size() && i < 10; ++i) {
      if (i == 0) b.certificate = raw(certs[i]);
      else b.chain.push_back(raw(certs[i]));
    }
  }
  b.tlog_entries = items(get(vm, "tlogEntries")).size();
  for (const Node* t : items(get(get(vm, "timestampVerificationData"), "rfc3161Timestamps"))) {
    auto der = base64_decode(str(get(t, "signedTimestamp")));
    if (der && !der->empty() && b.timestamps.size() < 8) b.timestamps.push_back(std::move(*der));
  }
  b.has_message_signature = get(doc->root, "messageSignature") != nullptr;
  if (const Node* env = get(doc->root, "dsseEnvelope")) {
    b.has_dsse = true;
    b.payload_type = need(env, "payloadType", where, "dsseEnvelope.payloadType");
    b.payload = decode64(need(env, "payload", where, "dsseEnvelope.payload"), where + ": dsseEnvelope.payload");
    const Node* sigs = get(env, "signatures");
    if (!sigs || !sigs->is_seq()) throw SignError(at(where, sigs ? sigs : env) + ": dsseEnvelope.signatures is not a list");
    for (const Node* s : sigs->items())
      b.signatures.push_back(decode64(need(s, "sig", where, "dsseEnvelope.signatures[].sig"), where + ": signature"));
  }
  return b;
}

std::string build_referrer_manifest(const Descriptor& layer, const Descriptor& subject, const std::string& artifact_type,
                                    const Annotations& annotations) {
  Descriptor config;
  config.media_type = kOciEmptyMediaType;
  config.digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";  // sha256("{}")
  config.size = 2;
  config.artifact_type = artifact_type;
  std::string out = "{\"schemaVersion\":2,\"mediaType\":" + q(kOciManifestMediaType) + ",\"config\":" +
                    descriptor_json(config) + ",\"layers\":[" + descriptor_json(layer) + "]";
  Descriptor s = subject;
  s.annotations.clear();
  s.artifact_type.clear();
  out += ",\"annotations\":";
  write_annotations(out, annotations);
  out += ",\"subject\":" + descriptor_json(s) + ",\"artifactType\":" + q(artifact_type) + "}";
  return out;
}

ReferrerManifest parse_referrer_manifest(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  ReferrerManifest m;
  if (const Node* a = get(doc->root, "artifactType")) m.artifact_type = str(a);
  // cosign writes artifactType at the top and in the config descriptor; OCI 1.0-style artifacts
  // name it by the config's media type.
  if (m.artifact_type.empty()) m.artifact_type = str(get(get(doc->root, "config"), "artifactType"));
  if (m.artifact_type.empty()) m.artifact_type = str(get(get(doc->root, "config"), "mediaType"));
  if (const Node* s = get(doc->root, "subject")) {
    m.subject = descriptor_of(s, where, "subject");
    m.has_subject = true;
  }
  const Node* layers = get(doc->root, "layers");
  std::size_t i = 0;
  for (const Node* l : items(layers)) m.layers.push_back(descriptor_of(l, where, "layers[" + std::to_string(i++) + "]"));
  m.annotations = annotations_of(get(doc->root, "annotations"), where, "annotations");
  return m;
}

Index parse_index(const std::string& bytes, const std::string& where) {
  auto doc = parse(bytes, where);
  const Node* manifests = get(doc->root, "manifests");
  if (manifests && manifests->type != NodeType::Null && !manifests->is_seq())
    throw SignError(at(where, manifests) + ": manifests is not a list");
  Index out;
  out.manifests = descriptors_of(manifests, where, "manifests", out.skipped);
  return out;
}

std::string build_index(const std::vector<Descriptor>& manifests) {
  std::string out = "{\"schemaVersion\":2,\"mediaType\":" + q(kOciIndexMediaType) + ",\"manifests\":[";
  for (std::size_t i = 0; i < manifests.size(); ++i) out += (i ? "," : "") + descriptor_json(manifests[i]);
  return out + "]}";
}

}  // namespace kg::sign
