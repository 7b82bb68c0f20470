// The flags that say how images are read (engines/image, sources/image):
// platform, registry access, bounds. Shared by `kguard image` and
// `kguard scan --images`.
#pragma once

#include <string>
#include <vector>

#include "engines/image/walk.hpp"

namespace kg::cli {

// Consumes args[i] (and its value) when it is an image read flag: 1 when
// consumed, 0 when not one, -1 with `error` on a bad or missing value.
int parse_image_read_flag(const std::vector<std::string>& args, std::size_t& i, image::ReadOptions& options,
                          image::WalkLimits& limits, std::string& error);

const char* image_read_flags_help();

}  // namespace kg::cli
