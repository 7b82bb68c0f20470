// Kubeconfig loading: kubectl's merge rules, relative paths, credentials of
// every form, and errors with file:line. The real API server tests are in
// tests/e2e/cluster_e2e.py.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sources/kube/kubeconfig.hpp"

namespace kg::kube {
namespace {
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kguard-kubeconfig-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Base64, DecodesStandardAndRejectsGarbage) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVs\nbG8="), "hello");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_FALSE(base64_decode("a%b"));
  EXPECT_FALSE(base64_decode("aGVsbG8=x"));
}

TEST(Kubeconfig, ResolvesTheCurrentContextWithInlineData) {
  std::vector<InputError> errors;
  auto c = load_kubeconfig_text("/etc/k/config", R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: dev
    cluster:
      server: https://10.0.0.1:6443/
      certificate-authority-data: Q0EtUEVN
      proxy-url: http://127.0.0.1:3128
users:
  - name: dev
    user:
      client-certificate-data: Q0VSVA==
      client-key-data: S0VZ
contexts:
  - name: dev
    context: {cluster: dev, user: dev, namespace: shop}
)", "", errors);
  ASSERT_TRUE(c) << errors[0].message;
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, "CA-PEM");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->proxy_url, "http://127.0.0.1:3128");
  EXPECT_EQ(c->namespace_, "shop");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->describe(), "https://10.0.0.1:6443 (context dev) as client certificate");
}

