"""Lifecycle as Vault's (issue 19): what a mount granted ends with it or moves
with it, and the server config's lease TTLs hold. Real sealbox, real
PostgreSQL 15, the Kubernetes API stand-in.

- Disabling a secrets engine revokes its leases through the engine first (the
  PostgreSQL role is dropped); a failed revocation keeps the mount.
- sys/remount carries the leases (ids re-prefixed): they stay revocable.
- Disabling an auth method revokes every token it issued, with children.
- default_lease_ttl / max_lease_ttl in the config cap tokens and leases, and
  mounts report them; an unknown config key stops the start."""

import os
import subprocess

import pytest

import harness
from pg_harness import Postgres
from test_kubernetes import Kube


CREATE = "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"


@pytest.fixture(scope="module")
def pg():
    p = Postgres()
    yield p
    p.cleanup()


@pytest.fixture()
def s():
    srv = harness.Server().start()
    srv.init()
    srv.unseal()
    yield srv
    srv.cleanup()


def role_exists(pg, name):
    return pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = '%s'" % name)[1] == "1"


def mount_database(s, pg, path, revocation=None):
    t = s.root_token
    assert s.raw("POST", "/v1/sys/mounts/" + path, t, {"type": "database"})[0] == 204
    st, b = s.raw("POST", "/v1/%s/config/pg" % path, t, {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["ro"]})
    assert st == 204, b
    role = {"db_name": "pg", "default_ttl": "1h", "max_ttl": "2h", "creation_statements": [CREATE]}
    if revocation:
        role["revocation_statements"] = [revocation]
    assert s.raw("POST", "/v1/%s/roles/ro" % path, t, role)[0] == 204


def creds(s, path):
    st, b = s.raw("GET", "/v1/%s/creds/ro" % path, s.root_token)
    assert st == 200, b
    return b["lease_id"], b["data"]["username"], b["data"]["password"]


def lease_exists(s, lease_id):
    st, _ = s.raw("PUT", "/v1/sys/leases/lookup", s.root_token, {"lease_id": lease_id})
    return st == 200


def mounted(s, path):
    st, b = s.raw("GET", "/v1/sys/mounts", s.root_token)
    assert st == 200
    return path + "/" in b["data"]


def test_disabling_a_secrets_engine_revokes_its_leases_first(s, pg):
    mount_database(s, pg, "dbgone")
    lease_ids, users = [], []
    for _ in range(3):
        lease, user, pw = creds(s, "dbgone")
        assert pg.psql("SELECT 1", user=user, password=pw) == (0, "1")
        lease_ids.append(lease)
        users.append(user)
    assert s.raw("DELETE", "/v1/sys/mounts/dbgone", s.root_token)[0] == 204
    for user in users:
        assert not role_exists(pg, user), "disable left a live database role behind"
    for lease in lease_ids:
        assert not lease_exists(s, lease)
    assert not mounted(s, "dbgone")


def test_a_failed_revocation_keeps_the_mount_and_says_why(s, pg):
    mount_database(s, pg, "dbstuck", revocation="SELECT no_such_function('{{name}}');")
    lease, user, _ = creds(s, "dbstuck")
    st, b = s.raw("DELETE", "/v1/sys/mounts/dbstuck", s.root_token)
    assert st == 400, b
    assert "failed to revoke" in b["errors"][0] and lease in b["errors"][0], b
    assert mounted(s, "dbstuck") and lease_exists(s, lease) and role_exists(pg, user)
    # The mount still serves, and is disabled once its lease is force-revoked.
    assert s.raw("GET", "/v1/dbstuck/roles/ro", s.root_token)[0] == 200
    assert s.raw("PUT", "/v1/sys/leases/revoke-force/dbstuck/creds", s.root_token)[0] == 204
    assert s.raw("DELETE", "/v1/sys/mounts/dbstuck", s.root_token)[0] == 204
    assert not mounted(s, "dbstuck")


