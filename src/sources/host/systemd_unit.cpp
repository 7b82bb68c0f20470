#include "sources/host/systemd_unit.hpp"

#include <algorithm>
#include <cerrno>

namespace kg::host {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool valid_env_name(std::string_view k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9')) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Logical lines: a trailing backslash joins the next line (with a space, as systemd does).
std::vector<std::pair<std::uint32_t, std::string>> logical_lines(std::string_view text) {
  std::vector<std::pair<std::uint32_t, std::string>> out;
  std::string cur;
  std::uint32_t start = 0;
  std::uint32_t line = 0;
  bool continuing = false;
  std::size_t i = 0;
  while (i <= text.size()) {
    const std::size_t nl = text.find('\n', i);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view l = text.substr(i, end - i);
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const std::string_view t = trim(l);
    if (continuing && !t.empty() && (t[0] == '#' || t[0] == ';')) {
      // a comment inside a continuation is skipped
    } else {
      if (!continuing) start = line;
      if (!t.empty() && t.back() == '\\') {
        cur += std::string(l.substr(0, l.rfind('\\')));
        cur += ' ';
        continuing = true;
      } else {
        cur += std::string(l);
        out.emplace_back(start, std::move(cur));
        cur.clear();
        continuing = false;
      }
    }
    if (nl == std::string_view::npos) break;
    i = nl + 1;
  }
  if (continuing) out.emplace_back(start, std::move(cur));
  return out;
}

void unescape_into(std::string& out, std::string_view s, std::size_t& i) {
  // s[i] is the character after a backslash.
  const char c = s[i];
  switch (c) {
    case 'n': out += '\n'; break;
    case 't': out += '\t'; break;
    case 'r': out += '\r'; break;
    case 'a': out += '\a'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'v': out += '\v'; break;
    case 's': out += ' '; break;
    default: out += c;
  }
}

}  // namespace

std::vector<std::string> split_unit_words(std::string_view s) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    if (i >= s.size()) break;
    std::string w;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
      const char c = s[i];
      if (c == '"' || c == '\'') {
        ++i;
        while (i < s.size() && s[i] != c) {
          if (s[i] == '\\' && i + 1 < s.size()) {
            ++i;
            unescape_into(w, s, i);
          } else {
            w += s[i];
          }
          ++i;
        }
        if (i < s.size()) ++i;  // closing quote (an unclosed one ends the word)
      } else if (c == '\\' && i + 1 < s.size()) {
        ++i;
        unescape_into(w, s, i);
        ++i;
      } else {
        w += c;
        ++i;
      }
    }
    words.push_back(std::move(w));
  }
  return words;
}

void apply_unit_text(std::string_view text, const std::string& path, ServiceState& state,
                     std::vector<InputError>& errors) {
  std::string section;
  for (auto& [line, raw] : logical_lines(text)) {
    const std::string_view l = trim(raw);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l[0] == '[') {
      if (l.back() != ']') {
        errors.push_back({path, line, 1, "section header without a closing ']'"});
        section.clear();
        continue;
      }
      section = std::string(l.substr(1, l.size() - 2));
      continue;
    }
    const std::size_t eq = l.find('=');
    if (eq == std::string_view::npos) {
      errors.push_back({path, line, 1, "line is neither a [section] nor KEY=VALUE: '" + std::string(l.substr(0, 60)) + "'"});
      continue;
    }
    if (section != "Service") continue;
    const std::string_view key = trim(l.substr(0, eq));
    const std::string_view value = trim(l.substr(eq + 1));
    if (key == "ExecStart") {
      if (value.empty()) state.exec_start.clear();
      else state.exec_start.emplace_back(value);
    } else if (key == "Environment") {
      if (value.empty()) {
        state.environment.clear();
        continue;
      }
      for (const std::string& w : split_unit_words(value)) {
        const std::size_t weq = w.find('=');
        if (weq == std::string::npos || !valid_env_name(std::string_view(w).substr(0, weq))) {
          errors.push_back({path, line, static_cast<std::uint32_t>(eq + 2),
                            "Environment= assignment is not NAME=VALUE: '" + w.substr(0, 60) + "'"});
          continue;
        }
        state.environment.emplace_back(w.substr(0, weq), w.substr(weq + 1));
      }
    } else if (key == "EnvironmentFile") {
      if (value.empty()) state.environment_files.clear();
      else state.environment_files.emplace_back(value);
    }
  }
}

std::vector<std::pair<std::string, std::string>> parse_environment_file(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [line, raw] : logical_lines(text)) {
    std::string_view l = trim(raw);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l.substr(0, 7) == "export ") l = trim(l.substr(7));
    const std::size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key(trim(l.substr(0, eq)));
    if (!valid_env_name(key)) continue;
    std::string_view v = trim(l.substr(eq + 1));
    std::string value;
    if (!v.empty() && (v[0] == '"' || v[0] == '\'')) {
      const char q = v[0];
      std::size_t i = 1;
      while (i < v.size() && v[i] != q) {
        if (q == '"' && v[i] == '\\' && i + 1 < v.size()) {
          ++i;
          value += v[i];
        } else {
          value += v[i];
        }
        ++i;
      }
    } else {
      value = std::string(v);
    }
    out.emplace_back(key, std::move(value));
  }
  return out;
}

