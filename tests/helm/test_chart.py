"""The Helm chart helm/sealbox, rendered without helm.

tests/helm/render is a small Go program on the engine Helm is built on
(text/template + sprig v3, as Helm 3, pinned by render/go.mod). It renders the
chart with the default values, with values-all-on.yaml and with targeted
variants; every document is parsed as YAML and the fields that matter are
asserted: probes, security contexts, RBAC, volumes and mounts, claim
templates, the Services, the generated certificate and the HCL configuration
(parsed by a small reader of the subset the chart writes). Nothing here is
skipped: without Go or sprig the renderer does not build and the tests fail.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(ROOT, "helm", "sealbox")
HEALTH = "/v1/sys/health?standbyok=true&sealedcode=204&uninitcode=204"
ARGS = ["server", "-config", "/sealbox/config/sealbox.hcl"]


# --- the renderer ----------------------------------------------------------

@pytest.fixture(scope="module")
def renderer():
    go = shutil.which("go") or "/usr/local/go/bin/go"
    assert os.path.exists(go), "go is missing (this machine kind ships Go 1.26 in /usr/local/go)"
    out = tempfile.mkdtemp(prefix="sealbox-helm-")
    # Module mode, pinned by render/go.mod and go.sum (sprig v3, as Helm 3
    # uses); modules come from the Go module proxy into the usual module cache.
    env = dict(os.environ, GO111MODULE="on", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", CGO_ENABLED="0",
               GOCACHE=os.path.join(out, "gocache"))
    binary = os.path.join(out, "render")
    p = subprocess.run([go, "build", "-o", binary, "."], cwd=os.path.join(HERE, "render"), env=env,
                       capture_output=True, text=True, timeout=420)
    assert p.returncode == 0, "go build of tests/helm/render failed:\n" + p.stderr
    yield binary
    shutil.rmtree(out, ignore_errors=True)


def _run(binary, values, name, namespace, notes=False):
    args = [binary, "-chart", CHART, "-name", name, "-namespace", namespace]
    for v in values:
        args += ["-values", v if os.path.isabs(v) else os.path.join(HERE, v)]
    if notes:
        args.append("-notes")
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def render(binary, *values, name="sealbox", namespace="vault"):
    """The manifests as parsed documents, and the rendered NOTES.txt."""
    p = _run(binary, values, name, namespace)
    assert p.returncode == 0, p.stderr
    assert "<no value>" not in p.stdout
    docs = list(yaml.safe_load_all(p.stdout))
    assert docs and all(isinstance(d, dict) for d in docs), p.stdout
    n = _run(binary, values, name, namespace, notes=True)
    assert n.returncode == 0, n.stderr
    return docs, n.stdout


def render_error(binary, values_text, tmp_path):
    f = tmp_path / "values.yaml"
    f.write_text(values_text)
    p = _run(binary, [str(f)], "sealbox", "vault")
    assert p.returncode != 0, "rendered although it should not:\n" + p.stdout
    return p.stderr


def values_file(tmp_path, text, name="values.yaml"):
    f = tmp_path / name
    f.write_text(text)
    return str(f)


def find(docs, kind, name=None):
    hits = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert hits, "no %s %s in %s" % (kind, name or "", [(d["kind"], d["metadata"]["name"]) for d in docs])
    return hits[0] if name else hits


def statefulset(docs):
    sts = find(docs, "StatefulSet")
    assert len(sts) == 1
    pod = sts[0]["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    return sts[0], pod, pod["containers"][0]


def env_of(c):
    return {e["name"]: e.get("value") for e in c.get("env", [])}


# --- a reader for the HCL subset the chart writes --------------------------

_TOKEN = re.compile(r'\s*(?:(#[^\n]*)|("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_.-]*)|(-?\d+)|([{}=]))')


def parse_hcl(text):
    """Blocks `name "label"... { ... }` and `key = "string" | number | bool`.
    Returns {"key": value, "name": [{"labels": [...], "body": {...}}, ...]};
    raises ValueError on anything else (unbalanced braces, stray tokens,
    a repeated attribute)."""
    toks, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError("cannot read HCL at %r" % text[pos:pos + 40])
        pos = m.end()
        comment, string, ident, number, punct = m.groups()
        if comment:
            continue
        if string is not None:
            toks.append(("str", string[1:-1].replace('\\"', '"').replace("\\\\", "\\")))
        elif ident is not None:
            toks.append(("ident", ident))
        elif number is not None:
            toks.append(("num", int(number)))
        else:
            toks.append((punct, punct))
    i = 0

    def body(closing):
        nonlocal i
        out = {}
        while i < len(toks):
            kind, val = toks[i]
            if kind == "}":
                if not closing:
                    raise ValueError("unbalanced }")
                i += 1
                return out
            if kind != "ident":
                raise ValueError("expected a key, got %r" % (val,))
            i += 1
            if i < len(toks) and toks[i][0] == "=":
                i += 1
                if i >= len(toks):
                    raise ValueError("%s = nothing" % val)
                vk, vv = toks[i]
                if vk == "ident" and vv in ("true", "false"):
                    vv = vv == "true"
                elif vk not in ("str", "num"):
                    raise ValueError("%s = %r" % (val, vv))
                if val in out:
                    raise ValueError("%s set twice" % val)
                out[val] = vv
                i += 1
                continue
            labels = []
            while i < len(toks) and toks[i][0] == "str":
                labels.append(toks[i][1])
                i += 1
            if i >= len(toks) or toks[i][0] != "{":
                raise ValueError("block %s: expected {" % val)
            i += 1
            out.setdefault(val, []).append({"labels": labels, "body": body(True)})
        if closing:
            raise ValueError("missing }")
        return out

    return body(False)


def test_hcl_reader_rejects_what_the_server_would():
    assert parse_hcl('a = 1\nb "x" {\n c = "d" # note\n}\n') == {
        "a": 1, "b": [{"labels": ["x"], "body": {"c": "d"}}]}
    for bad in ('a = 1\nb "x" {\n c = "d"\n', 'a = 1\n}\n', "a = \n", "a = 1\na = 2\n", 'b "x" c = 1'):
        with pytest.raises(ValueError):
            parse_hcl(bad)


def config_of(docs, name):
    cm = find(docs, "ConfigMap", name)
    assert list(cm["data"]) == ["sealbox.hcl"]
    text = cm["data"]["sealbox.hcl"]
    return text, parse_hcl(text)


# --- checks every rendering must pass --------------------------------------

def check_consistent(docs, release):
    """Cross-object invariants: labels, names, selectors, volumes, ports."""
    for d in docs:
        assert d["apiVersion"] and d["kind"], d
        name = d["metadata"]["name"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.:]*[a-z0-9])?", name) and len(name) <= 253, name
        # Service names are DNS labels; a StatefulSet's pods carry the label
        # controller-revision-hash=<name>-<10 characters>.
        assert len(name) <= {"Service": 63, "StatefulSet": 52}.get(d["kind"], 253), name
        labels = d["metadata"]["labels"]
        assert all(len(str(v)) <= 63 for v in labels.values()), labels
        assert labels["app.kubernetes.io/instance"] == release
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/name"] == "sealbox"
        assert "namespace" not in d["metadata"]  # helm sets it from --namespace
    sts, pod, c = statefulset(docs)
    tmpl_labels = sts["spec"]["template"]["metadata"]["labels"]
    selector = sts["spec"]["selector"]["matchLabels"]
    assert selector.items() <= tmpl_labels.items()
    headless = find(docs, "Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    # Every Service port names a container port; the API Service has the API's only.
    container_ports = {p["name"] for p in c["ports"]}
    assert container_ports in ({"https"}, {"https", "cluster"})
    for svc in find(docs, "Service"):
        # -active / -standby: the pods service registration labels so.
        role = svc["metadata"]["labels"].get("app.kubernetes.io/component")
        active = {"active": {"vault-active": "true"}, "standby": {"vault-active": "false"}}.get(role, {})
        assert svc["spec"]["selector"] == dict(selector, **active)
        targets = [p["targetPort"] for p in svc["spec"]["ports"]]
        assert targets == (sorted(container_ports, key="https cluster".index) if svc is headless else ["https"])
    assert c["ports"][0] == {"name": "https", "containerPort": 8200, "protocol": "TCP"}
    volumes = {v["name"] for v in pod["volumes"]}
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    assert not volumes & claims
    for m in c["volumeMounts"]:
        assert m["name"] in volumes | claims, m
    assert len({m["mountPath"] for m in c["volumeMounts"]}) == len(c["volumeMounts"])
    cm_vol = next(v for v in pod["volumes"] if v["name"] == "config")
    find(docs, "ConfigMap", cm_vol["configMap"]["name"])
    if any(d["kind"] == "ServiceAccount" for d in docs):
        find(docs, "ServiceAccount", pod["serviceAccountName"])
    for crb in [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]:
        assert crb["subjects"][0]["name"] == pod["serviceAccountName"]
    # The configuration the server reads is the one the ConfigMap holds.
    _, cfg = config_of(docs, cm_vol["configMap"]["name"])
    if cfg["storage"][0]["labels"] == ["rocksdb"]:
        assert cfg["storage"][0]["body"]["path"] == next(
            m["mountPath"] for m in c["volumeMounts"] if m["name"] == "data")
    else:  # HA: the data is in etcd; no volume holds it
        assert "data" not in volumes | claims
        assert not [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    # Service registration: the stanza, the pod's name and namespace, and
    # (with rbac.create) the right to label pods go together.
    env = {e["name"]: e for e in c["env"]}
    if "service_registration" in cfg:
        assert cfg["service_registration"] == [{"labels": ["kubernetes"], "body": {}}]
        assert env["VAULT_K8S_POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
        assert env["VAULT_K8S_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
        assert pod["automountServiceAccountToken"] is True
        for role in [d for d in docs if d["kind"] == "Role"]:
            assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "update", "patch"]}]
            binding = find(docs, "RoleBinding", role["metadata"]["name"])
            assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                          "name": role["metadata"]["name"]}
    else:
        assert "VAULT_K8S_POD_NAME" not in env and not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]
        assert not [d for d in docs if d["kind"] == "Service" and "vault-active" in d["spec"]["selector"]]
    # A PodDisruptionBudget, when there is one, covers the StatefulSet's pods.
    for pdb in [d for d in docs if d["kind"] == "PodDisruptionBudget"]:
        assert pdb["spec"]["selector"]["matchLabels"] == selector


def check_hardened(pod, c):
    assert pod["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
        "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}
    assert c["securityContext"] == {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}}
    assert "privileged" not in c["securityContext"] and "hostNetwork" not in pod
    # The only writable places: the volumes, and an in-memory /tmp.
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"]["medium"] == "Memory"
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]


def test_dockerfile_user_is_the_pods():
    """runAsUser/fsGroup 10001 is the image's user: a mismatch would leave the
    data volume unwritable or the Secrets unreadable."""
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        dockerfile = f.read()
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert "--uid 10001" in dockerfile and "--gid 10001" in dockerfile
    assert re.search(r'^ENTRYPOINT \["sealbox"\]$', dockerfile, re.M)
    assert 'CMD ["server", "-config", "/sealbox/config/sealbox.hcl"]' in dockerfile


def test_chart_metadata():
    with open(os.path.join(CHART, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    assert chart["apiVersion"] == "v2" and chart["name"] == "sealbox" and chart["type"] == "application"
    assert chart["version"] and chart["appVersion"]
    with open(os.path.join(CHART, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(CHART, "values.yaml")) as f:
        values = yaml.safe_load(f)

    def leaves(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict) and v and k not in ("resources",):
                yield from leaves(v, prefix + k + ".")
            else:
                yield prefix + k
    # The README's values table documents every value.
    missing = [k for k in leaves(values) if "`%s`" % k not in readme]
    assert not missing, "values missing from helm/sealbox/README.md: %s" % missing


# --- default values --------------------------------------------------------

def test_defaults(renderer):
    docs, notes = render(renderer)
    check_consistent(docs, "sealbox")
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert kinds == [
        ("ClusterRole", "sealbox-reader"),
        ("ClusterRoleBinding", "sealbox-auth-delegator"),
        ("ClusterRoleBinding", "sealbox-reader"),
        ("ConfigMap", "sealbox-config"),
        ("Secret", "sealbox-tls"),
        ("Service", "sealbox"),
        ("Service", "sealbox-internal"),
        ("ServiceAccount", "sealbox"),
        ("StatefulSet", "sealbox"),
    ]
    sts, pod, c = statefulset(docs)
    assert sts["spec"]["replicas"] == 1 and sts["spec"]["serviceName"] == "sealbox-internal"
    assert c["image"] == "sealbox:0.1.0" and c["imagePullPolicy"] == "IfNotPresent"
    assert c["args"] == ARGS and "command" not in c  # the image's ENTRYPOINT is sealbox
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"scheme": "HTTPS", "path": HEALTH, "port": 8200}, probe
    assert c["livenessProbe"]["initialDelaySeconds"] > c["readinessProbe"]["initialDelaySeconds"]
    check_hardened(pod, c)
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]
    assert env_of(c) == {"VAULT_ADDR": "https://127.0.0.1:8200", "VAULT_CACERT": "/sealbox/tls/ca.crt",
                         "HOME": "/tmp"}
    assert pod["automountServiceAccountToken"] is True and pod["enableServiceLinks"] is False

    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert set(mounts) == {"data", "config", "tls", "tmp"}
    assert mounts["data"] == {"name": "data", "mountPath": "/sealbox/data"}
    assert mounts["config"] == {"name": "config", "mountPath": "/sealbox/config", "readOnly": True}
    assert mounts["tls"] == {"name": "tls", "mountPath": "/sealbox/tls", "readOnly": True}
    vols = {v["name"]: v for v in pod["volumes"]}
    assert set(vols) == {"config", "tls", "tmp"}
    assert vols["tls"]["secret"] == {"secretName": "sealbox-tls", "defaultMode": 0o440}
    assert vols["config"]["configMap"] == {"name": "sealbox-config"}
    pvcs = sts["spec"]["volumeClaimTemplates"]
    assert [p["metadata"]["name"] for p in pvcs] == ["data"]
    assert pvcs[0]["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    assert re.fullmatch(r"[0-9a-f]{64}", sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"])
    for k in ("nodeSelector", "tolerations", "affinity", "priorityClassName", "imagePullSecrets"):
        assert k not in pod, k

    svc = find(docs, "Service", "sealbox")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "https", "port": 8200, "targetPort": "https", "protocol": "TCP"}]
    assert find(docs, "Service", "sealbox-internal")["spec"]["ports"][0]["port"] == 8200

    assert pod["serviceAccountName"] == "sealbox"
    delegator = find(docs, "ClusterRoleBinding", "sealbox-auth-delegator")
    assert delegator["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                    "name": "system:auth-delegator"}
    assert delegator["subjects"] == [{"kind": "ServiceAccount", "name": "sealbox", "namespace": "vault"}]
    reader = find(docs, "ClusterRole", "sealbox-reader")
    assert reader["rules"] == [{"apiGroups": [""], "resources": ["namespaces", "serviceaccounts"],
                                "verbs": ["get"]}]
    reader_binding = find(docs, "ClusterRoleBinding", "sealbox-reader")
    assert reader_binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                         "name": "sealbox-reader"}
    assert reader_binding["subjects"] == delegator["subjects"]

    text, cfg = config_of(docs, "sealbox-config")
    assert cfg == {
        "storage": [{"labels": ["rocksdb"], "body": {"path": "/sealbox/data"}}],
        "listener": [{"labels": ["tcp"], "body": {
            "address": "0.0.0.0:8200", "tls_cert_file": "/sealbox/tls/tls.crt",
            "tls_key_file": "/sealbox/tls/tls.key"}}],
        "api_addr": "https://sealbox.vault.svc:8200",
        "log_level": "info",
        "disable_mlock": True,
    }
    assert "seal" not in text.replace("sealbox", "") and "audit" not in text

    tls = find(docs, "Secret", "sealbox-tls")
    assert tls["type"] == "kubernetes.io/tls" and set(tls["data"]) == {"tls.crt", "tls.key", "ca.crt"}
    assert tls["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"

    assert "kubectl -n vault exec -ti sealbox-0 -- sealbox operator init" in notes
    assert "kubectl -n vault exec -ti sealbox-0 -- sealbox operator unseal" in notes
    assert "VAULT_ADDR=https://127.0.0.1:8200" in notes and "VAULT_CACERT=/sealbox/tls/ca.crt" in notes
    assert "sealbox auth enable kubernetes" in notes
    assert "sealbox write auth/kubernetes/config kubernetes_host=https://kubernetes.default.svc" in notes
    assert "recovery" not in notes.lower() and "/sealbox/audit" not in notes
    assert "VAULT_SKIP_VERIFY" not in notes


def test_generated_certificate(renderer, tmp_path):
    """The self-signed Secret holds a CA and a server certificate it signed,
    for every name clients use, and the matching key."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is missing"
    docs, _ = render(renderer, name="sb", namespace="secrets")
    data = find(docs, "Secret", "sb-sealbox-tls")["data"]
    for k, v in data.items():
        (tmp_path / k).write_bytes(base64.b64decode(v))

    def ossl(*args):
        p = subprocess.run([openssl, *args], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout

    ossl("verify", "-CAfile", str(tmp_path / "ca.crt"), "-purpose", "sslserver", str(tmp_path / "tls.crt"))
    sans = ossl("x509", "-in", str(tmp_path / "tls.crt"), "-noout", "-ext", "subjectAltName")
    names = {s.strip() for s in sans.splitlines()[1].split(",")}
    for dns in ("sb-sealbox", "sb-sealbox.secrets", "sb-sealbox.secrets.svc",
                "sb-sealbox.secrets.svc.cluster.local", "localhost"):
        assert "DNS:" + dns in names, (dns, names)
    assert "IP Address:127.0.0.1" in names
    subject = ossl("x509", "-in", str(tmp_path / "tls.crt"), "-noout", "-subject")
    assert "sb-sealbox" in subject
    cert_pub = ossl("x509", "-in", str(tmp_path / "tls.crt"), "-noout", "-pubkey")
    key_pub = ossl("pkey", "-in", str(tmp_path / "tls.key"), "-pubout")
    assert cert_pub == key_pub
    # extraSANs reach the certificate.
    docs, _ = render(renderer, values_file(tmp_path, "tls:\n  extraSANs: [sealbox.example.com]\n"))
    (tmp_path / "x.crt").write_bytes(base64.b64decode(find(docs, "Secret", "sealbox-tls")["data"]["tls.crt"]))
    assert "DNS:sealbox.example.com" in ossl("x509", "-in", str(tmp_path / "x.crt"), "-noout", "-ext",
                                             "subjectAltName")


# --- every option on -------------------------------------------------------

def test_every_option_on(renderer):
    docs, notes = render(renderer, "values-all-on.yaml", name="prod", namespace="secrets")
    check_consistent(docs, "prod")
    sts, pod, c = statefulset(docs)
    assert sts["metadata"]["name"] == "prod-sealbox" and sts["spec"]["serviceName"] == "prod-sealbox-internal"
    assert c["image"] == "registry.example/sealbox:9.9.9" and c["imagePullPolicy"] == "Always"
    assert c["args"] == ARGS
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert env_of(c) == {"VAULT_ADDR": "https://127.0.0.1:8200", "VAULT_CACERT": "/sealbox/tls/ca.crt",
                         "HOME": "/tmp", "SEALBOX_EXTRA": "1"}
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"scheme": "HTTPS", "path": HEALTH, "port": 8200}, probe
    assert {k: c["readinessProbe"][k] for k in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                                  "failureThreshold")} == {
        "initialDelaySeconds": 1, "periodSeconds": 2, "timeoutSeconds": 1, "failureThreshold": 2}
    assert c["livenessProbe"]["initialDelaySeconds"] == 90 and c["livenessProbe"]["failureThreshold"] == 9
    check_hardened(pod, c)
    assert c["resources"] == {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}

    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert set(mounts) == {"data", "config", "tls", "tmp", "seal", "audit"}
    assert mounts["seal"] == {"name": "seal", "mountPath": "/sealbox/seal", "readOnly": True}
    assert mounts["audit"] == {"name": "audit", "mountPath": "/sealbox/audit"}
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["seal"]["secret"] == {
        "secretName": "sealbox-seal", "defaultMode": 0o400,
        "items": [{"key": "unseal-2026-11.key", "path": "unseal-2026-11.key"},
                  {"key": "unseal-2026-05.key", "path": "unseal-2026-05.key"}]}
    assert vols["tls"]["secret"] == {"secretName": "corp-tls", "defaultMode": 0o440}
    assert not [d for d in docs if d["kind"] == "Secret"]  # existing TLS Secret: none generated
    pvcs = {p["metadata"]["name"]: p["spec"] for p in sts["spec"]["volumeClaimTemplates"]}
    assert pvcs == {
        "data": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
                 "resources": {"requests": {"storage": "20Gi"}}},
        "audit": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                  "resources": {"requests": {"storage": "5Gi"}}},
    }

    assert pod["serviceAccountName"] == "vault-sa"
    assert find(docs, "ServiceAccount", "vault-sa")["metadata"]["annotations"] == {"example.com/owner": "platform"}
    for crb in find(docs, "ClusterRoleBinding"):
        assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "vault-sa", "namespace": "secrets"}]
    assert find(docs, "ClusterRoleBinding", "prod-sealbox-auth-delegator")["roleRef"]["name"] == \
        "system:auth-delegator"

    svc = find(docs, "Service", "prod-sealbox")
    assert svc["spec"]["type"] == "LoadBalancer" and svc["metadata"]["annotations"] == {"example.com/lb": "internal"}
    assert svc["spec"]["ports"] == [{"name": "https", "port": 8443, "targetPort": "https", "protocol": "TCP"}]

    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "secrets",
                                   "effect": "NoSchedule"}]
    assert pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 100
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["terminationGracePeriodSeconds"] == 45
    meta = sts["spec"]["template"]["metadata"]
    assert meta["annotations"]["example.com/scrape"] == "true" and meta["labels"]["team"] == "platform"

    text, cfg = config_of(docs, "prod-sealbox-config")
    assert cfg["seal"] == [{"labels": ["static"], "body": {
        "current_key_id": "2026-11", "current_key": "file:///sealbox/seal/unseal-2026-11.key",
        "previous_key_id": "2026-05", "previous_key": "file:///sealbox/seal/unseal-2026-05.key"}}]
    # Every seal key file the config names is projected into /sealbox/seal.
    projected = {"/sealbox/seal/" + i["path"] for i in vols["seal"]["secret"]["items"]}
    assert {cfg["seal"][0]["body"][k][len("file://"):] for k in ("current_key", "previous_key")} == projected
    assert cfg["api_addr"] == "https://prod-sealbox.secrets.svc:8443"
    assert cfg["log_level"] == "debug"
    assert cfg["max_entry_size"] == 2097152 and cfg["enable_core_dumps"] is False
    assert text.index("max_entry_size") > text.index("seal \"static\"")  # appended
    assert "audit" not in text  # audit devices are enabled through the API

    assert "kubectl -n secrets exec -ti prod-sealbox-0 -- sealbox operator init" in notes
    assert "RECOVERY keys" in notes and "unseals itself" in notes
    assert "operator unseal\n" not in notes  # no manual unseal step with a static seal
    assert "sealbox audit enable file file_path=/sealbox/audit/audit.log" in notes
    assert "sealbox auth enable kubernetes" in notes and "VAULT_SKIP_VERIFY" not in notes

    # Metrics: the telemetry stanzas, the ServiceMonitor and the dashboard.
    assert cfg["telemetry"] == [{"labels": [], "body": {
        "prometheus_retention_time": "12h", "usage_gauge_period": "1m", "disable_hostname": True}}]
    assert cfg["listener"][0]["body"]["telemetry"] == [{"labels": [], "body": {"unauthenticated_metrics_access": True}}]
    sm = find(docs, "ServiceMonitor", "prod-sealbox")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1" and sm["metadata"]["labels"]["release"] == "kube-prometheus"
    # It selects the API Service alone, not the headless one.
    selected = [s["metadata"]["name"] for s in find(docs, "Service")
                if sm["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
    assert selected == ["prod-sealbox"]
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["secrets"]}
    assert sm["spec"]["endpoints"] == [{
        "port": "https", "scheme": "https", "path": "/v1/sys/metrics", "params": {"format": ["prometheus"]},
        "interval": "15s", "scrapeTimeout": "5s",
        "tlsConfig": {"serverName": "prod-sealbox.secrets.svc", "ca": {"secret": {"name": "corp-tls", "key": "ca.crt"}}},
        "authorization": {"type": "Bearer", "credentials": {"name": "sealbox-metrics-token", "key": "token"}}}]
    board = find(docs, "ConfigMap", "prod-sealbox-dashboard")
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert board["metadata"]["labels"]["example.com/folder"] == "secrets"
    with open(os.path.join(CHART, "dashboards", "sealbox.json")) as f:
        assert json.loads(board["data"]["sealbox.json"]) == json.load(f)


def test_static_seal_without_previous_key(renderer, tmp_path):
    docs, notes = render(renderer, values_file(
        tmp_path, "staticSeal:\n  enabled: true\n  secretName: sealbox-seal\n  currentKeyId: k1\n"))
    check_consistent(docs, "sealbox")
    _, cfg = config_of(docs, "sealbox-config")
    assert cfg["seal"] == [{"labels": ["static"], "body": {
        "current_key_id": "k1", "current_key": "file:///sealbox/seal/unseal.key"}}]
    _, pod, c = statefulset(docs)
    seal = next(v for v in pod["volumes"] if v["name"] == "seal")["secret"]
    assert seal == {"secretName": "sealbox-seal", "defaultMode": 0o400,
                    "items": [{"key": "unseal.key", "path": "unseal.key"}]}
    assert "audit" not in {m["name"] for m in c["volumeMounts"]}
    assert "RECOVERY keys" in notes


def test_numeric_key_id_is_a_string(renderer, tmp_path):
    """currentKeyId: 202611 (unquoted in YAML) still renders as an HCL string."""
    docs, _ = render(renderer, values_file(
        tmp_path, "staticSeal:\n  enabled: true\n  secretName: s\n  currentKeyId: 202611\n"))
    _, cfg = config_of(docs, "sealbox-config")
    assert cfg["seal"][0]["body"]["current_key_id"] == "202611"


def test_existing_tls_secret_without_ca(renderer, tmp_path):
    """An existing Secret not known to hold a CA for 127.0.0.1: no VAULT_CACERT
    pointing at a missing file, and NOTES.txt says how the CLI connects."""
    docs, notes = render(renderer, values_file(tmp_path, "tls:\n  selfSigned: false\n  secretName: my-tls\n"))
    check_consistent(docs, "sealbox")
    _, pod, c = statefulset(docs)
    assert env_of(c) == {"VAULT_ADDR": "https://127.0.0.1:8200", "HOME": "/tmp"}
    assert next(v for v in pod["volumes"] if v["name"] == "tls")["secret"]["secretName"] == "my-tls"
    assert not [d for d in docs if d["kind"] == "Secret"]
    assert "kubectl -n vault exec -ti sealbox-0 -- env VAULT_SKIP_VERIFY=true sealbox operator init" in notes
    assert "export VAULT_SKIP_VERIFY=true" in notes and "sealbox-ca.crt" not in notes


def test_rbac_and_service_account_off(renderer, tmp_path):
    docs, notes = render(renderer, values_file(
        tmp_path, "rbac:\n  create: false\nserviceAccount:\n  create: false\n  name: existing-sa\n"))
    check_consistent(docs, "sealbox")
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "ClusterRoleBinding", "ServiceAccount")]
    _, pod, _ = statefulset(docs)
    assert pod["serviceAccountName"] == "existing-sa"
    assert "rbac.create is false" in notes and "existing-sa" in notes
    docs, _ = render(renderer, values_file(tmp_path, "serviceAccount:\n  create: false\n"))
    _, pod, _ = statefulset(docs)
    assert pod["serviceAccountName"] == "default"
    assert find(docs, "ClusterRoleBinding", "sealbox-auth-delegator")["subjects"][0]["name"] == "default"


