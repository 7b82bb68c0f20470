// The concrete image sources behind open_image (image_source.hpp).
#pragma once

#include <memory>

#include "sources/image/image_source.hpp"

namespace kg::image {

std::unique_ptr<ImageSource> open_oci_dir(const ImageRef& ref, const ReadOptions& options);
// oci-archive (docker == false) or docker-archive: a tar, plain or gzip.
std::unique_ptr<ImageSource> open_archive(const ImageRef& ref, const ReadOptions& options, bool docker);
std::unique_ptr<ImageSource> open_rootfs_dir(const ImageRef& ref);
std::unique_ptr<ImageSource> open_registry(const ImageRef& ref, const ReadOptions& options);
// The manifest digest a registry reference names now (HEAD, else GET and
// hash): the top-level one, an index's for a multi-platform tag. Throws ImageError.
std::string registry_manifest_digest(const ImageRef& ref, const ReadOptions& options);

}  // namespace kg::image
