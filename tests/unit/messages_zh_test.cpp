// The Chinese message table (rules/data/messages-zh.yaml): sound, and it
// keeps every value of the English message.
#include <gtest/gtest.h>

#include "catalog/messages_zh.hpp"

namespace kg {
namespace {

TEST(MessagesZh, TableIsSound) {
  const std::vector<std::string> problems = message_table_problems();
  EXPECT_TRUE(problems.empty()) << problems.front();
}

TEST(MessagesZh, TranslatesWithEveryValue) {
  auto m = translate_message_zh("init container \"setup\" runs with runAsUser 0, which is not above 10000 and may collide with a host account");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, "初始化容器 \"setup\" 以 runAsUser 0 运行，不大于 10000，可能与宿主机账户冲突");
  m = translate_message_zh("container \"web\" must not include \"NET_ADMIN\" in securityContext.capabilities.add");
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("\"NET_ADMIN\""), std::string::npos);
  EXPECT_NE(m->find("容器 \"web\""), std::string::npos);
}

TEST(MessagesZh, UnknownMessageHasNoForm) {
  EXPECT_FALSE(translate_message_zh("something no check says"));
  // A who placeholder only takes a phrase naming a container or the pod.
  EXPECT_FALSE(translate_message_zh("Deployment has no memory limit"));
}

}  // namespace
}  // namespace kg
