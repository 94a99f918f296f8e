"""A fixed number of KV v2 reads or writes of a 1 KiB secret over one
keep-alive TLS connection, for bench/kv/callgrind.sh.

    callgrind_load.py read|write <requests> <port> <ca.crt> <token>

Writes go to 64 keys in turn (as run.sh's write.lua spreads them), so after
the warm-up every write replaces an existing key's latest version."""
import http.client
import json
import ssl
import sys


def main():
    mode, n, port, ca, token = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)
    headers = {"X-Vault-Token": token, "Content-Type": "application/json"}
    body = json.dumps({"data": {"password": "x" * 1000}})
    for i in range(n):
        if mode == "read":
            conn.request("GET", "/v1/secret/data/bench", headers=headers)
        else:
            conn.request("POST", "/v1/secret/data/bench-w/k%d" % (i % 64), body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit("request %d: HTTP %d" % (i, resp.status))
    conn.close()


if __name__ == "__main__":
    main()
