#!/usr/bin/env python3
"""Writes bench/results/vulns.md from one bench/run_vuln_bench.sh run: the timing table (best of
the runs), database sizes, and each image's findings by kguard and Trivy against the dataset's
expected answers (truth.json), every disagreement listed with why.

Findings are compared as (package name, installed version, advisory): a GHSA record is known
by its GHSA id and its CVE alias, so a tool reporting either names the same record.
"""
import argparse
import json
import os
import subprocess

MIB = 1024 * 1024


def load_results(path):
    rows = {}
    with open(path) as f:
        for line in f:
            step, tool, run, wall, user, sys_, rss = line.rstrip("\n").split("\t")
            rows.setdefault((step, tool), []).append(
                {"run": int(run), "wall": float(wall), "cpu": float(user) + float(sys_), "rss": int(rss)})
    return rows


def best(rows, step, tool):
    runs = rows.get((step, tool)) or []
    if not runs:
        return None
    b = min(runs, key=lambda r: r["wall"])
    return {**b, "walls": [r["wall"] for r in runs], "cpu_min": min(r["cpu"] for r in runs),
            "rss_max": max(r["rss"] for r in runs)}


def fmt_time(b):
    return f"{b['wall']:.2f} s" if b else "n/a"


def fmt_cpu(b):
    return f"{b['cpu']:.2f} s" if b else "n/a"


def fmt_rss(b):
    return f"{b['rss'] / 1024:.0f} MiB" if b else "n/a"


def norm_version(v):
    return v[1:] if v.startswith("v") and v[1:2].isdigit() else v


def kguard_findings(path):
    doc = json.load(open(path))
    out = set()
    block = doc.get("vulnerabilities") or {}
    for m in block.get("matches") or []:
        p = m["package"]
        out.add((p["name"], norm_version(p["version"]), tuple([m["id"]] + (m.get("aliases") or []))))
    return out, doc


def trivy_findings(path):
    doc = json.load(open(path))
    out = set()
    seen_pkgs = set()
    for r in doc.get("Results") or []:
        for v in r.get("Vulnerabilities") or []:
            ids = [v["VulnerabilityID"]] + (v.get("VendorIDs") or [])
            out.add((v["PkgName"], norm_version(v.get("InstalledVersion", "")), tuple(ids)))
        if r.get("Class") != "lang-pkgs":
            continue  # a deb of the same name and version (reportbug 12.0.0) is not the Python package
        for p in r.get("Packages") or []:
            seen_pkgs.add((p["Name"], norm_version(p.get("Version", ""))))
    return out, seen_pkgs


def canon(findings, alias_of):
    """{(name, version, record id)}: the record each finding names (its id or an alias)."""
    out = {}
    for name, ver, ids in findings:
        rid = next((alias_of[i] for i in ids if i in alias_of), ids[0])
        out[(name, ver, rid)] = ids
    return out


