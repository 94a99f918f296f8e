"""Audit devices end to end (issue 5): one request and one response line per
routed request, every secret HMAC'd (matching sys/audit-hash), fail closed,
SIGHUP reopen, and the hash chain that `sealbox audit verify` checks."""

import json
import os
import shutil
import signal
import stat
import subprocess

import pytest

from harness import Server, sealbox_bin, server, wait_until  # noqa: F401


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def enable_file(s, name, path, **opts):
    body = {"type": "file", "options": dict({"file_path": path}, **opts)}
    st, b = s.root("PUT", "/v1/sys/audit/" + name, body)
    assert st == 204, b


def test_every_request_logged_and_hashed(server):
    s = server
    log = os.path.join(s.dir, "audit.log")
    enable_file(s, "file", log)
    st, b = s.root("GET", "/v1/sys/audit")
    assert st == 200 and b["data"]["file/"]["type"] == "file" and b["file/"]["options"]["file_path"] == log
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    secret = {"password": "s3cr3t-value-91", "nested": {"deep": ["list-item-77", {"k": "inner-val-55"}]},
              "number": 424242, "blob": "QUJDREVGR0hJSktMTU5PUA=="}
    before = len(lines(log))
    assert s.root("POST", "/v1/secret/data/app", {"data": secret})[0] == 200
    st, b = s.root("GET", "/v1/secret/data/app")
    assert st == 200 and b["data"]["data"] == secret
    assert s.raw("GET", "/v1/secret/data/app", "hvs.bogus")[0] == 403
    entries = lines(log)[before:]
    assert [e["type"] for e in entries] == ["request", "response"] * 3
    for req, resp in zip(entries[0::2], entries[1::2]):
        assert req["request"]["id"] == resp["request"]["id"]
    denied = entries[4:6]
    assert denied[1]["error"] == "permission denied"

    with open(log) as f:
        text = f.read()
    for plain in ["s3cr3t-value-91", "list-item-77", "inner-val-55", "424242", "QUJDREVGR0hJSktMTU5PUA==",
                  s.root_token, "hvs.bogus"]:
        assert plain not in text, plain
    # The logged hashes are sys/audit-hash of the values.
    write_req = entries[0]["request"]["data"]["data"]
    st, h = s.root("POST", "/v1/sys/audit-hash/file", {"input": "s3cr3t-value-91"})
    assert st == 200 and h["data"]["hash"] == write_req["password"] and h["hash"] == write_req["password"]
    assert write_req["password"].startswith("hmac-sha256:")
    st, h = s.root("POST", "/v1/sys/audit-hash/file", {"input": "424242"})
    assert h["data"]["hash"] == write_req["number"]
    read_resp = entries[3]["response"]["data"]["data"]
    st, h = s.root("POST", "/v1/sys/audit-hash/file", {"input": "inner-val-55"})
    assert read_resp["nested"]["deep"][1]["k"] == h["data"]["hash"]
    st, h = s.root("POST", "/v1/sys/audit-hash/file", {"input": "424242"})
    assert read_resp["number"] == h["data"]["hash"]  # stricter than Vault: numbers hashed too
    st, h = s.root("POST", "/v1/sys/audit-hash/file", {"input": s.root_token})
    assert entries[0]["auth"]["client_token"] == h["data"]["hash"]
    assert s.root("POST", "/v1/sys/audit-hash/file", {"input": ""})[0] == 400


def test_fail_closed_and_second_device(server):
    s = server
    d = os.path.join(s.dir, "auditdir")
    os.makedirs(d)
    enable_file(s, "doomed", os.path.join(d, "a.log"))
    assert s.root("POST", "/v1/sys/mounts/kv", {"type": "kv", "options": {"version": "1"}})[0] == 204
    assert s.root("POST", "/v1/kv/before", {"v": "1"})[0] == 204
    # The device's directory disappears and a SIGHUP reopens the file: no
    # device can record anything, so nothing runs.
    shutil.rmtree(d)
    s.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: s.root("GET", "/v1/kv/before")[0] == 500, what="reads to fail closed")
    st, b = s.root("POST", "/v1/kv/should-not-exist", {"v": "x"})
    assert (st, b) == (500, {"errors": ["internal error"]})
    assert "audit" in s.log()
    # A second healthy device: requests succeed again, and the refused write
    # above never happened.
    good = os.path.join(s.dir, "good.log")
    # Enabling needs the request to be audited too: only the doomed device
    # exists, so it fails closed as well.
    assert s.root("PUT", "/v1/sys/audit/good", {"type": "file", "options": {"file_path": good}})[0] == 500
    os.makedirs(d)
    s.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: s.root("GET", "/v1/kv/before")[0] == 200, what="the device to recover")
    enable_file(s, "good", good)
    shutil.rmtree(d)
    s.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: s.root("GET", "/v1/kv/before")[0] == 200, what="served via the good device")
    assert s.root("GET", "/v1/kv/should-not-exist")[0] == 404
    assert any(e["type"] == "response" for e in lines(good))
    assert s.root("DELETE", "/v1/sys/audit/doomed")[0] == 204
    assert s.root("DELETE", "/v1/sys/audit/never-existed")[0] == 204


