#include "cli/render_flags.hpp"

#include <algorithm>
#include <charconv>

#include "cli/args.hpp"

namespace kg::cli {

const char* render_flags_help() {
  return R"(      --helm PATH              helm binary for Helm charts (default: helm on PATH)
      --kustomize PATH         kustomize (or kubectl) binary for kustomizations
                               (default: kustomize, else kubectl kustomize, on PATH)
      --values FILE            values file for every chart (repeatable; later wins)
      --set KEY=VALUE          a value for every chart, as helm --set (repeatable)
      --release-name NAME      release name charts are rendered with
      --release-namespace NS   namespace charts are rendered into
      --render-timeout SECS    per chart or kustomization (default 120)
      --skip-render            do not render: walk chart and kustomization folders
                               like any other (each named in the report)
)";
}

int parse_render_flag(const std::vector<std::string>& args, std::size_t& i,
                      render::RenderOptions& options, std::string& error) {
  const std::string& a = args[i];
  ArgCursor flag(args, i);
  std::string v;
  auto text = [&](const char* what, std::string& out) {
    if (!flag.value(v) || v.empty())
      return error = std::string(a.substr(0, a.find('='))) + " needs " + what, -1;
    out = v;
    return 1;
  };
  if (flag.is("--helm")) return text("a path", options.helm);
  if (flag.is("--kustomize")) return text("a path", options.kustomize);
  if (flag.is("--release-name")) return text("a name", options.release_name);
  if (flag.is("--release-namespace")) return text("a namespace", options.release_namespace);
  if (flag.is("--values")) {
    if (const int r = text("a file", v); r < 0) return r;
    options.values_files.push_back(v);
    return 1;
  }
  if (flag.is("--set")) {
    if (const int r = text("KEY=VALUE", v); r < 0) return r;
    if (v.find('=') == std::string::npos || v[0] == '=')
      return error = "--set needs KEY=VALUE, not '" + v + "'", -1;
    options.set_values.push_back(v);
    return 1;
  }
  if (flag.is("--render-timeout")) {
    if (!flag.value(v)) return error = "--render-timeout needs seconds", -1;
    int s = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
    if (ec != std::errc() || end != v.data() + v.size() || s < 1)
      return error = "--render-timeout needs a positive number of seconds, not '" + v + "'", -1;
    options.timeout_seconds = std::min(s, 3600);
    return 1;
  }
  if (a == "--skip-render") {
    options.enabled = false;
    return 1;
  }
  return 0;
}

}  // namespace kg::cli
