// Control-plane flags parsed as the components parse them (checks/component_flags):
// pflag for the Kubernetes components, Go's flag package and ETCD_* variables
// for etcd, kubeadm's ClusterConfiguration over the flags kubeadm writes.
#include <gtest/gtest.h>

#include "checks/component_flags.hpp"
#include "core/kubeadm_config.hpp"
#include "engines/scan/scan.hpp"

namespace kg {
namespace {

struct Parsed {
  SourceFile file;
  std::vector<Object> objects;
  std::vector<ComponentFlags> flags;
};

// Parses the first object of `yaml` (kept alive with its tree).
std::unique_ptr<Parsed> parse(std::string yaml) {
  auto p = std::make_unique<Parsed>();
  p->file.path = "t.yaml";
  p->file.content = std::move(yaml);
  load_documents(p->file);
  EXPECT_TRUE(p->file.errors.empty());
  std::vector<InputError> errors;
  for (const Document& d : p->file.documents) collect_objects(p->file, d, p->objects, errors);
  EXPECT_FALSE(p->objects.empty());
  if (p->objects.empty()) return p;
  const PodSpecTable table;
  p->flags = parse_component_flags(p->objects[0], pod_view(p->objects[0], table));
  return p;
}

std::string pod(std::string_view container) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: kube-system, labels: {component: kube-apiserver}}\n"
         "spec:\n  containers:\n  - " + std::string(container) + "\n";
}

std::string value(const ComponentFlags& f, std::string_view name) {
  const ComponentFlag* flag = f.find(name);
  return flag ? flag->value : "<absent>";
}

TEST(ComponentFlags, PflagForms) {
  auto p = parse(pod(
      "{name: a, image: 'registry.k8s.io/kube-apiserver:v1.30.2', command: [/usr/local/bin/kube-apiserver, "
      "--secure-port=6443, --etcd-cafile, /pki/ca.crt, --profiling, --anonymous-auth, 'false', "
      "'--enable-admission-plugins=A,B', --enable-admission-plugins=C, --authorization-mode=Node, "
      "'--feature-gates=X=true,Y=false', --feature-gates=Y=true, --service_account_lookup=false, "
      "--token-auth-file=/a, --token-auth-file=/b, -v, '4', --, --basic-auth-file=/x]}"));
  ASSERT_EQ(p->flags.size(), 1u);
  const ComponentFlags& f = p->flags[0];
  EXPECT_EQ(f.component, ControlPlaneComponent::ApiServer);
  EXPECT_EQ(f.kubernetes_minor, 30);
  EXPECT_EQ(value(f, "secure-port"), "6443");
  EXPECT_EQ(value(f, "etcd-cafile"), "/pki/ca.crt");  // `--flag value`
  EXPECT_EQ(value(f, "profiling"), "true");           // a bare bool flag
  // A bool flag does not take the next argument: "false" is a stray argument.
  EXPECT_EQ(value(f, "anonymous-auth"), "true");
  ASSERT_EQ(f.problems.size(), 1u) << ::testing::PrintToString(f.problems);
  EXPECT_NE(f.problems[0].find("\"false\""), std::string::npos);
  EXPECT_EQ(value(f, "enable-admission-plugins"), "A,B,C");  // slice flags accumulate
  EXPECT_EQ(value(f, "service-account-lookup"), "false");    // '_' is '-'
  EXPECT_EQ(value(f, "token-auth-file"), "/b");              // otherwise the last wins
  EXPECT_EQ(feature_gate_value(f, "X"), "true");
  EXPECT_EQ(feature_gate_value(f, "Y"), "true");  // --feature-gates maps merge
  EXPECT_FALSE(feature_gate_value(f, "Z").has_value());
  EXPECT_EQ(value(f, "basic-auth-file"), "<absent>");  // after "--"
  EXPECT_EQ(value(f, "v"), "<absent>");                // a shorthand and its value
  EXPECT_EQ(f.find("etcd-cafile")->path, "spec.containers[0].command[3]");
}

