"""End to end: KV v1 and KV v2 through python3-hvac 0.11.2 and raw HTTPS
against the real `sealbox` binary (issue 3).

The server runs from a config file (RocksDB in a temp dir, its own CA), is
initialised with Shamir 3/5 and unsealed over the API, so a test can kill -9
it, start it again on the same data and unseal it. Covers: hvac
`secrets.kv.v1.*` and `secrets.kv.v2.*`, the 404 shapes of deleted and
destroyed versions, merge PATCH, subkeys, the Sealbox extensions (recursive
paginated LIST, move), persistence across kill -9, isolation of two mounts,
and bad input (CAS mismatch, over-size value, missing mount, dot segments).

Run: SEALBOX_BIN=build/server/sealbox python3 -m pytest tests/e2e/test_kv.py
"""

import time

import hvac
import pytest

import harness

MAX_ENTRY = 256 * 1024  # max_entry_size in the test config


class Server(harness.Server):
    """The shared harness server, initialised 5/3 and unsealed, with a small
    max_entry_size so the size limit is cheap to reach."""

    def __init__(self):
        super().__init__(extra_config="max_entry_size = %d" % MAX_ENTRY, log_level="warn")
        self.start()
        self.init()
        self.unseal()

    def client(self, token="root"):
        return self.hvac(token=None if token == "root" else token)

    def restart_after_kill9(self):
        self.kill9()
        self.start()
        self.unseal()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def client(server):
    return server.client()


def enable(server, path, typ="kv", options=None):
    body = {"type": typ}
    if options is not None:
        body["options"] = options
    st, resp = server.root("POST", "/v1/sys/mounts/" + path, body)
    assert st == 204, resp


# ------------------------------------------------------------------ KV v1


def test_kv_v1_through_hvac(server, client):
    client.sys.enable_secrets_engine("kv", path="kv1", options={"version": 1})
    kv = client.secrets.kv.v1
    kv.create_or_update_secret("app/db", {"password": "p1", "nested": {"a": [1, 2]}}, mount_point="kv1")
    kv.create_or_update_secret("app/cache", {"ttl": "1h", "v": "c"}, mount_point="kv1")
    kv.create_or_update_secret("app/sub/deep", {"v": "d"}, mount_point="kv1")
    kv.create_or_update_secret("top", {"v": "t"}, mount_point="kv1")

    r = kv.read_secret("app/db", mount_point="kv1")
    assert r["data"] == {"password": "p1", "nested": {"a": [1, 2]}}
    assert r["lease_id"] == "" and r["renewable"] is False
    assert r["lease_duration"] == 2764800  # system default when no ttl key
    r = kv.read_secret("app/cache", mount_point="kv1")
    assert r["lease_duration"] == 3600 and r["data"]["ttl"] == "1h"

    assert kv.list_secrets("app", mount_point="kv1")["data"]["keys"] == ["cache", "db", "sub/"]
    assert kv.list_secrets("", mount_point="kv1")["data"]["keys"] == ["app/", "top"]

    # Write replaces, never merges (PUT since it exists).
    kv.create_or_update_secret("app/db", {"user": "u"}, mount_point="kv1")
    assert kv.read_secret("app/db", mount_point="kv1")["data"] == {"user": "u"}

    kv.delete_secret("app/db", mount_point="kv1")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret("app/db", mount_point="kv1")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.list_secrets("nothing", mount_point="kv1")

    # Raw: write is 204, empty body is 400, delete of a missing key is 204.
    st, _ = server.root("POST", "/v1/kv1/raw", {"a": "b"})
    assert st == 204
    st, body = server.root("POST", "/v1/kv1/raw2", {})
    assert st == 400 and body["errors"] == ["missing data fields"]
    st, _ = server.root("DELETE", "/v1/kv1/never-there")
    assert st == 204
    # On a v1 mount, data/foo is an ordinary key.
    st, _ = server.root("POST", "/v1/kv1/data/foo", {"x": "y"})
    assert st == 204
    st, body = server.root("GET", "/v1/kv1/data/foo")
    assert st == 200 and body["data"] == {"x": "y"}


