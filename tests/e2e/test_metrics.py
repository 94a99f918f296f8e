"""sys/metrics scraped by Debian's real Prometheus server.

A Sealbox with a telemetry stanza (Prometheus format on, usage gauges
recounted every second) is scraped over HTTPS by `prometheus` (its config
written here: the e2e CA, a bearer token whose policy reads only
sys/metrics); the series are then read back through Prometheus's HTTP API
(/api/v1/query). A second Sealbox shows the listener's
unauthenticated_metrics_access (also while sealed) and the Prometheus format
turned off by prometheus_retention_time = 0. Waits are bounded polls.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
import urllib.request

import pytest

from harness import ROOT, Server, free_port, wait_until

KV_READS = 20
PROMETHEUS_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


def prometheus_bin():
    path = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not os.access(path, os.X_OK):
        pytest.fail("no prometheus binary: scripts/deps installs Debian's prometheus package")
    return path


class Prometheus:
    """One `prometheus` process scraping `target` every second."""

    def __init__(self, target_port, cacert, token):
        self.dir = tempfile.mkdtemp(prefix="prometheus-e2e-")
        self.port = free_port()
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w") as f:
            f.write(token)
        job = ("  - job_name: %s\n    scheme: https\n    metrics_path: /v1/sys/metrics\n%s"
               "    scrape_interval: 1s\n    scrape_timeout: 1s\n"
               "    tls_config:\n      ca_file: %s\n"
               "    authorization:\n      type: Bearer\n      credentials_file: %s\n"
               "    static_configs:\n      - targets: ['127.0.0.1:%d']\n")
        # "sealbox" asks with ?format=prometheus (Vault's documented job);
        # "sealbox-accept" relies on the OpenMetrics Accept header alone.
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n")
            f.write(job % ("sealbox", "    params:\n      format: ['prometheus']\n", cacert, token_file, target_port))
            f.write(job % ("sealbox-accept", "", cacert, token_file, target_port))
        self.log_path = os.path.join(self.dir, "prometheus.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [prometheus_bin(), "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
                 "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                 "--web.listen-address=127.0.0.1:%d" % self.port],
                stdout=log, stderr=subprocess.STDOUT)

    def query(self, expr):
        """The instant vector for `expr`: [(labels, float value)]."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return [(s["metric"], float(s["value"][1])) for s in body["data"]["result"]]

    def value(self, expr):
        """The single value of `expr`, or None while it has no series."""
        try:
            result = self.query(expr)
        except OSError:  # not listening yet
            return None
        return result[0][1] if len(result) == 1 else None

    def wait_value(self, expr, cond, what, timeout=30):
        def ok():
            v = self.value(expr)
            return v is not None and cond(v) and (v,)
        return wait_until(ok, timeout, 0.2, what)[0]

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def sealbox():
    s = Server(extra_config='telemetry {\n  prometheus_retention_time = "1h"\n  usage_gauge_period = "1s"\n'
                            '  disable_hostname = true\n}\n').start()
    s.init(1, 1)
    s.unseal()
    st, body = s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    assert st == 204, body
    st, body = s.root("PUT", "/v1/sys/audit/file", {"type": "file", "options": {"file_path": os.path.join(s.dir, "audit.log")}})
    assert st == 204, body
    st, body = s.root("PUT", "/v1/sys/policies/acl/metrics", {"policy": 'path "sys/metrics" { capabilities = ["read"] }'})
    assert st == 204, body
    st, body = s.root("POST", "/v1/auth/token/create", {"policies": ["metrics"], "no_default_policy": True})
    assert st == 200, body
    s.metrics_token = body["auth"]["client_token"]
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def prometheus(sealbox):
    p = Prometheus(sealbox.port, sealbox.cacert, sealbox.metrics_token)
    try:
        for job in ("sealbox", "sealbox-accept"):
            p.wait_value('up{job="%s"}' % job, lambda v: v == 1, "prometheus to scrape job %s" % job, timeout=60)
    except AssertionError:
        print(p.log())
        p.stop()
        raise
    yield p
    p.stop()