def test_config_checksum_follows_the_config(renderer, tmp_path):
    """A configuration change must roll the pod (the server reads it once)."""
    def checksum(*values):
        docs, _ = render(renderer, *values)
        return statefulset(docs)[0]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    base = checksum()
    assert checksum() == base
    assert checksum(values_file(tmp_path, "server:\n  logLevel: debug\n")) != base
    assert checksum(values_file(tmp_path, "server:\n  extraConfig: 'max_entry_size = 10'\n")) != base


def test_release_names(renderer, tmp_path):
    """Names stay valid DNS labels (63 characters at most), a
    release already named like the chart is not doubled, overrides win."""
    long = "r" * 53  # the longest release name helm accepts
    docs, _ = render(renderer, name=long)
    check_consistent(docs, long)
    sts, _, _ = statefulset(docs)
    assert sts["metadata"]["name"] == long[:52] and sts["spec"]["serviceName"] == long[:52] + "-internal"
    docs, _ = render(renderer, name="r" * 51)
    assert statefulset(docs)[0]["metadata"]["name"] == "r" * 51  # cut at 52, then the trailing "-"
    docs, _ = render(renderer, name="team-sealbox")
    assert statefulset(docs)[0]["metadata"]["name"] == "team-sealbox"
    docs, _ = render(renderer, values_file(tmp_path, "fullnameOverride: vault\n"), name="r1")
    sts, _, _ = statefulset(docs)
    assert sts["metadata"]["name"] == "vault" and sts["spec"]["serviceName"] == "vault-internal"
    _, cfg = config_of(docs, "vault-config")
    assert cfg["api_addr"] == "https://vault.vault.svc:8200"


