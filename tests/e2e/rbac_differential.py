#!/usr/bin/env python3
"""kguard's RBAC evaluation against the real authorizer (issue 17 item 5).

A real kube-apiserver with kube-controller-manager's ClusterRole aggregation controller
(cluster.py) gets the RBAC objects of the real-world corpus plus a seeded generated set
(rbac_gen.py: wildcards, subresources incl. `*/scale`, resourceNames, nonResourceURLs with `*`
prefixes, aggregated ClusterRoles and the bootstrap admin/edit/view fed by labels, RoleBindings to
ClusterRoles, missing roles, User/Group/ServiceAccount subjects). Once aggregation has settled,
questions are made from every rule of every binding the server holds (bootstrap policy included):
one each rule allows, and others one dimension off it, plus random ones. Then

  - the API server answers each by a SubjectAccessReview (direct HTTPS, in threads), and a sample
    again through `kubectl auth can-i --as/--as-group` (SelfSubjectAccessReview as that identity);
  - `kguard rbac check --batch` answers the same on the applied files (`--bootstrap assume`: the
    server has the bootstrap policy, the files do not), on `--cluster`, and on a `kguard snapshot`.

Every answer must agree; the counts are printed and every disagreement is listed (and written to
WORK/disagreements.jsonl with the objects that decide it under WORK/input). What it found so
far, and what became of it: rbac_differential_findings.md.

Usage: rbac_differential.py KGUARD SOURCE_DIR CORPORA_DIR
Environment: KGUARD_RBAC_DIFF_SEED (default 1737), KGUARD_RBAC_DIFF_RANDOM (random questions,
default 2500), KGUARD_RBAC_DIFF_WORK (keep the work folder there), KGUARD_RBAC_DIFF_CANI (size
of the kubectl sample, default 200).
"""
import concurrent.futures
import http.client
import json
import contextlib
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log, yaml  # noqa: E402
import rbac_gen  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(sys.argv[2])
CORPORA = os.path.abspath(sys.argv[3])
SEED = int(os.environ.get("KGUARD_RBAC_DIFF_SEED", "1737"))
RANDOM_QUESTIONS = int(os.environ.get("KGUARD_RBAC_DIFF_RANDOM", "2500"))
CANI_SAMPLE = int(os.environ.get("KGUARD_RBAC_DIFF_CANI", "200"))
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
NAMESPACED = {"Role", "RoleBinding"}
FAILURES = []


def check(cond, what):
    log(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


# ---- inputs -----------------------------------------------------------------------------------
TOP_KIND = re.compile(r"^kind:\s*(Role|ClusterRole|RoleBinding|ClusterRoleBinding)\s*$", re.M)


def corpus_rbac_files(out_dir):
    """The RBAC objects of every corpus file, one output file per input file. Only documents with
    a top-level RBAC kind are parsed (PyYAML refuses some CRDs of the corpus, see SOURCES.md). An
    object defined again by a later file (argo-cd's three installs) is kept once, as first seen;
    a namespaced one without a namespace gets `default`, as kubectl would give it."""
    seen = set()
    written = []
    namespaces = set()
    for root, dirs, files in os.walk(CORPORA):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            if not TOP_KIND.search(text):
                continue
            docs = []
            for chunk in re.split(r"^---[^\n]*$", text, flags=re.M):
                if not TOP_KIND.search(chunk):
                    continue
                doc = yaml.safe_load(chunk)
                if not isinstance(doc, dict) or doc.get("kind") not in RBAC_KINDS:
                    continue
                meta = doc.setdefault("metadata", {})
                if doc["kind"] in NAMESPACED:
                    meta.setdefault("namespace", "default")
                    namespaces.add(meta["namespace"])
                for s in doc.get("subjects") or []:
                    if s.get("kind") == "ServiceAccount" and s.get("namespace"):
                        namespaces.add(s["namespace"])
                key = (doc["kind"], meta.get("namespace", ""), meta.get("name"))
                if key in seen:
                    continue
                seen.add(key)
                docs.append(doc)
            if docs:
                rel = os.path.relpath(path, CORPORA).replace(os.sep, "__")
                out = os.path.join(out_dir, "corpus__" + rel)
                with open(out, "w") as fh:
                    yaml.safe_dump_all(docs, fh, sort_keys=False)
                written.append((out, len(docs)))
    return written, namespaces


def write_inputs(work):
    """WORK/input: the namespaces first (00-), the corpus' RBAC, then the generated set."""
    inp = os.path.join(work, "input")
    os.makedirs(inp)
    corpus, corpus_ns = corpus_rbac_files(inp)
    rng = rbac_gen.seeded(SEED)
    generated = rbac_gen.generate_objects(rng)
    namespaces = sorted((corpus_ns | set(rbac_gen.GEN_NAMESPACES)) -
                        {"default", "kube-system", "kube-public", "kube-node-lease"})
    with open(os.path.join(inp, "00-namespaces.yaml"), "w") as fh:
        yaml.safe_dump_all([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                            for n in namespaces], fh, sort_keys=False)
    gen = [o for o in generated if o["kind"] != "Namespace"]
    with open(os.path.join(inp, "generated.yaml"), "w") as fh:
        yaml.safe_dump_all(gen, fh, sort_keys=False)
    log(f"inputs: {sum(n for _, n in corpus)} RBAC objects from {len(corpus)} corpus files, "
        f"{len(gen)} generated (seed {SEED}), {len(namespaces)} namespaces")
    return inp, rng, namespaces


# ---- the API server ---------------------------------------------------------------------------
def live_rbac(c):
    def items(kind):
        return json.loads(c.kubectl("get", kind, "-A", "-o", "json"))["items"]
    cluster_roles = {o["metadata"]["name"]: o for o in items("clusterroles")}
    roles = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in items("roles")}
    bindings = [(o["metadata"]["namespace"], o["roleRef"], o.get("subjects"))
                for o in items("rolebindings")]
    bindings += [(None, o["roleRef"], o.get("subjects")) for o in items("clusterrolebindings")]
    return cluster_roles, roles, bindings