def test_prometheus_scrapes_vault_series(sealbox, prometheus):
    assert prometheus.value('vault_core_unsealed{job="sealbox"}') == 1
    labels = prometheus.query('vault_core_unsealed{job="sealbox"}')[0][0]
    assert labels["cluster"].startswith("vault-cluster-"), labels
    # The usage gauges (recounted every second here): root and the metrics token.
    prometheus.wait_value('vault_token_count{job="sealbox"}', lambda v: v >= 2, "vault_token_count >= 2")
    assert prometheus.value('vault_expire_num_leases{job="sealbox"}') == 0
    assert prometheus.value('vault_audit_log_request_failure{job="sealbox"}') == 0
    assert prometheus.value('vault_audit_log_response_failure{job="sealbox"}') == 0
    assert prometheus.value('vault_barrier_get_count{job="sealbox"}') > 0
    assert prometheus.value('vault_barrier_put_count{job="sealbox"}') > 0
    # Process figures and the listener certificate (the e2e CA signs for 2 days).
    assert prometheus.value('process_resident_memory_bytes{job="sealbox"}') > 1 << 20
    assert prometheus.value('process_threads{job="sealbox"}') >= 4
    assert prometheus.value('process_open_fds{job="sealbox"}') >= 5
    expiry = prometheus.value('sealbox_tls_certificate_expiry_seconds{job="sealbox"}')
    assert 86400 < expiry <= 2 * 86400 + 60, expiry
    # Every audited request moves the file device's chain.
    chain = prometheus.query('sealbox_audit_chain_position{job="sealbox"}')
    assert [(m["path"], v > 0) for m, v in chain] == [("file/", True)], chain


def test_request_counts_grow_by_the_requests_made(sealbox, prometheus):
    st, body = sealbox.root("POST", "/v1/secret/data/app", {"data": {"colour": "teal"}})
    assert st == 200, body
    before = prometheus.wait_value('vault_core_handle_request_count{job="sealbox"}', lambda v: v > 0,
                                   "a handle_request count")
    for _ in range(KV_READS):
        st, body = sealbox.root("GET", "/v1/secret/data/app")
        assert st == 200, body
    prometheus.wait_value('vault_core_handle_request_count{job="sealbox"}', lambda v: v >= before + KV_READS,
                          "handle_request_count to grow by %d" % KV_READS)
    reads = prometheus.wait_value('vault_route_read_secret__count{job="sealbox"}', lambda v: v >= KV_READS,
                                  "the kv mount's route read count")
    assert reads >= KV_READS
    # A histogram: buckets up to +Inf hold every observation.
    inf = prometheus.value('vault_route_read_secret__bucket{job="sealbox",le="+Inf"}')
    assert inf is not None and inf >= KV_READS
    assert prometheus.value('vault_route_create_secret__count{job="sealbox"}') is not None or \
        prometheus.value('vault_route_update_secret__count{job="sealbox"}') is not None


def test_login_latency_is_its_own_series(sealbox, prometheus):
    st, body = sealbox.root("POST", "/v1/sys/auth/userpass", {"type": "userpass"})
    assert st == 204, body
    st, body = sealbox.root("POST", "/v1/auth/userpass/users/ops", {"password": "a-long-passw0rd", "policies": []})
    assert st == 204, body
    st, body = sealbox.raw("POST", "/v1/auth/userpass/login/ops", body={"password": "a-long-passw0rd"})
    assert st == 200, body
    prometheus.wait_value('vault_core_handle_login_request_count{job="sealbox"}', lambda v: v >= 1,
                          "a login counted")


