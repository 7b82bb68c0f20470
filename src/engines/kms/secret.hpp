// Memory for key material: allocated by libsodium's guarded allocator (locked in RAM so it is never
// swapped, guard pages around it, zeroed when freed). The KEKs of the file backend, the wrapping key
// derived from the passphrase and the passphrase itself live here; plaintext DEKs pass through gRPC
// buffers, which are not ours to lock (docs/kms.md "Memory").
#pragma once

#include <cstddef>
#include <string_view>

namespace kg::kms {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n);
  explicit SecretBytes(std::string_view copy_of);
  ~SecretBytes();
  SecretBytes(SecretBytes&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  unsigned char* data() { return p_; }
  const unsigned char* data() const { return p_; }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::string_view view() const { return {reinterpret_cast<const char*>(p_), n_}; }
  void shrink(std::size_t n) { if (n < n_) n_ = n; }  // the tail stays allocated and is zeroed on free

 private:
  unsigned char* p_ = nullptr;
  std::size_t n_ = 0;
};

// Zeroes a buffer the compiler may not elide (sodium_memzero).
void wipe(void* p, std::size_t n);

}  // namespace kg::kms
