// Forms of an engine's English messages in another language: patterns with
// {placeholders} and templates that must use the same placeholders, so a
// translated message keeps every name and number (rules/data/messages-zh.yaml).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kg {

class MessageTable {
 public:
  // Reads the YAML table (`who:` phrases, `messages:` en/zh pairs); problems
  // (bad YAML, a template missing a placeholder) name the file and line.
  static MessageTable parse(std::string_view path, std::string_view yaml);

  // The translated message, or nullopt when no pattern matches it.
  std::optional<std::string> translate(std::string_view english) const;
  const std::vector<std::string>& problems() const { return problems_; }

  struct Segment {
    std::string text;
    bool placeholder = false;
  };

 private:
  struct Pattern {
    std::vector<Segment> en, zh;
  };
  struct Phrase {
    std::string en, zh;
  };
  std::vector<Phrase> who_;
  std::vector<Pattern> patterns_;
  std::vector<std::string> problems_;
};

}  // namespace kg
