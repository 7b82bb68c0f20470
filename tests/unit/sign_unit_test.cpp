// engines/sign without a registry: cosign's key file format (a key file cosign wrote), the
// envelope round trip and its refusals, signatures, DSSE's PAE, the payloads' exact bytes,
// PKCS#11 URIs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/base64.hpp"
#include "engines/sign/certs.hpp"
#include "engines/sign/formats.hpp"
#include "engines/sign/keyring.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"

namespace {

using namespace kg::sign;

std::string slurp(const std::string& rel) {
  std::ifstream in(std::string(KGUARD_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SignKeys, ReadsAKeyFileCosignWrote) {
  std::string pem = slurp("tests/testdata/sign/cosign-generated.key");
  ASSERT_EQ(pem_label(pem), "ENCRYPTED SIGSTORE PRIVATE KEY");
  auto signer = load_private_key(pem, "kguard-test", "cosign-generated.key");
  EXPECT_EQ(signer->public_key().pem(), slurp("tests/testdata/sign/cosign-generated.pub"));
  std::string sig = signer->sign("payload");
  PublicKey pub = PublicKey::from_pem(slurp("tests/testdata/sign/cosign-generated.pub"), "pub");
  EXPECT_TRUE(pub.verify("payload", sig));
  EXPECT_FALSE(pub.verify("payloaD", sig));
  try {
    load_private_key(pem, "not-it", "cosign-generated.key");
    FAIL() << "a wrong password must fail";
  } catch (const SignError& e) {
    EXPECT_NE(std::string(e.what()).find("cosign-generated.key: decryption failed: wrong password"), std::string::npos)
        << e.what();
  }
}

TEST(SignKeys, EnvelopeRoundTripAndRefusals) {
  std::string env = encrypt_envelope("secret bytes", "pw", 15);
  EXPECT_NE(env.find(R"("params":{"N":32768,"r":8,"p":1})"), std::string::npos) << env;
  EXPECT_EQ(decrypt_envelope(env, "pw", "x"), "secret bytes");
  EXPECT_THROW(decrypt_envelope(env, "pW", "x"), SignError);
  std::string big = env;
  big.replace(big.find("32768"), 5, "1048576");
  try {
    parse_envelope(big, "k.key");
    FAIL();
  } catch (const SignError& e) {
    EXPECT_NE(std::string(e.what()).find("k.key: kdf.params N=1048576"), std::string::npos) << e.what();
  }
  std::string other = env;
  other.replace(other.find("nacl/secretbox"), 14, "aes-gcm");
  EXPECT_THROW(parse_envelope(other, "k"), SignError);
  EXPECT_THROW(parse_envelope("{", "k"), SignError);
}

TEST(SignKeys, GeneratedPairSignsAndVerifiesBothAlgorithms) {
  for (KeyAlgorithm alg : {KeyAlgorithm::EcdsaP256, KeyAlgorithm::Ed25519}) {
    KeyPairFiles files = generate_key_pair("pw", alg);
    auto signer = load_private_key(files.private_pem, "pw", "gen.key");
    PublicKey pub = PublicKey::from_pem(files.public_pem, "gen.pub");
    EXPECT_EQ(pub.algorithm(), alg);
    EXPECT_EQ(pub.fingerprint(), signer->public_key().fingerprint());
    EXPECT_TRUE(pub.verify("m", signer->sign("m")));
  }
}

TEST(SignKeys, EcdsaRawToDer) {
  KeyPairFiles files = generate_key_pair("pw");
  auto signer = load_private_key(files.private_pem, "pw", "k");
  // A DER signature re-encoded through raw r||s (what a PKCS#11 token returns) still verifies.
  std::string der = signer->sign("m");
  ASSERT_GE(der.size(), 8u);
  // Parse r and s from the DER by hand (SEQUENCE { INTEGER r, INTEGER s }).
  std::size_t i = 2;
  auto take = [&](std::string& out) {
    ASSERT_EQ(der[i], 0x02);
    std::size_t len = static_cast<unsigned char>(der[i + 1]);
    std::string v = der.substr(i + 2, len);
    while (v.size() > 32 && v[0] == '\0') v.erase(0, 1);
    out = std::string(32 - v.size(), '\0') + v;
    i += 2 + len;
  };
  std::string r, s;
  take(r);
  take(s);
  EXPECT_TRUE(signer->public_key().verify("m", ecdsa_raw_to_der(r + s)));
  EXPECT_THROW(ecdsa_raw_to_der("short"), SignError);
}

TEST(SignKeys, PublicKeyRefusals) {
  EXPECT_THROW(PublicKey::from_pem("no pem here", "x"), SignError);
  EXPECT_THROW(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "x"), SignError);
  try {
    PublicKey::from_pem(slurp("tests/testdata/sign/cosign-generated.key"), "cosign.key");
    FAIL();
  } catch (const SignError& e) {
    EXPECT_NE(std::string(e.what()).find("holds \"ENCRYPTED SIGSTORE PRIVATE KEY\""), std::string::npos) << e.what();
  }
}

TEST(SignFormats, SimpleSigningPayloadIsCosignsBytes) {
  // Byte for byte what cosign v2.6.5 signed (fuzz/corpus/sign_payload/cosign-simple-signing.json).
  std::string cosign = slurp("fuzz/corpus/sign_payload/cosign-simple-signing.json");
  SimpleSigning s = parse_simple_signing(cosign, "cosign");
  EXPECT_EQ(s.type, "cosign container image signature");
  EXPECT_EQ(simple_signing_payload(s.docker_reference, s.digest), cosign);
  EXPECT_THROW(parse_simple_signing(R"({"critical":{}})", "p"), SignError);
  EXPECT_THROW(parse_simple_signing(R"({"critical":{"identity":{"docker-reference":1}}})", "p"), SignError);
}

TEST(SignFormats, StatementAndBundleAreCosignsBytes) {
  std::string bundle = slurp("fuzz/corpus/sign_bundle/cosign-bundle-v0.3.json");
  Bundle b = parse_bundle(bundle, "cosign");
  ASSERT_TRUE(b.has_dsse);
  EXPECT_EQ(b.media_type, kBundleMediaType);
  EXPECT_EQ(b.payload_type, kInTotoPayloadType);
  Statement st = parse_statement(b.payload, "statement");
  ASSERT_EQ(st.subject_digests.size(), 1u);
  EXPECT_EQ(sign_statement(st.subject_digests[0]), b.payload);
  // cosign's key and this bundle: the signature is over DSSE's PAE.
  PublicKey pub = PublicKey::from_pem(slurp("tests/testdata/sign/cosign-generated.pub"), "pub");
  ASSERT_EQ(b.signatures.size(), 1u);
  EXPECT_TRUE(pub.verify(dsse_pae(b.payload_type, b.payload), b.signatures[0]));
  EXPECT_EQ(b.key_hint, kg::base64_encode(sha256_bytes(pub.der())));
  // build_bundle writes cosign's shape: only the signature (ECDSA is randomised) differs.
  std::string ours = build_bundle(b.payload, b.signatures[0], pub);
  EXPECT_EQ(ours, bundle);
}

TEST(SignFormats, DssePae) {
  // The DSSE specification's example.
  EXPECT_EQ(dsse_pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(SignFormats, ManifestsAndIndexes) {
  auto sig = parse_signature_manifest(slurp("fuzz/corpus/sign_manifest/cosign-legacy-sig-manifest.json"), "m");
  ASSERT_EQ(sig.layers.size(), 1u);
  EXPECT_EQ(sig.layers[0].media_type, kSimpleSigningMediaType);
  EXPECT_FALSE(sig.layers[0].annotation(kSignatureAnnotation).empty());
  auto ref = parse_referrer_manifest(slurp("fuzz/corpus/sign_manifest/cosign-bundle-referrer-manifest.json"), "r");
  EXPECT_EQ(ref.artifact_type, kBundleMediaType);
  EXPECT_TRUE(ref.has_subject);
  auto idx = parse_index(slurp("fuzz/corpus/sign_manifest/ggcr-referrers-fallback-index.json"), "i").manifests;
  ASSERT_EQ(idx.size(), 1u);
  EXPECT_EQ(parse_index(build_index(idx), "again").manifests[0].digest, idx[0].digest);
  EXPECT_EQ(signature_tag("sha256:" + std::string(64, 'a')), "sha256-" + std::string(64, 'a') + ".sig");
  auto bad = parse_signature_manifest(R"({"layers":[{"mediaType":"x","digest":"sha256:zz","size":1}]})", "sig.json");
  EXPECT_TRUE(bad.layers.empty());
  ASSERT_EQ(bad.skipped.size(), 1u);
  EXPECT_NE(bad.skipped[0].find("sig.json:1:"), std::string::npos) << bad.skipped[0];
  EXPECT_NE(bad.skipped[0].find("layers[0].digest is not a digest"), std::string::npos) << bad.skipped[0];
}

// One bad entry of an index (the referrers API's answer or its fallback tag, which anyone who can
// push writes) or one bad .sig layer is skipped and named; the valid ones are still read.
TEST(SignFormats, BadEntriesAreSkippedAndNamed) {
  const std::string good = "sha256:" + std::string(64, 'a');
  const std::string sha512 = "sha512:" + std::string(128, 'b');
  const std::string index = R"({"schemaVersion":2,"manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,"digest":")" + sha512 + R"(","artifactType":"application/x-other","annotations":{"k":"v"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + good + R"("},
{"size":5,"digest":")" + good + R"("},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":877,"digest":")" + good + R"("}
]})";
  Index idx = parse_index(index, "reg/app:sha256-x");
  ASSERT_EQ(idx.manifests.size(), 2u);
  EXPECT_EQ(idx.manifests[0].digest, sha512);  // well-formed (OCI allows sha512): kept as it is
  EXPECT_EQ(idx.manifests[0].artifact_type, "application/x-other");
  EXPECT_EQ(idx.manifests[1].digest, good);
  EXPECT_EQ(idx.manifests[1].size, 877u);
  EXPECT_EQ(idx.manifests[1].position, 3u);
  ASSERT_EQ(idx.skipped.size(), 2u);
  EXPECT_EQ(idx.skipped[0].rfind("reg/app:sha256-x:3:", 0), 0u) << idx.skipped[0];  // the entry's line
  EXPECT_NE(idx.skipped[0].find("manifests[1].size is missing (manifests[1] skipped)"), std::string::npos) << idx.skipped[0];
  EXPECT_NE(idx.skipped[1].find("manifests[2].mediaType"), std::string::npos) << idx.skipped[1];
  // Readers fetch only sha256 entries and say which they left.
  std::vector<std::string> notes;
  EXPECT_FALSE(fetchable_sha256(idx.manifests[0], "reg/app", "manifests", notes));
  EXPECT_TRUE(fetchable_sha256(idx.manifests[1], "reg/app", "manifests", notes));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("reg/app: manifests[0].digest is sha512"), std::string::npos) << notes[0];
  // Appending to the fallback index keeps the sha512 entry unchanged.
  Index again = parse_index(build_index(idx.manifests), "again");
  EXPECT_TRUE(again.skipped.empty());
  ASSERT_EQ(again.manifests.size(), 2u);
  EXPECT_EQ(again.manifests[0].digest, sha512);
  EXPECT_EQ(again.manifests[0].size, 10u);
  EXPECT_EQ(again.manifests[0].artifact_type, "application/x-other");
  EXPECT_EQ(again.manifests[0].annotation("k"), "v");
  // Not digests at all: sha256 of the wrong length, an upper-case algorithm, no encoded part.
  for (const char* d : {"sha256:abc", "SHA256:abc", "sha512:", "sha512:abc", "nocolon", ":abc", "a..b:abc"})
    EXPECT_FALSE(is_oci_digest(d)) << d;
  EXPECT_TRUE(is_oci_digest("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"));

