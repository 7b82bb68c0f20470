#!/usr/bin/env python3
"""The loopback registries the real-image tests share (a ctest fixture): Debian's docker-registry
with TLS (a CA and server certificate made here with openssl) and htpasswd basic auth, holding
the images tests/images/build_images.sh built, pushed with skopeo; over the same storage, a second
one with token auth (tests/images/token_server.py: the Bearer challenge flow, anonymous pull
allowed) and a third on plain HTTP without auth (--allow-insecure-registry).

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
    pid_file = os.path.join(state_dir, "pids")
    if not os.path.exists(pid_file):
        return
    with open(pid_file) as f:
        pids = [int(x) for x in f.read().split()]
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.remove(pid_file)


def spawn(state_dir, name, cmd):
    log = open(os.path.join(state_dir, name + ".log"), "w")
    p = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(state_dir, "pids"), "a") as f:
        f.write(f"{p.pid}\n")
    return p


def wait_up(url, ctx, state_dir, name):
    for _ in range(100):
        try:
            urllib.request.urlopen(url, context=ctx, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    stop(state_dir)
    sys.exit(f"{name} did not start: " + open(os.path.join(state_dir, name + ".log")).read())


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
    port, token_port, bearer_port, plain_port = free_port(), free_port(), free_port(), free_port()
    storage = f"storage: {{filesystem: {{rootdirectory: {d}/data}}}}"
    tls = f"tls: {{certificate: {d}/server.crt, key: {d}/server.key}}"
    with open(f"{d}/config.yml", "w") as f:
        f.write(f"""version: 0.1
log: {{level: warn}}
{storage}
http: {{addr: "127.0.0.1:{port}", {tls}}}
auth: {{htpasswd: {{realm: kguard-test, path: {d}/htpasswd}}}}
""")
    # The token signer: a self-signed certificate the bearer registry trusts.
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kguard token signer",
        "-keyout", f"{d}/token.key", "-out", f"{d}/token.crt", capture_output=True)
    with open(f"{d}/bearer.yml", "w") as f:
        f.write(f"""version: 0.1
log: {{level: warn}}
{storage}
http: {{addr: "127.0.0.1:{bearer_port}", {tls}}}
auth:
  token: {{realm: "https://127.0.0.1:{token_port}/token", service: kguard-test-registry,
          issuer: kguard-test-issuer, rootcertbundle: {d}/token.crt}}
""")
    with open(f"{d}/plain.yml", "w") as f:
        f.write(f"""version: 0.1
log: {{level: warn}}
{storage}
http: {{addr: "127.0.0.1:{plain_port}"}}
""")
    ctx = ssl.create_default_context(cafile=f"{d}/ca.crt")
    spawn(d, "registry", ["docker-registry", "serve", f"{d}/config.yml"])
    spawn(d, "token", [sys.executable, os.path.join(HERE, "token_server.py"), str(token_port), f"{d}/server.crt",
                       f"{d}/server.key", f"{d}/token.crt", f"{d}/token.key", "kguard-test-issuer", USER, PASSWORD])
    spawn(d, "bearer", ["docker-registry", "serve", f"{d}/bearer.yml"])
    spawn(d, "plain", ["docker-registry", "serve", f"{d}/plain.yml"])
    wait_up(f"https://127.0.0.1:{port}/v2/", ctx, d, "registry")
    wait_up(f"https://127.0.0.1:{token_port}/token", ctx, d, "token")
    wait_up(f"https://127.0.0.1:{bearer_port}/v2/", ctx, d, "bearer")
    wait_up(f"http://127.0.0.1:{plain_port}/v2/", None, d, "plain")
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
        json.dump({"host": host, "bearer_host": f"127.0.0.1:{bearer_port}", "plain_host": f"127.0.0.1:{plain_port}",
                   "ca": f"{d}/ca.crt", "user": USER, "password": PASSWORD, "cache": cache,
                   "data": f"{d}/data", "skopeo_digest": digest}, f)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    (start if sys.argv[1] == "start" else stop)(os.path.abspath(sys.argv[2]))
