#!/usr/bin/env python3
"""One control plane for every e2e suite (ctest fixture `control_plane`; contract C4).

    control_plane.py start STATE_DIR KGUARD SOURCE_DIR [CORPORA_DIR]
        Composes the Cluster options of every module in MODULES (their cluster_options(work), each
        with its own work folder: apiserver_args concatenated, before_apiserver hooks chained in
        order, controllers and binaries united, at most one audit Policy) plus the namespace
        controller (a module's `kubectl delete namespace` then really empties and removes it),
        starts it detached (cluster.py: the processes outlive this command) and writes STATE_DIR
        (state.json: work folder, URLs, kubeconfig, pids and argv; hooks.pickle: what each
        module's hook started, e.g. the KMS plugin and kguard audit serve).
    control_plane.py run STATE_DIR MODULE ARGS...
        One suite on it: imports tests/e2e/MODULE.py with ARGS as its argv (as `MODULE.py ARGS`
        would be run), attaches to the control plane and calls MODULE.main(cluster). Before, the
        API server must be ready; after, it must be ready again (a suite that restarts it must
        leave it running with the shared flags), and whatever the suite left behind (namespaces,
        cluster-scoped objects, objects in the built-in namespaces) is listed and deleted, so the
        next suite, in any order, finds the control plane as the fixture made it.
    control_plane.py stop STATE_DIR
        Stops every process (those recorded, and any still running from the work folder: a suite
        killed by a timeout may not have recorded a restarted one), keeps the logs in
        STATE_DIR/logs and removes the work folder.

`python3 tests/e2e/MODULE.py ARGS` still runs a suite alone on its own control plane.
"""
import glob
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster import Cluster, log  # noqa: E402

# The suites sharing the control plane (each has cluster_options(work) and main(cluster)).
MODULES = ["cluster_e2e", "analysis_e2e", "kms_e2e", "controlplane_e2e", "admit_e2e", "audit_policy_e2e",
           "audit_e2e", "node_e2e", "mesh_e2e"]
# What the composition itself needs: deleted namespaces must go away (their Pods, RBAC and
# Secrets would otherwise stay in every later suite's view).
SHARED_CONTROLLERS = ["namespace"]
CORE = ("etcd", "kube-apiserver", "kube-controller-manager")

CLUSTER_KINDS = ["namespaces", "clusterroles.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io",
                 "customresourcedefinitions.apiextensions.k8s.io",
                 "validatingwebhookconfigurations.admissionregistration.k8s.io",
                 "mutatingwebhookconfigurations.admissionregistration.k8s.io",
                 "validatingadmissionpolicies.admissionregistration.k8s.io",
                 "validatingadmissionpolicybindings.admissionregistration.k8s.io",
                 "nodes", "priorityclasses.scheduling.k8s.io", "certificatesigningrequests.certificates.k8s.io",
                 "persistentvolumes", "storageclasses.storage.k8s.io", "ingressclasses.networking.k8s.io",
                 "runtimeclasses.node.k8s.io"]
NAMESPACED_KINDS = ["serviceaccounts", "secrets", "configmaps", "pods", "services", "resourcequotas", "limitranges",
                    "roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io",
                    "deployments.apps", "statefulsets.apps", "daemonsets.apps", "replicasets.apps",
                    "jobs.batch", "cronjobs.batch", "networkpolicies.networking.k8s.io",
                    "ingresses.networking.k8s.io", "poddisruptionbudgets.policy"]


def compose(work, modules):
    """Cluster kwargs: the union of the modules' cluster_options (contract C4)."""
    args, hooks, controllers, binaries, policies = [], [], list(SHARED_CONTROLLERS), [], []
    for name in modules:
        opts = importlib.import_module(name).cluster_options(os.path.join(work, name)) or {}
        unknown = set(opts) - {"apiserver_args", "before_apiserver", "controllers", "binaries", "audit_policy"}
        if unknown:
            raise RuntimeError(f"{name}.cluster_options: unknown keys {sorted(unknown)}")
        args += opts.get("apiserver_args", [])
        if opts.get("before_apiserver"):
            hooks.append((name, opts["before_apiserver"]))
        controllers += [x for x in opts.get("controllers", []) if x not in controllers]
        binaries += [x for x in opts.get("binaries", []) if x not in binaries]
        if opts.get("audit_policy"):
            policies.append((name, opts["audit_policy"]))
    if len({p for _, p in policies}) > 1:
        raise RuntimeError("two modules need different audit Policies: " + ", ".join(n for n, _ in policies))

    def before(cluster):
        for name, hook in hooks:
            log(f"control plane: {name}'s before_apiserver")
            hook(cluster)

    return {"apiserver_args": args, "before_apiserver": before, "controllers": controllers, "binaries": binaries,
            "audit_policy": policies[0][1] if policies else None}


def start(state_dir, kguard, source, corpora):
    if os.path.exists(os.path.join(state_dir, "state.json")):
        log(f"control plane: a previous one is recorded in {state_dir}; stopping it first")
        stop(state_dir)
    shutil.rmtree(state_dir, ignore_errors=True)
    os.makedirs(state_dir)
    # Short paths (unix sockets have a 108-byte limit): the work folder is a temporary one.
    work = tempfile.mkdtemp(prefix="kguard-cp-")
    sys.argv = [sys.argv[0], kguard, source, corpora]  # the modules read their argv when imported
    started = time.time()
    opts = compose(work, MODULES)
    log(f"control plane: kube-apiserver flags from the modules: {opts['apiserver_args']}; "
        f"controllers {opts['controllers']}")
    c = Cluster(os.path.join(work, "cluster"), detached=True, **opts)
    try:
        c.up()
        c.save_state(state_dir)
    except BaseException:
        c.stop()
        shutil.rmtree(work, ignore_errors=True)
        raise
    log(f"control plane: ready at {c.server} in {time.time() - started:.0f}s; state in {state_dir}")
    return 0


