#!/usr/bin/env python3
"""Whole-set context, exemptions, configuration and custom rules, through the CLI.

Run by ctest: context_test.py KGUARD_BINARY SOURCE_DIR
"""
import tempfile
import textwrap
import unittest

import support
from support import TEAM_LABEL_RULE, scan_files as scan, write

KGUARD, SOURCE = support.args("kguard", "source")


def results(report, rule):
    return [(f["kind"], f["name"], f["result"]) for f in report["findings"] if f["rule"] == rule]


def tally(report, rule):
    for c in report["checks"]:
        if c["rule"] == rule:
            return c["evaluated"], c["failed"], c["exempted"]
    return 0, 0, 0


DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0
      - name: sidecar
        image: registry.example.com/proxy:1.0
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""
DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


class WholeSetContext(unittest.TestCase):
    def test_network_policy_in_another_file_selects_the_pod(self):
        _, alone, _ = scan({"web.yaml": DEPLOY}, "--only", "pod-not-isolated-by-network-policy")
        self.assertEqual(results(alone, "pod-not-isolated-by-network-policy"), [("Deployment", "web", "fail")])
        _, both, _ = scan({"web.yaml": DEPLOY, "policies/deny.yaml": DENY},
                          "--only", "pod-not-isolated-by-network-policy")
        self.assertEqual(tally(both, "pod-not-isolated-by-network-policy"), (1, 0, 0))

    def test_readiness_applies_only_when_a_service_selects_the_pod(self):
        _, alone, _ = scan({"web.yaml": DEPLOY}, "--only", "readiness-probe-missing")
        self.assertEqual(tally(alone, "readiness-probe-missing"), (0, 0, 0))
        _, with_svc, _ = scan({"web.yaml": DEPLOY, "svc.yaml": SERVICE}, "--only", "readiness-probe-missing")
        self.assertEqual(tally(with_svc, "readiness-probe-missing"), (1, 1, 0))
        # one finding per container, on the Deployment
        self.assertEqual(len(results(with_svc, "readiness-probe-missing")), 2)

    def test_pods_owned_by_a_controller_in_the_input_are_reported_once(self):
        pod = """\
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-7d9-abcde
          namespace: shop
          labels: {app: web}
          ownerReferences:
          - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9, controller: true}
        spec:
          containers:
          - {name: app, image: "nginx:latest", securityContext: {privileged: true}}
        """
        rs = """\
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: web-7d9
          namespace: shop
          ownerReferences:
          - {apiVersion: apps/v1, kind: Deployment, name: web, controller: true}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - {name: app, image: "nginx:latest", securityContext: {privileged: true}}
        """
        dep = DEPLOY.replace("image: registry.example.com/web:1.0",
                             "image: \"nginx:latest\"\n        securityContext: {privileged: true}")
        _, r, _ = scan({"a.yaml": dep, "b.yaml": rs, "c.yaml": pod}, "--only", "pss-privileged")
        self.assertEqual(results(r, "pss-privileged"), [("Deployment", "web", "fail")])
        self.assertEqual(r["overview"]["objects"], 3)  # all counted as resources
        # One stream in either order (a snapshot lists controllers first, so
        # their children are skipped as they arrive): the same verdicts and counts.
        for order in ((dep, rs, pod), (pod, rs, dep)):
            _, one, _ = scan({"all.yaml": "---\n".join(textwrap.dedent(d) for d in order)},
                             "--only", "pss-privileged")
            self.assertEqual(results(one, "pss-privileged"), [("Deployment", "web", "fail")])
            self.assertEqual(tally(one, "pss-privileged"), tally(r, "pss-privileged"))
            self.assertEqual(one["overview"]["objects"], 3)
        # Without the controllers in the input, the pod speaks for itself.
        _, r, _ = scan({"c.yaml": pod}, "--only", "pss-privileged")
        self.assertEqual(results(r, "pss-privileged"), [("Pod", "web-7d9-abcde", "fail")])

    def test_bindings_resolve_roles_defined_elsewhere_and_aggregation(self):
        role = """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: ops}
        aggregationRule:
          clusterRoleSelectors: [{matchLabels: {aggregate-to-ops: "true"}}]
        """
        part = """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: ops-exec, labels: {aggregate-to-ops: "true"}}
        rules:
        - {apiGroups: [""], resources: [pods/exec], verbs: [create]}
        """
        binding = """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: ops}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops}
        subjects: [{kind: ServiceAccount, name: runner, namespace: ci}]
        """
        rule = "rbac-binding-grants-dangerous-permissions"
        _, r, _ = scan({"binding.yaml": binding, "roles/ops.yaml": role, "roles/exec.yaml": part}, "--only", rule)
        self.assertEqual(results(r, rule), [("ClusterRoleBinding", "ops", "fail")])
        msg = next(f["message"] for f in r["findings"] if f["rule"] == rule)
        self.assertIn("exec", msg)
        _, r, _ = scan({"binding.yaml": binding, "roles/ops.yaml": role}, "--only", rule)
        self.assertEqual(tally(r, rule), (1, 0, 0))