def canon(rule):
    return json.dumps({k: v for k, v in sorted(rule.items()) if v}, sort_keys=True)


def selector_matches(sel, labels):
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def aggregation_settled(cluster_roles):
    """The aggregation controller's work is done when every aggregated ClusterRole holds exactly
    the union of the rules of the ClusterRoles its selectors match (as the server holds them now,
    so chains count). Where that union is empty the controller's server-side apply names no rules
    and so removes none it does not own: the role keeps the rules its manifest wrote."""
    pending = []
    for name, cr in cluster_roles.items():
        agg = cr.get("aggregationRule")
        if not agg:
            continue
        want = set()
        for other_name, other in cluster_roles.items():
            if other_name == name:
                continue
            labels = other["metadata"].get("labels") or {}
            if any(selector_matches(s, labels) for s in agg.get("clusterRoleSelectors") or []):
                want |= {canon(r) for r in other.get("rules") or []}
        have = {canon(r) for r in cr.get("rules") or []}
        if want and have != want:
            pending.append(name)
    return pending


def wait_aggregation(c, timeout=240):
    deadline = time.time() + timeout
    pending = None
    while time.time() < deadline:
        state = live_rbac(c)
        pending = aggregation_settled(state[0])
        if not pending:
            return state
        time.sleep(1)
    raise RuntimeError(f"aggregation did not settle in {timeout}s: {pending}")


class Reviewer:
    """SubjectAccessReviews over one keep-alive HTTPS connection per thread."""

    def __init__(self, c):
        self.host, self.port = "127.0.0.1", c.port
        self.ctx = ssl.create_default_context(cafile=c.ca)
        self.ctx.load_cert_chain(c.admin_cert, c.admin_key)
        self.local = threading.local()

    def conn(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                          timeout=60)
        return self.local.conn

    @staticmethod
    def body(q):
        spec = {"user": q["user"], "groups": q["groups"]}
        if q["path"] is not None:
            spec["nonResourceAttributes"] = {"path": q["path"], "verb": q["verb"]}
        else:
            spec["resourceAttributes"] = {k2: q[k1] for k1, k2 in [
                ("namespace", "namespace"), ("verb", "verb"), ("apiGroup", "group"),
                ("resource", "resource"), ("subresource", "subresource"), ("name", "name")]}
        return json.dumps({"apiVersion": "authorization.k8s.io/v1",
                           "kind": "SubjectAccessReview", "spec": spec})

    def review(self, q):
        body = self.body(q)
        for attempt in range(3):
            try:
                conn = self.conn()
                conn.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body,
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status != 201:
                    raise RuntimeError(f"SubjectAccessReview {r.status}: {data[:300]!r}")
                status = json.loads(data).get("status", {})
                return bool(status.get("allowed")), status.get("reason", "")
            except (http.client.HTTPException, OSError):
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def ask_server(c, questions):
    rev = Reviewer(c)
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(rev.review, questions, chunksize=16))
    log(f"{len(questions)} SubjectAccessReviews in {time.time() - started:.1f}s")
    return answers


