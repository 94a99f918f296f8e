#!/usr/bin/env python3
"""A faithful stand-in for the parts of kube-apiserver that Kubernetes auth
uses: the TokenReview API, namespaces and service accounts.

It runs as its own process over HTTPS with its own CA on loopback, holds an
RSA and an ECDSA signing key, mints projected (bound) and legacy
Secret-based ServiceAccount tokens, and answers exactly as kube-apiserver
does (contract: kv-database-leases-kubernetes.md §6):

  POST /apis/authentication.k8s.io/v1/tokenreviews   201 with status.user or status.error;
                                                     401 / 403 Status objects for the reviewer
  GET  /api/v1/namespaces/<ns>                       namespace with labels, or 404 Status
  GET  /api/v1/namespaces/<ns>/serviceaccounts/<sa>  service account, or 404 Status

A control API (bearer = the control token printed at start) lets tests shape
the cluster: POST /control/serviceaccounts {namespace,name} (create or
recreate with a new UID), DELETE /control/serviceaccounts/<ns>/<name>,
POST /control/namespaces {name, labels}, POST /control/token {namespace, name,
alg: RS256|ES256, audiences, ttl, legacy, not_before_offset},
POST /control/reviewers {token, allowed}, GET /control/stats.

Usage: tokenreview_server.py DIR  -> prints one JSON line
{"port":..., "ca":..., "control_token":..., "reviewer_token":..., "issuer":...,
 "rsa_public_pem":..., "ec_public_pem":...}
"""

import base64
import datetime
import hashlib
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ISSUER = "https://kubernetes.default.svc.cluster.local"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def status_obj(code, reason, message, details=None):
    o = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
         "reason": reason, "code": code}
    if details:
        o["details"] = details
    return o


