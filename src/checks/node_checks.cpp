// The templates of the node rules, on the `kind: NodeConfig` object that
// `kguard node` builds (engines/node/node_config.hpp; docs/node.md):
//   node-setting  a setting of the kubelet's or kube-proxy's effective
//                 configuration (config file, flags over it, defaults), with
//                 the place the value came from in the message;
//   node-file     mode and owner of the files of one role (manifests,
//                 kubeconfigs, PKI, unit files, data directories);
//   node-etcd-ca  etcd's trusted CA files against the cluster CA (spec.etcdCA,
//                 compared by certificate and key when the node was read).
#include <algorithm>
#include <regex>

#include "checks/regex_cache.hpp"
#include "checks/registry.hpp"

namespace kg {
namespace {

enum class SettingMode { Equals, NotEquals, Present, Absent, Min, Max, NonZeroDuration, Subset, Matches };

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

const Node* at_dotted(const Node* n, std::string_view dotted) {
  std::size_t i = 0;
  while (n) {
    const std::size_t dot = dotted.find('.', i);
    n = get(n, dotted.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i));
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return n;
}

std::string text_of(const Node* n) {
  if (!n) return {};
  if (n->is_scalar()) return std::string(n->text());
  std::string s;
  for (const Node* item : n->items()) s += (s.empty() ? "" : ",") + std::string(str(item));
  return s;
}

// A Go duration whose every number is zero ("0", "0s", "0h0m0s", "0.0ms").
bool zero_duration(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c >= '1' && c <= '9') return false;
  return true;
}

std::optional<long long> to_number(std::string_view s) {
  long long v = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return neg ? -v : v;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : std::string(sep)) + x;
  return s;
}

class NodeSettingCheck final : public Check {
 public:
  std::string component = "kubelet";
  std::vector<std::string> settings;
  SettingMode mode = SettingMode::Equals;
  std::vector<std::string> values;
  long long number = 0;
  std::optional<std::regex> pattern;
  std::string default_value;
  bool has_default = false;
  std::string unless_setting, unless_value;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* comp = get(get(in.obj.root, "spec"), component);
    if (!is_true(get(comp, "found"))) return Outcome::NotApplicable;
    const Node* config = get(comp, "config");
    const Node* origins = get(comp, "origins");
    const std::string cp = join_path(join_path(join_path(in.obj.path_prefix, "spec"), component), "config");
    const std::string who = component == "kubeProxy" ? "kube-proxy" : "kubelet";
    if (!unless_setting.empty()) {
      const Node* u = at_dotted(config, unless_setting);
      if (u && iequals(text_of(u), unless_value)) return Outcome::Pass;
    }
    for (const std::string& setting : settings) {
      const Node* n = at_dotted(config, setting);
      const bool set = n && !n->is_null() && !(n->is_scalar() && n->text().empty()) && !(n->is_seq() && n->items().empty());
      std::string value = set ? text_of(n) : std::string();
      std::string origin = set ? std::string(str(get(origins, setting))) : std::string();
      if (!set && has_default) {
        value = default_value;
        origin = "default";
      }
      if (origin.empty()) origin = "unknown";
      const Node* at = n ? n : (config ? config : comp);
      const std::string path = join_path(cp, setting);
      const std::string head = who + " " + setting;
      const std::string from = " (from " + origin + ")";
      auto fail = [&](std::string message) { out.push_back({std::move(message), at, path, {}}); };
      const bool known = set || has_default;
      switch (mode) {
        case SettingMode::Present:
          if (!set) fail(head + " is not set");
          break;
        case SettingMode::Absent:
          if (set) fail(head + " is set to " + value + from);
          break;
        case SettingMode::Equals:
          if (!known) {
            fail(head + " is not set, expected " + join(values, " or "));
          } else if (std::none_of(values.begin(), values.end(), [&](const std::string& v) { return iequals(v, value); })) {
            fail(head + " is " + value + from + ", expected " + join(values, " or "));
          }
          break;
        case SettingMode::NotEquals: {
          // For a list value (authorization modes), any item named fails.
          std::vector<std::string> parts = n && n->is_seq() ? std::vector<std::string>{} : std::vector<std::string>{value};
          if (n && n->is_seq())
            for (const Node* item : n->items()) parts.emplace_back(str(item));
          for (const std::string& p : parts) {
            if (known && std::any_of(values.begin(), values.end(), [&](const std::string& v) { return iequals(v, p); })) {
              fail(head + " is " + value + from);
              break;
            }
          }
          break;
        }
        case SettingMode::Min:
        case SettingMode::Max: {
          if (!known) {
            fail(head + " is not set");
            break;
          }
          const auto v = to_number(value);
          if (!v) {
            fail(head + " is " + value + from + ", not a number");
          } else if (mode == SettingMode::Min && *v < number) {
            fail(head + " is " + value + from + ", below " + std::to_string(number));
          } else if (mode == SettingMode::Max && *v > number) {
            fail(head + " is " + value + from + ", above " + std::to_string(number));
          }
          break;
        }
        case SettingMode::NonZeroDuration:
          if (known && zero_duration(value)) fail(head + " is " + value + from + ": no timeout");
          break;
        case SettingMode::Subset: {
          if (!set) {
            fail(head + " is not set");
            break;
          }
          std::vector<std::string> outside;
          for (const Node* item : n->is_seq() ? n->items() : std::span<const Node* const>{}) {
            const std::string s(str(item));
            if (std::none_of(values.begin(), values.end(), [&](const std::string& v) { return iequals(v, s); }))
              outside.push_back(s);
          }
          if (!outside.empty()) fail(head + " allows " + join(outside) + from + ", outside the accepted list");
          break;
        }
        case SettingMode::Matches:
          if (!known) {
            fail(head + " is not set");
          } else if (!std::regex_search(value, *pattern)) {
            fail(head + " is " + value + from);
          }
          break;
      }
    }
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

// "600" -> 0600; nullopt when not octal.
std::optional<std::uint32_t> parse_octal(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<std::uint32_t>(c - '0');
  }
  return v;
}

