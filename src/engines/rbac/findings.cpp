#include "engines/rbac/findings.hpp"

#include <algorithm>
#include <memory>

namespace kg::rbac {
namespace {

// One rule per target (the most severe reached) and per hygiene problem.
const EngineRuleText kRules[] = {
    {"rbac-path-cluster-admin", Severity::Critical, "An identity can become cluster-admin",
     "Through the permissions its bindings grant (and the pods, roles and bindings those reach), this identity can "
     "gain every permission in the cluster; a stolen credential of it is a stolen cluster.",
     "Remove the first step's permission from the identity (least privilege: split the role, scope it to a "
     "namespace, drop the verb), or recognise the identity as a controller in .kguard.yaml rbac.knownControllers if "
     "it is one.",
     "身份可成为 cluster-admin",
     "通过其绑定授予的权限（以及由此可触及的 Pod、角色和绑定），该身份可获得集群中的全部权限；其凭据一旦泄露，等同整个集群失守。",
     "从该身份移除路径第一步所用的权限（最小权限：拆分角色、限定到命名空间、去掉该动词）；若它是控制器，在 .kguard.yaml 的 "
     "rbac.knownControllers 中登记。"},
    {"rbac-path-node-root", Severity::High, "An identity can become root on a node",
     "This identity can run a privileged or hostPath pod, reach the kubelet API, or enter a pod that owns its node; "
     "root on a node reads every pod's ServiceAccount token and Secret there.",
     "Remove the permission of the path's first step, enforce the baseline or restricted Pod Security level in the "
     "namespaces it can create pods in, and keep privileged workloads out of namespaces others can exec into.",
     "身份可成为节点 root",
     "该身份可运行特权或 hostPath Pod、访问 kubelet API，或进入一个掌控所在节点的 Pod；节点 root 可读取该节点上所有 Pod 的 "
     "ServiceAccount 令牌和 Secret。",
     "移除路径第一步所用的权限；在其可创建 Pod 的命名空间强制 baseline 或 restricted Pod 安全级别；不要把特权工作负载放在他人可 exec "
     "进入的命名空间。"},
    {"rbac-path-secrets", Severity::High, "An identity can read the Secrets of other namespaces",
     "This identity can read Secrets of every namespace (or kube-system's, or of a namespace not its own), and with "
     "them the tokens and passwords of other workloads.",
     "Grant Secret reads per namespace and by resourceNames, never cluster-wide; remove the path's first step from "
     "the identity.",
     "身份可读取其他命名空间的 Secret",
     "该身份可读取所有命名空间（或 kube-system、或非本命名空间）的 Secret，从而拿到其他工作负载的令牌和密码。",
     "按命名空间并用 resourceNames 授予 Secret 读取权限，不要在集群范围授予；从该身份移除路径第一步的权限。"},
    {"rbac-token-secret-privileged", Severity::High, "A long-lived token belongs to a privileged ServiceAccount",
     "This Secret holds a token that never expires for a ServiceAccount with an escalation path: whoever reads it "
     "once holds that path until the Secret is deleted.",
     "Delete the Secret and let pods use projected, expiring tokens (TokenRequest); rotate by deleting and "
     "recreating it if a long-lived token is unavoidable.",
     "长期令牌属于特权 ServiceAccount",
     "该 Secret 保存着一个永不过期的令牌，其 ServiceAccount 存在提权路径：任何人读取一次即可长期持有该路径，直至 Secret 被删除。",
     "删除该 Secret，让 Pod 使用投射的、会过期的令牌（TokenRequest）；若必须使用长期令牌，则定期删除并重建以轮换。"},
    {"rbac-token-secret-long-lived", Severity::Medium, "A long-lived ServiceAccount token Secret",
     "A kubernetes.io/service-account-token Secret never expires; a leaked copy works until the Secret is deleted, "
     "so leaks cannot be contained by time.",
     "Delete the Secret and use projected, expiring tokens (TokenRequest, kubectl create token); if one is needed, "
     "record its owner and rotate it on a schedule.",
     "长期有效的 ServiceAccount 令牌 Secret",
     "kubernetes.io/service-account-token 类型的 Secret 永不过期；泄露的副本在 Secret 删除前始终有效，无法靠时间控制泄露。",
     "删除该 Secret，改用投射的、会过期的令牌（TokenRequest、kubectl create token）；若确需保留，记录负责人并定期轮换。"},
    {"rbac-binding-dangling-subject", Severity::Medium, "A binding names a ServiceAccount that does not exist",
     "The binding grants its role to a ServiceAccount missing from a namespace the input shows; whoever later "
     "creates an account of that name (create serviceaccounts is common) receives the role.",
     "Delete the binding, or remove the missing subject from it.",
     "绑定指向不存在的 ServiceAccount",
     "该绑定把角色授予一个在输入所覆盖的命名空间中不存在的 ServiceAccount；之后任何人创建同名账户（create serviceaccounts 很常见）即可获得该角色。",
     "删除该绑定，或从中移除不存在的主体。"},
};

const EngineRuleText& text_of(std::string_view id) {
  for (const EngineRuleText& r : kRules)
    if (id == r.id) return r;
  return kRules[0];
}

std::string where_text(const Origin& o) {
  if (o.assumed) return "assumed bootstrap policy";
  if (o.file.empty()) return "";
  return o.file + ":" + std::to_string(o.line);
}

}  // namespace

const std::vector<std::string>& rbac_rule_ids() {
  static const std::vector<std::string> kIds = [] {
    std::vector<std::string> v;
    for (const EngineRuleText& r : kRules) v.emplace_back(r.id);
    return v;
  }();
  return kIds;
}

std::string path_text(const PathAnalysis& paths, const Path& path) {
  std::string s = paths.node(path.from).label();
  for (const PathStep& step : path.steps) {
    // Pool hops are spelled by the step before them ("any ServiceAccount of …").
    s += " ─[" + step.permission + "]→ " + paths.node(step.to).label();
  }
  return s;
}

std::string witness_text(const RbacIndex& index, const Witness& w) {
  std::string s;
  const bool has_binding = w.binding < index.policy().bindings.size();
  if (has_binding) {
    const Binding& b = index.binding(w.binding);
    s = (b.cluster ? "ClusterRoleBinding " + b.name : "RoleBinding " + b.ns + "/" + b.name);
    const std::string at = where_text(b.origin);
    if (!at.empty()) s += " (" + at + ")";
    s += " of ";
  } else {
    s = "the binding it creates, of ";
  }
  if (w.role < index.policy().roles.size()) {
    const Role& r = index.role(w.role);
    s += r.cluster ? "ClusterRole " + r.name : "Role " + r.ns + "/" + r.name;
    if (w.rule < index.effective_rule_count(w.role))
      s += ", rule: " + describe_rule(index.effective_rule(w.role, w.rule));
  } else {
    s += "every permission (the rules it wrote)";
  }
  return s;
}

void add_rbac_findings(EngineResult& result, Category security, const PathAnalysis& paths, const Hygiene& hygiene,
                       const RbacFindingOptions& options) {
  if (security && std::find(result.categories.begin(), result.categories.end(), security) == result.categories.end())
    result.categories.push_back(security);
  const RbacIndex& index = paths.index();
  std::vector<std::pair<std::string, std::size_t>> rule_at;  // id → index in result.rules
  auto rule_for = [&](std::string_view id) -> std::optional<std::size_t> {
    for (const auto& [rid, at] : rule_at)
      if (rid == id) return at;
    const EngineRuleText& t = text_of(id);
    auto owned = make_rule(t, security);
    owned->tags = {std::string(kRbacTag)};
    if (std::string_view(t.id).starts_with("rbac-path-")) owned->tags.emplace_back(kPathTag);
    owned->references = {"docs/rbac.md"};
    if (options.selected && !(*options.selected)(*owned)) return std::nullopt;
    const std::size_t at = result.add_owned_rule(std::move(owned));
    rule_at.emplace_back(t.id, at);
    return at;
  };
  std::size_t object = result.objects;  // after every object of the input: report order puts these last
  auto add = [&](std::size_t rule, Finding f) {
    f.rule = result.rules[rule];
    f.result = Result::Fail;
    f.object = object++;
    RuleTally& t = result.tallies[rule];
    ++t.evaluated;
    ++t.failed;
    // The scopes' lines add up to the totals: a finding counts in the scope of its binding's file.
    if (auto scope = result.scope_of_file(f.location.file)) {
      RuleTally& st = result.scopes[*scope].tallies[rule];
      ++st.evaluated;
      ++st.failed;
    }
    result.findings.push_back(f);
  };
  // Every rule is in force even when nothing fails it (a clean tally).
  for (const EngineRuleText& t : kRules) (void)rule_for(t.id);

  for (const Path& p : paths.all_paths()) {
    const std::string id = "rbac-path-" + std::string(target_id(p.target));
    const auto rule = rule_for(id);
    if (!rule) continue;
    const PathNode& from = paths.node(p.from);
    Finding f;
    f.kind = std::string(subject_kind_name(from.subject));
    f.ns = from.ns;
    f.name = from.name;
    f.subject = path_text(paths, p);
    const std::size_t n = p.steps.size();
    f.message = "reaches " + std::string(target_title(p.target)) + " in " +
                (n == 1 ? std::string("1 step") : std::to_string(n) + " steps") + (p.assumed ? " (assumed bootstrap policy)" : "") +
                ": " + f.subject;
    // Where to look: the binding behind the first step.
    for (const Witness& w : p.steps.front().via) {
      if (w.binding >= index.policy().bindings.size()) continue;
      const Binding& b = index.binding(w.binding);
      f.location = {b.origin.file, b.origin.line, b.origin.column, b.cluster ? "ClusterRoleBinding/" + b.name
                                                                             : "RoleBinding/" + b.ns + "/" + b.name};
      break;
    }
    add(*rule, std::move(f));
  }
  const Assets& assets = paths.assets();
  for (const TokenHygiene& th : hygiene.tokens) {
    const TokenSecret& t = assets.token_secrets[th.secret];
    const bool privileged = th.reaches.has_value();
    if (!privileged && th.age_days && *th.age_days < options.token_max_age_days) continue;
    const auto rule = rule_for(privileged ? "rbac-token-secret-privileged" : "rbac-token-secret-long-lived");
    if (!rule) continue;
    Finding f;
    f.kind = "Secret";
    f.ns = t.ns;
    f.name = t.name;
    f.subject = "ServiceAccount " + t.ns + "/" + t.service_account;
    f.message = "long-lived token of ServiceAccount " + t.ns + "/" + (t.service_account.empty() ? "(none)" : t.service_account);
    if (th.age_days && *th.age_days > 0) f.message += ", " + std::to_string(*th.age_days) + " days old";
    if (privileged) f.message += ", which reaches " + std::string(target_title(*th.reaches));
    if (!th.account_exists) f.message += " (the ServiceAccount does not exist)";
    f.location = {t.origin.file, t.origin.line, t.origin.column, "type"};
    add(*rule, std::move(f));
  }
  for (const DanglingSubject& d : hygiene.dangling) {
    const auto rule = rule_for("rbac-binding-dangling-subject");
    if (!rule) break;
    const Binding& b = index.binding(d.binding);
    const Subject& s = b.subjects[d.subject];
    const std::string ns = s.ns.empty() ? b.ns : s.ns;
    Finding f;
    f.kind = b.cluster ? "ClusterRoleBinding" : "RoleBinding";
    f.ns = b.cluster ? std::string() : b.ns;
    f.name = b.name;
    f.subject = "ServiceAccount " + ns + "/" + s.name;
    f.message = "subject ServiceAccount " + ns + "/" + s.name + " does not exist; it would receive " + b.role_kind + " " +
                b.role_name;
    f.location = {b.origin.file, b.origin.line, b.origin.column, "subjects[" + std::to_string(d.subject) + "]"};
    add(*rule, std::move(f));
  }
  order_findings(result.findings);
}

}  // namespace kg::rbac
