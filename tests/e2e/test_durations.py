"""Duration overflow (issue 20, item 9). `{"ttl": 9223372036854775807}` once
answered a lease_duration of that many seconds and a token that got 403 at
once: its expiry, now + ttl * 1e9, had wrapped into the past. Durations
longer than Go's time.Duration holds are refused as Vault refuses them (400);
shorter ones that still overflow "now + ttl" saturate, then are capped by the
mount's and the system's max TTL as Vault caps them."""

import pytest

import harness

GO_MAX_HOURS = 2562047  # the longest whole-hour time.Duration


@pytest.fixture(scope="module")
def srv():
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal(s.keys)
    yield s
    s.cleanup()


def create_token(s, **body):
    body.setdefault("policies", ["default"])
    return s.root("POST", "/v1/auth/token/create", body)


def works(s, token):
    return s.raw("GET", "/v1/auth/token/lookup-self", token)[0] == 200


@pytest.mark.parametrize("ttl", [9223372036854775807, "9223372036854775807", "999999999999h",
                                 "%dh" % (GO_MAX_HOURS + 1), 9223372037])
def test_durations_past_go_range_are_refused(srv, ttl):
    for field in ("ttl", "explicit_max_ttl"):
        st, b = create_token(srv, **{field: ttl})
        assert st == 400 and b["errors"], (field, ttl, st, b)
    st, b = srv.root("POST", "/v1/sys/mounts/kvx", {"type": "kv", "config": {"max_lease_ttl": ttl}})
    assert st == 400, (st, b)


def test_ttl_in_range_is_capped_by_the_max_ttl(srv):
    st, b = create_token(srv, ttl="%dh" % GO_MAX_HOURS)
    assert st == 200, b
    assert b["auth"]["lease_duration"] == 768 * 3600  # the system max, with Vault's warning
    assert any("exceeded the effective max_ttl" in w for w in b["warnings"]), b
    assert works(srv, b["auth"]["client_token"])


def test_now_plus_ttl_saturates(srv):
    # A mount max as long as Go allows: now + max no longer fits in int64 nanoseconds.
    assert srv.root("POST", "/v1/sys/auth/token/tune",
                    {"max_lease_ttl": "%dh" % GO_MAX_HOURS, "default_lease_ttl": "%dh" % GO_MAX_HOURS})[0] == 204
    try:
        for body in ({"ttl": "%dh" % GO_MAX_HOURS}, {}, {"explicit_max_ttl": "%dh" % GO_MAX_HOURS},
                     {"period": "%dh" % GO_MAX_HOURS}):
            st, b = create_token(srv, **body)
            assert st == 200, (body, b)
            token = b["auth"]["client_token"]
            assert 0 < b["auth"]["lease_duration"] <= GO_MAX_HOURS * 3600, (body, b)
            assert works(srv, token), body
            st, look = srv.raw("GET", "/v1/auth/token/lookup-self", token)
            assert look["data"]["ttl"] > 0 and look["data"]["expire_time"] > "2200", (body, look["data"])
            st, r = srv.raw("PUT", "/v1/auth/token/renew-self", token, body={"increment": "%dh" % GO_MAX_HOURS})
            assert st == 200 and works(srv, token), (body, st, r)
    finally:
        assert srv.root("POST", "/v1/sys/auth/token/tune", {"max_lease_ttl": "768h", "default_lease_ttl": "768h"})[0] \
            == 204


def test_kv_delete_version_after_saturates(srv):
    assert srv.root("POST", "/v1/sys/mounts/kvd", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert srv.root("POST", "/v1/kvd/config", {"delete_version_after": "%dh" % GO_MAX_HOURS})[0] == 204
    st, b = srv.root("POST", "/v1/kvd/data/k", {"data": {"v": "1"}})
    assert st == 200, b
    st, b = srv.root("GET", "/v1/kvd/data/k")
    assert st == 200 and b["data"]["data"] == {"v": "1"}, (st, b)  # once read as deleted at once
    assert b["data"]["metadata"]["deletion_time"] > "2200", b
    st, b = srv.root("POST", "/v1/kvd/config", {"delete_version_after": "999999999999h"})
    assert st == 400, b