def test_kv_v1_recursive_list(server):
    enable(server, "kv1rec", options={"version": "1"})
    for k in ["a", "b/c", "b/d/e", "f"]:
        assert server.root("PUT", "/v1/kv1rec/" + k, {"v": 1})[0] == 204
    st, body = server.root("LIST", "/v1/kv1rec/?recursive=true")
    assert st == 200 and body["data"]["keys"] == ["a", "b/c", "b/d/e", "f"]
    st, body = server.root("GET", "/v1/kv1rec/b?list=true&recursive=true&limit=1")
    assert body["data"] == {"keys": ["c"], "next_after": "c"}
    st, body = server.root("GET", "/v1/kv1rec/b/?list=true&recursive=true&after=c")
    assert body["data"] == {"keys": ["d/e"]}


def test_list_flag_spellings(server):
    """GET ?list= as the Go clients (true), legacy hvac (True) and node-vault (1) spell it, all as LIST."""
    enable(server, "kv1spell", options={"version": "1"})
    for k in ["a", "dir/b"]:
        assert server.root("PUT", "/v1/kv1spell/" + k, {"v": 1})[0] == 204
    st, via_list = server.root("LIST", "/v1/kv1spell/")
    assert st == 200 and via_list["data"] == {"keys": ["a", "dir/"]}
    for flag in ("true", "True", "1"):
        assert server.root("GET", "/v1/kv1spell/?list=" + flag)[1]["data"] == via_list["data"], flag


# ------------------------------------------------------------------ KV v2


def test_kv_v2_through_hvac(server, client):
    client.sys.enable_secrets_engine("kv", path="kv2", options={"version": "2"})
    kv = client.secrets.kv.v2
    kv.configure(max_versions=5, cas_required=False, mount_point="kv2")
    cfg = kv.read_configuration(mount_point="kv2")["data"]
    assert cfg == {"max_versions": 5, "cas_required": False, "delete_version_after": "0s"}

    w = kv.create_or_update_secret("app", {"k": "v1"}, cas=0, mount_point="kv2")
    assert w["data"]["version"] == 1 and w["data"]["deletion_time"] == "" and w["data"]["destroyed"] is False
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        kv.create_or_update_secret("app", {"k": "again"}, cas=0, mount_point="kv2")
    assert "check-and-set parameter did not match the current version" in str(e.value)
    kv.create_or_update_secret("app", {"k": "v2", "other": "o"}, cas=1, mount_point="kv2")
    kv.create_or_update_secret("app", {"k": "v3", "other": "o"}, mount_point="kv2")

    r = kv.read_secret_version("app", mount_point="kv2")
    assert r["data"]["data"] == {"k": "v3", "other": "o"}
    assert r["data"]["metadata"]["version"] == 3
    assert r["lease_duration"] == 0
    assert kv.read_secret_version("app", version=1, mount_point="kv2")["data"]["data"] == {"k": "v1"}

    # hvac's patch is read + write with cas.
    kv.patch("app", {"k": "v4"}, mount_point="kv2")
    r = kv.read_secret_version("app", mount_point="kv2")
    assert r["data"]["data"] == {"k": "v4", "other": "o"} and r["data"]["metadata"]["version"] == 4

    kv.create_or_update_secret("team/x", {"a": 1}, mount_point="kv2")
    assert kv.list_secrets("", mount_point="kv2")["data"]["keys"] == ["app", "team/"]
    assert kv.list_secrets("team", mount_point="kv2")["data"]["keys"] == ["x"]

    # Soft delete of the latest: hvac raises, the raw body carries metadata.
    kv.delete_latest_version_of_secret("app", mount_point="kv2")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_version("app", mount_point="kv2")
    st, body = server.root("GET", "/v1/kv2/data/app")
    assert st == 404
    assert body["data"]["data"] is None
    assert body["data"]["metadata"]["version"] == 4
    assert body["data"]["metadata"]["deletion_time"] != ""
    assert body["data"]["metadata"]["destroyed"] is False

    kv.delete_secret_versions("app", [1, 2], mount_point="kv2")
    assert server.root("GET", "/v1/kv2/data/app?version=2")[0] == 404
    kv.undelete_secret_versions("app", [2, 4], mount_point="kv2")
    assert kv.read_secret_version("app", mount_point="kv2")["data"]["data"]["k"] == "v4"
    assert kv.read_secret_version("app", version=2, mount_point="kv2")["data"]["data"]["k"] == "v2"

    kv.destroy_secret_versions("app", [3], mount_point="kv2")
    st, body = server.root("GET", "/v1/kv2/data/app?version=3")
    assert st == 404 and body["data"]["data"] is None and body["data"]["metadata"]["destroyed"] is True

    md = kv.read_secret_metadata("app", mount_point="kv2")["data"]
    assert md["current_version"] == 4 and md["oldest_version"] == 0
    assert set(md["versions"]) == {"1", "2", "3", "4"}
    assert md["versions"]["1"]["deletion_time"] != "" and md["versions"]["3"]["destroyed"] is True
    assert md["delete_version_after"] == "0s" and md["custom_metadata"] is None
    assert md["updated_time"] == md["versions"]["4"]["created_time"]

    kv.update_metadata("app", max_versions=3, cas_required=True, mount_point="kv2")
    md = kv.read_secret_metadata("app", mount_point="kv2")["data"]
    assert md["max_versions"] == 3 and md["cas_required"] is True
    with pytest.raises(hvac.exceptions.InvalidRequest) as e:
        kv.create_or_update_secret("app", {"k": "v5"}, mount_point="kv2")
    assert "check-and-set parameter required for this call" in str(e.value)
    kv.create_or_update_secret("app", {"k": "v5"}, cas=4, mount_point="kv2")
    md = kv.read_secret_metadata("app", mount_point="kv2")["data"]
    # The effective max_versions is max(key 3, mount 5) = 5: the 5th write
    # prunes nothing yet but moves oldest_version to 1.
    assert sorted(md["versions"]) == ["1", "2", "3", "4", "5"] and md["oldest_version"] == 1
    kv.delete_metadata_and_all_versions("app", mount_point="kv2")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret_metadata("app", mount_point="kv2")
    # After a metadata delete, cas:0 works again.
    assert kv.create_or_update_secret("app", {"k": "new"}, cas=0, mount_point="kv2")["data"]["version"] == 1