def test_remount_carries_leases_to_the_new_path(s, pg):
    mount_database(s, pg, "dbold")
    lease, user, _ = creds(s, "dbold")
    st, b = s.raw("POST", "/v1/sys/remount", s.root_token, {"from": "dbold", "to": "dbnew"})
    assert st == 200, b
    moved = "dbnew/" + lease[len("dbold/"):]
    assert not lease_exists(s, lease)
    st, b = s.raw("PUT", "/v1/sys/leases/lookup", s.root_token, {"lease_id": moved})
    assert st == 200 and b["data"]["id"] == moved, b
    st, b = s.raw("LIST", "/v1/sys/leases/lookup/dbnew/creds/ro/", s.root_token)
    assert st == 200 and b["data"]["keys"] == [moved.rsplit("/", 1)[1]], b
    # Renewal and revocation reach the engine at its new path.
    assert s.raw("PUT", "/v1/sys/leases/renew", s.root_token, {"lease_id": moved})[0] == 200
    assert s.raw("PUT", "/v1/sys/leases/revoke", s.root_token, {"lease_id": moved})[0] == 204
    assert not role_exists(pg, user)


def test_path_help_never_runs_the_request(s, pg):
    mount_database(s, pg, "dbhelp")
    before = pg.psql("SELECT count(*) FROM pg_roles")[1]
    st, b = s.raw("GET", "/v1/dbhelp/creds/ro?help=1", s.root_token)
    assert st == 200 and set(b) == {"help", "openapi", "see_also"}, b
    assert "Matching Route: ^creds/(?P<role>[^/]+)$" in b["help"], b["help"]
    assert pg.psql("SELECT count(*) FROM pg_roles")[1] == before
    assert s.raw("LIST", "/v1/sys/leases/lookup/dbhelp/creds/ro/", s.root_token)[0] == 404
    # As Vault (played against OpenBao): any token may read help, even under a
    # deny, and whatever the method; no token is still refused.
    assert s.raw("PUT", "/v1/sys/policies/acl/deny-db", s.root_token,
                 {"policy": 'path "dbhelp/*" { capabilities = ["deny"] }'})[0] == 204
    st, b = s.raw("POST", "/v1/auth/token/create", s.root_token, {"policies": ["deny-db"]})
    denied = b["auth"]["client_token"]
    assert s.raw("GET", "/v1/dbhelp/creds/ro", denied)[0] == 403
    assert s.raw("GET", "/v1/dbhelp/creds/ro?help=1", denied)[0] == 200
    assert s.raw("PUT", "/v1/dbhelp/roles/ro?help=1", denied, {"db_name": "x"})[0] == 200
    assert s.raw("GET", "/v1/dbhelp/creds/ro?help=1")[0] == 403


