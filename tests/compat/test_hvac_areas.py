"""python3-hvac 0.11.2 (Debian's) with hvac's own methods, for the areas the
e2e suites drive mostly over raw HTTP: tokens, audit devices, KV v2
versions and metadata, leases, and AppRole (hvac 2.4's client.auth.approle).
(Lifecycle, mounts, legacy policies,
database and kubernetes are in tests/e2e's hvac tests.)"""
import os

import hvac
import pytest

from common import harness
from pg_harness import Postgres


@pytest.fixture(scope="module")
def env():
    # hvac's break-glass methods use the token-free endpoints, off by default.
    s = harness.Server(listener_extra="disable_unauthed_generate_root_endpoints = false\n"
                                      "  disable_unauthed_rekey_endpoints = false\n").start()
    s.init(1, 1)
    s.unseal(s.keys)
    c = s.hvac()
    c.sys.enable_secrets_engine("kv", path="secret", options={"version": 2})
    yield s, c
    s.cleanup()


def test_tokens(env):
    s, c = env
    created = c.auth.token.create(policies=["default"], ttl="1h", renewable=True, meta={"team": "a"})
    child = created["auth"]["client_token"]
    looked = c.auth.token.lookup(child)["data"]
    assert looked["meta"] == {"team": "a"} and looked["renewable"] is True and 3500 < looked["ttl"] <= 3600
    acc = looked["accessor"]
    assert c.auth.token.lookup_accessor(acc)["data"]["accessor"] == acc
    cc = s.hvac(token=child)
    assert cc.is_authenticated()
    assert cc.auth.token.lookup_self()["data"]["id"] == child
    assert cc.auth.token.renew_self(increment="30m")["auth"]["lease_duration"] == 1800
    orphan = c.auth.token.create(policies=["default"], no_parent=True)["auth"]["client_token"]
    assert c.auth.token.lookup(orphan)["data"]["orphan"] is True
    c.auth.token.revoke_accessor(acc)
    assert not cc.is_authenticated()
    c.auth.token.revoke(orphan)
    with pytest.raises(hvac.exceptions.Forbidden):
        s.hvac(token=orphan).auth.token.lookup_self()


def test_audit_devices(env):
    s, c = env
    path = os.path.join(s.dir, "hvac-audit.log")
    c.sys.enable_audit_device("file", path="hvacfile", options={"file_path": path}, description="hvac")
    devices = c.sys.list_enabled_audit_devices()
    assert devices["hvacfile/"]["type"] == "file" and devices["data"]["hvacfile/"]["description"] == "hvac"
    c.secrets.kv.v2.create_or_update_secret("audited", secret={"pw": "audit-me-123"})
    h = c.sys.calculate_hash("hvacfile", "audit-me-123")["data"]["hash"]
    with open(path) as f:
        text = f.read()
    assert h in text and "audit-me-123" not in text
    c.sys.disable_audit_device("hvacfile")
    assert "hvacfile/" not in c.sys.list_enabled_audit_devices()["data"]


def test_kv_v2_versions_and_metadata(env):
    s, c = env
    kv = c.secrets.kv.v2
    kv.create_or_update_secret("app", secret={"a": "1"})
    kv.create_or_update_secret("app", secret={"a": "2"}, cas=1)
    with pytest.raises(hvac.exceptions.InvalidRequest):
        kv.create_or_update_secret("app", secret={"a": "x"}, cas=1)
    kv.patch("app", secret={"b": "3"})
    assert kv.read_secret_version("app")["data"]["data"] == {"a": "2", "b": "3"}
    assert kv.read_secret_version("app", version=1)["data"]["data"] == {"a": "1"}
    kv.delete_secret_versions("app", versions=[1])
    kv.undelete_secret_versions("app", versions=[1])
    kv.destroy_secret_versions("app", versions=[2])
    meta = kv.read_secret_metadata("app")["data"]
    assert meta["current_version"] == 3 and meta["versions"]["2"]["destroyed"] is True
    kv.update_metadata("app", max_versions=5, cas_required=False)
    meta = kv.read_secret_metadata("app")["data"]
    assert meta["max_versions"] == 5 and meta["cas_required"] is False
    kv.create_or_update_secret("dir/inner", secret={"x": "y"})
    assert sorted(kv.list_secrets("")["data"]["keys"]) == ["app", "audited", "dir/"]
    kv.configure(max_versions=20, cas_required=False)
    assert kv.read_configuration()["data"]["max_versions"] == 20
    kv.delete_metadata_and_all_versions("app")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version("app")


