#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engines/vuln/db/feeds/feeds.hpp"

namespace kg::vuln::feed {

void parse(Parsed& out, std::string_view name, std::string_view text, bool yaml) {
  out.file.path = std::string(name);
  out.file.content.assign(text);
  LoadLimits limits;
  // The tracker's whole JSON is one value of tens of MiB; a feed is data the
  // user chose, so the bounds are raised, not removed.
  limits.max_file_bytes = std::size_t{1} << 30;
  limits.max_document_bytes = std::size_t{1} << 30;
  limits.max_errors_per_file = 10;
  out.file.max_errors = limits.max_errors_per_file;
  out.root = nullptr;
  bool first = true;
  const DocumentSink sink = [&](const Document& d) {
    if (first) out.root = d.root;
    first = false;
  };
  if (yaml) {
    load_yaml(out.file, out.file.arena, false, limits, sink);
  } else {
    load_json(out.file, out.file.arena, false, limits, sink);
  }
  if (out.root == nullptr) {
    if (!out.file.errors.empty()) {
      const InputError& e = out.file.errors.front();
      out.error = e.file + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
    } else {
      out.error = std::string(name) + ": empty document";
    }
  }
}

std::string text(const Node* n) {
  if (n == nullptr || !n->is_scalar()) return {};
  return std::string(n->text());
}

std::vector<std::string> list_files(const std::string& path, std::initializer_list<std::string_view> exts,
                                    std::string* error) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    if (error) *error = path + ": no such file or folder";
    return out;
  }
  if (fs::is_regular_file(st)) {
    out.push_back(path);
    return out;
  }
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    if (error) *error = path + ": " + ec.message();
    return out;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      if (error) *error = path + ": " + ec.message();
      break;
    }
    if (!it->is_regular_file(ec)) continue;
    const std::string p = it->path().string();
    for (std::string_view e : exts)
      if (p.size() >= e.size() && p.compare(p.size() - e.size(), e.size(), e) == 0) {
        out.push_back(p);
        break;
      }
  }
  std::sort(out.begin(), out.end());  // a stable build order whatever the folder order
  return out;
}

bool read(const std::string& path, std::string& out, std::string* error) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > (std::uintmax_t{1} << 30)) {
    if (error) *error = path + ": larger than 1 GiB; refused";
    return false;
  }
  if (!read_file(path, out)) {
    if (error) *error = path + ": cannot be read";
    return false;
  }
  return true;
}

std::string first_word(std::string_view s, std::vector<std::string>* more) {
  std::string first;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i == start) break;
    if (first.empty()) {
      first.assign(s.substr(start, i - start));
    } else if (more) {
      more->emplace_back(s.substr(start, i - start));
    }
  }
  return first;
}

}  // namespace kg::vuln::feed
