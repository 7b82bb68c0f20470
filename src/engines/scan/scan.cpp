#include "engines/scan/scan.hpp"
#include "engines/scan/overlap.hpp"

#include "catalog/messages_zh.hpp"
#include "catalog/suggest.hpp"
#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"
#include "core/clock.hpp"
#include "core/glob.hpp"
#include "sources/kube/cluster_reader.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>
#include <tuple>
#include <unordered_set>
#include <ctime>
#include <functional>

namespace kg {

bool rule_selected(const Rule& rule, const ScanOptions& options) {
  // A rule named by --only runs even where the PSS level or version would
  // leave it out (the CLI says so: pss_selection_note).
  if (std::find(options.only.begin(), options.only.end(), rule.id) != options.only.end()) return true;
  if (rule.pss_level) {
    if (options.pss_level < *rule.pss_level) return false;
    if (options.pss_minor < rule.pss_since) return false;
    // A baseline control overridden at restricted stays in force beside the
    // restricted rule that overrides it; the Scanner shares their violations.
  }
  bool enabled = rule.enabled_by_default;
  if (auto it = options.overrides.find(rule.id); it != options.overrides.end() && it->second.enabled)
    enabled = *it->second.enabled;
  if (options.only.empty()) return enabled;
  for (const std::string& sel : options.only) {
    if ((sel == to_string(rule.category) || rule.has_tag(sel)) && enabled) return true;
  }
  return false;
}

std::string pss_selection_note(const Rule& rule, const ScanOptions& options) {
  if (!rule.pss_level) return {};
  const std::string level(to_string(*rule.pss_level));
  const std::string asked = "--pss " + std::string(to_string(options.pss_level)) + " v1." +
                            std::to_string(options.pss_minor);
  if (options.pss_level < *rule.pss_level)
    return rule.id + " is a " + level + " control, which " + asked +
           " does not include; it is evaluated because --only names it (--pss " + level +
           " includes it)";
  if (options.pss_minor < rule.pss_since)
    return rule.id + " exists from PSS v1." + std::to_string(rule.pss_since) + ", after " + asked +
           "; it is evaluated because --only names it";
  const bool replaced = options.pss_level == PssLevel::Restricted && rule.pss_overridden_from >= 0 &&
                        options.pss_minor >= rule.pss_overridden_from;
  const bool replacement_named =
      std::find(options.only.begin(), options.only.end(), rule.pss_overridden_by) != options.only.end();
  if (replaced && !replacement_named)
    return rule.id + " is replaced at " + asked + " by " + rule.pss_overridden_by + " (from v1." +
           std::to_string(rule.pss_overridden_from) +
           ") and, as upstream, is not evaluated without it: nothing is checked; add --only " +
           rule.pss_overridden_by + ", or use --pss baseline";
  return {};
}

// A snapshot is read for every rule (`kguard snapshot`); a scan of it shows
// the kinds not served and the coverage gaps of the rules in force only, as a
// live scan with the same rules would have read them.
void Scanner::narrow_to_rules(ClusterInfo& c) const {
  const std::vector<std::string> counted = kube::counted_kinds();
  auto needed = [&](const std::string& kind) {
    return fact_kinds_.count(kind) > 0 ||
           std::find(counted.begin(), counted.end(), kind) != counted.end();
  };
  std::erase_if(c.kinds_not_served, [&](const std::string& k) { return !needed(k); });
  std::erase_if(c.coverage, [&](const CoverageGap& g) { return !needed(g.kind); });
  for (CoverageGap& g : c.coverage)
    std::erase_if(g.rules, [&](const std::string& id) {
      return std::none_of(rules_.begin(), rules_.end(), [&](const Rule* r) { return r->id == id; });
    });
}

std::vector<std::string> kinds_needed(const std::vector<const Rule*>& rules,
                                      const PodSpecTable& pod_specs) {
  std::vector<std::string> kinds;
  auto add = [&](const std::string& k) {
    if (k == "workloads") {
      for (const std::string& wk : pod_specs.kinds())
        if (std::find(kinds.begin(), kinds.end(), wk) == kinds.end()) kinds.push_back(wk);
    } else if (k != "*" && std::find(kinds.begin(), kinds.end(), k) == kinds.end()) {
      kinds.push_back(k);
    }
  };
  for (const Rule* r : rules) {
    if (r->cluster_compiled) continue;
    for (const std::string& k : r->kinds) add(k);
    if (r->set_compiled)
      for (const std::string& k : r->set_compiled->needs_kinds()) add(k);
    if (r->deferral == Deferral::SelectedByService) add("Service");
  }
  return kinds;
}

namespace {

// An empty list in an exemption matches everything.
bool matches_any(const std::vector<std::string>& patterns, std::string_view text) {
  return patterns.empty() || any_glob(patterns, text);
}

bool matches_any_path(const std::vector<std::string>& patterns, std::string_view path) {
  return patterns.empty() ||
         std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return path_glob_match(p, path); });
}

// A rule selector in an exemption: id, category, tag, or "*"/"all".
bool selects_rule(const std::vector<std::string>& selectors, const Rule& rule) {
  if (selectors.empty()) return true;
  for (const std::string& s : selectors)
    if (s == "*" || s == "all" || s == rule.id || s == to_string(rule.category) || rule.has_tag(s))
      return true;
  return false;
}

// "mode: ..." (a declared parameter) reads as params.mode: ...; a template's
// own message ("fixedIn and advisory are required") as params: ...
std::string param_suffix(const std::string& message) {
  const auto colon = message.find(": ");
  const bool named = colon != std::string::npos && message.find(' ') > colon;
  return (named ? "." : ": ") + message;
}

}  // namespace

Scanner::Scanner(const Catalog& catalog, ScanOptions options)
    : options_(std::move(options)), categories_(catalog.categories().all()) {
  if (options_.today.empty()) options_.today = utc_today();
  apply_overrides(catalog);
  for (const auto& r : catalog.rules()) {
    const Rule* rule = r.get();
    for (const auto& owned : owned_rules_)
      if (owned->id == rule->id) rule = owned.get();
    if (rule_selected(*rule, options_)) rules_.push_back(rule);
  }
  pair_overridden_rules();
  for (const auto& r : catalog.rules()) {
    known_selectors_.push_back(r->id);
    known_selectors_.insert(known_selectors_.end(), r->tags.begin(), r->tags.end());
  }
  for (Category c : catalog.categories().all()) known_selectors_.emplace_back(c.id());
  known_selectors_.insert(known_selectors_.end(), {"*", "all"});
  std::sort(known_selectors_.begin(), known_selectors_.end());
  known_selectors_.erase(std::unique(known_selectors_.begin(), known_selectors_.end()), known_selectors_.end());
  std::vector<std::string_view> ids;
  for (const auto& r : catalog.rules()) ids.push_back(r->id);
  for (const auto& [id, o] : options_.overrides)
    if (!catalog.find(id))
      setup_errors_.push_back({o.origin, 0, 0, "rules: no rule named '" + id + "'" + did_you_mean(id, ids)});
  validate_exemption_rules();
  // Index object rules by kind so an object only meets the rules that can apply.
  std::vector<std::string> kinds;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule* r = rules_[i];
    if (r->set_compiled) {
      set_rules_.push_back(i);
      continue;
    }
    if (r->cluster_compiled) {
      cluster_rules_.push_back(i);
      continue;
    }
    for (const std::string& k : r->kinds) {
      if (k == "workloads") {
        for (const std::string& wk : options_.pod_specs.kinds()) kinds.push_back(wk);
      } else if (k != "*") {
        kinds.push_back(k);
      }
    }
    if (std::find(r->kinds.begin(), r->kinds.end(), "*") != r->kinds.end()) any_kind_.push_back(i);
  }
  for (const std::string& k : kinds) {
    if (by_kind_.count(k)) continue;
    std::vector<std::size_t>& list = by_kind_[k];
    for (std::size_t i = 0; i < rules_.size(); ++i)
      if (rules_[i]->compiled && kind_matches(*rules_[i], k)) list.push_back(i);
  }
  for (std::string& k : kinds_needed(rules_, options_.pod_specs)) fact_kinds_.insert(std::move(k));
  // Exemptions that have expired are reported once and not applied.
  auto& ex = options_.exemptions;
  for (auto it = ex.begin(); it != ex.end();) {
    if (!it->until.empty() && it->until < options_.today) {
      expired_.push_back({it->origin, 0, 0,
                          "exemption expired on " + it->until + " (" + it->reason +
                              "); its checks apply again"});
      it = ex.erase(it);
    } else {
      ++it;
    }
  }
  exemptions_by_rule_.resize(rules_.size());
  for (std::size_t i = 0; i < rules_.size(); ++i)
    for (const ExemptionRule& x : options_.exemptions)
      if (selects_rule(x.rules, *rules_[i]) &&
          (x.except_rules.empty() || !selects_rule(x.except_rules, *rules_[i])))
        exemptions_by_rule_[i].push_back(&x);
}