  const std::string sig = R"({"layers":[
{"mediaType":")" + std::string(kSimpleSigningMediaType) + R"(","size":1,"digest":"sha256:short"},
"not an object",
{"mediaType":")" + std::string(kSimpleSigningMediaType) + R"(","size":2,"digest":")" + good + R"(","annotations":{"dev.cosignproject.cosign/signature":"c2ln"}}
]})";
  SignatureManifest m = parse_signature_manifest(sig, "reg/app:sha256-x.sig");
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].position, 2u);
  ASSERT_EQ(m.skipped.size(), 2u);
  EXPECT_NE(m.skipped[0].find("layers[0].digest is not a digest"), std::string::npos) << m.skipped[0];
  EXPECT_NE(m.skipped[1].find("layers[1] is not an object"), std::string::npos) << m.skipped[1];
}

// Admission downloads only the attestations whose annotation states a required predicate type, or
// states none (the signed statement decides those).
TEST(SignFormats, PredicateTypeStatedByTheAnnotation) {
  EXPECT_EQ(stated_predicate_type({{"predicateType", "https://cyclonedx.org/bom"}}), "https://cyclonedx.org/bom");
  EXPECT_EQ(stated_predicate_type({{"dev.sigstore.bundle.predicateType", "https://slsa.dev/provenance/v1"}}),
            "https://slsa.dev/provenance/v1");
  EXPECT_EQ(stated_predicate_type({{"org.opencontainers.image.created", "2026-12-05T00:00:00Z"}}), "");
  const std::vector<std::string> wanted = {"https://cyclonedx.org/bom"};
  EXPECT_TRUE(predicate_type_wanted("https://cyclonedx.org/bom", wanted));
  EXPECT_FALSE(predicate_type_wanted("https://cosign.sigstore.dev/attestation/vuln/v1", wanted));
  EXPECT_TRUE(predicate_type_wanted("", wanted));  // no type stated: downloaded, as before
  EXPECT_TRUE(predicate_type_wanted("https://cosign.sigstore.dev/attestation/vuln/v1", {}));
}

