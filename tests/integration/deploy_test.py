#!/usr/bin/env python3
"""deploy/: the manifests and the Helm chart pass kguard's own scan at
restricted with zero failures; gen-certs.sh makes certificates that a real
`kguard admit` serves and a client verifies through the caBundle it wrote;
the webhook configuration follows PSA's split.

The chart is rendered by a real helm built from the Go module proxy
(scripts/build-helm.sh, cached outside the tree); without Go the helm test
is skipped and says so.

Run by ctest: deploy_test.py KGUARD_BINARY SOURCE_DIR
"""
import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admit_support import Webhook, restricted_pod, review_for  # noqa: E402
import support  # noqa: E402

KGUARD, SOURCE = support.args("kguard", "source")
DEPLOY = os.path.join(SOURCE, "deploy")


def scan_restricted(path):
    code, report, _ = support.scan_json("--pss", "restricted", "-q", path)
    return code, report, [f for f in report["findings"] if f["result"] == "fail"]


def check_webhook_split(test, config, excluded):
    test.assertEqual(config["kind"], "ValidatingWebhookConfiguration")
    hooks = {h["name"].split(".")[0]: h for h in config["webhooks"]}
    test.assertEqual(set(hooks), {"pods", "workloads", "namespaces"})
    test.assertEqual(hooks["pods"]["failurePolicy"], "Fail")
    test.assertEqual(hooks["workloads"]["failurePolicy"], "Ignore")
    pods_resources = {r for rule in hooks["pods"]["rules"] for r in rule["resources"]}
    test.assertEqual(pods_resources, {"pods", "pods/ephemeralcontainers"})
    workload_resources = {r for rule in hooks["workloads"]["rules"] for r in rule["resources"]}
    test.assertEqual(workload_resources, {"podtemplates", "replicationcontrollers", "deployments",
                                          "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs"})
    for h in hooks.values():
        test.assertEqual(h["timeoutSeconds"], 5)
        test.assertEqual(h["sideEffects"], "None")
        test.assertEqual(h["admissionReviewVersions"], ["v1"])
        (expr,) = h["namespaceSelector"]["matchExpressions"]
        test.assertEqual((expr["key"], expr["operator"]), ("kubernetes.io/metadata.name", "NotIn"))
        test.assertEqual(set(expr["values"]), set(excluded))