// At restricted, a baseline control (B) overridden by a restricted one (R)
// judges only what R also rejects (R's verdict is upstream's), and of the
// violations both see the more severe rule reports them, B on a tie: a
// hostPath volume stays a high pss-host-path-volumes finding under
// restricted, and an exemption naming B covers it at every level. Without R
// in force (--only), B is not either, as upstream.
void Scanner::pair_overridden_rules() {
  std::vector<const Rule*> kept;
  for (const Rule* r : rules_) {
    const bool overridden = options_.pss_level == PssLevel::Restricted && r->pss_overridden_from >= 0 &&
                            options_.pss_minor >= r->pss_overridden_from;
    if (!overridden) {
      kept.push_back(r);
      continue;
    }
    const auto by = std::find_if(rules_.begin(), rules_.end(),
                                 [&](const Rule* x) { return x->id == r->pss_overridden_by; });
    if (by == rules_.end() || (*by)->severity > r->severity) continue;  // R alone reports
    kept.push_back(r);
  }
  rules_ = std::move(kept);
  overlap_.assign(rules_.size(), Overlap{});
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const Rule* b = rules_[i];
    if (b->pss_overridden_by.empty() || options_.pss_level != PssLevel::Restricted ||
        options_.pss_minor < b->pss_overridden_from)
      continue;
    for (std::size_t j = 0; j < rules_.size(); ++j)
      if (rules_[j]->id == b->pss_overridden_by) {
        overlap_[i] = {j, true};   // B keeps only what R also rejects
        overlap_[j] = {i, false};  // R leaves those to B
      }
  }
}

void Scanner::share_violations(std::size_t rule_index, const CheckInput& in, Outcome& outcome,
                               std::vector<Violation>& violations, OverlapMemo& memo) const {
  const Overlap& o = overlap_[rule_index];
  if (o.partner == Overlap::kNone) return;
  const bool memo_hit = memo.serial == in.ctx.object() && memo.rule == o.partner;
  // The first of a pair on this object leaves its verdict for the second, so
  // the common case (the baseline rule passes) costs no second evaluation.
  if (o.partner > rule_index) {
    memo.serial = in.ctx.object();
    memo.rule = rule_index;
    memo.outcome = outcome;
    memo.violations.clear();
    if (outcome == Outcome::Fail) memo.violations = violations;
  }
  if (outcome != Outcome::Fail) return;
  std::vector<Violation> evaluated;
  Outcome partner_outcome = memo_hit ? memo.outcome : Outcome::NotApplicable;
  if (!memo_hit) partner_outcome = rules_[o.partner]->compiled->evaluate(in, evaluated);
  const std::vector<Violation>& theirs = memo_hit ? memo.violations : evaluated;
  auto shared = [&](const Violation& v) {
    if (partner_outcome != Outcome::Fail) return false;
    return std::any_of(theirs.begin(), theirs.end(), [&](const Violation& t) {
      return t.path == v.path && t.container == v.container;
    });
  };
  violations.erase(std::remove_if(violations.begin(), violations.end(),
                                  [&](const Violation& v) { return shared(v) != o.keep_shared; }),
                   violations.end());
  if (violations.empty()) outcome = Outcome::Pass;
}

void Scanner::apply_overrides(const Catalog& catalog) {
  RegexCache regexes;
  for (const auto& [id, o] : options_.overrides) {
    const Rule* base = catalog.find(id);
    if (!base || (!o.severity && !o.params)) continue;
    auto rule = std::make_unique<Rule>();
    static_cast<RuleMeta&>(*rule) = *base;
    if (o.severity) rule->severity = *o.severity;
    const Node* params = base->params;
    if (o.params) params = merge_params(base->params, o.params);
    // Only the config's own entries can be wrong (the rule's were checked
    // at load), so each problem points into the config file.
    std::vector<ParamProblem> problems;
    if (!compile_rule(*rule, params, problems, &regexes)) {
      for (const ParamProblem& p : problems) {
        const Node* at = p.at ? p.at : o.params;
        setup_errors_.push_back({o.file.empty() ? o.origin : o.file, at ? at->line : 0,
                                 at ? at->column : 0, "rules." + id + ".params" + param_suffix(p.message)});
      }
      continue;
    }
    rule->params = params;
    owned_rules_.push_back(std::move(rule));
  }
}

// Config params win key by key over the rule's own.
const Node* Scanner::merge_params(const Node* base, const Node* over) {
  std::vector<MapEntry> merged(over->entries().begin(), over->entries().end());
  for (const MapEntry& e : entries(base)) {
    bool overridden = false;
    for (const MapEntry& o : over->entries()) overridden |= o.key->text() == e.key->text();
    if (!overridden) merged.push_back(e);
  }
  auto* out = static_cast<MapEntry*>(arena_.allocate(sizeof(MapEntry) * std::max<std::size_t>(merged.size(), 1), alignof(MapEntry)));
  std::copy(merged.begin(), merged.end(), out);
  auto* node = new (arena_.allocate(sizeof(Node), alignof(Node))) Node{};
  node->type = NodeType::Map;
  node->data = out;
  node->size = static_cast<std::uint32_t>(merged.size());
  node->line = over->line;
  node->column = over->column;
  return node;
}

bool Scanner::kind_matches(const Rule& rule, std::string_view kind) const {
  for (const std::string& k : rule.kinds) {
    if (k == "*" || k == kind) return true;
    if (k == "workloads" && options_.pod_specs.find(kind)) return true;
  }
  return false;
}

const std::vector<std::size_t>& Scanner::rules_for(std::string_view kind) const {
  auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? any_kind_ : it->second;
}

// A verdict held back until the whole input is known (see Deferral and
// owner de-duplication).
struct Provisional {
  std::size_t object;
  std::size_t rule;
  Result result;
  std::vector<Finding> findings;
};

struct Scanner::FileOutcome {
  std::vector<RuleTally> tallies;
  std::map<std::string, std::uint64_t, std::less<>> kinds;
  std::uint64_t objects = 0;
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  // Deques, not vectors: they grow while the whole input file is still in
  // memory, and a vector's doubling would briefly hold two copies at the
  // scan's memory peak.
  std::deque<Finding> findings;
  // The objects' errors (error_capped[i]: one the per-file cap applies to;
  // missing: it does not) and the loader's: finish() lists each input's
  // under the cap, also when it came in pieces.
  std::vector<InputError> errors;
  std::vector<char> error_capped;
  std::vector<InputError> load_errors;
  std::size_t errors_dropped = 0;
  bool continues = false;  // a later piece of the previous outcome's input
  std::vector<InputError> warnings;
  Inventory inventory;
  std::deque<Provisional> provisional;
  std::optional<ClusterInfo> cluster;  // from a snapshot's List envelope
  std::string path;  // the file as named in the report
  std::string base;  // the input directory it was found in; "" for a file named as input
  std::string top;   // its top-level folder under that directory; "" for files directly in it
  bool walked = false;  // found by a directory walk: non-objects are skipped
  std::vector<InputError> skipped;
};

struct Scanner::ScanInput {
  std::string path;  // as the report names it
  std::string base;  // see FileOutcome
  std::string top;
  bool walked = false;
  // Gives the input's bytes, or false and why they cannot be read.
  std::function<bool(std::string& content, std::string& error)> read;
};

