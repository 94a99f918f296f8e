"""Dynamic PostgreSQL credentials with leases against a real PostgreSQL 15
(issue 6): creds work, revoke drops the role and kills its sessions, expiry
drops it without a request, renew moves VALID UNTIL, token revocation revokes
its leases, a database outage ends in an irrevocable lease that revoke-force
clears, leases survive kill -9, and so does a lease-count quota's count."""

import json
import os
import subprocess
import sys

import pytest

import harness
from pg_harness import PG_BIN, Postgres

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import bao_bin  # noqa: E402


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


@pytest.mark.parametrize("tool", ["sealbox", "bao"])
def test_cli_lease_lookup_renew_revoke(env, tool):
    """The sealbox CLI and the vault CLI (OpenBao's bao) alike."""
    s, pg = env
    binary = harness.sealbox_bin() if tool == "sealbox" else bao_bin()

    def cli(*args):
        e = {"PATH": os.environ.get("PATH", ""), "HOME": s.dir, "VAULT_ADDR": s.url, "VAULT_CACERT": s.cacert,
             "VAULT_TOKEN": s.root_token}
        return subprocess.run([binary] + list(args), env=e, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)

    b = creds(s, "ro")
    lease, user = b["lease_id"], b["data"]["username"]
    p = cli("lease", "lookup", lease)
    assert p.returncode == 0, p.stderr
    assert "renewable" in p.stdout and lease in p.stdout
    p = cli("lease", "renew", "-increment=30m", lease)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("lease_duration")[1].split("\n")[0].strip() == "30m"  # as vault prints durations
    p = cli("lease", "lookup", "-format=json", lease)
    assert 1700 < json.loads(p.stdout)["data"]["ttl"] <= 1800
    p = cli("lease", "revoke", lease)
    # vault asks for a queued revocation (sync=false) and says so; Sealbox revokes before it answers either way.
    said = "Success! Revoked lease: " + lease if tool == "sealbox" else "All revocation operations queued successfully!"
    assert p.returncode == 0 and p.stdout.strip() == said
    assert not role_exists(pg, user)
    p = cli("lease", "lookup", lease)
    assert p.returncode == 2 and "Code: 400" in p.stderr

    # -field reaches the envelope: one read, one user, its lease id printed (issue 19).
    p = cli("read", "-field=lease_id", "database/creds/ro")
    assert p.returncode == 0 and p.stdout.startswith("database/creds/ro/"), p.stderr
    assert cli("lease", "lookup", p.stdout).returncode == 0

    # -prefix revokes every lease under a path.
    users = [creds(s, "ro")["data"]["username"] for _ in range(2)]
    p = cli("lease", "revoke", "-prefix", "database/creds/ro")
    assert p.returncode == 0, p.stderr
    harness.wait_until(lambda: not any(role_exists(pg, u) for u in users), what="prefix revocation")


def configure(s, name, pg, user, password, allowed, **extra):
    body = {"plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": user,
            "password": password, "allowed_roles": allowed}
    body.update(extra)
    st, b = s.raw("POST", "/v1/database/config/" + name, s.root_token, body)
    assert st == 204, b


def test_rotate_root(env):
    s, pg = env
    assert pg.psql("CREATE ROLE rotator WITH LOGIN SUPERUSER PASSWORD 'rotpw';")[0] == 0
    configure(s, "pgrot", pg, "rotator", "rotpw", ["rot-*"])
    assert s.raw("POST", "/v1/database/roles/rot-ro", s.root_token, {
        "db_name": "pgrot", "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"})[0] == 204
    assert pg.psql("SELECT 1", user="rotator", password="rotpw") == (0, "1")
    assert s.raw("POST", "/v1/database/rotate-root/pgrot", s.root_token, {})[0] == 204
    # The old root password stops working; Sealbox keeps working with the new one.
    assert pg.psql("SELECT 1", user="rotator", password="rotpw")[0] != 0
    b = creds(s, "rot-ro")
    assert pg.psql("SELECT 1", user=b["data"]["username"], password=b["data"]["password"]) == (0, "1")
    st, cfg = s.raw("GET", "/v1/database/config/pgrot", s.root_token)
    assert st == 200 and "password" not in cfg["data"] and "rotpw" not in str(cfg)
    assert s.raw("POST", "/v1/database/rotate-root/nope", s.root_token, {})[0] == 400


