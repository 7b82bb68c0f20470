#include "sources/image/image_source.hpp"

#include <algorithm>
#include <sys/utsname.h>

#include "sources/image/json.hpp"
#include "sources/image/sources.hpp"

namespace kg::image {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string loc(const std::string& where, const Node* n) {
  return n ? where + ":" + std::to_string(n->line) + ":" + std::to_string(n->column) : where;
}

// The tag after the last ':' of `s` when no '/' follows it.
void split_tag(std::string& s, std::string& tag) {
  std::size_t colon = s.rfind(':');
  if (colon != std::string::npos && s.find('/', colon) == std::string::npos && colon + 1 < s.size()) {
    tag = s.substr(colon + 1);
    s.resize(colon);
  }
}

std::string host_architecture() {
  struct utsname u {};
  if (uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (starts_with(m, "armv7")) return "arm";
  return m;
}

}  // namespace

ImageRef parse_reference(const std::string& text, std::string& error) {
  ImageRef r;
  r.text = text;
  error.clear();
  auto local = [&](ImageRef::Kind kind, std::size_t prefix, bool tagged) {
    r.kind = kind;
    r.path = text.substr(prefix);
    if (tagged) split_tag(r.path, r.tag);
    if (r.path.empty()) error = "image reference '" + text + "' names no path";
  };
  if (starts_with(text, "oci:")) local(ImageRef::Kind::OciDir, 4, true);
  else if (starts_with(text, "oci-archive:")) local(ImageRef::Kind::OciArchive, 12, true);
  else if (starts_with(text, "docker-archive:")) local(ImageRef::Kind::DockerArchive, 15, true);
  else if (starts_with(text, "dir:")) local(ImageRef::Kind::Dir, 4, false);
  else {
    std::string s = starts_with(text, "docker://") ? text.substr(9) : text;
    r.kind = ImageRef::Kind::Registry;
    if (std::size_t at = s.find('@'); at != std::string::npos) {
      r.digest = s.substr(at + 1);
      s.resize(at);
      if (!valid_digest(r.digest)) {
        error = "image reference '" + text + "': digest '" + r.digest + "' is not sha256:<64 hex>";
        return r;
      }
    }
    split_tag(s, r.tag);
    std::size_t slash = s.find('/');
    std::string first = slash == std::string::npos ? "" : s.substr(0, slash);
    if (!first.empty() && (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
                           first == "localhost")) {
      r.registry = first;
      r.repository = s.substr(slash + 1);
    } else {
      r.registry = "docker.io";
      r.repository = s.find('/') == std::string::npos ? "library/" + s : s;
    }
    if (r.registry == "docker.io" || r.registry == "index.docker.io") r.registry = "registry-1.docker.io";
    if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
    auto bad = [](char c) {
      return !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/');
    };
    if (r.repository.empty() || std::any_of(r.repository.begin(), r.repository.end(), bad)) {
      error = "image reference '" + text +
              "': not a repository name (lowercase letters, digits, . _ - /); local images are "
              "oci:DIR, oci-archive:FILE, docker-archive:FILE or dir:PATH";
    }
  }
  return r;
}

bool parse_platform(const std::string& text, Platform& out) {
  out = Platform{};
  std::size_t a = text.find('/');
  if (a == std::string::npos || a == 0) return false;
  out.os = text.substr(0, a);
  std::string rest = text.substr(a + 1);
  std::size_t b = rest.find('/');
  out.architecture = rest.substr(0, b);
  if (b != std::string::npos) out.variant = rest.substr(b + 1);
  return !out.architecture.empty() && out.variant.find('/') == std::string::npos &&
         (b == std::string::npos || !out.variant.empty());
}

bool is_foreign_media_type(const std::string& mt) {
  return mt.find("foreign") != std::string::npos || mt.find("nondistributable") != std::string::npos;
}

bool is_layer_media_type(const std::string& mt) {
  return mt.empty() || starts_with(mt, "application/vnd.oci.image.layer.") ||
         starts_with(mt, "application/vnd.docker.image.rootfs.");
}

namespace {

Descriptor read_descriptor(const Node* n, const std::string& where, const char* what) {
  if (!n || !n->is_map()) throw ImageError(loc(where, n) + ": " + what + " is not a descriptor object");
  Descriptor d;
  d.media_type = std::string(str(get(n, "mediaType")));
  d.digest = std::string(str(get(n, "digest")));
  if (!valid_digest(d.digest)) {
    throw ImageError(loc(where, get(n, "digest") ? get(n, "digest") : n) + ": " + what + " digest '" + d.digest +
                     "' is not sha256:<64 hex>");
  }
  auto size = get(n, "size") ? get(n, "size")->as_int() : std::nullopt;
  if (!size || *size < 0) throw ImageError(loc(where, n) + ": " + what + " has no valid size");
  d.size = static_cast<std::uint64_t>(*size);
  for (const Node* u : items(get(n, "urls"))) d.urls.emplace_back(str(u));
  d.foreign = is_foreign_media_type(d.media_type);
  return d;
}

bool platform_matches(const Node* p, const Platform& want) {
  if (str(get(p, "os")) != want.os || str(get(p, "architecture")) != want.architecture) return false;
  if (want.variant.empty()) return true;
  std::string_view v = str(get(p, "variant"));
  // arm64 images often omit the v8 they imply.
  return v == want.variant || (v.empty() && want.architecture == "arm64" && want.variant == "v8");
}

std::string platform_of(const Node* p) {
  if (!p) return "?";
  std::string s = std::string(str(get(p, "os"))) + "/" + std::string(str(get(p, "architecture")));
  if (!str(get(p, "variant")).empty()) s += "/" + std::string(str(get(p, "variant")));
  return s;
}

std::string ref_name(const Node* entry) {
  const Node* ann = get(entry, "annotations");
  std::string name(str(get(ann, "org.opencontainers.image.ref.name")));
  if (name.empty()) {
    // Docker's containerd-backed save writes the full name here.
    std::string full(str(get(ann, "io.containerd.image.name")));
    std::size_t c = full.rfind(':');
    if (c != std::string::npos && full.find('/', c) == std::string::npos) name = full.substr(c + 1);
  }
  return name;
}

}  // namespace

void read_config(ImageSource& src, const std::string& where) {
  auto doc = parse_json(src.config, where);
  const Node* root = doc->root;
  std::string os(str(get(root, "os"))), arch(str(get(root, "architecture")));
  if (get(root, "rootfs") == nullptr && os.empty())
    throw ImageError(where + ": not an image config (no rootfs or os): an artifact, not a container image?");
  src.platform = os + "/" + arch;
  if (!str(get(root, "variant")).empty()) src.platform += "/" + std::string(str(get(root, "variant")));
  std::size_t diff_ids = items(get(get(root, "rootfs"), "diff_ids")).size();
  if (!src.layers.empty() && diff_ids != src.layers.size()) {
    throw ImageError(where + ": rootfs.diff_ids lists " + std::to_string(diff_ids) + " layers, the manifest " +
                     std::to_string(src.layers.size()));
  }
}

void resolve_manifest(ImageSource& src, std::string bytes, std::string digest, std::string media_type,
                      const std::string& where, const ReadOptions& options, const BlobFetch& fetch,
                      const std::string* layout_tag, int depth) {
  if (depth > 4) throw ImageError(where + ": indexes nested more than 4 deep");
  auto doc = parse_json(bytes, where);
  const Node* root = doc->root;
  std::string mt(str(get(root, "mediaType")));
  if (mt.empty()) mt = std::move(media_type);
  if (get(root, "schemaVersion") && get(root, "schemaVersion")->as_int() == 1)
    throw ImageError(where + ": a Docker schema 1 manifest (deprecated since 2017) is not supported");
  bool is_index = mt.find("index") != std::string::npos || mt.find("manifest.list") != std::string::npos ||
                  (mt.empty() && get(root, "manifests") != nullptr);
  if (is_index) {
    const Node* manifests = get(root, "manifests");
    if (manifests && !manifests->is_seq() && !manifests->is_null())
      throw ImageError(loc(where, manifests) + ": manifests is not an array");
    std::vector<const Node*> entries(items(manifests).begin(), items(manifests).end());
    if (layout_tag) {
      if (!layout_tag->empty()) {
        std::vector<const Node*> tagged;
        std::string tags;
        for (const Node* e : entries) {
          std::string name = ref_name(e);
          if (name == *layout_tag) tagged.push_back(e);
          else if (!name.empty()) tags += (tags.empty() ? "" : ", ") + name;
        }
        if (tagged.empty()) {
          throw ImageError(where + ": no image tagged '" + *layout_tag + "'" +
                           (tags.empty() ? std::string(" (the index names no tags)") : " (tags: " + tags + ")"));
        }
        entries = std::move(tagged);
      } else if (entries.size() > 1) {
        std::string tags;
        for (const Node* e : entries)
          if (!ref_name(e).empty()) tags += (tags.empty() ? "" : ", ") + ref_name(e);
        bool all_platforms = std::all_of(entries.begin(), entries.end(), [](const Node* e) { return get(e, "platform"); });
        if (!all_platforms || !tags.empty()) {
          throw ImageError(where + ": holds " + std::to_string(entries.size()) +
                           " images; name one with :TAG" + (tags.empty() ? "" : " (tags: " + tags + ")"));
        }
      }
    }
    if (entries.empty()) throw ImageError(where + ": the index lists no manifests");
    const Node* chosen = nullptr;
    Platform want = options.platform;
    if (want.os.empty()) want = Platform{"linux", host_architecture(), ""};
    if (entries.size() == 1 && !get(entries[0], "platform")) {
      chosen = entries[0];
    } else {
      std::string available;
      for (const Node* e : entries) {
        const Node* p = get(e, "platform");
        if (str(get(p, "os")) == "unknown") continue;  // attestation manifests
        available += (available.empty() ? "" : ", ") + platform_of(p);
        if (!chosen && platform_matches(p, want)) chosen = e;
      }
      if (!chosen) {
        if (options.platform.os.empty() && entries.size() == 1) {
          chosen = entries[0];
        } else {
          throw ImageError(where + ": no image for platform " + want.str() + " (available: " +
                           (available.empty() ? std::string("none") : available) + "; choose with --platform)");
        }
      }
      if (entries.size() > 1) src.notes.push_back("index: chose " + platform_of(get(chosen, "platform")) +
                                                  " of " + available);
    }
    Descriptor d = read_descriptor(chosen, where, "manifest");
    if (!d.media_type.empty() && d.media_type.find("manifest") == std::string::npos &&
        d.media_type.find("index") == std::string::npos) {
      throw ImageError(loc(where, chosen) + ": manifest descriptor has media type '" + d.media_type +
                       "', not an image manifest or index");
    }
    if (d.size > kMaxJsonBlob) throw ImageError(loc(where, chosen) + ": manifest of " + std::to_string(d.size) + " bytes is over the limit");
    std::string next = fetch(d);
    resolve_manifest(src, std::move(next), d.digest, d.media_type, "manifest " + d.digest, options, fetch, nullptr,
                     depth + 1);
    return;
  }
  // An image manifest.
  const Node* config = get(root, "config");
  if (!config) throw ImageError(where + ": neither an image manifest (no config) nor an index (no manifests)");
  Descriptor cd = read_descriptor(config, where, "config");
  if (!cd.media_type.empty() && cd.media_type.find("config") == std::string::npos &&
      cd.media_type != "application/vnd.docker.container.image.v1+json") {
    throw ImageError(loc(where, config) + ": config media type '" + cd.media_type +
                     "' is not an image config (an artifact, not a container image)");
  }
  if (cd.size > kMaxJsonBlob) throw ImageError(loc(where, config) + ": config of " + std::to_string(cd.size) + " bytes is over the limit");
  const Node* layers = get(root, "layers");
  if (layers && !layers->is_seq()) throw ImageError(loc(where, layers) + ": layers is not an array");
  src.layers.clear();
  for (const Node* l : items(layers)) {
    Descriptor d = read_descriptor(l, where, "layer");
    if (!is_layer_media_type(d.media_type) && !d.foreign)
      throw ImageError(loc(where, l) + ": layer media type '" + d.media_type + "' is not a layer");
    src.layers.push_back(std::move(d));
  }
  src.manifest = std::move(bytes);
  src.manifest_digest = std::move(digest);
  src.config = fetch(cd);
  src.config_digest = cd.digest;
  read_config(src, "config " + cd.digest);
}

std::unique_ptr<ImageSource> open_image(const ImageRef& ref, const ReadOptions& options) {
  switch (ref.kind) {
    case ImageRef::Kind::OciDir: return open_oci_dir(ref, options);
    case ImageRef::Kind::OciArchive: return open_archive(ref, options, false);
    case ImageRef::Kind::DockerArchive: return open_archive(ref, options, true);
    case ImageRef::Kind::Dir: return open_rootfs_dir(ref);
    case ImageRef::Kind::Registry: return open_registry(ref, options);
  }
  throw ImageError("unknown image reference kind");
}

}  // namespace kg::image
