// kguard keygen / sign / verify: cosign-compatible image signing (engines/sign, docs/signing.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/sign_keys.hpp"
#include "core/json_writer.hpp"
#include "engines/sign/keyring.hpp"
#include "engines/sign/keys.hpp"
#include "engines/sign/pkcs11.hpp"
#include "engines/sign/sign.hpp"

namespace kg::cli {
namespace {

using kg::sign::SignError;

constexpr const char* kKeygenHelp = R"(Usage: kguard keygen [--output-key-prefix PREFIX] [--algorithm ecdsa-p256|ed25519] [--force]

Writes PREFIX.key (the private key, encrypted as `cosign generate-key-pair` does: scrypt + NaCl
secretbox, PEM "ENCRYPTED SIGSTORE PRIVATE KEY") and PREFIX.pub (PEM public key). PREFIX is
"cosign" by default. The password comes from COSIGN_PASSWORD when it is set (even empty), else it is
asked twice on the terminal.
      --output-key-prefix PREFIX  file names PREFIX.key and PREFIX.pub
      --algorithm ALG             ecdsa-p256 (cosign's default) or ed25519
      --force                     overwrite existing files
)";

constexpr const char* kSignHelp = R"(Usage: kguard sign --key REF [options] IMAGE

Signs the registry image IMAGE (registry/repository[:tag|@sha256:...]): the reference is resolved
to its manifest digest and the signature is attached to that digest, in cosign's formats.
  --key REF                    cosign.key (password from COSIGN_PASSWORD or a prompt), a PEM private
                               key, or a PKCS#11 URI (pkcs11:token=T;object=O?module-path=M&pin-value=P)
  --format legacy|bundle       legacy (default): the sha256-<hex>.sig tag with a simple-signing layer,
                               as `cosign sign` writes; bundle: a Sigstore bundle v0.3 attached as an
                               OCI 1.1 referrer (`cosign sign --new-bundle-format`)
  --new-bundle-format          the same as --format bundle
  --allow-insecure-registry    unverified TLS, or plain HTTP, for the registry
  --allow-http-registry        the same (plain HTTP allowed)
  --registry-ca FILE           extra CA bundle (PEM) for the registry's certificate
  --docker-config FILE         docker's config.json with the registry credentials
  --certificate FILE           a PEM certificate for the key (keyless-style signing with your own CA,
                               or a Fulcio certificate): attached as cosign sign --certificate does
  --certificate-chain FILE     its chain (PEM, intermediates then root), attached with it
  --tlog-upload=false          accepted for cosign's command lines: kguard signs offline, never
                               uploading to a transparency log
Exit status: 0 signed, 2 error.
)";

constexpr const char* kVerifyHelp = R"(Usage: kguard verify --key REF [--key REF...] [options] IMAGE

Verifies the cosign signatures of the registry image IMAGE. The reference is resolved to its
manifest digest; a signature counts only when it verifies under one of the keys and its signed
payload names that digest. Both formats are read (legacy .sig tag and bundle referrers, through the
referrers API or its sha256-<hex> index tag). Any one valid signature passes.
  --key REF                    cosign.pub (a PEM public key) or a PKCS#11 URI; repeat for any-of
  --revoked REF                a revoked key (PEM public key, PKCS#11 URI, or its sha256:<hex>
                               fingerprint): its signatures never count, and are reported as its;
                               repeatable
  --format legacy|bundle|any   which signatures to look for (any)
  -o, --output text|json       the result on stdout (text)
  --allow-insecure-registry, --allow-http-registry, --registry-ca FILE, --docker-config FILE
                               as for sign
  --insecure-ignore-tlog       no transparency log is consulted (key-based verification never
                               needs one; keyless verification requires this flag: the
                               certificate is then checked at the current time)
Keyless (a certificate in the signature instead of --key; docs/signing.md "Keyless"):
  --certificate-identity ID    the certificate's SAN (email or URI) must be ID
  --certificate-identity-regexp RE        ... or match RE (ECMAScript syntax)
  --certificate-oidc-issuer URL           the Fulcio OIDC issuer extension must be URL
  --certificate-oidc-issuer-regexp RE     ... or match RE
  --trusted-root FILE          Sigstore trusted_root.json (its certificate authorities)
  --certificate-chain FILE     PEM: intermediates then the root (cosign's flag)
  --ca-roots FILE              PEM roots; --ca-intermediates FILE its intermediates
  --timestamp-certificate-chain FILE      RFC 3161 time-stamping authority (PEM, root last): the
                               certificate is checked at the signature's verified timestamp, and a
                               signature without one is rejected
  --use-signed-timestamps      the same with --trusted-root's timestampAuthorities
  --insecure-ignore-sct        accepted for cosign's command lines (no SCT is checked)
Exit status: 0 at least one valid signature, 1 none, 2 error.
)";

bool write_file(const std::string& path, const std::string& data, mode_t mode, bool force, std::string& error) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    error = path + (errno == EEXIST ? ": exists (--force overwrites it)" : ": cannot be written");
    return false;
  }
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::fchmod(fd, mode);
  ok = ::close(fd) == 0 && ok;
  if (!ok) error = path + ": write failed";
  return ok;
}

