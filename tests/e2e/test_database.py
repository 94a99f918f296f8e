"""Dynamic PostgreSQL credentials with leases against a real PostgreSQL 15
(issue 6): creds work, revoke drops the role and kills its sessions, expiry
drops it without a request, renew moves VALID UNTIL, token revocation revokes
its leases, a database outage ends in an irrevocable lease that revoke-force
clears, and leases survive kill -9."""

import subprocess

import pytest

import harness
from pg_harness import PG_BIN, Postgres


@pytest.fixture(scope="module")
def env():
    pg = Postgres()
    s = harness.Server().start()
    s.init()
    s.unseal()
    t = s.root_token
    assert s.raw("POST", "/v1/sys/mounts/database", t, {"type": "database"})[0] == 204
    st, b = s.raw("POST", "/v1/database/config/pg", t, {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["ro", "short", "custom"]})
    assert st == 204, b
    st, b = s.raw("POST", "/v1/database/roles/ro", t, {
        "db_name": "pg", "default_ttl": "1h", "max_ttl": "2h",
        "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                                "'{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";"]})
    assert st == 204, b
    assert s.raw("POST", "/v1/database/roles/short", t, {
        "db_name": "pg", "default_ttl": "3s", "max_ttl": "10s",
        "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                               "'{{expiration}}';"})[0] == 204
    yield s, pg
    s.cleanup()
    pg.cleanup()


def role_exists(pg, name):
    return pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = '%s'" % name)[1] == "1"


def creds(s, role, token=None):
    st, b = s.raw("GET", "/v1/database/creds/" + role, token or s.root_token)
    assert st == 200, b
    return b


def test_creds_login_revoke_and_session_kill(env):
    s, pg = env
    b = creds(s, "ro")
    user, pw = b["data"]["username"], b["data"]["password"]
    assert b["lease_id"].startswith("database/creds/ro/") and b["renewable"] is True and b["lease_duration"] == 3600
    assert user.startswith("v-root-ro-") and len(user) <= 63
    assert pg.psql("SELECT id FROM things", user=user, password=pw) == (0, "1")
    # An open session of that role, then revoke: the session dies, the role goes.
    sess = subprocess.Popen([PG_BIN + "/psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", user, "-d", "postgres",
                             "-tAc", "SELECT pg_sleep(60)"], env={"PGPASSWORD": pw}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    harness.wait_until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity WHERE usename='%s'" % user)[1] == "1",
                       what="the session to start")
    st, l = s.raw("PUT", "/v1/sys/leases/lookup", s.root_token, {"lease_id": b["lease_id"]})
    assert st == 200 and l["data"]["renewable"] is True and 3500 < l["data"]["ttl"] <= 3600
    assert s.raw("PUT", "/v1/sys/leases/revoke", s.root_token, {"lease_id": b["lease_id"]})[0] == 204
    sess.wait(timeout=20)
    assert sess.returncode != 0
    assert not role_exists(pg, user)
    assert pg.psql("SELECT 1", user=user, password=pw)[0] != 0
    assert s.raw("PUT", "/v1/sys/leases/lookup", s.root_token, {"lease_id": b["lease_id"]})[0] == 400


def test_expiry_drops_role_without_a_request(env):
    s, pg = env
    user = creds(s, "short")["data"]["username"]
    assert role_exists(pg, user)
    harness.wait_until(lambda: not role_exists(pg, user), timeout=15, what="the expired role to be dropped")


def test_renew_moves_valid_until_and_caps(env):
    s, pg = env
    b = creds(s, "ro")
    user = b["data"]["username"]
    before = pg.psql("SELECT extract(epoch from rolvaliduntil)::bigint FROM pg_roles WHERE rolname='%s'" % user)[1]
    st, r = s.raw("PUT", "/v1/sys/leases/renew", s.root_token, {"lease_id": b["lease_id"], "increment": "90m"})
    assert st == 200 and r["lease_id"] == b["lease_id"] and r["lease_duration"] == 5400, r
    after = pg.psql("SELECT extract(epoch from rolvaliduntil)::bigint FROM pg_roles WHERE rolname='%s'" % user)[1]
    assert int(after) - int(before) >= 1700
    st, r = s.raw("PUT", "/v1/sys/leases/renew", s.root_token, {"lease_id": b["lease_id"], "increment": "5h"})
    assert st == 200 and r["lease_duration"] <= 7200 and r["warnings"] and "capped" in r["warnings"][0]


def test_token_revocation_revokes_leases_and_cross_tenant_refused(env):
    s, pg = env
    t = s.root_token
    assert s.raw("PUT", "/v1/sys/policy/db", t, {"policy": 'path "database/creds/ro" { capabilities = ["read"] }'})[0] == 204
    st, c = s.raw("POST", "/v1/auth/token/create", t, {"policies": ["db"]})
    tok = c["auth"]["client_token"]
    b = creds(s, "ro", tok)
    user = b["data"]["username"]
    # Another tenant with a leaked lease id cannot revoke it.
    st, c2 = s.raw("POST", "/v1/auth/token/create", t, {"policies": ["db"]})
    assert s.raw("PUT", "/v1/sys/leases/revoke", c2["auth"]["client_token"], {"lease_id": b["lease_id"]})[0] == 403
    assert role_exists(pg, user)
    assert s.raw("POST", "/v1/auth/token/revoke", t, {"token": tok})[0] == 204
    assert not role_exists(pg, user)


def test_database_down_then_irrevocable_then_force(env):
    s, pg = env
    user = creds(s, "short")["data"]["username"]
    pg.stop()
    try:
        def irrevocable():
            st, b = s.raw("GET", "/v1/sys/leases?type=irrevocable", s.root_token)
            return st == 200 and any(l["lease_id"].startswith("database/creds/short/") for l in b["data"]["leases"])
        harness.wait_until(irrevocable, timeout=60, what="the lease to become irrevocable")
        st, b = s.raw("GET", "/v1/sys/leases/count?type=irrevocable", s.root_token)
        assert st == 200 and b["data"]["lease_count"] >= 1
    finally:
        pg.start()
    assert role_exists(pg, user)  # nothing lost, nothing dropped behind our back
    assert s.raw("PUT", "/v1/sys/leases/revoke-force/database/creds/short", s.root_token)[0] == 204
    st, b = s.raw("GET", "/v1/sys/leases?type=irrevocable", s.root_token)
    assert not any(l["lease_id"].startswith("database/creds/short/") for l in b["data"]["leases"])


def test_lease_survives_kill9(env):
    s, pg = env
    user = creds(s, "short")["data"]["username"]
    s.kill9()
    s.start()
    s.unseal()
    harness.wait_until(lambda: not role_exists(pg, user), timeout=20, what="the role to be dropped after restart")


def test_hvac_database(env):
    s, pg = env
    c = s.hvac()
    c.secrets.database.create_role("hv", "pg", ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"],
                                   default_ttl="1h", max_ttl="2h", mount_point="database")
    c.secrets.database.configure("pg", "postgresql-database-plugin", connection_url=pg.url(), username="sealbox",
                                 password="rootpw", allowed_roles=["ro", "short", "custom", "hv"],
                                 mount_point="database")
    r = c.secrets.database.generate_credentials("hv", mount_point="database")
    lease = r["lease_id"]
    assert role_exists(pg, r["data"]["username"])
    assert c.sys.read_lease(lease)["data"]["id"] == lease
    assert c.sys.renew_lease(lease, increment=600)["lease_duration"] == 600
    c.sys.revoke_lease(lease)
    assert not role_exists(pg, r["data"]["username"])


def test_cli_lease_lookup_renew_revoke(env):
    s, pg = env
    import os

    def cli(*args):
        e = {"PATH": os.environ.get("PATH", ""), "HOME": s.dir, "VAULT_ADDR": s.url, "VAULT_CACERT": s.cacert,
             "VAULT_TOKEN": s.root_token}
        return subprocess.run([harness.sealbox_bin()] + list(args), env=e, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    b = creds(s, "ro")
    lease, user = b["lease_id"], b["data"]["username"]
    p = cli("lease", "lookup", lease)
    assert p.returncode == 0, p.stderr
    assert "renewable" in p.stdout and lease in p.stdout
    p = cli("lease", "renew", "-increment=30m", lease)
    assert p.returncode == 0, p.stderr
    assert "lease_duration     1800s" in p.stdout or "1800s" in p.stdout.split("lease_duration")[1].split("\n")[0]
    p = cli("lease", "lookup", "-format=json", lease)
    import json
    assert 1700 < json.loads(p.stdout)["data"]["ttl"] <= 1800
    p = cli("lease", "revoke", lease)
    assert p.returncode == 0 and p.stdout.strip() == "Success! Revoked lease: " + lease
    assert not role_exists(pg, user)
    p = cli("lease", "lookup", lease)
    assert p.returncode == 2 and "Code: 400" in p.stderr

    # -prefix revokes every lease under a path.
    users = [creds(s, "ro")["data"]["username"] for _ in range(2)]
    p = cli("lease", "revoke", "-prefix", "database/creds/ro")
    assert p.returncode == 0, p.stderr
    harness.wait_until(lambda: not any(role_exists(pg, u) for u in users), what="prefix revocation")
