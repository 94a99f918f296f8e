"""External Secrets Operator's real Vault provider against the real server
over TLS: the Go suite in tests/eso (ESO pinned by its go.mod and go.sum)
drives the provider with controller-runtime's fake client holding the
SecretStores and their Secrets. This wrapper starts and configures the server
(KV v1 and v2 mounts, the eso policy, token, Kubernetes and AppRole auth, the
TokenReview stand-in, which also serves the provider's TokenRequest through
KUBECONFIG), passes credentials in SEALBOX_* variables and checks that every
Test function passed."""
import os
import re
import shutil
import subprocess

import common
import harness
from common import kube_env

ESO = os.path.join(common.HERE, "..", "eso")

POLICY = """
path "secret/data/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "kv1/*"             { capabilities = ["create", "read", "update", "delete", "list"] }
"""




def ok(resp):
    st, body = resp
    assert st in (200, 204), body
    return body


def configure(s, k, tmp):
    """What an operator sets up for ESO, and the credentials ESO is given."""
    ok(s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}))
    ok(s.root("POST", "/v1/sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}}))
    ok(s.root("PUT", "/v1/sys/policies/acl/eso", {"policy": POLICY}))
    ok(s.root("POST", "/v1/auth/kubernetes/role/eso", {
        "bound_service_account_names": ["external-secrets"], "bound_service_account_namespaces": ["eso"],
        "token_policies": ["eso"], "token_ttl": "10m"}))
    ok(s.root("POST", "/v1/auth/kubernetes/role/eso-aud", {
        "bound_service_account_names": ["external-secrets"], "bound_service_account_namespaces": ["eso"],
        "audience": "vault", "token_policies": ["eso"], "token_ttl": "10m"}))
    k.sa("eso", "external-secrets")
    ok(s.root("POST", "/v1/sys/auth/approle", {"type": "approle"}))
    ok(s.root("POST", "/v1/auth/approle/role/eso", {"token_policies": ["eso"], "token_ttl": "10m"}))
    role_id = ok(s.root("GET", "/v1/auth/approle/role/eso/role-id"))["data"]["role_id"]
    secret_id = ok(s.root("POST", "/v1/auth/approle/role/eso/secret-id", {}))["data"]["secret_id"]
    token = ok(s.root("POST", "/v1/auth/token/create", {"policies": ["eso"], "ttl": "1h"}))["auth"]["client_token"]
    return {
        "SEALBOX_ROOT_TOKEN": s.root_token, "SEALBOX_UNSEAL_KEY": s.keys[0], "SEALBOX_ESO_TOKEN": token,
        "SEALBOX_APPROLE_ROLE_ID": role_id, "SEALBOX_APPROLE_SECRET_ID": secret_id,
        # A projected token for the API audience, as a Secret would hold it,
        # and a legacy Secret-based one for the ServiceAccount's secrets.
        "SEALBOX_K8S_JWT": k.token("eso", "external-secrets"),
        "SEALBOX_K8S_LEGACY_JWT": k.token("eso", "external-secrets", legacy=True),
        "KUBECONFIG": kubeconfig(tmp / "kubeconfig", k, k.reviewer_token),
        "SEALBOX_KUBECONFIG_ANONYMOUS": kubeconfig(tmp / "kubeconfig-anonymous", k),
    }


def kubeconfig(path, k, token=None):
    """The provider builds a clientset from KUBECONFIG for TokenRequest: the
    stand-in, as the reviewer (allowed) or anonymous (refused). Not in the
    server's directory, which is checked for leaked tokens."""
    user = "{token: \"%s\"}" % token if token else "{}"
    with open(path, "w") as f:
        f.write("""apiVersion: v1
kind: Config
clusters: [{name: standin, cluster: {server: "%s", certificate-authority: "%s"}}]
users: [{name: eso, user: %s}]
contexts: [{name: standin, context: {cluster: standin, user: eso}}]
current-context: standin
""" % (k.url, k.ca, user))
    return str(path)


def go_env(s, extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "KUBERNETES_"))}
    # Module mode, pinned by go.mod and go.sum; scripts/deps fetched the modules.
    env.update(GO111MODULE="on", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", CGO_ENABLED="0",
               SEALBOX_ADDR=s.url, SEALBOX_CACERT=s.cacert, **extra)
    return env


def test_external_secrets_vault_provider(tmp_path):
    go = shutil.which("go") or "/usr/local/go/bin/go"
    assert os.path.exists(go), "go is missing (this machine kind ships Go 1.26 in /usr/local/go)"
    s = harness.Server().start()
    k = None
    try:
        s.init(1, 1)
        s.unseal(s.keys)
        k = kube_env(s)
        p = subprocess.run([go, "test", "-count=1", "-v", "."], cwd=ESO, env=go_env(s, configure(s, k, tmp_path)),
                           capture_output=True, text=True, timeout=840)
        out = p.stdout + p.stderr
        assert p.returncode == 0, "go test failed:\n%s" % out[-30000:]
        passed = set(re.findall(r"^--- PASS: (Test\w+)", p.stdout, re.M))
        wanted = common.go_test_names(ESO)
        assert passed == wanted, "not every test passed: missing %s" % sorted(wanted - passed)
        assert "panic:" not in out, out[-30000:]
    finally:
        if k:
            k.stop()
        s.cleanup()
