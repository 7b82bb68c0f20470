// An OCI image layout directory: oci-layout, index.json, blobs/<alg>/<hex>.
#include <sys/stat.h>

#include "sources/image/json.hpp"
#include "sources/image/sources.hpp"

namespace kg::image {
namespace {

class OciDir : public ImageSource {
 public:
  explicit OciDir(std::string dir) : dir_(std::move(dir)) {}

  std::string blob_path(const Descriptor& d) const {
    return dir_ + "/blobs/sha256/" + d.digest.substr(7);
  }
  std::string fetch(const Descriptor& d) {
    VerifyingSource v(open_file_source(blob_path(d)), d.digest, d.size, dir_ + ": blob " + d.digest);
    return read_all(v, kMaxJsonBlob, dir_ + ": blob " + d.digest);
  }
  std::unique_ptr<ByteSource> open_layer(const Descriptor& d) override {
    struct stat st {};
    if (::stat(blob_path(d).c_str(), &st) != 0)
      throw ImageError(dir_ + ": layer blob " + d.digest + " is missing (blobs/sha256/" + d.digest.substr(7) + ")");
    return std::make_unique<VerifyingSource>(open_file_source(blob_path(d)), d.digest, d.size,
                                             dir_ + ": layer " + d.digest);
  }

 private:
  std::string dir_;
};

std::string read_small_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw ImageError(path + ": missing (" + what + ")");
  if (!S_ISREG(st.st_mode)) throw ImageError(path + ": not a regular file (" + what + ")");
  auto in = open_file_source(path);
  return read_all(*in, kMaxJsonBlob, path);
}

}  // namespace

std::unique_ptr<ImageSource> open_oci_dir(const ImageRef& ref, const ReadOptions& options) {
  struct stat st {};
  if (::stat(ref.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ImageError(ref.path + ": not a directory (oci:DIR names an OCI image layout)");
  auto src = std::make_unique<OciDir>(ref.path);
  std::string layout = read_small_file(ref.path + "/oci-layout", "an OCI image layout has one");
  auto ldoc = parse_json(layout, ref.path + "/oci-layout");
  if (str(get(ldoc->root, "imageLayoutVersion")).empty())
    throw ImageError(ref.path + "/oci-layout: no imageLayoutVersion");
  std::string index = read_small_file(ref.path + "/index.json", "an OCI image layout has one");
  std::string tag = ref.tag;
  OciDir* self = src.get();
  resolve_manifest(*src, std::move(index), "", "application/vnd.oci.image.index.v1+json", ref.path + "/index.json",
                   options, [self](const Descriptor& d) { return self->fetch(d); }, &tag);
  src->tag = ref.tag;
  return src;
}

}  // namespace kg::image
