// Helpers shared by the C++ tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "core/document.hpp"

namespace kg::test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses `content` into a SourceFile that keeps its documents.
inline std::unique_ptr<SourceFile> load(std::string content, std::string name = "test.yaml",
                                        const LoadLimits& limits = {}) {
  auto f = std::make_unique<SourceFile>();
  f->path = std::move(name);
  f->content = std::move(content);
  load_documents(*f, limits);
  return f;
}

// The shared corpora: $KGUARD_CORPORA, else the path configured at build time.
inline std::filesystem::path corpora_dir() {
  if (const char* env = std::getenv("KGUARD_CORPORA")) return env;
  return KGUARD_CORPORA_DIR;
}

}  // namespace kg::test
