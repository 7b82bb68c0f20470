#include "engines/vuln/db/codec.hpp"

#include <cstdint>

namespace kg::vuln {
namespace {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      const auto c = static_cast<unsigned char>(b_[pos_++]);
      v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if ((c & 0x80) == 0) return true;
    }
    return false;
  }
  bool string(std::string& s) {
    std::uint64_t n = 0;
    if (!varint(n) || n > b_.size() - pos_) return false;
    s.assign(b_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool byte(char& c) {
    if (pos_ >= b_.size()) return false;
    c = b_[pos_++];
    return true;
  }
  // A count can never exceed the bytes left (each element takes one at least).
  bool count(std::uint64_t& n) { return varint(n) && n <= b_.size() - pos_; }
  bool done() const { return pos_ == b_.size(); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

char kind_code(RangeEvent::Kind k) {
  switch (k) {
    case RangeEvent::Kind::Introduced: return 'i';
    case RangeEvent::Kind::Fixed: return 'f';
    case RangeEvent::Kind::LastAffected: return 'l';
    case RangeEvent::Kind::Limit: return 'm';
  }
  return 'i';
}

}  // namespace

std::string pack_ranges(const std::vector<AffectedRange>& ranges) {
  std::string out;
  put_varint(out, ranges.size());
  for (const AffectedRange& r : ranges) {
    put_string(out, r.type);
    put_varint(out, r.events.size());
    for (const RangeEvent& e : r.events) {
      out.push_back(kind_code(e.kind));
      put_string(out, e.version);
    }
  }
  return out;
}

std::string pack_strings(const std::vector<std::string>& strings) {
  std::string out;
  put_varint(out, strings.size());
  for (const std::string& s : strings) put_string(out, s);
  return out;
}

bool unpack_ranges(std::string_view blob, std::vector<AffectedRange>& out) {
  out.clear();
  if (blob.empty()) return true;
  Reader r(blob);
  std::uint64_t n = 0;
  if (!r.count(n)) return false;
  out.resize(n);
  for (AffectedRange& range : out) {
    std::uint64_t events = 0;
    if (!r.string(range.type) || !r.count(events)) return false;
    range.events.resize(events);
    for (RangeEvent& e : range.events) {
      char c = 0;
      if (!r.byte(c)) return false;
      switch (c) {
        case 'i': e.kind = RangeEvent::Kind::Introduced; break;
        case 'f': e.kind = RangeEvent::Kind::Fixed; break;
        case 'l': e.kind = RangeEvent::Kind::LastAffected; break;
        case 'm': e.kind = RangeEvent::Kind::Limit; break;
        default: return false;
      }
      if (!r.string(e.version)) return false;
    }
  }
  return r.done();
}

bool unpack_strings(std::string_view blob, std::vector<std::string>& out) {
  out.clear();
  if (blob.empty()) return true;
  Reader r(blob);
  std::uint64_t n = 0;
  if (!r.count(n)) return false;
  out.resize(n);
  for (std::string& s : out)
    if (!r.string(s)) return false;
  return r.done();
}

std::string_view to_string(AffectedStatus s) {
  switch (s) {
    case AffectedStatus::Affected: return "affected";
    case AffectedStatus::Unfixed: return "unfixed";
    case AffectedStatus::WontFix: return "wont-fix";
    case AffectedStatus::NotAffected: return "not-affected";
  }
  return "affected";
}

bool parse_status(std::string_view text, AffectedStatus& out) {
  for (AffectedStatus s : {AffectedStatus::Affected, AffectedStatus::Unfixed, AffectedStatus::WontFix,
                           AffectedStatus::NotAffected}) {
    if (to_string(s) == text) {
      out = s;
      return true;
    }
  }
  return false;
}

}  // namespace kg::vuln
