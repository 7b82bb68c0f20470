#include "engines/image/walk.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "engines/image/inventory/os_detect.hpp"
#include "sources/image/decompress.hpp"
#include "sources/image/json.hpp"
#include "sources/image/tar.hpp"

namespace kg::image {
namespace {

constexpr int kMaxSymlinkHops = 40;  // as the Linux kernel
constexpr std::size_t kMaxNotes = 50;
constexpr std::size_t kOsFileMax = std::size_t{64} << 10;

// The files the walk reads itself to tell the OS.
bool is_os_file(std::string_view p) {
  return p == "/etc/os-release" || p == "/usr/lib/os-release" || p == "/etc/alpine-release" ||
         p == "/etc/debian_version" || p == "/etc/lsb-release" || p == "/etc/redhat-release" ||
         p == "/etc/system-release" || p == "/etc/centos-release" || p == "/etc/apk/repositories";
}

struct Entry {
  std::uint32_t layer = 0;
  char type = '0';  // tar typeflag: '0' file, '1' hard link, '2' symlink, '5' dir, others
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string link;  // symlink target as written; hard link target normalised
};

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string short_digest(const std::string& d) { return d.size() > 19 ? d.substr(0, 19) : d; }

// A tar member name as an absolute, normalised path. nullopt when it climbs
// out of the root (the entry is skipped); `absolute` tells a leading '/'.
std::optional<std::string> normalize(std::string_view name, bool& absolute) {
  absolute = !name.empty() && name.front() == '/';
  std::vector<std::string_view> parts;
  while (!name.empty()) {
    std::size_t s = name.find('/');
    std::string_view p = name.substr(0, s);
    name = s == std::string_view::npos ? std::string_view{} : name.substr(s + 1);
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string parent_of(const std::string& p) {
  std::size_t s = p.rfind('/');
  return s == 0 || s == std::string::npos ? "/" : p.substr(0, s);
}

class Walker {
 public:
  Walker(const WalkLimits& limits, const std::vector<Cataloger*>& catalogers, ImageReadResult& result)
      : limits_(limits), catalogers_(catalogers), r_(result) {}

  void note(std::string n) {
    if (r_.notes.size() < kMaxNotes) r_.notes.push_back(std::move(n));
    else ++notes_dropped_;
  }

  // --- one layer, streamed ---
  void walk_layer(ImageSource& src, std::size_t index, const std::string& diff_id) {
    const Descriptor& d = src.layers[index];
    LayerInfo& info = r_.inventory.layers[index];
    const std::string where = "layer " + std::to_string(index + 1) + "/" + std::to_string(src.layers.size()) + " " +
                              short_digest(d.digest);
    if (d.foreign) {
      note(where + ": foreign (non-distributable) layer not read (" + d.media_type + ")");
      return;
    }
    std::string entry_name;
    std::unique_ptr<ByteSource> blob;
    try {
      blob = src.open_layer(d);
      Compression c = Compression::None;
      auto tar_bytes = open_decompressed(*blob, limits_.max_bytes - r_.bytes, "content", &c);
      // A plain layer is its own tar: the blob's verified digest is the diff_id (one hash, not two).
      HashingSource hashed(*tar_bytes, c != Compression::None);
      TarLimits tl;
      tl.max_name = limits_.max_path;
      TarReader tar(hashed, tl);
      TarEntry e;
      layer_entries_.clear();
      whiteouts_.clear();
      opaques_.clear();
      bool warned_absolute = false;
      std::vector<char> buf(std::size_t{64} * 1024);
      while (tar.next(e)) {
        entry_name = e.name;
        if (++r_.entries > limits_.max_files)
          throw ImageError("more than " + std::to_string(limits_.max_files) + " entries (the --max-files limit)");
        bool absolute = false;
        auto path = normalize(e.name, absolute);
        if (!path) {
          note(where + ": entry '" + printable(e.name) + "' climbs out of the image root; skipped");
          continue;
        }
        if (absolute && !warned_absolute) {
          note(where + ": entry '" + printable(e.name) + "' has an absolute name; read relative to the root");
          warned_absolute = true;
        }
        if (*path == "/") continue;
        std::string base = path->substr(path->rfind('/') + 1);
        if (base.rfind(".wh.", 0) == 0) {
          if (base == ".wh..wh..opq") opaques_.push_back(parent_of(*path));
          else if (base.size() == 4) note(where + ": whiteout '" + printable(e.name) + "' names nothing; ignored");
          else whiteouts_.push_back(parent_of(*path) + (parent_of(*path) == "/" ? "" : "/") + base.substr(4));
          continue;
        }
        Entry en;
        en.layer = static_cast<std::uint32_t>(index);
        en.type = e.is_file() ? '0' : e.type;
        if (en.type == '0' && e.name.back() == '/') en.type = '5';  // pre-POSIX tars mark directories so
        en.mode = e.mode;
        en.size = e.size;
        if (e.type == '2') en.link = e.linkname;
        if (e.type == '1') {
          bool abs_link = false;
          auto target = normalize(e.linkname, abs_link);
          if (!target) {
            note(where + ": hard link '" + printable(e.name) + "' -> '" + printable(e.linkname) +
                 "' climbs out of the image root; skipped");
            continue;
          }
          en.link = *target;
        }
        if (en.type == '0') read_file(*path, en, d.digest, tar, buf);
        layer_entries_.emplace_back(std::move(*path), std::move(en));
      }
      entry_name.clear();
      tar.drain();  // the rest of the stream, so the blob digest covers every byte
      r_.bytes += hashed.count();
      info.diff_id = c == Compression::None ? d.digest : hashed.digest();
      if (!diff_id.empty() && diff_id != info.diff_id)
        throw ImageError("uncompressed content is " + info.diff_id + ", but the config's rootfs.diff_ids says " + diff_id);
    } catch (const ImageError& err) {
      // Corrupt content is first of all a blob that is not what its digest
      // says: read the rest of the blob so the mismatch is what is reported.
      std::string what = err.what();
      if (blob && what.find("digest mismatch") == std::string::npos) {
        try {
          std::vector<char> rest(std::size_t{64} * 1024);
          while (blob->read(rest.data(), rest.size()) > 0) {
          }
        } catch (const ImageError& verify) {
          if (std::string(verify.what()).find("digest mismatch") != std::string::npos) what = verify.what();
        }
      }
      throw ImageError(where + (entry_name.empty() ? "" : " entry '" + printable(entry_name) + "'") + ": " + what);
    }
    apply_layer();
  }

  void read_file(const std::string& path, Entry& en, const std::string& digest, TarReader& tar, std::vector<char>& buf) {
    FileEntry fe{path, en.mode, en.size, en.layer, digest};
    readers_.clear();
    for (Cataloger* c : catalogers_)
      if (auto reader = c->open(fe)) readers_.push_back(std::move(reader));
    bool os_file = is_os_file(path) && en.size <= kOsFileMax;
    if (readers_.empty() && !os_file) return;
    std::string os_text;
    for (;;) {
      std::size_t got = tar.read(buf.data(), buf.size());
      if (got == 0) break;
      std::string_view chunk(buf.data(), got);
      for (auto& reader : readers_) reader->data(chunk);
      if (os_file) os_text.append(chunk);
    }
    for (auto& reader : readers_) reader->end();
    readers_.clear();
    if (os_file) os_files_[{path, en.layer}] = std::move(os_text);
  }

  void erase_under(const std::string& dir) {
    std::string prefix = dir == "/" ? "/" : dir + "/";
    for (auto it = merged_.lower_bound(prefix); it != merged_.end() && it->first.compare(0, prefix.size(), prefix) == 0;)
      it = merged_.erase(it);
  }

  // Whiteouts hide lower layers only, wherever they sat in this layer.
  void apply_layer() {
    for (const std::string& dir : opaques_) erase_under(dir);
    for (const std::string& p : whiteouts_) {
      merged_.erase(p);
      erase_under(p);
    }
    for (auto& [path, en] : layer_entries_) {
      auto it = merged_.find(path);
      if (it != merged_.end() && it->second.type == '5' && en.type != '5' && it->second.layer != en.layer)
        erase_under(path);  // a file over a lower directory hides its contents
      if (en.type == '1') {
        auto target = merged_.find(en.link);
        if (target != merged_.end()) en.size = target->second.size;
      }
      merged_[path] = std::move(en);
    }
    layer_entries_.clear();
  }

  // --- dir:PATH: the directory as the one layer ---
  void walk_directory(const std::string& root) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    if (ec) throw ImageError(root + ": " + ec.message());
    std::vector<char> buf(std::size_t{64} * 1024);
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) throw ImageError(root + ": " + ec.message());
      if (++r_.entries > limits_.max_files)
        throw ImageError(root + ": more than " + std::to_string(limits_.max_files) + " files (the --max-files limit)");
      const fs::path& p = it->path();
      std::string rel = "/" + p.lexically_relative(root).generic_string();
      if (rel.size() > limits_.max_path) throw ImageError(root + ": path '" + printable(rel) + "' over the --max-path limit");
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0) continue;
      Entry en;
      en.layer = 0;
      en.mode = st.st_mode & 07777;
      en.size = static_cast<std::uint64_t>(st.st_size);
      if (S_ISLNK(st.st_mode)) {
        en.type = '2';
        en.link = fs::read_symlink(p, ec).string();
      } else if (S_ISDIR(st.st_mode)) {
        en.type = '5';
      } else if (S_ISREG(st.st_mode)) {
        en.type = '0';
        FileEntry fe{rel, en.mode, en.size, 0, ""};
        readers_.clear();
        for (Cataloger* c : catalogers_)
          if (auto reader = c->open(fe)) readers_.push_back(std::move(reader));
        bool os_file = is_os_file(rel) && en.size <= kOsFileMax;
        if (!readers_.empty() || os_file) {
          auto in = open_file_source(p.string());
          std::string os_text;
          for (;;) {
            std::size_t got = in->read(buf.data(), buf.size());
            if (got == 0) break;
            r_.bytes += got;
            if (r_.bytes > limits_.max_bytes) throw ImageError(root + ": more than --max-image-bytes read");
            for (auto& reader : readers_) reader->data(std::string_view(buf.data(), got));
            if (os_file) os_text.append(buf.data(), got);
          }
          for (auto& reader : readers_) reader->end();
          readers_.clear();
          if (os_file) os_files_[{rel, 0}] = std::move(os_text);
        }
      } else {
        en.type = '6';
      }
      merged_[rel] = std::move(en);
    }
  }

