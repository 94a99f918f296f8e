"""JWT/OIDC auth end to end (issue 25): the real sealbox binary verifying
service-account tokens of the Kubernetes API stand-in (tests/k8s/standin) as
their issuer — by its PEM keys, its JWKS URL and its OIDC discovery document,
over HTTPS with its CA — without any TokenReview."""

import base64
import hashlib
import hmac
import json

import pytest

import harness
from test_kubernetes import Kube

SUBJECT = "system:serviceaccount:prod:app-sa"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def env():
    s = harness.Server().start()
    s.init()
    s.unseal()
    k = Kube(s.dir, issuer_self=True)
    k.sa("prod", "app-sa")
    k.sa("prod", "intruder")
    assert s.root("PUT", "/v1/sys/policy/app-read", {"policy": 'path "secret/*" { capabilities = ["read"] }'})[0] == 204
    sources = {
        "jwt-pem": {"jwt_validation_pubkeys": [k.rsa_public_pem, k.ec_public_pem], "bound_issuer": k.issuer},
        "jwt-jwks": {"jwks_url": k.url + "/openid/v1/jwks", "jwks_ca_pem": k.ca_pem},
        "jwt-oidc": {"oidc_discovery_url": k.url, "oidc_discovery_ca_pem": k.ca_pem, "bound_issuer": k.issuer},
    }
    for mount, cfg in sources.items():
        assert s.root("POST", "/v1/sys/auth/" + mount, {"type": "jwt"})[0] == 204
        st, b = s.root("POST", "/v1/auth/%s/config" % mount, cfg)
        assert st == 204, b
        add_role(s, mount, "app")
    yield s, k
    k.stop()
    s.cleanup()


def add_role(s, mount, name, **extra):
    role = {"role_type": "jwt", "user_claim": "sub", "bound_audiences": ["vault"], "bound_subject": SUBJECT,
            "claim_mappings": {"/kubernetes.io/namespace": "namespace", "/kubernetes.io/pod/name": "pod"},
            "token_policies": ["app-read"], "token_ttl": "1h"}
    role.update(extra)
    st, b = s.root("POST", "/v1/auth/%s/role/%s" % (mount, name), role)
    assert st in (200, 204), b


def login(s, mount, role, jwt):
    return s.raw("POST", "/v1/auth/%s/login" % mount, body={"role": role, "jwt": jwt})


def refused(s, mount, role, jwt, message):
    st, b = login(s, mount, role, jwt)
    assert (st, b) == (400, {"errors": [message]})
    # The token itself never comes back, nor its payload.
    if jwt:
        assert max(jwt.split("."), key=len) not in json.dumps(b)


def test_good_login_with_pubkeys_jwks_and_oidc_discovery(env):
    s, k = env
    for mount in ("jwt-pem", "jwt-jwks", "jwt-oidc"):
        for alg in ("RS256", "ES256"):
            st, b = login(s, mount, "app", k.token("prod", "app-sa", alg=alg, audiences=["vault"]))
            assert st == 200, (mount, alg, b)
            a = b["auth"]
            assert a["policies"] == ["app-read", "default"] and a["lease_duration"] == 3600
            assert a["metadata"] == {"role": "app", "namespace": "prod", "pod": "app-sa-pod"}
            assert a["entity_id"]
            st, me = s.raw("GET", "/v1/auth/token/lookup-self", a["client_token"])
            assert st == 200 and me["data"]["path"] == "auth/%s/login" % mount
            assert me["data"]["meta"]["namespace"] == "prod"
    # The entity's alias is the user claim, on each mount.
    st, e = s.root("GET", "/v1/identity/entity/id/" + a["entity_id"])
    assert st == 200 and [al["name"] for al in e["data"]["aliases"]] == [SUBJECT]


def test_config_and_role_read_back_as_vault(env):
    s, k = env
    st, b = s.root("GET", "/v1/auth/jwt-oidc/config")
    assert st == 200
    assert b["data"] == {
        "bound_issuer": k.issuer, "default_role": "", "jwks_ca_pem": "", "jwks_url": "", "jwt_supported_algs": [],
        "jwt_validation_pubkeys": [], "namespace_in_state": True, "oidc_client_id": "",
        "oidc_discovery_ca_pem": k.ca_pem, "oidc_discovery_url": k.url, "oidc_response_mode": "",
        "oidc_response_types": [], "override_allowed_server_names": [], "provider_config": {}, "status": "valid"}
    st, b = s.root("GET", "/v1/auth/jwt-pem/role/app")
    assert st == 200
    d = b["data"]
    assert d["role_type"] == "jwt" and d["user_claim"] == "sub" and d["bound_subject"] == SUBJECT
    assert d["bound_audiences"] == ["vault"] and d["bound_claims_type"] == "string" and d["bound_claims"] is None
    assert d["clock_skew_leeway"] == 0 and d["expiration_leeway"] == 0 and d["callback_mode"] == "client"
    assert d["token_policies"] == ["app-read"] and d["token_ttl"] == 3600
    st, b = s.raw("LIST", "/v1/auth/jwt-pem/role", s.root_token)
    assert st == 200 and b["data"]["keys"] == ["app"]


