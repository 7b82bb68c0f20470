// The `image` template: image reference hygiene per container.
#include <algorithm>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

struct ImageRef {
  std::string_view registry;  // empty when implicit (docker.io)
  std::string_view tag;
  std::string_view digest;
};

ImageRef parse_image(std::string_view image) {
  ImageRef r;
  if (auto at = image.find('@'); at != std::string_view::npos) {
    r.digest = image.substr(at + 1);
    image = image.substr(0, at);
  }
  auto slash = image.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = image.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost")
      r.registry = first;
  }
  auto last_slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash))
    r.tag = image.substr(colon + 1);
  return r;
}

enum class Mode { Tag, Digest, Registry };

class ImageCheck final : public Check {
 public:
  Mode mode = Mode::Tag;
  std::vector<std::string> registries;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    if (!in.pod) return Outcome::NotApplicable;
    bool any = false;
    for (const ContainerRef& c : in.containers) {
      any = true;
      const Node* img = c.node->get("image");
      std::string_view image = str(img);
      const std::string who = checks::describe(c);
      const std::string path = join_path(c.path, "image");
      const Node* at = img ? img : c.node;
      if (image.empty()) {
        out.push_back({who + " has no image", at, path, std::string(c.name)});
        continue;
      }
      ImageRef ref = parse_image(image);
      switch (mode) {
        case Mode::Tag:
          if (ref.digest.empty() && (ref.tag.empty() || ref.tag == "latest")) {
            out.push_back({who + " uses image \"" + std::string(image) +
                               "\" without a fixed tag (it resolves to :latest)",
                           at, path, std::string(c.name)});
          }
          break;
        case Mode::Digest:
          if (ref.digest.substr(0, 7) != "sha256:") {
            out.push_back({who + " image \"" + std::string(image) + "\" is not pinned by digest",
                           at, path, std::string(c.name)});
          }
          break;
        case Mode::Registry: {
          std::string_view reg = ref.registry.empty() ? std::string_view("docker.io") : ref.registry;
          if (std::find(registries.begin(), registries.end(), reg) == registries.end()) {
            out.push_back({who + " pulls from registry \"" + std::string(reg) +
                               "\", which is not in the allowed list",
                           at, path, std::string(c.name)});
          }
          break;
        }
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

}  // namespace

std::unique_ptr<Check> compile_image_check(const Params& params, std::string& error) {
  auto check = std::make_unique<ImageCheck>();
  std::string_view mode = params.string("mode");
  if (mode == "tag") {
    check->mode = Mode::Tag;
  } else if (mode == "digest") {
    check->mode = Mode::Digest;
  } else if (mode == "registry") {
    check->mode = Mode::Registry;
    check->registries = params.strings("allowedRegistries");
    if (check->registries.empty()) {
      error = "allowedRegistries is required for mode registry";
      return nullptr;
    }
  } else {
    error = "mode must be tag, digest or registry";
    return nullptr;
  }
  return check;
}

}  // namespace kg
