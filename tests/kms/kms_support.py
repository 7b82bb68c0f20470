"""What the KMS plugin tests (and the kmscheck e2e) share: a SoftHSM2 token of their own, `kguard kms`
init/serve/rotate around it, and the C++ KMS v2 client (tests/kms/kms_client.cpp) that talks to the
socket as kube-apiserver does.

    hsm = SoftHsmToken()                       # token "kms", PIN 1234, in a temp dir (SOFTHSM2_CONF)
    plugin = KmsPlugin(kguard, hsm.uri(), workdir, env=hsm.env())
    plugin.init(); plugin.start()              # socket: plugin.socket (unix:// + plugin.socket)
    client = KmsClient(kms_client_binary, plugin.socket)
    client.status() -> {"code": 0, "version": "v2", "healthz": "ok", "key_id": ...}
    plugin.rotate(); plugin.stop()
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SOFTHSM_MODULE = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so",
                                   "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so") if os.path.exists(p)), None)


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SoftHsmToken:
    """An empty SoftHSM2 token (the plugin generates its KEKs in it)."""
    PIN = "1234"

    def __init__(self, label="kms"):
        if not SOFTHSM_MODULE:
            raise RuntimeError("SoftHSM2 is not installed (Debian softhsm2; scripts/install-deps.sh)")
        self.dir = tempfile.mkdtemp(prefix="kguard-kms-hsm-")
        os.makedirs(f"{self.dir}/tokens")
        self.conf = f"{self.dir}/softhsm2.conf"
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {self.dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        self.label = label
        self.pin_file = f"{self.dir}/pin"
        with open(self.pin_file, "w") as f:
            f.write(self.PIN + "\n")
        os.chmod(self.pin_file, 0o600)
        sh("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "5678", "--pin", self.PIN,
           env=self.env())

    def uri(self, obj="kek", pin_source=True):
        u = f"pkcs11:token={self.label};object={obj}?module-path={SOFTHSM_MODULE}"
        return u + (f"&pin-source=file:{self.pin_file}" if pin_source else f"&pin-value={self.PIN}")

    def env(self, base=None):
        e = dict(base or os.environ)
        e["SOFTHSM2_CONF"] = self.conf
        return e

    def tool(self, *args):
        return sh("pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", self.label, "--login", "--pin", self.PIN,
                  *args, env=self.env()).stdout

    def list_secret_keys(self):
        return self.tool("--list-objects", "--type", "secrkey")

    def delete_key(self, label):
        self.tool("--delete-object", "--type", "secrkey", "--label", label)

    def stop(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class KmsPlugin:
    """`kguard kms` with one backend, state dir, audit log and socket under `work`."""

    def __init__(self, kguard, backend, work, env=None, passphrase_file=None):
        self.kguard, self.backend, self.work = kguard, backend, work
        self.env = env or dict(os.environ)
        self.state = f"{work}/state"
        self.audit = f"{work}/audit.jsonl"
        self.socket = f"{work}/kms.sock"
        self.log = f"{work}/serve.log"
        self.metrics_port = free_port()
        self.passphrase_file = passphrase_file
        self.proc = None

    def common(self):
        a = ["--backend", self.backend, "--state", self.state, "--audit-log", self.audit]
        return a + (["--passphrase-file", self.passphrase_file] if self.passphrase_file else [])

    def run(self, *args):
        p = subprocess.run([self.kguard, "kms", *args], capture_output=True, text=True, env=self.env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def init(self, *extra):
        rc, out, err = self.run("init", *self.common(), *extra)
        if rc != 0:
            raise RuntimeError(f"kguard kms init: {rc}: {err}")
        return out

    def rotate(self, *extra):
        rc, out, err = self.run("rotate", *self.common(), *extra)
        if rc != 0:
            raise RuntimeError(f"kguard kms rotate: {rc}: {err}")
        return out

    def status(self):
        rc, out, err = self.run("status", "--state", self.state, "-o", "json")
        if rc != 0:
            raise RuntimeError(f"kguard kms status: {rc}: {err}")
        return json.loads(out)

    def start(self, wait=True, *extra):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.kguard, "kms", "serve", "--socket", "unix://" + self.socket, *self.common(),
                                      "--metrics-listen", f"127.0.0.1:{self.metrics_port}", *extra],
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=self.env)
        if not wait:
            return
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kguard kms serve exited {self.proc.returncode}: {open(self.log).read()[-2000:]}")
            if os.path.exists(self.socket):
                return
            time.sleep(0.05)
        raise RuntimeError("kguard kms serve: no socket after 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        if getattr(self, "logf", None):
            self.logf.close()
        return rc


class KmsClient:
    def __init__(self, binary, sock):
        self.binary, self.sock = binary, sock

    def call(self, *args, stdin=None):
        p = subprocess.run([self.binary, self.sock, *args], capture_output=True, text=True, timeout=60, input=stdin)
        if p.returncode != 0:
            raise RuntimeError(f"kms_client {args[0]}: {p.returncode}: {p.stderr}")
        return json.loads(p.stdout)

    def status(self):
        return self.call("status")

    def encrypt(self, plaintext: bytes, uid="test-uid"):
        return self.call("encrypt", plaintext.hex(), uid)

    def decrypt(self, key_id, ciphertext_hex, annotations=None):
        ann = [f"{k}={v}" for k, v in (annotations or {}).items()]
        return self.call("decrypt", key_id, ciphertext_hex, *ann)

    def raw(self, method, body: bytes):
        return self.call("raw", method, "-", stdin=body.hex())
