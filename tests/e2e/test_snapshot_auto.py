"""Scheduled snapshots (issue 24; Vault Enterprise's sys/storage/raft/snapshot-auto):
a 1 s schedule against the real binary writes files that restore, keeps exactly
`retain` of them, reports its times and errors, and refuses what it cannot do."""

import os
import re
import stat
import time

import pytest

import harness
from harness import Server, wait_until

AUTO = "/v1/sys/storage/raft/snapshot-auto"
ZERO_TIME = "0001-01-01T00:00:00Z"


@pytest.fixture
def vault():
    s = Server(log_level="info").start()
    s.init(1, 1)
    s.unseal(s.keys[:1])
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    yield s
    s.cleanup()


def snapshot_files(directory, prefix):
    """{unix nanoseconds: path} of the finished snapshot files."""
    if not os.path.isdir(directory):
        return {}
    out = {}
    for name in os.listdir(directory):
        m = re.fullmatch(re.escape(prefix) + r"-(\d+)\.snap", name)
        if m:
            out[int(m.group(1))] = os.path.join(directory, name)
    return out


def status(s, name):
    st, body = s.root("GET", AUTO + "/status/" + name)
    assert st == 200, body
    return body["data"]


def put(s, key, value):
    st, body = s.root("POST", "/v1/secret/data/" + key, {"data": {"v": value}})
    assert st == 200, body


def get(s, key):
    st, body = s.root("GET", "/v1/secret/data/" + key)
    return body["data"]["data"]["v"] if st == 200 else None


def test_schedule_writes_files_that_restore_and_keeps_retain(vault):
    s = vault
    d = os.path.join(s.dir, "snaps")
    cfg = {"interval": "1s", "retain": 2, "path_prefix": d, "file_prefix": "sb", "storage_type": "local"}
    assert s.root("POST", AUTO + "/config/every-second", cfg)[0] == 204
    st, body = s.root("GET", AUTO + "/config/every-second")
    assert st == 200, body
    assert body["data"] == {"interval": 1, "retain": 2, "path_prefix": d, "file_prefix": "sb",
                            "storage_type": "local", "local_max_space": 0}
    st, body = s.root("LIST", AUTO + "/config")
    assert st == 200 and body["data"]["keys"] == ["every-second"], body

    put(s, "k", "before")
    after_put = time.time_ns()
    # A snapshot started after the write holds it; read it before retention removes it.
    wait_until(lambda: any(t > after_put for t in snapshot_files(d, "sb")), 20, what="a snapshot after the write")
    stamp, path = max(snapshot_files(d, "sb").items())
    with open(path, "rb") as f:
        archive = f.read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700

    # Several more snapshots, then a long interval: exactly `retain` files stay.
    wait_until(lambda: len([t for t in snapshot_files(d, "sb") if t > stamp]) >= 2, 20, what="more snapshots")
    cfg["interval"] = "1h"
    assert s.root("POST", AUTO + "/config/every-second", cfg)[0] == 204
    wait_until(lambda: status(s, "every-second")["snapshot_start"] == ZERO_TIME, 20, what="no snapshot in flight")
    files = snapshot_files(d, "sb")
    assert len(files) == 2, files
    assert not [n for n in os.listdir(d) if n.startswith(".")], os.listdir(d)

    sts = status(s, "every-second")
    assert sts["consecutive_errors"] == 0 and sts["last_snapshot_error"] == ""
    assert sts["last_snapshot_url"] == "file://" + max(files.items())[1]
    assert sts["last_snapshot_start"] != ZERO_TIME and sts["last_snapshot_end"] >= sts["last_snapshot_start"]
    assert sts["next_snapshot_start"] > sts["last_snapshot_end"]

    # The file restores: a later write is undone, the earlier state is back.
    put(s, "k", "after")
    put(s, "only-after", "x")
    st, body = s.raw("POST", "/v1/sys/storage/raft/snapshot", s.root_token, raw_body=archive)
    assert st == 204, body
    assert get(s, "k") == "before"
    assert get(s, "only-after") is None