namespace {

void tally(RuleTally& t, Result r) {
  ++t.evaluated;
  switch (r) {
    case Result::Pass: ++t.passed; break;
    case Result::Fail: ++t.failed; break;
    case Result::Exempt:
      --t.evaluated;  // exempted checks count neither way
      ++t.exempted;
      break;
  }
}

}  // namespace

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has_manifest_extension(const std::filesystem::path& p) {
  const std::string ext = lower(p.extension().string());
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Files a repository holds beside its manifests that are YAML or JSON but
// never Kubernetes objects (several carry an apiVersion, so content alone
// cannot tell): why a directory walk leaves each out.
std::string_view known_non_manifest(std::string_view file_name) {
  const std::string full = lower(file_name);
  const std::string_view name = full;
  const std::string_view stem = name.substr(0, name.rfind('.'));
  if (stem == "chart" || name == "requirements.yaml" || name == "requirements.lock" ||
      name == "chart.lock")
    return "Helm chart metadata, not a Kubernetes object";
  if (starts_with(stem, "values")) return "Helm values, not a Kubernetes object";
  if (stem == "kustomization") return "kustomize configuration, not a Kubernetes object";
  if (stem == "helmfile" || stem == "skaffold" || stem == "tilt_config" || stem == "devspace")
    return "deployment tool configuration, not a Kubernetes object";
  if (starts_with(stem, "docker-compose") || stem == "compose" || starts_with(stem, "compose."))
    return "Docker Compose file, not a Kubernetes object";
  if (stem == "mkdocs") return "MkDocs configuration, not a Kubernetes object";
  if (starts_with(stem, "openapi") || starts_with(stem, "swagger"))
    return "OpenAPI specification, not a Kubernetes object";
  if (stem == "action" || stem == "azure-pipelines" || stem == "bitbucket-pipelines" ||
      stem == "cloudbuild" || stem == "buildspec" || stem == "appveyor" || stem == "codecov" ||
      stem == "taskfile" || stem == "serverless" || stem == "dependabot" || stem == "renovate")
    return "CI or tooling configuration, not a Kubernetes object";
  if (stem == "package" || stem == "package-lock" || stem == "composer" || stem == "pnpm-lock" ||
      starts_with(stem, "tsconfig") || stem == "environment" || stem == "pubspec")
    return "package manager file, not a Kubernetes object";
  if (stem == "catalog-info") return "Backstage catalog entry, not a Kubernetes object";
  return {};
}

// `rel` (relative to the walked folder, '/' separated) matched by one of the
// exclude globs: a glob without '/' matches the last path element.
const std::string* excluded_by(const std::vector<std::string>& globs, std::string_view rel,
                               bool directory) {
  const std::string_view name = rel.substr(rel.rfind('/') + 1);
  for (const std::string& g : globs) {
    std::string_view pattern = g;
    if (starts_with(pattern, "./")) pattern.remove_prefix(2);
    const bool anchored = pattern.find('/') != std::string_view::npos;
    if (!anchored ? path_glob_match(pattern, name)
                  : path_glob_match(pattern, rel) ||
                        (directory && path_glob_match(pattern, std::string(rel) + "/")))
      return &g;
  }
  return nullptr;
}

// A walked document is a Kubernetes object when it is a mapping naming an
// apiVersion or a kind; one that names either but is broken stays an error.
bool looks_like_object(const Node* root) {
  return root && root->is_map() && (root->get("apiVersion") || root->get("kind"));
}

// A large input is read into transparent huge pages where the kernel allows
// them on request: a 70 MB snapshot then takes some 35 page faults instead
// of 17,000, a measurable share of a scan. Called before the bytes are touched.
void advise_huge_pages(std::string& content) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (content.capacity() < 2 * kHuge) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(content.data());
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + content.capacity()) & ~(kHuge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

std::string file_type(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

std::string too_large(std::string_view what, std::size_t limit) {
  return std::string(what) + " is larger than the file size limit (" + format_bytes(limit) +
         ", --max-file-size); not scanned";
}

// Reads a regular file, or stdin, of at most `max_bytes`. Devices, FIFOs and
// sockets given as paths are refused (`kguard scan /dev/zero` would read
// forever); stdin is read in blocks and given up past the limit.
bool read_input(const std::string& path, std::size_t max_bytes, std::string& content,
                std::string& error) {
  const bool is_stdin = path == "-";
  // O_NONBLOCK: opening a FIFO without a writer must not hang before fstat.
  const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot open file: ") + std::strerror(errno);
    return false;
  }
  struct Closer {
    int fd;
    bool close_it;
    ~Closer() {
      if (close_it) ::close(fd);
    }
  } closer{fd, !is_stdin};
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    error = std::string("cannot read file: ") + std::strerror(errno);
    return false;
  }
  if (!is_stdin && !S_ISREG(st.st_mode)) {
    error = "not a regular file (" + file_type(st.st_mode) +
            "); kguard reads regular files, directories and - (stdin)";
    return false;
  }
  if (S_ISREG(st.st_mode)) {
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size > max_bytes) {
      error = too_large("file of " + format_bytes(size), max_bytes);
      return false;
    }
    content.reserve(size);
    advise_huge_pages(content);
    content.resize(size);
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = ::read(fd, content.data() + got, size - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = std::string("cannot read file: ") + std::strerror(errno);
        return false;
      }
      if (n == 0) break;  // the file shrank
      got += static_cast<std::size_t>(n);
    }
    content.resize(got);
    if (!is_stdin) return true;
    // stdin redirected from a file: read on in case it grew.
  }
  // A pipe: blocks of 1 MiB, joined once at the end (no doubling copies).
  constexpr std::size_t kBlock = std::size_t{1} << 20;
  std::vector<std::string> blocks;
  std::size_t total = content.size();
  for (;;) {
    std::string block(kBlock, '\0');
    std::size_t used = 0;
    while (used < kBlock) {
      const ssize_t n = ::read(fd, block.data() + used, kBlock - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = std::string("cannot read stdin: ") + std::strerror(errno);
        return false;
      }
      if (n == 0) break;
      used += static_cast<std::size_t>(n);
    }
    total += used;
    if (total > max_bytes) {
      error = too_large("input of more than " + format_bytes(max_bytes), max_bytes);
      content.clear();
      content.shrink_to_fit();
      return false;
    }
    block.resize(used);
    const bool done = used < kBlock;
    if (used > 0) blocks.push_back(std::move(block));
    if (done) break;
  }
  content.reserve(total);
  for (std::string& b : blocks) {
    content += b;
    std::string().swap(b);
  }
  return true;
}

}  // namespace

// The top-level folder of `file` under the input directory it was found in
// ("examples/insecure" for examples/insecure/api.yaml scanned as examples/);
// "" for files named on the command line or lying directly in an input directory.
static std::pair<std::string, std::string> input_folders(const std::string& file,
                                                         const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    if (p == "-" || p == file) continue;
    std::error_code ec;
    if (!fs::is_directory(p, ec)) continue;
    std::string dir = p;
    if (dir.back() != '/') dir += '/';
    if (file.compare(0, dir.size(), dir) != 0) continue;
    const std::size_t slash = file.find('/', dir.size());
    return {p, slash == std::string::npos ? std::string() : file.substr(0, slash)};
  }
  return {};
}

std::vector<InputFile> expand_inputs(const std::vector<std::string>& paths, const ScanOptions& options,
                                     std::vector<InputError>& errors, std::vector<InputError>& skipped) {
  namespace fs = std::filesystem;
  std::vector<InputFile> files;
  std::error_code cfg_ec;
  const fs::path config =
      options.config_file.empty() ? fs::path() : fs::weakly_canonical(options.config_file, cfg_ec);
  for (const std::string& p : paths) {
    if (p == "-") {
      files.push_back({p, false});
      continue;
    }
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      errors.push_back({p, 0, 0, "no such file or directory"});
      continue;
    }
    if (!fs::is_directory(st)) {
      files.push_back({p, false});  // named on the command line: always read
      continue;
    }
    std::vector<InputFile> found;
    std::vector<InputError> left_out;
    auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::end(it); it.increment(ec)) {
      const fs::path& path = it->path();
      const std::string name = path.filename().string();
      const std::string rel = path.lexically_relative(p).generic_string();
      const bool dir = it->is_directory(ec);
      auto skip = [&](std::string reason) {
        if (dir) it.disable_recursion_pending();
        left_out.push_back({path.string(), 0, 0, std::move(reason)});
      };
      if (dir) {
        if (name.size() > 1 && name[0] == '.') {
          skip("hidden folder, not walked");
        } else if (const std::string* g = excluded_by(options.exclude, rel, true)) {
          skip("excluded by '" + *g + "'");
        } else if (name == "templates" && fs::exists(path.parent_path() / "Chart.yaml", ec)) {
          skip("Helm chart templates: render them (helm template) and scan the output");
        }
        continue;
      }
      if (!it->is_regular_file(ec) || !has_manifest_extension(path)) continue;
      if (!config.empty() && path.filename() == config.filename()) {
        std::error_code c_ec;
        if (fs::weakly_canonical(path, c_ec) == config) {
          skip("the kguard configuration file");
          continue;
        }
      }
      if (name[0] == '.') {
        skip(name == ".kguard.yaml" || name == ".kguard.yml" ? "the kguard configuration file"
                                                             : "hidden file");
      } else if (const std::string* g = excluded_by(options.exclude, rel, false)) {
        skip("excluded by '" + *g + "'");
      } else if (std::string_view why = known_non_manifest(name); !why.empty()) {
        skip(std::string(why));
      } else {
        found.push_back({path.string(), true});
      }
    }
    if (ec) errors.push_back({p, 0, 0, "cannot walk directory: " + ec.message()});
    std::sort(found.begin(), found.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    std::sort(left_out.begin(), left_out.end(),
              [](const InputError& a, const InputError& b) { return a.file < b.file; });
    files.insert(files.end(), found.begin(), found.end());
    skipped.insert(skipped.end(), left_out.begin(), left_out.end());
  }
  return files;
}

