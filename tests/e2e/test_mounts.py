"""End to end: the mount table API (sys/mounts, tune, remount) and the
`vault kv` preflight sys/internal/ui/mounts, through python3-hvac 0.11.2 and
raw HTTPS against the real `sealbox` binary (issue 3).

Run: SEALBOX_BIN=build/server/sealbox python3 -m pytest tests/e2e/test_mounts.py
"""

import hvac
import pytest

from test_kv import Server, enable  # the same config-file server helper


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def client(server):
    return server.client()


def test_list_shows_builtins_with_top_level_copy(server, client):
    st, body = server.root("GET", "/v1/sys/mounts")
    assert st == 200
    for path, typ in [("cubbyhole/", "cubbyhole"), ("identity/", "identity"), ("sys/", "system")]:
        assert body["data"][path]["type"] == typ
        assert body[path] == body["data"][path]  # top-level injection for old clients
    sys_info = body["data"]["sys/"]
    for field in ["accessor", "config", "description", "external_entropy_access", "local", "options",
                  "seal_wrap", "uuid", "plugin_version", "running_plugin_version"]:
        assert field in sys_info
    assert sys_info["accessor"].startswith("system_")
    assert "token/" not in body["data"]  # auth mounts live in sys/auth
    assert "sys/" in client.sys.list_mounted_secrets_engines()["data"]


def test_deprecation_status_only_for_registry_plugins(server):
    # Vault reports it for plugins in its builtin registry, not for its own backends.
    enable(server, "depkv", "kv")
    _, mounts = server.root("GET", "/v1/sys/mounts")
    for path in ("sys/", "cubbyhole/", "identity/"):
        assert "deprecation_status" not in mounts["data"][path]
    assert mounts["data"]["depkv/"]["deprecation_status"] == "supported"
    _, auths = server.root("GET", "/v1/sys/auth")
    assert "deprecation_status" not in auths["data"]["token/"]


def test_enable_read_aliases_and_option_strings(server, client):
    client.sys.enable_secrets_engine("kv", path="hv1", options={"version": 1})
    enable(server, "v2alias", "kv-v2")
    enable(server, "v1alias", "kv-v1")
    enable(server, "plainkv", "kv")
    st, body = server.root("POST", "/v1/sys/mounts/gen", {"type": "generic", "description": "old name"})
    assert st == 204
    st, body = server.root("GET", "/v1/sys/mounts")
    data = body["data"]
    assert data["hv1/"]["type"] == "kv" and data["hv1/"]["options"] == {"version": "1"}
    assert data["v2alias/"]["type"] == "kv" and data["v2alias/"]["options"] == {"version": "2"}
    assert data["v1alias/"]["options"] == {"version": "1"}
    assert data["plainkv/"]["options"] == {}  # as Vault and OpenBao (tests/conformance)
    assert data["gen/"]["type"] == "kv" and data["gen/"]["description"] == "old name"
    assert data["v2alias/"]["accessor"].startswith("kv_") and len(data["v2alias/"]["accessor"]) == 11
    assert data["v2alias/"]["config"] == {"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": False}

    st, body = server.root("GET", "/v1/sys/mounts/v2alias")
    assert st == 200 and body["data"]["type"] == "kv" and body["type"] == "kv"
    st, body = server.root("GET", "/v1/sys/mounts/not-mounted")
    assert st == 400

    # Config on enable: durations, ints and "system".
    st, _ = server.root("POST", "/v1/sys/mounts/ttl", {"type": "kv-v2",
                                                       "config": {"default_lease_ttl": "1h", "max_lease_ttl": 7200}})
    assert st == 204
    st, body = server.root("GET", "/v1/sys/mounts/ttl")
    assert body["data"]["config"]["default_lease_ttl"] == 3600 and body["data"]["config"]["max_lease_ttl"] == 7200
    st, _ = server.root("POST", "/v1/sys/mounts/ttl2", {"type": "kv", "config": {"default_lease_ttl": "system"}})
    assert st == 204


