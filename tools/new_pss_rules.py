#!/usr/bin/env python3
"""One-time generator of the PSS rule folders (kept for reference; the rule
folders under rules/ are the source of truth and are edited by hand)."""
import os, sys, textwrap

ROOT = os.path.join(os.path.dirname(__file__), "..", "rules", "security")

GOOD_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: demo
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: registry.example.com/app:1.2.3
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
"""

def deployment(name, pod_spec_extra="", container_extra="", meta_extra="", pod_sc_extra=""):
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: demo
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
{meta_extra}    spec:
{pod_spec_extra}      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
{pod_sc_extra}      containers:
      - name: app
        image: registry.example.com/app:1.2.3
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop: ["ALL"]
{container_extra}"""

R = []
def rule(id, control, level, since, sev, title, rationale, remediation, refs, fail, overridden=None, pass_extra=""):
    R.append(dict(id=id, control=control, level=level, since=since, sev=sev, title=title,
                  rationale=rationale, remediation=remediation, refs=refs, fail=fail,
                  overridden=overridden, pass_extra=pass_extra))

rule("pss-privileged", "privileged", "baseline", "v1.0", "critical", "Privileged container",
     "A privileged container has every capability and all host devices; escaping to the node is trivial.",
     "Remove securityContext.privileged or set it to false; grant only the specific capability the workload needs.",
     ["PSS baseline: Privileged Containers", "CIS 5.2.2", "MITRE ATT&CK T1611", "Polaris runAsPrivileged", "kube-linter privileged-container", "Trivy KSV017", "kubescape C-0057"],
     deployment("privileged", container_extra="          privileged: true\n"))
rule("pss-host-namespaces", "hostNamespaces", "baseline", "v1.0", "high", "Host namespaces shared",
     "hostNetwork, hostPID or hostIPC let the pod see and reach the node's processes, network interfaces and IPC, bypassing network policy and isolation.",
     "Remove hostNetwork, hostPID and hostIPC (or set them to false); expose ports through a Service instead.",
     ["PSS baseline: Host Namespaces", "CIS 5.2.3-5.2.5", "Polaris hostNetworkSet/hostPIDSet/hostIPCSet", "kube-linter host-network/host-pid/host-ipc", "Trivy KSV008-KSV010", "kubescape C-0038/C-0041"],
     deployment("hostnet", pod_spec_extra="      hostNetwork: true\n"))
rule("pss-host-path-volumes", "hostPathVolumes", "baseline", "v1.0", "high", "hostPath volume",
     "A hostPath volume exposes the node's filesystem to the container; writable mounts of paths such as /etc or the runtime socket give control of the node.",
     "Replace hostPath with emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim; if node access is truly required, isolate the workload in a privileged namespace.",
     ["PSS baseline: HostPath Volumes", "CIS 5.2.11", "Polaris hostPathSet", "Trivy KSV023", "kubescape C-0048"],
     deployment("hostpath", pod_spec_extra="      volumes:\n      - name: host\n        hostPath:\n          path: /etc\n"),
     overridden="v1.0")
rule("pss-host-ports", "hostPorts", "baseline", "v1.0", "medium", "hostPort used",
     "A hostPort binds the container to a port on the node's address, bypassing Services and NetworkPolicy and limiting scheduling.",
     "Remove ports[].hostPort and expose the container through a Service (ClusterIP, or an Ingress/LoadBalancer in front).",
     ["PSS baseline: Host Ports", "CIS 5.2.12", "Polaris hostPortSet", "Trivy KSV024", "kubescape C-0044"],
     deployment("hostport", container_extra="        ports:\n        - containerPort: 8080\n          hostPort: 8080\n"))
rule("pss-capabilities-baseline", "capabilities_baseline", "baseline", "v1.0", "high", "Capability beyond the default set added",
     "Capabilities such as NET_ADMIN, SYS_ADMIN or NET_RAW give root-like powers over the kernel and network and are the usual first step of a container escape.",
     "Remove the capability from securityContext.capabilities.add; only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT are allowed.",
     ["PSS baseline: Capabilities", "CIS 5.2.9", "Polaris dangerousCapabilities", "Trivy KSV022", "kubescape C-0046"],
     deployment("netadmin", container_extra="            add: [NET_ADMIN]\n"), overridden="v1.22")
