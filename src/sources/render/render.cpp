#include "sources/render/render.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <map>
#include <thread>

#include "sources/render/process.hpp"

namespace kg::render {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kKustomizationNames[] = {"kustomization.yaml", "kustomization.yml",
                                                     "Kustomization"};
constexpr std::size_t kMaxMessage = 2000;

bool is_regular(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The value of a top-level `key:` line of a small YAML file, unquoted; only
// to tell library charts and Components apart, so no full parse.
std::string top_level_value(const fs::path& file, std::string_view key) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  for (int n = 0; n < 10'000 && std::getline(in, line); ++n) {
    std::string_view l = line;
    if (l.size() <= key.size() || l.compare(0, key.size(), key) != 0 || l[key.size()] != ':') continue;
    std::string_view v = trim(l.substr(key.size() + 1));
    if (auto hash = v.find(" #"); hash != std::string_view::npos) v = trim(v.substr(0, hash));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    return std::string(v);
  }
  return {};
}

std::string join(const std::string& dir, std::string_view rel) {
  if (dir.empty() || dir == ".") return std::string(rel);
  if (dir.back() == '/') return dir + std::string(rel);
  return dir + "/" + std::string(rel);
}

// A relative folder as an argument the tools cannot take for a flag or, for
// helm, a repository chart name.
std::string as_argument(const std::string& dir) {
  if (dir.empty()) return ".";
  if (dir[0] == '/' || dir.rfind("./", 0) == 0 || dir.rfind("../", 0) == 0 || dir == "." || dir == "..")
    return dir;
  return "./" + dir;
}

fs::path normal(std::string_view p) {
  fs::path n = fs::path(p).lexically_normal();
  std::string s = n.generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return fs::path(s.empty() ? "." : s);
}

// The tool's message: its `Error:` lines (helm and kustomize print the cause
// there), else its last line; on one line, bounded.
std::string tool_message(std::string_view err) {
  std::string errors;
  std::string last;
  while (!err.empty()) {
    const auto nl = err.find('\n');
    std::string_view line = trim(err.substr(0, nl));
    err.remove_prefix(nl == std::string_view::npos ? err.size() : nl + 1);
    if (line.empty()) continue;
    last = std::string(line);
    if (line.rfind("Error:", 0) == 0) {
      if (!errors.empty()) errors += "; ";
      errors += trim(line.substr(6));
    }
  }
  std::string m = errors.empty() ? last : errors;
  if (m.size() > kMaxMessage) m = m.substr(0, kMaxMessage) + "...";
  return m;
}

// `chart/templates/x.yaml` → `<chart_dir>/templates/x.yaml`.
std::string template_file(std::string_view chart_dir, std::string_view source) {
  const auto slash = source.find('/');
  if (slash == std::string_view::npos) return std::string(chart_dir);
  return join(std::string(chart_dir), source.substr(slash + 1));
}

bool digits_at(std::string_view s, std::size_t at, std::uint32_t& value, std::size_t& end) {
  end = at;
  value = 0;
  while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end])) && end - at < 9)
    value = value * 10 + static_cast<std::uint32_t>(s[end++] - '0');
  return end > at;
}

}  // namespace

std::string_view to_string(Tool tool) { return tool == Tool::Helm ? "helm" : "kustomize"; }

bool render_root_at(const std::string& dir, RenderRoot& out) {
  const fs::path base(dir);
  if (is_regular(base / "Chart.yaml")) {
    out = {Tool::Helm, dir, join(dir, "Chart.yaml"), {}};
    if (top_level_value(base / "Chart.yaml", "type") == "library")
      out.left_out = "a library chart: helm renders it only through the charts that depend on it; not scanned";
    return true;
  }
  for (std::string_view name : kKustomizationNames) {
    if (!is_regular(base / name)) continue;
    out = {Tool::Kustomize, dir, join(dir, name), {}};
    if (top_level_value(base / name, "kind") == "Component") {
      out.left_out =
          "a kustomize Component: rendered only through the kustomizations that include it; not "
          "scanned";
    }
    return true;
  }
  return false;
}

