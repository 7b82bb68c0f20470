#!/usr/bin/env python3
"""`kguard node --root` through the real binary on fixture roots made at test time.

git keeps neither owners nor modes, so the roots are committed as descriptions
(tests/node/roots/*.yaml: path, mode, owner, content) and made here by tests/node/make_root.py:
- good.yaml, a hardened kubeadm control-plane node: every NodeConfig rule is evaluated and passes;
- bad.yaml, the same node with flags overriding a partly good config file, loose modes and owners
  and credentials left behind, and legacy.yaml, a kubelet started without --config: each NodeConfig
  rule fails on one of them (all but one on bad), with the message naming the value's origin;
- every report format, --lang zh, -o object, -o policyreport (a ClusterPolicyReport per node whose
  summary adds up), --fail-on, --only, a .kguard.yaml exemption, a malformed config file (located,
  the rest still judged), and a kubelet /configz answer (tests/node/configz.json).

Owners need root to set (chown): as another user the test exits 77 (skipped).
Run by ctest: node_test.py KGUARD_BINARY SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

import yaml

KGUARD = sys.argv[1]
SOURCE = sys.argv[2]
del sys.argv[1:3]
sys.path.insert(0, os.path.join(SOURCE, "tests", "node"))
import make_root  # noqa: E402

RULES_DIR = os.path.join(SOURCE, "rules", "security")
NODE_RULES = sorted(d for d in os.listdir(RULES_DIR)
                    if "kinds: [NodeConfig]" in open(os.path.join(RULES_DIR, d, "rule.yaml")).read())


def kguard(*args, code=0):
    p = subprocess.run([KGUARD, "node", *args], capture_output=True, text=True, timeout=120)
    if p.returncode != code:
        raise AssertionError(f"kguard node {args} exited {p.returncode} (expected {code}): {p.stderr}")
    return p


def report(*args):
    return json.loads(kguard(*args, "-o", "json").stdout)


def failed(doc):
    return sorted({f["rule"] for f in doc["findings"] if f["result"] == "fail"})


def messages(doc, rule):
    return [f["message"] for f in doc["findings"] if f["rule"] == rule and f["result"] == "fail"]


class NodeRoots(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kguard-node-")
        cls.roots = {}
        for name in ("good", "bad", "legacy"):
            out = os.path.join(cls.tmp, name)
            make_root.make(os.path.join(SOURCE, "tests", "node", "roots", name + ".yaml"), out)
            cls.roots[name] = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_rule_set(self):
        # 16 kubelet/kube-proxy rows (research §2.16), 17 file rules for the 15 rows of §2.17
        # (FILE-010 is three CIS controls), the host credentials rule and etcd's CA (CP-ETCD-007, CIS 2.7:
        # it needs the CA files' contents, so it is a node rule).
        self.assertEqual(len(NODE_RULES), 35, NODE_RULES)

    def test_good_root_passes_every_rule(self):
        doc = report("--root", self.roots["good"])
        self.assertEqual(failed(doc), [])
        evaluated = {c["rule"] for c in doc["checks"] if c["evaluated"] > 0}
        self.assertEqual(sorted(evaluated), NODE_RULES)

    def test_bad_roots_fail_every_rule(self):
        bad = report("--root", self.roots["bad"])
        legacy = report("--root", self.roots["legacy"])
        self.assertEqual(sorted(set(failed(bad)) | set(failed(legacy))), NODE_RULES)
        self.assertEqual(sorted(set(NODE_RULES) - set(failed(bad))), ["kubelet-client-ca-missing"])
        # Flags from /etc/default/kubelet override the config file, and the message says so.
        self.assertEqual(messages(bad, "kubelet-anonymous-auth"),
                         ["kubelet authentication.anonymous.enabled is true (from flag --anonymous-auth on the "
                          "kubelet.service command line), expected false"])
        self.assertIn("kubelet readOnlyPort is 10255 (from flag --read-only-port",
                      messages(bad, "kubelet-read-only-port")[0])
        self.assertEqual(messages(bad, "kubelet-streaming-idle-timeout-disabled"),
                         ["kubelet streamingConnectionIdleTimeout is 0s (from config file /var/lib/kubelet/config.yaml): no timeout"])
        self.assertEqual(messages(bad, "kubelet-weak-tls-ciphers"),
                         ["kubelet tlsCipherSuites allows TLS_RSA_WITH_AES_128_CBC_SHA (from config file "
                          "/var/lib/kubelet/config.yaml), outside the accepted list"])
        # Without --config the kubelet's legacy flag defaults apply.
        self.assertIn("kubelet-anonymous-auth", failed(legacy))
        self.assertIn("legacy flag default", messages(legacy, "kubelet-authorization-always-allow")[0])
        # The etcd data directory is found from the etcd manifest's --data-dir.
        self.assertEqual(sorted(messages(bad, "node-file-etcd-data-dir")),
                         ["/data/etcd has mode 0755, more permissive than 0700",
                          "/data/etcd is owned by root:root (0:0), expected etcd:etcd"])
        self.assertIn("/etc/kubernetes/manifests/kube-controller-manager.yaml is owned by ubuntu:ubuntu (1000:1000), "
                      "expected root:root", messages(bad, "node-file-controller-manager-manifest"))
        self.assertEqual(sorted(messages(bad, "node-long-lived-credentials")), [
            "long-lived credential on the node: /home/ubuntu/.aws/credentials: AWS access keys (mode 0644)",
            "long-lived credential on the node: /opt/backup/id_rsa: PEM OPENSSH PRIVATE KEY (mode 0600)",
            "long-lived credential on the node: /root/.kube/config: kubeconfig with a client certificate key (mode 0600)"])
        # Mode and owner: every PKI key looser than 0600, and only those.
        self.assertEqual(messages(bad, "node-file-pki-keys"),
                         ["/etc/kubernetes/pki/apiserver.key has mode 0644, more permissive than 0600"])

    def test_formats_and_languages(self):
        root = self.roots["bad"]
        for fmt in ("text", "sarif", "html", "markdown", "csv", "junit", "ci"):
            out = kguard("--root", root, "-o", fmt, "--no-color").stdout
            self.assertIn("kubelet", out, fmt)
        sarif = json.loads(kguard("--root", root, "-o", "sarif").stdout)
        self.assertTrue(sarif["runs"][0]["results"])
        ET.fromstring(kguard("--root", root, "-o", "junit").stdout)
        zh = json.loads(kguard("--root", root, "-o", "json", "--lang", "zh").stdout)
        anon = [f for f in zh["findings"] if f["rule"] == "kubelet-anonymous-auth"][0]
        self.assertIn("来源：flag --anonymous-auth", anon["message"])
        obj = json.loads(kguard("--root", root, "-o", "object").stdout)
        self.assertEqual((obj["kind"], obj["metadata"]["name"]), ("NodeConfig", "cp-1.example"))
        self.assertEqual(obj["spec"]["kubelet"]["config"]["authorization"]["mode"], "AlwaysAllow")
        self.assertEqual(obj["spec"]["kubelet"]["dropIns"], ["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"])

    def test_policy_report(self):
        text = kguard("--root", self.roots["bad"], "-o", "policyreport").stdout
        docs = [d for d in yaml.safe_load_all(text) if d]
        self.assertEqual(len(docs), 1)
        r = docs[0]
        self.assertEqual((r["apiVersion"], r["kind"], r["metadata"]["name"]),
                         ("wgpolicyk8s.io/v1alpha2", "ClusterPolicyReport", "kguard-node-cp-1.example"))
        fails = [x for x in r["results"] if x["result"] == "fail"]
        self.assertEqual(r["summary"]["fail"], len(fails))
        self.assertEqual(len({x["rule"] for x in fails}), len(NODE_RULES) - 1)
        for x in fails:
            self.assertEqual(x["resources"][0]["kind"], "NodeConfig")
            self.assertEqual(x["resources"][0]["name"], "cp-1.example")
        named = kguard("--root", self.roots["good"], "--node-name", "Worker-7", "-o", "policyreport").stdout
        good = [d for d in yaml.safe_load_all(named) if d][0]
        self.assertEqual(good["metadata"]["name"], "kguard-node-worker-7")
        self.assertEqual(good["summary"]["fail"], 0)

    def test_gate_only_and_exemption(self):
        kguard("--root", self.roots["bad"], "--fail-on", "critical", code=1)
        kguard("--root", self.roots["good"], "--fail-on", "low")
        only = report("--root", self.roots["bad"], "--only", "kubelet-read-only-port")
        self.assertEqual(failed(only), ["kubelet-read-only-port"])
        cfg = os.path.join(self.tmp, "kguard.yaml")
        with open(cfg, "w") as f:
            f.write("exemptions:\n  - rules: [node-long-lived-credentials]\n    kinds: [NodeConfig]\n    names: [cp-1.example]\n"
                    "    reason: backup keys are moved off the node by the weekly job\n")
        exempted = report("--root", self.roots["bad"], "--config", cfg)
        self.assertNotIn("node-long-lived-credentials", failed(exempted))

    def test_etcd_ca(self):
        # bad.yaml: etcd trusts a CA re-issued from the cluster CA's key (openssl-made at test time).
        self.assertEqual(sorted(messages(report("--root", self.roots["bad"]), "etcd-ca-shared-with-cluster")), [
            "etcd --%s=/etc/kubernetes/pki/etcd/ca.crt trusts the cluster CA /etc/kubernetes/pki/ca.crt: a certificate "
            "with the cluster CA's public key (/CN=etcd-ca, cluster CA /CN=kubernetes)" % flag
            for flag in ("peer-trusted-ca-file", "trusted-ca-file")])
        # A byte copy of the cluster CA at etcd's path: the same certificate, whatever the path.
        root = os.path.join(self.tmp, "etcd-ca-copy")
        shutil.copytree(self.roots["good"], root, symlinks=True)
        shutil.copyfile(os.path.join(root, "etc/kubernetes/pki/ca.crt"), os.path.join(root, "etc/kubernetes/pki/etcd/ca.crt"))
        msgs = messages(report("--root", root), "etcd-ca-shared-with-cluster")
        self.assertEqual(len(msgs), 2, msgs)
        self.assertTrue(all("the same certificate (/CN=kubernetes)" in m for m in msgs), msgs)
        # etcd's CA missing: a coverage gap naming the file, and the rule neither passes nor fails.
        os.remove(os.path.join(root, "etc/kubernetes/pki/etcd/ca.crt"))
        p = kguard("--root", root, "-o", "json")
        doc = json.loads(p.stdout)
        self.assertNotIn("etcd-ca-shared-with-cluster", failed(doc))
        check = [c for c in doc["checks"] if c["rule"] == "etcd-ca-shared-with-cluster"]
        self.assertTrue(all(c["evaluated"] == 0 for c in check), check)
        gaps = [g for g in doc["coverage"] if "etcd-ca-shared-with-cluster" in g["rules"]]
        self.assertEqual(len(gaps), 2, doc["coverage"])
        self.assertIn("/etc/kubernetes/pki/etcd/ca.crt not found under the root", gaps[0]["message"])
        self.assertIn("coverage gap", p.stderr)
        # Placeholder text where the cluster CA should be: no certificate to compare, a gap again.
        with open(os.path.join(root, "etc/kubernetes/pki/ca.crt"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nMIIBfixture\n-----END CERTIFICATE-----\n")
        shutil.copyfile(os.path.join(self.roots["good"], "etc/kubernetes/pki/etcd/ca.crt"),
                        os.path.join(root, "etc/kubernetes/pki/etcd/ca.crt"))
        doc = report("--root", root)
        self.assertNotIn("etcd-ca-shared-with-cluster", failed(doc))
        self.assertIn("holds no PEM certificate", json.dumps(doc["coverage"]))

    def test_malformed_config_is_located(self):
        root = os.path.join(self.tmp, "broken")
        shutil.copytree(self.roots["good"], root, symlinks=True)
        with open(os.path.join(root, "var/lib/kubelet/config.yaml"), "a") as f:
            f.write("readOnlyPort: [1\n")
        p = kguard("--root", root, "-o", "json")
        self.assertIn("/var/lib/kubelet/config.yaml:", p.stderr)
        doc = json.loads(p.stdout)
        self.assertTrue(doc["checks"])

    def test_configz(self):
        doc = report("--configz", os.path.join(SOURCE, "tests", "node", "configz.json"), "--node-name", "worker-3")
        self.assertEqual(failed(doc), ["kubelet-anonymous-auth", "kubelet-read-only-port",
                                       "kubelet-server-cert-rotation-disabled"])
        self.assertIn("the running kubelet", messages(doc, "kubelet-read-only-port")[0])

    def test_refusals(self):
        self.assertIn("not a directory", kguard("--root", "/nonexistent-root", code=2).stderr)
        self.assertIn("unknown output format", kguard("-o", "yaml", code=2).stderr)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("node_test: owners need root (chown); skipped", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
