// ASCII case folding, independent of the C locale: Kubernetes names, HTTP
// header names, package names and ids are ASCII where case does not matter.
#pragma once

#include <string>
#include <string_view>

namespace kg {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace kg
