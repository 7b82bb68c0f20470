#include "core/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

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
JsonWriter& JsonWriter::value_exact(double d) {
  separator();
  if (!std::isfinite(d)) {
    buf_ += "null";
    return *this;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  buf_.append(buf, r.ptr);
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

namespace {

// True when one of the 8 bytes of `w` is a control character, '"' or '\\'
// (the classic "has a zero byte" bit trick; exact, no false negatives).
bool word_needs_escape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  auto has_zero = [](std::uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  const bool control = ((w - kOnes * 0x20) & ~w & kHigh) != 0;  // some byte < 0x20
  return control || has_zero(w ^ (kOnes * '"')) || has_zero(w ^ (kOnes * '\\'));
}

}  // namespace

void JsonWriter::escape(std::string& out, std::string_view s) {
  out += '"';
  const char* const begin = s.data();
  const char* const end = begin + s.size();
  const char* run = begin;  // start of the bytes not yet copied
  const char* p = begin;
  while (p < end) {
    // Most text needs no escaping: skip it a word at a time.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, sizeof w);
      if (word_needs_escape(w)) break;
      p += 8;
    }
    if (p >= end) break;
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    out.append(run, static_cast<std::size_t>(p - run));
    ++p;
    run = p;
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
  out.append(run, static_cast<std::size_t>(end - run));
  out += '"';
}

}  // namespace kg
