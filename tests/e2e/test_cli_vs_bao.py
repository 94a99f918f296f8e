"""The sealbox CLI against the real vault CLI (OpenBao's `bao`, SEALBOX_BAO):
one real Sealbox server, the same commands run with both clients, and their
exit codes and `-format=json` output compared (ids, times and TTLs that tick
normalised). Commands that change state run on a path per client ("bao-..."
and "sb-..."), normalised to "X-...". The deliberate differences are in
KNOWN_DIFFERENCES, each listed in docs/compatibility.md."""

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import bao_bin  # noqa: E402

# Fields bao prints that Sealbox's CLI does not, and why (docs/compatibility.md).
KNOWN_DIFFERENCES = {
    "commit_date": "OpenBao's status adds commit_date (its build); Vault, and Sealbox, print build_date",
}

VOLATILE = {"request_id", "accessor", "client_token", "id", "uuid", "creation_time", "expire_time", "issue_time",
            "created_time", "updated_time", "last_renewal", "last_renewal_time", "ttl", "cluster_id", "cluster_name",
            "nonce"}


@pytest.fixture(scope="module")
def env():
    bao = bao_bin()  # a missing binary fails the test with its RuntimeError
    s = harness.Server().start()
    homes = {"bao": tempfile.mkdtemp(prefix="cli-vs-bao-"), "sb": tempfile.mkdtemp(prefix="cli-vs-sb-")}
    state = {"server": s, "homes": homes, "token": None, "bin": {"bao": bao, "sb": harness.sealbox_bin()}}
    yield state
    s.cleanup()


def run(env, tool, args, stdin=None, token=True):
    s = env["server"]
    e = {"PATH": os.environ.get("PATH", ""), "HOME": env["homes"][tool], "VAULT_ADDR": s.url, "BAO_ADDR": s.url,
         "VAULT_CACERT": s.cacert, "BAO_CACERT": s.cacert, "LANG": "C.UTF-8"}
    if token and env["token"]:
        e["VAULT_TOKEN"] = e["BAO_TOKEN"] = env["token"]
    args = [a.replace("{p}", tool) for a in args]
    return subprocess.run([env["bin"][tool]] + args, input=stdin, env=e, capture_output=True, text=True, timeout=60)


def normalise(v, key=None):
    if isinstance(v, dict):
        return {normalise(k): normalise(x, k) for k, x in v.items() if k not in KNOWN_DIFFERENCES}
    if isinstance(v, list):
        items = [normalise(x) for x in v]
        # "bao-p" and "sb-p" sort differently before they become "X-p".
        return sorted(items) if all(isinstance(x, str) for x in items) else items
    if key in VOLATILE and v not in ("", None, 0):
        return "<%s>" % key
    if key == "deletion_time" and v:
        return "<time>"
    if isinstance(v, str):
        return re.sub(r"\b(bao|sb)-", "X-", v)
    return v


def both(env, *args, stdin=None, compare_json=None, token=True):
    """Runs args with bao, then with sealbox; asserts the same exit code and,
    for -format=json (or compare_json), the same normalised document."""
    b = run(env, "bao", list(args), stdin, token)
    s = run(env, "sb", list(args), stdin, token)
    assert b.returncode == s.returncode, "%s: bao exit %d, sealbox exit %d\n--- bao\n%s%s\n--- sealbox\n%s%s" % (
        " ".join(args), b.returncode, s.returncode, b.stdout[-1500:], b.stderr[-1500:], s.stdout[-1500:],
        s.stderr[-1500:])
    if compare_json if compare_json is not None else ("-format=json" in args and b.returncode == 0):
        jb, js = normalise(json.loads(b.stdout)), normalise(json.loads(s.stdout))
        assert jb == js, "%s: JSON differs\n--- bao\n%s\n--- sealbox\n%s" % (
            " ".join(args), json.dumps(jb, indent=1, sort_keys=True), json.dumps(js, indent=1, sort_keys=True))
    return b, s


