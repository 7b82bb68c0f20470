// Encryption at rest: the kube-apiserver's EncryptionConfiguration
// (apiserver.config.k8s.io/v1 EncryptionConfiguration, and the legacy
// `kind: EncryptionConfig` of apiVersion v1), read as the API server reads it
// (k8s.io/apiserver pkg/server/options/encryptionconfig):
// - each `resources[]` entry names resources as `resource.group` ("secrets" is
//   the core group), `*.` (every core resource), `*.group`, `*.*` (everything);
//   the first entry that names a resource decides how it is stored (the API
//   server refuses a file where a later entry is masked by an earlier one);
// - the first provider of an entry writes, every provider can read;
// - `identity` stores plaintext; aescbc, aesgcm and secretbox keep their keys in
//   this file; `kms` is KMS v1 unless `apiVersion: v2`; its `timeout` defaults
//   to 3 s.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "checks/check_util.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

using checks::quote;

// The resource as the API server's schema.ParseGroupResource reads it.
struct GroupResource {
  std::string resource;
  std::string group;
};

GroupResource parse_group_resource(std::string_view s) {
  const std::size_t dot = s.find('.');
  if (dot == std::string_view::npos) return {std::string(s), {}};
  return {std::string(s.substr(0, dot)), std::string(s.substr(dot + 1))};
}

// Whether an entry of resources[].resources names `want` (a resource.group).
bool names_resource(std::string_view entry, const GroupResource& want) {
  const GroupResource e = parse_group_resource(entry);
  if (e.resource == "*" && e.group == "*") return true;               // *.*
  if (e.resource == "*") return e.group == want.group;                // *. and *.group
  return e.resource == want.resource && e.group == want.group;        // exact
}

// The single key of a provider mapping ("identity", "aescbc", "kms"...).
std::string_view provider_type(const Node* provider) {
  for (const MapEntry& e : entries(provider)) return str(e.key);
  return {};
}

// Go's time.ParseDuration, to whole milliseconds; nullopt when unreadable.
std::optional<double> parse_go_duration_seconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s == "0") return 0.0;
  double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(s.data() + i, s.data() + j, value);
    if (ec != std::errc() || end != s.data() + j) return std::nullopt;
    std::size_t k = j;
    while (k < s.size() && (std::isalpha(static_cast<unsigned char>(s[k])) || static_cast<unsigned char>(s[k]) >= 0x80))
      ++k;
    const std::string_view unit = s.substr(j, k - j);
    double scale = 0;
    if (unit == "h") scale = 3600;
    else if (unit == "m") scale = 60;
    else if (unit == "s") scale = 1;
    else if (unit == "ms") scale = 1e-3;
    else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") scale = 1e-6;
    else if (unit == "ns") scale = 1e-9;
    else return std::nullopt;
    total += value * scale;
    i = k;
  }
  return total;
}

std::string format_seconds(double s) {
  std::string out = std::to_string(s);
  out.erase(out.find_last_not_of('0') + 1);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out + " s";
}

// "secrets, configmaps" of an entry, for messages.
std::string resources_phrase(const Node* entry) {
  std::string s;
  for (const Node* r : items(get(entry, "resources"))) {
    if (!s.empty()) s += ", ";
    s += str(r);
  }
  return s.empty() ? std::string("no resources") : s;
}

enum class Mode : std::uint8_t {
  ResourcesNotCovered,
  IdentityFirst,
  IdentityFallback,
  KeyInConfig,
  WeakProvider,
  KmsV1,
  KmsTimeout,
};

