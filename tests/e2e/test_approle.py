"""End to end: the AppRole auth method (issue 25) against a real
`sealbox server -dev` over HTTPS.

The happy path (role, role-id, secret-id, login, a token with the role's
policies, TTL and role_name metadata) and every refusal: a wrong secret-id or
role-id, an exhausted secret-id (also two logins racing for its last use),
an expired one, CIDR bindings on the secret-id and on the token, a destroyed
secret-id; bind_secret_id=false; and the secret-id never shown again after
its creation (lookups, list) and HMAC'd in the audit log.
"""

import concurrent.futures
import json
import os
import tempfile

import pytest

from harness import DevServer, wait_until

A = "/v1/auth/approle"


@pytest.fixture(scope="module")
def server():
    s = DevServer()
    st, _ = s.raw("POST", "/v1/sys/auth/approle", s.root_token, {"type": "approle"})
    assert st == 204
    yield s
    s.stop()


def call(server, method, path, body=None, token=None):
    st, raw = server.raw(method, path, token, body)
    return st, (json.loads(raw) if raw else None)


def root(server, method, path, body=None):
    return call(server, method, path, body, server.root_token)


def make_role(server, name, **fields):
    st, b = root(server, "POST", "%s/role/%s" % (A, name), fields)
    assert st in (200, 204), b
    st, b = root(server, "GET", "%s/role/%s/role-id" % (A, name))
    assert st == 200
    return b["data"]["role_id"]


def secret_id(server, name, **fields):
    st, b = root(server, "POST", "%s/role/%s/secret-id" % (A, name), fields)
    assert st == 200, b
    return b["data"]


def login(server, role_id, sid=None):
    body = {"role_id": role_id}
    if sid is not None:
        body["secret_id"] = sid
    return call(server, "POST", A + "/login", body)


def test_happy_path_token_carries_role_policies_ttl_and_name(server):
    role_id = make_role(server, "web", token_policies="p1,p2", token_ttl="1h", token_max_ttl="2h")
    st, b = root(server, "GET", A + "/role/web")
    assert st == 200
    assert b["data"]["token_policies"] == ["p1", "p2"] and b["data"]["token_ttl"] == 3600
    assert b["data"]["bind_secret_id"] is True and b["data"]["secret_id_bound_cidrs"] is None
    assert "role_id" not in b["data"]
    st, b = call(server, "LIST", A + "/role", token=server.root_token)
    assert "web" in b["data"]["keys"]
    sid = secret_id(server, "web", metadata=json.dumps({"team": "blue"}))
    assert sid["secret_id_num_uses"] == 0 and sid["secret_id_ttl"] == 0
    st, b = login(server, role_id, sid["secret_id"])
    assert st == 200, b
    auth = b["auth"]
    assert auth["policies"] == ["default", "p1", "p2"]
    assert auth["lease_duration"] == 3600
    assert auth["metadata"] == {"role_name": "web", "team": "blue"}
    st, me = call(server, "GET", "/v1/auth/token/lookup-self", token=auth["client_token"])
    assert st == 200
    assert me["data"]["meta"]["role_name"] == "web"
    assert 3500 < me["data"]["ttl"] <= 3600
    assert me["data"]["path"] == "auth/approle/login"


def test_renewal_follows_the_roles_ttls_as_they_are_now(server):
    # Vault's AppRole answers a renewal with the role's token_ttl,
    # token_max_ttl and token_period; before, Sealbox renewed to the system
    # default (768h) past the role's max.
    role_id = make_role(server, "renewer", token_ttl="60s", token_max_ttl="120s")
    st, b = login(server, role_id, secret_id(server, "renewer")["secret_id"])
    assert st == 200, b
    tok = b["auth"]["client_token"]
    st, b = call(server, "POST", "/v1/auth/token/renew-self", {}, token=tok)
    assert st == 200 and b["auth"]["lease_duration"] == 60, b
    st, b = call(server, "POST", "/v1/auth/token/renew-self", {"increment": "1h"}, token=tok)
    assert st == 200 and 100 <= b["auth"]["lease_duration"] <= 120, b
    make_role(server, "renewer", token_ttl="30s", token_max_ttl="120s")
    st, b = call(server, "POST", "/v1/auth/token/renew-self", {}, token=tok)
    assert st == 200 and b["auth"]["lease_duration"] == 30, b