def test_scram_verifier_computed_by_sealbox(env):
    s, pg = env
    assert pg.psql("ALTER SYSTEM SET log_statement = 'all';")[0] == 0
    pg.psql("SELECT pg_reload_conf();")
    try:
        configure(s, "pgscram", pg, "sealbox", "rootpw", ["scram"], password_authentication="scram-sha-256")
        assert s.raw("POST", "/v1/database/roles/scram", s.root_token, {
            "db_name": "pgscram",
            "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"})[0] == 204
        b = creds(s, "scram")
        user, pw = b["data"]["username"], b["data"]["password"]
        assert pg.psql("SELECT 1", user=user, password=pw) == (0, "1")
        stored = pg.psql("SELECT rolpassword FROM pg_authid WHERE rolname = '%s'" % user)[1]
        assert stored.startswith("SCRAM-SHA-256$4096:")
        with open(pg.dir + "/pg.log") as f:
            log = f.read()
        assert "CREATE ROLE \"%s\"" % user in log  # the statement was logged...
        assert pw not in log                        # ...with the verifier, never the password
        st, cfg = s.raw("GET", "/v1/database/config/pgscram", s.root_token)
        assert cfg["data"]["connection_details"]["password_authentication"] == "scram-sha-256"
        st, b = s.raw("POST", "/v1/database/config/bad", s.root_token, {
            "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(),
            "password_authentication": "md5", "verify_connection": False})
        assert st == 400
    finally:
        pg.psql("ALTER SYSTEM RESET log_statement;")
        pg.psql("SELECT pg_reload_conf();")


def test_static_roles_rotate_on_create_on_demand_and_on_schedule(env):
    s, pg = env
    t = s.root_token
    assert pg.psql("CREATE ROLE app_static WITH LOGIN PASSWORD 'initial-pw';")[0] == 0
    configure(s, "pgstatic", pg, "sealbox", "rootpw", ["static-*"])
    st, b = s.raw("POST", "/v1/database/static-roles/other", t, {"db_name": "pgstatic", "username": "app_static",
                                                                  "rotation_period": "1h"})
    assert st == 400 and "not an allowed role" in b["errors"][0]
    st, b = s.raw("POST", "/v1/database/static-roles/static-app", t, {
        "db_name": "pgstatic", "username": "app_static", "rotation_period": "6s"})
    assert st == 204, b
    # Created: Sealbox took the account over at once.
    assert pg.psql("SELECT 1", user="app_static", password="initial-pw")[0] != 0
    st, c1 = s.raw("GET", "/v1/database/static-creds/static-app", t)
    assert st == 200 and c1["data"]["username"] == "app_static" and 0 < c1["data"]["ttl"] <= 6
    p1 = c1["data"]["password"]
    assert pg.psql("SELECT 1", user="app_static", password=p1) == (0, "1")
    st, role = s.raw("GET", "/v1/database/static-roles/static-app", t)
    assert st == 200 and "password" not in role["data"] and role["data"]["rotation_period"] == 6
    assert s.raw("LIST", "/v1/database/static-roles/", t)[1]["data"]["keys"] == ["static-app"]
    # On demand.
    assert s.raw("POST", "/v1/database/rotate-role/static-app", t, {})[0] == 204
    p2 = s.raw("GET", "/v1/database/static-creds/static-app", t)[1]["data"]["password"]
    assert p2 != p1 and pg.psql("SELECT 1", user="app_static", password=p1)[0] != 0
    assert pg.psql("SELECT 1", user="app_static", password=p2) == (0, "1")
    # On schedule, with no request.
    harness.wait_until(lambda: s.raw("GET", "/v1/database/static-creds/static-app", t)[1]["data"]["password"] != p2,
                       15, interval=0.2, what="the scheduled rotation")
    p3 = s.raw("GET", "/v1/database/static-creds/static-app", t)[1]["data"]["password"]
    assert pg.psql("SELECT 1", user="app_static", password=p3) == (0, "1")
    assert s.raw("DELETE", "/v1/database/static-roles/static-app", t)[0] == 204
    assert s.raw("GET", "/v1/database/static-creds/static-app", t)[0] == 400


# ---- username_template, password policies, rotation_overlap ----

import re


def lit(s):
    """A SQL string literal for the test's own psql queries."""
    return "'" + s.replace("'", "''") + "'"


def role_exists_lit(pg, name):
    return pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = " + lit(name))[1] == "1"


