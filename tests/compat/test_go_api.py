"""The real Go API clients against the real server over TLS:
github.com/hashicorp/vault/api and github.com/openbao/openbao/api/v2, pinned
by goapi/go.mod and go.sum. One Go test suite (tests/compat/goapi) runs once
per client (OpenBao's with -tags openbao), each time against a fresh,
uninitialised server that the suite initialises and unseals itself, with a
PostgreSQL for the database leases."""
import os

import pytest

import common
import harness
from pg_harness import Postgres

GOAPI = os.path.join(common.HERE, "goapi")


@pytest.fixture(scope="module")
def pg():
    p = Postgres()
    yield p
    p.cleanup()


def go_env(server, pg):
    return common.go_env(SEALBOX_ADDR=server.url, SEALBOX_CACERT=server.cacert, SEALBOX_PG_URL=pg.url(),
                         SEALBOX_PG_USER="sealbox", SEALBOX_PG_PASSWORD="rootpw")


@pytest.mark.parametrize("client", sorted(common.GO_CLIENTS))
def test_go_api_client(client, pg):
    s = harness.Server().start()
    try:
        common.run_go_suite(GOAPI, common.GO_CLIENTS[client], go_env(s, pg), client)
    finally:
        s.cleanup()
