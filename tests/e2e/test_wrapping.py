"""End to end: response wrapping (issue 25) against a real sealbox over HTTPS.

X-Vault-Wrap-TTL on any request gives a single-use wrapping token whose
cubbyhole holds the response; sys/wrapping/{lookup,unwrap,rewrap,wrap};
the refusals (a second unwrap, two racing unwraps, a wrapping token used
anywhere else, an expired one, policy wrapping-TTL bounds, bad headers) and
the audit log, which holds the wrapping token and the payload only as HMACs.
Shapes and messages as OpenBao 2.7.2 answers them.
"""
import concurrent.futures
import os

import pytest

from harness import Server, wait_until

INVALID = "wrapping token is not valid or does not exist"
SECRET = "wrapped-value-7f3c1a"


@pytest.fixture(scope="module")
def s():
    srv = Server().start()
    srv.init(1, 1)
    srv.unseal(srv.keys)
    st, b = srv.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    assert st == 204, b
    srv.audit_log = os.path.join(srv.dir, "wrap-audit.log")
    st, b = srv.root("PUT", "/v1/sys/audit/file", {"type": "file", "options": {"file_path": srv.audit_log}})
    assert st == 204, b
    st, b = srv.root("POST", "/v1/secret/data/app", {"data": {"password": SECRET}})
    assert st == 200, b
    yield srv
    srv.cleanup()


def wrapped(s, method, path, ttl="5m", body=None, token=None):
    st, b = s.raw(method, path, token or s.root_token, body, headers={"X-Vault-Wrap-TTL": ttl})
    assert st == 200, b
    # As Vault's HTTP layer: nothing but the wrap info (warnings stay in the payload).
    assert b["data"] is None and b["auth"] is None and b["request_id"] == "", b
    assert b["warnings"] is None and b["mount_type"] == "", b
    return b["wrap_info"]


def unwrap(s, token, body_token=None):
    if body_token:
        return s.raw("PUT", "/v1/sys/wrapping/unwrap", token, {"token": body_token})
    return s.raw("PUT", "/v1/sys/wrapping/unwrap", token, {})


def test_a_wrapped_read_unwraps_once_to_the_same_answer(s):
    st, plain = s.root("GET", "/v1/secret/data/app")
    assert st == 200
    info = wrapped(s, "GET", "/v1/secret/data/app")
    assert info["ttl"] == 300 and info["creation_path"] == "secret/data/app", info
    assert info["token"] and info["accessor"] and info["creation_time"].endswith("Z")
    assert "wrapped_accessor" not in info

    st, look = s.raw("PUT", "/v1/sys/wrapping/lookup", None, {"token": info["token"]})
    assert st == 200, look
    assert look["data"] == {"creation_path": "secret/data/app", "creation_time": info["creation_time"],
                            "creation_ttl": 300}

    st, out = unwrap(s, info["token"])
    assert st == 200, out
    assert out["data"] == plain["data"] and out["wrap_info"] is None and out["request_id"]

    for again in (lambda: unwrap(s, info["token"]), lambda: unwrap(s, s.root_token, info["token"]),
                  lambda: s.raw("PUT", "/v1/sys/wrapping/lookup", None, {"token": info["token"]})):
        st, b = again()
        assert (st, b) == (400, {"errors": [INVALID]})


def test_unwrapping_someone_elses_token_needs_a_caller_allowed_to(s):
    st, b = s.root("POST", "/v1/auth/token/create", {"policies": ["default"]})
    assert st == 200, b
    default_token = b["auth"]["client_token"]
    st, b = s.root("POST", "/v1/auth/token/create", {"policies": ["nothing"], "no_default_policy": True})
    bare_token = b["auth"]["client_token"]

    info = wrapped(s, "GET", "/v1/secret/data/app")
    for caller, message in ((None, "permission denied"), ("not-a-token", "permission denied"),
                            (bare_token, "1 error occurred:\n\t* permission denied\n\n")):
        st, b = unwrap(s, caller, info["token"])
        assert (st, b) == (403, {"errors": [message]}), caller
    # A token that wraps nothing is told so before the caller is checked.
    assert unwrap(s, None, "s.not-a-wrapping-token") == (400, {"errors": [INVALID]})
    st, out = unwrap(s, default_token, info["token"])  # the default policy allows unwrap
    assert st == 200 and out["data"]["data"] == {"password": SECRET}, out
    for method, path in (("PUT", "/v1/sys/wrapping/unwrap"), ("PUT", "/v1/sys/wrapping/lookup"),
                         ("GET", "/v1/sys/wrapping/lookup")):
        st, b = s.raw(method, path, None, {} if method == "PUT" else None)
        assert (st, b) == (403, {"errors": ["error validating wrapping token: token is empty"]}), path


