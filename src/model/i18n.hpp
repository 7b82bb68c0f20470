// Languages of human-readable output. Rule text for every language lives in
// the catalog (rule.yaml `zh:` block); fixed UI strings live in i18n.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kg {

enum class Lang : std::uint8_t { En, Zh };

std::optional<Lang> parse_lang(std::string_view s);  // "en", "zh", "zh-CN", "zh_CN.UTF-8"
Lang lang_from_env();                                 // LC_ALL, LC_MESSAGES, LANG; default en
std::string_view lang_code(Lang l);                   // "en" / "zh-CN"

// A fixed UI string in `lang`; `english` itself when untranslated or for En.
std::string_view tr(Lang lang, std::string_view english);

struct LocalizedText {
  std::string title;
  std::string rationale;
  std::string remediation;
};

}  // namespace kg