def test_kv_v2_raw_patch_subkeys_metadata(server):
    enable(server, "kv2raw", "kv-v2")
    st, body = server.root("POST", "/v1/kv2raw/data/p", {"data": {"a": 1, "b": {"c": 2, "d": 3}, "gone": "x"}})
    assert st == 200 and body["data"]["version"] == 1
    merge = {"Content-Type": "application/merge-patch+json"}
    st, body = server.root("PATCH", "/v1/kv2raw/data/p", {"data": {"b": {"c": None}, "gone": None, "n": "y"}}, merge)
    assert st == 200 and body["data"]["version"] == 2, body
    st, body = server.root("GET", "/v1/kv2raw/data/p")
    assert body["data"]["data"] == {"a": 1, "b": {"d": 3}, "n": "y"}
    st, body = server.root("PATCH", "/v1/kv2raw/data/p", {"data": {"a": 2}}, {"Content-Type": "application/json"})
    assert st == 415
    st, body = server.root("PATCH", "/v1/kv2raw/data/missing", {"data": {"a": 2}}, merge)
    assert st == 404 and body is None  # empty body
    st, body = server.root("PATCH", "/v1/kv2raw/data/p", {"data": {"a": 2}, "options": {"cas": 1}}, merge)
    assert st == 400 and body["errors"] == ["check-and-set parameter did not match the current version"]

    st, body = server.root("GET", "/v1/kv2raw/subkeys/p?depth=1")
    assert st == 200 and body["data"]["subkeys"] == {"a": None, "b": None, "n": None}
    st, body = server.root("GET", "/v1/kv2raw/subkeys/p")
    assert body["data"]["subkeys"] == {"a": None, "b": {"d": None}, "n": None}
    assert body["data"]["metadata"]["version"] == 2

    # Metadata before data (ESO PushSecret), custom_metadata limits, PATCH.
    st, _ = server.root("PUT", "/v1/kv2raw/metadata/eso", {"custom_metadata": {"managed-by": "external-secrets"}})
    assert st == 204
    st, body = server.root("PUT", "/v1/kv2raw/data/eso", {"data": {"v": 1}, "options": {"cas": 0}})
    assert st == 200 and body["data"]["custom_metadata"] == {"managed-by": "external-secrets"}
    too_many = {"k%d" % i: "v" for i in range(65)}
    st, body = server.root("PUT", "/v1/kv2raw/metadata/eso", {"custom_metadata": too_many})
    assert st == 400 and "custom_metadata validation failed" in body["errors"][0]
    st, _ = server.root("PATCH", "/v1/kv2raw/metadata/eso",
                        {"custom_metadata": {"managed-by": None, "team": "a"}, "max_versions": 7}, merge)
    assert st == 204
    st, body = server.root("GET", "/v1/kv2raw/metadata/eso")
    assert body["data"]["custom_metadata"] == {"team": "a"} and body["data"]["max_versions"] == 7
    st, body = server.root("PATCH", "/v1/kv2raw/metadata/nothere", {"max_versions": 1}, merge)
    assert st == 404 and body is None

    # v1-style paths on a v2 mount: 404 with a warning, nothing written.
    st, body = server.root("PUT", "/v1/kv2raw/plain", {"a": "b"})
    assert st == 404 and body["data"] is None
    assert "vault kv put" in body["warnings"][0]
    st, body = server.root("GET", "/v1/kv2raw/metadata")
    assert st == 404 and body["warnings"] == ["Non-listing operations on the root of a K/V v2 mount are not supported."]
    st, body = server.root("LIST", "/v1/kv2raw/metadata/")
    assert st == 200 and body["data"]["keys"] == ["eso", "p"]


