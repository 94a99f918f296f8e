"""Snapshots on storage "etcd" (issue 24): sys/storage/raft/snapshot save and
restore on a real 3-member etcd (etcd_harness). A snapshot taken under
writes restores exactly; another vault's is refused unless forced; a RocksDB
vault's snapshot moves to etcd; a restore interrupted half-way is finished by
the next unseal; on HA, the node that takes over after a restore serves the
restored state.
"""

import base64
import json
import os
import socket
import ssl
import urllib.request

import pytest

import etcd_harness
import harness
from test_ha import Trio
from test_snapshot import entries, get, kv_keys, put, restore, save, snapshot_under_writes

RESTORE_DIR = b"core/snapshot-restore/"


@pytest.fixture(scope="module")
def cluster():
    c = etcd_harness.EtcdCluster()
    yield c
    c.cleanup()


@pytest.fixture
def vaults(cluster):
    made = []

    def make(path=None):
        storage = cluster.storage_block(path, '  request_timeout = "2s"\n') if path else None
        s = harness.Server(log_level="info", storage=storage).start()
        s.init(1, 1)
        s.unseal(s.keys[:1])
        assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
        made.append(s)
        return s
    yield make
    for s in made:
        s.cleanup()


def etcd_put(cluster, key, value):
    """A put through etcd's JSON gateway: keys and values may be any bytes."""
    body = json.dumps({"key": base64.b64encode(key).decode(), "value": base64.b64encode(value).decode()}).encode()
    req = urllib.request.Request(cluster.client_url(0) + "/v3/kv/put", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def test_snapshot_under_writes_restores_exactly(cluster, vaults):
    s = vaults("/snap-exact/")
    for i in range(10):
        put(s, "base-%d" % i, "v%d" % i)
    archive, before, begun_after = snapshot_under_writes(s)
    put(s, "base-1", "changed")
    s.root("DELETE", "/v1/secret/metadata/base-2")
    late = s.root("POST", "/v1/auth/token/create", {"policies": ["default"]})[1]["auth"]["client_token"]

    assert restore(s, archive) == (204, None)
    snap = entries(archive)
    assert entries(save(s)) == snap  # entry for entry, ciphertexts included
    keys = kv_keys(s)
    assert before <= keys and set(begun_after).isdisjoint(keys)
    assert get(s, "base-1") == "v1" and get(s, "base-2") == "v2"
    assert s.raw("GET", "/v1/auth/token/lookup-self", late)[0] == 403
    # What etcd holds is the snapshot and nothing of the restore's own.
    stored = {k[len(b"/snap-exact/"):]: v for k, v in cluster.get_prefix("/snap-exact/").items()}
    assert stored == snap
    put(s, "post-restore", "ok")
    s.restart()
    s.unseal(s.keys[:1])
    assert get(s, "base-1") == "v1" and get(s, "post-restore") == "ok"


def test_large_values_page_and_restore_within_etcds_limits(cluster, vaults):
    # Five values of ~1 MB: one range page of them exceeds the client's
    # 4 MB receive limit (the page is halved), and a restore needs a
    # transaction per value (--max-request-bytes is 1.5 MB).
    s = vaults("/snap-large/")
    for i in range(5):
        put(s, "big-%d" % i, "%d" % i * 1_000_000)
    archive = save(s)
    snap = entries(archive)
    assert {k[len(b"/snap-large/"):]: v for k, v in cluster.get_prefix("/snap-large/").items()} == snap
    s.root("DELETE", "/v1/secret/metadata/big-0")
    assert restore(s, archive) == (204, None)
    assert get(s, "big-0") == "0" * 1_000_000
    assert entries(save(s)) == snap


def test_another_vaults_snapshot_needs_force_even_from_rocksdb(cluster, vaults):
    a, on_rocksdb = vaults("/snap-force/"), vaults()
    put(a, "mine", "a")
    put(on_rocksdb, "theirs", "b")
    theirs = save(on_rocksdb)
    st, body = restore(a, theirs)
    assert st == 400 and "different vault" in body["errors"][0], body
    assert get(a, "mine") == "a"
    assert restore(a, theirs, force=True) == (204, None)
    assert a.raw("GET", "/v1/sys/seal-status")[1]["sealed"] is True
    a.unseal(on_rocksdb.keys[:1])
    assert a.raw("GET", "/v1/secret/data/theirs", on_rocksdb.root_token)[1]["data"]["data"]["v"] == "b"
    assert a.raw("GET", "/v1/secret/data/mine", on_rocksdb.root_token)[0] == 404


def test_a_restore_interrupted_half_way_is_finished_at_the_next_unseal(cluster, vaults):
    s = vaults("/snap-crash/")
    put(s, "kept", "1")
    archive = save(s)
    put(s, "later", "2")
    # What a crash in the swap leaves: the state, the staged copy, and the
    # vault's keys half gone (here: all of them, keyring included).
    s.kill9()
    etcd_put(cluster, b"/snap-crash/core/snapshot-restore/state", b"swapping")
    for k, v in entries(archive).items():
        etcd_put(cluster, b"/snap-crash/" + RESTORE_DIR + b"staged/" + k, v)
    cluster.etcdctl("del", "--prefix", "/snap-crash/core/keyring")
    cluster.etcdctl("del", "--prefix", "/snap-crash/logical/")
    s.start()
    s.unseal(s.keys[:1])
    assert "finished a snapshot restore that was interrupted half-way" in s.log()
    assert get(s, "kept") == "1" and get(s, "later") is None
    stored = cluster.get_prefix("/snap-crash/")
    assert not [k for k in stored if k.startswith(b"/snap-crash/" + RESTORE_DIR)]


def test_on_ha_the_next_active_serves_the_restored_state(cluster):
    t = Trio(cluster, "/snap-ha/")
    try:
        a = t.active
        assert a.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
        put(a, "k", "before")
        archive = save(a)
        assert entries(save(t.standbys()[0])) == entries(archive)  # forwarded to the active
        put(a, "k", "after")
        put(a, "extra", "x")
        assert restore(a, archive) == (204, None)
        assert get(a, "k") == "before" and get(a, "extra") is None
        assert t.leader(a)["is_self"] is True  # still the active node
        assert a.root("PUT", "/v1/sys/step-down")[0] == 204
        b = t.wait_active(among=t.standbys(), timeout=10)
        assert get(b, "k") == "before" and get(b, "extra") is None
        put(b, "k", "on-b")
        assert get(b, "k") == "on-b"
    finally:
        t.cleanup()


# --- a store larger than a state part, streamed --------------------------
STREAM_VALUES = 64  # 512 KiB of text each: ~32 MB, several 8 MiB state parts


@pytest.fixture(scope="module")
def big_vault(cluster):
    storage = cluster.storage_block("/snap-stream/", '  request_timeout = "5s"\n')
    s = harness.Server(log_level="info", storage=storage, listener_extra="  max_request_size = 134217728\n").start()
    s.init(1, 1)
    s.unseal(s.keys[:1])
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    for i in range(STREAM_VALUES):
        put(s, "big-%d" % i, base64.b64encode(os.urandom(384 * 1024)).decode())
    yield s
    s.cleanup()


def test_a_large_store_streams_at_one_revision_and_restores_exactly(big_vault):
    s = big_vault
    archive, before, begun_after = snapshot_under_writes(s)
    snap = entries(archive)
    assert len(archive) > STREAM_VALUES * 384 * 1024
    s.root("DELETE", "/v1/secret/metadata/big-0")
    assert restore(s, archive) == (204, None)
    assert entries(save(s)) == snap
    keys = kv_keys(s)
    assert before <= keys and set(begun_after).isdisjoint(keys) and "big-0" in keys


def test_a_revision_compacted_mid_stream_breaks_the_transfer(cluster, big_vault):
    s = big_vault
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # the server runs ahead by little
    raw.settimeout(30)
    raw.connect(("127.0.0.1", s.port))
    ctx = ssl.create_default_context(cafile=s.cacert)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        tls.sendall(("GET /v1/sys/storage/raft/snapshot HTTP/1.1\r\nHost: x\r\nX-Vault-Token: %s\r\n\r\n"
                     % s.root_token).encode())
        body = b""
        while len(body) < 256 * 1024:  # state bytes: the scan has pinned its revision
            body += tls.recv(65536)
        assert body.startswith(b"HTTP/1.1 200")
        put(s, "after-the-snapshot-began", "x")  # a revision newer than the snapshot's
        status = json.loads(cluster.etcdctl("endpoint", "status", "-w", "json"))
        cluster.etcdctl("compact", str(max(st["Status"]["header"]["revision"] for st in status)))
        while True:
            try:
                piece = tls.recv(65536)
            except (ConnectionError, ssl.SSLError):
                break
            if not piece:
                break
            body += piece
    # Cut without the last chunk: no client takes it for a whole archive.
    assert not body.endswith(b"\r\n0\r\n\r\n")
    assert "etcd compacted the revision being read" in s.log()
    assert entries(save(s))  # the next snapshot reads at a live revision
