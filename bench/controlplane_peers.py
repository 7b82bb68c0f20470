#!/usr/bin/env python3
"""kguard's control-plane rules against Trivy's KCV checks and Checkov's CKV_K8S control-plane
checks on the same manifest set (issue 21, item 6) -> bench/results/controlplane-peers.md.

The set, one object per file so every verdict is attributable:
  - every Pod and ClusterConfiguration of the control-plane rules' pass.yaml and fail.yaml
    (rules/security/{apiserver,controller-manager,scheduler,etcd}-*): kubeadm's static Pods with one
    setting right or wrong, in every argument form (`--flag=value`, `--flag value`, bare bools,
    repeated slice flags, args-only, `sh -c`, etcd's ETCD_* variables);
  - with --real DIR, the manifests controlplane_e2e wrote from the harness' real kube-apiserver and
    etcd argv (KGUARD_KEEP_CONTROLPLANE=DIR keeps them).
Per file and per control-plane row, the verdict of kguard's rule, of the Trivy check and of the
Checkov check the rule names in its references; every disagreement is listed with its reason.

    controlplane_peers.py KGUARD [--real DIR] [--out bench/results/controlplane-peers.md]

Peers: Trivy from ~/.cache/kguard-bench/peers/trivy-* (bench/run_peer_bench.sh builds it from the
Go module proxy with GOEXPERIMENT=jsonv2), Checkov from ~/.cache/kguard-bench/peers/checkov-*
(PyPI). A peer that is not there is reported as not run. kubescape: see NOT_RUN.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "e2e"))
from controlplane_e2e import ORACLE  # noqa: E402  (the one-flag variants' changes, to name them)
PEERS = os.path.expanduser("~/.cache/kguard-bench/peers")
PREFIXES = ("apiserver-", "controller-manager-", "scheduler-", "etcd-")
NOT_RUN = ("kubescape: not run. Its module (github.com/kubescape/kubescape/v3) is refused by the Go module "
           "proxy this project installs from (\"not available\"), and kubescape downloads its controls "
           "(the regolibrary bundle with C-0113…C-0159) from GitHub at run time, which this machine cannot "
           "reach either. The rules' kubescape ids come from the research table (§2.15); kubescape "
           "evaluates them on the kube-system Pods of a live cluster or on host data, as kguard does "
           "with `scan --cluster`. Checked again on 2026-12-05: the Go module list this machine is "
           "served still has no kubescape module.")

# Why a peer's verdict differs from kguard's, by rule id (written after reading the peers' checks;
# the table below lists each file where they differ).
EXPLAIN = {
    "*kubeadm": "ClusterConfiguration: Trivy and Checkov read only Pods; kguard judges kubeadm's ClusterConfiguration "
                "(extraArgs over the flags kubeadm writes).",
    "*env": "etcd's ETCD_<FLAG> environment variables: kguard reads them as etcd does (a flag not on the command "
            "line); Trivy and Checkov read only command/args.",
    "*shell": "`sh -c \"exec kube-apiserver ...\"`: kguard reads the flags inside the shell command; the peers "
              "look for the binary as command[0] and do not recognise the container.",
    "*args": "args-only container (the image's entrypoint runs the binary, recognised by the component label, "
             "container or image name): the peers need the binary name in command.",
    "*sep": "`--flag value` as two arguments: kguard reads the value from the next argument as pflag does; the "
            "peers match `--flag=value` strings only.",
    "*bare": "a bare bool flag (`--profiling`) means true; the peers look for the `=false` string only (same "
             "verdict, different reason) or treat the bare flag as unset.",
    "*repeat": "a repeated flag: slice flags accumulate (`--enable-admission-plugins=A --enable-admission-plugins=B` "
               "enables both) and --feature-gates maps merge; the peers read one occurrence.",
    "*default": "the flag is absent and kguard applies the component's default (e.g. kube-controller-manager "
                "--bind-address defaults to 0.0.0.0, --authorization-mode to AlwaysAllow); a peer that only "
                "checks a flag when it is present passes it.",
    "*admission": "admission plugins: kguard judges the effective set (the release's default plugins + "
                  "--enable-admission-plugins − --disable-admission-plugins, or the deprecated --admission-control); "
                  "the peers look at one flag's string.",
    "*empty": "an empty value (`--kubelet-client-certificate=`): kguard reports the flag as empty; the peers "
              "see the flag name and count it as set.",
    "*boolform": "a boolean written as pflag also accepts it (`0`, `TRUE`, `--anonymous_auth`): kguard parses it as "
                 "the component does; the peers compare the literal `=false` / `=true` string.",
    "*gate-default": "Trivy KCV-0038 fails unless `RotateKubeletServerCertificate=true` is written out; the gate "
                     "defaults to true (beta, on since 1.12), so kguard passes a kube-controller-manager that does "
                     "not name it and fails only one that turns it off.",
    "*loopback6": "`--bind-address=::1`, the IPv6 loopback, is as local as 127.0.0.1; the peers accept only the "
                  "string 127.0.0.1.",
    "*crash": "Checkov crashed on the file (below), so it judged nothing in it.",
    "*other": "see the rule's note",
}
EXPLAIN.update({
    "*path": "the binary is named by its path (`/usr/local/bin/kube-apiserver`; the harness runs "
             "`~/.cache/kguard-e2e/v1.37.2/kube-apiserver`): Checkov recognises a component only when `command` "
             "holds the exact element `kube-apiserver` (`etcd`, ...) and passes every other container.",
    "*ckv-admissionconfig": "Checkov CKV_K8S_78 judges `kind: AdmissionConfiguration` objects only (is EventRateLimit "
                            "configured), never the API server's flags.",
    "*ckv-etcd-name": "Checkov CKV_K8S_121 judges only a Pod named exactly `etcd` and reads only `args`.",
    "*ckv-pem": "Checkov CKV_K8S_97/110/111 require the key or CA file name to end in `.pem`; kubeadm writes "
                "`sa.pub`, `sa.key` and `ca.crt`, so every kubeadm cluster fails them (and `file.split('.')[1]` "
                "is the only check of the name).",
    "*ckv-explicit-true": "Checkov CKV_K8S_96 requires `--service-account-lookup=true` written out; the default is "
                          "true, so kguard fails only an explicit false (`false`, `0`, `f`).",
    "*ckv-insecure-port": "Checkov CKV_K8S_88 requires `--insecure-port=0` written out; the flag was removed in "
                          "1.24 and a current kube-apiserver refuses to start with it, so kguard passes its absence "
                          "(default 0 since 1.20; 8080 before, which kguard applies to older images).",
    "*ckv-cipher-absent": "Checkov CKV_K8S_105 passes an API server without --tls-cipher-suites; CIS 1.2.29 asks "
                          "for the list to be set (Go's defaults include CBC suites), which kguard checks.",
    "*ckv-default-plugins": "Checkov CKV_K8S_82/83 fail when --enable-admission-plugins does not list "
                            "ServiceAccount / NamespaceLifecycle, which are enabled by default (so kubeadm's "
                            "`NodeRestriction` fails them); kguard fails only when they are disabled.",
    "*ckv-timeout": "Checkov CKV_K8S_95 checks only the form of --request-timeout: one- or two-digit h/m/s parts "
                    "(`300s` fails; `0s`, `1h` and `99h` pass) and a `--request-timeout VALUE` written as two "
                    "arguments fails; kguard reads the value as a Go duration and bounds it to 1s–5m (0 turns the "
                    "deadline off, more lets slow clients hold handlers).",
})
# Disagreements that follow from the peer check's own semantics, whatever the file.
PEER_REASON = {"KCV-0038": "*gate-default", "CKV_K8S_78": "*ckv-admissionconfig", "CKV_K8S_121": "*ckv-etcd-name",
               "CKV_K8S_97": "*ckv-pem", "CKV_K8S_110": "*ckv-pem", "CKV_K8S_111": "*ckv-pem",
               "CKV_K8S_96": "*ckv-explicit-true", "CKV_K8S_88": "*ckv-insecure-port",
               "CKV_K8S_105": "*ckv-cipher-absent", "CKV_K8S_82": "*ckv-default-plugins",
               "CKV_K8S_83": "*ckv-default-plugins", "CKV_K8S_95": "*ckv-timeout"}


def run(cmd, **kw):
    t = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return r, time.time() - t


def rules_and_refs():
    out = {}
    for path in sorted(glob.glob(os.path.join(SOURCE, "rules/security/*/rule.yaml"))):
        rid = os.path.basename(os.path.dirname(path))
        if not rid.startswith(PREFIXES):
            continue
        with open(path) as f:
            r = yaml.safe_load(f)
        if r.get("check") != "component-flag":
            continue
        refs = r.get("references", [])
        trivy = [x.split()[1] for x in refs if x.startswith("Trivy ")]
        ckv = [x.split()[1] for x in refs if x.startswith("Checkov ")]
        cis = [x.split()[1] for x in refs if x.startswith("CIS ")]
        out[rid] = {"component": r["params"]["component"], "trivy": trivy, "checkov": ckv, "cis": cis}
    return out


def build_set(rules, real, dest):
    """One object per file: dest/<rule>--<pass|fail>-<n>.yaml (+ real/)."""
    files = {}
    for rid in rules:
        for kind in ("pass", "fail"):
            with open(os.path.join(SOURCE, "rules/security", rid, f"{kind}.yaml")) as f:
                text = f.read()
            for i, chunk in enumerate(re.split(r"^---\n", text, flags=re.M)):
                doc = yaml.safe_load(chunk)
                if not doc:
                    continue
                comment = chunk.splitlines()[0][2:] if chunk.startswith("# ") else ""
                name = f"{rid}--{kind}-{i + 1}.yaml"
                with open(os.path.join(dest, name), "w") as out:
                    out.write(chunk)
                files[name] = {"rule": rid, "expect": kind, "kind": doc.get("kind"), "note": comment,
                               "component": ((doc.get("metadata") or {}).get("labels") or {}).get("component")}
    if real:
        for path in sorted(glob.glob(os.path.join(real, "**/*.yaml"), recursive=True)):
            with open(path) as f:
                docs = [d for d in yaml.safe_load_all(f) if d]
            for i, doc in enumerate(docs):
                name = "real--" + os.path.relpath(path, real).replace("/", "_").replace(".yaml", "") + f"-{i + 1}.yaml"
                with open(os.path.join(dest, name), "w") as out:
                    yaml.safe_dump(doc, out, sort_keys=False)
                comp = ((doc.get("metadata") or {}).get("labels") or {}).get("component")
                containers = ((doc.get("spec") or {}).get("containers") or [{}])
                command = containers[0].get("command") or [""]
                note = "harness' real flags"
                m = re.match(r"(.*)-(bad|good)$", (doc.get("metadata") or {}).get("name", ""))
                if m and m.group(1) in ORACLE:  # a one-flag variant of controlplane_e2e
                    change = ORACLE[m.group(1)][2 if m.group(2) == "bad" else 3]
                    note = "variant: " + ", ".join(
                        f"--{k} absent (the default)" if v is None else
                        f"--{k} repeated" if isinstance(v, list) else f"--{k}={v}" for k, v in change.items())
                files[name] = {"rule": None, "expect": None, "kind": doc.get("kind"), "note": note,
                               "component": comp, "path_binary": "/" in command[0]}
    return files


def kguard_verdicts(kguard, d, files, rules):
    r, secs = run([kguard, "scan", d, "--only", "control-plane", "-o", "json", "-q"])
    report = json.loads(r.stdout)
    failed = {(os.path.basename(f["location"]["file"]), f["rule"]) for f in report["findings"]}
    v = {}
    for name, meta in files.items():
        for rid, info in rules.items():
            if meta["kind"] == "ClusterConfiguration" or meta["component"] == info["component"]:
                v[(name, rid)] = "fail" if (name, rid) in failed else "pass"
    return v, secs


def trivy_verdicts(d):
    found = sorted(glob.glob(os.path.join(PEERS, "trivy-*/trivy")))
    if not found:
        return None, "not installed (bench/run_peer_bench.sh builds it)", 0
    binary = found[-1]
    ver, _ = run([binary, "--version"])
    with tempfile.TemporaryDirectory() as cache:
        r, secs = run([binary, "config", "--format", "json", "--quiet", "--skip-check-update", "--skip-version-check",
                       "--disable-telemetry", "--misconfig-scanners", "kubernetes", "--include-non-failures",
                       "--cache-dir", cache, d])
    if r.returncode != 0:
        return None, f"failed: {r.stderr[-300:]}", secs
    v = {}
    for res in json.loads(r.stdout).get("Results", []):
        for m in res.get("Misconfigurations", []) or []:
            if m["ID"].startswith("KCV-"):
                v[(os.path.basename(res["Target"]), m["ID"])] = "fail" if m["Status"] == "FAIL" else "pass"
    mod, _ = run(["go", "version", "-m", binary])
    version = next((line.split()[2] for line in mod.stdout.splitlines() if line.strip().startswith("mod")), "?")
    return v, f"Trivy {version} (`trivy config --misconfig-scanners kubernetes --include-non-failures`, embedded checks bundle)", secs


def checkov_verdicts(d):
    """Checkov over the set; a check that raises aborts its whole run, so a crashing run is split in
    halves until the files it crashes on are found (reported as crashes, the rest judged)."""
    found = sorted(glob.glob(os.path.join(PEERS, "checkov-*/bin/checkov")))
    if not found:
        return None, "not installed (bench/run_peer_bench.sh installs it)", 0, []
    env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true", BC_SKIP_MAPPING="TRUE")
    ver, _ = run([found[-1], "--version"], env=env)
    v, crashes, total = {}, [], 0.0

    def judge(names):
        nonlocal total
        with tempfile.TemporaryDirectory() as part:
            for n in names:
                shutil.copy(os.path.join(d, n), part)
            r, secs = run([found[-1], "-d", part, "--framework", "kubernetes", "-o", "json", "--skip-download"], env=env)
        total += secs
        if r.returncode not in (0, 1):
            if len(names) == 1:
                last = [line for line in r.stderr.strip().splitlines() if line.strip()]
                crashes.append((names[0], last[-1] if last else f"exit {r.returncode}"))
                return
            half = len(names) // 2
            judge(names[:half])
            judge(names[half:])
            return
        data = json.loads(r.stdout) if r.stdout.strip() else {}
        if isinstance(data, list):
            data = next((x for x in data if x.get("check_type") == "kubernetes"), {})
        for status, key in (("pass", "passed_checks"), ("fail", "failed_checks")):
            for c in data.get("results", {}).get(key, []):
                k = (os.path.basename(c["file_path"]), c["check_id"])
                if v.get(k) != "fail":
                    v[k] = status

    judge(sorted(os.listdir(d)))
    version = ver.stdout.strip().splitlines()[-1] if ver.stdout.strip() else "?"
    return v, f"Checkov {version} (`checkov -d DIR --framework kubernetes`)", total, crashes


def reason(name, meta, rid, pid=None):
    note = (meta.get("note") or "").lower()
    if meta["kind"] == "ClusterConfiguration":
        return "*kubeadm"
    if "environment" in note or "etcd_" in note or "etcd reads" in note:
        return "*env"
    if "sh -c" in note:
        return "*shell"
    if "entrypoint" in note:
        return "*args"
    if meta.get("crashed") and pid and pid.startswith("CKV_"):
        return "*crash"
    if meta.get("path_binary") and pid and pid.startswith("CKV_"):
        return "*path"
    if pid in PEER_REASON:
        return PEER_REASON[pid]
    if "::1" in note:
        return "*loopback6"
    if "empty value" in note or "emptied" in note:
        return "*empty"
    if "0 is false" in note or "true as true" in note or "'_'" in note:
        return "*boolform"
    if "--flag value" in note:
        return "*sep"
    if "bare" in note:
        return "*bare"
    if "second" in note or "repeat" in note:
        return "*repeat"
    if rid and ("admission" in rid or "always-admit" in rid or "node-restriction" in rid or "event-rate" in rid
                or "pull-images" in rid or "external-ips" in rid or "lifecycle" in rid):
        return "*admission"
    if "absent" in note or "default" in note or "does not set" in note or "lack" in note:
        return "*default"
    return "*other"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kguard")
    ap.add_argument("--real")
    ap.add_argument("--out", default=os.path.join(HERE, "results/controlplane-peers.md"))
    a = ap.parse_args()
    rules = rules_and_refs()
    with tempfile.TemporaryDirectory(prefix="kguard-cp-peers-") as d:
        files = build_set(rules, a.real, d)
        kg, kg_secs = kguard_verdicts(os.path.abspath(a.kguard), d, files, rules)
        tv, tdesc, t_secs = trivy_verdicts(d)
        cv, cdesc, c_secs, crashes = checkov_verdicts(d)
    for n, _ in crashes:
        files[n]["crashed"] = True
    # Per rule: the files where kguard and a peer judge the same (file, check) differently.
    rows, diffs = [], []
    totals = {"Trivy": [0, 0], "Checkov": [0, 0]}  # agree, judged
    for rid, info in rules.items():
        counts = {}
        for peer, verdicts, ids in (("Trivy", tv, info["trivy"]), ("Checkov", cv, info["checkov"])):
            if verdicts is None or not ids:
                counts[peer] = "—"
                continue
            agree = kg_only = peer_only = unread = 0
            for (name, r), kgv in kg.items():
                if r != rid:
                    continue
                pv = verdicts.get((name, ids[0]))
                if pv is None:
                    if kgv == "fail":
                        unread += files[name]["kind"] != "ClusterConfiguration"
                        diffs.append((rid, peer, ids[0], name, kgv, "not judged", reason(name, files[name], rid, ids[0])))
                    continue
                totals[peer][1] += 1
                if pv == kgv:
                    agree += 1
                    totals[peer][0] += 1
                else:
                    if kgv == "fail":
                        kg_only += 1
                    else:
                        peer_only += 1
                    diffs.append((rid, peer, ids[0], name, kgv, pv, reason(name, files[name], rid, ids[0])))
            counts[peer] = f"{agree} / {kg_only} / {peer_only} / {unread}"
        rows.append(f"| `{rid}` | {', '.join(info['cis']) or '—'} | {', '.join(info['trivy']) or '—'} | {counts['Trivy']} | "
                    f"{', '.join(info['checkov']) or '—'} | {counts['Checkov']} |")
    # Files kguard reads that a peer does not judge at all, and kguard's own fixture expectations.
    wrong = [(n, r, v) for (n, r), v in kg.items() if files[n]["rule"] == r and files[n]["expect"] != v]
    by_reason = {}
    for d_ in diffs:
        by_reason.setdefault(d_[6], []).append(d_)
    lines = [
        "# Control-plane flags: kguard against Trivy and Checkov",
        "",
        f"Generated by `bench/controlplane_peers.py` on {time.strftime('%Y-%m-%d', time.gmtime())}. Each file of the set holds one "
        "object: the Pods and ClusterConfigurations of the control-plane rules' fixtures (kubeadm's static Pods with one "
        "setting right or wrong, in every argument form)" + (", plus the manifests controlplane_e2e wrote from the harness' "
        "real kube-apiserver and etcd argv" if a.real else "") + f": {len(files)} files "
        f"({sum(1 for m in files.values() if m['kind'] == 'Pod')} Pods, "
        f"{sum(1 for m in files.values() if m['kind'] == 'ClusterConfiguration')} ClusterConfigurations).",
        "",
        "Regenerate: `KGUARD_KEEP_CONTROLPLANE=/tmp/cp python3 tests/e2e/controlplane_e2e.py build/release/kguard .` "
        "then `python3 bench/controlplane_peers.py build/release/kguard --real /tmp/cp` (times below are of a shared "
        "2-core machine; speed is not the point here).",
        "",
        f"- kguard: `kguard scan DIR --only control-plane` ({kg_secs:.2f} s); its own fixture expectations: "
        f"{len(wrong)} wrong verdicts.",
        f"- {tdesc} ({t_secs:.2f} s)." if tv is not None else f"- Trivy: {tdesc}.",
        f"- {cdesc} ({c_secs:.2f} s)." if cv is not None else f"- Checkov: {cdesc}.",
        f"- {NOT_RUN}",
        "",
        "Summary: on the Pods both judge, kguard and Trivy agree on "
        f"{totals['Trivy'][0]} of {totals['Trivy'][1]} (file, check) verdicts, kguard and Checkov on "
        f"{totals['Checkov'][0]} of {totals['Checkov'][1]}. Every difference below has one of the reasons listed "
        "(Checkov's read from its check source, checkov/kubernetes/checks/resource/k8s/*.py; Trivy's from its "
        "verdicts on the fixtures, each of which changes one setting): kguard reads more forms of the same flags (paths, "
        "args-only containers, `sh -c`, `--flag value`, bare and pflag-style booleans, repeated slice flags, "
        "ETCD_* variables, kubeadm ClusterConfigurations) and applies the components' defaults where a peer "
        "either needs the secure value written out or passes an absent flag.",
        "",
        "Per rule, for the peer check its references name, over the files of that component: "
        "**agree / kguard fails, peer passes / peer fails, kguard passes / kguard fails a Pod the peer does not judge** "
        "(ClusterConfigurations: below).",
        "",
        "| kguard rule | CIS | Trivy | agree / kg-only / peer-only / unjudged | Checkov | agree / kg-only / peer-only / unjudged |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "Rows without a peer id: the peer has no such check (e.g. CIS 1.2.30 token extension, 1.2.3 "
        "DenyServiceExternalIPs, which Trivy KCV-0003 checks the other way round, or the removed legacy flags).",
        "",
        "## Differences, by reason",
        "",
    ]
    kubeadm = by_reason.pop("*kubeadm", [])
    if kubeadm:
        n_cc = sum(1 for m in files.values() if m["kind"] == "ClusterConfiguration")
        kg_cc = sum(1 for (n, r), v in kg.items() if files[n]["kind"] == "ClusterConfiguration" and v == "fail")
        lines += [f"### {EXPLAIN['*kubeadm']}", "",
                  f"{n_cc} ClusterConfiguration files: kguard judged each for every rule ({kg_cc} failures, "
                  f"all as the fixtures expect); Trivy and Checkov report nothing on them "
                  f"({len(kubeadm)} (file, check) pairs kguard fails are not judged by a peer).", ""]
    if crashes:
        lines += [f"### {len(crashes)} × Checkov crashes on the file (its whole run aborts; the other files were judged in runs without it)", "",
                  "| file | Checkov's last error line |", "|---|---|"]
        lines += [f"| {n} | `{e[:160]}` |" for n, e in crashes]
        lines += [""]
    for key in sorted(by_reason, key=lambda k: -len(by_reason[k])):
        group = by_reason[key]
        lines.append(f"### {len(group)} × {EXPLAIN.get(key, key)}")
        lines.append("")
        shown = sorted(group)
        if len(shown) <= 12:
            lines.append("| rule | peer check | file | kguard | peer |")
            lines.append("|---|---|---|---|---|")
        else:  # a reason that applies to many files: per check, then a few examples
            per = {}
            for rid, peer, pid, *_ in shown:
                per[(rid, peer, pid)] = per.get((rid, peer, pid), 0) + 1
            lines.append("Per check: " + "; ".join(f"`{r}` / {p} {i}: {n}" for (r, p, i), n in sorted(per.items())) + ".")
            lines.append("")
            lines.append("| rule | peer check | file (examples) | kguard | peer |")
            lines.append("|---|---|---|---|---|")
            seen, examples = set(), []
            for d_ in shown:  # one example per check first
                if (d_[0], d_[2]) not in seen:
                    seen.add((d_[0], d_[2]))
                    examples.append(d_)
            shown = examples[:12]
        for rid, peer, pid, name, kgv, pv, _ in shown:
            lines.append(f"| `{rid}` | {peer} {pid} | {name} | {kgv} | {pv} |")
        if len(group) > len(shown):
            lines.append(f"| … | | {len(group) - len(shown)} more | | |")
        lines.append("")
    if wrong:
        lines += ["## kguard verdicts against its own fixtures (should be none)", ""]
        lines += [f"- {n}: {r} {v}" for n, r, v in sorted(wrong)]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {a.out}: {len(diffs)} differences, {len(wrong)} wrong kguard verdicts", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
