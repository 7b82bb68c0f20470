#include "engines/admit/image_gate.hpp"

#include <algorithm>
#include <cstdio>

#include "core/glob.hpp"
#include "sources/image/image_source.hpp"

namespace kg::admit {

std::string_view to_string(GateMode m) {
  switch (m) {
    case GateMode::Enforce: return "enforce";
    case GateMode::Warn: return "warn";
    case GateMode::Audit: return "audit";
  }
  return "enforce";
}

std::string_view to_string(OnMiss m) {
  switch (m) {
    case OnMiss::Scan: return "scan";
    case OnMiss::Deny: return "deny";
    case OnMiss::Allow: return "allow";
  }
  return "scan";
}

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

int rank(Severity s) { return static_cast<int>(s); }

bool same_id(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string VulnPolicy::threshold() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (fail_on) add("failOn: " + std::string(kg::to_string(*fail_on)));
  if (max_risk) add("maxRisk: " + number(*max_risk));
  if (ignore_unfixed) add("ignoreUnfixed");
  return out;
}

std::string normalise_reference(std::string_view image) {
  std::string error;
  const image::ImageRef ref = image::parse_reference(std::string(image), error);
  if (!error.empty() || ref.kind != image::ImageRef::Kind::Registry) return std::string(image);
  std::string registry = ref.registry == "registry-1.docker.io" ? "docker.io" : ref.registry;
  std::string out = registry + "/" + ref.repository;
  if (!ref.tag.empty()) out += ":" + ref.tag;
  if (!ref.digest.empty()) out += "@" + ref.digest;
  return out;
}

bool policy_matches(const std::vector<std::string>& registries, const std::vector<std::string>& namespaces,
                    const LabelSelector& namespace_selector, std::string_view image, std::string_view ns,
                    const Labels& labels, std::string& normalised) {
  if (!registries.empty()) {
    bool hit = any_glob(registries, image);
    if (!hit) {
      if (normalised.empty()) normalised = normalise_reference(image);
      hit = any_glob(registries, normalised);
    }
    if (!hit) return false;
  }
  const bool by_name = !namespaces.empty();
  const bool by_selector = namespace_selector.present;
  if (by_name || by_selector) {
    // Either form selects: a namespace named in the list, or one whose labels the selector matches.
    return (by_name && any_glob(namespaces, ns)) || (by_selector && namespace_selector.matches(labels));
  }
  return true;
}

const VulnPolicy* select_policy(const std::vector<VulnPolicy>& policies, std::string_view image,
                                std::string_view ns, const Labels& labels) {
  std::string normalised;  // computed once, only when a registry glob needs it
  for (const VulnPolicy& p : policies)
    if (policy_matches(p.registries, p.namespaces, p.namespace_selector, image, ns, labels, normalised)) return &p;
  return nullptr;
}

ImageJudgement judge_image(const VulnPolicy& policy, const ImageVulnerabilities& vulns, std::string_view today) {
  ImageJudgement j;
  auto ignore_for = [&](const VulnMatch& m) -> const VulnIgnore* {
    for (const VulnIgnore& ig : policy.ignores) {
      if (!ig.until.empty() && ig.until < today) continue;
      // As .kguard.yaml's ignores: the package is a glob over the installed name and the
      // source package looked up; the id is the record's or an alias, in any case.
      if (!ig.package.empty() && !glob_match(ig.package, m.package_name) && !glob_match(ig.package, m.matched_name))
        continue;
      if (same_id(ig.id, m.id) ||
          std::any_of(m.aliases.begin(), m.aliases.end(), [&](const std::string& a) { return same_id(ig.id, a); }))
        return &ig;
    }
    return nullptr;
  };
  for (const VulnMatch& m : vulns.matches) {
    if (m.suppressed) {
      ++j.suppressed;
      continue;
    }
    ++j.counts[rank(m.severity)];
    if (policy.ignore_unfixed && m.fix != FixState::Fixed) {
      ++j.unfixed_skipped;
      continue;
    }
    const bool over = (policy.fail_on && rank(m.severity) >= rank(*policy.fail_on)) ||
                      (policy.max_risk && m.risk > *policy.max_risk);
    if (!over) continue;
    if (const VulnIgnore* ig = ignore_for(m)) {
      j.ignored.push_back({&m, ig});
      continue;
    }
    j.violations.push_back(&m);
  }
  // Worst first: severity, then risk, then id (stable across runs).
  std::sort(j.violations.begin(), j.violations.end(), [](const VulnMatch* a, const VulnMatch* b) {
    if (a->severity != b->severity) return rank(a->severity) > rank(b->severity);
    if (a->risk != b->risk) return a->risk > b->risk;
    if (a->id != b->id) return a->id < b->id;
    return a->package_name < b->package_name;
  });
  return j;
}

std::string describe_match(const VulnMatch& m) {
  std::string out = m.id + " (" + std::string(kg::to_string(m.severity));
  if (m.risk > 0) out += ", risk " + number(m.risk);
  out += ", " + m.package_name + " " + m.installed_version;
  if (m.fix == FixState::Fixed && !m.fixed_version.empty()) out += ", fixed in " + m.fixed_version;
  else if (m.fix == FixState::WontFix) out += ", won't be fixed";
  else out += ", no fix yet";
  out += ")";
  return out;
}

}  // namespace kg::admit