Scanner::Exemption Scanner::exemption_for(std::size_t rule_index, const ObjectFacts& facts,
                                          std::span<const Violation> violations,
                                          std::vector<bool>& exempt,
                                          std::vector<InputError>& warnings) const {
  exempt.assign(violations.size(), false);
  Exemption e;
  if (!options_.use_exemptions) return e;
  const Rule& rule = *rules_[rule_index];
  if (facts.exemption && !facts.exemption->rejected && options_.use_annotation_exemptions &&
      selects_rule(facts.exemption->rules, rule)) {
    const ExemptionMark& m = *facts.exemption;
    if (!m.until.empty() && m.until < options_.today) {
      const std::string msg = facts.kind + "/" + facts.name + ": exemption (kguard.io/exempt) expired on " +
                              m.until + "; its checks apply again";
      if (warnings.empty() || warnings.back().message != msg)
        warnings.push_back({facts.file(), m.line, m.column, msg});
    } else {
      e.exempt = true;
      e.reason = m.reason.empty() ? "exempted by the kguard.io/exempt annotation" : m.reason;
      e.until = m.until;
      e.in_source = true;
      return e;
    }
  }
  for (const ExemptionRule* xp : exemptions_by_rule_[rule_index]) {
    const ExemptionRule& x = *xp;
    if (!matches_any(x.namespaces, facts.ns) || !matches_any(x.names, facts.name) ||
        !matches_any_path(x.files, facts.file()))
      continue;
    if (!x.kinds.empty() && std::find(x.kinds.begin(), x.kinds.end(), facts.kind) == x.kinds.end())
      continue;
    if (x.containers.empty()) {
      e.exempt = true;
      e.reason = x.reason;
      e.until = x.until;
      return e;
    }
    // A violation without a container (pod-level) is never container-exempted.
    bool all = !violations.empty();
    for (std::size_t i = 0; i < violations.size(); ++i) {
      if (exempt[i]) continue;  // by an earlier exemption
      const std::string& c = violations[i].container;
      if (!c.empty() && matches_any(x.containers, c)) {
        exempt[i] = true;
        e.reason = x.reason;
        e.until = x.until;
      } else {
        all = false;
      }
    }
    if (all) {
      e.exempt = true;
      return e;
    }
  }
  return e;
}

namespace {

// The engine's own per-thread scratch, kept in the EvalContext with the
// checks' so nothing is reallocated per object.
struct EvalScratch {
  std::vector<ContainerRef> containers;
  std::vector<Violation> violations;
  std::vector<bool> exempt;  // parallel to violations: the container is exempted
  std::vector<Finding> rows;
  Scanner::OverlapMemo overlap;  // the first of an overlapping PSS pair's verdict
};

}  // namespace

template <class OnVerdict>
void Scanner::evaluate(const Object& obj, const PodView& pod, const ObjectFacts& facts,
                       std::size_t object_index, bool lone, EvalContext& ctx,
                       std::vector<InputError>& warnings, OnVerdict&& on_verdict) const {
  EvalScratch& s = ctx.local<EvalScratch>();
  s.containers = containers_of(pod);
  ctx.begin_object();
  const CheckInput in{obj,
                      pod,
                      options_.pss_minor,
                      options_.pss_level,
                      s.containers,
                      ctx,
                      options_.kubernetes_minor,
                      options_.cluster_version};
  for (std::size_t ri : rules_for(obj.kind)) {
    const Rule& rule = *rules_[ri];
    if (lone && rule.deferral != Deferral::None) continue;  // no Service selects a lone object
    s.violations.clear();
    Outcome outcome = rule.compiled->evaluate(in, s.violations);
    if (outcome == Outcome::NotApplicable) continue;
    share_violations(ri, in, outcome, s.violations, s.overlap);
    if (outcome == Outcome::Fail && s.violations.empty())
      s.violations.push_back(Violation{rule.title, nullptr, {}, {}});
    Exemption ex = exemption_for(ri, facts, s.violations, s.exempt, warnings);
    const Result result = ex.exempt ? Result::Exempt
                          : outcome == Outcome::Pass ? Result::Pass
                                                     : Result::Fail;
    // The rows of the verdict: one per violation when it failed (also when
    // exempted) except those whose container is exempted; the pass row only
    // when passes are shown.
    s.rows.clear();
    if (result != Result::Pass || options_.show_passed) {
      Finding proto;
      proto.rule = &rule;
      proto.result = result;
      proto.kind = facts.kind;
      proto.ns = facts.ns;
      proto.name = facts.name;
      proto.location.file = facts.file();
      proto.location.line = obj.line;
      proto.location.column = obj.column;
      proto.object = object_index;
      proto.exemption_reason = std::move(ex.reason);
      proto.exemption_until = std::move(ex.until);
      proto.exemption_in_source = ex.in_source;
      if (result == Result::Pass) {
        s.rows.push_back(std::move(proto));
      } else if (outcome == Outcome::Fail) {
        for (std::size_t i = 0; i < s.violations.size(); ++i) {
          if (s.exempt[i]) continue;
          Violation& v = s.violations[i];
          Finding f = proto;
          f.container = std::move(v.container);
          f.message = std::move(v.message);
          f.location.path = std::move(v.path);
          if (v.at) {
            f.location.line = v.at->line;
            f.location.column = v.at->column;
          }
          s.rows.push_back(std::move(f));
        }
      }
    }
    on_verdict(ri, result, s.rows);
  }
}

// The identities of the objects seen so far in the pieces of one input
// (split_input), which run on several workers: a child is skipped when its
// controller was seen in any of them (finish() would drop its verdicts).
struct Scanner::SharedSeen {
  std::mutex mu;
  std::unordered_set<std::string> keys;
};