class Cluster:
    def __init__(self):
        self.lock = threading.Lock()
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.namespaces = {"default": {}, "kube-system": {}}
        self.service_accounts = {}  # (ns, name) -> uid
        self.reviewers = {}  # token -> allowed (auth-delegator)
        self.reviews = 0

    def kid(self, key):
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        return b64url(hashlib.sha256(der).digest())

    def sign(self, header, claims, alg):
        key = self.rsa if alg.startswith("RS") or alg.startswith("PS") else self.ec
        header = dict(header, alg=alg, kid=self.kid(key))
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode())).encode()
        if alg == "RS256":
            sig = self.rsa.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "PS256":
            sig = self.rsa.sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                           salt_length=32), hashes.SHA256())
        elif alg == "ES256":
            r, s = decode_dss_signature(self.ec.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            raise ValueError("unsupported alg")
        return signing_input.decode() + "." + b64url(sig)

    def verify(self, token):
        """Returns the claims if the token was signed by this cluster, else None."""
        try:
            h, p, s = token.split(".")
            header = json.loads(b64url_dec(h))
            claims = json.loads(b64url_dec(p))
            sig = b64url_dec(s)
            data = (h + "." + p).encode()
            alg = header.get("alg")
            if alg == "RS256":
                self.rsa.public_key().verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "PS256":
                self.rsa.public_key().verify(sig, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                                    salt_length=32), hashes.SHA256())
            elif alg == "ES256":
                r, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
                self.ec.public_key().verify(encode_dss_signature(r, s_), data, ec.ECDSA(hashes.SHA256()))
            else:
                return None
            return claims
        except Exception:
            return None

    def mint(self, namespace, name, alg="RS256", audiences=None, ttl=3600, legacy=False, not_before_offset=0):
        with self.lock:
            uid = self.service_accounts.get((namespace, name)) or str(uuid.uuid4())
        now = int(time.time())
        if legacy:
            claims = {"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:%s:%s" % (namespace, name),
                      "kubernetes.io/serviceaccount/namespace": namespace,
                      "kubernetes.io/serviceaccount/secret.name": name + "-token-" + secrets.token_hex(3)[:5],
                      "kubernetes.io/serviceaccount/service-account.name": name,
                      "kubernetes.io/serviceaccount/service-account.uid": uid}
        else:
            claims = {"iss": ISSUER, "sub": "system:serviceaccount:%s:%s" % (namespace, name),
                      "aud": audiences if audiences is not None else [ISSUER],
                      "exp": now + ttl, "iat": now + not_before_offset, "nbf": now + not_before_offset,
                      "jti": str(uuid.uuid4()),
                      "kubernetes.io": {"namespace": namespace,
                                        "serviceaccount": {"name": name, "uid": uid},
                                        "pod": {"name": name + "-pod", "uid": str(uuid.uuid4())}}}
        return self.sign({"typ": "JWT"}, claims, alg)

    def review(self, spec):
        """The TokenReview status kube-apiserver computes for spec."""
        token = spec.get("token", "")
        claims = self.verify(token)
        if claims is None:
            return {"user": {}, "error": "[invalid bearer token, square/go-jose: error in cryptographic primitive]"}
        legacy = "kubernetes.io" not in claims
        if legacy:
            ns = claims.get("kubernetes.io/serviceaccount/namespace")
            name = claims.get("kubernetes.io/serviceaccount/service-account.name")
            uid = claims.get("kubernetes.io/serviceaccount/service-account.uid")
            token_aud = [ISSUER]  # legacy tokens are accepted for the API audiences
        else:
            k = claims["kubernetes.io"]
            ns, name, uid = k["namespace"], k["serviceaccount"]["name"], k["serviceaccount"]["uid"]
            token_aud = claims.get("aud") or []
            if isinstance(token_aud, str):
                token_aud = [token_aud]
            now = time.time()
            if claims.get("exp", 0) < now:
                return {"user": {}, "error": "[invalid bearer token, service account token has expired]"}
            if claims.get("nbf", 0) > now + 60:
                return {"user": {}, "error": "[invalid bearer token, service account token is not valid yet]"}
        with self.lock:
            live = self.service_accounts.get((ns, name))
        if live != uid:
            return {"user": {}, "error": "[invalid bearer token, service account %s/%s has been deleted]" % (ns, name)}
        wanted = spec.get("audiences") or [ISSUER]
        inter = [a for a in wanted if a in token_aud]
        if not inter:
            return {"user": {}, "error": "[invalid bearer token, token audiences %s is invalid for the target "
                                         "audiences %s]" % (json.dumps(token_aud), json.dumps(wanted))}
        user = {"username": "system:serviceaccount:%s:%s" % (ns, name), "uid": uid,
                "groups": ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"]}
        if not legacy:
            k = claims["kubernetes.io"]
            user["extra"] = {"authentication.kubernetes.io/pod-name": [k["pod"]["name"]],
                             "authentication.kubernetes.io/pod-uid": [k["pod"]["uid"]],
                             "authentication.kubernetes.io/credential-id": ["JTI=" + claims["jti"]]}
        return {"authenticated": True, "user": user, "audiences": inter}


def make_handler(cluster, control_token):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send_json(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def read_body(self):
            # Always consumed first, even when answering an error, so the next
            # request on this keep-alive connection starts clean. (The handler
            # object lives as long as the connection.)
            n = int(self.headers.get("Content-Length") or 0)
            self._raw = self.rfile.read(n) if n else b""

        def body(self):
            return json.loads(self._raw or b"{}")

        def bearer(self):
            a = self.headers.get("Authorization", "")
            return a[7:] if a.startswith("Bearer ") else ""

        def control(self):
            return self.path.startswith("/control/") and self.bearer() == control_token

        def authorize_reviewer(self, verb):
            tok = self.bearer()
            with cluster.lock:
                allowed = cluster.reviewers.get(tok)
            if allowed is None:
                # kube-apiserver also accepts a valid SA token as bearer; a
                # client's own JWT is allowed only if it was granted.
                self.send_json(401, status_obj(401, "Unauthorized", "Unauthorized"))
                return False
            if not allowed:
                self.send_json(403, status_obj(
                    403, "Forbidden",
                    "tokenreviews.authentication.k8s.io is forbidden: User \"system:serviceaccount:vault:vault\" "
                    "cannot %s resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster "
                    "scope" % verb, {"group": "authentication.k8s.io", "kind": "tokenreviews"}))
                return False
            return True

        def do_GET(self):
            self.read_body()
            parts = self.path.split("?")[0].strip("/").split("/")
            if self.path == "/control/stats" and self.control():
                return self.send_json(200, {"reviews": cluster.reviews})
            if not self.authorize_reviewer("get"):
                return
            if len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
                ns = parts[3]
                with cluster.lock:
                    labels = cluster.namespaces.get(ns)
                if labels is None:
                    return self.send_json(404, status_obj(404, "NotFound", "namespaces \"%s\" not found" % ns,
                                                          {"name": ns, "kind": "namespaces"}))
                return self.send_json(200, {"kind": "Namespace", "apiVersion": "v1",
                                            "metadata": {"name": ns, "labels": labels}, "spec": {}, "status": {}})
            if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "serviceaccounts":
                ns, name = parts[3], parts[5]
                with cluster.lock:
                    uid = cluster.service_accounts.get((ns, name))
                if uid is None:
                    return self.send_json(404, status_obj(404, "NotFound",
                                                          "serviceaccounts \"%s\" not found" % name))
                return self.send_json(200, {"kind": "ServiceAccount", "apiVersion": "v1",
                                            "metadata": {"name": name, "namespace": ns, "uid": uid}})
            self.send_json(404, status_obj(404, "NotFound", "the server could not find the requested resource"))

        def do_POST(self):
            self.read_body()
            path = self.path.split("?")[0]
            if path.startswith("/control/"):
                if not self.control():
                    return self.send_json(401, status_obj(401, "Unauthorized", "Unauthorized"))
                b = self.body()
                if path == "/control/serviceaccounts":
                    with cluster.lock:
                        uid = str(uuid.uuid4())
                        cluster.service_accounts[(b["namespace"], b["name"])] = uid
                        cluster.namespaces.setdefault(b["namespace"], {})
                    return self.send_json(200, {"uid": uid})
                if path == "/control/namespaces":
                    with cluster.lock:
                        cluster.namespaces[b["name"]] = b.get("labels", {})
                    return self.send_json(200, {})
                if path == "/control/token":
                    tok = cluster.mint(b["namespace"], b["name"], b.get("alg", "RS256"), b.get("audiences"),
                                       b.get("ttl", 3600), b.get("legacy", False), b.get("not_before_offset", 0))
                    return self.send_json(200, {"token": tok})
                if path == "/control/reviewers":
                    with cluster.lock:
                        cluster.reviewers[b["token"]] = b.get("allowed", True)
                    return self.send_json(200, {})
                return self.send_json(404, {})
            if path == "/apis/authentication.k8s.io/v1/tokenreviews":
                if not self.authorize_reviewer("create"):
                    return
                try:
                    b = self.body()
                except ValueError:
                    return self.send_json(400, status_obj(400, "BadRequest", "the body of the request was in an "
                                                                             "unknown format"))
                spec = b.get("spec") or {}
                with cluster.lock:
                    cluster.reviews += 1
                status = cluster.review(spec)
                echoed = {"token": spec.get("token", "")}
                if spec.get("audiences"):
                    echoed["audiences"] = spec["audiences"]
                return self.send_json(201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                                            "metadata": {"creationTimestamp": None}, "spec": echoed,
                                            "status": status})
            self.send_json(404, status_obj(404, "NotFound", "the server could not find the requested resource"))

        def do_DELETE(self):
            self.read_body()
            parts = self.path.strip("/").split("/")
            if self.control() and len(parts) == 4 and parts[1] == "serviceaccounts":
                with cluster.lock:
                    cluster.service_accounts.pop((parts[2], parts[3]), None)
                return self.send_json(200, {})
            self.send_json(404, {})

    return Handler


def make_certs(d):
    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ca = os.path.join(d, "k8s-ca.pem")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
        "2", "-subj", "/CN=kubernetes-ca", "-keyout", os.path.join(d, "k8s-ca.key"), "-out", ca)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
        "/CN=kube-apiserver", "-keyout", os.path.join(d, "k8s.key"), "-out", os.path.join(d, "k8s.csr"))
    with open(os.path.join(d, "k8s-san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n")
    run("openssl", "x509", "-req", "-in", os.path.join(d, "k8s.csr"), "-CA", ca, "-CAkey", os.path.join(d, "k8s-ca.key"),
        "-CAcreateserial", "-days", "2", "-extfile", os.path.join(d, "k8s-san.ext"), "-out", os.path.join(d, "k8s.pem"))
    return ca


def main():
    d = sys.argv[1]
    ca = make_certs(d)
    cluster = Cluster()
    control_token = secrets.token_hex(16)
    reviewer = cluster.mint("kube-system", "sealbox-reviewer")
    with cluster.lock:
        cluster.service_accounts[("kube-system", "sealbox-reviewer")] = json.loads(
            b64url_dec(reviewer.split(".")[1]))["kubernetes.io"]["serviceaccount"]["uid"]
        cluster.reviewers[reviewer] = True
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(cluster, control_token))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "k8s.pem"), os.path.join(d, "k8s.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    pub = lambda k: k.public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    print(json.dumps({"port": srv.server_address[1], "ca": ca, "control_token": control_token,
                      "reviewer_token": reviewer, "issuer": ISSUER, "rsa_public_pem": pub(cluster.rsa),
                      "ec_public_pem": pub(cluster.ec)}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
