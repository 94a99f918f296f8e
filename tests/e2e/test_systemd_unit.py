"""The hardened systemd unit that docs/operations.md shows
(scripts/systemd/sealbox.service): systemd parses it, its sandbox keeps a low
exposure score, it keeps the settings the docs promise, and the docs show the
file as it is. No systemd runs here, so systemd-analyze checks it offline."""

import os
import re
import subprocess

import harness

UNIT = os.path.join(harness.ROOT, "scripts", "systemd", "sealbox.service")


def unit_for_this_build(tmp_path):
    with open(UNIT) as f:
        text = f.read().replace("/usr/local/bin/sealbox", harness.sealbox_bin())
    path = tmp_path / "sealbox.service"
    path.write_text(text)
    return str(path)


def test_systemd_parses_the_unit(tmp_path):
    r = subprocess.run(["systemd-analyze", "verify", unit_for_this_build(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "sealbox.service" not in r.stderr, r.stderr


def test_exposure_stays_low(tmp_path):
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                        unit_for_this_build(tmp_path)], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for sealbox.service: ([0-9.]+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout


def test_the_unit_keeps_what_the_docs_promise():
    with open(UNIT) as f:
        settings = {}
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.strip().split("=", 1)
                settings.setdefault(k, v)
    assert settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["LimitCORE"] == "0"
    assert settings["MemoryDenyWriteExecute"] == "yes"
    assert settings["CapabilityBoundingSet"] == "CAP_IPC_LOCK"
    assert settings["ReadWritePaths"] == "/var/lib/sealbox"
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert settings["UMask"] == "0077"


def test_the_docs_show_the_unit_as_it_is():
    with open(os.path.join(harness.ROOT, "docs", "operations.md")) as f:
        docs = f.read()
    with open(UNIT) as f:
        unit = f.read()
    m = re.search(r"```ini\n(.*?)```", docs, re.S)
    assert m and m.group(1) == unit


def test_no_mapping_is_writable_and_executable():
    """What MemoryDenyWriteExecute forbids never happens: an unsealed server
    that has served requests holds no mapping both writable and executable."""
    s = harness.Server(log_level="warn").start()
    try:
        s.init(1, 1)
        s.unseal(s.keys[:1])
        assert s.root("POST", "/v1/sys/mounts/kv", {"type": "kv", "options": {"version": "2"}})[0] == 204
        assert s.root("POST", "/v1/kv/data/a", {"data": {"v": "1"}})[0] == 200
        with open("/proc/%d/maps" % s.proc.pid) as f:
            perms = [line.split()[1] for line in f]
        assert perms and not [p for p in perms if "w" in p and "x" in p]
    finally:
        s.cleanup()