rule("pss-apparmor-profile", "appArmorProfile", "baseline", "v1.0", "medium", "AppArmor disabled or overridden",
     "Setting the AppArmor profile to unconfined removes the mandatory access control layer that limits what a compromised process can do.",
     "Use appArmorProfile.type RuntimeDefault or Localhost (or the annotation values runtime/default or localhost/<profile>).",
     ["PSS baseline: AppArmor", "Trivy KSV002", "kubeaudit AppArmorDisabled"],
     deployment("apparmor", meta_extra="      annotations:\n        container.apparmor.security.beta.kubernetes.io/app: unconfined\n"))
rule("pss-seccomp-baseline", "seccompProfile_baseline", "baseline", "v1.0", "high", "Seccomp explicitly Unconfined",
     "An Unconfined seccomp profile lets the container call every system call, including the rarely needed ones most kernel exploits use.",
     "Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost with a reviewed profile) at pod level.",
     ["PSS baseline: Seccomp", "Trivy KSV104", "kubeaudit SeccompDisabled"],
     deployment("unconfined", pod_sc_extra="").replace("type: RuntimeDefault", "type: Unconfined"), overridden="v1.19")
rule("pss-selinux-options", "seLinuxOptions", "baseline", "v1.0", "medium", "Custom SELinux options",
     "Setting a custom SELinux user, role or a type outside the container types can grant the process host-level SELinux privileges.",
     "Remove seLinuxOptions.user and .role and use a container type (container_t, container_init_t, container_kvm_t) or leave seLinuxOptions unset.",
     ["PSS baseline: SELinux", "Trivy KSV025"],
     deployment("selinux", pod_sc_extra="        seLinuxOptions:\n          type: spc_t\n"))
rule("pss-sysctls", "sysctls", "baseline", "v1.0", "medium", "Unsafe sysctl",
     "Sysctls outside the namespaced safe set change kernel behaviour for every pod on the node and can be used to degrade or attack it.",
     "Remove the sysctl from spec.securityContext.sysctls or use only the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start and the newer safe net.ipv4 ones).",
     ["PSS baseline: Sysctls", "Trivy KSV026", "kube-linter unsafe-sysctls"],
     deployment("sysctl", pod_sc_extra="        sysctls:\n        - name: kernel.msgmax\n          value: \"65536\"\n"))
rule("pss-windows-host-process", "windowsHostProcess", "baseline", "v1.0", "high", "Windows HostProcess container",
     "A Windows HostProcess container runs directly on the node with host privileges, with no container isolation at all.",
     "Remove securityContext.windowsOptions.hostProcess (or set it to false) on the pod and every container.",
     ["PSS baseline: HostProcess", "Polaris hostProcess", "Trivy KSV103", "kubescape C-0202"],
     deployment("hostprocess", pod_sc_extra="        windowsOptions:\n          hostProcess: true\n"))
rule("pss-proc-mount", "procMount", "baseline", "v1.0", "medium", "Unmasked /proc mount",
     "procMount Unmasked exposes the node's /proc paths that the runtime normally masks, leaking host information and kernel controls.",
     "Remove securityContext.procMount or set it to Default.",
     ["PSS baseline: /proc Mount Type", "Polaris procMount", "kube-linter unsafe-proc-mount", "Trivy KSV027"],
     deployment("procmount", container_extra="          procMount: Unmasked\n"), overridden="v1.35")
rule("pss-host-probes-lifecycle", "hostProbesAndHostLifecycle", "baseline", "v1.34", "medium", "Probe or lifecycle hook targets another host",
     "A probe or lifecycle handler with a host field makes the kubelet connect to an arbitrary address from the node, which can be abused to reach internal services (SSRF).",
     "Remove the host field from httpGet/tcpSocket probes and lifecycle handlers so they target the pod itself.",
     ["PSS baseline: Probes / Lifecycle Hooks"],
     deployment("probehost", container_extra="        readinessProbe:\n          httpGet:\n            host: 169.254.169.254\n            path: /\n            port: 80\n"))
rule("pss-restricted-volumes", "restrictedVolumes", "restricted", "v1.0", "medium", "Volume type outside the restricted set",
     "Volume types other than configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret reach node or network storage directly, outside the cluster's storage controls.",
     "Use a PersistentVolumeClaim (backed by a StorageClass or CSI driver) or one of the allowed volume types instead.",
     ["PSS restricted: Volume Types", "Trivy KSV028"],
     deployment("nfs", pod_spec_extra="      volumes:\n      - name: data\n        nfs:\n          server: nfs.example.com\n          path: /exports\n"))
