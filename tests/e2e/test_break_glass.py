"""Break-glass: a quorum of key shares issues a new root token
(sys/generate-root, Vault 1.10+'s OTP encoding) or replaces the shares
(sys/rekey with verification; sys/rekey-recovery-key under the static seal).
Driven over raw HTTP, with the sealbox CLI, and with OpenBao's `bao` CLI;
every step audited with the key shares HMAC'd (the harness also checks that
no share, OTP or token reaches the log or the audit file in clear)."""
import base64
import json
import os
import subprocess
import sys

import pytest

import harness
from harness import Server

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import bao_bin  # noqa: E402

ATTEMPT, UPDATE = "/v1/sys/generate-root/attempt", "/v1/sys/generate-root/update"
# The token-free endpoints are off by default (as OpenBao 2.5+); these tests turn them on.
UNAUTHED_ON = "disable_unauthed_generate_root_endpoints = false\n  disable_unauthed_rekey_endpoints = false\n"


def decode(encoded, otp):
    raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
    return bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()


@pytest.fixture
def srv():
    s = Server(listener_extra=UNAUTHED_ON).start()
    s.init(3, 2)
    s.unseal(s.keys[:2])
    s.audit_path = os.path.join(s.dir, "audit.log")
    st, body = s.root("PUT", "/v1/sys/audit/file", body={"type": "file", "options": {"file_path": s.audit_path}})
    assert st == 204, body
    yield s
    s.cleanup()


def start(s, body=None):
    st, att = s.raw("PUT", ATTEMPT, body=body or {})
    assert st == 200, att
    return att


def generate_root(s, keys):
    att = start(s)
    body = None
    for k in keys:
        st, body = s.raw("PUT", UPDATE, body={"key": k, "nonce": att["nonce"]})
        assert st == 200, body
    assert body["complete"] is True, body
    return decode(body["encoded_token"], att["otp"])


def test_generate_root_end_to_end(srv):
    st, before = srv.raw("GET", ATTEMPT)
    assert st == 200 and before == {"nonce": "", "started": False, "progress": 0, "required": 2, "complete": False,
                                    "encoded_token": "", "encoded_root_token": "", "pgp_fingerprint": "",
                                    "otp": "", "otp_length": 28}
    att = start(srv)
    assert att["started"] is True and len(att["otp"]) == 28 and att["nonce"]
    st, status = srv.raw("GET", ATTEMPT)
    assert status["started"] is True and status["nonce"] == att["nonce"] and status["otp"] == ""
    st, one = srv.raw("PUT", UPDATE, body={"key": srv.keys[0], "nonce": att["nonce"]})
    assert st == 200 and one["progress"] == 1 and one["complete"] is False and one["encoded_token"] == ""
    st, again = srv.raw("PUT", UPDATE, body={"key": srv.keys_b64[0], "nonce": att["nonce"]})
    assert st == 400 and "already been provided" in again["errors"][0]
    st, done = srv.raw("PUT", UPDATE, body={"key": srv.keys_b64[1], "nonce": att["nonce"]})
    assert st == 200 and done["complete"] is True and done["progress"] == 2
    assert done["encoded_token"] == done["encoded_root_token"] and "=" not in done["encoded_token"]
    token = decode(done["encoded_token"], att["otp"])
    assert token.startswith("hvs.") and token != srv.root_token
    st, me = srv.raw("GET", "/v1/auth/token/lookup-self", token=token)
    assert st == 200 and me["data"]["policies"] == ["root"] and me["data"]["path"] == "auth/token/root"
    # A real root token: it outlives the one init issued.
    assert srv.root("POST", "/v1/auth/token/revoke-self")[0] == 204
    assert srv.raw("PUT", "/v1/sys/policies/acl/p", token=token, body={"policy": 'path "x" {capabilities=["read"]}'})[0] == 204
    st, after = srv.raw("GET", ATTEMPT)
    assert after["started"] is False and after["nonce"] == ""
    # The server's decode-token (OpenBao) agrees.
    st, dec = srv.raw("PUT", "/v1/sys/decode-token", token=token,
                      body={"encoded_token": done["encoded_token"], "otp": att["otp"]})
    assert st == 200 and dec["data"]["token"] == token