int keygen(const std::vector<std::string>& args) {
  std::string prefix = "cosign", algorithm = "ecdsa-p256";
  bool force = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v;
    if (args[i] == "-h" || args[i] == "--help") {
      std::cout << kKeygenHelp;
      return 0;
    } else if (flag.is("--output-key-prefix")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard keygen: --output-key-prefix needs a prefix\n", 2;
      prefix = v;
    } else if (flag.is("--algorithm")) {
      if (!flag.value(v) || (v != "ecdsa-p256" && v != "ed25519"))
        return std::cerr << "kguard keygen: --algorithm is ecdsa-p256 or ed25519\n", 2;
      algorithm = v;
    } else if (args[i] == "--force") {
      force = true;
    } else {
      std::cerr << "kguard keygen: unexpected argument '" << args[i] << "'\n" << kKeygenHelp;
      return 2;
    }
  }
  auto pair = kg::sign::generate_key_pair(key_password(true), algorithm == "ed25519" ? kg::sign::KeyAlgorithm::Ed25519
                                                                                   : kg::sign::KeyAlgorithm::EcdsaP256);
  std::string error;
  if (!write_file(prefix + ".key", pair.private_pem, 0600, force, error) ||
      !write_file(prefix + ".pub", pair.public_pem, 0644, force, error)) {
    std::cerr << "kguard keygen: " << error << '\n';
    return 2;
  }
  std::cerr << "Private key written to " << prefix << ".key\nPublic key written to " << prefix << ".pub\n";
  return 0;
}

