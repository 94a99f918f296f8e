"""The Vault Agent Injector pattern against Sealbox (issue 23): OpenBao's own
`bao agent` (SEALBOX_BAO) logs in with auto_auth "kubernetes" using a
service-account JWT file minted by the TokenReview stand-in, writes its token
to a file sink and renders two templates, a KV v2 secret and PostgreSQL
credentials from the database engine, as the injector's sidecar does in a
pod. The agent re-renders when the secret changes, renews the database lease,
and carries on after Sealbox restarts on the same data. The configuration is
the one docs/kubernetes-agent.md shows."""

import datetime
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import harness
from pg_harness import Postgres

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "compat"))
sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from common import kube_env  # noqa: E402
from openbao import bao_bin  # noqa: E402

AGENT_CONFIG = """
pid_file = "{dir}/agent.pid"

vault {{
  address = "{url}"
  ca_cert = "{cacert}"
  retry {{
    num_retries = -1
  }}
}}

auto_auth {{
  method "kubernetes" {{
    mount_path = "auth/kubernetes"
    config = {{
      role       = "web"
      token_path = "{dir}/sa-token"
    }}
  }}
  sink "file" {{
    config = {{
      path = "{dir}/vault-token"
      mode = 0600
    }}
  }}
}}

template_config {{
  static_secret_render_interval = "1s"
  exit_on_retry_failure         = false
}}

template {{
  destination = "{dir}/secrets/config"
  contents    = <<EOT
{{{{- with secret "secret/data/apps/web" -}}}}
api_key={{{{ .Data.data.api_key }}}}
{{{{- end }}}}
EOT
}}

template {{
  destination = "{dir}/secrets/db"
  contents    = <<EOT
{{{{- with secret "database/creds/web" -}}}}
lease_id={{{{ .LeaseID }}}}
username={{{{ .Data.username }}}}
password={{{{ .Data.password }}}}
{{{{- end }}}}
EOT
}}
"""


def read_kv(path):
    """The `key=value` lines of a rendered file, or {} before the first render."""
    try:
        with open(path) as f:
            return dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)
    except FileNotFoundError:
        return {}