def test_username_template_custom_and_refused(env):
    s, pg = env
    t = s.root_token
    configure(s, "pgtmpl", pg, "sealbox", "rootpw", ["tmpl-*"],
              username_template='{{ printf "app_%s_%s" (.RoleName | replace "-" "_") (random 6) | lowercase }}')
    st, cfg = s.raw("GET", "/v1/database/config/pgtmpl", t)
    assert st == 200 and "replace" in cfg["data"]["connection_details"]["username_template"]
    assert s.raw("POST", "/v1/database/roles/tmpl-ro", t, {
        "db_name": "pgtmpl", "default_ttl": "1h",
        "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                               "'{{expiration}}'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{{name}}\";"})[0] == 204
    b = creds(s, "tmpl-ro")
    user, pw = b["data"]["username"], b["data"]["password"]
    assert re.fullmatch(r"app_tmpl_ro_[a-z0-9]{6}", user), user
    assert pg.psql("SELECT id FROM things", user=user, password=pw) == (0, "1")
    assert s.raw("PUT", "/v1/sys/leases/revoke", t, {"lease_id": b["lease_id"]})[0] == 204
    assert not role_exists(pg, user)

    def refused(template):
        st, b = s.raw("POST", "/v1/database/config/pgbadtmpl", t, {
            "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
            "password": "rootpw", "username_template": template})
        assert st == 400, (template, b)
        return b["errors"][0]
    assert 'function "nope" not defined' in refused("{{ nope 3 }}")
    assert "unable to initialize username template" in refused("{{ .RoleName | truncate }}")
    assert "can't evaluate field Secret" in refused("{{ .Secret }}")
    assert "unclosed action" in refused("v-{{ .RoleName ")
    assert "63-byte" in refused("{{ random 64 }}")
    assert "invalid username template" in refused("{{ truncate 0 .RoleName }}")
    assert s.raw("GET", "/v1/database/config/pgbadtmpl", t)[0] == 404


def test_username_template_cannot_inject_sql(env):
    """CVE-2026-39946 pattern: a template that renders quotes and semicolons
    gives a role with that literal name; the SQL in it never runs."""
    s, pg = env
    t = s.root_token
    assert pg.psql("CREATE TABLE canary (id int); INSERT INTO canary VALUES (7);")[0] == 0
    evil = "x'\\\"; DROP TABLE canary; CREATE ROLE evil SUPERUSER; --"
    configure(s, "pginj", pg, "sealbox", "rootpw", ["inj", "inj-do"],
              username_template='{{ printf "%s%s" "' + evil.replace("\\", "\\\\").replace('"', '\\"') + '" (random 3) }}')
    assert s.raw("POST", "/v1/database/roles/inj", t, {
        "db_name": "pginj",
        "creation_statements": ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
                                "GRANT SELECT ON canary TO {{name}};"]})[0] == 204
    b = creds(s, "inj")
    user, pw = b["data"]["username"], b["data"]["password"]
    assert user.startswith("x'\\\"; DROP TABLE canary;") and len(user.encode()) <= 63, user
    assert role_exists_lit(pg, user)          # created with exactly that name
    assert not role_exists(pg, "evil")        # ...and nothing else ran
    assert pg.psql("SELECT id FROM canary") == (0, "7")
    assert pg.psql("SELECT id FROM canary", user=user, password=pw) == (0, "7")
    # The name inside a string literal and a DO $$ block is escaped for there too.
    assert s.raw("POST", "/v1/database/roles/inj-do", t, {
        "db_name": "pginj",
        "creation_statements": "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{{name}}') THEN "
                               "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}'; END IF; END $$;"})[0] == 204
    b2 = creds(s, "inj-do")
    assert role_exists_lit(pg, b2["data"]["username"])
    assert pg.psql("SELECT 1", user=b2["data"]["username"], password=b2["data"]["password"]) == (0, "1")
    assert not role_exists(pg, "evil") and pg.psql("SELECT id FROM canary") == (0, "7")
    # Revocation (the default sequence, quoted identifiers) drops them.
    for lease, u in ((b["lease_id"], user), (b2["lease_id"], b2["data"]["username"])):
        assert s.raw("PUT", "/v1/sys/leases/revoke", t, {"lease_id": lease})[0] == 204
        assert not role_exists_lit(pg, u)
    assert pg.psql("SELECT id FROM canary") == (0, "7")


