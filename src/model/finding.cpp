#include "model/finding.hpp"

#include <algorithm>

namespace kg {

std::string_view to_string(Result r) {
  switch (r) {
    case Result::Fail: return "fail";
    case Result::Pass: return "pass";
    case Result::Exempt: return "exempt";
  }
  return "fail";
}

bool RuleInfo::has_tag(std::string_view t) const {
  return std::find(tags.begin(), tags.end(), t) != tags.end();
}

}  // namespace kg