def test_kv_v2_delete_version_after(server):
    enable(server, "kv2dva", options={"version": "2"})
    assert server.root("POST", "/v1/kv2dva/config", {"delete_version_after": "2s"})[0] == 204
    st, body = server.root("GET", "/v1/kv2dva/config")
    assert body["data"]["delete_version_after"] == "2s"
    st, body = server.root("POST", "/v1/kv2dva/data/t", {"data": {"v": 1}})
    assert body["data"]["deletion_time"] != ""
    assert server.root("GET", "/v1/kv2dva/data/t")[0] == 200
    time.sleep(2.5)
    st, body = server.root("GET", "/v1/kv2dva/data/t")
    assert st == 404 and body["data"]["data"] is None and body["data"]["metadata"]["deletion_time"] != ""


def test_kv_v2_recursive_list_and_move(server):
    enable(server, "kv2x", "kv-v2")
    keys = []
    for i in range(4):
        for j in range(4):
            k = "team%d/app%d" % (i, j) + ("/deep" if j == 3 else "")
            keys.append(k)
            assert server.root("POST", "/v1/kv2x/data/root/" + k, {"data": {"v": 1}})[0] == 200
    got, after, pages = [], None, 0
    while True:
        q = "?recursive=true&limit=5" + ("&after=" + after if after else "")
        st, body = server.root("LIST", "/v1/kv2x/metadata/root/" + q)
        assert st == 200
        pages += 1
        got += body["data"]["keys"]
        after = body["data"].get("next_after")
        if not after:
            break
    assert got == sorted(keys) and pages == 4

    server.root("POST", "/v1/kv2x/data/src", {"data": {"v": 1}})
    server.root("POST", "/v1/kv2x/data/src", {"data": {"v": 2}})
    server.root("POST", "/v1/kv2x/data/dst-taken", {"data": {"v": 9}})
    st, body = server.root("POST", "/v1/kv2x/move", {"from": "src", "to": "dst-taken"})
    assert st == 400 and "never overwrites" in body["errors"][0]
    st, _ = server.root("POST", "/v1/kv2x/move", {"from": "src", "to": "moved/here"})
    assert st == 204
    assert server.root("GET", "/v1/kv2x/data/src")[0] == 404
    st, body = server.root("GET", "/v1/kv2x/data/moved/here?version=1")
    assert st == 200 and body["data"]["data"] == {"v": 1}
    st, body = server.root("GET", "/v1/kv2x/data/moved/here")
    assert body["data"]["data"] == {"v": 2} and body["data"]["metadata"]["version"] == 2
    st, body = server.root("POST", "/v1/kv2x/move", {"from": "nope", "to": "x"})
    assert st == 404
    st, body = server.root("POST", "/v1/kv2x/move", {"from": "moved/here", "to": "a/../b"})
    assert st == 400


# ------------------------------------------------------------ isolation, bad input