TEST(ComponentFlags, RecognisesTheComponent) {
  // The image's entrypoint: only args, known by the label.
  auto a = parse(pod("{name: main, image: 'example/apiserver:1', args: [--profiling=false]}"));
  ASSERT_EQ(a->flags.size(), 1u);
  EXPECT_EQ(value(a->flags[0], "profiling"), "false");
  EXPECT_EQ(a->flags[0].path, "spec.containers[0].args");
  // sh -c wrapping, hyperkube, and a container that runs something else.
  auto s = parse(pod("{name: c, image: x, command: [sh, -c, 'exec kube-scheduler --bind-address=0.0.0.0 --profiling; sleep 1']}"));
  ASSERT_EQ(s->flags.size(), 1u);
  EXPECT_EQ(s->flags[0].component, ControlPlaneComponent::Scheduler);
  EXPECT_EQ(value(s->flags[0], "bind-address"), "0.0.0.0");
  EXPECT_EQ(value(s->flags[0], "profiling"), "true");
  EXPECT_EQ(value(s->flags[0], "sleep"), "<absent>");
  auto h = parse(pod("{name: c, image: x, command: [/hyperkube, kube-controller-manager, --profiling=false]}"));
  ASSERT_EQ(h->flags.size(), 1u);
  EXPECT_EQ(h->flags[0].component, ControlPlaneComponent::ControllerManager);
  EXPECT_TRUE(parse(pod("{name: c, image: nginx, command: [nginx, -g, daemon off;]}"))->flags.empty());
  EXPECT_TRUE(parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")->flags.empty());
}

TEST(ComponentFlags, EtcdParsesAsGoFlagAndReadsItsEnvironment) {
  auto p = parse(pod(
      "{name: etcd, image: 'registry.k8s.io/etcd:3.5.12-0', command: [etcd, -cert-file=/s.crt, --key-file, /s.key, "
      "--auto-tls, --name=a, --name=b, stray, --peer-auto-tls],"
      " env: [{name: ETCD_CLIENT_CERT_AUTH, value: 'true'}, {name: ETCD_NAME, value: c}]}"));
  ASSERT_EQ(p->flags.size(), 1u);
  const ComponentFlags& f = p->flags[0];
  EXPECT_EQ(f.component, ControlPlaneComponent::Etcd);
  EXPECT_EQ(f.kubernetes_minor, 0);  // etcd's own version, not Kubernetes'
  EXPECT_EQ(value(f, "cert-file"), "/s.crt");
  EXPECT_EQ(value(f, "key-file"), "/s.key");
  EXPECT_EQ(value(f, "auto-tls"), "true");
  EXPECT_EQ(value(f, "name"), "b");             // the command line wins over ETCD_NAME
  EXPECT_EQ(value(f, "peer-auto-tls"), "<absent>");  // parsing stops at "stray"
  EXPECT_EQ(value(f, "client-cert-auth"), "true");
  EXPECT_TRUE(f.find("client-cert-auth")->from_env);
  EXPECT_EQ(f.find("client-cert-auth")->path, "spec.containers[0].env[0].value");
}

TEST(ComponentFlags, KubeadmClusterConfiguration) {
  auto v3 = parse(
      "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.29.1\n"
      "certificatesDir: /pki\napiServer:\n  extraArgs:\n    authorization-mode: RBAC\n    profiling: \"false\"\n");
  ASSERT_EQ(v3->flags.size(), 4u);  // apiserver, controller-manager, scheduler, local etcd
  const ComponentFlags& api = v3->flags[0];
  EXPECT_EQ(api.kubernetes_minor, 29);
  EXPECT_EQ(value(api, "authorization-mode"), "RBAC");  // replaces kubeadm's Node,RBAC
  EXPECT_EQ(api.find("authorization-mode")->path, "apiServer.extraArgs.authorization-mode");
  EXPECT_EQ(value(api, "client-ca-file"), "/pki/ca.crt");
  EXPECT_TRUE(api.find("client-ca-file")->from_kubeadm);
  EXPECT_EQ(value(api, "etcd-certfile"), "/pki/apiserver-etcd-client.crt");
  EXPECT_EQ(value(v3->flags[1], "use-service-account-credentials"), "true");
  EXPECT_EQ(v3->flags[3].component, ControlPlaneComponent::Etcd);
  EXPECT_EQ(v3->flags[3].path, "etcd.local.extraArgs");
  EXPECT_EQ(value(v3->flags[3], "client-cert-auth"), "true");

  auto v4 = parse(
      "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
      "etcd:\n  external: {endpoints: [https://e:2379], caFile: /e/ca.crt}\n"
      "apiServer:\n  extraArgs:\n  - {name: enable-admission-plugins, value: EventRateLimit}\n"
      "  - {name: enable-admission-plugins, value: AlwaysPullImages}\n");
  ASSERT_EQ(v4->flags.size(), 3u);  // external etcd is not kubeadm's
  const ComponentFlags& a4 = v4->flags[0];
  EXPECT_EQ(value(a4, "enable-admission-plugins"), "EventRateLimit,AlwaysPullImages");
  EXPECT_EQ(a4.find("enable-admission-plugins")->path, "apiServer.extraArgs[1]");
  EXPECT_EQ(value(a4, "etcd-cafile"), "/e/ca.crt");
  EXPECT_EQ(value(a4, "etcd-certfile"), "<absent>");
}

TEST(ComponentFlags, EffectiveAdmissionPlugins) {
  auto p = parse(pod("{name: a, image: x, command: [kube-apiserver, --enable-admission-plugins=NodeRestriction,"
                     " --disable-admission-plugins=ServiceAccount]}"));
  auto on = effective_admission_plugins(p->flags[0]);
  auto has = [&](std::string_view n) { return std::find(on.begin(), on.end(), n) != on.end(); };
  EXPECT_TRUE(has("NodeRestriction"));
  EXPECT_TRUE(has("NamespaceLifecycle"));
  EXPECT_TRUE(has("PodSecurity"));
  EXPECT_FALSE(has("ServiceAccount"));
  auto legacy = parse(pod("{name: a, image: x, command: [kube-apiserver, --admission-control=NamespaceLifecycle]}"));
  on = effective_admission_plugins(legacy->flags[0]);
  EXPECT_EQ(on, std::vector<std::string>{"NamespaceLifecycle"});  // replaces the defaults
  // PodSecurity is a default from 1.23 on.
  auto old = parse(pod("{name: a, image: 'registry.k8s.io/kube-apiserver:v1.22.0', command: [kube-apiserver]}"));
  on = effective_admission_plugins(old->flags[0]);
  EXPECT_FALSE(has("PodSecurity"));
}

// The template through a rule: parameters validated, messages name the flag and value.
std::string load_rule(Catalog& c, std::string_view params) {
  const std::string text =
      "id: t\ntitle: t\ncategory: security\nseverity: low\nrationale: r\nremediation: f\nreferences: [x]\n"
      "kinds: [Pod, ClusterConfiguration]\ncheck: component-flag\nparams: " + std::string(params) + "\n";
  const CatalogFile files[] = {{"t/t/rule.yaml", text}};
  std::vector<InputError> errors;
  c.add_files(files, errors);
  return errors.empty() ? std::string() : errors[0].message;
}

TEST(ComponentFlagTemplate, ParametersAndMessages) {
  {
    Catalog c;
    EXPECT_NE(load_rule(c, "{component: kube-apiserver, mode: min, flag: x, value: ten}").find("integer"), std::string::npos);
  }
  {
    Catalog c;
    EXPECT_NE(load_rule(c, "{component: kube-apiserver, mode: equals, value: 'false'}").find("flag"), std::string::npos);
  }
  {
    Catalog c;
    EXPECT_NE(load_rule(c, "{component: etcd, mode: admission-enabled, value: X}").find("kube-apiserver"), std::string::npos);
  }
  Catalog c;
  ASSERT_EQ(load_rule(c, "{component: kube-apiserver, mode: min, flag: audit-log-maxage, value: '30', default: '0'}"), "");
  ScanOptions options;
  options.only = {"t"};
  Scanner scanner(c, options);
  auto r = scanner.scan_buffer("p.yaml", pod("{name: a, image: x, command: [kube-apiserver, --audit-log-maxage=7]}"));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(std::string(r.findings[0].message), "kube-apiserver: --audit-log-maxage=7, must be at least 30");
  EXPECT_EQ(std::string(r.findings[0].location.path), "spec.containers[0].command[1]");
  r = scanner.scan_buffer("p.yaml", pod("{name: a, image: x, command: [kube-apiserver]}"));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(std::string(r.findings[0].message), "kube-apiserver: --audit-log-maxage not set (default 0), must be at least 30");
  r = scanner.scan_buffer("p.yaml", pod("{name: a, image: x, command: [kube-apiserver, --audit-log-maxage=45]}"));
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.tallies[0].passed, 1u);
}

