#include "model/messages.hpp"

#include <algorithm>
#include <cctype>

#include "core/document.hpp"

namespace kg {
namespace {

using Segment = MessageTable::Segment;

// "{a} has {b}" → [ph a][" has "][ph b]. "{}" (no name) is literal text, as in
// "podSelector: {}".
std::vector<Segment> split(std::string_view s) {
  std::vector<Segment> out;
  std::string lit;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '{') {
      const std::size_t close = s.find('}', i + 1);
      if (close != std::string_view::npos && close > i + 1) {
        std::string_view name = s.substr(i + 1, close - i - 1);
        if (std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) {
          if (!lit.empty()) out.push_back({std::move(lit), false});
          lit.clear();
          out.push_back({std::string(name), true});
          i = close;
          continue;
        }
      }
    }
    lit += s[i];
  }
  if (!lit.empty()) out.push_back({std::move(lit), false});
  return out;
}

std::vector<std::string> names(const std::vector<Segment>& segs) {
  std::vector<std::string> n;
  for (const Segment& s : segs)
    if (s.placeholder) n.push_back(s.text);
  std::sort(n.begin(), n.end());
  return n;
}

using Captures = std::vector<std::pair<std::string_view, std::string_view>>;

// Literal segments match exactly; a placeholder takes the shortest non-empty
// text after which the rest still matches.
bool match(const std::vector<Segment>& segs, std::size_t i, std::string_view text, Captures& caps) {
  if (i == segs.size()) return text.empty();
  const Segment& s = segs[i];
  if (!s.placeholder) {
    if (text.substr(0, s.text.size()) != s.text) return false;
    return match(segs, i + 1, text.substr(s.text.size()), caps);
  }
  if (i + 1 == segs.size()) {
    if (text.empty()) return false;
    caps.emplace_back(s.text, text);
    return true;
  }
  const std::string& next = segs[i + 1].text;
  for (std::size_t at = text.find(next, 1); at != std::string_view::npos; at = text.find(next, at + 1)) {
    caps.emplace_back(s.text, text.substr(0, at));
    if (match(segs, i + 1, text.substr(at), caps)) return true;
    caps.pop_back();
  }
  return false;
}

}  // namespace

MessageTable MessageTable::parse(std::string_view path, std::string_view yaml) {
  MessageTable t;
  SourceFile file;
  file.path = std::string(path);
  file.content = std::string(yaml);
  load_documents(file);
  for (const InputError& e : file.errors)
    t.problems_.push_back(file.path + ":" + std::to_string(e.line) + ": " + e.message);
  if (file.documents.empty()) return t;
  const Node* root = file.documents[0].root;
  for (const Node* w : items(get(root, "who")))
    t.who_.push_back({std::string(str(get(w, "en"))), std::string(str(get(w, "zh")))});
  for (const Node* m : items(get(root, "messages"))) {
    Pattern p{split(str(get(m, "en"))), split(str(get(m, "zh")))};
    const std::string where = file.path + ":" + std::to_string(m->line);
    if (p.en.empty() || p.zh.empty()) {
      t.problems_.push_back(where + ": needs en and zh");
      continue;
    }
    bool adjacent = false;
    for (std::size_t i = 1; i < p.en.size(); ++i) adjacent |= p.en[i].placeholder && p.en[i - 1].placeholder;
    if (adjacent) t.problems_.push_back(where + ": en has two placeholders with no text between them");
    std::vector<std::string> en_names = names(p.en), zh_names = names(p.zh);
    en_names.erase(std::unique(en_names.begin(), en_names.end()), en_names.end());
    zh_names.erase(std::unique(zh_names.begin(), zh_names.end()), zh_names.end());
    if (en_names != zh_names) {
      t.problems_.push_back(where + ": zh must use exactly the placeholders of en");
      continue;
    }
    t.patterns_.push_back(std::move(p));
  }
  return t;
}

std::optional<std::string> MessageTable::translate(std::string_view english) const {
  auto who = [&](std::string_view value) -> std::optional<std::string> {
    for (const Phrase& w : who_) {
      if (value.substr(0, w.en.size()) == w.en && value.size() > w.en.size())
        return w.zh + std::string(value.substr(w.en.size()));
    }
    return std::nullopt;
  };
  for (const Pattern& p : patterns_) {
    Captures caps;
    if (!match(p.en, 0, english, caps)) continue;
    std::string out;
    bool ok = true;
    for (const Segment& s : p.zh) {
      if (!s.placeholder) {
        out += s.text;
        continue;
      }
      auto c = std::find_if(caps.begin(), caps.end(), [&](const auto& kv) { return kv.first == s.text; });
      if (s.text == "message") {  // a whole message inside another: translated in turn
        auto inner = translate(c->second);
        out += inner ? *inner : c->second;
      } else if (s.text.rfind("who", 0) == 0) {
        auto w = who(c->second);
        if (!w) {
          ok = false;
          break;
        }
        out += *w;
      } else {
        out += c->second;
      }
    }
    if (ok) return out;
  }
  return std::nullopt;
}

}  // namespace kg
