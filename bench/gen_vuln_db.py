#!/usr/bin/env python3
"""Generates OSV dumps for the vulnerability database benchmark: one all.zip
per ecosystem, in OSV's real format (schema 1.6: id, aliases, summary,
details, severity vectors, affected[] with ECOSYSTEM/SEMVER ranges and
versions, references, database_specific), spread over Debian, Alpine, npm,
PyPI, Go and Maven as osv.dev's own dumps are (osv-vulnerabilities bucket:
ECOSYSTEM/all.zip). Deterministic (seeded), so every run times the same bytes.

Usage: gen_vuln_db.py OUT_DIR [--records N]   (default 500,000)
Then:  kguard db build --db DB --osv OUT_DIR/Debian/all.zip --osv OUT_DIR/npm/all.zip ...
"""
import argparse
import json
import os
import random
import zipfile

# Share of the records per ecosystem (roughly osv.dev's proportions among these six).
ECOSYSTEMS = [
    ("Debian", 0.30), ("Alpine", 0.10), ("npm", 0.20), ("PyPI", 0.15), ("Go", 0.10), ("Maven", 0.15),
]
WORDS = ("buffer overflow heap use after free out of bounds read write integer denial of service crafted "
         "request remote attacker authentication bypass injection path traversal memory leak null pointer "
         "dereference race condition signature verification certificate validation").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def semver(rng):
    return f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def record(rng, eco, i):
    cve = f"CVE-{rng.randint(2005, 2026)}-{rng.randint(1000, 99999)}"
    published = f"20{rng.randint(10, 26):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
    affected = []
    if eco == "Debian":
        rid = f"DEBIAN-{cve}-{i}"
        for rel in rng.sample(["11", "12", "13"], rng.randint(1, 2)):
            name = f"src-pkg-{rng.randint(0, 30000)}"
            fixed = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}-{rng.randint(1, 9)}+deb{rel}u{rng.randint(1, 5)}"
            affected.append({"package": {"ecosystem": f"Debian:{rel}", "name": name, "purl": f"pkg:deb/debian/{name}?arch=source"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                             "ecosystem_specific": {"urgency": rng.choice(["low", "medium", "high", "not yet assigned"])}})
    elif eco == "Alpine":
        rid = f"ALPINE-{cve}-{i}"
        rel = rng.choice(["v3.17", "v3.18", "v3.19", "v3.20", "v3.21"])
        name = f"aport-{rng.randint(0, 8000)}"
        affected.append({"package": {"ecosystem": f"Alpine:{rel}", "name": name, "purl": f"pkg:apk/alpine/{name}"},
                         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": f"{semver(rng)}-r{rng.randint(0, 9)}"}]}]})
    else:
        prefix = {"npm": "GHSA", "PyPI": "PYSEC", "Go": "GO", "Maven": "GHSA"}[eco]
        rid = f"{prefix}-{i:07d}-{rng.randint(1000, 9999)}"
        if eco == "npm":
            name = f"npm-pkg-{rng.randint(0, 40000)}"
        elif eco == "PyPI":
            name = f"Py_Pkg.{rng.randint(0, 30000)}"
        elif eco == "Go":
            name = f"github.com/org{rng.randint(0, 3000)}/mod{rng.randint(0, 10)}"
        else:
            name = f"org.example{rng.randint(0, 2000)}:artifact-{rng.randint(0, 10)}"
        intro = semver(rng)
        fixed = semver(rng)
        ev = [{"introduced": "0"}, {"fixed": fixed}] if rng.random() < 0.6 else [{"introduced": intro}, {"last_affected": fixed}]
        a = {"package": {"ecosystem": eco, "name": name},
             "ranges": [{"type": "SEMVER" if eco in ("npm", "Go") else "ECOSYSTEM", "events": ev}],
             "database_specific": {"source": "https://example.invalid/advisory"}}
        if rng.random() < 0.3:
            a["versions"] = [semver(rng) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.2:
            a["ranges"].append({"type": "GIT", "repo": f"https://github.com/org/{rng.randint(0, 999)}",
                                "events": [{"introduced": "0"}, {"fixed": "%040x" % rng.getrandbits(160)}]})
        affected.append(a)
    rec = {"schema_version": "1.6.0", "id": rid, "modified": published, "published": published,
           "aliases": [cve], "summary": words(rng, 8), "details": words(rng, 60), "affected": affected,
           "references": [{"type": "ADVISORY", "url": f"https://example.invalid/{rid}"},
                          {"type": "WEB", "url": f"https://example.invalid/{cve}"}]}
    if eco not in ("Debian", "Alpine"):
        rec["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
        rec["database_specific"] = {"severity": rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"])}
    return rid, rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=500_000)
    args = ap.parse_args()
    rng = random.Random(15)
    total = 0
    for eco, share in ECOSYSTEMS:
        n = int(args.records * share)
        d = os.path.join(args.out, eco)
        os.makedirs(d, exist_ok=True)
        with zipfile.ZipFile(os.path.join(d, "all.zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for i in range(n):
                rid, rec = record(rng, eco, total + i)
                z.writestr(rid + ".json", json.dumps(rec, indent=2))
        total += n
        print(f"{eco}: {n} records -> {d}/all.zip")
    print(f"total: {total} records")


if __name__ == "__main__":
    main()