class EncryptionConfigCheck final : public Check {
 public:
  Mode mode = Mode::ResourcesNotCovered;
  std::vector<std::string> resources;  // ResourcesNotCovered: resource.group names
  double max_timeout_seconds = 10;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* list = get(in.obj.root, "resources");
    const std::string base = join_path(in.obj.path_prefix, "resources");
    if (mode == Mode::ResourcesNotCovered) return not_covered(in, list, base, out);
    std::size_t i = 0;
    bool any = false;
    for (const Node* entry : items(list)) {
      const std::string entry_path = index_path(base, i++);
      const std::string what = resources_phrase(entry);
      std::size_t p = 0;
      for (const Node* provider : items(get(entry, "providers"))) {
        const std::string path = index_path(join_path(entry_path, "providers"), p);
        const std::string_view type = provider_type(provider);
        const Node* body = get(provider, type);
        any = true;
        switch (mode) {
          case Mode::IdentityFirst:
            if (p == 0 && type == "identity") {
              out.push_back({"the first provider for " + what + " is identity: they are written to etcd in plaintext",
                             provider, path, {}});
            }
            break;
          case Mode::IdentityFallback:
            if (p > 0 && type == "identity") {
              out.push_back({"identity is provider " + std::to_string(p + 1) + " for " + what +
                                 ": plaintext values in etcd are still accepted as valid",
                             provider, path, {}});
            }
            break;
          case Mode::KeyInConfig:
            if (type == "aescbc" || type == "aesgcm" || type == "secretbox") {
              std::size_t k = 0;
              for (const Node* key : items(get(body, "keys"))) {
                if (checks::present(get(key, "secret"))) {
                  out.push_back({std::string(type) + " key " + quote(str(get(key, "name"))) + " for " + what +
                                     " is held in this file, next to the data it protects",
                                 get(key, "secret"),
                                 join_path(index_path(join_path(join_path(path, type), "keys"), k), "secret"), {}});
                }
                ++k;
              }
            }
            break;
          case Mode::WeakProvider:
            if (p == 0 && type == "aescbc") {
              out.push_back({"aescbc writes " + what + " with AES-CBC, which is open to padding-oracle attacks",
                             provider, path, {}});
            }
            if (p == 0 && type == "aesgcm") {
              out.push_back({"aesgcm writes " + what +
                                 " with a fixed key and random nonces, which must be rotated every 200,000 writes",
                             provider, path, {}});
            }
            break;
          case Mode::KmsV1:
            if (type == "kms") {
              const std::string_view v = str(get(body, "apiVersion"));
              if (v != "v2") {
                out.push_back({"kms provider " + quote(str(get(body, "name"))) + " for " + what + " uses KMS " +
                                   (v.empty() ? std::string("v1 (apiVersion unset)") : std::string(v)) +
                                   ", deprecated and off by default since Kubernetes 1.29",
                               get(body, "apiVersion") ? get(body, "apiVersion") : provider,
                               join_path(join_path(path, "kms"), "apiVersion"), {}});
              }
            }
            break;
          case Mode::KmsTimeout:
            if (type == "kms") kms_timeout(body, path, what, provider, out);
            break;
          case Mode::ResourcesNotCovered: break;
        }
        ++p;
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

 private:
  Outcome not_covered(const CheckInput& in, const Node* list, const std::string& base,
                      std::vector<Violation>& out) const {
    for (const std::string& want_text : resources) {
      const GroupResource want = parse_group_resource(want_text);
      bool named = false;
      for (const Node* entry : items(list)) {
        for (const Node* r : items(get(entry, "resources")))
          if (names_resource(str(r), want)) named = true;
        if (named) break;
      }
      if (!named) {
        out.push_back({"no resources entry names " + want_text + " (nor " + ("*." + want.group) +
                           " or *.*): they are stored in etcd in plaintext",
                       list ? list : in.obj.root, base, {}});
      }
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }

  void kms_timeout(const Node* body, const std::string& path, const std::string& what, const Node* provider,
                   std::vector<Violation>& out) const {
    const std::string name = quote(str(get(body, "name")));
    const Node* t = get(body, "timeout");
    const std::string tpath = join_path(join_path(path, "kms"), "timeout");
    if (!checks::present(t)) {
      out.push_back({"kms provider " + name + " for " + what +
                         " sets no timeout: the default of 3 s applies, unreviewed",
                     provider, tpath, {}});
      return;
    }
    const auto seconds = parse_go_duration_seconds(str(t));
    if (!seconds) {
      out.push_back({"kms provider " + name + " has a timeout the API server cannot read: " + quote(str(t)), t,
                     tpath, {}});
    } else if (*seconds > max_timeout_seconds) {
      out.push_back({"kms provider " + name + " for " + what + " waits up to " + format_seconds(*seconds) +
                         " for the plugin (above " + format_seconds(max_timeout_seconds) +
                         "): a hung plugin stalls API requests that long",
                     t, tpath, {}});
    }
  }
};

}  // namespace

std::unique_ptr<Check> compile_encryption_config_check(const Params& params, std::string& error) {
  auto check = std::make_unique<EncryptionConfigCheck>();
  const std::string_view mode = params.string("mode");
  if (mode == "resources-not-covered") check->mode = Mode::ResourcesNotCovered;
  else if (mode == "identity-first") check->mode = Mode::IdentityFirst;
  else if (mode == "identity-fallback") check->mode = Mode::IdentityFallback;
  else if (mode == "key-in-config") check->mode = Mode::KeyInConfig;
  else if (mode == "weak-provider") check->mode = Mode::WeakProvider;
  else if (mode == "kms-legacy") check->mode = Mode::KmsV1;
  else if (mode == "kms-timeout") check->mode = Mode::KmsTimeout;
  else {
    error = "mode must be resources-not-covered, identity-first, identity-fallback, key-in-config, "
            "weak-provider, kms-legacy or kms-timeout";
    return nullptr;
  }
  check->resources = params.strings("resources");
  if (check->resources.empty()) check->resources = {"secrets"};
  for (const std::string& r : check->resources) {
    if (r.empty() || r.front() == '*') {
      error = "resources must name resources (resource or resource.group), not wildcards";
      return nullptr;
    }
  }
  if (auto m = params.integer("maxTimeoutSeconds")) check->max_timeout_seconds = static_cast<double>(*m);
  return check;
}

}  // namespace kg