def test_enable_errors(server):
    st, body = server.root("POST", "/v1/sys/mounts/notype", {})
    assert st == 400 and body["errors"] == ["backend type must be specified as a string"]
    st, body = server.root("POST", "/v1/sys/mounts/notype", {"type": 5})
    assert st == 400 and body["errors"] == ["backend type must be specified as a string"]
    st, body = server.root("POST", "/v1/sys/mounts/weird", {"type": "nope"})
    assert st == 400 and body["errors"] == ["plugin not found in the catalog"]
    st, body = server.root("POST", "/v1/sys/mounts/cub2", {"type": "cubbyhole", "options": {"version": "2"}})
    assert st == 400 and "does not allow setting a version" in body["errors"][0]
    st, body = server.root("POST", "/v1/sys/mounts/badttl",
                           {"type": "kv", "config": {"default_lease_ttl": "10h", "max_lease_ttl": "1h"}})
    assert st == 400 and body["errors"] == ["given default lease TTL greater than given max lease TTL"]

    for reserved in ["sys", "sys/x", "auth/foo", "cubbyhole", "identity"]:
        st, body = server.root("POST", "/v1/sys/mounts/" + reserved, {"type": "kv"})
        assert st == 400, reserved  # as Vault and OpenBao (tests/conformance)
        path = reserved + "/"
        assert body["errors"] == ['cannot mount "%s"' % path], body

    enable(server, "taken", "kv-v2")
    st, body = server.root("POST", "/v1/sys/mounts/taken", {"type": "kv"})
    assert st == 400 and body["errors"] == ["path is already in use at taken/"]
    st, body = server.root("POST", "/v1/sys/mounts/taken/nested", {"type": "kv"})
    assert st == 400
    enable(server, "outer/inner", "kv-v2")
    st, body = server.root("POST", "/v1/sys/mounts/outer", {"type": "kv"})
    assert st == 400


def test_tune(server, client):
    enable(server, "tuned", "kv-v2")
    st, body = server.root("GET", "/v1/sys/mounts/tuned/tune")
    assert st == 200
    assert body["data"]["default_lease_ttl"] == 2764800 and body["data"]["max_lease_ttl"] == 2764800
    assert body["data"]["options"] == {"version": "2"} and body["default_lease_ttl"] == 2764800
    client.sys.tune_mount_configuration("tuned", default_lease_ttl="1h", max_lease_ttl=7200,
                                        description="tuned up", listing_visibility="unauth",
                                        audit_non_hmac_request_keys=["a"])
    st, body = server.root("GET", "/v1/sys/mounts/tuned/tune")
    d = body["data"]
    assert d["default_lease_ttl"] == 3600 and d["max_lease_ttl"] == 7200 and d["description"] == "tuned up"
    assert d["listing_visibility"] == "unauth" and d["audit_non_hmac_request_keys"] == ["a"]
    st, body = server.root("GET", "/v1/sys/mounts")
    assert body["data"]["tuned/"]["config"]["default_lease_ttl"] == 3600  # stored value in the listing
    assert body["data"]["tuned/"]["description"] == "tuned up"
    # The hvac read helper.
    assert client.sys.read_mount_configuration("tuned")["data"]["max_lease_ttl"] == 7200

    st, body = server.root("POST", "/v1/sys/mounts/tuned/tune", {"listing_visibility": "bogus"})
    assert st == 400
    st, body = server.root("POST", "/v1/sys/mounts/tuned/tune", {"default_lease_ttl": "3h"})
    assert st == 400 and body["errors"] == ["given default lease TTL greater than given max lease TTL"]
    st, body = server.root("POST", "/v1/sys/mounts/tuned/tune", {"options": {"version": "1"}})
    assert st == 400 and "downgrade" in body["errors"][0]
    st, body = server.root("GET", "/v1/sys/mounts/nothing-here/tune")
    assert st == 400 and body["errors"] == ['cannot fetch sysview for path "nothing-here/"']
    st, body = server.root("POST", "/v1/sys/mounts/nothing-here/tune", {"description": "x"})
    assert st == 400
    # An empty TTL keeps the current one (the Go client's TuneMount sends both).
    st, _ = server.root("POST", "/v1/sys/mounts/tuned/tune", {"default_lease_ttl": "30m", "max_lease_ttl": ""})
    assert st == 204
    st, body = server.root("GET", "/v1/sys/mounts/tuned/tune")
    assert body["data"]["default_lease_ttl"] == 1800 and body["data"]["max_lease_ttl"] == 7200
    # "system" resets a TTL to the system default.
    st, _ = server.root("POST", "/v1/sys/mounts/tuned/tune", {"default_lease_ttl": "system", "max_lease_ttl": 0})
    assert st == 204
    st, body = server.root("GET", "/v1/sys/mounts/tuned/tune")
    assert body["data"]["default_lease_ttl"] == 2764800


