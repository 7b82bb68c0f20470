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

One control plane for many suites (tests/e2e/control_plane.py, the ctest fixture control_plane):
Cluster(..., detached=True) starts every process through this file's exit recorder (`cluster.py
--record-exit STATUS -- ARGV`), so the processes outlive the Python process that started them and
their exit status stays readable; `save_state(dir)` writes state.json (paths, URLs, pids, argv)
and hooks.pickle (what the before_apiserver hooks hung on the Cluster, e.g. the KMS plugin);
`Cluster.attach(dir)` gives a Cluster on the running control plane whose procs are PidProc handles
(poll/wait/terminate like Popen). Leaving `with Cluster.attach(dir) as c:` stops nothing and
saves the state again (a restarted kube-apiserver or plugin has a new pid).
"""
import base64
import io
import json
import os
import pickle
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


class PidProc:
    """A process this Python process did not start (it belongs to a shared control plane), with
    Popen's poll/wait/terminate/kill: signals go to its process group (each process started here is
    a session leader); its exit status is read from the file the exit recorder writes, if any."""

    def __init__(self, pid, args, status=None):
        self.pid = pid
        self.args = list(args)
        self.status = status
        self.returncode = None

    def _recorded(self):
        """The exit status the recorder wrote, or None."""
        if self.status and os.path.exists(self.status):
            with open(self.status) as f:
                text = f.read().strip()
            return int(text) if text else None
        return None

    def poll(self):
        if self.returncode is None:
            self.returncode = self._recorded()
        if self.returncode is not None:
            return self.returncode
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            state = "X"
        if state in ("Z", "X"):  # gone (or a zombie no one reaps): the recorder says how, if it ran
            code = self._recorded()
            # Unknown otherwise: not started through the recorder, or killed with it.
            self.returncode = code if code is not None else -signal.SIGKILL
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.time() + timeout
        while self.poll() is None:
            if deadline is not None and time.time() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.1)
        return self.returncode

    def send_signal(self, sig):
        signal_group(self, sig)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class RecordedPopen(subprocess.Popen):
    """A process started through the exit recorder: `args` is the real argv, signals go to the
    process group (the recorder ignores SIGTERM/SIGINT and waits for its child)."""

    def send_signal(self, sig):
        signal_group(self, sig)


def signal_group(proc, sig):
    """`sig` to the process group `proc` leads, unless it has exited."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def record_exit(status, argv):
    """`cluster.py --record-exit STATUS -- ARGV`: runs ARGV in this process group, writes its exit
    status (Popen's returncode) to STATUS when it ends, and exits with it."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the group's signal reaches the child; wait for it
    code = p.wait()
    tmp = status + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{code}\n")
    os.rename(tmp, status)
    return code if code >= 0 else 128 - code


class _StatePickler(pickle.Pickler):
    def __init__(self, f, cluster):
        super().__init__(f)
        self.cluster = cluster

    def persistent_id(self, obj):
        if obj is self.cluster:
            return ("cluster",)
        if isinstance(obj, (subprocess.Popen, PidProc)):
            return ("proc", obj.pid)
        if isinstance(obj, io.IOBase):
            return ("file",)
        return None


class _StateUnpickler(pickle.Unpickler):
    def __init__(self, f, cluster, procs):
        super().__init__(f)
        self.cluster = cluster
        self.procs = procs

    def persistent_load(self, pid):
        if pid[0] == "cluster":
            return self.cluster
        if pid[0] == "proc":
            return self.procs.get(pid[1]) or PidProc(pid[1], [])
        return None


class Cluster:
    # What save_state writes to state.json (the rest of what hooks add goes to hooks.pickle).
    STATE_FIELDS = ("work", "controllers", "audit_policy", "apiserver_args", "bin", "audit", "certs", "audit_log",
                    "ca", "server_cert", "server_key", "admin_cert", "admin_key", "etcd_endpoint", "port",
                    "server", "admin_kubeconfig", "detached")

    def __init__(self, work, audit=True, controllers=(), audit_policy=None, apiserver_args=(),
                 before_apiserver=None, binaries=(), detached=False):
        self.detached = detached
        self.attached = False
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
        logf = open(os.path.join(self.work, f"{name}.log"), "ab")
        if self.detached:  # outlives this process; its exit status is kept in a file
            status = os.path.join(self.work, "status", f"{name}-{time.time_ns()}")
            os.makedirs(os.path.dirname(status), exist_ok=True)
            p = RecordedPopen([sys.executable, os.path.abspath(__file__), "--record-exit", status, "--", *argv],
                              stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                              start_new_session=True)
            p.args = list(argv)
            p.status = status
        else:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        logf.close()
        self.procs.append((name, p))
        return p

    def stop(self):
        """One at a time, the last started first, kube-controller-manager before and etcd after
        everything (a kube-apiserver that loses etcd or its clients' watches while it shuts down
        waits for its timeouts)."""
        rank = {"kube-controller-manager": 0, "etcd": 2}
        for name, p in sorted(reversed(self.procs), key=lambda np: rank.get(np[0], 1)):
            signal_group(p, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                signal_group(p, signal.SIGKILL)
                p.wait()
        self.procs = []

    # ---- a control plane shared between processes -----------------------
    def save_state(self, state_dir):
        """state.json and hooks.pickle in `state_dir` (see the module's doc)."""
        os.makedirs(state_dir, exist_ok=True)
        doc = {k: getattr(self, k) for k in self.STATE_FIELDS if hasattr(self, k)}
        doc["procs"] = [{"name": n, "pid": p.pid, "args": list(p.args), "status": getattr(p, "status", None)}
                        for n, p in self.procs]
        hooks = {k: v for k, v in vars(self).items()
                 if k not in self.STATE_FIELDS
                 and k not in ("procs", "before_apiserver", "attached", "state_dir", "_old_term")}
        buf = io.BytesIO()
        _StatePickler(buf, self).dump(hooks)
        for name, data, mode in (("hooks.pickle", buf.getvalue(), "wb"),
                                 ("state.json", json.dumps(doc, indent=1) + "\n", "w")):
            tmp = os.path.join(state_dir, name + ".tmp")
            with open(tmp, mode) as f:
                f.write(data)
            os.rename(tmp, os.path.join(state_dir, name))
        self.state_dir = state_dir

    @classmethod
    def attach(cls, state_dir):
        """A Cluster on the control plane whose state is in `state_dir` (started by another process)."""
        with open(os.path.join(state_dir, "state.json")) as f:
            doc = json.load(f)
        c = cls.__new__(cls)
        for k in cls.STATE_FIELDS:
            if k in doc:
                setattr(c, k, doc[k])
        c.before_apiserver = None
        c.detached = True  # what this process starts must outlive it too
        c.attached = True
        c.state_dir = state_dir
        c.procs = [(p["name"], PidProc(p["pid"], p["args"], p.get("status"))) for p in doc["procs"]]
        by_pid = {p.pid: p for _, p in c.procs}
        with open(os.path.join(state_dir, "hooks.pickle"), "rb") as f:
            for k, v in _StateUnpickler(f, c, by_pid).load().items():
                setattr(c, k, v)
        return c

    def view(self, work):
        """The same control plane with `work` as the folder write_kubeconfig writes to (a suite that
        keeps its files beside its kubeconfigs, on a shared control plane); `pki` there links to
        the certificates, as in the control plane's own folder."""
        import copy
        v = copy.copy(self)
        v.work = os.path.abspath(work)
        link = os.path.join(v.work, "pki")
        if not os.path.exists(link):
            os.symlink(self.certs, link)
        return v

    def __enter__(self):
        if self.attached:
            return self
        self._old_term = signal.signal(signal.SIGTERM, self._on_signal)
        try:
            self.up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        if self.attached:  # the control plane is shared: keep it running, record what changed
            self.save_state(self.state_dir)
            return False
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
        # kube-controller-manager's watches hold kube-apiserver's graceful shutdown for its full
        # 60 s: stop it first, start it again after.
        managers = [p for n, p in self.procs if n == "kube-controller-manager"]
        for p in managers + [proc]:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(30)
        self.procs = [(n, p) for n, p in self.procs if p is not proc and p not in managers]
        time.sleep(2)
        self.start("kube-apiserver", argv)
        if self.attached:  # the new pid, at once: a test killed before its end must not orphan it
            self.save_state(self.state_dir)
        self.wait_ready()
        for p in managers:  # once RBAC is served, as up() does (no refused requests in the audit log)
            self.start("kube-controller-manager", list(p.args))
        if managers and self.attached:
            self.save_state(self.state_dir)

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


if __name__ == "__main__":
    if len(sys.argv) > 4 and sys.argv[1] == "--record-exit" and sys.argv[3] == "--":
        sys.exit(record_exit(sys.argv[2], sys.argv[4:]))
    print("usage: cluster.py --record-exit STATUS -- ARGV", file=sys.stderr)
    sys.exit(2)
