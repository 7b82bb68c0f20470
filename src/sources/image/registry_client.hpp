// Reads and writes one repository of a registry through the OCI distribution API: what signing
// needs beyond reading an image (open_image). Manifests by tag or digest (raw bytes, verified
// digest, media type), small blobs, blob existence (HEAD), monolithic blob upload (POST then PUT
// ?digest=), manifest PUT by tag or digest, and the OCI 1.1 referrers API
// (GET /v2/<name>/referrers/<digest>). Authentication as open_image: Basic or the Bearer token
// flow with docker's config.json credentials, asking for pull,push when writing; TLS verified
// (ReadOptions::ca_file) unless allow_insecure, which also allows plain HTTP.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sources/image/image_source.hpp"

namespace kg::image {

struct RemoteManifest {
  std::string bytes;
  std::string digest;      // sha256:<hex> of bytes, checked against a digest reference
  std::string media_type;  // the Content-Type the registry sent (parameters cut), else the body's
};

class RegistryClient {
 public:
  // `push`: ask for pull,push scope (sign); otherwise pull. Connects and authenticates lazily.
  RegistryClient(std::string registry, std::string repository, ReadOptions options, bool push);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  const std::string& registry() const;
  const std::string& repository() const;

  // A manifest or index by tag or digest; nullopt when the registry answers 404 (no such tag).
  std::optional<RemoteManifest> get_manifest(const std::string& reference);
  // The manifest's descriptor without its body (HEAD); nullopt on 404.
  std::optional<Descriptor> head_manifest(const std::string& reference);
  // A blob of at most `max` bytes, verified against `digest`.
  std::string get_blob(const std::string& digest, std::size_t max = kMaxJsonBlob);
  bool blob_exists(const std::string& digest);
  // Uploads `bytes` unless the registry has them; returns their digest.
  std::string put_blob(const std::string& bytes);
  // PUT /v2/<name>/manifests/<reference>; returns the manifest's digest. `subject_accepted` is set
  // when the registry answered with OCI-Subject (it indexes referrers itself).
  std::string put_manifest(const std::string& reference, const std::string& media_type, const std::string& bytes,
                           bool* subject_accepted = nullptr);
  // The referrers API's image index for `digest`; nullopt when the registry does not have the API
  // (404 / 405), in which case the tag schema fallback applies.
  std::optional<std::string> referrers(const std::string& digest);

  std::vector<std::string> notes;  // worth telling the user (plain HTTP, anonymous access)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kg::image
