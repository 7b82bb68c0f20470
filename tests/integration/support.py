"""What the integration tests share: the paths ctest passes (the kguard binary,
the source tree, the corpora), running kguard, JSON reports, folders of
files, the SARIF schema and a few manifests several tests scan.

A test starts with
    KGUARD, SOURCE = support.args("kguard", "source")
which takes those arguments off sys.argv (unittest reads the rest) and makes
run() and the scan helpers use that binary.
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap

KGUARD = None
SOURCE = None


def args(*names, absolute=False):
    """Takes len(names) arguments after the script's name off sys.argv: the
    kguard binary first, then "source" / "corpora" when named."""
    global KGUARD, SOURCE
    values = sys.argv[1:1 + len(names)]
    if len(values) != len(names):
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} {' '.join(n.upper() for n in names)}")
    del sys.argv[1:1 + len(names)]
    if absolute:
        values = [os.path.abspath(v) for v in values]
    found = dict(zip(names, values))
    KGUARD = os.path.abspath(found["kguard"])
    SOURCE = found.get("source")
    return values[0] if len(values) == 1 else tuple(values)


def run(*argv, stdin=None, cwd=None, timeout=120, env=None):
    """kguard ARGV: (exit code, stdout, stderr)."""
    p = subprocess.run([KGUARD, *argv], input=stdin, capture_output=True, text=True, cwd=cwd,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def scan_json(*argv, stdin=None, cwd=None, config=False, check=False, timeout=120, env=None):
    """kguard scan -o json (with --no-config unless `config`): (exit code,
    report or None when nothing was printed, stderr). `check`: an exit code
    above 1 (an error, not findings) fails the test."""
    cmd = ["scan", "-o", "json"] + ([] if config else ["--no-config"])
    code, out, err = run(*cmd, *argv, stdin=stdin, cwd=cwd, timeout=timeout, env=env)
    if check and code > 1:
        raise AssertionError(f"kguard exited {code}: {err}")
    return code, (json.loads(out) if out.strip() else None), err


def write(root, rel, text, dedent=False):
    """Writes root/rel (making its folders); `dedent`: the text is indented
    in the test's source (textwrap.dedent, leading newline dropped)."""
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text).lstrip("\n") if dedent else text)
    return path


def scan_files(files, *argv, config=None, timeout=120):
    """Writes {name: indented text} into a temporary folder, with `config` as
    its .kguard.yaml (none: --no-config), and scans it: (exit code, report,
    stderr), finding files relative to the folder."""
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            write(d, name, textwrap.dedent(text))
        if config is not None:
            write(d, ".kguard.yaml", textwrap.dedent(config))
        code, report, err = scan_json(*argv, d, config=config is not None, timeout=timeout)
        for f in (report or {}).get("findings", []):
            f["location"]["file"] = os.path.relpath(f["location"]["file"], d)
        return code, report, err


def import_dependency(name):
    """jsonschema and yaml come from Debian (scripts/install-deps.sh installs
    python3-jsonschema and python3-yaml). When ctest runs another Python 3 of
    the same version (pyenv, a venv), Debian's dist-packages is on no path, so
    it is tried after the interpreter's own packages. None when missing."""
    try:
        return __import__(name)
    except ImportError:
        debian = "/usr/lib/python3/dist-packages"
        if os.path.isdir(debian) and debian not in sys.path:
            sys.path.append(debian)
            try:
                return __import__(name)
            except ImportError:
                pass
    return None


def sarif_validator():
    """A validator for the official SARIF 2.1.0 schema, or None without jsonschema."""
    jsonschema = import_dependency("jsonschema")
    if jsonschema is None:
        return None
    with open(os.path.join(SOURCE, "tests", "testdata", "sarif-schema-2.1.0.json"), encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def assert_valid_sarif(test, log):
    """`log` is valid against the SARIF 2.1.0 schema (the test skips without jsonschema)."""
    validator = sarif_validator()
    if validator is None:
        test.skipTest("python3-jsonschema not installed")
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    test.assertEqual([f"{list(e.path)}: {e.message}" for e in errors[:10]], [])


def check_of(report, rule):
    """The report's tally row ("checks") of `rule`."""
    return next(c for c in report["checks"] if c["rule"] == rule)


# A custom rule several tests load (rules.d): Deployments need a team label.
TEAM_LABEL_RULE = """\
id: team-label-missing
title: Team label missing
category: resources
severity: low
rationale: Without a team label nobody gets paged.
remediation: Add metadata.labels.team.
kinds: [Deployment]
check: field
params: {scope: object, field: metadata.labels.team, expect: present}
"""

# A privileged bare Pod: fails baseline and restricted.
PRIVILEGED_POD = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: n}
spec:
  containers:
  - name: c
    image: nginx:1.27
    securityContext:
      privileged: true
"""
