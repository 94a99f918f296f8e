"""End to end: the policy APIs through python3-hvac 0.11.2 (legacy sys/policy,
which hvac uses, with its top-level copies) and raw HTTP (sys/policies/acl,
which the vault CLI uses), plus a policy change taking effect at once.

Run: SEALBOX_BIN=build/server/sealbox python3 -m pytest tests/e2e/test_policies.py
"""

import base64
import json

import hvac
import pytest

from test_tokens import DevServer  # the same dev-server fixture helper


@pytest.fixture(scope="module")
def server():
    s = DevServer()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def root(server):
    return server.client(server.root_token)


HCL = 'path "secret/data/pol/*" {\n  capabilities = ["read"]\n}\n'


def test_legacy_policy_api_with_hvac(server, root):
    root.sys.create_or_update_policy(name="e2e-legacy", policy=HCL)
    listed = root.sys.list_policies()
    assert listed["data"]["policies"] == listed["data"]["keys"]
    assert {"default", "e2e-legacy", "root"} <= set(listed["policies"])  # top-level copy
    assert listed["data"]["keys"][-1] == "root"
    got = root.sys.read_policy("e2e-legacy")
    assert got["rules"] == HCL and got["data"]["rules"] == HCL and got["name"] == "e2e-legacy"
    # hvac turns a dict policy into JSON text; the JSON form parses too.
    root.sys.create_or_update_policy(name="e2e-json",
                                     policy={"path": {"secret/data/pol/*": {"capabilities": ["list"]}}})
    assert json.loads(root.sys.read_policy("e2e-json")["rules"])["path"]
    root.sys.delete_policy("e2e-json")
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.sys.read_policy("e2e-json")


def test_acl_policy_api_raw(server, root):
    st, body = server.raw("PUT", "/v1/sys/policies/acl/E2E-Mixed", server.root_token, {"policy": HCL})
    assert st == 200 and json.loads(body)["warnings"] == ["policy name was converted to e2e-mixed"]
    st, body = server.raw("GET", "/v1/sys/policies/acl/e2e-mixed", server.root_token)
    j = json.loads(body)
    assert st == 200 and j["data"] == {"name": "e2e-mixed", "policy": HCL} and "policy" not in j
    b64 = base64.b64encode(HCL.encode()).decode()
    st, _ = server.raw("PUT", "/v1/sys/policies/acl/e2e-b64", server.root_token, {"policy": b64})
    assert st == 204
    st, body = server.raw("GET", "/v1/sys/policies/acl/e2e-b64", server.root_token)
    assert json.loads(body)["data"]["policy"] == HCL
    st, body = server.raw("LIST", "/v1/sys/policies/acl", server.root_token)
    assert st == 200 and "e2e-b64" in json.loads(body)["data"]["keys"]
    for method, path, payload, err in (
            ("PUT", "/v1/sys/policies/acl/x", {"policy": ""}, "'policy' parameter not supplied or empty"),
            ("PUT", "/v1/sys/policies/acl/root", {"policy": HCL}, 'cannot update "root" policy'),
            ("DELETE", "/v1/sys/policies/acl/root", None, 'cannot delete "root" policy'),
            ("DELETE", "/v1/sys/policies/acl/default", None, "cannot delete default policy")):
        st, body = server.raw(method, path, server.root_token, payload)
        assert st == 400 and json.loads(body)["errors"] == [err], (path, body)
    st, body = server.raw("PUT", "/v1/sys/policies/acl/bad", server.root_token,
                          {"policy": 'path "a" { capabilities = ["fly"] }'})
    assert st == 400 and json.loads(body)["errors"][0].startswith("failed to parse policy: ")
    st, body = server.raw("GET", "/v1/sys/policies/acl/missing", server.root_token)
    assert st == 404 and json.loads(body) == {"errors": []}
    st, _ = server.raw("DELETE", "/v1/sys/policies/acl/missing", server.root_token)
    assert st == 204


def test_policy_change_applies_to_live_tokens(server, root):
    root.secrets.kv.v2.create_or_update_secret(path="pol/live", secret={"v": "1"})
    root.sys.create_or_update_policy(name="e2e-live", policy='path "secret/data/other" { capabilities = ["read"] }')
    tok = root.auth.token.create(policies=["e2e-live"])["auth"]["client_token"]
    c = server.client(tok)
    with pytest.raises(hvac.exceptions.Forbidden):
        c.secrets.kv.v2.read_secret_version(path="pol/live")
    root.sys.create_or_update_policy(name="e2e-live", policy=HCL)
    assert c.secrets.kv.v2.read_secret_version(path="pol/live")["data"]["data"] == {"v": "1"}
    root.sys.delete_policy("e2e-live")
    with pytest.raises(hvac.exceptions.Forbidden):
        c.secrets.kv.v2.read_secret_version(path="pol/live")


# `+` and the empty segment (issue 20, item 11). The reported case: a deny on
# team/* and a grant on team/+ let `LIST team/` through. Decided as Vault's
# matcher does (vault/acl.go CheckAllowedFromNonExactPaths; played against
# OpenBao 2.7.2's `bao server` with the same policy): `+` matches any one
# segment, the empty last segment of `team/` included, and a `+` pattern
# outranks a `*` glob starting at the same position. So team/+ governs the
# folder's own listing; the deny keeps everything deeper. Denying the listing
# takes a rule that names it (`team/` or `team/+`).
PLUS_POLICY = ('path "team/*" { capabilities = ["deny"] }\n'
               'path "team/+" { capabilities = ["read", "list"] }\n')


def test_plus_and_the_empty_segment_decide_as_vault(server):
    st, _ = server.raw("POST", "/v1/sys/mounts/team", server.root_token, {"type": "kv", "options": {"version": "1"}})
    assert st == 204
    for path in ("alpha", "beta/x"):
        assert server.raw("PUT", "/v1/team/" + path, server.root_token, {"v": "1"})[0] == 204

    def token(policy, name):
        assert server.raw("PUT", "/v1/sys/policies/acl/" + name, server.root_token, {"policy": policy})[0] == 204
        st, body = server.raw("POST", "/v1/auth/token/create", server.root_token,
                              {"policies": [name], "no_default_policy": True})
        return json.loads(body)["auth"]["client_token"]

    t = token(PLUS_POLICY, "plus-empty")
    decisions = {(m, p): server.raw(m, p, t)[0] for m, p in (
        ("LIST", "/v1/team/"), ("LIST", "/v1/team"), ("GET", "/v1/team/?list=true"), ("GET", "/v1/team/alpha"),
        ("LIST", "/v1/team/beta/"), ("GET", "/v1/team/beta/x"))}
    # What bao answers with the same mount, data and policy.
    assert decisions == {("LIST", "/v1/team/"): 200, ("LIST", "/v1/team"): 200, ("GET", "/v1/team/?list=true"): 200,
                         ("GET", "/v1/team/alpha"): 200, ("LIST", "/v1/team/beta/"): 403,
                         ("GET", "/v1/team/beta/x"): 403}
    st, body = server.raw("LIST", "/v1/team/", t)
    assert json.loads(body)["data"]["keys"] == ["alpha", "beta/"]
    # The listing is hidden by a rule that names it.
    for hiding in (PLUS_POLICY + 'path "team/" { capabilities = ["deny"] }\n',
                   'path "team/*" { capabilities = ["list"] }\npath "team/+" { capabilities = ["deny"] }\n'):
        assert server.raw("LIST", "/v1/team/", token(hiding, "plus-hidden"))[0] == 403, hiding