def test_role_id_write_and_per_field_paths(server):
    old_id = make_role(server, "fields")
    assert root(server, "POST", A + "/role/fields/role-id", {"role_id": "my-fixed-role-id"})[0] == 204
    assert root(server, "GET", A + "/role/fields/role-id")[1]["data"] == {"role_id": "my-fixed-role-id"}
    # The new role_id logs in; the generated one no longer does.
    sid = secret_id(server, "fields", num_uses=0)["secret_id"]
    assert login(server, old_id, sid) == (400, {"errors": ["invalid role or secret ID"]})
    assert login(server, "my-fixed-role-id", sid)[0] == 200
    assert root(server, "POST", A + "/role/fields/token-ttl", {"token_ttl": "5m"})[0] == 204
    assert root(server, "GET", A + "/role/fields/token-ttl")[1]["data"] == {"token_ttl": 300}
    assert root(server, "POST", A + "/role/fields/policies", {"token_policies": ["x"]})[0] == 204
    assert root(server, "GET", A + "/role/fields")[1]["data"]["token_policies"] == ["x"]
    assert root(server, "DELETE", A + "/role/fields/token-ttl")[0] == 204
    assert root(server, "GET", A + "/role/fields")[1]["data"]["token_ttl"] == 0
    st, b = root(server, "POST", A + "/role/fields/token-ttl", {})
    assert st == 400 and b["errors"] == ["missing token_ttl"]
    # A role_id belongs to one role only.
    make_role(server, "other")
    st, b = root(server, "POST", A + "/role/other/role-id", {"role_id": "my-fixed-role-id"})
    assert st == 400 and b["errors"] == ["role_id already in use"]


def test_wrong_secret_id_and_wrong_role_id_are_one_refusal(server):
    role_id = make_role(server, "wrong")
    sid = secret_id(server, "wrong")["secret_id"]
    assert login(server, role_id, "not-the-secret") == (400, {"errors": ["invalid role or secret ID"]})
    assert login(server, "not-a-role-id", sid) == (400, {"errors": ["invalid role or secret ID"]})
    assert login(server, role_id) == (400, {"errors": ["missing secret_id"]})
    assert login(server, "") == (400, {"errors": ["missing role_id"]})
    assert login(server, role_id, sid)[0] == 200


def test_num_uses_is_spent_and_then_refused(server):
    role_id = make_role(server, "uses", secret_id_num_uses=2)
    sid = secret_id(server, "uses")
    assert sid["secret_id_num_uses"] == 2
    assert login(server, role_id, sid["secret_id"])[0] == 200
    st, b = root(server, "POST", A + "/role/uses/secret-id/lookup", {"secret_id": sid["secret_id"]})
    assert b["data"]["secret_id_num_uses"] == 1
    assert login(server, role_id, sid["secret_id"])[0] == 200
    assert login(server, role_id, sid["secret_id"]) == (400, {"errors": ["invalid role or secret ID"]})
    # A spent secret-id is gone, accessor and all.
    assert root(server, "POST", A + "/role/uses/secret-id/lookup", {"secret_id": sid["secret_id"]})[0] == 204
    st, b = root(server, "POST", A + "/role/uses/secret-id-accessor/lookup",
                 {"secret_id_accessor": sid["secret_id_accessor"]})
    assert st == 404
    # A secret-id may narrow the role's limit, never widen it.
    st, b = root(server, "POST", A + "/role/uses/secret-id", {"num_uses": 3})
    assert st == 400 and b["errors"] == ["num_uses cannot be higher than the role's secret_id_num_uses"]


