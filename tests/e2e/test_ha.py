"""HA on etcd: three real Sealbox nodes on a real 3-member etcd cluster on
loopback. The election (lowest create revision of a leased key), standbys
that forward requests to the active node over the cluster listener's mutual
TLS (or send clients there with 307), Vault's HA surface (sys/leader,
sys/health standby codes, sys/ha-status, sys/step-down), failover after
kill -9 within the budget with every acknowledged write kept, and fencing:
a node paused past its lease never writes after it wakes.
"""

import os
import re
import subprocess
import threading
import shutil
import signal
import socket
import ssl
import time

import pytest

import etcd_harness
import harness

LOCK_TTL = 2  # seconds: etcd's lease TTL for the election
FAILOVER_BUDGET = 5.0


@pytest.fixture(scope="module")
def cluster():
    c = etcd_harness.EtcdCluster()
    yield c
    c.cleanup()


class Trio:
    """Three nodes sharing one etcd path, Shamir-sealed, all unsealed."""

    def __init__(self, cluster, path, log_level="debug", listener_extra=""):
        extra = '  ha_enabled = true\n  lock_timeout = "%ds"\n  request_timeout = "1s"\n' % LOCK_TTL
        self.nodes = [harness.Server(storage=cluster.storage_block(path, extra), log_level=log_level,
                                     listener_extra='  cluster_address = "127.0.0.1:%d"\n' % harness.free_port() +
                                     listener_extra)
                      for _ in range(3)]
        # One CA for the cluster, as in a real deployment, so a client that
        # follows a redirect trusts the active node too.
        for n in self.nodes[1:]:
            for name in ("ca.pem", "server.pem", "server.key"):
                shutil.copyfile(os.path.join(self.nodes[0].dir, name), os.path.join(n.dir, name))
            n.cacert = self.nodes[0].cacert
        for n in self.nodes:
            n.start()
        first = self.nodes[0]
        first.init()
        for n in self.nodes[1:]:
            n.keys, n.root_token = first.keys, first.root_token
        for n in self.nodes:
            n.unseal()
        self.active = self.wait_active()

    def leader(self, n):
        st, body = n.raw("GET", "/v1/sys/leader")
        assert st == 200, body
        return body

    def wait_active(self, among=None, timeout=15.0):
        among = among or [n for n in self.nodes if n.proc.poll() is None]
        found = []

        def one_active():
            found[:] = [n for n in among if self.leader(n)["is_self"]]
            return len(found) == 1
        harness.wait_until(one_active, timeout, what="one active node")
        return found[0]

    def standbys(self):
        return [n for n in self.nodes if n is not self.active and n.proc.poll() is None]

    def cleanup(self):
        for n in self.nodes:
            if n.proc and n.proc.poll() is None and n.proc.returncode is None:
                try:
                    os.kill(n.proc.pid, signal.SIGCONT)
                except OSError:
                    pass
            n.cleanup()


@pytest.fixture
def trio_factory(cluster):
    made = []

    def make(path, listener_extra=""):
        t = Trio(cluster, path, listener_extra=listener_extra)
        made.append(t)
        return t
    yield make
    for t in made:
        t.cleanup()


BAO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".venv", "bin", "bao")


