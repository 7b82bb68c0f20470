#include <gtest/gtest.h>

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
