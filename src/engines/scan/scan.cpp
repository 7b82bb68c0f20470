#include "engines/scan/scan.hpp"
#include "engines/scan/overlap.hpp"

#include "catalog/suggest.hpp"
#include "checks/registry.hpp"
#include "core/clock.hpp"
#include "core/glob.hpp"

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
  const bool memo_hit = memo.serial == in.object_serial && memo.rule == o.partner;
  // The first of a pair on this object leaves its verdict for the second, so
  // the common case (the baseline rule passes) costs no second evaluation.
  if (o.partner > rule_index) {
    memo.serial = in.object_serial;
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
    if (!compile_rule(*rule, params, problems)) {
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
  std::vector<InputError> errors;
  std::vector<InputError> warnings;
  Inventory inventory;
  std::deque<Provisional> provisional;
  std::optional<ClusterInfo> cluster;  // from a snapshot's List envelope
  bool walked = false;  // found by a directory walk: non-objects are skipped
  std::vector<InputError> skipped;
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
                                          std::vector<std::string>& containers_failing,
                                          std::vector<InputError>& warnings) const {
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
    bool all = !containers_failing.empty();
    for (std::string& c : containers_failing) {
      if (!c.empty() && matches_any(x.containers, c)) {
        c = "\x01";  // exempted container
        e.reason = x.reason;
        e.until = x.until;
      } else if (c != "\x01") {
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

void Scanner::scan_file(SourceFile& file, FileOutcome& out) const {
  out.tallies.assign(rules_.size(), RuleTally{});
  out.bytes = file.content.size();
  std::vector<Object> objects;
  std::vector<Violation> violations;
  std::vector<std::string> containers;
  std::vector<ContainerRef> pod_containers;
  OverlapMemo overlap_memo;
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
    for (const ObjectFacts::Owner& o : f.owners)
      if ((o.controller || f.owners.size() == 1) && seen.count(identity(o.kind, f.ns, o.name))) return true;
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
      if (out.errors.size() < max_errors) out.errors.push_back(std::move(e));
      else ++object_errors_dropped;
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
      const std::size_t local = out.inventory.add(obj, pod);
      const ObjectFacts& facts = out.inventory.objects[local];
      if (facts.exemption) review_exemption(*facts.exemption, facts, out.errors);
      // A stray namespace on a ClusterRole is ignored by the API server.
      seen.insert(identity(facts.kind, facts.kind == "ClusterRole" ? std::string_view{} : facts.ns, facts.name));
      // An object with owners may be a controller's child (a Pod of a
      // ReplicaSet): its verdicts wait until we know whether the owner is here.
      const bool owned = !facts.owners.empty();
      // Its findings belong to a controller already seen: nothing to evaluate.
      // (An object with an exemption annotation is still evaluated, so an
      // expired one is reported as before.)
      if (owned && !facts.exemption && controller_seen(facts)) continue;
      pod_containers = containers_of(pod);
      static std::atomic<std::uint64_t> serial{0};
      const CheckInput in{obj,
                          pod,
                          options_.pss_minor,
                          options_.pss_level,
                          pod_containers,
                          serial.fetch_add(1, std::memory_order_relaxed) + 1,
                          options_.kubernetes_minor,
                          options_.cluster_version};
      for (std::size_t ri : rules_for(obj.kind)) {
        const Rule& rule = *rules_[ri];
        violations.clear();
        Outcome outcome = rule.compiled->evaluate(in, violations);
        if (outcome == Outcome::NotApplicable) continue;
        share_violations(ri, in, outcome, violations, overlap_memo);
        if (outcome == Outcome::Fail && violations.empty())
          violations.push_back(Violation{rule.title, nullptr, {}, {}});
        containers.clear();
        for (const Violation& v : violations) containers.push_back(v.container);
        Exemption ex = exemption_for(ri, facts, containers, out.warnings);
        Result result = ex.exempt ? Result::Exempt
                        : outcome == Outcome::Pass ? Result::Pass
                                                   : Result::Fail;
        Finding proto;
        proto.rule = &rule;
        proto.result = result;
        proto.kind = std::string(obj.kind);
        proto.ns = std::string(obj.ns);
        proto.name = std::string(obj.name);
        proto.location.file = file.path;
        proto.location.line = obj.line;
        proto.location.column = obj.column;
        proto.object = local;
        proto.exemption_reason = std::move(ex.reason);
        proto.exemption_until = std::move(ex.until);
        proto.exemption_in_source = ex.in_source;
        std::vector<Finding> found;
        append_findings(std::move(proto), outcome, violations, containers, found);
        if (owned || rule.deferral != Deferral::None) {
          out.provisional.push_back({local, ri, result, std::move(found)});
          continue;
        }
        tally(out.tallies[ri], result);
        for (Finding& f : found) out.findings.push_back(std::move(f));
      }
    }
  });
  std::size_t dropped = object_errors_dropped + file.errors_dropped;
  for (InputError& e : file.errors) {
    if (out.errors.size() < max_errors) out.errors.push_back(std::move(e));
    else ++dropped;
  }
  file.errors.clear();
  if (dropped > 0)
    out.errors.push_back({file.path, 0, 0,
                          std::to_string(dropped) + " more error(s) in this file not listed (only the first " +
                              std::to_string(max_errors) + " are; --max-errors-per-file)"});
}

namespace {

// Commits set-level verdicts into the result, applying exemptions.
class ResultSink final : public SetSink {
 public:
  using Exempt = std::function<bool(std::size_t object, std::string& reason, std::string& until,
                                    bool& in_source)>;
  ResultSink(ScanResult& r, std::deque<Finding>& out, const Inventory& inv, std::size_t rule_index,
             bool show_passed, Exempt exempt)
      : r_(r), out_(out), inv_(inv), rule_index_(rule_index), show_passed_(show_passed),
        exempt_(std::move(exempt)) {}

  void pass(std::size_t object) override {
    std::string reason, until;
    bool in_source = false;
    const Result res = exempt_(object, reason, until, in_source) ? Result::Exempt : Result::Pass;
    tally(r_.tallies[rule_index_], res);
    if (res == Result::Pass && show_passed_) out_.push_back(make(object, res, {}, reason, until, in_source));
  }
  void fail(std::size_t object, std::vector<SetViolation> violations) override {
    std::string reason, until;
    bool in_source = false;
    const Result res = exempt_(object, reason, until, in_source) ? Result::Exempt : Result::Fail;
    tally(r_.tallies[rule_index_], res);
    for (SetViolation& v : violations) out_.push_back(make(object, res, std::move(v), reason, until, in_source));
  }

 private:
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
    f.object = object;
    return f;
  }

  ScanResult& r_;
  std::deque<Finding>& out_;
  const Inventory& inv_;
  std::size_t rule_index_;
  bool show_passed_;
  Exempt exempt_;
};

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
  Inventory inv;
  std::vector<Provisional> provisional;
  std::size_t total_findings = 0, total_provisional = 0;
  for (const FileOutcome& o : outcomes) {
    total_findings += o.findings.size();
    total_provisional += o.provisional.size();
  }
  provisional.reserve(total_provisional);
  // Findings are moved into r.findings only once their number is known (the
  // files' own, then the settled and set-level ones gathered in `late`), so
  // the vector is allocated once and never holds two copies while it grows.
  std::vector<std::size_t> bases;
  std::deque<Finding> late;
  for (FileOutcome& o : outcomes) {
    const std::size_t base = inv.objects.size();
    bases.push_back(base);
    for (std::size_t i = 0; i < o.tallies.size(); ++i) {
      r.tallies[i].evaluated += o.tallies[i].evaluated;
      r.tallies[i].passed += o.tallies[i].passed;
      r.tallies[i].failed += o.tallies[i].failed;
      r.tallies[i].exempted += o.tallies[i].exempted;
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
    if (o.cluster && !r.cluster) {
      r.cluster = std::move(o.cluster);
    } else if (o.cluster) {
      r.warnings.push_back({o.cluster->file, o.cluster->line, o.cluster->column,
                            "several cluster snapshots in the input: the report shows the "
                            "cluster facts of " + r.cluster->file});
    }
    std::move(o.errors.begin(), o.errors.end(), std::back_inserter(r.errors));
    std::move(o.warnings.begin(), o.warnings.end(), std::back_inserter(r.warnings));
    std::move(o.skipped.begin(), o.skipped.end(), std::back_inserter(r.skipped));
  }

  // Settle held-back verdicts now that every object is known.
  std::map<std::size_t, const WorkloadFacts*> workload_of;
  for (const WorkloadFacts& w : inv.workloads) workload_of[w.object] = &w;
  for (Provisional& p : provisional) {
    if (inv.controlled_by_input(p.object)) continue;  // reported once, on the controller
    if (rules_[p.rule]->deferral == Deferral::SelectedByService) {
      auto w = workload_of.find(p.object);
      const std::string& ns = inv.objects[p.object].ns;
      const auto& services = inv.services_in(ns);
      const bool selected = w != workload_of.end() &&
                            std::any_of(services.begin(), services.end(), [&](std::size_t si) {
                              return inv.services[si].selector.matches(w->second->pod_labels);
                            });
      if (!selected) continue;  // not applicable: nothing routes traffic to it
    }
    tally(r.tallies[p.rule], p.result);
    for (Finding& f : p.findings) late.push_back(std::move(f));
  }
  std::vector<Provisional>().swap(provisional);

  // Set-level rules over the whole input.
  std::vector<std::string> no_containers;
  for (std::size_t ri : set_rules_) {
    std::vector<InputError> ignored_warnings;  // annotation expiry is reported by object rules
    ResultSink sink(r, late, inv, ri, options_.show_passed,
                    [&](std::size_t object, std::string& reason, std::string& until, bool& in_source) {
                      no_containers.clear();
                      Exemption e = exemption_for(ri, inv.objects[object], no_containers,
                                                  r.warnings);
                      reason = e.reason;
                      until = e.until;
                      in_source = e.in_source;
                      return e.exempt;
                    });
    rules_[ri]->set_compiled->evaluate(inv, sink);
  }

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

  fold_superseded(r.findings, 0, rules_, &r.tallies);

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
  std::vector<FileOutcome> outcomes(files.size());
  auto work = [&](std::size_t i) {
    SourceFile file;
    if (i >= on_disk) {
      file.path = files[i].path;
      file.content = std::move(rendered.files[i - on_disk].content);
      scan_file(file, outcomes[i]);
      return;
    }
    file.path = files[i].path;
    std::string error;
    if (files[i].path == "-") file.path = "<stdin>";
    if (!read_input(files[i].path, options_.limits.max_file_bytes, file.content, error)) {
      outcomes[i].tallies.assign(rules_.size(), RuleTally{});
      outcomes[i].errors.push_back({file.path, 0, 0, error});
      return;
    }
    outcomes[i].walked = files[i].walked;
    scan_file(file, outcomes[i]);
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(options_.jobs, files.size()));
  if (jobs <= 1) {
    for (std::size_t i = 0; i < files.size(); ++i) work(i);
  } else {
    // Files are independent: workers pull the next file; results merge in
    // input order so the report is the same for any --jobs.
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < jobs; ++t)
      pool.emplace_back([&] {
        for (std::size_t i; (i = next.fetch_add(1)) < files.size();) work(i);
      });
    for (auto& th : pool) th.join();
  }
  ScanResult r = finish(paths, outcomes);
  r.errors.insert(r.errors.begin(), walk_errors.begin(), walk_errors.end());
  r.errors.insert(r.errors.end(), rendered.errors.begin(), rendered.errors.end());
  r.warnings.insert(r.warnings.begin(), rendered.notes.begin(), rendered.notes.end());
  r.skipped.insert(r.skipped.begin(), skipped.begin(), skipped.end());
  return r;
}