  // --- after the last layer ---
  // `path` with every symlink on the way resolved inside the root ('..'
  // stops at the root, absolute targets start from it). nullopt on a loop.
  std::optional<std::string> resolve(const std::string& path, bool follow_last = true) const {
    std::deque<std::string> pending;
    auto push_front = [&pending](std::string_view p) {
      std::vector<std::string> parts;
      while (!p.empty()) {
        std::size_t s = p.find('/');
        if (s != 0) parts.emplace_back(p.substr(0, s));
        p = s == std::string_view::npos ? std::string_view{} : p.substr(s + 1);
      }
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_front(*it);
    };
    push_front(path);
    std::string cur;
    int hops = 0;
    while (!pending.empty()) {
      std::string c = std::move(pending.front());
      pending.pop_front();
      if (c.empty() || c == ".") continue;
      if (c == "..") {
        cur = cur.empty() ? cur : cur.substr(0, cur.rfind('/'));
        continue;
      }
      std::string next = cur;
      next += '/';
      next += c;
      auto it = merged_.find(next);
      if (it != merged_.end() && it->second.type == '2' && (follow_last || !pending.empty())) {
        if (++hops > kMaxSymlinkHops) return std::nullopt;
        const std::string& target = it->second.link;
        if (!target.empty() && target.front() == '/') cur.clear();
        push_front(target);
        continue;
      }
      cur = std::move(next);
    }
    return cur.empty() ? "/" : cur;
  }