def test_config_refusals(env):
    s, k = env
    assert s.root("POST", "/v1/sys/auth/jwt-bad", {"type": "jwt"})[0] == 204
    cases = [
        ({"jwks_url": k.url + "/openid/v1/jwks", "jwt_validation_pubkeys": [k.rsa_public_pem]},
         "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set"),
        ({}, "exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set"),
        # Fetched now, as Vault does: untrusted CA, a wrong issuer, a page that is no JWKS.
        ({"jwks_url": k.url + "/openid/v1/jwks"}, "error checking jwks URL"),
        ({"jwks_url": k.url + "/nothing", "jwks_ca_pem": k.ca_pem}, "error checking jwks URL"),
        ({"oidc_discovery_url": k.url + "/", "oidc_discovery_ca_pem": k.ca_pem},
         'error checking oidc discovery URL: issuer did not match the returned issuer, expected "%s/" got "%s"'
         % (k.url, k.url)),
        ({"jwt_validation_pubkeys": ["not a key"]},
         "error parsing public key: data does not contain any valid public keys"),
        ({"jwt_validation_pubkeys": [k.rsa_public_pem], "jwt_supported_algs": ["HS256"]},
         'invalid jwt_supported_algs: unsupported signing algorithm "HS256"'),
    ]
    for cfg, message in cases:
        assert s.root("POST", "/v1/auth/jwt-bad/config", cfg) == (400, {"errors": [message]}), cfg
    assert s.root("GET", "/v1/auth/jwt-bad/config")[0] == 404
    st, b = s.root("POST", "/v1/auth/jwt-bad/role/r", {"role_type": "jwt", "user_claim": "sub"})
    assert (st, b) == (400, {"errors": ["must have at least one bound constraint when creating/updating a role"]})
    st, b = s.root("POST", "/v1/auth/jwt-bad/role/r", {"bound_subject": "x", "user_claim": "sub"})
    assert (st, b) == (400, {"errors": ["'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified."]})


def test_login_refusals(env):
    s, k = env
    good = k.token("prod", "app-sa", audiences=["vault"])
    header, payload, sig = good.split(".")
    claims = json.loads(unb64(payload))
    bad_sig = {"jwt-pem": "no known key successfully validated the token signature",
               "jwt-jwks": "failed to verify id token signature"}
    prefix = "error validating token: error verifying token signature: "
    expected_algs = '["RS256" "RS384" "RS512" "ES256" "ES384" "ES512" "PS256" "PS384" "PS512" "EdDSA"]'
    for mount, why in bad_sig.items():
        sig_error = prefix + why
        # Unsigned (alg "none"), and key confusion: HS256 with the RSA public
        # key as the HMAC secret. OpenBao's words differ by key source.
        none = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + payload + "."
        hs_head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        mac = hmac.new(k.rsa_public_pem.encode(), (hs_head + "." + payload).encode(), hashlib.sha256).digest()
        for alg, token in (("none", none), ("HS256", hs_head + "." + payload + "." + b64(mac))):
            message = sig_error if mount == "jwt-pem" else (
                prefix + 'oidc: malformed jwt: unexpected signature algorithm "%s"; expected %s' % (alg, expected_algs))
            refused(s, mount, "app", token, message)
        # A payload changed under a good signature.
        forged = b64(json.dumps(dict(claims, sub="system:serviceaccount:prod:admin")).encode())
        refused(s, mount, "app", header + "." + forged + "." + sig, sig_error)
    mount = "jwt-oidc"
    refused(s, mount, "app", k.token("prod", "app-sa", audiences=["other"]),
            "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience")
    # Expired 200 s ago: beyond the 60 s clock skew leeway; 30 s ago is within it.
    refused(s, mount, "app", k.token("prod", "app-sa", audiences=["vault"], ttl=-200),
            "error validating token: invalid expiration time (exp) claim: token is expired")
    assert login(s, mount, "app", k.token("prod", "app-sa", audiences=["vault"], ttl=-30))[0] == 200
    refused(s, mount, "app", k.token("prod", "intruder", audiences=["vault"]),
            "error validating token: invalid subject (sub) claim")
    add_role(s, mount, "teams", bound_subject="", bound_claims_type="glob",
             bound_claims={"/kubernetes.io/namespace": ["team-*", "*-staging"]})
    refused(s, mount, "teams", good,
            'error validating claims: claim "/kubernetes.io/namespace" does not match any associated bound claim values')
    add_role(s, mount, "prods", bound_subject="", bound_claims_type="glob",
             bound_claims={"/kubernetes.io/namespace": ["team-*", "pr*d"]})
    assert login(s, mount, "prods", good)[0] == 200
    refused(s, mount, "nope", good, 'role "nope" could not be found')
    add_role(s, mount, "grouped", groups_claim="groups")
    refused(s, mount, "grouped", good, 'failed to fetch groups: "groups" claim not found in token')
    refused(s, mount, "", good, "missing role")
    refused(s, mount, "app", "", "missing token")


