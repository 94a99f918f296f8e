"""HA: standbys serve reads themselves (KV reads, token lookups, policy
checks), following the active node's writes through an etcd watch, and stay
linearizable: a read on a standby sees every write acknowledged before it,
whatever the write changed (a value, a policy, a mount, a token). Anything
with effects still goes to the active node: writes, a limited-use token's
uses, a wrapped response.
Three real Sealbox nodes on the real 3-member etcd cluster of test_ha.
"""

import os
import signal

import harness
from test_ha import Trio, cluster, kv_mount, trio_factory  # noqa: F401 (fixtures)


def handled_requests(node):
    """The count of requests the node ran through its own core (its own
    metrics: a standby answers sys/metrics itself)."""
    st, body = node.root("GET", "/v1/sys/metrics")
    assert st == 200, (st, body)
    return sum(s["Count"] for s in body["Samples"] if s["Name"] == "vault.core.handle_request")


def with_reader_policy(t):
    """KV v2 at secret/ with secret/data/app = {"v": "1"}, and a policy
    "reader" that may read it."""
    kv_mount(t.active)
    assert t.active.root("POST", "/v1/secret/data/app", {"data": {"v": "1"}})[0] == 200
    assert t.active.root("PUT", "/v1/sys/policies/acl/reader",
                         {"policy": 'path "secret/data/app" { capabilities = ["read"] }'})[0] == 204
    return t


def token_with(node, policies, **extra):
    st, body = node.root("POST", "/v1/auth/token/create", dict({"policies": policies}, **extra))
    assert st == 200, body
    return body["auth"]["client_token"]


def test_a_standby_answers_reads_itself_and_forwards_the_rest(trio_factory):
    t = with_reader_policy(trio_factory("/standby-reads/"))
    a = t.active
    reader = token_with(a, ["reader"])
    s = t.standbys()[0]

    before_active, before_standby = handled_requests(a), handled_requests(s)
    for _ in range(20):
        st, body = s.raw("GET", "/v1/secret/data/app", token=reader)
        assert st == 200 and body["data"]["data"] == {"v": "1"}, (st, body)
    st, body = s.raw("GET", "/v1/auth/token/lookup-self", token=reader)
    assert st == 200 and body["data"]["policies"] == ["default", "reader"], (st, body)
    st, body = s.raw("POST", "/v1/sys/capabilities-self", token=reader, body={"paths": ["secret/data/app"]})
    assert st == 200 and body["secret/data/app"] == ["read"], (st, body)
    st, body = s.root("GET", "/v1/sys/policies/acl/reader")
    assert st == 200 and "secret/data/app" in body["data"]["policy"], (st, body)
    st, body = s.root("LIST", "/v1/secret/metadata")
    assert st == 200 and body["data"]["keys"] == ["app"], (st, body)
    # A read the token may not make is refused by the standby's own ACL.
    assert s.raw("GET", "/v1/secret/data/other", token=reader)[0] == 403
    # The active ran none of those (its own metrics reads aside); the standby ran them all.
    assert handled_requests(a) - before_active <= 2
    assert handled_requests(s) - before_standby >= 25

    # A write, and a read the client wants answered by the active, still go there.
    st, body = s.root("POST", "/v1/secret/data/app", {"data": {"v": "2"}})
    assert st == 200 and body["data"]["version"] == 2, (st, body)
    before_active = handled_requests(a)
    st, body = s.raw("GET", "/v1/secret/data/app", token=reader,
                     headers={"X-Vault-Inconsistent": "forward-active-node"})
    assert st == 200 and body["data"]["data"] == {"v": "2"}, (st, body)
    assert handled_requests(a) - before_active >= 1
    # Without forwarding, a write is sent to the active; a read is answered here.
    st, headers, _ = s.request("POST", "/v1/secret/data/app", token=a.root_token, body={"data": {"v": "3"}},
                               headers={"X-Vault-No-Request-Forwarding": "true"})
    assert st == 307 and headers["location"] == a.url + "/v1/secret/data/app", (st, headers)
    st, _, _ = s.request("GET", "/v1/secret/data/app", token=a.root_token,
                         headers={"X-Vault-No-Request-Forwarding": "true"})
    assert st == 200

    # With the active stopped, the standby still answers reads at once.
    os.kill(a.proc.pid, signal.SIGSTOP)
    try:
        st, body = s.raw("GET", "/v1/secret/data/app", token=reader, timeout=5)
        assert st == 200 and body["data"]["data"] == {"v": "2"}, (st, body)
        assert t.leader(s)["is_self"] is False
    finally:
        os.kill(a.proc.pid, signal.SIGCONT)