void Scanner::scan_file(SourceFile& file, EvalContext& ctx, FileOutcome& out, SharedSeen* shared) const {
  out.tallies.assign(rules_.size(), RuleTally{});
  out.bytes = file.text().size();
  std::vector<Object> objects;
  // "Kind/ns/name" of the objects seen so far in this file, keyed as
  // Inventory::has_object keys them. A child whose controller came earlier in
  // the file (a snapshot lists a Deployment before its ReplicaSets and Pods)
  // would be dropped by finish() anyway: it is not evaluated at all.
  std::unordered_set<std::string> seen;
  std::string key;
  auto identity = [&](std::string_view kind, std::string_view ns, std::string_view name) -> const std::string& {
    key.clear();
    key.append(kind).append("/").append(ns).append("/").append(name);
    return key;
  };
  auto controller_seen = [&](const ObjectFacts& f) {
    std::unique_lock<std::mutex> lock;
    if (shared) lock = std::unique_lock(shared->mu);
    for (const ObjectFacts::Owner& o : f.owners)
      if ((o.controller || f.owners.size() == 1) &&
          (shared ? shared->keys : seen).count(identity(o.kind, f.ns, o.name)))
        return true;
    return false;
  };
  // Errors are capped per file: the loader's in `file`, the objects' here,
  // each to the cap while streaming, then to the cap together below.
  const std::size_t max_errors = options_.limits.max_errors_per_file;
  file.max_errors = max_errors;
  std::size_t object_errors_dropped = 0;
  std::vector<InputError> doc_errors;
  auto keep_errors = [&] {
    for (InputError& e : doc_errors) {
      if (out.errors.size() < max_errors) {
        out.error_capped.resize(out.errors.size(), 0);
        out.errors.push_back(std::move(e));
        out.error_capped.push_back(1);
      } else {
        ++object_errors_dropped;
      }
    }
    doc_errors.clear();
  };
  stream_documents(file, options_.limits, [&](const Document& doc) {
    if (doc.list_index < 0) ++out.documents;
    // A kguard snapshot's envelope carries what was read from the cluster.
    if (doc.list_index < 0 && doc.root && str(get(doc.root, "kind")) == "List")
      if (const Node* snap = get(doc.root, "kguardSnapshot"); snap && !out.cluster)
        out.cluster = parse_cluster_info(file.path, *snap, doc_errors);
    if (out.walked && doc.list_index < 0 && !looks_like_object(doc.root)) {
      if (doc.root && !doc.root->is_null())
        out.skipped.push_back({file.path, doc.root->line, doc.root->column,
                               "not a Kubernetes object (no apiVersion or kind)"});
      return;
    }
    objects.clear();
    collect_objects(file, doc, objects, doc_errors);
    keep_errors();
    for (const Object& obj : objects) {
      ++out.objects;
      auto kit = out.kinds.find(obj.kind);
      if (kit == out.kinds.end()) kit = out.kinds.emplace(std::string(obj.kind), 0).first;
      ++kit->second;
      const PodView pod = pod_view(obj, options_.pod_specs);
      const std::size_t local =
          out.inventory.add(obj, pod, fact_kinds_.find(obj.kind) != fact_kinds_.end());
      const ObjectFacts& facts = out.inventory.objects[local];
      if (facts.exemption) review_exemption(*facts.exemption, facts, out.errors);
      // A stray namespace on a ClusterRole is ignored by the API server.
      identity(facts.kind, facts.kind == "ClusterRole" ? std::string_view{} : facts.ns, facts.name);
      if (shared) {
        const std::lock_guard lock(shared->mu);
        shared->keys.insert(key);
      } else {
        seen.insert(key);
      }
      // An object with owners may be a controller's child (a Pod of a
      // ReplicaSet): its verdicts wait until we know whether the owner is here.
      const bool owned = !facts.owners.empty();
      // Its findings belong to a controller already seen: nothing to evaluate.
      // (An object with an exemption annotation is still evaluated, so an
      // expired one is reported as before.)
      if (owned && !facts.exemption && controller_seen(facts)) continue;
      evaluate(obj, pod, facts, local, false, ctx, out.warnings,
               [&](std::size_t ri, Result result, std::vector<Finding>& rows) {
                 if (owned || rules_[ri]->deferral != Deferral::None) {
                   out.provisional.push_back({local, ri, result, std::move(rows)});
                   return;
                 }
                 tally(out.tallies[ri], result);
                 for (Finding& f : rows) out.findings.push_back(std::move(f));
               });
    }
  });
  // Capped with the rest of the input's in finish().
  out.load_errors = std::move(file.errors);
  file.errors.clear();
  out.errors_dropped = object_errors_dropped + file.errors_dropped;
}

namespace {

// Commits set-level verdicts into the result, applying exemptions. With
// several reference scopes the inventory is one scope's part of the input:
// `global_of` maps its objects back to input order, and only the objects the
// scope owns get verdicts (the others are context it may refer to).
class ResultSink final : public SetSink {
 public:
  using Exempt = std::function<bool(std::size_t object, std::string& reason, std::string& until,
                                    bool& in_source)>;
  using Count = std::function<void(std::size_t global, Result res)>;
  ResultSink(ScanResult& r, std::deque<Finding>& out, const Inventory& inv, std::size_t rule_index,
             bool show_passed, Exempt exempt, Count count, const std::vector<std::size_t>* global_of = nullptr,
             const std::vector<char>* owned = nullptr)
      : r_(r), out_(out), inv_(inv), rule_index_(rule_index), show_passed_(show_passed),
        exempt_(std::move(exempt)), count_(std::move(count)), global_of_(global_of), owned_(owned) {}

  void pass(std::size_t object) override {
    if (owned_ && !(*owned_)[object]) return;
    std::string reason, until;
    bool in_source = false;
    const Result res = exempt_(object, reason, until, in_source) ? Result::Exempt : Result::Pass;
    count_(global(object), res);
    if (res == Result::Pass && show_passed_) out_.push_back(make(object, res, {}, reason, until, in_source));
  }
  void fail(std::size_t object, std::vector<SetViolation> violations) override {
    if (owned_ && !(*owned_)[object]) return;
    std::string reason, until;
    bool in_source = false;
    const Result res = exempt_(object, reason, until, in_source) ? Result::Exempt : Result::Fail;
    count_(global(object), res);
    for (SetViolation& v : violations) out_.push_back(make(object, res, std::move(v), reason, until, in_source));
  }

 private:
  std::size_t global(std::size_t object) const { return global_of_ ? (*global_of_)[object] : object; }
  Finding make(std::size_t object, Result res, SetViolation v, const std::string& reason,
               const std::string& until, bool in_source) const {
    const ObjectFacts& o = inv_.objects[object];
    Finding f;
    f.rule = r_.rules[rule_index_];
    f.result = res;
    f.kind = o.kind;
    f.ns = o.ns;
    f.name = o.name;
    f.container = std::move(v.container);
    f.message = std::move(v.message);
    f.location.file = o.file();
    f.location.line = v.line ? v.line : o.line;
    f.location.column = v.line ? v.column : o.column;
    f.location.path = join_path(o.path_prefix, v.path);
    f.exemption_reason = reason;
    f.exemption_until = until;
    f.exemption_in_source = in_source;
    f.object = global(object);
    return f;
  }

  ScanResult& r_;
  std::deque<Finding>& out_;
  const Inventory& inv_;
  std::size_t rule_index_;
  bool show_passed_;
  Exempt exempt_;
  Count count_;
  const std::vector<std::size_t>* global_of_;
  const std::vector<char>* owned_;
};

// apiVersion group/kind/namespace/name: what the API server treats as one
// object (a stray namespace on a cluster-scoped ClusterRole is ignored).
std::string object_identity(const ObjectFacts& f) {
  const std::size_t slash = f.api_version.find('/');
  std::string key = slash == std::string::npos ? std::string() : f.api_version.substr(0, slash);
  key.append("/").append(f.kind).append("/");
  if (f.kind != "ClusterRole" && f.kind != "ClusterRoleBinding" && f.kind != "Namespace") key.append(f.ns);
  key.append("/").append(f.name);
  return key;
}

std::string describe_object(const ObjectFacts& f) {
  return f.kind + " " + (f.ns.empty() ? std::string() : f.ns + "/") + f.name;
}

}  // namespace

