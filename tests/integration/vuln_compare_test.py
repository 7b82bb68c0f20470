#!/usr/bin/env python3
"""`kguard vuln compare ECOSYSTEM A B [-v]` through the real binary: the answer
for each ecosystem (the contract's examples, and a line of each shared vector
file), the why line of -v, aliases, the warning for a version the ecosystem
refuses, and the usage errors (exit 2, the list of ecosystems).

Run by ctest: vuln_compare_test.py KGUARD_BINARY CORPORA_DIR
"""
import os
import sys
import unittest

import support

KGUARD, CORPORA = support.args("kguard", "corpora")
VECTORS = os.path.join(CORPORA, "supply-chain", "version-vectors", "google", "osv-scalibr", "semantic", "testdata")


def compare(*argv):
    return support.run("vuln", "compare", *argv)


class Compare(unittest.TestCase):
    def answer(self, eco, a, b, want):
        code, out, err = compare(eco, a, b)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, want + "\n", f"{eco} {a} {b}")

    def test_each_ecosystem(self):
        cases = [
            ("dpkg", "1.0~rc1", "1.0", "<"), ("dpkg", "2:1.0", "1:9.9", ">"), ("dpkg", "0.0.0", "0.0.0-0", "="),
            ("apk", "1.2.3_rc1-r0", "1.2.3-r0", "<"), ("apk", "1.0~abc-r0", "1.0~abd-r0", "<"),
            ("apk2", "5.7.1p1-r0", "5.7.1p1-r1", "<"), ("apk", "5.7.1p1-r0", "5.7.1p1-r1", "="),
            ("rpm", "1.0^git1", "1.01", "<"), ("rpm", "1:1.0-1", "2.0-1", ">"), ("rpm", "2_0", "2.0", "="),
            ("semver", "1.0.0-alpha.1", "1.0.0-alpha.beta", "<"), ("semver", "1.2.3+a", "1.2.3+b", "="),
            ("pep440", "1.0.dev0", "1.0a0", "<"), ("pep440", "1.0rc1", "1.0c1", "="),
            ("pep440", "1!0.1", "2.0", ">"), ("maven", "1.0-SNAPSHOT", "1.0", "<"), ("maven", "1ga", "1", "="),
            ("go", "v0.0.0-20191109021931-daa7c04131f5", "v0.1.0", "<"),
            ("go", "v2.0.0+incompatible", "v2.0.0", "="), ("rubygems", "1.0.a", "1.0", "<"),
            ("rubygems", "1.0", "1.0.0", "="),
        ]
        for eco, a, b, want in cases:
            with self.subTest(eco=eco, a=a, b=b):
                self.answer(eco, a, b, want)

    def test_aliases_case_insensitive(self):
        for eco in ["deb", "Debian", "ubuntu", "alpine", "wolfi", "redhat", "npm", "cargo", "crates.io", "pypi",
                    "python", "golang", "gem", "DPKG"]:
            with self.subTest(eco=eco):
                code, out, err = compare(eco, "1.0", "1.0")
                self.assertEqual((code, out), (0, "=\n"), err)

    def test_vector_files(self):
        # The first comparison line of each shared vector file, through the binary.
        for name, eco in [("debian-versions-generated.txt", "dpkg"), ("alpine-versions-generated.txt", "apk2"),
                          ("redhat-versions.txt", "rpm"), ("semver-versions.txt", "semver")]:
            with open(os.path.join(VECTORS, name)) as f:
                line = next(l for l in f if l.strip() and not l.startswith(("#", "//")))
            a, op, b = line.split()
            with self.subTest(file=name):
                self.answer(eco, a, b, op)

    def test_verbose_explains(self):
        code, out, err = compare("dpkg", "1.2-3", "1.2-3+deb12u1", "-v")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "<")
        self.assertEqual(lines[1], "dpkg: upstream 1.2 = 1.2; revision 3 < 3+deb12u1: end < '+': "
                                   "the end (or a digit) sorts before any other character")
        code, out, err = compare("-v", "rpm", "1:1.0-1", "2.0-1")
        self.assertEqual(out.splitlines(), [">", "rpm: epoch 1 > 0"])
        code, out, err = compare("apk", "8.2.0-r0", "8.2.001-r0", "--verbose")
        self.assertEqual(out.splitlines()[0], "<")
        self.assertIn("leading zero", out.splitlines()[1])
        for eco, a, b in [("semver", "1.0.0", "2.0.0"), ("pep440", "1.0", "1.0.post1"), ("maven", "1", "1-sp"),
                          ("go", "v1.0.0", "v1.0.1"), ("rubygems", "1.a", "1"), ("apk2", "1.0-r0", "1.0-r1")]:
            code, out, err = compare(eco, a, b, "-v")
            self.assertEqual(code, 0, err)
            self.assertEqual(len(out.splitlines()), 2, out)
            self.assertTrue(out.splitlines()[1].startswith(eco + ": "), out)

    def test_invalid_version_warns_but_answers(self):
        code, out, err = compare("go", "1.2.3", "v1.2.3")
        self.assertEqual((code, out), (0, "<\n"))
        self.assertIn("'1.2.3' is not a valid go version", err)
        self.assertIn("starts with 'v'", err)

    def test_usage_errors(self):
        code, out, err = compare("nuget", "1.0", "2.0")
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertIn("unknown ecosystem 'nuget'", err)
        for name in ["dpkg", "apk", "apk2", "rpm", "semver", "pep440", "maven", "go", "rubygems"]:
            self.assertIn(name, err)
        code, out, err = compare("dpkg", "1.0")
        self.assertEqual(code, 2)
        self.assertIn("expected ECOSYSTEM A B", err)
        code, out, err = compare("dpkg", "1.0", "2.0", "--bogus")
        self.assertEqual(code, 2)
        self.assertIn("unknown flag '--bogus'", err)
        code, out, err = support.run("vuln", "frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown subcommand 'frobnicate'", err)
        code, out, err = support.run("vuln")
        self.assertEqual(code, 2)
        code, out, err = support.run("vuln", "--help")
        self.assertEqual(code, 0)
        self.assertIn("kguard vuln compare ECOSYSTEM A B", out)
        code, out, err = support.run("--help")
        self.assertIn("kguard vuln compare", out)

    def test_version_after_double_dash(self):
        code, out, err = compare("dpkg", "--", "1.0", "1.0")
        self.assertEqual((code, out), (0, "=\n"), err)


if __name__ == "__main__":
    unittest.main()
