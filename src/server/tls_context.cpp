#include "server/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <ctime>

namespace kg::server {

std::string openssl_error() {
  char buf[256];
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

namespace {

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  // Only HTTP/1.1; a client offering only h2 continues without ALPN.
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// Requires and verifies client certificates against the bundle; the CA
// names are not advertised (a client picks its one certificate anyway, and the
// list would tell a stranger which CAs are trusted).
bool require_client_certificates(SSL_CTX* raw, const std::string& client_ca, std::string& error) {
  if (SSL_CTX_load_verify_locations(raw, client_ca.c_str(), nullptr) != 1) {
    error = "cannot load the client CA bundle " + client_ca + ": " + openssl_error();
    return false;
  }
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(raw, 8);
  return true;
}

std::shared_ptr<SSL_CTX> build(const std::string& cert, const std::string& key, const std::string& client_ca,
                               double& not_after, std::string& error) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (!raw) {
    error = "cannot create a TLS context: " + openssl_error();
    return nullptr;
  }
  std::shared_ptr<SSL_CTX> ctx(raw, SSL_CTX_free);
  if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) != 1) {
    error = "cannot require TLS 1.2: " + openssl_error();
    return nullptr;
  }
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION);
  // TLS 1.2: forward-secret AEAD suites only (TLS 1.3 suites are all modern).
  if (SSL_CTX_set_cipher_list(raw,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    error = "cannot set the TLS 1.2 cipher suites: " + openssl_error();
    return nullptr;
  }
  // Idle keep-alive connections give their buffers back.
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_alpn_select_cb(raw, select_alpn, nullptr);
  static const unsigned char kSessionContext[] = "kguard-admit";
  SSL_CTX_set_session_id_context(raw, kSessionContext, sizeof kSessionContext - 1);
  if (SSL_CTX_use_certificate_chain_file(raw, cert.c_str()) != 1) {
    error = "cannot load certificate " + cert + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load key " + key + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    error = "the key " + key + " does not match the certificate " + cert;
    ERR_clear_error();
    return nullptr;
  }
  if (!client_ca.empty() && !require_client_certificates(raw, client_ca, error)) return nullptr;
  not_after = 0;
  if (X509* x = SSL_CTX_get0_certificate(raw)) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) not_after = static_cast<double>(timegm(&tm));
  }
  return ctx;
}

}  // namespace

bool TlsContext::reload(std::string& error) {
  double not_after = 0;
  std::shared_ptr<SSL_CTX> ctx = build(cert_file_, key_file_, client_ca_file_, not_after, error);
  if (!ctx) return false;
  std::lock_guard lock(mu_);
  ctx_ = std::move(ctx);
  not_after_ = not_after;
  return true;
}

std::shared_ptr<SSL_CTX> TlsContext::current() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

double TlsContext::not_after() const {
  std::lock_guard lock(mu_);
  return not_after_;
}

}  // namespace kg::server
