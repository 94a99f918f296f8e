"""Where a request runs follows the route it resolves to (issue 20, item 3;
issue 21). The attack: the thread was once chosen from the raw request target,
before percent-decoding, so `GET /v1/d%62/creds/slow` (a database role whose
statement sleeps) ran PostgreSQL work on the I/O loops and froze every other
client. Now the decoded path binds the route, and the database engine declares
its credential reads as waiting work: the I/O loops stay free."""

import threading
import time

import pytest

import harness
from pg_harness import Postgres

SLEEP_S = 3


@pytest.fixture(scope="module")
def env():
    pg = Postgres()
    s = harness.Server().start()
    s.init()
    s.unseal()
    t = s.root_token
    assert s.raw("POST", "/v1/sys/mounts/db", t, {"type": "database"})[0] == 204
    st, b = s.raw("POST", "/v1/db/config/pg", t, {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["slow"]})
    assert st == 204, b
    assert s.raw("POST", "/v1/db/roles/slow", t, {
        "db_name": "pg", "default_ttl": "1h",
        "creation_statements": ["SELECT pg_sleep(%d);" % SLEEP_S,
                                "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}';"]})[0] == 204
    yield s
    s.cleanup()
    pg.cleanup()


@pytest.mark.parametrize("path", ["/v1/d%62/creds/slow", "/v1/db/cr%65ds/sl%6fw", "/v1/db/creds/slow"])
def test_slow_backend_work_never_holds_the_io_threads(env, path):
    s = env
    # More slow requests than the server has I/O loops (one per core).
    slow = [threading.Thread(target=lambda: results.append(s.raw("GET", path, s.root_token)[0]))
            for _ in range(4)]
    results = []
    started = time.monotonic()
    for th in slow:
        th.start()
    # While they sleep in PostgreSQL, another client's health checks answer fast.
    times = []
    while time.monotonic() - started < SLEEP_S - 0.5:
        t0 = time.monotonic()
        st, _ = s.raw("GET", "/v1/sys/health", timeout=10)
        times.append(time.monotonic() - t0)
        assert st == 200
    for th in slow:
        th.join(60)
    assert results == [200] * 4
    # A frozen loop costs the whole sleep (3 s) per check; a loaded machine
    # (sanitizers, parallel tests) costs a few tens of milliseconds at worst.
    times.sort()
    median, worst = times[len(times) // 2], times[-1]
    assert median < 0.1 and worst < 1.0, "sys/health took %.3f s (median %.3f s) while reads slept" % (worst, median)
