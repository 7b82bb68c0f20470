#include "report/grouping.hpp"

#include <string>
#include <string_view>
#include <unordered_map>

namespace kg {
namespace {

// Digit runs become '#': containers[0] and containers[1], or "reader-17"
// and "reader-18", are the same shape.
void append_shape(std::string& out, std::string_view s, std::string_view own_name) {
  for (std::size_t i = 0; i < s.size();) {
    if (!own_name.empty() && s.compare(i, own_name.size(), own_name) == 0) {
      out += '\x01';
      i += own_name.size();
    } else if (s[i] >= '0' && s[i] <= '9') {
      out += '#';
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    } else {
      out += s[i++];
    }
  }
  out += '\x00';
}

}  // namespace

FindingGroups group_findings(const FindingStore& findings, std::size_t shown_per_group) {
  FindingGroups g;
  g.hidden.assign(findings.size(), false);
  g.more.assign(findings.size(), 0);
  struct Group {
    std::size_t shown = 0;
    std::size_t last_shown = 0;
  };
  std::unordered_map<std::string, Group> groups;
  std::string key;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const FindingView f = findings[i];
    key.assign(f.rule ? std::string_view(f.rule->id) : std::string_view{});
    key += static_cast<char>('0' + static_cast<int>(f.result));
    key += f.kind;
    key += '\x00';
    append_shape(key, f.location.path, {});
    append_shape(key, f.message, f.name);
    Group& grp = groups[key];
    if (grp.shown < shown_per_group) {
      ++grp.shown;
      grp.last_shown = i;
    } else {
      g.hidden[i] = true;
      ++g.more[grp.last_shown];
      ++g.hidden_total;
    }
  }
  return g;
}

}  // namespace kg