ScanResult Scanner::finish(std::vector<std::string> inputs,
                           std::vector<FileOutcome>& outcomes) const {
  ScanResult r;
  r.engine = "scan";
  r.inputs = std::move(inputs);
  r.policy = "Pod Security Standards";
  r.facts = {{"pss", std::string(to_string(options_.pss_level))},
             {"pssVersion", "v1." + std::to_string(options_.pss_minor)}};
  r.rules.assign(rules_.begin(), rules_.end());
  r.categories = categories_;
  r.tallies.assign(rules_.size(), RuleTally{});
  r.warnings = expired_;

  // Reference scopes, decided before the files merge. Scopes form a tree:
  // the files named on the command line (and stdin) above every input
  // directory, each input directory's own files above its top-level folders.
  // A scope sees its ancestors and descendants, never its siblings.
  ScopeMode mode = options_.scope;
  const bool cluster_read = std::any_of(outcomes.begin(), outcomes.end(),
                                        [](const FileOutcome& o) { return o.cluster.has_value(); });
  if (cluster_read) mode = ScopeMode::All;  // one cluster is one set, whatever the flag says
  struct ScopeNode {
    std::string name;
    std::int32_t parent = -1;
  };
  std::vector<ScopeNode> nodes;
  std::vector<std::uint32_t> file_scope(outcomes.size(), 0);
  auto build = [&](ScopeMode m) {
    nodes.clear();
    std::map<std::string, std::uint32_t, std::less<>> ids;
    auto node = [&](const std::string& key, std::int32_t parent) {
      auto [it, fresh] = ids.emplace(key, static_cast<std::uint32_t>(nodes.size()));
      if (fresh) nodes.push_back({key, parent});
      return it->second;
    };
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      const FileOutcome& o = outcomes[i];
      if (m == ScopeMode::File) {
        file_scope[i] = node("\x01" + o.path, -1);
        nodes[file_scope[i]].name = o.path;
        continue;
      }
      std::uint32_t at = node("", -1);
      if (!o.base.empty()) at = node(o.base, static_cast<std::int32_t>(at));
      if (!o.top.empty()) at = node(o.top, static_cast<std::int32_t>(at));
      file_scope[i] = at;
    }
  };
  auto related = [&](std::uint32_t a, std::uint32_t b) {
    auto ancestor = [&](std::uint32_t x, std::uint32_t y) {  // x is y or above it
      for (std::int32_t n = static_cast<std::int32_t>(y); n >= 0; n = nodes[static_cast<std::size_t>(n)].parent)
        if (static_cast<std::uint32_t>(n) == x) return true;
      return false;
    };
    return ancestor(a, b) || ancestor(b, a);
  };
  if (mode == ScopeMode::Auto) {
    // Folders of alternatives (insecure/hardened, dev/prod, overlays) define
    // the same objects; folders of one application (deployments/, services/) do not.
    build(ScopeMode::Dir);
    mode = ScopeMode::All;
    std::unordered_map<std::string, std::uint32_t> scope_of_identity;
    for (std::size_t i = 0; i < outcomes.size() && mode == ScopeMode::All; ++i)
      for (const ObjectFacts& f : outcomes[i].inventory.objects) {
        if (f.name.empty()) continue;
        auto [it, fresh] = scope_of_identity.emplace(object_identity(f), file_scope[i]);
        if (!fresh && !related(it->second, file_scope[i])) mode = ScopeMode::Dir;
      }
  }
  r.scope_mode = mode;
  r.scope_auto = options_.scope == ScopeMode::Auto;
  r.messages_zh = &builtin_messages_zh();
  bool scoped = false;
  if (mode != ScopeMode::All) {
    build(mode);
    // Split only when some two scopes holding files cannot see each other.
    std::vector<std::uint32_t> used(file_scope.begin(), file_scope.end());
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    for (std::size_t a = 0; a < used.size() && !scoped; ++a)
      for (std::size_t b = a + 1; b < used.size() && !scoped; ++b) scoped = !related(used[a], used[b]);
  }
  if (scoped)
    for (const ScopeNode& n : nodes) r.scopes.push_back({n.name, 0, std::vector<RuleTally>(rules_.size())});
  auto scope_index = [&](std::uint32_t fs) { return fs; };
  auto add_tally = [](RuleTally& to, const RuleTally& from) {
    to.evaluated += from.evaluated;
    to.passed += from.passed;
    to.failed += from.failed;
    to.exempted += from.exempted;
  };

  Inventory inv;
  std::vector<Provisional> provisional;
  std::size_t total_findings = 0, total_provisional = 0;
  for (const FileOutcome& o : outcomes) {
    total_findings += o.findings.size();
    total_provisional += o.provisional.size();
  }
  provisional.reserve(total_provisional);
  // A large input comes in pieces: room for all of their facts at once.
  if (outcomes.size() > 1) {
    std::size_t objects = 0;
    for (const FileOutcome& o : outcomes) objects += o.inventory.objects.size();
    inv.objects.reserve(objects);
  }
  // Findings are moved into r.findings only once their number is known (the
  // files' own, then the settled and set-level ones gathered in `late`), so
  // the vector is allocated once and never holds two copies while it grows.
  std::vector<std::size_t> bases;
  std::deque<Finding> late;
  // One input's errors (all of its pieces): its objects', then its loader's,
  // the first --max-errors-per-file listed and the rest counted in one line.
  const std::size_t max_errors = options_.limits.max_errors_per_file;
  std::vector<FileOutcome*> input;
  auto list_errors = [&] {
    std::size_t kept = 0, dropped = 0;
    for (FileOutcome* o : input) {
      dropped += o->errors_dropped;
      for (std::size_t j = 0; j < o->errors.size(); ++j) {
        const bool capped = j < o->error_capped.size() && o->error_capped[j];
        if (capped && kept >= max_errors) {
          ++dropped;
          continue;
        }
        r.errors.push_back(std::move(o->errors[j]));
        ++kept;
      }
    }
    for (FileOutcome* o : input)
      for (InputError& e : o->load_errors) {
        if (kept >= max_errors) {
          ++dropped;
          continue;
        }
        r.errors.push_back(std::move(e));
        ++kept;
      }
    if (dropped > 0)
      r.errors.push_back({input.front()->path, 0, 0,
                          std::to_string(dropped) + " more error(s) in this file not listed (only the first " +
                              std::to_string(max_errors) + " are; --max-errors-per-file)"});
    input.clear();
  };
  bool input_cluster = false;  // the input's first piece with a snapshot envelope was seen
  for (std::size_t oi = 0; oi < outcomes.size(); ++oi) {
    FileOutcome& o = outcomes[oi];
    if (!o.continues) {
      if (!input.empty()) list_errors();
      input_cluster = false;
    }
    input.push_back(&o);
    const std::size_t base = inv.objects.size();
    bases.push_back(base);
    for (std::size_t i = 0; i < o.tallies.size(); ++i) add_tally(r.tallies[i], o.tallies[i]);
    if (scoped) {
      ScopeSummary& sc = r.scopes[scope_index(file_scope[oi])];
      for (std::size_t i = 0; i < o.tallies.size(); ++i) add_tally(sc.tallies[i], o.tallies[i]);
      sc.objects += o.objects;
      r.object_scope.insert(r.object_scope.end(), o.inventory.objects.size(), scope_index(file_scope[oi]));
    }
    for (auto& [k, n] : o.kinds) r.kinds[k] += n;
    r.objects += o.objects;
    r.documents += o.documents;
    r.bytes += o.bytes;
    for (Provisional& p : o.provisional) {
      p.object += base;
      for (Finding& f : p.findings) f.object += base;
      provisional.push_back(std::move(p));
    }
    std::deque<Provisional>().swap(o.provisional);
    inv.append(std::move(o.inventory));
    o.inventory = Inventory{};
    if (o.cluster && input_cluster) {
      o.cluster.reset();  // as unsplit: the input's first envelope only
    } else if (o.cluster && !r.cluster) {
      input_cluster = true;
      r.cluster = std::move(o.cluster);
      narrow_to_rules(*r.cluster);
    } else if (o.cluster) {
      input_cluster = true;
      r.warnings.push_back({o.cluster->file, o.cluster->line, o.cluster->column,
                            "several cluster snapshots in the input: the report shows the "
                            "cluster facts of " + r.cluster->file});
    }
    std::move(o.warnings.begin(), o.warnings.end(), std::back_inserter(r.warnings));
    std::move(o.skipped.begin(), o.skipped.end(), std::back_inserter(r.skipped));
  }
  if (!input.empty()) list_errors();

  auto count = [&](std::size_t global, std::size_t ri, Result res) {
    tally(r.tallies[ri], res);
    if (scoped && global < r.object_scope.size()) tally(r.scopes[r.object_scope[global]].tallies[ri], res);
  };

  // The parts of the input set-level rules see. Unscoped: everything. Scoped:
  // each scope with the scopes above it (shared files) and below it as
  // context; only its own objects get verdicts there.
  struct Part {
    std::vector<std::size_t> members;  // ascending global indices
    std::vector<char> owned;           // parallel to members
  };
  std::vector<Part> parts;
  std::vector<std::uint32_t> owner_part;  // global object → part that gives its verdicts
  if (scoped) {
    parts.resize(r.scopes.size());
    owner_part.assign(inv.objects.size(), 0);
    // A scope's part holds its own objects, its ancestors' and its descendants'.
    std::vector<std::vector<std::uint32_t>> below(parts.size());
    for (std::uint32_t n = 0; n < parts.size(); ++n)
      for (std::int32_t a = nodes[n].parent; a >= 0; a = nodes[static_cast<std::size_t>(a)].parent)
        below[static_cast<std::size_t>(a)].push_back(n);
    auto add_to = [&](std::uint32_t pi, std::size_t g, bool own) {
      parts[pi].members.push_back(g);
      parts[pi].owned.push_back(own);
    };
    for (std::size_t g = 0; g < inv.objects.size(); ++g) {
      const std::uint32_t sc = r.object_scope[g];
      owner_part[g] = sc;
      add_to(sc, g, true);
      for (std::int32_t a = nodes[sc].parent; a >= 0; a = nodes[static_cast<std::size_t>(a)].parent)
        add_to(static_cast<std::uint32_t>(a), g, false);
      for (std::uint32_t d : below[sc]) add_to(d, g, false);
    }
  }

  // One identity defined twice where references resolve: the API server would
  // keep only the last one applied, and references cannot tell them apart.
  constexpr std::size_t kDuplicatesNamed = 20;
  std::size_t duplicates = 0;
  auto warn_duplicates = [&](const Inventory& part_inv, const std::vector<std::size_t>* global_of,
                             const std::vector<char>* owned) {
    std::unordered_map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < part_inv.objects.size(); ++i) {
      const ObjectFacts& f = part_inv.objects[i];
      if (f.name.empty()) continue;
      auto [it, fresh] = first.emplace(object_identity(f), i);
      if (fresh || (owned && !(*owned)[i] && !(*owned)[it->second])) continue;
      const ObjectFacts& a = part_inv.objects[it->second];
      (void)global_of;
      // A folder of test fixtures redefines thousands: name a few, count the rest.
      if (++duplicates > kDuplicatesNamed) continue;
      r.warnings.push_back({f.file(), f.line, f.column,
                            describe_object(f) + " (" + f.api_version + ") is defined more than once in one reference scope (first at " +
                                a.file() + ":" + std::to_string(a.line) +
                                "); both are checked, but set-level rules cannot tell them apart (see --scope)"});
    }
  };

  const std::size_t part_count = scoped ? parts.size() : 1;
  std::vector<std::size_t> local_of;
  if (scoped) local_of.assign(inv.objects.size(), 0);
  std::vector<bool> no_containers;  // set-level violations are not container-exempted
  for (std::size_t pi = 0; pi < part_count; ++pi) {
    Inventory sub;
    const std::vector<std::size_t>* global_of = nullptr;
    const std::vector<char>* owned = nullptr;
    if (scoped) {
      sub = inv.subset(parts[pi].members);
      global_of = &parts[pi].members;
      owned = &parts[pi].owned;
      for (std::size_t l = 0; l < parts[pi].members.size(); ++l) local_of[parts[pi].members[l]] = l;
    }
    const Inventory& pinv = scoped ? sub : inv;
    warn_duplicates(pinv, global_of, owned);

    // Settle held-back verdicts now that every object of the scope is known.
    std::map<std::size_t, const WorkloadFacts*> workload_of;
    for (const WorkloadFacts& w : pinv.workloads) workload_of[w.object] = &w;
    for (Provisional& p : provisional) {
      if (scoped && owner_part[p.object] != pi) continue;
      const std::size_t local = scoped ? local_of[p.object] : p.object;
      if (pinv.controlled_by_input(local)) continue;  // reported once, on the controller
      if (rules_[p.rule]->deferral == Deferral::SelectedByService) {
        auto w = workload_of.find(local);
        const std::string& ns = pinv.objects[local].ns;
        const auto& services = pinv.services_in(ns);
        const bool selected = w != workload_of.end() &&
                              std::any_of(services.begin(), services.end(), [&](std::size_t si) {
                                return pinv.services[si].selector.matches(w->second->pod_labels);
                              });
        if (!selected) continue;  // not applicable: nothing routes traffic to it
      }
      count(p.object, p.rule, p.result);
      for (Finding& f : p.findings) late.push_back(std::move(f));
    }

    // Set-level rules over the scope.
    for (std::size_t ri : set_rules_) {
      ResultSink sink(
          r, late, pinv, ri, options_.show_passed,
          [&](std::size_t object, std::string& reason, std::string& until, bool& in_source) {
            Exemption e = exemption_for(ri, pinv.objects[object], {}, no_containers, r.warnings);
            reason = e.reason;
            until = e.until;
            in_source = e.in_source;
            return e.exempt;
          },
          [&, ri](std::size_t global, Result res) { count(global, ri, res); }, global_of, owned);
      rules_[ri]->set_compiled->evaluate(pinv, sink);
    }
  }
  std::vector<Provisional>().swap(provisional);
  if (duplicates > kDuplicatesNamed)
    r.warnings.push_back({r.inputs.empty() ? std::string() : r.inputs.front(), 0, 0,
                          std::to_string(duplicates - kDuplicatesNamed) +
                              " more objects are defined more than once in one reference scope (see --scope)"});

  // Cluster-level rules, once, on the cluster the input was read from.
  if (r.cluster) {
    for (std::size_t ri : cluster_rules_) {
      const Rule& rule = *rules_[ri];
      std::vector<SetViolation> violations;
      const Outcome outcome = rule.cluster_compiled->evaluate(*r.cluster, options_.today, violations);
      if (outcome == Outcome::NotApplicable) continue;
      const Result result = outcome == Outcome::Pass ? Result::Pass : Result::Fail;
      tally(r.tallies[ri], result);
      if (result == Result::Pass && !options_.show_passed) continue;
      if (violations.empty()) {
        violations.emplace_back();
        violations.back().message = rule.title;
      }
      for (SetViolation& v : violations) {
        Finding f;
        f.rule = &rule;
        f.result = result;
        f.kind = "Cluster";
        f.name = r.cluster->context.empty() ? r.cluster->server : r.cluster->context;
        f.message = result == Result::Fail ? std::move(v.message) : std::string();
        f.location.file = r.cluster->file;
        f.location.line = r.cluster->line;
        f.location.column = r.cluster->column;
        f.location.path = std::move(v.path);
        f.object = inv.objects.size();  // after every object of the input
        late.push_back(std::move(f));
      }
    }
  }

  // Popped as they are moved: each finding's deque block is freed at once,
  // and the freed pages go back to the kernel as the move advances (malloc
  // keeps them otherwise), so the findings are never resident twice.
  r.findings.reserve(total_findings + late.size());
  std::size_t moved = 0;
  auto move_from = [&](std::deque<Finding>& fs, std::size_t base) {
    while (!fs.empty()) {
      fs.front().object += base;
      r.findings.push_back(std::move(fs.front()));
      fs.pop_front();
#ifdef __GLIBC__
      if (++moved % 65536 == 0) malloc_trim(0);
#endif
    }
    std::deque<Finding>().swap(fs);
  };
  for (std::size_t i = 0; i < outcomes.size(); ++i) move_from(outcomes[i].findings, bases[i]);
  move_from(late, 0);

  // The per-scope tallies lose the folded findings too, so each scope's line in
  // the overview adds up to the totals.
  fold_superseded(r.findings, 0, rules_, &r.tallies, [&](std::size_t object) -> std::vector<RuleTally>* {
    if (!scoped || object >= r.object_scope.size()) return nullptr;
    return &r.scopes[r.object_scope[object]].tallies;
  });

  // Input order; within one resource failures first, the most severe first.
  // Findings are large: sort indices, then move each finding once.
  auto rank = [](Result res) { return res == Result::Fail ? 0 : res == Result::Exempt ? 1 : 2; };
  std::vector<std::uint32_t> order(r.findings.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t ia, std::uint32_t ib) {
    const Finding& a = r.findings[ia];
    const Finding& b = r.findings[ib];
    if (a.object != b.object) return a.object < b.object;
    if (a.result != b.result) return rank(a.result) < rank(b.result);
    return a.rule->severity > b.rule->severity;
  });
  // Apply the permutation in place, cycle by cycle: no second vector of findings.
  for (std::uint32_t start = 0; start < order.size(); ++start) {
    if (order[start] == start) continue;
    Finding held = std::move(r.findings[start]);
    std::uint32_t at = start;
    while (order[at] != start) {
      const std::uint32_t from = order[at];
      r.findings[at] = std::move(r.findings[from]);
      order[at] = at;
      at = from;
    }
    r.findings[at] = std::move(held);
    order[at] = at;
  }
  // The same expired annotation may be seen by several checks; report it once.
  std::sort(r.warnings.begin(), r.warnings.end(), [](const InputError& a, const InputError& b) {
    return std::tie(a.file, a.line, a.message) < std::tie(b.file, b.line, b.message);
  });
  r.warnings.erase(std::unique(r.warnings.begin(), r.warnings.end(),
                               [](const InputError& a, const InputError& b) {
                                 return a.file == b.file && a.line == b.line && a.message == b.message;
                               }),
                   r.warnings.end());
  return r;
}

