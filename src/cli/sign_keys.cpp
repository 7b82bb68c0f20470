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
