#!/usr/bin/env python3
"""kguard kms end to end on its socket, as kube-apiserver would call it (tests/kms/kms_client.cpp):
SoftHSM2 through PKCS#11 and the sealed key file; round trips, the API server's size limits, wrong
key_id, tampered ciphertext and annotations, malformed protobuf, rotation without restart (old
ciphertexts still open, new ones carry the new key_id), retire refusals, health failing at once when
the key is deleted from the token, metrics, the audit log (no key material, no plaintext), the
socket's mode, restart.

usage: kms_test.py KGUARD KMS_CLIENT
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kms_support import KmsClient, KmsPlugin, SoftHsmToken  # noqa: E402

KGUARD, CLIENT = sys.argv[1], sys.argv[2]
FAILURES = []
PASSED = [0]

INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE, INTERNAL, RESOURCE_EXHAUSTED = 3, 5, 9, 14, 13, 8
FMT = "version.kms.kguard.dev"


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for(fn, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


def flip(hexstr, index):
    b = bytearray(bytes.fromhex(hexstr))
    b[index] ^= 0x01
    return b.hex()


def protobuf_field(num, data: bytes):
    """A length-delimited protobuf field (wire type 2), to build requests by hand."""
    key = (num << 3) | 2
    out = bytearray([key])
    n = len(data)
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + data


def common_service_checks(name, plugin, client, secrets):
    """Round trips, limits and refusals every backend must show. Returns (key_id, a ciphertext)."""
    st = client.status()
    check(st.get("code") == 0 and st["version"] == "v2" and st["healthz"] == "ok", f"{name}: Status v2 ok: {st}")
    key_id = st["key_id"]
    check(key_id.startswith("kguard-kms:") and ":v1:" in key_id, f"{name}: key_id names version 1: {key_id}")
    check(client.status()["key_id"] == key_id, f"{name}: key_id stable between polls")
    dek = os.urandom(32)
    secrets.append(dek.hex())
    enc = client.encrypt(dek)
    check(enc.get("code") == 0 and enc["key_id"] == key_id, f"{name}: Encrypt returns Status's key_id: {enc}")
    ct = enc["ciphertext"]
    check(0 < len(ct) // 2 <= 1024, f"{name}: ciphertext within 1 KiB ({len(ct) // 2} bytes)")
    check(dek.hex() not in ct, f"{name}: ciphertext does not contain the plaintext")
    check(enc["annotations"] == {FMT: "31"}, f"{name}: annotation {FMT}=1 (a DNS name): {enc['annotations']}")
    dec = client.decrypt(key_id, ct, enc["annotations"])
    check(dec.get("plaintext") == dek.hex(), f"{name}: Decrypt round trip: {dec}")
    dec = client.decrypt(key_id, ct)
    check(dec.get("plaintext") == dek.hex(), f"{name}: Decrypt without annotations: {dec}")
    enc2 = client.encrypt(dek)
    check(enc2["ciphertext"] != ct, f"{name}: fresh nonce per Encrypt")
    # Refusals.
    r = client.decrypt(key_id.replace(":v1:", ":v9:"), ct)
    check(r.get("code") == NOT_FOUND, f"{name}: unknown key_id refused NotFound: {r}")
    r = client.decrypt(key_id, flip(ct, len(ct) // 2 - 1))  # last tag byte
    check(r.get("code") == INVALID_ARGUMENT and "authenticate" in r.get("error", ""), f"{name}: tampered tag: {r}")
    r = client.decrypt(key_id, flip(ct, 20))  # sealed DEK byte
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: tampered ciphertext: {r}")
    r = client.decrypt(key_id, flip(ct, 5))  # nonce byte
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: tampered nonce: {r}")
    r = client.decrypt(key_id, flip(ct, 0))  # format byte
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: unknown format byte: {r}")
    r = client.decrypt(key_id, ct, {FMT: "32"})
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: wrong annotation value: {r}")
    r = client.decrypt(key_id, ct, {"other.example.com": "00"})
    check(r.get("code") == INVALID_ARGUMENT and "not one kguard" in r.get("error", ""), f"{name}: foreign annotation: {r}")
    r = client.decrypt(key_id, ct, {"kms.kguard.dev/format": "31"})
    check(r.get("code") == INVALID_ARGUMENT and "DNS name" in r.get("error", ""), f"{name}: non-FQDN annotation key: {r}")
    r = client.decrypt(key_id, ct, {FMT: "31", "big.example.com": "00" * 33000})
    check(r.get("code") == INVALID_ARGUMENT and "32 KiB" in r.get("error", ""), f"{name}: annotations over 32 KiB: {r}")
    r = client.decrypt(key_id, "00" * 1025)
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: ciphertext over 1 KiB: {r}")
    r = client.decrypt("k" * 1025, ct)
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: key_id over 1 KiB: {r}")
    r = client.decrypt(key_id, ct[:40])
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: truncated ciphertext: {r}")
    r = client.encrypt(b"")
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: empty plaintext: {r}")
    r = client.encrypt(b"x" * 995)
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: plaintext over 994 bytes: {r}")
    r = client.encrypt(b"x" * 994)
    check(r.get("code") == 0 and len(r["ciphertext"]) // 2 == 1024, f"{name}: 994-byte plaintext makes 1024 bytes")
    # Malformed protobuf: gRPC refuses to parse it; the server lives on.
    r = client.raw("Decrypt", b"\x0a\xff\xff\xff\xff\x0f")
    check(r.get("code") == INTERNAL, f"{name}: malformed protobuf refused: {r}")
    r = client.raw("Encrypt", protobuf_field(1, b"z" * 70000))
    check(r.get("code") == RESOURCE_EXHAUSTED, f"{name}: 70 KB request refused by the size cap: {r}")
    r = client.raw("Decrypt", protobuf_field(1, bytes.fromhex(ct)) + protobuf_field(3, key_id.encode()))
    check(r.get("code") == 0 and dek.hex() in r.get("response", ""), f"{name}: hand-built protobuf request: {r}")
    check(client.status()["healthz"] == "ok", f"{name}: still healthy after the refusals")
    return key_id, ct, dek


def rotation_checks(name, plugin, client, key_id1, ct1, dek1, rotate_args=()):
    out = plugin.rotate(*rotate_args)
    check("version 2" in out, f"{name}: rotate made version 2: {out}")
    st = wait_for(lambda: (lambda s: s if s["key_id"] != key_id1 else None)(client.status()), timeout=10)
    key_id2 = st["key_id"] if st else ""
    check(":v2:" in key_id2, f"{name}: Status reports the new key_id without a restart: {key_id2}")
    dek2 = os.urandom(32)
    enc = client.encrypt(dek2)
    check(enc["key_id"] == key_id2, f"{name}: Encrypt uses the new key_id")
    check(client.decrypt(key_id1, ct1).get("plaintext") == dek1.hex(), f"{name}: v1 ciphertext still decrypts")
    check(client.decrypt(key_id2, enc["ciphertext"]).get("plaintext") == dek2.hex(), f"{name}: v2 round trip")
    r = client.decrypt(key_id1, enc["ciphertext"])
    check(r.get("code") == INVALID_ARGUMENT, f"{name}: v2 ciphertext under v1's key_id refused: {r}")
    return key_id2, enc["ciphertext"], dek2


def retire_checks(name, plugin, client, key_id1, ct1):
    time.sleep(1.5)  # usage.json is flushed every second
    s = plugin.status()
    v1 = next(v for v in s["versions"] if v["version"] == 1)
    check(v1["decrypts"] >= 1 and v1["needed"] and v1["last_decrypt"], f"{name}: status shows v1 decrypted: {v1}")
    check(s["current"] == 2, f"{name}: status current 2")
    rc, _, err = plugin.run("retire", "2", "--state", plugin.state, "--audit-log", plugin.audit)
    check(rc == 1 and "current" in err, f"{name}: retiring the current version refused: {err}")
    rc, _, err = plugin.run("retire", "1", "--state", plugin.state, "--audit-log", plugin.audit)
    check(rc == 1 and "decrypted with it" in err, f"{name}: retire refused while v1 is in use: {err}")
    rc, _, err = plugin.run("retire", "1", "--state", plugin.state, "--audit-log", plugin.audit, "--since", "2020-01-01T00:00:00Z")
    check(rc == 1 and "stopped being current" in err, f"{name}: --since before the rotation refused: {err}")
    time.sleep(1.1)
    since = now_rfc3339()
    time.sleep(1.1)
    rc, out, err = plugin.run("retire", "1", "--state", plugin.state, "--audit-log", plugin.audit, "--since", since)
    check(rc == 0 and "retired" in out, f"{name}: retire after a quiet period: {rc} {out} {err}")
    r = wait_for(lambda: (lambda x: x if x.get("code") == FAILED_PRECONDITION else None)(client.decrypt(key_id1, ct1)))
    check(r and "retired" in r.get("error", ""), f"{name}: retired v1 refused by the running server: {r}")
    s = plugin.status()
    check(next(v for v in s["versions"] if v["version"] == 1)["retired"] != "", f"{name}: status shows v1 retired")


def metrics_and_audit_checks(name, plugin, secrets):
    body = urllib.request.urlopen(f"http://127.0.0.1:{plugin.metrics_port}/metrics", timeout=5).read().decode()
    check('kguard_kms_requests_total{method="Encrypt",code="OK"}' in body, f"{name}: metrics count Encrypt")
    check('kguard_kms_key_operations_total{version="1",op="decrypt"}' in body, f"{name}: metrics per version")
    check("kguard_kms_healthy 1" in body and "kguard_kms_current_version 2" in body, f"{name}: health/current gauges")
    hz = urllib.request.urlopen(f"http://127.0.0.1:{plugin.metrics_port}/healthz", timeout=5).read().decode()
    check(hz.strip() == "ok", f"{name}: /healthz ok: {hz}")
    lines = [json.loads(l) for l in open(plugin.audit)]
    ops = {l["op"] for l in lines}
    check({"init", "rotate", "encrypt", "decrypt", "status", "retire"} <= ops, f"{name}: audit ops: {ops}")
    check(any(l["op"] == "retire" and l["result"] == "refused" for l in lines), f"{name}: refused retire audited")
    text = open(plugin.audit).read() + open(plugin.log).read()
    check(not any(s in text or s.upper() in text for s in secrets), f"{name}: no plaintext in audit log or server log")
    mode = stat.S_IMODE(os.stat(plugin.socket).st_mode)
    check(mode == 0o600, f"{name}: socket mode {oct(mode)}")


def test_pkcs11(work):
    hsm = SoftHsmToken()
    try:
        plugin = KmsPlugin(KGUARD, hsm.uri(), work, env=hsm.env())
        out = plugin.init()
        check("version 1" in out, f"pkcs11: init: {out}")
        listing = hsm.list_secret_keys()
        check("kek-v1" in listing and "never extractable" in listing and "sensitive" in listing,
              f"pkcs11: KEK generated sensitive and never extractable in the token: {listing}")
        rc, _, err = plugin.run("init", *plugin.common())
        check(rc == 1 and "initialised" in err, f"pkcs11: second init refused: {err}")
        bad = KmsPlugin(KGUARD, hsm.uri().replace("pin-source=file:" + hsm.pin_file, "pin-value=0000"), work + "/bad",
                        env=hsm.env())
        os.makedirs(work + "/bad")
        rc, _, err = bad.run("init", *bad.common())
        check(rc == 1 and "PIN" in err and "0000" not in err, f"pkcs11: wrong PIN named, PIN not echoed: {err}")
        plugin.start()
        client = KmsClient(CLIENT, plugin.socket)
        secrets = []
        key_id1, ct1, dek1 = common_service_checks("pkcs11", plugin, client, secrets)
        key_id2, ct2, dek2 = rotation_checks("pkcs11", plugin, client, key_id1, ct1, dek1)
        secrets += [dek1.hex(), dek2.hex()]
        check("kek-v2" in hsm.list_secret_keys(), "pkcs11: rotation made kek-v2 in the token")
        rc, _, err = plugin.run("rotate", *plugin.common(), "--cipher", "sm4-gcm")
        check(rc == 1 and "sm4-gcm" in err, f"pkcs11: SM4 refused for PKCS#11: {err}")
        retire_checks("pkcs11", plugin, client, key_id1, ct1)
        metrics_and_audit_checks("pkcs11", plugin, secrets)
        # Restart: state and keys persist; v2 ciphertexts still open.
        check(plugin.stop() == 0, "pkcs11: SIGTERM stops with 0")
        check(not os.path.exists(plugin.socket), "pkcs11: socket removed at stop")
        plugin.start()
        check(client.decrypt(key_id2, ct2).get("plaintext") == dek2.hex(), "pkcs11: v2 decrypts after a restart")
        # The key deleted from the token: the next Status says so, Encrypt fails.
        hsm.delete_key("kek-v2")
        st = client.status()
        check(st["healthz"] != "ok" and "version 2" in st["healthz"], f"pkcs11: health fails at once: {st}")
        r = client.encrypt(os.urandom(32))
        check(r.get("code") == UNAVAILABLE, f"pkcs11: Encrypt with the deleted key fails Unavailable: {r}")
        hz = None
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{plugin.metrics_port}/healthz", timeout=5)
        except urllib.error.HTTPError as e:
            hz = e.code
        check(hz == 503, f"pkcs11: /healthz 503 when the key is gone: {hz}")
        plugin.stop()
    finally:
        if "plugin" in locals():
            plugin.stop()
        hsm.stop()


def test_file(work):
    pp = f"{work}/passphrase"
    with open(pp, "w") as f:
        f.write("correct horse battery staple\n")
    os.chmod(pp, 0o644)
    keyfile = f"{work}/kms.keys"
    plugin = KmsPlugin(KGUARD, "file:" + keyfile, work, passphrase_file=pp)
    rc, _, err = plugin.run("init", *plugin.common())
    check(rc == 1 and "0644" in err and "chmod 600" in err, f"file: world-readable passphrase file refused: {err}")
    os.chmod(pp, 0o600)
    plugin.init()
    check(stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600, "file: sealed key file written 0600")
    sealed = open(keyfile).read()
    check('"kdf"' in sealed and "scrypt" in sealed, "file: the key file is scrypt-sealed")
    try:
        plugin.start()
        client = KmsClient(CLIENT, plugin.socket)
        secrets = []
        key_id1, ct1, dek1 = common_service_checks("file", plugin, client, secrets)
        key_id2, ct2, dek2 = rotation_checks("file", plugin, client, key_id1, ct1, dek1, ("--cipher", "sm4-gcm"))
        check(bytes.fromhex(ct2)[1] == 2, "file: the SM4-GCM version's ciphertexts say cipher 2")
        secrets += [dek1.hex(), dek2.hex()]
        retire_checks("file", plugin, client, key_id1, ct1)
        metrics_and_audit_checks("file", plugin, secrets)
        check(plugin.stop() == 0, "file: SIGTERM stops with 0")
        # A wrong passphrase does not start; a key file others can read does not start.
        wrong = f"{work}/wrong"
        with open(wrong, "w") as f:
            f.write("not the passphrase\n")
        os.chmod(wrong, 0o600)
        bad = KmsPlugin(KGUARD, "file:" + keyfile, work, passphrase_file=wrong)
        bad.socket = f"{work}/bad.sock"
        try:
            bad.start()
            check(False, "file: started with a wrong passphrase")
        except RuntimeError as e:
            check("does not unseal" in str(e), f"file: wrong passphrase refused: {e}")
        os.chmod(keyfile, 0o644)
        try:
            plugin.start()
            check(False, "file: started with a 0644 key file")
        except RuntimeError as e:
            check("chmod 600" in str(e), f"file: readable key file refused: {e}")
        os.chmod(keyfile, 0o600)
        plugin.start()
        check(client.decrypt(key_id2, ct2).get("plaintext") == dek2.hex(), "file: SM4-GCM v2 decrypts after restart")
    finally:
        plugin.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="kguard-kms-test-") as d:
        os.makedirs(f"{d}/pkcs11")
        os.makedirs(f"{d}/file")
        test_pkcs11(f"{d}/pkcs11")
        test_file(f"{d}/file")
    print(f"{PASSED[0]} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
