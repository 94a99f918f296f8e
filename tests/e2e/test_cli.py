"""The vault-style CLI of the same binary against a real dev server (issue 8):
status exit codes, operator, login and ~/.vault-token, kv v2 with the
preflight, a kv v1 mount, tokens, policies, output formats and errors."""

import json
import os
import re
import subprocess
import tempfile

import pytest

import harness


@pytest.fixture(scope="module")
def dev():
    d = harness.DevServer()
    home = tempfile.mkdtemp(prefix="sealbox-cli-home-")
    yield d, home
    d.stop()


def cli(dev, *args, token="root", stdin=None, extra_env=None):
    d, home = dev
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "VAULT_ADDR": d.url, "VAULT_CACERT": d.cacert}
    if token == "root":
        env["VAULT_TOKEN"] = d.root_token
    elif token:
        env["VAULT_TOKEN"] = token
    env.update(extra_env or {})
    return subprocess.run([harness.sealbox_bin()] + list(args), input=stdin, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


def test_status_and_kv_v2(dev):
    r = cli(dev, "status")
    assert r.returncode == 0 and re.search(r"^Sealed\s+false$", r.stdout, re.M)
    r = cli(dev, "kv", "put", "secret/app/db", "user=alice", "password=s3cret")
    assert r.returncode == 0, r.stderr
    r = cli(dev, "kv", "get", "-field=password", "secret/app/db")
    assert (r.returncode, r.stdout) == (0, "s3cret")  # no newline when piped, as vault
    r = cli(dev, "kv", "get", "-format=json", "secret/app/db")
    assert json.loads(r.stdout)["data"]["data"] == {"user": "alice", "password": "s3cret"}
    r = cli(dev, "kv", "get", "-format=yaml", "secret/app/db")
    assert "password: \"s3cret\"" in r.stdout
    r = cli(dev, "kv", "put", "secret/app/db", "password=@/dev/null")
    assert r.returncode == 0
    r = cli(dev, "kv", "put", "secret/app/db", "password=-", stdin="from-stdin")
    assert r.returncode == 0
    assert cli(dev, "kv", "get", "-field=password", "-version=3", "secret/app/db").stdout == "from-stdin"
    assert cli(dev, "kv", "get", "-field=password", "-version=1", "secret/app/db").stdout == "s3cret"
    r = cli(dev, "kv", "list", "secret/app")
    assert r.returncode == 0 and "db" in r.stdout
    assert cli(dev, "kv", "delete", "secret/app/db").returncode == 0
    r = cli(dev, "kv", "get", "secret/app/db")  # soft-deleted: metadata, exit 0 (vault)
    assert r.returncode == 0 and "deletion_time" in r.stdout and "== Data ==" not in r.stdout
    assert cli(dev, "kv", "get", "-field=password", "secret/app/db").returncode == 2
    assert cli(dev, "kv", "undelete", "-versions=3", "secret/app/db").returncode == 0
    assert cli(dev, "kv", "get", "-field=password", "secret/app/db").stdout == "from-stdin"
    r = cli(dev, "kv", "metadata", "get", "secret/app/db")
    assert r.returncode == 0 and "current_version" in r.stdout


def test_kv_v1_and_generic(dev):
    assert cli(dev, "secrets", "enable", "-path=kv1", "-version=1", "kv").returncode == 0
    r = cli(dev, "secrets", "list")
    assert "kv1/" in r.stdout and "Accessor" in r.stdout
    assert cli(dev, "kv", "put", "kv1/team", "owner=bob").returncode == 0
    assert cli(dev, "read", "-field=owner", "kv1/team").stdout == "bob"
    assert cli(dev, "write", "kv1/other", "a=1").returncode == 0
    assert "other" in cli(dev, "list", "kv1/").stdout
    r = cli(dev, "read", "sys/nope")
    assert r.returncode == 2 and "Code: 404" in r.stderr


def test_tokens_policies_login(dev):
    r = cli(dev, "policy", "write", "reader", "-", stdin='path "secret/data/*" { capabilities = ["read"] }')
    assert r.returncode == 0, r.stderr
    assert "reader" in cli(dev, "policy", "list").stdout
    r = cli(dev, "token", "create", "-policy=reader", "-ttl=1h", "-format=json")
    tok = json.loads(r.stdout)["auth"]["client_token"]
    r = cli(dev, "login", tok, token=None)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(dev[1], ".vault-token")) as f:
        assert f.read() == tok
    assert oct(os.stat(os.path.join(dev[1], ".vault-token")).st_mode & 0o777) == "0o600"
    # The stored token is used when VAULT_TOKEN is absent.
    cli(dev, "kv", "put", "secret/readable", "v=1")
    r = cli(dev, "kv", "get", "-field=v", "secret/readable", token=None)
    assert (r.returncode, r.stdout) == (0, "1"), r.stderr
    r = cli(dev, "kv", "put", "secret/readable", "v=2", token=None)
    assert r.returncode == 2 and "permission denied" in r.stderr
    assert cli(dev, "token", "capabilities", "secret/data/x", token=None).stdout == "read\n"
    assert cli(dev, "token", "revoke", tok).returncode == 0
    assert cli(dev, "token", "lookup", tok).returncode == 2


