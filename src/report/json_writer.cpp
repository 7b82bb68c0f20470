#include "report/json_writer.hpp"

#include <cmath>
#include <cstdio>

namespace kg {

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.back()) out_ << ',';
  first_.back() = false;
}

JsonWriter& JsonWriter::begin_object() {
  separator();
  out_ << '{';
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  first_.pop_back();
  out_ << '}';
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  separator();
  out_ << '[';
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  first_.pop_back();
  out_ << ']';
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view k) {
  separator();
  escape(out_, k);
  out_ << ':';
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view s) {
  separator();
  escape(out_, s);
  return *this;
}
JsonWriter& JsonWriter::value(std::uint64_t n) {
  separator();
  out_ << n;
  return *this;
}
JsonWriter& JsonWriter::value(int n) {
  separator();
  out_ << n;
  return *this;
}
JsonWriter& JsonWriter::value(double d) {
  separator();
  if (!std::isfinite(d)) {
    out_ << "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", d);
  out_ << buf;
  return *this;
}
JsonWriter& JsonWriter::value(bool b) {
  separator();
  out_ << (b ? "true" : "false");
  return *this;
}
JsonWriter& JsonWriter::null() {
  separator();
  out_ << "null";
  return *this;
}

void JsonWriter::escape(std::ostream& out, std::string_view s) {
  out << '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.write(s.data() + run, static_cast<std::streamsize>(i - run));
    run = i + 1;
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out << buf;
      }
    }
  }
  out.write(s.data() + run, static_cast<std::streamsize>(s.size() - run));
  out << '"';
}

}  // namespace kg
