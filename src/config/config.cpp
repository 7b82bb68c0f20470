#include "config/config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kg {

void Config::apply(ScanOptions& options) const {
  for (const auto& [kind, tpl] : pod_template_paths) options.pod_specs.set(kind, tpl);
}

std::optional<Config> load_config(const std::string& path, std::vector<InputError>& errors) {
  SourceFile file;
  file.path = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({path, 0, 0, "cannot read config file"});
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  file.content = ss.str();
  load_documents(file);
  if (!file.errors.empty()) {
    errors.insert(errors.end(), file.errors.begin(), file.errors.end());
    return std::nullopt;
  }
  Config cfg;
  cfg.path = path;
  if (file.documents.empty()) return cfg;
  const Node* root = file.documents[0].root;
  auto bad = [&](const Node* at, const std::string& msg) {
    errors.push_back({path, at->line, at->column, msg});
  };
  if (!root->is_map()) {
    bad(root, "config must be a mapping");
    return std::nullopt;
  }
  bool ok = true;
  for (const MapEntry& e : root->entries()) {
    std::string_view key = e.key->text();
    if (key == "podTemplatePaths") {
      if (!e.value->is_map()) {
        bad(e.value, "podTemplatePaths: must map a kind to the path of its pod template");
        ok = false;
        continue;
      }
      for (const MapEntry& p : e.value->entries()) {
        std::string_view tpl = str(p.value);
        if (tpl.empty() || tpl.front() == '.' || tpl.back() == '.') {
          bad(p.value, "podTemplatePaths." + std::string(p.key->text()) +
                           ": must be a dotted field path such as spec.template");
          ok = false;
          continue;
        }
        cfg.pod_template_paths.emplace_back(std::string(p.key->text()), std::string(tpl));
      }
    } else {
      bad(e.key, "unknown config field '" + std::string(key) + "'");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return cfg;
}

std::string find_config_upward(const std::string& start) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return {};
  if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
  for (; !dir.empty(); dir = dir.parent_path()) {
    fs::path candidate = dir / ".kguard.yaml";
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    if (dir == dir.root_path()) break;
  }
  return {};
}

}  // namespace kg
