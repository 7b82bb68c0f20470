// libFuzzer target for Sigstore bundles (untrusted: a referrer's layer): parse_bundle, then what a
// verifier does with a parsed bundle before any key is involved: the DSSE pre-authentication
// encoding and the in-toto statement inside.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/sign/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    kg::sign::Bundle b = kg::sign::parse_bundle(text, "fuzz");
    if (b.has_dsse) {
      std::string pae = kg::sign::dsse_pae(b.payload_type, b.payload);
      if (pae.size() < b.payload.size() + b.payload_type.size() + 7) __builtin_trap();
      (void)kg::sign::parse_statement(b.payload, "statement");
    }
  } catch (const kg::sign::SignError& e) {
    if (std::string(e.what()).empty()) __builtin_trap();
  }
  return 0;
}
