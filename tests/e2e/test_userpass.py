"""End to end: the userpass auth method (issue 25) against a real sealbox
over HTTPS.

Users with Argon2id password hashes, the token_* fields, password and
policy changes, login; and every refusal: a wrong password, an unknown user
(the same message, and about the same time: no user enumeration), a missing
password, a bound CIDR, a deleted user's renewal. The password is never
returned and never in the audit log.
"""
import json
import os
import statistics
import time

import pytest

from harness import Server

INVALID = {"errors": ["invalid username or password"]}


@pytest.fixture(scope="module")
def s():
    srv = Server().start()
    srv.init(1, 1)
    srv.unseal(srv.keys)
    srv.audit_log = os.path.join(srv.dir, "userpass-audit.log")
    st, b = srv.root("PUT", "/v1/sys/audit/file", {"type": "file", "options": {"file_path": srv.audit_log}})
    assert st == 204, b
    st, b = srv.root("POST", "/v1/sys/auth/userpass", {"type": "userpass"})
    assert st == 204, b
    yield srv
    srv.cleanup()


def login(s, user, password):
    return s.raw("POST", "/v1/auth/userpass/login/" + user, None, {"password": password})


def test_a_user_logs_in_with_the_token_fields_of_its_entry(s):
    st, b = s.root("POST", "/v1/auth/userpass/users/Alice",
                   {"password": "alice-pw-1", "token_policies": ["default", "dev"], "token_ttl": "30m"})
    assert st == 204, b
    st, b = s.root("GET", "/v1/auth/userpass/users/alice")
    assert st == 200 and "password" not in json.dumps(b["data"]) and "password_hash" not in b["data"], b
    assert b["data"]["token_policies"] == ["default", "dev"] and b["data"]["token_ttl"] == 1800
    st, b = s.raw("LIST", "/v1/auth/userpass/users", s.root_token)
    assert st == 200 and b["data"]["keys"] == ["alice"], b

    st, b = login(s, "ALICE", "alice-pw-1")  # usernames are case-insensitive, as Vault's
    assert st == 200, b
    auth = b["auth"]
    assert auth["metadata"] == {"username": "alice"} and auth["policies"] == ["default", "dev"]
    assert auth["lease_duration"] == 1800
    st, me = s.raw("GET", "/v1/auth/token/lookup-self", auth["client_token"])
    assert st == 200 and me["data"]["path"] == "auth/userpass/login/ALICE", me  # the path as sent, as Vault
    assert me["data"]["display_name"] == "userpass-alice", me


def test_renewal_is_capped_by_the_users_token_max_ttl(s):
    st, b = s.root("POST", "/v1/auth/userpass/users/renew", {"password": "renew-pw-1", "token_ttl": "60s",
                                                             "token_max_ttl": "90s"})
    assert st == 204, b
    st, b = login(s, "renew", "renew-pw-1")
    assert st == 200, b
    st, b = s.raw("POST", "/v1/auth/token/renew-self", b["auth"]["client_token"], {"increment": "1h"})
    assert st == 200 and 80 <= b["auth"]["lease_duration"] <= 90, b


def test_wrong_password_and_unknown_user_look_the_same(s):
    st, b = s.root("POST", "/v1/auth/userpass/users/bob", {"password": "bob-pw-1"})
    assert st == 204, b
    assert login(s, "bob", "wrong") == (400, INVALID)
    assert login(s, "nobody", "wrong") == (400, INVALID)

    def cost(user):
        t0 = time.perf_counter()
        assert login(s, user, "wrong")[0] == 400
        return time.perf_counter() - t0
    # Interleaved medians: a missing user must pay for a hash as a wrong password does.
    known, unknown = [], []
    for _ in range(7):
        known.append(cost("bob"))
        unknown.append(cost("nobody-%d" % len(unknown)))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2.0, (known, unknown)


def test_refusals(s):
    st, b = s.root("POST", "/v1/auth/userpass/users/carol", {})
    assert (st, b) == (400, {"errors": ["must provide either password or password_hash"]})
    st, b = s.raw("POST", "/v1/auth/userpass/login/bob", None, {})
    assert st == 400 and b == {"errors": ["missing password"]}, b
    st, b = s.root("POST", "/v1/auth/userpass/users/cidr",
                   {"password": "cidr-pw-1", "token_bound_cidrs": ["10.9.8.0/24"]})
    assert st == 204, b
    st, b = login(s, "cidr", "cidr-pw-1")
    assert st == 403 and b == {"errors": ["login request originated from invalid CIDR"]}, b
    st, b = s.root("POST", "/v1/auth/userpass/users/ghost/password", {"password": "x"})
    assert st == 400


def test_password_and_policy_changes_take_effect(s):
    st, b = s.root("POST", "/v1/auth/userpass/users/dave", {"password": "dave-pw-1", "token_policies": ["a"]})
    assert st == 204
    assert s.root("POST", "/v1/auth/userpass/users/dave/password", {"password": "dave-pw-2"})[0] == 204
    assert login(s, "dave", "dave-pw-1") == (400, INVALID)
    assert login(s, "dave", "dave-pw-2")[0] == 200
    assert s.root("POST", "/v1/auth/userpass/users/dave/policies", {"token_policies": ["b", "c"]})[0] == 204
    st, b = login(s, "dave", "dave-pw-2")
    assert st == 200 and b["auth"]["policies"] == ["b", "c", "default"], b
    # An update without a password keeps it.
    assert s.root("POST", "/v1/auth/userpass/users/dave", {"token_ttl": "5m"})[0] == 204
    st, b = login(s, "dave", "dave-pw-2")
    assert st == 200 and b["auth"]["lease_duration"] == 300, b
    token = b["auth"]["client_token"]
    # A deleted user's token is no longer renewed.
    assert s.root("DELETE", "/v1/auth/userpass/users/dave")[0] == 204
    st, b = s.raw("PUT", "/v1/auth/token/renew-self", token, {})
    assert st == 400, b
    assert login(s, "dave", "dave-pw-2") == (400, INVALID)


def test_passwords_never_reach_the_audit_log(s):
    assert s.root("POST", "/v1/auth/userpass/users/erin", {"password": "erin-secret-pw-9"})[0] == 204
    assert login(s, "erin", "erin-secret-pw-9")[0] == 200
    assert login(s, "erin", "erin-wrong-pw-9")[0] == 400
    with open(s.audit_log) as f:
        text = f.read()
    assert "erin-secret-pw-9" not in text and "erin-wrong-pw-9" not in text
    assert "$argon2id$" not in text