def cani_args(q):
    args = ["auth", "can-i", q["verb"]]
    if q["path"] is not None:
        args.append(q["path"])
    else:
        res = q["resource"] + (f".{q['apiGroup']}" if q["apiGroup"] else "")
        args.append(f"{res}/{q['name']}" if q["name"] else res)
        if q["subresource"]:
            args.append(f"--subresource={q['subresource']}")
        args += ["-n", q["namespace"]] if q["namespace"] else ["--all-namespaces"]
    args.append(f"--as={q['user']}")
    args += [f"--as-group={g}" for g in q["groups"]]
    return args


def cani_sample(questions, rng, n):
    """Questions kubectl can put as they are: kubectl maps a resource through discovery, so a
    resource the core group does not serve would be asked in another group, and the
    impersonation filter adds system:authenticated to every identity but system:anonymous."""
    def fits(q):
        if q["user"] == "system:anonymous" or "system:authenticated" not in q["groups"]:
            return False
        if q["path"] is not None:
            return q["path"].startswith("/")
        if q["resource"] in ("*", "things") or q["verb"] != q["verb"].strip() or "*" in q["verb"]:
            return False
        # Resources the server serves: kubectl maps any other through discovery its own way
        # (asked `list userextras.authentication.k8s.io/x`, it answered no where the
        # SubjectAccessReview of that question said yes).
        served = {(g, r) for g, r, _, _ in rbac_gen.RESOURCES
                  if g not in ("example.com", "extensions", "metrics.k8s.io")
                  and r not in ("users", "groups", "userextras", "signers")}
        return (q["apiGroup"], q["resource"]) in served
    pool = [q for q in questions if fits(q)]
    return rng.sample(pool, min(n, len(pool)))


def ask_kubectl(c, sample):
    kubectl = os.path.join(c.bin, "kubectl")

    def one(q):
        r = subprocess.run([kubectl, "--kubeconfig", c.admin_kubeconfig, *cani_args(q)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # "no - <reason>" when the authorizer gave one (a binding to a missing role)
        out = r.stdout.strip().split(" ", 1)[0] if r.stdout.strip() else ""
        if out not in ("yes", "no"):
            raise RuntimeError(f"kubectl {' '.join(cani_args(q))}: {r.returncode} {out!r} "
                               f"{r.stderr.strip()!r}")
        return out == "yes"
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, sample))


