"""Nothing readable reaches the disk (issue 2): after writes through the API,
every file under the RocksDB directory is scanned for the plaintext value, the
root token and the unseal keys."""

import base64
import os
import secrets

from harness import server  # noqa: F401  (fixture)


def test_no_plaintext_on_disk(server):
    s = server
    marker = "plaintext-marker-" + secrets.token_hex(16)
    st, b = s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    assert st == 204, b
    st, b = s.root("POST", "/v1/secret/data/app", {"data": {"password": marker, "nested": {"n": marker}}})
    assert st == 200, b
    st, b = s.root("POST", "/v1/sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
    assert st == 204, b
    assert s.root("POST", "/v1/kv1/app", {"value": marker})[0] == 204
    st, child = s.root("POST", "/v1/auth/token/create", {"policies": ["default"]})
    assert st == 200, child
    child_token = child["auth"]["client_token"]
    assert s.root("GET", "/v1/secret/data/app")[1]["data"]["data"]["password"] == marker
    assert s.stop() == 0

    needles = {"marker": marker.encode(), "root token": s.root_token.encode(), "child token": child_token.encode(),
               "child token body": child_token.split(".", 1)[1].encode()}
    for i, k in enumerate(s.keys):
        needles["unseal key %d hex" % i] = k.encode()
        needles["unseal key %d raw" % i] = bytes.fromhex(k)
        needles["unseal key %d b64" % i] = base64.b64encode(bytes.fromhex(k))
    scanned = 0
    for dirpath, _, files in os.walk(s.data_dir):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                blob = f.read()
            scanned += 1
            for what, needle in needles.items():
                assert needle not in blob, "%s found in %s" % (what, name)
    assert scanned >= 3  # CURRENT, MANIFEST, WAL at least