  const std::string* file_text(const std::string& path) const {
    auto r = resolve(path);
    if (!r) return nullptr;
    auto it = merged_.find(*r);
    if (it == merged_.end()) return nullptr;
    std::string p = *r;
    std::uint32_t layer = it->second.layer;
    if (it->second.type == '1') {  // a hard link: the content is its target's
      p = it->second.link;
      auto t = merged_.find(p);
      if (t == merged_.end()) return nullptr;
      layer = t->second.layer;
    }
    auto f = os_files_.find({p, layer});
    return f == os_files_.end() ? nullptr : &f->second;
  }

  void find_os() {
    OsInfo& os = r_.inventory.os;
    os = detect_os([this](std::string_view p) { return file_text(std::string(p)); });
    // Distroless: its os-release says so, or dpkg's data is per-package files in status.d (any
    // surviving file there: a layer need not hold the folder's own entry) without dpkg's status
    // file and without a shell.
    const std::string status_d = "/var/lib/dpkg/status.d/";
    auto first = merged_.lower_bound(status_d);
    bool per_package = first != merged_.end() && first->first.compare(0, status_d.size(), status_d) == 0;
    bool status = merged_.count("/var/lib/dpkg/status") > 0;
    bool shell = false;
    if (auto sh = resolve("/bin/sh")) shell = merged_.count(*sh) > 0;
    if (per_package && !status && !shell) os.distroless = true;
  }

