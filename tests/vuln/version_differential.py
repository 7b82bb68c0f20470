#!/usr/bin/env python3
"""Version order against the ecosystems' own tools (issue 15 item 1), on
versions generated with a fixed seed:

- dpkg: `dpkg --compare-versions A lt B` / `eq` (the real dpkg);
- rpm: `rpm --eval '%{lua: print(rpm.vercmp(a, b))}'` (the real rpm, one
  process for all pairs);
- PEP 440: the `packaging` library's Version (order, and which strings parse),
  when it is installed;
- npm: node-semver as bundled with npm (`semver.compare`, `semver.satisfies`
  without options), when node and npm are installed.

Every pair must agree; the script prints how many were checked per tool.
Run by ctest: version_differential.py VERSION_PROBE [PAIRS]
"""
import os
import random
import shutil
import subprocess
import sys

PROBE = sys.argv[1]
PAIRS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rng = random.Random(15)  # fixed seed: the same versions every run
failures = []


def probe(requests):
    out = subprocess.run([PROBE], input="".join("\t".join(r) + "\n" for r in requests), capture_output=True,
                         text=True, check=True).stdout.split("\n")
    return out[:len(requests)]


def pick(s, n):
    return "".join(rng.choice(s) for _ in range(n))


def mutate(v, alphabet):
    """A close neighbour of v (one change), so that pairs often tie or differ late."""
    if not v:
        return v
    i = rng.randrange(len(v))
    op = rng.randrange(4)
    if op == 0:
        return v[:i] + rng.choice(alphabet) + v[i + 1:]
    if op == 1:
        return v[:i] + rng.choice(alphabet) + v[i:]
    if op == 2 and len(v) > 1:
        return v[:i] + v[i + 1:]
    return v


def pairs_of(gen, alphabet):
    out = []
    for _ in range(PAIRS):
        a = gen()
        b = mutate(a, alphabet) if rng.random() < 0.6 else gen()
        out.append((a, b))
    return out


def report(name, pairs, ours, theirs):
    bad = [(a, b, o, t) for (a, b), o, t in zip(pairs, ours, theirs) if o != t]
    for a, b, o, t in bad[:40]:
        failures.append(f"{name}: {a!r} vs {b!r}: kguard {o}, the tool {t}")
    print(f"[differential] {name}: {len(pairs) - len(bad)}/{len(pairs)} agree")


# ---- dpkg -------------------------------------------------------------------
DEB_UP = "0123456789" * 3 + "abz" + ".+~" * 2
DEB_REV = "0123456789" * 2 + "abu" + ".+~"


def deb():
    v = rng.choice("0123456789") + pick(DEB_UP, rng.randrange(0, 8))
    if rng.random() < 0.5:
        v += "-" + pick("0123456789", 1) + pick(DEB_REV, rng.randrange(0, 5))
    if rng.random() < 0.2:
        v = str(rng.randrange(0, 4)) + ":" + v
    return v


def dpkg_cmp(a, b):
    """dpkg's answer, or None when dpkg refuses a version (exit status 2 or 255)."""
    rc = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True).returncode
    if rc == 0:
        return "<"
    if rc != 1:
        return None
    rc = subprocess.run(["dpkg", "--compare-versions", a, "eq", b], capture_output=True).returncode
    return "=" if rc == 0 else ">" if rc == 1 else None


if shutil.which("dpkg"):
    answered = [(a, b, dpkg_cmp(a, b)) for a, b in pairs_of(deb, DEB_UP)]
    pairs = [(a, b) for a, b, t in answered if t is not None]
    ours = probe([("cmp", "dpkg", a, b) for a, b in pairs])
    report("dpkg", pairs, ours, [t for _, _, t in answered if t is not None])
else:
    failures.append("dpkg is not installed (scripts/install-deps.sh)")

# ---- rpm --------------------------------------------------------------------
RPM_V = "0123456789" * 3 + "abzAZ" + "._+~^" * 2


def rpm():
    v = rng.choice("0123456789a") + pick(RPM_V, rng.randrange(0, 8))
    if rng.random() < 0.7:
        v += "-" + pick("0123456789ael._~^", rng.randrange(1, 6))
    if rng.random() < 0.2:
        v = str(rng.randrange(0, 3)) + ":" + v
    return v


if shutil.which("rpm"):
    pairs = pairs_of(rpm, RPM_V)
    pairs = [(a, b) for a, b in pairs if "]]" not in a + b]
    # rpm's Lua print() joins its output without newlines: separate by blanks.
    script = "".join(f"print(rpm.vercmp([[{a}]], [[{b}]]) .. ' ')\n" for a, b in pairs)
    lua = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"kguard-rpmvercmp-{os.getpid()}.lua")
    with open(lua, "w") as f:
        f.write(script)
    try:
        out = subprocess.run(["rpm", "--eval", f"%{{lua: dofile([[{lua}]])}}"], capture_output=True, text=True,
                             check=True).stdout.split()
    finally:
        os.unlink(lua)
    theirs = ["<" if int(x) < 0 else ">" if int(x) > 0 else "=" for x in out]
    assert len(theirs) == len(pairs), (len(theirs), len(pairs))
    report("rpm", pairs, probe([("cmp", "rpm", a, b) for a, b in pairs]), theirs)
