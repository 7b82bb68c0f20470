"""kguard rbac who-can / can / check end to end: every output format, the
--batch contract (one {"allowed","reason"} JSON line per question, in order),
inputs from files, folders, stdin and snapshots, the bootstrap policy assumed
or not, objects the API server would refuse reported with file:line, and
who-can and check agreeing on the real-world corpus.

usage: rbac_cli_test.py KGUARD SOURCE CORPORA
"""
import csv
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import support  # noqa: E402

KGUARD, SOURCE, CORPORA = support.args("kguard", "source", "corpora")

MANIFESTS = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ns1}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: ns1}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: bot}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-view}
subjects:
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [example.com]
  resources: [widgets]
  verbs: [get]
- apiGroups: [example.com]
  resources: ["*/scale"]
  verbs: [get]
"""


class RbacCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.file = os.path.join(cls.dir, "rbac.yaml")
        with open(cls.file, "w") as f:
            f.write(MANIFESTS)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def kg(self, *argv, stdin=None):
        return support.run("rbac", *argv, stdin=stdin)

    def test_check_answers_with_the_grant_and_exit_code(self):
        code, out, err = self.kg("check", "user:alice", "get", "pods/log", "-n", "ns1", self.file)
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("yes: User alice may get pods/log"), out)
        self.assertIn("RoleBinding/ns1/read-pods", out)
        self.assertIn("Role/ns1/pod-reader", out)
        code, out, _ = self.kg("check", "user:alice", "get", "pods/exec", "-n", "ns1", self.file)
        self.assertEqual(code, 1)
        self.assertIn("no rule grants it", out)
        # Aggregation: widgets-view's rules reach the assumed bootstrap view role.
        code, out, _ = self.kg("check", "user:bob", "get", "widgets.example.com", "-n", "x", self.file, "-o", "json")
        self.assertEqual(code, 0)
        answer = json.loads(out)
        self.assertTrue(answer["allowed"])
        self.assertTrue(answer["assumed"])
        self.assertEqual(answer["role"], "ClusterRole/view")
        self.assertEqual(answer["request"]["apiGroup"], "example.com")
        # `*/scale` of the aggregated rule: any resource's scale subresource in that group.
        code, _, _ = self.kg("check", "user:bob", "get", "gadgets.example.com/scale", "-n", "x", self.file)
        self.assertEqual(code, 0)
        code, _, _ = self.kg("check", "user:bob", "get", "gadgets.example.com", "-n", "x", self.file)
        self.assertEqual(code, 1)
        # Built-in resources get their group: deployments are apps/deployments.
        code, out, _ = self.kg("check", "user:bob", "list", "deployments", "-n", "x", self.file, "-o", "json")
        self.assertEqual(json.loads(out)["request"]["apiGroup"], "apps")
        self.assertEqual(code, 0)

    def test_subject_forms(self):
        for subject in ("sa:ns1:bot", "system:serviceaccount:ns1:bot"):
            code, out, err = self.kg("check", subject, "list", "pods", "-n", "ns1", self.file)
            self.assertEqual(code, 0, out + err)
            self.assertIn("ServiceAccount ns1/bot", out)
        code, _, _ = self.kg("check", "sa:ns2:bot", "list", "pods", "-n", "ns1", self.file)
        self.assertEqual(code, 1)
        code, out, _ = self.kg("check", "group:system:masters", "delete", "nodes", self.file)
        self.assertEqual(code, 0)
        self.assertIn("system:masters", out)
        code, _, err = self.kg("check", "alice", "get", "pods", self.file)
        self.assertEqual(code, 2)
        self.assertIn("SUBJECT must be", err)

    def test_non_resource_urls(self):
        code, out, _ = self.kg("check", "user:alice", "get", "/healthz", self.file)
        self.assertEqual(code, 0, out)
        self.assertIn("system:discovery", out)  # bootstrap: discovery for system:authenticated
        code, _, _ = self.kg("check", "user:alice", "get", "/metrics", self.file)
        self.assertEqual(code, 1)
        code, _, err = self.kg("check", "user:alice", "get", "/healthz", "-n", "x", self.file)
        self.assertEqual(code, 2)
        self.assertIn("non-resource URL", err)

    def test_who_can_in_every_format(self):
        argv = ["who-can", "get", "pods/log", "-n", "ns1", self.file, "-q"]
        code, text, _ = self.kg(*argv)
        self.assertEqual(code, 0)
        self.assertIn("who can get pods/log (core group), in namespace ns1", text)
        code, out, _ = self.kg(*argv, "-o", "json")
        report = json.loads(out)
        names = [(s["kind"], s["name"]) for s in report["subjects"]]
        self.assertIn(("User", "alice"), names)
        self.assertIn(("ServiceAccount", "bot"), names)
        self.assertIn(("User", "bob"), names)  # view (assumed) reads pods/log cluster-wide
        self.assertEqual(names[0], ("Group", "system:masters"))
        bot = next(s for s in report["subjects"] if s["name"] == "bot")
        self.assertEqual(bot["namespace"], "ns1")
        self.assertEqual(bot["binding"]["line"], 9)
        self.assertFalse(bot["assumed"])
        self.assertEqual(bot["reason"], 'RoleBinding "read-pods/ns1" of Role "pod-reader" to ServiceAccount "bot/ns1"')
        code, out, _ = self.kg(*argv, "-o", "csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), len(report["subjects"]))
        self.assertIn("alice", [r["SUBJECT"] for r in rows])
        code, out, _ = self.kg(*argv, "-o", "markdown")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("| KIND | SUBJECT |"), lines[0])
        self.assertTrue(lines[1].startswith("| --- |"))
        self.assertEqual(len(lines), 2 + len(report["subjects"]))
        # Without a namespace only ClusterRoleBindings count; -A counts every RoleBinding.
        _, out, _ = self.kg("who-can", "get", "pods/log", self.file, "-q", "-o", "json")
        self.assertNotIn("alice", [s["name"] for s in json.loads(out)["subjects"]])
        _, out, _ = self.kg("who-can", "get", "pods/log", "-A", self.file, "-q", "-o", "json")
        self.assertIn("alice", [s["name"] for s in json.loads(out)["subjects"]])

    def test_can_is_compacted(self):
        code, out, _ = self.kg("can", "sa:ns1:bot", self.file, "-q", "-o", "json")
        self.assertEqual(code, 0)
        report = json.loads(out)
        self.assertIn("system:serviceaccounts:ns1", report["subject"]["groups"])
        ns1 = [r for r in report["rules"] if r["scope"] == "ns1"]
        self.assertEqual(len(ns1), 1)
        self.assertEqual(ns1[0]["resources"], ["pods", "pods/log"])
        self.assertEqual(ns1[0]["verbs"], ["get", "list"])
        self.assertEqual(ns1[0]["via"], ["Role pod-reader"])
        code, out, _ = self.kg("can", "user:nobody", self.file, "-q", "--bootstrap", "none")
        self.assertIn("nothing: no binding grants", out)

    def test_batch_contract(self):
        questions = [
            {"user": "alice", "groups": ["system:authenticated"], "verb": "get", "apiGroup": "", "resource": "pods",
             "subresource": "log", "namespace": "ns1", "name": "p", "path": None},
            {"user": "alice", "groups": [], "verb": "get", "apiGroup": "", "resource": "pods",
             "subresource": "exec", "namespace": "ns1", "name": "p", "path": None},
            {"user": "bob", "groups": [], "verb": "get", "apiGroup": "example.com", "resource": "widgets",
             "namespace": "zz"},
            # A ServiceAccount user gets no groups but those listed.
            {"user": "system:serviceaccount:ns1:bot", "verb": "list", "resource": "pods", "namespace": "ns1"},
            {"user": "x", "groups": ["system:masters"], "verb": "delete", "resource": "nodes"},
            {"user": "x", "groups": ["system:authenticated"], "verb": "get", "path": "/healthz"},
            {"user": "x", "groups": ["system:authenticated"], "verb": "get", "path": "/metrics"},
        ]
        batch = os.path.join(self.dir, "questions.jsonl")
        with open(batch, "w") as f:
            for q in questions:
                f.write(json.dumps(q) + "\n")
            f.write("\n")  # a blank line carries no question
            f.write('{"user": ["not", "a", "string"], "verb": "get"}\n')
        code, out, err = self.kg("check", "--batch", batch, self.file)
        self.assertEqual(code, 0, err)
        answers = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([a["allowed"] for a in answers], [True, False, True, True, True, True, False, False])
        self.assertEqual(answers[0]["reason"],
                         'RBAC: allowed by RoleBinding "read-pods/ns1" of Role "pod-reader" to User "alice"')
        self.assertIn("line 9", answers[7]["error"])
        # --bootstrap none: bob's binding refers to a view role that does not exist.
        code, out, _ = self.kg("check", "--batch", batch, "--bootstrap", "none", self.file)
        answers = [json.loads(line) for line in out.splitlines()]
        self.assertFalse(answers[2]["allowed"])
        self.assertEqual(answers[2]["reason"], 'RBAC: clusterrole.rbac.authorization.k8s.io "view" not found')
        self.assertFalse(answers[5]["allowed"])
        # The questions may come on stdin.
        with open(batch) as f:
            code, out, _ = self.kg("check", "--batch", "-", self.file, stdin=f.read())
        self.assertEqual(len(out.splitlines()), 8)

    def test_inputs_stdin_folders_snapshots_and_refusals(self):
        code, out, _ = self.kg("check", "user:alice", "list", "pods", "-n", "ns1", "-", stdin=MANIFESTS)
        self.assertEqual(code, 0, out)
        folder = os.path.join(self.dir, "tree")
        support.write(folder, "a/rbac.yaml", MANIFESTS)
        support.write(folder, "b/notes.yaml", "just: a note\n")  # walked: not an object, skipped
        support.write(folder, "b/bad.yaml", """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: bad, namespace: ns1}
