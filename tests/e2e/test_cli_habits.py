"""The CLI is safe to use from vault muscle memory (issue 19): -help never
sends a request, flags are typed and declared per command, -accessor acts on
the accessor's token, prompted secrets are not echoed, output automation can
rely on (vault's JSON shapes, -field on envelope fields, durations,
warnings), flags Sealbox cannot honour are refused, and exit codes are
vault's (1 usage, 2 server, 127 unknown command)."""

import json
import os
import pty
import select
import subprocess
import termios
import time

import pytest

import harness


# The dev server fixture and the CLI runner are test_cli.py's.
from test_cli import cli, dev  # noqa: E402,F401  (a fixture, used by name)


def api(dev, method, path, body=None, token=None):
    d, _ = dev
    st, data = d.raw(method, path, token or d.root_token, body)
    return st, (json.loads(data) if data else None)


def accessors(dev):
    st, body = api(dev, "LIST", "/v1/auth/token/accessors")
    assert st == 200, body
    return set(body["data"]["keys"])


def sealed(dev):
    return api(dev, "GET", "/v1/sys/seal-status")[1]["sealed"]


# Every command, groups included.
COMMANDS = [
    "status", "read", "write", "patch", "list", "delete", "path-help", "login", "print", "print token",
    "operator", "operator init", "operator unseal", "operator seal", "operator step-down", "operator rotate",
    "operator key-status", "kv", "kv get", "kv put", "kv patch", "kv list", "kv delete", "kv undelete", "kv destroy",
    "kv rollback", "kv metadata", "kv metadata get", "kv metadata put", "kv metadata delete", "token",
    "token create", "token lookup", "token renew", "token revoke", "token capabilities", "lease", "lease lookup",
    "lease renew", "lease revoke", "policy", "policy list", "policy read", "policy write", "policy delete",
    "policy fmt", "secrets", "secrets list", "secrets enable", "secrets disable", "secrets tune", "secrets move",
    "auth", "auth list", "auth enable", "auth disable", "auth tune", "audit", "audit list", "audit enable",
    "audit disable", "audit verify", "server",
]


@pytest.mark.parametrize("spelling", ["-h", "-help", "--help"])
def test_help_on_every_command_exits_0_and_sends_nothing(dev, spelling):
    before = accessors(dev)
    for cmd in COMMANDS:
        r = cli(dev, *cmd.split(), spelling)
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
        assert r.stdout.startswith("Usage: sealbox " + cmd.split()[0]), (cmd, r.stdout)
    # Help after arguments is still help (vault's rule), never the request.
    for args in (["operator", "seal", "x", spelling], ["token", "create", "-policy=p", spelling],
                 ["operator", "init", "-key-shares=1", spelling]):
        assert cli(dev, *args).returncode == 0
    assert not sealed(dev)
    assert accessors(dev) == before  # no token was issued


def test_unknown_flags_and_bad_values_exit_1_naming_the_flag(dev):
    r = cli(dev, "read", "-x", "secret/foo")
    assert (r.returncode, r.stderr.strip()) == (1, "flag provided but not defined: -x")
    for args, flag in ((["token", "create", "-use-limit=abc"], "-use-limit"),
                       (["kv", "put", "-cas=x", "secret/a", "b=c"], "-cas"),
                       (["operator", "init", "-key-shares=three"], "-key-shares"),
                       (["token", "create", "-ttl=soon"], "-ttl"),
                       (["lease", "revoke", "-prefix=maybe", "x"], "-prefix"),
                       (["kv", "get", "-version", "x", "secret/a"], "-version")):
        r = cli(dev, *args)
        assert r.returncode == 1, (args, r.returncode, r.stderr)  # not SIGABRT
        assert "invalid value" in r.stderr and flag in r.stderr, (args, r.stderr)
    r = cli(dev, "secrets", "list", "--nope")
    assert (r.returncode, r.stderr.strip()) == (1, "flag provided but not defined: -nope")