def stop(state_dir):
    path = os.path.join(state_dir, "state.json")
    if not os.path.exists(path):
        log(f"control plane: nothing recorded in {state_dir}")
        return 0
    try:
        c = Cluster.attach(state_dir)
    except Exception as e:  # a half-written state: the sweep below still finds the processes
        log(f"control plane: state unreadable ({e}); sweeping its work folder")
        with open(path) as f:
            c = None
            work = json.load(f)["work"]
    else:
        work = c.work
        c.stop()
    root = os.path.dirname(work)  # the temporary folder start() made: every module's files are in it
    swept = sweep(root)
    if swept:
        log(f"control plane: stopped {len(swept)} unrecorded process(es) of {root}: {swept}")
    logs = os.path.join(state_dir, "logs")
    os.makedirs(logs, exist_ok=True)
    for f in glob.glob(os.path.join(root, "**", "*.log"), recursive=True):
        dest = os.path.join(logs, os.path.relpath(f, root).replace(os.sep, "_"))
        shutil.copyfile(f, dest)
    if os.path.basename(root).startswith("kguard-cp-"):
        shutil.rmtree(root, ignore_errors=True)
    os.remove(path)
    log(f"control plane: stopped; logs in {logs}")
    return 0


def sweep(root):
    """Processes of this user whose command line names the work folder (none should be left)."""
    found = []
    for d in glob.glob("/proc/[0-9]*"):
        pid = int(os.path.basename(d))
        try:
            if os.stat(d).st_uid != os.getuid() or pid == os.getpid():
                continue
            with open(os.path.join(d, "cmdline"), "rb") as f:
                cmd = f.read().decode(errors="replace")
        except OSError:
            continue
        if root + "/" in cmd:
            found.append(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in found:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(3 if sig == signal.SIGTERM else 0)
    return found


def inventory(c, deleting=None):
    """{(kind, namespace, name)}: cluster-scoped objects, and namespaced ones in every namespace;
    the names of the objects being deleted go to `deleting`."""
    out = set()
    for kinds, extra in ((CLUSTER_KINDS, []), (NAMESPACED_KINDS, ["-A"])):
        doc = json.loads(c.kubectl("get", ",".join(kinds), *extra, "-o", "json"))
        for i in doc["items"]:
            group = i["apiVersion"].split("/")[0] if "/" in i["apiVersion"] else ""
            kind = i["kind"] + ("." + group if group else "")
            item = (kind, i["metadata"].get("namespace", ""), i["metadata"]["name"])
            out.add(item)
            if deleting is not None and i["metadata"].get("deletionTimestamp"):
                deleting.add(item)
    return out


def clean_up(c, before):
    """Deletes what is in the inventory now but was not before (and waits for the namespaces the
    suite is deleting itself); returns what the suite left that it was not deleting."""
    deleting = set()
    left = sorted(inventory(c, deleting) - before)
    old_ns = {n for k, _, n in before if k == "Namespace"}
    new_ns = [n for k, _, n in left if k == "Namespace"]
    # Objects inside a namespace that goes anyway need no listing.
    shown = [x for x in left if x[1] not in new_ns and x not in deleting]
    batches = {}  # one kubectl per kind and namespace
    for kind, ns, name in shown:
        if kind != "Namespace" and (not ns or ns in old_ns):
            batches.setdefault((kind, ns), []).append(name)
    for (kind, ns), names in sorted(batches.items()):
        c.kubectl("delete", kind, *names, *(["-n", ns] if ns else []), "--ignore-not-found", "--wait=false",
                  check=False)
    if new_ns:
        c.kubectl("delete", "namespace", *new_ns, "--ignore-not-found", "--timeout=300s", check=False)
    return shown


def run(state_dir, module, argv):
    sys.argv = [os.path.join(HERE, module + ".py"), *argv]
    m = importlib.import_module(module)
    c = Cluster.attach(state_dir)
    started = time.time()
    c.wait_ready(timeout=120)
    before = inventory(c)
    code = 1
    with c:
        try:
            code = m.main(c)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except Exception:  # the suite stopped: its failure, not the next suite's
            traceback.print_exc()
            code = 1
    log(f"control plane: {module} took {time.time() - started:.0f}s on the shared control plane")
    # A hook's server the suite stopped for good (audit_e2e stops kguard audit serve to drain it).
    gone = [(n, p) for n, p in c.procs if n not in CORE and p.poll() is not None]
    if gone:
        log(f"control plane: no longer running after {module}: " + ", ".join(f"{n} ({p.returncode})" for n, p in gone))
        c.procs = [x for x in c.procs if x not in gone]
        c.save_state(state_dir)
    try:
        c.wait_ready(timeout=120)
    except Exception as e:  # noqa: BLE001
        log(f"control plane: FAIL {module} left kube-apiserver not ready: {e}")
        return 1
    left = clean_up(c, before)
    if left:
        log(f"control plane: {module} left {len(left)} object(s) behind (deleted now): "
            + ", ".join(f"{k}/{ns + '/' if ns else ''}{n}" for k, ns, n in left[:30]))
    return code or 0


def main():
    if len(sys.argv) in (5, 6) and sys.argv[1] == "start":
        return start(os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3]), os.path.abspath(sys.argv[4]),
                     os.path.abspath(sys.argv[5]) if len(sys.argv) == 6 else "")
    if len(sys.argv) == 3 and sys.argv[1] == "stop":
        return stop(os.path.abspath(sys.argv[2]))
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        return run(os.path.abspath(sys.argv[2]), sys.argv[3], sys.argv[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
