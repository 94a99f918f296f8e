"""Online snapshots through Vault's raft snapshot paths (issue 24):
GET/POST sys/storage/raft/snapshot and snapshot-force against the real binary,
under write load, across vaults, with damaged files, and with `bao operator
raft snapshot save/restore` as the client."""

import base64
import gzip
import http.client
import io
import os
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import time

import pytest

import harness
from harness import Server

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import bao_bin  # noqa: E402

SNAP = "/v1/sys/storage/raft/snapshot"


def vault():
    s = Server(log_level="info").start()
    s.init(1, 1)
    s.unseal(s.keys[:1])
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    return s


@pytest.fixture
def two_vaults():
    a, b = vault(), vault()
    yield a, b
    a.cleanup()
    b.cleanup()


def save(s):
    st, headers, body = s.request("GET", SNAP, s.root_token)
    assert st == 200, body[:300]
    assert headers["content-type"] == "application/gzip"
    return body


def restore(s, data, force=False, token=None):
    path = SNAP + ("-force" if force else "")
    return s.raw("POST", path, token or s.root_token, raw_body=data)


def put(s, key, value):
    st, body = s.root("POST", "/v1/secret/data/" + key, {"data": {"v": value}})
    assert st == 200, body
    return body["data"]["version"]


def get(s, key):
    st, body = s.root("GET", "/v1/secret/data/" + key)
    return body["data"]["data"]["v"] if st == 200 else None


def kv_keys(s):
    st, body = s.root("LIST", "/v1/secret/metadata/")
    return set(body["data"]["keys"]) if st == 200 else set()


def entries(archive):
    """The snapshot's storage entries, parsed from its tar (our format)."""
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as t:
        names = t.getnames()
        assert names[-1] == "SHA256SUMS.sealed"
        parts = [n for n in names if n.startswith("state.sealbox.")]
        assert parts == ["state.sealbox.%06d" % i for i in range(len(parts))] and parts
        state = b"".join(t.extractfile(n).read() for n in parts)
    out, i = {}, 0
    while i < len(state):
        kl = int.from_bytes(state[i:i + 4], "big")
        k = state[i + 4:i + 4 + kl]
        i += 4 + kl
        vl = int.from_bytes(state[i:i + 4], "big")
        out[k] = state[i + 4:i + 4 + vl]
        i += 4 + vl
    return out


def snapshot_under_writes(s):
    """A snapshot taken while a writer puts secret/load-<n>: the archive, the
    keys acknowledged before it began, and those whose write began only after
    it answered (at least one)."""
    started, acked, stop = [], [], threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            started.append("load-%d" % n)  # before the request is sent
            put(s, "load-%d" % n, "x")
            acked.append("load-%d" % n)
            n += 1

    t = threading.Thread(target=writer)
    t.start()
    harness.wait_until(lambda: len(acked) >= 5, what="the writer to start")
    before_snapshot = set(acked)
    archive = save(s)
    after_snapshot = len(acked)
    # Writes sent once the snapshot had answered; one acknowledged later may
    # still have landed before it was taken.
    begun_after = len(started)
    harness.wait_until(lambda: len(acked) >= after_snapshot + 5, what="writes after the snapshot")
    stop.set()
    t.join()
    assert len(started) > begun_after  # the writer went on while the snapshot was taken
    return archive, before_snapshot, started[begun_after:]


def test_snapshot_under_write_load_restores_exactly(two_vaults):
    s, _ = two_vaults
    for i in range(20):
        put(s, "base-%d" % i, "v%d" % i)
    put(s, "base-0", "v0-second")
    child_before = s.root("POST", "/v1/auth/token/create", {"policies": ["default"]})[1]["auth"]["client_token"]
    archive, before_snapshot, begun_after = snapshot_under_writes(s)

    # More changes after the snapshot: all must be gone after the restore.
    put(s, "base-1", "changed")
    put(s, "after", "later")
    s.root("DELETE", "/v1/secret/metadata/base-2")
    child_after = s.root("POST", "/v1/auth/token/create", {"policies": ["default"]})[1]["auth"]["client_token"]
    assert s.root("POST", "/v1/sys/policy/late", {"policy": 'path "x" { capabilities = ["read"] }'})[0] == 204

    assert restore(s, archive) == (204, None)

    snap = entries(archive)
    # The store now is the snapshot, entry for entry (keys and ciphertexts).
    assert entries(save(s)) == snap
    keys = kv_keys(s)
    assert before_snapshot <= keys  # acknowledged before the snapshot began
    assert set(begun_after).isdisjoint(keys)  # begun after it answered
    assert "after" not in keys and "base-2" in keys
    assert get(s, "base-1") == "v1" and get(s, "base-0") == "v0-second"
    st, meta = s.root("GET", "/v1/secret/metadata/base-0")
    assert st == 200 and meta["data"]["current_version"] == 2
    # Caches reloaded: the later token and policy are gone, the earlier token works.
    assert s.raw("GET", "/v1/auth/token/lookup-self", child_after)[0] == 403
    assert s.raw("GET", "/v1/auth/token/lookup-self", child_before)[0] == 200
    assert s.root("GET", "/v1/sys/policy/late")[0] == 404
    # Still unsealed, writes go on, and a restart keeps the restored state.
    put(s, "post-restore", "ok")
    s.restart()
    s.unseal(s.keys[:1])
    assert get(s, "base-1") == "v1" and get(s, "post-restore") == "ok" and get(s, "after") is None


