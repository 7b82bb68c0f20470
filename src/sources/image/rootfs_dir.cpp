// dir:PATH — an unpacked root filesystem: no manifest, no blobs; the walk
// (engines/image) reads the directory as the one layer.
#include <sys/stat.h>

#include "sources/image/sources.hpp"

namespace kg::image {
namespace {

class RootfsDir : public ImageSource {
 public:
  std::unique_ptr<ByteSource> open_layer(const Descriptor&) override {
    throw ImageError(rootfs + ": a root filesystem directory has no layer blobs");
  }
};

}  // namespace

std::unique_ptr<ImageSource> open_rootfs_dir(const ImageRef& ref) {
  struct stat st {};
  if (::stat(ref.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ImageError(ref.path + ": not a directory (dir:PATH names a root filesystem)");
  auto src = std::make_unique<RootfsDir>();
  src->is_rootfs = true;
  src->rootfs = ref.path;
  return src;
}

}  // namespace kg::image
