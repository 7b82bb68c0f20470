// A minimal streaming JSON writer: correct escaping, no allocation per value.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace kg {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(int n);
  JsonWriter& value(double d);
  JsonWriter& value(bool b);
  JsonWriter& null();
  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  static void escape(std::ostream& out, std::string_view s);

 private:
  void separator();
  std::ostream& out_;
  std::vector<bool> first_{true};
  bool after_key_ = false;
};

}  // namespace kg
