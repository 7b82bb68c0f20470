// Key, password and registry-flag handling shared by the signing commands (sign_keys.hpp).
#include "cli/sign_keys.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/args.hpp"
#include "engines/sign/keyring.hpp"
#include "engines/sign/pkcs11.hpp"

namespace kg::cli {

using kg::sign::SignError;

std::string prompt_secret(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw SignError("no terminal to ask for the password: set COSIGN_PASSWORD");
  (void)!::write(fd, prompt.data(), prompt.size());
  termios old{};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string key_password(bool confirm) {
  if (const char* env = std::getenv("COSIGN_PASSWORD")) return env;
  std::string p = prompt_secret("Enter password for private key: ");
  if (confirm && prompt_secret("Enter password for private key again: ") != p)
    throw SignError("the passwords do not match");
  return p;
}

std::string read_sign_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SignError(path + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<kg::sign::Signer> open_signer(const std::string& ref) {
  if (kg::sign::is_pkcs11_uri(ref))
    return kg::sign::open_pkcs11_signer(ref, [] { return prompt_secret("Enter PIN for the PKCS#11 token: "); });
  std::string pem = read_sign_file(ref);
  bool encrypted = kg::sign::pem_label(pem).rfind("ENCRYPTED", 0) == 0;
  return kg::sign::load_private_key(pem, encrypted ? key_password(false) : std::string(), ref);
}

kg::sign::PublicKey open_public_key(const std::string& ref) {
  if (kg::sign::is_pkcs11_uri(ref)) return kg::sign::pkcs11_public_key(ref);
  std::string pem = read_sign_file(ref);
  if (kg::sign::pem_label(pem).find("PRIVATE KEY") != std::string::npos)
    throw SignError(ref + ": a private key; verification takes the public key (cosign.pub)");
  return kg::sign::PublicKey::from_pem(pem, ref);
}

std::map<std::string, std::string> revoked_key_refusals(const std::vector<std::string>& refs,
                                                        std::vector<kg::sign::PublicKey>& keys) {
  std::map<std::string, std::string> out;
  for (const std::string& ref : refs) {
    std::string fp = kg::sign::fingerprint_hex(ref);
    if (fp.empty()) {
      kg::sign::PublicKey k = open_public_key(ref);
      fp = k.fingerprint();
      bool listed = false;
      for (const auto& have : keys) listed = listed || have.fingerprint() == fp;
      if (!listed) keys.push_back(std::move(k));
    }
    out[fp] = kg::sign::revoked_reason(fp);
  }
  return out;
}

int KeylessFlags::parse(const std::vector<std::string>& args, std::size_t& i, std::string& error) {
  ArgCursor flag(args, i);
  const std::string& a = args[i];
  if (a == "--insecure-ignore-sct" || a == "--insecure-ignore-sct=true") return 1;  // no SCT is checked
  if (a == "--use-signed-timestamps" || a == "--use-signed-timestamps=true") {
    use_timestamps = any = true;
    return 1;
  }
  struct Target {
    const char* name;
    std::string* into;
  } targets[] = {{"--certificate-identity", &identity.identity},
                 {"--certificate-identity-regexp", &identity.identity_regexp},
                 {"--certificate-oidc-issuer", &identity.issuer},
                 {"--certificate-oidc-issuer-regexp", &identity.issuer_regexp},
                 {"--trusted-root", &trusted_root},
                 {"--certificate-chain", &certificate_chain},
                 {"--cert-chain", &certificate_chain},
                 {"--ca-roots", &ca_roots},
                 {"--ca-intermediates", &ca_intermediates},
                 {"--timestamp-certificate-chain", &timestamp_chain}};
  for (const Target& t : targets) {
    if (!flag.is(t.name)) continue;
    std::string v;
    if (!flag.value(v) || v.empty()) return error = std::string(t.name) + " needs a value", -1;
    *t.into = v;
    any = true;
    return 1;
  }
  return 0;
}

kg::sign::KeylessOptions KeylessFlags::options() const {
  kg::sign::KeylessOptions o;
  o.identity = identity;
  if (identity.identity.empty() == identity.identity_regexp.empty())
    throw SignError("keyless verification needs one of --certificate-identity or --certificate-identity-regexp");
  if (identity.issuer.empty() == identity.issuer_regexp.empty())
    throw SignError("keyless verification needs one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp");
  const int sources = !trusted_root.empty() + !certificate_chain.empty() + !ca_roots.empty();
  if (sources != 1)
    throw SignError("keyless verification needs one trust source: --trusted-root, --certificate-chain or --ca-roots");
  if (!ca_intermediates.empty() && ca_roots.empty()) throw SignError("--ca-intermediates goes with --ca-roots");
  o.use_timestamps = use_timestamps || !timestamp_chain.empty();
  // Without timestamps kguard has no vouched signing time (it verifies no transparency-log entry):
  // the certificate is checked at the current time, only when the user says so, as cosign asks
  // for --insecure-ignore-tlog.
  if (!o.use_timestamps && !ignore_tlog)
    throw SignError("keyless verification needs the signing time: RFC 3161 timestamps (--timestamp-certificate-chain, "
                    "or --use-signed-timestamps with a --trusted-root that has timestampAuthorities), or "
                    "--insecure-ignore-tlog to check the certificate at the current time");
  if (!trusted_root.empty()) {
    o.root = kg::sign::parse_trusted_root(read_sign_file(trusted_root), trusted_root);
    if (o.root.empty()) throw SignError(trusted_root + ": no certificateAuthorities: it trusts no certificate");
  } else if (!certificate_chain.empty()) {
    o.root.authorities.push_back(kg::sign::authority_from_chain(read_sign_file(certificate_chain), certificate_chain));
  } else {
    kg::sign::CertificateAuthority ca;
    ca.name = ca_roots;
    ca.roots = kg::sign::pem_certificates(read_sign_file(ca_roots), ca_roots);
    if (!ca_intermediates.empty())
      ca.intermediates = kg::sign::pem_certificates(read_sign_file(ca_intermediates), ca_intermediates);
    o.root.authorities.push_back(std::move(ca));
  }
  if (!timestamp_chain.empty()) {
    // cosign's file: the root last, intermediates (and maybe the TSA's own certificate) before it.
    std::vector<std::string> certs = kg::sign::pem_certificates(read_sign_file(timestamp_chain), timestamp_chain);
    kg::sign::CertificateAuthority tsa;
    tsa.name = timestamp_chain;
    tsa.roots = {certs.back()};
    certs.pop_back();
    tsa.intermediates = std::move(certs);
    o.root.timestamp_authorities = {std::move(tsa)};
  }
  if (o.use_timestamps && o.root.timestamp_authorities.empty())
    throw SignError("--use-signed-timestamps needs time-stamping authorities: --timestamp-certificate-chain, or a "
                    "--trusted-root with timestampAuthorities");
  return o;
}

int registry_flag(const std::vector<std::string>& args, std::size_t& i, kg::sign::RegistryOptions& o,
                  std::string& error, std::vector<std::string>* image_args) {
  ArgCursor flag(args, i);
  const std::string& a = args[i];
  std::string v;
  std::vector<std::string> pass;  // the flag as `kguard image` takes it
  if (a == "--allow-insecure-registry" || a == "--allow-insecure-registry=true" || a == "--allow-http-registry" ||
      a == "--allow-http-registry=true") {
    o.read.allow_insecure = true;
    pass = {"--allow-insecure-registry"};
  } else if (flag.is("--registry-ca") || flag.is("--registry-cacert")) {
    if (!flag.value(v) || v.empty()) return error = "--registry-ca needs a PEM file", -1;
    o.read.ca_file = v;
    pass = {"--registry-ca", v};
  } else if (flag.is("--docker-config")) {
    if (!flag.value(v) || v.empty()) return error = "--docker-config needs a file", -1;
    o.read.docker_config = v;
    pass = {"--docker-config", v};
  } else {
    return 0;
  }
  if (image_args) image_args->insert(image_args->end(), pass.begin(), pass.end());
  return 1;
}

}  // namespace kg::cli
