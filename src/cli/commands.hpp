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

}  // namespace kg::cli
