#include "report/json_writer.hpp"

#include <cmath>
#include <cstdio>

namespace kg {

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.back()) buf_ += ',';
  first_.back() = false;
}

JsonWriter& JsonWriter::begin_object() {
  separator();
  buf_ += '{';
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  first_.pop_back();
  buf_ += '}';
  if (first_.size() == 1) flush();
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  separator();
  buf_ += '[';
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  first_.pop_back();
  buf_ += ']';
  if (first_.size() == 1) flush();
  return *this;
}
JsonWriter& JsonWriter::key(std::string_view k) {
  separator();
  escape(buf_, k);
  buf_ += ':';
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view s) {
  separator();
  escape(buf_, s);
  maybe_flush();
  return *this;
}
JsonWriter& JsonWriter::value(std::uint64_t n) {
  separator();
  buf_ += std::to_string(n);
  return *this;
}
JsonWriter& JsonWriter::value(int n) {
  separator();
  buf_ += std::to_string(n);
  return *this;
}
JsonWriter& JsonWriter::value(double d) {
  separator();
  if (!std::isfinite(d)) {
    buf_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", d);
  buf_ += buf;
  return *this;
}
JsonWriter& JsonWriter::value(bool b) {
  separator();
  buf_ += b ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::null() {
  separator();
  buf_ += "null";
  return *this;
}

void JsonWriter::flush() {
  if (buf_.empty()) return;
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
}

void JsonWriter::escape(std::ostream& out, std::string_view s) {
  std::string tmp;
  escape(tmp, s);
  out << tmp;
}

void JsonWriter::escape(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

}  // namespace kg