rules:
- nonResourceURLs: ["/healthz"]
  verbs: [get]
""")
        code, out, err = self.kg("check", "user:alice", "list", "pods", "-n", "ns1", folder)
        self.assertEqual(code, 0, err)
        self.assertIn("bad.yaml:5:", err)
        self.assertIn("rules[0].nonResourceURLs", err)
        self.assertNotIn("notes.yaml", err)
        # A snapshot: a List with kguard's envelope, from an older cluster.
        snapshot = os.path.join(self.dir, "snap.json")
        items = [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "ops"},
             "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ops"},
             "subjects": [{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
             "roleRef": {"kind": "ClusterRole", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}},
        ]
        with open(snapshot, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List",
                       "kguardSnapshot": {"server": "https://127.0.0.1:6443", "serverVersion": "v1.30.1"},
                       "items": items}, f)
        code, out, err = self.kg("check", "group:ops", "patch", "deployments", "-n", "web", snapshot)
        self.assertEqual(code, 0, err)
        self.assertIn("the cluster runs v1.30.1", err)
        code, _, err = self.kg("check", "group:ops", "patch", "deployments", "-n", "web",
                               os.path.join(SOURCE, "tests/testdata/cluster-snapshot.json"), "-q")
        self.assertEqual(code, 1)
        self.assertEqual(err, "")

    def test_kustomizations_are_rendered(self):
        tools = [os.path.expanduser("~/.cache/kguard-kustomize/v5.8.1"), os.path.expanduser("~/.cache/kguard-helm/bin")]
        tools = [t for t in tools if os.path.isdir(t)]
        env = dict(os.environ, PATH=os.pathsep.join(tools + [os.environ.get("PATH", "")]))
        folder = os.path.join(self.dir, "kust")
        support.write(folder, "rbac.yaml", MANIFESTS)
        support.write(folder, "kustomization.yaml", "namePrefix: team-\nnamespace: ns1\nresources: [rbac.yaml]\n")
        p = support.run("rbac", "check", "user:alice", "list", "pods", "-n", "ns1", folder, "-o", "json", env=env)
        if p[0] == 2 and ("kustomize" in p[2] or "kubectl" in p[2]):
            self.skipTest("no kustomize: " + p[2])
        self.assertEqual(p[0], 0, p[2])
        # Rendered, not read raw: the binding carries kustomize's name prefix.
        self.assertEqual(json.loads(p[1])["binding"], "RoleBinding/ns1/team-read-pods")

    def test_usage_errors(self):
        for argv, message in [
            (["who-can", "get"], "who-can needs VERB RESOURCE"),
            (["check", "user:a", "get", "pods"], "no input"),
            (["who-can", "get", "pods", "-o", "yaml", self.file], "--output takes"),
            (["frob"], "unknown subcommand"),
            (["check", "--batch", "x", "-o", "json", self.file], "--batch prints JSON lines"),
        ]:
            code, _, err = self.kg(*argv)
            self.assertEqual(code, 2, argv)
            self.assertIn(message, err, argv)

    def test_who_can_and_check_agree_on_the_real_world_corpus(self):
        corpus = os.path.join(CORPORA, "real-world")
        if not os.path.isdir(corpus):
            self.skipTest("no corpora")
        asked = [("get", "", "secrets", ""), ("list", "", "pods", ""), ("create", "", "pods", "exec"),
                 ("patch", "apps", "deployments", ""), ("get", "", "nodes", "proxy"),
                 ("create", "rbac.authorization.k8s.io", "clusterrolebindings", "")]
        questions = []
        for verb, group, resource, sub in asked:
            target = resource + ("." + group if group else "") + ("/" + sub if sub else "")
            code, out, err = self.kg("who-can", verb, target, "-A", corpus, "-q", "-o", "json")
            self.assertEqual(code, 0, err)
            for s in json.loads(out)["subjects"]:
                if s["kind"] == "Group" and s["name"] == "system:masters" and "binding" not in s:
                    continue
                ns = s["binding"].get("namespace", "")
                if s["kind"] == "User":
                    user, groups = s["name"], []
                elif s["kind"] == "Group":
                    user, groups = "someone", [s["name"]]
                else:
                    user, groups = f"system:serviceaccount:{s['namespace']}:{s['name']}", []
                questions.append({"user": user, "groups": groups, "verb": verb, "apiGroup": group,
                                  "resource": resource, "subresource": sub, "namespace": ns or "any-ns"})
        self.assertGreater(len(questions), 20)
        batch = os.path.join(self.dir, "corpus-questions.jsonl")
        with open(batch, "w") as f:
            f.write("".join(json.dumps(q) + "\n" for q in questions))
        code, out, err = self.kg("check", "--batch", batch, corpus, "-q")
        self.assertEqual(code, 0, err)
        answers = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(len(answers), len(questions))
        for q, a in zip(questions, answers):
            self.assertTrue(a["allowed"], (q, a))


if __name__ == "__main__":
    unittest.main()
