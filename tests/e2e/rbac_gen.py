"""Seeded generator of RBAC objects and of the authorization questions that probe them, shared by
the differential test against the real authorizer (rbac_differential.py).

generate_objects(rng) gives Roles, ClusterRoles (some aggregated, some feeding the bootstrap
admin/edit/view through their aggregate-to-* labels), RoleBindings and ClusterRoleBindings with
every rule shape the authorizer knows: wildcards, `res/sub` and `*/sub`, resourceNames,
nonResourceURLs with `*` prefixes, bindings to missing roles, RoleBindings to ClusterRoles, and
User, Group and ServiceAccount subjects (with and without a namespace).

questions(rng, objects, identities) walks the rules of the objects as the API server holds them
(aggregation done) and asks, for each rule of each binding, a question it allows and questions
that differ from it in one dimension (verb, group, resource, subresource, name, namespace,
identity), plus random questions across the whole universe.
"""
import random

GEN_NAMESPACES = ["rd-alpha", "rd-beta", "rd-gamma"]
AGG_LABEL = "kguard.e2e/agg"
TIER_LABEL = "kguard.e2e/tier"
CHAIN_LABEL = "kguard.e2e/chain"

# (apiGroup, resource, subresources, namespaced)
RESOURCES = [
    ("", "pods", ["log", "exec", "attach", "portforward", "status", "eviction",
                  "ephemeralcontainers", "binding", "proxy"], True),
    ("", "secrets", [], True),
    ("", "configmaps", [], True),
    ("", "services", ["status", "proxy"], True),
    ("", "serviceaccounts", ["token"], True),
    ("", "replicationcontrollers", ["scale", "status"], True),
    ("", "endpoints", [], True),
    ("", "persistentvolumeclaims", ["status"], True),
    ("", "events", [], True),
    ("", "nodes", ["proxy", "status"], False),
    ("", "namespaces", ["status", "finalize"], False),
    ("", "persistentvolumes", [], False),
    ("", "users", [], False),
    ("", "groups", [], False),
    ("apps", "deployments", ["scale", "status"], True),
    ("apps", "statefulsets", ["scale", "status"], True),
    ("apps", "daemonsets", ["status"], True),
    ("apps", "replicasets", ["scale"], True),
    ("batch", "jobs", ["status"], True),
    ("batch", "cronjobs", ["status"], True),
    ("rbac.authorization.k8s.io", "roles", [], True),
    ("rbac.authorization.k8s.io", "rolebindings", [], True),
    ("rbac.authorization.k8s.io", "clusterroles", [], False),
    ("rbac.authorization.k8s.io", "clusterrolebindings", [], False),
    ("certificates.k8s.io", "certificatesigningrequests", ["approval", "status"], False),
    ("certificates.k8s.io", "signers", [], False),
    ("networking.k8s.io", "networkpolicies", [], True),
    ("networking.k8s.io", "ingresses", ["status"], True),
    ("coordination.k8s.io", "leases", [], True),
    ("authentication.k8s.io", "userextras", ["scopes"], False),
    ("authentication.k8s.io", "tokenreviews", [], False),
    ("authorization.k8s.io", "subjectaccessreviews", [], False),
    ("authorization.k8s.io", "selfsubjectaccessreviews", [], False),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", [], False),
    ("apiextensions.k8s.io", "customresourcedefinitions", ["status"], False),
    ("metrics.k8s.io", "pods", [], True),
    ("example.com", "widgets", ["scale", "status"], True),
    ("example.com", "gadgets", [], False),
    ("extensions", "deployments", ["scale"], True),
]
GROUPS = sorted({r[0] for r in RESOURCES})
SCOPE = {(g, r): ns for g, r, _, ns in RESOURCES}
SUBS = {(g, r): subs for g, r, subs, _ in RESOURCES}
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
         "escalate", "bind", "impersonate", "approve", "use", "proxy", "sign"]
ODD_VERBS = ["frobnicate", "GET", "impersonate:user-info", "*"]
NAMES = ["web", "db", "aws-auth", "public", "admin", "kube-root-ca.crt"]
NONRES_RULE_URLS = ["/healthz", "/healthz/*", "/apis/*", "/apis*", "/metrics", "/logs/*",
                    "/custom*", "/debug/*", "*", "/version/", "/apis/*/v1", "/openapi/**"]