class Exemptions(unittest.TestCase):
    ANNOTATED = DEPLOY.replace("    metadata:\n      labels: {app: web}\n",
                               "    metadata:\n      labels: {app: web}\n      annotations:\n"
                               "        kguard.io/exempt: pss-run-as-non-root, image-not-pinned-by-digest\n"
                               "        kguard.io/exempt-reason: vendor image, tracked in OPS-12\n"
                               "        kguard.io/exempt-until: \"UNTIL\"\n")

    def test_annotation_on_the_pod_template(self):
        code, r, _ = scan({"web.yaml": self.ANNOTATED.replace("UNTIL", "2999-01-01")})
        self.assertEqual(tally(r, "pss-run-as-non-root"), (0, 0, 1))
        exempt = [f for f in r["findings"] if f["rule"] == "pss-run-as-non-root"]
        self.assertTrue(exempt and all(f["result"] == "exempt" for f in exempt))
        self.assertEqual(exempt[0]["exemption"], {"reason": "vendor image, tracked in OPS-12", "until": "2999-01-01"})
        self.assertEqual(r["overview"]["exempted"], 2)
        self.assertEqual(r["warnings"], [])

    def test_expired_annotation_stops_applying_and_is_reported(self):
        _, r, _ = scan({"web.yaml": self.ANNOTATED.replace("UNTIL", "2020-01-01")})
        self.assertEqual(tally(r, "pss-run-as-non-root"), (1, 1, 0))
        self.assertEqual(len(r["warnings"]), 1)
        self.assertIn("expired on 2020-01-01", r["warnings"][0]["message"])

    def test_no_exemptions_flag(self):
        _, r, _ = scan({"web.yaml": self.ANNOTATED.replace("UNTIL", "2999-01-01")}, "--no-exemptions")
        self.assertEqual(r["overview"]["exempted"], 0)

    def test_kube_system_pack_is_on_unless_turned_off(self):
        files = {"ds.yaml": DEPLOY.replace("namespace: shop", "namespace: kube-system")}
        _, r, _ = scan(files, "--only", "pss")
        self.assertEqual(r["overview"]["failed"], 0)
        self.assertGreater(r["overview"]["exempted"], 0)
        self.assertIn("kube-system", r["findings"][0]["exemption"]["reason"])
        _, r, _ = scan(files, "--only", "pss", config="defaultExemptions: false\n")
        self.assertGreater(r["overview"]["failed"], 0)

    def test_config_exemptions_by_namespace_name_kind_container_and_file(self):
        config = """\
        exemptions:
          - rules: [pss-run-as-non-root]
            namespaces: ["sh*"]
            names: ["w?b"]
            kinds: [Deployment]
            containers: [sidecar]
            files: ["**/web.yaml"]
            reason: the proxy image needs root, OPS-7
        """
        _, r, _ = scan({"apps/web.yaml": DEPLOY}, "--only", "pss-run-as-non-root", config=config)
        rows = [(f["container"], f["result"]) for f in r["findings"]]
        self.assertEqual(rows, [("app", "fail")])  # the sidecar's violation is exempted
        config_all = config.replace("            containers: [sidecar]\n", "")
        _, r, _ = scan({"apps/web.yaml": DEPLOY}, "--only", "pss-run-as-non-root", config=config_all)
        self.assertEqual(tally(r, "pss-run-as-non-root"), (0, 0, 1))
        _, r, _ = scan({"apps/other.yaml": DEPLOY}, "--only", "pss-run-as-non-root", config=config_all)
        self.assertEqual(tally(r, "pss-run-as-non-root"), (1, 1, 0))  # file glob does not match

    def test_exemption_without_reason_is_refused(self):
        code, _, err = scan({"web.yaml": DEPLOY}, config="exemptions:\n  - rules: ['*']\n")
        self.assertEqual(code, 2)
        self.assertIn(".kguard.yaml:2:5: exemptions[0].reason: every exemption needs a reason", err)


