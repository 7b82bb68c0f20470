#include "engines/scan/scan.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

namespace kg {

std::string_view to_string(Result r) {
  switch (r) {
    case Result::Fail: return "fail";
    case Result::Pass: return "pass";
    case Result::Exempt: return "exempt";
  }
  return "fail";
}

bool rule_selected(const Rule& rule, const ScanOptions& options) {
  if (rule.pss_level) {
    if (options.pss_level < *rule.pss_level) return false;
    if (options.pss_minor < rule.pss_since) return false;
    if (options.pss_level == PssLevel::Restricted && rule.pss_overridden_from >= 0 &&
        options.pss_minor >= rule.pss_overridden_from)
      return false;
  }
  if (options.only.empty()) return rule.enabled_by_default;
  for (const std::string& sel : options.only) {
    if (sel == rule.id) return true;  // naming a rule turns it on even when off by default
    if ((sel == to_string(rule.category) || rule.has_tag(sel)) && rule.enabled_by_default) return true;
  }
  return false;
}

Scanner::Scanner(const Catalog& catalog, ScanOptions options)
    : catalog_(catalog), options_(std::move(options)) {
  for (const auto& r : catalog_.rules())
    if (rule_selected(*r, options_)) rules_.push_back(r.get());
  // Index rules by kind so an object only meets the rules that can apply.
  std::vector<std::string> kinds;
  for (const Rule* r : rules_)
    for (const std::string& k : r->kinds) {
      if (k == "workloads") {
        for (const std::string& wk : options_.pod_specs.kinds()) kinds.push_back(wk);
      } else if (k != "*") {
        kinds.push_back(k);
      }
    }
  for (std::size_t i = 0; i < rules_.size(); ++i)
    if (std::find(rules_[i]->kinds.begin(), rules_[i]->kinds.end(), "*") != rules_[i]->kinds.end())
      any_kind_.push_back(i);
  for (const std::string& k : kinds) {
    if (by_kind_.count(k)) continue;
    std::vector<std::size_t>& list = by_kind_[k];
    for (std::size_t i = 0; i < rules_.size(); ++i)
      if (kind_matches(*rules_[i], k)) list.push_back(i);
  }
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

struct Scanner::FileOutcome {
  std::vector<RuleTally> tallies;
  std::map<std::string, std::uint64_t, std::less<>> kinds;
  std::uint64_t objects = 0;
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  std::vector<Finding> findings;
  std::vector<InputError> errors;
};

namespace {

constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

bool has_manifest_extension(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool read_input(const std::string& path, std::string& content, std::string& error) {
  if (path == "-") {
    content.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file";
    return false;
  }
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  if (size < 0) {
    error = "cannot read file";
    return false;
  }
  if (static_cast<std::size_t>(size) > kMaxFileBytes) {
    error = "file larger than 1 GiB; split it";
    return false;
  }
  content.resize(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(content.data(), size);
  if (!in) {
    error = "cannot read file";
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& paths,
                                       std::vector<InputError>& errors) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    if (p == "-") {
      files.push_back(p);
      continue;
    }
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      errors.push_back({p, 0, 0, "no such file or directory"});
      continue;
    }
    if (!fs::is_directory(st)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::end(it); it.increment(ec)) {
      if (it->is_regular_file(ec) && has_manifest_extension(it->path()))
        found.push_back(it->path().string());
    }
    if (ec) errors.push_back({p, 0, 0, "cannot walk directory: " + ec.message()});
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

void Scanner::scan_file(SourceFile& file, FileOutcome& out) const {
  out.tallies.assign(rules_.size(), RuleTally{});
  out.bytes = file.content.size();
  std::vector<Object> objects;
  std::vector<Violation> violations;
  stream_documents(file, options_.limits, [&](const Document& doc) {
    ++out.documents;
    objects.clear();
    collect_objects(file, doc, objects, out.errors);
    for (const Object& obj : objects) {
      ++out.objects;
      auto kit = out.kinds.find(obj.kind);
      if (kit == out.kinds.end()) kit = out.kinds.emplace(std::string(obj.kind), 0).first;
      ++kit->second;
      const std::size_t first_finding = out.findings.size();
      const PodView pod = pod_view(obj, options_.pod_specs);
      const CheckInput in{obj, pod, options_.pss_minor, options_.pss_level};
      for (std::size_t ri : rules_for(obj.kind)) {
        const Rule& rule = *rules_[ri];
        violations.clear();
        Outcome outcome = rule.compiled->evaluate(in, violations);
        if (outcome == Outcome::NotApplicable) continue;
        RuleTally& t = out.tallies[ri];
        ++t.evaluated;
        auto make = [&](Result result) {
          Finding f;
          f.rule = &rule;
          f.result = result;
          f.kind = std::string(obj.kind);
          f.ns = std::string(obj.ns);
          f.name = std::string(obj.name);
          f.location.file = file.path;
          f.location.line = obj.line;
          f.location.column = obj.column;
          return f;
        };
        if (outcome == Outcome::Pass) {
          ++t.passed;
          if (options_.show_passed) out.findings.push_back(make(Result::Pass));
          continue;
        }
        ++t.failed;
        if (violations.empty()) violations.push_back(Violation{rule.title, nullptr, {}, {}});
        for (Violation& v : violations) {
          Finding f = make(Result::Fail);
          f.container = std::move(v.container);
          f.message = std::move(v.message);
          f.location.path = std::move(v.path);
          if (v.at) {
            f.location.line = v.at->line;
            f.location.column = v.at->column;
          }
          out.findings.push_back(std::move(f));
        }
      }
      // Within one resource, the most severe findings come first.
      std::stable_sort(out.findings.begin() + static_cast<std::ptrdiff_t>(first_finding),
                       out.findings.end(), [](const Finding& a, const Finding& b) {
                         if (a.result != b.result) return a.result < b.result;
                         return a.rule->severity > b.rule->severity;
                       });
    }
  });
  for (InputError& e : file.errors) out.errors.push_back(std::move(e));
  file.errors.clear();
}

ScanResult Scanner::merge(std::vector<std::string> inputs,
                          std::vector<FileOutcome>& outcomes) const {
  ScanResult r;
  r.inputs = std::move(inputs);
  r.options = options_;
  r.rules = rules_;
  r.tallies.assign(rules_.size(), RuleTally{});
  for (FileOutcome& o : outcomes) {
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
    std::move(o.findings.begin(), o.findings.end(), std::back_inserter(r.findings));
    std::move(o.errors.begin(), o.errors.end(), std::back_inserter(r.errors));
  }
  return r;
}

ScanResult Scanner::scan(const std::vector<std::string>& paths) const {
  std::vector<InputError> walk_errors;
  std::vector<std::string> files = expand_inputs(paths, walk_errors);
  std::vector<FileOutcome> outcomes(files.size());
  auto work = [&](std::size_t i) {
    SourceFile file;
    file.path = files[i];
    std::string error;
    if (!read_input(files[i], file.content, error)) {
      outcomes[i].tallies.assign(rules_.size(), RuleTally{});
      outcomes[i].errors.push_back({files[i], 0, 0, error});
      return;
    }
    if (files[i] == "-") file.path = "<stdin>";
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
  ScanResult r = merge(paths, outcomes);
  r.errors.insert(r.errors.begin(), walk_errors.begin(), walk_errors.end());
  return r;
}

ScanResult Scanner::scan_buffer(const std::string& name, std::string content) const {
  SourceFile file;
  file.path = name;
  file.content = std::move(content);
  std::vector<FileOutcome> outcomes(1);
  scan_file(file, outcomes[0]);
  return merge({name}, outcomes);
}

}  // namespace kg
