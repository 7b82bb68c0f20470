"""A real single-node control plane for end-to-end tests: etcd and
kube-apiserver (built from the Go module proxy by build_cluster_binaries.sh and
cached) on loopback with random free ports, certificates made with the openssl
CLI, RBAC authorization and an audit log. Used by cluster_e2e.py and by
bench/cluster_scale.py.

    with Cluster(work_dir) as c:
        c.kubectl("apply", "-f", "examples/")
        c.write_kubeconfig("admin.kubeconfig", user={...})

Controllers of kube-controller-manager run on demand: Cluster(work,
controllers=["clusterrole-aggregation"]) builds it once (cached beside the
others), starts it as system:kube-controller-manager with its own client
certificate and service-account credentials per controller (as kubeadm does),
and waits until the aggregated bootstrap ClusterRole `admin` has its rules.

Suites that configure the API server itself (an audit webhook, an encryption
provider) pass `audit_policy` (the Policy's YAML text), `apiserver_args` (extra
flags) and `before_apiserver` (called with the Cluster once its CA exists and
before kube-apiserver starts: the place to start a webhook or a KMS plugin the
API server dials at start-up); `restart_apiserver(extra)` restarts it with the
same flags plus `extra`.

Every process started here is stopped on exit (also on errors and signals).
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import ssl

try:
    import yaml  # Debian python3-yaml (scripts/install-deps.sh)
except ImportError:  # ctest may run another Python 3 (pyenv, venv) without Debian's path
    sys.path.append("/usr/lib/python3/dist-packages")
    import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def log(*args):
    print("e2e:", *args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_binaries(extra=()):
    """Builds (first run) or finds (cached) kube-apiserver, kubectl and etcd, and the
    extra binaries named (kube-controller-manager)."""
    started = time.time()
    out = subprocess.run([os.path.join(HERE, "build_cluster_binaries.sh"), *extra], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    log(f"cluster binaries in {out} ({time.time() - started:.0f}s)")
    return out


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class Cluster:
    def __init__(self, work, audit=True, controllers=(), audit_policy=None, apiserver_args=(),
                 before_apiserver=None, binaries=()):
        self.work = os.path.abspath(work)
        self.controllers = list(controllers)
        self.audit_policy = audit_policy
        self.apiserver_args = list(apiserver_args)
        self.before_apiserver = before_apiserver
        extra = (["kube-controller-manager"] if self.controllers else []) + list(binaries)
        self.bin = cluster_binaries(extra)
        self.procs = []
        self.audit = audit
        self.certs = os.path.join(self.work, "pki")
        os.makedirs(self.certs, exist_ok=True)
        self.audit_log = os.path.join(self.work, "audit.log")

    # ---- certificates ---------------------------------------------------
    def make_ca(self):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=kguard-e2e-ca", cwd=self.certs)
        self.ca = os.path.join(self.certs, "ca.crt")

    def make_cert(self, name, subject, usage, san=None):
        """A certificate signed by the test CA: usage serverAuth or clientAuth."""
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=self.certs)
        ext = os.path.join(self.certs, f"{name}.ext")
        with open(ext, "w") as f:
            f.write(f"extendedKeyUsage={usage}\n")
            if san:
                f.write(f"subjectAltName={san}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", ext,
                cwd=self.certs)
        return os.path.join(self.certs, f"{name}.crt"), os.path.join(self.certs, f"{name}.key")

    # ---- processes ------------------------------------------------------
    def start(self, name, argv):
        logf = open(os.path.join(self.work, f"{name}.log"), "wb")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []

    def __enter__(self):
        self._old_term = signal.signal(signal.SIGTERM, self._on_signal)
        try:
            self.up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        signal.signal(signal.SIGTERM, self._old_term)
        return False

    def _on_signal(self, signum, frame):
        self.stop()
        sys.exit(128 + signum)

    def up(self):
        started = time.time()
        self.make_ca()
        self.server_cert, self.server_key = self.make_cert(
            "apiserver", "/CN=kube-apiserver", "serverAuth",
            "IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc")
        self.admin_cert, self.admin_key = self.make_cert(
            "admin", "/O=system:masters/CN=kguard-admin", "clientAuth")
        openssl("genrsa", "-out", "sa.key", "2048", cwd=self.certs)
        openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=self.certs)

        etcd_port, peer_port = free_port(), free_port()
        self.etcd_endpoint = f"http://127.0.0.1:{etcd_port}"
        self.port = free_port()
        self.server = f"https://127.0.0.1:{self.port}"
        self.start("etcd", [
            os.path.join(self.bin, "etcd"), "--name", "e2e",
            "--data-dir", os.path.join(self.work, "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"e2e=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync", "--log-level", "warn"])
        policy = os.path.join(self.work, "audit-policy.yaml")
        with open(policy, "w") as f:
            f.write(self.audit_policy or
                    "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\n"
                    "rules:\n  - level: Metadata\n")
        argv = [
            os.path.join(self.bin, "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--tls-cert-file={self.server_cert}", f"--tls-private-key-file={self.server_key}",
            f"--client-ca-file={self.ca}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={os.path.join(self.certs, 'sa.pub')}",
            f"--service-account-signing-key-file={os.path.join(self.certs, 'sa.key')}",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=Node,RBAC",
            f"--cert-dir={os.path.join(self.work, 'apiserver-certs')}",
            "--enable-priority-and-fairness=false",
            # No endpoints for the kubernetes Service: the reconciler refuses loopback.
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",  # examples/insecure has privileged pods
        ]
        if self.audit:
            argv += [f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}",
                     "--audit-log-mode=blocking"]
        argv += self.apiserver_args
        if self.before_apiserver:
            self.before_apiserver(self)
        self.start("kube-apiserver", argv)
        self.admin_kubeconfig = self.write_kubeconfig(
            "admin.kubeconfig", cluster={"certificate-authority": self.ca},
            user={"client-certificate": self.admin_cert, "client-key": self.admin_key})
        self.wait_ready()
        if self.controllers:
            self.start_controller_manager()
        log(f"control plane ready at {self.server} in {time.time() - started:.0f}s")

    def restart_apiserver(self, extra=()):
        """Stops kube-apiserver and starts it again with its flags plus `extra`; waits for /readyz."""
        proc = next(p for n, p in self.procs if n == "kube-apiserver")
        argv = list(proc.args) + list(extra)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        self.procs = [(n, p) for n, p in self.procs if p is not proc]
        time.sleep(2)
        self.start("kube-apiserver", argv)
        self.wait_ready()

    def start_controller_manager(self):
        """kube-controller-manager running only self.controllers. Its identity is the one the
        bootstrap policy binds (system:kube-controller-manager); each controller then runs as its
        own ServiceAccount in kube-system (--use-service-account-credentials), so the controllers
        have exactly their bootstrap roles, as in a kubeadm cluster."""
        cert, key = self.make_cert("kube-controller-manager", "/CN=system:kube-controller-manager",
                                   "clientAuth")
        kubeconfig = self.write_kubeconfig(
            "kube-controller-manager.kubeconfig", cluster={"certificate-authority": self.ca},
            user={"client-certificate": cert, "client-key": key})
        self.start("kube-controller-manager", [
            os.path.join(self.bin, "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--controllers={','.join(self.controllers)}",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            "--secure-port=0",  # no serving endpoint: nothing here scrapes it
        ])
        if "clusterrole-aggregation" in self.controllers:
            self.wait_for(lambda: json.loads(self.kubectl("get", "clusterrole", "admin", "-o", "json"))
                          .get("rules"), "the aggregated ClusterRole admin to get its rules")

    def wait_for(self, cond, what, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}; see "
                                       f"{os.path.join(self.work, name + '.log')}")
            if cond():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {timeout}s waiting for {what}")

    def wait_ready(self, timeout=300):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.load_cert_chain(self.admin_cert, self.admin_key)
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}; see "
                                       f"{os.path.join(self.work, name + '.log')}")
            try:
                with urllib.request.urlopen(f"{self.server}/readyz", context=ctx, timeout=5) as r:
                    if r.status == 200:
                        return
            except Exception as e:  # not up yet
                last = str(e)
            time.sleep(1)
        raise RuntimeError(f"kube-apiserver not ready after {timeout}s: {last}")

    # ---- clients --------------------------------------------------------
    def write_kubeconfig(self, name, cluster=None, user=None, context_ns=None, extra=None):
        """A one-context kubeconfig; `cluster` and `user` add to the defaults."""
        cl = {"server": self.server}
        cl.update(cluster or {})
        ctx = {"cluster": "e2e", "user": "e2e"}
        if context_ns:
            ctx["namespace"] = context_ns
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "e2e",
               "clusters": [{"name": "e2e", "cluster": cl}],
               "users": [{"name": "e2e", "user": user or {}}],
               "contexts": [{"name": "e2e", "context": ctx}]}
        if extra:
            doc.update(extra)
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        return path

    def kubectl(self, *args, input=None, check=True):
        r = subprocess.run([os.path.join(self.bin, "kubectl"), "--kubeconfig", self.admin_kubeconfig,
                            *args], input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {r.stderr}")
        return r.stdout

    def audit_events(self):
        if not os.path.exists(self.audit_log):
            return []
        events = []
        with open(self.audit_log) as f:
            for line in f:
                line = line.strip()
                if line:
                    events.append(json.loads(line))
        return events
