// Chinese forms of the check templates' English messages, from the data file
// rules/data/messages-zh.yaml (pattern with {placeholders} → Chinese template
// using the same placeholders), so --lang zh keeps every name and number.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/messages.hpp"

namespace kg {

// The table embedded from rules/data/messages-zh.yaml.
const MessageTable& builtin_messages_zh();

// The Chinese message for an English check message, or nullopt when no
// pattern of the table matches it.
std::optional<std::string> translate_message_zh(std::string_view english);

// Problems in the embedded table (a zh template missing a placeholder of its
// en pattern, adjacent placeholders, bad YAML); empty when it is sound.
std::vector<std::string> message_table_problems();

}  // namespace kg