def test_leases(env):
    s, c = env
    pg = Postgres()
    try:
        c.sys.enable_secrets_engine("database", path="database")
        c.secrets.database.configure("pg", "postgresql-database-plugin", connection_url=pg.url(),
                                     username="sealbox", password="rootpw", allowed_roles=["ro"])
        c.secrets.database.create_role("ro", "pg", creation_statements=[
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"],
            default_ttl="1h")
        creds = c.secrets.database.generate_credentials("ro")
        lease = creds["lease_id"]
        info = c.sys.read_lease(lease)["data"]
        assert info["id"] == lease and info["renewable"] is True and 3500 < info["ttl"] <= 3600
        assert lease.rsplit("/", 1)[1] in c.sys.list_leases("database/creds/ro/")["data"]["keys"]
        assert c.sys.renew_lease(lease, increment=600)["lease_duration"] == 600
        c.sys.revoke_lease(lease)
        with pytest.raises(hvac.exceptions.InvalidRequest):
            c.sys.read_lease(lease)
        assert pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = '%s'" % creds["data"]["username"])[1] == "0"
        more = [c.secrets.database.generate_credentials("ro")["data"]["username"] for _ in range(2)]
        c.sys.revoke_prefix("database/creds/ro")
        harness.wait_until(lambda: all(pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = '%s'" % u)[1] == "0"
                                       for u in more), what="revoke-prefix to drop the roles")
    finally:
        pg.cleanup()


def test_approle(env):
    s, c = env
    c.sys.enable_auth_method("approle")
    ar = c.auth.approle
    ar.create_or_update_approle("hvac-app", token_policies=["p1"], token_ttl="20m", secret_id_num_uses=5,
                                token_type="service")
    assert ar.list_roles()["data"]["keys"] == ["hvac-app"]
    role = ar.read_role("hvac-app")["data"]
    assert role["token_policies"] == ["p1"] and role["token_ttl"] == 1200 and role["secret_id_num_uses"] == 5
    role_id = ar.read_role_id("hvac-app")["data"]["role_id"]
    generated = ar.generate_secret_id("hvac-app", metadata={"env": "test"})["data"]
    custom = ar.create_custom_secret_id("hvac-app", "hvac-custom-secret-1")["data"]
    assert custom["secret_id"] == "hvac-custom-secret-1" and custom["secret_id_num_uses"] == 5
    accessors = ar.list_secret_id_accessors("hvac-app")["data"]["keys"]
    assert sorted(accessors) == sorted([generated["secret_id_accessor"], custom["secret_id_accessor"]])
    looked = ar.read_secret_id("hvac-app", generated["secret_id"])["data"]
    assert looked["metadata"] == {"env": "test"} and looked["secret_id_accessor"] == generated["secret_id_accessor"]
    by_accessor = ar.read_secret_id_accessor("hvac-app", custom["secret_id_accessor"])["data"]
    assert by_accessor["secret_id_num_uses"] == 5

    client = s.hvac(token="")
    resp = client.auth.approle.login(role_id=role_id, secret_id=generated["secret_id"])
    assert resp["auth"]["policies"] == ["default", "p1"] and resp["auth"]["metadata"]["role_name"] == "hvac-app"
    assert client.token == resp["auth"]["client_token"] and client.is_authenticated()
    assert ar.read_secret_id("hvac-app", generated["secret_id"])["data"]["secret_id_num_uses"] == 4

    ar.destroy_secret_id("hvac-app", generated["secret_id"])
    with pytest.raises(hvac.exceptions.InvalidRequest, match="invalid role or secret ID"):
        s.hvac(token="").auth.approle.login(role_id=role_id, secret_id=generated["secret_id"])
    ar.destroy_secret_id_accessor("hvac-app", custom["secret_id_accessor"])
    with pytest.raises(hvac.exceptions.InvalidPath):
        ar.list_secret_id_accessors("hvac-app")
    ar.update_role_id("hvac-app", "hvac-fixed-role-id")
    assert ar.read_role_id("hvac-app")["data"]["role_id"] == "hvac-fixed-role-id"
    ar.delete_role("hvac-app")
    with pytest.raises(hvac.exceptions.InvalidPath):
        ar.read_role("hvac-app")


def test_response_wrapping(env):
    s, c = env
    c.secrets.kv.v2.create_or_update_secret("to-wrap", secret={"pw": "wrapped-by-hvac"})
    wrapped = c.read("secret/data/to-wrap", wrap_ttl="60s")
    info = wrapped["wrap_info"]
    assert info["ttl"] == 60 and info["creation_path"] == "secret/data/to-wrap" and wrapped["data"] is None
    out = c.sys.unwrap(info["token"])
    assert out["data"]["data"] == {"pw": "wrapped-by-hvac"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        c.sys.unwrap(info["token"])
    # sys/wrapping/wrap, then unwrap with the wrapping token as the client's own token.
    token = c.sys.wrap(payload={"a": "b"}, ttl="2m")["wrap_info"]["token"]
    assert s.hvac(token=token).sys.unwrap()["data"] == {"a": "b"}
    # A wrapped token creation, unwrapped to a token that works.
    token = c.auth.token.create(policies=["default"], wrap_ttl="30s")["wrap_info"]["token"]
    issued = c.sys.unwrap(token)["auth"]["client_token"]
    assert s.hvac(token=issued).is_authenticated()


def test_generate_root_and_rekey(env):
    """hvac 2.4's generate-root and rekey methods (Vault's unauthenticated
    sys/generate-root and sys/rekey), with verification of the new shares."""
    import base64
    s, c = env
    anon = s.hvac(token="")
    assert anon.sys.read_root_generation_progress()["started"] is False
    att = anon.sys.start_root_token_generation()
    assert len(att["otp"]) == att["otp_length"] == 28
    with pytest.raises(hvac.exceptions.InvalidRequest):
        anon.sys.start_root_token_generation()
    anon.sys.cancel_root_generation()
    att = anon.sys.start_root_token_generation()
    done = anon.sys.generate_root(key=s.keys_b64[0], nonce=att["nonce"])
    assert done["complete"] is True
    raw = base64.b64decode(done["encoded_token"] + "=" * (-len(done["encoded_token"]) % 4))
    token = bytes(a ^ b for a, b in zip(raw, att["otp"].encode())).decode()
    harness.SECRETS.add(token)
    assert s.hvac(token=token).auth.token.lookup_self()["data"]["policies"] == ["root"]

    start = anon.sys.start_rekey(secret_shares=3, secret_threshold=2, require_verification=True)
    assert start["started"] is True and anon.sys.read_rekey_progress()["nonce"] == start["nonce"]
    anon.sys.cancel_rekey()
    assert anon.sys.read_rekey_progress()["started"] is False
    start = anon.sys.start_rekey(secret_shares=3, secret_threshold=2, require_verification=True)
    done = anon.sys.rekey_multi([s.keys_b64[0]], nonce=start["nonce"])
    new = done["keys_base64"]
    harness.SECRETS.update(new)
    verify = anon.sys.read_rekey_verify_progress()
    assert verify["nonce"] == done["verification_nonce"] and verify["progress"] == 0
    anon.sys.rekey_verify(new[0], verify["nonce"])
    restarted = anon.sys.cancel_rekey_verify()
    assert restarted["progress"] == 0 and restarted["nonce"] != verify["nonce"]
    assert anon.sys.rekey_verify_multi(new[1:3], restarted["nonce"])["complete"] is True
    with pytest.raises(hvac.exceptions.InvalidRequest):
        anon.sys.rekey(s.keys_b64[0], nonce="no-rekey")
    s.keys, s.keys_b64 = done["keys"], new
    s.restart()
    s.unseal(s.keys[:2])


def test_userpass(env):
    s, c = env
    c.sys.enable_auth_method("userpass")
    up = c.auth.userpass
    up.create_or_update_user("hvac-user", password="hvac-pw-1", policies=["p1"])
    assert up.list_user()["data"]["keys"] == ["hvac-user"]
    assert up.read_user("hvac-user")["data"]["token_policies"] == ["p1"]
    logged = s.hvac(token="").auth.userpass.login("hvac-user", "hvac-pw-1")
    assert logged["auth"]["metadata"] == {"username": "hvac-user"} and "p1" in logged["auth"]["policies"]
    up.update_password_on_user("hvac-user", "hvac-pw-2")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        s.hvac(token="").auth.userpass.login("hvac-user", "hvac-pw-1")
    assert s.hvac(token="").auth.userpass.login("hvac-user", "hvac-pw-2")["auth"]["client_token"]
    up.delete_user("hvac-user")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        s.hvac(token="").auth.userpass.login("hvac-user", "hvac-pw-2")
