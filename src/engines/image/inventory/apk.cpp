// Alpine's installed database (apk-tools' "installed" file, man apk-v2 / apk-tools src/database.c).
#include "engines/image/inventory/os_packages.hpp"

namespace kg::image {

ParseResult parse_apk_installed(std::string_view path, std::string_view content) {
  ParseResult r;
  Package cur;
  std::uint32_t first = 0;
  bool open = false;
  auto flush = [&] {
    if (!open) return;
    open = false;
    if (cur.name.empty() || cur.version.empty()) {
      r.errors.push_back({std::string(path), first, "package without P: (name) or V: (version)"});
    } else {
      cur.type = PackageType::Apk;
      if (cur.source_name == cur.name) cur.source_name.clear();  // the model's convention
      r.packages.push_back(std::move(cur));
    }
    cur = Package{};
  };
  LineReader lines(content);
  std::string_view line;
  while (lines.next(line)) {
    const std::uint32_t line_no = lines.number();
    if (line.empty()) {
      flush();
      continue;
    }
    if (line.size() < 2 || line[1] != ':') {
      if (r.errors.size() < 100) {
        r.errors.push_back({std::string(path), line_no, "expected 'K:value', got '" +
                                                            std::string(line.substr(0, 60)) + "'"});
      }
      continue;
    }
    if (!open) {
      open = true;
      first = line_no;
    }
    const std::string_view v = line.substr(2);
    switch (line[0]) {
      case 'P': cur.name = std::string(v); break;
      case 'V': cur.version = std::string(v); break;
      case 'A': cur.arch = std::string(v); break;
      case 'o': cur.source_name = std::string(v); break;
      case 'L': cur.license = std::string(v); break;
      case 'C': cur.checksum = std::string(v); break;
      default: break;  // files, dependencies, sizes, ...
    }
  }
  flush();
  return r;
}

}  // namespace kg::image
