// Signing and verifying registry images (sign.hpp).
#include "engines/sign/sign.hpp"

#include <chrono>
#include <ctime>

#include "core/base64.hpp"
#include "engines/sign/formats.hpp"
#include "engines/sign/json_read.hpp"
#include "sources/image/registry_client.hpp"
#include "sources/image/stream.hpp"

namespace kg::sign {
namespace {

// What a signature blob may weigh: payloads and bundles are a few KiB.
constexpr std::size_t kMaxSignatureBlob = std::size_t{1} << 20;
// Referrer manifests (and legacy signature layers) read per image: each is a request; an index
// or a .sig manifest may list anything.
constexpr std::size_t kMaxReferrers = 64;

std::unique_ptr<image::RegistryClient> client_for(const ResolvedImage& img, const RegistryOptions& options, bool push) {
  return std::make_unique<image::RegistryClient>(img.registry, img.repository, options.read, push);
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

template <typename F>
auto registry_call(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const image::ImageError& e) {
    throw SignError(e.what());
  }
}

// The referrer manifests of `digest`: the referrers API, else the sha256-<hex> index tag.
std::vector<Descriptor> list_referrers(image::RegistryClient& c, const std::string& digest, bool& fallback,
                                       std::vector<std::string>& notes) {
  std::string where = c.registry() + "/" + c.repository() + ": referrers of " + digest;
  Index index;
  if (auto body = c.referrers(digest)) {
    index = parse_index(*body, where);
  } else {
    fallback = true;
    auto tagged = c.get_manifest(digest_tag(digest));
    if (!tagged) return {};
    notes.push_back(c.registry() + " has no referrers API: read the index tag " + digest_tag(digest));
    where = c.registry() + "/" + c.repository() + ":" + digest_tag(digest);
    index = parse_index(tagged->bytes, where);
  }
  // One bad entry (anyone who can push writes the fallback tag) leaves the others to be judged.
  for (const std::string& s : index.skipped) notes.push_back(s);
  std::vector<Descriptor> out;
  for (std::size_t i = 0; i < index.manifests.size(); ++i)
    if (fetchable_sha256(index.manifests[i], where, "manifests", notes)) out.push_back(std::move(index.manifests[i]));
  return out;
}

// A signature that verified under a refused key does not count; the reason names the key.
void refuse_if_listed(const VerifyOptions& what, Signature& s) {
  auto it = what.refused_keys.find(s.key);
  if (it == what.refused_keys.end()) return;
  s.verified = false;
  s.refused = true;
  s.reason = it->second;
}

// cosign's legacy timestamp annotation: {"SignedRFC3161Timestamp": base64 DER}.
std::vector<std::string> legacy_timestamps(const Descriptor& l, const std::string& where) {
  const std::string text = l.annotation(kTimestampAnnotation);
  if (text.empty()) return {};
  auto doc = json::parse(text, where + ": " + kTimestampAnnotation);
  auto der = base64_decode(str(get(doc->root, "SignedRFC3161Timestamp")));
  if (!der || der->empty()) throw SignError(where + ": " + kTimestampAnnotation + " has no SignedRFC3161Timestamp");
  return {*der};
}

// The certificate checked against the keyless options at the signing time; its identity goes into
// `s`. The signing time: a verified RFC 3161 timestamp over the signature bytes when the options
// ask for timestamps (any one of `timestamps` that verifies), else the given or current time.
VerifiedCertificate keyless_certificate(const KeylessOptions& k, const std::string& leaf,
                                        const std::vector<std::string>& chain, const std::vector<std::string>& timestamps,
                                        const std::string& signature, Signature& s) {
  std::int64_t at = k.at ? k.at : static_cast<std::int64_t>(std::time(nullptr));
  if (k.use_timestamps) {
    if (timestamps.empty()) throw SignError("no RFC 3161 timestamp in the signature (timestamps are required)");
    std::string why;
    at = 0;
    for (const std::string& ts : timestamps) {
      try {
        at = verify_timestamp(ts, signature, k.root.timestamp_authorities);
        break;
      } catch (const SignError& e) {
        why = e.what();
      }
    }
    if (at == 0) throw SignError(why);
    s.signed_at = at;
  }
  VerifiedCertificate vc = verify_certificate(leaf, chain, k.root, k.identity, at);
  s.identity = vc.identity;
  s.issuer = vc.info.issuer;
  return vc;
}

// Legacy keyless: the certificate, then the signature over the payload with its key.
void check_certificate(const KeylessOptions& k, const std::string& leaf, const std::vector<std::string>& chain,
                       const std::vector<std::string>& timestamps, const std::string& payload, const std::string& sig,
                       Signature& s) {
  VerifiedCertificate vc = keyless_certificate(k, leaf, chain, timestamps, sig, s);
  if (!vc.key.verify(payload, sig)) throw SignError("the signature does not verify with the certificate's key");
  s.key = vc.key.fingerprint();
}

}  // namespace

const char* format_name(Format f) { return f == Format::Legacy ? "legacy" : "bundle"; }

ResolvedImage resolve_image(const std::string& text, const RegistryOptions& options, bool push) {
  std::string error;
  image::ImageRef ref = image::parse_reference(text, error);
  if (!error.empty()) throw SignError(text + ": " + error);
  if (ref.kind != image::ImageRef::Kind::Registry)
    throw SignError(text + ": signatures live in a registry; name the image as registry/repository[:tag|@digest]");
  ResolvedImage img;
  img.registry = ref.registry;
  img.repository = ref.repository;
  img.tag = ref.tag;
  // cosign writes name.Repository.Name(): Docker Hub's as index.docker.io.
  std::string host = ref.registry == "registry-1.docker.io" ? "index.docker.io" : ref.registry;
  img.docker_reference = host + "/" + ref.repository;
  image::RegistryClient c(ref.registry, ref.repository, options.read, push);
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  auto m = registry_call([&] { return c.get_manifest(reference); });
  if (!m) throw SignError(text + ": no such image in " + ref.registry + "/" + ref.repository + " (HTTP 404)");
  // get_manifest checked a digest reference against the bytes; a tag resolves to the bytes' digest.
  img.digest = m->digest;
  img.media_type = m->media_type.empty() ? kOciManifestMediaType : m->media_type;
  img.size = m->bytes.size();
  return img;
}

SignResult sign_image(const std::string& ref, Signer& signer, Format format, const RegistryOptions& options,
                      const SigningCertificate* certificate) {
  std::string cert_der;
  if (certificate) {
    cert_der = pem_certificates(certificate->certificate_pem, "--certificate").front();
    if (!certificate_matches_key(cert_der, signer.public_key()))
      throw SignError("--certificate: its public key is not the signing key's");
    if (!certificate->chain_pem.empty()) pem_certificates(certificate->chain_pem, "--certificate-chain");
  }
  SignResult res;
  res.format = format;
  res.image = resolve_image(ref, options, true);
  const ResolvedImage& img = res.image;
  auto c = client_for(img, options, true);
  registry_call([&] {
    if (format == Format::Legacy) {
      std::string payload = simple_signing_payload(img.docker_reference, img.digest);
      std::string payload_digest = "sha256:" + hex(sha256_bytes(payload));
      std::string tag = signature_tag(img.digest);
      res.location = tag;
      std::vector<Descriptor> layers;
      if (auto existing = c->get_manifest(tag)) {
        SignatureManifest sm = parse_signature_manifest(existing->bytes, img.registry + "/" + img.repository + ":" + tag);
        // Malformed layers cannot be written back; they are dropped, and said so.
        for (const std::string& s : sm.skipped) c->notes.push_back(s + ": dropped from the rewritten " + tag);
        layers = std::move(sm.layers);
        // cosign's dupe detector: a layer of this payload whose signature this key verifies.
        for (const Descriptor& l : layers) {
          if (l.digest != payload_digest) continue;
          auto sig = base64_decode(l.annotation(kSignatureAnnotation));
          if (sig && signer.public_key().verify(payload, *sig)) {
            res.already_signed = true;
            return 0;
          }
        }
      }
      Descriptor layer;
      layer.media_type = kSimpleSigningMediaType;
      layer.digest = c->put_blob(payload);
      layer.size = payload.size();
      layer.annotations.emplace_back(kSignatureAnnotation, base64_encode(signer.sign(payload)));
      if (certificate) {
        layer.annotations.emplace_back(kCertificateAnnotation, pem_encode(cert_der, "CERTIFICATE"));
        if (!certificate->chain_pem.empty()) layer.annotations.emplace_back(kChainAnnotation, certificate->chain_pem);
      }
      layers.push_back(layer);
      BuiltManifest built = build_signature_manifest(layers);
      c->put_blob(built.config);
      c->put_manifest(tag, kOciManifestMediaType, built.manifest);
      return 0;
    }
    // Bundle: DSSE over cosign's statement, in a referrer manifest whose subject is the image.
    std::string statement = sign_statement(img.digest);
    std::string signature = signer.sign(dsse_pae(kInTotoPayloadType, statement));
    std::string bundle = certificate ? build_certificate_bundle(statement, signature, cert_der)
                                     : build_bundle(statement, signature, signer.public_key());
    AttachResult a = attach_bundle(*c, img, bundle, kCosignSignPredicate);
    res.location = a.manifest_digest;
    res.referrers_fallback = a.fallback;
    return 0;
  });
  res.notes = c->notes;
  return res;
}

AttachResult attach_bundle(image::RegistryClient& c, const ResolvedImage& img, const std::string& bundle,
                           const std::string& predicate_type) {
  AttachResult out;
  c.put_blob("{}");
  Descriptor layer;
  layer.media_type = kBundleMediaType;
  layer.digest = c.put_blob(bundle);
  layer.size = bundle.size();
  Descriptor subject;
  subject.media_type = img.media_type;
  subject.digest = img.digest;
  subject.size = img.size;
  Annotations ann = {{"dev.sigstore.bundle.content", "dsse-envelope"},
                     {"dev.sigstore.bundle.predicateType", predicate_type},
                     {"org.opencontainers.image.created", now_rfc3339()}};
  std::string manifest = build_referrer_manifest(layer, subject, kBundleMediaType, ann);
  out.manifest_digest = "sha256:" + hex(sha256_bytes(manifest));
  bool indexed = false;
  c.put_manifest(out.manifest_digest, kOciManifestMediaType, manifest, &indexed);
  // No OCI-Subject answer and no referrers API: keep the fallback index tag (OCI distribution spec
  // 1.1, "Referrers Tag Schema") up to date, as go-containerregistry does.
  if (indexed || c.referrers(img.digest)) return out;
  out.fallback = true;
  std::string tag = digest_tag(img.digest);
  std::vector<Descriptor> entries;
  if (auto existing = c.get_manifest(tag)) {
    // Well-formed entries of any digest algorithm stay as they were; malformed ones cannot be
    // written back, so they are dropped, and said so.
    Index index = parse_index(existing->bytes, c.registry() + "/" + c.repository() + ":" + tag);
    for (const std::string& s : index.skipped) c.notes.push_back(s + ": dropped from the rewritten index");
    entries = std::move(index.manifests);
  }
  Descriptor d;
  d.media_type = kOciManifestMediaType;
  d.digest = out.manifest_digest;
  d.size = manifest.size();
  d.artifact_type = kBundleMediaType;
  d.annotations = ann;
  bool present = false;
  for (const Descriptor& e : entries) present = present || e.digest == d.digest;
  if (!present) entries.push_back(d);
  c.put_manifest(tag, kOciIndexMediaType, build_index(entries));
  return out;
}

std::vector<FoundBundle> fetch_bundles(image::RegistryClient& c, const ResolvedImage& img,
                                       std::vector<std::string>& notes, const std::vector<std::string>& only_types) {
  std::vector<FoundBundle> out;
  std::string repo = c.registry() + "/" + c.repository();
  bool fallback = false;
  std::size_t seen = 0;
  for (const Descriptor& d : list_referrers(c, img.digest, fallback, notes)) {
    // ggcr's fallback index names cosign's referrers by their config media type (the empty one),
    // so only other declared kinds are skipped unread; the manifest itself decides.
    if (!d.artifact_type.empty() && d.artifact_type != kBundleMediaType && d.artifact_type != kOciEmptyMediaType) continue;
    // The referrers API copies the manifest's annotations into the entry: a type not needed is not fetched.
    if (!predicate_type_wanted(stated_predicate_type(d.annotations), only_types)) continue;
    if (++seen > kMaxReferrers) {
      notes.push_back("more than " + std::to_string(kMaxReferrers) + " referrers: the rest were not read");
      break;
    }
    FoundBundle f;
    f.location = d.digest;
    try {
      auto m = c.get_manifest(d.digest);
      if (!m) throw SignError("the referrer manifest is gone");
      ReferrerManifest rm = parse_referrer_manifest(m->bytes, repo + "@" + d.digest);
      if (rm.artifact_type != kBundleMediaType) continue;  // another kind of artifact
      // An index entry (the fallback tag is writable by anyone who can push) must not lend a
      // referrer of another image to this one.
      if (!rm.has_subject || rm.subject.digest != img.digest) {
        throw SignError("the referrer's subject is " + (rm.has_subject ? rm.subject.digest : "missing") +
                        ", not the image's " + img.digest);
      }
      const Descriptor* layer = nullptr;
      for (const Descriptor& l : rm.layers)
        if (l.media_type == kBundleMediaType) layer = &l;
      if (!layer) throw SignError("no bundle layer");
      if (layer->size > kMaxSignatureBlob) throw SignError("the bundle is " + std::to_string(layer->size) + " bytes");
      for (const auto& [k, v] : rm.annotations)
        if (k == "dev.sigstore.bundle.predicateType") f.predicate_type = v;
      if (!predicate_type_wanted(f.predicate_type, only_types)) continue;  // the bundle is not downloaded
      f.bytes = c.get_blob(layer->digest, kMaxSignatureBlob);
    } catch (const SignError& e) {
      f.error = e.what();
    } catch (const image::ImageError& e) {
      f.error = e.what();
    }
    out.push_back(std::move(f));
  }
  return out;
}

DsseCheck check_dsse_bundle(const Bundle& b, const std::vector<const PublicKey*>& keys, const std::string& digest) {
  if (!b.has_dsse)
    throw SignError(b.has_message_signature ? "a message-signature bundle (not an image signature)" : "no DSSE envelope");
  if (b.payload_type != kInTotoPayloadType) throw SignError("DSSE payloadType is \"" + b.payload_type + "\"");
  DsseCheck out;
  std::string pae = dsse_pae(b.payload_type, b.payload);
  for (const std::string& sig : b.signatures) {
    for (const PublicKey* k : keys)
      if (out.key.empty() && k->verify(pae, sig)) out.key = k->fingerprint();
  }
  if (out.key.empty()) throw SignError("the signature does not verify with the given key(s)");
  out.statement = parse_statement(b.payload, "bundle statement");
  bool names_it = false;
  for (const std::string& dg : out.statement.subject_digests) names_it = names_it || dg == digest;
  if (!names_it) {
    throw SignError("the statement's subject is " +
                    (out.statement.subject_digests.empty() ? std::string("no sha256 digest")
                                                           : out.statement.subject_digests.front()) +
                    ", not the image's " + digest);
  }
  return out;
}

VerifyResult verify_image(const std::string& ref, const std::vector<const PublicKey*>& keys, const VerifyOptions& what,
                          const RegistryOptions& options) {
  VerifyResult res;
  res.image = resolve_image(ref, options, false);
  const ResolvedImage& img = res.image;
  auto c = client_for(img, options, false);
  std::string repo = img.registry + "/" + img.repository;
  auto check_keys = [&](const std::string& message, const std::vector<std::string>& sigs, Signature& s) {
    for (const std::string& sig : sigs) {
      for (const PublicKey* k : keys) {
        if (k->verify(message, sig)) {
          s.key = k->fingerprint();
          return true;
        }
      }
    }
    return false;
  };
  registry_call([&] {
    if (what.legacy) {
      std::string tag = signature_tag(img.digest);
      if (auto m = c->get_manifest(tag)) {
        SignatureManifest sm = parse_signature_manifest(m->bytes, repo + ":" + tag);
        for (const std::string& s : sm.skipped) res.notes.push_back(s);
        std::size_t read = 0;
        for (std::size_t i = 0; i < sm.layers.size(); ++i) {
          const Descriptor& l = sm.layers[i];
          if (l.media_type != kSimpleSigningMediaType) continue;
          if (!fetchable_sha256(l, repo + ":" + tag, "layers", res.notes)) continue;
          // Each layer is a request: a .sig manifest anyone with push rights wrote may list thousands.
          if (++read > kMaxReferrers) {
            res.notes.push_back(tag + ": more than " + std::to_string(kMaxReferrers) + " signatures: the rest were not read");
            break;
          }
          Signature s;
          s.format = Format::Legacy;
          s.location = tag + " layer " + std::to_string(l.position);
          try {
            if (l.size > kMaxSignatureBlob) throw SignError("the payload is " + std::to_string(l.size) + " bytes");
            s.payload = c->get_blob(l.digest, kMaxSignatureBlob);
            auto sig = base64_decode(l.annotation(kSignatureAnnotation));
            if (!sig || sig->empty()) throw SignError("no signature annotation " + std::string(kSignatureAnnotation));
            if (!check_keys(s.payload, {*sig}, s)) {
              const std::string cert = l.annotation(kCertificateAnnotation);
              if (!what.keyless || cert.empty()) {
                throw SignError(what.keyless && keys.empty() ? "no certificate in the signature (keyless verification needs one)"
                                                             : "the signature does not verify with the given key(s)");
              }
              std::vector<std::string> chain;
              if (std::string pem = l.annotation(kChainAnnotation); !pem.empty())
                chain = pem_certificates(pem, s.location + ": " + kChainAnnotation);
              check_certificate(*what.keyless, pem_certificates(cert, s.location + ": " + kCertificateAnnotation).front(),
                                chain, legacy_timestamps(l, s.location), s.payload, *sig, s);
            }
            SimpleSigning ss = parse_simple_signing(s.payload, s.location);
            s.docker_reference = ss.docker_reference;
            if (ss.type != kSimpleSigningType) throw SignError("critical.type is \"" + ss.type + "\"");
            // The signed payload must name this very manifest: a signature copied from another
            // digest (or a tag moved to other content) fails here.
            if (ss.digest != img.digest)
              throw SignError("the payload signs " + ss.digest + ", not the image's " + img.digest);
            s.verified = true;
            refuse_if_listed(what, s);
          } catch (const SignError& e) {
            s.reason = e.what();
          } catch (const image::ImageError& e) {
            s.reason = e.what();
          }
          res.signatures.push_back(std::move(s));
        }
      }
    }
    if (what.bundle) {
      for (FoundBundle& f : fetch_bundles(*c, img, res.notes)) {
        Signature s;
        s.format = Format::Bundle;
        s.location = f.location;
        if (!f.error.empty()) {
          s.reason = f.error;
          res.signatures.push_back(std::move(s));
          continue;
        }
        try {
          Bundle b = parse_bundle(f.bytes, repo + "@" + f.location);
          if (b.has_dsse && b.payload_type == kInTotoPayloadType &&
              parse_statement(b.payload, "bundle statement").predicate_type != kCosignSignPredicate)
            continue;  // an attestation: verify --attestation's business
          s.payload = b.payload;
          if (what.keyless && b.has_certificate) {
            if (!b.certificate_error.empty()) throw SignError(b.certificate_error);
            if (b.signatures.size() != 1) throw SignError("a keyless bundle has one signature");
            VerifiedCertificate vc =
                keyless_certificate(*what.keyless, b.certificate, b.chain, b.timestamps, b.signatures.front(), s);
            s.key = check_dsse_bundle(b, {&vc.key}, img.digest).key;
          } else {
            s.key = check_dsse_bundle(b, keys, img.digest).key;
          }
          s.verified = true;
          refuse_if_listed(what, s);
        } catch (const SignError& e) {
          s.reason = e.what();
        }
        res.signatures.push_back(std::move(s));
      }
    }
    return 0;
  });
  for (const std::string& n : c->notes) res.notes.push_back(n);
  return res;
}

}  // namespace kg::sign
