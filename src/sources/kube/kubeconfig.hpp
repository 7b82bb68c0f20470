// Where to reach a Kubernetes API server and as whom, resolved the way kubectl
// resolves it: --kubeconfig, else $KUBECONFIG (several files merged: the first
// file to define a cluster/user/context name or current-context wins), else
// ~/.kube/config, else the in-cluster service account.
//
// Kubeconfig files are parsed with the project's YAML loader; every problem is
// an InputError naming the file, line and field. Secrets (keys, tokens) stay
// in memory inside ClientConfig and are never printed: describe() and the
// error messages only name files and fields.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base64.hpp"
#include "core/document.hpp"

namespace kg::kube {

// client.authentication.k8s.io exec credential plugin (users[].user.exec).
struct ExecPlugin {
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string command;      // resolved against the kubeconfig's directory when relative with a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  std::string origin;  // "file:line" of the exec entry, for messages
};

struct ClientConfig {
  std::string server;  // https://host:port[/prefix], no trailing '/'
  // Trust: a CA bundle as PEM (from certificate-authority-data or the file),
  // or the system store when both are empty.
  std::string ca_file;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string proxy_url;
  // Credentials: PEM client certificate and key (file or inline data), a
  // bearer token (inline or re-read from token_file per connection), or an
  // exec plugin that produces either.
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  std::string token;
  std::string token_file;
  std::string username;  // basic auth (legacy)
  std::string password;
  std::optional<ExecPlugin> exec;

  std::string namespace_;  // the context's namespace; empty = "default"
  std::string context;     // context name, or "in-cluster"
  std::string origin;      // the files it came from, for messages

  // One line for logs and reports: server, context and the kind of
  // credential, never the credential itself.
  std::string describe() const;
};

struct KubeconfigOptions {
  std::string kubeconfig;  // --kubeconfig; empty = $KUBECONFIG or ~/.kube/config
  std::string context;     // --context; empty = current-context
  // In a pod: the folder of the ServiceAccount's token, ca.crt and namespace
  // (a projected volume mounted where only this process reads it); empty =
  // $KGUARD_SERVICEACCOUNT_DIR, else /var/run/secrets/kubernetes.io/serviceaccount.
  std::string serviceaccount_dir;
};

// The files kubectl would read: --kubeconfig alone, else the non-empty
// entries of $KUBECONFIG (':'-separated), else ~/.kube/config when it exists.
std::vector<std::string> kubeconfig_files(const KubeconfigOptions& options);

// Loads and merges `files` and resolves the context. Missing files in a
// $KUBECONFIG list are skipped like kubectl does; a missing --kubeconfig is an
// error. Relative paths inside a file are relative to that file's directory.
std::optional<ClientConfig> load_kubeconfig(const std::vector<std::string>& files,
                                            const std::string& context,
                                            std::vector<InputError>& errors);

// Loads a kubeconfig from memory (tests, fuzzing): `name` is used in errors
// and as the base directory for relative paths.
std::optional<ClientConfig> load_kubeconfig_text(const std::string& name, std::string text,
                                                 const std::string& context,
                                                 std::vector<InputError>& errors);

// In-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service
// account's token, ca.crt and namespace. The directory is `dir` when given,
// else KGUARD_SERVICEACCOUNT_DIR when set (tests), else
// /var/run/secrets/kubernetes.io/serviceaccount.
std::optional<ClientConfig> in_cluster_config(std::vector<InputError>& errors, const std::string& dir = {});

// kubectl's order: explicit or $KUBECONFIG or ~/.kube/config files, else
// in-cluster when KUBERNETES_SERVICE_HOST is set, else an error.
std::optional<ClientConfig> resolve_client_config(const KubeconfigOptions& options,
                                                  std::vector<InputError>& errors);

// kubeconfig's *-data fields are base64 (core's codec).
using kg::base64_decode;

}  // namespace kg::kube
