#!/usr/bin/env python3
"""JWT auth logins per second at 16 concurrent connections: Sealbox against
OpenBao (one node each, the same certificate), both verifying the
Kubernetes API stand-in's service-account tokens (tests/k8s/standin) with
keys from its JWKS URL, cached after the config write: a login is a
signature check, the role's claim checks and a durably stored token, with
no call out. Figures only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/jwt/run.py [seconds] [rounds]

Load: wrk, 2 threads, 16 keep-alive connections, bench/k8s/wrk.lua's login
mode on auth/jwt cycling through a pool of pre-minted RS256 JWTs (audience
"vault"). Rounds interleave Sealbox and OpenBao; a run with any answer
outside 2xx is marked.
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
LUA = os.path.join(os.path.dirname(HERE), "k8s", "wrk.lua")


def configure(server, k, first_jwt):
    common.must(server.root("POST", "/v1/sys/auth/jwt", {"type": "jwt"}))
    common.must(server.root("POST", "/v1/auth/jwt/config", {"jwks_url": k.url + "/openid/v1/jwks",
                                                            "jwks_ca_pem": k.ca_pem, "bound_issuer": k.issuer}))
    common.must(server.root("POST", "/v1/auth/jwt/role/app", {
        "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["vault"],
        "claim_mappings": {"/kubernetes.io/namespace": "namespace"}}))
    # One login by hand first: the pool must work before it is measured.
    common.must(server.raw("POST", "/v1/auth/jwt/login", body={"role": "app", "jwt": first_jwt}), 200)


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing (apt-get install wrk)")
    s, b = common.pair()
    k = Kube(s.dir)
    tmp = tempfile.mkdtemp(prefix="sealbox-bench-jwt-")
    try:
        pool, first = common.kube_jwt_pool(k, tmp, POOL)
        configure(s, k, first)
        configure(b, k, first)
        print("JWT login (JWKS), wrk 2 threads / %d connections, %s s per run, %d rounds, pool of %d JWTs" % (
            CONNECTIONS, SECONDS, ROUNDS, POOL))
        rep = common.Report()
        for _ in range(ROUNDS):
            common.login_round(rep, s, b, SECONDS, CONNECTIONS, LUA, [pool, "login", "app", "jwt"])
        rep.table()
        print()
        rep.ratio("sealbox-login/openbao-login")
        rep.ratio("cpu_us:openbao-login/sealbox-login")
    finally:
        k.stop()
        b.cleanup()
        s.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