std::vector<RenderRoot> find_render_roots(const std::vector<std::string>& paths,
                                          const FolderFilter& skip_folder) {
  std::vector<RenderRoot> roots;
  auto add = [&](RenderRoot r) {
    for (const RenderRoot& have : roots)
      if (normal(have.dir) == normal(r.dir)) return;
    roots.push_back(std::move(r));
  };
  for (const std::string& p : paths) {
    if (p == "-") continue;
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec) continue;  // the walk reports it
    RenderRoot root;
    if (fs::is_regular_file(st)) {
      const std::string name = fs::path(p).filename().string();
      const bool marker = name == "Chart.yaml" ||
                          std::find(std::begin(kKustomizationNames), std::end(kKustomizationNames),
                                    name) != std::end(kKustomizationNames);
      const std::string parent = fs::path(p).parent_path().string();
      if (marker && render_root_at(parent.empty() ? "." : parent, root)) add(std::move(root));
      continue;
    }
    if (!fs::is_directory(st)) continue;
    if (render_root_at(p, root)) {
      add(std::move(root));
      continue;
    }
    std::vector<RenderRoot> found;
    auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::end(it); it.increment(ec)) {
      std::error_code dir_ec;
      if (it->is_symlink(dir_ec) || !it->is_directory(dir_ec)) continue;
      const std::string name = it->path().filename().string();
      if ((name.size() > 1 && name[0] == '.') ||
          (skip_folder && skip_folder(it->path().lexically_relative(p).generic_string()))) {
        it.disable_recursion_pending();
        continue;
      }
      if (render_root_at(it->path().string(), root)) {
        found.push_back(std::move(root));
        it.disable_recursion_pending();  // subcharts, bases: the root renders them
      }
    }
    std::sort(found.begin(), found.end(),
              [](const RenderRoot& a, const RenderRoot& b) { return a.dir < b.dir; });
    for (RenderRoot& r : found) add(std::move(r));
  }
  return roots;
}

bool inside_root(std::string_view file, const std::vector<RenderRoot>& roots) {
  if (roots.empty()) return false;
  const fs::path f = normal(file);
  for (const RenderRoot& r : roots) {
    const fs::path d = normal(r.dir);
    if (d == ".") {
      if (f.is_relative() && *f.begin() != "..") return true;
      continue;
    }
    auto fi = f.begin();
    bool inside = true;
    for (auto di = d.begin(); di != d.end(); ++di, ++fi) {
      if (fi == f.end() || *fi != *di) {
        inside = false;
        break;
      }
    }
    if (inside) return true;
  }
  return false;
}