STRICT_POLICY = '''
length = 24
rule "charset" {
  charset   = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 2
}
rule "charset" {
  charset   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  min-chars = 2
}
rule "charset" {
  charset   = "0123456789"
  min-chars = 2
}
rule "charset" {
  charset   = "!#%^*-_.~"
  min-chars = 2
}
'''


def follows_strict(pw):
    return (len(pw) == 24 and all(c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%^*-_.~" for c in pw)
            and sum(c.islower() for c in pw) >= 2 and sum(c.isupper() for c in pw) >= 2
            and sum(c.isdigit() for c in pw) >= 2 and sum(c in "!#%^*-_.~" for c in pw) >= 2)


def test_password_policies_api(env):
    s, pg = env
    t = s.root_token
    assert s.raw("PUT", "/v1/sys/policies/password/strict", t, {"policy": STRICT_POLICY})[0] == 204
    st, b = s.raw("GET", "/v1/sys/policies/password/strict", t)
    assert st == 200 and b["data"] == {"policy": STRICT_POLICY}
    st, b = s.raw("LIST", "/v1/sys/policies/password", t)
    assert st == 200 and "strict" in b["data"]["keys"]
    seen = set()
    for _ in range(20):
        st, b = s.raw("GET", "/v1/sys/policies/password/strict/generate", t)
        assert st == 200 and follows_strict(b["data"]["password"]), b
        seen.add(b["data"]["password"])
    assert len(seen) == 20
    # Base64 is accepted, as Vault does; JSON too.
    import base64
    pol = 'length = 8\nrule "charset" { charset = "ab" }'
    assert s.raw("PUT", "/v1/sys/policies/password/b64", t, {"policy": base64.b64encode(pol.encode()).decode()})[0] == 204
    assert s.raw("GET", "/v1/sys/policies/password/b64", t)[1]["data"]["policy"] == pol
    assert s.raw("PUT", "/v1/sys/policies/password/json", t,
                 {"policy": '{"length": 6, "rule": [{"charset": {"charset": "xyz", "min-chars": 1}}]}'})[0] == 204
    st, b = s.raw("GET", "/v1/sys/policies/password/json/generate", t)
    assert st == 200 and len(b["data"]["password"]) == 6 and set(b["data"]["password"]) <= set("xyz")

    def refused(policy):
        st, b = s.raw("PUT", "/v1/sys/policies/password/bad", t, {"policy": policy})
        assert st == 400, (policy, b)
        return b["errors"][0]
    assert refused('length = 3\nrule "charset" { charset = "ab" }') == \
        "invalid password policy: passwords must be between 4 and 100 characters"
    assert "between 4 and 100" in refused('length = 101\nrule "charset" { charset = "ab" }')
    assert "charset must not be empty" in refused('length = 8\nrule "charset" { charset = "" }')
    assert "no charset specified" in refused("length = 8")
    assert "specified rules require at least 9 characters but 8 is specified" in refused(
        'length = 8\nrule "charset" { charset = "ab" min-chars = 5 }\nrule "charset" { charset = "cd" min-chars = 4 }')
    assert "unable to parse policy: line 1" in refused('length = = 8')
    assert refused("") == "missing policy"
    assert s.raw("GET", "/v1/sys/policies/password/bad", t)[0] == 404
    st, b = s.raw("GET", "/v1/sys/policies/password/nope/generate", t)
    assert st == 404 and b["errors"] == ["policy does not exist"]
    # hvac speaks to the same endpoints (generic read).
    assert follows_strict(s.hvac().read("sys/policies/password/strict/generate")["data"]["password"])
    for name in ("b64", "json"):
        assert s.raw("DELETE", "/v1/sys/policies/password/" + name, t)[0] == 204
    assert s.raw("GET", "/v1/sys/policies/password/b64", t)[0] == 404
    # Policies are stored under the barrier: they survive a restart (seal/unseal).
    s.kill9()
    s.start()
    s.unseal()
    st, b = s.raw("GET", "/v1/sys/policies/password/strict", t)
    assert st == 200 and b["data"]["policy"] == STRICT_POLICY


def test_password_policy_used_by_database(env):
    s, pg = env
    t = s.root_token
    # Quotes and backslashes in a policy's charset: the SQL escaping has to hold.
    quoty = STRICT_POLICY.replace('"!#%^*-_.~"', '"\'\\\\\\"$!"')
    assert s.raw("PUT", "/v1/sys/policies/password/quoty", t, {"policy": quoty})[0] == 204
    assert s.raw("PUT", "/v1/sys/policies/password/strict", t, {"policy": STRICT_POLICY})[0] == 204
    configure(s, "pgpol", pg, "sealbox", "rootpw", ["pol-*"], password_policy="quoty")
    assert s.raw("GET", "/v1/database/config/pgpol", t)[1]["data"]["password_policy"] == "quoty"
    assert s.raw("POST", "/v1/database/roles/pol-ro", t, {
        "db_name": "pgpol",
        "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"})[0] == 204
    for _ in range(3):
        b = creds(s, "pol-ro")
        pw = b["data"]["password"]
        assert len(pw) == 24 and sum(c in "'\\\"$!" for c in pw) >= 2, pw
        assert pg.psql("SELECT 1", user=b["data"]["username"], password=pw) == (0, "1")
    # Static roles use it.
    assert pg.psql("CREATE ROLE app_pol WITH LOGIN PASSWORD 'initial-pw';")[0] == 0
    assert s.raw("POST", "/v1/database/static-roles/pol-static", t, {
        "db_name": "pgpol", "username": "app_pol", "rotation_period": "1h"})[0] == 204
    pw = s.raw("GET", "/v1/database/static-creds/pol-static", t)[1]["data"]["password"]
    assert len(pw) == 24 and sum(c in "'\\\"$!" for c in pw) >= 2
    assert pg.psql("SELECT 1", user="app_pol", password=pw) == (0, "1")
    # rotate-root uses it, and Sealbox keeps connecting with the new password.
    assert pg.psql("CREATE ROLE polroot WITH LOGIN SUPERUSER PASSWORD 'polrootpw';")[0] == 0
    configure(s, "pgpolroot", pg, "polroot", "polrootpw", ["polroot-*"], password_policy="strict")
    assert s.raw("POST", "/v1/database/roles/polroot-ro", t, {
        "db_name": "pgpolroot", "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"})[0] == 204
    assert s.raw("POST", "/v1/database/rotate-root/pgpolroot", t, {})[0] == 204
    assert pg.psql("SELECT 1", user="polroot", password="polrootpw")[0] != 0
    b = creds(s, "polroot-ro")
    assert follows_strict(b["data"]["password"])
    assert pg.psql("SELECT 1", user=b["data"]["username"], password=b["data"]["password"]) == (0, "1")
    # A policy that does not exist: creds fail with a clear message (Vault says
    # 500; Sealbox hides 500 messages, so this configuration error is a 400).
    configure(s, "pgnopol", pg, "sealbox", "rootpw", ["nopol"], password_policy="does-not-exist")
    assert s.raw("POST", "/v1/database/roles/nopol", t, {
        "db_name": "pgnopol", "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"})[0] == 204
    st, b = s.raw("GET", "/v1/database/creds/nopol", t)
    assert st == 400 and b["errors"] == ['unable to generate password: password policy "does-not-exist" does not exist'], b
    # Without a policy the built-in generator stays as it was.
    b = creds(s, "ro")
    assert len(b["data"]["password"]) == 20 and b["data"]["password"].startswith("A1a-")


def test_static_role_rotation_overlap(env):
    s, pg = env
    t = s.root_token
    assert pg.psql("CREATE ROLE app_ovl WITH LOGIN PASSWORD 'initial-pw'; GRANT SELECT ON things TO app_ovl;")[0] == 0
    configure(s, "pgovl", pg, "sealbox", "rootpw", ["ovl-*"])
    st, b = s.raw("POST", "/v1/database/static-roles/ovl-app", t, {
        "db_name": "pgovl", "username": "app_ovl", "rotation_period": "1h", "rotation_overlap": "1h"})
    assert st == 400 and "rotation_overlap must be shorter than rotation_period" in b["errors"][0]
    st, b = s.raw("POST", "/v1/database/static-roles/ovl-app", t, {
        "db_name": "pgovl", "username": "app_ovl", "rotation_period": "1h", "rotation_overlap": "6s"})
    assert st == 204, b
    st, role = s.raw("GET", "/v1/database/static-roles/ovl-app", t)
    assert role["data"]["rotation_overlap"] == 6
    c1 = s.raw("GET", "/v1/database/static-creds/ovl-app", t)[1]["data"]
    assert "previous_username" not in c1  # the password Sealbox took over from is not kept
    p1 = c1["password"]
    assert pg.psql("SELECT 1", user="app_ovl", password=p1) == (0, "1")

    assert s.raw("POST", "/v1/database/rotate-role/ovl-app", t, {})[0] == 204
    c2 = s.raw("GET", "/v1/database/static-creds/ovl-app", t)[1]["data"]
    p2 = c2["password"]
    assert p2 != p1 and c2["previous_username"] == "app_ovl_prev" and "previous_password" not in c2
    assert c2["previous_password_valid_until"].endswith("Z")
    # New password: the main user. Old password: the twin, with the same privileges.
    assert pg.psql("SELECT id FROM things", user="app_ovl", password=p2) == (0, "1")
    assert pg.psql("SELECT 1", user="app_ovl", password=p1)[0] != 0
    assert pg.psql("SELECT id FROM things", user="app_ovl_prev", password=p1) == (0, "1")
    assert pg.psql("SELECT 1", user="app_ovl_prev", password=p2)[0] != 0
    # After the overlap the twin is dropped by the background check.
    harness.wait_until(lambda: not role_exists(pg, "app_ovl_prev"), timeout=20, interval=0.2,
                       what="the previous-password role to be dropped")
    assert pg.psql("SELECT 1", user="app_ovl_prev", password=p1)[0] != 0
    assert pg.psql("SELECT 1", user="app_ovl", password=p2) == (0, "1")
    c3 = s.raw("GET", "/v1/database/static-creds/ovl-app", t)[1]["data"]
    assert "previous_username" not in c3 and c3["password"] == p2

    # Deleting the static role during an overlap drops the twin too.
    assert s.raw("POST", "/v1/database/rotate-role/ovl-app", t, {})[0] == 204
    assert role_exists(pg, "app_ovl_prev")
    assert s.raw("DELETE", "/v1/database/static-roles/ovl-app", t)[0] == 204
    assert not role_exists(pg, "app_ovl_prev") and role_exists(pg, "app_ovl")

    # A role already holding the twin's name, not made by Sealbox, is refused, never dropped.
    assert pg.psql("CREATE ROLE app_ovl2 LOGIN PASSWORD 'x'; CREATE ROLE app_ovl2_prev;")[0] == 0
    st, b = s.raw("POST", "/v1/database/static-roles/ovl-app2", t, {
        "db_name": "pgovl", "username": "app_ovl2", "rotation_period": "1h", "rotation_overlap": "5s"})
    assert st == 400 and "not created by Sealbox" in b["errors"][0]
    assert role_exists(pg, "app_ovl2_prev")


def test_lease_count_quota_on_creds_survives_a_crash(env):
    # The quota's count is rebuilt from the stored leases at unseal (issue 24).
    s, pg = env
    policy = 'path "database/creds/ro" { capabilities = ["read"] }'
    assert s.raw("PUT", "/v1/sys/policies/acl/creds-ro", s.root_token, {"policy": policy})[0] == 204
    st, b = s.raw("POST", "/v1/auth/token/create", s.root_token, {"policies": ["creds-ro"], "ttl": "1h"})
    assert st == 200, b
    tok = b["auth"]["client_token"]
    quota = "/v1/sys/quotas/lease-count/db-ro"
    assert s.raw("POST", quota, s.root_token, {"path": "database/creds/ro", "max_leases": 2})[0] == 204
    try:
        made = [creds(s, "ro", tok)["lease_id"] for _ in range(2)]
        refused = ['1 error occurred:\n\t* request path "database/creds/ro": lease count quota exceeded\n\n']
        assert s.raw("GET", "/v1/database/creds/ro", tok) == (429, {"errors": refused})
        s.kill9()
        s.start()
        s.unseal()
        assert s.raw("GET", quota, s.root_token)[1]["data"]["counter"] == 2
        assert s.raw("GET", "/v1/database/creds/ro", tok) == (429, {"errors": refused})
        assert s.raw("PUT", "/v1/sys/leases/revoke", s.root_token, {"lease_id": made[0]})[0] == 204
        made[0] = creds(s, "ro", tok)["lease_id"]
    finally:
        assert s.raw("DELETE", quota, s.root_token)[0] == 204
        s.raw("POST", "/v1/auth/token/revoke", s.root_token, {"token": tok})
