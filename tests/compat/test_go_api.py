"""The real Go API clients against the real server over TLS:
github.com/hashicorp/vault/api and github.com/openbao/openbao/api/v2, pinned
by goapi/go.mod and go.sum. One Go test suite (tests/compat/goapi) runs once
per client (OpenBao's with -tags openbao), each time against a fresh,
uninitialised server that the suite initialises and unseals itself, with a
PostgreSQL for the database leases."""
import os
import re
import shutil
import subprocess

import pytest

import common
import harness
from pg_harness import Postgres

GOAPI = os.path.join(common.HERE, "goapi")
CLIENTS = {"hashicorp-vault-api": [], "openbao-api-v2": ["-tags", "openbao"]}


@pytest.fixture(scope="module")
def pg():
    p = Postgres()
    yield p
    p.cleanup()


def go_tests():
    """The Test functions of the suite, so that a run that skipped or lost one fails."""
    names = set()
    for f in os.listdir(GOAPI):
        if f.endswith("_test.go"):
            with open(os.path.join(GOAPI, f)) as src:
                names.update(re.findall(r"^func (Test\w+)\(t \*testing\.T\)", src.read(), re.M))
    return names


def go_env(server, pg):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    # Module mode, pinned by go.mod and go.sum; scripts/deps fetched the modules.
    env.update(GO111MODULE="on", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", CGO_ENABLED="0",
               SEALBOX_ADDR=server.url, SEALBOX_CACERT=server.cacert, SEALBOX_PG_URL=pg.url(),
               SEALBOX_PG_USER="sealbox", SEALBOX_PG_PASSWORD="rootpw")
    return env


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_go_api_client(client, pg):
    go = shutil.which("go") or "/usr/local/go/bin/go"
    assert os.path.exists(go), "go is missing (this machine kind ships Go 1.26 in /usr/local/go)"
    s = harness.Server().start()
    try:
        p = subprocess.run([go, "test", "-count=1", "-v"] + CLIENTS[client] + ["."], cwd=GOAPI,
                           env=go_env(s, pg), capture_output=True, text=True, timeout=480)
        out = p.stdout + p.stderr
        assert p.returncode == 0, "go test (%s) failed:\n%s" % (client, out[-30000:])
        passed = set(re.findall(r"^--- PASS: (Test\w+)", p.stdout, re.M))
        assert passed == go_tests(), "not every test passed: missing %s" % sorted(go_tests() - passed)
    finally:
        s.cleanup()