def test_flag_forms_and_repeated_policies(dev):
    for p in ("a-pol", "b-pol"):
        api(dev, "PUT", "/v1/sys/policies/acl/" + p, {"policy": 'path "x" { capabilities = ["read"] }'})
    r = cli(dev, "token", "create", "-policy=a-pol", "--policy", "b-pol", "-format", "json")
    assert r.returncode == 0, r.stderr
    assert {"a-pol", "b-pol"} <= set(json.loads(r.stdout)["auth"]["policies"])


def test_token_accessor_acts_on_the_accessors_token(dev):
    child = json.loads(cli(dev, "token", "create", "-ttl=1h", "-format=json").stdout)["auth"]
    acc = child["accessor"]
    r = cli(dev, "token", "lookup", "-format=json", "-accessor", acc)  # -accessor never swallows acc
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)["data"]
    assert d["accessor"] == acc and d["display_name"] == "token" and d["path"] == "auth/token/create"
    r = cli(dev, "token", "renew", "-accessor", "-increment=30m", "-format=json", acc)
    assert r.returncode == 0 and json.loads(r.stdout)["auth"]["lease_duration"] == 1800, r.stderr
    r = cli(dev, "token", "revoke", "-accessor", acc)
    assert r.returncode == 0, r.stderr
    # The caller (root) is alive; the child is gone.
    assert api(dev, "GET", "/v1/auth/token/lookup-self")[0] == 200
    assert api(dev, "GET", "/v1/auth/token/lookup-self", token=child["client_token"])[0] == 403
    r = cli(dev, "token", "lookup", "-accessor")
    assert r.returncode == 1 and "-accessor" in r.stderr


def _run_on_pty(dev, args, typed, prompt):
    """Runs the CLI with a terminal as stdin/stdout/stderr, types `typed` after
    the prompt; returns (exit code, everything the terminal showed, ECHO on after)."""
    d, home = dev
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "VAULT_ADDR": d.url, "VAULT_CACERT": d.cacert,
           "VAULT_TOKEN": d.root_token}
    p = subprocess.Popen([harness.sealbox_bin()] + args, stdin=slave, stdout=slave, stderr=slave, env=env,
                         close_fds=True)
    shown = b""
    deadline = time.time() + 30
    typed_yet = False
    while time.time() < deadline:
        if not typed_yet and prompt.encode() in shown:
            # Typed only once echo is off: the prompt is written after that.
            os.write(master, typed.encode() + b"\n")
            typed_yet = True
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            shown += chunk
        elif p.poll() is not None:
            break
    rc = p.wait(timeout=30)
    echo_on = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
    os.close(master)
    os.close(slave)
    return rc, shown.decode(errors="replace"), echo_on


def test_prompted_secrets_are_hidden(dev):
    d, home = dev
    tok = json.loads(cli(dev, "token", "create", "-ttl=1h", "-format=json").stdout)["auth"]["client_token"]
    rc, shown, echo_on = _run_on_pty(dev, ["login"], tok, "Token (will be hidden): ")
    assert rc == 0, shown
    assert "Token (will be hidden): " in shown
    assert shown.count(tok) == 1, shown  # only in the table after login, never echoed as typed
    assert echo_on
    with open(os.path.join(home, ".vault-token")) as f:
        assert f.read() == tok

    assert cli(dev, "operator", "seal").returncode == 0
    rc, shown, echo_on = _run_on_pty(dev, ["operator", "unseal"], d.unseal_key, "Unseal Key (will be hidden): ")
    assert rc == 0, shown
    assert d.unseal_key not in shown and echo_on
    assert not sealed(dev)
    # Not a terminal: one line from stdin.
    r = cli(dev, "login", "-no-print", stdin=tok + "\n")
    assert r.returncode == 0, r.stderr


