// libFuzzer target for image metadata (untrusted: registries and archives
// serve it): the input as an OCI/Docker index or manifest (every blob fetched
// is the input again, so nesting and configs are reached), as an image
// config, and as references, platforms and os-release text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/image/inventory/os_detect.hpp"
#include "engines/image/walk.hpp"

namespace {

class Meta : public kg::image::ImageSource {
 public:
  std::unique_ptr<kg::image::ByteSource> open_layer(const kg::image::Descriptor&) override {
    throw kg::image::ImageError("no layers");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char* media_type : {"", "application/vnd.oci.image.index.v1+json"}) {
    Meta src;
    kg::image::ReadOptions options;
    kg::image::parse_platform("linux/arm64/v8", options.platform);
    std::string tag = "latest";
    try {
      kg::image::resolve_manifest(src, text, "", media_type, "fuzz", options,
                                  [&text](const kg::image::Descriptor&) { return text; },
                                  *media_type ? &tag : nullptr);
    } catch (const kg::image::ImageError& e) {
      if (std::string(e.what()).empty()) __builtin_trap();
    }
  }
  Meta config;
  config.config = text;
  try {
    kg::image::read_config(config, "config");
  } catch (const kg::image::ImageError&) {
  }
  std::string error;
  (void)kg::image::parse_reference(text, error);
  kg::image::Platform p;
  (void)kg::image::parse_platform(text, p);
  (void)kg::image::parse_os_release(text);
  return 0;
}
