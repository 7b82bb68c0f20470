#include "core/ascii.hpp"
#include "engines/scan/scan.hpp"
#include "core/kubeadm_config.hpp"

#include "checks/facts.hpp"
#include "checks/mesh.hpp"
#include "catalog/overlap.hpp"

#include "catalog/messages_zh.hpp"
#include "catalog/suggest.hpp"
#include "checks/facts.hpp"
#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"
#include "core/clock.hpp"
#include "core/glob.hpp"
#include "core/label_index.hpp"
#include "sources/kube/cluster_reader.hpp"

#include <fcntl.h>
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
  for (CoverageGap& g : c.coverage) {
    std::erase_if(g.rules, [&](const std::string& id) {
      return std::none_of(rules_.begin(), rules_.end(), [&](const Rule* r) { return r->id == id; });
    });
  }
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

Scanner::Scanner(const Catalog& catalog, ScanOptions options)
    // The evaluation's part of the options is copied on purpose (slicing).
    : Evaluator(catalog, static_cast<const EvalOptions&>(options)), input_(std::move(options)) {
  // The fact tables the set-level rules (and deferred verdicts) read, filled
  // from the objects of the kinds they need only.
  std::vector<std::string> fact_kinds = kinds_needed(rules_, options_.pod_specs);
  if (input_.east_west) {
    for (const std::string& k : east_west_kinds()) {
      std::vector<std::string> expanded = k == "workloads" ? options_.pod_specs.kinds() : std::vector<std::string>{k};
      for (std::string& e : expanded)
        if (std::find(fact_kinds.begin(), fact_kinds.end(), e) == fact_kinds.end()) fact_kinds.push_back(std::move(e));
    }
  }
  fact_kinds_.insert(fact_kinds.begin(), fact_kinds.end());
  std::vector<const FactCollector*> collectors;
  auto collect = [&](const FactCollector* c) {
    if (std::find(collectors.begin(), collectors.end(), c) == collectors.end()) collectors.push_back(c);
  };
  for (const Rule* r : rules_) {
    if (r->set_compiled)
      for (const FactCollector* c : r->set_compiled->facts()) collect(c);
    if (r->deferral == Deferral::SelectedByService) {
      collect(&Workloads::collector());
      collect(&Services::collector());
    }
  }
  if (input_.east_west)
    for (const FactCollector* c : east_west_facts()) collect(c);
  fact_plan_ = std::make_shared<const FactPlan>(std::move(collectors), fact_kinds);
}

// A verdict held back until the whole input is known (see Deferral and
// owner de-duplication).
struct Provisional {
  std::size_t object;
  std::size_t rule;
  Result result;
  std::size_t first, last;  // its findings in FileOutcome::held (then the merged store)
};