def status_text(cli, node):
    env = dict(os.environ, VAULT_ADDR=node.url, VAULT_CACERT=node.cacert, BAO_ADDR=node.url, BAO_CACERT=node.cacert)
    p = subprocess.run([cli, "status"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, (cli, p.returncode, p.stdout, p.stderr)
    return p.stdout


def errors_in_log(node):
    return [l for l in node.log().splitlines() if "[error]" in l or "[warning]" in l][-10:]


def kv_mount(node):
    st, body = node.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    assert st == 204, body


def test_standbys_send_clients_to_the_active_and_report_ha(trio_factory):
    t = trio_factory("/ha-surface/")
    a = t.active
    kv_mount(a)
    assert a.root("POST", "/v1/secret/data/app", {"data": {"v": "1"}})[0] == 200

    lead = t.leader(a)
    assert lead["ha_enabled"] is True and lead["leader_address"] == a.url, lead
    assert lead["active_time"] != "0001-01-01T00:00:00Z"
    st, health = a.raw("GET", "/v1/sys/health")
    assert st == 200 and health["standby"] is False, health

    for s in t.standbys():
        lead = t.leader(s)
        assert lead["ha_enabled"] is True and lead["is_self"] is False and lead["leader_address"] == a.url, lead
        st, health = s.raw("GET", "/v1/sys/health")
        assert st == 429 and health["standby"] is True and health["sealed"] is False, (st, health)
        assert s.raw("GET", "/v1/sys/health?standbyok=true")[0] == 200
        assert s.raw("GET", "/v1/sys/health?standbycode=299")[0] == 299
        # A client that asks not to be forwarded: a write answers 307 to the
        # same path and query on the active (a read is served here).
        st, headers, _ = s.request("PUT", "/v1/secret/data/app?version=1", token=a.root_token,
                                   body={"data": {"v": "1"}},
                                   headers={"X-Vault-No-Request-Forwarding": "true"})
        assert st == 307 and headers["location"] == a.url + "/v1/secret/data/app?version=1", (st, headers)
        # Any other routed request is served (a read) or forwarded: the
        # client sees what the active node holds.
        client = s.hvac(token=a.root_token)
        got = client.secrets.kv.v2.read_secret_version(path="app", raise_on_deleted_version=True)
        assert got["data"]["data"] == {"v": "1"}
        name = "via-" + str(s.port)
        st, body = s.root("POST", "/v1/secret/data/" + name, {"data": {"from": "standby"}})
        assert st == 200 and body["data"]["version"] == 1, (st, body)
        st, body = a.root("GET", "/v1/secret/data/" + name)
        assert st == 200 and body["data"]["data"] == {"from": "standby"}, body
        st, headers, data = s.request("GET", "/v1/secret/data/missing", token=a.root_token)
        assert st == 404 and headers["content-type"] == "application/json", (st, headers, data)
        assert s.raw("GET", "/v1/secret/data/app", token="not-a-token")[0] == 403

    # `sealbox status` and OpenBao's own CLI show the HA mode.
    for cli in (harness.sealbox_bin(), BAO):
        for n, mode in [(a, "active")] + [(s, "standby") for s in t.standbys()]:
            out = status_text(cli, n)
            assert "HA Enabled" in out and re.search(r"HA Mode\s+%s" % mode, out), out
            if mode == "standby":
                assert re.search(r"Active Node Address\s+%s" % re.escape(a.url), out), out

    st, body = a.root("GET", "/v1/sys/ha-status")
    assert st == 200, body
    nodes = body["data"]["nodes"]
    assert len(nodes) == 3 and nodes[0]["active_node"] is True and nodes[0]["api_address"] == a.url, nodes
    assert nodes[0]["last_echo"] is None
    assert sorted(n["api_address"] for n in nodes[1:]) == sorted(s.url for s in t.standbys())


def test_kill9_of_the_active_under_write_load_fails_over_within_budget_and_loses_nothing(trio_factory):
    t = trio_factory("/ha-failover/")
    a = t.active
    kv_mount(a)
    acked = {}
    stop = threading.Event()
    killed = threading.Event()

    def writer():
        # Writes one key after another to the active node until the kill;
        # a key counts only if the server acknowledged it (200).
        i = 0
        while not stop.is_set():
            key = "k%d" % i
            try:
                st, _ = a.root("POST", "/v1/secret/data/" + key, {"data": {"i": str(i)}})
            except OSError:
                st = None
            if st == 200:
                acked[key] = str(i)
            elif not killed.is_set():
                raise AssertionError("write %s refused before the kill: %s" % (key, st))
            i += 1

    # Tokens and their leases live in etcd: the new active must honour both.
    tokens = {}
    for name, ttl in (("short", "4s"), ("long", "1h")):
        st, body = a.root("POST", "/v1/auth/token/create", {"ttl": ttl, "policies": ["default"]})
        assert st == 200, body
        tokens[name] = body["auth"]["client_token"]
    w = threading.Thread(target=writer)
    w.start()
    harness.wait_until(lambda: len(acked) >= 20, 30, what="20 acknowledged writes")
    killed_at = time.monotonic()
    killed.set()
    a.kill9()
    stop.set()
    w.join(timeout=60)
    b = t.wait_active(among=t.standbys(), timeout=FAILOVER_BUDGET + 5)
    took = time.monotonic() - killed_at
    assert took < FAILOVER_BUDGET, "failover took %.2f s" % took
    t.active = b
    for k, v in acked.items():
        st, body = b.root("GET", "/v1/secret/data/" + k)
        assert st == 200 and body["data"]["data"] == {"i": v}, (k, st, body)
    st, body = b.raw("POST", "/v1/auth/token/renew-self", token=tokens["long"], body={"increment": "2h"})
    assert st == 200 and body["auth"]["lease_duration"] > 3600, body
    harness.wait_until(lambda: b.raw("GET", "/v1/auth/token/lookup-self", token=tokens["short"])[0] == 403, 15,
                       what="the short token to expire on the new active")
    # The survivors agree on the new active, and writes go on there.
    for s in t.standbys():
        assert t.leader(s)["leader_address"] == b.url
    assert b.root("POST", "/v1/secret/data/after", {"data": {"x": "y"}})[0] == 200

    # The old active comes back as a standby.
    a.start()
    a.unseal()
    harness.wait_until(lambda: t.leader(a)["leader_address"] == b.url, 10, what="the old active to see the new one")
    assert t.leader(a)["is_self"] is False
    assert a.raw("GET", "/v1/sys/health")[0] == 429


def test_step_down_hands_over_to_another_node(trio_factory):
    t = trio_factory("/ha-stepdown/")
    a = t.active
    st, body = a.root("PUT", "/v1/sys/step-down")
    assert st == 204, body
    b = t.wait_active(among=t.standbys(), timeout=FAILOVER_BUDGET)
    assert b is not a
    harness.wait_until(lambda: a.raw("GET", "/v1/sys/health")[0] == 429, 10, what="the old active to be a standby")
    # Anything routed on the old active now goes to the new one.
    st, headers, data = a.request("GET", "/v1/sys/mounts", token=a.root_token,
                                  headers={"X-Vault-No-Request-Forwarding": "true"})
    assert st == 307 and headers["location"] == b.url + "/v1/sys/mounts", (st, headers, data, t.leader(a))
    st, body = a.root("POST", "/v1/sys/mounts/after-step-down", {"type": "kv"})
    assert st == 204, body
    assert "after-step-down/" in b.root("GET", "/v1/sys/mounts")[1]["data"]
    # Without a sudo token, step-down is refused and nothing changes.
    st, body = b.root("POST", "/v1/auth/token/create", {"policies": ["default"]})
    assert st == 200, body
    st, body = b.raw("PUT", "/v1/sys/step-down", token=body["auth"]["client_token"])
    assert st == 403, body
    assert t.leader(b)["is_self"] is True


def test_scheduled_snapshots_run_on_the_active_node_only(trio_factory):
    t = trio_factory("/ha-snapshot-auto/")
    a = t.active
    auto = "/v1/sys/storage/raft/snapshot-auto/"
    cfg = {"interval": "1s", "path_prefix": os.path.join(a.dir, "snaps"), "storage_type": "local"}
    assert a.root("POST", auto + "config/s", cfg)[0] == 204

    def attempts(node):
        return node.log().count("core: snapshot taken")
    harness.wait_until(lambda: attempts(a) >= 2, 15, what="two snapshots on the active node")
    st, body = a.root("GET", auto + "status/s")
    assert st == 200 and body["data"]["consecutive_errors"] == 0, body
    assert [attempts(n) for n in t.standbys()] == [0, 0]
    # After a step-down the new active loads the configuration and takes over;
    # the old one stopped before it let go of the lock.
    assert a.root("PUT", "/v1/sys/step-down")[0] == 204
    b = t.wait_active(among=t.standbys(), timeout=FAILOVER_BUDGET)
    harness.wait_until(lambda: attempts(b) >= 1, 15, what="an attempt on the new active node")
    frozen = attempts(a)
    harness.wait_until(lambda: attempts(b) >= 3, 15, what="more attempts on the new active node")
    assert attempts(a) == frozen


def test_step_down_under_forwarded_write_load_loses_nothing(trio_factory):
    """Writers on every node (standbys forward) while the active steps down:
    every acknowledged write is on the new active, no request fails with a
    5xx other than 503 while no node leads, and writes go on afterwards."""
    t = trio_factory("/ha-stepdown-load/")
    a = t.active
    kv_mount(a)
    acked, unexpected, stop = {}, [], threading.Event()
    lock = threading.Lock()

    def writer(node, prefix):
        i = 0
        while not stop.is_set():
            key = "%s-%d" % (prefix, i)
            data = b""
            try:
                st, headers, data = node.request("POST", "/v1/secret/data/" + key, token=a.root_token,
                                                 body={"data": {"i": str(i)}}, timeout=15)
            except OSError:
                st = None
            for _ in range(5):  # redirects while forwarding is impossible: followed, as clients do
                if st != 307:
                    break
                target = next(n for n in t.nodes if headers["location"].startswith(n.url))
                st, headers, data = target.request("POST", "/v1/secret/data/" + key, token=a.root_token,
                                                   body={"data": {"i": str(i)}}, timeout=15)
            with lock:
                if st == 200:
                    acked[key] = str(i)
                elif st not in (503, None):
                    unexpected.append((key, st, node.port, data[:300]))
            i += 1

    threads = [threading.Thread(target=writer, args=(n, "w%d" % k)) for k, n in enumerate(t.nodes)]
    for th in threads:
        th.start()
    try:
        harness.wait_until(lambda: len(acked) >= 30, 30, what="30 acknowledged writes")
        st, body = a.root("PUT", "/v1/sys/step-down")
        assert st == 204, body
        b = t.wait_active(among=t.standbys(), timeout=FAILOVER_BUDGET + 5)
        at_handover = len(acked)
        harness.wait_until(lambda: len(acked) >= at_handover + 30, 30, what="30 more writes after the handover")
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
    assert not unexpected, unexpected
    for k, v in acked.items():
        st, body = b.root("GET", "/v1/secret/data/" + k)
        assert st == 200 and body["data"]["data"] == {"i": v}, (k, st, body)


def test_a_node_paused_past_its_lease_never_writes_after_it_wakes(trio_factory):
    t = trio_factory("/ha-fence/")
    a = t.active
    kv_mount(a)
    assert a.root("POST", "/v1/secret/data/before", {"data": {"v": "1"}})[0] == 200

    os.kill(a.proc.pid, signal.SIGSTOP)
    try:
        b = t.wait_active(among=t.standbys(), timeout=FAILOVER_BUDGET + 5)
    finally:
        os.kill(a.proc.pid, signal.SIGCONT)
    # The woken node either knows already that it lost (307 to the new
    # active) or finds its write fenced (503); the write never lands.
    st, headers, data = a.request("POST", "/v1/secret/data/stale", token=a.root_token,
                                  body={"data": {"from": "deposed"}},
                                  headers={"X-Vault-No-Request-Forwarding": "true"})
    assert st in (307, 503), (st, data)
    st, body = b.root("GET", "/v1/secret/data/stale")
    assert st == 404, body
    st, body = b.root("GET", "/v1/secret/data/before")
    assert st == 200 and body["data"]["data"] == {"v": "1"}, body
    harness.wait_until(lambda: a.raw("GET", "/v1/sys/health")[0] == 429, 10, what="the deposed node to be a standby")


def test_a_forward_the_active_never_answers_is_a_502_and_is_never_sent_twice(trio_factory):
    # The forwarding timeout is the listener's max_request_duration.
    t = trio_factory("/ha-unanswered/", listener_extra='  max_request_duration = "3s"\n')
    a = t.active
    kv_mount(a)
    s = t.standbys()[0]
    # A forwarded write leaves the standby a pooled connection to the active.
    st, body = s.root("POST", "/v1/secret/data/k", {"data": {"v": "before"}})
    assert st == 200 and body["data"]["version"] == 1, (st, body)
    os.kill(a.proc.pid, signal.SIGSTOP)
    try:
        # Sent on that connection, then no answer: the standby cannot know
        # whether the active applied it, so it neither redirects (the client
        # would send a second copy) nor claims it was not done.
        st, _, data = s.request("POST", "/v1/secret/data/k", token=a.root_token, body={"data": {"v": "maybe"}})
    finally:
        os.kill(a.proc.pid, signal.SIGCONT)
    assert st == 502 and b"may or may not have been applied" in data, (st, data)
    # Whichever node leads once the woken one has noticed (or not) its loss.
    got = []

    def read_back():
        for n in t.nodes:
            st, body = n.root("GET", "/v1/secret/metadata/k")
            if st == 200:
                got[:] = [body]
                return True
        return False
    harness.wait_until(read_back, FAILOVER_BUDGET + 10, what="the key read on the active node")
    assert got[0]["data"]["current_version"] in (1, 2), got  # applied once or never


def test_losing_one_etcd_member_keeps_one_active_and_every_write(cluster, trio_factory):
    t = trio_factory("/ha-member/")
    kv_mount(t.active)
    acked = {}
    try:
        cluster.kill(0)  # the endpoint every node tries first
        for i in range(10):
            st, body = t.active.root("POST", "/v1/secret/data/m%d" % i, {"data": {"i": str(i)}})
            if st == 200:
                acked["m%d" % i] = str(i)
            else:
                # Only a failover between nodes may refuse a write, and then
                # clients go to the new active.
                assert st in (307, 503), (st, body, errors_in_log(t.active))
                t.active = t.wait_active()
        assert len(acked) >= 8, acked
        active = t.wait_active()
        for k, v in acked.items():
            st, body = active.root("GET", "/v1/secret/data/" + k)
            assert st == 200 and body["data"]["data"] == {"i": v}, (k, st, body)
    finally:
        cluster.start(0)
        cluster.wait_healthy()


def test_quorum_lost_then_back_no_active_meanwhile_and_nothing_acknowledged_lost(cluster, trio_factory):
    t = trio_factory("/ha-quorum/")
    a = t.active
    kv_mount(a)
    assert a.root("POST", "/v1/secret/data/before", {"data": {"v": "1"}})[0] == 200
    try:
        cluster.kill(1)
        cluster.kill(2)
        # Without a quorum no lease can be renewed: within the TTL (plus the
        # calls' timeouts) no node serves as the active, and no write is
        # acknowledged.
        harness.wait_until(lambda: not any(t.leader(n)["is_self"] for n in t.nodes), 15,
                           what="the active node to give up without a quorum")
        st, _, _ = a.request("POST", "/v1/secret/data/during", token=a.root_token, body={"data": {"v": "x"}},
                             timeout=30)
        assert st in (307, 503), st
    finally:
        cluster.start(1)
        cluster.start(2)
        cluster.wait_healthy()
    b = t.wait_active(timeout=30)
    st, body = b.root("GET", "/v1/secret/data/before")
    assert st == 200 and body["data"]["data"] == {"v": "1"}, body
    assert b.root("GET", "/v1/secret/data/during")[0] == 404
    assert b.root("POST", "/v1/secret/data/after", {"data": {"v": "2"}})[0] == 200


def cluster_port(node):
    m = re.search(r'cluster_address = "127.0.0.1:(\d+)"', open(node.config).read())
    return int(m.group(1))


def cluster_handshake(port, certfile=None, keyfile=None):
    """A TLS 1.3 connection to a cluster listener and one request: the status, or None if refused."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="sealbox-cluster") as tls:
                tls.sendall(b"GET /v1/sys/mounts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = tls.recv(4096)
                return int(data.split()[1]) if data else None
    except (ssl.SSLError, ConnectionError, OSError):
        return None


def test_the_cluster_listener_admits_only_the_cluster_certificate(trio_factory):
    t = trio_factory("/ha-cluster-tls/")
    a = t.active
    for n in t.nodes:
        port = cluster_port(n)
        # No client certificate, or one the API's CA signed: refused in the handshake.
        assert cluster_handshake(port) is None
        assert cluster_handshake(port, os.path.join(n.dir, "server.pem"), os.path.join(n.dir, "server.key")) is None
    # The leader advertises its cluster listener; standbys forward through it.
    lead = t.leader(t.standbys()[0])
    assert lead["leader_cluster_address"] == "https://127.0.0.1:%d" % cluster_port(a), lead
    st, body = t.standbys()[0].root("GET", "/v1/sys/mounts")
    assert st == 200 and "sys/" in body["data"], body
