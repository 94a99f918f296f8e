#!/usr/bin/env python3
"""Kubernetes logins per second at 16 concurrent connections against the
Kubernetes API stand-in (tests/k8s/standin, Go) on loopback, with the
stand-in's own TokenReview rate measured alone in the same run as the
reference (issue 7: login >= 0.7x the reference and >= 2,000/s). Figures
only, not a test.

  SEALBOX_BIN=/tmp/hb-k8s/server/sealbox bench/k8s/run.py [seconds] [rounds]

Load: wrk, 2 threads, 16 keep-alive connections, with bench/k8s/wrk.lua
cycling through a pool of pre-minted projected JWTs (audience "vault").
  reference: POST /apis/authentication.k8s.io/v1/tokenreviews on the stand-in
             with the reviewer's bearer and the body Sealbox sends;
  login:     POST /v1/auth/kubernetes/login {"role":"app","jwt":..} on Sealbox
             (which does that TokenReview, then issues and stores a token).
Every answer outside 2xx is counted; a run with any is reported INVALID.
The stand-in binary is SEALBOX_K8S_STANDIN, else <build>/tests/k8s/k8s-standin
next to SEALBOX_BIN.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
import harness  # noqa: E402
from test_kubernetes import Kube  # noqa: E402

SECONDS = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
CONNECTIONS = 16
THREADS = 2
POOL = 256
LUA = os.path.join(HERE, "wrk.lua")


def wrk(url, args):
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS, "-d%ds" % SECONDS, "--timeout", "10s", "-s", LUA, url,
           "--"] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 60)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[len("RESULT "):])
            r["rate"] = r["requests"] / (r["duration_us"] / 1e6)
            return r
    raise RuntimeError("wrk failed (%d): %s %s" % (p.returncode, p.stdout, p.stderr))


def line(name, r):
    ok = r["non2xx"] == 0 and r["socket_errors"] == 0
    return "%-28s %8.0f /s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %d  socket errors %d%s" % (
        name, r["rate"], r["p50_us"] / 1000, r["p99_us"] / 1000, r["non2xx"], r["socket_errors"],
        "" if ok else "  INVALID")


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing (apt-get install wrk)")
    s = harness.Server(log_level="warn").start()
    s.init()
    s.unseal()
    k = Kube(s.dir)
    tmp = tempfile.mkdtemp(prefix="sealbox-bench-k8s-")  # the JWT pool stays out of the server's directory
    try:
        t = s.root_token
        assert s.raw("POST", "/v1/sys/auth/kubernetes", t, {"type": "kubernetes"})[0] == 204
        assert s.raw("POST", "/v1/auth/kubernetes/config", t, {
            "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": k.reviewer_token,
            "disable_local_ca_jwt": True})[0] == 204
        assert s.raw("POST", "/v1/auth/kubernetes/role/app", t, {
            "bound_service_account_names": ["app"], "bound_service_account_namespaces": ["prod"],
            "audience": "vault"})[0] == 204
        k.sa("prod", "app")
        pool = os.path.join(tmp, "jwts")
        with open(pool, "w") as f:
            for _ in range(POOL):
                f.write(k.token("prod", "app", audiences=["vault"]) + "\n")
        # One login by hand first: the pool must work before it is measured.
        with open(pool) as f:
            st, b = s.raw("POST", "/v1/auth/kubernetes/login", body={"role": "app", "jwt": f.readline().strip()})
        assert st == 200, b

        print("Kubernetes login, wrk %d threads / %d connections, %d s each, loopback, pool of %d JWTs" % (
            THREADS, CONNECTIONS, SECONDS, POOL))
        print("sealbox pid %d, stand-in pid %d" % (s.proc.pid, k.proc.pid), flush=True)
        for n in range(ROUNDS):
            ref = wrk(k.url, [pool, "review", k.reviewer_token, "vault"])
            got = wrk(s.url, [pool, "login", "app"])
            if ROUNDS > 1:
                print("round %d" % (n + 1))
            print(line("stand-in TokenReview alone", ref))
            print(line("sealbox login", got))
            valid = all(r["non2xx"] == 0 and r["socket_errors"] == 0 for r in (ref, got))
            print("ratio login/TokenReview: %.2f (target >= 0.7; logins target >= 2000/s)%s" % (
                got["rate"] / ref["rate"], "" if valid else "  INVALID RUN"), flush=True)
    finally:
        k.stop()
        s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