# ---- kguard -----------------------------------------------------------------------------------
def ask_kguard(label, batch, args, count):
    started = time.time()
    r = subprocess.run([KGUARD, "rbac", "check", "--batch", batch, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"})
    if r.returncode not in (0, 1):
        raise RuntimeError(f"kguard rbac check ({label}) exited {r.returncode}:\n{r.stderr[-3000:]}")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    check(len(lines) == count, f"kguard ({label}) answers every question: {len(lines)} of {count}")
    answers = []
    for ln in lines:
        d = json.loads(ln)
        answers.append((d.get("allowed"), d.get("reason", "")))
    log(f"kguard ({label}): {len(lines)} answers in {time.time() - started:.2f}s")
    return answers


def compare(label, questions, truth, answers, work):
    wrong = []
    for q, (want, why), got in zip(questions, truth, answers):
        if got[0] is not want:
            wrong.append({"source": label, "question": q, "server": want, "server_reason": why,
                          "kguard": got[0], "kguard_reason": got[1]})
    n = min(len(answers), len(questions))
    allowed = sum(1 for a in truth[:n] if a[0])
    log(f"{label}: {n - len(wrong)} of {n} agree ({allowed} allowed, {n - allowed} denied by "
        f"the server), {len(wrong)} disagree")
    for w in wrong[:40]:
        log(f"  DISAGREE {label}: server={w['server']} kguard={w['kguard']} "
            f"{json.dumps(w['question'])} server_reason={w['server_reason']!r} "
            f"kguard_reason={w['kguard_reason']!r}")
    if len(wrong) > 40:
        log(f"  ... and {len(wrong) - 40} more in {os.path.join(work, 'disagreements.jsonl')}")
    with open(os.path.join(work, "disagreements.jsonl"), "a") as fh:
        for w in wrong:
            fh.write(json.dumps(w) + "\n")
    check(not wrong and len(answers) == len(questions),
          f"{label}: kguard agrees with the real authorizer on all {len(questions)} questions")


def main(cluster=None):
    """Runs on `cluster` when given (analysis_e2e.py shares one control plane, started with the
    aggregation controller), else starts one."""
    keep = os.environ.get("KGUARD_RBAC_DIFF_WORK")
    work = os.path.abspath(keep) if keep else tempfile.mkdtemp(prefix="kguard-rbac-diff-")
    if keep:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
    inp, rng, namespaces = write_inputs(work)
    with (contextlib.nullcontext(cluster) if cluster else
          Cluster(os.path.join(work, "cluster"), audit=False, controllers=["clusterrole-aggregation"])) as c:
        c.kubectl("apply", "-f", os.path.join(inp, "00-namespaces.yaml"))
        c.kubectl("apply", "-f", inp)
        cluster_roles, roles, bindings = wait_aggregation(c)
        aggregated = [n for n, cr in cluster_roles.items() if cr.get("aggregationRule")]
        log(f"server holds {len(cluster_roles)} ClusterRoles ({len(aggregated)} aggregated, "
            f"settled), {len(roles)} Roles, {len(bindings)} bindings")
        # The label chain view -> edit -> admin carries a generated role's rules into admin.
        fed = {canon(r) for r in cluster_roles["gen-clusterrole-3"].get("rules") or []}
        check(bool(fed) and fed <= {canon(r) for r in cluster_roles["admin"].get("rules") or []},
              "the rules of a ClusterRole labelled aggregate-to-view reached admin")
        ns_all = sorted(set(namespaces) | {"default", "kube-system", "kube-public", "elsewhere"})
        identities = rbac_gen.base_identities()
        questions = rbac_gen.questions(
            rng, {n: cr.get("rules") or [] for n, cr in cluster_roles.items()},
            {k: r.get("rules") or [] for k, r in roles.items()}, bindings, identities, ns_all,
            RANDOM_QUESTIONS)
        batch = os.path.join(work, "questions.jsonl")
        with open(batch, "w") as fh:
            for q in questions:
                fh.write(json.dumps(q) + "\n")
        truth = ask_server(c, questions)
        with open(os.path.join(work, "answers.jsonl"), "w") as fh:  # the server's, to replay
            for q, (allowed, why) in zip(questions, truth):
                fh.write(json.dumps({"question": q, "allowed": allowed, "reason": why}) + "\n")
        allowed = sum(1 for a in truth if a[0])
        log(f"questions: {len(questions)} ({allowed} allowed, {len(questions) - allowed} denied)")
        check(len(questions) >= 3000, f"thousands of questions asked ({len(questions)})")
        check(allowed >= len(questions) // 10 and len(questions) - allowed >= len(questions) // 10,
              "the questions hit and miss: at least a tenth each way")

        sample = cani_sample(questions, rng, CANI_SAMPLE)
        by_key = {rbac_gen.qkey(q): a for q, a in zip(questions, truth)}
        cani = ask_kubectl(c, sample)
        off = [(q, a) for q, a in zip(sample, cani) if a != by_key[rbac_gen.qkey(q)][0]]
        for q, a in off[:20]:
            log(f"  kubectl auth can-i says {a} where the SubjectAccessReview said "
                f"{not a}: {' '.join(cani_args(q))}")
        check(not off, f"kubectl auth can-i agrees with the SubjectAccessReviews on a sample of "
                       f"{len(sample)} ({sum(cani)} yes)")

        snapshot = os.path.join(work, "snapshot.json")
        subprocess.run([KGUARD, "snapshot", "--kubeconfig", c.admin_kubeconfig, "-o", snapshot,
                        "-q"], check=True)
        runs = [
            ("files", ["--bootstrap", "assume", inp]),
            ("cluster", ["--cluster", "--kubeconfig", c.admin_kubeconfig]),
            ("snapshot", [snapshot]),
        ]
        for label, args in runs:
            compare(label, questions, truth, ask_kguard(label, batch, args, len(questions)), work)
        # Without the bootstrap policy the files alone must lose what only it grants: proof
        # that the assumed policy is what answers those questions (and that this test can fail).
        bare = ask_kguard("files, --bootstrap none", batch, ["--bootstrap", "none", inp],
                          len(questions))
        lost = sum(1 for (want, _), got in zip(truth, bare) if want and got[0] is not True)
        check(lost > 0, f"--bootstrap none on the files denies {lost} questions the bootstrap "
                        "policy answers")
    if FAILURES:
        log(f"{len(FAILURES)} failure(s); work folder kept: {work}")
        for f in FAILURES:
            log(f"  - {f}")
        return 1
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    log("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