std::string octal4(std::uint32_t m) {
  std::string s = "0000";
  for (int i = 3; i >= 0; --i, m >>= 3) s[static_cast<std::size_t>(i)] = static_cast<char>('0' + (m & 7));
  return s;
}

class NodeFileCheck final : public Check {
 public:
  std::string role;
  std::optional<std::uint32_t> max_mode;
  std::vector<std::pair<std::string, std::string>> owners;  // user, group

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* spec = get(in.obj.root, "spec");
    const Node* files = get(spec, "files");
    if (!files) return Outcome::NotApplicable;  // a live read (configz) sees no files
    const std::string fp = join_path(join_path(in.obj.path_prefix, "spec"), "files");
    bool any = false;
    std::size_t index = 0;
    for (const Node* f : files->items()) {
      const std::size_t i = index++;
      if (str(get(f, "role")) != role) continue;
      any = true;
      const std::string path(str(get(f, "path")));
      const std::string at = index_path(fp, i);
      if (max_mode) {
        const auto mode = parse_octal(str(get(f, "mode")));
        if (mode && (*mode & ~*max_mode & 07777U) != 0) {
          out.push_back({path + " has mode " + octal4(*mode) + ", more permissive than " + octal4(*max_mode),
                         get(f, "mode"), join_path(at, "mode"), {}});
        }
      }
      if (!owners.empty()) {
        const std::string user(str(get(f, "user"))), group(str(get(f, "group")));
        const std::string uid(text_of(get(f, "uid"))), gid(text_of(get(f, "gid")));
        auto matches = [](const std::string& want, const std::string& name, const std::string& id) {
          return want == name || want == id || (want == "root" && id == "0");
        };
        const bool ok = std::any_of(owners.begin(), owners.end(), [&](const auto& o) {
          return matches(o.first, user, uid) && matches(o.second, group, gid);
        });
        if (!ok) {
          std::vector<std::string> want;
          for (const auto& [u, g] : owners) want.push_back(u + ":" + g);
          out.push_back({path + " is owned by " + user + ":" + group + " (" + uid + ":" + gid + "), expected " +
                             join(want, " or "),
                         f, at, {}});
        }
      }
    }
    if (!any) return Outcome::NotApplicable;
    return out.empty() ? Outcome::Pass : Outcome::Fail;
  }
};

// spec.etcdCA.files[]: status distinct | same-certificate | same-key |
// unreadable | not-set. A file that could not be compared leaves the node
// unjudged (kguard node reports the coverage gap), never passed.
class NodeEtcdCaCheck final : public Check {
 public:
  std::vector<std::string> flags;