  void check_symlinks() {
    std::size_t loops = 0, escapes = 0;
    for (const auto& [path, en] : merged_) {
      if (en.type != '2') continue;
      if (!resolve(path)) {
        if (loops++ < 5) note("symlink " + printable(path) + " -> " + printable(en.link) + ": a loop (more than " +
                              std::to_string(kMaxSymlinkHops) + " links); not followed");
        continue;
      }
      // Lexically above the root: resolved inside it, but worth telling.
      bool abs = false;
      std::string joined = en.link.empty() || en.link.front() == '/' ? en.link : parent_of(path) + "/" + en.link;
      if (!normalize(joined, abs) && escapes++ < 5) {
        note("symlink " + printable(path) + " -> " + printable(en.link) +
             " points above the image root; resolved inside it");
      }
    }
    if (loops > 5) note(std::to_string(loops - 5) + " more symlink loops");
    if (escapes > 5) note(std::to_string(escapes - 5) + " more symlinks pointing above the root");
  }

  // The merged index as the catalogers' FinalTree.
  class Tree final : public FinalTree {
   public:
    Tree(const Walker& w, std::string_view config) : w_(w), config_(config) {}
    void each(const std::function<void(const TreeEntry&)>& visit) const override {
      for (const auto& [path, en] : w_.merged_) visit(entry(path, en));
    }
    std::optional<std::string> resolve(std::string_view path) const override { return w_.resolve(std::string(path)); }
    std::optional<TreeEntry> find(std::string_view path) const override {
      auto it = w_.merged_.find(std::string(path));
      if (it == w_.merged_.end()) return std::nullopt;
      return entry(it->first, it->second);
    }
    std::string_view config() const override { return config_; }

   private:
    static TreeEntry entry(const std::string& path, const Entry& en) {
      return TreeEntry{path, en.type, en.mode, en.size, en.layer, en.link};
    }
    const Walker& w_;
    std::string_view config_;
  };

  void finish(std::string_view config) {
    find_os();
    check_symlinks();
    r_.files = merged_.size();
    if (limits_.list_files) {
      for (const auto& [path, en] : merged_) {
        r_.file_list.push_back(FileInfo{path, en.type, en.mode, en.size, en.layer, en.link, ""});
        if (en.type == '2') r_.file_list.back().resolved = resolve(path).value_or("");
      }
    }
    Survives survives = [this](std::string_view path, std::size_t layer) {
      auto it = merged_.find(std::string(path));
      return it != merged_.end() && it->second.layer == layer && it->second.type == '0';
    };
    const Tree tree(*this, config);
    for (Cataloger* c : catalogers_) c->final_tree(tree);
    for (Cataloger* c : catalogers_) c->finish(survives, r_.inventory.os, r_.inventory.packages);
    if (notes_dropped_ > 0) r_.notes.push_back(std::to_string(notes_dropped_) + " more notes not shown");
  }

