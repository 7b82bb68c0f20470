// Cluster-level templates: checks of the cluster itself, evaluated once on
// the facts kguard read from the API server (or a snapshot of them).
//
//  * `kubernetes-version`: the server's minor release against the release
//    table (rules/data/kubernetes-releases.yaml): fails when support has
//    ended or ends within `warnDays`.
#include <chrono>

#include "catalog/catalog.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

// Days since 1970-01-01 of a YYYY-MM-DD date; nullopt when malformed.
std::optional<int> day_number(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return std::nullopt;
  auto num = [&](std::size_t from, std::size_t len) {
    int v = 0;
    for (std::size_t i = from; i < from + len; ++i) {
      if (d[i] < '0' || d[i] > '9') return -1;
      v = v * 10 + (d[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), day = num(8, 2);
  if (y < 0 || m < 1 || m > 12 || day < 1 || day > 31) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int>(std::chrono::sys_days{ymd}.time_since_epoch().count());
}

SetViolation version_violation(std::string message) {
  SetViolation v;
  v.message = std::move(message);
  v.path = "kguardSnapshot.serverVersion";
  return v;
}

struct Release {
  int minor = 0;
  std::string released;
  std::string end_of_support;
  int released_day = 0;
  int end_day = 0;
  bool planned = false;
};

class KubernetesVersionCheck final : public ClusterCheck {
 public:
  std::vector<Release> releases;  // ascending minor
  int warn_days = 90;

  Outcome evaluate(const ClusterInfo& cluster, std::string_view today,
                   std::vector<SetViolation>& out) const override {
    if (cluster.server_version.empty()) return Outcome::NotApplicable;
    const auto minor = kubernetes_minor(cluster.server_version);
    const auto now = day_number(today);
    if (!minor || !now) return Outcome::NotApplicable;
    const std::string v = cluster.server_version;
    // The newest release kguard knows, not the list supported "today": the
    // message must not change with the date for the same cluster and table.
    auto supported = [&] {
      return "a supported release (the newest kguard knows is 1." +
             std::to_string(releases.back().minor) + ")";
    };
    if (*minor < releases.front().minor) {
      out.push_back(version_violation("Kubernetes " + v + " is older than 1." + std::to_string(releases.front().minor) +
                         " and out of support for years; upgrade to " + supported()));
      return Outcome::Fail;
    }
    for (const Release& r : releases) {
      if (r.minor != *minor) continue;
      if (*now >= r.end_day) {
        out.push_back(version_violation("Kubernetes " + v + ": 1." + std::to_string(r.minor) +
                           " reached end of support on " + r.end_of_support +
                           " (no more security patches); upgrade to " + supported()));
        return Outcome::Fail;
      }
      if (*now >= r.end_day - warn_days) {
        out.push_back(version_violation("Kubernetes " + v + ": 1." + std::to_string(r.minor) +
                           " reaches end of support on " + r.end_of_support + " (in " +
                           std::to_string(r.end_day - *now) + " days); plan the upgrade to " +
                           supported()));
        return Outcome::Fail;
      }
      return Outcome::Pass;
    }
    return Outcome::Pass;  // newer than the release table: supported
  }
};

}  // namespace

std::unique_ptr<ClusterCheck> compile_kubernetes_version_check(const Params& params,
                                                               std::string& error) {
  auto check = std::make_unique<KubernetesVersionCheck>();
  if (auto w = params.integer("warnDays")) {
    if (*w < 0 || *w > 3650) {
      error = "warnDays must be between 0 and 3650";
      return nullptr;
    }
    check->warn_days = static_cast<int>(*w);
  }
  const std::string table(params.string("releases"));
  if (table.empty()) {
    error = "releases must name the release table, e.g. data/kubernetes-releases.yaml";
    return nullptr;
  }
  const CatalogFile* found = nullptr;
  for (const CatalogFile& f : embedded_catalog_files())
    if (f.path == table) found = &f;
  if (!found) {
    error = "releases: no catalog file " + table;
    return nullptr;
  }
  SourceFile file;
  file.path = table;
  file.content = std::string(found->content);
  load_documents(file);
  if (!file.errors.empty() || file.documents.empty()) {
    error = table + ": " + (file.errors.empty() ? "empty" : file.errors[0].message);
    return nullptr;
  }
  for (const Node* r : items(get(file.documents[0].root, "releases"))) {
    Release rel;
    auto minor = kubernetes_minor(str(get(r, "version")));
    rel.released = std::string(str(get(r, "released")));
    rel.end_of_support = std::string(str(get(r, "endOfSupport")));
    auto released = day_number(rel.released);
    auto end = day_number(rel.end_of_support);
    if (!minor || !released || !end || *end <= *released ||
        (!check->releases.empty() && *minor != check->releases.back().minor + 1)) {
      error = table + ":" + std::to_string(r->line) +
              ": each release needs version 1.N (consecutive), released and endOfSupport dates";
      return nullptr;
    }
    rel.minor = *minor;
    rel.released_day = *released;
    rel.end_day = *end;
    rel.planned = is_true(get(r, "planned"));
    check->releases.push_back(std::move(rel));
  }
  if (check->releases.empty()) {
    error = table + ": no releases";
    return nullptr;
  }
  return check;
}

}  // namespace kg