def test_wrong_nonce_wrong_key_cancel_and_a_second_attempt(srv):
    att = start(srv)
    st, body = srv.raw("PUT", ATTEMPT, body={})
    assert st == 400 and body["errors"] == ["root generation already in progress"]
    st, body = srv.raw("PUT", UPDATE, body={"key": srv.keys[0], "nonce": "not-the-nonce"})
    assert st == 400 and "incorrect nonce supplied" in body["errors"][0]
    assert srv.raw("GET", ATTEMPT)[1]["progress"] == 0
    # A wrong share completes the quorum: refused, progress reset, the attempt kept.
    srv.raw("PUT", UPDATE, body={"key": srv.keys[0], "nonce": att["nonce"]})
    wrong = base64.b64encode(os.urandom(32) + bytes([200])).decode()
    st, body = srv.raw("PUT", UPDATE, body={"key": wrong, "nonce": att["nonce"]})
    assert st == 400 and body["errors"][0].startswith("root generation aborted"), body
    st, status = srv.raw("GET", ATTEMPT)
    assert status["started"] is True and status["progress"] == 0 and status["nonce"] == att["nonce"]
    st, body = srv.raw("PUT", UPDATE, body={"key": "%%%", "nonce": att["nonce"]})
    assert st == 400 and body["errors"] == ["'key' must be a valid hex or base64 string"]
    assert srv.raw("DELETE", ATTEMPT)[0] == 204
    assert srv.raw("GET", ATTEMPT)[1]["started"] is False
    st, body = srv.raw("PUT", UPDATE, body={"key": srv.keys[0], "nonce": att["nonce"]})
    assert st == 400 and body["errors"] == ["no root generation in progress"]
    st, body = srv.raw("PUT", ATTEMPT, body={"pgp_key": "mQENBF..."})
    assert st == 400 and "pgp_key is not supported" in body["errors"][0]
    st, body = srv.raw("PUT", ATTEMPT, body={"otp": "short"})
    assert st == 400 and body["errors"] == ["OTP string has incorrect length"]
    # A client's own OTP is used and not echoed.
    own = "A" * 28
    att = start(srv, {"otp": own})
    assert att["otp"] == ""
    body = None
    for k in srv.keys[1:3]:
        body = srv.raw("PUT", UPDATE, body={"key": k, "nonce": att["nonce"]})[1]
    assert srv.raw("GET", "/v1/auth/token/lookup-self", token=decode(body["encoded_token"], own))[0] == 200


def test_audited_with_the_shares_hmaced(srv):
    token = generate_root(srv, srv.keys_b64[:2])
    with open(srv.audit_path) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    updates = [e for e in entries if e.get("request", {}).get("path") == "sys/generate-root/update"]
    assert len(updates) == 4, "a request and a response entry per share"
    for e in updates:
        assert e["request"]["data"]["key"].startswith("hmac-sha256:")
    completed = [e for e in updates if e["type"] == "response" and e["response"]["data"].get("complete")]
    assert completed and completed[0]["response"]["data"]["encoded_token"].startswith("hmac-sha256:")
    with open(srv.audit_path) as f:
        text = f.read()
    for secret in srv.keys + srv.keys_b64 + [token]:
        assert secret not in text
    assert token not in srv.log()


def rekey_init(s, body, path="/v1/sys/rekey/init"):
    st, init = s.raw("PUT", path, body=body)
    assert st == 200, init
    return init