# --- HA on etcd -------------------------------------------------------------

def test_ha_defaults(renderer, tmp_path):
    """server.ha.enabled with the defaults: three pods on etcd, the cluster
    port, per-pod addresses, a PodDisruptionBudget, preferred anti-affinity
    and no RocksDB claim."""
    docs, notes = render(renderer, values_file(
        tmp_path, "server:\n  ha:\n    enabled: true\n    etcd:\n      address: [http://etcd:2379]\n"))
    check_consistent(docs, "sealbox")
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert ("PodDisruptionBudget", "sealbox") in kinds and ("PersistentVolumeClaim", "sealbox") not in kinds
    # The API Service, the headless one, and the -active / -standby ones
    # that select on the labels service registration writes.
    assert sorted(n for k, n in kinds if k == "Service") == [
        "sealbox", "sealbox-active", "sealbox-internal", "sealbox-standby"]
    assert find(docs, "Service", "sealbox-active")["spec"]["selector"]["vault-active"] == "true"
    assert find(docs, "Service", "sealbox-standby")["spec"]["selector"]["vault-active"] == "false"
    assert ("Role", "sealbox-discovery") in kinds and ("RoleBinding", "sealbox-discovery") in kinds
    sts, pod, c = statefulset(docs)
    assert sts["spec"]["replicas"] == 3 and sts["spec"]["podManagementPolicy"] == "Parallel"
    assert "volumeClaimTemplates" not in sts["spec"]
    assert "data" not in {m["name"] for m in c["volumeMounts"]} and "etcd-tls" not in {v["name"] for v in pod["volumes"]}
    assert c["ports"] == [{"name": "https", "containerPort": 8200, "protocol": "TCP"},
                          {"name": "cluster", "containerPort": 8201, "protocol": "TCP"}]
    headless = find(docs, "Service", "sealbox-internal")
    assert headless["spec"]["ports"][1] == {"name": "cluster", "port": 8201, "targetPort": "cluster", "protocol": "TCP"}
    # Standbys are ready (they forward), so the API Service reaches every unsealed pod.
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"scheme": "HTTPS", "path": HEALTH, "port": 8200}, probe
    svc = find(docs, "Service", "sealbox")
    assert svc["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"] and "publishNotReadyAddresses" not in svc["spec"]

    env = {e["name"]: e for e in c["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    names = [e["name"] for e in c["env"]]
    assert names.index("POD_NAME") < names.index("VAULT_API_ADDR")  # $(POD_NAME) needs it defined first
    assert env["VAULT_API_ADDR"]["value"] == "https://$(POD_NAME).sealbox-internal.vault.svc:8200"
    assert env["VAULT_CLUSTER_ADDR"]["value"] == "https://$(POD_NAME).sealbox-internal.vault.svc:8201"
    assert "ETCD_USERNAME" not in env and "ETCD_PASSWORD" not in env

    text, cfg = config_of(docs, "sealbox-config")
    assert cfg["storage"] == [{"labels": ["etcd"], "body": {
        "address": "http://etcd:2379", "path": "/vault/", "ha_enabled": True,
        "request_timeout": "5s", "lock_timeout": "15s"}}]
    assert cfg["listener"][0]["body"]["cluster_address"] == "0.0.0.0:8201"
    # Each pod's own addresses come from its environment, not the shared file.
    assert "api_addr" not in cfg and "cluster_addr" not in cfg
    assert cfg["service_registration"] == [{"labels": ["kubernetes"], "body": {}}]

    pdb = find(docs, "PodDisruptionBudget", "sealbox")
    assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["maxUnavailable"] == 1
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term == [{"weight": 100, "podAffinityTerm": {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": sts["spec"]["selector"]["matchLabels"]}}}]
    # The generated certificate names every pod's address (307 redirects).
    assert "*.sealbox-internal.vault.svc" in _cert_sans(find(docs, "Secret", "sealbox-tls"), tmp_path)

    assert "kubectl -n vault exec -ti sealbox-0 -- sealbox operator init" in notes
    assert "sealbox-active reaches the active pod alone" in notes
    for i in (1, 2):
        assert "kubectl -n vault exec -ti sealbox-%d -- sealbox operator unseal" % i in notes
    assert "sealbox-3" not in notes


def _cert_sans(secret, tmp_path):
    crt = tmp_path / "ha.crt"
    crt.write_bytes(base64.b64decode(secret["data"]["tls.crt"]))
    p = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-ext", "subjectAltName"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return {s.strip()[len("DNS:"):] for s in p.stdout.splitlines()[1].split(",") if s.strip().startswith("DNS:")}


def test_single_node_with_service_registration(renderer, tmp_path):
    """One pod may label itself too (server.serviceRegistration.enabled): the
    stanza, its environment and Role, but no -active / -standby Services
    (the API Service reaches the one pod)."""
    docs, _ = render(renderer, values_file(tmp_path, "server:\n  serviceRegistration: {enabled: true}\n"))
    check_consistent(docs, "sealbox")
    _, cfg = config_of(docs, "sealbox-config")
    assert cfg["service_registration"] == [{"labels": ["kubernetes"], "body": {}}]
    assert find(docs, "Role", "sealbox-discovery")
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Service") == ["sealbox", "sealbox-internal"]
    # Without RBAC from the chart: the stanza stays, the Role is the operator's.
    docs, _ = render(renderer, values_file(tmp_path, "server:\n  serviceRegistration: {enabled: true}\n"
                                                     "rbac: {create: false}\n", name="norbac.yaml"))
    assert "service_registration" in config_of(docs, "sealbox-config")[1]
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]


def test_ha_every_option(renderer):
    docs, notes = render(renderer, "values-ha.yaml", name="prod", namespace="secrets")
    check_consistent(docs, "prod")
    active = find(docs, "Service", "prod-sealbox-active")
    assert active["spec"]["type"] == "NodePort" and active["metadata"]["annotations"] == {"team": "secrets"}
    assert find(docs, "Service", "prod-sealbox-standby")["spec"]["ports"][0]["port"] == 8443
    sts, pod, c = statefulset(docs)
    assert sts["spec"]["replicas"] == 5
    # Only the audit claim: no RocksDB in HA.
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["audit"]
    assert {"name": "cluster", "containerPort": 8301, "protocol": "TCP"} in c["ports"]
    assert find(docs, "Service", "prod-sealbox-internal")["spec"]["ports"][1]["port"] == 8301
    env = {e["name"]: e for e in c["env"]}
    assert env["VAULT_CLUSTER_ADDR"]["value"] == "https://$(POD_NAME).prod-sealbox-internal.secrets.svc:8301"
    assert env["ETCD_USERNAME"]["valueFrom"] == {"secretKeyRef": {"name": "etcd-auth", "key": "user"}}
    assert env["ETCD_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "etcd-auth", "key": "pass"}}
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["etcd-tls"]["secret"] == {"secretName": "etcd-client-tls", "defaultMode": 0o440, "items": [
        {"key": k, "path": k} for k in ("etcd-ca.pem", "client.pem", "client-key.pem")]}
    assert {"name": "etcd-tls", "mountPath": "/sealbox/etcd", "readOnly": True} in c["volumeMounts"]

    _, cfg = config_of(docs, "prod-sealbox-config")
    assert cfg["storage"] == [{"labels": ["etcd"], "body": {
        "address": "https://etcd-0.etcd.secrets.svc:2379,https://etcd-1.etcd.secrets.svc:2379,"
                   "https://etcd-2.etcd.secrets.svc:2379",
        "path": "/sealbox/", "ha_enabled": True, "request_timeout": "2s", "lock_timeout": "5s",
        "tls_ca_file": "/sealbox/etcd/etcd-ca.pem", "tls_cert_file": "/sealbox/etcd/client.pem",
        "tls_key_file": "/sealbox/etcd/client-key.pem"}}]
    assert "username" not in cfg["storage"][0]["body"]  # credentials stay in the Secret
    assert cfg["listener"][0]["body"]["cluster_address"] == "0.0.0.0:8301"

    assert find(docs, "PodDisruptionBudget", "prod-sealbox")["spec"]["maxUnavailable"] == 2
    required = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == [{"topologyKey": "kubernetes.io/hostname",
                         "labelSelector": {"matchLabels": sts["spec"]["selector"]["matchLabels"]}}]
    assert "preferredDuringSchedulingIgnoredDuringExecution" not in pod["affinity"]["podAntiAffinity"]
    for i in range(1, 5):
        assert "kubectl -n secrets exec -ti prod-sealbox-%d -- sealbox operator unseal" % i in notes


def test_ha_options_off(renderer, tmp_path):
    """No PDB when disabled, the user's affinity wins over the chart's, a CA
    without a client certificate, a static seal's restart hint, and no
    service registration (so no -active / -standby Services) when off."""
    docs, notes = render(renderer, values_file(tmp_path, """
server:
  serviceRegistration: {enabled: false}
  ha:
    enabled: true
    replicas: 2
    disruptionBudget: {enabled: false}
    etcd:
      address: https://etcd:2379
      tls: {secretName: etcd-ca, certKey: "", keyKey: ""}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]
staticSeal: {enabled: true, secretName: seal, currentKeyId: k1}
"""))
    check_consistent(docs, "sealbox")
    assert not [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Service") == ["sealbox", "sealbox-internal"]
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]
    sts, pod, _ = statefulset(docs)
    assert sts["spec"]["replicas"] == 2
    assert list(pod["affinity"]) == ["nodeAffinity"]
    assert next(v for v in pod["volumes"] if v["name"] == "etcd-tls")["secret"]["items"] == [
        {"key": "ca.crt", "path": "ca.crt"}]
    _, cfg = config_of(docs, "sealbox-config")
    body = cfg["storage"][0]["body"]
    assert body["address"] == "https://etcd:2379" and body["tls_ca_file"] == "/sealbox/etcd/ca.crt"
    assert "tls_cert_file" not in body and "tls_key_file" not in body
    assert cfg["seal"][0]["labels"] == ["static"]
    assert "kubectl -n vault delete pod sealbox-1\n" in notes
    assert "sealbox-active" not in notes


@pytest.mark.parametrize("values, message", [
    ("replicas: 2\n", "replicas must be 1"),
    ("server:\n  ha:\n    enabled: true\n", "server.ha.etcd.address is required"),
    ("server:\n  ha:\n    enabled: true\n    replicas: 0\n    etcd: {address: [http://e:2379]}\n",
     "server.ha.replicas must be at least 1"),
    ("server:\n  ha:\n    enabled: true\n    antiAffinity: soft\n    etcd: {address: [http://e:2379]}\n",
     "server.ha.antiAffinity must be preferred or required"),
    ("server:\n  ha:\n    enabled: true\n    clusterPort: 8200\n    etcd: {address: [http://e:2379]}\n",
     "server.ha.clusterPort must differ"),
    ("server:\n  ha:\n    enabled: true\n    etcd:\n      address: [http://e:2379]\n"
     "      tls: {secretName: t, keyKey: ''}\n", "certKey and server.ha.etcd.tls.keyKey go together"),
    ("staticSeal:\n  enabled: true\n  currentKeyId: k1\n", "staticSeal.secretName is required"),
    ("staticSeal:\n  enabled: true\n  secretName: s\n", "staticSeal.currentKeyId is required"),
    ("staticSeal:\n  enabled: true\n  secretName: s\n  currentKeyId: k1\n  previousKeyId: k0\n",
     "staticSeal.previousKeyId and staticSeal.previousKeyFile go together"),
    ("staticSeal:\n  enabled: true\n  secretName: s\n  currentKeyId: k1\n  previousKeyFile: old.key\n",
     "staticSeal.previousKeyId and staticSeal.previousKeyFile go together"),
    ("staticSeal:\n  enabled: true\n  secretName: s\n  currentKeyId: k1\n  previousKeyId: k0\n"
     "  previousKeyFile: unseal.key\n", "must differ from staticSeal.currentKeyFile"),
    ("tls:\n  selfSigned: false\n", "tls.secretName is required when tls.selfSigned is false"),
    ("tls:\n  secretName: corp-tls\n", "set tls.selfSigned=false to use the existing Secret"),
    ("metrics:\n  serviceMonitor:\n    enabled: true\n", "metrics.serviceMonitor.enabled needs metrics.enabled"),
    ("metrics:\n  enabled: true\n  serviceMonitor:\n    enabled: true\n",
     "needs metrics.serviceMonitor.bearerTokenSecret.name"),
])
def test_invalid_values_fail_clearly(renderer, tmp_path, values, message):
    assert message in render_error(renderer, values, tmp_path)


def test_renderer_merges_values_as_helm(renderer, tmp_path):
    """Later files win, maps merge key by key, null removes a default."""
    a = values_file(tmp_path, "image:\n  tag: '1.0'\nnodeSelector:\n  a: b\n", "a.yaml")
    b = values_file(tmp_path, "image:\n  pullPolicy: Never\nnodeSelector: null\n", "b.yaml")
    docs, _ = render(renderer, a, b)
    _, pod, c = statefulset(docs)
    assert c["image"] == "sealbox:1.0" and c["imagePullPolicy"] == "Never"
    assert "nodeSelector" not in pod


def test_rendered_config_and_certificate_start_the_real_server(renderer, tmp_path):
    """The ConfigMap's HCL and the generated certificate, with the static seal
    on, as the pod would see them (paths moved under a temp dir): the real
    server must accept them and answer over TLS with the chart's CA."""
    import http.client
    import json
    import ssl
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import harness
    docs, _ = render(renderer, values_file(tmp_path, "staticSeal:\n  enabled: true\n  secretName: s\n"
                                                     "  currentKeyId: k1\n"
                                                     "metrics:\n  enabled: true\n  unauthenticatedAccess: true\n"))
    hcl, cfg = config_of(docs, "sealbox-config")
    tls = next(d for d in find(docs, "Secret") if "tls.crt" in d["data"])["data"]
    base = tmp_path / "sealbox"
    for sub in ("tls", "seal", "data"):
        (base / sub).mkdir(parents=True)
    for k, v in tls.items():
        (base / "tls" / k).write_bytes(base64.b64decode(v))
    key_url = cfg["seal"][0]["body"]["current_key"]
    assert key_url.startswith("file:///sealbox/seal/")
    (base / "seal" / key_url.rsplit("/", 1)[1]).write_bytes(os.urandom(32))
    port = harness.free_port()
    hcl = hcl.replace("/sealbox/", str(base) + "/").replace("0.0.0.0:8200", "127.0.0.1:%d" % port)
    (base / "sealbox.hcl").write_text(hcl)
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen([harness.sealbox_bin(), "server", "-config", str(base / "sealbox.hcl")],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        ctx = ssl.create_default_context(cafile=str(base / "tls" / "ca.crt"))
        ctx.check_hostname = False  # the certificate names the service; the test dials 127.0.0.1

        def status():
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "server.log").read_text())
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
                conn.request("GET", "/v1/sys/seal-status")
                return json.loads(conn.getresponse().read())
            except OSError:
                return None

        harness.wait_until(lambda: status() is not None, 30, what="sealbox with the chart's config")
        st = status()
        assert st["type"] == "static" and st["recovery_seal"] is True and st["initialized"] is False
        # The telemetry stanzas took: Prometheus's format, without a token.
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
        conn.request("GET", "/v1/sys/metrics?format=prometheus")
        resp = conn.getresponse()
        assert resp.status == 200 and b"vault_core_unsealed" in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


class _ChartNode:
    """One pod of the HA StatefulSet as a local process: the rendered
    ConfigMap and certificate with the pod's paths moved under a temp dir,
    the pod's ports moved to free loopback ports, and the pod's environment
    (VAULT_API_ADDR, VAULT_CLUSTER_ADDR) with its DNS name as 127.0.0.1."""

    def __init__(self, harness, base, hcl, tls, seal_key, env, dns, log_path):
        self.harness, self.log_path = harness, log_path
        self.port, cport = harness.free_port(), harness.free_port()
        for sub in ("tls", "seal"):
            (base / sub).mkdir(parents=True)
        for k, v in tls.items():
            (base / "tls" / k).write_bytes(base64.b64decode(v))
        (base / "seal" / seal_key[0]).write_bytes(seal_key[1])
        hcl = hcl.replace("/sealbox/", str(base) + "/").replace('"0.0.0.0:8200"', '"127.0.0.1:%d"' % self.port)
        hcl = hcl.replace('"0.0.0.0:8201"', '"127.0.0.1:%d"' % cport)
        (base / "sealbox.hcl").write_text(hcl)
        self.api_addr = env["VAULT_API_ADDR"].replace(dns + ":8200", "127.0.0.1:%d" % self.port)
        self.cluster_addr = env["VAULT_CLUSTER_ADDR"].replace(dns + ":8201", "127.0.0.1:%d" % cport)
        self.env = dict(os.environ, VAULT_API_ADDR=self.api_addr, VAULT_CLUSTER_ADDR=self.cluster_addr)
        self.config, self.cafile, self.proc = str(base / "sealbox.hcl"), str(base / "tls" / "ca.crt"), None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.harness.sealbox_bin(), "server", "-config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)

    def call(self, method, path, body=None, token=None):
        """(status, parsed JSON or None); None when the node does not answer."""
        import http.client
        import ssl
        if self.proc.poll() is not None:
            raise RuntimeError("sealbox exited:\n" + open(self.log_path).read())
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.check_hostname = False  # the certificate names the service; the test dials 127.0.0.1
        headers = {"X-Vault-Token": token} if token else {}
        try:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)
        except (OSError, ValueError):
            return None, None

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig:
                self.proc.send_signal(sig)
            else:
                self.proc.terminate()
            self.proc.wait(timeout=20)
        if self.proc:
            self.log.close()


def test_ha_rendered_config_runs_three_real_servers(renderer, tmp_path):
    """The HA rendering, run: three real servers on a real etcd with the
    ConfigMap, certificate, static seal and per-pod environment the chart
    gives its pods. One becomes active, the standbys pass the chart's
    readiness probe, report the active's advertised addresses and forward
    writes to it, and a standby takes over when the active is killed. Each
    labels its pod on the Kubernetes API stand-in (service registration), so
    the -active Service selects the active pod and the -standby one the
    others, before and after the failover."""
    import signal
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import etcd_harness
    import harness
    from test_kubernetes import Kube
    etcd = etcd_harness.EtcdCluster(size=1)
    kube = Kube(str(tmp_path))
    nodes = []
    try:
        docs, _ = render(renderer, values_file(tmp_path, """
server:
  ha:
    enabled: true
    etcd:
      address: [%s]
      lockTimeout: 2s
      requestTimeout: 1s
staticSeal: {enabled: true, secretName: s, currentKeyId: k1}
""" % etcd.client_url(0)))
        hcl, cfg = config_of(docs, "sealbox-config")
        assert cfg["storage"][0]["body"]["ha_enabled"] is True
        sts, pod, c = statefulset(docs)
        env = {e["name"]: e.get("value") for e in c["env"]}
        tls = find(docs, "Secret", "sealbox-tls")["data"]
        key_file = cfg["seal"][0]["body"]["current_key"].rsplit("/", 1)[1]
        seal_key = (key_file, os.urandom(32))
        probe = c["readinessProbe"]["httpGet"]["path"]
        sa_env = _service_account(kube, tmp_path / "serviceaccount", "vault", pod["serviceAccountName"])
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        for i in range(sts["spec"]["replicas"]):
            nodes.append(_ChartNode(harness, tmp_path / ("pod%d" % i), hcl, tls, seal_key, env,
                                    "$(POD_NAME).sealbox-internal.vault.svc", tmp_path / ("pod%d.log" % i)))
            nodes[-1].pod_name = "sealbox-%d" % i
            kube.control("POST", "/control/pods", {"namespace": "vault", "name": nodes[-1].pod_name,
                                                   "labels": pod_labels})
            # What the downward API and the kubelet give the pod.
            nodes[-1].env.update(sa_env, VAULT_K8S_POD_NAME=nodes[-1].pod_name, VAULT_K8S_NAMESPACE="vault")
        assert len(nodes) == 3

        def selected(service):
            """The running pods the Service's selector matches."""
            selector = find(docs, "Service", service)["spec"]["selector"]
            return {n.pod_name for n in nodes if n.proc.poll() is None and selector.items() <= (
                kube.control("GET", "/control/pods/vault/" + n.pod_name)["labels"] or {}).items()}

        # As NOTES.txt says: init on pod 0, then the others start (unsealing
        # themselves with the static seal).
        nodes[0].start()
        harness.wait_until(lambda: nodes[0].call("GET", "/v1/sys/seal-status")[0] == 200, 30, what="pod 0")
        st, body = nodes[0].call("PUT", "/v1/sys/init", {"recovery_shares": 1, "recovery_threshold": 1})
        assert st == 200, body
        token = body["root_token"]
        for n in nodes[1:]:
            n.start()

        def roles():
            leaders = [n.call("GET", "/v1/sys/leader")[1] or {} for n in nodes if n.proc.poll() is None]
            return leaders if all("is_self" in l for l in leaders) and sum(l["is_self"] for l in leaders) == 1 \
                else None
        harness.wait_until(roles, 30, what="one active pod and two standbys")
        active = next(n for n in nodes if n.call("GET", "/v1/sys/leader")[1]["is_self"])
        standbys = [n for n in nodes if n is not active]
        harness.wait_until(lambda: selected("sealbox-active") == {active.pod_name} and
                           selected("sealbox-standby") == {s.pod_name for s in standbys}, 15,
                           what="the -active Service to select the active pod only")
        for n in nodes:
            # The chart's readiness probe: every unsealed pod, standbys too.
            harness.wait_until(lambda n=n: n.call("GET", probe)[0] == 200, 30, what="readiness")
        for s in standbys:
            lead = s.call("GET", "/v1/sys/leader")[1]
            assert lead["leader_address"] == active.api_addr, lead
            assert lead["leader_cluster_address"] == active.cluster_addr, lead
            assert s.call("GET", "/v1/sys/health")[0] == 429  # standby, without standbyok

        # A write on a standby is forwarded to the active; another standby reads it.
        st, body = standbys[0].call("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}},
                                    token)
        assert st == 204, body
        st, body = standbys[0].call("POST", "/v1/secret/data/app", {"data": {"v": "chart"}}, token)
        assert st == 200, body
        st, body = standbys[1].call("GET", "/v1/secret/data/app", token=token)
        assert st == 200 and body["data"]["data"] == {"v": "chart"}, body

        # Failover: kill -9 of the active; a standby takes over and holds the data.
        active.stop(signal.SIGKILL)
        nodes.remove(active)
        harness.wait_until(roles, 20, what="a standby to take over")
        st, body = nodes[0].call("GET", "/v1/secret/data/app", token=token)
        assert st == 200 and body["data"]["data"] == {"v": "chart"}, body
        new_active = next(n for n in nodes if n.call("GET", "/v1/sys/leader")[1]["is_self"])
        harness.wait_until(lambda: selected("sealbox-active") == {new_active.pod_name}, 15,
                           what="the -active Service to follow the failover")
    finally:
        for n in nodes:
            n.stop()
        kube.stop()
        etcd.cleanup()


def _service_account(kube, d, namespace, name):
    """A pod's service account directory (token, ca.crt, namespace) for a
    token the chart's Role allows to label pods, and the environment that
    points the server at it and at the stand-in."""
    d.mkdir()
    kube.sa(namespace, name)
    token = kube.token(namespace, name)
    kube.control("POST", "/control/reviewers", {"token": token, "allowed": True, "resources": ["pods"]})
    (d / "token").write_text(token)
    (d / "ca.crt").write_text(kube.ca_pem)
    (d / "namespace").write_text(namespace)
    return {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(kube.port),
            "SEALBOX_K8S_SERVICE_ACCOUNT_DIR": str(d)}