def test_operator_init_json_has_vaults_fields():
    s = harness.Server().start()
    try:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": s.dir, "VAULT_ADDR": s.url, "VAULT_CACERT": s.cacert}
        r = subprocess.run([harness.sealbox_bin(), "operator", "init", "-key-shares=3", "-key-threshold=2",
                            "-format=json"], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        init = json.loads(r.stdout)
        assert set(init) == {"unseal_keys_b64", "unseal_keys_hex", "unseal_shares", "unseal_threshold",
                             "recovery_keys_b64", "recovery_keys_hex", "recovery_keys_shares",
                             "recovery_keys_threshold", "root_token"}
        assert (len(init["unseal_keys_b64"]), len(init["unseal_keys_hex"])) == (3, 3)
        assert (init["unseal_shares"], init["unseal_threshold"]) == (3, 2)
        assert init["recovery_keys_b64"] == [] and init["root_token"]
        for key in init["unseal_keys_b64"][:2]:
            u = subprocess.run([harness.sealbox_bin(), "operator", "unseal", "-format=json", key], env=env,
                               capture_output=True, text=True, timeout=60)
            assert u.returncode == 0, u.stderr
        assert json.loads(u.stdout)["sealed"] is False
    finally:
        s.cleanup()


def test_list_and_login_json_shapes(dev):
    r = cli(dev, "secrets", "list", "-format=json")
    mounts = json.loads(r.stdout)
    assert mounts["secret/"]["type"] == "kv" and mounts["secret/"]["options"] == {"version": "2"}
    assert {"uuid", "accessor", "config", "local", "seal_wrap"} <= set(mounts["secret/"])
    auths = json.loads(cli(dev, "auth", "list", "-format=json").stdout)
    assert auths["token/"]["type"] == "token"
    policies = json.loads(cli(dev, "policy", "list", "-format=json").stdout)
    assert "default" in policies and "root" in policies
    r = cli(dev, "login", "-format=json", "-no-store", dev[0].root_token, token=None)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["auth"]["client_token"] == dev[0].root_token


def test_field_reaches_the_envelope(dev):
    assert cli(dev, "secrets", "enable", "-path=kv1", "-version=1", "kv").returncode == 0
    assert cli(dev, "write", "kv1/leased", "v=x", "ttl=1h").returncode == 0
    for field, want in (("lease_duration", "3600"), ("refresh_interval", "3600"), ("lease_id", ""),
                        ("renewable", "false"), ("v", "x")):
        r = cli(dev, "read", "-field=" + field, "kv1/leased")
        assert (r.returncode, r.stdout) == (0, want), (field, r.stdout, r.stderr)
    r = cli(dev, "read", "-field=nope", "kv1/leased")
    assert r.returncode == 1 and 'Field "nope" not present' in r.stderr


def test_durations_and_warnings_in_tables(dev):
    r = cli(dev, "token", "create", "-policy=no-such-policy", "-ttl=768h")
    assert r.returncode == 0, r.stderr
    assert "WARNING!" in r.stderr and "no-such-policy" in r.stderr
    assert any(line.split() == ["token_duration", "768h"] for line in r.stdout.splitlines()), r.stdout
    r = cli(dev, "read", "kv1/leased")
    assert any(line.split() == ["refresh_interval", "1h"] for line in r.stdout.splitlines()), r.stdout


def test_write_reads_json_from_stdin_and_files(dev):
    r = cli(dev, "write", "secret/data/from-stdin", "-", stdin='{"data": {"a": "1", "b": "two"}}')
    assert r.returncode == 0, r.stderr
    assert cli(dev, "kv", "get", "-field=b", "secret/from-stdin").stdout == "two"
    _, home = dev
    path = os.path.join(home, "value.txt")
    with open(path, "w") as f:
        f.write("from-a-file")
    assert cli(dev, "kv", "put", "secret/from-file", "v=@" + path).returncode == 0
    assert cli(dev, "kv", "get", "-field=v", "secret/from-file").stdout == "from-a-file"
    assert cli(dev, "kv", "put", "secret/from-file", "v=-", stdin="piped").returncode == 0
    assert cli(dev, "kv", "get", "-field=v", "secret/from-file").stdout == "piped"
    r = cli(dev, "write", "secret/data/nothing")
    assert r.returncode == 1 and "Must supply data" in r.stderr


def test_unsupported_flags_are_refused_before_any_request(dev):
    assert cli(dev, "kv", "put", "secret/wrapped", "v=clear-secret").returncode == 0
    for args in (["read", "-output-curl-string", "secret/data/wrapped"],
                 ["read", "-namespace=team", "secret/data/wrapped"], ["read", "-header=X-A=b", "secret/data/wrapped"],
                 ["write", "-policy-override", "secret/data/wrapped", "v=1"],
                 ["operator", "init", "-pgp-keys=k.asc"]):
        r = cli(dev, *args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stdout == "" and "not supported" in r.stderr, (args, r.stderr)
    r = cli(dev, "read", "secret/data/wrapped", extra_env={"VAULT_NAMESPACE": "team"})
    assert r.returncode == 1 and "namespaces are not supported" in r.stderr
    assert cli(dev, "read", "-namespace=root", "-field=data", "secret/data/wrapped").returncode == 0


def test_print_token_and_path_help(dev):
    r = cli(dev, "print", "token", token="s.some-token")
    assert (r.returncode, r.stdout) == (0, "s.some-token\n")
    r = cli(dev, "path-help", "secret/data/app")
    assert r.returncode == 0, r.stderr
    assert "Request:        data/app" in r.stdout and "Matching Route: ^data/" in r.stdout, r.stdout
    assert "## PARAMETERS" in r.stdout
    r = cli(dev, "path-help", "-format=json", "secret/data/app")
    assert r.returncode == 0 and "help" in json.loads(r.stdout), r.stdout


def test_exit_codes_are_vaults(dev):
    assert cli(dev, "read").returncode == 1  # usage
    assert cli(dev, "read", "a", "b").returncode == 1  # bad K=V
    assert cli(dev, "token", "revoke").returncode == 1
    assert cli(dev, "token").returncode == 1  # a group without subcommand
    assert cli(dev, "read", "sys/nope").returncode == 2  # the server said no
    assert cli(dev, "policy", "read", "nope").returncode == 2
    assert cli(dev, "nosuchcommand").returncode == 127
    assert cli(dev, "read", "-address=https://127.0.0.1:1", "sys/mounts").returncode == 2
    assert cli(dev, "status", "-address=https://127.0.0.1:1").returncode == 1


def test_wrap_ttl_wraps_and_unwrap_reads_it_once(dev):
    assert cli(dev, "kv", "put", "secret/wrapped-cli", "v=clear-secret").returncode == 0
    r = cli(dev, "read", "-wrap-ttl=5m", "secret/data/wrapped-cli")
    assert r.returncode == 0 and "clear-secret" not in r.stdout, r.stdout
    for row in ("wrapping_token:", "wrapping_accessor:", "wrapping_token_ttl:", "wrapping_token_creation_time:",
                "wrapping_token_creation_path:"):
        assert row in r.stdout, (row, r.stdout)
    assert "5m" in r.stdout and "+0000 UTC" in r.stdout and "secret/data/wrapped-cli" in r.stdout
    token = cli(dev, "kv", "get", "-wrap-ttl=90s", "-field=wrapping_token", "secret/wrapped-cli").stdout.strip()
    r = cli(dev, "unwrap", "-field=data", token)
    assert r.returncode == 0 and "clear-secret" in r.stdout, (r.stdout, r.stderr)
    r = cli(dev, "unwrap", token)
    assert r.returncode == 2 and "wrapping token is not valid or does not exist" in r.stderr, r.stderr
    # VAULT_WRAP_TTL wraps every request; without a token argument, the token in use is the wrapping token.
    env_wrapped = cli(dev, "read", "-field=wrapping_token", "secret/data/wrapped-cli", extra_env={"VAULT_WRAP_TTL": "60"})
    assert env_wrapped.returncode == 0
    r = cli(dev, "unwrap", "-format=json", extra_env={"VAULT_TOKEN": env_wrapped.stdout.strip()})
    assert r.returncode == 0 and json.loads(r.stdout)["data"]["data"] == {"v": "clear-secret"}, r.stdout
