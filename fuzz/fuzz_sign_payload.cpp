// libFuzzer target for what a signature's payload holds (untrusted: anyone who can push to the
// repository writes it): the input as a cosign simple-signing payload and as an in-toto
// statement. A payload that parses must survive a rebuild: simple_signing_payload() of what was
// read parses back to the same claims.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    kg::sign::SimpleSigning s = kg::sign::parse_simple_signing(text, "fuzz");
    std::string again = kg::sign::simple_signing_payload(s.docker_reference, s.digest);
    kg::sign::SimpleSigning t = kg::sign::parse_simple_signing(again, "rebuilt");
    if (t.docker_reference != s.docker_reference || t.digest != s.digest) __builtin_trap();
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  try {
    kg::sign::Statement st = kg::sign::parse_statement(text, "fuzz");
    if (!st.subject_digests.empty() && kg::sign::is_sha256_digest(st.subject_digests.front())) {
      kg::sign::Statement again = kg::sign::parse_statement(kg::sign::sign_statement(st.subject_digests.front()), "x");
      if (again.subject_digests != std::vector<std::string>{st.subject_digests.front()}) __builtin_trap();
    }
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
