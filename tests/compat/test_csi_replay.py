"""The Secrets Store CSI driver's Vault provider, request for request (the
contract's real-clients notes §2): POST login with the pod's token for
audience `vault`, one GET per object with the query split off secretPath,
secretKey taken from data.data (KV v2) or data (database), username and
password from ONE read of database creds, and one re-login after a 403."""
import subprocess

import pytest

from common import GoClient, harness, kube_env
from pg_harness import PG_BIN, Postgres


@pytest.fixture(scope="module")
def env():
    pg = Postgres()
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal(s.keys)
    k = kube_env(s, mount="k8s")
    t = s.root_token
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert s.root("POST", "/v1/sys/mounts/db", {"type": "database"})[0] == 204
    st, b = s.root("POST", "/v1/db/config/pg", {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["web"]})
    assert st == 204, b
    assert s.root("POST", "/v1/db/roles/web", {
        "db_name": "pg", "default_ttl": "1h",
        "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                               "'{{expiration}}';"})[0] == 204
    policy = 'path "secret/data/apps/web" { capabilities = ["read"] }\npath "db/creds/web" { capabilities = ["read"] }'
    assert s.root("PUT", "/v1/sys/policies/acl/web", {"policy": policy})[0] == 204
    st, b = s.root("POST", "/v1/auth/k8s/role/web", {
        "bound_service_account_names": ["web"], "bound_service_account_namespaces": ["web"],
        "audience": "vault", "token_policies": ["web"], "token_ttl": "20m"})
    assert st in (200, 204), b
    k.sa("web", "web")
    for v in ("key-v1", "key-v2", "key-v3"):
        assert s.root("POST", "/v1/secret/data/apps/web", {"data": {"api_key": v}})[0] == 200
    yield s, k, pg
    k.stop()
    s.cleanup()
    pg.cleanup()


class Provider:
    """One Mount call of the provider: login, then the objects."""

    def __init__(self, s, k):
        self.s, self.k = s, k
        self.client = GoClient(s)
        self.logins = 0

    def login(self):
        # The driver hands over the pod's token for audience "vault".
        jwt = self.k.token("web", "web", audiences=["vault"])
        st, b = self.client.call("POST", "auth/k8s/login", {"jwt": jwt, "role": "web"})
        assert st == 200, b
        self.client.token = b["auth"]["client_token"]  # read with no nil check upstream
        self.logins += 1

    def fetch(self, secret_path, fresh_token):
        path, _, query = secret_path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&")) if query else None
        st, b = self.client.call("GET", path, params=params)
        if st == 403 and not fresh_token:
            self.login()  # one re-login and one retry
            st, b = self.client.call("GET", path, params=params)
        assert st == 200 and b and b.get("data") is not None, (st, b)
        return b

    @staticmethod
    def key(body, secret_key):
        data = body["data"]
        inner = data.get("data")
        return (inner if isinstance(inner, dict) else data)[secret_key]

    def mount(self, objects, fresh=True):
        if self.client.token is None:
            self.login()
        cache, out = {}, {}
        for name, secret_path, secret_key in objects:
            if secret_path not in cache:  # cached per (path, method) within one Mount
                cache[secret_path] = self.fetch(secret_path, fresh)
            out[name] = self.key(cache[secret_path], secret_key)
        return out, cache


def test_mount_kv_and_database_objects(env):
    s, k, pg = env
    p = Provider(s, k)
    files, cache = p.mount([("api-key", "secret/data/apps/web?version=2", "api_key"),
                            ("latest", "secret/data/apps/web", "api_key"),
                            ("db-user", "db/creds/web", "username"),
                            ("db-pass", "db/creds/web", "password")])
    assert files["api-key"] == "key-v2" and files["latest"] == "key-v3"
    creds = cache["db/creds/web"]
    assert creds["lease_id"].startswith("db/creds/web/") and creds["renewable"] is True
    assert isinstance(creds["lease_duration"], int) and creds["lease_duration"] == 3600
    # Username and password come from one lease, and they log in.
    assert pg.psql("SELECT 1", user=files["db-user"], password=files["db-pass"]) == (0, "1")
    st, leases = s.root("LIST", "/v1/sys/leases/lookup/db/creds/web/")
    assert st == 200 and len(leases["data"]["keys"]) == 1


def test_403_triggers_exactly_one_relogin(env):
    s, k, _ = env
    p = Provider(s, k)
    p.mount([("api-key", "secret/data/apps/web", "api_key")])
    assert p.logins == 1
    # The provider never renews: an expired or revoked token answers 403
    # (never 401), and the next mount logs in once more and succeeds.
    assert s.root("POST", "/v1/auth/token/revoke", {"token": p.client.token})[0] == 204
    files, _ = p.mount([("api-key", "secret/data/apps/web", "api_key")], fresh=False)
    assert files["api-key"] == "key-v3" and p.logins == 2


def test_login_failures_are_non_2xx_without_auth(env):
    s, k, _ = env
    c = GoClient(s)
    wrong_aud = k.token("web", "web", audiences=["not-vault"])
    st, b = c.call("POST", "auth/k8s/login", {"jwt": wrong_aud, "role": "web"})
    assert st == 403 and b.get("auth") is None
    other_sa = k.token("web", "intruder", audiences=["vault"])
    assert c.call("POST", "auth/k8s/login", {"jwt": other_sa, "role": "web"})[0] == 403
    # Sealed: 503 with Vault's text (the provider surfaces it).
    assert s.root("PUT", "/v1/sys/seal")[0] == 204
    st, b = c.call("POST", "auth/k8s/login", {"jwt": k.token("web", "web", audiences=["vault"]), "role": "web"})
    assert st == 503 and b["errors"] == ["Vault is sealed"]
    s.unseal(s.keys)
