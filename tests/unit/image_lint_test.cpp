// The image hardening lint below the CLI: the account and secret readers,
// the LintCataloger over a real root filesystem walked by read_image (modes,
// merged-usr and alternatives symlinks, caches, secrets), the Image object's
// history steps and config, and the image rules judging it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "catalog/catalog.hpp"
#include "core/document.hpp"
#include "engines/image/lint/image_object.hpp"
#include "engines/image/lint/lint.hpp"
#include "engines/image/lint/lint_facts.hpp"
#include "engines/image/walk.hpp"

namespace kg::image {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> paths(const std::vector<FileFact>& facts) {
  std::vector<std::string> out;
  out.reserve(facts.size());
  for (const FileFact& f : facts) out.push_back(f.path);
  return out;
}

TEST(ImageLintFacts, AccountFiles) {
  EXPECT_EQ(empty_password_accounts("root::19000:0:99999:7:::\n# comment\napp:!:19000::::::\nnobody:*:1::::::\n"
                                    "guest::1:0:::\r\nbroken\n"),
            (std::vector<std::string>{"root", "guest"}));
  EXPECT_TRUE(empty_password_accounts("root:x:0:0:root:/root:/bin/sh\n").empty());  // x: the password is in shadow
  const auto dups = duplicate_uids("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:\ntoor:x:0:0::/:\n"
                                   "ops:x:1000:1000::/:\nsvc:x:1001:1001::/:\nadmin:x:0:0::/:\n");
  ASSERT_EQ(dups.size(), 2u);
  EXPECT_EQ(dups[0].first, "0");
  EXPECT_EQ(dups[0].second, (std::vector<std::string>{"root", "toor", "admin"}));
  EXPECT_EQ(dups[1].first, "1000");
  EXPECT_EQ(dups[1].second, (std::vector<std::string>{"app", "ops"}));
}

TEST(ImageLintFacts, SecretsByNameAndContent) {
  const std::string key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";
  EXPECT_TRUE(secret_candidate("/root/.ssh/id_ed25519"));
  EXPECT_TRUE(secret_candidate("/etc/ssh/ssh_host_rsa_key"));
  EXPECT_TRUE(secret_candidate("/srv/tls/server.key"));
  EXPECT_TRUE(secret_candidate("/home/u/.aws/credentials"));
  EXPECT_FALSE(secret_candidate("/srv/credentials"));  // only under .aws or .docker
  EXPECT_FALSE(secret_candidate("/usr/lib/python3/dist-packages/cryptography/tests/key.pem"));
  EXPECT_FALSE(secret_candidate("/etc/ssh/ssh_host_rsa_key.pub"));
  EXPECT_EQ(secret_kind("/srv/tls/server.key", key), "a private key");
  EXPECT_EQ(secret_kind("/etc/ssh/ssh_host_ecdsa_key", key), "an SSH host private key");
  EXPECT_EQ(secret_kind("/srv/tls/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), "");
  EXPECT_EQ(secret_kind("/root/signing.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ\n"), "a private key");
  EXPECT_EQ(secret_kind("/etc/apt/keyrings/docker.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQ\n"), "");
  EXPECT_EQ(secret_kind("/root/.aws/credentials", "[default]\naws_access_key_id = AKIA\naws_secret_access_key = x\n"),
            "AWS credentials");
  EXPECT_EQ(secret_kind("/root/.aws/credentials", "[default]\nregion = eu-west-1\n"), "");
  EXPECT_EQ(secret_kind("/app/.env", "# nothing set\nEMPTY=\n"), "");
  EXPECT_EQ(secret_kind("/app/.env", "DATABASE_URL=postgres://u:p@db/app\n"), "a .env file");
  EXPECT_EQ(secret_kind("/root/.docker/config.json", R"({"auths":{"r.example":{"auth":"dTpw"}}})"),
            "registry credentials");
  EXPECT_EQ(secret_kind("/home/u/.npmrc", "//registry.npmjs.org/:_authToken=npm_x\n"), "npm credentials");
}

TEST(ImageLintFacts, PathFromTheConfig) {
  EXPECT_EQ(path_dirs_of(R"({"config":{"Env":["A=1","PATH=/app/bin:relative::/usr/bin:/app/bin"]}})"),
            (std::vector<std::string>{"/app/bin", "/usr/bin"}));
  EXPECT_EQ(path_dirs_of("").size(), 6u);  // the runtimes' default
  EXPECT_EQ(path_dirs_of(R"({"config":{}})").front(), "/usr/local/sbin");
}

class RootFs : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("kguard-lint-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root);
  }
  void TearDown() override { fs::remove_all(root); }
  void file(const std::string& rel, const std::string& content, fs::perms mode = fs::perms(0644)) {
    const fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    fs::permissions(p, mode, fs::perm_options::replace);
  }
  void link(const std::string& rel, const std::string& target) {
    const fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    fs::create_symlink(target, p);
  }
  fs::path root;
};

TEST_F(RootFs, FactsOfAMergedUsrRoot) {
  const fs::perms x = fs::perms(0755);
  link("bin", "usr/bin");  // merged /usr: /bin/sh is /usr/bin/sh
  link("sbin", "usr/sbin");
  file("usr/bin/dash", "ELF", x);
  link("usr/bin/sh", "dash");
  file("usr/bin/curl", "ELF", x);
  file("usr/bin/passwd", "ELF", fs::perms(04755));
  file("usr/bin/wall", "ELF", fs::perms(02755));
  file("usr/bin/both", "ELF", fs::perms(06755));
  file("usr/bin/nc.openbsd", "ELF", x);
  link("etc/alternatives/nc", "/usr/bin/nc.openbsd");
  link("usr/bin/nc", "/etc/alternatives/nc");  // a tool through the alternatives chain
  link("usr/bin/telnet", "/etc/alternatives/telnet");  // dangling: no tool
  file("usr/sbin/dpkg-not-a-manager", "ELF", x);
  file("usr/bin/dpkg", "ELF", x);
  file("opt/tools/curl", "ELF", x);  // not in a bin directory
  file("usr/local/bin/run.sh", "#!/bin/sh\n", fs::perms(0777));
  file("srv/open.txt", "", fs::perms(0666));  // world-writable, not in PATH
  fs::create_directories(root / "usr/lib/python3/dist-packages/pip");
  file("var/cache/apt/archives/curl_8.5.0_amd64.deb", std::string(300, 'd'));
  file("var/cache/apt/archives/partial/x.deb", "p");  // not a cache file of archives/ itself
  file("var/lib/apt/lists/lock", "");
  file("var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", std::string(100, 'r'));
  file("home/u/.cache/pip/http/a/b", std::string(10, 'p'));
  file("etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n");
  file("etc/shadow", "root:*:19000::::::\ntoor::19000::::::\nu:!:19000::::::\n", fs::perms(0640));
  file("root/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n",
       fs::perms(0600));
  file("etc/ssl/certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

  LintCataloger lint;
  WalkLimits limits;
  ImageReadResult r = read_image("dir:" + root.string(), {}, limits, {&lint});
  ASSERT_TRUE(r.ok()) << r.error;
  const LintFacts& f = lint.facts();
  EXPECT_EQ(paths(f.setid), (std::vector<std::string>{"/usr/bin/both", "/usr/bin/passwd", "/usr/bin/wall"}));
  EXPECT_EQ(f.setid[0].name, "setuid and setgid");
  EXPECT_EQ(f.setid[1].name, "setuid");
  EXPECT_EQ(f.setid[1].detail, "4755");
  EXPECT_EQ(f.setid[2].name, "setgid");
  EXPECT_EQ(paths(f.network_tools), (std::vector<std::string>{"/usr/bin/curl", "/usr/bin/nc", "/usr/bin/nc.openbsd"}));
  EXPECT_EQ(f.network_tools[1].detail, "-> /etc/alternatives/nc");
  EXPECT_EQ(paths(f.package_managers),
            (std::vector<std::string>{"/usr/bin/dpkg", "/usr/lib/python3/dist-packages/pip"}));
  EXPECT_EQ(paths(f.shells), (std::vector<std::string>{"/usr/bin/dash", "/usr/bin/sh"}));
  EXPECT_EQ(paths(f.world_writable), (std::vector<std::string>{"/usr/local/bin/run.sh"}));
  ASSERT_EQ(f.package_caches.size(), 3u);
  EXPECT_EQ(f.package_caches[0].path, "/home/u/.cache/pip");
  EXPECT_EQ(f.package_caches[0].detail, "1 file, 10 B");
  EXPECT_EQ(f.package_caches[1].path, "/var/cache/apt/archives");
  EXPECT_EQ(f.package_caches[1].detail, "1 file, 300 B");
  EXPECT_EQ(f.package_caches[2].path, "/var/lib/apt/lists");
  EXPECT_EQ(f.package_caches[2].detail, "1 file, 100 B");
  ASSERT_EQ(f.empty_passwords.size(), 1u);
  EXPECT_EQ(f.empty_passwords[0].name, "toor");
  EXPECT_EQ(f.empty_passwords[0].path, "/etc/shadow");
  ASSERT_EQ(f.duplicate_uids.size(), 1u);
  EXPECT_EQ(f.duplicate_uids[0].detail, "root, toor");
  ASSERT_EQ(f.secrets.size(), 1u);
  EXPECT_EQ(f.secrets[0].path, "/root/.ssh/id_ed25519");
  EXPECT_FALSE(f.secrets[0].removed);

  // The object, then the catalog's image rules over it.
  const std::string object = image_object_json(r, f);
  ImageLinter linter(Catalog::builtin(), EvalOptions{});
  EngineResult result = linter.lint(r.inventory.reference, object);
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].message;
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < result.rules.size(); ++i)
    if (result.tallies[i].failed) failed.push_back(result.rules[i]->id);
  EXPECT_EQ(failed, (std::vector<std::string>{"image-duplicate-uid", "image-empty-password", "image-network-tools",
                                              "image-no-healthcheck", "image-non-minimal-base",
                                              "image-package-cache", "image-package-manager", "image-runs-as-root",
                                              "image-secret-file", "image-setuid-setgid-files",
                                              "image-world-writable-in-path"}));
  // Only the image rules are in force, each applied once.
  for (std::size_t i = 0; i < result.rules.size(); ++i) {
    EXPECT_TRUE(is_image_rule(*static_cast<const Rule*>(result.rules[i]))) << result.rules[i]->id;
    EXPECT_EQ(result.tallies[i].evaluated, 1u) << result.rules[i]->id;
  }
}

TEST(ImageObject, HistoryStepsConfigAndLocations) {
  ImageReadResult r;
  r.inventory.reference = "oci:app:1.0";
  r.tag = "1.0";
  r.bytes = 4096;
  r.inventory.layers = {LayerInfo{"sha256:1111111111111111", "", "", 10, ""},
                        LayerInfo{"sha256:2222222222222222", "", "", 20, ""}};
  r.config = R"({"config":{"User":"0","Env":["PATH=/usr/bin","EMPTY=","NOEQ"],
                 "ExposedPorts":{"22/tcp":{},"80/tcp":{}},"Volumes":{"/sys":{}},
                 "Healthcheck":{"Test":["NONE"]},"Labels":{"a":"b"}},
                 "history":[{"created_by":"ADD rootfs in /"},{"created_by":"ENV X=1","empty_layer":true},
                            {"created_by":"RUN chown -R app /srv"}]})";
  LintFacts facts;
  facts.setid.push_back(FileFact{"/usr/bin/su", "setuid", "4755", 1, false});
  const std::string json = image_object_json(r, facts);
  SourceFile file;
  file.path = "object";
  file.content = json;
  load_documents(file);
  ASSERT_TRUE(file.errors.empty()) << file.errors[0].message;
  const Node* spec = get(file.documents.at(0).root, "spec");
  EXPECT_EQ(str(get(get(spec, "config"), "user")), "0");
  EXPECT_EQ(str(get(get(get(spec, "config"), "env"), "EMPTY")), "");
  EXPECT_NE(get(get(get(spec, "config"), "env"), "NOEQ"), nullptr);
  EXPECT_EQ(get(get(spec, "config"), "healthcheck"), nullptr);  // NONE disables the base image's
  EXPECT_EQ(items(get(get(spec, "config"), "exposedPorts")).size(), 2u);
  const auto history = items(get(spec, "history"));
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(str(get(history[2], "layer")), "sha256:2222222222222222");  // the empty_layer step made none
  EXPECT_EQ(get(history[1], "layer"), nullptr);
  const auto layers = items(get(spec, "layers"));
  EXPECT_EQ(str(get(layers[0], "step")), "1");
  EXPECT_EQ(str(get(layers[1], "step")), "3");
  const auto setid = items(get(get(spec, "files"), "setuidSetgid"));
  ASSERT_EQ(setid.size(), 1u);
  const Node* su = setid[0];
  EXPECT_EQ(str(get(su, "step")), "3");
  EXPECT_EQ(str(get(su, "layerIndex")), "2");

  ImageLinter linter(Catalog::builtin(), EvalOptions{});
  EngineResult result = linter.lint(r.inventory.reference, json);
  std::map<std::string, FindingView> by_rule;
  for (const FindingView f : result.findings) by_rule[f.rule->id] = f;
  ASSERT_TRUE(by_rule.count("image-runs-as-root"));
  const FindingView root = by_rule["image-runs-as-root"];
  EXPECT_EQ(root.location.path, "spec.config.user");
  // The line is the object's as `kguard image -o object` prints it.
  std::size_t line = 1 + static_cast<std::size_t>(std::count(json.begin(), json.begin() + static_cast<std::ptrdiff_t>(json.find("\"user\"")), '\n'));
  EXPECT_EQ(root.location.line, line);
  EXPECT_EQ(by_rule["image-setuid-setgid-files"].message,
            "/usr/bin/su is setuid (mode 4755); added by layer 2 sha256:222222222222, history step 3");
  EXPECT_EQ(by_rule["image-chmod-chown-in-history"].message,
            "history step 3, layer 2 sha256:222222222222: runs chown: RUN chown -R app /srv");
  EXPECT_EQ(by_rule["image-chmod-chown-in-history"].location.path, "spec.history[2].createdBy");
  EXPECT_TRUE(by_rule.count("image-ssh-port-exposed"));
  EXPECT_TRUE(by_rule.count("image-sensitive-volume"));
  EXPECT_TRUE(by_rule.count("image-no-healthcheck"));
  EXPECT_FALSE(by_rule.count("image-add-remote-file"));
  // --only narrows to the named image rules; a manifest rule named is not an image rule.
  EvalOptions only;
  only.only = {"image-runs-as-root", "pss-privileged"};
  ImageLinter narrow(Catalog::builtin(), only);
  ASSERT_EQ(narrow.rules().size(), 1u);
  EXPECT_EQ(narrow.rules()[0]->id, "image-runs-as-root");
}

}  // namespace
}  // namespace kg::image
