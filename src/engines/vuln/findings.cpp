#include "engines/vuln/findings.hpp"

#include <algorithm>
#include <cstdio>

namespace kg::vuln {
namespace {

void tally(RuleTally& t, Result r) {
  if (r == Result::Exempt) {
    ++t.exempted;  // exempted checks count neither way, as the scan counts them
    return;
  }
  ++t.evaluated;
  ++(r == Result::Pass ? t.passed : t.failed);
}

Result worst(Result a, Result b) {
  auto rank = [](Result r) { return r == Result::Fail ? 2 : r == Result::Exempt ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

std::string number(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "a, b and c" (English) / "a、b 和 c" (Chinese), the first few then a count.
std::string list_of(const std::vector<std::string>& items, bool zh) {
  constexpr std::size_t kShown = 6;
  std::string s;
  const std::size_t n = std::min(items.size(), kShown);
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += zh ? "、" : ", ";
    s += items[i];
  }
  if (items.size() > kShown) {
    s += zh ? " 等 " + std::to_string(items.size()) + " 个" : " and " + std::to_string(items.size() - kShown) + " more";
  }
  return s;
}

}  // namespace

std::string vuln_message(const VulnMatch& m) {
  std::string why = m.range;
  std::string source = m.feed;
  if (!m.ns.empty()) source += (source.empty() ? "" : " ") + m.ns;
  if (!source.empty()) why += (why.empty() ? "" : "; ") + source;
  std::string s = m.package_name + " " + m.installed_version + " is affected";
  if (!why.empty()) s += " (" + why + ")";
  switch (m.fix) {
    case FixState::Fixed: s += "; fixed in " + m.fixed_version; break;
    case FixState::WontFix: s += "; the distribution will not fix it"; break;
    case FixState::Unfixed: s += "; no fix yet"; break;
  }
  return s;
}

VulnFindings::VulnFindings(EngineResult& result, Category images) : result_(result), images_(images) {
  if (images_ && std::find(result_.categories.begin(), result_.categories.end(), images_) == result_.categories.end())
    result_.categories.push_back(images_);
}

VulnFindings::RuleState& VulnFindings::rule_for(const VulnMatch& m) {
  auto it = rules_.find(m.id);
  if (it != rules_.end()) {
    RuleInfo& r = *it->second.rule;
    r.severity = std::max(r.severity, m.severity);
    return it->second;
  }
  auto owned = std::make_unique<RuleInfo>();
  RuleInfo& r = *owned;
  r.id = m.id;
  r.title = m.summary.empty() ? "Known vulnerability " + m.id : m.summary;
  if (m.summary.empty()) r.zh.title = "已知漏洞 " + m.id;
  r.category = images_;
  r.severity = m.severity;
  r.references = m.aliases;
  r.tags = {std::string(kVulnerabilityTag)};
  if (m.kev) r.tags.emplace_back("kev");
  RuleState st;
  st.rule = &r;
  st.first = m;
  st.index = result_.add_owned_rule(std::move(owned));
  return rules_.emplace(m.id, std::move(st)).first->second;
}

void VulnFindings::add(const ImageVulnerabilities& iv, const ImageInventory& inv, const VulnSubject& where) {
  for (const VulnMatch& m : iv.matches) {
    RuleState& st = rule_for(m);
    st.fixes.emplace(m.package_name, m.fix == FixState::Fixed     ? m.fixed_version
                                     : m.fix == FixState::WontFix ? std::string("-")
                                                                  : std::string());
    Finding f;
    f.rule = st.rule;
    f.result = m.suppressed ? Result::Exempt : Result::Fail;
    f.kind = where.kind;
    f.ns = where.ns;
    f.name = where.name;
    f.container = where.container;
    f.subject = m.package_name + "@" + m.installed_version;
    f.message = (where.image.empty() ? std::string() : "[image " + where.image + "] ") + vuln_message(m);
    f.location = where.location;
    if (where.evidence_paths) {
      f.location.path = m.package < inv.packages.size() && !inv.packages[m.package].evidence.empty()
                            ? inv.packages[m.package].evidence.front().path
                            : m.purl;
    }
    if (m.suppressed) {
      f.exemption_reason = m.suppress_reason.empty() ? m.suppressed_by
                           : m.suppressed_by.empty() ? m.suppress_reason
                                                     : m.suppress_reason + " (" + m.suppressed_by + ")";
    } else if (where.exempted && where.exempted(*st.rule, f.exemption_reason, f.exemption_until)) {
      f.result = Result::Exempt;
    }
    f.object = where.object;
    result_.findings.push_back(f);
    auto [v, added] = verdicts_.emplace(std::make_pair(where.object, st.index), f.result);
    if (!added) v->second = worst(v->second, f.result);
  }
}

void VulnFindings::finish() {
  for (const auto& [key, verdict] : verdicts_) {
    tally(result_.tallies[key.second], verdict);
    if (key.first < result_.object_scope.size() && result_.object_scope[key.first] < result_.scopes.size())
      tally(result_.scopes[result_.object_scope[key.first]].tallies[key.second], verdict);
  }
  verdicts_.clear();
  // What each rule says: which packages, how bad, and what to do about it,
  // from the first match of each id and every package it matched.
  for (auto& [id, st] : rules_) {
    RuleInfo& r = *st.rule;
    std::vector<std::string> packages, upgrades, unfixed, wontfix;
    std::vector<std::string> upgrades_zh;
    for (const auto& [pkg, fixed] : st.fixes) {
      packages.push_back(pkg);
      if (fixed == "-") {
        wontfix.push_back(pkg);
      } else if (fixed.empty()) {
        unfixed.push_back(pkg);
      } else {
        upgrades.push_back(pkg + " to " + fixed);
        upgrades_zh.push_back(pkg + " 升级到 " + fixed);
      }
    }
    std::string en = id + " is a known vulnerability of " + list_of(packages, false);
    std::string zh = id + " 是 " + list_of(packages, true) + " 的已知漏洞";
    {
      const VulnMatch& m = st.first;
      if (!m.aliases.empty()) {
        en += " (also " + list_of(m.aliases, false) + ")";
        zh += "（别名 " + list_of(m.aliases, true) + "）";
      }
      if (!m.summary.empty()) {
        en += ": " + m.summary;
        zh += "：" + m.summary;
      }
      en += ". Severity " + std::string(to_string(m.severity));
      zh += "。严重程度 " + std::string(to_string(m.severity));
      if (!m.severity_source.empty()) {
        en += " (" + m.severity_source + ")";
        zh += "（" + m.severity_source + "）";
      }
      if (m.cvss_score >= 0) {
        en += "; CVSS " + number(m.cvss_score, 1) + (m.cvss_vector.empty() ? "" : " " + m.cvss_vector);
        zh += "；CVSS " + number(m.cvss_score, 1) + (m.cvss_vector.empty() ? "" : " " + m.cvss_vector);
      }
      if (m.kev) {
        en += "; known to be exploited (CISA KEV)";
        zh += "；已知被在野利用（CISA KEV）";
      }
      if (m.epss >= 0) {
        en += "; EPSS " + number(m.epss, 3);
        zh += "；EPSS " + number(m.epss, 3);
      }
      en += ".";
      zh += "。";
    }
    r.rationale = std::move(en);
    r.zh.rationale = std::move(zh);
    std::string fix, fix_zh;
    auto sentence = [](std::string& s, const std::string& part, const char* stop) {
      if (!s.empty()) s += ' ';
      s += part + stop;
    };
    if (!upgrades.empty()) {
      sentence(fix, "Upgrade " + list_of(upgrades, false), ".");
      sentence(fix_zh, "将 " + list_of(upgrades_zh, true), "。");
    }
    if (!unfixed.empty()) {
      sentence(fix, "No fixed version of " + list_of(unfixed, false) +
                        " yet: remove it, change the base image, or record the accepted risk (an ignore in "
                        ".kguard.yaml with a reason and an expiry, or a VEX statement)",
               ".");
      sentence(fix_zh, list_of(unfixed, true) +
                           " 尚无修复版本：移除该软件包、更换基础镜像，或记录所接受的风险（在 .kguard.yaml "
                           "中添加带理由和到期日的忽略项，或一条 VEX 声明）",
               "。");
    }
    if (!wontfix.empty()) {
      sentence(fix, "The distribution will not fix " + list_of(wontfix, false) +
                        ": remove it, change the base image, or record the accepted risk",
               ".");
      sentence(fix_zh, "发行版不会修复 " + list_of(wontfix, true) + "：移除该软件包、更换基础镜像，或记录所接受的风险",
               "。");
    }
    r.remediation = std::move(fix);
    r.zh.remediation = std::move(fix_zh);
  }
  order_findings(result_.findings);
}

}  // namespace kg::vuln
