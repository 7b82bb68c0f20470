// The HTML report: one self-contained page (inline CSS, inline SVG charts,
// vanilla JS, no network requests) for a platform team's weekly review.
#pragma once

#include <ostream>

#include "report/model.hpp"

namespace kg {

void write_html_report(const ReportModel& m, std::ostream& out);

}  // namespace kg