namespace {

// Gives back the whole pages strictly inside [begin, end) of `content`.
void release_pages(std::string& content, std::size_t begin, std::size_t end) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<std::uintptr_t>(content.data());
  const std::uintptr_t first = (base + begin + page - 1) & ~(page - 1);
  const std::uintptr_t last = (base + end) & ~(page - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace

void Scanner::scan_inputs(std::vector<ScanInput>& inputs, std::vector<FileOutcome>& outcomes) const {
  struct State {
    std::string content;  // the whole input, which its pieces view
    // One per piece, in input order; a deque, so that pieces found while the
    // input is being cut do not move those the workers are scanning into.
    std::deque<FileOutcome> outcomes;
    std::atomic<std::size_t> left{0};  // pieces not scanned yet, + 1 while the input is being cut
    std::atomic<bool> failed{false};   // a piece or the cut met what only the unsplit scan handles
    SharedSeen seen;
  };
  struct Task {
    std::size_t input;
    FileOutcome* out;
    InputPiece piece;
    bool first;
  };
  std::vector<State> states(inputs.size());
  auto fresh = [&](std::size_t i, FileOutcome& o) {
    o = FileOutcome{};
    o.path = inputs[i].path;
    o.base = inputs[i].base;
    o.top = inputs[i].top;
    o.walked = inputs[i].walked;
  };
  auto scan_whole = [&](std::size_t i, EvalContext& ctx) {
    State& st = states[i];
    st.outcomes.clear();
    fresh(i, st.outcomes.emplace_back());
    SourceFile file;
    file.path = inputs[i].path;
    file.content = std::move(st.content);
    scan_file(file, ctx, st.outcomes[0]);
  };
  // One piece (or the cut) of input i is done; the last one frees its bytes,
  // or scans it again whole when a piece failed.
  auto piece_done = [&](std::size_t i, EvalContext& ctx) {
    State& st = states[i];
    if (st.left.fetch_sub(1) != 1) return;
    if (st.failed) scan_whole(i, ctx);
    else std::string().swap(st.content);
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Task> queued;
  std::size_t next = 0;
  unsigned reading = 0;  // workers reading or cutting an input, which may queue pieces
  // Reads input i and cuts it, queueing each piece as it is found.
  auto read = [&](std::size_t i, EvalContext& ctx) {
    State& st = states[i];
    std::string error;
    if (!inputs[i].read(st.content, error)) {
      fresh(i, st.outcomes.emplace_back());
      st.outcomes[0].tallies.assign(rules_.size(), RuleTally{});
      st.outcomes[0].errors.push_back({inputs[i].path, 0, 0, error});
      return;
    }
    st.left = 1;
    bool first = true;
    const bool cut = split_input(st.content, options_.piece_bytes, options_.limits, [&](const InputPiece& p) {
      {
        const std::lock_guard lock(mu);
        ++st.left;
        queued.push_back({i, &st.outcomes.emplace_back(), p, first});
      }
      first = false;
      cv.notify_one();
    });
    if (!cut) st.failed = true;  // whole: at once if nothing was queued, else after the pieces
    piece_done(i, ctx);
  };
  auto scan_piece = [&](const Task& t, EvalContext& ctx) {
    State& st = states[t.input];
    fresh(t.input, *t.out);
    {
      SourceFile file;
      file.path = inputs[t.input].path;
      file.view = std::string_view(st.content).substr(t.piece.begin, t.piece.end - t.piece.begin);
      file.first_line = t.piece.first_line;
      file.list = t.piece.list;
      scan_file(file, ctx, *t.out, &st.seen);
      if (file.piece_failed) st.failed = true;
    }
    t.out->bytes = t.first ? st.content.size() : 0;
    // A YAML piece's bytes are not read again (nothing scanned keeps a view
    // of them, and a YAML cut is never undone): their pages go back to the
    // kernel now, so a large stream is not held whole until its last piece.
    // A JSON List's are kept for the unsplit scan a failed piece asks for.
    if (t.piece.list.part == ListPiece::Part::None) release_pages(st.content, t.piece.begin, t.piece.end);
    piece_done(t.input, ctx);
  };
  // Workers take queued pieces first (their input's bytes are held until
  // all are scanned), else read the next input; results merge in input
  // order whatever ran where, so the report is the same for any --jobs.
  auto worker = [&] {
    EvalContext ctx;  // each worker's own
    for (;;) {
      std::optional<Task> task;
      std::size_t input = inputs.size();
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !queued.empty() || next < inputs.size() || reading == 0; });
        if (!queued.empty()) {
          task = queued.front();
          queued.pop_front();
        } else if (next < inputs.size()) {
          input = next++;
          ++reading;
        } else {
          return;
        }
      }
      if (task) {
        scan_piece(*task, ctx);
        continue;
      }
      read(input, ctx);
      {
        const std::lock_guard lock(mu);
        --reading;
      }
      cv.notify_all();
    }
  };
  const unsigned jobs = std::max(1u, options_.jobs);
  if (jobs <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < jobs; ++t) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
  }
  std::size_t total = 0;
  for (const State& st : states) total += st.outcomes.size();
  outcomes.clear();
  outcomes.reserve(total);
  for (State& st : states)
    for (std::size_t k = 0; k < st.outcomes.size(); ++k) {
      outcomes.push_back(std::move(st.outcomes[k]));
      outcomes.back().continues = k > 0;
    }
}

