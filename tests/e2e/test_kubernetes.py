"""Kubernetes auth end to end (issue 7): the real sealbox binary against the
Kubernetes API stand-in (tests/k8s/standin, a Go program built by CMake into
<build>/tests/k8s/k8s-standin), its own process over HTTPS with its own CA."""

import json
import os
import ssl
import subprocess
import time
import urllib.request

import pytest

import harness


def standin_path():
    """The stand-in binary: SEALBOX_K8S_STANDIN (set by ctest), else
    <build>/tests/k8s/k8s-standin next to the sealbox binary the harness uses
    (SEALBOX_BINARY / SEALBOX_BIN = <build>/server/sealbox), else under
    SEALBOX_BUILD_DIR or build/."""
    path = os.environ.get("SEALBOX_K8S_STANDIN")
    if not path:
        binary = os.environ.get("SEALBOX_BINARY") or os.environ.get("SEALBOX_BIN")
        build = (os.path.dirname(os.path.dirname(os.path.abspath(binary))) if binary else
                 os.environ.get("SEALBOX_BUILD_DIR", os.path.join(harness.ROOT, "build")))
        path = os.path.join(build, "tests", "k8s", "k8s-standin")
    if not os.access(path, os.X_OK):
        raise RuntimeError("no Kubernetes API stand-in at %s: build it (ninja builds tests/k8s/k8s-standin) "
                           "or set SEALBOX_K8S_STANDIN" % path)
    return path


