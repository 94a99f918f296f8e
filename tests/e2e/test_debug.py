"""`sealbox debug` against a real server, beside OpenBao's `bao debug` (the
vault CLI's command) on the same server: the same bundle layout (index.json
and one JSON array per target), the same keys in every poll, and the
refusals: targets Sealbox does not serve, an output that exists, and a token
that may not read the configuration (recorded in index.json, as vault)."""

import json
import os
import subprocess
import sys
import tarfile

import pytest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import bao_bin  # noqa: E402

TARGETS = ["config", "host", "metrics", "requests", "server-status"]
TIMING = ["-duration=5s", "-interval=5s", "-metrics-interval=5s"]


@pytest.fixture(scope="module")
def server():
    s = harness.Server().start()
    s.init(1, 1)
    s.unseal()
    yield s
    s.cleanup()


def env_for(s, token):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    e.update(VAULT_ADDR=s.url, VAULT_CACERT=s.cacert, VAULT_TOKEN=token, BAO_ADDR=s.url, BAO_CACERT=s.cacert,
             BAO_TOKEN=token, HOME=s.dir)
    return e


def start(binary, s, token, *args):
    return subprocess.Popen([binary, "debug"] + list(args), env=env_for(s, token), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(p):
    out, err = p.communicate(timeout=120)
    return p.returncode, out, err


def bundle(path):
    """{file name: parsed JSON} of a .tar.gz bundle, names without their folder."""
    with tarfile.open(path) as t:
        return {os.path.basename(m.name): json.load(t.extractfile(m)) for m in t.getmembers()
                if m.isfile() and m.name.endswith(".json")}


def test_the_bundle_is_vault_debugs(server, tmp_path):
    s = server
    # May read host information, and the configuration's path but without sudo.
    policy = 'path "sys/host-info" { capabilities = ["read"] }\n' \
             'path "sys/config/state/sanitized" { capabilities = ["read"] }\n'
    assert s.root("PUT", "/v1/sys/policies/acl/debug-reader", {"policy": policy})[0] == 204
    st, body = s.root("POST", "/v1/auth/token/create", {"policies": ["debug-reader"]})
    assert st == 200, body
    plain = body["auth"]["client_token"]
    ours = start(harness.sealbox_bin(), s, s.root_token, *TIMING, "-output=%s/sb.tar.gz" % tmp_path)
    theirs = start(bao_bin(), s, s.root_token, *TIMING, *["-target=" + t for t in TARGETS],
                   "-output=%s/bao.tar.gz" % tmp_path)
    unprivileged = start(harness.sealbox_bin(), s, plain, *TIMING, "-target=config", "-target=host",
                         "-output=%s/plain.tar.gz" % tmp_path)
    for p in (ours, theirs, unprivileged):
        rc, out, err = finish(p)
        assert rc == 0 and "Success! Bundle written to" in out, (rc, out, err)

    sb, bao = bundle(tmp_path / "sb.tar.gz"), bundle(tmp_path / "bao.tar.gz")
    assert set(sb) == set(bao) == {"index.json", "config.json", "host_info.json", "metrics.json", "requests.json",
                                   "server_status.json"}, (sorted(sb), sorted(bao))
    assert sb["index.json"]["errors"] == [] and bao["index.json"]["errors"] == [], (sb["index.json"], bao["index.json"])
    assert sb["index.json"]["targets"] == TARGETS and sb["index.json"]["duration_seconds"] == 5
    for name in set(sb) - {"index.json"}:
        assert isinstance(sb[name], list) and len(sb[name]) == len(bao[name]), (name, len(sb[name]), len(bao[name]))
        assert set(sb[name][0]) == set(bao[name][0]), (name, sorted(sb[name][0]), sorted(bao[name][0]))
    assert len(sb["host_info.json"]) == 2  # at 0 s and at 5 s
    assert sb["server_status.json"][0]["seal"]["sealed"] is False
    assert "rocksdb" in json.dumps(sb["config.json"][0]["config"])

    # Without sudo the configuration is refused: recorded, the rest captured.
    plain_bundle = bundle(tmp_path / "plain.tar.gz")
    errors = plain_bundle["index.json"]["errors"]
    assert [e["target"] for e in errors] == ["config"] and "403" in errors[0]["error"], errors
    assert "config.json" not in plain_bundle and len(plain_bundle["host_info.json"]) == 2
    assert plain not in json.dumps(plain_bundle) and s.root_token not in json.dumps(bundle(tmp_path / "sb.tar.gz"))


def test_refusals(server, tmp_path):
    s = server
    for target, words in [("pprof", "not a Go program"), ("log", "sys/monitor"), ("bogus", "unknown target")]:
        rc, out, err = finish(start(harness.sealbox_bin(), s, s.root_token, "-target=" + target,
                                    "-output=%s/x.tar.gz" % tmp_path))
        assert rc == 1 and words in err, (target, rc, err)
    existing = tmp_path / "exists.tar.gz"
    existing.write_text("keep me")
    rc, out, err = finish(start(harness.sealbox_bin(), s, s.root_token, "-output=%s" % existing))
    assert rc == 1 and "already exists" in err and existing.read_text() == "keep me", (rc, err)
    assert not (tmp_path / "x.tar.gz").exists()