else:
    failures.append("rpm is not installed (scripts/install-deps.sh)")

# ---- PEP 440 (packaging) ------------------------------------------------------
try:
    from packaging.version import InvalidVersion, Version
except ImportError:
    Version = None
if Version:
    PARTS = ["", "a", "b", "rc", "c", "alpha", "beta", "pre", "preview", ".post", "post", "-", ".dev", "dev", "r",
             "rev", "+local", "+1.abc", "+ab-1"]

    def pep():
        v = rng.choice(["", "", "1!", "v", "V"]) + ".".join(str(rng.randrange(0, 12)) for _ in range(rng.randrange(1, 4)))
        for _ in range(rng.randrange(0, 3)):
            v += rng.choice(PARTS) + (str(rng.randrange(0, 4)) if rng.random() < 0.6 else "")
        return v.upper() if rng.random() < 0.1 else v

    strings = [pep() for _ in range(PAIRS)]
    valid_theirs = []
    for s in strings:
        try:
            Version(s)
            valid_theirs.append("1")
        except InvalidVersion:
            valid_theirs.append("0")
    report("packaging (validity)", [(s, "") for s in strings], probe([("valid", "pep440", s) for s in strings]),
           valid_theirs)
    good = [s for s, ok in zip(strings, valid_theirs) if ok == "1"]
    pairs = [(rng.choice(good), rng.choice(good)) for _ in range(PAIRS)]
    theirs = []
    for a, b in pairs:
        va, vb = Version(a), Version(b)
        theirs.append("<" if va < vb else ">" if va > vb else "=")
    report("packaging", pairs, probe([("cmp", "pep440", a, b) for a, b in pairs]), theirs)
else:
    print("[differential] packaging: not installed, skipped")

# ---- node-semver ----------------------------------------------------------------
NODE_SEMVER = "/usr/lib/node_modules/npm/node_modules/semver"
if shutil.which("node") and os.path.isdir(NODE_SEMVER):
    def sv():
        v = ".".join(str(rng.randrange(0, 4)) for _ in range(3))
        if rng.random() < 0.4:
            v += "-" + ".".join(rng.choice(["alpha", "beta", "0", "1", "rc", "11", "x-y"])
                                for _ in range(rng.randrange(1, 3)))
        if rng.random() < 0.1:
            v += "+build." + str(rng.randrange(0, 9))
        return v

    def partial():
        parts = [rng.choice(["0", "1", "2", "3", "x", "*"]) for _ in range(rng.randrange(1, 4))]
        v = ".".join(parts)
        if len(parts) == 3 and rng.random() < 0.3:
            v += "-" + rng.choice(["alpha", "beta.1", "0", "rc.2"])
        return v

    def rng_range():
        sets = []
        for _ in range(rng.randrange(1, 3)):
            if rng.random() < 0.15:
                sets.append(partial() + " - " + partial())
                continue
            comps = [rng.choice(["", "^", "~", "~>", ">", ">=", "<", "<=", "=", "> ", "^ "]) + partial()
                     for _ in range(rng.randrange(1, 3))]
            sets.append(" ".join(comps))
        return " || ".join(sets)

    pairs = [(sv(), sv()) for _ in range(PAIRS)]
    ranges = [(sv(), rng_range()) for _ in range(PAIRS)]
    js = ("const s = require(%r); const lines = require('fs').readFileSync(0, 'utf8').split('\\n');"
          "for (const l of lines) { if (!l) continue; const [k, a, b] = l.split('\\t');"
          " if (k === 'cmp') { const r = s.compare(a, b); console.log(r < 0 ? '<' : r > 0 ? '>' : '='); }"
          " else { let r; try { new s.Range(b); r = s.satisfies(a, b) ? '1' : '0'; } catch (e) { r = 'error'; }"
          " console.log(r); } }") % NODE_SEMVER
    req = "".join(f"cmp\t{a}\t{b}\n" for a, b in pairs) + "".join(f"range\t{v}\t{r}\n" for v, r in ranges)
    out = subprocess.run(["node", "-e", js], input=req, capture_output=True, text=True, check=True).stdout.split("\n")
    report("node-semver compare", pairs, probe([("cmp", "semver", a, b) for a, b in pairs]), out[:len(pairs)])
    report("node-semver satisfies", ranges, probe([("range", v, r) for v, r in ranges]),
           out[len(pairs):len(pairs) + len(ranges)])
else:
    print("[differential] node-semver: node or npm's semver not installed, skipped")

for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
