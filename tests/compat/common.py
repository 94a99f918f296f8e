"""Shared set-up for the client compatibility suites: a Sealbox server
(tests/e2e/harness.py), the Kubernetes TokenReview stand-in and PostgreSQL,
and a requests session that sends what Go's vault/api client sends."""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import requests  # noqa: E402

import harness  # noqa: E402
from test_kubernetes import Kube  # noqa: E402


class GoClient:
    """What github.com/hashicorp/vault/api puts on the wire: X-Vault-Request
    on every call, X-Vault-Token when set, GET ?list=true for lists, PUT for
    writes."""

    def __init__(self, server, token=None):
        self.s = requests.Session()
        self.s.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.s.verify = server.cacert
        self.s.headers["X-Vault-Request"] = "true"
        self.base = server.url + "/v1/"
        self.token = token

    def call(self, method, path, json_body=None, params=None):
        headers = {"X-Vault-Token": self.token} if self.token else {}
        r = self.s.request(method, self.base + path, json=json_body, params=params, headers=headers, timeout=30)
        body = r.json() if r.content and r.headers.get("Content-Type") == "application/json" else None
        return r.status_code, body

    def read(self, path, **params):
        return self.call("GET", path, params=params or None)

    def list(self, path):
        return self.call("GET", path, params={"list": "true"})

    def write(self, path, body):
        return self.call("PUT", path, body)

    def delete(self, path):
        return self.call("DELETE", path)


def kube_env(server, mount="kubernetes"):
    """Starts the TokenReview stand-in and configures Kubernetes auth on `mount`."""
    k = Kube(server.dir)
    assert server.root("POST", "/v1/sys/auth/" + mount, {"type": "kubernetes"})[0] == 204
    st, b = server.root("POST", "/v1/auth/%s/config" % mount, {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": k.reviewer_token,
        "disable_local_ca_jwt": True})
    assert st == 204, b
    return k


# The Go client libraries a Go suite runs on: the go test arguments for each.
GO_CLIENTS = {"hashicorp-vault-api": [], "openbao-api-v2": ["-tags", "openbao"]}


def run_go_suite(folder, args, env, what):
    """Runs `go test` on the suite in folder and checks that every Test function passed."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    assert os.path.exists(go), "go is missing (this machine kind ships Go 1.26 in /usr/local/go)"
    p = subprocess.run([go, "test", "-count=1", "-v"] + args + ["."], cwd=folder, env=env, capture_output=True,
                       text=True, timeout=480)
    assert p.returncode == 0, "go test (%s) failed:\n%s" % (what, (p.stdout + p.stderr)[-30000:])
    passed = set(re.findall(r"^--- PASS: (Test\w+)", p.stdout, re.M))
    want = go_test_names(folder)
    assert passed == want, "not every test passed: missing %s" % sorted(want - passed)


def go_test_names(folder):
    """The Test functions of a Go suite, so that a run that skipped or lost one fails."""
    names = set()
    for f in os.listdir(folder):
        if f.endswith("_test.go"):
            with open(os.path.join(folder, f)) as src:
                names.update(re.findall(r"^func (Test\w+)\(t \*testing\.T\)", src.read(), re.M))
    return names


def go_env(**settings):
    """The environment of a pinned Go suite: module mode from go.mod and go.sum
    (scripts/deps fetched the modules), no VAULT_/BAO_ variable, `settings` added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env.update(GO111MODULE="on", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", CGO_ENABLED="0", **settings)
    return env
