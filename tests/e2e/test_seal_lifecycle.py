"""Seal lifecycle over raw HTTPS against the real binary (issue 2, contract §2):
init, seal-status, unseal (hex and base64, duplicates, reset, wrong shares),
seal, health, leader, restart persistence, root token lookup-self."""

import re
import uuid

from harness import Server, fresh_server, server  # noqa: F401  (fixtures)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_init_unseal_seal_restart(fresh_server):
    s = fresh_server
    assert s.raw("GET", "/v1/sys/init") == (200, {"initialized": False})
    st, health = s.raw("GET", "/v1/sys/health")
    assert st == 501 and health["initialized"] is False and health["standby"] is True

    body = s.init(5, 3)
    assert len(body["keys"]) == 5 and len(body["keys_base64"]) == 5
    assert all(re.fullmatch(r"[0-9a-f]{66}", k) for k in body["keys"])
    assert all(len(k) == 44 for k in body["keys_base64"])
    assert re.fullmatch(r"hvs\.[0-9A-Za-z]{24,}", body["root_token"])
    assert s.raw("GET", "/v1/sys/init") == (200, {"initialized": True})

    st, ss = s.raw("GET", "/v1/sys/seal-status")
    assert st == 200
    assert ss["sealed"] is True and ss["initialized"] is True
    assert (ss["t"], ss["n"], ss["progress"], ss["nonce"]) == (3, 5, 0, "")
    assert ss["type"] == "shamir" and "cluster_name" not in ss and "cluster_id" not in ss
    assert re.match(r"^\d+\.\d+\.\d+", ss["version"])

    # Routed paths answer 503 while sealed.
    assert s.raw("GET", "/v1/auth/token/lookup-self", s.root_token) == (503, {"errors": ["Vault is sealed"]})

    st, u = s.raw("PUT", "/v1/sys/unseal", body={"key": s.keys[0]})
    assert st == 200 and u["progress"] == 1 and u["sealed"] is True
    nonce = u["nonce"]
    assert UUID_RE.match(nonce)
    # The same share again does not count.
    st, u = s.raw("PUT", "/v1/sys/unseal", body={"key": s.keys_b64[0]})
    assert u["progress"] == 1 and u["nonce"] == nonce
    st, u = s.raw("PUT", "/v1/sys/unseal", body={"key": s.keys_b64[2]})
    assert u["progress"] == 2
    st, u = s.raw("POST", "/v1/sys/unseal", body={"key": s.keys[4]})
    assert st == 200 and u["sealed"] is False and u["progress"] == 0 and u["nonce"] == ""
    assert u["cluster_name"] and UUID_RE.match(u["cluster_id"])

    st, ls = s.raw("GET", "/v1/auth/token/lookup-self", s.root_token)
    assert st == 200, ls
    d = ls["data"]
    assert d["id"] == s.root_token and d["policies"] == ["root"] and d["path"] == "auth/token/root"
    assert d["display_name"] == "root" and d["orphan"] is True and d["type"] == "service"
    assert d["ttl"] == 0 and d["creation_ttl"] == 0 and d["expire_time"] is None and d["meta"] is None
    assert "renewable" not in d and "issue_time" not in d
    assert UUID_RE.match(ls["request_id"])

    assert s.raw("PUT", "/v1/sys/seal", s.root_token) == (204, None)
    assert s.raw("GET", "/v1/auth/token/lookup-self", s.root_token) == (503, {"errors": ["Vault is sealed"]})
    assert s.raw("GET", "/v1/secret/foo", s.root_token)[0] == 503
    st, h = s.raw("GET", "/v1/sys/health")
    assert st == 503 and h["sealed"] is True and h["standby"] is True
    assert s.raw("GET", "/v1/sys/leader")[0] == 200
    assert s.raw("GET", "/v1/sys/seal-status")[1]["sealed"] is True

    # A restarted process is still initialised and sealed; the same shares unseal it.
    assert s.stop() == 0
    s.start()
    st, ss = s.raw("GET", "/v1/sys/seal-status")
    assert ss["initialized"] is True and ss["sealed"] is True
    s.unseal([s.keys[1], s.keys_b64[3], s.keys[2]])
    assert s.raw("GET", "/v1/auth/token/lookup-self", s.root_token)[0] == 200
    assert s.stop() == 0


def test_wrong_shares_reset_progress(fresh_server):
    s = fresh_server
    s.init(3, 2)
    other = Server().start()
    try:
        other.init(3, 2)
        st, u = s.raw("PUT", "/v1/sys/unseal", body={"key": s.keys[0]})
        assert u["progress"] == 1
        st, u = s.raw("PUT", "/v1/sys/unseal", body={"key": other.keys[1]})
        assert st == 400 and u == {"errors": ["Unseal failed, invalid key"]}
        assert s.raw("GET", "/v1/sys/seal-status")[1]["progress"] == 0
    finally:
        other.cleanup()
    s.raw("PUT", "/v1/sys/unseal", body={"key": s.keys[0]})
    st, u = s.raw("PUT", "/v1/sys/unseal", body={"reset": True})
    assert st == 200 and u["progress"] == 0 and u["nonce"] == ""
    s.unseal(s.keys[1:3])


