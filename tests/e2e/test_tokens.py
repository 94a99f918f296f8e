"""End to end: tokens and ACL policies through python3-hvac 0.11.2 against a
real `sealbox server -dev` (HTTPS, RocksDB in a temp dir, secret/ = KV v2).

Covers issue 4's acceptance list: a read-only policy reads but gets 403 on
write; list needs `list`; a child token's TTL is capped by its parent's;
revoking a parent kills its children; a num_uses=2 token works twice then
403; renew-self extends a renewable token up to its max; and the advisory
patterns (dot segments never reach a forbidden path, LIST never passes a deny
on the selected pattern).

Run: SEALBOX_BIN=build/server/sealbox python3 -m pytest tests/e2e/test_tokens.py
The server is started once per module by the fixture below (port 0 is not
supported by -dev-listen-address, so a free port is picked first).
"""

import json
import os
import re
import time

import hvac
import pytest

from harness import DevServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def server():
    s = DevServer()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def root(server):
    c = server.client(server.root_token)
    assert c.is_authenticated()
    return c


def _token(root, **kw):
    kw.setdefault("policies", ["default"])
    resp = root.auth.token.create(**kw)
    return resp["auth"]["client_token"], resp


def test_read_only_policy_reads_but_cannot_write(server, root):
    root.secrets.kv.v2.create_or_update_secret(path="ro/app", secret={"password": "s3cr3t"})
    # Legacy sys/policy path (what hvac 0.11.2 uses).
    root.sys.create_or_update_policy(name="e2e-ro", policy='path "secret/data/ro/*" { capabilities = ["read"] }')
    assert "e2e-ro" in root.sys.list_policies()["data"]["policies"]
    tok, _ = _token(root, policies=["e2e-ro"])
    c = server.client(tok)
    got = c.secrets.kv.v2.read_secret_version(path="ro/app")
    assert got["data"]["data"] == {"password": "s3cr3t"}
    with pytest.raises(hvac.exceptions.Forbidden):
        c.secrets.kv.v2.create_or_update_secret(path="ro/app", secret={"password": "changed"})
    with pytest.raises(hvac.exceptions.Forbidden):
        c.secrets.kv.v2.create_or_update_secret(path="ro/new", secret={"a": "b"})
    with pytest.raises(hvac.exceptions.Forbidden):
        c.secrets.kv.v2.read_secret_version(path="other")
    # The value is unchanged.
    assert root.secrets.kv.v2.read_secret_version(path="ro/app")["data"]["data"] == {"password": "s3cr3t"}


def test_list_needs_list(server, root):
    root.secrets.kv.v2.create_or_update_secret(path="listing/a", secret={"x": "1"})
    root.sys.create_or_update_policy(name="e2e-read-only-meta",
                                     policy='path "secret/metadata/listing/*" { capabilities = ["read"] }')
    root.sys.create_or_update_policy(name="e2e-list-meta",
                                     policy='path "secret/metadata/listing/*" { capabilities = ["list"] }')
    no_list, _ = _token(root, policies=["e2e-read-only-meta"])
    with pytest.raises(hvac.exceptions.Forbidden):
        server.client(no_list).secrets.kv.v2.list_secrets(path="listing")
    can_list, _ = _token(root, policies=["e2e-list-meta"])
    keys = server.client(can_list).secrets.kv.v2.list_secrets(path="listing")["data"]["keys"]
    assert keys == ["a"]


def test_child_ttl_capped_by_parent(server, root):
    root.sys.create_or_update_policy(name="e2e-creator",
                                     policy='path "auth/token/create" { capabilities = ["update"] }')
    parent, presp = _token(root, policies=["e2e-creator"], ttl="60s")
    assert presp["auth"]["lease_duration"] == 60
    child_resp = server.client(parent).auth.token.create(ttl="1h")
    assert 0 < child_resp["auth"]["lease_duration"] <= 60
    child = child_resp["auth"]["client_token"]
    ttl = server.client(child).auth.token.lookup_self()["data"]["ttl"]
    assert isinstance(ttl, int) and 0 < ttl <= 60