def kube_login(s, k, path, policies):
    """Enables Kubernetes auth at `path` against the stand-in and logs in as
    prod/app; returns the login token."""
    t = s.root_token
    assert s.raw("POST", "/v1/sys/auth/" + path, t, {"type": "kubernetes"})[0] == 204
    assert s.raw("POST", "/v1/auth/%s/config" % path, t, {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": k.reviewer_token,
        "disable_local_ca_jwt": True})[0] == 204
    assert s.raw("POST", "/v1/auth/%s/role/app" % path, t, {
        "bound_service_account_names": ["app"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault", "token_policies": policies, "token_ttl": "1h"})[0] == 204
    k.sa("prod", "app")
    st, b = s.raw("POST", "/v1/auth/%s/login" % path,
                  body={"role": "app", "jwt": k.token("prod", "app", audiences=["vault"])})
    assert st == 200, b
    return b["auth"]["client_token"]


def test_disabling_an_auth_method_revokes_its_tokens_and_children(s):
    k = Kube(s.dir)
    try:
        t = s.root_token
        assert s.raw("PUT", "/v1/sys/policies/acl/creator", t, {
            "policy": 'path "auth/token/create" { capabilities = ["update"] }'})[0] == 204
        login_token = kube_login(s, k, "kube", ["creator"])
        st, b = s.raw("POST", "/v1/auth/token/create", login_token, {"policies": ["default"]})
        assert st == 200, b
        child = b["auth"]["client_token"]
        # A token of another method survives.
        st, b = s.raw("POST", "/v1/auth/token/create", t, {"policies": ["default"]})
        other = b["auth"]["client_token"]
        for tok in (login_token, child, other):
            assert s.raw("GET", "/v1/auth/token/lookup-self", tok)[0] == 200
        assert s.raw("DELETE", "/v1/sys/auth/kube", t)[0] == 204
        assert s.raw("GET", "/v1/auth/token/lookup-self", login_token)[0] == 403
        assert s.raw("GET", "/v1/auth/token/lookup-self", child)[0] == 403
        assert s.raw("GET", "/v1/auth/token/lookup-self", other)[0] == 200
    finally:
        k.stop()


def test_auth_remount_keeps_its_tokens_revocable_by_disable(s):
    k = Kube(s.dir)
    try:
        t = s.root_token
        tok = kube_login(s, k, "kfrom", ["default"])
        st, b = s.raw("POST", "/v1/sys/remount", t, {"from": "auth/kfrom", "to": "auth/kto"})
        assert st == 200, b
        st, b = s.raw("GET", "/v1/auth/token/lookup-self", tok)
        assert st == 200 and b["data"]["path"] == "auth/kto/login", b
        assert s.raw("DELETE", "/v1/sys/auth/kto", t)[0] == 204
        assert s.raw("GET", "/v1/auth/token/lookup-self", tok)[0] == 403
    finally:
        k.stop()


def test_config_lease_ttls_cap_tokens_and_leases():
    srv = harness.Server(extra_config='default_lease_ttl = "1h"\nmax_lease_ttl = "2h"\n').start()
    try:
        srv.init()
        srv.unseal()
        t = srv.root_token
        st, b = srv.raw("POST", "/v1/auth/token/create", t, {"ttl": "5h"})
        assert st == 200 and b["auth"]["lease_duration"] == 7200, b
        # (A root child without a TTL never expires, as in Vault; a non-root one gets the default.)
        st, b = srv.raw("POST", "/v1/auth/token/create", t, {"policies": ["default"]})
        assert st == 200 and b["auth"]["lease_duration"] == 3600, b
        assert srv.raw("POST", "/v1/sys/mounts/kv1", t, {"type": "kv", "options": {"version": "1"}})[0] == 204
        for path in ("/v1/sys/mounts/kv1/tune", "/v1/sys/auth/token/tune"):
            st, b = srv.raw("GET", path, t)
            assert st == 200 and (b["data"]["default_lease_ttl"], b["data"]["max_lease_ttl"]) == (3600, 7200), b
        assert srv.raw("PUT", "/v1/kv1/x", t, {"a": "b"})[0] == 204
        st, b = srv.raw("GET", "/v1/kv1/x", t)
        assert st == 200 and b["lease_duration"] == 3600, b
        # As Vault (checked against OpenBao), a mount's own max overrides the system's.
        assert srv.raw("POST", "/v1/sys/mounts/kv1/tune", t, {"max_lease_ttl": "3h"})[0] == 204
        st, b = srv.raw("GET", "/v1/sys/mounts/kv1/tune", t)
        assert st == 200 and b["data"]["max_lease_ttl"] == 10800, b
    finally:
        srv.cleanup()


@pytest.mark.parametrize("typo,where", [
    ('max_lease_tll = "2h"\n', 'unknown key "max_lease_tll"'),
    ('listener_typo = 1\n', 'unknown key "listener_typo"'),
])
def test_unknown_config_key_stops_the_start(typo, where):
    srv = harness.Server(extra_config=typo)
    try:
        with open(srv.config) as f:
            line = f.read().splitlines().index(typo.strip()) + 1
        r = subprocess.run([harness.sealbox_bin(), "server", "-config", srv.config], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0
        out = r.stdout + r.stderr
        assert where in out and "line %d" % line in out, out
    finally:
        srv.cleanup()


def test_listener_typo_names_its_line():
    srv = harness.Server(listener_extra='  adress = "0.0.0.0:8200"\n')
    try:
        with open(srv.config) as f:
            line = [i for i, l in enumerate(f.read().splitlines(), 1) if "adress" in l][0]
        r = subprocess.run([harness.sealbox_bin(), "server", "-config", srv.config], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0
        assert 'line %d: unknown key "adress" in listener "tcp"' % line in r.stdout + r.stderr
    finally:
        srv.cleanup()
