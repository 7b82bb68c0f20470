#!/usr/bin/env python3
"""Helm charts and kustomizations in the input, rendered by the real helm and
kustomize and scanned through the real kguard binary.

helm and kustomize are built from the Go module proxy by scripts/build-helm.sh
and scripts/build-kustomize.sh (cached in ~/.cache, keyed by version); without
Go the test exits 77 (skipped) and says so.

The fixtures live in tests/testdata/render: a chart whose values toggle a
privileged container (webapp), a chart whose template does not parse
(broken), a library chart (library), a kustomize base with a privileged
container and an overlay whose patch hardens it, and a plain manifest.

Run by ctest: render_test.py KGUARD_BINARY SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import support

KGUARD, SOURCE = support.args("kguard", "source", absolute=True)
DATA = "tests/testdata/render"  # relative to SOURCE: the paths findings name
CHART = DATA + "/webapp"
BASE = DATA + "/kustomize/base"
OVERLAY = DATA + "/kustomize/overlays/prod"


def build_tool(script):
    p = subprocess.run([os.path.join(SOURCE, "scripts", script)], capture_output=True, text=True,
                       timeout=1500)
    if p.returncode == 77:
        print(f"render_test: skipped, {script} cannot build the tool: {p.stderr.strip()}")
        sys.exit(77)
    if p.returncode != 0:
        raise SystemExit(f"{script} failed:\n{p.stderr}")
    return p.stdout.strip().splitlines()[-1]


HELM = build_tool("build-helm.sh")
KUSTOMIZE = build_tool("build-kustomize.sh")
TOOLS = ["--helm", HELM, "--kustomize", KUSTOMIZE]


def run(*args, env=None, timeout=180):
    """kguard scan -o json ARGS from the source dir: (exit code, report, stderr)."""
    return support.scan_json("-q", *args, cwd=SOURCE, env=env, timeout=timeout)


def failed(report, rule=None):
    return [f for f in report["findings"]
            if f["result"] == "fail" and (rule is None or f["rule"] == rule)]


def files_of(findings):
    return {f["location"]["file"] for f in findings}


def rendered_templates(*helm_args):
    """helm's own output for the chart, split at its # Source: comments the way
    kguard is documented to: {template path in the chart: rendered text}."""
    out = subprocess.run([HELM, "template", "./" + CHART, *helm_args], cwd=SOURCE,
                         capture_output=True, text=True, check=True, timeout=120).stdout
    docs = {}
    for doc in out.split("\n---\n"):
        doc = doc.removeprefix("---\n")
        first = doc.split("\n", 1)[0]
        if not first.startswith("# Source: "):
            continue
        rel = first[len("# Source: "):].split("/", 1)[1]
        docs[rel] = docs.get(rel, "") + "---\n" + doc.rstrip("\n") + "\n"
    return docs


def empty_path_env():
    """An environment whose PATH holds no helm, kustomize or kubectl."""
    d = tempfile.mkdtemp(prefix="kguard-nopath-")
    env = dict(os.environ, PATH=d)
    return env, d


class HelmChart(unittest.TestCase):
    def test_default_values_render_and_findings_name_templates(self):
        code, report, err = run(*TOOLS, CHART)
        self.assertEqual(report["errors"], [], err)
        self.assertIn(code, (0, 1))
        fails = failed(report)
        self.assertTrue(fails)
        # Every finding names a template of the chart, never Chart.yaml or the raw folder.
        self.assertEqual(files_of(fails), {CHART + "/templates/deployment.yaml",
                                           CHART + "/templates/service.yaml"})
        self.assertEqual(failed(report, "pss-privileged"), [])
        notes = [w for w in report["warnings"] if w["file"] == CHART]
        self.assertEqual(len(notes), 1)
        self.assertIn("rendered by helm template", notes[0]["message"])
        self.assertIn("rendered output", notes[0]["message"])

    def test_values_file_changes_the_verdict_at_the_rendered_line(self):
        values = CHART + "/values-insecure.yaml"
        code, report, err = run(*TOOLS, "--values", values, CHART)
        self.assertEqual(report["errors"], [], err)
        (priv,) = failed(report, "pss-privileged")
        self.assertEqual(priv["location"]["file"], CHART + "/templates/deployment.yaml")
        self.assertEqual(priv["kind"], "Deployment")
        # The line is the line of the template's rendered output (helm's own
        # output split at its # Source: comments) holding the field.
        rendered = rendered_templates("--values", values)["templates/deployment.yaml"]
        line = rendered.split("\n")[priv["location"]["line"] - 1]
        self.assertEqual(line.strip(), "privileged: true")

    def test_set_changes_the_verdict(self):
        _, report, err = run(*TOOLS, "--set", "privileged=true", CHART)
        self.assertEqual(report["errors"], [], err)
        self.assertEqual(len(failed(report, "pss-privileged")), 1)
        # Later values win, as in helm: --set over the values file.
        _, report, _ = run(*TOOLS, "--values", CHART + "/values-insecure.yaml", "--set", "privileged=false",
                           CHART)
        self.assertEqual(failed(report, "pss-privileged"), [])

    def test_release_name_and_namespace(self):
        _, report, err = run(*TOOLS, "--release-name", "shop", "--release-namespace", "web", CHART)
        self.assertEqual(report["errors"], [], err)
        subjects = {(f["kind"], f.get("namespace", ""), f["name"]) for f in report["findings"]}
        self.assertIn(("Deployment", "web", "shop-webapp"), subjects)
        self.assertFalse([s for s in subjects if s[1] != "web"])

    def test_values_file_name_is_not_read_by_a_shell(self):
        with tempfile.TemporaryDirectory() as d:
            odd = os.path.join(d, "odd; name $(touch pwned) `x`.yaml")
            shutil.copy(os.path.join(SOURCE, CHART, "values-insecure.yaml"), odd)
            _, report, err = run(*TOOLS, "--values", odd, CHART)
            self.assertEqual(report["errors"], [], err)
            self.assertEqual(len(failed(report, "pss-privileged")), 1)
            self.assertFalse(os.path.exists(os.path.join(SOURCE, "pwned")))

    def test_chart_yaml_named_alone_renders_its_chart(self):
        _, report, err = run(*TOOLS, CHART + "/Chart.yaml")
        self.assertEqual(report["errors"], [], err)
        self.assertIn(CHART + "/templates/deployment.yaml", files_of(report["findings"]))

    def test_helm_found_on_path(self):
        env = dict(os.environ, PATH=os.path.dirname(HELM) + os.pathsep + os.environ.get("PATH", ""))
        _, report, err = run(CHART, env=env)
        self.assertEqual(report["errors"], [], err)
        self.assertIn(CHART + "/templates/deployment.yaml", files_of(report["findings"]))


    def test_project_chart_passes_restricted(self):
        # deploy/helm/kguard scanned as a folder: every object is judged and
        # named by its template, and kguard's own chart has no failure.
        code, report, err = run(*TOOLS, "--release-name", "kg", "--release-namespace", "policy",
                                "--pss", "restricted", "--show-passed", "deploy/helm/kguard")
        self.assertEqual(report["errors"], [], err)
        self.assertEqual(failed(report), [])
        self.assertEqual(code, 0)
        files = files_of(report["findings"])
        self.assertIn("deploy/helm/kguard/templates/deployment.yaml", files)
        self.assertFalse([f for f in files if not f.startswith("deploy/helm/kguard/templates/")])


class Kustomize(unittest.TestCase):
    def test_base_alone_fails(self):
        _, report, err = run(*TOOLS, BASE)
        self.assertEqual(report["errors"], [], err)
        (priv,) = failed(report, "pss-privileged")
        self.assertEqual(priv["location"]["file"], BASE)
        self.assertGreater(priv["location"]["line"], 0)
        self.assertIn("kustomize build", report["warnings"][0]["message"])

    def test_overlay_patch_changes_the_verdict(self):
        _, report, err = run(*TOOLS, OVERLAY)
        self.assertEqual(report["errors"], [], err)
        self.assertEqual(failed(report, "pss-privileged"), [])
        subjects = {(f["kind"], f.get("namespace", ""), f["name"]) for f in report["findings"]}
        self.assertIn(("Deployment", "prod", "api"), subjects)
        self.assertEqual(files_of(report["findings"]), {OVERLAY})

    def test_folder_of_base_and_overlay(self):
        # Both kustomizations are rendered, each under its own folder; the
        # base's files are not also read raw (the Deployment appears once per
        # kustomization).
        _, report, err = run(*TOOLS, DATA + "/kustomize")
        self.assertEqual(report["errors"], [], err)
        self.assertEqual(files_of(failed(report, "pss-privileged")), {BASE})
        self.assertEqual(files_of(report["findings"]), {BASE, OVERLAY})

    def test_origin_annotations_name_the_source_file(self):
        # A kustomization that asks for origin annotations gets findings on
        # the file each object came from; the base's privileged container
        # is reported on base/deployment.yaml when the overlay keeps it.
        with tempfile.TemporaryDirectory() as d:
            shutil.copytree(os.path.join(SOURCE, DATA, "kustomize"), os.path.join(d, "k"))
            overlay = os.path.join(d, "k", "overlays", "prod")
            os.remove(os.path.join(overlay, "harden.yaml"))
            with open(os.path.join(overlay, "kustomization.yaml"), "w") as f:
                f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                        "namespace: prod\nresources:\n  - ../../base\n"
                        "buildMetadata: [originAnnotations]\n")
            _, report, err = run(*TOOLS, overlay)
            self.assertEqual(report["errors"], [], err)
            (priv,) = failed(report, "pss-privileged")
            self.assertEqual(priv["location"]["file"], os.path.join(d, "k", "base", "deployment.yaml"))
            self.assertIn("origin", report["warnings"][0]["message"])
            # The line is one of kustomize's output for that object.
            out = subprocess.run([KUSTOMIZE, "build", overlay], capture_output=True, text=True,
                                 check=True).stdout
            self.assertEqual(out.split("\n")[priv["location"]["line"] - 1].strip(), "privileged: true")

    def test_kubectl_kustomize(self):
        kubectl = shutil.which("kubectl")
        if not kubectl:
            self.skipTest("no kubectl on PATH")
        _, report, err = run("--kustomize", kubectl, OVERLAY)
        self.assertEqual(report["errors"], [], err)
        self.assertEqual(failed(report, "pss-privileged"), [])
        self.assertIn("kubectl kustomize", report["warnings"][0]["message"])


class Failures(unittest.TestCase):
    def test_missing_binaries_are_named_and_the_rest_is_scanned(self):
        env, d = empty_path_env()
        try:
            code, report, err = run(DATA, env=env)
        finally:
            os.rmdir(d)
        self.assertEqual(code, 2)
        by_file = {e["file"]: e["message"] for e in report["errors"]}
        self.assertIn("no helm on PATH", by_file[CHART])
        self.assertIn("--helm PATH", by_file[CHART])
        self.assertIn("--skip-render", by_file[CHART])
        self.assertIn("neither kustomize nor kubectl on PATH", by_file[BASE])
        self.assertIn("--kustomize PATH", by_file[OVERLAY])
        # The plain manifest beside them is still scanned; the chart's raw
        # templates are not.
        files = files_of(report["findings"])
        self.assertIn(DATA + "/plain/pod.yaml", files)
        self.assertFalse([f for f in files if "/webapp/" in f or "/kustomize/" in f])
        self.assertFalse([e for e in report["errors"] if "templates/" in e["file"] and "broken" not in e["file"]])

    def test_skip_render_walks_them_unrendered(self):
        env, d = empty_path_env()
        try:
            code, report, err = run("--skip-render", DATA, env=env)
        finally:
            os.rmdir(d)
        self.assertEqual(report["errors"], [], err)
        self.assertNotEqual(code, 2)
        notes = {w["file"]: w["message"] for w in report["warnings"]}
        self.assertIn("not rendered (--skip-render)", notes[CHART])
        self.assertIn("not rendered (--skip-render)", notes[OVERLAY])
        # The folders are walked as before rendering existed: a chart's
        # metadata, values and templates skipped and listed, a kustomization's
        # files read as plain manifests; a library chart stays out.
        skipped = {s["file"]: s["reason"] for s in report["skipped"]}
        self.assertIn("Helm chart templates", skipped[CHART + "/templates"])
        self.assertIn("Helm values", skipped[CHART + "/values.yaml"])
        self.assertIn("kustomize", skipped[BASE + "/kustomization.yaml"])
        self.assertFalse([f for f in skipped if f.startswith(DATA + "/library")])
        self.assertIn("library chart", notes[DATA + "/library"])
        self.assertEqual(files_of(report["findings"]), {DATA + "/plain/pod.yaml", BASE + "/deployment.yaml",
                                                        OVERLAY + "/harden.yaml"})

    def test_rendered_folders_are_not_listed_as_skipped(self):
        # Rendering takes precedence over the walk's skip list: a chart's
        # Chart.yaml, values and templates are not "skipped", they are read.
        _, report, err = run(*TOOLS, DATA)
        skipped = [s["file"] for s in report["skipped"]]
        self.assertFalse([f for f in skipped if f.startswith((CHART, DATA + "/kustomize", DATA + "/broken"))],
                         skipped)

    def test_excluded_folder_is_not_rendered(self):
        _, report, err = run(*TOOLS, "--exclude", "webapp", "--exclude", "broken", DATA)
        self.assertEqual(report["errors"], [], err)
        self.assertFalse([f for f in files_of(report["findings"]) if "/webapp/" in f])
        self.assertNotIn(CHART, {w["file"] for w in report["warnings"]})

    def test_given_binary_that_does_not_exist(self):
        code, report, _ = run("--helm", "/nonexistent/helm", CHART)
        self.assertEqual(code, 2)
        self.assertIn("--helm /nonexistent/helm is not an executable file", report["errors"][0]["message"])

    def test_bad_template_is_located_and_other_inputs_scanned(self):
        code, report, err = run(*TOOLS, DATA)
        self.assertEqual(code, 2)
        (e,) = report["errors"]
        self.assertEqual(e["file"], DATA + "/broken/templates/configmap.yaml")
        self.assertEqual(e["line"], 6)
        self.assertIn('function "nosuchfunction" not defined', e["message"])
        files = files_of(report["findings"])
        for expected in (CHART + "/templates/deployment.yaml", BASE, OVERLAY, DATA + "/plain/pod.yaml"):
            self.assertIn(expected, files)
        # The library chart cannot be rendered alone: left out with a note, no error.
        notes = {w["file"]: w["message"] for w in report["warnings"]}
        self.assertIn("library chart", notes[DATA + "/library"])
        self.assertIn("kguard: 1 input error", subprocess.run(
            [KGUARD, "scan", "--no-config", *TOOLS, DATA], cwd=SOURCE, capture_output=True, text=True,
            timeout=180).stderr)

    def test_execution_and_yaml_errors_are_located(self):
        # Helm's other two error shapes, from a real helm: an execution error
        # names template:line:column; a YAML error in the rendered output
        # names the template (its line is one of the rendered output, in the message).
        with tempfile.TemporaryDirectory() as d:
            chart = os.path.join(d, "c")
            os.makedirs(os.path.join(chart, "templates"))
            with open(os.path.join(chart, "Chart.yaml"), "w") as f:
                f.write("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
            with open(os.path.join(chart, "templates", "cm.yaml"), "w") as f:
                f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                        "data:\n  a: {{ .Values.missing.key }}\n")
            with open(os.path.join(chart, "templates", "bad.yaml"), "w") as f:
                f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  : : [\n")
            _, report, _ = run(*TOOLS, chart)
            (e,) = report["errors"]
            self.assertEqual((e["file"], e["line"]), (chart + "/templates/cm.yaml", 6))
            self.assertIn(f"shop/templates/cm.yaml:6:{e['column']}:", e["message"])
            self.assertGreater(e["column"], 0)
            self.assertIn("nil pointer", e["message"])
            os.remove(os.path.join(chart, "templates", "cm.yaml"))
            _, report, _ = run(*TOOLS, chart)
            (e,) = report["errors"]
            self.assertEqual(e["file"], chart + "/templates/bad.yaml")
            self.assertIn("YAML parse error", e["message"])

    def test_timeout_stops_a_hanging_tool(self):
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "helm")
            with open(fake, "w") as f:
                f.write("#!/bin/sh\nsleep 60 &\nsleep 60\n")
            os.chmod(fake, 0o755)
            start = time.monotonic()
            code, report, _ = run("--helm", fake, "--render-timeout", "1", CHART, timeout=50)
            self.assertLess(time.monotonic() - start, 30)
        self.assertEqual(code, 2)
        self.assertEqual(report["errors"][0]["file"], CHART + "/Chart.yaml")
        self.assertIn("helm template: did not finish within 1 s", report["errors"][0]["message"])

    def test_tool_error_without_a_template_is_located_at_the_marker(self):
        code, report, _ = run(*TOOLS, "--values", "/nonexistent/values.yaml", CHART)
        self.assertEqual(code, 2)
        (e,) = report["errors"]
        self.assertEqual(e["file"], CHART + "/Chart.yaml")
        self.assertIn("/nonexistent/values.yaml", e["message"])

    def test_bad_flags(self):
        for args, message in ((["--set", "novalue"], "--set needs KEY=VALUE"),
                              (["--render-timeout", "0"], "--render-timeout needs a positive number"),
                              (["--values"], "--values needs a file"),
                              (["--namespace", "web"], "use --release-namespace")):
            p = subprocess.run([KGUARD, "scan", *args, CHART] if args[-1] != "--values" else
                               [KGUARD, "scan", CHART, *args], cwd=SOURCE, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(message, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
