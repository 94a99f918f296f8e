"""The Helm chart, rendered without helm: tests/helm/render is built from
Go's text/template + sprig (the engine Helm uses, from Debian's packages),
renders helm/sealbox with the default values and with values-all-on.yaml,
every document is parsed as YAML and the fields that matter are asserted.
Then the rendered configuration and generated certificate start the real
sealbox binary (static seal included), so the chart cannot drift from what
the server accepts."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(ROOT, "helm", "sealbox")
HEALTH = "/v1/sys/health?standbyok=true&sealedcode=204&uninitcode=204"
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))


@pytest.fixture(scope="module")
def renderer():
    out = tempfile.mkdtemp(prefix="sealbox-helm-")
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
               GOCACHE=os.path.join(out, "gocache"))
    binary = os.path.join(out, "render")
    p = subprocess.run(["go", "build", "-o", binary, "."], cwd=os.path.join(HERE, "render"), env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    yield binary
    shutil.rmtree(out, ignore_errors=True)


def render(binary, values=None, name="sealbox", namespace="vault"):
    args = [binary, "-chart", CHART, "-name", name, "-namespace", namespace]
    if values:
        args += ["-values", os.path.join(HERE, values)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    files = json.loads(p.stdout)
    docs, notes = [], None
    for f in files:
        if f["template"].endswith("NOTES.txt"):
            notes = f["text"]
            continue
        docs += [d for d in yaml.safe_load_all(f["text"]) if d]
    return docs, notes


def find(docs, kind, name=None):
    hits = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert hits, "no %s %s in %s" % (kind, name or "", [(d["kind"], d["metadata"]["name"]) for d in docs])
    return hits[0] if name else hits


def container(docs):
    sts = find(docs, "StatefulSet")[0]
    return sts, sts["spec"]["template"]["spec"], sts["spec"]["template"]["spec"]["containers"][0]


def test_defaults(renderer):
    docs, notes = render(renderer)
    for d in docs:
        assert d["apiVersion"] and d["kind"] and d["metadata"]["name"]
    sts, pod, c = container(docs)
    assert sts["spec"]["replicas"] == 1 and sts["spec"]["serviceName"] == "sealbox-internal"
    assert c["image"] == "sealbox:0.1.0"
    assert c["args"] == ["server", "-config", "/sealbox/config/sealbox.hcl"]
    assert c["ports"] == [{"name": "https", "containerPort": 8200}]
    for probe in ("readinessProbe", "livenessProbe"):
        get = c[probe]["httpGet"]
        assert get == {"scheme": "HTTPS", "path": HEALTH, "port": "https"}, probe
    assert c["livenessProbe"]["initialDelaySeconds"] > c["readinessProbe"]["initialDelaySeconds"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                      "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    assert c["securityContext"] == {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}}
    assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert set(mounts) == {"data", "config", "tls", "tmp"}
    assert mounts["data"]["mountPath"] == "/sealbox/data" and "readOnly" not in mounts["data"]
    assert mounts["config"]["readOnly"] and mounts["tls"]["readOnly"]
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["tls"]["secret"]["secretName"] == "sealbox-tls"
    assert vols["config"]["configMap"]["name"] == "sealbox-config"
    pvcs = sts["spec"]["volumeClaimTemplates"]
    assert [p["metadata"]["name"] for p in pvcs] == ["data"]
    assert pvcs[0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert pod["serviceAccountName"] == "sealbox"
    assert sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    svc = find(docs, "Service", "sealbox")
    assert svc["spec"]["ports"] == [{"name": "https", "port": 8200, "targetPort": "https"}]
    assert find(docs, "Service", "sealbox-internal")["spec"]["clusterIP"] == "None"

    crbs = {d["metadata"]["name"]: d for d in find(docs, "ClusterRoleBinding")}
    delegator = crbs["sealbox-auth-delegator"]
    assert delegator["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                    "name": "system:auth-delegator"}
    assert delegator["subjects"] == [{"kind": "ServiceAccount", "name": "sealbox", "namespace": "vault"}]
    reader = find(docs, "ClusterRole", "sealbox-reader")
    assert reader["rules"] == [{"apiGroups": [""], "resources": ["namespaces", "serviceaccounts"], "verbs": ["get"]}]
    assert crbs["sealbox-reader"]["subjects"][0]["name"] == "sealbox"
    assert find(docs, "ServiceAccount", "sealbox")

    hcl = find(docs, "ConfigMap", "sealbox-config")["data"]["sealbox.hcl"]
    assert 'path = "/sealbox/data"' in hcl and 'api_addr      = "https://sealbox.vault.svc:8200"' in hcl
    assert "seal" not in hcl.replace("sealbox", "")

    tls = find(docs, "Secret", "sealbox-tls")
    assert tls["type"] == "kubernetes.io/tls" and set(tls["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert "operator unseal" in notes and "auth enable kubernetes" in notes


def test_every_option_on(renderer):
    docs, notes = render(renderer, "values-all-on.yaml", name="prod", namespace="secrets")
    sts, pod, c = container(docs)
    assert sts["metadata"]["name"] == "prod-sealbox"
    assert c["image"] == "registry.example/sealbox:9.9.9" and c["imagePullPolicy"] == "Always"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert {"name": "SEALBOX_EXTRA", "value": "1"} in c["env"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert set(mounts) == {"data", "config", "tls", "tmp", "seal", "audit"}
    assert mounts["seal"] == {"name": "seal", "mountPath": "/sealbox/seal", "readOnly": True}
    assert mounts["audit"]["mountPath"] == "/sealbox/audit"
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["seal"]["secret"] == {"secretName": "sealbox-seal", "defaultMode": 0o400}
    assert vols["tls"]["secret"]["secretName"] == "corp-tls"
    assert not [d for d in docs if d["kind"] == "Secret"]  # existing TLS secret: none generated
    pvcs = {p["metadata"]["name"]: p["spec"] for p in sts["spec"]["volumeClaimTemplates"]}
    assert pvcs["data"]["storageClassName"] == "fast-ssd" and pvcs["data"]["resources"]["requests"]["storage"] == "20Gi"
    assert pvcs["audit"]["storageClassName"] == "standard" and pvcs["audit"]["resources"]["requests"]["storage"] == "5Gi"
    assert pod["serviceAccountName"] == "vault-sa"
    assert find(docs, "ServiceAccount", "vault-sa")["metadata"]["annotations"] == {"example.com/owner": "platform"}
    for crb in find(docs, "ClusterRoleBinding"):
        assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "vault-sa", "namespace": "secrets"}]
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"} and pod["tolerations"][0]["key"] == "dedicated"
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert sts["spec"]["template"]["metadata"]["annotations"]["example.com/scrape"] == "true"
    hcl = find(docs, "ConfigMap", "prod-sealbox-config")["data"]["sealbox.hcl"]
    assert 'current_key_id = "2026-11"' in hcl and 'current_key    = "file:///sealbox/seal/unseal-2026-11.key"' in hcl
    assert 'previous_key_id = "2026-05"' in hcl and "file:///sealbox/seal/unseal-2026-05.key" in hcl
    assert "max_entry_size = 2097152" in hcl and 'log_level     = "debug"' in hcl
    assert "recovery keys" in notes and "/sealbox/audit/audit.log" in notes


def test_missing_required_values_fail_clearly(renderer, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("staticSeal:\n  enabled: true\n  currentKeyId: k1\n")
    p = subprocess.run([renderer, "-chart", CHART, "-values", str(bad)], capture_output=True, text=True)
    assert p.returncode != 0 and "staticSeal.secretName is required" in p.stderr
    bad.write_text("tls:\n  selfSigned: false\n")
    p = subprocess.run([renderer, "-chart", CHART, "-values", str(bad)], capture_output=True, text=True)
    assert p.returncode != 0 and "tls.secretName is required" in p.stderr


def test_rendered_config_and_certificate_start_the_real_server(renderer, tmp_path):
    """The ConfigMap's HCL and the generated certificate, with the static
    seal on, as the pod would see them (paths moved under a temp dir)."""
    import harness
    values = tmp_path / "v.yaml"
    values.write_text("staticSeal:\n  enabled: true\n  secretName: s\n  currentKeyId: k1\n")
    docs, _ = render(renderer, str(values))
    hcl = find(docs, "ConfigMap", "sealbox-config")["data"]["sealbox.hcl"]
    tls = find(docs, "Secret", "sealbox-tls")["data"]
    base = tmp_path / "sealbox"
    for sub in ("tls", "seal", "data"):
        (base / sub).mkdir(parents=True)
    for k, v in tls.items():
        (base / "tls" / k).write_bytes(base64.b64decode(v))
    (base / "seal" / "unseal.key").write_bytes(os.urandom(32))
    port = harness.free_port()
    hcl = hcl.replace("/sealbox/", str(base) + "/").replace("0.0.0.0:8200", "127.0.0.1:%d" % port)
    (base / "sealbox.hcl").write_text(hcl)
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([harness.sealbox_bin(), "server", "-config", str(base / "sealbox.hcl")],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        import http.client
        import ssl
        ctx = ssl.create_default_context(cafile=str(base / "tls" / "ca.crt"))
        ctx.check_hostname = False  # the certificate names the service, the test dials 127.0.0.1 by IP

        def status():
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "server.log").read_text())
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
                conn.request("GET", "/v1/sys/seal-status")
                r = conn.getresponse()
                return json.loads(r.read())
            except OSError:
                return None

        harness.wait_until(lambda: status() is not None, 30, what="sealbox with the chart's config")
        st = status()
        assert st["type"] == "static" and st["recovery_seal"] is True and st["initialized"] is False
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
