"""sys/host-info, sys/in-flight-req and sys/config/state/sanitized (issue 24)
against the real binary, their shapes compared with OpenBao's `bao server` on
the same machine."""

import os
import sys

import pytest

import harness
from harness import Server

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import OpenBao  # noqa: E402

SEAL_KEY_HEX = "7f" * 32


@pytest.fixture(scope="module")
def sealbox():
    s = Server(log_level="info",
               extra_config='seal "static" {\n  current_key_id = "k1"\n  current_key = "%s"\n}\n' % SEAL_KEY_HEX)
    s.start()
    st, body = s.raw("PUT", "/v1/sys/init", body={"recovery_shares": 1, "recovery_threshold": 1})
    assert st == 200, body
    s.root_token = body["root_token"]
    harness.wait_until(lambda: s.raw("GET", "/v1/sys/health")[0] == 200, 20, what="auto-unseal")
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def bao():
    b = OpenBao().start()
    b.init(1, 1)
    b.unseal(b.keys[:1], threshold=1)
    yield b
    b.cleanup()


def data(server, path, token=None):
    st, body = server.raw("GET", path, token or server.root_token)
    assert st == 200, body
    return body


def test_host_info_has_openbaos_shape_and_the_same_facts(sealbox, bao):
    ours = data(sealbox, "/v1/sys/host-info")["data"]
    theirs = data(bao, "/v1/sys/host-info")["data"]
    assert set(ours) == set(theirs) == {"cpu", "cpu_times", "disk", "host", "memory", "timestamp"}
    assert set(ours["host"]) == set(theirs["host"])
    assert set(ours["cpu"][0]) == set(theirs["cpu"][0])
    assert set(ours["cpu_times"][0]) == set(theirs["cpu_times"][0])
    assert set(ours["disk"][0]) == set(theirs["disk"][0])
    assert set(ours["memory"]) <= set(theirs["memory"])
    assert {"total", "available", "used", "usedPercent", "free"} <= set(ours["memory"])
    # The same machine, read the same way.
    assert len(ours["cpu"]) == len(theirs["cpu"]) == os.cpu_count()
    assert [c["cpu"] for c in ours["cpu_times"]] == [c["cpu"] for c in theirs["cpu_times"]]
    assert ours["memory"]["total"] == theirs["memory"]["total"]
    for k in ("hostname", "os", "platform", "platformVersion", "kernelVersion", "kernelArch", "bootTime"):
        assert ours["host"][k] == theirs["host"][k], k
    assert ours["cpu"][0]["modelName"] == theirs["cpu"][0]["modelName"]
    root = [d for d in ours["disk"] if d["path"] == "/"]
    assert root and root[0]["total"] > 0 and 0 <= root[0]["usedPercent"] <= 100


def test_in_flight_requests_list_the_caller_and_forget_it(sealbox, bao):
    first = data(sealbox, "/v1/sys/in-flight-req")
    theirs = data(bao, "/v1/sys/in-flight-req")
    # No envelope, as Vault: a map of request id to the request.
    assert len(first) == 1 and len(theirs) == 1
    (rid, entry), = first.items()
    assert set(entry) == set(next(iter(theirs.values())))
    assert entry["request_path"] == "/v1/sys/in-flight-req" and entry["request_method"] == "GET"
    assert entry["client_remote_address"].startswith("127.0.0.1:")
    assert entry["start_time"].endswith("Z")
    second = data(sealbox, "/v1/sys/in-flight-req?x=1")
    assert rid not in second and len(second) == 1
    assert next(iter(second.values()))["request_path"] == "/v1/sys/in-flight-req"  # the query is left out
    assert sealbox.root_token not in str(first) + str(second)


def test_sanitized_config_names_vaults_keys_without_secrets(sealbox, bao):
    ours = data(sealbox, "/v1/sys/config/state/sanitized")["data"]
    theirs = data(bao, "/v1/sys/config/state/sanitized")["data"]
    shared = set(ours) & set(theirs)
    assert {"api_addr", "listeners", "seals", "storage", "default_lease_ttl", "log_level"} <= shared
    for k in shared:
        assert type(ours[k]) is type(theirs[k]), k
    assert ours["storage"]["type"] == "rocksdb" and ours["storage"]["path"] == sealbox.data_dir
    assert ours["listeners"][0]["type"] == "tcp"
    assert ours["listeners"][0]["config"]["address"] == "127.0.0.1:%d" % sealbox.port
    assert ours["seals"] == [{"type": "static", "disabled": False}]
    assert ours["default_lease_ttl"] == 768 * 3600 * 10**9  # Go durations: nanoseconds
    assert SEAL_KEY_HEX not in str(ours) and "k1" not in str(ours["seals"])


def test_who_may_read_them(sealbox):
    policy = 'path "sys/*" { capabilities = ["read","list"] }'
    assert sealbox.root("POST", "/v1/sys/policy/reader", {"policy": policy})[0] == 204
    st, body = sealbox.root("POST", "/v1/auth/token/create", {"policies": ["reader"]})
    token = body["auth"]["client_token"]
    # As OpenBao: host-info and in-flight-req need read; the sanitized
    # configuration is under sys/config/*, which needs sudo here.
    assert sealbox.raw("GET", "/v1/sys/host-info", token)[0] == 200
    assert sealbox.raw("GET", "/v1/sys/in-flight-req", token)[0] == 200
    assert sealbox.raw("GET", "/v1/sys/config/state/sanitized", token)[0] == 403
    assert sealbox.raw("GET", "/v1/sys/host-info", None)[0] == 403