def test_revoking_parent_kills_children(server, root):
    root.sys.create_or_update_policy(name="e2e-creator",
                                     policy='path "auth/token/create" { capabilities = ["update"] }')
    parent, _ = _token(root, policies=["e2e-creator"])
    child = server.client(parent).auth.token.create()["auth"]["client_token"]
    grandchild = server.client(child).auth.token.create()["auth"]["client_token"]
    orphan = root.auth.token.create(policies=["default"], no_parent=True)["auth"]["client_token"]
    for t in (parent, child, grandchild, orphan):
        assert server.client(t).auth.token.lookup_self()["data"]["id"] == t
    root.auth.token.revoke(parent)
    for t in (parent, child, grandchild):
        with pytest.raises(hvac.exceptions.Forbidden):
            server.client(t).auth.token.lookup_self()
    assert server.client(orphan).auth.token.lookup_self()["data"]["orphan"] is True


def test_num_uses_two_works_twice_then_403(server, root):
    tok, resp = _token(root, num_uses=2)
    assert resp["auth"]["num_uses"] == 2
    c = server.client(tok)
    c.auth.token.lookup_self()
    c.auth.token.lookup_self()
    with pytest.raises(hvac.exceptions.Forbidden):
        c.auth.token.lookup_self()


def test_renew_self_extends_up_to_max(server, root):
    tok, resp = _token(root, ttl="20s", explicit_max_ttl="40s")
    assert resp["auth"]["renewable"] is True
    c = server.client(tok)
    time.sleep(2)
    before = c.auth.token.lookup_self()["data"]["ttl"]
    assert before <= 18
    renewed = c.auth.token.renew_self()
    assert renewed["auth"]["client_token"] == tok
    assert 19 <= renewed["auth"]["lease_duration"] <= 20
    # Asking for an hour is capped at what is left of the 40 s explicit max.
    renewed = c.auth.token.renew_self(increment="1h")
    assert 30 <= renewed["auth"]["lease_duration"] <= 38
    assert renewed["warnings"]
    data = c.auth.token.lookup_self()["data"]
    assert data["explicit_max_ttl"] == 40
    assert isinstance(data["last_renewal_time"], int)


def test_lookup_self_shapes_for_clients(server, root):
    # ESO needs data.ttl to be an int and expire_time null or RFC 3339.
    d = root.auth.token.lookup_self()["data"]
    assert d["ttl"] == 0 and d["expire_time"] is None and d["type"] == "service"
    assert "renewable" not in d and "issue_time" not in d
    # A token created without a TTL (root policy) has a lease that never
    # expires, as in Vault: issue_time shown, not renewable.
    forever, _ = _token(root, policies=["root"])
    d = server.client(forever).auth.token.lookup_self()["data"]
    assert d["ttl"] == 0 and d["expire_time"] is None and d["renewable"] is False, d
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", d["issue_time"]), d
    st, body = server.raw("POST", "/v1/auth/token/renew-self", forever)
    assert st == 400 and json.loads(body)["errors"] == ["lease is not renewable"], (st, body)
    tok, _ = _token(root, ttl="1h", meta={"team": "a"})
    d = server.client(tok).auth.token.lookup_self()["data"]
    assert isinstance(d["ttl"], int) and 3590 <= d["ttl"] <= 3600
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", d["expire_time"])
    assert d["meta"] == {"team": "a"} and d["renewable"] is True
    assert d["policies"] == ["default"] and d["path"] == "auth/token/create"