def test_lifecycle_status_init_unseal(env):
    assert both(env, "status")[0].returncode == 2  # not initialised: sealed
    both(env, "status", "-format=json", compare_json=True)
    assert both(env, "operator", "init", "-status")[0].returncode == 2
    r = run(env, "sb", ["operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json"])
    assert r.returncode == 0, r.stderr
    init = json.loads(r.stdout)
    env["token"] = init["root_token"]
    env["server"].root_token = init["root_token"]
    both(env, "operator", "init", "-key-shares=1", "-key-threshold=1")  # already initialised: 2 both
    r = run(env, "sb", ["operator", "unseal", init["unseal_keys_b64"][0]])
    assert r.returncode == 0, r.stderr
    both(env, "operator", "unseal", "-format=json", init["unseal_keys_b64"][0])  # already unsealed
    assert both(env, "status", "-format=json")[0].returncode == 0
    assert both(env, "operator", "init", "-status")[0].returncode == 0


def test_secrets_engines(env):
    both(env, "secrets", "enable", "-path={p}-kv1", "-version=1", "kv")
    both(env, "secrets", "enable", "-path={p}-kv2", "-version=2", "kv")
    both(env, "secrets", "enable", "-path={p}-tmp", "kv")
    assert run(env, "sb", ["secrets", "enable", "-path=dup", "kv"]).returncode == 0
    assert both(env, "secrets", "enable", "-path=dup", "kv")[0].returncode == 2
    both(env, "secrets", "list", "-format=json")
    assert both(env, "secrets", "tune", "-default-lease-ttl=1h", "-max-lease-ttl=2h", "{p}-tmp")[0].returncode == 0
    both(env, "read", "-format=json", "sys/mounts/{p}-tmp/tune")
    assert both(env, "secrets", "tune", "-default-lease-ttl=abc", "{p}-tmp")[0].returncode == 1
    assert both(env, "secrets", "disable", "{p}-tmp")[0].returncode == 0
    assert both(env, "secrets", "disable", "{p}-tmp")[0].returncode == 0  # (if it existed)
    both(env, "secrets", "list", "-format=json")


def test_kv_v2(env):
    assert both(env, "kv", "put", "-format=json", "{p}-kv2/app", "a=1")[0].returncode == 0
    both(env, "kv", "get", "-format=json", "{p}-kv2/app")
    both(env, "kv", "get", "-field=a", "{p}-kv2/app")
    both(env, "kv", "get", "-mount={p}-kv2", "-format=json", "app")
    both(env, "kv", "patch", "-format=json", "{p}-kv2/app", "b=2")
    both(env, "kv", "put", "-format=json", "-cas=2", "{p}-kv2/app", "a=3")
    assert both(env, "kv", "put", "-cas=1", "{p}-kv2/app", "a=4")[0].returncode == 2  # cas mismatch
    both(env, "kv", "get", "-version=1", "-format=json", "{p}-kv2/app")
    assert both(env, "kv", "delete", "{p}-kv2/app")[0].returncode == 0
    both(env, "kv", "get", "-format=json", "{p}-kv2/app")  # soft-deleted: metadata, exit 0
    assert both(env, "kv", "get", "{p}-kv2/app")[0].returncode == 0
    assert both(env, "kv", "get", "-field=a", "{p}-kv2/app")[0].returncode == 2
    assert both(env, "kv", "undelete", "-versions=3", "{p}-kv2/app")[0].returncode == 0
    assert both(env, "kv", "destroy", "-versions=1", "{p}-kv2/app")[0].returncode == 0
    both(env, "kv", "get", "-version=1", "-format=json", "{p}-kv2/app")
    assert both(env, "kv", "undelete", "{p}-kv2/app")[0].returncode == 1  # no -versions
    assert both(env, "kv", "metadata", "put", "-max-versions=5", "{p}-kv2/app")[0].returncode == 0
    both(env, "kv", "metadata", "get", "-format=json", "{p}-kv2/app")
    both(env, "kv", "list", "-format=json", "{p}-kv2/")
    assert both(env, "kv", "metadata", "delete", "{p}-kv2/app")[0].returncode == 0
    assert both(env, "kv", "get", "{p}-kv2/app")[0].returncode == 2
    assert both(env, "kv", "get", "-version=x", "{p}-kv2/app")[0].returncode == 1