// mode duration-between reads Go durations as time.ParseDuration does.
TEST(ComponentFlagTemplate, DurationBetween) {
  {
    Catalog c;
    EXPECT_NE(load_rule(c, "{component: kube-apiserver, mode: duration-between, flag: x, values: ['1s']}").find("two Go durations"),
              std::string::npos);
  }
  {
    Catalog c;
    EXPECT_NE(load_rule(c, "{component: kube-apiserver, mode: duration-between, flag: x, values: ['1s', '5']}").find("two Go durations"),
              std::string::npos);
  }
  Catalog c;
  ASSERT_EQ(load_rule(c, "{component: kube-apiserver, mode: duration-between, flag: request-timeout, "
                         "values: ['1s', '5m'], default: '1m0s'}"), "");
  ScanOptions options;
  options.only = {"t"};
  Scanner scanner(c, options);
  const std::pair<std::string_view, bool> cases[] = {
      {"60s", true},    {"1m30s", true}, {"1.5m", true},  {"300s", true},  {"5m", true},    {"1s", true},
      {"4m59.9s", true}, {"2m0.5s", true}, {"300000ms", true}, {"0.02h", true},
      {"5m1s", false},  {"1h", false},   {"0", false},    {"0s", false},   {"-1m", false},  {"60", false},
      {"1x", false},    {"", false},     {"m", false},    {"1..5s", false}, {"999ms", false}, {"1m 30s", false},
  };
  for (const auto& [v, ok] : cases) {
    auto r = scanner.scan_buffer("p.yaml", pod("{name: a, image: x, command: [kube-apiserver, '--request-timeout=" +
                                               std::string(v) + "']}"));
    EXPECT_EQ(r.findings.empty(), ok) << v << ": " << (r.findings.empty() ? "" : std::string(r.findings[0].message));
  }
  auto r = scanner.scan_buffer("p.yaml", pod("{name: a, image: x, command: [kube-apiserver]}"));
  EXPECT_TRUE(r.findings.empty());  // the default, 1m0s
  r = scanner.scan_buffer("p.yaml", pod("{name: a, image: x, command: [kube-apiserver, --request-timeout=0]}"));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(std::string(r.findings[0].message),
            "kube-apiserver: --request-timeout=0: no default deadline for requests, must be between 1s and 5m");
}

