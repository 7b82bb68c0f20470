#include "config/vuln_config.hpp"

#include <charconv>

#include "core/inventory.hpp"

namespace kg {
namespace {

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

}  // namespace

bool parse_vuln_config(const Node* section, const std::string& path, VulnConfig& out,
                       std::vector<InputError>& errors) {
  bool ok = true;
  auto bad = [&](const Node* at, const std::string& msg) {
    errors.push_back({path, at->line, at->column, msg});
    ok = false;
  };
  auto origin = [&](const Node* at) { return path + ":" + std::to_string(at->line); };
  if (section->is_null()) return true;
  if (!section->is_map()) {
    bad(section, "vulnerabilities: must be a mapping (ignore, ignoreUnfixed, failOn, maxRisk)");
    return false;
  }
  for (const MapEntry& e : section->entries()) {
    const std::string key(e.key->text());
    if (key == "ignoreUnfixed") {
      if (!e.value->as_bool()) {
        bad(e.value, "vulnerabilities.ignoreUnfixed: must be true or false");
        continue;
      }
      out.ignore_unfixed = *e.value->as_bool();
      out.ignore_unfixed_origin = origin(e.key);
    } else if (key == "failOn") {
      out.fail_on = parse_severity(str(e.value));
      if (!out.fail_on) bad(e.value, "vulnerabilities.failOn: must be low, medium, high or critical");
      else out.fail_on_origin = origin(e.key);
    } else if (key == "maxRisk") {
      auto n = e.value->is_scalar() && !e.value->quoted ? parse_number(e.value->text()) : std::nullopt;
      if (!n || *n < 0 || *n > 100) {
        bad(e.value, "vulnerabilities.maxRisk: must be a number from 0 to 100 (the risk score)");
        continue;
      }
      out.max_risk = *n;
      out.max_risk_origin = origin(e.key);
    } else if (key == "ignore") {
      if (!e.value->is_seq()) {
        bad(e.value, "vulnerabilities.ignore: must be a list");
        continue;
      }
      std::size_t i = 0;
      for (const Node* x : e.value->items()) {
        const std::string where = "vulnerabilities.ignore[" + std::to_string(i++) + "]";
        if (!x->is_map()) {
          bad(x, where + ": must be a mapping (id, package, path, image, reason, until)");
          continue;
        }
        VulnIgnore r;
        r.origin = origin(x);
        r.file = path;
        r.line = x->line;
        r.column = x->column;
        r.field = where;
        for (const MapEntry& f : x->entries()) {
          const std::string field(f.key->text());
          const std::string name = where + "." + field;
          auto text = [&](std::string& into) {
            if (!f.value->is_scalar()) bad(f.value, name + ": must be a string");
            else into = std::string(f.value->text());
          };
          if (field == "id") text(r.id);
          else if (field == "package") text(r.package);
          else if (field == "path") text(r.path);
          else if (field == "image") text(r.image);
          else if (field == "reason") text(r.reason);
          else if (field == "until") {
            text(r.until);
            if (!r.until.empty() && !is_iso_date(r.until)) bad(f.value, name + ": must be a date YYYY-MM-DD");
          } else if (field == "expires" || field == "expiry") {
            // The catalog's exemptions call it `until`; one name for one thing.
            bad(f.key, where + ": unknown field '" + field + "' (the expiry date is 'until', as in exemptions)");
          } else {
            bad(f.key, where + ": unknown field '" + field + "'");
          }
        }
        if (r.id.empty()) bad(x, where + ".id: name the vulnerability (CVE-…, GHSA-…, or any alias)");
        if (r.reason.empty()) bad(x, where + ".reason: every ignore needs a reason");
        out.ignores.push_back(std::move(r));
      }
    } else {
      bad(e.key, "vulnerabilities: unknown field '" + key + "'");
    }
  }
  return ok;
}

}  // namespace kg
