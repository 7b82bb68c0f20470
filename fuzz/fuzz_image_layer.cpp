// libFuzzer target for image layers (untrusted: anyone can publish an image):
// the input is one layer blob, sniffed and decompressed (gzip, zstd, plain),
// read as a tar (ustar, GNU long names, PAX) and walked (whiteouts, links,
// symlink resolution, os-release) with small limits; then the same bytes as
// a docker save / OCI archive (the archive index, manifest.json, configs).
// Every outcome is an error message or a result, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engines/image/walk.hpp"
#include "memfile.hpp"

namespace {

class OneLayer : public kg::image::ImageSource {
 public:
  explicit OneLayer(std::string blob) : blob_(std::move(blob)) {
    kg::image::Descriptor d;
    d.digest = "sha256:" + kg::image::sha256_hex(blob_);
    d.size = blob_.size();
    layers.push_back(d);
    config = R"({"os":"linux","architecture":"amd64","rootfs":{"diff_ids":[]}})";
  }
  std::unique_ptr<kg::image::ByteSource> open_layer(const kg::image::Descriptor& d) override {
    return std::make_unique<kg::image::VerifyingSource>(std::make_unique<kg::image::StringSource>(blob_), d.digest,
                                                        d.size, "fuzz layer");
  }

 private:
  std::string blob_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  kg::image::WalkLimits limits;
  limits.max_bytes = std::uint64_t{64} << 20;
  limits.max_files = 10'000;
  limits.max_path = 1024;
  limits.list_files = true;
  OneLayer src(bytes);
  auto r = kg::image::walk_source(src, "fuzz", limits, {});
  if (!r.ok() && r.error.empty()) __builtin_trap();
  for (const auto& f : r.file_list)
    if (f.path.empty() || f.path[0] != '/' || f.path.find("/../") != std::string::npos) __builtin_trap();

  static MemFile archive("fuzz-archive");  // one per process, rewritten per input
  const std::string& path = archive.write(data, size);
  for (const char* kind : {"docker-archive:", "oci-archive:"}) {
    auto a = kg::image::read_image(kind + path, {}, limits, {});
    if (!a.ok() && a.error.empty()) __builtin_trap();
  }
  return 0;
}