NONRES_URLS = ["/healthz", "/healthz/", "/healthz/etcd", "/livez", "/readyz", "/metrics",
               "/metrics/slis", "/api", "/api/v1", "/apis", "/apis/", "/apis/apps/v1", "/apisx",
               "/apis/*/v1", "/version", "/version/", "/logs", "/logs/x.log", "/openapi/v2",
               "/openapi/v3/apis", "/debug/pprof/heap", "/custom", "/customer/data", "/", "",
               "/.well-known/openid-configuration", "/openid/v1/jwks"]
NONRES_VERBS = ["get", "post", "put", "delete", "head", "patch"]

USERS = ["alice", "bob", "carol", "dave", "erin"]
TEAM_GROUPS = ["team-red", "team-blue", "ops"]
SERVICE_ACCOUNTS = [("rd-alpha", "builder"), ("rd-beta", "deployer"), ("rd-gamma", "default"),
                    ("rd-alpha", "default")]


def sa_user(ns, name):
    return f"system:serviceaccount:{ns}:{name}"


def sa_groups(ns):
    return ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]


def base_identities():
    """(user, groups) pairs asked about whatever the objects say. Groups are given exactly as a
    SubjectAccessReview gives them: no group is implied by a user name."""
    ids = [
        ("alice", ["team-red", "system:authenticated"]),
        ("bob", ["team-blue", "system:authenticated"]),
        ("carol", ["ops", "team-red", "system:authenticated"]),
        ("dave", ["system:authenticated"]),
        ("erin", []),  # no groups at all: not even system:authenticated
        ("mallory", ["team-green", "system:authenticated"]),
        ("system:anonymous", ["system:unauthenticated"]),
        ("root", ["system:masters"]),  # the privileged group bypasses RBAC
        ("system:kube-scheduler", ["system:authenticated"]),
        ("system:kube-controller-manager", ["system:authenticated"]),
        ("system:kube-proxy", ["system:authenticated"]),
        ("prom", ["system:monitoring", "system:authenticated"]),
        ("system:volume-scheduler", ["system:authenticated"]),
    ]
    for ns, name in SERVICE_ACCOUNTS + [("rd-beta", "default"), ("default", "default")]:
        ids.append((sa_user(ns, name), sa_groups(ns)))
    for name in ["clusterrole-aggregation-controller", "replicaset-controller",
                 "namespace-controller", "generic-garbage-collector", "bootstrap-signer"]:
        ids.append((sa_user("kube-system", name), sa_groups("kube-system")))
    # A ServiceAccount name without its groups, as a token reviewer might leave it.
    ids.append((sa_user("rd-alpha", "builder"), []))
    return ids


def _rule(rng, cluster_role):
    if cluster_role and rng.random() < 0.14:
        verbs = ["*"] if rng.random() < 0.2 else rng.sample(NONRES_VERBS, rng.randint(1, 2))
        return {"verbs": verbs, "nonResourceURLs": rng.sample(NONRES_RULE_URLS, rng.randint(1, 2))}
    g, r, subs, _ = rng.choice(RESOURCES)
    shape = rng.random()
    if shape < 0.1:
        groups = ["*"]
    elif shape < 0.2:
        groups = sorted({g, rng.choice(GROUPS)})
    else:
        groups = [g]
    resources = []
    for _ in range(rng.randint(1, 2)):
        form = rng.random()
        if form < 0.1:
            resources.append("*")
        elif form < 0.3 and subs:
            resources.append(f"{r}/{rng.choice(subs)}")
        elif form < 0.4:
            sub = rng.choice(["scale", "status", "log", "exec", "proxy", "token", "approval"])
            resources.append(f"*/{sub}")
        else:
            resources.append(r)
        g2, r, subs, _ = rng.choice([x for x in RESOURCES if x[0] in groups] or RESOURCES)
    verbs = ["*"] if rng.random() < 0.12 else sorted(rng.sample(VERBS, rng.randint(1, 4)))
    rule = {"apiGroups": groups, "resources": sorted(set(resources)), "verbs": verbs}
    if rng.random() < 0.2:
        rule["resourceNames"] = rng.sample(NAMES, rng.randint(1, 2))
    return rule