  Outcome evaluate(const CheckInput& in, std::vector<Violation>& out) const override {
    const Node* ca = get(get(in.obj.root, "spec"), "etcdCA");
    const Node* files = get(ca, "files");
    if (!files) return Outcome::NotApplicable;  // no etcd static Pod, or a live read
    const std::string fp = join_path(join_path(join_path(in.obj.path_prefix, "spec"), "etcdCA"), "files");
    const std::string cluster(str(get(ca, "clusterCA")));
    bool compared = false;
    bool unknown = false;
    std::size_t index = 0;
    for (const Node* f : files->items()) {
      const std::size_t i = index++;
      const std::string flag(str(get(f, "flag")));
      if (std::find(flags.begin(), flags.end(), flag) == flags.end()) continue;
      const std::string_view status = str(get(f, "status"));
      if (status == "unreadable") unknown = true;
      if (status == "distinct") compared = true;
      if (status == "same-certificate" || status == "same-key") {
        out.push_back({"etcd --" + flag + "=" + std::string(str(get(f, "path"))) + " trusts the cluster CA " + cluster +
                           ": " + std::string(str(get(f, "detail"))),
                       f, index_path(fp, i), {}});
      }
    }
    if (!out.empty()) return Outcome::Fail;
    return compared && !unknown ? Outcome::Pass : Outcome::NotApplicable;
  }
};

}  // namespace

std::unique_ptr<Check> compile_node_etcd_ca_check(const Params& params, std::string& error) {
  auto check = std::make_unique<NodeEtcdCaCheck>();
  check->flags = params.strings("flags");
  if (check->flags.empty()) check->flags = {"trusted-ca-file", "peer-trusted-ca-file"};
  for (const std::string& f : check->flags) {
    if (f != "trusted-ca-file" && f != "peer-trusted-ca-file") {
      error = "flags: each is trusted-ca-file or peer-trusted-ca-file";
      return nullptr;
    }
  }
  return check;
}

std::unique_ptr<Check> compile_node_setting_check(const Params& params, std::string& error) {
  auto check = std::make_unique<NodeSettingCheck>();
  if (params.get("component")) check->component = std::string(params.string("component"));
  check->settings = params.strings("setting");
  if (check->settings.empty()) {
    error = "setting is required";
    return nullptr;
  }
  static constexpr std::pair<std::string_view, SettingMode> kModes[] = {
      {"equals", SettingMode::Equals},   {"not-equals", SettingMode::NotEquals},
      {"present", SettingMode::Present}, {"absent", SettingMode::Absent},
      {"min", SettingMode::Min},         {"max", SettingMode::Max},
      {"non-zero-duration", SettingMode::NonZeroDuration}, {"subset", SettingMode::Subset},
      {"matches", SettingMode::Matches}};
  const std::string_view mode = params.string("mode");
  auto it = std::find_if(std::begin(kModes), std::end(kModes), [&](const auto& p) { return p.first == mode; });
  if (it == std::end(kModes)) {
    error = "mode must be one of equals, not-equals, present, absent, min, max, non-zero-duration, subset, matches";
    return nullptr;
  }
  check->mode = it->second;
  check->values = params.strings("values");
  if ((check->mode == SettingMode::Equals || check->mode == SettingMode::NotEquals || check->mode == SettingMode::Subset) &&
      check->values.empty()) {
    error = "values is required for mode " + std::string(mode);
    return nullptr;
  }
  if (check->mode == SettingMode::Min || check->mode == SettingMode::Max) {
    auto n = params.integer("number");
    if (!n) {
      error = "number is required for mode " + std::string(mode);
      return nullptr;
    }
    check->number = *n;
  }
  if (check->mode == SettingMode::Matches) {
    if (!params.get("pattern")) {
      error = "pattern is required for mode matches";
      return nullptr;
    }
    try {
      check->pattern = compile_regex(params.regexes(), std::string(params.string("pattern")), std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      error = "pattern is not a valid regular expression";
      return nullptr;
    }
  }
  if (params.get("default")) {
    check->has_default = true;
    check->default_value = std::string(params.string("default"));
  }
  check->unless_setting = std::string(params.string("unlessSetting"));
  check->unless_value = std::string(params.string("unlessValue"));
  return check;
}

std::unique_ptr<Check> compile_node_file_check(const Params& params, std::string& error) {
  auto check = std::make_unique<NodeFileCheck>();
  check->role = std::string(params.string("role"));
  if (params.get("maxMode")) {
    check->max_mode = parse_octal(params.string("maxMode"));
    if (!check->max_mode) {
      error = "maxMode must be an octal mode such as 600";
      return nullptr;
    }
  }
  for (const std::string& o : params.strings("owners")) {
    const std::size_t colon = o.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == o.size()) {
      error = "owners entries are USER:GROUP (names or numeric ids), e.g. root:root";
      return nullptr;
    }
    check->owners.emplace_back(o.substr(0, colon), o.substr(colon + 1));
  }
  if (!check->max_mode && check->owners.empty()) {
    error = "maxMode or owners is required";
    return nullptr;
  }
  return check;
}

}  // namespace kg
