#include "cli/attest_predicates.hpp"

#include <ctime>
#include <sstream>

#include "cli/image_json.hpp"
#include "core/json_writer.hpp"
#include "report/model.hpp"
#include "report/sbom.hpp"

namespace kg::cli {

std::string utc_rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string cyclonedx_sbom_json(const ImageInventory& inv) {
  std::ostringstream out;
  write_cyclonedx(inv, out, SbomOptions{});
  return out.str();
}

std::string vuln_predicate_json(const std::string& result_json, const std::string& db_uri, const std::string& db_version,
                                std::chrono::system_clock::time_point started,
                                std::chrono::system_clock::time_point finished) {
  std::string result = result_json;
  while (!result.empty() && (result.back() == '\n' || result.back() == ' ')) result.pop_back();
  std::string out;
  auto q = [&](std::string_view s) { JsonWriter::escape(out, s); };
  out += "{\"invocation\":{\"parameters\":null,\"uri\":\"\",\"event_id\":\"\",\"builder.id\":\"\"},\"scanner\":{\"uri\":";
  q("pkg:generic/kguard@" + std::string(kguard_version()));
  out += ",\"version\":";
  q(kguard_version());
  out += ",\"db\":{\"uri\":";
  q(db_uri);
  out += ",\"version\":";
  q(db_version);
  out += "},\"result\":" + result + "},\"metadata\":{\"scanStartedOn\":";
  q(utc_rfc3339(started));
  out += ",\"scanFinishedOn\":";
  q(utc_rfc3339(finished));
  out += "}}";
  return out;
}

std::string vuln_predicate_json(const image::ImageReadResult& r, const ImageVulnerabilities& vulns,
                                const std::string& db_uri, std::chrono::system_clock::time_point started,
                                std::chrono::system_clock::time_point finished) {
  std::ostringstream result;
  print_image_json(result, r, &vulns);
  return vuln_predicate_json(result.str(), db_uri, vulns.db_built_at, started, finished);
}

}  // namespace kg::cli