def test_concurrent_logins_cannot_both_spend_the_last_use(server):
    role_id = make_role(server, "race", secret_id_num_uses=1)
    for _ in range(5):
        sid = secret_id(server, "race")["secret_id"]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: login(server, role_id, sid)[0], range(8)))
        assert sorted(results) == [200] + [400] * 7, results


def test_expired_secret_id_is_refused(server):
    role_id = make_role(server, "short", secret_id_ttl="2s")
    sid = secret_id(server, "short")
    assert sid["secret_id_ttl"] == 2
    st, b = root(server, "POST", A + "/role/short/secret-id/lookup", {"secret_id": sid["secret_id"]})
    assert st == 200 and b["data"]["expiration_time"] != "0001-01-01T00:00:00Z"
    wait_until(lambda: root(server, "POST", A + "/role/short/secret-id/lookup",
                            {"secret_id": sid["secret_id"]})[0] == 204, timeout=10, what="secret-id expiry")
    assert login(server, role_id, sid["secret_id"]) == (400, {"errors": ["invalid role or secret ID"]})
    st, b = root(server, "POST", A + "/tidy/secret-id")
    assert st == 202


def test_secret_id_bound_cidrs_on_role_and_on_secret_id(server):
    role_id = make_role(server, "far", secret_id_bound_cidrs="10.0.0.0/8")
    st, b = root(server, "POST", A + "/role/far/secret-id")
    sid = b["data"]["secret_id"]
    st, b = login(server, role_id, sid)
    assert st == 400
    assert b["errors"] == ['source address "127.0.0.1" unauthorized by CIDR restrictions on the role']
    # The refusal from the wrong address spent nothing: the secret-id is intact.
    st, b = root(server, "POST", A + "/role/far/secret-id/lookup", {"secret_id": sid})
    assert st == 200
    # A secret-id's own CIDRs must lie within the role's, and bind it too.
    st, b = root(server, "POST", A + "/role/far/secret-id", {"cidr_list": ["192.168.0.0/16"]})
    assert st == 400 and "subset relationship" in b["errors"][0]
    near_id = make_role(server, "near")
    sid = secret_id(server, "near", cidr_list=["10.1.0.0/16"])["secret_id"]
    st, b = login(server, near_id, sid)
    assert st == 400
    assert b["errors"] == ['source address "127.0.0.1" unauthorized through CIDR restrictions on the secret ID']
    sid = secret_id(server, "near", cidr_list=["127.0.0.0/8"])["secret_id"]
    assert login(server, near_id, sid)[0] == 200


def test_token_bound_cidrs_bind_the_issued_token(server):
    role_id = make_role(server, "tok-far", token_bound_cidrs=["10.0.0.0/8"])
    st, b = login(server, role_id, secret_id(server, "tok-far")["secret_id"])
    assert st == 200  # the login itself is not bound, as in Vault: the token is
    st, b = call(server, "GET", "/v1/auth/token/lookup-self", token=b["auth"]["client_token"])
    assert st == 403
    role_id = make_role(server, "tok-near", token_bound_cidrs=["127.0.0.1/32"])
    st, b = login(server, role_id, secret_id(server, "tok-near")["secret_id"])
    st, me = call(server, "GET", "/v1/auth/token/lookup-self", token=b["auth"]["client_token"])
    assert st == 200 and me["data"]["bound_cidrs"] == ["127.0.0.1/32"]
    # A secret-id's token_bound_cidrs replace the role's for its tokens.
    sid = secret_id(server, "near", token_bound_cidrs=["10.0.0.0/8"])["secret_id"]
    near_id = root(server, "GET", A + "/role/near/role-id")[1]["data"]["role_id"]
    st, b = login(server, near_id, sid)
    assert call(server, "GET", "/v1/auth/token/lookup-self", token=b["auth"]["client_token"])[0] == 403