def test_kv_v1_ttl_follows_mount_default(server):
    enable(server, "ttlv1", options={"version": "1"})
    server.root("POST", "/v1/sys/mounts/ttlv1/tune", {"default_lease_ttl": "30m"})
    server.root("PUT", "/v1/ttlv1/k", {"v": 1})
    assert server.root("GET", "/v1/ttlv1/k")[1]["lease_duration"] == 1800


def test_upgrade_v1_to_v2_by_tune(server):
    enable(server, "upg", options={"version": "1"})
    server.root("PUT", "/v1/upg/a/b", {"x": "1"})
    server.root("PUT", "/v1/upg/c", {"y": "2"})
    st, body = server.root("POST", "/v1/sys/mounts/upg/tune", {"options": {"version": "2"}})
    assert st == 200 and "Upgrading mount from version 1 to version 2" in body["warnings"][0]
    st, body = server.root("GET", "/v1/upg/data/a/b")
    assert st == 200 and body["data"]["data"] == {"x": "1"} and body["data"]["metadata"]["version"] == 1
    st, body = server.root("LIST", "/v1/upg/metadata/")
    assert body["data"]["keys"] == ["a/", "c"]
    st, body = server.root("GET", "/v1/sys/internal/ui/mounts/upg")
    assert body["data"]["options"]["version"] == "2"


def test_disable(server, client):
    enable(server, "gone", "kv-v2")
    server.root("POST", "/v1/gone/data/k", {"data": {"v": 1}})
    client.sys.disable_secrets_engine("gone")
    st, body = server.root("GET", "/v1/gone/data/k")
    assert st == 404 and "no handler for route" in body["errors"][0]
    # Remounting at the same path starts empty: disable deleted the data.
    enable(server, "gone", "kv-v2")
    assert server.root("GET", "/v1/gone/data/k")[0] == 404
    st, _ = server.root("DELETE", "/v1/sys/mounts/never-mounted")
    assert st == 204
    for builtin in ["sys", "cubbyhole", "identity"]:
        st, body = server.root("DELETE", "/v1/sys/mounts/" + builtin)
        assert st == 400 and body["errors"] == ['cannot unmount "%s/"' % builtin]


def test_remount_moves_data(server, client):
    enable(server, "from-here", "kv-v2")
    server.root("POST", "/v1/from-here/data/k", {"data": {"v": "moved"}})
    st, body = server.root("POST", "/v1/sys/remount", {"from": "from-here", "to": "to-there"})
    assert st == 200 and body["data"]["migration_id"] and body["migration_id"] == body["data"]["migration_id"]
    st, status = server.root("GET", "/v1/sys/remount/status/" + body["data"]["migration_id"])
    assert st == 200 and status["data"]["migration_info"]["status"] == "success"
    assert server.root("GET", "/v1/from-here/data/k")[0] == 404
    st, body = server.root("GET", "/v1/to-there/data/k")
    assert st == 200 and body["data"]["data"] == {"v": "moved"}
    st, body = server.root("GET", "/v1/sys/mounts")
    assert "to-there/" in body["data"] and "from-here/" not in body["data"]
    # hvac's helper.
    client.sys.move_backend("to-there", "again")
    assert server.root("GET", "/v1/again/data/k")[0] == 200

    enable(server, "occupied", "kv-v2")
    st, body = server.root("POST", "/v1/sys/remount", {"from": "again", "to": "occupied"})
    assert st == 400 and body["errors"] == ['path already in use at "occupied/"'], body
    st, body = server.root("POST", "/v1/sys/remount", {"from": "sys", "to": "elsewhere"})
    assert st == 400
    st, body = server.root("POST", "/v1/sys/remount", {"from": "again", "to": "sys/x"})
    assert st == 400
    st, body = server.root("POST", "/v1/sys/remount", {"from": "missing", "to": "x"})
    assert st == 400
    st, body = server.root("POST", "/v1/sys/remount", {"from": "again"})
    assert st == 400


