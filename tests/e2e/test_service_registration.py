"""Kubernetes service registration (issue 22, Helm's active Service): the
real sealbox binary with `service_registration "kubernetes"` labels its own
pod on the Kubernetes API stand-in (tests/k8s/standin) with vault-active,
vault-sealed, vault-initialized, vault-perf-standby and vault-version, as
Vault does, so that a Service can select the active node. One node on
RocksDB through init, unseal and seal, and an API server that goes down and
comes back; three HA nodes on the 3-member etcd, where exactly one pod is
labelled active and the label follows a step-down."""

import os
import time

import pytest

import etcd_harness
import harness
from test_kubernetes import Kube

NS = "vault-ns"
LABELS = ("vault-active", "vault-sealed", "vault-initialized", "vault-perf-standby", "vault-version")


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    """The stand-in and, as in a pod, a service account directory (token,
    ca.crt, namespace) the servers find through the environment."""
    d = str(tmp_path_factory.mktemp("k8s"))
    k = Kube(d)
    sa_dir = os.path.join(d, "serviceaccount")
    os.mkdir(sa_dir)
    k.sa(NS, "sealbox")
    k.sa_token = k.token(NS, "sealbox")
    # The chart's Role: get, update and patch on pods, nothing else.
    k.control("POST", "/control/reviewers", {"token": k.sa_token, "allowed": True, "resources": ["pods"]})
    for name, content in (("token", k.sa_token + "\n"), ("ca.crt", k.ca_pem), ("namespace", NS)):
        with open(os.path.join(sa_dir, name), "w") as f:
            f.write(content)
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(k.port),
           "SEALBOX_K8S_SERVICE_ACCOUNT_DIR": sa_dir}
    saved = {n: os.environ.get(n) for n in list(env) + ["VAULT_K8S_POD_NAME", "VAULT_K8S_NAMESPACE"]}
    os.environ.update(env)
    for n in ("VAULT_K8S_POD_NAME", "VAULT_K8S_NAMESPACE"):
        os.environ.pop(n, None)
    yield k
    for n, v in saved.items():
        if v is None:
            os.environ.pop(n, None)
        else:
            os.environ[n] = v
    k.stop()


def pod(k, name):
    return k.control("GET", "/control/pods/%s/%s" % (NS, name))


def wait_labels(k, name, want, timeout=10.0):
    got = {}

    def matches():
        got.clear()
        got.update(pod(k, name)["labels"] or {})
        return all(got.get(key) == value for key, value in want.items())
    try:
        harness.wait_until(matches, timeout, what="labels %s on pod %s" % (want, name))
    except Exception as e:
        raise AssertionError("pod %s: wanted %s, has %s" % (name, want, got)) from e
    return dict(got)


def registration(pod_name):
    return 'service_registration "kubernetes" {\n  pod_name = "%s"\n}\n' % pod_name


def state(active, sealed, initialized):
    b = lambda v: "true" if v else "false"
    return {"vault-active": b(active), "vault-sealed": b(sealed), "vault-initialized": b(initialized),
            "vault-perf-standby": "false"}