def test_sealed_exit_code(dev):
    assert cli(dev, "operator", "seal").returncode == 0
    r = cli(dev, "status")
    assert r.returncode == 2 and re.search(r"^Sealed\s+true$", r.stdout, re.M)


def test_kv_rollback_policy_fmt_secrets_tune(dev):
    d, home = dev
    if cli(dev, "status").returncode == 2:  # an earlier test sealed it
        assert cli(dev, "operator", "unseal", d.unseal_key).returncode == 0
    assert cli(dev, "kv", "put", "secret/rb", "v=one").returncode == 0
    assert cli(dev, "kv", "put", "secret/rb", "v=two").returncode == 0
    r = cli(dev, "kv", "rollback", "-version=1", "secret/rb")
    assert r.returncode == 0, r.stderr
    assert cli(dev, "kv", "get", "-field=v", "secret/rb").stdout == "one"
    assert json.loads(cli(dev, "kv", "metadata", "get", "-format=json", "secret/rb").stdout)["data"][
        "current_version"] == 3
    assert cli(dev, "kv", "destroy", "-versions=2", "secret/rb").returncode == 0
    r = cli(dev, "kv", "rollback", "-version=2", "secret/rb")
    assert r.returncode != 0 and "deleted or destroyed" in r.stderr

    messy = os.path.join(home, "messy.hcl")
    with open(messy, "w") as f:
        f.write('path "secret/data/a/*" {capabilities=["read","list"]}\n# comment\n'
                'path   "secret/data/b" {\n capabilities = ["deny"]\n}\n')
    r = cli(dev, "policy", "fmt", messy)
    assert r.returncode == 0, r.stderr
    with open(messy) as f:
        assert f.read() == ('path "secret/data/a/*" {\n  capabilities = ["read","list"]\n}\n\n'
                            'path "secret/data/b" {\n  capabilities = ["deny"]\n}\n')
    assert cli(dev, "policy", "write", "fmt-ok", messy).returncode == 0  # still a valid policy
    with open(messy, "w") as f:
        f.write('path "x" {\n')
    r = cli(dev, "policy", "fmt", messy)
    assert r.returncode != 0 and "failed to parse policy" in r.stderr

    assert cli(dev, "secrets", "enable", "-path=tuned", "kv").returncode == 0
    r = cli(dev, "secrets", "tune", "-default-lease-ttl=1h", "-max-lease-ttl=2h", "tuned")
    assert r.returncode == 0 and "Success! Tuned the secrets engine at: tuned/" in r.stdout, r.stderr
    r = cli(dev, "read", "-format=json", "sys/mounts/tuned/tune")
    tune = json.loads(r.stdout)["data"]
    assert tune["default_lease_ttl"] == 3600 and tune["max_lease_ttl"] == 7200
