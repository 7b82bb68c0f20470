#!/usr/bin/env python3
"""The loopback registry the real-image tests share (a ctest fixture): Debian's docker-registry
with TLS (a CA and server certificate made here with openssl) and htpasswd basic auth, holding
the images tests/images/build_images.sh built, pushed with skopeo.

  registry_fixture.py start STATE_DIR   writes STATE_DIR/state.json (port, ca, user, password, cache)
  registry_fixture.py stop STATE_DIR    stops the registry started there
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
USER, PASSWORD = "kguard", "s3cret-pass"


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(state_dir):
    pid_file = os.path.join(state_dir, "registry.pid")
    if not os.path.exists(pid_file):
        return
    with open(pid_file) as f:
        pid = int(f.read())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.remove(pid_file)


def start(state_dir):
    stop(state_dir)
    shutil.rmtree(state_dir, ignore_errors=True)
    os.makedirs(state_dir)
    cache = subprocess.run([os.path.join(HERE, "build_images.sh")], check=True, capture_output=True,
                           text=True).stdout.strip()
    d = state_dir
    # A CA and a server certificate for 127.0.0.1.
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kguard test CA",
        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt", capture_output=True)
    with open(f"{d}/san.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", f"{d}/server.key", "-out", f"{d}/server.csr", capture_output=True)
    run("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", f"{d}/san.ext", "-out", f"{d}/server.crt", capture_output=True)
    with open(f"{d}/htpasswd", "w") as f:
        f.write(subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True,
                               text=True).stdout)
    port = free_port()
    with open(f"{d}/config.yml", "w") as f:
        f.write(f"""version: 0.1
log: {{level: warn}}
storage: {{filesystem: {{rootdirectory: {d}/data}}}}
http: {{addr: "127.0.0.1:{port}", tls: {{certificate: {d}/server.crt, key: {d}/server.key}}}}
auth: {{htpasswd: {{realm: kguard-test, path: {d}/htpasswd}}}}
""")
    log = open(f"{d}/registry.log", "w")
    p = subprocess.Popen(["docker-registry", "serve", f"{d}/config.yml"], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    with open(f"{d}/registry.pid", "w") as f:
        f.write(str(p.pid))
    ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
    for _ in range(100):
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{port}/v2/", context=ctx, timeout=2)
            break
        except urllib.error.HTTPError as e:
            if e.code == 401:
                break
        except OSError:
            time.sleep(0.1)
    else:
        stop(d)
        sys.exit("registry did not start: " + open(f"{d}/registry.log").read())
    host = f"127.0.0.1:{port}"
    creds = f"{USER}:{PASSWORD}"
    for src, dest in ((f"oci:{cache}/oci:test", "example/test:1.0"),
                      (f"oci:{cache}/oci-zstd:test", "example/test:zstd")):
        run("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", creds, src,
            f"docker://{host}/{dest}")
    digest = {}
    for tag in ("1.0", "zstd"):
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds,
                              f"docker://{host}/example/test:{tag}"], check=True, capture_output=True).stdout
        import hashlib
        digest[tag] = "sha256:" + hashlib.sha256(raw).hexdigest()
    with open(f"{d}/state.json", "w") as f:
        json.dump({"host": host, "ca": f"{d}/ca.crt", "user": USER, "password": PASSWORD, "cache": cache,
                   "data": f"{d}/data", "skopeo_digest": digest}, f)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    (start if sys.argv[1] == "start" else stop)(os.path.abspath(sys.argv[2]))