def _subjects(rng, binding_ns):
    out = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.35:
            out.append({"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                        "name": rng.choice(USERS + ["nobody-yet"])})
        elif kind < 0.6:
            out.append({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                        "name": rng.choice(TEAM_GROUPS + ["system:serviceaccounts:rd-beta"])})
        else:
            ns, name = rng.choice(SERVICE_ACCOUNTS)
            subject = {"kind": "ServiceAccount", "name": name, "namespace": ns}
            if binding_ns and ns == binding_ns and rng.random() < 0.5:
                del subject["namespace"]  # defaults to the RoleBinding's namespace
            out.append(subject)
    return out


def generate_objects(rng):
    objs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
            for ns in GEN_NAMESPACES]
    roles = {}  # ns -> [names]
    for ns in GEN_NAMESPACES:
        for i in range(8):
            name = f"gen-role-{i}"
            objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                         "metadata": {"name": name, "namespace": ns},
                         "rules": [_rule(rng, False) for _ in range(rng.randint(1, 4))]})
            roles.setdefault(ns, []).append(name)
    cluster_roles = []
    for i in range(30):
        name = f"gen-clusterrole-{i}"
        labels = {}
        if rng.random() < 0.5:
            labels[AGG_LABEL] = rng.choice(["red", "blue", "green"])
        if rng.random() < 0.2:
            labels[TIER_LABEL] = rng.choice(["front", "back"])
        if i in (3, 7):  # feeds the bootstrap view (so edit and admin too)
            labels["rbac.authorization.k8s.io/aggregate-to-view"] = "true"
        if i in (11,):
            labels["rbac.authorization.k8s.io/aggregate-to-edit"] = "true"
        if i in (13, 17):
            labels["rbac.authorization.k8s.io/aggregate-to-admin"] = "true"
        meta = {"name": name}
        if labels:
            meta["labels"] = labels
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": meta,
                     "rules": [_rule(rng, True) for _ in range(rng.randint(1, 4))]})
        cluster_roles.append(name)
    aggregated = [
        ("gen-agg-red", [{"matchLabels": {AGG_LABEL: "red"}}], {CHAIN_LABEL: "1"}),
        ("gen-agg-red-or-blue", [{"matchLabels": {AGG_LABEL: "red"}},
                                 {"matchLabels": {AGG_LABEL: "blue"}}], {}),
        ("gen-agg-in", [{"matchExpressions": [{"key": AGG_LABEL, "operator": "In",
                                               "values": ["green", "blue"]}]}], {CHAIN_LABEL: "1"}),
        ("gen-agg-tier", [{"matchExpressions": [{"key": TIER_LABEL, "operator": "Exists"}]}], {}),
        ("gen-agg-tier-front-red", [{"matchLabels": {TIER_LABEL: "front", AGG_LABEL: "red"}}], {}),
        ("gen-agg-chain", [{"matchLabels": {CHAIN_LABEL: "1"}}], {}),
        ("gen-agg-nothing", [{"matchLabels": {AGG_LABEL: "purple"}}], {}),
        # Selects every ClusterRole not labelled blue, the bootstrap ones included.
        ("gen-agg-not-blue", [{"matchExpressions": [{"key": AGG_LABEL, "operator": "NotIn",
                                                     "values": ["blue"]},
                                                    {"key": TIER_LABEL, "operator": "DoesNotExist"},
                                                    {"key": CHAIN_LABEL, "operator": "DoesNotExist"},
                                                    {"key": "kubernetes.io/bootstrapping",
                                                     "operator": "DoesNotExist"}]}], {}),
    ]
    for name, selectors, labels in aggregated:
        meta = {"name": name}
        if labels:
            meta["labels"] = labels
        # The rules written here are overwritten by the aggregation controller.
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": meta, "aggregationRule": {"clusterRoleSelectors": selectors},
                     "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]})
        cluster_roles.append(name)
    bootstrap = ["view", "edit", "admin", "system:aggregate-to-edit", "system:basic-user",
                 "system:node-proxier", "system:auth-delegator", "cluster-admin"]
    for ns in GEN_NAMESPACES:
        for i in range(10):
            pick = rng.random()
            if pick < 0.45:
                ref = {"kind": "Role", "name": rng.choice(roles[ns])}
            elif pick < 0.5:
                ref = {"kind": "Role", "name": "gen-role-missing"}
            elif pick < 0.85:
                ref = {"kind": "ClusterRole", "name": rng.choice(cluster_roles)}
            elif pick < 0.95:
                ref = {"kind": "ClusterRole", "name": rng.choice(bootstrap)}
            else:
                ref = {"kind": "ClusterRole", "name": "gen-clusterrole-missing"}
            ref["apiGroup"] = "rbac.authorization.k8s.io"
            objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                         "metadata": {"name": f"gen-rb-{i}", "namespace": ns},
                         "roleRef": ref, "subjects": _subjects(rng, ns)})
    for i in range(14):
        name = rng.choice(cluster_roles) if i < 12 else "gen-clusterrole-missing"
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                     "metadata": {"name": f"gen-crb-{i}"},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                 "name": name},
                     "subjects": _subjects(rng, None)})
    # Narrow grants to the implicit groups: everyone authenticated, everyone anonymous, and
    # every ServiceAccount.
    objs += [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "gen-everyone"},
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                    "resourceNames": ["public"]},
                   {"nonResourceURLs": ["/custom*"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "gen-everyone"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "gen-everyone"},
         "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                       "name": "system:authenticated"},
                      {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                       "name": "system:unauthenticated"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "gen-all-sas", "namespace": "rd-gamma"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "view"},
         "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                       "name": "system:serviceaccounts"}]},
    ]
    return objs