// The rows of one rule's verdict on one object: one per violation when it
// failed (also when exempted), the pass row only when passes are shown.
// `proto` carries the object's identity and the verdict.
void Scanner::append_findings(Finding proto, Outcome outcome, std::vector<Violation>& violations,
                              const std::vector<std::string>& containers,
                              std::vector<Finding>& out) const {
  if (proto.result == Result::Pass) {
    if (options_.show_passed) out.push_back(std::move(proto));
    return;
  }
  if (outcome != Outcome::Fail) return;
  for (std::size_t i = 0; i < violations.size(); ++i) {
    if (containers[i] == "\x01") continue;  // its container is exempted
    Violation& v = violations[i];
    Finding f = proto;
    f.container = std::move(v.container);
    f.message = std::move(v.message);
    f.location.path = std::move(v.path);
    if (v.at) {
      f.location.line = v.at->line;
      f.location.column = v.at->column;
    }
    out.push_back(std::move(f));
  }
}

void Scanner::evaluate_object(const Object& obj, std::vector<Finding>& out,
                              std::vector<InputError>& warnings) const {
  const std::size_t first = out.size();
  const PodView pod = pod_view(obj, options_.pod_specs);
  ObjectFacts facts;
  facts.kind = std::string(obj.kind);
  facts.ns = std::string(obj.ns);
  facts.name = std::string(obj.name);
  if (obj.file) facts.file_name = std::make_shared<const std::string>(obj.file->path);
  const Node* meta = obj.root->get("metadata");
  std::optional<ExemptionMark> exemption = read_exemption(get(meta, "annotations"));
  if (!exemption && pod) exemption = read_exemption(get(pod.meta, "annotations"));
  if (exemption) facts.exemption = std::make_unique<ExemptionMark>(std::move(*exemption));
  if (facts.exemption) review_exemption(*facts.exemption, facts, warnings);
  const std::vector<ContainerRef> pod_containers = containers_of(pod);
  static std::atomic<std::uint64_t> serial{1ull << 62};  // apart from scan_file's serials
  const CheckInput in{obj, pod, options_.pss_minor, options_.pss_level, pod_containers,
                      serial.fetch_add(1, std::memory_order_relaxed) + 1, options_.kubernetes_minor,
                      options_.cluster_version};
  std::vector<Violation> violations;
  std::vector<std::string> containers;
  OverlapMemo overlap_memo;
  for (std::size_t ri : rules_for(obj.kind)) {
    const Rule& rule = *rules_[ri];
    if (rule.deferral != Deferral::None) continue;  // no Service selects a lone object
    violations.clear();
    Outcome outcome = rule.compiled->evaluate(in, violations);
    if (outcome == Outcome::NotApplicable) continue;
    share_violations(ri, in, outcome, violations, overlap_memo);
    if (outcome == Outcome::Fail && violations.empty())
      violations.push_back(Violation{rule.title, nullptr, {}, {}});
    containers.clear();
    for (const Violation& v : violations) containers.push_back(v.container);
    const Exemption ex = exemption_for(ri, facts, containers, warnings);
    const Result result = ex.exempt ? Result::Exempt
                          : outcome == Outcome::Pass ? Result::Pass
                                                     : Result::Fail;
    Finding proto;
    proto.rule = &rule;
    proto.result = result;
    proto.kind = facts.kind;
    proto.ns = facts.ns;
    proto.name = facts.name;
    proto.location.file = facts.file();
    proto.location.line = obj.line;
    proto.location.column = obj.column;
    proto.exemption_reason = ex.reason;
    proto.exemption_until = ex.until;
    proto.exemption_in_source = ex.in_source;
    append_findings(std::move(proto), outcome, violations, containers, out);
  }
  fold_superseded(out, first, rules_, nullptr);
}

ScanResult Scanner::scan_buffer(const std::string& name, std::string content) const {
  SourceFile file;
  file.path = name;
  file.content = std::move(content);
  std::vector<FileOutcome> outcomes(1);
  scan_file(file, outcomes[0]);
  return finish({name}, outcomes);
}

}  // namespace kg
