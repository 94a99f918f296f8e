"""node-vault 0.12.0 (npm, pinned by tests/compat/node/package-lock.json)
against a fresh Sealbox server: the node:test file drives init/unseal, KV v1
and v2, tokens, legacy policies, mounts, audit, database leases and
kubernetesLogin through node-vault's own methods."""
import os
import shutil
import subprocess

import pytest

from common import HERE, Kube, harness
from pg_harness import Postgres

NODE_DIR = os.path.join(HERE, "node")


def npm_ci():
    if os.path.isdir(os.path.join(NODE_DIR, "node_modules", "node-vault")):
        return
    for args in (["npm", "ci", "--offline", "--no-audit", "--no-fund"], ["npm", "ci", "--no-audit", "--no-fund"]):
        p = subprocess.run(args, cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
        if p.returncode == 0:
            return
    pytest.fail("npm ci failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])


def test_node_vault():
    assert shutil.which("node") and shutil.which("npm"), "nodejs and npm are installed by scripts/deps"
    npm_ci()
    pg = Postgres()
    s = harness.Server().start()
    k = Kube(s.dir)
    try:
        k.sa("prod", "app")
        env = dict(os.environ, SEALBOX_ADDR=s.url, NODE_EXTRA_CA_CERTS=s.cacert, SEALBOX_WORKDIR=s.dir,
                   SEALBOX_PG_URL=pg.url(), SEALBOX_KUBE_URL=k.url, SEALBOX_KUBE_CA=k.ca,
                   SEALBOX_KUBE_REVIEWER=k.reviewer_token, SEALBOX_KUBE_JWT=k.token("prod", "app"))
        env.pop("VAULT_SKIP_VERIFY", None)
        p = subprocess.run(["node", "--test", "compat.test.js"], cwd=NODE_DIR, env=env, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-3000:]
        assert "# fail 0" in p.stdout and "# pass 9" in p.stdout, p.stdout[-2000:]
        # The revoked lease's role is gone from PostgreSQL.
        with open(os.path.join(s.dir, "node-db-user")) as f:
            user = f.read()
        assert pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = '%s'" % user)[1] == "0"
    finally:
        k.stop()
        s.cleanup()
        pg.cleanup()
