// Kubernetes quantity parsing, checked against the cases of upstream's
// k8s.io/apimachinery/pkg/api/resource/quantity_test.go.
#include <gtest/gtest.h>

#include "checks/workload_quantity.hpp"

namespace kg {
namespace {

constexpr QuantityInt kNano = 1'000'000'000;

QuantityInt nano(std::string_view s) {
  auto q = parse_quantity(s);
  EXPECT_TRUE(q.has_value()) << s;
  return q ? q->nano : -1;
}

TEST(Quantity, DecimalSuffixes) {
  EXPECT_EQ(nano("0"), 0);
  EXPECT_EQ(nano("1"), kNano);
  EXPECT_EQ(nano("500m"), kNano / 2);
  EXPECT_EQ(nano("0.5"), kNano / 2);
  EXPECT_EQ(nano("100n"), 100);
  EXPECT_EQ(nano("1u"), 1000);
  EXPECT_EQ(nano("1k"), 1000 * kNano);
  EXPECT_EQ(nano("1M"), 1'000'000 * kNano);
  EXPECT_EQ(nano("1G"), QuantityInt{1'000'000'000} * kNano);
  EXPECT_EQ(nano("2T"), QuantityInt{2'000'000'000'000} * kNano);
  EXPECT_EQ(nano("1P"), QuantityInt{1'000'000'000'000'000} * kNano);
  EXPECT_EQ(nano("1E"), QuantityInt{1'000'000'000'000'000'000ULL} * kNano);
  EXPECT_EQ(nano("1.01E"), QuantityInt{1'010'000'000'000'000'000ULL} * kNano);
}

TEST(Quantity, BinarySuffixes) {
  EXPECT_EQ(nano("1Ki"), 1024 * kNano);
  EXPECT_EQ(nano("128Mi"), QuantityInt{128} * 1024 * 1024 * kNano);
  EXPECT_EQ(nano("1Gi"), (QuantityInt{1} << 30) * kNano);
  EXPECT_EQ(nano("1.5Gi"), (QuantityInt{3} << 29) * kNano);
  EXPECT_EQ(nano("0.1Ki"), QuantityInt{1024} * kNano / 10);
  EXPECT_EQ(nano("1Ti"), (QuantityInt{1} << 40) * kNano);
  EXPECT_EQ(nano("1Pi"), (QuantityInt{1} << 50) * kNano);
  EXPECT_EQ(nano("1Ei"), (QuantityInt{1} << 60) * kNano);
  // Binary quantities are capped at 2^63-1 (upstream's maxAllowed).
  EXPECT_EQ(nano("9Ei"), QuantityInt{INT64_MAX} * kNano);
  EXPECT_EQ(nano("9223372036854775807Ki"), QuantityInt{INT64_MAX} * kNano);
}

TEST(Quantity, DecimalExponents) {
  EXPECT_EQ(nano("1e3"), 1000 * kNano);
  EXPECT_EQ(nano("1E3"), 1000 * kNano);
  EXPECT_EQ(nano("1e+3"), 1000 * kNano);
  EXPECT_EQ(nano("5e-3"), 5 * kNano / 1000);
  EXPECT_EQ(nano("1E-9"), 1);
  EXPECT_EQ(nano("123e-2"), QuantityInt{1230} * kNano / 1000);
}

TEST(Quantity, EqualValuesInDifferentForms) {
  EXPECT_EQ(*parse_quantity("500m"), *parse_quantity("0.5"));
  EXPECT_EQ(*parse_quantity("1000m"), *parse_quantity("1"));
  EXPECT_EQ(*parse_quantity("1024"), *parse_quantity("1Ki"));
  EXPECT_EQ(*parse_quantity("1k"), *parse_quantity("1e3"));
  EXPECT_LT(*parse_quantity("1G"), *parse_quantity("1Gi"));
  EXPECT_LT(*parse_quantity("999Mi"), *parse_quantity("1Gi"));
  EXPECT_GT(*parse_quantity("2"), *parse_quantity("1999m"));
}

TEST(Quantity, SignsZerosAndShortForms) {
  EXPECT_EQ(nano("-1"), -kNano);
  EXPECT_EQ(nano("+1"), kNano);
  EXPECT_EQ(nano("-500m"), -kNano / 2);
  EXPECT_EQ(nano("000"), 0);
  EXPECT_EQ(nano("-0"), 0);
  EXPECT_EQ(nano("0Mi"), 0);
  EXPECT_EQ(nano("0.000"), 0);
  EXPECT_EQ(nano("00.5"), kNano / 2);
  EXPECT_EQ(nano("1."), kNano);
  EXPECT_EQ(nano("1.G"), QuantityInt{1'000'000'000} * kNano);
  EXPECT_EQ(nano(".001"), kNano / 1000);
  EXPECT_EQ(nano(".0001k"), kNano / 10);
  // Upstream reads a missing number as zero.
  EXPECT_EQ(nano("+"), 0);
  EXPECT_EQ(nano("-"), 0);
  EXPECT_EQ(nano("."), 0);
  EXPECT_EQ(nano("Ki"), 0);
}

TEST(Quantity, RoundsUpToNano) {
  EXPECT_EQ(nano("0.1n"), 1);
  EXPECT_EQ(nano("1.5n"), 2);
  EXPECT_EQ(nano("-0.1n"), -1);
  EXPECT_EQ(nano("0.000000000001Ki"), 2);  // 1.024e-9 rounds up to 2n
  EXPECT_EQ(nano("0.0000000001"), 1);
  EXPECT_EQ(nano("1.0000000001"), kNano + 1);
}

TEST(Quantity, LongAndHugeValuesSaturate) {
  EXPECT_EQ(nano("123456789012345678"), QuantityInt{123456789012345678} * kNano);
  EXPECT_EQ(nano("12345678901234567890"), QuantityInt{12345678901234567890ULL} * kNano);
  auto huge = parse_quantity("1e40");
  ASSERT_TRUE(huge);
  EXPECT_EQ(*huge, *parse_quantity("1e50"));
  EXPECT_GT(*huge, *parse_quantity("1E"));
  EXPECT_EQ(nano("1e-40"), 1);
  EXPECT_EQ(nano("0.00000000000000000000000000000000000000000001"), 1);
  // Upstream keeps int32(exponent): 2^32 wraps to 0.
  EXPECT_EQ(nano("1e4294967296"), kNano);
}

TEST(Quantity, InvalidForms) {
  for (const char* s : {"", " 1", "1 ", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i",
                        "-3.01i", "-3.01e-", "1e", "1e+", "1e-", "1e1.5", "1e.5", "1e3k", "1E3Ki",
                        "1e+-3", "1..5", "1-", "++1", "1,5", "1_000", "0x10", "1/2", "1KiB",
                        "1ki", "1KI", "1K", "1Zi", "1Mb", "1 Ki", "Inf", "NaN",
                        "1e9223372036854775808", "0e99999999999999999999"})
    EXPECT_FALSE(parse_quantity(s).has_value()) << '"' << s << '"';
}

TEST(Quantity, Millis) {
  EXPECT_EQ(parse_quantity("250m")->millis(), 250);
  EXPECT_EQ(parse_quantity("2")->millis(), 2000);
  EXPECT_EQ(parse_quantity("1n")->millis(), 1);
}

}  // namespace
}  // namespace kg
