// Image archives: a tar holding an OCI layout (oci-archive, Docker 25+ docker
// save) or docker save's legacy manifest.json layout (skopeo writes each
// <id>/layer.tar as a symlink to <diffid>.tar). Plain or gzip-compressed
// (`docker save | gzip`). A plain archive is indexed once, reading headers
// only, and blobs are file regions; a compressed one is indexed in one
// decompressing pass that keeps the small members (manifests, configs), and
// each layer is read by decompressing again up to it (once for layers in
// archive order: the stream is reused while it has not passed the layer).
#include <sys/stat.h>

#include <map>

#include "sources/image/decompress.hpp"
#include "sources/image/json.hpp"
#include "sources/image/sources.hpp"
#include "sources/image/tar.hpp"

namespace kg::image {
namespace {

// Counts the position of the stream it passes through.
class Counting : public ByteSource {
 public:
  explicit Counting(ByteSource& in) : in_(in) {}
  std::size_t read(char* buf, std::size_t n) override {
    std::size_t got = in_.read(buf, n);
    pos_ += got;
    return got;
  }
  bool skip(std::uint64_t n) override {
    bool ok = in_.skip(n);
    if (ok) pos_ += n;
    return ok;
  }
  std::uint64_t pos() const { return pos_; }

 private:
  ByteSource& in_;
  std::uint64_t pos_ = 0;
};

struct Member {
  char type = '0';
  std::string link;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  bool kept = false;
  std::string data;  // small members of a compressed archive
};

constexpr std::size_t kKeepSmall = std::size_t{256} << 10;
constexpr std::size_t kKeepTotal = std::size_t{64} << 20;

std::string normalize_member(std::string_view name) {
  std::vector<std::string_view> parts;
  while (!name.empty()) {
    std::size_t s = name.find('/');
    std::string_view p = name.substr(0, s);
    name = s == std::string_view::npos ? std::string_view{} : name.substr(s + 1);
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (auto p : parts) out += (out.empty() ? "" : "/") + std::string(p);
  return out;
}

ImageError bad_layer_digest(const std::string& where, const std::string& name, const std::string& digest) {
  return ImageError(where + ": layer " + name + ": bad digest '" + digest + "'");
}

class Archive : public ImageSource {
 public:
  Archive(std::string path, bool docker, std::uint64_t max_bytes)
      : path_(std::move(path)), docker_(docker), max_bytes_(max_bytes) {}

  void index() {
    auto file = open_file_source(path_);
    auto in = open_decompressed(*file, max_bytes_, path_, &compression_);
    Counting counting(*in);
    TarReader tar(counting);
    TarEntry e;
    std::size_t kept_total = 0;
    while (tar.next(e)) {
      Member m;
      m.type = e.type;
      m.link = e.linkname;
      m.offset = counting.pos();
      m.size = e.size;
      if (compression_ != Compression::None && e.is_file() && e.size <= kKeepSmall &&
          kept_total + e.size <= kKeepTotal) {
        m.data.resize(e.size);
        std::size_t got = 0;
        while (got < e.size) got += tar.read(m.data.data() + got, e.size - got);
        m.kept = true;
        kept_total += e.size;
      }
      members_[normalize_member(e.name)] = std::move(m);
      if (members_.size() > 1'000'000) throw ImageError(path_ + ": more than a million archive members");
    }
  }

  // The regular member `name` names, through symlinks and hard links inside the archive.
  const Member& member(const std::string& name) const {
    std::string n = normalize_member(name);
    for (int hops = 0; hops < 16; ++hops) {
      auto it = members_.find(n);
      if (it == members_.end()) throw ImageError(path_ + ": no member '" + n + "' in the archive");
      const Member& m = it->second;
      if (m.type == '2') {
        std::size_t slash = n.rfind('/');
        n = normalize_member((m.link.starts_with("/") || slash == std::string::npos ? "" : n.substr(0, slash + 1)) +
                             m.link);
        continue;
      }
      if (m.type == '1') {
        n = normalize_member(m.link);
        continue;
      }
      if (m.type != '0' && m.type != '\0' && m.type != '7')
        throw ImageError(path_ + ": member '" + n + "' is not a regular file");
      return m;
    }
    throw ImageError(path_ + ": member '" + name + "': too many links (a loop?)");
  }
  bool has(const std::string& name) const { return members_.count(normalize_member(name)) > 0; }

  std::unique_ptr<ByteSource> open_member(const Member& m) {
    if (m.kept) return std::make_unique<StringSource>(m.data);
    if (compression_ == Compression::None) return open_file_source(path_, m.offset, m.size);
    // Reuse the decompressing stream when it has not passed the member yet.
    if (!stream_ || stream_pos_ > m.offset) {
      stream_.reset();
      file_ = open_file_source(path_);
      stream_ = open_decompressed(*file_, max_bytes_, path_);
      stream_pos_ = 0;
    }
    if (!stream_->skip(m.offset - stream_pos_)) throw ImageError(path_ + ": archive ends early (truncated)");
    stream_pos_ = m.offset;
    return std::make_unique<Region>(*this, m.size);
  }

  std::string read_member(const std::string& name, const std::string& what) {
    const Member& m = member(name);
    if (m.size > kMaxJsonBlob) throw ImageError(path_ + ": " + what + " '" + name + "' is over the size limit");
    auto in = open_member(m);
    return read_all(*in, kMaxJsonBlob, path_ + ": " + name);
  }

  std::string fetch(const Descriptor& d) {
    std::string name = "blobs/sha256/" + d.digest.substr(7);
    const Member& m = member(name);
    if (m.size > kMaxJsonBlob) throw ImageError(path_ + ": blob " + d.digest + " is over the size limit");
    VerifyingSource v(open_member(m), d.digest, d.size, path_ + ": blob " + d.digest);
    return read_all(v, kMaxJsonBlob, path_ + ": blob " + d.digest);
  }

  std::unique_ptr<ByteSource> open_layer(const Descriptor& d) override {
    auto it = layer_member_.find(d.digest);
    std::string name = it != layer_member_.end() ? it->second : "blobs/sha256/" + d.digest.substr(7);
    return std::make_unique<VerifyingSource>(open_member(member(name)), d.digest, d.size,
                                             path_ + ": layer " + d.digest + " (" + name + ")");
  }

  void open_oci(const ReadOptions& options, const std::string& want_tag) {
    std::string layout = read_member("oci-layout", "the OCI layout marker");
    parse_json(layout, path_ + ":oci-layout");
    std::string index = read_member("index.json", "the OCI index");
    std::string t = want_tag;
    resolve_manifest(*this, std::move(index), "", "application/vnd.oci.image.index.v1+json", path_ + ":index.json",
                     options, [this](const Descriptor& d) { return fetch(d); }, &t);
  }

  void open_legacy(const std::string& want_tag) {
    std::string where = path_ + ":manifest.json";
    auto doc = parse_json(read_member("manifest.json", "docker save's manifest"), where, true);
    const Node* chosen = nullptr;
    std::string tags;
    for (const Node* e : items(doc->root)) {
      for (const Node* t : items(get(e, "RepoTags"))) {
        std::string rt(str(t));
        tags += (tags.empty() ? "" : ", ") + rt;
        std::size_t c = rt.rfind(':');
        if (!chosen && !want_tag.empty() && (rt == want_tag || (c != std::string::npos && rt.substr(c + 1) == want_tag))) chosen = e;
      }
    }
    if (!want_tag.empty() && !chosen) throw ImageError(where + ": no image tagged '" + want_tag + "' (tags: " + tags + ")");
    if (!chosen) {
      if (doc->root->items().empty()) throw ImageError(where + ": lists no images");
      if (doc->root->items().size() > 1) {
        throw ImageError(where + ": holds " + std::to_string(doc->root->items().size()) +
                         " images; name one with docker-archive:FILE:TAG (tags: " + tags + ")");
      }
      chosen = doc->root->items()[0];
    }
    std::string config_name(str(get(chosen, "Config")));
    if (config_name.empty()) throw ImageError(where + ": the image entry names no Config");
    config = read_member(config_name, "the image config");
    config_digest = "sha256:" + sha256_hex(config);
    // Docker 25+ names blobs by digest; then the file name must match the content.
    if (config_name.starts_with("blobs/sha256/") && config_digest.substr(7) != config_name.substr(13))
      throw ImageError(where + ": config " + config_name + ": digest mismatch: content is " + config_digest);
    auto cdoc = parse_json(config, path_ + ":" + config_name);
    auto diff_ids = items(get(get(cdoc->root, "rootfs"), "diff_ids"));
    auto layer_names = items(get(chosen, "Layers"));
    if (diff_ids.size() != layer_names.size()) {
      throw ImageError(where + ": " + std::to_string(layer_names.size()) + " layers, but the config's rootfs.diff_ids lists " +
                       std::to_string(diff_ids.size()));
    }
    layers.clear();
    for (std::size_t i = 0; i < layer_names.size(); ++i) {
      std::string name(str(layer_names[i]));
      Descriptor d;
      const Member& m = member(name);
      d.size = m.size;
      if (name.starts_with("blobs/sha256/")) {
        d.digest = "sha256:" + name.substr(13);
      } else {
        d.digest = std::string(str(diff_ids[i]));  // legacy layers are the uncompressed tars
        d.media_type = "application/vnd.docker.image.rootfs.diff.tar";
      }
      if (!valid_digest(d.digest)) throw bad_layer_digest(where, name, d.digest);
      layer_member_[d.digest] = name;
      layers.push_back(std::move(d));
    }
    read_config(*this, path_ + ":" + config_name);
    tag = tags.empty() ? "" : tags.substr(0, tags.find(','));
  }

  std::string path_;
  bool docker_;
  std::uint64_t max_bytes_;
  Compression compression_ = Compression::None;

 private:
  class Region : public ByteSource {
   public:
    Region(Archive& a, std::uint64_t size) : a_(a), left_(size) {}
    std::size_t read(char* buf, std::size_t n) override {
      if (left_ == 0) return 0;
      std::size_t got = a_.stream_->read(buf, static_cast<std::size_t>(std::min<std::uint64_t>(n, left_)));
      if (got == 0) throw ImageError(a_.path_ + ": archive ends inside a member (truncated)");
      left_ -= got;
      a_.stream_pos_ += got;
      return got;
    }

   private:
    Archive& a_;
    std::uint64_t left_;
  };

  std::map<std::string, Member> members_;
  std::map<std::string, std::string> layer_member_;
  std::unique_ptr<ByteSource> file_;
  std::unique_ptr<ByteSource> stream_;
  std::uint64_t stream_pos_ = 0;
};

}  // namespace

std::unique_ptr<ImageSource> open_archive(const ImageRef& ref, const ReadOptions& options, bool docker) {
  struct stat st {};
  if (::stat(ref.path.c_str(), &st) != 0) throw ImageError(ref.path + ": no such file");
  if (!S_ISREG(st.st_mode)) throw ImageError(ref.path + ": not a regular file (an archive was expected)");
  // An uncompressed archive is no bigger than its layers; a little more for its metadata.
  auto src = std::make_unique<Archive>(ref.path, docker, options.max_archive_bytes + (std::uint64_t{16} << 20));
  src->index();
  bool oci = src->has("index.json") && src->has("oci-layout");
  bool legacy = src->has("manifest.json");
  if (!docker || !legacy) {
    if (!oci) {
      throw ImageError(ref.path + (docker ? ": neither docker save's manifest.json nor an OCI layout in the archive"
                                          : ": no OCI layout in the archive (no index.json and oci-layout)"));
    }
    src->open_oci(options, ref.tag);
  } else {
    // Docker 25+ writes both: the OCI index gives the manifest digest, but it
    // may list no image (moby/moby#47065, #47210); manifest.json always does.
    bool done = false;
    if (oci) {
      try {
        src->open_oci(options, ref.tag);
        done = true;
      } catch (const ImageError& e) {
        src->notes.push_back(std::string("the archive's OCI index is unusable (") + e.what() +
                             "); read through manifest.json");
      }
    }
    if (!done) src->open_legacy(ref.tag);
  }
  if (src->compression_ != Compression::None)
    src->notes.push_back(std::string("archive is ") + to_string(src->compression_) + "-compressed");
  if (src->tag.empty()) src->tag = ref.tag;
  return src;
}

}  // namespace kg::image
