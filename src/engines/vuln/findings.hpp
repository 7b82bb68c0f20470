// Vulnerabilities into the one report model: each VulnMatch becomes a Finding
// in the Images category whose rule is the vulnerability id (a RuleInfo the
// result owns), so every format, --lang zh, baselines, --fail-on and the
// score treat a vulnerability as they treat any failed check. A suppressed
// match (an ignore, a VEX statement) is an exempted finding with the reason.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "model/engine_result.hpp"
#include "model/vulnerability.hpp"

namespace kg::vuln {

// Where one image's vulnerabilities are reported: the image itself (kguard
// image: kind Image, name = the reference) or a workload container that runs
// it (scan --images).
struct VulnSubject {
  std::string kind = "Image";
  std::string ns, name, container;
  Location location;
  // true: each finding's location.path is the package's evidence path (the
  // file inside the image that declares it); false: location.path is kept
  // (the container's image field).
  bool evidence_paths = true;
  std::string image;  // non-empty: messages start "[image REF] "
  std::size_t object = 0;
  // The subject's own exemptions (a workload's, in a manifest scan): true
  // with the reason and expiry when they exempt `rule` here. Applied to
  // unsuppressed matches; null: none.
  std::function<bool(const RuleInfo& rule, std::string& reason, std::string& until)> exempted;
};

// The finding message of a match, in English (rules/data/messages-zh.yaml has
// its Chinese forms): "libssl3 3.0.11-1 is affected (introduced 0, fixed
// 3.0.13-1; debian-tracker debian:12); fixed in 3.0.13-1".
std::string vuln_message(const VulnMatch& m);

class VulnFindings {
 public:
  // `images`: the catalog's Images category.
  VulnFindings(EngineResult& result, Category images);
  // Adds every match of `iv` (read in `inv`) as a finding under `where`.
  void add(const ImageVulnerabilities& iv, const ImageInventory& inv, const VulnSubject& where);
  // Counts each (object, vulnerability) once at its worst verdict (failed over
  // exempted), writes each rule's remediation from every package it matched,
  // and puts the findings in report order.
  void finish();

 private:
  struct RuleState {
    std::size_t index = 0;  // in result.rules
    RuleInfo* rule = nullptr;
    std::map<std::string, std::string> fixes;  // package -> fixed version ("" none yet, "-" won't fix)
    VulnMatch first;  // the id's first match: summary, aliases, scores
  };
  RuleState& rule_for(const VulnMatch& m);

  EngineResult& result_;
  Category images_;
  std::map<std::string, RuleState, std::less<>> rules_;
  std::map<std::pair<std::size_t, std::size_t>, Result> verdicts_;  // (object, rule index)
};

}  // namespace kg::vuln
