"""Differential conformance: every scenario in scenarios/ is played against
OpenBao (the pinned `bao server`, raft storage, TLS) and against Sealbox (the
real binary, RocksDB, TLS), and the answers are compared by runner.py.

Every difference fails unless differences.yaml explains it; each entry there
names the row of docs/compatibility.md's "Known differences" table it belongs
to, and an entry that explains nothing fails too (a stale allowance would hide
a regression). Each scenario runs on a fresh pair of servers, initialised with
one share (the unseal key is ${unseal_key}), so scenarios cannot disturb one
another. PostgreSQL and the Kubernetes API stand-in are shared by all.
"""

import glob
import os
import re
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import runner  # noqa: E402
from openbao import OpenBao  # noqa: E402

SCENARIOS = sorted(glob.glob(os.path.join(HERE, "scenarios", "*.yaml")))
DIFFERENCES = os.path.join(HERE, "differences.yaml")
COMPATIBILITY = os.path.join(ROOT, "docs", "compatibility.md")
MIN_COMPARED = 600


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def scenario_id(path):
    return os.path.splitext(os.path.basename(path))[0]


# --- shared services ---------------------------------------------------------------
class Services:
    """PostgreSQL and the Kubernetes stand-in, started on first use."""

    def __init__(self):
        self.pg = None
        self.kube = None
        self.dir = None
        self.jwts = {}

    def values(self, needs):
        v = {}
        if "postgres" in needs:
            if self.pg is None:
                import pg_harness
                self.pg = pg_harness.Postgres()
            v.update(pg_url=self.pg.url(), pg_port=self.pg.port)
        if "kubernetes" in needs:
            if self.kube is None:
                import tempfile
                from test_kubernetes import Kube
                self.dir = tempfile.mkdtemp(prefix="conformance-k8s-")
                self.kube = Kube(self.dir)
            v.update(k8s_host=self.kube.url, k8s_ca=self.kube.ca_pem, k8s_reviewer=self.kube.reviewer_token)
            for ns, name in (("prod", "app-sa"), ("prod", "other-sa"), ("dev", "app-sa")):
                key = "jwt_%s_%s" % (ns, name.replace("-", "_"))
                if key not in self.jwts:
                    self.kube.sa(ns, name)
                    self.jwts[key] = self.kube.token(ns, name, audiences=["vault"])
            v.update(self.jwts)
        return v

    def close(self):
        if self.kube:
            self.kube.stop()
        if self.pg:
            self.pg.cleanup()


@pytest.fixture(scope="module")
def services():
    s = Services()
    yield s
    s.close()


# --- the pair of servers ----------------------------------------------------------------
def start_pair(initialized):
    ours = harness.Server(log_level="warn").start()
    # OpenBao 2.x refuses audit devices created through the API unless its
    # config allows it; Vault allows it, and the audit scenario needs it.
    peer = OpenBao(cert=os.path.join(ours.dir, "server.pem"), key=os.path.join(ours.dir, "server.key"),
                   cacert=ours.cacert, extra_config="unsafe_allow_api_audit_creation = true").start()
    if initialized:
        for s in (ours, peer):
            s.init(1, 1)
        ours.unseal()
        peer.unseal(threshold=1)
    return peer, ours


RESULTS = {"compared": 0, "scenarios": 0}


@pytest.mark.parametrize("path", SCENARIOS, ids=[scenario_id(p) for p in SCENARIOS])
def test_scenario(path, services, allowances):
    scenario = load(path)
    shared = services.values(scenario.get("services") or [])
    peer, ours = start_pair(scenario.get("servers", "initialized") == "initialized")
    try:
        compared, differences = runner.run_scenario(scenario_id(path), scenario, peer, ours, shared)
    finally:
        peer.cleanup()
        ours.cleanup()
    RESULTS["compared"] += compared
    RESULTS["scenarios"] += 1
    left = runner.explain(differences, allowances)
    assert not left, "%d unexplained differences (fix Sealbox, or explain them in differences.yaml):\n%s" % (
        len(left), "\n".join(str(d) for d in left))


# --- the allow-list ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def allowances():
    return runner.load_allowances(load(DIFFERENCES))


def table_rows(heading):
    """The first cells of the table under docs/compatibility.md's heading."""
    with open(COMPATIBILITY) as f:
        text = f.read()
    assert heading in text, "docs/compatibility.md has no section %r" % heading
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and cells[0] not in ("difference", "") and not set(cells[0]) <= set("-: "):
            rows.append(cells[0])
    return rows


def known_differences_rows():
    """Deliberate differences, and bugs found and not yet fixed."""
    return table_rows("## Known differences") + table_rows("## Open differences")


def test_every_allowance_is_a_documented_difference():
    rows = known_differences_rows()
    assert rows, "docs/compatibility.md has no Known differences table"
    for entry in load(DIFFERENCES)["allow"]:
        assert entry["doc"] in rows, (
            "differences.yaml names %r, which is not a row of the Known or Open differences tables in "
            "docs/compatibility.md" % entry["doc"])


def test_scenarios_compare_enough_responses():
    total = 0
    for path in SCENARIOS:
        total += sum(1 for s in load(path)["steps"] if s.get("compare", True) is not False)
    assert total >= MIN_COMPARED, "scenarios compare %d responses; the floor is %d" % (total, MIN_COMPARED)


def test_zz_every_allowance_was_used(allowances):
    """Runs after the scenarios (pytest keeps file order): an allowance that
    explained nothing hides nothing and must go."""
    if RESULTS["scenarios"] < len(SCENARIOS):
        pytest.skip("not every scenario ran in this session (a -k selection, or one failed to start)")
    unused = [a.entry for a in allowances if a.used == 0]
    assert not unused, "allowances that explained no difference (remove them):\n%s" % "\n".join(
        re.sub(r"\s+", " ", str(u)) for u in unused)
    assert RESULTS["compared"] >= MIN_COMPARED