def test_rekey_with_verification_then_restart(srv):
    st, status = srv.raw("GET", "/v1/sys/rekey/init")
    assert st == 200 and status["started"] is False and status["required"] == 2
    init = rekey_init(srv, {"secret_shares": 4, "secret_threshold": 3, "require_verification": True})
    assert init["t"] == 3 and init["n"] == 4 and init["verification_required"] is True and init["progress"] == 0
    st, body = srv.raw("PUT", "/v1/sys/rekey/init", body={"secret_shares": 4, "secret_threshold": 3})
    assert st == 400 and body["errors"] == ["rekey already in progress"]
    st, one = srv.raw("PUT", "/v1/sys/rekey/update", body={"key": srv.keys[0], "nonce": init["nonce"]})
    assert st == 200 and one["progress"] == 1
    st, done = srv.raw("PUT", "/v1/sys/rekey/update", body={"key": srv.keys[1], "nonce": init["nonce"]})
    assert st == 200 and done["complete"] is True and len(done["keys"]) == 4 and len(done["keys_base64"]) == 4
    new_keys, vnonce = done["keys_base64"], done["verification_nonce"]
    # Not in use until verified.
    assert srv.raw("GET", "/v1/sys/seal-status")[1]["n"] == 3
    st, v = srv.raw("GET", "/v1/sys/rekey/verify")
    assert st == 200 and v == {"nonce": vnonce, "started": True, "t": 3, "n": 4, "progress": 0}
    st, body = srv.raw("PUT", "/v1/sys/rekey/verify", body={"key": new_keys[0], "nonce": "bad"})
    assert st == 400 and "incorrect nonce supplied" in body["errors"][0]
    # Old shares fail verification and start it over under a new nonce.
    for k in srv.keys_b64[:2]:
        srv.raw("PUT", "/v1/sys/rekey/verify", body={"key": k, "nonce": vnonce})
    st, body = srv.raw("PUT", "/v1/sys/rekey/verify", body={"key": new_keys[0], "nonce": vnonce})
    assert st == 400 and body["errors"] == ["rekey verification failed; incorrect key shares supplied"]
    vnonce2 = srv.raw("GET", "/v1/sys/rekey/verify")[1]["nonce"]
    assert vnonce2 != vnonce
    body = None
    for k in new_keys[1:4]:
        st, body = srv.raw("PUT", "/v1/sys/rekey/verify", body={"key": k, "nonce": vnonce2})
        assert st == 200, body
    assert body == {"nonce": vnonce2, "complete": True}
    assert srv.raw("GET", "/v1/sys/rekey/init")[1]["started"] is False
    st, seal = srv.raw("GET", "/v1/sys/seal-status")
    assert seal["t"] == 3 and seal["n"] == 4
    srv.restart()
    for k in srv.keys[:3]:
        st, body = srv.raw("PUT", "/v1/sys/unseal", body={"key": k})
    assert st == 400 and srv.raw("GET", "/v1/sys/seal-status")[1]["sealed"] is True, body
    srv.unseal(new_keys[:3])
    assert srv.root("GET", "/v1/auth/token/lookup-self")[0] == 200
    harness.SECRETS.update(new_keys)


def test_rekey_refusals_cancel_and_wrong_key(srv):
    for body, msg in [({"secret_shares": 3, "secret_threshold": 2, "backup": True}, "backup is not supported"),
                      ({"secret_shares": 3, "secret_threshold": 2, "pgp_keys": ["mQENBF"]}, "pgp_keys are not supported"),
                      ({"secret_shares": 1, "secret_threshold": 2}, "threshold cannot be larger than shares"),
                      ({}, "shares must be at least one")]:
        st, resp = srv.raw("PUT", "/v1/sys/rekey/init", body=body)
        assert st == 400 and msg in resp["errors"][0], resp
    st, body = srv.raw("PUT", "/v1/sys/rekey/update", body={"key": srv.keys[0], "nonce": "x"})
    assert st == 400 and body["errors"] == ["no barrier rekey in progress"]
    st, body = srv.raw("GET", "/v1/sys/rekey/verify")
    assert st == 400 and body["errors"] == ["no rekey configuration found"]
    init = rekey_init(srv, {"secret_shares": 2, "secret_threshold": 2})
    srv.raw("PUT", "/v1/sys/rekey/update", body={"key": srv.keys[0], "nonce": init["nonce"]})
    wrong = base64.b64encode(os.urandom(32) + bytes([9])).decode()
    st, body = srv.raw("PUT", "/v1/sys/rekey/update", body={"key": wrong, "nonce": init["nonce"]})
    assert st == 400 and body["errors"][0].startswith("failed to read root key"), body
    assert srv.raw("GET", "/v1/sys/rekey/init")[1]["progress"] == 0
    assert srv.raw("DELETE", "/v1/sys/rekey/init")[0] == 204
    assert srv.raw("GET", "/v1/sys/rekey/init")[1]["started"] is False
    st, body = srv.raw("GET", "/v1/sys/rekey-recovery-key/init")
    assert st == 400 and body["errors"] == ["recovery rekeying not supported"]
    # Without verification the new shares replace the old at once.
    init = rekey_init(srv, {"secret_shares": 1, "secret_threshold": 1})
    srv.raw("PUT", "/v1/sys/rekey/update", body={"key": srv.keys[1], "nonce": init["nonce"]})
    st, done = srv.raw("PUT", "/v1/sys/rekey/update", body={"key": srv.keys[2], "nonce": init["nonce"]})
    assert st == 200 and done["complete"] is True and "verification_nonce" not in done
    harness.SECRETS.update(done["keys_base64"] + done["keys"])
    assert srv.raw("GET", "/v1/sys/seal-status")[1]["t"] == 1
    assert generate_root(srv, done["keys_base64"])


