// engines/kms alone: the SM4-GCM construction against RFC 8998's vector, AES-256-GCM, the service's
// handlers over the memory backend (round trip, limits, wrong key_id, tampering, annotations),
// state.json parsing, DNS-name annotation keys, PKCS#11 URIs as the kms backend reads them.
#include <gtest/gtest.h>

#include "crypto/pkcs11_uri.hpp"
#include "engines/kms/aead.hpp"
#include "engines/kms/backend.hpp"
#include "engines/kms/service.hpp"
#include "engines/kms/state.hpp"

namespace kg::kms {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}

TEST(KmsAead, Sm4GcmMatchesRfc8998) {
  SecretBytes key(unhex("0123456789ABCDEFFEDCBA9876543210"));
  std::string nonce = unhex("00001234567800000000ABCD");
  std::string aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
  std::string pt = unhex(
      "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA");
  std::string want = unhex(
      "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
      "83DE3541E4C2B58177E065A9BF7B62EC");
  EXPECT_EQ(aead_seal(Cipher::Sm4Gcm, key, nonce, aad, pt), want);
  auto back = aead_open(Cipher::Sm4Gcm, key, nonce, aad, want);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->view(), pt);
  std::string bad = want;
  bad[3] ^= 1;
  EXPECT_FALSE(aead_open(Cipher::Sm4Gcm, key, nonce, aad, bad));
  EXPECT_FALSE(aead_open(Cipher::Sm4Gcm, key, nonce, aad + "x", want));
}

TEST(KmsAead, Aes256GcmRoundTripAndTamper) {
  SecretBytes key(random_bytes(32));
  std::string nonce = random_bytes(12);
  std::string sealed = aead_seal(Cipher::Aes256Gcm, key, nonce, "ad", "secret seed");
  EXPECT_EQ(sealed.size(), 11u + 16u);
  auto back = aead_open(Cipher::Aes256Gcm, key, nonce, "ad", sealed);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->view(), "secret seed");
  EXPECT_FALSE(aead_open(Cipher::Aes256Gcm, key, nonce, "AD", sealed));
  sealed[0] ^= 1;
  EXPECT_FALSE(aead_open(Cipher::Aes256Gcm, key, nonce, "ad", sealed));
  EXPECT_FALSE(aead_open(Cipher::Aes256Gcm, key, nonce, "ad", "short"));
}

TEST(KmsService, Fqdn) {
  EXPECT_TRUE(is_fqdn("version.kms.kguard.dev"));
  EXPECT_TRUE(is_fqdn("a.b"));
  EXPECT_FALSE(is_fqdn("kms.kguard.dev/format"));
  EXPECT_FALSE(is_fqdn("nodot"));
  EXPECT_FALSE(is_fqdn("Upper.example.com"));
  EXPECT_FALSE(is_fqdn("-a.example.com"));
  EXPECT_FALSE(is_fqdn("a..b"));
  EXPECT_FALSE(is_fqdn(""));
}

struct Fixture {
  Fixture() {
    auto b = memory_backend();
    for (int v = 1; v <= 2; ++v) {
      KeyVersion k;
      k.version = v;
      k.key_id = "kguard-kms:memory:v" + std::to_string(v) + ":000000";
      k.cipher = v == 1 ? Cipher::Aes256Gcm : Cipher::Sm4Gcm;
      b->create(k);
      state.versions.push_back(k);
    }
    state.current = 1;
    state.backend = "memory:";
    svc = std::make_unique<KmsService>(std::move(b), state);
  }
  KmsState state;
  std::unique_ptr<KmsService> svc;
};

