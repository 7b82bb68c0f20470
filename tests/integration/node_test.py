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
  the rest still judged), and a kubelet /configz answer (tests/node/configz.json);
- the DaemonSet's uid (65532, through setpriv): 0600 root-owned units, config files and folders it
  may not open are coverage gaps naming the path and the uid, never passes, while modes and owners
  still come from stat; the liveness probe (--heartbeat, --alive FILE --max-age DURATION).

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
        os.chmod(cls.tmp, 0o755)  # the non-root runs below must reach the roots
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

    def as_uid(self, *args, code=0):
        # kguard node as the DaemonSet's uid and gid 65532, no supplementary groups.
        if not shutil.which("setpriv"):
            self.skipTest("no setpriv (util-linux) to run kguard node as another uid")
        p = subprocess.run(["setpriv", "--reuid", "65532", "--regid", "65532", "--clear-groups", KGUARD, "node", *args],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, code, p.stderr)
        return p

    def test_unreadable_files_are_coverage_gaps(self):
        # good.yaml's kubelet unit and drop-in are 0600 root:root (CIS 4.1.1): uid 65532 cannot read the
        # kubelet's command line, so no kubelet rule is judged; every file rule still is (stat needs no
        # read access), and what could not be read is a coverage gap naming the path and the uid.
        p = self.as_uid("--root", self.roots["good"], "-o", "json")
        doc = json.loads(p.stdout)
        (unit,) = [g for g in doc["coverage"] if g["message"].startswith("the kubelet's unit")]
        self.assertEqual(unit["resource"], "/lib/systemd/system/kubelet.service")
        self.assertEqual(unit["reason"], "Forbidden")
        self.assertIn("cannot be read as uid 65532", unit["message"])
        kubelet_rules = sorted(r for r in NODE_RULES if r.startswith("kubelet-"))
        self.assertEqual(sorted(unit["rules"]), kubelet_rules)
        evaluated = {c["rule"] for c in doc["checks"] if c["evaluated"] > 0}
        self.assertFalse(evaluated & set(kubelet_rules), "a kubelet rule was judged without the kubelet's settings")
        # The file rules are judged from stat, except the two whose paths only the unit names
        # (--config, and the client CA in that config): those are gaps of their own.
        file_rules = {r for r in NODE_RULES if r.startswith("node-file-")}
        unknown = {"node-file-kubelet-config", "node-file-client-ca"}
        self.assertEqual(file_rules - evaluated, unknown)
        self.assertEqual({r for g in doc["coverage"] for r in g["rules"]} & unknown, unknown)
        self.assertEqual(failed(doc), [])
        self.assertIn("coverage gap: the kubelet's unit /lib/systemd/system/kubelet.service", p.stderr)
        # The credentials walk names what it could not open.
        (walk,) = [g for g in doc["coverage"] if g["rules"] == ["node-long-lived-credentials"]]
        self.assertIn("/var/lib/kubelet/config.yaml", walk["message"])
        # Every format carries the gaps: the policy report as error results, SARIF as notifications.
        pr = [d for d in yaml.safe_load_all(self.as_uid("--root", self.roots["good"], "-o", "policyreport").stdout) if d][0]
        self.assertEqual(pr["summary"]["error"], len(doc["coverage"]))
        self.assertTrue(any(r["result"] == "error" and "uid 65532" in r["message"] for r in pr["results"]))
        text = self.as_uid("--root", self.roots["good"], "--no-color").stdout
        self.assertIn("NodeConfig (kguard.io/v1) /lib/systemd/system/kubelet.service: Forbidden", text)
        # The same node as root reads everything: no gaps.
        self.assertEqual(report("--root", self.roots["good"])["coverage"], [])

    def test_unreadable_config_and_folder(self):
        # A readable unit but a 0600 config file, and a PKI folder of 0700: the config file is the
        # kubelet's gap; the folder hides the PKI files from the file rules, and says so.
        root = os.path.join(self.tmp, "locked")
        shutil.copytree(self.roots["good"], root, symlinks=True)
        for f in ("lib/systemd/system/kubelet.service", "etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
                  "var/lib/kubelet/kubeadm-flags.env"):
            os.chmod(os.path.join(root, f), 0o644)
        os.chmod(os.path.join(root, "var/lib/kubelet/config.yaml"), 0o600)
        os.chmod(os.path.join(root, "etc/kubernetes/pki"), 0o700)
        doc = json.loads(self.as_uid("--root", root, "-o", "json").stdout)
        self.assertTrue(any(g["message"].startswith("the kubelet's config file /var/lib/kubelet/config.yaml cannot be "
                                                    "read as uid 65532") for g in doc["coverage"]), doc["coverage"])
        self.assertTrue(any(g["rules"] == ["node-file-client-ca"] for g in doc["coverage"]))
        pki = [g for g in doc["coverage"] if g["resource"] == "/etc/kubernetes/pki"]
        self.assertEqual(sorted(r for g in pki for r in g["rules"]),
                         ["node-file-pki-certificates", "node-file-pki-keys", "node-file-pki-ownership"])
        # The folder itself is still judged (its mode is stat's), and passes at 0700.
        self.assertNotIn("node-file-pki-ownership", failed(doc))
        # The running configuration through the API needs the node's name.
        self.assertIn("--configz-from-api needs --node-name",
                      kguard("--root", root, "--configz-from-api", code=2).stderr)

    def test_liveness_probe(self):
        beat = os.path.join(self.tmp, "heartbeat")
        kguard("--alive", beat, "--max-age", "1h", code=1)  # no run has started
        kguard("--root", self.roots["good"], "--heartbeat", beat, "-o", "json=" + os.path.join(self.tmp, "hb.json"))
        self.assertTrue(os.path.exists(beat))
        kguard("--alive", beat, "--max-age", "1h")
        old = os.path.getmtime(beat) - 7200
        os.utime(beat, (old, old))
        self.assertIn("stuck", kguard("--alive", beat, "--max-age", "1h", code=1).stderr)
        self.assertIn("go together", kguard("--alive", beat, code=2).stderr)

    def test_refusals(self):
        self.assertIn("not a directory", kguard("--root", "/nonexistent-root", code=2).stderr)
        self.assertIn("unknown output format", kguard("-o", "yaml", code=2).stderr)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("node_test: owners need root (chown); skipped", file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
