// A systemd service as systemd assembles it: the unit file, its drop-ins
// (`NAME.service.d/*.conf` from /etc, /run, /usr/lib and /lib, sorted by
// file name, /etc winning a name), `Environment=` and `EnvironmentFile=`
// (files override Environment=, an empty assignment resets), the last
// `ExecStart=` after the last empty reset, and the command's `$VAR` /
// `${VAR}` references expanded as systemd does (`$VAR` alone as a word
// splits at whitespace, `${VAR}` does not). Enough to know which flags the
// kubelet or kube-proxy starts with (docs/node.md).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/document.hpp"
#include "sources/host/host_root.hpp"

namespace kg::host {

// One unit-file text folded into the service state (`path` names it in errors).
struct ServiceState {
  std::vector<std::string> exec_start;  // the raw ExecStart= values in force (after resets)
  std::vector<std::pair<std::string, std::string>> environment;  // Environment= in order
  std::vector<std::string> environment_files;  // as written (a leading '-' = optional)
};

// Applies the [Service] section of `text` to `state`; bad lines land in `errors`.
void apply_unit_text(std::string_view text, const std::string& path, ServiceState& state,
                     std::vector<InputError>& errors);

// systemd's word splitting of a command line or an Environment= value:
// whitespace separates, "..." and '...' quote (C escapes inside), a
// backslash escapes the next character.
std::vector<std::string> split_unit_words(std::string_view s);

// KEY=VALUE lines of an EnvironmentFile= (comments, quotes, `\` continuations).
std::vector<std::pair<std::string, std::string>> parse_environment_file(std::string_view text);

// `words` with $VAR (alone: split at whitespace) and ${VAR} (inline) replaced from `env`.
std::vector<std::string> expand_command(const std::vector<std::string>& words,
                                        const std::map<std::string, std::string>& env);

struct ServiceUnit {
  std::string name;                 // "kubelet.service"
  std::string unit_path;            // the unit file read (empty: none found)
  std::vector<std::string> drop_ins;  // in the order applied
  std::vector<std::string> env_files;  // the EnvironmentFile= files read
  std::map<std::string, std::string> environment;
  std::vector<std::string> argv;    // the command, expanded: argv[0] is the binary
  std::vector<InputError> errors;
  // Files of the unit that are there but this process may not read (EACCES:
  // a 0600 unit and a non-root reader): the command line is then unknown. A
  // unit file so denied is still named in unit_path (its mode and owner are
  // judged), a drop-in in drop_ins.
  std::vector<std::string> denied;
  bool found() const { return !unit_path.empty() || !drop_ins.empty(); }
};

// The service `name` ("kubelet.service") as systemd would start it from the
// unit search path under `root`.
ServiceUnit read_service(const HostRoot& root, const std::string& name);

// Command-line flags as spf13/pflag reads them: `--name=value`, `--name
// value`, `-n value`; a flag in `bool_flags` takes no separate value
// (`--name` is true, `--name=false` false); `--` ends the flags; the last
// occurrence wins. Arguments that are not flags are skipped.
struct ParsedFlags {
  std::map<std::string, std::string> values;
  std::vector<std::string> order;  // names in first-seen order
  const std::string* get(std::string_view name) const {
    auto it = values.find(std::string(name));
    return it == values.end() ? nullptr : &it->second;
  }
};
ParsedFlags parse_flags(const std::vector<std::string>& args, std::size_t first,
                        const std::vector<std::string_view>& bool_flags);

}  // namespace kg::host
