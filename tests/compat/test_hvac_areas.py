"""python3-hvac 0.11.2 (Debian's) with hvac's own methods, for the areas the
e2e suites drive mostly over raw HTTP: tokens, audit devices, KV v2
versions and metadata, and leases. (Lifecycle, mounts, legacy policies,
database and kubernetes are in tests/e2e's hvac tests.)"""
import os

import hvac
import pytest

from common import harness
from pg_harness import Postgres


@pytest.fixture(scope="module")
def env():
    s = harness.Server().start()
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
