// A docker-registry's push notifications (distribution's `notifications:` endpoint, media type
// application/vnd.docker.distribution.events.v1+json), the input of `kguard registry-hook`: which
// events are pushes of something to judge, and the one-line JSON form the hook journals them in.
// Anyone who can reach the endpoint can post: both parsers take any bytes (fuzz_registry_events).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kg::image {

// One push to judge: an image manifest pushed by tag, or an index (OCI image index, Docker manifest list).
struct PushEvent {
  std::string host, repository, digest, tag, media_type;
  std::string accepted;  // RFC 3339, when the hook answered (journal only)
  std::string reference() const { return host + "/" + repository + "@" + digest; }
  bool index() const;
};

bool is_image_manifest_type(std::string_view media_type);
bool is_image_index_type(std::string_view media_type);
// cosign's artifacts (sha256-<hex>.sig / .att / .sbom, the referrers fallback index tag sha256-<hex>).
bool is_cosign_artifact_tag(std::string_view tag);

// The pushes an envelope names that are worth judging (in order). Skipped: other actions, blobs,
// cosign's artifacts, image manifests pushed without a tag (an index's platform manifests on their
// way, or referrers), and events without a sha256 digest, a repository or a host. False with `error`
// when the body is not an envelope ({"events": [...]}).
bool parse_push_events(std::string_view body, std::vector<PushEvent>& out, std::string& error);

// The journal's line (no newline) and back; nullopt for a line that is not one (a torn last line).
std::string push_event_json(const PushEvent& e);
std::optional<PushEvent> parse_push_event_json(std::string_view line);

}  // namespace kg::image
