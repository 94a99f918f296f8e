#!/usr/bin/env python3
"""Kubernetes logins per second at 16 concurrent clients against the
TokenReview stand-in on loopback, with the stand-in's own TokenReview rate
measured alone in the same run as the reference. Figures only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/k8s/run.py [seconds]
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))
import harness  # noqa: E402
import requests  # noqa: E402
from test_kubernetes import Kube  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
CLIENTS = 16


def hammer(fn):
    counts, lat = [0] * CLIENTS, [[] for _ in range(CLIENTS)]
    stop = time.time() + SECONDS

    def worker(i):
        sess = requests.Session()
        while time.time() < stop:
            t0 = time.perf_counter()
            fn(sess)
            lat[i].append(time.perf_counter() - t0)
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_lat = sorted(x for l in lat for x in l)
    n = sum(counts)
    return n / SECONDS, all_lat[len(all_lat) // 2] * 1000, all_lat[int(len(all_lat) * 0.99)] * 1000


def main():
    s = harness.Server(log_level="warn").start()
    s.init()
    s.unseal()
    k = Kube(s.dir)
    try:
        t = s.root_token
        s.raw("POST", "/v1/sys/auth/kubernetes", t, {"type": "kubernetes"})
        s.raw("POST", "/v1/auth/kubernetes/config", t, {"kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem,
                                                         "token_reviewer_jwt": k.reviewer_token,
                                                         "disable_local_ca_jwt": True})
        s.raw("POST", "/v1/auth/kubernetes/role/app", t, {"bound_service_account_names": ["app"],
                                                          "bound_service_account_namespaces": ["prod"],
                                                          "audience": "vault"})
        k.sa("prod", "app")
        jwt = k.token("prod", "app", audiences=["vault"])

        def review(sess):
            r = sess.post(k.url + "/apis/authentication.k8s.io/v1/tokenreviews", verify=k.ca,
                          headers={"Authorization": "Bearer " + k.reviewer_token},
                          data=json.dumps({"spec": {"token": jwt, "audiences": ["vault"]}}))
            assert r.status_code == 201

        def login(sess):
            r = sess.post(s.url + "/v1/auth/kubernetes/login", verify=s.cacert,
                          data=json.dumps({"role": "app", "jwt": jwt}))
            assert r.status_code == 200, r.text

        ref = hammer(review)
        got = hammer(login)
        print("Kubernetes login, %d clients, %.0f s each, loopback" % (CLIENTS, SECONDS))
        print("%-28s %9.0f /s  p50 %6.1f ms  p99 %6.1f ms" % (("stand-in TokenReview alone",) + ref))
        print("%-28s %9.0f /s  p50 %6.1f ms  p99 %6.1f ms" % (("sealbox login",) + got))
        print("ratio login/TokenReview: %.2f (target >= 0.7)" % (got[0] / ref[0]))
    finally:
        k.stop()
        s.cleanup()


if __name__ == "__main__":
    main()
