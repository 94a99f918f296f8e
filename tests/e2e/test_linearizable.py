"""Linearizability of KV under HA faults, checked by Porcupine: six Go
clients (tests/linearizability) write and read three keys through all three
nodes of an HA cluster on a real 3-member etcd while the active node steps
down and, later, the new active is killed with SIGKILL. The recorded history
must be linearizable as one register per key; writes of unknown outcome
(timeouts, refusals during a failover) may take effect at any time after
they were sent, or never."""

import os
import shutil
import subprocess
import threading

import etcd_harness
import harness
from test_ha import FAILOVER_BUDGET, Trio, kv_mount

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "..", "linearizability")
SECONDS = 16


def test_kv_history_under_step_down_and_kill9_is_linearizable(tmp_path):
    cluster = etcd_harness.EtcdCluster()
    t = None
    try:
        t = Trio(cluster, "/ha-linearizable/", log_level="info")
        a = t.active
        kv_mount(a)
        go = shutil.which("go") or "/usr/local/go/bin/go"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env.update(GO111MODULE="on", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", CGO_ENABLED="0",
                   SEALBOX_NODES=",".join(n.url for n in t.nodes), SEALBOX_CACERT=a.cacert,
                   SEALBOX_TOKEN=a.root_token, SEALBOX_SECONDS=str(SECONDS), SEALBOX_MOUNT="secret",
                   SEALBOX_VISUALIZATION=str(tmp_path / "history.html"))
        # Built first, so the run's clock starts with the clients.
        build = subprocess.run([go, "test", "-c", "-o", str(tmp_path / "lin.test"), "."], cwd=SUITE, env=env,
                               capture_output=True, text=True, timeout=600)
        assert build.returncode == 0, build.stdout + build.stderr
        result = {}

        def run():
            p = subprocess.run([str(tmp_path / "lin.test"), "-test.v", "-test.count=1"], cwd=SUITE, env=env,
                               capture_output=True, text=True, timeout=SECONDS + 120)
            result.update(rc=p.returncode, out=p.stdout + p.stderr)
        clients = threading.Thread(target=run)
        clients.start()
        # Faults while the clients run: a step-down, then SIGKILL of the next active.
        harness.wait_until(lambda: a.root("GET", "/v1/secret/data/k0")[0] == 200, 15, what="the first writes")
        assert a.root("PUT", "/v1/sys/step-down")[0] == 204
        b = t.wait_active(among=t.standbys(), timeout=FAILOVER_BUDGET + 5)
        harness.wait_until(lambda: a.raw("GET", "/v1/sys/health")[0] == 429, 10, what="the old active to stand by")
        b.kill9()
        t.wait_active(among=[n for n in t.nodes if n is not b], timeout=FAILOVER_BUDGET + 5)
        clients.join(timeout=SECONDS + 150)
        out = result.get("out", "")
        assert result.get("rc") == 0 and "LINEARIZABLE" in out, out[-20000:]
        for test in ("TestKVHistoryIsLinearizable", "TestCheckerRefusesWhatNoOrderExplains"):
            assert "--- PASS: " + test in out, out[-20000:]
        print([l.strip() for l in out.splitlines() if "history:" in l])
    finally:
        if t:
            t.cleanup()
        cluster.cleanup()
