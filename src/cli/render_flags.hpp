// The flags of `kguard scan` that say how Helm charts and kustomizations in
// the input are rendered (sources/render): tools, values, release.
#pragma once

#include <string>
#include <vector>

#include "sources/render/render.hpp"

namespace kg::cli {

// Consumes args[i] (and its value) when it is a render flag: 1 when
// consumed, 0 when not a render flag, -1 with `error` on a bad value.
int parse_render_flag(const std::vector<std::string>& args, std::size_t& i,
                      render::RenderOptions& options, std::string& error);

const char* render_flags_help();

}  // namespace kg::cli
