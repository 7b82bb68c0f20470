#include "catalog/i18n.hpp"

#include <cstdlib>
#include <utility>

namespace kg {

std::optional<Lang> parse_lang(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.substr(0, 2) == "zh") return Lang::Zh;
  if (s.substr(0, 2) == "en" || s == "C" || s == "POSIX" || s.substr(0, 2) == "C.") return Lang::En;
  return std::nullopt;
}

Lang lang_from_env() {
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v && *v) return parse_lang(v).value_or(Lang::En);
  }
  return Lang::En;
}

std::string_view lang_code(Lang l) { return l == Lang::Zh ? "zh-CN" : "en"; }

std::string_view tr(Lang lang, std::string_view english) {
  if (lang == Lang::En) return english;
  // Sorted for readability only; lookup is linear (a few dozen strings).
  static constexpr std::pair<std::string_view, std::string_view> kZh[] = {
      {"kguard inspection report", "kguard 安全巡检报告"},
      {"Overview", "概览"},
      {"By category", "分类统计"},
      {"Details by workload", "工作负载详情"},
      {"Input errors", "输入错误"},
      {"Source", "来源"},
      {"Policy", "策略"},
      {"Score", "健康评分"},
      {"Grade", "等级"},
      {"Checks", "检查项"},
      {"Passed", "通过"},
      {"Failed", "未通过"},
      {"Exempted", "已豁免"},
      {"Resources", "资源"},
      {"Severity", "严重程度"},
      {"Category", "类别"},
      {"Kind", "资源类型"},
      {"Name", "名称"},
      {"Namespace", "命名空间"},
      {"Container", "容器"},
      {"Rule", "检查项"},
      {"Result", "结果"},
      {"Message", "说明"},
      {"Remediation", "修复建议"},
      {"Rationale", "风险"},
      {"References", "参考"},
      {"Location", "位置"},
      {"Count", "数量"},
      {"Percent", "占比"},
      {"Health checks", "健康检查"},
      {"Images", "镜像"},
      {"Networking", "网络"},
      {"Security", "安全"},
      {"critical", "严重"},
      {"high", "高危"},
      {"medium", "中危"},
      {"low", "低危"},
      {"fail", "未通过"},
      {"pass", "通过"},
      {"exempt", "豁免"},
      {"No failed checks.", "没有未通过的检查项。"},
      {"evaluated", "已评估"},
      {"passed", "通过"},
      {"failed", "未通过"},
      {"exempted", "已豁免"},
      {"documents", "个文档"},
      {"in", "共"},
      {"fix", "修复"},
      {"Pod Security Standards", "Pod 安全标准"},
      {"failed checks", "未通过检查项"},
  };
  for (const auto& [en, zh] : kZh)
    if (en == english) return zh;
  return english;
}

}  // namespace kg
