"""The seal lifecycle driven by Debian's python3-hvac 0.11.2 (issue 2)."""

from harness import fresh_server  # noqa: F401  (fixture)


def test_hvac_lifecycle(fresh_server):
    s = fresh_server
    c = s.hvac(token="")
    assert c.sys.is_initialized() is False
    result = c.sys.initialize(secret_shares=5, secret_threshold=3)
    keys, root = result["keys"], result["root_token"]
    assert len(keys) == 5 and root.startswith("hvs.")
    assert c.sys.is_sealed() is True
    status = c.sys.read_seal_status()
    assert status["t"] == 3 and status["n"] == 5

    resp = c.sys.submit_unseal_keys(keys[:3])
    assert resp["sealed"] is False
    assert c.sys.is_sealed() is False

    health = c.sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False

    c.token = root
    me = c.lookup_token()
    assert me["data"]["policies"] == ["root"]
    assert c.auth.token.lookup_self()["data"]["id"] == root
    assert c.is_authenticated() is True

    c.sys.seal()
    assert c.sys.is_sealed() is True
    raw = c.sys.read_health_status(method="GET")
    assert raw.status_code == 503 and raw.json()["sealed"] is True  # body on every code
    health = c.sys.read_health_status(method="GET", sealed_code=200)
    assert health["sealed"] is True and health["standby"] is True

    assert s.stop() == 0
    s.start()
    c2 = s.hvac(token=root)
    assert c2.sys.is_initialized() is True and c2.sys.is_sealed() is True
    c2.sys.submit_unseal_keys([keys[4], keys[1], keys[3]])
    assert c2.sys.is_sealed() is False
    assert c2.auth.token.lookup_self()["data"]["id"] == root

    bad = s.hvac(token="hvs.definitely-not-valid-0000000")
    assert bad.is_authenticated() is False
