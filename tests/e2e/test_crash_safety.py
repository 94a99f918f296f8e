"""Crash safety (issue 9): clients write KV v2 versions while the server is
killed with SIGKILL at random points, again and again. After every restart
and unseal, every write that got a 2xx must be there, intact, under the
version number it was acknowledged with, and no version number may be reused
for a different value. The figures (kills, writes verified) are printed."""
import os
import random
import threading

import harness

KILLS = int(os.environ.get("SEALBOX_CRASH_KILLS", "50"))
WRITERS = 4
REUSED = []  # version numbers acknowledged for two different values


class Writer(threading.Thread):
    """Writes versions of one key until the server goes away."""

    def __init__(self, srv, key, acked, lock, round_no):
        super().__init__(daemon=True)
        self.srv, self.key, self.acked, self.lock, self.round_no = srv, key, acked, lock, round_no

    def run(self):
        n = 0
        while True:
            n += 1
            value = "r%d-w%s-n%d-%s" % (self.round_no, self.key, n, os.urandom(6).hex())
            try:
                st, body = self.srv.raw("POST", "/v1/secret/data/" + self.key, self.srv.root_token,
                                        {"data": {"v": value}}, timeout=10)
            except (OSError, ValueError):
                return  # the server is gone: whatever was in flight is unacknowledged
            if st != 200:
                return
            version = body["data"]["version"]
            with self.lock:
                seen = self.acked.setdefault(self.key, {})
                if version in seen:  # reported by the main thread
                    REUSED.append("version %d of %s acknowledged twice (%r, %r)" % (
                        version, self.key, seen[version], value))
                    return
                seen[version] = value


def total(acked):
    return sum(len(v) for v in acked.values())


def verify(srv, acked, only_new=None):
    checked = 0
    for key, versions in acked.items():
        st, meta = srv.root("GET", "/v1/secret/metadata/" + key)
        assert st == 200, meta
        assert meta["data"]["current_version"] >= max(versions), (key, meta["data"]["current_version"])
        for v, value in versions.items():
            if only_new is not None and (key, v) not in only_new:
                continue
            st, body = srv.root("GET", "/v1/secret/data/%s?version=%d" % (key, v))
            assert st == 200, (key, v, body)
            assert body["data"]["data"] == {"v": value}, (key, v, body["data"])
            assert body["data"]["metadata"]["version"] == v
            checked += 1
    return checked


def test_acknowledged_writes_survive_repeated_kill9():
    srv = harness.Server()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    try:
        srv.start()
        srv.init(1, 1)
        srv.unseal(srv.keys)
        assert srv.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
        assert srv.root("POST", "/v1/secret/config", {"max_versions": 100000})[0] in (200, 204)
        acked, lock = {}, threading.Lock()
        checked = 0
        for round_no in range(KILLS):
            before = {(k, v) for k, vs in acked.items() for v in vs}
            writers = [Writer(srv, "k%d" % i, acked, lock, round_no) for i in range(WRITERS)]
            for w in writers:
                w.start()
            # Kill after a random number of acknowledged writes this round
            # (0 now and then: a kill with requests barely started).
            goal = total(acked) + rng.choice([0, 1, 3, 7, 15, 30])
            harness.wait_until(lambda: total(acked) >= goal or not any(w.is_alive() for w in writers), 30,
                               interval=0.001, what="writes before the kill")
            srv.kill9()
            for w in writers:
                w.join(15)
                assert not w.is_alive(), "a writer hung after the kill"
            srv.start()
            srv.unseal(srv.keys)
            assert not REUSED, REUSED
            new = {(k, v) for k, vs in acked.items() for v in vs} - before
            checked += verify(srv, acked, only_new=new)
        # A final full pass over everything ever acknowledged.
        checked += verify(srv, acked)
        print("\ncrash-safety: %d kill -9 survived, %d acknowledged writes, %d reads verified"
              % (KILLS, total(acked), checked))
        assert total(acked) >= KILLS  # the loop really wrote under fire
    finally:
        srv.cleanup()