def test_rekey_backup_takes_a_sudo_token_and_is_always_empty(srv):
    """Vault's sys/rekey/backup (hvac's read_backup_keys): a logical path for
    a sudo token even while the token-free ceremonies are on; Sealbox never
    keeps a backup, so a read finds none and a delete has nothing to do."""
    st, tok = srv.root("POST", "/v1/auth/token/create", {"policies": ["default"]})
    assert st == 200, tok
    for token in (None, tok["auth"]["client_token"]):
        for method in ("GET", "DELETE"):
            st, body = srv.raw(method, "/v1/sys/rekey/backup", token)
            assert st == 403 and "permission denied" in body["errors"][0], (method, token is None, body)
    assert srv.root("GET", "/v1/sys/rekey/backup") == (400, {"errors": ["no backed-up keys found"]})
    assert srv.root("DELETE", "/v1/sys/rekey/backup") == (204, None)
    assert srv.root("GET", "/v1/sys/rekey-recovery-key/backup")[0] == 404  # as OpenBao: barrier only


def static_server():
    s = Server(listener_extra=UNAUTHED_ON)
    key = os.path.join(s.dir, "key-seal")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    with open(s.config, "a") as f:
        f.write('seal "static" {\n  current_key_id = "k1"\n  current_key = "file://%s"\n}\n' % key)
    s.start()
    st, body = s.raw("PUT", "/v1/sys/init", body={"recovery_shares": 3, "recovery_threshold": 2})
    assert st == 200, body
    s.keys, s.root_token = body["recovery_keys_base64"], body["root_token"]
    return s


def test_static_seal_uses_recovery_keys():
    s = static_server()
    try:
        assert s.raw("GET", ATTEMPT)[1]["required"] == 2
        token = generate_root(s, s.keys[:2])
        assert s.raw("GET", "/v1/auth/token/lookup-self", token=token)[0] == 200
        st, body = s.raw("PUT", "/v1/sys/rekey/init", body={"secret_shares": 3, "secret_threshold": 2})
        assert st == 400 and "not supported under the static seal" in body["errors"][0]
        init = rekey_init(s, {"secret_shares": 5, "secret_threshold": 3}, "/v1/sys/rekey-recovery-key/init")
        assert init["required"] == 2
        body = None
        for k in s.keys[:2]:
            st, body = s.raw("PUT", "/v1/sys/rekey-recovery-key/update", body={"key": k, "nonce": init["nonce"]})
        assert body["complete"] is True and len(body["keys_base64"]) == 5
        new = body["keys_base64"]
        harness.SECRETS.update(new)
        s.restart()  # the static seal unseals by itself
        st, seal = s.raw("GET", "/v1/sys/seal-status")
        assert seal["sealed"] is False and seal["t"] == 3 and seal["n"] == 5
        att = start(s)
        for k in s.keys[:3]:
            st, body = s.raw("PUT", UPDATE, body={"key": k, "nonce": att["nonce"]})
        assert st == 400 and "root generation aborted" in body["errors"][0], body
        assert s.raw("DELETE", ATTEMPT)[0] == 204
        assert generate_root(s, new[2:5])
    finally:
        s.cleanup()