 private:
  const WalkLimits& limits_;
  const std::vector<Cataloger*>& catalogers_;
  ImageReadResult& r_;
  std::map<std::string, Entry> merged_;
  std::vector<std::pair<std::string, Entry>> layer_entries_;
  std::vector<std::string> whiteouts_, opaques_;
  std::vector<std::unique_ptr<FileReader>> readers_;
  std::map<std::pair<std::string, std::uint32_t>, std::string> os_files_;
  std::size_t notes_dropped_ = 0;
};

void walk_into(ImageSource& src, const WalkLimits& limits, const std::vector<Cataloger*>& catalogers,
               ImageReadResult& r) {
  r.inventory.manifest_digest = src.manifest_digest;
  r.inventory.config_digest = src.config_digest;
  r.inventory.platform = src.platform;
  r.tag = src.tag;
  if (!src.is_rootfs) r.config = src.config;
  r.notes = src.notes;
  Walker w(limits, catalogers, r);
  if (src.is_rootfs) {
    r.inventory.layers.push_back(LayerInfo{"", "", "directory", 0, ""});
    w.walk_directory(src.rootfs);
  } else {
    auto config = parse_json(src.config, "config " + src.config_digest);
    auto diff_ids = items(get(get(config->root, "rootfs"), "diff_ids"));
    // History entries that made a layer (empty_layer ones did not).
    std::vector<std::string> created_by;
    for (const Node* h : items(get(config->root, "history")))
      if (!is_true(get(h, "empty_layer"))) created_by.emplace_back(str(get(h, "created_by")));
    for (std::size_t i = 0; i < src.layers.size(); ++i) {
      const Descriptor& d = src.layers[i];
      LayerInfo info;
      info.digest = d.digest;
      info.media_type = d.media_type;
      info.size = d.size == UINT64_MAX ? 0 : d.size;
      if (i < created_by.size()) info.created_by = created_by[i];
      r.inventory.layers.push_back(std::move(info));
    }
    for (std::size_t i = 0; i < src.layers.size(); ++i)
      w.walk_layer(src, i, i < diff_ids.size() ? std::string(str(diff_ids[i])) : "");
  }
  w.finish(src.is_rootfs ? std::string_view() : std::string_view(src.config));
}

}  // namespace

ImageReadResult walk_source(ImageSource& src, const std::string& reference, const WalkLimits& limits,
                            const std::vector<Cataloger*>& catalogers) {
  ImageReadResult r;
  r.inventory.reference = reference;
  try {
    walk_into(src, limits, catalogers, r);
  } catch (const ImageError& e) {
    r.error = reference + ": " + e.what();
  } catch (const std::bad_alloc&) {
    r.error = reference + ": out of memory reading the image";
  }
  return r;
}

ImageReadResult read_image(const std::string& reference, const ReadOptions& options, const WalkLimits& limits,
                           const std::vector<Cataloger*>& catalogers) {
  ImageReadResult r;
  r.inventory.reference = reference;
  std::string error;
  ImageRef ref = parse_reference(reference, error);
  if (!error.empty()) {
    r.error = error;
    return r;
  }
  try {
    ReadOptions bounded = options;
    bounded.max_archive_bytes = std::min(options.max_archive_bytes, limits.max_bytes);
    auto src = open_image(ref, bounded);
    // A single-platform image is read whatever --platform says, but not silently.
    if (!options.platform.os.empty() && !src->is_rootfs && !src->platform.empty() &&
        src->platform != options.platform.str() &&
        src->platform.rfind(options.platform.os + "/" + options.platform.architecture, 0) != 0) {
      src->notes.push_back("the image is " + src->platform + ", not the --platform " + options.platform.str() +
                           " asked for (it has no index to choose from)");
    }
    walk_into(*src, limits, catalogers, r);
  } catch (const ImageError& e) {
    r.error = reference + ": " + e.what();
  } catch (const std::bad_alloc&) {
    r.error = reference + ": out of memory reading the image";
  }
  return r;
}

}  // namespace kg::image
