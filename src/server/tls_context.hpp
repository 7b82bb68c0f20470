// The serving certificate and key as an OpenSSL context that can be replaced
// while connections are open. reload() builds a complete new context and
// swaps it in under a lock only when the certificate, the key and their match
// all check out; broken material is refused and the context in force stays.
// Each connection holds a reference to the context it was accepted with, so
// a swap never disturbs a handshake under way. With a client CA bundle,
// every client must present a certificate that chains to it (mutual TLS).
#pragma once

#include <memory>
#include <mutex>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace kg::server {

// The text of the oldest queued OpenSSL error (and clears the queue).
std::string openssl_error();

class TlsContext {
 public:
  TlsContext(std::string cert_file, std::string key_file, std::string client_ca_file = {})
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), client_ca_file_(std::move(client_ca_file)) {}

  // Loads the files and swaps the new context in; false with `error` (the
  // file and OpenSSL's reason) when anything is wrong, the old one kept.
  bool reload(std::string& error);
  std::shared_ptr<SSL_CTX> current() const;
  // notAfter of the certificate in force, Unix seconds (0 when unknown).
  double not_after() const;
  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }
  const std::string& client_ca_file() const { return client_ca_file_; }

 private:
  const std::string cert_file_, key_file_, client_ca_file_;
  mutable std::mutex mu_;
  std::shared_ptr<SSL_CTX> ctx_;
  double not_after_ = 0;
};

}  // namespace kg::server
