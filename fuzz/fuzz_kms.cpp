// libFuzzer target for what reaches kguard kms from outside: the KMS v2 handlers given any bytes as a
// serialized Status/Encrypt/Decrypt request (malformed protobuf, oversized fields, wrong key_id and
// annotations, forged ciphertexts), state.json, the sealed key file (parsed, never unsealed) and the
// PKCS#11 URI of --backend.
// The first byte picks the entry; the rest is the input. Invariants: an Encrypt that succeeds
// decrypts back to its plaintext under the key_id it returned; no forged Decrypt succeeds; a
// mutated genuine ciphertext never opens; errors carry a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/pkcs11_uri.hpp"
#include "engines/kms/backend.hpp"
#include "engines/kms/service.hpp"
#include "engines/kms/state.hpp"

namespace {

std::unique_ptr<kg::kms::KmsService> make_service() {
  auto b = kg::kms::memory_backend();
  kg::kms::KmsState s;
  for (int v = 1; v <= 2; ++v) {
    kg::kms::KeyVersion k;
    k.version = v;
    k.key_id = "kguard-kms:memory:v" + std::to_string(v) + ":000000";
    k.cipher = v == 1 ? kg::kms::Cipher::Aes256Gcm : kg::kms::Cipher::Sm4Gcm;
    b->create(k);
    s.versions.push_back(k);
  }
  s.current = 2;
  s.backend = "memory:";
  return std::make_unique<kg::kms::KmsService>(std::move(b), s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
    case 1:
    case 2: {
      auto svc = make_service();
      static constexpr const char* kMethods[] = {"Status", "Encrypt", "Decrypt"};
      const char* method = kMethods[data[0] % 3];
      kg::kms::RpcStatus st;
      std::string out = kg::kms::handle_raw(*svc, method, in, st);
      if (!st.ok() && st.error_message().empty()) __builtin_trap();
      if (st.ok() && data[0] % 3 == 2) __builtin_trap();  // a forged ciphertext opened
      if (st.ok() && data[0] % 3 == 1) {
        kg::kms::v2::EncryptResponse er;
        kg::kms::v2::EncryptRequest req;
        if (!er.ParseFromString(out) || !req.ParseFromString(in)) __builtin_trap();
        if (er.ciphertext().size() > kg::kms::kMaxCiphertext || er.key_id().empty()) __builtin_trap();
        kg::kms::v2::DecryptRequest dr;
        dr.set_ciphertext(er.ciphertext());
        dr.set_key_id(er.key_id());
        *dr.mutable_annotations() = er.annotations();
        kg::kms::v2::DecryptResponse back;
        if (!svc->decrypt(dr, &back).ok() || back.plaintext() != req.plaintext()) __builtin_trap();
      }
      break;
    }
    case 3: {
      // A genuine ciphertext, XORed with the input: opens only when the input changes nothing.
      auto svc = make_service();
      kg::kms::v2::EncryptRequest req;
      req.set_plaintext(std::string(32, 'k'));
      kg::kms::v2::EncryptResponse er;
      if (!svc->encrypt(req, &er).ok()) __builtin_trap();
      std::string ct = er.ciphertext();
      bool changed = false;
      for (std::size_t i = 0; i < in.size() && i < ct.size(); ++i) {
        ct[i] = static_cast<char>(ct[i] ^ in[i]);
        changed = changed || in[i] != 0;
      }
      if (in.size() > er.ciphertext().size()) ct += in.substr(er.ciphertext().size()), changed = true;
      kg::kms::v2::DecryptRequest dr;
      dr.set_ciphertext(ct);
      dr.set_key_id(er.key_id());
      kg::kms::v2::DecryptResponse back;
      kg::kms::RpcStatus st = svc->decrypt(dr, &back);
      if (st.ok() == changed) __builtin_trap();
      if (!st.ok() && st.error_message().empty()) __builtin_trap();
      break;
    }
    case 4: {
      try {
        kg::kms::KmsState s = kg::kms::parse_state(in, "state.json");
        kg::kms::KmsState again = kg::kms::parse_state(kg::kms::render_state(s), "again");
        if (again.versions.size() != s.versions.size() || again.current != s.current) __builtin_trap();
        for (std::size_t i = 0; i < s.versions.size(); ++i)
          if (again.versions[i].key_id != s.versions[i].key_id) __builtin_trap();
      } catch (const kg::kms::KmsError& e) {
        if (std::string(e.what()).empty()) __builtin_trap();
      }
      try {
        kg::kms::parse_sealed_key_file(in, "kms.keys");
      } catch (const kg::kms::KmsError& e) {
        if (std::string(e.what()).empty()) __builtin_trap();
      }
      try {
        kg::crypto::Pkcs11Uri u = kg::crypto::parse_pkcs11_uri(in);
        if (u.object.empty() && u.id.empty()) __builtin_trap();
        // Every pin-value attribute of the redacted query is masked.
        std::string red = kg::crypto::redact_pkcs11_uri(in);
        std::size_t q = red.find('?');
        for (std::size_t i = q == std::string::npos ? red.size() : q + 1; i < red.size();) {
          std::size_t j = red.find('&', i);
          if (j == std::string::npos) j = red.size();
          std::string_view attr(red.data() + i, j - i);
          if (attr.substr(0, 10) == "pin-value=" && attr != "pin-value=***") __builtin_trap();
          i = j + 1;
        }
      } catch (const kg::crypto::Pkcs11Error& e) {
        if (std::string(e.what()).empty()) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
