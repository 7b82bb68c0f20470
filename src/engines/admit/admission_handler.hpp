// kguard admit's application on the server core: POST /validate takes an
// AdmissionReview v1 to the admission engine and answers with its decision;
// every decision is counted (/metrics) and written to the audit log. The
// handler owns the engine built from the config file and swaps in a new one
// when the config changes (SIGHUP or the file); a config that does not load
// is refused and the engine in force stays.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engines/admit/admit.hpp"
#include "sources/namespaces.hpp"
#include "server/http_handler.hpp"

namespace kg::admit {

struct AdmissionOptions {
  std::string config_file;      // empty: no config (PSA defaults: privileged everywhere)
  std::string audit_log = "-";  // JSON lines; "-" = stdout, "" = none
  // Labels from a watch of the API server; it outlives config reloads.
  // Null: the config's admission.namespaces.
  std::shared_ptr<const NamespaceSource> api_namespaces;
  // The vulnerability gate's image source (the CLI's registry + scan cache);
  // it outlives config reloads, so its cache does too. Null: no gate.
  std::shared_ptr<ImageVerdictSource> images;
  std::shared_ptr<ImageSignatureSource> signatures;  // the signature gate (null: admission.signatures refused)
};

class AdmissionHandler final : public server::HttpHandler {
 public:
  explicit AdmissionHandler(AdmissionOptions options);
  ~AdmissionHandler() override;

  // Builds the engine from the config and opens the audit log; false (with
  // the reason logged) when either fails.
  bool start();
  // "config" or "watch of https://…": where namespace labels come from.
  std::string namespaces_description() const;

  server::Response handle(const server::Request& request) override;
  std::string not_ready() const override;
  void render_metrics(std::string& out) const override;
  std::vector<std::string> watched_files() const override;
  void reload(server::ReloadReason reason, server::Metrics& metrics) override;
  void tick() override;

 private:
  server::Response validate(const server::Request& request);
  std::shared_ptr<const Engine> engine() const;
  bool load(bool at_start, server::Metrics* metrics);

  class Audit;
  class Counters;

  const AdmissionOptions options_;
  server::Router routes_;
  mutable std::mutex mu_;
  std::shared_ptr<const Engine> engine_;
  std::unique_ptr<Audit> audit_;
  std::unique_ptr<Counters> counters_;
};

}  // namespace kg::admit
