#!/usr/bin/env python3
"""Image peers (Syft, Trivy, Grype, Dockle, trivy-db) for the image benchmarks: installed once from the Go module
proxy into PEERS_DIR as bench/run_peer_bench.sh does (PEERS_DIR/<name>-<version>/<binary>; a failed
install is remembered in PEERS_DIR/<name>.unavailable for a week, RETRY_PEERS=1 asks again), and
run offline.

Usage:
  image_peers.py path NAME      print the peer's binary path (installing it when missing), or
                                exit 3 with the reason on stderr when it is unavailable
  image_peers.py status NAME    one line: "ok <path> <version>" or "unavailable: <reason>"
"""
import os
import re
import subprocess
import sys
import time

CACHE = os.environ.get("KGUARD_BENCH_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kguard-bench")
PEERS_DIR = os.environ.get("PEERS_DIR") or os.path.join(CACHE, "peers")

# name: (Go package, version, binary, extra environment for `go install`)
PEERS = {
    "syft": ("github.com/anchore/syft/cmd/syft", os.environ.get("SYFT_VERSION", "v1.57.2"), "syft", {}),
    # Trivy's module needs encoding/json/v2 (Go 1.25's experiment) to build.
    "trivy": ("github.com/aquasecurity/trivy/cmd/trivy", os.environ.get("TRIVY_VERSION", "v0.74.0"),
              "trivy", {"GOEXPERIMENT": "jsonv2"}),
    # Grype matches an SBOM or image against its own SQLite database (built offline by grype-db).
    "grype": ("github.com/anchore/grype/cmd/grype", os.environ.get("GRYPE_VERSION", "v0.121.3"), "grype", {}),
    "dockle": ("github.com/goodwithtech/dockle/cmd/dockle", os.environ.get("DOCKLE_VERSION", "latest"),
               "dockle", {}),
    # Trivy's database builder (bench/run_vuln_bench.sh): the module is not tagged, so @latest is
    # its newest pseudo-version; it walks a vuln-list folder into trivy.db (BoltDB).
    "trivy-db": ("github.com/aquasecurity/trivy-db/cmd/trivy-db", os.environ.get("TRIVY_DB_VERSION", "latest"),
                 "trivy-db", {}),
}
# Peers installed into PEERS_DIR/<dir> rather than <name>-<version> (an untagged module's @latest).
PEER_DIRS = {"trivy-db": "trivy-db"}

# Peers run offline: no update checks, no telemetry, no database downloads.
SYFT_ENV = {"SYFT_CHECK_FOR_APP_UPDATE": "false"}
TRIVY_FLAGS = ["--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-check-update",
               "--disable-telemetry"]


def redact(text):
    """Registry addresses stay out of what is written (results files are committed)."""
    return re.sub(r"https?://\S*", "(proxy URL)", text)


def ensure(name):
    """(path, version) of the peer, or (None, reason)."""
    pkg, version, binary, env = PEERS[name]
    d = os.path.join(PEERS_DIR, PEER_DIRS.get(name, f"{name}-{version}"))
    path = os.path.join(d, binary)
    if os.access(path, os.X_OK):
        return path, version
    marker = os.path.join(PEERS_DIR, f"{name}.unavailable")
    if os.path.exists(marker) and os.environ.get("RETRY_PEERS") != "1" \
            and time.time() - os.path.getmtime(marker) < 7 * 86400:
        with open(marker) as f:
            return None, redact(f.readline().strip()) + " (remembered; RETRY_PEERS=1 asks again)"
    os.makedirs(d, exist_ok=True)
    print(f"== installing {name}: go install {pkg}@{version}", file=sys.stderr)
    try:
        p = subprocess.run(["go", "install", f"{pkg}@{version}"], capture_output=True, text=True,
                           timeout=1200, env={**os.environ, "GOBIN": d, "GOFLAGS": "-mod=mod", **env})
        ok, log = p.returncode == 0, p.stdout + p.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        ok, log = False, str(e)
    if not ok:
        lines = [l for l in log.splitlines() if l.strip() and not l.startswith("go: downloading")]
        last = redact(" ".join(lines[-2:]) if lines else "no output")
        with open(marker, "w") as f:
            f.write(f"`go install {pkg}@{version}` failed on {time.strftime('%Y-%m-%d')}: {last[:300]}\n{redact(log)}")
        try:
            os.rmdir(d)
        except OSError:
            pass
        return None, f"`go install {pkg}@{version}` failed: {last[:300]}"
    if os.path.exists(marker):
        os.remove(marker)
    return path, version


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("path", "status") or sys.argv[2] not in PEERS:
        print(__doc__, file=sys.stderr)
        return 2
    path, info = ensure(sys.argv[2])
    if sys.argv[1] == "path":
        if not path:
            print(f"{sys.argv[2]} unavailable: {info}", file=sys.stderr)
            return 3
        print(path)
    else:
        print(f"ok {path} {info}" if path else f"unavailable: {info}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