# ---- questions ------------------------------------------------------------------------------
def question(user, groups, verb, group="", resource="", sub="", ns="", name="", path=None):
    return {"user": user, "groups": list(groups), "verb": verb, "apiGroup": group,
            "resource": resource, "subresource": sub, "namespace": ns, "name": name, "path": path}


def qkey(q):
    return (q["user"], tuple(q["groups"]), q["verb"], q["apiGroup"], q["resource"],
            q["subresource"], q["namespace"], q["name"], q["path"])


class Asker:
    def __init__(self, rng, identities, namespaces):
        self.rng = rng
        self.identities = identities
        self.namespaces = namespaces
        self.out = {}

    def add(self, q):
        self.out.setdefault(qkey(q), q)

    def identities_for(self, subject, binding_ns):
        kind, name = subject.get("kind"), subject.get("name", "")
        if kind == "User":
            ids = [i for i in self.identities if i[0] == name]
            return ids or [(name, ["system:authenticated"])]
        if kind == "Group":
            ids = [i for i in self.identities if name in i[1]]
            return ids or [(f"member-of-{name}", [name, "system:authenticated"])]
        if kind == "ServiceAccount":
            ns = subject.get("namespace") or binding_ns or ""
            return [(sa_user(ns, name), sa_groups(ns))]
        return []

    def pick_resource(self, group_list, resource):
        """A concrete (group, resource, subresource) a rule's group and resource entries cover."""
        rng = self.rng
        group = rng.choice(GROUPS + ["other.io"]) if "*" in group_list else rng.choice(group_list)
        if resource == "*":
            cands = [r for r in RESOURCES if r[0] == group] or RESOURCES
            g, r, subs, _ = rng.choice(cands)
            sub = rng.choice(subs) if subs and rng.random() < 0.4 else ""
            return group, r if group == g else rng.choice(["things", r]), sub
        if resource.startswith("*/"):
            cands = [r for r in RESOURCES if r[0] == group] or RESOURCES
            return group, rng.choice(cands)[1], resource[2:]
        base, _, sub = resource.partition("/")
        return group, base, sub

    def namespace_for(self, group, resource, binding_ns):
        if binding_ns is not None:
            return binding_ns
        if not SCOPE.get((group, resource), True):
            return ""
        return self.rng.choice(["", "rd-alpha", "rd-beta", "kube-system", "default", "elsewhere"])

    def rule_questions(self, rule, subject_ids, binding_ns):
        rng = self.rng
        ident = rng.choice(subject_ids)
        outsider = rng.choice([i for i in self.identities if i not in subject_ids] or
                              self.identities)
        verbs = rule.get("verbs") or []
        verb = rng.choice(VERBS + ODD_VERBS) if "*" in verbs else rng.choice(verbs) if verbs else "get"
        other_verb = rng.choice([v for v in VERBS + ["frobnicate"] if v not in verbs])
        if rule.get("nonResourceURLs"):
            url = rng.choice(rule["nonResourceURLs"])
            nverb = rng.choice(NONRES_VERBS) if "*" in verbs else verb
            if url.endswith("*"):
                stem = url.rstrip("*")
                paths = [stem, stem + rng.choice(["x", "/deep/er", "z.log"])]
                if stem:
                    paths.append(stem[:-1])  # one character short of the prefix
            else:
                paths = [url, url + "/", url.rstrip("/") or "/x"]
            for p in paths:
                self.add(question(*ident, nverb, path=p))
            self.add(question(*ident, other_verb, path=paths[0]))
            self.add(question(*outsider, nverb, path=paths[0]))
            return
        groups = rule.get("apiGroups") or [""]
        resource = rng.choice(rule.get("resources") or ["pods"])
        group, res, sub = self.pick_resource(groups, resource)
        ns = self.namespace_for(group, res, binding_ns)
        names = rule.get("resourceNames") or []
        name = rng.choice(names) if names else rng.choice(["", "", "web", "x"])
        self.add(question(*ident, verb, group, res, sub, ns, name))
        # One dimension off each.
        self.add(question(*ident, other_verb, group, res, sub, ns, name))
        self.add(question(*outsider, verb, group, res, sub, ns, name))
        if "*" not in groups:
            self.add(question(*ident, verb, rng.choice([g for g in GROUPS + ["other.io"]
                                                        if g not in groups]), res, sub, ns, name))
        if sub:
            self.add(question(*ident, verb, group, res, "", ns, name))
        else:
            subs = SUBS.get((group, res)) or ["status"]
            self.add(question(*ident, verb, group, res, rng.choice(subs), ns, name))
        if names:
            self.add(question(*ident, verb, group, res, sub, ns, ""))
            self.add(question(*ident, verb, group, res, sub, ns, "not-" + names[0]))
        if binding_ns is not None:
            self.add(question(*ident, verb, group, res, sub,
                              rng.choice([n for n in self.namespaces if n != binding_ns]), name))
            self.add(question(*ident, verb, group, res, sub, "", name))
        if verb in ("list", "watch", "create", "deletecollection") and not names:
            self.add(question(*ident, verb, group, res, sub, ns, "web"))

    def random_questions(self, n):
        rng = self.rng
        for _ in range(n):
            ident = rng.choice(self.identities)
            if rng.random() < 0.12:
                self.add(question(*ident, rng.choice(NONRES_VERBS), path=rng.choice(NONRES_URLS)))
                continue
            g, r, subs, namespaced = rng.choice(RESOURCES)
            sub = rng.choice(subs) if subs and rng.random() < 0.3 else ""
            ns = rng.choice(self.namespaces + [""]) if namespaced else ""
            name = rng.choice(["", ""] + NAMES)
            self.add(question(*ident, rng.choice(VERBS + ODD_VERBS[:2]), g, r, sub, ns, name))


def questions(rng, cluster_roles, roles, bindings, identities, namespaces, random_count):
    """cluster_roles: name -> rules; roles: (ns, name) -> rules; bindings: list of
    (binding_ns or None, roleRef, subjects) as the API server holds them."""
    asker = Asker(rng, identities, namespaces)
    for binding_ns, ref, subjects in bindings:
        if ref.get("kind") == "Role":
            rules = roles.get((binding_ns, ref.get("name")))
        else:
            rules = cluster_roles.get(ref.get("name"))
        subject_ids = []
        for s in subjects or []:
            subject_ids += asker.identities_for(s, binding_ns)
        if not subject_ids:
            continue
        if rules is None:  # a binding to a missing role: grants nothing
            rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
        for rule in rules:
            asker.rule_questions(rule, subject_ids, binding_ns)
    asker.random_questions(random_count)
    return list(asker.out.values())


def seeded(seed):
    return random.Random(seed)