def test_kv_v1_and_generic(env):
    assert both(env, "kv", "put", "{p}-kv1/app", "a=1")[0].returncode == 0
    both(env, "kv", "get", "-format=json", "{p}-kv1/app")
    both(env, "kv", "list", "-format=json", "{p}-kv1/")
    assert both(env, "write", "{p}-kv1/gen", "x=1", "ttl=1h")[0].returncode == 0
    both(env, "read", "-format=json", "{p}-kv1/gen")
    for field in ("x", "lease_duration", "refresh_interval", "lease_id", "renewable", "nope"):
        b, s = both(env, "read", "-field=" + field, "{p}-kv1/gen")
        assert b.stdout == s.stdout, field
    b, s = both(env, "write", "-format=json", "{p}-kv1/stdin", "-", stdin='{"k": "v"}', compare_json=False)
    assert normalise(b.stdout) == normalise(s.stdout)  # 204: "Success! Data written to: ..."
    both(env, "read", "-format=json", "{p}-kv1/stdin")
    both(env, "list", "-format=json", "{p}-kv1/")
    assert both(env, "write", "{p}-kv1/empty")[0].returncode == 1
    assert both(env, "delete", "{p}-kv1/gen")[0].returncode == 0
    assert both(env, "read", "{p}-kv1/gen")[0].returncode == 2
    assert both(env, "kv", "delete", "{p}-kv1/app")[0].returncode == 0
    assert both(env, "read", "sys/nope")[0].returncode == 2


def test_policies(env):
    d = env["homes"]["sb"]
    path = os.path.join(d, "p.hcl")
    with open(path, "w") as f:
        f.write('path "secret/data/*" {\n  capabilities = ["read"]\n}\n')
    assert both(env, "policy", "write", "{p}-pol", path)[0].returncode == 0
    both(env, "policy", "read", "-format=json", "{p}-pol")
    both(env, "policy", "list", "-format=json")
    assert both(env, "policy", "write", "{p}-pol2", "-", stdin='path "x" { capabilities = ["list"] }')[0].returncode == 0
    assert both(env, "policy", "delete", "{p}-pol2")[0].returncode == 0
    assert both(env, "policy", "read", "{p}-pol2")[0].returncode == 2
    assert both(env, "policy", "write", "{p}-pol3", "/nonexistent.hcl")[0].returncode == 2


def _token(env, tool, *extra):
    r = run(env, tool, ["token", "create", "-format=json"] + list(extra))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["auth"]


def test_tokens(env):
    both(env, "token", "create", "-policy={p}-pol", "-ttl=1h", "-format=json")
    both(env, "token", "create", "-policy=a", "-policy=b", "-orphan", "-use-limit=3", "-format=json")
    both(env, "token", "create", "-period=30m", "-renewable=false", "-format=json")
    both(env, "token", "lookup", "-format=json")
    toks = {t: _token(env, t, "-ttl=1h") for t in ("bao", "sb")}
    for args in (["token", "lookup", "-format=json", "{tok}"], ["token", "lookup", "-format=json", "-accessor", "{acc}"],
                 ["token", "renew", "-format=json", "-increment=30m", "{tok}"],
                 ["token", "renew", "-format=json", "-accessor", "-increment=20m", "{acc}"],
                 ["token", "capabilities", "-format=json", "{tok}", "secret/data/x"],
                 ["token", "revoke", "-accessor", "{acc}"], ["token", "lookup", "-accessor", "{acc}"],
                 ["token", "lookup", "{tok}"]):
        rs = {}
        for t in ("bao", "sb"):
            a = [x.replace("{tok}", toks[t]["client_token"]).replace("{acc}", toks[t]["accessor"]) for x in args]
            rs[t] = run(env, t, a)
        assert rs["bao"].returncode == rs["sb"].returncode, (args, rs["bao"].stderr, rs["sb"].stderr)
        if "-format=json" in args and rs["bao"].returncode == 0:
            assert normalise(json.loads(rs["bao"].stdout)) == normalise(json.loads(rs["sb"].stdout)), args
    assert both(env, "token", "lookup")[0].returncode == 0  # root survived -accessor revocations
    assert both(env, "token", "create", "-use-limit=abc")[0].returncode == 1
    assert both(env, "token", "create", "-ttl=soon")[0].returncode == 1
    assert both(env, "token", "lookup", "-accessor")[0].returncode == 1
    assert both(env, "token", "revoke")[0].returncode == 1
    b, s = both(env, "token", "create", "-field=token_policies", "-policy=default")
    assert b.stdout == s.stdout


