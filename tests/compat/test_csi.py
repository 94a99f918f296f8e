"""The Secrets Store CSI providers' calls to Vault, made with the client
libraries they link (github.com/hashicorp/vault/api for vault-csi-provider,
github.com/openbao/openbao/api/v2 for openbao-csi-provider), against the real
server over TLS: tests/csi, a Go suite pinned by its go.mod and go.sum, run
once per library. This file configures the server as a cluster's operator
would (KV v2, the database engine on a real PostgreSQL, Kubernetes auth with
the TokenReview stand-in) and mints the pod's service-account tokens."""
import os

import pytest

import common
import harness
from pg_harness import PG_BIN, Postgres

CSI = os.path.join(common.HERE, "..", "csi")
POLICY = 'path "secret/data/apps/*" { capabilities = ["read"] }\npath "db/creds/web" { capabilities = ["read"] }'


@pytest.fixture(scope="module")
def env():
    pg = Postgres()
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal(s.keys)
    k = common.kube_env(s, mount="k8s")
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert s.root("POST", "/v1/sys/mounts/db", {"type": "database"})[0] == 204
    st, b = s.root("POST", "/v1/db/config/pg", {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["web"]})
    assert st == 204, b
    assert s.root("POST", "/v1/db/roles/web", {
        "db_name": "pg", "default_ttl": "1h",
        "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                               "'{{expiration}}';"})[0] == 204
    assert s.root("PUT", "/v1/sys/policies/acl/web", {"policy": POLICY})[0] == 204
    st, b = s.root("POST", "/v1/auth/k8s/role/web", {
        "bound_service_account_names": ["web"], "bound_service_account_namespaces": ["web"],
        "audience": "vault", "token_policies": ["web"], "token_ttl": "20m"})
    assert st in (200, 204), b
    # A SecretProviderClass with `audience: sealbox-csi` gets the pod's token for that audience.
    st, b = s.root("POST", "/v1/auth/k8s/role/web-own-audience", {
        "bound_service_account_names": ["web"], "bound_service_account_namespaces": ["web"],
        "audience": "sealbox-csi", "token_policies": ["web"]})
    assert st in (200, 204), b
    k.sa("web", "web")
    k.sa("web", "intruder")
    yield s, k, pg
    k.stop()
    s.cleanup()
    pg.cleanup()


def go_env(s, k, pg):
    return common.go_env(
        SEALBOX_ADDR=s.url, SEALBOX_CACERT=s.cacert, SEALBOX_ROOT_TOKEN=s.root_token, SEALBOX_UNSEAL_KEY=s.keys[0],
        # The driver's csi.storage.k8s.io/serviceAccount.tokens for the provider's audience.
        SEALBOX_JWT=k.token("web", "web", audiences=["vault"]),
        SEALBOX_JWT_OWN_AUDIENCE=k.token("web", "web", audiences=["sealbox-csi"]),
        SEALBOX_JWT_WRONG_AUDIENCE=k.token("web", "web", audiences=["not-vault"]),
        SEALBOX_JWT_OTHER_SA=k.token("web", "intruder", audiences=["vault"]),
        SEALBOX_PSQL=PG_BIN + "/psql", SEALBOX_PG_PORT=str(pg.port))


@pytest.mark.parametrize("client", sorted(common.GO_CLIENTS))
def test_csi_provider_calls(client, env):
    common.run_go_suite(CSI, common.GO_CLIENTS[client], go_env(*env), client)
