// Loads YAML bytes through the fast path (with libyaml for what it declines)
// and through libyaml alone, and prints both results in one comparable text
// form: every node with its type, quoting, line and column and text, each
// document's line and List index, every error. The two must be identical.
#pragma once

#include <string>
#include <vector>
#include <string_view>

#include "core/document.hpp"
#include "core/yaml_fast.hpp"

namespace kg::test {

inline void dump_node(const Node* n, int depth, std::string& out) {
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  if (!n) {
    out += "(none)\n";
    return;
  }
  static constexpr const char* kTypes[] = {"null", "scalar", "map", "seq"};
  out += kTypes[static_cast<int>(n->type)];
  out += ' ' + std::to_string(n->line) + ':' + std::to_string(n->column);
  if (n->quoted) out += " q";
  if (n->is_scalar() || n->type == NodeType::Null) {
    out += " \"";
    for (char c : n->text()) {
      if (c == '\n') out += "\\n";
      else if (static_cast<unsigned char>(c) < 0x20) out += "\\x" + std::to_string(static_cast<unsigned char>(c));
      else out += c;
    }
    out += "\"\n";
    return;
  }
  out += '\n';
  for (const MapEntry& e : n->entries()) {
    dump_node(e.key, depth + 1, out);
    dump_node(e.value, depth + 2, out);
  }
  for (const Node* item : n->items()) dump_node(item, depth + 1, out);
}

// `release` streams documents (and List items) as scan does; otherwise all
// documents are kept as load_documents does.
inline std::string load_and_dump(std::string_view bytes, detail::YamlPath path, bool release,
                                 detail::YamlPathCounts* counts = nullptr) {
  SourceFile file;
  file.path = "input.yaml";
  file.content.assign(bytes);
  std::string out;
  detail::load_yaml_via(file, file.arena, release, LoadLimits{}, [&](const Document& d) {
    out += "document line " + std::to_string(d.line) + " item " + std::to_string(d.list_index) + '\n';
    dump_node(d.root, 1, out);
  }, path, counts);
  for (const InputError& e : file.errors)
    out += "error " + std::to_string(e.line) + ':' + std::to_string(e.column) + ' ' + e.message + '\n';
  return out;
}

// The streamed results agree when they are equal, or when the fast path
// delivered extra List items that libyaml never reached: libyaml reports a
// syntax error a token ahead, before closing the item in front of it, while
// the fast path has seen the item end and delivered it. Everything libyaml
// delivered must still be there, in order, and it must have an error.
inline bool streamed_results_agree(const std::string& fast, const std::string& reference) {
  if (fast == reference) return true;
  if (reference.find("\nerror ") == std::string::npos && reference.rfind("error ", 0) != 0) return false;
  auto blocks = [](const std::string& dump) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < dump.size()) {
      std::size_t next = dump.find("\ndocument line ", pos);
      const std::size_t errors = dump.find("\nerror ", pos);
      if (errors != std::string::npos && (next == std::string::npos || errors < next)) next = errors;
      if (next == std::string::npos) next = dump.size();
      else next += 1;
      out.push_back(dump.substr(pos, next - pos));
      if (out.back().rfind("error ", 0) == 0) {  // the errors: the rest, whole
        out.back() = dump.substr(pos);
        break;
      }
      pos = next;
    }
    return out;
  };
  const std::vector<std::string> f = blocks(fast), r = blocks(reference);
  std::size_t j = 0;
  for (const std::string& block : f) {
    if (j < r.size() && block == r[j]) {
      ++j;
    } else if (block.rfind("document line ", 0) != 0 || block.find(" item -1\n") != std::string::npos) {
      return false;  // only List items may be extra
    }
  }
  return j == r.size();
}

}  // namespace kg::test