def test_racing_unwraps_only_one_wins(s):
    for _ in range(3):
        token = wrapped(s, "GET", "/v1/secret/data/app")["token"]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: unwrap(s, token)[0], range(8)))
        assert sorted(results) == [200] + [400] * 7, results


def test_a_wrapping_token_opens_nothing_else(s):
    token = wrapped(s, "GET", "/v1/secret/data/app")["token"]
    for method, path in (("GET", "/v1/auth/token/lookup-self"), ("GET", "/v1/secret/data/app"),
                         ("POST", "/v1/sys/wrapping/rewrap")):
        st, b = s.raw(method, path, token, {} if method == "POST" else None)
        assert st == 403, (path, b)
    st, b = s.raw("PUT", "/v1/sys/policy/response-wrapping", s.root_token, {"policy": "path \"x\" {\n  capabilities = [\"read\"]\n}\n"})
    assert st == 400 and "cannot update" in b["errors"][0], b


def test_the_old_flow_reads_the_response_from_the_cubbyhole(s):
    token = wrapped(s, "GET", "/v1/secret/data/app")["token"]
    st, b = s.raw("GET", "/v1/cubbyhole/response", token)
    assert st == 200, b
    import json
    assert json.loads(b["data"]["response"])["data"]["data"] == {"password": SECRET}
    st, b = unwrap(s, token)  # that read was the token's one use
    assert st == 400


def test_wrapped_tokens_and_secret_ids_unwrap_to_working_credentials(s):
    info = wrapped(s, "POST", "/v1/auth/token/create", body={"policies": ["default", "nowhere"], "ttl": "1h"})
    assert info["wrapped_accessor"] and info["creation_path"] == "auth/token/create"
    st, out = unwrap(s, info["token"])
    assert st == 200 and out["auth"]["accessor"] == info["wrapped_accessor"], out
    assert out["warnings"] == ['Policy "nowhere" does not exist'], out
    st, me = s.raw("GET", "/v1/auth/token/lookup-self", out["auth"]["client_token"])
    assert st == 200 and me["data"]["policies"] == ["default", "nowhere"], me

    st, b = s.root("POST", "/v1/sys/auth/approle", {"type": "approle"})
    assert st == 204, b
    st, b = s.root("POST", "/v1/auth/approle/role/ci", {"token_policies": ["default"]})
    assert st == 204, b
    st, b = s.root("GET", "/v1/auth/approle/role/ci/role-id")
    role_id = b["data"]["role_id"]
    info = wrapped(s, "POST", "/v1/auth/approle/role/ci/secret-id", ttl="60s", body={})
    # As Vault: the wrapped secret-id's accessor shows, for tracking it unopened.
    st, acc = s.root("POST", "/v1/auth/approle/role/ci/secret-id-accessor/lookup",
                     {"secret_id_accessor": info["wrapped_accessor"]})
    assert st == 200 and acc["data"]["secret_id_accessor"] == info["wrapped_accessor"], acc
    st, out = unwrap(s, info["token"])
    assert st == 200 and out["data"]["secret_id"], out
    assert out["data"]["secret_id_accessor"] == info["wrapped_accessor"], out
    # Other wrapped data shows none, even with a secret_id_accessor field.
    assert "wrapped_accessor" not in wrapped(s, "POST", "/v1/sys/wrapping/wrap",
                                             body={"secret_id_accessor": "not-an-approle-one"})
    st, login = s.raw("POST", "/v1/auth/approle/login", None, {"role_id": role_id, "secret_id": out["data"]["secret_id"]})
    assert st == 200 and login["auth"]["client_token"], login