def test_key_rotation_is_fetched(env):
    s, k = env
    assert s.root("POST", "/v1/sys/auth/jwt-rot", {"type": "jwt"})[0] == 204
    assert s.root("POST", "/v1/auth/jwt-rot/config", {"oidc_discovery_url": k.url,
                                                       "oidc_discovery_ca_pem": k.ca_pem})[0] == 204
    add_role(s, "jwt-rot", "app")
    assert login(s, "jwt-rot", "app", k.token("prod", "app-sa", audiences=["vault"]))[0] == 200
    before = k.control("GET", "/control/stats")["jwks_fetches"]
    k.control("POST", "/control/rotate")
    st, b = login(s, "jwt-rot", "app", k.token("prod", "app-sa", audiences=["vault"]))
    assert st == 200, b
    assert k.control("GET", "/control/stats")["jwks_fetches"] == before + 1
    # The new keys are cached: the next login fetches nothing.
    assert login(s, "jwt-rot", "app", k.token("prod", "app-sa", audiences=["vault"]))[0] == 200
    assert k.control("GET", "/control/stats")["jwks_fetches"] == before + 1


def test_unknown_kid_refetch_is_bounded(env):
    s, k = env
    assert s.root("POST", "/v1/sys/auth/jwt-stray", {"type": "jwt"})[0] == 204
    assert s.root("POST", "/v1/auth/jwt-stray/config", {"jwks_url": k.url + "/openid/v1/jwks",
                                                         "jwks_ca_pem": k.ca_pem})[0] == 204
    add_role(s, "jwt-stray", "app")
    before = k.control("GET", "/control/stats")["jwks_fetches"]
    for _ in range(8):
        refused(s, "jwt-stray", "app", k.token("prod", "app-sa", audiences=["vault"], unpublished=True),
                "error validating token: error verifying token signature: failed to verify id token signature")
    assert k.control("GET", "/control/stats")["jwks_fetches"] == before + 1
    assert login(s, "jwt-stray", "app", k.token("prod", "app-sa", audiences=["vault"]))[0] == 200


def test_hvac_jwt_login(env):
    s, k = env
    client = s.hvac(token="")
    r = client.auth.jwt.jwt_login(role="app", jwt=k.token("prod", "app-sa", audiences=["vault"]), path="jwt-jwks")
    assert r["auth"]["client_token"] and r["auth"]["metadata"]["role"] == "app"
    assert client.token == r["auth"]["client_token"]
    assert client.lookup_token()["data"]["policies"] == ["app-read", "default"]


def test_oidc_type_default_role_and_renewal_follow_the_role(env):
    s, k = env
    # Mounted as "oidc": the same method.
    assert s.root("POST", "/v1/sys/auth/jwt-def", {"type": "oidc"})[0] == 204
    # The EC key: the RSA one may have been rotated by another test.
    assert s.root("POST", "/v1/auth/jwt-def/config", {"jwt_validation_pubkeys": [k.ec_public_pem],
                                                       "default_role": "App"})[0] == 204
    add_role(s, "jwt-def", "app")
    token = k.token("prod", "app-sa", alg="ES256", audiences=["vault"])
    st, b = s.raw("POST", "/v1/auth/jwt-def/login", body={"jwt": token})
    assert st == 200, b
    tok = b["auth"]["client_token"]
    assert s.raw("POST", "/v1/auth/token/renew-self", tok, {})[0] == 200
    assert s.root("DELETE", "/v1/auth/jwt-def/role/app")[0] == 204
    st, b = s.raw("POST", "/v1/auth/token/renew-self", tok, {})
    assert st == 400 and b["errors"] == ["role app does not exist during renewal"]
    # Malformed tokens answer go-jose's words, never the token.
    refused(s, "jwt-jwks", "app", "not-a-jwt", "error validating token: error verifying token signature: "
            "oidc: malformed jwt: go-jose/go-jose: compact JWS format must have three parts")
