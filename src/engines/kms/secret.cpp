// Locked, zeroed key memory (secret.hpp).
#include "engines/kms/secret.hpp"

#include <sodium.h>

#include <cstring>
#include <new>

namespace kg::kms {

SecretBytes::SecretBytes(std::size_t n) : n_(n) {
  if (sodium_init() < 0) throw std::bad_alloc();
  // sodium_malloc locks the pages (mlock) and puts guard pages around them; 0 bytes still gets a block.
  p_ = static_cast<unsigned char*>(sodium_malloc(n ? n : 1));
  if (!p_) throw std::bad_alloc();
  std::memset(p_, 0, n ? n : 1);
}

SecretBytes::SecretBytes(std::string_view copy_of) : SecretBytes(copy_of.size()) {
  if (!copy_of.empty()) std::memcpy(p_, copy_of.data(), copy_of.size());
}

SecretBytes::~SecretBytes() {
  if (p_) sodium_free(p_);  // zeroes, unlocks, frees
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    if (p_) sodium_free(p_);
    p_ = o.p_;
    n_ = o.n_;
    o.p_ = nullptr;
    o.n_ = 0;
  }
  return *this;
}

void wipe(void* p, std::size_t n) {
  if (p && n) sodium_memzero(p, n);
}

}  // namespace kg::kms
