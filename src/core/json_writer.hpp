// A minimal streaming JSON writer: correct escaping, output buffered in 64 KiB
// chunks (per-character ostream calls dominated report time). The buffer is
// flushed when the outermost value closes, so the stream can be used again
// right after, and on destruction.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kg {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) { buf_.reserve(kChunk + 1024); }
  ~JsonWriter() { flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;
  void flush();

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(int n);
  JsonWriter& value(double d);  // one decimal: scores as reports show them
  // The shortest text that reads back as `d` (probabilities such as EPSS 0.00123).
  JsonWriter& value_exact(double d);
  JsonWriter& value(bool b);
  JsonWriter& null();
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  static void escape(std::ostream& out, std::string_view s);
  static void escape(std::string& out, std::string_view s);

 private:
  static constexpr std::size_t kChunk = std::size_t{64} * 1024;
  void separator();
  void maybe_flush() {
    if (buf_.size() >= kChunk) flush();
  }
  std::ostream& out_;
  std::string buf_;
  std::vector<bool> first_{true};
  bool after_key_ = false;
};

}  // namespace kg
