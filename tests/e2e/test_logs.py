"""End to end: logs an operator can use (issue 24).

log_format = "json" writes one JSON object a line; each administrative change
(mounts, auth methods, policies, audit devices, quotas, seal, unseal, rotate)
earns exactly one info line naming its path and the accessor of the token
that made it, never the token; request lines appear at debug only, with
method, path, status and latency and no query values; SIGHUP re-reads
log_level; sys/loggers changes the level at run time and DELETE restores it.
No line carries a secret (the harness checks every file at cleanup).
"""

import json
import os
import re
import signal
import subprocess

import pytest

from harness import Server, sealbox_bin, wait_until


def lines(server):
    out = []
    for raw in server.log().splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            out.append(json.loads(raw))
    return out


@pytest.fixture(scope="module")
def server():
    s = Server(log_level="info", extra_config='log_format = "json"\n').start()
    s.init(shares=1, threshold=1)
    s.unseal()
    yield s
    s.cleanup()


def admin_lines(server, message, path):
    return [l for l in lines(server) if l.get("@message") == "admin: " + message and l.get("path") == path]


def test_every_line_is_json(server):
    text = server.log().strip().splitlines()
    assert text, "no log lines"
    for raw in text:
        j = json.loads(raw)
        assert {"@timestamp", "@level", "@message", "@module"} <= set(j), raw
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", j["@timestamp"])


def test_one_admin_line_per_change_with_the_actor_accessor(server):
    st, b = server.root("POST", "/v1/auth/token/create", {"policies": ["root"]})
    admin = b["auth"]["client_token"]
    accessor = b["auth"]["accessor"]
    changes = [
        ("POST", "/v1/sys/mounts/app", {"type": "kv"}, "mount enabled", "sys/mounts/app"),
        ("POST", "/v1/sys/mounts/app/tune", {"default_lease_ttl": "1h"}, "mount tuned", "sys/mounts/app/tune"),
        ("POST", "/v1/sys/auth/up", {"type": "userpass"}, "auth method enabled", "sys/auth/up"),
        ("PUT", "/v1/sys/policies/acl/ops", {"policy": 'path "app/*" { capabilities = ["read"] }'},
         "policy written", "sys/policies/acl/ops"),
        ("PUT", "/v1/sys/audit/f", {"type": "file", "options": {"file_path": os.path.join(server.dir, "a.log")}},
         "audit device enabled", "sys/audit/f"),
        ("POST", "/v1/sys/quotas/rate-limit/q", {"rate": 1000}, "quota written", "sys/quotas/rate-limit/q"),
        ("POST", "/v1/sys/rotate", {}, "encryption key rotated", "sys/rotate"),
        ("POST", "/v1/sys/rotate/keyring", {}, "encryption key rotated", "sys/rotate/keyring"),
        ("DELETE", "/v1/sys/quotas/rate-limit/q", None, "quota deleted", "sys/quotas/rate-limit/q"),
        ("DELETE", "/v1/sys/audit/f", None, "audit device disabled", "sys/audit/f"),
        ("DELETE", "/v1/sys/policies/acl/ops", None, "policy deleted", "sys/policies/acl/ops"),
        ("DELETE", "/v1/sys/auth/up", None, "auth method disabled", "sys/auth/up"),
        ("DELETE", "/v1/sys/mounts/app", None, "mount disabled", "sys/mounts/app"),
    ]
    for method, path, body, message, log_path in changes:
        st, b = server.raw(method, path, admin, body)
        assert st in (200, 204), (path, b)
    for method, path, body, message, log_path in changes:
        found = admin_lines(server, message, log_path)
        assert len(found) == 1, (message, found)
        assert found[0]["actor_accessor"] == accessor
        assert found[0]["@level"] == "info"
    # A refused change logs nothing.
    st, _ = server.raw("POST", "/v1/sys/mounts/app", admin, {"type": "no-such-engine"})
    assert st == 400
    assert len(admin_lines(server, "mount enabled", "sys/mounts/app")) == 1
    assert admin not in server.log()


def test_seal_and_unseal_are_logged(server):
    st, _ = server.root("PUT", "/v1/sys/seal")
    assert st == 204
    server.unseal(server.keys[:1])
    msgs = [l["@message"] for l in lines(server)]
    last = {m: i for i, m in enumerate(msgs)}
    assert last["admin: seal requested"] < last["core: sealing vault"] < last["core: vault is unsealed"]


def test_sys_loggers_change_the_level_and_request_lines_appear_at_debug(server):
    st, b = server.root("GET", "/v1/sys/loggers")
    assert st == 200 and b["data"] == {"core": "info"}
    server.root("GET", "/v1/sys/mounts?marker=query-value-1")
    assert not [l for l in lines(server) if l.get("@message") == "request"]
    st, _ = server.root("POST", "/v1/sys/loggers", {"level": "debug"})
    assert st == 204
    assert server.root("GET", "/v1/sys/loggers/core")[1]["data"] == {"core": "debug"}
    server.root("GET", "/v1/sys/mounts?marker=query-value-2")
    reqs = [l for l in lines(server) if l.get("@message") == "request" and l["path"] == "/v1/sys/mounts"]
    assert reqs and reqs[-1]["method"] == "GET" and reqs[-1]["status"] == "200" and reqs[-1]["@level"] == "debug"
    assert float(reqs[-1]["duration_ms"]) >= 0
    assert "query-value" not in server.log()
    st, b = server.root("POST", "/v1/sys/loggers", {"level": "bogus"})
    assert st == 400 and b["errors"] == ["invalid level provided: unknown log level: bogus"]
    st, b = server.root("POST", "/v1/sys/loggers/nonexist", {"level": "debug"})
    assert st == 400 and b["errors"] == ['logger "nonexist" not found']
    st, _ = server.root("DELETE", "/v1/sys/loggers")
    assert st == 204
    assert server.root("GET", "/v1/sys/loggers")[1]["data"] == {"core": "info"}


def test_sighup_rereads_log_level(server):
    with open(server.config) as f:
        text = f.read()
    with open(server.config, "w") as f:
        f.write(text.replace('log_level = "info"', 'log_level = "debug"'))
    try:
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: any(l.get("@message") == "log level reloaded" and l.get("level") == "debug"
                               for l in lines(server)), 10, what="the reload line")
        assert server.root("GET", "/v1/sys/loggers")[1]["data"] == {"core": "debug"}
    finally:
        with open(server.config, "w") as f:
            f.write(text)
        server.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: server.root("GET", "/v1/sys/loggers")[1]["data"] == {"core": "info"}, 10,
                   what="info again")


def test_unknown_log_format_refused_in_file_and_flag():
    s = Server(extra_config='log_format = "xml"\n')
    try:
        with pytest.raises(RuntimeError, match="log_format"):
            s.start()
    finally:
        s.cleanup()
    out = subprocess.run([sealbox_bin(), "server", "-dev", "-log-format=xml"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode != 0 and "-log-format" in out.stderr + out.stdout


def test_log_format_flag_gives_json():
    s = Server(log_level="info")
    try:
        s.start()  # the file says nothing: text lines
        assert not s.log().lstrip().startswith("{")
        s.stop()
        with open(s.log_path, "w"):
            pass
        log = open(s.log_path, "ab")
        s.proc = subprocess.Popen([sealbox_bin(), "server", "-config", s.config, "-log-format=json"],
                                  stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: s.log().strip() != "", 30, what="a log line")
        for raw in s.log().strip().splitlines():
            json.loads(raw)
    finally:
        s.cleanup()