class Kube:
    """The stand-in kube-apiserver (see tests/k8s/standin/main.go), started in
    directory d, where it writes its CA and certificate; with issuer_self, its
    service-account issuer is its own URL (for OIDC discovery)."""

    def __init__(self, d, issuer_self=False):
        log = os.path.join(d, "k8s-standin.log")
        args = [standin_path()] + (["-issuer-self"] if issuer_self else []) + [d]
        with open(log, "w") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            with open(log) as f:
                raise RuntimeError("the Kubernetes API stand-in did not start: " + f.read())
        info = json.loads(line)
        self.__dict__.update(info)
        self.url = "https://127.0.0.1:%d" % self.port
        self.ctx = ssl.create_default_context(cafile=self.ca)
        with open(self.ca) as f:
            self.ca_pem = f.read()

    def control(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method, data=json.dumps(body or {}).encode(),
                                     headers={"Authorization": "Bearer " + self.control_token,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.loads(r.read())

    def sa(self, ns, name):
        return self.control("POST", "/control/serviceaccounts", {"namespace": ns, "name": name})["uid"]

    def token(self, ns, name, **kw):
        return self.control("POST", "/control/token", dict(kw, namespace=ns, name=name))["token"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def env():
    s = harness.Server().start()
    s.init()
    s.unseal()
    k = Kube(s.dir)
    t = s.root_token
    assert s.raw("POST", "/v1/sys/auth/kubernetes", t, {"type": "kubernetes"})[0] == 204
    st, b = s.raw("POST", "/v1/auth/kubernetes/config", t, {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": k.reviewer_token,
        "disable_local_ca_jwt": True})
    assert st == 204, b
    assert s.raw("POST", "/v1/sys/mounts/secret", t, {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert s.raw("POST", "/v1/secret/data/app/db", t, {"data": {"password": "pw-app"}})[0] == 200
    assert s.raw("POST", "/v1/secret/data/other/db", t, {"data": {"password": "pw-other"}})[0] == 200
    assert s.raw("PUT", "/v1/sys/policy/app-read", t, {"policy": 'path "secret/data/app/*" { capabilities = ["read"] }'})[0] == 204
    st, b = s.raw("POST", "/v1/auth/kubernetes/role/app", t, {
        "bound_service_account_names": ["app-sa", "web-*"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault", "token_policies": ["app-read"], "token_ttl": "1h"})
    assert st == 204, b
    k.sa("prod", "app-sa")
    yield s, k
    k.stop()
    s.cleanup()


def login(s, role, jwt):
    return s.raw("POST", "/v1/auth/kubernetes/login", body={"role": role, "jwt": jwt})


def test_login_projected_rs256_es256_and_legacy(env):
    s, k = env
    for alg in ("RS256", "ES256"):
        st, b = login(s, "app", k.token("prod", "app-sa", alg=alg, audiences=["vault"]))
        assert st == 200, b
        a = b["auth"]
        assert a["client_token"].startswith("hvs.") and a["renewable"] is True and a["lease_duration"] == 3600
        assert a["policies"] == ["app-read", "default"] and a["token_type"] == "service" and a["orphan"] is True
        md = a["metadata"]
        assert md["role"] == "app" and md["service_account_name"] == "app-sa"
        assert md["service_account_namespace"] == "prod" and md["service_account_secret_name"] == ""
        assert md["service_account_uid"]
        st, me = s.raw("GET", "/v1/auth/token/lookup-self", a["client_token"])
        assert st == 200 and me["data"]["display_name"] == "kubernetes-prod-app-sa"
        # The token reads what its policy allows, and nothing else.
        st, d = s.raw("GET", "/v1/secret/data/app/db", a["client_token"])
        assert st == 200 and d["data"]["data"]["password"] == "pw-app"
        assert s.raw("GET", "/v1/secret/data/other/db", a["client_token"])[0] == 403
    # Legacy Secret tokens carry no aud: a role without audience accepts them.
    t = s.root_token
    assert s.raw("POST", "/v1/auth/kubernetes/role/legacy", t, {
        "bound_service_account_names": ["app-sa"], "bound_service_account_namespaces": ["prod"],
        "token_policies": ["app-read"]})[0] == 200  # warning: no audience
    st, b = login(s, "legacy", k.token("prod", "app-sa", legacy=True))
    assert st == 200, b
    assert b["auth"]["metadata"]["service_account_secret_name"].startswith("app-sa-token-")


def test_error_map(env):
    s, k = env
    good = k.token("prod", "app-sa", audiences=["vault"])
    assert login(s, "", good) == (400, {"errors": ["missing role"]})
    assert login(s, "app", "") == (400, {"errors": ["missing jwt"]})
    assert login(s, "nope", good) == (400, {"errors": ['invalid role name "nope"']})
    st, b = login(s, "app", "not-a-jwt")
    assert st == 403 and "client_token" not in json.dumps(b)
    k.sa("prod", "intruder")
    assert login(s, "app", k.token("prod", "intruder", audiences=["vault"])) == (
        403, {"errors": ["service account name not authorized"]})
    k.sa("dev", "app-sa")
    assert login(s, "app", k.token("dev", "app-sa", audiences=["vault"])) == (
        403, {"errors": ["namespace not authorized"]})
    st, b = login(s, "app", k.token("prod", "app-sa", audiences=["other"]))
    assert st == 403 and "aud" in b["errors"][0]
    st, b = login(s, "app", k.token("prod", "app-sa", audiences=["vault"], ttl=-120))
    assert st == 403 and "expired" in b["errors"][0]
    # A token signed by someone else: TokenReview says unauthenticated.
    forged = good.rsplit(".", 1)[0] + "." + good.rsplit(".", 1)[1][::-1]
    st, b = login(s, "app", forged)
    assert st == 403 and "client_token" not in json.dumps(b)
    # Glob in bound names.
    k.sa("prod", "web-frontend")
    assert login(s, "app", k.token("prod", "web-frontend", audiences=["vault"]))[0] == 200


def test_sa_recreated_uid_alias_rejects_old_token(env):
    s, k = env
    k.sa("prod", "web-api")
    old = k.token("prod", "web-api", audiences=["vault"])
    assert login(s, "app", old)[0] == 200
    k.control("DELETE", "/control/serviceaccounts/prod/web-api")
    # A login's errors are bare, as Vault's (no multierror on the login path).
    assert login(s, "app", old) == (403, {"errors": ["permission denied"]})
    k.sa("prod", "web-api")  # same name, new UID
    assert login(s, "app", old)[0] == 403
    assert login(s, "app", k.token("prod", "web-api", audiences=["vault"]))[0] == 200


def renew_self(s, token):
    return s.raw("POST", "/v1/auth/token/renew-self", token, {"increment": "30m"})


def test_renewal_rechecks_the_binding(env):
    """CVE-2026-39388 pattern: a renewal re-checks what the login checked."""
    s, k = env
    t = s.root_token
    k.sa("prod", "web-renew")
    st, b = login(s, "app", k.token("prod", "web-renew", audiences=["vault"]))
    assert st == 200, b
    token = b["auth"]["client_token"]
    st, b = renew_self(s, token)
    assert st == 200 and b["auth"]["lease_duration"] == 1800, b

    # The service account deleted and recreated under the same name: another identity.
    k.control("DELETE", "/control/serviceaccounts/prod/web-renew")
    k.sa("prod", "web-renew")
    st, b = renew_self(s, token)
    assert st == 403 and "recreated" in b["errors"][0], b
    # Renewal by accessor (an operator's path) is refused the same way.
    st, look = s.raw("GET", "/v1/auth/token/lookup-self", token)
    assert st == 200
    st, b = s.raw("POST", "/v1/auth/token/renew-accessor", t, {"accessor": look["data"]["accessor"]})
    assert st == 403, b

    # Deleted outright: refused.
    k.control("DELETE", "/control/serviceaccounts/prod/web-renew")
    assert renew_self(s, token)[0] == 403

    # Unbound from the role, the role's policies changed, the role gone.
    k.sa("prod", "app-sa2")
    assert s.raw("POST", "/v1/auth/kubernetes/role/renew-role", t, {
        "bound_service_account_names": ["app-sa2"], "bound_service_account_namespaces": ["prod"],
        "token_policies": ["app-read"], "token_ttl": "1h"})[0] in (200, 204)
    tokens = []
    for _ in range(3):
        st, b = login(s, "renew-role", k.token("prod", "app-sa2"))
        assert st == 200, b
        tokens.append(b["auth"]["client_token"])
    assert all(renew_self(s, x)[0] == 200 for x in tokens)
    assert s.raw("POST", "/v1/auth/kubernetes/role/renew-role", t, {
        "bound_service_account_names": ["someone-else"], "bound_service_account_namespaces": ["prod"],
        "token_policies": ["app-read"], "token_ttl": "1h"})[0] in (200, 204)
    st, b = renew_self(s, tokens[0])
    assert st == 403 and "no longer bound" in b["errors"][0], b
    assert s.raw("POST", "/v1/auth/kubernetes/role/renew-role", t, {
        "bound_service_account_names": ["app-sa2"], "bound_service_account_namespaces": ["prod"],
        "token_policies": ["app-read", "extra"], "token_ttl": "1h"})[0] in (200, 204)
    st, b = renew_self(s, tokens[1])
    assert st == 400 and "policies have changed" in b["errors"][0], b
    assert s.raw("DELETE", "/v1/auth/kubernetes/role/renew-role", t)[0] == 204
    st, b = renew_self(s, tokens[2])
    assert st == 400 and "no longer exists" in b["errors"][0], b
    # A refused renewal does not revoke: the token keeps its remaining TTL.
    assert s.raw("GET", "/v1/auth/token/lookup-self", tokens[2])[0] == 200


def test_namespace_selector(env):
    s, k = env
    t = s.root_token
    k.control("POST", "/control/namespaces", {"name": "team-a", "labels": {"team": "a", "env": "prod"}})
    k.control("POST", "/control/namespaces", {"name": "team-b", "labels": {"team": "b"}})
    k.sa("team-a", "worker")
    k.sa("team-b", "worker")
    st, b = s.raw("POST", "/v1/auth/kubernetes/role/selector", t, {
        "bound_service_account_names": ["worker"], "audience": "vault",
        "bound_service_account_namespace_selector": json.dumps({"matchLabels": {"team": "a"},
                                                                "matchExpressions": [{"key": "env", "operator": "In",
                                                                                      "values": ["prod"]}]})})
    assert st == 204, b
    assert login(s, "selector", k.token("team-a", "worker", audiences=["vault"]))[0] == 200
    assert login(s, "selector", k.token("team-b", "worker", audiences=["vault"])) == (
        403, {"errors": ["namespace not authorized"]})
    # The same selector in YAML, as Vault also accepts it.
    yaml_selector = ("matchLabels:\n  team: b\nmatchExpressions:\n  - key: env\n    operator: DoesNotExist\n")
    st, b = s.raw("POST", "/v1/auth/kubernetes/role/selector-yaml", t, {
        "bound_service_account_names": ["worker"], "audience": "vault",
        "bound_service_account_namespace_selector": yaml_selector})
    assert st == 204, b
    assert login(s, "selector-yaml", k.token("team-b", "worker", audiences=["vault"]))[0] == 200
    assert login(s, "selector-yaml", k.token("team-a", "worker", audiences=["vault"]))[0] == 403
    st, b = s.raw("POST", "/v1/auth/kubernetes/role/selector-bad", t, {
        "bound_service_account_names": ["worker"], "audience": "vault",
        "bound_service_account_namespace_selector": "matchLabels: [unclosed"})
    assert st == 400 and "bound_service_account_namespace_selector" in b["errors"][0]


def test_reviewer_rejected_and_unreachable(env):
    s, k = env
    t = s.root_token
    st, b = s.raw("POST", "/v1/sys/auth/k8s-bad", t, {"type": "kubernetes"})
    assert st == 204, b
    assert s.raw("POST", "/v1/auth/k8s-bad/config", t, {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": "not-a-reviewer",
        "disable_local_ca_jwt": True})[0] == 204
    assert s.raw("POST", "/v1/auth/k8s-bad/role/app", t, {
        "bound_service_account_names": ["app-sa"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault"})[0] == 204
    jwt = k.token("prod", "app-sa", audiences=["vault"])
    st, b = s.raw("POST", "/v1/auth/k8s-bad/login", body={"role": "app", "jwt": jwt})
    assert st == 403 and "permission denied" in b["errors"][0]
    assert "401" in s.log()  # the cause is in the server log, not in the answer
    # An API server nobody answers on: 403 within a bounded time.
    port = harness.free_port()
    assert s.raw("POST", "/v1/auth/k8s-bad/config", t, {
        "kubernetes_host": "https://127.0.0.1:%d" % port, "kubernetes_ca_cert": k.ca_pem,
        "token_reviewer_jwt": k.reviewer_token, "disable_local_ca_jwt": True})[0] == 204
    t0 = time.time()
    st, b = s.raw("POST", "/v1/auth/k8s-bad/login", body={"role": "app", "jwt": jwt})
    assert st == 403 and time.time() - t0 < 10
    # config read never returns the reviewer JWT.
    st, b = s.raw("GET", "/v1/auth/k8s-bad/config", t)
    assert st == 200 and b["data"]["token_reviewer_jwt_set"] is True and "token_reviewer_jwt" not in b["data"]


def test_bound_cidrs(env):
    s, k = env
    t = s.root_token
    assert s.raw("POST", "/v1/auth/kubernetes/role/cidr", t, {
        "bound_service_account_names": ["app-sa"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault", "token_bound_cidrs": ["10.0.0.0/8"]})[0] == 204
    assert login(s, "cidr", k.token("prod", "app-sa", audiences=["vault"]))[0] == 403
    assert s.raw("POST", "/v1/auth/kubernetes/role/cidr", t, {
        "bound_service_account_names": ["app-sa"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault", "token_bound_cidrs": ["127.0.0.0/8"]})[0] == 204
    st, b = login(s, "cidr", k.token("prod", "app-sa", audiences=["vault"]))
    assert st == 200, (b, s.log()[-1500:])


def test_hvac_kubernetes(env):
    s, k = env
    c = s.hvac()
    c.sys.enable_auth_method("kubernetes", path="k8s-hvac")
    c.auth.kubernetes.configure(kubernetes_host=k.url, kubernetes_ca_cert=k.ca_pem,
                                token_reviewer_jwt=k.reviewer_token, mount_point="k8s-hvac")
    c.auth.kubernetes.create_role("ESO", bound_service_account_names=["app-sa"],
                                  bound_service_account_namespaces=["prod"], policies=["app-read"],
                                  mount_point="k8s-hvac")
    role = c.auth.kubernetes.read_role("eso", mount_point="k8s-hvac")
    assert role["bound_service_account_names"] == ["app-sa"] and role["token_policies"] == ["app-read"]
    assert "eso" in c.auth.kubernetes.list_roles(mount_point="k8s-hvac")["keys"]
    anon = s.hvac(token="")
    # hvac 0.11.2 cannot set a role audience: the token keeps the API audience.
    resp = anon.auth.kubernetes.login("eso", k.token("prod", "app-sa"), mount_point="k8s-hvac")
    assert resp["auth"]["client_token"].startswith("hvs.")
    assert anon.token == resp["auth"]["client_token"]
    st, d = s.raw("GET", "/v1/secret/data/app/db", anon.token)
    assert st == 200


ALIAS_PREFIX = "vault.hashicorp.com/alias-metadata-"


def k8s_mount(s, k, path, annotations_flag, reviewer=None):
    """A Kubernetes auth mount at auth/<path> with use_annotations_as_alias_metadata
    set as given; returns its accessor."""
    t = s.root_token
    assert s.raw("POST", "/v1/sys/auth/" + path, t, {"type": "kubernetes"})[0] == 204
    st, b = s.raw("POST", "/v1/auth/%s/config" % path, t, {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem,
        "token_reviewer_jwt": reviewer or k.reviewer_token, "disable_local_ca_jwt": True,
        "use_annotations_as_alias_metadata": annotations_flag})
    assert st == 204, b
    st, b = s.raw("GET", "/v1/sys/auth", t)
    assert st == 200, b
    return b["data"][path + "/"]["accessor"]


def test_annotations_as_alias_metadata_in_templated_policies(env):
    """use_annotations_as_alias_metadata: the ServiceAccount's
    vault.hashicorp.com/alias-metadata-* annotations become alias metadata,
    which {{identity.entity.aliases.<accessor>.metadata.<key>}} policy paths
    resolve against."""
    s, k = env
    t = s.root_token
    k.control("POST", "/control/serviceaccounts", {"namespace": "prod", "name": "blue-app", "annotations": {
        ALIAS_PREFIX + "team": "blue", "example.com/unrelated": "x"}})
    for team in ("blue", "red"):
        assert s.raw("POST", "/v1/secret/data/%s/x" % team, t, {"data": {"team": team}})[0] == 200
    role = {"bound_service_account_names": ["blue-app"], "bound_service_account_namespaces": ["prod"],
            "audience": "vault", "token_ttl": "1h"}

    for mount, flag in (("k8s-meta", True), ("k8s-nometa", False)):
        acc = k8s_mount(s, k, mount, flag)
        policy = ('path "secret/data/{{identity.entity.aliases.%s.metadata.team}}/*" { capabilities = ["read"] }\n'
                  'path "secret/data/sa/{{ identity.entity.aliases.%s.metadata.service_account_name }}" '
                  '{ capabilities = ["read"] }\n'
                  'path "secret/data/shared/*" { capabilities = ["read"] }\n'
                  'path "auth/token/create" { capabilities = ["update"] }\n' % (acc, acc))
        assert s.raw("PUT", "/v1/sys/policies/acl/team-" + mount, t, {"policy": policy})[0] == 204
        assert s.raw("POST", "/v1/auth/%s/role/team" % mount, t, dict(role, token_policies=["team-" + mount]))[0] == 204

    assert s.raw("POST", "/v1/secret/data/sa/blue-app", t, {"data": {"v": 1}})[0] == 200
    assert s.raw("POST", "/v1/secret/data/shared/y", t, {"data": {"v": 1}})[0] == 200
    jwt = k.token("prod", "blue-app", audiences=["vault"])

    # Flag on: the templated path resolves to secret/data/blue/*.
    st, b = s.raw("POST", "/v1/auth/k8s-meta/login", body={"role": "team", "jwt": jwt})
    assert st == 200, b
    tok = b["auth"]["client_token"]
    # Token metadata is unchanged: alias metadata is not token metadata.
    assert "team" not in b["auth"]["metadata"]
    st, d = s.raw("GET", "/v1/secret/data/blue/x", tok)
    assert st == 200 and d["data"]["data"]["team"] == "blue", d
    assert s.raw("GET", "/v1/secret/data/red/x", tok)[0] == 403
    assert s.raw("GET", "/v1/secret/data/sa/blue-app", tok)[0] == 200  # a default alias-metadata key
    assert s.raw("GET", "/v1/secret/data/shared/y", tok)[0] == 200
    # sys/capabilities-self sees the same rendered ACL.
    st, c = s.raw("POST", "/v1/sys/capabilities-self", tok, {"paths": ["secret/data/blue/x", "secret/data/red/x"]})
    assert st == 200 and c["secret/data/blue/x"] == ["read"] and c["secret/data/red/x"] == ["deny"], c
    # lookup-self keeps Vault's shape: no alias data.
    st, me = s.raw("GET", "/v1/auth/token/lookup-self", tok)
    assert st == 200 and "\"alias" not in json.dumps(me["data"]) and me["data"]["entity_id"], me  # the entity, not the alias
    # A child token shares its parent's identity (Vault: the entity).
    st, child = s.raw("POST", "/v1/auth/token/create", tok, {"policies": ["team-k8s-meta"]})
    assert st == 200, child
    assert s.raw("GET", "/v1/secret/data/blue/x", child["auth"]["client_token"])[0] == 200
    assert s.raw("GET", "/v1/secret/data/red/x", child["auth"]["client_token"])[0] == 403

    # Flag off: no annotations, so the team path does not resolve and is
    # skipped; the rest of the policy still applies.
    st, b = s.raw("POST", "/v1/auth/k8s-nometa/login", body={"role": "team", "jwt": jwt})
    assert st == 200, b
    tok = b["auth"]["client_token"]
    assert s.raw("GET", "/v1/secret/data/blue/x", tok)[0] == 403
    assert s.raw("GET", "/v1/secret/data/red/x", tok)[0] == 403
    assert s.raw("GET", "/v1/secret/data/sa/blue-app", tok)[0] == 200
    assert s.raw("GET", "/v1/secret/data/shared/y", tok)[0] == 200

    # A value that would widen the path ("*") never renders: the path is skipped.
    k.control("POST", "/control/serviceaccounts", {"namespace": "prod", "name": "blue-app", "annotations": {
        ALIAS_PREFIX + "team": "*"}})
    st, b = s.raw("POST", "/v1/auth/k8s-meta/login", body={"role": "team", "jwt": k.token(
        "prod", "blue-app", audiences=["vault"])})
    assert st == 200, b
    tok = b["auth"]["client_token"]
    assert s.raw("GET", "/v1/secret/data/blue/x", tok)[0] == 403
    assert s.raw("GET", "/v1/secret/data/red/x", tok)[0] == 403
    assert s.raw("GET", "/v1/secret/data/shared/y", tok)[0] == 200


def test_annotations_as_alias_metadata_failures(env):
    """Vault's (vault-plugin-auth-kubernetes) answers: a reserved key is 400
    with its message; a ServiceAccount GET refused by RBAC is a 500 whose
    cause is only logged; a value over 512 characters is refused. None
    returns a token."""
    s, k = env
    t = s.root_token
    k8s_mount(s, k, "k8s-ann", True)
    assert s.raw("POST", "/v1/auth/k8s-ann/role/r", t, {
        "bound_service_account_names": ["ann-*"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault"})[0] == 204

    def login_as(name, annotations, mount="k8s-ann"):
        k.control("POST", "/control/serviceaccounts", {"namespace": "prod", "name": name,
                                                       "annotations": annotations})
        return s.raw("POST", "/v1/auth/%s/login" % mount, body={"role": "r", "jwt": k.token(
            "prod", name, audiences=["vault"])})

    st, b = login_as("ann-reserved", {ALIAS_PREFIX + "service_account_name": "evil", ALIAS_PREFIX + "ok": "1"})
    assert (st, b) == (400, {"errors": [
        "entity alias metadata keys for only internal use found from the client token's associated service "
        "account annotations: keys=[\"service_account_name\"]"]}), b
    st, b = login_as("ann-long", {ALIAS_PREFIX + "big": "v" * 513})
    assert st == 400 and "512" in b["errors"][0] and "auth" not in b, b
    st, b = login_as("ann-fine", {ALIAS_PREFIX + "big": "v" * 512})
    assert st == 200, b

    # A reviewer bound to system:auth-delegator only: TokenReview works, the
    # ServiceAccount GET is 403 (RBAC), and the login fails as in Vault (500).
    k.control("POST", "/control/reviewers", {"token": "delegator-only-reviewer", "resources": ["tokenreviews"]})
    k8s_mount(s, k, "k8s-ann-rbac", True, reviewer="delegator-only-reviewer")
    assert s.raw("POST", "/v1/auth/k8s-ann-rbac/role/r", t, {
        "bound_service_account_names": ["ann-*"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault"})[0] == 204
    st, b = login_as("ann-fine", {}, mount="k8s-ann-rbac")
    assert st == 500 and "auth" not in b and "client_token" not in json.dumps(b), b
    assert "failed to get service account (code 403" in s.log()
    # The same reviewer with the flag off logs in: only the GET needed the grant.
    assert s.raw("POST", "/v1/auth/k8s-ann-rbac/config", t, {
        "kubernetes_host": k.url, "kubernetes_ca_cert": k.ca_pem, "token_reviewer_jwt": "delegator-only-reviewer",
        "disable_local_ca_jwt": True})[0] == 204
    assert login_as("ann-fine", {}, mount="k8s-ann-rbac")[0] == 200


def test_stand_in_token_request_json(env):
    """TokenRequest as kubectl sends it (JSON); client-go's protobuf form is
    exercised by External Secrets Operator's serviceAccountRef
    (tests/compat/test_eso.py)."""
    s, k = env

    def token_request(name, spec):
        req = urllib.request.Request(k.url + "/api/v1/namespaces/prod/serviceaccounts/%s/token" % name,
                                     method="POST", data=json.dumps({"spec": spec}).encode(),
                                     headers={"Authorization": "Bearer " + k.reviewer_token,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=k.ctx, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    st, b = token_request("app-sa", {"audiences": ["vault"], "expirationSeconds": 600})
    assert st == 201 and b["kind"] == "TokenRequest", b
    assert b["spec"] == {"audiences": ["vault"], "expirationSeconds": 600}
    st, out = login(s, "app", b["status"]["token"])
    assert st == 200, out
    # The API audience by default: the role requires "vault".
    st, b = token_request("app-sa", {})
    assert st == 201 and b["spec"]["expirationSeconds"] == 3600
    assert login(s, "app", b["status"]["token"])[0] == 403
    assert token_request("app-sa", {"expirationSeconds": 599})[0] == 400
    st, b = token_request("nobody", {})
    assert st == 404 and b["message"] == 'serviceaccounts "nobody" not found'
