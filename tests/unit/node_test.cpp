// kguard node's readers (sources/host: systemd units, drop-ins, EnvironmentFiles,
// ExecStart expansion, pflag-style flags, paths under a root) and the
// NodeConfig object (engines/node: flags over the config file, legacy defaults,
// a /configz answer), on real files in a temporary root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/document.hpp"
#include "engines/node/node_config.hpp"
#include "sources/host/host_root.hpp"
#include "sources/host/systemd_unit.hpp"

namespace kg {
namespace {

namespace fs = std::filesystem;
using host::HostRoot;

class TempRoot {
 public:
  TempRoot() {
    char tmpl[] = "/tmp/kguard-node-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;
  void write(const std::string& path, const std::string& text, fs::perms mode = fs::perms(0644)) {
    const fs::path p = fs::path(dir_) / path.substr(1);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    fs::permissions(p, mode);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST(NodeUnit, WordsQuotesAndEscapes) {
  EXPECT_EQ(host::split_unit_words(R"(a "b c" 'd e' f\ g "h\"i")"),
            (std::vector<std::string>{"a", "b c", "d e", "f g", "h\"i"}));
  EXPECT_TRUE(host::split_unit_words("   ").empty());
  // An unclosed quote ends the word instead of reading past the input.
  EXPECT_EQ(host::split_unit_words("\"open"), (std::vector<std::string>{"open"}));
}

TEST(NodeUnit, ServiceSectionResetsAndContinuations) {
  host::ServiceState s;
  std::vector<InputError> errors;
  host::apply_unit_text("[Unit]\nExecStart=/not/service\n[Service]\nExecStart=/usr/bin/a\n"
                        "Environment=\"X=1 2\" Y=3\nExecStart=\nExecStart=/usr/bin/kubelet \\\n  --a=1 \\\n"
                        "# a comment inside\n  --b 2\nEnvironment=bad-name\nnot a key\n",
                        "unit", s, errors);
  ASSERT_EQ(s.exec_start.size(), 1u);
  EXPECT_EQ(host::split_unit_words(s.exec_start[0]),
            (std::vector<std::string>{"/usr/bin/kubelet", "--a=1", "--b", "2"}));
  ASSERT_EQ(s.environment.size(), 2u);
  EXPECT_EQ(s.environment[0], (std::pair<std::string, std::string>{"X", "1 2"}));
  ASSERT_EQ(errors.size(), 2u);  // the bad Environment= word and the line without '='
  EXPECT_EQ(errors[0].line, 11u);
  EXPECT_EQ(errors[1].line, 12u);
}

TEST(NodeUnit, EnvironmentFileAndExpansion) {
  const auto env = host::parse_environment_file(
      "# kubeadm\nKUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/c.sock --v=2\"\n"
      "export E='single quoted'\n bad line\n1X=no\n");
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0].second, "--container-runtime-endpoint=unix:///run/c.sock --v=2");
  EXPECT_EQ(env[1], (std::pair<std::string, std::string>{"E", "single quoted"}));
  const std::map<std::string, std::string> vars{{"A", "--x=1 --y"}, {"B", "two words"}, {"EMPTY", ""}};
  // $A alone splits, ${B} stays one word, an empty $EMPTY vanishes, $$ is a dollar.
  EXPECT_EQ(host::expand_command({"bin", "$A", "--b=${B}", "$EMPTY", "$$x", "$UNSET"}, vars),
            (std::vector<std::string>{"bin", "--x=1", "--y", "--b=two words", "$x"}));
}

TEST(NodeUnit, FlagsAsPflagReadsThem) {
  const std::vector<std::string> argv{"kubelet", "--read-only-port", "10255", "--anonymous-auth", "false",
                                      "--rotate-certificates", "--v=2", "-v", "3", "--anonymous-auth=true",
                                      "--read-only-port=0", "--", "--after=1"};
  const auto f = host::parse_flags(argv, 1, node::kubelet_bool_flags());
  // A bool flag takes no separate value: "false" is a positional argument.
  EXPECT_EQ(*f.get("anonymous-auth"), "true");
  EXPECT_EQ(*f.get("read-only-port"), "0");  // the last occurrence wins
  EXPECT_EQ(*f.get("rotate-certificates"), "true");
  EXPECT_EQ(f.get("after"), nullptr);
  EXPECT_EQ(f.order.front(), "read-only-port");
}

TEST(NodeUnit, RootResolvesLinksInsideIt) {
  TempRoot t;
  t.write("/etc/kubernetes/real.conf", "x", fs::perms(0600));
  fs::create_directories(t.dir() + "/var");
  // An absolute link is read relative to the root, never the machine's /.
  fs::create_symlink("/etc/kubernetes/real.conf", t.dir() + "/var/link.conf");
  fs::create_symlink("../../../../../../etc/kubernetes/real.conf", t.dir() + "/var/up.conf");
  const HostRoot root(t.dir());
  EXPECT_EQ(*root.resolve("/var/link.conf"), t.dir() + "/etc/kubernetes/real.conf");
  EXPECT_EQ(*root.resolve("/var/up.conf"), t.dir() + "/etc/kubernetes/real.conf");
  const auto f = root.stat("/var/link.conf");
  EXPECT_TRUE(f.exists);
  EXPECT_EQ(f.mode, 0600u);
  EXPECT_FALSE(root.stat("/etc/passwd").exists);  // the machine's /etc/passwd is not the root's
  EXPECT_EQ(host::normalize_path("//a/./b/../c/"), "/a/c");
}

TEST(NodeUnit, DropInsOverrideAndEtcWinsAName) {
  TempRoot t;
  t.write("/lib/systemd/system/kubelet.service", "[Service]\nExecStart=/usr/bin/kubelet --from=lib\n");
  t.write("/lib/systemd/system/kubelet.service.d/20-x.conf", "[Service]\nEnvironment=X=--lib-dropin\n");
  t.write("/etc/systemd/system/kubelet.service.d/20-x.conf", "[Service]\nEnvironment=X=--etc-dropin\n");
  t.write("/etc/systemd/system/kubelet.service.d/30-exec.conf",
          "[Service]\nEnvironmentFile=-/etc/default/kubelet\nEnvironmentFile=-/missing\n"
          "ExecStart=\nExecStart=/usr/bin/kubelet $X $KUBELET_EXTRA_ARGS\n");
  t.write("/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--extra=1\n");
  const HostRoot root(t.dir());
  const auto unit = host::read_service(root, "kubelet.service");
  EXPECT_EQ(unit.unit_path, "/lib/systemd/system/kubelet.service");
  EXPECT_EQ(unit.drop_ins, (std::vector<std::string>{"/etc/systemd/system/kubelet.service.d/20-x.conf",
                                                     "/etc/systemd/system/kubelet.service.d/30-exec.conf"}));
  EXPECT_EQ(unit.argv, (std::vector<std::string>{"/usr/bin/kubelet", "--etc-dropin", "--extra=1"}));
  EXPECT_TRUE(unit.errors.empty());
}

std::string config_of(const node::NodeRead& r) {
  SourceFile f;
  f.path = "object";
  f.content = r.object_json;
  load_documents(f);
  std::string out;
  const Node* kubelet = get(get(f.documents.at(0).root, "spec"), "kubelet");
  out += std::string(str(get(get(get(get(kubelet, "config"), "authentication"), "anonymous"), "enabled"))) + "|";
  out += std::string(str(get(get(kubelet, "config"), "readOnlyPort"))) + "|";
  out += std::string(str(get(get(kubelet, "origins"), "readOnlyPort"))) + "|";
  out += std::string(str(get(get(get(kubelet, "config"), "featureGates"), "RotateKubeletServerCertificate")));
  return out;
}

TEST(NodeUnit, FlagsOverrideTheConfigFileAndDefaultsDependOnIt) {
  TempRoot t;
  t.write("/lib/systemd/system/kubelet.service",
          "[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --read-only-port=10255 "
          "--feature-gates=RotateKubeletServerCertificate=false\n");
  t.write("/var/lib/kubelet/config.yaml",
          "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\n"
          "featureGates:\n  RotateKubeletServerCertificate: true\n");
  node::NodeReadOptions o;
  o.credentials = false;
  const auto with_config = node::read_node(HostRoot(t.dir()), o);
  EXPECT_TRUE(with_config.errors.empty());
  // v1beta1 default (anonymous off), the flag over the file, the flag's gate merged over the file's.
  EXPECT_EQ(config_of(with_config), "false|10255|flag --read-only-port on the kubelet.service command line|false");
  t.write("/lib/systemd/system/kubelet.service", "[Service]\nExecStart=/usr/bin/kubelet\n");
  const auto legacy = node::read_node(HostRoot(t.dir()), o);
  EXPECT_EQ(config_of(legacy), "true|10255|the kubelet's legacy flag default, no --config|");
}

TEST(NodeUnit, MalformedConfigIsLocatedAndTheRestRead) {
  TempRoot t;
  t.write("/var/lib/kubelet/config.yaml",
          "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: ten\n"
          "authentication:\n  anonymous:\n    enabled: true\n");
  node::NodeReadOptions o;
  o.credentials = false;
  const auto r = node::read_node(HostRoot(t.dir()), o);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "/var/lib/kubelet/config.yaml");
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_NE(r.errors[0].message.find("readOnlyPort"), std::string::npos);
  EXPECT_EQ(config_of(r), "true|0|default|");
}

TEST(NodeUnit, Configz) {
  const auto r = node::node_from_configz(
      "worker-1",
      R"({"kubeletconfig":{"authentication":{"anonymous":{"enabled":true}},"readOnlyPort":10255,)"
      R"("featureGates":{"RotateKubeletServerCertificate":false}}})",
      "configz.json");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(config_of(r), "true|10255|the running kubelet, configz.json|false");
  const auto bad = node::node_from_configz("worker-1", "[1, 2", "configz.json");
  EXPECT_FALSE(bad.errors.empty());
}

}  // namespace
}  // namespace kg
