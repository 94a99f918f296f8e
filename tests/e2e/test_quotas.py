"""End to end: resource quotas (issue 24) on a real sealbox over HTTPS.

Rate-limit quotas: a mount's quota answers 429 with Vault's text and a
Retry-After after its rate, other mounts are not limited, exempt paths never
are, a path quota beats its mount's, a role quota limits the logins of that
AppRole role only, the X-Ratelimit-* headers appear once enabled, and
deleting the quota lifts it, refusals are audited once asked. Lease-count quotas: the N+1th token lease (a
login's or the token store's) is refused with Vault Enterprise's error until
one is revoked. The shapes of sys/quotas/* as OpenBao answers them.
"""

import json
import os

import pytest

from harness import Server

EXCEEDED = "rate limit quota exceeded"


@pytest.fixture(scope="module")
def server():
    s = Server(log_level="info").start()
    s.init(shares=1, threshold=1)
    s.unseal()
    for path, typ in (("kv", "kv"), ("other", "kv"), ("pathq", "kv")):
        st, b = s.root("POST", "/v1/sys/mounts/" + path, {"type": typ})
        assert st == 204, b
    st, b = s.root("POST", "/v1/sys/auth/approle", {"type": "approle"})
    assert st == 204, b
    yield s
    s.cleanup()


def quota(server, name, **fields):
    st, b = server.root("POST", "/v1/sys/quotas/rate-limit/" + name, fields)
    assert st == 204, b


def drop(server, kind, name):
    st, _ = server.root("DELETE", "/v1/sys/quotas/%s/%s" % (kind, name))
    assert st == 204


def statuses(server, path, n, token=None):
    out = []
    for _ in range(n):
        st, h, _ = server.request("GET", path, token or server.root_token)
        out.append((st, h))
    return out


def test_quota_shapes_as_openbao(server):
    st, b = server.root("GET", "/v1/sys/quotas/config")
    assert st == 200
    assert b["data"] == {
        "enable_rate_limit_audit_logging": False,
        "enable_rate_limit_response_headers": False,
        "rate_limit_exempt_paths": ["sys/generate-recovery-token/attempt", "sys/generate-recovery-token/update",
                                    "sys/generate-root/attempt", "sys/generate-root/update", "sys/health",
                                    "sys/seal-status", "sys/unseal"]}
    quota(server, "shape", rate=1000, path="kv/")
    st, b = server.root("GET", "/v1/sys/quotas/rate-limit/shape")
    assert st == 200
    assert b["data"] == {"block_interval": 0, "inheritable": False, "interval": 1, "name": "shape",
                         "path": "kv/", "rate": 1000, "role": "", "type": "rate-limit"}
    st, b = server.root("LIST", "/v1/sys/quotas/rate-limit")
    assert st == 200 and b["data"]["keys"] == ["shape"]
    st, b = server.root("POST", "/v1/sys/quotas/rate-limit/dup", {"rate": 5, "path": "kv/"})
    assert st == 400 and b["errors"] == ['quota rule with similar properties exists under the name "shape"']
    st, b = server.root("POST", "/v1/sys/quotas/rate-limit/bad", {"rate": 0})
    assert st == 400 and b["errors"] == ["'rate' is invalid"]
    st, b = server.root("POST", "/v1/sys/quotas/rate-limit/bad", {"rate": 1, "path": "nonexist/"})
    assert st == 400 and b["errors"] == ['invalid mount path "nonexist/"']
    st, _ = server.root("GET", "/v1/sys/quotas/rate-limit/missing")
    assert st == 404
    drop(server, "rate-limit", "shape")
    st, _ = server.root("LIST", "/v1/sys/quotas/rate-limit")
    assert st == 404


def test_mount_quota_limits_that_mount_only(server):
    quota(server, "kvq", rate=3, interval="60s", path="kv/")
    try:
        got = statuses(server, "/v1/kv/a", 4)
        assert [s for s, _ in got[:3]] == [404, 404, 404]
        st, h = got[3]
        assert st == 429
        assert int(h["retry-after"]) >= 1
        assert "x-ratelimit-limit" not in h  # headers off by default, as Vault
        st, b = server.root("GET", "/v1/kv/a")
        assert st == 429 and b["errors"] == ['request path "kv/a": ' + EXCEEDED]
        # Another mount, and the exempt sys/health, are untouched.
        assert [s for s, _ in statuses(server, "/v1/other/a", 6)] == [404] * 6
        for _ in range(6):
            assert server.request("GET", "/v1/sys/health")[0] == 200
        # Both refusals are counted under Vault's metric, per quota.
        st, m = server.root("GET", "/v1/sys/metrics")
        assert st == 200, m
        violations = [c for c in m["Counters"] if c["Name"] == "vault.quota.rate_limit.violation"
                      and c.get("Labels", {}).get("name") == "kvq"]
        assert len(violations) == 1 and violations[0]["Count"] == 2, m["Counters"]
    finally:
        drop(server, "rate-limit", "kvq")
    # Deleting the quota lifts it at once.
    assert server.root("GET", "/v1/kv/a")[0] == 404