def test_failures_are_reported_without_secrets(vault):
    s = vault
    blocker = os.path.join(s.dir, "a-file")
    with open(blocker, "w") as f:
        f.write("not a directory")
    bad = {"interval": 1, "path_prefix": os.path.join(blocker, "snaps"), "storage_type": "local"}
    assert s.root("POST", AUTO + "/config/unwritable", bad)[0] == 204
    small = {"interval": "1s", "path_prefix": os.path.join(s.dir, "small"), "storage_type": "local",
             "local_max_space": "100"}
    assert s.root("POST", AUTO + "/config/too-small", small)[0] == 204

    wait_until(lambda: status(s, "unwritable")["consecutive_errors"] >= 2, 20, what="two failed snapshots")
    wait_until(lambda: status(s, "too-small")["consecutive_errors"] >= 1, 20, what="a refused snapshot")
    st = status(s, "unwritable")
    assert "snaps" in st["last_snapshot_error"] and st["last_snapshot_url"] == ""
    assert st["last_snapshot_end"] != ZERO_TIME and st["next_snapshot_start"] != ZERO_TIME
    small_st = status(s, "too-small")
    assert "local_max_space" in small_st["last_snapshot_error"]
    assert snapshot_files(os.path.join(s.dir, "small"), "vault-snapshot") == {}
    for text in (st["last_snapshot_error"], small_st["last_snapshot_error"]):
        assert s.root_token not in text and s.keys[0] not in text and s.keys_b64[0] not in text

    # Deleting a configuration ends its schedule and its status.
    assert s.root("DELETE", AUTO + "/config/unwritable")[0] == 204
    assert s.root("GET", AUTO + "/status/unwritable")[0] == 404
    assert s.root("GET", AUTO + "/config/unwritable")[0] == 404


def test_refusals_and_sudo(vault):
    s = vault
    d = os.path.join(s.dir, "snaps")
    cases = [
        ({"interval": "1h", "path_prefix": d, "storage_type": "aws-s3"}, "storage_type"),
        ({"interval": "1h", "path_prefix": d}, "storage_type"),
        ({"path_prefix": d, "storage_type": "local"}, "interval"),
        ({"interval": "1h", "path_prefix": "relative/dir", "storage_type": "local"}, "path_prefix"),
        ({"interval": "1h", "path_prefix": d, "storage_type": "local", "file_prefix": "a/b"}, "file_prefix"),
        ({"interval": "1h", "path_prefix": d, "storage_type": "local", "retain": 0}, "retain"),
    ]
    for body, field in cases:
        st, resp = s.root("POST", AUTO + "/config/x", body)
        assert st == 400 and field in resp["errors"][0], (body, resp)
    assert s.root("GET", AUTO + "/config/x")[0] == 404

    # Root only (sudo), as Vault.
    policy = 'path "sys/*" { capabilities = ["read","update","create","list","delete"] }'
    assert s.root("POST", "/v1/sys/policy/ops", {"policy": policy})[0] == 204
    st, body = s.root("POST", "/v1/auth/token/create", {"policies": ["ops"]})
    token = body["auth"]["client_token"]
    ok = {"interval": "1h", "path_prefix": d, "storage_type": "local"}
    assert s.raw("POST", AUTO + "/config/x", token, ok)[0] == 403
    assert s.raw("GET", AUTO + "/status/x", token)[0] == 403
    assert s.root("POST", AUTO + "/config/x", ok)[0] == 204
    # An update keeps what it leaves out.
    assert s.root("POST", AUTO + "/config/x", {"retain": "3"})[0] == 204
    st, body = s.root("GET", AUTO + "/config/x")
    assert body["data"]["retain"] == 3 and body["data"]["interval"] == 3600 and body["data"]["path_prefix"] == d


def test_schedule_survives_restart_and_stops_while_sealed(vault):
    s = vault
    d = os.path.join(s.dir, "snaps")
    assert s.root("POST", AUTO + "/config/kept",
                  {"interval": "1s", "path_prefix": d, "storage_type": "local", "retain": 50})[0] == 204
    wait_until(lambda: snapshot_files(d, "vault-snapshot"), 20, what="a first snapshot")
    assert s.root("POST", "/v1/sys/seal")[0] == 204
    # Sealed: the scheduler is stopped and its status is gone with the keys.
    assert s.root("GET", AUTO + "/status/kept")[0] == 503
    s.restart()
    s.unseal(s.keys[:1])
    before = max(snapshot_files(d, "vault-snapshot"))
    wait_until(lambda: max(snapshot_files(d, "vault-snapshot")) > before, 20, what="snapshots after unseal")
    assert status(s, "kept")["consecutive_errors"] == 0