def test_bind_secret_id_false_logs_in_with_role_id_alone(server):
    st, b = root(server, "POST", A + "/role/open", {"bind_secret_id": False})
    assert st == 400 and b["errors"] == ["at least one constraint should be enabled on the role"]
    role_id = make_role(server, "open", bind_secret_id=False, secret_id_bound_cidrs=["127.0.0.0/8"])
    st, b = login(server, role_id)
    assert st == 200 and b["auth"]["metadata"] == {"role_name": "open"}
    st, b = root(server, "POST", A + "/role/open/secret-id")
    assert st == 400 and b["errors"] == ["bind_secret_id is not set on the role"]


def test_destroyed_secret_ids_are_refused(server):
    role_id = make_role(server, "gone")
    by_value = secret_id(server, "gone")
    by_accessor = secret_id(server, "gone")
    st, b = call(server, "LIST", A + "/role/gone/secret-id", token=server.root_token)
    assert sorted(b["data"]["keys"]) == sorted([by_value["secret_id_accessor"], by_accessor["secret_id_accessor"]])
    assert root(server, "POST", A + "/role/gone/secret-id/destroy", {"secret_id": by_value["secret_id"]})[0] == 204
    assert root(server, "POST", A + "/role/gone/secret-id-accessor/destroy",
                {"secret_id_accessor": by_accessor["secret_id_accessor"]})[0] == 204
    for sid in (by_value, by_accessor):
        assert login(server, role_id, sid["secret_id"]) == (400, {"errors": ["invalid role or secret ID"]})
    assert call(server, "LIST", A + "/role/gone/secret-id", token=server.root_token)[0] == 404
    # Deleting the role takes its secret-ids with it.
    sid = secret_id(server, "gone")["secret_id"]
    assert root(server, "DELETE", A + "/role/gone")[0] == 204
    assert login(server, role_id, sid)[0] == 400


def test_custom_secret_id_and_duplicate(server):
    role_id = make_role(server, "custom")
    st, b = root(server, "POST", A + "/role/custom/custom-secret-id", {"secret_id": "chosen-secret-123", "ttl": "10m"})
    assert st == 200 and b["data"]["secret_id"] == "chosen-secret-123" and b["data"]["secret_id_ttl"] == 600
    st, b = root(server, "POST", A + "/role/custom/custom-secret-id", {"secret_id": "chosen-secret-123"})
    assert st == 400 and "SecretID is already registered" in b["errors"][0]
    assert login(server, role_id, "chosen-secret-123")[0] == 200


def test_secret_id_is_never_shown_again_and_audit_hmacs_it(server):
    log = os.path.join(tempfile.mkdtemp(prefix="approle-audit-"), "audit.log")
    st, b = root(server, "PUT", "/v1/sys/audit/approle-file", {"type": "file", "options": {"file_path": log}})
    assert st == 204, b
    try:
        role_id = make_role(server, "audited")
        sid = secret_id(server, "audited")
        st, b = root(server, "POST", A + "/role/audited/secret-id/lookup", {"secret_id": sid["secret_id"]})
        assert sid["secret_id"] not in json.dumps(b)
        st, b = root(server, "POST", A + "/role/audited/secret-id-accessor/lookup",
                     {"secret_id_accessor": sid["secret_id_accessor"]})
        assert st == 200 and sid["secret_id"] not in json.dumps(b)
        assert login(server, role_id, sid["secret_id"])[0] == 200
        st, h = root(server, "POST", "/v1/sys/audit-hash/approle-file", {"input": sid["secret_id"]})
        hashed = h["data"]["hash"]
        text = open(log).read()
        assert sid["secret_id"] not in text
        assert hashed in text
    finally:
        root(server, "DELETE", "/v1/sys/audit/approle-file")
