// libFuzzer target for --baseline: a previous JSON report is untrusted input
// (an artifact of an earlier CI run). The loader, the comparison by
// fingerprint, and the reports that show what was fixed: the JSON report must
// stay well-formed whatever strings the baseline carried.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/document.hpp"
#include "engines/scan/scan.hpp"
#include "memfile.hpp"
#include "report/model.hpp"

namespace {

constexpr const char* kManifest = R"(apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: app
      image: web:latest
      securityContext: {privileged: true}
)";

const kg::ScanResult& current_result() {
  static const kg::Scanner scanner(kg::Catalog::builtin(), kg::ScanOptions{});
  static const kg::ScanResult result = scanner.scan_buffer("pod.yaml", kManifest);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static MemFile file("baseline.json");
  std::vector<kg::InputError> errors;
  auto baseline = kg::load_baseline(file.write(data, size), errors);
  if (!baseline && errors.empty()) __builtin_trap();
  for (const auto& e : errors)
    if (e.message.empty()) __builtin_trap();
  if (!baseline) return 0;
  kg::ReportModel model = kg::build_report(current_result(), "2026-01-01T00:00:00Z");
  kg::apply_baseline(model, *baseline);
  if (model.baseline.size() != current_result().findings.size()) __builtin_trap();
  std::ostringstream json;
  kg::write_json_report(model, json);
  // What we write, we read back without an error (fixed findings carry the baseline's strings).
  kg::SourceFile out;
  out.path = "report.json";
  out.content = json.str();
  kg::load_documents(out);
  if (!out.errors.empty() || out.documents.size() != 1) __builtin_trap();
  std::ostringstream text;
  kg::write_text_report(model, text, true);
  return 0;
}