def test_rotation_and_verify(server):
    s = server
    log = os.path.join(s.dir, "chain.log")
    enable_file(s, "chain", log)
    st, b = s.root("GET", "/v1/sys/audit/chain/chain-key")
    assert st == 200
    key = b["data"]["chain_key"]
    for i in range(5):
        s.root("GET", "/v1/sys/mounts")
    # logrotate: move, then HUP; the new file continues the chain.
    os.rename(log, log + ".1")
    s.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: s.root("GET", "/v1/sys/mounts")[0] == 200 and os.path.exists(log), what="reopen")
    for i in range(3):
        s.root("GET", "/v1/sys/mounts")

    def verify(path):
        return subprocess.run([sealbox_bin(), "audit", "verify", "-file", path, "-key", key],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    for p in (log + ".1", log):
        r = verify(p)
        assert r.returncode == 0, r.stdout
    with open(log + ".1") as f:
        rotated = f.read().splitlines()
    with open(log) as f:
        first_new = json.loads(f.readline())
    assert first_new["chain_start"] == json.loads(rotated[-1])["chain"]

    def tampered(lines_):
        p = os.path.join(s.dir, "t.log")
        with open(p, "w") as f:
            f.write("\n".join(lines_) + "\n")
        return verify(p)

    edited = list(rotated)
    mid = len(edited[3]) // 2
    edited[3] = edited[3][:mid] + ("X" if edited[3][mid] != "X" else "Y") + edited[3][mid + 1:]
    r = tampered(edited)
    assert r.returncode == 1 and "line 4" in r.stdout, r.stdout
    r = tampered(rotated[:2] + rotated[3:])
    assert r.returncode == 1 and "line 3" in r.stdout, r.stdout
    swapped = list(rotated)
    swapped[4], swapped[5] = swapped[5], swapped[4]
    r = tampered(swapped)
    assert r.returncode == 1 and "line 5" in r.stdout, r.stdout


def test_filter_option(server):
    s = server
    t = s.root_token
    assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    # A bad expression is refused at enable time, naming the position.
    st, b = s.root("PUT", "/v1/sys/audit/bad", {"type": "file", "options": {
        "file_path": os.path.join(s.dir, "bad.log"), "filter": "operation = \"read\""}})
    assert st == 400 and "invalid filter at position" in b["errors"][0], b
    path = os.path.join(s.dir, "filtered.log")
    flt = 'not (path == "auth/token/lookup-self") and mount_type != "system"'
    st, b = s.root("PUT", "/v1/sys/audit/filtered", {"type": "file", "options": {"file_path": path, "filter": flt}})
    assert st == 204, b
    assert s.root("POST", "/v1/secret/data/app", {"data": {"v": "x"}})[0] == 200
    for _ in range(3):
        assert s.raw("GET", "/v1/auth/token/lookup-self", t)[0] == 200
    assert s.root("GET", "/v1/secret/data/app")[0] == 200
    assert s.root("GET", "/v1/sys/mounts")[0] == 200
    # A failed lookup-self is recorded anyway (failures are never filtered).
    assert s.raw("GET", "/v1/auth/token/lookup-self", "hvs.not-a-token")[0] == 403
    entries = [e for e in lines(path) if e["type"] != "audit-device-enabled"]
    paths = [(e["type"], e["request"]["path"]) for e in entries]
    assert paths.count(("request", "secret/data/app")) == 2 and paths.count(("response", "secret/data/app")) == 2
    assert not any(p == "sys/mounts" for _, p in paths)
    lookups = [e for e in entries if e["request"]["path"] == "auth/token/lookup-self"]
    assert len(lookups) >= 1 and all(e.get("error") for e in lookups), lookups
    st, b = s.root("GET", "/v1/sys/audit")
    assert b["data"]["filtered/"]["options"]["filter"] == flt


def stall_device(s, name, on_stuck=None):
    """Enables a file device (write_timeout 2s) on a FIFO whose reader never
    reads (a stalled filesystem) and fills the pipe with audited writes until
    one meets the full pipe. That request must still answer, once its write
    has waited out write_timeout. `on_stuck` runs while it waits. Returns the
    reader's fd (to drain later) and the stuck request's status."""
    import threading
    import time
    fifo = os.path.join(s.dir, name + ".fifo")
    os.mkfifo(fifo)
    holder = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    st, b = s.root("PUT", "/v1/sys/audit/" + name, {"type": "file", "options": {
        "file_path": fifo, "write_timeout": "2s"}})
    assert st == 204, b
    if s.root("GET", "/v1/sys/mounts")[1]["data"].get("kv/") is None:
        assert s.root("POST", "/v1/sys/mounts/kv", {"type": "kv"})[0] == 204
    big = "x" * 4000
    for i in range(100):  # ~8 KB of audit per write: the 64 KiB pipe fills quickly
        result = {}

        def send():
            t0 = time.time()
            result["status"] = s.raw("POST", "/v1/kv/k%d" % i, s.root_token, {"v": big}, timeout=15)[0]
            result["seconds"] = time.time() - t0

        t = threading.Thread(target=send)
        t.start()
        t.join(0.5)
        if t.is_alive():  # this request's write met the full pipe
            if on_stuck:
                on_stuck()
            t.join(15)
            assert not t.is_alive(), "the request writing into the stalled file never answered"
            assert 1.5 < result["seconds"] < 6, result
            return holder, result["status"]
        assert result["status"] in (204, 500), result
    raise AssertionError("the pipe never filled")


def drain_until_flowing(s, holder):
    import threading
    stop = threading.Event()

    def drain():
        while not stop.is_set():
            try:
                os.read(holder, 1 << 16)
            except BlockingIOError:
                stop.wait(0.01)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        wait_until(lambda: s.root("POST", "/v1/kv/after", {"v": "ok"})[0] == 204, 20, interval=0.2,
                   what="audit writes to flow again")
    finally:
        stop.set()
        t.join(5)


def test_stalled_device_fails_requests_in_bounded_time(server):
    """A FIFO whose reader stops reading stands in for a stalled filesystem.
    The request whose write meets the full pipe fails closed after
    write_timeout (the write runs on a thread of its own for FIFOs and
    network filesystems), and so does a request queued behind it; once the
    write has been stuck for longer than write_timeout, the device counts as
    stalled and requests fail at once; unaudited endpoints keep answering;
    everything flows again once the reader drains it."""
    import time
    s = server
    queued = {}

    def behind_the_stuck_write():
        t0 = time.time()
        queued["status"] = s.raw("GET", "/v1/kv/k0", s.root_token, timeout=10)[0]
        queued["seconds"] = time.time() - t0

    holder, stuck_status = stall_device(s, "stall", on_stuck=behind_the_stuck_write)
    try:
        assert stuck_status == 500
        assert queued["status"] == 500 and 1.0 < queued["seconds"] < 6, queued
        assert "audit write timed out" in s.log()
        for _ in range(3):
            t0 = time.time()
            st, b = s.raw("GET", "/v1/kv/k0", s.root_token, timeout=10)
            assert st == 500 and time.time() - t0 < 1, (st, time.time() - t0)
        assert "audit device is stalled" in s.log()
        t0 = time.time()
        assert s.raw("GET", "/v1/sys/health")[0] == 200 and time.time() - t0 < 1  # not audited, not blocked
        drain_until_flowing(s, holder)
    finally:
        os.close(holder)


def test_stalled_device_does_not_hold_up_a_healthy_one(server):
    """With a second, healthy device, requests succeed through a stall: the
    one writing into the stalled file after waiting out its write_timeout,
    the rest at once, since the stalled device then fails fast."""
    import time
    s = server
    healthy = os.path.join(s.dir, "healthy.log")
    enable_file(s, "healthy", healthy)
    holder, stuck_status = stall_device(s, "stall")
    try:
        assert stuck_status == 204
        for _ in range(3):
            t0 = time.time()
            st, b = s.raw("GET", "/v1/kv/k0", s.root_token, timeout=10)
            assert st == 200 and time.time() - t0 < 1, (st, time.time() - t0)
        assert "audit device is stalled" in s.log()
        assert sum(1 for e in lines(healthy) if e["type"] == "response" and
                   e["request"]["path"] == "kv/k0") >= 3
        drain_until_flowing(s, holder)
    finally:
        os.close(holder)



@pytest.fixture
def prefix_server():
    """A started, unsealed server whose config allows audit log prefixes."""
    s = Server(extra_config="allow_audit_log_prefixing = true").start()
    s.init()
    s.unseal()
    yield s
    s.cleanup()


def test_concurrent_reads_on_two_devices_are_each_logged_once_and_chain(prefix_server):
    """Audited reads run on the I/O threads and suspend on the group write
    (issue 5): under concurrency, each device still gets exactly one request
    and one response line per request, request first, and its chain holds."""
    from concurrent.futures import ThreadPoolExecutor
    s = prefix_server
    a, b = os.path.join(s.dir, "conc-a.log"), os.path.join(s.dir, "conc-b.log")
    if s.root("GET", "/v1/sys/mounts/secret")[0] != 200:
        assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert s.root("POST", "/v1/secret/data/conc", {"data": {"v": "conc-secret-31"}})[0] == 200
    enable_file(s, "conc-a", a)
    enable_file(s, "conc-b", b, prefix="B:")
    before = {p: len(open(p).read().splitlines()) for p in (a, b)}
    n = 240
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda _: s.root("GET", "/v1/secret/data/conc")[0], range(n)))
    assert codes == [200] * n
    for path, prefix in ((a, ""), (b, "B:")):
        with open(path) as f:
            raw = f.read().splitlines()[before[path]:]
        entries = [json.loads(l[len(prefix):]) for l in raw]
        reads = [e for e in entries if e["request"]["path"] == "secret/data/conc"]
        assert len(reads) == 2 * n
        seen = {}
        for e in reads:
            seen.setdefault(e["request"]["id"], []).append(e["type"])
        assert len(seen) == n and all(t == ["request", "response"] for t in seen.values())
        assert "conc-secret-31" not in "\n".join(raw)
        name = "conc-a" if path == a else "conc-b"
        key = s.root("GET", "/v1/sys/audit/%s/chain-key" % name)[1]["data"]["chain_key"]
        r = subprocess.run([sealbox_bin(), "audit", "verify", "-file", path, "-key", key] +
                           (["-prefix", prefix] if prefix else []),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, r.stdout


# --- HCSEC-2025-14 / CVE-2025-6000: an audit device is not a file write ------

CRONTAB = "# m h dom mon dow user command\n17 * * * * root cd / && run-parts /etc/cron.hourly\n"
PAYLOAD = "\n* * * * * root touch /tmp/sealbox-pwned\n"


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_audit_device_cannot_append_to_or_widen_an_existing_file(server):
    """The reported attack: a sudo token points a file device at an existing
    0600 file with a cron line in `prefix` and mode 0666. Nothing is written
    and the mode stays 0600."""
    s = server
    victim = os.path.join(s.dir, "crontab")
    with open(victim, "w") as f:
        f.write(CRONTAB)
    os.chmod(victim, 0o600)
    st, b = s.root("PUT", "/v1/sys/audit/cron", {"type": "file", "options": {
        "file_path": victim, "mode": "0666", "prefix": PAYLOAD}})
    assert (st, b) == (400, {"errors": ["audit log prefixing is not allowed"]})
    st, b = s.root("PUT", "/v1/sys/audit/cron", {"type": "file", "options": {"file_path": victim, "mode": "0666"}})
    assert st == 400 and "is not a Sealbox audit log" in b["errors"][0], (st, b)
    st, b = s.root("PUT", "/v1/sys/audit/cron", {"type": "file", "options": {"file_path": victim, "mode": "0644"}})
    assert st == 400, (st, b)
    with open(victim) as f:
        assert f.read() == CRONTAB
    assert mode_of(victim) == 0o600
    assert "cron/" not in s.root("GET", "/v1/sys/audit")[1]["data"]
    # Modes with an execute (or setuid, setgid, sticky) bit are refused.
    for mode in ("0755", "0700", "4600", "1600"):
        path = os.path.join(s.dir, "x-%s.log" % mode)
        st, b = s.root("PUT", "/v1/sys/audit/x", {"type": "file", "options": {"file_path": path, "mode": mode}})
        assert st == 400 and "execute" in b["errors"][0], (mode, st, b)
        assert not os.path.exists(path)
    # A link to the victim is not followed.
    link = os.path.join(s.dir, "innocent.log")
    os.symlink(victim, link)
    st, b = s.root("PUT", "/v1/sys/audit/link", {"type": "file", "options": {"file_path": link}})
    assert st == 400 and "symbolic link" in b["errors"][0], (st, b)
    with open(victim) as f:
        assert f.read() == CRONTAB


def test_audit_device_reopens_its_own_log_without_widening_it(server):
    s = server
    log = os.path.join(s.dir, "own.log")
    enable_file(s, "own", log)
    assert mode_of(log) == 0o600
    assert s.root("DELETE", "/v1/sys/audit/own")[0] == 204
    enable_file(s, "own", log, mode="0644")  # its own log: appended to, mode kept
    assert mode_of(log) == 0o600
    with open(log) as f:
        assert len(f.read().splitlines()) >= 3


def test_audit_prefix_and_directories_follow_the_server_config():
    s = Server(extra_config="allow_audit_log_prefixing = true")
    logs = os.path.join(s.dir, "logs")
    with open(s.config, "a") as f:
        f.write('audit_file_dirs = ["%s"]\n' % logs)
    try:
        os.makedirs(logs)
        os.makedirs(os.path.join(s.dir, "outside"))
        os.symlink(os.path.join(s.dir, "outside"), os.path.join(logs, "escape"))
        s.start()
        s.init()
        s.unseal()
        st, b = s.root("PUT", "/v1/sys/audit/p", {"type": "file", "options": {
            "file_path": os.path.join(logs, "p.log"), "prefix": PAYLOAD}})
        assert st == 400 and "line break" in b["errors"][0], (st, b)
        for path in (os.path.join(s.dir, "outside", "a.log"), os.path.join(logs, "escape", "a.log"),
                     os.path.join(logs, "..", "outside", "b.log"), os.path.join(s.dir, "data", "audit.log")):
            st, b = s.root("PUT", "/v1/sys/audit/out", {"type": "file", "options": {"file_path": path}})
            assert st == 400 and "audit_file_dirs" in b["errors"][0], (path, st, b)
            assert not os.path.exists(path)
        enable_file(s, "p", os.path.join(logs, "p.log"), prefix="sealbox: ")
        with open(os.path.join(logs, "p.log")) as f:
            assert all(line.startswith("sealbox: {") for line in f.read().splitlines())
    finally:
        s.cleanup()

def test_query_values_are_hashed_in_request_uri(server):
    # GET auth/token/lookup?token=... once wrote the live token in clear.
    s = server
    log = os.path.join(s.dir, "audit-query.log")
    enable_file(s, "query", log)
    st, b = s.root("POST", "/v1/auth/token/create", {"policies": ["default"], "ttl": "1h"})
    child = b["auth"]["client_token"]
    before = len(lines(log))
    st, b = s.raw("GET", "/v1/auth/token/lookup?token=%s&list=false" % child, s.root_token)
    assert st == 200 and b["data"]["policies"] == ["default"], b
    entries = lines(log)[before:]
    assert [e["type"] for e in entries] == ["request", "response"]
    with open(log) as f:
        assert child not in f.read()
    st, h = s.root("POST", "/v1/sys/audit-hash/query", {"input": child})
    st, hf = s.root("POST", "/v1/sys/audit-hash/query", {"input": "false"})
    for e in entries:
        assert e["request"]["request_uri"] == "/v1/auth/token/lookup?token=%s&list=%s" % (
            h["data"]["hash"], hf["data"]["hash"]), e["request"]
        assert e["request"]["data"]["token"] == h["data"]["hash"]
        assert e["request"]["path"] == "auth/token/lookup"
