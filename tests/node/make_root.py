#!/usr/bin/env python3
"""Creates a node root directory from a committed description (tests/node/roots/*.yaml).

git keeps neither owners nor most mode bits, so the fixture roots of `kguard node --root` are
described as data (path, mode, owner, content) and made at test time: directories first, then files,
then modes and owners (chown needs root; without it the owners stay the caller's and
`owners_applied` is False, which the test reports). A description may name a `base:` description it
modifies: `files:` entries replace the base's entry of the same path (or add one), `remove:` drops
paths (and everything under them). An entry with `cert: NAME` gets a real self-signed CA certificate
made with openssl at test time (subject CN=NAME, an EC P-256 key named by `key:`, default NAME): the
same NAME and key give the same certificate in one root, another NAME with the same key a re-issued CA
(the etcd CA rule compares certificates and keys, so these cannot be placeholder text).

Usage: make_root.py DESCRIPTION.yaml OUT_DIR
"""
import os
import subprocess
import sys
import tempfile

import yaml


def load(path):
    with open(path) as f:
        desc = yaml.safe_load(f)
    entries = {}
    if desc.get("base"):
        entries = load(os.path.join(os.path.dirname(path), desc["base"]))
    for p in desc.get("remove") or []:
        for k in list(entries):
            if k == p or k.startswith(p.rstrip("/") + "/"):
                del entries[k]
    for e in desc.get("files") or []:
        entries[e["path"]] = e
    return entries


def owner_ids(owner, passwd, group):
    user, _, grp = str(owner).partition(":")
    uid = int(user) if user.isdigit() else passwd[user]
    gid = int(grp) if grp.isdigit() else group[grp]
    return uid, gid


def ids_from(entries, name):
    e = entries.get(name)
    out = {"root": 0}
    for line in (e or {}).get("content", "").splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            out[parts[0]] = int(parts[2])
    return out


def generated_certs(entries):
    """NAME/KEY -> PEM text of the `cert:` entries, made with openssl in a scratch folder."""
    out = {}
    keys = {}
    with tempfile.TemporaryDirectory() as tmp:
        for e in entries.values():
            if not e.get("cert"):
                continue
            name, key = str(e["cert"]), str(e.get("key", e["cert"]))
            if (name, key) in out:
                continue
            if key not in keys:
                keys[key] = os.path.join(tmp, "key-%d.pem" % len(keys))
                subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keys[key]],
                               check=True, capture_output=True)
            crt = os.path.join(tmp, "cert-%d.pem" % len(out))
            subprocess.run(["openssl", "req", "-x509", "-new", "-key", keys[key], "-subj", "/CN=" + name, "-days", "2",
                            "-out", crt], check=True, capture_output=True)
            with open(crt) as f:
                out[(name, key)] = f.read()
    return out


def make(description, out):
    entries = load(description)
    certs = generated_certs(entries)
    passwd = ids_from(entries, "/etc/passwd")
    group = ids_from(entries, "/etc/group")
    os.makedirs(out, exist_ok=True)
    owners_applied = os.geteuid() == 0
    for path in sorted(entries):
        e = entries[path]
        target = os.path.join(out, path.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if e.get("symlink"):
            os.symlink(e["symlink"], target)
        elif e.get("dir"):
            os.makedirs(target, exist_ok=True)
        else:
            with open(target, "w") as f:
                if e.get("cert"):
                    f.write(certs[(str(e["cert"]), str(e.get("key", e["cert"])))])
                else:
                    f.write(e.get("content", ""))
    # Modes and owners last, deepest first, so a 0700 directory does not stop its files being made.
    for path in sorted(entries, key=lambda p: -p.count("/")):
        e = entries[path]
        if e.get("symlink"):
            continue
        target = os.path.join(out, path.lstrip("/"))
        os.chmod(target, int(str(e.get("mode", "0644" if not e.get("dir") else "0755")), 8))
        if owners_applied:
            uid, gid = owner_ids(e.get("owner", "root:root"), passwd, group)
            os.chown(target, uid, gid)
    return owners_applied


if __name__ == "__main__":
    make(sys.argv[1], sys.argv[2])