def explain(key, side, image, truth, trivy_pkgs, inv_types):
    """Why one tool reported (or missed) this finding and the other did not."""
    name, ver, rid = key
    t = truth.get((image, name, ver, rid))
    ptype = inv_types.get((name, ver), "?")
    if t is None:
        return "no expected answer for this (a record of the long tail?): not explained"
    expected = "expected vulnerable" if t["vulnerable"] else "expected not vulnerable"
    case = f"{expected} ({t['why']})"
    if side == "kguard-only" and t["vulnerable"] and ptype in ("pypi", "maven") and (name, ver) not in trivy_pkgs:
        return (f"{case}; Trivy does not list the package: its language analyzers skip files an OS package "
                f"owns (this {ptype} package came with a Debian package) and leave them to the deb's own "
                f"advisories, so a GHSA advisory for it is never looked up; kguard matches the language "
                f"package too. A Trivy false negative by design; whether Debian's patched copy is affected "
                f"is for a VEX statement to say")
    if side == "kguard-only" and not t["vulnerable"]:
        return f"{case}: a kguard false positive"
    if side == "trivy-only" and not t["vulnerable"]:
        return f"{case}: a Trivy false positive"
    if side == "kguard-only":
        return f"{case}: a Trivy false negative"
    return f"{case}: a kguard false negative"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--kguard-rev", default="")
    ap.add_argument("--trivy", default="")
    ap.add_argument("--trivy-version", default="")
    ap.add_argument("--trivy-db-version", default="")
    ap.add_argument("--grype", default="")
    ap.add_argument("--grype-db", default="")
    ap.add_argument("--runs", default="3")
    ap.add_argument("--db-runs", default="3")
    a = ap.parse_args()
    W = a.work
    rows = load_results(os.path.join(W, "results.tsv"))
    counts = json.load(open(os.path.join(a.data, "counts.json")))
    truth_list = json.load(open(os.path.join(a.data, "truth.json")))
    alias_of = {}
    truth = {}
    for t in truth_list:
        alias_of[t["id"]] = t["id"]
        for al in t["aliases"]:
            alias_of[al] = t["id"]
        truth[(t["image"], t["package"], norm_version(t["version"]), t["id"])] = t
    kdb = int(open(os.path.join(W, "kguard.db.size")).read())
    tdb = int(open(os.path.join(W, "trivy.db.size")).read())
    status = json.load(open(os.path.join(W, "kguard-db-status.json")))
    data_bytes = int(subprocess.run(["du", "-sb", "--exclude=truth.json", a.data], capture_output=True,
                                    text=True).stdout.split()[0])
    load = open(os.path.join(W, "load.txt")).read().split("\n")
    # `go install` leaves Trivy's own version string at "dev": the module version is the one installed.
    trivy_version = f"Trivy {a.trivy_version}" if a.trivy_version else "Trivy"

    lines = []
    P = lines.append
    P("# Vulnerabilities: kguard against Trivy on the same images and the same data")
    P("")
    P(f"`bench/run_vuln_bench.sh` (issue 15 item 8), kguard at {a.kguard_rev} (Release build); "
      f"{trivy_version.strip()} and trivy-db {a.trivy_db_version}, both built from the Go module proxy "
      f"(bench/image_peers.py) and run offline. Best of {a.runs} runs ({a.db_runs} for the database builds) under `/usr/bin/time` (the run with "
      f"the lowest wall time; its CPU = user + sys and its peak RSS).")
    P("")
    P(f"Machine: {load[1].strip() if len(load) > 1 else '?'} vCPU, shared with other builds; load at the "
      f"end of the run: `{load[0].strip()}`. Wall times include the time other processes held the cores; "
      f"CPU times are the figures to compare.")
    P("")
    P("## Data")
    P("")
    rc = counts["records"]
    P(f"`bench/gen_vuln_bench_data.py`: **{counts['total']:,} records** (one record = one advisory id × "
      f"package × release), {data_bytes / MIB:.0f} MiB of JSON, in the upstream formats both tools read:")
    P("")
    P(f"- Debian: {rc['debian']:,} release lines in `vuln-list-debian/tracker/CVE/*.json` (the security "
      f"tracker's list parsed per entry, as aquasecurity/vuln-list-debian stores it; `distributions.json`; "
      f"each entry with a sid line carrying the urgency) — trivy-db's `debian` source and "
      f"`kguard db build --debian-tracker` read the same folder.")
    P(f"- Language packages: {rc['ghsa']:,} GitHub advisories in OSV form under "
      f"`ghsa/advisories/github-reviewed/YYYY/MM/GHSA-…/GHSA-….json` (npm, PyPI, Go, Maven; CVE alias, "
      f"CVSS v3.1 vector, `database_specific.severity`) — trivy-db's `ghsa` source and `kguard db build "
      f"--osv` read the same files.")
    P(f"- Alpine: {rc['alpine']:,} secfixes ids in secdb JSON (`secdb/v3.X/main.json`, read by "
      f"`--alpine-secdb`) and the same secdb split one file per aport as aquasecurity/vuln-list stores it "
      f"(`vuln-list/alpine/3.X/main/<aport>.json`, read by trivy-db's `alpine` source: trivy-db decodes "
      f"each file as one aport, so it cannot read secdb's `packages[]` file, and kguard reads secdb itself).")
    P(f"- Of these, {sum(counts['naming_image_packages'].values()):,} records name the real packages of "
      f"the three images (each Debian source: fixed above / at / below the installed version, no fix "
      f"(`<unfixed>`, `<no-dsa>`, `<ignored>`, `<postponed>`), not affected; each Alpine origin: fixed "
      f"above / at / below, `0`, and the same id in another branch; each language package: fixed above, "
      f"fixed at, `last_affected` at, introduced above), so **{counts['expected_vulnerable']:,} "
      f"findings are expected**; the rest is a long tail of other package names.")
    P("")
    P("## Table")
    P("")
    P("| what | kguard: wall | CPU | peak RSS | Trivy: wall | CPU | peak RSS | output |")
    P("|---|---|---|---|---|---|---|---|")
    kb, tb = best(rows, "db-build", "kguard"), best(rows, "db-build", "trivy-db")
    recs = status.get("records") or {}
    P(f"| database build ({counts['total']:,} records; kguard db build vs trivy-db build) | {fmt_time(kb)} | "
      f"{fmt_cpu(kb)} | {fmt_rss(kb)} | {fmt_time(tb)} | {fmt_cpu(tb)} | {fmt_rss(tb)} | "
      f"kguard {kdb / MIB:.0f} MiB SQLite; trivy.db {tdb / MIB:.0f} MiB BoltDB |")
    per_image = {}
    for image, label in (("large", "large Debian 12 image (1,040 packages; a 2.9 GiB docker archive, layers uncompressed as skopeo writes them)"),
                         ("app", "app image (Debian 12 distroless + npm, PyPI, Go, Maven)"),
                         ("alpine", "Trivy's alpine-310 (Alpine 3.10, 14 packages)")):
        kf, kdoc = kguard_findings(os.path.join(W, f"kguard-{image}.json"))
        tf, tpkgs = trivy_findings(os.path.join(W, f"trivy-{image}.json"))
        per_image[image] = (kf, tf, tpkgs, kdoc)
        k, t = best(rows, f"scan-{image}", "kguard"), best(rows, f"scan-{image}", "trivy")
        P(f"| scan end to end: {label} | {fmt_time(k)} | {fmt_cpu(k)} | {fmt_rss(k)} | {fmt_time(t)} | "
          f"{fmt_cpu(t)} | {fmt_rss(t)} | kguard {len(canon(kf, alias_of))} findings, Trivy "
          f"{len(canon(tf, alias_of))} |")
    k, t = best(rows, "match-sbom", "kguard"), best(rows, "match-sbom", "trivy")
    ks, _ = kguard_findings(os.path.join(W, "kguard-sbom.json"))
    ts, _ = trivy_findings(os.path.join(W, "trivy-sbom.json"))
    P(f"| matching alone: the large image's packages as each tool's own CycloneDX SBOM (`kguard image "
      f"sbom:` vs `trivy sbom`), whole process | {fmt_time(k)} | {fmt_cpu(k)} | {fmt_rss(k)} | {fmt_time(t)} | "
      f"{fmt_cpu(t)} | {fmt_rss(t)} | kguard {len(canon(ks, alias_of))} findings, Trivy "
      f"{len(canon(ts, alias_of))} |")
    mb = os.path.join(W, "match-bench.txt")
    if os.path.exists(mb):
        P("")
        P("Matching alone in process (`build/release/bench/vuln_match_bench --runs 20`: 1,000 packages "
          "against its own 500,000-record database, bench/results/vulndb-match.md), this run:")
        P("")
        P("```")
        P(open(mb).read().strip())
        P("```")
    P("")
    P("## Database memory")
    P("")
    worst = max((best(rows, f"scan-{i}", "kguard") or {"rss": 0})["rss"] for i in ("large", "app", "alpine"))
    P(f"- kguard: the largest peak RSS of a scan is {worst / 1024:.0f} MiB (the large image, whose own "
      f"reading takes most of it) against a {kdb / MIB:.0f} MiB database; the SBOM match, which reads "
      f"no layers, peaks at {fmt_rss(best(rows, 'match-sbom', 'kguard'))}: lookups go through the "
      f"`(namespace, package)` index, page by page, and never load the database.")
    tw = max((best(rows, f"scan-{i}", "trivy") or {"rss": 0})["rss"] for i in ("large", "app", "alpine"))
    P(f"- Trivy: peak RSS {tw / 1024:.0f} MiB at most against a {tdb / MIB:.0f} MiB trivy.db (BoltDB, "
      f"memory-mapped: pages it reads count in its RSS).")
    P(f"- Build: kguard peaks at {fmt_rss(kb)} (the tracker folder's entries held until every release's "
      f"answer is known, then written into SQLite with a bounded cache); trivy-db at {fmt_rss(tb)} (each "
      f"source's advisories gathered in maps, then one BoltDB batch; its file is not compacted).")
    P("")
    P("## Findings against the expected answers")
    P("")
    P("| image | expected | kguard | kguard right / false pos. / false neg. | Trivy | Trivy right / false pos. / false neg. | both | only kguard | only Trivy |")
    P("|---|---|---|---|---|---|---|---|---|")
    details = []
    summary = []
    for image, (kf, tf, tpkgs, kdoc) in per_image.items():
        exp = {(t["package"], norm_version(t["version"]), t["id"]) for t in truth_list
               if t["image"] == image and t["vulnerable"]}
        K, T = set(canon(kf, alias_of)), set(canon(tf, alias_of))
        inv = json.load(open(os.path.join(os.path.dirname(a.data), f"{image}.inv.json")))
        inv_types = {(p["name"], norm_version(p["version"])): p["type"] for p in inv["packages"]}
        P(f"| {image} | {len(exp)} | {len(K)} | {len(K & exp)} / {len(K - exp)} / {len(exp - K)} | {len(T)} | "
          f"{len(T & exp)} / {len(T - exp)} / {len(exp - T)} | {len(K & T)} | {len(K - T)} | {len(T - K)} |")
        owned = sum(1 for (n, v, r) in exp - T
                    if inv_types.get((n, v)) in ("pypi", "maven") and (n, v) not in tpkgs)
        summary.append((image, len(exp), len(K & exp), len(K - exp), len(exp - K), len(T & exp), len(T - exp),
                        len(exp - T), owned))
        diffs = [(k, "kguard-only") for k in sorted(K - T)] + [(k, "trivy-only") for k in sorted(T - K)]
        # Expected findings neither tool reported.
        diffs += [(k, "neither") for k in sorted(exp - K - T)]
        if diffs:
            details.append(f"### {image}")
            details.append("")
            for key, side in diffs:
                name, ver, rid = key
                if side == "neither":
                    t = truth[(image, name, ver, rid)]
                    details.append(f"- neither: `{rid}` {name} {ver}: expected vulnerable ({t['why']})")
                    continue
                details.append(f"- {side}: `{rid}` {name} {ver}: "
                               f"{explain(key, side, image, truth, tpkgs, inv_types)}")
            details.append("")
    P("")
    P("## What differs and why")
    P("")
    tot = [sum(x[i] for x in summary) for i in range(1, 9)]
    P(f"- kguard reports {tot[1]:,} of the {tot[0]:,} expected findings, with {tot[2]} false positives and "
      f"{tot[3]} false negatives. Trivy reports {tot[4]:,}, with {tot[5]} false positives and {tot[6]} false "
      f"negatives, of which {tot[7]} are language packages (PyPI, Maven) that a Debian package installed: "
      f"Trivy's language analyzers skip files an OS package owns, so it never looks up a GHSA advisory "
      f"for them (its design: the deb's own advisories stand for them). kguard matches both the deb "
      f"(by its source package in the tracker) and the language package (by its PyPI/Maven name in "
      f"GHSA), so an advisory about the Python or Java library is not lost; when Debian has patched "
      f"its copy, a VEX statement or an ignore with a reason says so in the report.")
    P("- Every other expected finding both report, and both leave out the same records: tracker lines "
      "`not-affected` for bookworm, fixes at or below the installed source version, fixes in another "
      "Debian release or Alpine branch, secdb's `0`, GHSA ranges introduced above the installed version "
      "or fixed at it. `<no-dsa>`, `<ignored>`, `<postponed>` and `<unfixed>` lines are findings with no "
      "fix in both (Trivy: status will_not_fix / fix_deferred / affected). A binary package is judged "
      "by its source package's version in both (the tracker and secdb name sources and origins).")
    P("- Counting: one finding per (installed package, version, advisory). A GHSA advisory with a CVE "
      "alias is one finding whichever id a tool puts first (both report the CVE).")
    P("")
    P("## Every disagreement, and why")
    P("")
    if details:
        lines.extend(details)
    else:
        P("None: both tools report exactly the expected findings.")
        P("")
    P("## What is left")
    P("")
    P(f"- The database builds ran {a.db_runs} time(s) here, the scans {a.runs}: a trivy-db build of this data "
      f"takes minutes of wall time on the shared machine. `DB_RUNS=3 bench/run_vuln_bench.sh` on a quiet "
      f"machine gives the best of three.")
    P("- kguard's build peaks higher on the tracker's folder form than on OSV zips "
      "(bench/results/vulndb.md: 102 MiB for 500,000 OSV records): the vuln-list-debian form must be "
      "held whole before any record is final (sid lines stand in for releases without their own line, "
      "DLA/DSA entries override the CVE list's, the newer of two fixes wins), as trivy-db does too.")
    P("- Grype is not compared (below).")
    P("")
    P("## Grype")
    P("")
    P(f"Grype ({a.grype}) matches against a database that only grype-db builds, and grype-db does not "
      f"install from the Go module proxy: `go install github.com/anchore/grype-db/cmd/grype-db@latest` "
      f"answered: {a.grype_db.strip()} — so Grype is not in the table (no database is made up for it).")
    P("")
    P("## Reproduce")
    P("")
    P("```")
    P("ninja -C build/release kguard vuln_match_bench")
    P("bench/run_vuln_bench.sh                     # RUNS=3 RECORDS=500000 by default")
    P("# by hand, on the cached dataset (~/.cache/kguard-bench/vulns/data):")
    P("kguard db build --db kg.db --debian-tracker data/vuln-list-debian --alpine-secdb data/secdb --osv data/ghsa")
    P("trivy-db build --cache-dir data --output-dir trivy/db --only-update alpine --only-update debian --only-update ghsa")
    P("kguard image --db kg.db --no-lint -o json docker-archive:large.tar")
    P("trivy image --input large.tar --cache-dir trivy --skip-db-update --skip-java-db-update --offline-scan \\")
    P("  --cache-backend memory --scanners vuln --skip-files '**/*.jar' --format json")
    P("```")
    P("")
    P("Trivy's flags: `--skip-files '**/*.jar'` because Trivy refuses to analyse a jar offline without its "
      "Java index database (`'--skip-java-db-update' cannot be specified on the first run`); the jars of "
      "these images are all installed by Debian packages, which Trivy's language analyzers skip anyway. "
      "`--cache-backend memory` so that every run reads the image (Trivy's file cache would skip the "
      "layers it has seen).")
    text = "\n".join(lines) + "\n"
    home = os.path.expanduser("~")
    with open(a.out, "w") as f:
        f.write(text.replace(home, "~") if home != "/" else text)  # results files are committed


if __name__ == "__main__":
    main()
