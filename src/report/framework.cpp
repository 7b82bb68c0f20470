#include "report/framework.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/document.hpp"
#include "model/i18n.hpp"

namespace kg {
namespace {

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// "5.2.3-5.2.5" → 5.2.3, 5.2.4, 5.2.5 (ranges over the last number).
void expand_cis(std::string_view ids, std::vector<std::string>& out) {
  const std::size_t dash = ids.find('-');
  if (dash == std::string_view::npos) {
    out.emplace_back(ids);
    return;
  }
  const std::string_view from = ids.substr(0, dash), to = ids.substr(dash + 1);
  const std::size_t dot = from.rfind('.');
  if (dot == std::string_view::npos || to.substr(0, dot + 1) != from.substr(0, dot + 1)) {
    out.emplace_back(from);
    out.emplace_back(to);
    return;
  }
  int a = 0, b = 0;
  for (char c : from.substr(dot + 1)) a = a * 10 + (c - '0');
  for (char c : to.substr(dot + 1)) b = b * 10 + (c - '0');
  if (b < a || b - a > 50) {
    out.emplace_back(from);
    return;
  }
  for (int i = a; i <= b; ++i) out.push_back(std::string(from.substr(0, dot + 1)) + std::to_string(i));
}

}  // namespace

std::string_view to_string(ControlStatus s) {
  switch (s) {
    case ControlStatus::Pass: return "pass";
    case ControlStatus::Fail: return "fail";
    case ControlStatus::Exempt: return "exempt";
    case ControlStatus::NotApplicable: return "not-applicable";
  }
  return "not-applicable";
}

std::vector<std::string> control_keys(std::string_view id, std::string_view ref) {
  std::vector<std::string> out;
  ref = trim(ref);
  if (id == "cis" && starts_with(ref, "CIS ")) {
    std::string_view rest = trim(ref.substr(4));
    rest = rest.substr(0, rest.find(' '));
    expand_cis(rest, out);
  } else if (id == "mitre" && starts_with(ref, "MITRE ATT&CK")) {
    for (std::size_t i = 0; i + 1 < ref.size(); ++i) {
      if (ref[i] != 'T' || !std::isdigit(static_cast<unsigned char>(ref[i + 1])) || (i && ref[i - 1] != ' ')) continue;
      std::size_t j = i + 1;
      while (j < ref.size() && (std::isdigit(static_cast<unsigned char>(ref[j])) || ref[j] == '.')) ++j;
      out.push_back(lower(ref.substr(i, j - i)));
      break;
    }
  } else if (id == "nsa" && starts_with(ref, "NSA/CISA Kubernetes Hardening")) {
    const std::size_t colon = ref.find(':');
    if (colon != std::string_view::npos) out.push_back(lower(trim(ref.substr(colon + 1))));
  } else if (id == "pss" && starts_with(ref, "PSS ")) {
    out.push_back(lower(trim(ref.substr(4))));
  }
  for (std::string& k : out) k = lower(k);
  return out;
}

std::string framework_summary(const FrameworkView& v, Lang lang) {
  std::string s = std::to_string(v.controls.size()) + " " + std::string(tr(lang, "controls")) + ": " +
                  std::to_string(v.passed) + " " + std::string(tr(lang, "pass")) + ", " + std::to_string(v.failed) +
                  " " + std::string(tr(lang, "fail")) + ", " + std::to_string(v.exempted) + " " +
                  std::string(tr(lang, "exempt")) + ", " + std::to_string(v.not_applicable) + " " +
                  std::string(tr(lang, "not applicable"));
  if (v.uncovered)
    s += "; " + std::to_string(v.uncovered) + " " + std::string(tr(lang, "controls no rule in force covers"));
  return s;
}

std::optional<FrameworkData> parse_framework(std::string_view path, std::string_view content,
                                             std::vector<std::string>& problems) {
  SourceFile file;
  file.path = std::string(path);
  file.content = std::string(content);
  load_documents(file);
  for (const InputError& e : file.errors) problems.push_back(file.path + ":" + std::to_string(e.line) + ": " + e.message);
  if (file.documents.empty()) return std::nullopt;
  const Node* root = file.documents[0].root;
  FrameworkData fw;
  fw.path = file.path;
  fw.id = std::string(str(get(root, "id")));
  fw.title = std::string(str(get(root, "title")));
  fw.zh = std::string(str(get(root, "zh")));
  if (fw.id.empty() || fw.title.empty() || fw.zh.empty()) problems.push_back(file.path + ": needs id, title and zh");
  if (fw.id.empty()) return std::nullopt;
  std::set<std::string> seen;
  for (const Node* c : items(get(root, "controls"))) {
    FrameworkData::Control cd;
    cd.id = std::string(str(get(c, "id")));
    cd.title = std::string(str(get(c, "title")));
    cd.zh = std::string(str(get(c, "zh")));
    cd.line = c->line;
    const std::string where = file.path + ":" + std::to_string(c->line);
    if (cd.id.empty() || cd.title.empty() || cd.zh.empty()) problems.push_back(where + ": a control needs id, title and zh");
    if (!seen.insert(cd.id).second) problems.push_back(where + ": duplicate control id " + cd.id);
    cd.keys.push_back(lower(cd.id));
    for (const Node* k : items(get(c, "keys"))) cd.keys.push_back(lower(str(k)));
    for (const Node* r : items(get(c, "rules"))) cd.rules.emplace_back(str(r));
    fw.controls.push_back(std::move(cd));
  }
  return fw;
}

FrameworkView build_framework_view(const EngineResult& scan, const FrameworkData& data, Lang lang) {
  const FrameworkData* fw = &data;
  FrameworkView v;
  v.id = fw->id;
  v.title = lang == Lang::Zh ? fw->zh : fw->title;
  // Rules in force (with their tallies) by the control keys their references name.
  std::vector<std::vector<std::string>> rule_keys(scan.rules.size());
  auto add_keys = [&](std::size_t i, const RuleInfo& r) {
    for (const std::string& ref : r.references)
      for (std::string& k : control_keys(fw->id, ref)) rule_keys[i].push_back(std::move(k));
  };
  for (std::size_t i = 0; i < scan.rules.size(); ++i) {
    add_keys(i, *scan.rules[i]);
    // The owner of a shared risk reports the superseded rule's findings, so it
    // answers that rule's controls as well.
    for (const std::string& id : scan.rules[i]->supersedes) {
      for (const RuleInfo* other : scan.rules)
        if (other->id == id) add_keys(i, *other);
    }
  }
  std::uint64_t score_sum = 0, scored = 0;
  for (const FrameworkData::Control& c : fw->controls) {
    FrameworkControl fc;
    fc.id = c.id;
    fc.title = lang == Lang::Zh ? c.zh : c.title;
    for (std::size_t i = 0; i < scan.rules.size(); ++i) {
      const RuleInfo& r = *scan.rules[i];
      const bool by_ref = std::any_of(rule_keys[i].begin(), rule_keys[i].end(), [&](const std::string& k) {
        return std::find(c.keys.begin(), c.keys.end(), k) != c.keys.end();
      });
      const bool listed = std::find(c.rules.begin(), c.rules.end(), r.id) != c.rules.end();
      if (!by_ref && !listed) continue;
      const RuleTally& t = i < scan.tallies.size() ? scan.tallies[i] : RuleTally{};
      fc.rules.push_back({&r, t});
      fc.tally.evaluated += t.evaluated;
      fc.tally.passed += t.passed;
      fc.tally.failed += t.failed;
      fc.tally.exempted += t.exempted;
    }
    if (fc.rules.empty()) {
      ++v.uncovered;
      continue;
    }
    const RuleTally& t = fc.tally;
    if (t.failed) {
      fc.status = ControlStatus::Fail;
    } else if (t.exempted) {
      fc.status = ControlStatus::Exempt;
    } else if (t.passed) {
      fc.status = ControlStatus::Pass;
    }
    if (fc.status != ControlStatus::NotApplicable) {
      fc.score = t.passed + t.failed ? static_cast<int>(100 * t.passed / (t.passed + t.failed)) : 100;
      score_sum += static_cast<std::uint64_t>(*fc.score);
      ++scored;
    }
    switch (fc.status) {
      case ControlStatus::Pass: ++v.passed; break;
      case ControlStatus::Fail: ++v.failed; break;
      case ControlStatus::Exempt: ++v.exempted; break;
      case ControlStatus::NotApplicable: ++v.not_applicable; break;
    }
    v.controls.push_back(std::move(fc));
  }
  if (scored) v.score = static_cast<int>(score_sum / scored);
  return v;
}

}  // namespace kg