def test_batch_tokens(server, root):
    root.secrets.kv.v2.create_or_update_secret(path="batch/s", secret={"k": "v"})
    root.sys.create_or_update_policy(name="e2e-batch", policy='path "secret/data/batch/*" { capabilities = ["read"] }')
    tok, resp = _token(root, policies=["e2e-batch"], type="batch", ttl="5m")
    assert tok.startswith("hvb.")
    assert resp["auth"]["token_type"] == "batch" and resp["auth"]["renewable"] is False
    c = server.client(tok)
    assert c.secrets.kv.v2.read_secret_version(path="batch/s")["data"]["data"] == {"k": "v"}
    assert c.auth.token.lookup_self()["data"]["type"] == "batch"
    with pytest.raises(hvac.exceptions.InvalidRequest):
        c.auth.token.renew_self()


def test_dot_segments_never_reach_a_forbidden_path(server, root):
    root.secrets.kv.v2.create_or_update_secret(path="forbidden", secret={"top": "secret"})
    root.sys.create_or_update_policy(name="e2e-ok", policy='path "secret/data/ok/*" { capabilities = ["read"] }')
    tok, _ = _token(root, policies=["e2e-ok"])
    for path in ("/v1/secret/data/ok/../forbidden", "/v1/secret/data/ok/%2e%2e/forbidden",
                 "/v1/secret/data/ok/%2E%2E/forbidden", "/v1/secret/data/ok/./../forbidden",
                 "/v1/secret//data/forbidden"):
        status, body = server.raw("GET", path, tok)
        assert status == 400, (path, status, body)
        assert b"secret" not in body.replace(b"secret/", b"") or b"top" not in body
        # Even root is refused: the path is invalid, not merely unauthorised.
        status, _ = server.raw("GET", path, server.root_token)
        assert status == 400, path
    status, _ = server.raw("GET", "/v1/secret/data/forbidden", tok)
    assert status == 403


def test_list_never_passes_a_deny_on_the_selected_pattern(server, root):
    root.secrets.kv.v2.create_or_update_secret(path="adv/a/b/c", secret={"x": "1"})
    root.sys.create_or_update_policy(name="e2e-adv", policy="""
path "secret/metadata/*" { capabilities = ["list"] }
path "secret/metadata/adv/a/*" { capabilities = ["deny"] }
""")
    tok, _ = _token(root, policies=["e2e-adv"])
    c = server.client(tok)
    assert "adv/" in c.secrets.kv.v2.list_secrets(path="")["data"]["keys"]
    for p in ("adv/a", "adv/a/b"):
        with pytest.raises(hvac.exceptions.Forbidden):
            c.secrets.kv.v2.list_secrets(path=p)
    status, _ = server.raw("LIST", "/v1/secret/metadata/adv/a/", tok)
    assert status == 403
    status, _ = server.raw("GET", "/v1/secret/metadata/adv/a?list=true", tok)
    assert status == 403


def test_case_variant_root_policy_names(server, root):
    for name in ("Root", "ROOT", "%20root"):
        status, body = server.raw("PUT", "/v1/sys/policies/acl/" + name, server.root_token,
                                  {"policy": 'path "*" { capabilities = ["sudo"] }'})
        assert status == 400, (name, body)
        assert json.loads(body)["errors"] == ['cannot update "root" policy']
    root.sys.create_or_update_policy(name="e2e-creator",
                                     policy='path "auth/token/create" { capabilities = ["update", "sudo"] }')
    creator, _ = _token(root, policies=["e2e-creator"])
    for pols in (["root"], ["Root"], [" root"]):
        with pytest.raises(hvac.exceptions.InvalidRequest):
            server.client(creator).auth.token.create(policies=pols)


def test_capabilities_self(server, root):
    root.sys.create_or_update_policy(name="e2e-caps", policy='path "secret/data/caps/*" { capabilities = ["read"] }')
    tok, _ = _token(root, policies=["e2e-caps"])
    status, body = server.raw("POST", "/v1/sys/capabilities-self", tok, {"paths": ["secret/data/caps/x"]})
    assert status == 200
    j = json.loads(body)
    assert j["data"]["secret/data/caps/x"] == ["read"]
    assert j["capabilities"] == ["read"]