def test_response_headers_when_enabled(server):
    st, _ = server.root("POST", "/v1/sys/quotas/config", {"enable_rate_limit_response_headers": True})
    assert st == 204
    quota(server, "hdr", rate=2, interval="60s", path="other/")
    try:
        got = statuses(server, "/v1/other/h", 3)
        assert got[0][1]["x-ratelimit-limit"] == "2"
        assert got[0][1]["x-ratelimit-remaining"] == "1"
        assert got[1][1]["x-ratelimit-remaining"] == "0"
        st, h = got[2]
        assert st == 429 and int(h["retry-after"]) >= 1 and int(h["x-ratelimit-reset"]) >= 1
    finally:
        drop(server, "rate-limit", "hdr")
        server.root("POST", "/v1/sys/quotas/config", {"enable_rate_limit_response_headers": False})


def test_path_quota_beats_mount_quota(server):
    quota(server, "pm", rate=100, interval="60s", path="pathq/")
    quota(server, "pp", rate=2, interval="60s", path="pathq/tight")
    try:
        assert [s for s, _ in statuses(server, "/v1/pathq/tight/x", 3)] == [404, 404, 429]
        # The rest of the mount has the mount's (larger) budget.
        assert [s for s, _ in statuses(server, "/v1/pathq/loose", 5)] == [404] * 5
    finally:
        drop(server, "rate-limit", "pp")
        drop(server, "rate-limit", "pm")


def test_refusals_are_audited_when_enabled(server):
    """enable_rate_limit_audit_logging: each refused request is one audit
    request entry carrying the refusal (token HMAC'd, data elided), as Vault
    writes it; off (the default), refusals are not audited."""
    log = os.path.join(server.dir, "quota-audit.log")
    assert server.root("PUT", "/v1/sys/audit/quota-file", {"type": "file", "options": {"file_path": log}})[0] == 204
    quota(server, "aud", rate=1, interval="60s", path="other/audited")

    def refusals():
        with open(log) as f:
            return [json.loads(l) for l in f if EXCEEDED in l]
    try:
        assert [s for s, _ in statuses(server, "/v1/other/audited", 2)] == [404, 429]
        assert refusals() == []
        assert server.root("POST", "/v1/sys/quotas/config", {"enable_rate_limit_audit_logging": True})[0] == 204
        st, _, _ = server.request("PUT", "/v1/other/audited", server.root_token, body={"secret": "s3cr3t"})
        assert st == 429
        got = refusals()
        assert len(got) == 1, got
        entry = got[0]
        assert entry["type"] == "request" and entry["request"]["path"] == "other/audited", entry
        assert entry["error"] == 'request path "other/audited": ' + EXCEEDED, entry
        assert entry["request"]["client_token"].startswith("hmac-sha256:"), entry  # HMAC'd, as every entry
        line = open(log).read()
        assert "s3cr3t" not in line and server.root_token not in line
    finally:
        server.root("POST", "/v1/sys/quotas/config", {"enable_rate_limit_audit_logging": False})
        drop(server, "rate-limit", "aud")
        server.root("DELETE", "/v1/sys/audit/quota-file")


def make_role(server, name):
    st, b = server.root("POST", "/v1/auth/approle/role/" + name, {"bind_secret_id": False,
                                                                    "secret_id_bound_cidrs": "127.0.0.0/8",
                                                                    "token_policies": "default"})
    assert st == 204, b
    st, b = server.root("GET", "/v1/auth/approle/role/%s/role-id" % name)
    return b["data"]["role_id"]


def login(server, role_id):
    st, h, _ = server.request("POST", "/v1/auth/approle/login", body={"role_id": role_id})
    return st


def test_role_quota_limits_that_role_only(server):
    limited, free = make_role(server, "limited"), make_role(server, "free")
    quota(server, "rq", rate=2, interval="60s", path="auth/approle/", role="limited")
    try:
        st, b = server.root("GET", "/v1/sys/quotas/rate-limit/rq")
        assert b["data"]["role"] == "limited" and b["data"]["path"] == "auth/approle/"
        assert [login(server, limited) for _ in range(3)] == [200, 200, 429]
        assert [login(server, free) for _ in range(4)] == [200] * 4
    finally:
        drop(server, "rate-limit", "rq")
    assert login(server, limited) == 200
    st, b = server.root("POST", "/v1/sys/quotas/rate-limit/rk", {"rate": 1, "path": "kv/", "role": "x"})
    assert st == 400