def test_preflight_internal_ui_mounts(server, client):
    client.sys.enable_secrets_engine("kv", path="pre1", options={"version": 1})
    enable(server, "pre2", "kv-v2")
    enable(server, "pre0", "kv")

    st, body = server.root("GET", "/v1/sys/internal/ui/mounts/pre2/some/secret")
    assert st == 200
    assert body["data"]["path"] == "pre2/" and body["data"]["type"] == "kv"
    assert body["data"]["options"] == {"version": "2"}
    st, body = server.root("GET", "/v1/sys/internal/ui/mounts/pre1/x")
    assert st == 200 and body["data"]["options"]["version"] == "1" and body["data"]["path"] == "pre1/"
    st, body = server.root("GET", "/v1/sys/internal/ui/mounts/pre0")
    assert st == 200 and body["data"]["options"] == {}  # no version: the CLI reads that as v1
    # Mounted with the version as a number (hvac 2.x sends one): still a string, or the CLI panics.
    assert server.root("POST", "/v1/sys/mounts/pre2n", {"type": "kv", "options": {"version": 2}})[0] == 204
    st, body = server.root("GET", "/v1/sys/internal/ui/mounts/pre2n/x")
    assert st == 200 and body["data"]["options"] == {"version": "2"}

    st, body = server.root("GET", "/v1/sys/internal/ui/mounts/unknown/path")
    assert st == 403
    assert body["errors"] == ["preflight capability check returned 403, please ensure client's policies "
                              'grant access to path "unknown/path/"']
    st, body = server.raw("GET", "/v1/sys/internal/ui/mounts/pre2")
    assert st == 403 and "permission denied" in body["errors"][0]
    st, body = server.raw("GET", "/v1/sys/internal/ui/mounts/pre2", token="hvs.not-a-real-token")
    assert st == 403

    # The mount list: full info with a token, only unauth-visible mounts without.
    st, body = server.root("GET", "/v1/sys/internal/ui/mounts")
    assert st == 200 and "pre2/" in body["data"]["secret"] and "token/" in body["data"]["auth"]
    server.root("POST", "/v1/sys/mounts/pre1/tune", {"listing_visibility": "unauth"})
    st, body = server.raw("GET", "/v1/sys/internal/ui/mounts")
    assert st == 200 and "pre1/" in body["data"]["secret"] and "pre2/" not in body["data"]["secret"]
    assert body["data"]["secret"]["pre1/"]["type"] == "kv"


def test_preflight_with_a_limited_token(server):
    policy = 'path "pre-lim/data/app/*" { capabilities = ["read"] }\n'
    st, _ = server.root("PUT", "/v1/sys/policies/acl/pre-lim-reader", {"policy": policy})
    if st == 404:
        pytest.skip("sys/policies/acl is not available in this build")
    st, body = server.root("POST", "/v1/auth/token/create", {"policies": ["pre-lim-reader"]})
    if st in (404, 405):
        pytest.skip("auth/token/create is not available in this build")
    assert st == 200, body
    token = body["auth"]["client_token"]
    enable(server, "pre-lim", "kv-v2")
    enable(server, "pre-other", "kv-v2")
    st, body = server.raw("GET", "/v1/sys/internal/ui/mounts/pre-lim/app/x", token=token)
    assert st == 200 and body["data"]["path"] == "pre-lim/" and body["data"]["options"]["version"] == "2"
    st, body = server.raw("GET", "/v1/sys/internal/ui/mounts/pre-other/app/x", token=token)
    assert st == 403 and "preflight capability check returned 403" in body["errors"][0]
    # The list shows only what the token can reach.
    st, body = server.raw("GET", "/v1/sys/internal/ui/mounts", token=token)
    assert st == 200 and "pre-lim/" in body["data"]["secret"] and "pre-other/" not in body["data"]["secret"]