std::vector<std::string> expand_command(const std::vector<std::string>& words,
                                        const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  auto lookup = [&](const std::string& k) -> std::string {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  for (const std::string& w : words) {
    // "$NAME" as a whole word: the value split at whitespace (nothing when empty).
    if (w.size() > 1 && w[0] == '$' && w[1] != '{' && valid_env_name(std::string_view(w).substr(1))) {
      for (std::string& part : split_unit_words(lookup(w.substr(1)))) out.push_back(std::move(part));
      continue;
    }
    std::string r;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i] == '$' && i + 1 < w.size() && w[i + 1] == '{') {
        const std::size_t close = w.find('}', i + 2);
        if (close != std::string::npos && valid_env_name(std::string_view(w).substr(i + 2, close - i - 2))) {
          r += lookup(w.substr(i + 2, close - i - 2));
          i = close;
          continue;
        }
      }
      if (w[i] == '$' && i + 1 < w.size() && w[i + 1] == '$') {  // "$$" is a literal "$"
        r += '$';
        ++i;
        continue;
      }
      r += w[i];
    }
    out.push_back(std::move(r));
  }
  return out;
}

ServiceUnit read_service(const HostRoot& root, const std::string& name) {
  ServiceUnit unit;
  unit.name = name;
  // Highest priority first, as systemd's unit search path.
  static constexpr std::string_view kDirs[] = {"/etc/systemd/system", "/run/systemd/system",
                                               "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
                                               "/lib/systemd/system"};
  ServiceState state;
  for (std::string_view dir : kDirs) {
    const std::string p = std::string(dir) + "/" + name;
    std::string text;
    int error = 0;
    if (root.read(p, text, std::size_t{4} << 20, &error)) {
      unit.unit_path = p;
      apply_unit_text(text, p, state, unit.errors);
      break;
    }
    if (error == EACCES || error == EPERM) {
      unit.unit_path = p;
      unit.denied.push_back(p);
      break;
    }
  }
  // Drop-ins by file name; the first directory in search order wins a name.
  std::map<std::string, std::string> drop_ins;  // file name -> path
  for (std::string_view dir : kDirs) {
    const std::string d = std::string(dir) + "/" + name + ".d";
    int error = 0;
    const std::vector<std::string> files = root.list(d, &error);
    if (error == EACCES || error == EPERM) unit.denied.push_back(d);
    for (const std::string& f : files) {
      if (f.size() < 6 || f.substr(f.size() - 5) != ".conf") continue;
      drop_ins.emplace(f, d + "/" + f);
    }
  }
  for (const auto& [file, path] : drop_ins) {
    std::string text;
    int error = 0;
    if (!root.read(path, text, std::size_t{4} << 20, &error)) {
      if (error == EACCES || error == EPERM) {
        unit.drop_ins.push_back(path);
        unit.denied.push_back(path);
      }
      continue;
    }
    unit.drop_ins.push_back(path);
    apply_unit_text(text, path, state, unit.errors);
  }
  for (const auto& [k, v] : state.environment) unit.environment[k] = v;
  // EnvironmentFile= settings override Environment=, in order.
  for (const std::string& spec : state.environment_files) {
    const bool optional = !spec.empty() && spec[0] == '-';
    const std::string path = optional ? spec.substr(1) : spec;
    std::string text;
    int error = 0;
    if (!root.read(path, text, std::size_t{4} << 20, &error)) {
      if (error == EACCES || error == EPERM) {
        unit.denied.push_back(path);
        continue;
      }
      if (!optional) unit.errors.push_back({path, 0, 0, "EnvironmentFile= of " + name + " cannot be read"});
      continue;
    }
    unit.env_files.push_back(path);
    for (auto& [k, v] : parse_environment_file(text)) unit.environment[k] = v;
  }
  if (!state.exec_start.empty()) {
    std::string cmd = state.exec_start.back();
    // Prefixes: - (ignore failure), @, :, +, ! and !! change how it runs, not what.
    while (!cmd.empty() && (cmd[0] == '-' || cmd[0] == '@' || cmd[0] == ':' || cmd[0] == '+' || cmd[0] == '!'))
      cmd.erase(0, 1);
    unit.argv = expand_command(split_unit_words(cmd), unit.environment);
  }
  return unit;
}

ParsedFlags parse_flags(const std::vector<std::string>& args, std::size_t first,
                        const std::vector<std::string_view>& bool_flags) {
  ParsedFlags f;
  auto set = [&](const std::string& name, std::string value) {
    if (!f.values.contains(name)) f.order.push_back(name);
    f.values[name] = std::move(value);
  };
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-' || a == "-") continue;
    const std::size_t dashes = a[1] == '-' ? 2 : 1;
    std::string body = a.substr(dashes);
    if (body.empty()) continue;
    const std::size_t eq = body.find('=');
    if (eq != std::string::npos) {
      set(body.substr(0, eq), body.substr(eq + 1));
      continue;
    }
    const bool is_bool = std::find(bool_flags.begin(), bool_flags.end(), body) != bool_flags.end();
    if (is_bool) {
      set(body, "true");
    } else if (i + 1 < args.size()) {
      set(body, args[++i]);
    } else {
      set(body, "");  // pflag: "flag needs an argument"; kept as set and empty
    }
  }
  return f;
}

}  // namespace kg::host