def test_snapshot_of_another_vault_needs_force_and_its_keys(two_vaults):
    a, b = two_vaults
    put(a, "mine", "a")
    put(b, "theirs", "b")
    theirs = save(b)

    st, body = restore(a, theirs)
    assert st == 400 and "different vault" in body["errors"][0] and "snapshot-force" in body["errors"][0]
    assert get(a, "mine") == "a"

    assert restore(a, theirs, force=True) == (204, None)
    # As Vault: the vault seals and now opens with the other vault's keys only.
    assert a.raw("GET", "/v1/sys/seal-status")[1]["sealed"] is True
    st, body = a.raw("PUT", "/v1/sys/unseal", body={"key": a.keys[0]})
    assert st == 400 and "invalid key" in body["errors"][0]
    a.unseal(b.keys[:1])
    assert a.raw("GET", "/v1/secret/data/theirs", b.root_token)[1]["data"]["data"]["v"] == "b"
    assert a.raw("GET", "/v1/secret/data/mine", b.root_token)[0] == 404
    assert a.raw("GET", "/v1/auth/token/lookup-self", a.root_token)[0] == 403


def test_damaged_snapshots_are_refused_and_nothing_is_lost(two_vaults):
    s, _ = two_vaults
    put(s, "keep", "1")
    good = save(s)
    put(s, "later", "2")
    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 0x01
    for bad in (good[: len(good) // 2], good[:-4], bytes(flipped), b"not a snapshot", b""):
        for force in (False, True):
            st, body = restore(s, bad, force=force)
            assert st == 400, (st, body)
            assert "snapshot" in body["errors"][0]
    assert get(s, "keep") == "1" and get(s, "later") == "2"
    # Root only (sudo), as Vault: a token with every capability but sudo is refused.
    assert s.root("POST", "/v1/sys/policy/ops", {"policy": 'path "sys/*" { capabilities = ["read","update","create"] }'})[0] == 204
    ops = s.root("POST", "/v1/auth/token/create", {"policies": ["ops"]})[1]["auth"]["client_token"]
    assert s.raw("GET", SNAP, ops)[0] == 403
    assert restore(s, good, token=ops)[0] == 403
    assert get(s, "later") == "2"


def test_bao_cli_saves_and_restores(two_vaults, tmp_path):
    s, _ = two_vaults
    bao = bao_bin()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "BAO_ADDR": s.url, "BAO_CACERT": s.cacert,
           "BAO_TOKEN": s.root_token}

    def run(*args):
        return subprocess.run([bao, *args], env=env, capture_output=True, text=True, timeout=60)

    put(s, "cli", "before")
    path = str(tmp_path / "vault.snap")
    r = run("operator", "raft", "snapshot", "save", path)
    assert r.returncode == 0, r.stderr
    put(s, "cli", "after")
    r = run("operator", "raft", "snapshot", "restore", path)
    assert r.returncode == 0, r.stderr
    assert get(s, "cli") == "before"
    # The CLI refuses a download without SHA256SUMS.sealed: a damaged one fails
    # on restore with the server's reason.
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    r = run("operator", "raft", "snapshot", "restore", path)
    assert r.returncode != 0 and "invalid snapshot" in r.stderr, r.stderr
    assert get(s, "cli") == "before"


# --- a store larger than memory bounds, streamed --------------------------
# The save streams: one 8 MiB state part in memory at a time, whatever the
# store's size (docs/operations.md). The restore takes the body in memory
# within max_request_size, raised here for a ~40 MB store.
MIB = 1 << 20
BIG_VALUES = 80  # 512 KiB of text each (ciphertext once stored; an entry holds at most 1 MiB)
MAX_SAVE_GROWTH_KB = 24 * 1024  # measured ~8.3 MB; the old in-memory save needed 3x the store


@pytest.fixture(scope="module")
def big_vault():
    s = Server(log_level="info", listener_extra="  max_request_size = 134217728\n").start()
    s.init(1, 1)
    s.unseal(s.keys[:1])
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    for i in range(BIG_VALUES):
        put(s, "big-%d" % i, base64.b64encode(os.urandom(384 * 1024)).decode())
    yield s
    s.cleanup()


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def open_stream(s):
    conn = http.client.HTTPSConnection("127.0.0.1", s.port, timeout=60,
                                       context=ssl.create_default_context(cafile=s.cacert))
    conn.request("GET", SNAP, headers={"X-Vault-Token": s.root_token})
    return conn, conn.getresponse()


def test_a_large_store_streams_in_bounded_memory_while_writes_go_on(big_vault):
    s = big_vault
    pid = s.proc.pid
    stop, acked = threading.Event(), []

    def writer():
        while not stop.is_set():
            put(s, "during-%d" % len(acked), "x")
            acked.append(1)

    t = threading.Thread(target=writer)
    t.start()
    try:
        harness.wait_until(lambda: len(acked) >= 3, what="the writer to start")
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")  # VmHWM := VmRSS
        base_kb = status_kb(pid, "VmRSS")
        began, acked_before = time.monotonic(), len(acked)
        conn, resp = open_stream(s)
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "application/gzip"
        assert resp.getheader("Content-Disposition") == "attachment"
        assert resp.getheader("Transfer-Encoding") == "chunked" and resp.getheader("Content-Length") is None
        pieces = []
        while True:
            piece = resp.read(256 * 1024)
            if not piece:
                break
            pieces.append(piece)
        conn.close()
        seconds = time.monotonic() - began
        growth_kb = status_kb(pid, "VmHWM") - base_kb
        writes_during = len(acked) - acked_before
    finally:
        stop.set()
        t.join()
    archive = b"".join(pieces)
    print("snapshot save: %.1f MB in %.2f s, server peak RSS +%d kB, %d writes meanwhile"
          % (len(archive) / 1e6, seconds, growth_kb, writes_during))
    assert len(archive) > BIG_VALUES * MIB // 2
    assert writes_during > 0  # writes were not stopped
    if os.environ.get("SEALBOX_SANITIZED") != "1":  # ASan's quarantine keeps freed pieces
        assert growth_kb < MAX_SAVE_GROWTH_KB, growth_kb

    snap = entries(archive)
    put(s, "big-0", "changed after the snapshot")
    assert restore(s, archive) == (204, None)
    assert entries(save(s)) == snap  # entry for entry, ciphertexts included
    assert get(s, "big-0") != "changed after the snapshot"


def test_a_client_that_leaves_mid_stream_leaves_the_server_healthy(big_vault):
    s = big_vault
    ctx = ssl.create_default_context(cafile=s.cacert)
    for _ in range(2):
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", s.port), timeout=30),
                             server_hostname="127.0.0.1") as tls:
            tls.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nX-Vault-Token: %s\r\n\r\n" % (SNAP, s.root_token)).encode())
            got = 0
            while got < 512 * 1024:
                got += len(tls.recv(65536))
    # The server notices, stops the scan, and frees what the stream held.
    harness.wait_until(lambda: s.log().count("snapshot stream stopped: the reader went away") >= 2,
                       what="the server to drop the abandoned streams")
    # A whole snapshot still comes out, and its connection carries the next request.
    conn, resp = open_stream(s)
    assert entries(resp.read())
    conn.request("GET", "/v1/sys/health")
    assert conn.getresponse().status == 200
    conn.close()


def test_a_stream_that_breaks_off_is_a_broken_transfer_not_a_short_archive(big_vault):
    s = big_vault
    conn, resp = open_stream(s)
    assert resp.status == 200
    assert resp.read(64 * 1024)
    # Sealed mid-stream: the barrier can no longer seal the checksums, so the
    # body breaks off after the state, without its last chunk.
    assert s.root("PUT", "/v1/sys/seal")[0] == 204
    with pytest.raises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
        while resp.read(256 * 1024):
            pass
    conn.close()
    s.unseal(s.keys[:1])
    assert entries(save(s))
