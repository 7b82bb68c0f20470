#include "report/renderers.hpp"

namespace kg {
namespace {

void render_text(const ReportModel& m, const RenderOptions& o, std::ostream& out) {
  write_text_report(m, out, o.color);
}
void render_json(const ReportModel& m, const RenderOptions&, std::ostream& out) {
  write_json_report(m, out);
}

}  // namespace

// Add a format here (and its write_* function in model.hpp).
std::span<const Renderer> renderers() {
  static const Renderer kRenderers[] = {
      {"text", "terminal report (colour when a TTY)", render_text},
      {"json", "versioned JSON report (docs/report.md)", render_json},
  };
  return kRenderers;
}

const Renderer* find_renderer(std::string_view format) {
  for (const Renderer& r : renderers())
    if (r.format == format) return &r;
  return nullptr;
}

}  // namespace kg
