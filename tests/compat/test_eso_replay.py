"""External Secrets Operator's Vault provider, request for request
(providers/v1/vault, see the contract's real-clients notes §1): every
reconcile is login → reads → lookup-self → revoke-self; find-by-path lists
metadata recursively; PushSecret writes metadata before data with cas."""
import re

import pytest

from common import GoClient, harness, kube_env

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def env():
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal(s.keys)
    k = kube_env(s)
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    policy = """
path "secret/data/*"     { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*" { capabilities = ["create", "read", "update", "delete", "list"] }
"""
    assert s.root("PUT", "/v1/sys/policies/acl/eso", {"policy": policy})[0] == 204
    st, b = s.root("POST", "/v1/auth/kubernetes/role/eso", {
        "bound_service_account_names": ["external-secrets"], "bound_service_account_namespaces": ["eso"],
        "token_policies": ["eso"], "token_ttl": "10m"})
    assert st in (200, 204), b
    k.sa("eso", "external-secrets")
    yield s, k
    k.stop()
    s.cleanup()


def eso_login(s, k, audiences=None):
    """serviceAccountRef without audiences: the API server's default audience."""
    c = GoClient(s)
    jwt = k.token("eso", "external-secrets", **({"audiences": audiences} if audiences else {}))
    st, b = c.write("auth/kubernetes/login", {"jwt": jwt, "role": "eso"})
    assert st == 200, b
    assert b["auth"]["client_token"]
    c.token = b["auth"]["client_token"]
    return c


def check_token_then_close(c):
    """checkToken + Close(): lookup-self typed as ESO asserts, then revoke-self."""
    st, b = c.read("auth/token/lookup-self")
    assert st == 200, b
    d = b["data"]
    assert isinstance(d["ttl"], int) and not isinstance(d["ttl"], bool) and d["ttl"] > 60
    assert "expire_time" in d and (d["expire_time"] is None or RFC3339.match(d["expire_time"]))
    assert d["type"] == "service"
    st, b = c.write("auth/token/revoke-self", {})
    assert st == 204, b
    assert c.read("auth/token/lookup-self")[0] == 403


def test_external_secret_reconcile(env):
    s, k = env
    root = GoClient(s, s.root_token)
    for i, v in enumerate(["v1-pw", "v2-pw"]):
        st, b = root.write("secret/data/apps/web", {"data": {"password": v, "nested": {"k": i}}})
        assert st == 200, b
    c = eso_login(s, k)
    # remoteRef with version: ?version=N; property extraction from data.data.
    st, b = c.read("secret/data/apps/web", version="1")
    assert st == 200 and b["data"]["data"]["password"] == "v1-pw"
    st, b = c.read("secret/data/apps/web")
    assert st == 200 and b["data"]["data"] == {"password": "v2-pw", "nested": {"k": 1}}
    assert b["data"]["metadata"]["version"] == 2
    # metadataPolicy: Fetch
    st, b = c.read("secret/metadata/apps/web")
    assert st == 200
    m = b["data"]
    assert m["current_version"] == 2 and isinstance(m["custom_metadata"], (dict, type(None)))
    assert "created_time" in m and "delete_version_after" in m
    # A missing key: plain 404 {"errors": []}, which ESO reports as not found.
    assert c.read("secret/data/apps/none") == (404, {"errors": []})
    check_token_then_close(c)


def test_find_by_path_lists_recursively(env):
    s, k = env
    root = GoClient(s, s.root_token)
    for p in ["team/a", "team/b", "team/deep/c", "other/x"]:
        assert root.write("secret/data/" + p, {"data": {"v": p}})[0] == 200
    c = eso_login(s, k)

    def walk(prefix):
        st, b = c.list("secret/metadata/" + prefix)
        assert st == 200, (prefix, b)
        found = []
        for key in b["data"]["keys"]:
            found += walk(prefix + key) if key.endswith("/") else [prefix + key]
        return found

    assert sorted(walk("team/")) == ["team/a", "team/b", "team/deep/c"]
    # No find.path: the URL ends in metadata/ with an empty remainder.
    st, b = c.list("secret/metadata/")
    assert st == 200 and {"team/", "other/"} <= set(b["data"]["keys"])
    for p in walk("team/"):
        st, b = c.read("secret/data/" + p)
        assert st == 200 and b["data"]["data"] == {"v": p}
    check_token_then_close(c)


def test_push_secret_metadata_first_then_cas(env):
    s, k = env
    c = eso_login(s, k)
    path = "pushed/db"
    # 1. Existence check: nothing yet.
    assert c.read("secret/data/" + path)[0] == 404
    # 2. Metadata first, before any data exists.
    assert c.write("secret/metadata/" + path, {"custom_metadata": {"managed-by": "external-secrets"}})[0] == 204
    # 3. Data with cas 0 (new secret) right after a metadata-only write.
    st, b = c.write("secret/data/" + path, {"data": {"password": "p1"}, "options": {"cas": 0}})
    assert st == 200 and b["data"]["version"] == 1, b
    # An update: ownership check on metadata, then cas = current_version.
    st, b = c.read("secret/metadata/" + path)
    assert b["data"]["custom_metadata"] == {"managed-by": "external-secrets"}
    cur = b["data"]["current_version"]
    assert c.write("secret/metadata/" + path, {"custom_metadata": {"managed-by": "external-secrets"}})[0] == 204
    st, b = c.write("secret/data/" + path, {"data": {"password": "p2"}, "options": {"cas": cur}})
    assert st == 200 and b["data"]["version"] == 2
    # A stale cas (a concurrent writer) fails instead of overwriting.
    st, b = c.write("secret/data/" + path, {"data": {"password": "p3"}, "options": {"cas": cur}})
    assert st == 400 and b["errors"], b
    assert c.read("secret/data/" + path)[1]["data"]["data"] == {"password": "p2"}
    # DeleteSecret: data, then metadata.
    assert c.delete("secret/data/" + path)[0] == 204
    assert c.delete("secret/metadata/" + path)[0] == 204
    assert c.read("secret/metadata/" + path)[0] == 404
    check_token_then_close(c)


def test_jwt_auth_mode_with_vault_audience_and_bad_tokens(env):
    s, k = env
    c = eso_login(s, k, audiences=["vault"])
    check_token_then_close(c)
    # A revoked token is 403 (ESO logs in again on its next reconcile).
    assert c.read("secret/data/apps/web")[0] == 403
    bad = GoClient(s)
    st, b = bad.write("auth/kubernetes/login", {"jwt": "not.a.jwt", "role": "eso"})
    assert st == 403 and "auth" not in (b or {}) or b.get("auth") is None
