"""What the vulnerability gate's tests share (tests/integration/admit_vulns_test.py,
tests/e2e/admit_e2e.py, bench/run_admit_vulns_bench.py): a database built with
`kguard db build` from OSV JSON records in the real schema, written here, naming
source packages and versions the real Debian 12 test image
(tests/images/build_images.sh) contains — openssl 3.0.22-1~deb12u2 (affected,
critical), gzip 1.12-1 (affected, high), grep 3.8-5 (its record is fixed at 3.8-1:
not affected) — and the clean image: the Alpine image of
tests/images/build_app_images.sh, whose packages no record names, pushed to the
loopback registry with skopeo."""
import base64
import json
import os
import subprocess

OPENSSL = "CVE-2026-40001"
GZIP = "CVE-2026-40002"
GREP = "CVE-2026-40003"
OPENSSL_FIXED = "3.0.23-1~deb12u1"
GZIP_FIXED = "1.12-1+deb12u1"


def osv(vid, package, fixed, severity, summary):
    """One OSV record as osv.dev serves Debian's: source package, ECOSYSTEM range."""
    vector = ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" if severity == "CRITICAL"
              else "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2026-11-20T00:00:00Z",
        "published": "2026-11-18T00:00:00Z",
        "summary": summary,
        "details": summary + ".",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": package, "purl": f"pkg:deb/debian/{package}?arch=source"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            "database_specific": {"severity": severity},
        }],
        "database_specific": {"severity": severity},
        "references": [{"type": "ADVISORY", "url": f"https://security-tracker.debian.org/tracker/{vid}"}],
    }


def records():
    return [osv(OPENSSL, "openssl", OPENSSL_FIXED, "CRITICAL", "openssl: buffer overread in X.509 name checks"),
            osv(GZIP, "gzip", GZIP_FIXED, "HIGH", "gzip: crash on a crafted archive"),
            osv(GREP, "grep", "3.8-1", "HIGH", "grep: fixed long before the installed 3.8-5")]


def build_db(kguard, directory, extra=()):
    """Writes the feed under DIRECTORY/osv and builds DIRECTORY/vuln.db with kguard db build."""
    feed = os.path.join(directory, "osv")
    os.makedirs(feed, exist_ok=True)
    for r in list(records()) + list(extra):
        with open(os.path.join(feed, r["id"] + ".json"), "w") as f:
            json.dump(r, f, indent=1)
    db = os.path.join(directory, "vuln.db")
    p = subprocess.run([kguard, "db", "build", "--db", db, "--osv", feed], capture_output=True, text=True)
    assert p.returncode == 0, f"kguard db build failed ({p.returncode}): {p.stderr}"
    return db


def push_clean(state, app_images_script, corpora, ref):
    """Pushes the Alpine image (build_app_images.sh, cached) to the registry as REF."""
    apps = subprocess.run([app_images_script, corpora], check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds",
                    f"{state['user']}:{state['password']}", f"oci:{apps}/oci:alpine", f"docker://{ref}"], check=True)


def docker_config(state, directory):
    """A docker config.json with the registry's credentials; returns its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "config.json")
    auth = base64.b64encode(f"{state['user']}:{state['password']}".encode()).decode()
    with open(path, "w") as f:
        json.dump({"auths": {state["host"]: {"auth": auth}}}, f)
    return path