def test_init_errors(fresh_server):
    s = fresh_server
    cases = [
        ({"secret_shares": 3, "secret_threshold": 5}, "threshold cannot be larger than shares"),
        ({"secret_shares": 5, "secret_threshold": 1}, "threshold must be greater than one for multiple shares"),
        ({"secret_shares": 256, "secret_threshold": 3}, "shares must be less than 256"),
        ({"secret_shares": 0, "secret_threshold": 0}, "shares must be at least one"),
    ]
    for body, msg in cases:
        st, b = s.raw("PUT", "/v1/sys/init", body=body)
        assert st == 400, (body, b)
        assert b == {"errors": ["invalid seal configuration: " + msg]}, b
    st, b = s.raw("PUT", "/v1/sys/init", body={"secret_shares": 1, "secret_threshold": 1,
                                               "recovery_shares": 3})
    assert st == 400
    assert s.raw("GET", "/v1/sys/init")[1]["initialized"] is False
    st, b = s.raw("PUT", "/v1/sys/unseal", body={"key": "00" * 33})
    assert (st, b) == (400, {"errors": ["Vault is not initialized"]})
    s.init(1, 1)
    st, b = s.raw("PUT", "/v1/sys/init", body={"secret_shares": 1, "secret_threshold": 1})
    assert (st, b) == (400, {"errors": ["Vault is already initialized"]})


def test_unseal_input_errors(fresh_server):
    s = fresh_server
    s.init(3, 2)
    assert s.raw("PUT", "/v1/sys/unseal", body={"key": "zz!!"}) == (
        400, {"errors": ["'key' must be a valid hex or base64 string"]})
    assert s.raw("PUT", "/v1/sys/unseal", body={}) == (
        400, {"errors": ["'key' must be specified in request body as JSON, or 'reset' set to true"]})
    assert s.raw("PUT", "/v1/sys/unseal", raw_body="{not json")[0] == 400
    assert s.raw("GET", "/v1/sys/unseal") == (405, {"errors": []})
    assert s.raw("DELETE", "/v1/sys/init") == (405, {"errors": []})
    assert s.raw("POST", "/v1/sys/seal-status") == (405, {"errors": []})
    assert s.raw("GET", "/v1/sys/seal-status")[1]["progress"] == 0


def test_health_codes_and_headers(fresh_server):
    s = fresh_server
    assert s.raw("GET", "/v1/sys/health?uninitcode=204")[0] == 204
    s.init(1, 1)
    st, h = s.raw("GET", "/v1/sys/health?sealedcode=299")
    assert st == 299 and h["sealed"] is True and "cluster_name" not in h
    assert s.raw("GET", "/v1/sys/health?sealedcode=abc")[0] == 400
    status, headers, data = s.request("HEAD", "/v1/sys/health")
    assert status == 503 and data == b""
    s.unseal(s.keys[:1])
    st, h = s.raw("GET", "/v1/sys/health")
    assert st == 200 and h["standby"] is False and h["sealed"] is False and h["cluster_id"]
    assert isinstance(h["server_time_utc"], int)
    assert s.raw("GET", "/v1/sys/health?activecode=202&standbyok=true")[0] == 202
    assert s.request("HEAD", "/v1/sys/health")[0] == 200

    for path, tok in [("/v1/sys/seal-status", None), ("/v1/auth/token/lookup-self", s.root_token),
                      ("/v1/auth/token/lookup-self", "bogus"), ("/v1/nope", s.root_token)]:
        status, headers, _ = s.request("GET", path, tok)
        assert headers.get("cache-control") == "no-store", path
        assert headers.get("content-type") == "application/json", path
    status, _, data = s.request("GET", "/v1/sys/leader")
    assert status == 200
    st, leader = s.raw("GET", "/v1/sys/leader")
    assert leader["ha_enabled"] is False and leader["leader_address"] == ""


def test_token_errors(server):
    s = server
    for tok in (None, "hvs.NotARealTokenAtAll000000", "x" * 600):
        st, b = s.raw("GET", "/v1/auth/token/lookup-self", tok)
        assert st == 403, (tok, b)
        assert any("permission denied" in e for e in b["errors"])
    # Bearer works when X-Vault-Token is absent; other schemes are ignored.
    assert s.raw("GET", "/v1/auth/token/lookup-self",
                 headers={"Authorization": "Bearer " + s.root_token})[0] == 200
    assert s.raw("GET", "/v1/auth/token/lookup-self",
                 headers={"Authorization": "Basic " + s.root_token})[0] == 403
    st, b = s.raw("GET", "/v1/auth/token/lookup-self", s.root_token)
    assert uuid.UUID(b["request_id"]).version == 4
    assert s.stop() == 0
