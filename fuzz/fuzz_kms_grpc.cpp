// libFuzzer target for the KMS plugin's own gRPC stack (engines/kms/wire, engines/kms/grpc_h2):
//   first byte % 8 = 0..5: the bytes as each of the six KMS v2 messages. A message that parses
//     serializes to bytes that parse to the same serialization (the codec's fixpoint);
//   6: an HTTP/2 connection (the client preface prepended) into GrpcSession, every complete call
//     answered by the KMS service over the memory backend, the output drained: nothing crashes,
//     nothing leaks, the session always answers with at least its SETTINGS;
//   7: the same without the preface.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/kms/backend.hpp"
#include "engines/kms/grpc_h2.hpp"
#include "engines/kms/service.hpp"
#include "engines/kms/wire.hpp"

namespace {

template <class M>
void fixpoint(std::string_view in) {
  M m;
  if (!m.parse(in).empty()) return;
  std::string once = m.SerializeAsString();
  M again;
  if (!again.parse(once).empty()) __builtin_trap();
  if (again.SerializeAsString() != once) __builtin_trap();
}

std::unique_ptr<kg::kms::KmsService> make_service() {
  auto b = kg::kms::memory_backend();
  kg::kms::KmsState s;
  kg::kms::KeyVersion k;
  k.version = 1;
  k.key_id = "kguard-kms:memory:v1:000000";
  k.cipher = kg::kms::Cipher::Aes256Gcm;
  b->create(k);
  s.versions.push_back(k);
  s.current = 1;
  s.backend = "memory:";
  return std::make_unique<kg::kms::KmsService>(std::move(b), s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace v2 = kg::kms::v2;
  switch (data[0] % 8) {
    case 0: fixpoint<v2::StatusRequest>(in); break;
    case 1: fixpoint<v2::StatusResponse>(in); break;
    case 2: fixpoint<v2::EncryptRequest>(in); break;
    case 3: fixpoint<v2::EncryptResponse>(in); break;
    case 4: fixpoint<v2::DecryptRequest>(in); break;
    case 5: fixpoint<v2::DecryptResponse>(in); break;
    default: {
      auto svc = make_service();
      kg::kms::GrpcLimits lim;
      lim.max_message = 4096;
      lim.max_buffered = 16384;
      kg::kms::GrpcSession sess(lim);
      std::string bytes = data[0] % 8 == 6 ? std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") : std::string();
      bytes += in;
      // In two pieces, so state carried between reads is exercised too.
      std::size_t cut = bytes.size() / 2;
      std::string out;
      for (std::string_view part : {std::string_view(bytes).substr(0, cut), std::string_view(bytes).substr(cut)}) {
        if (!sess.feed(part)) break;
        for (const auto& call : sess.take_calls()) {
          kg::kms::RpcStatus st;
          constexpr std::string_view prefix = "/v2.KeyManagementService/";
          std::string resp;
          if (call.path.compare(0, prefix.size(), prefix) == 0)
            resp = kg::kms::handle_raw(*svc, std::string_view(call.path).substr(prefix.size()), call.message, st);
          else
            st = kg::kms::RpcStatus(kg::kms::StatusCode::UNIMPLEMENTED, "unknown service");
          if (!st.ok() && st.error_message().empty()) __builtin_trap();
          sess.respond(call.stream, st, resp);
        }
        out += sess.take_output();
      }
      out += sess.take_output();
      if (out.empty()) __builtin_trap();  // the server's SETTINGS at least
      sess.goaway();
      sess.take_output();
      break;
    }
  }
  return 0;
}