def test_auth_methods(env):
    assert both(env, "auth", "enable", "-path={p}-k8s", "kubernetes")[0].returncode == 0
    assert both(env, "auth", "enable", "-path={p}-k8s", "kubernetes")[0].returncode == 2
    both(env, "auth", "list", "-format=json")
    assert both(env, "auth", "disable", "{p}-k8s")[0].returncode == 0


def test_login(env):
    both(env, "login", "-format=json", "-no-store", env["token"], token=False)
    assert both(env, "login", "-no-store", "not-a-token", token=False)[0].returncode == 2


def test_operator_rotate_and_key_status(env):
    """bao 2.7 rotates through OpenBao's sys/rotate/keyring, sealbox through
    Vault's sys/rotate: both add a term, and only a sudo token may."""
    s = env["server"]
    term = s.root("GET", "/v1/sys/key-status")[1]["term"]
    b, sb = both(env, "operator", "rotate")
    assert b.returncode == 0 and b.stdout.startswith("Success! Rotated key\n\nKey Term ")
    # Then the new key's status, as vault (sealbox's rotation came second: its term is one more).
    key_term = re.compile(r"^(Key Term\s+)(\d+)$", re.M)
    assert key_term.search(sb.stdout).group(2) == str(term + 2), sb.stdout
    minute = re.compile(r"\d\d:\d\d UTC")  # Go's RFC822: "07 Dec 26 15:01 UTC"; the two may straddle a minute
    assert minute.sub("<time>", key_term.sub(r"\g<1>%d" % (term + 1), sb.stdout)) == minute.sub("<time>", b.stdout)
    assert s.root("GET", "/v1/sys/key-status")[1]["term"] == term + 2
    b, sb = both(env, "operator", "key-status")
    assert minute.sub("<time>", b.stdout) == minute.sub("<time>", sb.stdout)
    b, sb = both(env, "operator", "rotate", "-format=json", compare_json=False)  # terms differ by one
    assert json.loads(sb.stdout)["term"] == json.loads(b.stdout)["term"] + 1
    assert json.loads(sb.stdout).keys() == json.loads(b.stdout).keys() == {"term", "install_time", "encryptions"}
    st, b = s.root("POST", "/v1/auth/token/create", {"policies": ["rotator"]})
    assert s.root("PUT", "/v1/sys/policies/acl/rotator",
                  {"policy": 'path "sys/rotate*" { capabilities = ["update"] }'})[0] == 204
    for path in ("/v1/sys/rotate", "/v1/sys/rotate/keyring"):  # update without sudo
        assert s.raw("POST", path, b["auth"]["client_token"])[0] == 403, path


def test_flag_errors_and_usage(env):
    for args in (["read", "-x", "secret/foo"], ["secrets", "list", "-nope"], ["kv", "get", "-version=x", "a/b"],
                 ["read"], ["token"], ["kv"], ["token", "nosuch"], ["status", "extra"], ["read", "-format=xml", "a"],
                 ["nosuchcommand"], ["kv", "put", "-cas=x", "a/b", "c=d"], ["operator", "init", "-key-shares=three"]):
        b, s = both(env, *args)
        assert b.returncode != 0, args
        if b.stderr.startswith("flag provided but not defined"):
            assert s.stderr == b.stderr


HELP_COMMANDS = ["status", "read", "write", "list", "delete", "patch", "login", "path-help", "print token",
                 "operator init", "operator seal", "operator unseal", "operator step-down", "operator rotate",
                 "kv", "kv get", "kv put", "kv patch", "kv delete", "kv undelete", "kv destroy", "kv list",
                 "kv metadata", "kv metadata get", "kv metadata put", "kv metadata delete", "kv rollback",
                 "token", "token create", "token lookup", "token renew", "token revoke", "token capabilities",
                 "policy write", "policy read", "policy list", "policy delete", "policy fmt",
                 "secrets enable", "secrets disable", "secrets list", "secrets tune", "secrets move",
                 "auth enable", "auth disable", "auth list", "auth tune", "audit enable", "audit list",
                 "lease lookup", "lease renew", "lease revoke", "server"]


def test_help_exit_codes(env):
    for cmd in HELP_COMMANDS:
        for spelling in ("-h", "-help", "--help"):
            assert both(env, *(cmd.split() + [spelling]))[0].returncode == 0, cmd
    assert both(env, "-help")[0].returncode == 0
    assert not env["server"].raw("GET", "/v1/sys/seal-status")[1]["sealed"]