def test_json_format_is_vaults_shape(sealbox):
    st, headers, data = sealbox.request("GET", "/v1/sys/metrics", token=sealbox.metrics_token)
    assert st == 200
    assert headers["content-type"] == "application/json"
    doc = json.loads(data)
    assert set(doc) == {"Timestamp", "Gauges", "Points", "Counters", "Samples"}
    gauges = {g["Name"]: g for g in doc["Gauges"]}
    assert gauges["vault.core.unsealed"]["Value"] == 1
    samples = {s["Name"]: s for s in doc["Samples"]}
    handle = samples["vault.core.handle_request"]
    assert handle["Count"] > 0 and handle["Sum"] > 0 and handle["Max"] >= handle["Min"] > 0
    assert set(handle) == {"Name", "Count", "Rate", "Sum", "Min", "Max", "Mean", "Stddev", "Labels"}
    assert "vault.audit.log_request_failure" in {c["Name"] for c in doc["Counters"]}


def test_token_and_acl_are_required(sealbox):
    st, body = sealbox.raw("GET", "/v1/sys/metrics")
    assert st == 403, body
    st, body = sealbox.raw("GET", "/v1/sys/metrics?format=prometheus")
    assert st == 403, body
    # The metrics token reads sys/metrics and nothing else.
    st, body = sealbox.raw("GET", "/v1/sys/mounts", token=sealbox.metrics_token)
    assert st == 403, body
    st, headers, data = sealbox.request("GET", "/v1/sys/metrics?format=prometheus", token=sealbox.metrics_token)
    assert st == 200 and headers["content-type"] == PROMETHEUS_FORMAT
    assert b"\nvault_core_unsealed{cluster=" in data
    st, headers, data = sealbox.request("GET", "/v1/sys/metrics?format=bogus", token=sealbox.metrics_token)
    assert (st, data) == (400, b'metric response format "bogus" unknown')


def test_documented_alert_rules_are_valid(tmp_path):
    """docs/monitoring.md's alert rules, checked by Prometheus's promtool."""
    with open(os.path.join(ROOT, "docs", "monitoring.md")) as f:
        blocks = re.findall(r"^```yaml\n(groups:.*?)^```", f.read(), re.M | re.S)
    assert len(blocks) == 1
    rules = tmp_path / "rules.yml"
    rules.write_text(blocks[0])
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    p = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS: 8 rules found" in p.stdout, p.stdout


def test_unauthenticated_access_and_retention_zero():
    s = Server(listener_extra="  telemetry {\n    unauthenticated_metrics_access = true\n  }\n",
               extra_config='telemetry {\n  prometheus_retention_time = "0"\n}\n').start()
    try:
        # No token, and the vault not even initialised: the seal state is what
        # an operator's alert needs to see.
        st, headers, data = s.request("GET", "/v1/sys/metrics")
        assert st == 200 and headers["content-type"] == "application/json", data
        gauges = {g["Name"]: g["Value"] for g in json.loads(data)["Gauges"]}
        assert gauges["vault.core.unsealed"] == 0
        st, headers, data = s.request("GET", "/v1/sys/metrics?format=prometheus")
        assert (st, data) == (400, b"prometheus is not enabled")
        st, _, _ = s.request("PUT", "/v1/sys/metrics")
        assert st == 405
        s.init(1, 1)
        s.unseal()
        st, _, data = s.request("GET", "/v1/sys/metrics")
        gauges = {g["Name"]: g["Value"] for g in json.loads(data)["Gauges"]}
        assert gauges["vault.core.unsealed"] == 1
        # An audit device that can no longer write: requests fail closed and
        # the failure counter shows it (this endpoint is not audited).
        d = os.path.join(s.dir, "auditdir")
        os.makedirs(d)
        st, body = s.root("PUT", "/v1/sys/audit/doomed", {"type": "file", "options": {"file_path": os.path.join(d, "a.log")}})
        assert st == 204, body
        shutil.rmtree(d)
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: s.root("GET", "/v1/sys/mounts")[0] == 500, what="requests to fail closed")

        def failures():
            counters = {c["Name"]: c["Count"] for c in json.loads(s.request("GET", "/v1/sys/metrics")[2])["Counters"]}
            return counters["vault.audit.log_request_failure"]
        assert failures() >= 1
        before = failures()
        assert s.root("GET", "/v1/sys/mounts")[0] == 500
        assert failures() == before + 1
    finally:
        s.cleanup()
