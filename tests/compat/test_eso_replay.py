"""What External Secrets Operator's Vault provider sends that the real
provider in tests/eso cannot: PushSecret with check-and-set. The provider
served by the Go module proxy (v0.16.2, test_eso.py) writes without
`options.cas`; later releases (providers/v1/vault, `checkAndSet` in the
store, not served by the proxy) write metadata first, then data with
`options.cas` = the current version (0 for a new secret), and a stale cas
must fail instead of overwriting. Replayed request for request."""
import pytest

from common import GoClient, harness


@pytest.fixture(scope="module")
def server():
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal(s.keys)
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    yield s
    s.cleanup()


def test_push_secret_metadata_first_then_cas(server):
    c = GoClient(server, server.root_token)
    path = "pushed/db"
    # 1. Existence check: nothing yet.
    assert c.read("secret/data/" + path)[0] == 404
    # 2. Metadata first, before any data exists.
    assert c.write("secret/metadata/" + path, {"custom_metadata": {"managed-by": "external-secrets"}})[0] == 204
    # 3. Data with cas 0 (new secret) right after a metadata-only write.
    st, b = c.write("secret/data/" + path, {"data": {"password": "p1"}, "options": {"cas": 0}})
    assert st == 200 and b["data"]["version"] == 1, b
    # An update: ownership check on metadata, then cas = current_version.
    st, b = c.read("secret/metadata/" + path)
    assert b["data"]["custom_metadata"] == {"managed-by": "external-secrets"}
    cur = b["data"]["current_version"]
    assert c.write("secret/metadata/" + path, {"custom_metadata": {"managed-by": "external-secrets"}})[0] == 204
    st, b = c.write("secret/data/" + path, {"data": {"password": "p2"}, "options": {"cas": cur}})
    assert st == 200 and b["data"]["version"] == 2
    # A stale cas (a concurrent writer) fails instead of overwriting.
    st, b = c.write("secret/data/" + path, {"data": {"password": "p3"}, "options": {"cas": cur}})
    assert st == 400 and b["errors"], b
    assert c.read("secret/data/" + path)[1]["data"]["data"] == {"password": "p2"}
