#!/usr/bin/env python3
"""A registry token server for the tests (the Bearer half of the distribution auth flow), on
loopback with TLS: GET /token?service=S&scope=repository:NAME:pull answers a JWT (RS256, signed
with `openssl dgst`, the signing certificate in the x5c header) granting pull on NAME (and push
when asked, to USER). Basic credentials must be USER:PASSWORD when given; without credentials,
pull is granted anonymously (a public repository).

  token_server.py PORT CERT KEY SIGNING_CERT SIGNING_KEY ISSUER USER PASSWORD
"""
import base64
import http.server
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse

PORT, CERT, KEY, SCERT, SKEY, ISSUER, USER, PASSWORD = sys.argv[1:9]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der(pem_path):
    with open(pem_path) as f:
        body = "".join(l for l in f.read().splitlines() if l and not l.startswith("-----"))
    return base64.b64decode(body)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        subject = "anonymous"
        if auth:
            ok = auth.startswith("Basic ") and base64.b64decode(auth[6:]).decode() == f"{USER}:{PASSWORD}"
            if not ok:
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                return
            subject = USER
        access = []
        for scope in q.get("scope", []):
            kind, name, actions = scope.split(":", 2)
            # The logged-in user gets what it asks of pull and push (kguard sign pushes); anonymous, pull.
            granted = [a for a in actions.split(",") if a in ("pull", "push")] if subject == USER else ["pull"]
            access.append({"type": kind, "name": name, "actions": granted or ["pull"]})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der(SCERT)).decode()]}
        claims = {"iss": ISSUER, "sub": subject, "aud": q.get("service", [""])[0], "exp": now + 600,
                  "nbf": now - 60, "iat": now, "jti": b64(os.urandom(12)), "access": access}
        signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", SKEY], input=signing_input,
                             capture_output=True, check=True).stdout
        token = signing_input.decode() + "." + b64(sig)
        body = json.dumps({"token": token, "expires_in": 600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.HTTPServer(("127.0.0.1", int(PORT)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
