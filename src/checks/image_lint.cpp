// The `image-lint` template: hardening checks on the `kind: Image` object
// the image engine builds from what its layer walk saw
// (engines/image/lint/image_object.cpp; docs/images.md "Hardening lint").
// What plain field conditions cannot say lives here: root in its four
// spellings, numeric limits, lists of file facts located by layer digest and
// history step, history commands matched by a pattern, and the minimal base
// with a suggestion the inventory supports.
#include <algorithm>
#include <regex>

#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

enum class Mode { RootUser, MaxLayers, MaxSize, Facts, History, MinimalBase };

// "layer 2 sha256:0123456789ab, history step 3": where a fact came from.
std::string layer_phrase(const Node* item) {
  std::string digest(str(get(item, "layer")));
  if (digest.size() > 19) digest.resize(19);  // sha256: and 12 hex digits, as docker shows them
  if (digest.empty()) digest = "(directory)";
  std::string s = "layer ";
  const Node* index = get(item, "layerIndex");
  s += index && index->is_scalar() ? std::string(index->text()) : std::string("?");
  s += ' ';
  s += digest;
  return s;
}

std::string step_of(const Node* item) {
  const Node* step = get(item, "step");
  const std::string_view v = step && step->is_scalar() ? step->text() : std::string_view();
  return v.empty() || v == "0" ? std::string("?") : std::string(v);
}

void replace_all(std::string& m, std::string_view key, std::string_view with) {
  for (auto pos = m.find(key); pos != std::string::npos; pos = m.find(key, pos + with.size()))
    m.replace(pos, key.size(), with);
}

// A command as a message shows it: one line, at most 80 characters.
std::string snippet(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (out.size() >= 80) {
      out.resize(77);
      out += "...";
      break;
    }
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  return out;
}

class ImageLintCheck final : public Check {
 public:
  Mode mode = Mode::RootUser;
  std::int64_t max_layers = 20;
  std::int64_t max_megabytes = 512;
  std::string field;
  std::vector<std::string> segments;
  std::optional<std::regex> pattern;
  std::string message;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const std::string sp = join_path(in.obj.path_prefix, "spec");
    switch (mode) {
      case Mode::RootUser: return root_user(spec, sp, in, out);
      case Mode::MaxLayers: {
        const Node* layers = get(spec, "layers");
        const std::size_t n = items(layers).size();
        if (static_cast<std::int64_t>(n) > max_layers) {
          out.push_back({"the image has " + std::to_string(n) + " layers, more than the limit of " +
                             std::to_string(max_layers),
                         layers ? layers : in.obj.root, join_path(sp, "layers"), {}});
        }
        break;
      }
      case Mode::MaxSize: {
        const Node* size = get(spec, "size");
        const std::optional<std::int64_t> bytes = size ? size->as_int() : std::nullopt;
        if (!bytes) return Outcome::NotApplicable;
        if (*bytes > max_megabytes * 1024 * 1024) {
          out.push_back({"the image is " + format_bytes(static_cast<std::size_t>(*bytes)) +
                             " uncompressed, more than the limit of " + std::to_string(max_megabytes) + " MiB",
                         size, join_path(sp, "size"), {}});
        }
        break;
      }
      case Mode::Facts: facts(in, out); break;
      case Mode::History: history(spec, sp, out); break;
      case Mode::MinimalBase: minimal_base(spec, sp, in, out); break;
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  static Outcome root_user(const Node* spec, const std::string& sp, const CheckInput& in,
                           std::vector<Violation>& out) {
    const Node* config = get(spec, "config");
    const Node* user = get(config, "user");
    const std::string_view u = str(user);
    // User "", "0", "0:0", "root", "root:root", "0:1000": the process's UID is 0.
    const std::string_view uid = u.substr(0, u.find(':'));
    if (uid.empty() || uid == "0" || uid == "root") {
      out.push_back({u.empty() ? std::string("the image runs as root: its config sets no User")
                               : "the image runs as root: its config User is \"" + std::string(u) + "\"",
                     user ? user : (config ? config : in.obj.root), join_path(sp, "config.user"), {}});
      return Outcome::Fail;
    }
    return Outcome::Pass;
  }

  void facts(const CheckInput& in, std::vector<Violation>& out) const {
    const Node* list = in.obj.root;
    for (const std::string& s : segments) list = get(list, s);
    const std::string base = join_path(in.obj.path_prefix, field);
    std::size_t i = 0;
    for (const Node* item : items(list)) {
      std::string m = message;
      replace_all(m, "{path}", str(get(item, "path")));
      replace_all(m, "{name}", str(get(item, "name")));
      replace_all(m, "{detail}", str(get(item, "detail")));
      m += "; added by " + layer_phrase(item) + ", history step " + step_of(item);
      if (is_true(get(item, "removed"))) m += ", deleted by a later layer but still stored in that one";
      out.push_back({std::move(m), item, index_path(base, i), {}});
      ++i;
    }
  }

  void history(const Node* spec, const std::string& sp, std::vector<Violation>& out) const {
    std::size_t i = 0;
    for (const Node* h : items(get(spec, "history"))) {
      const Node* created = get(h, "createdBy");
      const std::string text(str(created));
      std::smatch match;
      if (created && std::regex_search(text, match, *pattern)) {
        std::string m = message;
        replace_all(m, "{command}", snippet(text));
        replace_all(m, "{name}", match.size() > 1 && match[1].matched ? match[1].str() : match[0].str());
        std::string text_out = "history step " + step_of(h);
        text_out += ", ";
        text_out += get(h, "layer") ? layer_phrase(h) : std::string("no layer");
        text_out += ": ";
        text_out += m;
        out.push_back({std::move(text_out), created, join_path(index_path(join_path(sp, "history"), i), "createdBy"), {}});
      }
      ++i;
    }
  }

  // A full OS base (a shell, or a package manager) where a distroless one or
  // scratch would do; the suggestion follows the application's packages.
  static void minimal_base(const Node* spec, const std::string& sp, const CheckInput& in,
                           std::vector<Violation>& out) {
    const Node* files = get(spec, "files");
    const Node* os = get(spec, "os");
    if (is_true(get(os, "distroless"))) return;
    const auto shells = items(get(files, "shells"));
    const auto managers = items(get(files, "packageManagers"));
    if (shells.empty() && managers.empty()) return;
    const Node* by_type = get(get(spec, "packages"), "byType");
    auto has = [&](std::string_view t) { return get(by_type, t) != nullptr; };
    std::string target = "gcr.io/distroless/base or gcr.io/distroless/cc";
    if (has("maven")) target = "gcr.io/distroless/java17";
    else if (has("python")) target = "gcr.io/distroless/python3";
    else if (has("npm")) target = "gcr.io/distroless/nodejs";
    else if (has("golang") || has("cargo")) target = "gcr.io/distroless/static or scratch (for static binaries)";
    std::string what = std::string(str(get(os, "id")));
    if (!str(get(os, "versionId")).empty()) what += " " + std::string(str(get(os, "versionId")));
    if (what.empty()) what = "unknown";
    const Node* at = !shells.empty() ? shells[0] : managers[0];
    const std::string tool = std::string(str(get(at, "path")));
    out.push_back({"the image is built on a full operating system base (" + what + ") with " +
                       (shells.empty() ? "a package manager" : "a shell") + " at " + tool + "; consider " + target,
                   at ? at : in.obj.root,
                   index_path(join_path(sp, shells.empty() ? "files.packageManagers" : "files.shells"), 0), {}});
  }
};

}  // namespace

