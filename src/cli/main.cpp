#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "report/model.hpp"

namespace {

constexpr const char* kUsage = R"(kguard - Kubernetes security scanner

Usage:
  kguard scan [options] PATH...     scan manifests (files, directories, - for stdin)
  kguard scan --cluster [options]   scan the cluster of the kubeconfig's context
  kguard snapshot -o FILE           save what a cluster scan reads, for offline scans
  kguard admit --listen ADDR:PORT --tls-cert FILE --tls-key FILE [--config FILE]
                                    run the validating admission webhook
  kguard image [options] REF        read a container image (OCI layout or archive,
                                    docker save, registry, root filesystem)
  kguard db build|status|export|import   the offline vulnerability database
  kguard vuln cvss VECTOR...        CVSS v3.0/v3.1/v4.0 scores of vectors
  kguard vuln compare ECOSYSTEM A B [-v]
                                    order two versions as the ecosystem's tool does
  kguard keygen                     write cosign.key / cosign.pub (cosign's key pair format)
  kguard sign --key REF IMAGE       sign a registry image (cosign's formats)
  kguard verify --key REF IMAGE     verify an image's cosign signatures
  kguard sign report --key REF (--cluster | PATH...)
                                    the workloads' images grouped by signing key (rotation, leaks)
  kguard attest --key REF IMAGE     attach a signed in-toto attestation (cosign attest)
  kguard verify-attestation --key REF --type TYPE IMAGE
                                    verify attestations, with a policy on their content
  kguard registry-hook --key REF ...  sign what a registry's pushes pass (notifications endpoint)
  kguard kms serve|init|rotate|status|retire
                                    KMS v2 plugin: Secrets' KEKs in a PKCS#11 HSM, rotation
  kguard rbac who-can|can|check ... who may do what, exactly as the API server's RBAC
  kguard netpol list|explain|exposure|diff [PATH...]
                                    who can reach whom under the network policies
  kguard audit detect|serve|rules|policy
                                    threat detection on API-server audit logs
  kguard node [--root DIR]          the kubelet, kube-proxy, file modes and credentials of a node
  kguard rules list [-o json]       list the rule catalog (on/off by default)
  kguard rules show ID [-o json]    show one rule with every field
  kguard rules templates [-o json]  the check templates and their parameters
  kguard rules docs DIR             write the rule reference (docs/rules)
  kguard version                    print the version

Run `kguard COMMAND --help` (or `kguard help COMMAND`) for a command's options.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" ||
      (args[0] == "help" && args.size() == 1)) {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  // `kguard help scan` is `kguard scan --help`.
  if (args[0] == "help") {
    if (args.size() > 2 || args[1] == "help") {
      std::cerr << "kguard: help takes one command: scan, snapshot, admit, image, db, keygen, sign, verify, attest, verify-attestation, rbac, netpol, audit, kms or rules\n";
      return 2;
    }
    args = {args[1], "--help"};
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "scan") return kg::cli::scan_command(args);
    if (cmd == "kms") return kg::cli::kms_command(args);
    if (cmd == "rules") return kg::cli::rules_command(args);
    if (cmd == "snapshot") return kg::cli::snapshot_command(args);
    if (cmd == "admit") return kg::cli::admit_command(args);
    if (cmd == "image") return kg::cli::image_command(args);
    if (cmd == "db") return kg::cli::db_command(args);
    if (cmd == "vuln" && !args.empty() && args[0] == "cvss") {
      std::vector<char*> sub;
      for (std::string& a : args) sub.push_back(a.data());
      return kg::cli::run_vuln_cvss(static_cast<int>(sub.size()), sub.data());
    }
    if (cmd == "vuln") return kg::cli::run_vuln(args);
    if (cmd == "attest" || cmd == "verify-attestation") return kg::cli::attest_command(cmd, args);
    if (cmd == "verify" && kg::cli::has_attestation_flag(args)) return kg::cli::attest_command("verify", args);
    if (cmd == "sign" && !args.empty() && args[0] == "report") return kg::cli::sign_report_command(args);
    if (cmd == "keygen" || cmd == "sign" || cmd == "verify") return kg::cli::sign_command(cmd, args);
    if (cmd == "registry-hook") return kg::cli::registry_hook_command(args);
    if (cmd == "rbac") return kg::cli::rbac_command(args);
    if (cmd == "netpol") return kg::cli::netpol_command(args);
    if (cmd == "audit") return kg::cli::audit_command(args);
    if (cmd == "node") return kg::cli::node_command(args);
    if (cmd == "version" || cmd == "--version") {
      if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
        std::cout << "Usage: kguard version\n\nPrints the version.\n";
        return 0;
      }
      if (!args.empty()) {
        std::cerr << "kguard version: unexpected argument '" << args[0] << "'\n";
        return 2;
      }
      std::cout << "kguard " << kg::kguard_version() << '\n';
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "kguard: " << e.what() << '\n';
    return 2;
  }
  std::cerr << "kguard: unknown command '" << cmd << "'\n" << kUsage;
  return 2;
}
