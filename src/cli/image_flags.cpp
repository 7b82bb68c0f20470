#include "cli/image_flags.hpp"

#include "cli/args.hpp"
#include "core/document.hpp"

namespace kg::cli {

int parse_image_read_flag(const std::vector<std::string>& args, std::size_t& i, image::ReadOptions& options,
                          image::WalkLimits& limits, std::string& error) {
  const std::string& a = args[i];
  ArgCursor flag(args, i);
  std::string v;
  auto need = [&](const char* what) {
    if (flag.value(v) && !v.empty()) return true;
    error = what;
    return false;
  };
  if (a == "--allow-insecure-registry") {
    options.allow_insecure = true;
  } else if (flag.is("--platform")) {
    if (!need("--platform needs OS/ARCH[/VARIANT]")) return -1;
    if (!image::parse_platform(v, options.platform)) {
      error = "--platform '" + v + "' is not OS/ARCH[/VARIANT] (e.g. linux/arm64/v8)";
      return -1;
    }
  } else if (flag.is("--registry-ca")) {
    if (!need("--registry-ca needs a PEM file")) return -1;
    options.ca_file = v;
  } else if (flag.is("--docker-config")) {
    if (!need("--docker-config needs a file")) return -1;
    options.docker_config = v;
  } else if (flag.is("--max-image-bytes")) {
    if (!need("--max-image-bytes needs a size")) return -1;
    auto n = parse_byte_size(v);
    if (!n) {
      error = "--max-image-bytes '" + v + "' is not a size (e.g. 8GiB)";
      return -1;
    }
    limits.max_bytes = *n;
  } else if (flag.is("--max-files") || flag.is("--max-path")) {
    const bool files = flag.is("--max-files");
    if (!need(files ? "--max-files needs a number" : "--max-path needs a number")) return -1;
    long long n = 0;
    if (!parse_int_in(v, 1, files ? 1'000'000'000LL : 1'000'000LL, n)) {
      error = std::string(files ? "--max-files" : "--max-path") + " '" + v + "' is not a positive number";
      return -1;
    }
    if (files) {
      limits.max_files = static_cast<std::uint64_t>(n);
    } else {
      limits.max_path = static_cast<std::size_t>(n);
    }
  } else {
    return 0;
  }
  return 1;
}

const char* image_read_flags_help() {
  return R"(      --platform OS/ARCH[/VARIANT]  the image of a multi-platform index
                               (default: linux and this machine's architecture)
      --allow-insecure-registry  plain HTTP and unverified TLS for the registry
      --registry-ca FILE       extra CA certificates (PEM) for the registry
      --docker-config FILE     docker's config.json (default: $DOCKER_CONFIG/config.json,
                               else ~/.docker/config.json)
      --max-image-bytes SIZE   uncompressed bytes of all layers (default 16GiB)
      --max-files N            tar entries of all layers (default 2000000)
      --max-path N             bytes of one entry or link name (default 4096)
)";
}

}  // namespace kg::cli