TEST(KmsService, RoundTripLimitsAndRefusals) {
  Fixture f;
  v2::StatusResponse st;
  ASSERT_TRUE(f.svc->status(v2::StatusRequest(), &st).ok());
  EXPECT_EQ(st.version(), "v2");
  EXPECT_EQ(st.healthz(), "ok");
  EXPECT_EQ(st.key_id(), f.state.versions[0].key_id);

  v2::EncryptRequest er;
  er.set_plaintext(std::string(32, 's'));
  v2::EncryptResponse eresp;
  ASSERT_TRUE(f.svc->encrypt(er, &eresp).ok());
  EXPECT_EQ(eresp.key_id(), st.key_id());
  EXPECT_EQ(eresp.ciphertext().size(), 2u + 12u + 32u + 16u);
  EXPECT_EQ(eresp.annotations().at(kFormatAnnotation), "1");

  v2::DecryptRequest dr;
  dr.set_ciphertext(eresp.ciphertext());
  dr.set_key_id(eresp.key_id());
  v2::DecryptResponse dresp;
  ASSERT_TRUE(f.svc->decrypt(dr, &dresp).ok());
  EXPECT_EQ(dresp.plaintext(), std::string(32, 's'));

  // Another version's key_id (the AAD binds the key_id; the cipher byte differs too).
  dr.set_key_id(f.state.versions[1].key_id);
  EXPECT_EQ(f.svc->decrypt(dr, &dresp).error_code(), StatusCode::INVALID_ARGUMENT);
  dr.set_key_id("kguard-kms:memory:v7:000000");
  EXPECT_EQ(f.svc->decrypt(dr, &dresp).error_code(), StatusCode::NOT_FOUND);
  dr.set_key_id(eresp.key_id());
  for (std::size_t i = 0; i < eresp.ciphertext().size(); ++i) {
    std::string t = eresp.ciphertext();
    t[i] ^= 0x40;
    dr.set_ciphertext(t);
    EXPECT_FALSE(f.svc->decrypt(dr, &dresp).ok()) << "byte " << i;
  }
  dr.set_ciphertext(eresp.ciphertext());
  (*dr.mutable_annotations())["not-a-dns-name"] = "1";
  EXPECT_EQ(f.svc->decrypt(dr, &dresp).error_code(), StatusCode::INVALID_ARGUMENT);
  dr.clear_annotations();
  dr.set_ciphertext(std::string(kMaxCiphertext + 1, '\1'));
  EXPECT_EQ(f.svc->decrypt(dr, &dresp).error_code(), StatusCode::INVALID_ARGUMENT);

  er.set_plaintext(std::string(kMaxPlaintext + 1, 'x'));
  EXPECT_EQ(f.svc->encrypt(er, &eresp).error_code(), StatusCode::INVALID_ARGUMENT);
  er.set_plaintext(std::string(kMaxPlaintext, 'x'));
  ASSERT_TRUE(f.svc->encrypt(er, &eresp).ok());
  EXPECT_EQ(eresp.ciphertext().size(), kMaxCiphertext);
}

TEST(KmsService, RawMalformedProtobuf) {
  Fixture f;
  RpcStatus st0;
  handle_raw(*f.svc, "Decrypt", std::string("\x0a\xff\xff\xff\xff\x0f", 6), st0);
  EXPECT_EQ(st0.error_code(), StatusCode::INTERNAL);
  EXPECT_NE(st0.error_message().find("runs past the end"), std::string::npos) << st0.error_message();
  handle_raw(*f.svc, "Nope", "", st0);
  EXPECT_EQ(st0.error_code(), StatusCode::UNIMPLEMENTED);
  std::string out = handle_raw(*f.svc, "Status", "", st0);
  EXPECT_EQ(st0.error_code(), StatusCode::OK);
  v2::StatusResponse st;
  ASSERT_TRUE(st.ParseFromString(out));
  EXPECT_EQ(st.healthz(), "ok");
}

TEST(KmsState, ParseAndErrors) {
  KmsState s;
  s.backend = "file:/k";
  s.current = 2;
  s.versions.push_back({1, "id1", Cipher::Aes256Gcm, "2026-12-05T04:00:00Z", "2026-12-05T05:00:00Z"});
  s.versions.push_back({2, "id2", Cipher::Sm4Gcm, "2026-12-05T04:30:00Z", ""});
  KmsState back = parse_state(render_state(s), "state.json");
  ASSERT_EQ(back.versions.size(), 2u);
  EXPECT_EQ(back.current, 2);
  EXPECT_TRUE(back.versions[0].is_retired());
  EXPECT_EQ(back.versions[1].cipher, Cipher::Sm4Gcm);
  auto fails = [](const std::string& text, const std::string& want) {
    try {
      parse_state(text, "state.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const KmsError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  fails("{", "state.json:");
  fails(R"({"kind":"x"})", "kind");
  fails(R"({"kind":"kguard-kms-state","format":1,"backend":"b","current":3,"versions":[]})", "current version 3");
  fails(R"({"kind":"kguard-kms-state","format":1,"backend":"b","current":1,"versions":[{"version":1,"key_id":"a","cipher":"rot13"}]})",
        "unknown cipher");
  fails(R"({"kind":"kguard-kms-state","format":1,"backend":"b","current":1,"versions":[{"version":1,"key_id":"a","cipher":"aes-256-gcm"},{"version":1,"key_id":"b","cipher":"aes-256-gcm"}]})",
        "twice");
}

TEST(KmsBackend, UriChoice) {
  BackendOptions o;
  o.uri = "s3://bucket";
  EXPECT_THROW(open_backend(o), KmsError);
  o.uri = "file:/nonexistent/kms.keys";
  EXPECT_THROW(open_backend(o), KmsError);  // no passphrase file
  o.uri = "pkcs11:token=t;object=kek?module-path=/nonexistent.so&pin-value=1234";
  try {
    open_backend(o);
    FAIL();
  } catch (const KmsError& e) {
    EXPECT_EQ(std::string(e.what()).find("1234"), std::string::npos) << e.what();
  }
  EXPECT_EQ(redact_backend_uri("pkcs11:object=k?pin-value=1234"), "pkcs11:object=k?pin-value=***");
}

}  // namespace
}  // namespace kg::kms
