"""The vault CLI's `kv` preflight (GET sys/internal/ui/mounts/<path as
typed>) and the Go client conventions every Go caller (CLI, ESO, CSI)
relies on: GET ?list=true, PUT writes, X-Vault-Request, and the status codes
its retry policy keys on."""
import pytest

from common import GoClient, harness


@pytest.fixture(scope="module")
def srv():
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal(s.keys)
    assert s.root("POST", "/v1/sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})[0] == 204
    # hvac sends the version as a number; the answer must still be the string.
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": 2}})[0] == 204
    assert s.root("PUT", "/v1/sys/policies/acl/only-kv1",
                  {"policy": 'path "kv1/app/*" { capabilities = ["read"] }'})[0] == 204
    yield s
    s.cleanup()


def token(s, policies):
    st, b = s.root("POST", "/v1/auth/token/create", {"policies": policies})
    assert st == 200, b
    return b["auth"]["client_token"]


def test_preflight_v1_v2_unknown_and_no_capability(srv):
    root = GoClient(srv, srv.root_token)
    st, b = root.read("sys/internal/ui/mounts/secret/foo/bar")
    assert st == 200, b
    assert b["data"]["path"] == "secret/" and b["data"]["type"] == "kv"
    assert b["data"]["options"]["version"] == "2"  # a string, or the CLI panics
    st, b = root.read("sys/internal/ui/mounts/kv1/app/x")
    assert st == 200 and b["data"]["path"] == "kv1/"
    assert (b["data"]["options"] or {}).get("version", "1") == "1"
    # Unknown mount: 403 with Vault's preflight message (the CLI aborts).
    st, b = root.read("sys/internal/ui/mounts/nope/x")
    assert st == 403 and "preflight capability check returned 403" in b["errors"][0]
    # A token with a capability somewhere under the mount may see it; one without may not.
    limited = GoClient(srv, token(srv, ["only-kv1"]))
    st, b = limited.read("sys/internal/ui/mounts/kv1/app/x")
    assert st == 200 and b["data"]["path"] == "kv1/"
    st, b = limited.read("sys/internal/ui/mounts/secret/foo")
    assert st == 403 and 'grant access to path "secret/foo/"' in b["errors"][0]
    # No token, or a bad one: 403.
    assert GoClient(srv).read("sys/internal/ui/mounts/secret/foo")[0] == 403
    assert GoClient(srv, "hvs.bogus").read("sys/internal/ui/mounts/secret/foo")[0] == 403


def test_go_client_conventions(srv):
    c = GoClient(srv, srv.root_token)
    for p in ("a", "b", "dir/c"):
        assert c.write("kv1/" + p, {"v": p})[0] == 204  # PUT writes
    st, via_get = c.list("kv1/")
    st2, via_list = c.call("LIST", "kv1/")
    assert st == st2 == 200 and via_get["data"] == via_list["data"]
    assert sorted(via_get["data"]["keys"]) == ["a", "b", "dir/"]
    for flag in ("True", "1"):  # legacy hvac and node-vault spellings
        assert c.call("GET", "kv1/", params={"list": flag})[1]["data"] == via_get["data"]
    # A KV v2 write answers 200 with JSON typed as Go decodes it.
    st, b = c.write("secret/data/x", {"data": {"k": "v"}, "options": {}})
    assert st == 200 and isinstance(b["data"]["version"], int) and isinstance(b["lease_duration"], int)
    assert b["wrap_info"] is None and isinstance(b["renewable"], bool)
    # Codes its retry policy keys on: deterministic failures are never 5xx.
    assert c.read("kv1/missing") == (404, {"errors": []})
    assert c.call("POST", "sys/mounts/bad", {"type": "no-such-engine"})[0] == 400
    assert GoClient(srv, "hvs.bogus").read("kv1/a")[0] == 403
    assert GoClient(srv, token(srv, ["only-kv1"])).read("kv1/a")[0] == 403
    # Sealed: 503 "Vault is sealed" (retried); sys/leader answers anyway with HA off, as Vault's does.
    assert c.write("sys/seal", {})[0] == 204
    st, b = c.read("kv1/a")
    assert st == 503 and b["errors"] == ["Vault is sealed"]
    st, b = c.read("sys/leader")
    assert st == 200 and b["ha_enabled"] is False
    srv.unseal(srv.keys)
    st, b = c.read("sys/leader")
    assert st == 200 and b["ha_enabled"] is False and "is_self" in b
