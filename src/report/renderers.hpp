// The one list of report formats. Each renderer consumes the ReportModel
// only (never an engine) and writes one format to a stream.
#pragma once

#include <ostream>
#include <span>
#include <string_view>

#include "report/model.hpp"

namespace kg {

struct RenderOptions {
  bool color = false;  // text only: ANSI colours
};

using RenderFn = void (*)(const ReportModel& model, const RenderOptions& options, std::ostream& out);

struct Renderer {
  std::string_view format;  // the -o name
  std::string_view summary;
  RenderFn render;
};

std::span<const Renderer> renderers();
const Renderer* find_renderer(std::string_view format);

}  // namespace kg
