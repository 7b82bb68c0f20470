#include "catalog/messages_zh.hpp"

#include "catalog/catalog.hpp"

namespace kg {

const MessageTable& builtin_messages_zh() {
  static const MessageTable kTable = [] {  // immutable once built, like the builtin catalog
    constexpr std::string_view kPath = "data/messages-zh.yaml";
    for (const CatalogFile& f : embedded_catalog_files())
      if (f.path == kPath) return MessageTable::parse(kPath, f.content);
    return MessageTable::parse(kPath, "");
  }();
  return kTable;
}

std::optional<std::string> translate_message_zh(std::string_view english) {
  return builtin_messages_zh().translate(english);
}

std::vector<std::string> message_table_problems() {
  std::vector<std::string> p = builtin_messages_zh().problems();
  return p;
}

}  // namespace kg