std::unique_ptr<Check> compile_image_lint_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ImageLintCheck>();
  const std::string_view mode = params.string("mode");
  static constexpr std::pair<std::string_view, Mode> kModes[] = {
      {"root-user", Mode::RootUser}, {"max-layers", Mode::MaxLayers}, {"max-size", Mode::MaxSize},
      {"facts", Mode::Facts},        {"history", Mode::History},      {"minimal-base", Mode::MinimalBase}};
  auto it = std::find_if(std::begin(kModes), std::end(kModes), [&](const auto& p) { return p.first == mode; });
  if (it == std::end(kModes)) {
    error = "mode must be one of root-user, max-layers, max-size, facts, history, minimal-base";
    return nullptr;
  }
  check->mode = it->second;
  if (auto n = params.integer("maxLayers")) check->max_layers = *n;
  if (auto n = params.integer("maxMegabytes")) check->max_megabytes = *n;
  check->message = std::string(params.string("message"));
  if (check->mode == Mode::Facts) {
    check->field = std::string(params.string("field"));
    if (check->field.empty()) {
      error = "field is required for mode facts: the list of file facts (e.g. spec.files.setuid)";
      return nullptr;
    }
    check->segments = split_field_path(check->field);
    if (check->message.empty()) check->message = "{path}";
  }
  if (check->mode == Mode::History) {
    if (!params.get("pattern")) {
      error = "pattern is required for mode history";
      return nullptr;
    }
    const auto flags = std::regex::ECMAScript | (is_true(params.get("ignoreCase")) ? std::regex::icase : std::regex::ECMAScript);
    try {
      check->pattern = compile_regex(params.regexes(), std::string(params.string("pattern")), flags);
    } catch (const std::regex_error&) {
      error = "pattern is not a valid regular expression";
      return nullptr;
    }
    if (check->message.empty()) check->message = "{command}";
  }
  return check;
}

}  // namespace kg