@pytest.fixture(scope="module")
def env():
    bao = bao_bin()  # a missing binary fails the test with its RuntimeError
    pg = Postgres()
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal()
    k = kube_env(s)
    t = s.root_token
    assert s.raw("POST", "/v1/sys/mounts/secret", t, {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert s.raw("POST", "/v1/secret/data/apps/web", t, {"data": {"api_key": "first-api-key"}})[0] == 200
    assert s.raw("POST", "/v1/sys/mounts/database", t, {"type": "database"})[0] == 204
    st, b = s.raw("POST", "/v1/database/config/pg", t, {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["web"]})
    assert st == 204, b
    # A short lease, so that the agent renews it within the test.
    assert s.raw("POST", "/v1/database/roles/web", t, {
        "db_name": "pg", "default_ttl": "6s", "max_ttl": "10m",
        "creation_statements": "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL "
                               "'{{expiration}}';"})[0] == 204
    policy = ('path "secret/data/apps/web" { capabilities = ["read"] }\n'
              'path "database/creds/web" { capabilities = ["read"] }')
    assert s.raw("PUT", "/v1/sys/policy/web", t, {"policy": policy})[0] == 204
    # A short token TTL: the agent renews its token every few seconds, and
    # logs in again when a renewal fails (a revoked token, an outage).
    st, b = s.raw("POST", "/v1/auth/kubernetes/role/web", t, {
        "bound_service_account_names": ["web"], "bound_service_account_namespaces": ["shop"],
        "audience": "vault", "token_policies": ["web"], "token_ttl": "4s"})
    assert st == 204, b
    k.sa("shop", "web")
    # Outside the server's directory: the rendered files hold secrets, which
    # the harness looks for in everything under it.
    adir = tempfile.mkdtemp(prefix="sealbox-agent-")
    os.makedirs(os.path.join(adir, "secrets"))
    with open(os.path.join(adir, "sa-token"), "w") as f:  # the projected service-account token
        f.write(k.token("shop", "web", audiences=["vault"]))
    config = os.path.join(adir, "agent.hcl")
    with open(config, "w") as f:
        f.write(AGENT_CONFIG.format(dir=adir, url=s.url, cacert=s.cacert))
    with open(os.path.join(adir, "agent.log"), "w") as log:
        agent = subprocess.Popen([bao, "agent", "-config=" + config, "-log-level=debug"], stdout=log,
                                 stderr=subprocess.STDOUT, env={"PATH": os.environ.get("PATH", ""), "HOME": adir})
    yield {"server": s, "pg": pg, "kube": k, "agent": agent, "dir": adir}
    agent.terminate()
    try:
        agent.wait(timeout=10)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait()
    k.stop()
    s.cleanup()
    pg.cleanup()
    shutil.rmtree(adir, ignore_errors=True)


def agent_log(env):
    with open(os.path.join(env["dir"], "agent.log")) as f:
        return f.read()


def wait(env, cond, what, timeout=20):
    def check():
        if env["agent"].poll() is not None:
            raise AssertionError("bao agent exited with %s:\n%s" % (env["agent"].returncode, agent_log(env)[-4000:]))
        return cond()
    try:
        return harness.wait_until(check, timeout, interval=0.1, what=what)
    except AssertionError as e:
        raise AssertionError("%s\n--- agent log\n%s" % (e, agent_log(env)[-4000:]))


def sink_token(env):
    try:
        with open(os.path.join(env["dir"], "vault-token")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def lease(env, lease_id):
    st, b = env["server"].root("PUT", "/v1/sys/leases/lookup", {"lease_id": lease_id})
    return b["data"] if st == 200 else None


def test_auto_auth_writes_the_sink(env):
    s = env["server"]
    token = wait(env, lambda: sink_token(env), "the token sink")
    assert oct(os.stat(os.path.join(env["dir"], "vault-token")).st_mode & 0o777) == "0o600"
    st, me = s.raw("GET", "/v1/auth/token/lookup-self", token)
    assert st == 200, me
    assert me["data"]["policies"] == ["default", "web"]
    assert me["data"]["meta"]["service_account_name"] == "web"
    assert me["data"]["meta"]["service_account_namespace"] == "shop"


def test_templates_render_kv_and_database_credentials(env):
    config = os.path.join(env["dir"], "secrets", "config")
    db = os.path.join(env["dir"], "secrets", "db")
    assert wait(env, lambda: read_kv(config).get("api_key"), "the KV template") == "first-api-key"
    creds = wait(env, lambda: read_kv(db).get("password") and read_kv(db), "the database template")
    assert creds["lease_id"].startswith("database/creds/web/")
    # The rendered credentials log in to PostgreSQL.
    assert env["pg"].psql("SELECT 1", user=creds["username"], password=creds["password"]) == (0, "1")


def test_rerenders_when_the_secret_changes(env):
    s = env["server"]
    config = os.path.join(env["dir"], "secrets", "config")
    wait(env, lambda: read_kv(config).get("api_key"), "the KV template")
    assert s.root("POST", "/v1/secret/data/apps/web", {"data": {"api_key": "second-api-key"}})[0] == 200
    wait(env, lambda: read_kv(config).get("api_key") == "second-api-key", "the new secret to render")


def test_renews_the_database_lease(env):
    db = os.path.join(env["dir"], "secrets", "db")
    lease_id = wait(env, lambda: read_kv(db).get("lease_id"), "the database template")
    first = lease(env, lease_id)
    assert first is not None and first["renewable"] is True
    # A 6 s lease: the agent keeps renewing it before it runs out, moving expire_time.
    def renewed():
        now = lease(env, lease_id)
        return now and now["last_renewal"] and parse_time(now["expire_time"]) > parse_time(first["expire_time"])
    wait(env, renewed, "the agent to renew the lease", timeout=15)
    assert read_kv(db).get("lease_id") == lease_id  # renewed, not replaced


def test_recovers_after_sealbox_restarts(env):
    s = env["server"]
    config = os.path.join(env["dir"], "secrets", "config")
    wait(env, lambda: read_kv(config).get("api_key"), "the KV template")
    before = len(agent_log(env))
    s.stop()
    # Down for real: the agent has failed to reach Sealbox at least once.
    wait(env, lambda: "connection refused" in agent_log(env)[before:], "the agent to meet the outage")
    s.start()
    s.unseal()
    assert s.root("POST", "/v1/secret/data/apps/web", {"data": {"api_key": "after-restart"}})[0] == 200
    # Its retries back off while Sealbox is down (longer under the sanitizers): a generous bound.
    wait(env, lambda: read_kv(config).get("api_key") == "after-restart", "the agent to render after the restart",
         timeout=60)
    # Its token outlived the restart (tokens are stored), or it logged in again: either way the sink's token works.
    wait(env, lambda: s.raw("GET", "/v1/auth/token/lookup-self", sink_token(env))[0] == 200, "a live token in the sink")
    # The rendered database credentials are under a live lease (the one it kept renewing, or a new one) and log in.
    db = os.path.join(env["dir"], "secrets", "db")
    creds = wait(env, lambda: lease(env, read_kv(db).get("lease_id", "")) and read_kv(db), "a live database lease")
    assert env["pg"].psql("SELECT 1", user=creds["username"], password=creds["password"]) == (0, "1")


def test_logs_in_again_when_its_token_is_revoked(env):
    s = env["server"]
    old = wait(env, lambda: sink_token(env), "the token sink")
    assert s.root("POST", "/v1/auth/token/revoke", {"token": old})[0] == 204
    new = wait(env, lambda: sink_token(env) != old and sink_token(env), "a new token in the sink", timeout=60)
    assert s.raw("GET", "/v1/auth/token/lookup-self", new)[0] == 200
