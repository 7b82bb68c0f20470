// The KMS v2 messages' proto3 wire format (wire.hpp).
#include "engines/kms/wire.hpp"

#include <cstdint>
#include <functional>

namespace kg::kms {
namespace {

constexpr int kMaxGroupDepth = 64;

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool done() const { return pos_ >= in_.size(); }
  std::size_t offset() const { return pos_; }

  // A varint; false (and err_ set) when truncated or longer than 10 bytes / 64 bits.
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= in_.size()) return fail("truncated varint");
      auto b = static_cast<unsigned char>(in_[pos_++]);
      if (i == 9 && b > 1) return fail("varint longer than 64 bits");
      v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) return true;
    }
    return fail("varint longer than 10 bytes");
  }
  bool bytes(std::string_view& out) {
    std::uint64_t n = 0;
    if (!varint(n)) return false;
    if (n > in_.size() - pos_) return fail("length-delimited field of " + std::to_string(n) + " bytes runs past the end");
    out = in_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool skip_fixed(std::size_t n) {
    if (n > in_.size() - pos_) return fail("truncated fixed-width field");
    pos_ += n;
    return true;
  }
  // A tag: field number and wire type; field 0 and wire types 6 and 7 are refused.
  bool tag(std::uint32_t& field, int& wire) {
    std::uint64_t t = 0;
    if (!varint(t)) return false;
    if (t >> 32) return fail("tag out of range");
    field = static_cast<std::uint32_t>(t >> 3);
    wire = static_cast<int>(t & 7);
    if (field == 0) return fail("field number 0");
    if (wire > 5) return fail("wire type " + std::to_string(wire) + " does not exist");
    return true;
  }
  // Skips the value of a field of wire type `wire` (its tag already read).
  bool skip(std::uint32_t field, int wire, int depth = 0) {
    std::uint64_t v = 0;
    std::string_view s;
    switch (wire) {
      case 0: return varint(v);
      case 1: return skip_fixed(8);
      case 2: return bytes(s);
      case 5: return skip_fixed(4);
      case 3: {
        if (depth >= kMaxGroupDepth) return fail("groups nested too deep");
        for (;;) {
          std::uint32_t f = 0;
          int w = 0;
          if (done()) return fail("unterminated group");
          if (!tag(f, w)) return false;
          if (w == 4) return f == field ? true : fail("group ends with another field number");
          if (!skip(f, w, depth + 1)) return false;
        }
      }
      default: return fail("end of a group that was not started");
    }
  }
  bool fail(std::string why) {
    if (err_.empty()) err_ = why + " at byte " + std::to_string(pos_);
    return false;
  }
  const std::string& error() const { return err_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string err_;
};

// Reads every field of `in`: `on_bytes(field, value, err)` for each length-delimited field returns
// false when the field is not one the message has (nothing to do: it is skipped, as protobuf does)
// and sets `err` when the value is refused (then the parse ends with it). Fields of the other wire
// types are skipped. "" when the whole input was read.
std::string read_message(std::string_view in,
                         const std::function<bool(std::uint32_t, std::string_view, std::string&)>& on_bytes) {
  Reader r(in);
  while (!r.done()) {
    std::uint32_t field = 0;
    int wire = 0;
    if (!r.tag(field, wire)) return r.error();
    if (wire == 2) {
      std::string_view v;
      if (!r.bytes(v)) return r.error();
      std::string err;
      on_bytes(field, v, err);
      if (!err.empty()) return err;
    } else if (!r.skip(field, wire)) {
      return r.error();
    }
  }
  return "";
}

bool set_string(std::string& dst, std::string_view v, const char* name, std::string& err) {
  if (!is_utf8(v)) {
    err = std::string("field ") + name + " is not valid UTF-8";
    return false;
  }
  dst.assign(v);
  return true;
}

std::string read_map_entry(std::string_view entry, v2::Annotations& m) {
  std::string key, value;
  std::string err = read_message(entry, [&](std::uint32_t f, std::string_view v, std::string& e) {
    if (f == 1) return set_string(key, v, "annotations key", e);
    if (f == 2) { value.assign(v); return true; }
    return false;
  });
  if (!err.empty()) return "annotations entry: " + err;
  m[std::move(key)] = std::move(value);
  return "";
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void put_bytes(std::string& out, std::uint32_t field, std::string_view v) {
  put_varint(out, (static_cast<std::uint64_t>(field) << 3) | 2);
  put_varint(out, v.size());
  out.append(v);
}

void put_field(std::string& out, std::uint32_t field, std::string_view v) {
  if (!v.empty()) put_bytes(out, field, v);
}

void put_map(std::string& out, std::uint32_t field, const v2::Annotations& m) {
  for (const auto& [k, v] : m) {
    std::string entry;
    put_bytes(entry, 1, k);
    put_bytes(entry, 2, v);
    put_bytes(out, field, entry);
  }
}

}  // namespace

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xc2 && c <= 0xdf) n = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) n = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) n = 3, cp = c & 0x07;
    else return false;
    if (s.size() - i <= static_cast<std::size_t>(n)) return false;
    for (int k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += static_cast<std::size_t>(n) + 1;
  }
  return true;
}

