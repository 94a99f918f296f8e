#!/usr/bin/env python3
"""Token create per second: Sealbox against OpenBao (one node, integrated
raft storage, the same certificate), interleaved rounds in the same run.
Figures only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/tokens/run.py [seconds] [rounds]

Load: wrk, 2 threads, 64 keep-alive connections, POST {"ttl":"1h"} with the
root token (bench/tokens/create.lua) to
  auth/token/create         a child of root (the default; every create
                            also writes an entry under its parent), and
  auth/token/create-orphan  no parent.
Each answer is a new service token, durably stored before it is returned
(Sealbox: RocksDB WAL fsync; OpenBao: raft log and FSM, bbolt). In OpenBao
each such token also gets a lease in its expiration manager. Runs under the
venv python (.venv/bin/python; bench/common.py re-executes with it).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

SECONDS = sys.argv[1] if len(sys.argv) > 1 else "5"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
LUA = os.path.join(HERE, "create.lua")


def main():
    s, b = common.pair()
    try:
        print("token create, wrk 2 threads / 64 connections, %s s per run, %d rounds" % (SECONDS, ROUNDS))
        rep = common.Report()
        for _ in range(ROUNDS):
            for kind in ("create", "create-orphan"):
                for name, srv in (("sealbox", s), ("openbao", b)):
                    rep.add("%s-%s" % (name, kind), common.wrk(
                        srv.url + "/v1/auth/token/" + kind, SECONDS, pid=srv.proc.pid, token=srv.root_token,
                        script=LUA, args=["1h"]))
        rep.table()
        print()
        for kind in ("create", "create-orphan"):
            rep.ratio("sealbox-%s/openbao-%s" % (kind, kind))
            rep.ratio("cpu_us:openbao-%s/sealbox-%s" % (kind, kind))
    finally:
        b.cleanup()
        s.cleanup()


if __name__ == "__main__":
    main()
