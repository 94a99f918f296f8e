"""Connection-slot exhaustion (issue 20, item 4). The attack: 4,096 idle TCP
sockets from one address filled max_connections, and new clients were
dropped for as long as the attacker reconnected. Now one address holds at
most max_connections_per_address (512) connections, a socket that never
starts TLS is closed after tls_handshake_timeout (5 s), and the last eighth
of max_connections is kept for light clients."""
import os
import resource
import selectors
import socket
import threading
import time

import pytest

from harness import Server, wait_until

ATTACKER = "127.0.0.2"
ATTACK_SOCKETS = 4300  # past the global cap of 4096
RECONNECTS_PER_SECOND = 2000


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip("RLIMIT_NOFILE hard limit %d is below the %d sockets the attack needs" % (hard, need))
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else hard, hard))


def attacker_socket(port):
    s = socket.socket()
    s.bind((ATTACKER, 0))
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return s


class IdleAttacker(threading.Thread):
    """Holds `count` idle sockets (no TLS, no byte sent) from 127.0.0.2 and
    replaces each one the server closes, while `reconnect` is set."""

    def __init__(self, port, count):
        super().__init__(daemon=True)
        self.port, self.count = port, count
        self.sel = selectors.DefaultSelector()
        self.opened = 0
        self.closed_by_server = 0
        self.errors = 0
        self.reconnect = threading.Event()
        self.reconnect.set()
        self.done = threading.Event()
        self.burst_sent = threading.Event()

    def open_one(self):
        try:
            self.sel.register(attacker_socket(self.port), selectors.EVENT_READ)
            self.opened += 1
        except OSError:
            self.errors += 1  # out of ports or buffers: try again on the next round

    def run(self):
        for _ in range(self.count):
            self.open_one()
        self.burst_sent.set()
        budget, second = RECONNECTS_PER_SECOND, time.monotonic()
        while not self.done.is_set():
            for key, _ in self.sel.select(timeout=0.05):
                self.sel.unregister(key.fileobj)
                key.fileobj.close()
                self.closed_by_server += 1
                if self.reconnect.is_set() and budget > 0:
                    budget -= 1
                    self.open_one()
            if time.monotonic() - second >= 1:
                budget, second = RECONNECTS_PER_SECOND, time.monotonic()

    def still_open(self):
        return len(self.sel.get_map())

    def close_all(self):
        self.done.set()
        self.join(10)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def timed_health(s):
    t0 = time.monotonic()
    st, _ = s.raw("GET", "/v1/sys/health", timeout=5)
    return st, time.monotonic() - t0


def test_idle_sockets_from_one_address_do_not_lock_out_other_clients():
    raise_fd_limit(ATTACK_SOCKETS + 1024)
    s = Server()
    attacker = None
    try:
        s.start()
        s.init(1, 1)
        s.unseal(s.keys)
        baseline_fds = open_fds(s.proc.pid)
        attacker = IdleAttacker(s.port, ATTACK_SOCKETS)
        attacker.start()
        assert attacker.burst_sent.wait(60), "the attacker could not open its sockets"
        # "Taken" is most of the cap, not all of it: the baseline may still
        # count the set-up's own connections (closed a moment later), and held
        # sockets close at the handshake timeout while the attacker, slowed on
        # a loaded machine, reconnects.
        wait_until(lambda: open_fds(s.proc.pid) >= baseline_fds + 384, 30, what="the server to take the attack")
        # For three seconds of the attacker reconnecting, another client is
        # served at once, each time on a new connection.
        served, deadline = 0, time.monotonic() + 3
        while time.monotonic() < deadline:
            st, took = timed_health(s)
            assert st == 200 and took < 1.0, (st, took)
            served += 1
        assert served >= 5
        # The server refuses what is past the per-address cap at once.
        assert attacker.closed_by_server >= ATTACK_SOCKETS - 512 - 100
        assert open_fds(s.proc.pid) <= baseline_fds + 512 + 64
        # Idle sockets that never start TLS do not hold their slots for long.
        attacker.reconnect.clear()
        wait_until(lambda: attacker.still_open() == 0, 15, what="idle pre-TLS sockets to be closed by the server")
        assert attacker.errors < ATTACK_SOCKETS // 10, attacker.errors
        assert "max_connections_per_address (512) reached by a client address" in s.log()
        assert timed_health(s)[0] == 200
    finally:
        if attacker:
            attacker.close_all()
        s.cleanup()


def test_per_address_cap_and_handshake_timeout_are_configurable():
    s = Server(listener_extra='  max_connections_per_address = 4\n  tls_handshake_timeout = "1s"\n')
    held = []
    try:
        s.start()
        s.init(1, 1)
        s.unseal(s.keys)
        held = [attacker_socket(s.port) for _ in range(4)]  # accepted in order: the fifth is past the cap
        fifth = attacker_socket(s.port)
        fifth.setblocking(True)
        fifth.settimeout(5)
        t0 = time.monotonic()
        assert fifth.recv(1) == b""  # closed at once, before any TLS
        assert time.monotonic() - t0 < 0.9
        fifth.close()
        st, took = timed_health(s)  # another address still gets in
        assert st == 200 and took < 1.0, (st, took)
        # The four idle ones are closed by the handshake timeout.
        t0 = time.monotonic()
        for h in held:
            h.setblocking(True)
            h.settimeout(5)
            try:
                assert h.recv(1) == b""
            except ConnectionResetError:
                pass
        assert time.monotonic() - t0 < 3.0
    finally:
        for h in held:
            h.close()
        s.cleanup()


def test_room_is_kept_under_the_global_cap_for_light_clients():
    """With max_connections 16, one address may take its own cap (16) only
    until 14 connections are open: the last eighth stays for addresses that
    hold fewer than an eighth of theirs (2)."""
    s = Server(listener_extra='  max_connections = 16\n  max_connections_per_address = 16\n'
                              '  tls_handshake_timeout = "60s"\n')
    held = []
    try:
        s.start()
        s.init(1, 1)
        s.unseal(s.keys)
        held = [attacker_socket(s.port) for _ in range(16)]
        for late in held[14:]:  # closed at once, before TLS
            late.setblocking(True)
            late.settimeout(5)
            assert late.recv(1) == b""
        for early in held[:14]:  # still held (idle, waiting for TLS)
            with pytest.raises(BlockingIOError):
                early.recv(1)
        st, took = timed_health(s)
        assert st == 200 and took < 1.0, (st, took)
        assert "14 of max_connections (16) in use" in s.log()
    finally:
        for h in held:
            h.close()
        s.cleanup()
