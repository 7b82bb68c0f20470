#!/usr/bin/env python3
"""Random manifests for the netpol fuzz target's corpus (fuzz/corpus/netpol/r*.yaml):
the x/y/z × a/b/c pods with random named ports and host networking, and random
NetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies and
ClusterNetworkPolicies. The replay checks each pair's fast verdict against
explain's direct evaluation. usage: gen_netpol_corpus.py FIRST_SEED END_SEED (writes rNNNN.yaml here)"""
import random, sys
def sel(r, keys, vals):
    c = r.random()
    if c < 0.2: return "{}"
    if c < 0.6: return "{matchLabels: {%s: %s}}" % (r.choice(keys), r.choice(vals))
    if c < 0.8: return "{matchExpressions: [{key: %s, operator: %s, values: [%s]}]}" % (r.choice(keys), r.choice(["In","NotIn"]), ",".join(r.sample(vals, 2)))
    return "{matchExpressions: [{key: %s, operator: %s}]}" % (r.choice(keys), r.choice(["Exists","DoesNotExist"]))
def ports(r, named=True):
    out=[]
    for _ in range(r.randint(0,2)):
        c=r.random()
        p=r.choice(["TCP","UDP","SCTP",None])
        pr = f", protocol: {p}" if p else ""
        if c<0.3 and named: out.append("{port: %s%s}" % (r.choice(["http","dns","metrics"]), pr))
        elif c<0.6: out.append("{port: %d%s}" % (r.choice([53,80,443,8080]), pr))
        elif c<0.8: a=r.randint(1,9000); out.append("{port: %d, endPort: %d%s}" % (a, a+r.randint(0,100), pr))
        else: out.append("{protocol: %s}" % (p or "TCP"))
    return "[" + ", ".join(out) + "]"
def cidr(r):
    return r.choice(["10.0.0.0/8","10.1.0.0/16","0.0.0.0/0","192.168.0.0/16","8.8.8.8/32","172.16.0.0/12"])
def peer(r):
    c=r.random()
    if c<0.25: return "{podSelector: %s}" % sel(r, ["app","tier"], ["a","b","c"])
    if c<0.5: return "{namespaceSelector: %s}" % sel(r, ["ns","env"], ["x","y","z","prod"])
    if c<0.75: return "{namespaceSelector: %s, podSelector: %s}" % (sel(r, ["ns","env"], ["x","y","z","prod"]), sel(r, ["app","tier"], ["a","b","c"]))
    if r.random()<0.5: return "{ipBlock: {cidr: 10.0.0.0/8, except: [10.%d.0.0/16]}}" % r.randint(0,3)
    return "{ipBlock: {cidr: %s}}" % cidr(r)
def admin_peer(r, egress):
    c=r.random()
    if c<0.35: return "{namespaces: %s}" % sel(r, ["ns","env"], ["x","y","z","prod"])
    if c<0.7 or not egress: return "{pods: {namespaceSelector: %s, podSelector: %s}}" % (sel(r, ["ns","env"], ["x","y","z","prod"]), sel(r, ["app","tier"], ["a","b","c"]))
    return "{networks: [%s]}" % cidr(r)
def main(seed):
    r=random.Random(seed)
    d=[]
    for n in ["x","y","z"]:
        d.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {ns: %s, env: %s}}\n" % (n, n, r.choice(["prod","dev"])))
        for p in ["a","b","c"]:
            pts=[]
            for name,num,proto in [("http",r.choice([80,8080]),"TCP"),("dns",53,"UDP"),("metrics",9100,"TCP")]:
                if r.random()<0.5: pts.append("{name: %s, containerPort: %d, protocol: %s}" % (name,num,proto))
            host = "true" if r.random()<0.1 else "false"
            d.append("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {app: %s, tier: %s}}\nspec: {hostNetwork: %s, containers: [{name: c, image: i, ports: [%s]}]}\n" % (p,n,p,r.choice(["a","b","c"]),host,", ".join(pts)))
    for i in range(r.randint(0,5)):
        n=r.choice(["x","y","z"])
        spec="  podSelector: %s\n" % sel(r, ["app","tier"], ["a","b","c"])
        t=r.choice([None,["Ingress"],["Egress"],["Ingress","Egress"]])
        if t: spec+="  policyTypes: [%s]\n" % ",".join(t)
        for gress, key in [("ingress","from"),("egress","to")]:
            c=r.random()
            if c<0.3: continue
            if c<0.4: spec+="  %s: []\n" % gress; continue
            rules=[]
            for _ in range(r.randint(1,3)):
                parts=[]
                if r.random()<0.7: parts.append("%s: [%s]" % (key, ", ".join(peer(r) for _ in range(r.randint(0,2)))))
                if r.random()<0.7: parts.append("ports: %s" % ports(r))
                rules.append("{" + ", ".join(parts) + "}")
            spec+="  %s: [%s]\n" % (gress, ", ".join(rules))
        d.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np%d, namespace: %s}\nspec:\n%s" % (i,n,spec))
    for i in range(r.randint(0,3)):
        kind=r.choice(["AdminNetworkPolicy","BaselineAdminNetworkPolicy","ClusterNetworkPolicy"])
        ver="v1alpha2" if kind=="ClusterNetworkPolicy" else "v1alpha1"
        name="default" if kind=="BaselineAdminNetworkPolicy" else "p%d"%i
        spec=""
        if kind=="ClusterNetworkPolicy": spec+="  tier: %s\n" % r.choice(["Admin","Baseline"])
        if kind!="BaselineAdminNetworkPolicy": spec+="  priority: %d\n" % r.randint(0,3)
        spec+="  subject: %s\n" % admin_peer(r, False)
        for gress,key in [("ingress","from"),("egress","to")]:
            if r.random()<0.3: continue
            rules=[]
            for _ in range(r.randint(1,3)):
                acts = ["Allow","Deny"] if kind=="BaselineAdminNetworkPolicy" else (["Accept","Deny","Pass"] if kind=="ClusterNetworkPolicy" else ["Allow","Deny","Pass"])
                rule="{action: %s, %s: [%s]" % (r.choice(acts), key, ", ".join(admin_peer(r, gress=="egress") for _ in range(r.randint(1,2))))
                if r.random()<0.6:
                    if kind=="ClusterNetworkPolicy":
                        rule+=", protocols: [{%s: {destinationPort: {number: %d}}}]" % (r.choice(["tcp","udp","sctp"]), r.choice([53,80,8080]))
                    else:
                        rule+=", ports: [{portNumber: {protocol: %s, port: %d}}, {namedPort: http}]" % (r.choice(["TCP","UDP"]), r.choice([53,80]))
                rules.append(rule+"}")
            spec+="  %s: [%s]\n" % (gress, ", ".join(rules))
        d.append("apiVersion: policy.networking.k8s.io/%s\nkind: %s\nmetadata: {name: %s}\nspec:\n%s" % (ver,kind,name,spec))
    return "---\n".join(d)
for s in range(int(sys.argv[1]), int(sys.argv[2])):
    open("r%04d.yaml" % s, "w").write(main(s))
