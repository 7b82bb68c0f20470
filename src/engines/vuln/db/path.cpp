#include <cstdlib>

#include "engines/vuln/db/database.hpp"

namespace kg::vuln {

std::string default_db_path() {
  // XDG first, as the image cache does: one place a user clears.
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    return std::string(xdg) + "/kguard/vuln.db";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::string(home) + "/.cache/kguard/vuln.db";
  return ".kguard-vuln.db";
}

}  // namespace kg::vuln
