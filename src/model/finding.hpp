// What any engine found, in terms every renderer understands: the rule (or
// check) behind it, a subject (a Kubernetes object, optionally narrowed to a
// free subject such as an image reference, a layer path, an RBAC path, a
// connection or an audit event), a location and a result.
#pragma once

#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
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
  // Rules whose finding on the same field of the same object this rule owns
  // (rule.yaml `supersedes:`): one risk, one finding. Reports map the owner to
  // the superseded rules' framework controls too, since it reports their risk.
  std::vector<std::string> supersedes;
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

// A finding read from a FindingStore (or viewing a Finding): the same fields,
// as views into the store's interned text. Valid while the store (or the
// Finding) lives and is not modified.
struct LocationView {
  std::string_view file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string_view path;
};

struct FindingView {
  const RuleInfo* rule = nullptr;
  Result result = Result::Fail;
  std::string_view kind;
  std::string_view ns;
  std::string_view name;
  std::string_view container;
  std::string_view subject;
  std::string_view message;
  LocationView location;
  std::string_view exemption_reason;
  std::string_view exemption_until;
  bool exemption_in_source = false;
  std::size_t object = 0;

  FindingView() = default;
  // Implicit: whatever reads a finding reads a Finding as well as a stored one.
  FindingView(const Finding& f);  // NOLINT(google-explicit-constructor)
  Finding to_finding() const;
};

// The findings of a result, compact: each is a fixed record of indices into
// text the store interns once (a message, a field path or a file name is
// repeated across thousands of findings of renamed objects), so a scan of a
// million findings holds tens of megabytes, not a gigabyte (PERFORMANCE.md's
// memory budget). Findings are added as Finding values and read back as
// FindingView values; the text of a view lives as long as the store.
class FindingStore {
 public:
  FindingStore();
  ~FindingStore();
  FindingStore(FindingStore&&) noexcept;
  FindingStore& operator=(FindingStore&&) noexcept;
  FindingStore(const FindingStore&) = delete;
  FindingStore& operator=(const FindingStore&) = delete;

  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  FindingView operator[](std::size_t i) const;
  void clear();
  void push_back(const FindingView& f);
  // Moves every finding of `other` to the end, adding `object_offset` to
  // their object index; `other` is left empty.
  void append(FindingStore&& other, std::size_t object_offset = 0);
  // Keeps the findings whose `keep` entry is true, in order.
  void keep(const std::vector<bool>& keep);
  // Reorders: position i receives the finding that was at `order[i]`.
  void permute(std::vector<std::uint32_t> order);
  std::size_t object_of(std::size_t i) const;

  class iterator {  // NOLINT(readability-identifier-naming): the name containers give it
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = FindingView;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = FindingView;
    iterator(const FindingStore* s, std::size_t i) : s_(s), i_(i) {}
    FindingView operator*() const { return (*s_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      iterator t = *this;
      ++i_;
      return t;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const FindingStore* s_;
    std::size_t i_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, records_.size()}; }

 private:
  // 28 bytes. The subject (kind, namespace, name, file, object index) and
  // the rarer fields (container, free subject, exemption) are tuples interned
  // as a whole: findings of one object share them.
  struct Record {
    std::uint32_t rule_flags;  // rule index (into the pool's rules) << 3 | in_source << 2 | result
    std::uint32_t subject;
    std::uint32_t extra;
    std::uint32_t message;
    std::uint32_t path;
    std::uint32_t line;
    std::uint32_t column;
  };
  struct Subject {
    std::uint32_t kind, ns, name, file, object;
  };
  struct Extra {
    std::uint32_t container, free_subject, reason, until;
  };
  struct Pool;  // interned text, tuples and rules
  std::unique_ptr<Pool> pool_;
  // A deque: it grows while a whole input file is still in memory, and a
  // vector's doubling would briefly hold two copies at the scan's peak.
  std::deque<Record> records_;
};

// The report order of findings: input order of their objects; within one
// object failures, then exemptions, then passes, the most severe first; ties
// keep their order. (Set-level folding relies on an object's findings being
// neighbours.)
void order_findings(FindingStore& findings);

// How often a rule was applied and with what outcome.
struct RuleTally {
  std::uint64_t evaluated = 0;  // subjects the rule was applied to
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  std::uint64_t exempted = 0;
};

}  // namespace kg