namespace v2 {

std::string StatusRequest::parse(std::string_view in) {
  return read_message(in, [](std::uint32_t, std::string_view, std::string&) { return false; });
}
std::string StatusRequest::SerializeAsString() const { return ""; }

std::string StatusResponse::parse(std::string_view in) {
  *this = {};
  return read_message(in, [this](std::uint32_t f, std::string_view v, std::string& e) {
    if (f == 1) return set_string(version_, v, "version", e);
    if (f == 2) return set_string(healthz_, v, "healthz", e);
    if (f == 3) return set_string(key_id_, v, "key_id", e);
    return false;
  });
}
std::string StatusResponse::SerializeAsString() const {
  std::string out;
  put_field(out, 1, version_);
  put_field(out, 2, healthz_);
  put_field(out, 3, key_id_);
  return out;
}

std::string DecryptRequest::parse(std::string_view in) {
  *this = {};
  return read_message(in, [this](std::uint32_t f, std::string_view v, std::string& e) {
    if (f == 1) { ciphertext_.assign(v); return true; }
    if (f == 2) return set_string(uid_, v, "uid", e);
    if (f == 3) return set_string(key_id_, v, "key_id", e);
    if (f == 4) { e = read_map_entry(v, annotations_); return true; }
    return false;
  });
}
std::string DecryptRequest::SerializeAsString() const {
  std::string out;
  put_field(out, 1, ciphertext_);
  put_field(out, 2, uid_);
  put_field(out, 3, key_id_);
  put_map(out, 4, annotations_);
  return out;
}

std::string DecryptResponse::parse(std::string_view in) {
  *this = {};
  return read_message(in, [this](std::uint32_t f, std::string_view v, std::string&) {
    if (f == 1) { plaintext_.assign(v); return true; }
    return false;
  });
}
std::string DecryptResponse::SerializeAsString() const {
  std::string out;
  put_field(out, 1, plaintext_);
  return out;
}

std::string EncryptRequest::parse(std::string_view in) {
  *this = {};
  return read_message(in, [this](std::uint32_t f, std::string_view v, std::string& e) {
    if (f == 1) { plaintext_.assign(v); return true; }
    if (f == 2) return set_string(uid_, v, "uid", e);
    return false;
  });
}
std::string EncryptRequest::SerializeAsString() const {
  std::string out;
  put_field(out, 1, plaintext_);
  put_field(out, 2, uid_);
  return out;
}

std::string EncryptResponse::parse(std::string_view in) {
  *this = {};
  return read_message(in, [this](std::uint32_t f, std::string_view v, std::string& e) {
    if (f == 1) { ciphertext_.assign(v); return true; }
    if (f == 2) return set_string(key_id_, v, "key_id", e);
    if (f == 3) { e = read_map_entry(v, annotations_); return true; }
    return false;
  });
}
std::string EncryptResponse::SerializeAsString() const {
  std::string out;
  put_field(out, 1, ciphertext_);
  put_field(out, 2, key_id_);
  put_map(out, 3, annotations_);
  return out;
}

}  // namespace v2
}  // namespace kg::kms
