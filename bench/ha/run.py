#!/usr/bin/env python3
"""HA on etcd (issue 22): durable writes per second through a 3-member etcd
cluster, failover time, and the references measured in the same run.

  SEALBOX_BIN=build/server/sealbox bench/ha/run.py [seconds] [rounds] [kills]

Runs, interleaved per round (wrk, 2 threads, 64 keep-alive connections):
  etcd-put        etcd's own put rate on the same cluster: POST /v3/kv/put
                  of a 1 KiB value through etcd's JSON gateway on the member
                  that leads (plain HTTP on loopback: etcd's cheapest path);
  sealbox-ha      KV v2 writes of the 1 KiB secret to the active node of three
                  Sealbox nodes (HA, fenced transactions) on that cluster;
  sealbox-rocksdb the same writes to one Sealbox node on RocksDB (fsync'd WAL).
Then reads of the same secret, interleaved per round:
  read-active     KV v2 reads on the active node;
  read-standby    the same reads sent to a standby, which serves them
                  itself, linearizably: one etcd read of the write index per
                  round of requests (docs/ha.md). CPU per request is the
                  standby's and the etcd members' together;
  read-forwarded  the same reads with X-Vault-Inconsistent:
                  forward-active-node, which the standby forwards to the
                  active over the cluster channel. CPU per request is the
                  standby's and the active's together.
Then `kills` times: kill -9 of the active node, the time until a survivor
reports is_self (polled every 20 ms), and the killed node restarted and
unsealed as a standby; median and maximum. Figures only, not a test.
"""

import base64
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402
import etcd_harness  # noqa: E402
import harness  # noqa: E402
from test_ha import Trio  # noqa: E402

SECONDS = sys.argv[1] if len(sys.argv) > 1 else "5"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
WRITE_LUA = os.path.join(os.path.dirname(HERE), "kv", "write.lua")
PUT_LUA = os.path.join(HERE, "etcd_put.lua")


def failover_times(trio, kills):
    times = []
    for _ in range(kills):
        old = trio.active
        t0 = time.monotonic()
        old.kill9()
        survivors = [n for n in trio.nodes if n is not old]
        found = []

        def new_active():
            found[:] = [n for n in survivors if trio.leader(n)["is_self"]]
            return bool(found)
        harness.wait_until(new_active, 30, interval=0.02, what="a new active node")
        times.append(time.monotonic() - t0)
        trio.active = found[0]
        old.start()
        old.unseal()
    return times


def read_figures(trio, cluster):
    active, standby = trio.active, trio.standbys()[0]
    etcd_pids = [m["proc"].pid for m in cluster.members if m.get("proc")]
    path = "/v1/secret/data/bench"
    print("\nreads of the 1 KiB secret, wrk 2 threads / 64 connections, %s s per run, %d rounds" % (SECONDS, ROUNDS))
    rep = common.Report()
    for _ in range(ROUNDS):
        rep.add("read-active", common.wrk(active.url + path, SECONDS, pid=active.proc.pid, token=active.root_token))
        rep.add("read-standby", common.wrk(standby.url + path, SECONDS, pid=standby.proc.pid,
                                           also=etcd_pids, token=active.root_token))
        rep.add("read-forwarded", common.wrk(standby.url + path, SECONDS, pid=standby.proc.pid,
                                             also=[active.proc.pid], token=active.root_token,
                                             headers=["X-Vault-Inconsistent: forward-active-node"]))
    rep.table()
    print()
    rep.ratio("read-standby/read-active")
    rep.ratio("read-standby/read-forwarded")


def main():
    cluster = etcd_harness.EtcdCluster()
    trio = single = None
    try:
        trio = Trio(cluster, "/bench-ha/", log_level="warn")
        single = harness.Server(log_level="warn").start()
        single.init(shares=1, threshold=1)
        single.unseal()
        for s in (trio.active, single):
            common.kv_secret(s)
        lead = cluster.leader() or 0
        etcd_url = cluster.client_url(lead)
        value = base64.b64encode(common.VALUE_1K.encode()).decode()
        print("writes of a 1 KiB value, wrk 2 threads / 64 connections, %s s per run, %d rounds; "
              "etcd member %d leads" % (SECONDS, ROUNDS, lead), flush=True)
        rep = common.Report()
        for _ in range(ROUNDS):
            rep.add("etcd-put", common.wrk(etcd_url, SECONDS, pid=cluster.members[lead]["proc"].pid,
                                           script=PUT_LUA, args=[value]))
            rep.add("sealbox-ha", common.wrk(trio.active.url, SECONDS, pid=trio.active.proc.pid,
                                             token=trio.active.root_token, script=WRITE_LUA))
            rep.add("sealbox-rocksdb", common.wrk(single.url, SECONDS, pid=single.proc.pid,
                                                  token=single.root_token, script=WRITE_LUA))
        rep.table()
        print()
        rep.ratio("sealbox-ha/etcd-put")
        rep.ratio("sealbox-ha/sealbox-rocksdb")
        read_figures(trio, cluster)
        times = failover_times(trio, KILLS)
        print("\nfailover after kill -9 of the active, %d kills, lock_timeout %d s: median %.2f s, max %.2f s"
              % (KILLS, 2, statistics.median(times), max(times)))
        print("  each: " + " ".join("%.2f" % t for t in times))
    finally:
        if trio:
            trio.cleanup()
        if single:
            single.cleanup()
        cluster.cleanup()


if __name__ == "__main__":
    main()
