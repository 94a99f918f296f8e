#!/usr/bin/env python3
"""AppRole logins per second at 16 concurrent connections: Sealbox against
OpenBao (one node each, durable storage, the same certificate), in the same
run. A login is a role lookup, a secret-id check (stored hashed, compared in
constant time) and a durably stored token; the secret-ids have no use limit,
so nothing else is written per login. Figures only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/approle/run.py [seconds] [rounds]

Load: wrk, 2 threads, 16 keep-alive connections, bench/k8s/wrk.lua's body
mode POSTing {"role_id":..,"secret_id":..} to /v1/auth/approle/login,
cycling through a pool of secret-ids of one role. Rounds interleave Sealbox
and OpenBao; a run with any answer outside 2xx is marked.
"""

import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

SECONDS = sys.argv[1] if len(sys.argv) > 1 else "5"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
CONNECTIONS = 16
SECRET_IDS = 64
LUA = os.path.join(os.path.dirname(HERE), "k8s", "wrk.lua")


def login_bodies(server):
    """Enables AppRole with role "app"; returns one login body per secret-id."""
    common.must(server.root("POST", "/v1/sys/auth/approle", {"type": "approle"}))
    common.must(server.root("POST", "/v1/auth/approle/role/app", {
        "token_policies": ["default"], "token_ttl": "1h", "secret_id_num_uses": 0}))
    role_id = common.must(server.root("GET", "/v1/auth/approle/role/app/role-id"), 200)["data"]["role_id"]
    bodies = []
    for _ in range(SECRET_IDS):
        got = common.must(server.root("POST", "/v1/auth/approle/role/app/secret-id", {}), 200)
        bodies.append(json.dumps({"role_id": role_id, "secret_id": got["data"]["secret_id"]}))
    # One login by hand first: the pool must work before it is measured.
    common.must(server.raw("POST", "/v1/auth/approle/login", body=json.loads(bodies[0])), 200)
    return bodies


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing (apt-get install wrk)")
    s, b = common.pair()
    tmp = tempfile.mkdtemp(prefix="sealbox-bench-approle-")
    try:
        pools = {name: common.write_lines(os.path.join(tmp, name), login_bodies(srv))
                 for name, srv in (("sealbox", s), ("openbao", b))}
        print("AppRole login, wrk 2 threads / %d connections, %s s per run, %d rounds, %d secret-ids" % (
            CONNECTIONS, SECONDS, ROUNDS, SECRET_IDS), flush=True)
        rep = common.Report()
        for _ in range(ROUNDS):
            for label, srv, pool in (("sealbox-login", s, pools["sealbox"]), ("openbao-login", b, pools["openbao"])):
                rep.add(label, common.wrk(srv.url, SECONDS, pid=srv.proc.pid, conns=CONNECTIONS, script=LUA,
                                          args=[pool, "body", "/v1/auth/approle/login"]))
        rep.table()
        print()
        rep.ratio("sealbox-login/openbao-login")
        rep.ratio("cpu_us:openbao-login/sealbox-login")
    finally:
        b.cleanup()
        s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
