#include "model/vuln_text.hpp"

#include <utility>

namespace kg {
namespace {

constexpr std::string_view kDash = " \xE2\x80\x94 ";  // " — " as the handling writes it

// OpenVEX v0.2.0 statuses and justifications, CycloneDX analysis states and
// justifications, and the reasons kguard writes itself.
constexpr std::pair<std::string_view, std::string_view> kZh[] = {
    {"not_affected", "不受影响"},
    {"affected", "受影响"},
    {"fixed", "已修复"},
    {"under_investigation", "调查中"},
    {"false_positive", "误报"},
    {"resolved", "已解决"},
    {"resolved_with_pedigree", "已解决（附修复谱系）"},
    {"exploitable", "可被利用"},
    {"in_triage", "分析中"},
    {"component_not_present", "组件不存在"},
    {"vulnerable_code_not_present", "漏洞代码不存在"},
    {"vulnerable_code_not_in_execute_path", "漏洞代码不在执行路径中"},
    {"vulnerable_code_cannot_be_controlled_by_adversary", "漏洞代码无法被攻击者控制"},
    {"inline_mitigations_already_exist", "已有内置缓解措施"},
    {"code_not_present", "代码不存在"},
    {"code_not_reachable", "代码不可达"},
    {"requires_configuration", "需要特定配置才可利用"},
    {"requires_dependency", "需要特定依赖才可利用"},
    {"requires_environment", "需要特定环境才可利用"},
    {"protected_by_compiler", "受编译器保护"},
    {"protected_at_runtime", "运行时受保护"},
    {"protected_at_perimeter", "边界处受保护"},
    {"protected_by_mitigating_control", "受缓解控制措施保护"},
    {"no fixed version is available", "没有可用的修复版本"},
};

std::string_view zh_of(std::string_view label) {
  for (const auto& [en, zh] : kZh)
    if (en == label) return zh;
  return {};
}

// "不受影响（not_affected）": the label stays beside its translation, so it
// can still be found in the VEX document.
std::string zh_label(std::string_view label) {
  const std::string_view zh = zh_of(label);
  if (zh.empty()) return std::string(label);
  return std::string(zh) + "\xEF\xBC\x88" + std::string(label) + "\xEF\xBC\x89";
}

}  // namespace

std::string_view vex_label_text(std::string_view label, Lang lang) {
  if (lang == Lang::En) return label;
  const std::string_view zh = zh_of(label);
  return zh.empty() ? label : zh;
}

std::string suppressed_by_text(std::string_view by, Lang lang) {
  if (lang == Lang::En) return std::string(by);
  for (std::string_view format : {" (OpenVEX): ", " (CycloneDX VEX): "}) {
    const std::size_t at = by.find(format);
    if (at == std::string_view::npos) continue;
    const std::string_view name = format.substr(2, format.size() - 5);  // "OpenVEX"
    std::string out(by.substr(0, at));
    out += "\xEF\xBC\x88";  // （
    out += name;
    out += "\xEF\xBC\x89\xEF\xBC\x9A";  // ）：
    std::string_view rest = by.substr(at + format.size());
    const std::size_t dash = rest.find(kDash);
    out += zh_label(rest.substr(0, dash));
    if (dash != std::string_view::npos) {
      out += kDash;
      out += zh_label(rest.substr(dash + kDash.size()));
    }
    return out;
  }
  return std::string(by);
}

std::string suppression_text(const VulnMatch& m, Lang lang) {
  if (!m.suppressed) return {};
  const std::string by = suppressed_by_text(m.suppressed_by, lang);
  if (lang == Lang::En) return "suppressed by " + by + (m.suppress_reason.empty() ? "" : ": " + m.suppress_reason);
  std::string reason = m.suppress_reason;
  // Only kguard's own reason is translated; a config's or a VEX document's words are the author's.
  if (reason == "no fixed version is available") reason = std::string(zh_of(reason));
  return "已被 " + by + " 抑制" + (reason.empty() ? std::string() : "\xEF\xBC\x9A" + reason);
}

}  // namespace kg
