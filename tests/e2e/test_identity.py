"""End to end: the identity store (issue 25). A login through any auth
method that names an alias gets an entity, the same one at every later login
through that alias, a different one through another alias; tokens carry its
id (child tokens too), and identity/entity/id and identity/lookup/entity
show it as Vault does. Templated policies resolve the entity id.
"""
import pytest

from harness import Server


@pytest.fixture(scope="module")
def s():
    srv = Server().start()
    srv.init(1, 1)
    srv.unseal(srv.keys)
    for path, body in (("/v1/sys/auth/userpass", {"type": "userpass"}), ("/v1/sys/auth/approle", {"type": "approle"}),
                       ("/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})):
        st, b = srv.root("POST", path, body)
        assert st == 204, b
    st, b = srv.root("PUT", "/v1/sys/policies/acl/own",
                     {"policy": 'path "secret/data/own/{{identity.entity.id}}/*" { capabilities = ["create", "read", "update"] }\n'
                                'path "auth/token/create" { capabilities = ["update"] }'})
    assert st == 204, b
    for user in ("ann", "ben"):
        st, b = srv.root("POST", "/v1/auth/userpass/users/" + user, {"password": user + "-pw-1", "token_policies": ["own"]})
        assert st == 204, b
    yield srv
    srv.cleanup()


def login(s, user):
    st, b = s.raw("POST", "/v1/auth/userpass/login/" + user, None, {"password": user + "-pw-1"})
    assert st == 200, b
    return b["auth"]


def test_a_login_gets_an_entity_and_keeps_it(s):
    first = login(s, "ann")
    again = login(s, "ann")
    other = login(s, "ben")
    assert first["entity_id"] and first["entity_id"] == again["entity_id"] != other["entity_id"]
    st, me = s.raw("GET", "/v1/auth/token/lookup-self", first["client_token"])
    assert st == 200 and me["data"]["entity_id"] == first["entity_id"]
    # A child token keeps its parent's entity.
    st, child = s.raw("POST", "/v1/auth/token/create", first["client_token"], {"policies": ["own"]})
    assert st == 200 and child["auth"]["entity_id"] == first["entity_id"], child

    st, e = s.root("GET", "/v1/identity/entity/id/" + first["entity_id"])
    assert st == 200, e
    d = e["data"]
    assert d["id"] == first["entity_id"] and d["name"].startswith("entity_") and d["disabled"] is False
    assert d["namespace_id"] == "root" and d["policies"] == [] and d["group_ids"] == []
    [alias] = d["aliases"]
    st, auths = s.root("GET", "/v1/sys/auth")
    assert alias["name"] == "ann" and alias["mount_type"] == "userpass" and alias["mount_path"] == "auth/userpass/"
    assert alias["mount_accessor"] == auths["data"]["userpass/"]["accessor"] and alias["canonical_id"] == d["id"]

    st, listed = s.raw("LIST", "/v1/identity/entity/id", s.root_token)
    assert st == 200 and first["entity_id"] in listed["data"]["keys"] and other["entity_id"] in listed["data"]["keys"]
    assert listed["data"]["key_info"][first["entity_id"]]["aliases"][0]["name"] == "ann"


def test_lookup_entity(s):
    ann = login(s, "ann")
    st, auths = s.root("GET", "/v1/sys/auth")
    accessor = auths["data"]["userpass/"]["accessor"]
    st, e = s.root("GET", "/v1/identity/entity/id/" + ann["entity_id"])
    name, alias_id = e["data"]["name"], e["data"]["aliases"][0]["id"]
    for body in ({"id": ann["entity_id"]}, {"name": name}, {"alias_id": alias_id},
                 {"alias_name": "ann", "alias_mount_accessor": accessor}):
        st, b = s.root("POST", "/v1/identity/lookup/entity", body)
        assert st == 200 and b["data"]["id"] == ann["entity_id"], (body, b)
    assert s.root("POST", "/v1/identity/lookup/entity", {"id": "no-such-entity"})[0] == 204
    st, b = s.root("POST", "/v1/identity/lookup/entity", {})
    assert (st, b) == (400, {"errors": ["query parameter not supplied"]})
    st, b = s.root("POST", "/v1/identity/lookup/entity", {"id": ann["entity_id"], "name": name})
    assert st == 400, b
    assert s.root("GET", "/v1/identity/entity/id/no-such-entity")[0] == 404


def test_templated_policies_see_the_entity(s):
    ann = login(s, "ann")
    mine = "/v1/secret/data/own/%s/notes" % ann["entity_id"]
    st, b = s.raw("POST", mine, ann["client_token"], {"data": {"v": "1"}})
    assert st == 200, b
    ben = login(s, "ben")
    assert s.raw("GET", mine, ben["client_token"])[0] == 403


def test_an_approle_login_gets_its_own_entity(s):
    st, b = s.root("POST", "/v1/auth/approle/role/app", {"token_policies": ["default"]})
    assert st == 204
    role_id = s.root("GET", "/v1/auth/approle/role/app/role-id")[1]["data"]["role_id"]
    ids = set()
    for _ in range(2):
        secret_id = s.root("POST", "/v1/auth/approle/role/app/secret-id", {})[1]["data"]["secret_id"]
        st, b = s.raw("POST", "/v1/auth/approle/login", None, {"role_id": role_id, "secret_id": secret_id})
        assert st == 200, b
        ids.add(b["auth"]["entity_id"])
    assert len(ids) == 1 and "" not in ids
    st, e = s.root("GET", "/v1/identity/entity/id/" + ids.pop())
    assert e["data"]["aliases"][0]["mount_type"] == "approle"