ScanResult Scanner::scan(const std::vector<std::string>& paths) const {
  std::vector<InputError> walk_errors, skipped;
  std::vector<InputFile> files = expand_inputs(paths, options_, walk_errors, skipped);
  // Charts and kustomizations are read through helm / kustomize, not raw and
  // not listed as skipped; their output follows the files, in memory.
  render::RenderedInputs rendered = render::render_roots(
      render::find_render_roots(
          paths, [&](std::string_view rel) { return excluded_by(options_.exclude, rel, true) != nullptr; }),
      options_.render, options_.jobs);
  auto rendered_here = [&](std::string_view f) { return render::inside_root(f, rendered.roots); };
  std::erase_if(files, [&](const InputFile& f) { return rendered_here(f.path); });
  std::erase_if(skipped, [&](const InputError& e) { return rendered_here(e.file); });
  const std::size_t on_disk = files.size();
  for (const render::RenderedFile& r : rendered.files) files.push_back({r.path, false});
  std::vector<ScanInput> inputs(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    ScanInput& in = inputs[i];
    in.path = files[i].path == "-" ? std::string("<stdin>") : files[i].path;
    std::tie(in.base, in.top) = input_folders(files[i].path, paths);
    if (i >= on_disk) {
      in.read = [&rendered, k = i - on_disk](std::string& content, std::string&) {
        content = std::move(rendered.files[k].content);
        return true;
      };
    } else {
      in.walked = files[i].walked;
      in.read = [this, &path = files[i].path](std::string& content, std::string& error) {
        return read_input(path, options_.limits.max_file_bytes, content, error);
      };
    }
  }
  std::vector<FileOutcome> outcomes;
  scan_inputs(inputs, outcomes);
  ScanResult r = finish(paths, outcomes);
  r.errors.insert(r.errors.begin(), walk_errors.begin(), walk_errors.end());
  r.errors.insert(r.errors.end(), rendered.errors.begin(), rendered.errors.end());
  r.warnings.insert(r.warnings.begin(), rendered.notes.begin(), rendered.notes.end());
  r.skipped.insert(r.skipped.begin(), skipped.begin(), skipped.end());
  return r;
}

void Scanner::evaluate_object(const Object& obj, std::vector<Finding>& out,
                              std::vector<InputError>& warnings) const {
  EvalContext ctx;
  evaluate_object(obj, ctx, out, warnings);
}

void Scanner::evaluate_object(const Object& obj, EvalContext& ctx, std::vector<Finding>& out,
                              std::vector<InputError>& warnings) const {
  const std::size_t first = out.size();
  const PodView pod = pod_view(obj, options_.pod_specs);
  const ObjectFacts facts = read_object_facts(
      obj, pod, obj.file ? std::make_shared<const std::string>(obj.file->path) : nullptr);
  if (facts.exemption) review_exemption(*facts.exemption, facts, warnings);
  evaluate(obj, pod, facts, 0, true, ctx, warnings,
           [&](std::size_t, Result, std::vector<Finding>& rows) {
             for (Finding& f : rows) out.push_back(std::move(f));
           });
  fold_superseded(out, first, rules_, nullptr);
}

ScanResult Scanner::scan_buffer(const std::string& name, std::string content) const {
  std::vector<ScanInput> inputs(1);
  inputs[0].path = name;
  inputs[0].read = [&content](std::string& out, std::string&) {
    out = std::move(content);
    return true;
  };
  std::vector<FileOutcome> outcomes;
  scan_inputs(inputs, outcomes);
  return finish({name}, outcomes);
}

}  // namespace kg
