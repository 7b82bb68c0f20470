#!/usr/bin/env python3
"""One vulnerability dataset that kguard and Trivy both read, for bench/run_vuln_bench.sh.

Records name the real packages of the benchmark images (read from `kguard image -o json`
inventories), with a known answer for each (vulnerable or not, and why), plus a long tail of
other package names up to the requested total. Deterministic (seeded).

Layout under OUT (the directory trivy-db's --cache-dir takes; kguard reads the same files):
  vuln-list-debian/tracker/   distributions.json, CVE/<id>.json: the Debian security tracker's
                              list parsed per entry (aquasecurity/vuln-list-debian), read by
                              trivy-db's debian source and kguard's --debian-tracker
  ghsa/advisories/github-reviewed/<yyyy>/<mm>/<GHSA-id>/<GHSA-id>.json: GitHub advisories in
                              OSV form (github/advisory-database, vuln-list-ghsa), read by
                              trivy-db's ghsa source and kguard's --osv
  secdb/v3.X/main.json        Alpine secdb JSON (secdb.alpinelinux.org), read by kguard's
                              --alpine-secdb
  vuln-list/alpine/3.X/main/<aport>.json: the same secdb split one file per aport, as
                              aquasecurity/vuln-list stores it and trivy-db's alpine source
                              reads it (trivy-db does not read secdb's packages[] file, kguard
                              does not read the split: the records are the same ones)
  cocoapods-specs/Specs/      empty: trivy-db's ghsa source walks it (Swift → CocoaPods names)
  truth.json                  every record naming an image's package, with the expected answer
  counts.json                 records per feed

A record is one (advisory id, package, release) triple: a tracker line for one release, one
secfixes id of one aport in one branch, one affected[] entry of an advisory.

Usage: gen_vuln_bench_data.py OUT --image NAME=INVENTORY.json [...] [--records N]
"""
import argparse
import json
import os
import random
import re
import subprocess

GHSA_CHARS = "23456789cfghjmpqrvwx"
WORDS = ("buffer overflow heap use after free out of bounds read write integer denial of service crafted "
         "request remote attacker authentication bypass injection path traversal memory leak null pointer "
         "dereference race condition signature verification certificate validation").split()
