#!/usr/bin/env python3
"""Kubernetes logins per second at 16 concurrent connections: Sealbox against
OpenBao (one node, integrated raft storage, the same certificate, the same
Kubernetes API stand-in, tests/k8s/standin, Go, on loopback, the same role
and JWTs). The stand-in's own TokenReview rate is measured alone in the same
rounds, for information only: a login contains a review, so it can never be
cheaper than one (issue 18 retired that ratio's target; the target is
login >= 3x OpenBao). Figures only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/k8s/run.py [seconds] [rounds]

Load: wrk, 2 threads, 16 keep-alive connections, with bench/k8s/wrk.lua
cycling through a pool of pre-minted projected JWTs (audience "vault").
  reference: POST /apis/authentication.k8s.io/v1/tokenreviews on the stand-in
             with the reviewer's bearer and the body Sealbox sends;
  login:     POST /v1/auth/kubernetes/login {"role":"app","jwt":..} on each
             server (which does that TokenReview, then issues and durably
             stores a token; OpenBao also registers its lease).
Rounds interleave stand-in, Sealbox, OpenBao. Every answer outside 2xx is
counted; a run with any is marked. The stand-in binary is
SEALBOX_K8S_STANDIN, else <build>/tests/k8s/k8s-standin next to SEALBOX_BIN.
Runs under the venv python (.venv/bin/python; bench/common.py re-executes
with it).
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402
from test_kubernetes import Kube  # noqa: E402  (tests/e2e, on the path common sets)

SECONDS = sys.argv[1] if len(sys.argv) > 1 else "5"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
CONNECTIONS = 16
POOL = 256
LUA = os.path.join(HERE, "wrk.lua")


def configure(server, k, first_jwt):
    common.must(server.root("POST", "/v1/sys/auth/kubernetes", {"type": "kubernetes"}))
    common.must(server.root("POST", "/v1/auth/kubernetes/config", {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": k.reviewer_token,
        "disable_local_ca_jwt": True}))
    common.must(server.root("POST", "/v1/auth/kubernetes/role/app", {
        "bound_service_account_names": ["app"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault"}))
    # One login by hand first: the pool must work before it is measured.
    common.must(server.raw("POST", "/v1/auth/kubernetes/login", body={"role": "app", "jwt": first_jwt}), 200)


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing (apt-get install wrk)")
    s, b = common.pair()
    k = Kube(s.dir)
    tmp = tempfile.mkdtemp(prefix="sealbox-bench-k8s-")  # the JWT pool stays out of the servers' directories
    try:
        pool, first = common.kube_jwt_pool(k, tmp, POOL)
        configure(s, k, first)
        configure(b, k, first)
        print("Kubernetes login, wrk 2 threads / %d connections, %s s per run, %d rounds, pool of %d JWTs" % (
            CONNECTIONS, SECONDS, ROUNDS, POOL))
        print("sealbox pid %d, openbao pid %d, stand-in pid %d" % (s.proc.pid, b.proc.pid, k.proc.pid), flush=True)
        rep = common.Report()
        for _ in range(ROUNDS):
            rep.add("standin-tokenreview", common.wrk(k.url, SECONDS, pid=k.proc.pid, conns=CONNECTIONS,
                                                      script=LUA, args=[pool, "review", k.reviewer_token, "vault"]))
            common.login_round(rep, s, b, SECONDS, CONNECTIONS, LUA, [pool, "login", "app"])
        rep.table()
        print()
        rep.ratio("sealbox-login/openbao-login>=3")
        rep.ratio("cpu_us:openbao-login/sealbox-login")
        rep.ratio("sealbox-login/standin-tokenreview")  # information only: no target since issue 18
    finally:
        k.stop()
        b.cleanup()
        s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