rule("pss-run-as-non-root", "runAsNonRoot", "restricted", "v1.0", "medium", "Container may run as root",
     "Without runAsNonRoot: true the container runs as whatever user the image says, often root, so any compromise starts with root inside the container.",
     "Set securityContext.runAsNonRoot: true at pod level (and a non-zero runAsUser if the image has no numeric USER).",
     ["PSS restricted: Running as Non-root", "CIS 5.2.7", "Polaris runAsRootAllowed", "kube-linter run-as-non-root", "Trivy KSV012", "kubescape C-0013"],
     deployment("root").replace("        runAsNonRoot: true\n", ""))
rule("pss-allow-privilege-escalation", "allowPrivilegeEscalation", "restricted", "v1.8", "high", "Privilege escalation allowed",
     "Unless allowPrivilegeEscalation is false, setuid binaries and file capabilities can raise a process's privileges inside the container (no_new_privs is off).",
     "Set securityContext.allowPrivilegeEscalation: false on every container, including init containers.",
     ["PSS restricted: Privilege Escalation", "CIS 5.2.6", "Polaris privilegeEscalationAllowed", "kube-linter privilege-escalation-container", "Trivy KSV001", "kubescape C-0016"],
     deployment("escalate").replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"))
rule("pss-seccomp-restricted", "seccompProfile_restricted", "restricted", "v1.19", "medium", "Seccomp profile not set",
     "Without a seccomp profile the container may call every system call; the runtime's default profile blocks the ones most kernel exploits need.",
     "Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost with a reviewed profile).",
     ["PSS restricted: Seccomp", "Trivy KSV030", "kubescape C-0210", "kube-score container-seccomp-profile"],
     deployment("noseccomp").replace("        seccompProfile:\n          type: RuntimeDefault\n", ""))
rule("pss-capabilities-restricted", "capabilities_restricted", "restricted", "v1.22", "medium", "Capabilities not dropped",
     "Containers start with a default set of Linux capabilities (including NET_RAW, which allows spoofing); a workload rarely needs any of them.",
     "Set securityContext.capabilities.drop: [\"ALL\"] on every container and add back only NET_BIND_SERVICE if the process binds a port below 1024.",
     ["PSS restricted: Capabilities", "CIS 5.2.8-5.2.9", "Polaris insecureCapabilities", "Trivy KSV003", "kube-linter drop-net-raw-capability", "kubescape C-0201"],
     deployment("nodrop").replace("          capabilities:\n            drop: [\"ALL\"]\n", ""))
rule("pss-run-as-user", "runAsUser", "restricted", "v1.23", "high", "Runs as UID 0",
     "runAsUser: 0 makes the container process root, defeating runAsNonRoot and giving an attacker root inside the container from the start.",
     "Set runAsUser to a non-zero UID (for example 10001) or remove it and set runAsNonRoot: true.",
     ["PSS restricted: Running as Non-root user", "Trivy KSV105", "kubeaudit RunAsUserRoot"],
     deployment("uid0", pod_sc_extra="        runAsUser: 0\n"))
rule("pss-proc-mount-restricted", "procMount_restricted", "restricted", "v1.35", "medium", "Unmasked /proc mount (restricted)",
     "procMount Unmasked exposes the node's /proc paths; the restricted profile forbids it even in user-namespaced pods.",
     "Remove securityContext.procMount or set it to Default.",
     ["PSS restricted: /proc Mount Type"],
     deployment("procmount-r", pod_spec_extra="      hostUsers: false\n", container_extra="          procMount: Unmasked\n"))

def q(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

for r in R:
    d = os.path.join(ROOT, r["id"])
    os.makedirs(d, exist_ok=True)
    lines = [f"id: {r['id']}", f"title: {q(r['title'])}", "category: security", f"severity: {r['sev']}",
             f"rationale: {q(r['rationale'])}", f"remediation: {q(r['remediation'])}", "references:"]
    lines += [f"  - {q(x)}" for x in r["refs"]]
    lines += [f"tags: [pss, pss-{r['level']}]", "kinds: [workloads]",
              "pss:", f"  level: {r['level']}", f"  since: {r['since']}"]
    if r["overridden"]:
        lines.append(f"  overriddenAtRestrictedFrom: {r['overridden']}")
    lines += ["check: pss", "params:", f"  control: {r['control']}"]
    open(os.path.join(d, "rule.yaml"), "w").write("\n".join(lines) + "\n")
    open(os.path.join(d, "pass.yaml"), "w").write(GOOD_POD.format(name="compliant") + "---\n" + deployment("compliant"))
    open(os.path.join(d, "fail.yaml"), "w").write(r["fail"])
print(len(R), "rules")