TEST(Kubeconfig, PathsAreRelativeToTheFileAndTokensNeverDescribed) {
  std::vector<InputError> errors;
  auto c = load_kubeconfig_text("/etc/k/config", R"(
clusters: [{name: c, cluster: {server: "https://h", certificate-authority: ca.crt, insecure-skip-tls-verify: false}}]
users: [{name: u, user: {token: s3cr3t-token, tokenFile: ../t/token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)", "x", errors);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ca_file, "/etc/k/ca.crt");
  EXPECT_EQ(c->token_file, "/etc/t/token");
  EXPECT_EQ(c->describe().find("s3cr3t"), std::string::npos);
}

TEST(Kubeconfig, ExecPluginWithArgsAndEnv) {
  std::vector<InputError> errors;
  auto c = load_kubeconfig_text("/home/me/.kube/config", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h", insecure-skip-tls-verify: true}}]
users:
  - name: u
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: ./bin/creds
        args: [get, --cluster, prod]
        env: [{name: REGION, value: eu}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)", "", errors);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->exec);
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->exec->command, "/home/me/.kube/bin/creds");
  EXPECT_EQ(c->exec->args, (std::vector<std::string>{"get", "--cluster", "prod"}));
  ASSERT_EQ(c->exec->env.size(), 1u);
  EXPECT_EQ(c->exec->env[0].first, "REGION");
  EXPECT_EQ(c->exec->origin, "/home/me/.kube/config:8");  // the exec mapping
}

TEST(Kubeconfig, ErrorsNameFileLineAndField) {
  std::vector<InputError> errors;
  auto c = load_kubeconfig_text("cfg", R"(current-context: x
clusters:
  - name: c
    cluster:
      server: ftp://h
      certificate-authority-data: "%%%"
users:
  - name: u
    user: {client-certificate-data: QQ==, exec: {command: x, apiVersion: v9}}
contexts: [{name: x, context: {cluster: c, user: u}}]
)", "", errors);
  EXPECT_FALSE(c);
  auto has = [&](std::uint32_t line, const std::string& text) {
    for (const InputError& e : errors)
      if (e.file == "cfg" && e.line == line && e.message.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has(5, "server must be an http:// or https:// URL"));
  EXPECT_TRUE(has(6, "certificate-authority-data is not valid base64"));
  EXPECT_TRUE(has(9, "client certificate given without client-key"));
  EXPECT_TRUE(has(9, "exec.apiVersion must be"));
}

TEST(Kubeconfig, MissingContextAndCluster) {
  std::vector<InputError> errors;
  EXPECT_FALSE(load_kubeconfig_text("cfg", "clusters: []\n", "", errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("no current-context"), std::string::npos);
  errors.clear();
  EXPECT_FALSE(load_kubeconfig_text("cfg", "contexts: [{name: a, context: {cluster: nope}}]\n", "a", errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].line, 1u);
  EXPECT_NE(errors[0].message.find("cluster 'nope' not found"), std::string::npos);
}

TEST(Kubeconfig, MergesFilesLikeKubectl) {
  TempDir dir;
  const std::string a = dir.write("a", R"(current-context: merged
contexts: [{name: merged, context: {cluster: c, user: u}}]
)");
  const std::string b = dir.write("b", R"(current-context: ignored
clusters: [{name: c, cluster: {server: "https://first"}}]
users: [{name: u, user: {token: first}}]
)");
  const std::string c = dir.write("c", R"(clusters: [{name: c, cluster: {server: "https://second"}}]
users: [{name: u, user: {token: second}}]
contexts: [{name: merged, context: {cluster: nope, user: nope}}]
)");
  std::vector<InputError> errors;
  auto cfg = load_kubeconfig({a, dir.path() + "/missing", b, c}, "", errors);
  ASSERT_TRUE(cfg) << errors[0].message;
  EXPECT_EQ(cfg->server, "https://first");
  EXPECT_EQ(cfg->token, "first");
  EXPECT_EQ(cfg->context, "merged");

  ::setenv("KUBECONFIG", (a + ":" + b + "::" + a).c_str(), 1);
  EXPECT_EQ(kubeconfig_files({}), (std::vector<std::string>{a, b}));
  EXPECT_EQ(kubeconfig_files({"explicit", "", ""}), (std::vector<std::string>{"explicit"}));
  ::unsetenv("KUBECONFIG");
  errors.clear();
  EXPECT_FALSE(load_kubeconfig({dir.path() + "/missing"}, "", errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("cannot read kubeconfig"), std::string::npos);
}

TEST(Kubeconfig, InClusterServiceAccount) {
  TempDir dir;
  dir.write("token", "tok");
  dir.write("ca.crt", "ca");
  dir.write("namespace", "team-a\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ::setenv("KGUARD_SERVICEACCOUNT_DIR", dir.path().c_str(), 1);
  std::vector<InputError> errors;
  auto c = in_cluster_config(errors);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ::unsetenv("KGUARD_SERVICEACCOUNT_DIR");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, dir.path() + "/token");
  EXPECT_EQ(c->ca_file, dir.path() + "/ca.crt");
  EXPECT_EQ(c->namespace_, "team-a");
  errors.clear();
  EXPECT_FALSE(in_cluster_config(errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors[0].message.find("not running in a pod"), std::string::npos);
}

// A projected token mounted elsewhere (kguard node --serviceaccount-dir): the
// folder named wins over the environment's, and resolve_client_config takes it
// when it goes in-cluster.
TEST(Kubeconfig, InClusterServiceAccountFolderNamed) {
  TempDir dir;
  dir.write("token", "tok");
  dir.write("ca.crt", "ca");
  TempDir other;
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ::setenv("KGUARD_SERVICEACCOUNT_DIR", other.path().c_str(), 1);
  ::setenv("KUBECONFIG", "", 1);
  std::vector<InputError> errors;
  auto named = in_cluster_config(errors, dir.path());
  KubeconfigOptions options;
  options.serviceaccount_dir = dir.path();
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("HOME", other.path().c_str(), 1);  // no ~/.kube/config
  auto resolved = resolve_client_config(options, errors);
  ::setenv("HOME", home.c_str(), 1);
  auto unnamed = in_cluster_config(errors);  // the environment's folder holds no token
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ::unsetenv("KGUARD_SERVICEACCOUNT_DIR");
  ::unsetenv("KUBECONFIG");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->token_file, dir.path() + "/token");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->token_file, dir.path() + "/token");
  EXPECT_EQ(resolved->ca_file, dir.path() + "/ca.crt");
  EXPECT_FALSE(unnamed);
}

}  // namespace
}  // namespace kg::kube