struct Scanner::FileOutcome {
  std::vector<RuleTally> tallies;
  std::map<std::string, std::uint64_t, std::less<>> kinds;
  std::uint64_t objects = 0;
  std::uint64_t documents = 0;
  std::uint64_t bytes = 0;
  FindingStore findings;
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
  FindingStore held;  // the findings of provisional verdicts
  std::optional<ClusterInfo> cluster;  // from a snapshot's List envelope
  std::string path;  // the file as named in the report
  std::string base;  // the input directory it was found in; "" for a file named as input
  std::string top;   // its top-level folder under that directory; "" for files directly in it
  bool walked = false;  // found by a directory walk: non-objects are skipped
  std::vector<InputError> skipped;
  std::vector<ImageUse> images;  // with ScanOptions::collect_images; objects local to this outcome
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

// What the pod spec grants a container, for the vulnerability risk score.
ContainerExposure container_exposure(const PodView& pod, const ContainerRef& c) {
  constexpr std::uint8_t kNo = 1, kYes = 2;
  auto is_true = [](const Node* n) { return n && n->is_scalar() && n->str() == "true"; };
  ContainerExposure e;
  const Node* sc = get(c.node, "securityContext");
  bool privileged = is_true(get(sc, "privileged"));
  if (const Node* add = get(get(sc, "capabilities"), "add"); add && add->is_seq()) {
    for (const Node* cap : add->items()) {
      if (cap->is_scalar() && (cap->str() == "SYS_ADMIN" || cap->str() == "CAP_SYS_ADMIN" || cap->str() == "ALL"))
        privileged = true;
    }
  }
  e.privileged = privileged ? kYes : kNo;
  e.host_namespaces = is_true(get(pod.spec, "hostPID")) || is_true(get(pod.spec, "hostIPC")) ||
                              is_true(get(pod.spec, "hostNetwork"))
                          ? kYes
                          : kNo;
  const Effective user = effective_security_field(pod, c, "runAsUser");
  const Effective non_root = effective_security_field(pod, c, "runAsNonRoot");
  if (user.value && user.value->is_scalar()) {
    e.runs_as_root = user.value->str() == "0" ? kYes : kNo;
  } else if (is_true(non_root.value)) {
    e.runs_as_root = kNo;
  }  // else the image's USER decides: unknown here
  e.host_port = kNo;
  if (const Node* ports = get(c.node, "ports"); ports && ports->is_seq()) {
    for (const Node* p : ports->items()) {
      const Node* hp = get(p, "hostPort");
      if (hp && hp->is_scalar() && !hp->str().empty() && hp->str() != "0") e.host_port = kYes;
    }
  }
  return e;
}

// Every container's image (scan --images): the workload, the container and
// where its image field stands, so image findings land on that line.
void collect_images(const ObjectFacts& facts, const PodView& pod, std::size_t object, std::vector<ImageUse>& out) {
  for (const ContainerRef& c : containers_of(pod)) {
    const Node* image = get(c.node, "image");
    if (!image || !image->is_scalar() || image->str().empty()) continue;
    ImageUse u;
    u.kind = facts.kind;
    u.ns = facts.ns;
    u.name = facts.name;
    u.container = std::string(c.name);
    u.image = std::string(image->str());
    u.location = {facts.file(), image->line, image->column, join_path(c.path, "image")};
    u.object = object;
    u.exposure = container_exposure(pod, c);
    out.push_back(std::move(u));
  }
}

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

bool has_manifest_extension(const std::filesystem::path& p) {
  const std::string ext = ascii_lower(p.extension().string());
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Files a repository holds beside its manifests that are YAML or JSON but
// never Kubernetes objects (several carry an apiVersion, so content alone
// cannot tell): why a directory walk leaves each out.
std::string_view known_non_manifest(std::string_view file_name) {
  const std::string full = ascii_lower(file_name);
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
  // The address as an offset into the buffer, so the pointer keeps its provenance.
  if (last > first) madvise(content.data() + (first - begin), last - first, MADV_HUGEPAGE);
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
  out.inventory.use(fact_plan_);
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
    for (const ObjectFacts::Owner& o : f.owners) {
      if ((o.controller || f.owners.size() == 1) &&
          (shared ? shared->keys : seen).count(identity(o.kind, f.ns, o.name)))
        return true;
    }
    return false;
  };
  // Errors are capped per file: the loader's in `file`, the objects' here,
  // each to the cap while streaming, then to the cap together below.
  const std::size_t max_errors = input_.limits.max_errors_per_file;
  file.max_errors = max_errors;
  std::size_t object_errors_dropped = 0;
  std::vector<InputError> doc_errors;
  std::vector<std::unique_ptr<SourceFile>> unpacked;  // the text of kubeadm-config ConfigMaps, parsed
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
  stream_documents(file, input_.limits, [&](const Document& doc) {
    if (doc.list_index < 0) ++out.documents;
    // A kguard snapshot's envelope carries what was read from the cluster.
    if (doc.list_index < 0 && doc.root && str(get(doc.root, "kind")) == "List") {
      if (const Node* snap = get(doc.root, "kguardSnapshot"); snap && !out.cluster)
        out.cluster = parse_cluster_info(file.path, *snap, doc_errors);
    }
    if (out.walked && doc.list_index < 0 && !looks_like_object(doc.root)) {
      if (doc.root && !doc.root->is_null()) {
        out.skipped.push_back({file.path, doc.root->line, doc.root->column,
                               "not a Kubernetes object (no apiVersion or kind)"});
      }
      return;
    }
    objects.clear();
    collect_objects(file, doc, objects, doc_errors);
    // kubeadm's ClusterConfiguration, kept as text in kube-system/kubeadm-config: an object of its own.
    for (std::size_t i = 0, n = objects.size(); i < n; ++i) {
      if (!is_kubeadm_config_map(objects[i])) continue;
      const Object config_map = objects[i];
      unpack_kubeadm_config(config_map, unpacked, objects, doc_errors);
    }
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
      if (input_.collect_images && pod) collect_images(facts, pod, local, out.images);
      evaluate(obj, pod, facts, local, false, ctx, out.warnings,
               [&](std::size_t ri, Result result, std::vector<Finding>& rows) {
                 if (owned || rules_[ri]->deferral != Deferral::None) {
                   const std::size_t first = out.held.size();
                   for (const Finding& f : rows) out.held.push_back(f);
                   out.provisional.push_back({local, ri, result, first, out.held.size()});
                   return;
                 }
                 tally(out.tallies[ri], result);
                 for (const Finding& f : rows) out.findings.push_back(f);
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
  ResultSink(ScanResult& r, FindingStore& out, const Inventory& inv, std::size_t rule_index,
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
  FindingStore& out_;
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
    for (std::size_t i = 0; i < outcomes.size() && mode == ScopeMode::All; ++i) {
      for (const ObjectFacts& f : outcomes[i].inventory.objects) {
        if (f.name.empty()) continue;
        auto [it, fresh] = scope_of_identity.emplace(object_identity(f), file_scope[i]);
        if (!fresh && !related(it->second, file_scope[i])) mode = ScopeMode::Dir;
      }
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
  FindingStore held;
  std::size_t total_provisional = 0;
  for (const FileOutcome& o : outcomes) total_provisional += o.provisional.size();
  provisional.reserve(total_provisional);
  // A large input comes in pieces: room for all of their facts at once.
  if (outcomes.size() > 1) {
    std::size_t objects = 0;
    for (const FileOutcome& o : outcomes) objects += o.inventory.objects.size();
    inv.objects.reserve(objects);
  }
  // The files' findings join r.findings after the settled and set-level ones
  // are gathered in `late`.
  std::vector<std::size_t> bases;
  FindingStore late;
  // One input's errors (all of its pieces): its objects', then its loader's,
  // the first --max-errors-per-file listed and the rest counted in one line.
  const std::size_t max_errors = input_.limits.max_errors_per_file;
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
    for (FileOutcome* o : input) {
      for (InputError& e : o->load_errors) {
        if (kept >= max_errors) {
          ++dropped;
          continue;
        }
        r.errors.push_back(std::move(e));
        ++kept;
      }
    }
    if (dropped > 0) {
      r.errors.push_back({input.front()->path, 0, 0,
                          std::to_string(dropped) + " more error(s) in this file not listed (only the first " +
                              std::to_string(max_errors) + " are; --max-errors-per-file)"});
    }
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
    const std::size_t held_base = held.size();
    for (Provisional& p : o.provisional) {
      p.object += base;
      p.first += held_base;
      p.last += held_base;
      provisional.push_back(p);
    }
    held.append(std::move(o.held), base);
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
    for (ImageUse& u : o.images) {
      u.object += base;
      r.image_uses.push_back(std::move(u));
    }
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
    for (std::uint32_t n = 0; n < parts.size(); ++n) {
      for (std::int32_t a = nodes[n].parent; a >= 0; a = nodes[static_cast<std::size_t>(a)].parent)
        below[static_cast<std::size_t>(a)].push_back(n);
    }
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
    const Workloads& workloads = Workloads::of(pinv);
    const Services& services = Services::of(pinv);
    std::map<std::size_t, const WorkloadFacts*> workload_of;
    for (const WorkloadFacts& w : workloads.rows) workload_of[w.object] = &w;
    PerNamespace<SelectorIndex> services_in(
        [&](const std::string& ns) -> const std::vector<std::size_t>& { return services.in(pinv, ns); },
        [&](std::size_t si) -> const LabelSelector& { return services.rows[si].selector; });

    for (Provisional& p : provisional) {
      if (scoped && owner_part[p.object] != pi) continue;
      const std::size_t local = scoped ? local_of[p.object] : p.object;
      if (pinv.controlled_by_input(local)) continue;  // reported once, on the controller
      if (rules_[p.rule]->deferral == Deferral::SelectedByService) {
        auto w = workload_of.find(local);
        const std::string& ns = pinv.objects[local].ns;
        const bool selected = w != workload_of.end() &&
                              services_in.in(ns).any(w->second->pod_labels, [&](std::size_t si) {
                                return services.rows[si].selector.matches(w->second->pod_labels);
                              });
        if (!selected) continue;  // not applicable: nothing routes traffic to it
      }
      count(p.object, p.rule, p.result);
      for (std::size_t i = p.first; i < p.last; ++i) late.push_back(held[i]);
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
  held.clear();
  if (duplicates > kDuplicatesNamed) {
    r.warnings.push_back({r.inputs.empty() ? std::string() : r.inputs.front(), 0, 0,
                          std::to_string(duplicates - kDuplicatesNamed) +
                              " more objects are defined more than once in one reference scope (see --scope)"});
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
        late.push_back(f);
      }
    }
  }

  // East-west traffic per namespace, over the whole input; with reference
  // scopes, per scope as its set-level rules see it: the scope's part of the
  // input, and only the namespaces its own objects are in.
  if (input_.east_west && !scoped) r.east_west = east_west_posture(inv);
  if (input_.east_west && scoped) {
    EastWestPosture all;
    std::set<std::string> meshes;
    for (std::size_t pi = 0; pi < parts.size(); ++pi) {
      std::set<std::string> own;
      for (std::size_t l = 0; l < parts[pi].members.size(); ++l) {
        if (!parts[pi].owned[l]) continue;
        const ObjectFacts& o = inv.objects[parts[pi].members[l]];
        own.insert(o.kind == "Namespace" ? o.name : o.ns);
      }
      EastWestPosture p = east_west_posture(inv.subset(parts[pi].members));
      for (NamespaceTraffic& t : p.namespaces) {
        if (!own.count(t.ns)) continue;
        t.scope = r.scopes[pi].name;
        all.namespaces.push_back(std::move(t));
      }
      meshes.insert(p.meshes.begin(), p.meshes.end());
    }
    for (const char* m : {"istio", "linkerd"})
      if (meshes.count(m)) all.meshes.emplace_back(m);
    r.east_west = std::move(all);
  }

  // Each file's store is appended and emptied in turn, so the findings are
  // never resident twice.
  for (std::size_t i = 0; i < outcomes.size(); ++i) r.findings.append(std::move(outcomes[i].findings), bases[i]);
  r.findings.append(std::move(late), 0);

  order_findings(r.findings);

  // After the sort, so the findings of one object are neighbours. The
  // per-scope tallies lose the folded findings too, so each scope's line in
  // the overview adds up to the totals.
  fold_superseded(r.findings, rules_, &r.tallies, [&](std::size_t object) -> std::vector<RuleTally>* {
    if (!scoped || object >= r.object_scope.size()) return nullptr;
    return &r.scopes[r.object_scope[object]].tallies;
  });
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
  // The address as an offset into the buffer, so the pointer keeps its provenance.
  if (last > first) madvise(content.data() + (first - base), last - first, MADV_DONTNEED);
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
    const bool cut = split_input(st.content, input_.piece_bytes, input_.limits, [&](const InputPiece& p) {
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
  const unsigned jobs = std::max(1u, input_.jobs);
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
  for (State& st : states) {
    for (std::size_t k = 0; k < st.outcomes.size(); ++k) {
      outcomes.push_back(std::move(st.outcomes[k]));
      outcomes.back().continues = k > 0;
    }
  }
}

ScanResult Scanner::scan(const std::vector<std::string>& paths) const {
  std::vector<InputError> walk_errors, skipped;
  std::vector<InputFile> files = expand_inputs(paths, input_, walk_errors, skipped);
  // Charts and kustomizations are read through helm / kustomize, not raw and
  // not listed as skipped; their output follows the files, in memory.
  render::RenderedInputs rendered = render::render_roots(
      render::find_render_roots(
          paths, [&](std::string_view rel) { return excluded_by(input_.exclude, rel, true) != nullptr; }),
      input_.render, input_.jobs);
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
        return read_input(path, input_.limits.max_file_bytes, content, error);
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
