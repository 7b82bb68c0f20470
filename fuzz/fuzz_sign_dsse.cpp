// libFuzzer target for DSSE envelopes (untrusted: the layer of a sha256-<hex>.att manifest):
// parse_envelope, then what a verifier does before any key: the PAE and the statement inside.
// Property: an envelope kguard writes from what was parsed parses back to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/attest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    kg::sign::DsseEnvelope e = kg::sign::parse_dsse_envelope(text, "fuzz");
    std::string again = kg::sign::build_dsse_envelope(e.payload_type, e.payload, e.signatures.front());
    kg::sign::DsseEnvelope r = kg::sign::parse_dsse_envelope(again, "rebuilt");
    if (r.payload_type != e.payload_type || r.payload != e.payload || r.signatures.size() != 1 ||
        r.signatures.front() != e.signatures.front())
      __builtin_trap();
    std::string pae = kg::sign::dsse_pae(e.payload_type, e.payload);
    if (pae.size() < e.payload.size() + e.payload_type.size() + 7) __builtin_trap();
    (void)kg::sign::parse_statement(e.payload, "statement");
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
