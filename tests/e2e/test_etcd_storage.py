"""storage "etcd": Sealbox on a real 3-member etcd 3.4 cluster on loopback
(etcd_harness). Each test keeps its data under its own `path` in the
module's cluster; the tests that stop members bring them back before they end.
"""

import os
import subprocess
import time

import pytest

import etcd_harness
import harness

MARKER = "etcd-plaintext-marker-7f3a"


@pytest.fixture(scope="module")
def cluster():
    c = etcd_harness.EtcdCluster()
    yield c
    c.cleanup()


def start_sealbox(cluster, path, extra_config="", listener_extra="", storage_extra='  request_timeout = "2s"\n'):
    s = harness.Server(extra_config=extra_config, listener_extra=listener_extra,
                       storage=cluster.storage_block(path, storage_extra))
    s.start()
    return s


@pytest.fixture
def sealbox_factory(cluster):
    started = []

    def make(path, **kw):
        s = start_sealbox(cluster, path, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.cleanup()


def ready_vault(s, kv_version=2, mount="secret"):
    s.init()
    s.unseal()
    st, body = s.root("POST", "/v1/sys/mounts/" + mount, {"type": "kv", "options": {"version": str(kv_version)}})
    assert st == 204, body


def write(s, name, data, mount="secret"):
    return s.root("POST", "/v1/%s/data/%s" % (mount, name), {"data": data})


def read(s, name, mount="secret"):
    return s.root("GET", "/v1/%s/data/%s" % (mount, name))


def test_init_unseal_kv_and_restart_on_etcd(cluster, sealbox_factory):
    s = sealbox_factory("/t-basic/")
    st, body = s.raw("GET", "/v1/sys/seal-status")
    assert st == 200 and body["initialized"] is False and body["storage_type"] == "etcd", body
    ready_vault(s)
    st, body = write(s, "app/db", {"password": MARKER})
    assert st == 200, body
    st, body = read(s, "app/db")
    assert st == 200 and body["data"]["data"]["password"] == MARKER, body
    st, body = s.root("LIST", "/v1/secret/metadata/")
    assert st == 200 and body["data"]["keys"] == ["app/"], body

    s.restart()
    st, body = s.raw("GET", "/v1/sys/seal-status")
    assert body["initialized"] is True and body["sealed"] is True, body
    s.unseal()
    st, body = read(s, "app/db")
    assert st == 200 and body["data"]["data"]["password"] == MARKER, body


def test_values_in_etcd_are_ciphertext(cluster, sealbox_factory):
    s = sealbox_factory("/t-cipher/")
    ready_vault(s)
    assert write(s, "plain", {"v": MARKER})[0] == 200
    stored = cluster.get_prefix("/t-cipher/")
    assert any(k.startswith(b"/t-cipher/core/") for k in stored), sorted(stored)[:10]
    assert any(k.startswith(b"/t-cipher/logical/") for k in stored), sorted(stored)[:10]
    assert not cluster.get_prefix("/vault/"), "wrote outside its path"
    for k, v in stored.items():
        assert MARKER.encode() not in v, k
        assert MARKER.encode() not in k, k
        if k == b"/t-cipher/core/seal-config":
            continue  # plaintext by design (docs/storage-format.md), as in Vault
        # The mount table and policies are encrypted too, not only secrets.
        assert b'"type"' not in v and b'"kv"' not in v and b"path \"" not in v, k


def test_one_member_killed_keeps_working(cluster, sealbox_factory):
    s = sealbox_factory("/t-member/")
    ready_vault(s)
    assert write(s, "before", {"v": "1"})[0] == 200
    leader = cluster.leader()
    assert leader is not None
    # A follower, so that no election runs: the member Sealbox uses first
    # (the first of `address`) is gone, and it moves on to the next.
    victim = 0 if leader != 0 else 1
    cluster.kill(victim)
    try:
        for i in range(20):
            t0 = time.monotonic()
            st, body = write(s, "during-%d" % i, {"v": str(i)})
            assert st == 200, body
            assert time.monotonic() - t0 < 5, "a write took past the request timeout"
            st, body = read(s, "during-%d" % i)
            assert st == 200 and body["data"]["data"]["v"] == str(i), body
        assert read(s, "before")[0] == 200
    finally:
        cluster.start(victim)
        cluster.wait_healthy()
    for i in range(20):
        assert read(s, "during-%d" % i)[0] == 200


def test_cluster_down_is_a_clear_503_and_nothing_is_lost(cluster, sealbox_factory):
    s = sealbox_factory("/t-down/")
    ready_vault(s)
    for i in range(10):
        assert write(s, "k%d" % i, {"v": str(i)})[0] == 200
    cluster.kill_all()
    try:
        t0 = time.monotonic()
        st, body = write(s, "lost", {"v": "x"})
        elapsed = time.monotonic() - t0
        assert st == 503, (st, body)
        assert "storage unavailable" in body["errors"][0] and "etcd" in body["errors"][0], body
        # request_timeout is 2 s per endpoint; down members refuse at once.
        assert elapsed < 10, elapsed
        st, body = read(s, "k1")
        assert st == 503 and "storage unavailable" in body["errors"][0], (st, body)
    finally:
        cluster.start_all()

    def back():
        return read(s, "k0")[0] == 200

    harness.wait_until(back, 30, 0.2, what="sealbox to read again once etcd is back")
    for i in range(10):
        st, body = read(s, "k%d" % i)
        assert st == 200 and body["data"]["data"]["v"] == str(i), body
    assert write(s, "after", {"v": "y"})[0] == 200
    assert "no endpoint answered" in s.log()


def test_oversize_value_is_refused_clearly(cluster, sealbox_factory):
    # Sealbox's own entry limit raised past etcd's 1.5 MiB request limit.
    s = sealbox_factory("/t-big/", extra_config="max_entry_size = 4194304\n",
                        listener_extra="  max_json_string_value_length = 4194304\n")
    ready_vault(s)
    st, body = write(s, "fits", {"v": "a" * (512 * 1024)})
    assert st == 200, body
    st, body = write(s, "huge", {"v": "b" * (2 * 1024 * 1024)})
    assert st == 413, (st, body)
    assert "too large for etcd" in body["errors"][0] and "1.5 MiB" in body["errors"][0], body
    assert "bbbb" not in body["errors"][0]
    assert read(s, "huge")[0] == 404
    assert read(s, "fits")[0] == 200


def test_batches_past_etcd_limits_split_where_atomicity_does_not_matter(cluster, sealbox_factory):
    s = sealbox_factory("/t-batch/")
    ready_vault(s)
    assert s.root("POST", "/v1/secret/metadata/many", {"max_versions": 200})[0] == 204
    for i in range(140):
        assert write(s, "many", {"v": str(i)})[0] == 200
    st, body = s.root("GET", "/v1/secret/metadata/many")
    assert st == 200 and body["data"]["current_version"] == 140, body
    before = len(cluster.get_prefix("/t-batch/logical/"))
    # 140 versions and the metadata: one delete past etcd's 128 ops per txn.
    assert s.root("DELETE", "/v1/secret/metadata/many")[0] == 204
    assert read(s, "many")[0] == 404
    after = len(cluster.get_prefix("/t-batch/logical/"))
    assert before - after == 141, (before, after)

    # A kv-v1 mount with 300 keys, disabled: DeletePrefix of its whole folder.
    st, body = s.root("POST", "/v1/sys/mounts/v1", {"type": "kv", "options": {"version": "1"}})
    assert st == 204, body
    for i in range(300):
        assert s.root("POST", "/v1/v1/d/k%03d" % i, {"v": "x"})[0] == 204
    st, body = s.root("LIST", "/v1/v1/d/")
    assert st == 200 and len(body["data"]["keys"]) == 300, body
    assert s.root("DELETE", "/v1/sys/mounts/v1")[0] == 204
    assert len(cluster.get_prefix("/t-batch/logical/")) == after


def test_etcd_unreachable_at_start_is_a_clear_error(tmp_path):
    port = harness.free_port()
    s = harness.Server(storage='storage "etcd" {\n  address = "http://127.0.0.1:%d"\n  request_timeout = "1s"\n}\n'
                       % port)
    try:
        t0 = time.monotonic()
        p = subprocess.run([harness.sealbox_bin(), "server", "-config", s.config], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode(errors="replace")
        assert p.returncode != 0, out
        assert "storage \"etcd\"" in out and "no etcd endpoint answered" in out, out
        assert time.monotonic() - t0 < 15
    finally:
        s.cleanup()


def test_tls_etcd_with_client_certificates():
    c = etcd_harness.EtcdCluster(size=1, tls=True)
    s = None
    try:
        s = harness.Server(storage=c.storage_block("/t-tls/", '  request_timeout = "2s"\n'))
        s.start()
        ready_vault(s)
        assert write(s, "tls", {"v": MARKER})[0] == 200
        assert read(s, "tls")[1]["data"]["data"]["v"] == MARKER
        assert any(k.startswith(b"/t-tls/core/") for k in c.get_prefix("/t-tls/"))

        # Without a client certificate etcd refuses the handshake: no start.
        no_cert = harness.Server(storage='storage "etcd" {\n  address = "%s"\n  tls_ca_file = "%s"\n'
                                 '  request_timeout = "1s"\n}\n' % (c.address(), c.ca))
        try:
            p = subprocess.run([harness.sealbox_bin(), "server", "-config", no_cert.config], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            assert p.returncode != 0 and "storage \"etcd\"" in p.stdout.decode(errors="replace")
        finally:
            no_cert.cleanup()
    finally:
        if s:
            s.cleanup()
        c.cleanup()


def test_etcd_auth_with_username_and_password():
    c = etcd_harness.EtcdCluster(size=1)
    s = None
    try:
        for args in (["user", "add", "root:rootpw"], ["user", "add", "sealbox:sbpw"], ["role", "add", "sealbox"],
                     ["role", "grant-permission", "sealbox", "--prefix=true", "readwrite", "/t-auth/"],
                     ["user", "grant-role", "sealbox", "sealbox"], ["auth", "enable"]):
            c.etcdctl(*args)
        s = harness.Server(storage=c.storage_block(
            "/t-auth/", '  username = "sealbox"\n  password = "sbpw"\n  request_timeout = "2s"\n'))
        s.start()
        ready_vault(s)
        assert write(s, "a", {"v": MARKER})[0] == 200
        assert read(s, "a")[1]["data"]["data"]["v"] == MARKER
        assert any(k.startswith(b"/t-auth/core/") for k in c.get_prefix_as("root:rootpw", "/t-auth/"))

        for storage, why in (('  username = "sealbox"\n  password = "wrong-pw-1234"\n', "username, password"),
                             ('  username = "sealbox"\n  password = "sbpw"\n', "permissions")):
            path = "/t-auth/" if "wrong" in storage else "/elsewhere/"
            bad = harness.Server(storage=c.storage_block(path, storage + '  request_timeout = "2s"\n'))
            try:
                p = subprocess.run([harness.sealbox_bin(), "server", "-config", bad.config], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=30)
                out = p.stdout.decode(errors="replace")
                assert p.returncode != 0 and "etcd refused" in out and why in out, out
                assert "wrong-pw-1234" not in out and "sbpw" not in out
            finally:
                bad.cleanup()
    finally:
        if s:
            s.cleanup()
        c.cleanup()


def test_etcd_space_quota_is_507_and_recovers_after_compaction():
    c = etcd_harness.EtcdCluster(size=1, extra_args=["--quota-backend-bytes", str(8 << 20)])
    s = None
    try:
        s = harness.Server(storage=c.storage_block("/t-quota/", '  request_timeout = "2s"\n'))
        s.start()
        ready_vault(s)
        value = "q" * (700 * 1024)
        statuses = []
        for i in range(40):  # every version stays until compaction: ~0.7 MiB each
            st, body = write(s, "fill", {"v": value + str(i)})
            statuses.append(st)
            if st != 200:
                break
        assert statuses[-1] == 507 and statuses.count(200) >= 3, statuses
        assert body["errors"] == ["storage full"], body
        assert read(s, "fill")[0] == 200, "reads go on while etcd is full"
        c.reclaim_space()
        harness.wait_until(lambda: write(s, "after", {"v": "x"})[0] == 200, 20, 0.2,
                           what="writes to resume after compaction, defragmentation and disarm")
        assert "NOSPACE" in s.log()
    finally:
        if s:
            s.cleanup()
        c.cleanup()
