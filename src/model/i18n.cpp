#include "model/i18n.hpp"

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
      {"more like this, not listed here", "条同类结果未在此列出"},
      {"and", "另有"},
      {"findings of a repeated shape are counted, not listed (every finding is in the json, sarif and csv reports)",
       "条重复形态的结果只计数、不逐条列出（json、sarif 和 csv 报告列出全部结果）"},
      {"evaluated", "已评估"},
      {"passed", "通过"},
      {"failed", "未通过"},
      {"exempted", "已豁免"},
      {"documents", "个文档"},
      {"in", "共"},
      {"fix", "修复"},
      {"Pod Security Standards", "Pod 安全标准"},
      {"failed checks", "未通过检查项"},
      {"Notices", "提示"},
      {"Skipped", "已跳过"},
      {"new", "新增"},
      {"unchanged", "未变"},
      {"fixed", "已修复"},
      {"Compared with the baseline", "与基线对比"},
      {"until", "有效期至"},
      // HTML report
      {"Health score", "健康评分"},
      {"Generated", "生成时间"},
      {"Print", "打印"},
      {"Skip to findings", "跳到检查结果"},
      {"checks passed", "项检查通过"},
      {"checks evaluated", "项检查"},
      {"Polaris formula: 2 points per passed check; a failed low or medium check costs 1, a failed high or critical check 2.",
       "采用 Polaris 公式：每项通过的检查计 2 分；未通过的低危或中危检查扣 1 分，高危或严重检查扣 2 分。"},
      {"Failed checks", "未通过检查项"},
      {"Failed checks by severity", "未通过检查项（按严重程度）"},
      {"Findings", "检查结果"},
      {"Results", "检查结论"},
      {"Resources by kind", "资源类型分布"},
      {"Total", "合计"},
      {"no checks", "无检查项"},
      {"Bars: share of passed and failed checks; badge: category score.", "条形：通过与未通过检查项的占比；徽标：类别评分。"},
      {"Failed checks by namespace and category", "未通过检查项（按命名空间与类别）"},
      {"cluster-scoped", "集群级"},
      {"Search", "搜索"},
      {"name, message, file...", "名称、说明、文件……"},
      {"All", "全部"},
      {"Clear filters", "清除筛选"},
      {"findings shown", "条结果"},
      {"Details", "详情"},
      {"Show details", "展开详情"},
      {"Field", "字段"},
      {"No findings match the filters.", "没有符合筛选条件的结果。"},
      {"The findings table needs JavaScript.", "检查结果表格需要启用 JavaScript。"},
      {"privileged", "特权"},
      {"baseline", "基线"},
      {"restricted", "受限"},
      {"Most failed checks", "未通过最多的检查项"},
      {"Scanned", "扫描范围"},
      {"Documents", "文档"},
      {"Input size", "输入大小"},
      {"Select a cell to filter the findings.", "点击单元格可筛选下方的检查结果。"},
      {"Showing the first {shown} of {total} matching findings.", "仅显示前 {shown} 条（共 {total} 条符合条件的结果）。"},
      {"Show more", "显示更多"},
      {"Show all", "全部显示"},
      {"Exemption", "豁免原因"},
      // SARIF, JUnit, Markdown, CSV and PolicyReport formats
      {"Critical", "严重"},
      {"High", "高危"},
      {"Medium", "中危"},
      {"Low", "低危"},
      {"Top findings", "主要问题"},
      {"Resource", "资源"},
      {"findings", "个问题"},
      {"resources passed", "个资源通过"},
      {"resources in", "个资源，来自"},
      {"Severity columns count failed checks.", "各严重程度列统计的是未通过的检查项。"},
      {"Showing", "显示"},
      {"More not shown:", "其余未显示："},
      {"Truncated", "已截断"},
      {"more findings are not shown, to keep this comment under 65,536 characters; see the JSON or SARIF report for all of them.",
       "个问题未显示，以使评论不超过 65,536 个字符；完整列表见 JSON 或 SARIF 报告。"},
      // Live cluster scans (kguard scan --cluster, snapshots)
      {"Cluster", "集群"},
      {"Scope", "范围"},
      {"all namespaces", "所有命名空间"},
      {"namespaces", "个命名空间"},
      {"nodes", "个节点"},
      {"pods", "个 Pod"},
      {"unknown", "未知"},
      {"Coverage", "覆盖范围"},
      {"Everything kguard needs could be read.", "kguard 所需的全部资源均已读取。"},
      {"could not be read; these rules did not see it:", "无法读取；以下规则未能检查这些资源："},
      {"cluster-wide", "集群范围"},
      {"in namespace", "命名空间"},
  };
  for (const auto& [en, zh] : kZh)
    if (en == english) return zh;
  return english;
}

}  // namespace kg
