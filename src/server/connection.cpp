#include "server/connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

namespace kg::server {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);  // the descriptor is gone whatever close() says
  fd_ = fd;
}

void SslFree::operator()(SSL* ssl) const { SSL_free(ssl); }

void Connection::send_close_notify() {
  if (handshaking || tls_failed) return;
  ERR_clear_error();
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  tls_failed = true;  // no second close_notify
}

}  // namespace kg::server