std::vector<RenderedFile> split_helm_output(std::string_view chart_dir, std::string_view output) {
  std::vector<RenderedFile> files;
  std::map<std::string, std::size_t, std::less<>> index;
  auto flush = [&](std::string_view doc) {
    if (trim(doc).empty()) return;
    std::string_view first = trim(doc.substr(0, doc.find('\n')));
    std::string file(chart_dir);
    if (first.rfind("# Source:", 0) == 0) file = template_file(chart_dir, trim(first.substr(9)));
    auto [it, fresh] = index.emplace(file, files.size());
    if (fresh) files.push_back({file, {}});
    std::string& content = files[it->second].content;
    content += "---\n";
    content += doc;
    if (content.back() != '\n') content += '\n';
  };
  std::size_t start = 0;
  std::size_t pos = 0;
  while (pos <= output.size()) {
    const auto nl = output.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? output.size() : nl;
    std::string_view line = output.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "---" || line.rfind("--- ", 0) == 0) {
      flush(output.substr(start, pos - start));
      start = nl == std::string_view::npos ? output.size() : nl + 1;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  flush(output.substr(start));
  return files;
}

std::vector<RenderedFile> split_kustomize_output(std::string_view dir, std::string_view output) {
  std::vector<RenderedFile> files;
  std::map<std::string, std::size_t, std::less<>> index;
  bool any_origin = false;
  auto origin_of = [&](std::string_view doc) -> std::string {
    // kustomize writes the annotation as a literal block: `path:` (and
    // `repo:` for a remote resource) on the lines below it.
    const auto at = doc.find("config.kubernetes.io/origin: |\n");
    if (at == std::string_view::npos) return {};
    std::string_view rest = doc.substr(doc.find('\n', at) + 1);
    std::string path;
    for (int n = 0; n < 8 && !rest.empty(); ++n) {
      const auto nl = rest.find('\n');
      const std::string_view line = trim(rest.substr(0, nl));
      if (line.rfind("repo:", 0) == 0) return {};  // a remote file: no local name
      if (line.rfind("path:", 0) == 0) path = std::string(trim(line.substr(5)));
      if (line.find(':') == std::string_view::npos || nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
    if (path.empty() || path.front() == '/') return {};
    return normal(join(std::string(dir), path)).generic_string();
  };
  auto add = [&](std::string_view doc) {
    if (trim(doc).empty()) return;
    std::string file = origin_of(doc);
    if (file.empty()) {
      file = std::string(dir);
    } else {
      any_origin = true;
    }
    auto [it, fresh] = index.emplace(file, files.size());
    if (fresh) files.push_back({file, {}});
    std::string& content = files[it->second].content;
    if (!content.empty()) content += "---\n";
    content += doc;
    if (content.back() != '\n') content += '\n';
  };
  std::size_t start = 0;
  for (std::size_t pos = 0; pos < output.size();) {
    const auto nl = output.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? output.size() : nl;
    if (output.substr(pos, end - pos) == "---") {
      add(output.substr(start, pos - start));
      start = end + 1;
    }
    pos = end + 1;
  }
  if (start < output.size()) add(output.substr(start));
  if (!any_origin) return {{std::string(dir), std::string(output)}};
  return files;
}

InputError locate_helm_error(std::string_view chart_dir, std::string_view message,
                             const std::string& fallback) {
  InputError e{fallback, 0, 0, "helm template: " + std::string(message)};
  // Helm names templates as chart/templates/x.yaml (subcharts:
  // chart/charts/sub/templates/x.yaml), followed by :LINE[:COL] when it
  // knows where in the template the error is.
  auto stop_before = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == '"' || c == '\'' || c == '<';
  };
  auto stop_after = [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == ':' || c == ')' || c == '"' || c == '\'';
  };
  bool found = false;
  for (std::size_t at = message.find("/templates/"); at != std::string_view::npos;
       at = message.find("/templates/", at + 1)) {
    std::size_t begin = at;
    while (begin > 0 && !stop_before(message[begin - 1])) --begin;
    std::size_t end = at + 1;
    while (end < message.size() && !stop_after(message[end])) ++end;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    std::size_t after = end;
    if (end < message.size() && message[end] == ':' && digits_at(message, end + 1, line, after) &&
        after < message.size() && message[after] == ':') {
      std::size_t col_end = after;
      digits_at(message, after + 1, column, col_end);
    }
    if (!found || (line && !e.line)) {
      e.file = template_file(chart_dir, message.substr(begin, end - begin));
      e.line = line;
      e.column = column;
      found = true;
    }
    if (e.line) break;
  }
  return e;
}

RenderOutcome render(const RenderRoot& root, const RenderOptions& options) {
  RenderOutcome out;
  const std::string kind = root.tool == Tool::Helm ? "Helm chart" : "kustomization";
  if (!root.left_out.empty()) {
    out.notes.push_back({root.dir, 0, 0, root.left_out});
    return out;
  }
  if (!options.enabled) {
    out.notes.push_back({root.dir, 0, 0,
                         kind + " not rendered (--skip-render): its folder is walked like any other"});
    return out;
  }
  std::string program;
  std::vector<std::string> args;
  std::string command;  // how messages name what ran
  if (root.tool == Tool::Helm) {
    program = find_executable(options.helm.empty() ? "helm" : options.helm);
    if (program.empty()) {
      out.errors.push_back(
          {root.dir, 0, 0,
           options.helm.empty()
               ? "a Helm chart (Chart.yaml), but no helm on PATH: install helm, give --helm PATH, or "
                 "walk charts and kustomizations unrendered with --skip-render"
               : "a Helm chart, but --helm " + options.helm + " is not an executable file"});
      return out;
    }
    command = "helm template";
    args.push_back("template");
    if (!options.release_name.empty()) args.push_back(options.release_name);
    args.push_back(as_argument(root.dir));
    if (!options.release_namespace.empty()) {
      args.push_back("--namespace");
      args.push_back(options.release_namespace);
    }
    for (const std::string& f : options.values_files) {
      args.push_back("--values");
      args.push_back(f);
    }
    for (const std::string& s : options.set_values) {
      args.push_back("--set");
      args.push_back(s);
    }
  } else {
    bool kubectl = false;
    if (!options.kustomize.empty()) {
      program = find_executable(options.kustomize);
      kubectl = fs::path(options.kustomize).filename() == "kubectl";
    } else {
      program = find_executable("kustomize");
      if (program.empty()) {
        program = find_executable("kubectl");
        kubectl = !program.empty();
      }
    }
    if (program.empty()) {
      out.errors.push_back(
          {root.dir, 0, 0,
           options.kustomize.empty()
               ? "a kustomization (" + fs::path(root.marker).filename().string() +
                     "), but neither kustomize nor kubectl on PATH: install kustomize, give "
                     "--kustomize PATH, or walk charts and kustomizations unrendered with --skip-render"
               : "a kustomization, but --kustomize " + options.kustomize + " is not an executable file"});
      return out;
    }
    command = kubectl ? "kubectl kustomize" : "kustomize build";
    args.push_back(kubectl ? "kustomize" : "build");
    args.push_back(as_argument(root.dir));
  }

  ProcessLimits limits;
  limits.timeout = std::chrono::seconds(std::max(1, options.timeout_seconds));
  limits.max_stdout = options.max_output_bytes;
  ProcessResult r = run_process(program, args, limits);
  if (!r.ok()) {
    std::string why;
    if (!r.spawn_error.empty()) {
      why = "cannot run " + program + ": " + r.spawn_error;
    } else if (r.timed_out) {
      why = "did not finish within " + std::to_string(limits.timeout.count() / 1000) + " s; stopped";
    } else if (r.stdout_overflow) {
      why = "wrote more than " + std::to_string(options.max_output_bytes >> 20) + " MiB; stopped";
    } else {
      why = tool_message(r.err);
      if (why.empty()) {
        why = r.signal ? "killed by signal " + std::to_string(r.signal)
                       : "exited with status " + std::to_string(r.exit_code);
      }
    }
    if (root.tool == Tool::Helm && r.spawn_error.empty() && !r.timed_out && !r.stdout_overflow) {
      out.errors.push_back(locate_helm_error(root.dir, why, root.marker));
    } else {
      out.errors.push_back({root.marker, 0, 0, command + ": " + why});
    }
    return out;
  }
  if (root.tool == Tool::Helm) {
    out.files = split_helm_output(root.dir, r.out);
    out.notes.push_back({root.dir, 0, 0,
                         "Helm chart rendered by helm template (" + std::to_string(out.files.size()) +
                             " template(s) with objects); findings name the template, at lines of "
                             "its rendered output"});
  } else {
    out.files = split_kustomize_output(root.dir, r.out);
    const bool by_origin = out.files.size() > 1 || (out.files.size() == 1 && out.files[0].path != root.dir);
    out.notes.push_back({root.dir, 0, 0,
                         "kustomization rendered by " + command +
                             (by_origin ? "; findings name the file each object came from (its "
                                          "config.kubernetes.io/origin annotation), at lines of its "
                                          "rendered output"
                                        : "; findings name this folder, at lines of its rendered output")});
  }
  return out;
}

RenderedInputs render_inputs(const std::vector<std::string>& paths, const RenderOptions& options,
                             unsigned jobs) {
  return render_roots(find_render_roots(paths), options, jobs);
}

RenderedInputs render_roots(std::vector<RenderRoot> roots, const RenderOptions& options, unsigned jobs) {
  RenderedInputs in;
  in.roots = std::move(roots);
  // Unrendered (--skip-render), a folder is walked as before; a library
  // chart or a Component is still left out: its files are not objects.
  std::vector<RenderRoot> owned;
  if (!options.enabled) {
    for (const RenderRoot& r : in.roots)
      if (!r.left_out.empty()) owned.push_back(r);
  }
  std::vector<RenderOutcome> outcomes(in.roots.size());
  // Each render is mostly waiting for a helper process: a few run at once.
  const unsigned threads = std::max(1u, std::min<unsigned>(jobs, static_cast<unsigned>(in.roots.size())));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < in.roots.size();) outcomes[i] = render(in.roots[i], options);
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& th : pool) th.join();
  }
  for (RenderOutcome& o : outcomes) {
    for (RenderedFile& f : o.files) in.files.push_back(std::move(f));
    in.errors.insert(in.errors.end(), o.errors.begin(), o.errors.end());
    in.notes.insert(in.notes.end(), o.notes.begin(), o.notes.end());
  }
  if (!options.enabled) in.roots = std::move(owned);
  return in;
}

}  // namespace kg::render