def test_wrap_and_rewrap(s):
    st, b = s.root("POST", "/v1/sys/wrapping/wrap", {"a": "b"})
    assert (st, b) == (400, {"errors": ["endpoint requires response wrapping to be used"]})
    info = wrapped(s, "POST", "/v1/sys/wrapping/wrap", ttl="90", body={"a": "b", "n": 1})
    assert info["ttl"] == 90 and info["creation_path"] == "sys/wrapping/wrap"
    st, again = s.root("POST", "/v1/sys/wrapping/rewrap", {"token": info["token"]})
    assert st == 200 and again["wrap_info"]["token"] != info["token"], again
    assert again["wrap_info"]["ttl"] == 90 and again["wrap_info"]["creation_path"] == "sys/wrapping/wrap"
    st, b = unwrap(s, info["token"])
    assert (st, b) == (400, {"errors": [INVALID]})
    st, out = unwrap(s, again["wrap_info"]["token"])
    assert st == 200 and out["data"] == {"a": "b", "n": 1}, out


def test_wrap_ttl_header_is_checked(s):
    for value, message in (("abc", 'error parsing X-Vault-Wrap-TTL header: time: invalid duration "abc"'),
                           ("-5", "error parsing X-Vault-Wrap-TTL header: requested wrap ttl cannot be negative")):
        st, b = s.raw("GET", "/v1/secret/data/app", s.root_token, headers={"X-Vault-Wrap-TTL": value})
        assert (st, b) == (400, {"errors": [message]}), value
    st, b = s.raw("GET", "/v1/secret/data/app", s.root_token, headers={"X-Vault-Wrap-TTL": "0"})
    assert st == 200 and b["data"]["data"] == {"password": SECRET} and b["wrap_info"] is None
    # Errors and empty answers are never wrapped.
    st, b = s.raw("GET", "/v1/secret/data/missing", s.root_token, headers={"X-Vault-Wrap-TTL": "60"})
    assert st == 404
    st, b = s.raw("DELETE", "/v1/secret/data/missing", s.root_token, headers={"X-Vault-Wrap-TTL": "60"})
    assert st == 204


def test_an_expired_wrapping_token_is_gone(s):
    token = wrapped(s, "GET", "/v1/secret/data/app", ttl="1s")["token"]
    wait_until(lambda: s.raw("PUT", "/v1/sys/wrapping/lookup", None, {"token": token})[0] == 400,
               timeout=15, what="the wrapping token to expire")
    assert unwrap(s, token)[0] == 400


def test_policy_wrapping_ttl_bounds(s):
    policy = 'path "secret/data/app" {\n  capabilities = ["read"]\n  min_wrapping_ttl = "1m"\n  max_wrapping_ttl = "10m"\n}\n'
    st, b = s.root("PUT", "/v1/sys/policies/acl/must-wrap", {"policy": policy})
    assert st == 204, b
    st, b = s.root("POST", "/v1/auth/token/create", {"policies": ["must-wrap"]})
    token = b["auth"]["client_token"]
    assert s.raw("GET", "/v1/secret/data/app", token)[0] == 403
    for ttl, want in (("30s", 403), ("20m", 403), ("5m", 200)):
        st, b = s.raw("GET", "/v1/secret/data/app", token, headers={"X-Vault-Wrap-TTL": ttl})
        assert st == want, (ttl, b)
    assert b["wrap_info"]["ttl"] == 300


def test_the_audit_log_holds_wrapping_tokens_and_payloads_only_as_hmacs(s):
    import json
    info = wrapped(s, "GET", "/v1/secret/data/app", ttl="120")
    st, out = unwrap(s, info["token"])
    assert st == 200
    with open(s.audit_log) as f:
        text = f.read()
    assert info["token"] not in text and SECRET not in text
    entries = [json.loads(line) for line in text.splitlines()]
    wraps = [e for e in entries if e["type"] == "response" and "wrap_info" in e.get("response", {})]
    assert wraps, "no response entry carries wrap_info"
    last = wraps[-1]
    assert last["request"]["wrap_ttl"] == 120
    assert last["response"]["wrap_info"]["token"].startswith("hmac-sha256:")
    assert last["response"]["wrap_info"]["ttl"] == 120
    unwraps = [e for e in entries if e["type"] == "response" and e["request"]["path"] == "sys/wrapping/unwrap"
               and e.get("response", {}).get("data")]
    assert unwraps and unwraps[-1]["response"]["data"]["data"]["password"].startswith("hmac-sha256:")