class Configuration(unittest.TestCase):
    def test_disable_severity_and_params(self):
        config = """\
        rules:
          pss-run-as-non-root: {enabled: false}
          pss-privileged: {severity: low}
          pod-disruption-budget-missing: {params: {minReplicas: 5}}
        """
        dep = DEPLOY.replace("image: registry.example.com/web:1.0",
                             "image: registry.example.com/web:1.0\n        securityContext: {privileged: true}")
        _, r, _ = scan({"web.yaml": dep}, config=config)
        rules = {c["rule"]: c for c in r["checks"]}
        self.assertNotIn("pss-run-as-non-root", rules)
        self.assertEqual(rules["pss-privileged"]["severity"], "low")
        self.assertNotIn("pod-disruption-budget-missing", rules)  # 2 replicas < 5: nothing evaluated
        _, r, _ = scan({"web.yaml": dep})
        self.assertEqual({c["rule"]: c for c in r["checks"]}["pod-disruption-budget-missing"]["failed"], 1)

    def test_bad_config_names_file_line_and_field(self):
        code, _, err = scan({"web.yaml": DEPLOY}, config="rules:\n  pss-privileged: {severity: huge}\n")
        self.assertEqual(code, 2)
        self.assertIn(".kguard.yaml:2:30: rules.pss-privileged.severity", err)
        code, _, err = scan({"web.yaml": DEPLOY}, config="rules:\n  no-such-rule: {enabled: true}\n")
        self.assertEqual(code, 2)
        self.assertIn("no rule named 'no-such-rule'", err)
        code, _, err = scan({"web.yaml": DEPLOY},
                            config="rules:\n  pod-disruption-budget-missing: {params: {minReplicas: -1}}\n")
        self.assertEqual(code, 2)
        self.assertIn("rules.pod-disruption-budget-missing.params.minReplicas: must be at least 1, not -1", err)


class CustomRules(unittest.TestCase):
    def test_custom_rule_binds_a_template(self):
        with tempfile.TemporaryDirectory() as rules:
            path = write(rules, "team-label/rule.yaml", TEAM_LABEL_RULE)
            _, r, _ = scan({"web.yaml": DEPLOY}, "--rules", rules, "--only", "team-label-missing")
            self.assertEqual(results(r, "team-label-missing"), [("Deployment", "web", "fail")])
            text = open(path).read().replace("expect: present", "expect: sometimes")
            with open(path, "w") as f:
                f.write(text)
            code, _, err = scan({"web.yaml": DEPLOY}, "--rules", rules)
            self.assertEqual(code, 2)
            self.assertIn("rule.yaml", err)
            self.assertIn("rule 'team-label-missing': field 'params.expect': 'sometimes' is not one of", err)


HPA = """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 8
"""