def test_two_mounts_are_isolated(server, client):
    enable(server, "iso-a", "kv-v2")
    enable(server, "iso-b", "kv-v2")
    client.secrets.kv.v2.create_or_update_secret("same", {"who": "a"}, mount_point="iso-a")
    client.secrets.kv.v2.create_or_update_secret("same", {"who": "b"}, mount_point="iso-b")
    assert client.secrets.kv.v2.read_secret_version("same", mount_point="iso-a")["data"]["data"] == {"who": "a"}
    assert client.secrets.kv.v2.read_secret_version("same", mount_point="iso-b")["data"]["data"] == {"who": "b"}
    enable(server, "iso-c", options={"version": "1"})
    enable(server, "iso-d", options={"version": "1"})
    server.root("POST", "/v1/iso-c/same", {"who": "c"})
    server.root("POST", "/v1/iso-d/same", {"who": "d"})
    assert server.root("GET", "/v1/iso-c/same")[1]["data"] == {"who": "c"}
    assert server.root("GET", "/v1/iso-d/same")[1]["data"] == {"who": "d"}


def test_bad_input(server):
    enable(server, "bad", "kv-v2")
    enable(server, "bad1", options={"version": "1"})
    big = "x" * (MAX_ENTRY + 1024)
    st, body = server.root("POST", "/v1/bad/data/big", {"data": {"v": big}})
    assert st == 413 and "too large" in body["errors"][0]
    assert server.root("GET", "/v1/bad/metadata/big")[0] == 404  # nothing written
    st, body = server.root("POST", "/v1/bad1/big", {"v": big})
    assert st == 413
    assert server.root("GET", "/v1/bad1/big")[0] == 404
    # Just under the limit works.
    st, _ = server.root("POST", "/v1/bad/data/fits", {"data": {"v": "x" * (MAX_ENTRY - 1024)}})
    assert st == 200

    st, body = server.root("POST", "/v1/no-such-mount/data/x", {"data": {"a": 1}})
    assert st == 404 and "no handler for route" in body["errors"][0]

    for path in ["/v1/bad/data/ok/../../sys/mounts", "/v1/bad/data/%2e%2e/x", "/v1/bad/data/a//b",
                 "/v1/bad/data/./x", "/v1/bad/data/%2E%2E/x"]:
        st, _ = server.root("GET", path)
        assert st == 400, path
        st, _ = server.root("POST", path, {"data": {"a": 1}})
        assert st == 400, path

    st, body = server.root("POST", "/v1/bad/data/c", {"data": {"a": 1}, "options": {"cas": "nope"}})
    assert st == 400 and body["errors"] == ["error parsing check-and-set parameter"]
    st, body = server.root("POST", "/v1/bad/data/c", {"options": {"cas": 0}})
    assert st == 400 and body["errors"] == ["no data provided"]
    st, body = server.root("POST", "/v1/bad/delete/c", {})
    assert st == 400 and body["errors"] == ["No version number provided"]


# ------------------------------------------------------------------ persistence


def test_every_acknowledged_version_survives_kill9(server):
    enable(server, "dur2", "kv-v2")
    enable(server, "dur1", options={"version": "1"})
    acked = {}
    for i in range(30):
        key = "k%d" % (i % 6)
        st, body = server.root("POST", "/v1/dur2/data/" + key, {"data": {"i": i}})
        assert st == 200
        acked[(key, body["data"]["version"])] = i
        assert server.root("PUT", "/v1/dur1/" + key, {"i": i})[0] == 204
    server.root("POST", "/v1/dur2/delete/k0", {"versions": [1]})
    server.root("POST", "/v1/dur2/destroy/k1", {"versions": [2]})

    server.restart_after_kill9()

    for (key, version), i in acked.items():
        st, body = server.root("GET", "/v1/dur2/data/%s?version=%d" % (key, version))
        if (key, version) == ("k0", 1):
            assert st == 404 and body["data"]["metadata"]["deletion_time"] != ""
        elif (key, version) == ("k1", 2):
            assert st == 404 and body["data"]["metadata"]["destroyed"] is True
        else:
            assert st == 200, (key, version, body)
            assert body["data"]["data"] == {"i": i}
    for j in range(6):
        st, body = server.root("GET", "/v1/dur1/k%d" % j)
        assert st == 200 and body["data"]["i"] == 24 + j
    # The mount table came back too.
    st, body = server.root("GET", "/v1/sys/mounts")
    assert body["data"]["dur2/"]["options"] == {"version": "2"}