TEST(SignPkcs11, Uris) {
  Pkcs11Uri u = parse_pkcs11_uri("pkcs11:token=My%20Token;object=key;id=%01%02?module-path=/m.so&pin-value=1234");
  EXPECT_EQ(u.token, "My Token");
  EXPECT_EQ(u.object, "key");
  EXPECT_EQ(u.id, std::string("\x01\x02"));
  EXPECT_EQ(u.module_path, "/m.so");
  EXPECT_EQ(u.pin_value, "1234");
  EXPECT_EQ(parse_pkcs11_uri("pkcs11:slot-id=3;id=%aa").slot_id, "3");
  EXPECT_THROW(parse_pkcs11_uri("pkcs11:token=t"), SignError);          // no key named
  EXPECT_THROW(parse_pkcs11_uri("pkcs11:object=%zz"), SignError);       // bad escape
  EXPECT_THROW(parse_pkcs11_uri("pkcs11:object=k;slot-id=x"), SignError);
  EXPECT_THROW(parse_pkcs11_uri("pkcs11:object=k?pin=1"), SignError);   // unknown query attribute
  EXPECT_EQ(redact_pkcs11_uri("pkcs11:object=pin-value=1?pin-value=1234&module-path=/m.so"),
            "pkcs11:object=pin-value=1?pin-value=***&module-path=/m.so");
  try {
    open_pkcs11_signer("pkcs11:object=k?module-path=/nonexistent/module.so&pin-value=1", {});
    FAIL();
  } catch (const SignError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot load the module"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("pin-value=1"), std::string::npos) << e.what();
  }
}

