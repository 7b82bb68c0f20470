// What any engine found, in terms every renderer understands: the rule (or
// check) behind it, a subject (a Kubernetes object, optionally narrowed to a
// free subject such as an image reference, a layer path, an RBAC path, a
// connection or an audit event), a location and a result.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/category.hpp"
#include "model/i18n.hpp"
#include "model/severity.hpp"

namespace kg {

enum class Result : std::uint8_t { Fail, Pass, Exempt };
std::string_view to_string(Result r);

// Where to look: a file position and a path inside the subject (a field path
// such as spec.template.spec.hostNetwork, or an engine's own path).
struct Location {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string path;
};

// What a report shows about the rule behind a finding, whatever engine
// defined it. The catalog's Rule extends it with how the rule is evaluated.
struct RuleInfo {
  std::string id;
  std::string title;
  Category category;
  Severity severity = Severity::Medium;
  std::string rationale;
  std::string remediation;
  std::vector<std::string> references;
  std::vector<std::string> tags;
  // Chinese text; empty fields fall back to English.
  LocalizedText zh;

  bool has_tag(std::string_view t) const;
  std::string_view title_in(Lang l) const { return l == Lang::Zh && !zh.title.empty() ? zh.title : title; }
  std::string_view rationale_in(Lang l) const {
    return l == Lang::Zh && !zh.rationale.empty() ? zh.rationale : rationale;
  }
  std::string_view remediation_in(Lang l) const {
    return l == Lang::Zh && !zh.remediation.empty() ? zh.remediation : remediation;
  }
};

struct Finding {
  const RuleInfo* rule = nullptr;  // owned by whoever defined the rule; outlives the result
  Result result = Result::Fail;
  // The subject: the object (kind, namespace, name) and, within it, a
  // container or a free subject (an image reference, a layer path…).
  std::string kind;
  std::string ns;
  std::string name;
  std::string container;
  std::string subject;
  std::string message;
  Location location;
  std::string exemption_reason;  // for Result::Exempt
  std::string exemption_until;
  bool exemption_in_source = false;  // by the subject's own annotation (else the configuration)
  std::size_t object = 0;  // index of the object in input order
};

// How often a rule was applied and with what outcome.
struct RuleTally {
  std::uint64_t evaluated = 0;  // subjects the rule was applied to
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  std::uint64_t exempted = 0;
};

}  // namespace kg
