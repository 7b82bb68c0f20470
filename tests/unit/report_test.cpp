#include <gtest/gtest.h>

#include <cstdio>

#include "core/json_writer.hpp"
#include "report/model.hpp"

namespace kg {
namespace {

TEST(Score, PolarisFormula) {
  EXPECT_EQ(health_score(Tally{}), 100);
  Tally t;
  t.passed = 8;
  t.failed_warn = 2;
  t.failed_danger = 1;
  // floor(100 * 16 / (16 + 2 + 2)) = 80
  EXPECT_EQ(health_score(t), 80);
  t.failed_danger = 0;
  t.failed_warn = 0;
  EXPECT_EQ(health_score(t), 100);
  t.passed = 0;
  t.failed_warn = 3;
  EXPECT_EQ(health_score(t), 0);
}

TEST(Score, Grades) {
  EXPECT_EQ(grade_for(100), "A+");
  EXPECT_EQ(grade_for(97), "A+");
  EXPECT_EQ(grade_for(96), "A");
  EXPECT_EQ(grade_for(90), "A-");
  EXPECT_EQ(grade_for(83), "B");
  EXPECT_EQ(grade_for(60), "D-");
  EXPECT_EQ(grade_for(59), "F");
}

}  // namespace
}  // namespace kg

namespace kg {
namespace {

// The byte-at-a-time escaper JsonWriter::escape must agree with.
std::string escape_reference(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

TEST(JsonWriter, EscapesEverySpecialByteAtEveryOffset) {
  const std::string specials = std::string("\"\\\n\r\t\x01\x1f", 7) + std::string(1, '\0');
  for (char special : specials)
    for (std::size_t len = 0; len <= 24; ++len)
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = special;
        if (len > 3) s[len - 1] = static_cast<char>(0xe4);  // UTF-8 bytes pass through
        std::string got;
        JsonWriter::escape(got, s);
        EXPECT_EQ(got, escape_reference(s)) << "len " << len << " at " << at;
      }
  std::string got;
  JsonWriter::escape(got, "plain text that needs no escaping, longer than a word \xc3\xa9");
  EXPECT_EQ(got, escape_reference("plain text that needs no escaping, longer than a word \xc3\xa9"));
}

}  // namespace
}  // namespace kg
