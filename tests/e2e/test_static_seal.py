"""The static seal (OpenBao's `seal "static"`): init returns recovery keys,
the server unseals itself at every start, a manual seal is undone with the
recovery keys, the wrapping key rotates through previous_key, and a wrong or
missing key is a clear error that loses nothing."""
import base64
import os
import re
import subprocess

import pytest

from harness import Server, sealbox_bin, wait_until

SEAL_MARK = "# --- seal ---"


def write_key(srv, name, data):
    path = os.path.join(srv.dir, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


def set_seal(srv, block):
    """Replaces the seal block of the server's config file."""
    with open(srv.config) as f:
        text = f.read().split(SEAL_MARK)[0]
    with open(srv.config, "w") as f:
        f.write(text + SEAL_MARK + "\n" + block + "\n")


def static_block(key_id, key_spec, prev_id=None, prev_spec=None):
    b = 'seal "static" {\n  current_key_id = "%s"\n  current_key = "%s"\n' % (key_id, key_spec)
    if prev_id:
        b += '  previous_key_id = "%s"\n  previous_key = "%s"\n' % (prev_id, prev_spec)
    return b + "}\n"


def status(srv):
    st, body = srv.raw("GET", "/v1/sys/seal-status")
    assert st == 200, body
    return body


@pytest.fixture
def sealed_srv():
    srv = Server()
    key1 = write_key(srv, "key-1", os.urandom(32))
    set_seal(srv, static_block("k1", "file://" + key1))
    srv.key1 = key1
    srv.start()
    yield srv
    srv.cleanup()


def init_static(srv, shares=3, threshold=2):
    st, body = srv.raw("PUT", "/v1/sys/init", body={"recovery_shares": shares, "recovery_threshold": threshold})
    assert st == 200, body
    assert body["keys"] == [] and body["keys_base64"] == []
    assert len(body["recovery_keys"]) == shares and len(body["recovery_keys_base64"]) == shares
    srv.root_token = body["root_token"]
    srv.recovery = body["recovery_keys"]
    return body


def test_init_unseals_at_once_and_restart_needs_no_human(sealed_srv):
    srv = sealed_srv
    before = status(srv)
    assert before["initialized"] is False and before["type"] == "static" and before["recovery_seal"] is True
    init_static(srv)
    after = status(srv)
    assert after["sealed"] is False and after["t"] == 2 and after["n"] == 3 and after["type"] == "static"
    st, body = srv.root("POST", "/v1/secret/data/app", {"data": {"pw": "static-seal-secret"}})
    assert st == 404  # no secret/ mount outside dev mode: mount one
    assert srv.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert srv.root("POST", "/v1/secret/data/app", {"data": {"pw": "static-seal-secret"}})[0] == 200

    # kill -9 and start again: unsealed without anyone typing a key.
    srv.kill9()
    srv.start()
    wait_until(lambda: status(srv)["sealed"] is False, 10, what="auto-unseal after restart")
    st, body = srv.root("GET", "/v1/secret/data/app")
    assert st == 200 and body["data"]["data"] == {"pw": "static-seal-secret"}
    assert "vault is unsealed (static seal, key id k1)" in srv.log()

    # A second init is refused like Vault's.
    st, body = srv.raw("PUT", "/v1/sys/init", body={"recovery_shares": 1, "recovery_threshold": 1})
    assert st == 400 and "already initialized" in body["errors"][0]


def test_manual_seal_is_undone_with_recovery_keys(sealed_srv):
    srv = sealed_srv
    init_static(srv, shares=3, threshold=2)
    assert srv.root("PUT", "/v1/sys/seal")[0] == 204
    assert status(srv)["sealed"] is True
    assert srv.root("GET", "/v1/sys/mounts")[0] == 503

    # A wrong recovery set resets progress and leaves it sealed.
    st, body = srv.raw("PUT", "/v1/sys/unseal", body={"key": srv.recovery[0]})
    assert st == 200 and body["progress"] == 1 and body["sealed"] is True
    bogus = "01" + os.urandom(32).hex()
    st, body = srv.raw("PUT", "/v1/sys/unseal", body={"key": bogus})
    assert st == 400, body
    assert status(srv)["sealed"] is True and status(srv)["progress"] == 0

    # The threshold of real recovery keys (base64 this time) unseals.
    b64 = [base64.b64encode(bytes.fromhex(k)).decode() for k in srv.recovery]
    srv.raw("PUT", "/v1/sys/unseal", body={"key": b64[2]})
    st, body = srv.raw("PUT", "/v1/sys/unseal", body={"key": b64[1]})
    assert st == 200 and body["sealed"] is False, body
    assert srv.root("GET", "/v1/sys/mounts")[0] == 200


def test_key_rotation_through_previous_key(sealed_srv):
    srv = sealed_srv
    init_static(srv)
    assert srv.root("POST", "/v1/sys/mounts/kv", {"type": "kv"})[0] == 204
    assert srv.root("POST", "/v1/kv/a", {"v": "before-rotation"})[0] == 204
    srv.stop()

    # New key from the environment (hex), the old one as previous: the root
    # key is rewrapped at start.
    key2 = os.urandom(32)
    os.environ["SEALBOX_TEST_SEAL_KEY2"] = key2.hex()
    try:
        set_seal(srv, static_block("k2", "env://SEALBOX_TEST_SEAL_KEY2", "k1", "file://" + srv.key1))
        srv.start()
        wait_until(lambda: status(srv)["sealed"] is False, 10, what="unseal with the previous key")
        assert "rewrapped from key id k1 to k2" in srv.log()
        srv.stop()

        # Now the old key can go: k2 alone opens it, and recovery keys still work.
        os.remove(srv.key1)
        set_seal(srv, static_block("k2", "env://SEALBOX_TEST_SEAL_KEY2"))
        srv.start()
        wait_until(lambda: status(srv)["sealed"] is False, 10, what="unseal with the rotated key")
        st, body = srv.root("GET", "/v1/kv/a")
        assert st == 200 and body["data"] == {"v": "before-rotation"}
        assert srv.root("PUT", "/v1/sys/seal")[0] == 204
        for k in srv.recovery[:2]:
            st, body = srv.raw("PUT", "/v1/sys/unseal", body={"key": k})
        assert st == 200 and body["sealed"] is False
    finally:
        srv.stop()
        del os.environ["SEALBOX_TEST_SEAL_KEY2"]


def test_wrong_key_stays_sealed_and_loses_nothing(sealed_srv):
    srv = sealed_srv
    init_static(srv)
    assert srv.root("POST", "/v1/sys/mounts/kv", {"type": "kv"})[0] == 204
    assert srv.root("POST", "/v1/kv/a", {"v": "kept"})[0] == 204
    srv.stop()

    # Same id, different key bytes: the server serves, sealed, and says why.
    wrong = write_key(srv, "wrong", base64.b64encode(os.urandom(32)) + b"\n")
    set_seal(srv, static_block("k1", "file://" + wrong))
    srv.start()
    assert status(srv)["sealed"] is True
    assert 'does not open the root key' in srv.log()
    assert srv.raw("GET", "/v1/kv/a", token=srv.root_token)[0] == 503
    srv.stop()

    # An unknown id names both ids it looked for.
    set_seal(srv, static_block("k9", "file://" + wrong))
    srv.start()
    assert status(srv)["sealed"] is True
    assert 'key id "k1", which is neither current_key_id nor previous_key_id' in srv.log()
    srv.stop()

    # The right key again: everything is there.
    set_seal(srv, static_block("k1", "file://" + srv.key1))
    srv.start()
    wait_until(lambda: status(srv)["sealed"] is False, 10, what="unseal with the right key")
    st, body = srv.root("GET", "/v1/kv/a")
    assert st == 200 and body["data"] == {"v": "kept"}
    # No key bytes in the log, in any encoding.
    with open(srv.key1, "rb") as f:
        k = f.read()
    log = srv.log()
    for enc in (k.hex(), base64.b64encode(k).decode()):
        assert enc not in log


def run_config_check(srv):
    p = subprocess.run([sealbox_bin(), "server", "-config", srv.config], capture_output=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def test_bad_seal_configuration_fails_start_clearly(sealed_srv):
    srv = sealed_srv
    srv.stop()
    set_seal(srv, static_block("k1", "file://" + os.path.join(srv.dir, "missing.key")))
    rc, out = run_config_check(srv)
    assert rc == 1 and "cannot read file" in out and "missing.key" in out

    short = write_key(srv, "short", os.urandom(16))
    set_seal(srv, static_block("k1", "file://" + short))
    rc, out = run_config_check(srv)
    assert rc == 1 and "does not hold a 32-byte key" in out

    set_seal(srv, static_block("k1", "env://SEALBOX_TEST_UNSET_VAR"))
    rc, out = run_config_check(srv)
    assert rc == 1 and "SEALBOX_TEST_UNSET_VAR is not set" in out

    set_seal(srv, 'seal "awskms" {\n  region = "x"\n}\n')
    rc, out = run_config_check(srv)
    assert rc == 1 and 'unsupported seal type "awskms"' in out


def test_shamir_vault_refuses_a_static_seal_block():
    srv = Server()
    try:
        srv.start()
        srv.init(3, 2)
        srv.stop()
        key = write_key(srv, "key", os.urandom(32))
        set_seal(srv, static_block("k1", "file://" + key))
        rc, out = run_config_check(srv)
        assert rc == 1 and "Shamir seal" in out and "not supported" in out
        # Without the block it is the same Shamir vault as before.
        set_seal(srv, "")
        srv.start()
        srv.unseal(srv.keys[:2])
        assert status(srv)["type"] == "shamir" and status(srv)["recovery_seal"] is False
    finally:
        srv.cleanup()


def test_cli_init_prints_recovery_keys(sealed_srv):
    srv = sealed_srv
    env = dict(os.environ, VAULT_ADDR=srv.url, VAULT_CACERT=srv.cacert)
    p = subprocess.run([sealbox_bin(), "operator", "init", "-recovery-shares=1", "-recovery-threshold=1"],
                       capture_output=True, env=env, timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    assert re.search(r"^Recovery Key 1: \S+$", out, re.M) and "Unseal Key" not in out
    assert "Initial Root Token: hvs." in out
    p = subprocess.run([sealbox_bin(), "status"], capture_output=True, env=env, timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0
    assert re.search(r"^Seal Type\s+static$", out, re.M) and re.search(r"^Total Recovery Shares\s+1$", out, re.M)