int sign_cmd(const std::vector<std::string>& args) {
  std::string key, image, certificate, certificate_chain;
  kg::sign::Format format = kg::sign::Format::Legacy;
  kg::sign::RegistryOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v, error;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kSignHelp;
      return 0;
    }
    if (int r = registry_flag(args, i, options, error); r != 0) {
      if (r < 0) return std::cerr << "kguard sign: " << error << '\n', 2;
      continue;
    }
    if (flag.is("--key")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard sign: --key needs a key file or PKCS#11 URI\n", 2;
      key = v;
    } else if (flag.is("--format")) {
      if (!flag.value(v) || (v != "legacy" && v != "bundle"))
        return std::cerr << "kguard sign: --format is legacy or bundle\n", 2;
      format = v == "bundle" ? kg::sign::Format::Bundle : kg::sign::Format::Legacy;
    } else if (a == "--new-bundle-format" || a == "--new-bundle-format=true") {
      format = kg::sign::Format::Bundle;
    } else if (flag.is("--certificate") || flag.is("--cert")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard sign: --certificate needs a PEM file\n", 2;
      certificate = v;
    } else if (flag.is("--certificate-chain") || flag.is("--cert-chain")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard sign: --certificate-chain needs a PEM file\n", 2;
      certificate_chain = v;
    } else if (a == "--tlog-upload=false" || a == "-y" || a == "--yes") {
      // cosign's command lines: offline signing never uploads.
    } else if (a == "--tlog-upload" || a == "--tlog-upload=true") {
      std::cerr << "kguard sign: kguard signs offline and uploads to no transparency log (--tlog-upload=false)\n";
      return 2;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "kguard sign: unknown flag '" << a << "'\n" << kSignHelp;
      return 2;
    } else if (image.empty()) {
      image = a;
    } else {
      std::cerr << "kguard sign: one image at a time (got '" << image << "' and '" << a << "')\n";
      return 2;
    }
  }
  if (key.empty() || image.empty()) {
    std::cerr << "kguard sign: needs --key REF and IMAGE\n" << kSignHelp;
    return 2;
  }
  try {
    if (!certificate_chain.empty() && certificate.empty())
      throw SignError("--certificate-chain goes with --certificate");
    kg::sign::SigningCertificate cert;
    if (!certificate.empty()) {
      cert.certificate_pem = read_sign_file(certificate);
      if (!certificate_chain.empty()) cert.chain_pem = read_sign_file(certificate_chain);
    }
    auto signer = open_signer(key);
    auto res = kg::sign::sign_image(image, *signer, format, options, certificate.empty() ? nullptr : &cert);
    for (const std::string& n : res.notes) std::cerr << "kguard sign: note: " << n << '\n';
    if (res.already_signed) {
      std::cerr << "kguard sign: " << res.image.pinned() << " already carries this key's signature (" << res.location
                << "); nothing written\n";
    } else {
      std::cerr << "kguard sign: signed " << res.image.pinned() << " (" << kg::sign::format_name(res.format) << ": "
                << res.location << (res.referrers_fallback ? ", referrers index tag updated" : "") << ") with "
                << signer->describe() << " (key sha256:" << signer->public_key().fingerprint() << ")\n";
    }
    std::cout << res.image.pinned() << '\n';
  } catch (const SignError& e) {
    std::cerr << "kguard sign: " << e.what() << '\n';
    return 2;
  }
  return 0;
}

