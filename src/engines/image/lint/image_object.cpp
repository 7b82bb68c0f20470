#include "engines/image/lint/image_object.hpp"

#include <map>
#include <sstream>

#include "core/json_writer.hpp"
#include "core/utf8.hpp"
#include "sources/image/image_source.hpp"
#include "sources/image/json.hpp"

namespace kg::image {
namespace {

// Where a layer came from: its 1-based history step (0 when the config
// keeps no history for it). Steps count every history entry, empty_layer
// ones too, as `docker history` lists them (oldest first).
std::vector<std::size_t> steps_of_layers(const Node* history, std::size_t layers) {
  std::vector<std::size_t> steps(layers, 0);
  std::size_t layer = 0, step = 0;
  for (const Node* h : items(history)) {
    ++step;
    if (is_true(get(h, "empty_layer"))) continue;
    if (layer < layers) steps[layer] = step;
    ++layer;
  }
  return steps;
}

void strings_of(JsonWriter& w, const Node* list) {
  w.begin_array();
  if (list && list->is_scalar()) w.value(list->text());
  for (const Node* n : items(list)) w.value(str(n));
  w.end_array();
}

void keys_of(JsonWriter& w, const Node* map) {
  w.begin_array();
  for (const MapEntry& e : entries(map)) w.value(e.key->text());
  w.end_array();
}

// Compact JSON laid out one member per line (2-space indent), so a finding's
// line:column points at a line of `kguard image -o object`. Bytes that are
// not UTF-8 (tar names and configs are whatever the image's author wrote)
// become U+FFFD: every report format then stays valid.
std::string indent_json(std::string_view compact) {
  std::string out;
  out.reserve(compact.size() * 2);
  int depth = 0;
  bool in_string = false;
  auto newline = [&] {
    out += '\n';
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
  };
  for (std::size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (in_string && static_cast<unsigned char>(c) >= 0x80) {
      char32_t cp = 0;
      const std::size_t len = decode_utf8(compact, i, cp);
      if (len == 0) {
        append_utf8(out, U'\uFFFD');
      } else {
        out.append(compact.substr(i, len));
        i += len - 1;
      }
      continue;
    }
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < compact.size()) out += compact[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; out += c; break;
      case '{':
      case '[':
        out += c;
        if (i + 1 < compact.size() && (compact[i + 1] == '}' || compact[i + 1] == ']')) {
          out += compact[++i];  // {} and [] stay on their line
          break;
        }
        ++depth;
        newline();
        break;
      case '}':
      case ']':
        --depth;
        newline();
        out += c;
        break;
      case ',': out += c; newline(); break;
      case ':': out += ": "; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string image_object_json(const ImageReadResult& r, const LintFacts& facts) {
  const ImageInventory& inv = r.inventory;
  std::unique_ptr<JsonDoc> config;
  if (!r.config.empty()) {
    try {
      config = parse_json(r.config, "config");
    } catch (const ImageError&) {
      config.reset();  // the walk read the same bytes; kept for the odd caller handing others
    }
  }
  const Node* root = config ? config->root : nullptr;
  const Node* cfg = get(root, "config");
  const Node* history = get(root, "history");
  const std::vector<std::size_t> steps = steps_of_layers(history, inv.layers.size());

  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  w.field("apiVersion", "kguard.io/v1");
  w.field("kind", "Image");
  w.key("metadata").begin_object();
  w.field("name", inv.reference);
  w.end_object();
  w.key("spec").begin_object();
  w.field("reference", inv.reference);
  w.field("tag", r.tag);
  w.field("digest", inv.manifest_digest);
  w.field("platform", inv.platform);
  w.key("os").begin_object();
  w.field("id", inv.os.id);
  w.field("versionId", inv.os.version_id);
  w.field("prettyName", inv.os.pretty_name);
  w.field("distroless", inv.os.distroless);
  w.end_object();
  std::uint64_t stored = 0;
  for (const LayerInfo& l : inv.layers) stored += l.size;
  w.field("size", r.bytes);
  w.field("storedSize", stored);
  w.field("fileCount", r.files);

  // The config's runtime settings; absent ones are written empty so a rule
  // sees "unset" the same way however the config spelled it.
  w.key("config").begin_object();
  w.field("user", str(get(cfg, "User")));
  w.key("env").begin_object();
  for (const Node* e : items(get(cfg, "Env"))) {
    const std::string_view v = str(e);
    const std::size_t eq = v.find('=');
    w.field(v.substr(0, eq), eq == std::string_view::npos ? std::string_view() : v.substr(eq + 1));
  }
  w.end_object();
  w.key("exposedPorts");
  keys_of(w, get(cfg, "ExposedPorts"));
  w.key("volumes");
  keys_of(w, get(cfg, "Volumes"));
  w.key("entrypoint");
  strings_of(w, get(cfg, "Entrypoint"));
  w.key("cmd");
  strings_of(w, get(cfg, "Cmd"));
  w.field("workingDir", str(get(cfg, "WorkingDir")));
  const Node* hc = get(get(cfg, "Healthcheck"), "Test");
  // ["NONE"] disables a healthcheck the base image set.
  if (!items(hc).empty() && str(items(hc)[0]) != "NONE") {
    w.key("healthcheck").begin_object();
    w.key("test");
    strings_of(w, hc);
    w.end_object();
  }
  w.key("labels").begin_object();
  for (const MapEntry& e : entries(get(cfg, "Labels"))) w.field(e.key->text(), str(e.value));
  w.end_object();
  w.end_object();

  // History: every step, with the layer it made (empty_layer steps make none).
  w.key("history").begin_array();
  {
    std::size_t layer = 0, step = 0;
    for (const Node* h : items(history)) {
      ++step;
      w.begin_object();
      w.field("step", static_cast<std::uint64_t>(step));
      w.field("createdBy", str(get(h, "created_by")));
      const bool empty = is_true(get(h, "empty_layer"));
      w.field("emptyLayer", empty);
      if (!empty && layer < inv.layers.size()) {
        w.field("layer", inv.layers[layer].digest);
        w.field("layerIndex", static_cast<std::uint64_t>(layer + 1));
      }
      if (!empty) ++layer;
      w.end_object();
    }
  }
  w.end_array();
  w.key("layers").begin_array();
  for (std::size_t i = 0; i < inv.layers.size(); ++i) {
    w.begin_object();
    w.field("index", static_cast<std::uint64_t>(i + 1));
    w.field("digest", inv.layers[i].digest);
    w.field("size", inv.layers[i].size);
    w.field("step", static_cast<std::uint64_t>(steps[i]));
    w.end_object();
  }
  w.end_array();

  w.key("packages").begin_object();
  w.field("count", static_cast<std::uint64_t>(inv.packages.size()));
  std::map<std::string_view, std::uint64_t> by_type;
  for (const Package& p : inv.packages) ++by_type[to_string(p.type)];
  w.key("byType").begin_object();
  for (const auto& [type, n] : by_type) w.field(type, n);
  w.end_object();
  w.end_object();

  // The lint's file facts, each located by path, layer and history step.
  auto fact_list = [&](std::string_view key, const std::vector<FileFact>& list) {
    w.key(key).begin_array();
    for (const FileFact& f : list) {
      w.begin_object();
      w.field("path", f.path);
      if (!f.name.empty()) w.field("name", f.name);
      if (!f.detail.empty()) w.field("detail", f.detail);
      if (f.layer < inv.layers.size()) {
        w.field("layer", inv.layers[f.layer].digest);
        w.field("layerIndex", static_cast<std::uint64_t>(f.layer + 1));
        w.field("step", static_cast<std::uint64_t>(steps[f.layer]));
      }
      if (f.removed) w.field("removed", true);
      w.end_object();
    }
    w.end_array();
  };
  w.key("files").begin_object();
  fact_list("setuidSetgid", facts.setid);
  fact_list("worldWritableInPath", facts.world_writable);
  fact_list("packageManagers", facts.package_managers);
  fact_list("networkTools", facts.network_tools);
  fact_list("shells", facts.shells);
  fact_list("secrets", facts.secrets);
  fact_list("packageCaches", facts.package_caches);
  fact_list("emptyPasswords", facts.empty_passwords);
  fact_list("duplicateUids", facts.duplicate_uids);
  w.key("path");
  w.begin_array();
  for (const std::string& d : facts.path_dirs) w.value(d);
  w.end_array();
  w.field("factsDropped", static_cast<std::uint64_t>(facts.dropped));
  w.end_object();
  w.end_object();
  w.end_object();
  w.flush();
  return indent_json(out.str()) + "\n";
}

}  // namespace kg::image
