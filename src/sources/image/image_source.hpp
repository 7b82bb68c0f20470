// Where an image comes from, behind one interface: an OCI layout directory,
// an OCI archive, a docker save archive (legacy, Docker 25+ OCI-in-tar,
// skopeo's symlinked layer.tar; plain or gzip), a registry (OCI distribution
// API), or a root filesystem directory. Every source resolves the reference
// to one image (a multi-arch index picks --platform) and hands out its blobs
// as streams verified against their digests (docs/images.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sources/image/stream.hpp"

namespace kg::image {

struct ImageRef {
  enum class Kind { OciDir, OciArchive, DockerArchive, Dir, Registry };
  Kind kind = Kind::Registry;
  std::string text;        // as the user wrote it
  std::string path;        // file or directory (local kinds)
  std::string tag;         // oci:DIR:TAG, oci-archive:FILE:TAG, registry tag
  std::string registry;    // host[:port] (registry kind), docker.io normalised to its API host
  std::string repository;  // library/alpine
  std::string digest;      // @sha256:...
};

// Parses `oci:DIR[:tag]`, `oci-archive:FILE[:tag]`, `docker-archive:FILE`,
// `dir:PATH`, `[registry/]repo[:tag][@sha256:...]`. Empty error when fine.
ImageRef parse_reference(const std::string& text, std::string& error);

struct Platform {
  std::string os, architecture, variant;
  std::string str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }
};
// "linux/arm64/v8"; false when malformed.
bool parse_platform(const std::string& text, Platform& out);

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = UINT64_MAX;  // UINT64_MAX: not declared (legacy docker archives)
  std::vector<std::string> urls;
  bool foreign = false;  // non-distributable: not read, noted
};

struct ReadOptions {
  Platform platform;               // empty os: linux/amd64 when an index must choose
  bool allow_insecure = false;     // registries: plain HTTP, no TLS verification
  std::string ca_file;             // registries: extra CA bundle
  std::string docker_config;       // registries: config.json (default $DOCKER_CONFIG or ~/.docker)
  int retries = 3;
  // What a compressed archive may decompress to (the walk sets it to its --max-image-bytes).
  std::uint64_t max_archive_bytes = std::uint64_t{16} << 30;
};

// One image resolved from a reference: its manifest and config (bytes
// verified), and a way to read each layer blob.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  std::string manifest_digest;    // sha256 of the manifest bytes ("" for a legacy docker archive)
  std::string manifest;           // raw bytes
  std::string config_digest;
  std::string config;             // raw bytes
  std::vector<Descriptor> layers;
  std::string platform;           // from the config (os/architecture[/variant])
  std::string tag;                // the tag the reference named or the archive records
  std::vector<std::string> notes; // things worth telling the user (index choice, skipped layers)
  bool is_rootfs = false;         // dir:PATH: no blobs, walk the directory instead
  std::string rootfs;

  // The layer blob, verified against layer.digest as it is read (an
  // ImageError at its end on mismatch).
  virtual std::unique_ptr<ByteSource> open_layer(const Descriptor& layer) = 0;
};

// Opens the image `ref` names. Throws ImageError with a message naming
// the source and what is wrong.
std::unique_ptr<ImageSource> open_image(const ImageRef& ref, const ReadOptions& options);

// --- shared by the sources (image_source.cpp) ---
// A blob small enough to hold (manifest, index, config): at most this much.
constexpr std::size_t kMaxJsonBlob = std::size_t{4} << 20;

// Reads a small blob (manifest, index, config), verified against d.digest.
using BlobFetch = std::function<std::string(const Descriptor& d)>;
// From an index or manifest's bytes (`digest` already verified, `media_type`
// as the descriptor or HTTP said, may be empty) to one image manifest: an
// index picks options.platform (nested up to 4 deep); `layout_tag` set
// (OCI layout index.json) first keeps the entries whose ref.name is that
// tag. Fills src.manifest, manifest_digest, config, config_digest, layers
// and platform.
void resolve_manifest(ImageSource& src, std::string bytes, std::string digest, std::string media_type,
                      const std::string& where, const ReadOptions& options, const BlobFetch& fetch,
                      const std::string* layout_tag = nullptr, int depth = 0);
// Fills src.platform from src.config (and checks it is an image config).
void read_config(ImageSource& src, const std::string& where);

bool is_layer_media_type(const std::string& mt);
bool is_foreign_media_type(const std::string& mt);

}  // namespace kg::image