ALPINE_BRANCHES = ["3.10", "3.11", "3.12", "3.14", "3.16", "3.18", "3.19", "3.20"]
DEBIAN_DISTS = {"stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "sid": ""}


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


class Ids:
    """Unique CVE and GHSA ids (a record's id never repeats across feeds)."""

    def __init__(self, rng):
        self.rng = rng
        self.seen = set()
        self.n = 0

    def cve(self):
        self.n += 1
        return f"CVE-{2005 + self.n % 21}-{100000 + self.n}"

    def ghsa(self):
        while True:
            g = "GHSA-" + "-".join("".join(self.rng.choice(GHSA_CHARS) for _ in range(4)) for _ in range(3))
            if g not in self.seen:
                self.seen.add(g)
                return g


# ---- versions: one above, one below the installed one, in each ecosystem's order ----

def dpkg_above(v):
    return v + "+kg1"          # '+' sorts after the end of a string in dpkg


def dpkg_below(v):
    return v + "~kg1"          # '~' sorts before the end


def apk_split(v):
    m = re.match(r"^(.*)-r(\d+)$", v)
    return (m.group(1), int(m.group(2))) if m else (v, 0)


def apk_above(v):
    base, r = apk_split(v)
    return f"{base}-r{r + 1}"


def apk_below(v):
    base, r = apk_split(v)
    if r > 0:
        return f"{base}-r{r - 1}"
    return "0.0.1-r0"


def release_above(v):
    """1.16.0 → 1.16.1, v1.6.0 → 1.6.1, 2022.9.24 → 2022.9.25, 1.5+deb12u1 → 1.6 (the release part)."""
    m = re.match(r"^v?(\d+(?:\.\d+)*)", v)
    if not m:
        return None
    parts = m.group(1).split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


def osv_version(eco, v):
    return v[1:] if eco == "Go" and v.startswith("v") else v


# ---- writers ----

def debian_cve(cve, desc, lines):
    """A vuln-list-debian CVE entry: lines are (release or "", package, kind, version, severity)."""
    anns = []
    for rel, pkg, kind, ver, sev in lines:
        a = {"Original": "", "Line": 0, "Type": "package", "Package": pkg, "Kind": kind}
        if rel:
            a["Release"] = rel
        if ver:
            a["Version"] = ver
        if sev:
            a["Severity"] = sev
        if rel:
            a["Original"] = f"[{rel}] - {pkg} {ver or '<' + kind + '>'}"
        else:
            a["Original"] = f"- {pkg} {ver or '<' + kind + '>'}"
        anns.append(a)
    return {"Header": {"Original": f"{cve} ({desc})", "Line": 0, "ID": cve, "Description": f"({desc})"},
            "Annotations": anns}


class Writer:
    def __init__(self, out, rng):
        self.out = out
        self.rng = rng
        self.counts = {"debian": 0, "alpine": 0, "ghsa": 0}
        self.alpine = {}   # (branch, aport) → {fixed version: [ids]}
        self.truth = []
        for sub in ("CVE", "DLA", "DSA"):  # trivy-db walks all three (no advisories of ours: empty)
            os.makedirs(os.path.join(out, "vuln-list-debian", "tracker", sub), exist_ok=True)
        os.makedirs(os.path.join(out, "cocoapods-specs", "Specs"), exist_ok=True)
        with open(os.path.join(out, "vuln-list-debian", "tracker", "distributions.json"), "w") as f:
            json.dump({c: {"major-version": v, "support": "security" if v else "none", "contact": ""}
                       for c, v in DEBIAN_DISTS.items()}, f, indent=2)

    def debian(self, cve, lines, desc=None):
        path = os.path.join(self.out, "vuln-list-debian", "tracker", "CVE", cve + ".json")
        with open(path, "w") as f:
            json.dump(debian_cve(cve, desc or words(self.rng, 10), lines), f, indent=2)
        self.counts["debian"] += sum(1 for l in lines if l[0])   # release lines (sid is derived)

    def alpine_fix(self, branch, aport, fixed, ident):
        self.alpine.setdefault((branch, aport), {}).setdefault(fixed, []).append(ident)
        self.counts["alpine"] += 1

    def ghsa(self, gid, cve, eco, name, ranges, versions=None, severity="HIGH", published="2024-05-01T00:00:00Z"):
        year, month = published[:4], published[5:7]
        d = os.path.join(self.out, "ghsa", "advisories", "github-reviewed", year, month, gid)
        os.makedirs(d, exist_ok=True)
        aff = {"package": {"ecosystem": eco, "name": name}, "ranges": ranges}
        if versions:
            aff["versions"] = versions
        doc = {"schema_version": "1.4.0", "id": gid, "modified": published, "published": published,
               "aliases": [cve], "summary": words(self.rng, 8), "details": words(self.rng, 40),
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
               "affected": [aff],
               "references": [{"type": "ADVISORY", "url": f"https://github.com/advisories/{gid}"}],
               "database_specific": {"cwe_ids": ["CWE-20"], "severity": severity, "github_reviewed": True,
                                     "github_reviewed_at": published, "nvd_published_at": None}}
        with open(os.path.join(d, gid + ".json"), "w") as f:
            json.dump(doc, f, indent=2)
        self.counts["ghsa"] += 1

    def finish_alpine(self):
        by_branch = {}
        for (branch, aport), fixes in sorted(self.alpine.items()):
            by_branch.setdefault(branch, []).append((aport, fixes))
        for branch, pkgs in by_branch.items():
            d = os.path.join(self.out, "secdb", "v" + branch)
            os.makedirs(d, exist_ok=True)
            common = {"apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
                      "archs": ["x86_64", "aarch64"], "urlprefix": "https://dl-cdn.alpinelinux.org/alpine",
                      "reponame": "main", "distroversion": "v" + branch}
            with open(os.path.join(d, "main.json"), "w") as f:
                json.dump({**common, "packages": [{"pkg": {"name": a, "secfixes": fx}} for a, fx in pkgs]}, f)
            split = os.path.join(self.out, "vuln-list", "alpine", branch, "main")
            os.makedirs(split, exist_ok=True)
            for a, fx in pkgs:
                with open(os.path.join(split, a + ".json"), "w") as f:
                    json.dump({"name": a, "secfixes": fx, **common}, f, indent=2)


def expect(w, image, ptype, pkg, version, ident, aliases, vulnerable, why, fixed=""):
    w.truth.append({"image": image, "type": ptype, "package": pkg, "version": version, "id": ident,
                    "aliases": aliases, "vulnerable": vulnerable, "why": why, "fixed": fixed})


def real_records(w, ids, images):
    """Records for every package of the images, five or four cases each with a known answer."""
    rng = w.rng
    kinds_unfixed = ["unfixed", "no-dsa", "ignored", "postponed"]
    sev = ["low", "medium", "high", "unimportant"]
    # Debian: per source package (what the tracker names), the binaries that come from it.
    sources = {}
    alp = {}
    lang = {}
    for image, inv in images:
        osid = inv["os"]["id"]
        for p in inv["packages"]:
            if p["type"] == "deb" and osid == "debian":
                src = p.get("sourceName") or p["name"]
                sver = p.get("sourceVersion") or p["version"]
                sources.setdefault(src, []).append((image, p["name"], p["version"], sver))
            elif p["type"] == "apk":
                origin = p.get("sourceName") or p["name"]
                alp.setdefault(origin, []).append((image, p["name"], p["version"]))
            elif p["type"] in ("npm", "pypi", "golang", "maven"):
                if p["type"] == "golang" and (p["name"] == "stdlib" or p["version"] in ("", "(devel)")):
                    continue  # the toolchain is the Go vulnerability database's, not GHSA's
                lang.setdefault((p["type"], p["name"], p["version"]), []).append(image)
    for src, bins in sorted(sources.items()):
        # The source version the tracker compares: the highest among the binaries (binNMUs share it).
        versions = sorted({sv for _, _, _, sv in bins})
        base = versions[-1]
        k = rng.randrange(4)
        cases = [("fixed", dpkg_above(base), "fixed above the installed source version"),
                 ("fixed", base, "fixed in exactly the installed source version"),
                 ("fixed", dpkg_below(base), "fixed below the installed source version"),
                 (kinds_unfixed[k], "", f"no fix in bookworm (<{kinds_unfixed[k]}>)"),
                 ("not-affected", "", "bookworm not affected")]
        for kind, ver, why in cases:
            cve = ids.cve()
            s = sev[rng.randrange(4)]
            lines = [("", src, "fixed", dpkg_above(base) + "+sid", s), ("bookworm", src, kind, ver, ""),
                     ("bullseye", src, "fixed", dpkg_above(base) + "+old", "")]
            w.debian(cve, lines)
            for image, binary, bver, sver in bins:
                # The tracker's versions are source versions: a binary is judged by its source's.
                if kind == "fixed":
                    vuln = dpkg_lt(sver, ver)
                else:
                    vuln = kind != "not-affected"
                expect(w, image, "deb", binary, bver, cve, [], vuln,
                       why if bver == sver else f"{why}; source version {sver}", ver)
    for origin, bins in sorted(alp.items()):
        base = sorted({v for _, _, v in bins})[-1]
        cases = [(apk_above(base), True, "fixed above the installed version"),
                 (base, False, "fixed in exactly the installed version"),
                 (apk_below(base), False, "fixed below the installed version"),
                 ("0", False, "secdb's 0: the branch's package was never affected")]
        for fixed, vuln, why in cases:
            cve = ids.cve()
            w.alpine_fix("3.10", origin, fixed, cve)
            # The same id fixed later in another branch: not this image's stream.
            w.alpine_fix("3.12", origin, apk_above(apk_above(base)), cve)
            for image, binary, ver in bins:
                expect(w, image, "apk", binary, ver, cve, [], vuln and ver == base, why, fixed)
    eco_of = {"npm": "npm", "pypi": "PyPI", "golang": "Go", "maven": "Maven"}
    by_name = {}
    for (ptype, name, ver), imgs in lang.items():
        by_name.setdefault((ptype, name), []).append((ver, imgs))
    for (ptype, name), installed in sorted(by_name.items()):
        # Records are written against the highest installed version; every installed version
        # (is-number 6.0.0 and 7.0.0 in one image) is judged against each of them.
        installed.sort(key=lambda vi: rel_tuple(vi[0]))
        ver = installed[-1][0]
        eco = eco_of[ptype]
        v = osv_version(eco, ver)
        up = release_above(ver)
        if up is None:
            continue
        up2 = release_above(up)
        rtype = "SEMVER" if eco in ("npm", "Go") else "ECOSYSTEM"
        cases = [([{"introduced": "0"}, {"fixed": up}], "introduced 0, fixed above the installed version"),
                 ([{"introduced": "0"}, {"fixed": v}], "fixed in exactly the installed version"),
                 ([{"introduced": "0"}, {"last_affected": v}], "last_affected is the installed version"),
                 ([{"introduced": up}, {"fixed": up2}], "introduced above the installed version")]
        for events, why in cases:
            gid, cve = ids.ghsa(), ids.cve()
            w.ghsa(gid, cve, eco, name, [{"type": rtype, "events": events}])
            for iv, imgs in installed:
                vuln = osv_affected(osv_version(eco, iv), events)
                for image in sorted(set(imgs)):
                    expect(w, image, ptype, name, iv, gid, [cve], vuln,
                           why if iv == ver else f"{why} ({ver}; this one is {iv})")


def rel_tuple(v):
    """Release numbers of a version (1.16.0, v1.6.0, 1.5+deb12u1 → (1, 5)) and the whole string."""
    m = re.match(r"^v?(\d+(?:\.\d+)*)", v)
    nums = tuple(int(x) for x in m.group(1).split(".")) if m else ()
    return nums + (0,) * (4 - len(nums)), v


def osv_affected(v, events):
    """OSV's evaluation for one introduced/fixed|last_affected pair on the versions we write."""
    def lt(a, b):
        return a != b and rel_tuple(a) < rel_tuple(b)
    intro = events[0]["introduced"]
    if intro != "0" and lt(v, intro):
        return False
    if "fixed" in events[1]:
        return lt(v, events[1]["fixed"])
    return v == events[1]["last_affected"] or lt(v, events[1]["last_affected"])


def dpkg_lt(a, b):
    """dpkg's own order (dpkg --compare-versions), so the expected answers are not ours."""
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


def tail(w, ids, total):
    """Other packages up to `total` records: Debian 50%, GHSA 30%, Alpine 20%."""
    rng = w.rng
    kinds = ["fixed"] * 8 + ["no-dsa", "not-affected"]
    sev = ["low", "medium", "high", "unimportant", "not yet assigned"]
    remaining = total - sum(w.counts.values())
    deb_target = w.counts["debian"] + remaining * 50 // 100
    ghsa_target = w.counts["ghsa"] + remaining * 30 // 100
    while w.counts["debian"] < deb_target:
        cve = ids.cve()
        pkg = f"src-pkg-{rng.randint(0, 30000)}"
        fix = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}-{rng.randint(1, 9)}"
        lines = [("", pkg, "fixed", fix, rng.choice(sev))]
        for rel, suffix in (("bookworm", "+deb12u"), ("bullseye", "+deb11u")):
            kind = rng.choice(kinds)
            lines.append((rel, pkg, kind, f"{fix}{suffix}{rng.randint(1, 5)}" if kind == "fixed" else "", ""))
        w.debian(cve, lines)
    ecos = [("npm", 0.4), ("PyPI", 0.25), ("Go", 0.15), ("Maven", 0.2)]
    while w.counts["ghsa"] < ghsa_target:
        r = rng.random()
        acc = 0
        for eco, share in ecos:
            acc += share
            if r < acc:
                break
        if eco == "npm":
            name = f"npm-pkg-{rng.randint(0, 40000)}"
        elif eco == "PyPI":
            name = f"py-pkg-{rng.randint(0, 30000)}"
        elif eco == "Go":
            name = f"github.com/org{rng.randint(0, 3000)}/mod{rng.randint(0, 10)}"
        else:
            name = f"org.example{rng.randint(0, 2000)}:artifact-{rng.randint(0, 10)}"
        fixed = f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"
        events = [{"introduced": "0"}, {"fixed": fixed}] if rng.random() < 0.7 else \
            [{"introduced": f"0.{rng.randint(0, 9)}.0"}, {"last_affected": fixed}]
        pub = f"20{rng.randint(17, 26):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
        w.ghsa(ids.ghsa(), ids.cve(), eco, name,
               [{"type": "SEMVER" if eco in ("npm", "Go") else "ECOSYSTEM", "events": events}],
               severity=rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"]), published=pub)
    while sum(w.counts.values()) < total:
        branch = rng.choice(ALPINE_BRANCHES)
        aport = f"aport-{rng.randint(0, 8000)}"
        w.alpine_fix(branch, aport, f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}-r{rng.randint(0, 9)}",
                     ids.cve())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--image", action="append", default=[], help="NAME=kguard image -o json inventory")
    ap.add_argument("--records", type=int, default=500_000)
    args = ap.parse_args()
    rng = random.Random(15)
    images = []
    for spec in args.image:
        name, path = spec.split("=", 1)
        with open(path) as f:
            images.append((name, json.load(f)))
    w = Writer(args.out, rng)
    ids = Ids(rng)
    real_records(w, ids, images)
    real = dict(w.counts)
    tail(w, ids, args.records)
    w.finish_alpine()
    with open(os.path.join(args.out, "truth.json"), "w") as f:
        json.dump(w.truth, f, indent=1)
    with open(os.path.join(args.out, "counts.json"), "w") as f:
        json.dump({"records": w.counts, "total": sum(w.counts.values()), "naming_image_packages": real,
                   "expected_vulnerable": sum(1 for t in w.truth if t["vulnerable"])}, f, indent=1)
    print(json.dumps({"records": w.counts, "total": sum(w.counts.values()), "real": real}))


if __name__ == "__main__":
    main()