class References(unittest.TestCase):
    """Rules whose verdict depends on an object named by another object."""

    def test_autoscaler_in_another_file_owns_the_replica_count(self):
        one = DEPLOY.replace("replicas: 2", "replicas: 1")
        rules = "deployment-replicas-too-low,hpa-target-sets-replicas,hpa-target-missing"
        _, alone, _ = scan({"web.yaml": one}, "--only", rules)
        self.assertEqual(results(alone, "deployment-replicas-too-low"), [("Deployment", "web", "fail")])
        self.assertEqual(tally(alone, "hpa-target-sets-replicas"), (0, 0, 0))
        _, both, _ = scan({"web.yaml": one, "scaling/hpa.yaml": HPA}, "--only", rules)
        self.assertEqual(tally(both, "deployment-replicas-too-low"), (0, 0, 0))
        self.assertEqual(results(both, "hpa-target-sets-replicas"), [("Deployment", "web", "fail")])
        self.assertEqual(tally(both, "hpa-target-missing"), (1, 0, 0))
        _, dangling, _ = scan({"scaling/hpa.yaml": HPA}, "--only", rules)
        self.assertEqual(results(dangling, "hpa-target-missing"),
                         [("HorizontalPodAutoscaler", "web", "fail")])

    def test_env_sources_and_service_ports_resolve_across_files(self):
        dep = DEPLOY.replace(
            "image: registry.example.com/web:1.0\n",
            "image: registry.example.com/web:1.0\n"
            "        ports: [{name: http, containerPort: 8080}]\n"
            "        env:\n"
            "        - name: TOKEN\n"
            "          valueFrom: {secretKeyRef: {name: web-token, key: token}}\n", 1)
        secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: web-token, namespace: shop}\n" \
                 "stringData: {token: x}\n"
        svc = SERVICE.replace("ports: [{port: 80}]", "ports: [{name: http, port: 80, targetPort: http}]")
        ingress = """\
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web, namespace: shop}
        spec:
          rules:
          - http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
        """
        rules = "env-references-missing-source,service-target-port-not-declared,ingress-backend-service-missing"
        _, r, _ = scan({"web.yaml": dep, "secrets/token.yaml": secret, "svc.yaml": svc, "ing.yaml": ingress},
                       "--only", rules)
        for rule in rules.split(","):
            self.assertEqual(tally(r, rule), (1, 0, 0), rule)
        # The Secret and the Service are in none of the files: both references dangle.
        _, r, _ = scan({"web.yaml": dep, "ing.yaml": ingress}, "--only", rules)
        self.assertEqual(results(r, "env-references-missing-source"), [("Deployment", "web", "fail")])
        self.assertEqual(results(r, "ingress-backend-service-missing"), [("Ingress", "web", "fail")])
        # A renamed container port breaks the Service's named targetPort.
        _, r, _ = scan({"web.yaml": dep.replace("name: http,", "name: web,"), "svc.yaml": svc},
                       "--only", "service-target-port-not-declared")
        self.assertEqual(results(r, "service-target-port-not-declared"), [("Service", "web", "fail")])

    def test_version_rules_take_their_parameters_from_the_config(self):
        dep = DEPLOY.replace(
            "image: registry.example.com/web:1.0\n",
            "image: registry.example.com/web:1.0\n"
            "        volumeMounts: [{name: data, mountPath: /data, subPath: web}]\n", 1)
        dep += "      volumes: [{name: data, emptyDir: {}}]\n"
        rule = "subpath-mount-cve-2021-25741"
        for version, failed in (("1.21.4", 1), ("1.21.5", 0), ("1.18.20", 1), ("1.30.0", 0)):
            config = "rules:\n  %s: {enabled: true, params: {kubernetesVersion: \"%s\"}}\n" % (rule, version)
            _, r, _ = scan({"web.yaml": dep}, config=config)
            self.assertEqual(tally(r, rule), (1, failed, 0), version)
        code, _, err = scan({"web.yaml": dep},
                            config="rules:\n  %s: {enabled: true, params: {kubernetesVersion: soon}}\n" % rule)
        self.assertEqual(code, 2)
        self.assertIn("rules.%s.params: kubernetesVersion must be a version" % rule, err)
        # Your own components and minimum versions replace the built-in list.
        config = """\
        rules:
          component-version-vulnerable:
            params:
              components:
              - component: our proxy
                images: ["registry.example.com/proxy"]
                affected: [{below: "1.2.0"}]
                advisory: "INTERNAL-7 (minimum supported version 1.2.0)"
        """
        dep = DEPLOY.replace("proxy:1.0", "proxy:1.0.3")
        _, r, _ = scan({"web.yaml": dep}, "--only", "component-version-vulnerable", config=config)
        messages = [f["message"] for f in r["findings"] if f["rule"] == "component-version-vulnerable"]
        self.assertEqual(len(messages), 1)
        self.assertIn("our proxy 1.0.3; versions before 1.2.0 are affected by INTERNAL-7", messages[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