class Deploy(unittest.TestCase):
    def test_manifests_pass_restricted(self):
        code, report, failed = scan_restricted(os.path.join(DEPLOY, "manifests"))
        self.assertEqual(failed, [])
        self.assertEqual(code, 0)
        kinds = set(report["overview"]["kinds"]) if "kinds" in report["overview"] else None
        docs = [d for f in sorted(os.listdir(os.path.join(DEPLOY, "manifests")))
                for d in yaml.safe_load_all(open(os.path.join(DEPLOY, "manifests", f))) if d]
        by_kind = {d["kind"]: d for d in docs}
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "ValidatingWebhookConfiguration",
                     "ConfigMap", "Namespace", "NetworkPolicy"):
            self.assertIn(kind, by_kind)
        if kinds is not None:
            self.assertIn("Deployment", kinds)
        dep = by_kind["Deployment"]
        self.assertGreaterEqual(dep["spec"]["replicas"], 2)
        pod = dep["spec"]["template"]["spec"]
        self.assertIn("podAntiAffinity", pod["affinity"])
        c = pod["containers"][0]
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertIn("limits", c["resources"])
        self.assertIn("requests", c["resources"])
        check_webhook_split(self, by_kind["ValidatingWebhookConfiguration"], ["kube-system", "kguard"])
        # The config in the ConfigMap is the one shipped as deploy/kguard.yaml (the file
        # docs/admission.md runs `kguard admit --config` with), and kguard admit accepts it.
        shipped = open(os.path.join(DEPLOY, "kguard.yaml")).read()
        self.assertEqual(yaml.safe_load(by_kind["ConfigMap"]["data"]["kguard.yaml"]), yaml.safe_load(shipped))
        work = tempfile.mkdtemp(prefix="kguard-deploy-cfg-")
        try:
            hook = Webhook(KGUARD, work, shipped)
            # enforce: baseline by default: hostPID is refused, a plain pod is allowed with warnings.
            self.assertFalse(hook.review(review_for({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                "spec": {"hostPID": True, "containers": [{"name": "c", "image": "nginx:1.27"}]}}))["allowed"])
            plain = hook.review(review_for({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "namespace": "default"},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}))
            self.assertTrue(plain["allowed"])
            self.assertTrue(any("[restricted:latest]" in w for w in plain.get("warnings", [])))
            # kube-system is exempt.
            self.assertTrue(hook.review(review_for({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "kube-system"},
                "spec": {"hostPID": True, "containers": [{"name": "c", "image": "nginx:1.27"}]}},
                namespace="kube-system"))["allowed"])
            self.assertEqual(hook.stop(), 0)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_node_daemonset_passes_restricted_with_its_exemptions(self):
        # deploy/node: kguard node on every node. Its .kguard.yaml (found by the scan) exempts the
        # host mount (the hostPath and the namespace's privileged enforcement) and the projected
        # token --publish calls the API with, each with a reason; nothing else may fail, and nothing
        # else is exempt: it runs as non-root, with a liveness probe and no automounted token.
        node_dir = os.path.join(DEPLOY, "node")
        code, report, _ = support.scan_json("--pss", "restricted", "-q", node_dir, config=True)
        failed = [f for f in report["findings"] if f["result"] == "fail"]
        self.assertEqual(failed, [])
        self.assertEqual(code, 0)
        exempt = {f["rule"] for f in report["findings"] if f["result"] == "exempt"}
        self.assertEqual(exempt, {"pss-host-path-volumes", "host-path-sensitive", "namespace-without-pod-security",
                                  "service-account-token-with-rbac"})
        config = yaml.safe_load(open(os.path.join(node_dir, ".kguard.yaml")))
        for e in config["exemptions"]:
            self.assertTrue(e["reason"])
        # The token exemption is earned: the rule fires on the projected token without it.
        bare = tempfile.mkdtemp(prefix="kguard-deploy-node-")
        try:
            shutil.copy(os.path.join(node_dir, "kguard-node.yaml"), bare)
            _, unexempt, _ = support.scan_json("--pss", "restricted", "-q", bare)
            token = [f for f in unexempt["findings"] if f["rule"] == "service-account-token-with-rbac"
                     and f["result"] == "fail"]
            self.assertEqual(len(token), 1)
            self.assertIn('projects a token of ServiceAccount "kguard-node" (volume "publish-token")', token[0]["message"])
        finally:
            shutil.rmtree(bare, ignore_errors=True)
        docs = [d for d in yaml.safe_load_all(open(os.path.join(node_dir, "kguard-node.yaml"))) if d]
        ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
        pod = ds["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        self.assertEqual(c["args"][:3], ["node", "--root=/host", "--node-name=$(NODE_NAME)"])
        self.assertIn("--publish", c["args"])
        self.assertTrue(all(m["readOnly"] for m in c["volumeMounts"] if m["name"] != "heartbeat"))
        self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"])
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertTrue(c["securityContext"]["runAsNonRoot"])
        self.assertEqual(pod["securityContext"]["runAsUser"], 65532)
        self.assertFalse(pod["automountServiceAccountToken"])
        for key in ("hostPID", "hostIPC", "hostNetwork"):
            self.assertNotIn(key, pod)
        # The token is projected, short-lived, and mounted where --serviceaccount-dir reads it.
        (token_volume,) = [v for v in pod["volumes"] if "projected" in v]
        (sa_token,) = [s["serviceAccountToken"] for s in token_volume["projected"]["sources"] if "serviceAccountToken" in s]
        self.assertLessEqual(sa_token["expirationSeconds"], 3600)
        (mount,) = [m for m in c["volumeMounts"] if m["name"] == token_volume["name"]]
        self.assertIn("--serviceaccount-dir=" + mount["mountPath"], c["args"])
        # The liveness probe runs kguard on the heartbeat the loop writes.
        probe = c["livenessProbe"]["exec"]["command"]
        self.assertEqual(probe[:3], ["kguard", "node", "--alive"])
        self.assertIn("--heartbeat=" + probe[3], c["args"])
        role = [d for d in docs if d["kind"] == "ClusterRole"][0]
        self.assertEqual([(r["apiGroups"], r["resources"]) for r in role["rules"]],
                         [(["wgpolicyk8s.io"], ["clusterpolicyreports"])])
        # The command line the DaemonSet runs is one kguard node accepts.
        help_text = subprocess.run([KGUARD, "node", "--help"], capture_output=True, text=True).stdout
        for flag in ("--root", "--node-name", "--publish", "--interval", "--serviceaccount-dir", "--heartbeat",
                     "--alive", "--max-age"):
            self.assertIn(flag, help_text)

    def test_gen_certs_round_trip(self):
        out = tempfile.mkdtemp(prefix="kguard-gen-certs-")
        try:
            subprocess.run([os.path.join(DEPLOY, "gen-certs.sh"), "--out", out, "--url",
                            "https://127.0.0.1:8443/validate"], check=True, capture_output=True)
            webhook = yaml.safe_load(open(os.path.join(out, "webhook.yaml")))
            check_webhook_split(self, webhook, ["kube-system", "kguard"])
            ca_pem = base64.b64decode(webhook["webhooks"][0]["clientConfig"]["caBundle"])
            self.assertEqual(webhook["webhooks"][0]["clientConfig"]["url"], "https://127.0.0.1:8443/validate")
            secret = yaml.safe_load(open(os.path.join(out, "kguard-tls-secret.yaml")))
            self.assertEqual(secret["type"], "kubernetes.io/tls")
            # Serve the generated pair and verify it through the caBundle alone.
            ca_file = os.path.join(out, "bundle.pem")
            with open(ca_file, "wb") as f:
                f.write(ca_pem)
            args = [KGUARD, "admit", "--listen", "127.0.0.1:0", "--tls-cert", os.path.join(out, "tls.crt"),
                    "--tls-key", os.path.join(out, "tls.key"), "--audit-log", ""]
            proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
            try:
                port = int(json.loads(proc.stderr.readline())["address"].rsplit(":", 1)[1])
                import http.client
                ctx = ssl.create_default_context(cafile=ca_file)
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
                conn.request("POST", "/validate?timeout=5s", json.dumps(review_for(restricted_pod())),
                             {"Content-Type": "application/json"})
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                self.assertTrue(json.loads(resp.read())["response"]["allowed"])
                conn.close()
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(30), 0)
                proc.stderr.close()
            # The generated manifests pass the scan too.
            os.remove(ca_file)
            _, _, failed = scan_restricted(out)
            self.assertEqual(failed, [])
            # In-cluster flavour: the Service of another namespace.
            out2 = os.path.join(out, "svc")
            subprocess.run([os.path.join(DEPLOY, "gen-certs.sh"), "--out", out2, "--namespace", "policy"],
                           check=True, capture_output=True)
            webhook = yaml.safe_load(open(os.path.join(out2, "webhook.yaml")))
            self.assertEqual(webhook["webhooks"][0]["clientConfig"]["service"]["namespace"], "policy")
            check_webhook_split(self, webhook, ["kube-system", "policy"])
            san = subprocess.run(["openssl", "x509", "-in", os.path.join(out2, "tls.crt"), "-noout", "-ext",
                                  "subjectAltName"], check=True, capture_output=True, text=True).stdout
            self.assertIn("DNS:kguard.policy.svc", san)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_helm_chart_renders_and_passes_restricted(self):
        helm = os.environ.get("KGUARD_HELM") or shutil.which("helm")
        if not helm:
            p = subprocess.run([os.path.join(SOURCE, "scripts", "build-helm.sh")], capture_output=True,
                               text=True, timeout=1500)
            if p.returncode == 77:
                self.skipTest("no helm and no Go to build it: " + p.stderr.strip())
            self.assertEqual(p.returncode, 0, p.stderr)
            helm = p.stdout.strip().splitlines()[-1]
        chart = os.path.join(DEPLOY, "helm", "kguard")
        out = tempfile.mkdtemp(prefix="kguard-helm-")
        try:
            lint = subprocess.run([helm, "lint", chart], capture_output=True, text=True)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
            ca = os.path.join(out, "ca.crt")
            subprocess.run([os.path.join(DEPLOY, "gen-certs.sh"), "--out", os.path.join(out, "certs"),
                            "--namespace", "policy", "--service", "kg-kguard"], check=True, capture_output=True)
            shutil.copy(os.path.join(out, "certs", "ca.crt"), ca)
            shutil.rmtree(os.path.join(out, "certs"))
            rendered = subprocess.run([helm, "template", "kg", chart, "--namespace", "policy",
                                       "--set-file", "tls.caBundle=" + ca], check=True,
                                      capture_output=True, text=True).stdout
            os.remove(ca)
            path = os.path.join(out, "rendered.yaml")
            with open(path, "w") as f:
                f.write(rendered)
            docs = [d for d in yaml.safe_load_all(rendered) if d]
            by_kind = {d["kind"]: d for d in docs}
            for kind in ("Deployment", "Service", "PodDisruptionBudget", "ValidatingWebhookConfiguration",
                         "ConfigMap", "ServiceAccount", "NetworkPolicy"):
                self.assertIn(kind, by_kind)
            check_webhook_split(self, by_kind["ValidatingWebhookConfiguration"], ["kube-system", "policy"])
            svc = by_kind["ValidatingWebhookConfiguration"]["webhooks"][0]["clientConfig"]["service"]
            self.assertEqual((svc["namespace"], svc["name"]), ("policy", "kg-kguard"))
            self.assertTrue(base64.b64decode(by_kind["ValidatingWebhookConfiguration"]["webhooks"][0]
                                             ["clientConfig"]["caBundle"]).startswith(b"-----BEGIN CERTIFICATE"))
            code, _, failed = scan_restricted(path)
            self.assertEqual(failed, [], json.dumps(failed, indent=1)[:3000])
            # The rendered config is one kguard admit accepts.
            cfg = by_kind["ConfigMap"]["data"]["kguard.yaml"]
            hook = Webhook(KGUARD, os.path.join(out, "serve"), cfg)
            self.assertTrue(hook.review(review_for(restricted_pod()))["allowed"])
            self.assertEqual(hook.stop(), 0)
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