// Rotation and revocation: fingerprints as revocation references, windows, and the reasons that
// name the key.
TEST(SignKeyring, FingerprintsWindowsAndReasons) {
  const std::string fp(64, 'c');
  EXPECT_TRUE(is_key_fingerprint("sha256:" + fp));
  EXPECT_EQ(fingerprint_hex("sha256:" + std::string(64, 'C')), fp);
  EXPECT_FALSE(is_key_fingerprint("sha256:" + fp.substr(1)));
  EXPECT_FALSE(is_key_fingerprint("sha256:" + fp.substr(1) + "g"));
  EXPECT_FALSE(is_key_fingerprint("keys/cosign.pub"));
  EXPECT_EQ(fingerprint_hex("cosign.pub"), "");

  KeyWindow w;
  w.name = "release-2025";
  EXPECT_FALSE(w.bounded());
  EXPECT_EQ(window_refusal(w, fp, 1'800'000'000), "");
  w.not_before = 1'700'000'000;
  w.not_after = 1'798'761'599;  // 2026-12-31T23:59:59Z
  EXPECT_TRUE(w.bounded());
  EXPECT_EQ(window_refusal(w, fp, 1'798'761'599), "");  // the last second still counts
  EXPECT_EQ(window_refusal(w, fp, 1'798'761'600),
            "signed by key 'release-2025' (sha256:" + fp + "), retired at 2026-12-31T23:59:59Z (notAfter)");
  EXPECT_EQ(window_refusal(w, fp, 1'600'000'000),
            "signed by key 'release-2025' (sha256:" + fp + "), not valid before 2023-11-14T22:13:20Z (notBefore)");
  EXPECT_EQ(revoked_reason(fp), "signed by revoked key sha256:" + fp);
}

// Keyless: the fixture chain (tests/testdata/sign/keyless/README.md) read and verified at times
// inside and outside the leaf's ten minutes, with each identity and issuer check failing alone.
TEST(SignKeyless, CertificateAndTrustedRoot) {
  const std::string leaf = pem_certificates(slurp("tests/testdata/sign/keyless/leaf.pem"), "leaf.pem").front();
  CertificateInfo info = read_certificate(leaf, "leaf");
  EXPECT_EQ(info.emails, std::vector<std::string>{"dev@example.com"});
  EXPECT_EQ(info.issuer, "https://issuer.example");  // .1.8 wins over the deprecated .1.1
  EXPECT_TRUE(info.code_signing);
  EXPECT_FALSE(info.is_ca);
  EXPECT_EQ(info.not_before, 1767312000);  // 2026-01-02T00:00:00Z

  const TrustedRoot json_root = parse_trusted_root(slurp("tests/testdata/sign/keyless/trusted_root.json"), "tr.json");
  ASSERT_EQ(json_root.authorities.size(), 1u);
  EXPECT_EQ(json_root.authorities[0].intermediates.size(), 1u);
  EXPECT_EQ(json_root.authorities[0].valid_to, 1798761600);  // 2027-01-01
  TrustedRoot pem_root;
  pem_root.authorities.push_back(authority_from_chain(slurp("tests/testdata/sign/keyless/chain.pem"), "chain.pem"));

  IdentityPolicy policy{"dev@example.com", "", "https://issuer.example", ""};
  const std::int64_t signed_at = 1767312000 + 60;
  for (const TrustedRoot* root : std::vector<const TrustedRoot*>{&json_root, &pem_root}) {
    VerifiedCertificate vc = verify_certificate(leaf, {}, *root, policy, signed_at);
    EXPECT_EQ(vc.identity, "dev@example.com");
    EXPECT_EQ(vc.key.pem(), slurp("tests/testdata/sign/keyless/leaf.pub"));
  }
  auto fails = [&](const IdentityPolicy& p, std::int64_t at, const TrustedRoot& root, const std::string& why) {
    try {
      verify_certificate(leaf, {}, root, p, at);
      ADD_FAILURE() << "accepted; expected: " << why;
    } catch (const SignError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  fails(policy, 1767312000 + 3600, pem_root, "certificate has expired");
  fails(policy, 1767312000 - 60, pem_root, "certificate is not yet valid");
  fails({"eve@example.com", "", "https://issuer.example", ""}, signed_at, pem_root, "is not eve@example.com");
  fails({"", "^dev@other", "https://issuer.example", ""}, signed_at, pem_root, "is not matched by ^dev@other");
  fails({"", "@example\\.com$", "https://old-issuer.example", ""}, signed_at, pem_root, "OIDC issuer (https://issuer.example)");
  fails({"", "(", "https://issuer.example", ""}, signed_at, pem_root, "not a regular expression");
  // The trusted root's authority is valid only through 2026: a certificate at a later time finds none.
  fails(policy, 1798761600 + 10, json_root, "no certificate authority of the trusted root is valid");
  // Intermediates alone are no anchor.
  TrustedRoot no_anchor;
  no_anchor.authorities.push_back({});
  no_anchor.authorities[0].roots = json_root.authorities[0].intermediates;
  fails(policy, signed_at, no_anchor, "does not verify against the trusted root");
  // With regular expressions (anywhere in the value, as Go's MatchString).
  EXPECT_NO_THROW(verify_certificate(leaf, {}, pem_root, {"", "example\\.com", "", "issuer\\.example"}, signed_at));
}

TEST(SignKeyless, BadInputsNameWhere) {
  auto throws = [](auto&& f, const std::string& why) {
    try {
      f();
      ADD_FAILURE() << "accepted; expected: " << why;
    } catch (const SignError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  throws([] { parse_trusted_root("{\"mediaType\":\"application/json\"}", "tr.json"); }, "tr.json:1:");
  throws([] { parse_trusted_root("{\"certificateAuthorities\":{}}", "tr.json"); }, "certificateAuthorities is not a list");
  throws([] { parse_trusted_root("{\"certificateAuthorities\":[{\"certChain\":{\"certificates\":[]}}]}", "tr.json"); },
         "certificateAuthorities[0].certChain.certificates is not a list of certificates");
  throws([] { parse_trusted_root("{\"certificateAuthorities\":[{\"certChain\":{\"certificates\":[{\"rawBytes\":\"AAAA\"}]}}]}", "tr.json"); },
         "not a DER X.509 certificate");
  throws([] { parse_trusted_root("{\n\"certificateAuthorities\":[\n{\"certChain\":{\"certificates\":[{\"rawBytes\":\"%%\"}]}}]}", "tr.json"); },
         "tr.json:3:");
  throws([] { pem_certificates("no pem here", "chain.pem"); }, "chain.pem: no PEM CERTIFICATE");
  throws([] { read_certificate("\x30\x03\x02\x01\x01", "x"); }, "x: not a DER X.509 certificate");
  // A chain must end with its root.
  const std::string chain = slurp("tests/testdata/sign/keyless/chain.pem");
  throws([&] { authority_from_chain(chain.substr(0, chain.find("-----END CERTIFICATE-----") + 26), "inter.pem"); },
         "must end with its (self-signed) root");
  // A key-only trusted root (cosign's for key-based bundles) is valid and trusts nothing.
  EXPECT_TRUE(parse_trusted_root("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\"}", "t").empty());
}

// RFC 3161: a timestamp OpenSSL's TSA issued over "the signature bytes" (fixtures README), as a
// TimeStampResp and as the bare token; other bytes, no trusted authority, an authority not valid
// then, each rejected.
TEST(SignKeyless, Rfc3161Timestamp) {
  const std::string response = slurp("tests/testdata/sign/keyless/timestamp-response.der");
  const std::string token = slurp("tests/testdata/sign/keyless/timestamp-token.der");
  CertificateAuthority tsa;
  std::vector<std::string> certs = pem_certificates(slurp("tests/testdata/sign/keyless/tsa-chain.pem"), "tsa-chain.pem");
  tsa.roots = {certs.back()};
  tsa.intermediates = {certs.front()};
  const std::int64_t gen_time = 1796434365;
  EXPECT_EQ(verify_timestamp(response, "the signature bytes", {tsa}), gen_time);
  EXPECT_EQ(verify_timestamp(token, "the signature bytes", {tsa}), gen_time);
  auto fails = [&](const std::string& der, const std::string& data, const std::vector<CertificateAuthority>& cas,
                   const std::string& why) {
    try {
      verify_timestamp(der, data, cas);
      ADD_FAILURE() << "accepted; expected: " << why;
    } catch (const SignError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  fails(response, "other bytes", {tsa}, "the RFC 3161 timestamp does not verify");
  fails(response, "the signature bytes", {}, "no time-stamping authority");
  CertificateAuthority wrong_root = tsa;
  wrong_root.roots = pem_certificates(slurp("tests/testdata/sign/keyless/chain.pem"), "chain.pem");
  fails(response, "the signature bytes", {wrong_root}, "does not verify");
  CertificateAuthority expired = tsa;
  expired.valid_to = gen_time - 1;
  fails(response, "the signature bytes", {expired}, "no time-stamping authority of the trusted root is valid");
  fails(response.substr(0, response.size() / 2), "x", {tsa}, "neither a DER TimeStampResp nor a TimeStampToken");
}

}  // namespace