int verify_cmd(const std::vector<std::string>& args) {
  std::vector<std::string> key_refs, revoked_refs;
  std::string image, output = "text";
  kg::sign::VerifyOptions what;
  kg::sign::RegistryOptions options;
  KeylessFlags keyless;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v, error;
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kVerifyHelp;
      return 0;
    }
    if (int r = registry_flag(args, i, options, error); r != 0) {
      if (r < 0) return std::cerr << "kguard verify: " << error << '\n', 2;
      continue;
    }
    if (flag.is("--key")) {
      if (!flag.value(v) || v.empty()) return std::cerr << "kguard verify: --key needs a public key or PKCS#11 URI\n", 2;
      key_refs.push_back(v);
    } else if (flag.is("--revoked")) {
      if (!flag.value(v) || v.empty())
        return std::cerr << "kguard verify: --revoked needs a public key, PKCS#11 URI or sha256:<hex> fingerprint\n", 2;
      revoked_refs.push_back(v);
    } else if (flag.is("--format")) {
      if (!flag.value(v) || (v != "legacy" && v != "bundle" && v != "any"))
        return std::cerr << "kguard verify: --format is legacy, bundle or any\n", 2;
      what.legacy = v != "bundle";
      what.bundle = v != "legacy";
    } else if (a == "--new-bundle-format" || a == "--new-bundle-format=true") {
      what.legacy = false;
      what.bundle = true;
    } else if (flag.is("--output", "-o")) {
      if (!flag.value(v) || (v != "text" && v != "json")) return std::cerr << "kguard verify: -o is text or json\n", 2;
      output = v;
    } else if (a == "--insecure-ignore-tlog" || a == "--insecure-ignore-tlog=true") {
      keyless.ignore_tlog = true;  // key-based verification reads no transparency log anyway
    } else if (int r = keyless.parse(args, i, error); r != 0) {
      if (r < 0) return std::cerr << "kguard verify: " << error << '\n', 2;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "kguard verify: unknown flag '" << a << "'\n" << kVerifyHelp;
      return 2;
    } else if (image.empty()) {
      image = a;
    } else {
      std::cerr << "kguard verify: one image at a time (got '" << image << "' and '" << a << "')\n";
      return 2;
    }
  }
  if ((key_refs.empty() && !keyless.given()) || image.empty()) {
    std::cerr << "kguard verify: needs --key REF (or keyless --certificate-identity ...) and IMAGE\n" << kVerifyHelp;
    return 2;
  }
  kg::sign::VerifyResult res;
  kg::sign::KeylessOptions keyless_options;
  try {
    if (keyless.given()) {
      keyless_options = keyless.options();
      what.keyless = &keyless_options;
    }
    std::vector<kg::sign::PublicKey> keys;
    keys.reserve(key_refs.size());
    for (const std::string& r : key_refs) keys.push_back(open_public_key(r));
    what.refused_keys = revoked_key_refusals(revoked_refs, keys);
    std::vector<const kg::sign::PublicKey*> ptrs;
    ptrs.reserve(keys.size());
    for (const auto& k : keys) ptrs.push_back(&k);
    res = kg::sign::verify_image(image, ptrs, what, options);
  } catch (const SignError& e) {
    std::cerr << "kguard verify: " << e.what() << '\n';
    return 2;
  }
  for (const std::string& n : res.notes) std::cerr << "kguard verify: note: " << n << '\n';
  if (output == "json") {
    JsonWriter w(std::cout);
    w.begin_object();
    w.field("image", image).field("digest", res.image.digest).field("reference", res.image.pinned());
    w.field("verified", res.ok());
    w.key("signatures").begin_array();
    for (const auto& s : res.signatures) {
      w.begin_object();
      w.field("format", kg::sign::format_name(s.format)).field("location", s.location).field("verified", s.verified);
      if (!s.key.empty()) w.field("key", "sha256:" + s.key);
      if (s.refused) w.field("revoked", true);
      if (!s.reason.empty()) w.field("reason", s.reason);
      if (!s.docker_reference.empty()) w.field("dockerReference", s.docker_reference);
      if (!s.identity.empty()) w.field("certificateIdentity", s.identity).field("certificateOidcIssuer", s.issuer);
      if (s.signed_at) w.field("signedAt", kg::sign::rfc3339(s.signed_at));
      w.field("payload", s.payload);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    std::cout << '\n';
  } else {
    for (const auto& s : res.signatures) {
      std::cout << (s.verified ? "verified  " : "rejected  ") << kg::sign::format_name(s.format) << "  " << s.location;
      if (s.verified) std::cout << "  key sha256:" << s.key;
      if (s.verified && !s.identity.empty()) std::cout << "  certificate " << s.identity << " (issuer " << s.issuer << ")";
      if (s.verified && s.signed_at) std::cout << "  timestamped " << kg::sign::rfc3339(s.signed_at);
      else std::cout << "  " << s.reason;
      std::cout << '\n';
    }
    if (res.signatures.empty()) std::cout << "no signatures found for " << res.image.pinned() << '\n';
  }
  std::string refused_by;
  for (const auto& s : res.signatures)
    if (s.refused && refused_by.find(s.key) == std::string::npos)
      refused_by += (refused_by.empty() ? "sha256:" : ", sha256:") + s.key;
  std::cerr << "kguard verify: " << res.image.pinned() << ": "
            << (res.ok() ? "a valid signature was found"
                : refused_by.empty() ? "no valid signature"
                                     : "no valid signature; signed only by revoked key(s) " + refused_by)
            << '\n';
  return res.ok() ? 0 : 1;
}

}  // namespace

int sign_command(const std::string& cmd, const std::vector<std::string>& args) {
  try {
    if (cmd == "keygen") return keygen(args);
    if (cmd == "sign") return sign_cmd(args);
    return verify_cmd(args);
  } catch (const SignError& e) {
    std::cerr << "kguard " << cmd << ": " << e.what() << '\n';
    return 2;
  }
}

}  // namespace kg::cli