// kube-system/kubeadm-config's data.ClusterConfiguration becomes an object located in the ConfigMap.
TEST(KubeadmConfigMap, UnpacksTheClusterConfiguration) {
  const std::string yaml =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: kube-system}\ndata:\n"
      "  ClusterConfiguration: |\n"
      "    apiVersion: kubeadm.k8s.io/v1beta3\n"
      "    kind: ClusterConfiguration\n"
      "    apiServer:\n"
      "      extraArgs:\n"
      "        profiling: \"true\"\n";
  auto p = parse(yaml);
  ASSERT_EQ(p->objects.size(), 1u);
  ASSERT_TRUE(is_kubeadm_config_map(p->objects[0]));
  std::vector<std::unique_ptr<SourceFile>> keep;
  std::vector<Object> out;
  std::vector<InputError> errors;
  unpack_kubeadm_config(p->objects[0], keep, out, errors);
  ASSERT_TRUE(errors.empty()) << errors[0].message;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, "ClusterConfiguration");
  EXPECT_EQ(out[0].ns, "kube-system");
  EXPECT_EQ(out[0].name, "kubeadm-config");
  EXPECT_EQ(out[0].path_prefix, "data.ClusterConfiguration");
  EXPECT_EQ(out[0].file->path, "t.yaml");
  const std::vector<ComponentFlags> flags = parse_component_flags(out[0], PodView{});
  ASSERT_FALSE(flags.empty());
  const ComponentFlag* prof = flags[0].find("profiling");
  ASSERT_NE(prof, nullptr);
  ASSERT_NE(prof->at, nullptr);
  EXPECT_EQ(prof->at->line, 10u);  // the line of `profiling: "true"` in t.yaml
  EXPECT_EQ(prof->path, "data.ClusterConfiguration.apiServer.extraArgs.profiling");

  // Not a ClusterConfiguration, not YAML, not a string: errors naming the ConfigMap and field.
  for (const std::string& bad : {std::string("'kind: InitConfiguration\\napiVersion: kubeadm.k8s.io/v1beta3'"),
                                 std::string("'a: [1'"), std::string("{a: b}")}) {
    auto q = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: kube-system}\n"
                   "data:\n  ClusterConfiguration: " + bad + "\n");
    std::vector<Object> none;
    std::vector<InputError> errs;
    unpack_kubeadm_config(q->objects[0], keep, none, errs);
    EXPECT_TRUE(none.empty()) << bad;
    ASSERT_FALSE(errs.empty()) << bad;
    EXPECT_EQ(errs[0].message.rfind("ConfigMap kube-system/kubeadm-config data.ClusterConfiguration: ", 0), 0u)
        << errs[0].message;
    EXPECT_EQ(errs[0].line, 5u) << bad;
  }
  // Another namespace or name: not kubeadm's.
  auto other = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: default}\n"
                     "data: {ClusterConfiguration: 'kind: ClusterConfiguration'}\n");
  EXPECT_FALSE(is_kubeadm_config_map(other->objects[0]));
}

}  // namespace
}  // namespace kg
