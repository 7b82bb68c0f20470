// sources/render without helm or kustomize: the process runner on real
// programs (/bin/sh), helm output split at its # Source: comments, helm
// error messages located, and which walked files a render root owns.
// tests/integration/render_test.py runs the real tools end to end.
#include <gtest/gtest.h>

#include <chrono>

#include "sources/render/process.hpp"
#include "sources/render/render.hpp"

namespace kg::render {
namespace {

TEST(RenderProcess, CapturesStdoutStderrAndExitCode) {
  const ProcessResult r = run_process("/bin/sh", {"-c", "printf out; printf err >&2; exit 3"}, {});
  EXPECT_TRUE(r.spawn_error.empty());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "err");
  EXPECT_FALSE(r.ok());
}

TEST(RenderProcess, ArgumentsReachTheProgramVerbatim) {
  const ProcessResult r = run_process("/bin/sh", {"-c", "printf '%s|' \"$@\"", "sh", "a b", "$(x)", ";"}, {});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "a b|$(x)|;|");
}

TEST(RenderProcess, StdinIsEmpty) {
  const ProcessResult r = run_process("/bin/sh", {"-c", "cat; printf done"}, {});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.out, "done");
}

TEST(RenderProcess, TimeoutKillsTheProcessGroup) {
  ProcessLimits limits;
  limits.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  // The background sleep holds the pipe open: only killing the group ends it.
  const ProcessResult r = run_process("/bin/sh", {"-c", "sleep 30 & sleep 30"}, limits);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(RenderProcess, OutputOverTheCapStopsIt) {
  ProcessLimits limits;
  limits.max_stdout = 1 << 16;
  const ProcessResult r = run_process("/bin/sh", {"-c", "while :; do echo yyyyyyyyyyyyyyyy; done"}, limits);
  EXPECT_TRUE(r.stdout_overflow);
  EXPECT_EQ(r.out.size(), limits.max_stdout);
  EXPECT_FALSE(r.ok());
}

TEST(RenderProcess, StderrIsBounded) {
  ProcessLimits limits;
  limits.max_stderr = 100;
  const ProcessResult r = run_process("/bin/sh", {"-c", "i=0; while [ $i -lt 200 ]; do echo e >&2; i=$((i+1)); done"},
                                      limits);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.err.size(), 100u);
}

TEST(RenderProcess, MissingProgram) {
  const ProcessResult r = run_process("/nonexistent/helm", {}, {});
  EXPECT_FALSE(r.spawn_error.empty());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(find_executable("/nonexistent/helm"), "");
  EXPECT_EQ(find_executable("sh").empty(), false);
}

TEST(RenderHelm, OutputSplitByTemplateInOrder) {
  const std::string out =
      "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n"
      "---\n# Source: web/templates/multi.yaml\nkind: A\n"
      "---\n# Source: web/charts/db/templates/db.yaml\nkind: B\n"
      "---\n# Source: web/templates/multi.yaml\nkind: C\n";
  const auto files = split_helm_output("charts/web", out);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, "charts/web/templates/svc.yaml");
  EXPECT_EQ(files[0].content, "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n");
  EXPECT_EQ(files[1].path, "charts/web/templates/multi.yaml");
  EXPECT_EQ(files[1].content,
            "---\n# Source: web/templates/multi.yaml\nkind: A\n---\n# Source: web/templates/multi.yaml\nkind: C\n");
  EXPECT_EQ(files[2].path, "charts/web/charts/db/templates/db.yaml");
}

TEST(RenderHelm, DocumentWithoutSourceBelongsToTheChart) {
  const auto files = split_helm_output("web", "kind: A\n---\n\n---\n# Source: w/templates/x.yaml\nkind: B");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "web");
  EXPECT_EQ(files[1].path, "web/templates/x.yaml");
  EXPECT_EQ(files[1].content, "---\n# Source: w/templates/x.yaml\nkind: B\n");
}

TEST(RenderKustomize, OriginAnnotationsSplitByFile) {
  const std::string out =
      "kind: A\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../../base/a.yaml\n"
      "---\nkind: B\nmetadata:\n  name: gen\n"
      "---\nkind: C\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n"
      "      path: x.yaml\n      repo: https://example.com/r\n";
  const auto files = split_kustomize_output("k/overlays/prod", out);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "k/base/a.yaml");
  EXPECT_EQ(files[1].path, "k/overlays/prod");  // generated, and remote: the folder
  EXPECT_EQ(files[1].content, "kind: B\nmetadata:\n  name: gen\n---\nkind: C\nmetadata:\n  annotations:\n"
                              "    config.kubernetes.io/origin: |\n      path: x.yaml\n"
                              "      repo: https://example.com/r\n");
  const auto plain = split_kustomize_output("k", "kind: A\n---\nkind: B\n");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].content, "kind: A\n---\nkind: B\n");
}

TEST(RenderHelm, ErrorsLocated) {
  InputError e = locate_helm_error(
      "deploy/web", "template: web/templates/d.yaml:12:7: executing \"web/templates/d.yaml\" at <.x>: nil",
      "deploy/web/Chart.yaml");
  EXPECT_EQ(e.file, "deploy/web/templates/d.yaml");
  EXPECT_EQ(e.line, 12u);
  EXPECT_EQ(e.column, 7u);
  e = locate_helm_error("web", "parse error at (web/templates/c.yaml:6): function \"f\" not defined",
                        "web/Chart.yaml");
  EXPECT_EQ(e.file, "web/templates/c.yaml");
  EXPECT_EQ(e.line, 6u);
  EXPECT_EQ(e.column, 0u);
  e = locate_helm_error("web", "YAML parse error on web/templates/b.yaml: yaml: line 5: x", "web/Chart.yaml");
  EXPECT_EQ(e.file, "web/templates/b.yaml");
  EXPECT_EQ(e.line, 0u);
  e = locate_helm_error("web", "open nope.yaml: no such file or directory", "web/Chart.yaml");
  EXPECT_EQ(e.file, "web/Chart.yaml");
  EXPECT_EQ(e.message, "helm template: open nope.yaml: no such file or directory");
}

TEST(RenderRoots, InsideRoot) {
  const std::vector<RenderRoot> roots = {{Tool::Helm, "repo/chart", "repo/chart/Chart.yaml", {}},
                                         {Tool::Kustomize, "./k/", "./k/kustomization.yaml", {}}};
  EXPECT_TRUE(inside_root("repo/chart/templates/a.yaml", roots));
  EXPECT_TRUE(inside_root("repo/chart/Chart.yaml", roots));
  EXPECT_FALSE(inside_root("repo/chart2/a.yaml", roots));
  EXPECT_FALSE(inside_root("repo/a.yaml", roots));
  EXPECT_TRUE(inside_root("k/base.yaml", roots));
  EXPECT_FALSE(inside_root("kk/base.yaml", roots));
  const std::vector<RenderRoot> here = {{Tool::Helm, ".", "./Chart.yaml", {}}};
  EXPECT_TRUE(inside_root("templates/a.yaml", here));
  EXPECT_FALSE(inside_root("../other/a.yaml", here));
}

}  // namespace
}  // namespace kg::render