def test_single_node_labels_follow_init_unseal_seal_and_an_api_outage(kube):
    k = kube
    # A pod with no labels at all: the first patch adds the labels object.
    k.control("POST", "/control/pods", {"namespace": NS, "name": "solo-0", "labels": None})
    s = harness.Server(extra_config=registration("solo-0"))
    try:
        s.start()
        got = wait_labels(k, "solo-0", state(active=False, sealed=True, initialized=False))
        assert set(got) == set(LABELS) and got["vault-version"] == "0.1.0", got
        s.init()
        wait_labels(k, "solo-0", state(active=False, sealed=True, initialized=True))
        s.unseal()
        # Without HA an unsealed node is the active one.
        wait_labels(k, "solo-0", state(active=True, sealed=False, initialized=True))
        assert s.root("PUT", "/v1/sys/seal")[0] == 204
        wait_labels(k, "solo-0", state(active=False, sealed=True, initialized=True))
        s.unseal()
        wait_labels(k, "solo-0", state(active=True, sealed=False, initialized=True))

        # The API server goes down: the vault keeps serving, at once.
        before = pod(k, "solo-0")["patches"]
        k.control("POST", "/control/outage", {"on": True})
        t0 = time.monotonic()
        assert s.root("PUT", "/v1/sys/seal")[0] == 204
        assert s.raw("GET", "/v1/sys/seal-status")[1]["sealed"] is True
        assert time.monotonic() - t0 < 2.0
        s.unseal()
        assert s.raw("GET", "/v1/sys/health")[0] == 200
        harness.wait_until(lambda: "cannot label the pod, will retry" in s.log(), 10, what="a retry warning")
        assert pod(k, "solo-0")["patches"] == before
        assert s.root("PUT", "/v1/sys/seal")[0] == 204
        # Back: the retries publish the state of now (sealed), not the
        # states it went through.
        k.control("POST", "/control/outage", {"on": False})
        wait_labels(k, "solo-0", state(active=False, sealed=True, initialized=True))
        assert k.sa_token not in s.log()
    finally:
        k.control("POST", "/control/outage", {"on": False})
        s.cleanup()


def test_existing_labels_are_kept_and_misconfiguration_is_a_clear_error(kube):
    k = kube
    k.control("POST", "/control/pods", {"namespace": NS, "name": "keep-0", "labels": {"app": "sealbox"}})
    s = harness.Server(extra_config=registration("keep-0"))
    try:
        s.start()
        got = wait_labels(k, "keep-0", state(active=False, sealed=True, initialized=False))
        assert got["app"] == "sealbox", got
    finally:
        s.cleanup()
    bad = harness.Server(extra_config='service_registration "kubernetes" {\n  namespace = "x"\n}\n')
    try:
        with pytest.raises(RuntimeError, match="pod_name must be provided via \"VAULT_K8S_POD_NAME\""):
            bad.start()
    finally:
        bad.cleanup()
    typo = harness.Server(extra_config='service_registration "kubernetes" {\n  pod = "x"\n}\n')
    try:
        with pytest.raises(RuntimeError, match='unknown key "pod" in service_registration "kubernetes"'):
            typo.start()
    finally:
        typo.cleanup()


def test_ha_exactly_one_pod_is_active_and_the_label_follows_a_step_down(kube):
    k = kube
    cluster = etcd_harness.EtcdCluster()
    extra = '  ha_enabled = true\n  lock_timeout = "2s"\n  request_timeout = "1s"\n'
    names = ["ha-%d" % i for i in range(3)]
    nodes = []
    try:
        for name in names:
            k.control("POST", "/control/pods", {"namespace": NS, "name": name, "labels": {"app": "sealbox"}})
            nodes.append(harness.Server(
                storage=cluster.storage_block("/svcreg/", extra), extra_config=registration(name), log_level="debug",
                listener_extra='  cluster_address = "127.0.0.1:%d"\n' % harness.free_port()).start())
        first = nodes[0]
        first.init()
        for n in nodes[1:]:
            n.keys, n.root_token = first.keys, first.root_token
        for n in nodes:
            n.unseal()

        def active_pods():
            return [name for name in names if (pod(k, name)["labels"] or {}).get("vault-active") == "true"]

        def one_active_pod_matching_the_leader():
            leaders = [name for n, name in zip(nodes, names) if n.raw("GET", "/v1/sys/leader")[1]["is_self"]]
            return len(leaders) == 1 and active_pods() == leaders

        harness.wait_until(one_active_pod_matching_the_leader, 15, what="one pod labelled active: the leader")
        [old] = active_pods()
        for name in names:
            wait_labels(k, name, {"vault-sealed": "false", "vault-initialized": "true"})
        active = nodes[names.index(old)]
        assert active.root("PUT", "/v1/sys/step-down")[0] == 204
        harness.wait_until(lambda: one_active_pod_matching_the_leader() and active_pods() != [old], 15,
                           what="the active label to move to the new active")
        wait_labels(k, old, state(active=False, sealed=False, initialized=True))
    finally:
        for n in nodes:
            n.cleanup()
        cluster.cleanup()