def cli(tool, s, *args, token=None, stdin=None):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": s.dir, "VAULT_ADDR": s.url, "BAO_ADDR": s.url,
           "VAULT_CACERT": s.cacert, "BAO_CACERT": s.cacert, "LANG": "C.UTF-8"}
    if token:
        env["VAULT_TOKEN"] = env["BAO_TOKEN"] = token
    binary = bao_bin() if tool == "bao" else harness.sealbox_bin()
    p = subprocess.run([binary] + list(args), input=stdin, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def test_sealbox_cli(srv):
    status = json.loads(cli("sb", srv, "operator", "generate-root", "-status", "-format=json"))
    assert status["started"] is False
    att = json.loads(cli("sb", srv, "operator", "generate-root", "-init", "-format=json"))
    out = cli("sb", srv, "operator", "generate-root", srv.keys_b64[0])
    assert "1/2" in out
    done = json.loads(cli("sb", srv, "operator", "generate-root", "-format=json", "-", stdin=srv.keys_b64[1] + "\n"))
    token = cli("sb", srv, "operator", "generate-root", "-decode=" + done["encoded_token"], "-otp=" + att["otp"]).strip()
    assert token == decode(done["encoded_token"], att["otp"])
    assert srv.raw("GET", "/v1/auth/token/lookup-self", token=token)[0] == 200
    cli("sb", srv, "operator", "generate-root", "-init")
    assert "canceled" in cli("sb", srv, "operator", "generate-root", "-cancel")

    out = cli("sb", srv, "operator", "rekey", "-init", "-key-shares=3", "-key-threshold=2", "-verify")
    assert "Verification Required" in out and "true" in out
    cli("sb", srv, "operator", "rekey", srv.keys_b64[0])
    out = cli("sb", srv, "operator", "rekey", srv.keys_b64[1])
    new = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Key ")]
    assert len(new) == 3 and "-verify" in out
    harness.SECRETS.update(new)
    assert "Verification Progress" in cli("sb", srv, "operator", "rekey", "-verify", "-status")
    cli("sb", srv, "operator", "rekey", "-verify", new[0])
    assert "verification complete" in cli("sb", srv, "operator", "rekey", "-verify", new[2])
    srv.restart()
    srv.unseal(new[1:3])
    cli("sb", srv, "operator", "rekey", "-init", "-key-shares=2", "-key-threshold=2")
    assert "Canceled" in cli("sb", srv, "operator", "rekey", "-cancel")


def test_bao_cli(srv):
    """bao 2.7 calls OpenBao's authenticated sys/generate-root-token/* (sudo)."""
    tok = srv.root_token
    att = json.loads(cli("bao", srv, "operator", "generate-root", "-init", "-format=json", token=tok))
    assert len(att["otp"]) == 28 and att["otp_length"] == 28
    cli("bao", srv, "operator", "generate-root", "-nonce=" + att["nonce"], srv.keys_b64[0], token=tok)
    done = json.loads(cli("bao", srv, "operator", "generate-root", "-format=json", "-nonce=" + att["nonce"],
                          srv.keys_b64[1], token=tok))
    assert done["complete"] is True
    token = cli("bao", srv, "operator", "generate-root", "-decode=" + done["encoded_token"], "-otp=" + att["otp"],
                token=tok).strip()
    assert token.startswith("hvs.") and srv.raw("GET", "/v1/auth/token/lookup-self", token=token)[0] == 200

    init = json.loads(cli("bao", srv, "operator", "rekey", "-init", "-key-shares=2", "-key-threshold=2",
                          "-format=json", token=tok))
    assert init["started"] is True and init["n"] == 2
    cli("bao", srv, "operator", "rekey", "-nonce=" + init["nonce"], srv.keys_b64[0], token=tok)
    done = json.loads(cli("bao", srv, "operator", "rekey", "-format=json", "-nonce=" + init["nonce"],
                          srv.keys_b64[2], token=tok))
    new = done["keys_base64"]
    assert len(new) == 2
    harness.SECRETS.update(new)
    srv.restart()
    srv.unseal(new)


def test_token_free_ceremonies_are_off_by_default_so_nobody_can_cancel_one():
    """HCSEC-2026-08: an anonymous DELETE of sys/generate-root/attempt
    cancelled the operators' attempt in progress. By default the token-free
    endpoints do not exist; the sudo-token sys/generate-root-token/* does."""
    s = Server().start()
    try:
        s.init(1, 1)
        s.unseal(s.keys)
        st, att = s.root("PUT", "/v1/sys/generate-root-token/attempt", {})
        assert st == 200 and att["data"]["started"] is True, att
        for method, path in (("DELETE", ATTEMPT), ("GET", ATTEMPT), ("PUT", ATTEMPT), ("PUT", UPDATE),
                             ("PUT", "/v1/sys/rekey/init"), ("DELETE", "/v1/sys/rekey/init"),
                             ("PUT", "/v1/sys/rekey-recovery-key/init")):
            st, b = s.raw(method, path, body={} if method == "PUT" else None)
            assert (st, b) == (405, {"errors": ["unsupported operation"]}), (method, path)
        st, att = s.root("GET", "/v1/sys/generate-root-token/attempt")
        assert st == 200 and att["data"]["started"] is True, att  # still in progress
        # sys/rekey/backup is not token-free: it stays.
        assert s.root("GET", "/v1/sys/rekey/backup") == (400, {"errors": ["no backed-up keys found"]})
    finally:
        s.cleanup()
