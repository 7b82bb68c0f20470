// libFuzzer target for what `kguard registry-hook` reads from the network and from its journal
// (sources/image/registry_events): a registry's notification envelope, and each journal line. Every
// push the parser keeps must be one to judge (a sha256 digest, a repository, a host, no cosign
// artifact tag, a tagged manifest or an index), and must come back unchanged through the journal.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sources/image/registry_events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<kg::image::PushEvent> pushes;
  std::string error;
  if (!kg::image::parse_push_events(body, pushes, error)) {
    if (error.empty() || !pushes.empty()) __builtin_trap();
  }
  for (kg::image::PushEvent& p : pushes) {
    if (p.digest.rfind("sha256:", 0) != 0 || p.repository.empty() || p.host.empty()) __builtin_trap();
    if (kg::image::is_cosign_artifact_tag(p.tag)) __builtin_trap();
    if (!p.index() && (p.tag.empty() || !kg::image::is_image_manifest_type(p.media_type))) __builtin_trap();
    p.accepted = "2026-12-05T00:00:00Z";
    auto back = kg::image::parse_push_event_json(kg::image::push_event_json(p));
    if (!back || back->reference() != p.reference() || back->tag != p.tag || back->media_type != p.media_type ||
        back->accepted != p.accepted)
      __builtin_trap();
  }
  // The same bytes as a journal line: whatever parses is a valid push and round-trips.
  if (auto line = kg::image::parse_push_event_json(body)) {
    auto again = kg::image::parse_push_event_json(kg::image::push_event_json(*line));
    if (!again || again->reference() != line->reference() || again->tag != line->tag) __builtin_trap();
  }
  return 0;
}
