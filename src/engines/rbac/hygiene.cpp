#include "engines/rbac/hygiene.hpp"

#include <algorithm>
#include <set>

namespace kg::rbac {

std::optional<long> days_since_epoch(std::string_view t) {
  auto digits = [&](std::size_t at, std::size_t n, long& out) {
    if (t.size() < at + n) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  long y = 0, m = 0, d = 0;
  if (!digits(0, 4, y) || t.size() < 10 || t[4] != '-' || !digits(5, 2, m) || t[7] != '-' || !digits(8, 2, d))
    return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Hygiene check_hygiene(const PathAnalysis& paths, std::optional<long> today) {
  Hygiene h;
  const RbacIndex& index = paths.index();
  const Assets& assets = paths.assets();
  std::set<std::string> covered(assets.namespaces.begin(), assets.namespaces.end());
  std::set<std::pair<std::string, std::string>> accounts;
  for (const ServiceAccount& sa : index.policy().service_accounts) {
    covered.insert(sa.ns);
    accounts.emplace(sa.ns, sa.name);
  }
  h.covered_namespaces.assign(covered.begin(), covered.end());

  for (std::size_t i = 0; i < assets.token_secrets.size(); ++i) {
    const TokenSecret& t = assets.token_secrets[i];
    TokenHygiene th;
    th.secret = i;
    if (today && !t.created.empty())
      if (auto created = days_since_epoch(t.created)) th.age_days = std::max(0L, *today - *created);
    if (auto node = paths.find_subject("sa:" + t.ns + ":" + t.service_account)) {
      for (std::size_t k = 0; k < kTargets && !th.reaches; ++k)
        if (paths.reaches(*node, static_cast<Target>(k))) th.reaches = static_cast<Target>(k);
    }
    // Every namespace has its "default" ServiceAccount (the ServiceAccount controller makes it).
    th.account_exists = !covered.count(t.ns) || accounts.count({t.ns, t.service_account}) || t.service_account == "default" ||
                        builtin_controller(SubjectKind::ServiceAccount, t.service_account, t.ns);
    h.tokens.push_back(th);
  }

  for (std::uint32_t b = 0; b < index.policy().bindings.size(); ++b) {
    const Binding& binding = index.binding(b);
    if (binding.origin.assumed) continue;
    for (std::uint32_t s = 0; s < binding.subjects.size(); ++s) {
      const Subject& subject = binding.subjects[s];
      if (subject.kind != SubjectKind::ServiceAccount) continue;
      const std::string& ns = subject.ns.empty() ? binding.ns : subject.ns;
      if (ns.empty() || !covered.count(ns) || accounts.count({ns, subject.name}) || subject.name == "default") continue;
      if (builtin_controller(SubjectKind::ServiceAccount, subject.name, ns)) continue;
      h.dangling.push_back({b, s});
    }
  }
  return h;
}

}  // namespace kg::rbac
