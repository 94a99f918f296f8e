"""`sealbox kms-plugin` driven by kube-apiserver's own KMS v2 code.

A real Sealbox (tests/e2e/harness.py) with a Transit key and an AppRole role
for the plugin; the plugin logs in with AppRole on a short TTL, so it must
renew and log in again while the suite runs. Then the Go suite beside this
file (k8s.io/apiserver's kmsv2 gRPC client and envelope transformer, pinned
by go.mod, modules fetched by scripts/deps) writes and reads Secret bytes
through the socket across a key rotation and a seal/unseal."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402
from test_kubernetes import Kube  # noqa: E402

KEY = "k8s-secrets"
POLICY = """
path "transit/encrypt/%(k)s" { capabilities = ["update"] }
path "transit/decrypt/%(k)s" { capabilities = ["update"] }
path "transit/keys/%(k)s" { capabilities = ["read"] }
""" % {"k": KEY}


def ok(result):
    st, body = result
    assert st in (200, 204), body
    return body


class Plugin:
    """The plugin process; `auth` is its login environment."""

    def __init__(self, server, auth):
        self.dir = tempfile.mkdtemp(prefix="sealbox-kms-")
        self.socket = os.path.join(self.dir, "kms.sock")
        self.log_path = os.path.join(self.dir, "plugin.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "SEALBOX_"))}
        env.update(auth, VAULT_ADDR=server.url, VAULT_CACERT=server.cacert)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([harness.sealbox_bin(), "kms-plugin", "-socket", self.socket,
                                          "-transit-key", KEY], stdout=log, stderr=subprocess.STDOUT, env=env)
        harness.wait_until(lambda: self.proc.poll() is not None or os.path.exists(self.socket), 30,
                           what="the plugin's socket")
        assert self.proc.poll() is None, self.log()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=20)
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc


@pytest.fixture(scope="module")
def setup():
    s = harness.Server().start()
    s.init()
    s.unseal()
    audit_log = os.path.join(s.dir, "audit.log")
    ok(s.root("PUT", "/v1/sys/audit/file", {"type": "file", "options": {"file_path": audit_log}}))
    ok(s.root("POST", "/v1/sys/mounts/transit", {"type": "transit"}))
    ok(s.root("POST", "/v1/transit/keys/" + KEY, {}))
    ok(s.root("PUT", "/v1/sys/policies/acl/kms-plugin", {"policy": POLICY}))
    ok(s.root("POST", "/v1/sys/auth/approle", {"type": "approle"}))
    ok(s.root("POST", "/v1/auth/approle/role/kms", {"token_policies": ["kms-plugin"], "token_ttl": "4s",
                                                     "token_explicit_max_ttl": "8s"}))
    role_id = ok(s.root("GET", "/v1/auth/approle/role/kms/role-id"))["data"]["role_id"]
    secret_id = ok(s.root("POST", "/v1/auth/approle/role/kms/secret-id", {}))["data"]["secret_id"]
    p = Plugin(s, {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id})
    try:
        yield s, p, audit_log
    finally:
        rc = p.stop()
        s.cleanup()
    assert rc == 0, "the plugin did not stop cleanly on SIGTERM"


def audited(audit_log, path):
    """How many requests to `path` the audit log holds."""
    if not os.path.exists(audit_log):
        return 0
    n = 0
    with open(audit_log) as f:
        for line in f:
            e = json.loads(line)
            n += e["type"] == "request" and e["request"]["path"] == path
    return n


def test_token_kept_alive_by_renewal_and_new_logins(setup):
    _, p, audit_log = setup
    # TTL 4 s, explicit max 8 s: renewals at half the TTL, then a new login
    # once the max TTL caps a renewal.
    harness.wait_until(lambda: audited(audit_log, "auth/token/renew-self") >= 2 and
                       audited(audit_log, "auth/approle/login") >= 2, 40, what="renewals and a second login:\n" + p.log())
    assert p.proc.poll() is None, p.log()


def go_test(s, p, names, **extra):
    """Runs the Go tests `names` against server s and plugin p; all must pass."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    assert os.path.exists(go), "go is missing (this machine kind ships Go 1.26 in /usr/local/go)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env.update(GO111MODULE="on", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", CGO_ENABLED="0",
               SEALBOX_ADDR=s.url, SEALBOX_CACERT=s.cacert, SEALBOX_TOKEN=s.root_token,
               SEALBOX_UNSEAL_KEYS=",".join(s.keys[:3]), SEALBOX_KMS_SOCKET=p.socket, SEALBOX_KMS_KEY=KEY, **extra)
    r = subprocess.run([go, "test", "-count=1", "-v", "-run", "^(%s)$" % "|".join(names), "."], cwd=HERE, env=env,
                       capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, "go test failed:\n%s\nplugin log:\n%s" % (out[-20000:], p.log()[-5000:])
    passed = set(re.findall(r"^--- PASS: (Test\w+)", r.stdout, re.M))
    assert passed == set(names), "not every test passed: %s" % out[-5000:]
    assert p.proc.poll() is None, p.log()


def test_apiserver_kmsv2_envelope_through_the_plugin(setup):
    s, p, _ = setup
    go_test(s, p, ["TestSecretsAcrossKeyRotation", "TestSealedSealbox"])


def test_kubernetes_auth(setup):
    """A second plugin that logs in with its service account token."""
    s, _, audit_log = setup
    k = Kube(s.dir)
    try:
        ok(s.root("POST", "/v1/sys/auth/kubernetes", {"type": "kubernetes"}))
        ok(s.root("POST", "/v1/auth/kubernetes/config", {
            "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": k.reviewer_token,
            "disable_local_ca_jwt": True}))
        ok(s.root("POST", "/v1/auth/kubernetes/role/kms", {
            "bound_service_account_names": ["sealbox-kms"], "bound_service_account_namespaces": ["kube-system"],
            "token_policies": ["kms-plugin"], "token_ttl": "1h"}))
        k.sa("kube-system", "sealbox-kms")
        jwt_file = os.path.join(s.dir, "sa-token")
        with open(jwt_file, "w") as f:
            f.write(k.token("kube-system", "sealbox-kms") + "\n")
        p = Plugin(s, {"VAULT_K8S_ROLE": "kms", "VAULT_K8S_TOKEN_FILE": jwt_file})
        try:
            harness.wait_until(lambda: audited(audit_log, "auth/kubernetes/login") >= 1, 20,
                               what="the plugin's Kubernetes login:\n" + p.log())
            go_test(s, p, ["TestSecretsAcrossKeyRotation"])
        finally:
            assert p.stop() == 0
    finally:
        k.stop()


def test_status_and_encrypt_fail_while_sealbox_is_away(setup):
    """Last of the module's tests on the fixture: it stops Sealbox."""
    s, p, _ = setup
    assert s.stop() == 0
    go_test(s, p, ["TestSealboxUnreachable"], SEALBOX_KMS_EXPECT_DOWN="1")


@pytest.mark.parametrize("args,env,message", [
    ([], {"VAULT_TOKEN": "x"}, "-socket is required"),
    (["-socket", "/tmp/x.sock", "-transit-key", "../sys"], {"VAULT_TOKEN": "x"}, "-transit-key must be"),
    (["-socket", "/tmp/x.sock", "-transit-key", "k", "-transit-mount", "a/../b"], {"VAULT_TOKEN": "x"},
     "-transit-mount must be"),
    (["-socket", "/tmp/x.sock", "-transit-key", "k"], {}, "no credentials"),
])
def test_refused_settings(args, env, message):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "SEALBOX_"))}
    clean.update(env, HOME=tempfile.gettempdir())
    r = subprocess.run([harness.sealbox_bin(), "kms-plugin"] + args, env=clean, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and message in r.stderr, r.stderr
