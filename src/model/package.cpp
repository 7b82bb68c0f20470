#include "model/package.hpp"

namespace kg {

std::string_view to_string(PackageType t) {
  switch (t) {
    case PackageType::Deb: return "deb";
    case PackageType::Apk: return "apk";
    case PackageType::Rpm: return "rpm";
    case PackageType::Python: return "pypi";
    case PackageType::Npm: return "npm";
    case PackageType::Golang: return "golang";
    case PackageType::Maven: return "maven";
    case PackageType::Cargo: return "cargo";
  }
  return "unknown";
}

}  // namespace kg
