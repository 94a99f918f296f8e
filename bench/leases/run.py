#!/usr/bin/env python3
"""Memory and unseal time with 100,000 leases: Sealbox against OpenBao (one
node, integrated raft storage, the same certificate), same run. Figures
only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/leases/run.py [leases]

What is leased: service tokens with a TTL (24 h), created with the root
token through POST auth/token/create-orphan by wrk (64 connections, bench/tokens/
create.lua), the same requests against both servers, one server at a time.
Both must keep each one across restarts and revoke it at expiry. OpenBao
registers every such token as a lease in its expiration manager
(sys/expire/id/auth/token/create-orphan/...); Sealbox keeps it in the token store
with an expiry index. They are the only leased objects both can create by
the 100,000 in a minute or two without a third system (100,000 database
credentials would be 200,000 PostgreSQL roles and several minutes). Orphans,
because Sealbox serialises the children of one parent (bench/tokens/run.py
shows both); the leases are the same either way.

Figures (VmRSS from /proc/<pid>/status; RssAnon, the part that is not
mapped files such as bbolt's or RocksDB's, is printed too):
  idle RSS        after init, unseal, a KV v2 mount and one 1 KiB secret, 2 s settle;
  RSS with leases after the tokens are created, 2 s settle;
  unseal time     after a restart on the same data: from the moment the last
                  (only) unseal key is PUT until a KV v2 read of the secret
                  answers 200 (OpenBao must also win its raft election);
  RSS after unseal, right away and 5 s later (OpenBao restores its leases
                  in the background after it becomes active).
Runs under the venv python (.venv/bin/python; bench/common.py re-executes
with it).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402

LEASES = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
THREADS, CONNS = 2, 64
LUA = os.path.join(HERE, "..", "tokens", "create.lua")


def create_tokens(srv, tmp):
    """LEASES tokens with a TTL; returns (2xx answers, seconds). wrk waits
    for its -d even when every thread has stopped: SIGINT ends it once each
    thread has marked itself done."""
    marker = os.path.join(tmp, "done-%d" % srv.proc.pid)
    cmd = common.wrk_cmd(srv.url + "/v1/auth/token/create-orphan", 900, conns=CONNS, threads=THREADS,
                         token=srv.root_token, script=LUA, args=["24h", str(-(-LEASES // THREADS)), marker])
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while p.poll() is None and _lines(marker) < THREADS:
        time.sleep(0.05)
    secs = time.monotonic() - t0
    p.send_signal(signal.SIGINT)
    out = p.communicate(timeout=60)[0]
    return int(re.search(r"^CREATED (\d+)", out, re.M).group(1)), secs


def _lines(path):
    try:
        with open(path) as f:
            return len(f.readlines())
    except OSError:
        return 0


def count_tokens(srv):
    """Accessors the server lists (every token, root included)."""
    body = common.must(srv.root("LIST", "/v1/auth/token/accessors"), 200)
    return len(body["data"]["keys"])


def time_unseal(srv, key):
    """Restart on the same data; ms from the unseal PUT to the first KV read
    answered 200, and RSS sealed / right after / 5 s after."""
    srv.restart()
    pid = srv.proc.pid
    sealed = common.rss_kb(pid)
    t0 = time.perf_counter()
    common.must(srv.raw("PUT", "/v1/sys/unseal", body={"key": key}), 200)
    put_ms = (time.perf_counter() - t0) * 1000
    deadline = time.time() + 120
    while srv.raw("GET", "/v1/secret/data/bench", srv.root_token)[0] != 200:
        if time.time() > deadline:
            raise RuntimeError("no KV read 2 min after unseal")
        time.sleep(0.002)
    ms = (time.perf_counter() - t0) * 1000
    after = common.rss_kb(pid)
    time.sleep(5)
    return {"unseal_ms": ms, "put_ms": put_ms, "rss_sealed": sealed, "rss_unsealed": after,
            "rss_unsealed_5s": common.rss_kb(pid)}


def measure(name, srv, tmp):
    common.kv_secret(srv)
    time.sleep(2)
    f = {"rss_idle": common.rss_kb(srv.proc.pid), "anon_idle": common.rss_kb(srv.proc.pid, "RssAnon")}
    created, secs = create_tokens(srv, tmp)
    time.sleep(2)
    f.update(rss_leases=common.rss_kb(srv.proc.pid), anon_leases=common.rss_kb(srv.proc.pid, "RssAnon"),
             created=created, create_s=secs, listed=count_tokens(srv))
    print("%-8s idle RSS %.1f MB; %d tokens answered in %.1f s (%.0f/s), %d stored (accessors listed, less "
          "root); RSS with them %.1f MB" % (name, f["rss_idle"] / 1024, created, secs, created / secs,
                                             f["listed"] - 1, f["rss_leases"] / 1024),
        flush=True)
    f.update(time_unseal(srv, srv.keys[0]))
    print("%-8s restart + unseal: PUT answered in %.1f ms, KV read served %.1f ms after the PUT; RSS sealed %.1f MB, "
          "unsealed %.1f MB, 5 s later %.1f MB" % (name, f["put_ms"], f["unseal_ms"], f["rss_sealed"] / 1024,
                                                   f["rss_unsealed"] / 1024, f["rss_unsealed_5s"] / 1024), flush=True)
    return f


def main():
    s, b = common.pair()
    tmp = tempfile.mkdtemp(prefix="sealbox-bench-leases-")
    try:
        print("%d leases (tokens with a 24 h TTL), wrk %d threads / %d connections, one server at a time" % (
            LEASES, THREADS, CONNS), flush=True)
        fs = measure("sealbox", s, tmp)
        fb = measure("openbao", b, tmp)
        print("\n%-38s %12s %12s %16s" % ("", "Sealbox", "OpenBao", "Sealbox/OpenBao"))
        rows = [("idle RSS (MB)", "rss_idle", 1024, True), ("RSS with leases (MB)", "rss_leases", 1024, True),
                ("  of which anonymous, idle (MB)", "anon_idle", 1024, False),
                ("  of which anonymous, with leases (MB)", "anon_leases", 1024, False),
                ("RSS after restart+unseal+5 s (MB)", "rss_unsealed_5s", 1024, False),
                ("unseal to KV read (ms)", "unseal_ms", 1, False), ("token create rate (/s)", None, 1, False)]
        for title, key, div, target in rows:
            a = fs[key] / div if key else fs["created"] / fs["create_s"]
            o = fb[key] / div if key else fb["created"] / fb["create_s"]
            met = ("  (target <= 1/3: %s)" % ("met" if a / o <= 1 / 3 else "not met")) if target else ""
            print("%-38s %12.1f %12.1f %16.2f%s" % (title, a, o, a / o, met))
    finally:
        b.cleanup()
        s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
