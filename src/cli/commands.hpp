// One function per subcommand; main only dispatches.
#pragma once

#include <string>
#include <vector>

namespace kg::cli {

int scan_command(const std::vector<std::string>& args);
int rules_command(const std::vector<std::string>& args);
int snapshot_command(const std::vector<std::string>& args);
int admit_command(const std::vector<std::string>& args);
int image_command(const std::vector<std::string>& args);
int db_command(const std::vector<std::string>& args);
// kguard vuln cvss: argv[0] is "cvss", the rest its arguments (cli/vuln_cvss.cpp).
int run_vuln_cvss(int argc, char** argv);
int run_vuln(const std::vector<std::string>& args);  // kguard vuln SUBCOMMAND (vuln_command.cpp)
// keygen, sign and verify (cmd says which).
int sign_command(const std::string& cmd, const std::vector<std::string>& args);
// kguard sign report: images of the workloads grouped by signing key (sign_report_command.cpp).
int sign_report_command(const std::vector<std::string>& args);
// attest, verify-attestation, and verify --attestation TYPE (cli/attest_command.cpp).
int attest_command(const std::string& cmd, const std::vector<std::string>& args);
bool has_attestation_flag(const std::vector<std::string>& args);
// kguard registry-hook: sign what a registry's pushes pass (registry_hook_command.cpp).
int registry_hook_command(const std::vector<std::string>& args);
int rbac_command(const std::vector<std::string>& args);  // kguard rbac who-can|can|check
// kguard netpol list|explain|exposure|diff (netpol_command.cpp).
int netpol_command(const std::vector<std::string>& args);
int rbac_paths_command(const std::vector<std::string>& args);  // kguard rbac paths
// kguard audit detect|serve|rules|policy (audit_command.cpp).
int audit_command(const std::vector<std::string>& args);
// kguard audit policy ... (audit_policy_command.cpp; args after "policy").
int audit_policy_main(const std::vector<std::string>& args);
// kguard kms serve|init|rotate|status|retire: the KMS v2 plugin (kms_command.cpp).
int kms_command(const std::vector<std::string>& args);
int node_command(const std::vector<std::string>& args);  // kguard node (node_command.cpp)

}  // namespace kg::cli
