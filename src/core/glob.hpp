// Glob matching shared by exemptions, RBAC name patterns and image patterns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kg {

// '*' matches any run of characters (including '/'), '?' any one character.
bool glob_match(std::string_view pattern, std::string_view text);
// For file paths: '*' and '?' stop at '/', '**' crosses directories.
bool path_glob_match(std::string_view pattern, std::string_view path);
// True when any pattern matches; an empty list matches nothing.
bool any_glob(const std::vector<std::string>& patterns, std::string_view text);

}  // namespace kg