def test_standby_reads_see_every_acknowledged_write_at_once(trio_factory):
    t = trio_factory("/standby-fresh/")
    a = t.active
    kv_mount(a)
    s1, s2 = t.standbys()
    # Values: written through the active or the other standby, read at once.
    for i in range(30):
        writer = a if i % 2 else s2
        assert writer.root("POST", "/v1/secret/data/k", {"data": {"i": i}})[0] == 200
        st, body = s1.root("GET", "/v1/secret/data/k")
        assert st == 200 and body["data"]["data"] == {"i": i}, (i, st, body)
    assert a.root("DELETE", "/v1/secret/metadata/k")[0] == 204
    assert s1.root("GET", "/v1/secret/data/k")[0] == 404

    # A policy: granted, narrowed and deleted, each seen by the next read.
    grant = {"policy": 'path "secret/data/p" { capabilities = ["read"] }'}
    assert a.root("PUT", "/v1/sys/policies/acl/p", grant)[0] == 204
    assert a.root("POST", "/v1/secret/data/p", {"data": {"x": 1}})[0] == 200
    tok = token_with(a, ["p"])
    assert s1.raw("GET", "/v1/secret/data/p", token=tok)[0] == 200
    assert a.root("PUT", "/v1/sys/policies/acl/p", {"policy": 'path "secret/data/q" { capabilities = ["read"] }'})[0] == 204
    assert s1.raw("GET", "/v1/secret/data/p", token=tok)[0] == 403
    st, body = s1.raw("POST", "/v1/sys/capabilities-self", token=tok, body={"paths": ["secret/data/q"]})
    assert st == 200 and body["secret/data/q"] == ["read"], body
    assert a.root("PUT", "/v1/sys/policies/acl/p", grant)[0] == 204
    assert s1.raw("GET", "/v1/secret/data/p", token=tok)[0] == 200
    assert a.root("DELETE", "/v1/sys/policies/acl/p")[0] == 204
    assert s1.raw("GET", "/v1/secret/data/p", token=tok)[0] == 403

    # A mount: enabled, used, moved away, each seen by the next read.
    assert a.root("POST", "/v1/sys/mounts/fresh", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert a.root("POST", "/v1/fresh/data/x", {"data": {"m": 1}})[0] == 200
    st, body = s1.root("GET", "/v1/fresh/data/x")
    assert st == 200 and body["data"]["data"] == {"m": 1}, (st, body)
    assert a.root("DELETE", "/v1/sys/mounts/fresh")[0] == 204
    assert s1.root("GET", "/v1/fresh/data/x")[0] in (403, 404)

    # A token: revoked on the active, refused by the standby's next read.
    assert a.root("PUT", "/v1/sys/policies/acl/p", grant)[0] == 204
    tok = token_with(a, ["p"])
    assert s1.raw("GET", "/v1/auth/token/lookup-self", token=tok)[0] == 200
    assert a.root("POST", "/v1/auth/token/revoke", {"token": tok})[0] == 204
    assert s1.raw("GET", "/v1/auth/token/lookup-self", token=tok)[0] == 403
    assert s1.raw("GET", "/v1/secret/data/p", token=tok)[0] == 403

    # The keyring: rotated on the active, values written after it read on the standby.
    assert a.root("POST", "/v1/sys/rotate")[0] == 204
    assert a.root("POST", "/v1/secret/data/after-rotate", {"data": {"r": 1}})[0] == 200
    st, body = s1.root("GET", "/v1/secret/data/after-rotate")
    assert st == 200 and body["data"]["data"] == {"r": 1}, (st, body)


class FirstEndpoint:
    """The cluster with member `first` listed first in `address`: the member
    every node's etcd client (and a standby's watch) tries first."""

    def __init__(self, cluster, first):
        self.cluster, self.first = cluster, first

    def storage_block(self, path, extra=""):
        urls = self.cluster.address().split(",")
        order = [urls[self.first]] + [u for i, u in enumerate(urls) if i != self.first]
        return self.cluster.storage_block(path, extra).replace(self.cluster.address(), ",".join(order))


def test_a_standby_whose_watch_stalls_sends_reads_to_the_active(cluster):
    # The standby's watch is on the member listed first; stopping that member
    # stalls the watch while the other two keep the cluster writable. A
    # standby that served from its cache without catching up would answer
    # the old value.
    first = next(i for i in range(3) if i != cluster.leader())
    t = Trio(FirstEndpoint(cluster, first), "/standby-stall/")
    member = cluster.members[first]["proc"]
    try:
        a = t.active
        kv_mount(a)
        assert a.root("POST", "/v1/secret/data/k", {"data": {"v": 1}})[0] == 200
        s = t.standbys()[0]
        st, body = s.root("GET", "/v1/secret/data/k")
        assert st == 200 and body["data"]["data"] == {"v": 1}, (st, body)
        os.kill(member.pid, signal.SIGSTOP)
        try:

            def write():
                st, body = a.root("POST", "/v1/secret/data/k", {"data": {"v": 2}})
                return st == 200
            harness.wait_until(write, 20, what="a write with one etcd member stopped")
            st, body = s.root("GET", "/v1/secret/data/k")
            assert st == 200 and body["data"]["data"] == {"v": 2}, (st, body)
        finally:
            os.kill(member.pid, signal.SIGCONT)
        st, body = s.root("GET", "/v1/secret/data/k")
        assert st == 200 and body["data"]["data"] == {"v": 2}, (st, body)
    finally:
        t.cleanup()


def test_reads_with_effects_go_to_the_active(trio_factory):
    t = with_reader_policy(trio_factory("/standby-effects/"))
    a = t.active
    s = t.standbys()[0]
    # Each use of a limited-use token is spent once, on the active.
    limited = token_with(a, ["reader"], num_uses=3)
    for _ in range(3):
        st, body = s.raw("GET", "/v1/secret/data/app", token=limited)
        assert st == 200 and body["data"]["data"] == {"v": "1"}, (st, body)
    assert s.raw("GET", "/v1/secret/data/app", token=limited)[0] == 403
    assert a.raw("GET", "/v1/secret/data/app", token=limited)[0] == 403
    # A wrapped read is a new token: made by the active, unwrapped anywhere.
    st, body = s.raw("GET", "/v1/secret/data/app", token=a.root_token, headers={"X-Vault-Wrap-TTL": "60"})
    assert st == 200 and body["wrap_info"]["token"], (st, body)
    st, got = s.raw("POST", "/v1/sys/wrapping/unwrap", token=body["wrap_info"]["token"])
    assert st == 200 and got["data"]["data"] == {"v": "1"}, (st, got)
