#include "sources/image/registry_events.hpp"

#include <sstream>

#include "core/document.hpp"
#include "core/json_writer.hpp"

namespace kg::image {
namespace {

std::string_view field_of(const Node* n, std::string_view k) {
  const Node* v = n && n->is_map() ? n->get(k) : nullptr;
  return v && v->is_scalar() ? v->str() : std::string_view{};
}

// The first document of a JSON body, parsed with the core loader (bounded by LoadLimits).
template <typename F>
bool with_json(std::string_view body, F&& f) {
  SourceFile file;
  file.path = "events";
  file.content = std::string(body);
  const Node* root = nullptr;
  load_json(file, file.arena, false, LoadLimits{}, [&](const Document& d) {
    if (!root) root = d.root;
  });
  if (!file.errors.empty() || !root || !root->is_map()) return false;
  f(root);
  return true;
}

bool valid(const PushEvent& e) {
  return e.digest.size() == 7 + 64 && e.digest.rfind("sha256:", 0) == 0 &&
         e.digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos && !e.repository.empty() &&
         !e.host.empty() && e.host.find_first_of("/@ ") == std::string::npos &&
         e.repository.find_first_of("@ :") == std::string::npos;
}

}  // namespace

bool is_image_manifest_type(std::string_view mt) {
  return mt == "application/vnd.oci.image.manifest.v1+json" ||
         mt == "application/vnd.docker.distribution.manifest.v2+json";
}

bool is_image_index_type(std::string_view mt) {
  return mt == "application/vnd.oci.image.index.v1+json" ||
         mt == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool PushEvent::index() const { return is_image_index_type(media_type); }

bool is_cosign_artifact_tag(std::string_view tag) {
  if (tag.rfind("sha256-", 0) != 0) return false;
  for (std::string_view suffix : {".sig", ".att", ".sbom"})
    if (tag.size() > suffix.size() && tag.substr(tag.size() - suffix.size()) == suffix) return true;
  return tag.size() == 7 + 64;  // the referrers fallback index tag
}

bool parse_push_events(std::string_view body, std::vector<PushEvent>& out, std::string& error) {
  bool envelope = false;
  const bool json = with_json(body, [&](const Node* root) {
    const Node* events = root->get("events");
    if (!events || !events->is_seq()) return;
    envelope = true;
    for (const Node* e : events->items()) {
      if (!e || !e->is_map()) continue;
      const Node* target = e->get("target");
      PushEvent p{std::string(field_of(e->get("request"), "host")), std::string(field_of(target, "repository")),
                  std::string(field_of(target, "digest")), std::string(field_of(target, "tag")),
                  std::string(field_of(target, "mediaType")), {}};
      if (field_of(e, "action") != "push" || is_cosign_artifact_tag(p.tag)) continue;
      if (!(is_image_index_type(p.media_type) || (is_image_manifest_type(p.media_type) && !p.tag.empty()))) continue;
      if (valid(p)) out.push_back(std::move(p));
    }
  });
  if (!json) return error = "body is not a JSON events envelope", false;
  if (!envelope) return error = "envelope has no events array", false;
  return true;
}

std::string push_event_json(const PushEvent& e) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  w.field("host", e.host).field("repository", e.repository).field("digest", e.digest).field("tag", e.tag);
  w.field("mediaType", e.media_type).field("accepted", e.accepted);
  w.end_object();
  w.flush();
  return out.str();
}

std::optional<PushEvent> parse_push_event_json(std::string_view line) {
  std::optional<PushEvent> out;
  with_json(line, [&](const Node* r) {
    PushEvent e{std::string(field_of(r, "host")), std::string(field_of(r, "repository")),
                std::string(field_of(r, "digest")), std::string(field_of(r, "tag")),
                std::string(field_of(r, "mediaType")), std::string(field_of(r, "accepted"))};
    if (valid(e)) out = std::move(e);
  });
  return out;
}

}  // namespace kg::image