def child_token(server, policies="default"):
    st, b = server.root("POST", "/v1/auth/token/create", {"policies": policies, "ttl": "1h"})
    assert st == 200, b
    return b["auth"]["client_token"]


def test_lease_count_quota_refuses_the_next_token_lease(server):
    st, _ = server.root("PUT", "/v1/sys/policies/acl/maker", {"policy": 'path "auth/token/create" { capabilities = ["update"] }'})
    assert st == 204
    maker = child_token(server, "maker")
    st, b = server.root("POST", "/v1/sys/quotas/lease-count/tokens", {"max_leases": 3, "path": "auth/token/"})
    assert st == 204, b
    try:
        made = []
        for _ in range(3):
            st, b = server.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
            assert st == 200, b
            made.append(b["auth"]["client_token"])
        st, b = server.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
        assert st == 429
        assert b["errors"] == ['1 error occurred:\n\t* request path "auth/token/create": lease count quota exceeded\n\n']
        st, b = server.root("GET", "/v1/sys/quotas/lease-count/tokens")
        assert b["data"]["counter"] == 3 and b["data"]["max_leases"] == 3 and b["data"]["type"] == "lease-count"
        # The root token is never counted nor refused, as Vault.
        child_token(server)
        # A revoked token frees its place.
        st, _ = server.root("POST", "/v1/auth/token/revoke", {"token": made[0]})
        assert st == 204
        st, b = server.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
        assert st == 200, b
    finally:
        drop(server, "lease-count", "tokens")
    st, b = server.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
    assert st == 200, b


def test_lease_count_quota_on_logins(server):
    role_id = make_role(server, "counted")
    st, b = server.root("POST", "/v1/sys/quotas/lease-count/logins",
                        {"max_leases": 2, "path": "auth/approle/", "role": "counted"})
    assert st == 204, b
    try:
        assert [login(server, role_id) for _ in range(3)] == [200, 200, 429]
    finally:
        drop(server, "lease-count", "logins")
    assert login(server, role_id) == 200


def test_quotas_survive_a_restart(server):
    quota(server, "persist", rate=1, interval="60s", path="other/")
    try:
        server.restart()
        server.unseal(server.keys[:1])
        assert [s for s, _ in statuses(server, "/v1/other/r", 2)] == [404, 429]
    finally:
        drop(server, "rate-limit", "persist")


def counter(server, name):
    st, b = server.root("GET", "/v1/sys/quotas/lease-count/" + name)
    assert st == 200, b
    return b["data"]["counter"]


def test_lease_counts_survive_seal_and_restart():
    """The counts are rebuilt from the stored tokens at unseal: waiting for a
    seal or a crash does not reset a full quota; root callers' tokens stay
    uncounted; a quota written over existing tokens starts with them (Vault)."""
    s = Server(log_level="info").start()
    try:
        s.init(shares=1, threshold=1)
        s.unseal()
        st, b = s.root("POST", "/v1/sys/auth/approle", {"type": "approle"})
        assert st == 204, b
        st, _ = s.root("PUT", "/v1/sys/policies/acl/maker", {"policy": 'path "auth/token/create" { capabilities = ["update"] }'})
        assert st == 204
        maker = child_token(s, "maker")  # made by root: never counted
        first = s.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})[1]["auth"]["client_token"]
        st, b = s.root("POST", "/v1/sys/quotas/lease-count/tokens", {"max_leases": 2, "path": "auth/token/"})
        assert st == 204, b
        assert counter(s, "tokens") == 1
        st, b = s.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
        assert st == 200, b
        role_id = make_role(s, "ci")
        st, b = s.root("POST", "/v1/sys/quotas/lease-count/ci", {"max_leases": 1, "path": "auth/approle/", "role": "ci"})
        assert st == 204, b
        assert login(s, role_id) == 200

        def still_full():
            assert counter(s, "tokens") == 2 and counter(s, "ci") == 1
            st, b = s.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
            assert st == 429
            assert b["errors"] == ['1 error occurred:\n\t* request path "auth/token/create": lease count quota exceeded\n\n']
            assert login(s, role_id) == 429

        still_full()
        st, _ = s.root("PUT", "/v1/sys/seal")
        assert st == 204
        s.unseal()
        still_full()
        s.kill9()
        s.start()
        s.unseal()
        still_full()
        st, _ = s.root("POST", "/v1/auth/token/revoke", {"token": first})
        assert st == 204
        assert counter(s, "tokens") == 1
        st, b = s.raw("POST", "/v1/auth/token/create", maker, {"ttl": "1h"})
        assert st == 200, b
    finally:
        s.cleanup()
