"""End to end: the Transit secrets engine (issue 26) on the real `sealbox`
binary, with OpenBao 2.7 (`bao server`, tests/peers/openbao.py) as the
reference: every key operation, encrypt/decrypt/rewrap/datakey, hmac/verify,
random, hash, export, backup and restore, every refusal, keys and
ciphertext moved between the two servers by backup and restore, and the same requests played against
both servers with their statuses, error words and response shapes compared.

Run: SEALBOX_BIN=build/server/sealbox .venv/bin/python -m pytest tests/e2e/test_transit.py
"""

import base64
import os
import sys

import pytest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import OpenBao  # noqa: E402


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def mount(server):
    st, body = server.root("POST", "/v1/sys/mounts/transit", {"type": "transit"})
    assert st == 204, body


@pytest.fixture(scope="module")
def sb():
    s = harness.Server(log_level="warn").start()
    s.init(1, 1)
    s.unseal(s.keys)
    mount(s)
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def bao():
    b = OpenBao()
    b.start()
    b.init(1, 1)
    b.unseal(b.keys, threshold=1)
    mount(b)
    yield b
    b.cleanup()


def call(server, method, path, body=None):
    return server.root(method, "/v1/transit/" + path, body)


def ok(server, method, path, body=None):
    st, resp = call(server, method, path, body)
    assert st == 200, (path, st, resp)
    return resp["data"]


def refused(server, path, body, message, method="POST", status=400):
    st, resp = call(server, method, path, body)
    assert (st, resp.get("errors") if isinstance(resp, dict) else resp) == (status, [message]), (path, st, resp)


# ------------------------------------------------------------------ keys


def test_key_lifecycle(sb):
    created = ok(sb, "POST", "keys/life", {})
    assert created["type"] == "aes256-gcm96" and created["latest_version"] == 1
    assert created["supports_encryption"] and created["supports_decryption"] and created["supports_derivation"]
    assert not created["supports_signing"] and set(created["keys"]) == {"1"}
    assert created["min_decryption_version"] == 1 and created["min_encryption_version"] == 0
    ok(sb, "POST", "keys/life/rotate")
    rotated = ok(sb, "POST", "keys/life/rotate")
    assert rotated["latest_version"] == 3 and set(rotated["keys"]) == {"1", "2", "3"}
    configured = ok(sb, "POST", "keys/life/config", {"min_decryption_version": 2, "min_encryption_version": 3})
    assert set(configured["keys"]) == {"2", "3"}  # only versions that still decrypt are listed
    trimmed = ok(sb, "POST", "keys/life/trim", {"min_available_version": 2})
    assert trimmed["min_available_version"] == 2
    assert "life" in ok(sb, "LIST", "keys")["keys"]
    assert ok(sb, "GET", "keys/life")["latest_version"] == 3

    refused(sb, "keys/life", None, "error deleting policy life: deletion is not allowed for this key", "DELETE")
    ok(sb, "POST", "keys/life/config", {"deletion_allowed": True})
    st, _ = call(sb, "DELETE", "keys/life")
    assert st == 204
    st, _ = call(sb, "GET", "keys/life")
    assert st == 404


def test_key_types_and_options(sb):
    for typ in ("aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"):
        assert ok(sb, "POST", "keys/t-" + typ, {"type": typ})["type"] == typ
        ct = ok(sb, "POST", "encrypt/t-" + typ, {"plaintext": b64("data")})["ciphertext"]
        assert ok(sb, "POST", "decrypt/t-" + typ, {"ciphertext": ct})["plaintext"] == b64("data")
    hmac_key = ok(sb, "POST", "keys/t-hmac", {"type": "hmac", "key_size": 64})
    assert hmac_key["key_size"] == 64 and "keys" not in hmac_key and not hmac_key["supports_encryption"]
    refused(sb, "encrypt/t-hmac", {"plaintext": b64("x")}, "message encryption not supported for key type hmac")
    opts = ok(sb, "POST", "keys/t-opts", {"derived": True, "convergent_encryption": True, "exportable": True,
                                          "allow_plaintext_backup": True})
    assert opts["derived"] and opts["convergent_encryption"] and opts["kdf"] == "hkdf_sha256"
    assert opts["exportable"] and opts["allow_plaintext_backup"] and opts["convergent_encryption_version"] == -1


def test_key_refusals(sb):
    refused(sb, "keys/r1", {"type": "bogus"}, "unknown key type bogus")
    refused(sb, "keys/r1", {"convergent_encryption": True}, "convergent encryption requires derivation to be enabled")
    refused(sb, "keys/r1", {"key_size": 64}, "key_size is not valid for algorithm aes256-gcm96")
    refused(sb, "keys/r1", {"type": "hmac", "key_size": 16},
            "invalid key size for HMAC key, must be between 32 and 512 bytes")
    refused(sb, "keys/r1/rotate", {}, "key not found")
    refused(sb, "keys/r1/config", {"deletion_allowed": True}, "no existing key named r1 could be found")
    refused(sb, "keys/r1", None, "error deleting policy r1: could not delete key; not found", "DELETE")
    ok(sb, "POST", "keys/r2", {})
    refused(sb, "keys/r2/config", {"min_decryption_version": 5}, "cannot set min decryption version of 5, latest key version is 1")
    refused(sb, "keys/r2/trim", {}, "missing min_available_version")
    refused(sb, "keys/r2/trim", {"min_available_version": 1},
            "minimum available version cannot be set when minimum encryption version is not set")
    st, _ = call(sb, "POST", "keys/bad%20name", {})
    assert st == 404


# ------------------------------------------------------------------ encryption


def test_encrypt_decrypt_batch_aad_and_versions(sb):
    ok(sb, "POST", "keys/enc", {})
    one = ok(sb, "POST", "encrypt/enc", {"plaintext": b64("hello"), "associated_data": b64("aad")})
    assert one["key_version"] == 1 and one["ciphertext"].startswith("vault:v1:")
    assert ok(sb, "POST", "decrypt/enc", {"ciphertext": one["ciphertext"], "associated_data": b64("aad")}) == \
        {"plaintext": b64("hello")}
    refused(sb, "decrypt/enc", {"ciphertext": one["ciphertext"]}, "cipher: message authentication failed")

    batch = ok(sb, "POST", "encrypt/enc", {"batch_input": [{"plaintext": b64("a"), "reference": "r1"},
                                                            {"plaintext": b64("b")}]})["batch_results"]
    assert [r["reference"] for r in batch] == ["r1", ""]
    back = ok(sb, "POST", "decrypt/enc", {"batch_input": [{"ciphertext": r["ciphertext"]} for r in batch]})
    assert [r["plaintext"] for r in back["batch_results"]] == [b64("a"), b64("b")]

    # One bad item fails the batch with 400, and still answers every item.
    st, resp = call(sb, "POST", "encrypt/enc", {"batch_input": [{"plaintext": b64("a")}, {"plaintext": "!!"}]})
    assert st == 400 and "ciphertext" in resp["data"]["batch_results"][0]
    assert resp["data"]["batch_results"][1]["error"] == "illegal base64 data at input byte 0"

    ok(sb, "POST", "keys/enc/rotate")
    v1 = ok(sb, "POST", "encrypt/enc", {"plaintext": b64("old"), "key_version": 1})
    assert v1["key_version"] == 1
    rewrapped = ok(sb, "POST", "rewrap/enc", {"ciphertext": v1["ciphertext"]})
    assert rewrapped["key_version"] == 2
    assert ok(sb, "POST", "decrypt/enc", {"ciphertext": rewrapped["ciphertext"]})["plaintext"] == b64("old")
    ok(sb, "POST", "keys/enc/config", {"min_decryption_version": 2})
    refused(sb, "decrypt/enc", {"ciphertext": v1["ciphertext"]},
            "ciphertext or signature version is disallowed by policy (too old)")
    refused(sb, "encrypt/enc", {"plaintext": b64("x"), "key_version": 9},
            "requested version for encryption is higher than the latest key version")


def test_encrypt_creates_missing_key(sb):
    created = ok(sb, "POST", "encrypt/upserted", {"plaintext": b64("x"), "type": "chacha20-poly1305"})
    assert created["key_version"] == 1
    assert ok(sb, "GET", "keys/upserted")["type"] == "chacha20-poly1305"
    ok(sb, "POST", "encrypt/upserted-derived", {"plaintext": b64("x"), "context": b64("c")})
    assert ok(sb, "GET", "keys/upserted-derived")["derived"] is True


def test_derived_and_convergent(sb):
    ok(sb, "POST", "keys/conv", {"derived": True, "convergent_encryption": True})
    a = ok(sb, "POST", "encrypt/conv", {"plaintext": b64("same"), "context": b64("ctx")})["ciphertext"]
    b = ok(sb, "POST", "encrypt/conv", {"plaintext": b64("same"), "context": b64("ctx")})["ciphertext"]
    c = ok(sb, "POST", "encrypt/conv", {"plaintext": b64("same"), "context": b64("other")})["ciphertext"]
    assert a == b != c
    assert ok(sb, "POST", "decrypt/conv", {"ciphertext": a, "context": b64("ctx")})["plaintext"] == b64("same")
    refused(sb, "decrypt/conv", {"ciphertext": a, "context": b64("other")}, "cipher: message authentication failed")
    refused(sb, "encrypt/conv", {"plaintext": b64("same")},
            "missing 'context' for key derivation; the key was created using a derived key, which means additional, "
            "per-request information must be included in order to perform operations with the key")


def test_ciphertext_refusals(sb):
    ok(sb, "POST", "keys/ref", {})
    ok(sb, "POST", "keys/ref-other", {})
    ct = ok(sb, "POST", "encrypt/ref", {"plaintext": b64("secret")})["ciphertext"]
    refused(sb, "decrypt/ref-other", {"ciphertext": ct}, "cipher: message authentication failed")
    raw = bytearray(base64.b64decode(ct[len("vault:v1:"):]))
    raw[14] ^= 1
    refused(sb, "decrypt/ref", {"ciphertext": "vault:v1:" + b64(bytes(raw))}, "cipher: message authentication failed")
    refused(sb, "decrypt/ref", {"ciphertext": ct + "x"}, "invalid ciphertext: could not decode base64")
    refused(sb, "decrypt/ref", {"ciphertext": "foo"}, "invalid ciphertext: no prefix")
    refused(sb, "decrypt/ref", {"ciphertext": "vault:v1"}, "invalid ciphertext: wrong number of fields")
    refused(sb, "decrypt/ref", {"ciphertext": "vault:vx:abc"}, "invalid ciphertext: version number could not be decoded")
    refused(sb, "decrypt/ref", {"ciphertext": "vault:v9:abc"}, "invalid ciphertext: version is too new")
    refused(sb, "decrypt/ref", {"ciphertext": "vault:v1:AAAA"}, "invalid ciphertext length")
    refused(sb, "decrypt/ref", {}, "missing ciphertext to decrypt")
    refused(sb, "decrypt/missing-key", {"ciphertext": ct}, "encryption key not found")
    refused(sb, "encrypt/ref", {"plaintext": "!!"}, "illegal base64 data at input byte 0")
    refused(sb, "encrypt/ref", {}, "missing plaintext to encrypt")
    refused(sb, "encrypt/ref", {"batch_input": []}, "missing batch input to process")


def test_oversize_batch_is_refused(sb):
    # A body of more strings than the JSON limit (1000, OpenBao's default) never reaches the engine.
    st, resp = call(sb, "POST", "encrypt/ref", {"batch_input": [{"plaintext": b64("a")} for _ in range(600)]})
    assert st == 413 and "number of strings" in resp["errors"][0], (st, resp)


def test_datakey(sb):
    ok(sb, "POST", "keys/dk", {})
    for bits in (128, 256, 512):
        plain = ok(sb, "POST", "datakey/plaintext/dk", {"bits": bits})
        assert len(base64.b64decode(plain["plaintext"])) == bits // 8
        assert ok(sb, "POST", "decrypt/dk", {"ciphertext": plain["ciphertext"]})["plaintext"] == plain["plaintext"]
    wrapped = ok(sb, "POST", "datakey/wrapped/dk", {})
    assert set(wrapped) == {"ciphertext", "key_version"}
    refused(sb, "datakey/wrapped/dk", {"bits": 100}, "invalid bit length")
    refused(sb, "datakey/other/dk", {}, "Invalid path, must be 'plaintext' or 'wrapped'")
    refused(sb, "datakey/plaintext/none", {}, "encryption key not found")


# ------------------------------------------------------------------ hmac, verify, hash, random


def test_hmac_and_verify(sb):
    ok(sb, "POST", "keys/mac", {})
    for algo, size in (("sha2-224", 28), ("sha2-256", 32), ("sha2-384", 48), ("sha2-512", 64)):
        mac = ok(sb, "POST", "hmac/mac/" + algo, {"input": b64("msg")})["hmac"]
        assert mac.startswith("vault:v1:") and len(base64.b64decode(mac[9:])) == size
        assert ok(sb, "POST", "verify/mac/" + algo, {"input": b64("msg"), "hmac": mac}) == {"valid": True}
        assert ok(sb, "POST", "verify/mac", {"input": b64("msg2"), "hmac": mac, "algorithm": algo}) == {"valid": False}
    mac = ok(sb, "POST", "hmac/mac", {"input": b64("msg")})["hmac"]
    batch = ok(sb, "POST", "verify/mac", {"batch_input": [{"input": b64("msg"), "hmac": mac},
                                                          {"input": b64("msg"), "hmac": "zz"}]})["batch_results"]
    assert batch == [{"valid": True, "reference": ""}, {"error": "invalid HMAC to verify: no prefix", "reference": ""}]
    ok(sb, "POST", "keys/mac/rotate")
    ok(sb, "POST", "keys/mac/config", {"min_decryption_version": 2})
    refused(sb, "verify/mac", {"input": b64("msg"), "hmac": mac},
            "cannot verify HMAC: version is too old (disallowed by policy)")
    refused(sb, "hmac/mac/md5", {"input": b64("msg")}, "unsupported algorithm md5")
    refused(sb, "hmac/mac", {}, "missing input for HMAC")
    refused(sb, "verify/mac", {"input": b64("msg")}, "neither a 'signature' nor an 'hmac' were given to verify")
    hmac_key = ok(sb, "POST", "keys/mac-hmac", {"type": "hmac"})
    assert hmac_key["key_size"] == 32
    mac = ok(sb, "POST", "hmac/mac-hmac", {"input": b64("m")})["hmac"]
    assert ok(sb, "POST", "verify/mac-hmac", {"input": b64("m"), "hmac": mac})["valid"] is True


def test_hash_and_random(sb):
    assert ok(sb, "POST", "hash", {"input": b64("hello world")})["sum"] == \
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    assert len(base64.b64decode(ok(sb, "POST", "hash/sha2-512", {"input": b64("x"), "format": "base64"})["sum"])) == 64
    refused(sb, "hash", {"input": b64("x"), "algorithm": "md5"}, "unsupported algorithm md5")
    refused(sb, "hash", {}, "input missing")
    assert len(base64.b64decode(ok(sb, "POST", "random", {})["random_bytes"])) == 32
    assert len(ok(sb, "POST", "random/8", {"format": "hex"})["random_bytes"]) == 16
    assert len(base64.b64decode(ok(sb, "POST", "random/all/4", {})["random_bytes"])) == 4
    refused(sb, "random", {"bytes": 0}, "'bytes' cannot be less than 1")
    refused(sb, "random", {"bytes": 200000}, "'bytes' should be less than 131072")
    refused(sb, "random/bogus/4", {}, 'unsupported entropy source "bogus"; must be "platform" or "seal", or "all"')


@pytest.mark.parametrize("typ", ["ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"])
def test_sign_and_verify(sb, typ):
    key = ok(sb, "POST", "keys/sig-" + typ, {"type": typ})
    assert key["supports_signing"] and set(key["keys"]["1"]) == {"certificate_chain", "creation_time", "name",
                                                                 "public_key"}
    for opts in ({}, {"hash_algorithm": "sha2-512"}, {"signature_algorithm": "pkcs1v15"}):
        sig = ok(sb, "POST", "sign/sig-" + typ, dict(opts, input=b64("signed")))
        assert sig["key_version"] == 1 and sig["signature"].startswith("vault:v1:")
        body = dict(opts, input=b64("signed"), signature=sig["signature"])
        assert ok(sb, "POST", "verify/sig-" + typ, body) == {"valid": True}
        assert ok(sb, "POST", "verify/sig-" + typ, dict(body, input=b64("forged"))) == {"valid": False}
    assert ok(sb, "GET", "export/public-key/sig-" + typ)["keys"]["1"] == key["keys"]["1"]["public_key"]
    refused(sb, "export/signing-key/sig-" + typ, None, "private key material is not exportable", "GET")


# ------------------------------------------------------------------ export, storage


def test_export_only_where_allowed(sb):
    ok(sb, "POST", "keys/exp", {"exportable": True})
    exported = ok(sb, "GET", "export/encryption-key/exp")
    assert exported["name"] == "exp" and exported["type"] == "aes256-gcm96"
    assert len(base64.b64decode(exported["keys"]["1"])) == 32
    assert ok(sb, "GET", "export/hmac-key/exp/latest")["keys"].keys() == {"1"}
    ok(sb, "POST", "keys/noexp", {})
    refused(sb, "export/encryption-key/noexp", None, "private key material is not exportable", "GET")
    refused(sb, "export/bogus/exp", None, "invalid export type: bogus", "GET")
    refused(sb, "export/encryption-key/exp/7", None, "version does not exist or cannot be found", "GET")


def test_key_material_only_under_the_barrier_and_survives_restart(sb):
    ok(sb, "POST", "keys/atrest", {"exportable": True})
    key = base64.b64decode(ok(sb, "GET", "export/encryption-key/atrest")["keys"]["1"])
    ct = ok(sb, "POST", "encrypt/atrest", {"plaintext": b64("persisted")})["ciphertext"]
    sb.kill9()
    sb.start()
    sb.unseal(sb.keys)
    for root, _, files in os.walk(sb.dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert key not in f.read(), name
    assert ok(sb, "POST", "decrypt/atrest", {"ciphertext": ct})["plaintext"] == b64("persisted")


def test_backup_and_restore(sb):
    ok(sb, "POST", "keys/bk", {"exportable": True, "allow_plaintext_backup": True})
    ok(sb, "POST", "keys/bk/rotate")
    ct = ok(sb, "POST", "encrypt/bk", {"plaintext": b64("kept")})["ciphertext"]
    backup = ok(sb, "GET", "backup/bk")["backup"]
    st, _ = call(sb, "POST", "restore/bk-copy", {"backup": backup})
    assert st == 204
    assert ok(sb, "POST", "decrypt/bk-copy", {"ciphertext": ct})["plaintext"] == b64("kept")
    assert ok(sb, "GET", "keys/bk-copy")["latest_version"] == 2
    refused(sb, "restore/bk-copy", {"backup": backup}, 'key "bk-copy" already exists')
    st, _ = call(sb, "POST", "restore/bk-copy", {"backup": backup, "force": True})
    assert st == 204
    ok(sb, "POST", "keys/bk-noexp", {})
    refused(sb, "backup/bk-noexp", None, "exporting is disallowed on the policy", "GET")
    ok(sb, "POST", "keys/bk-exp", {"exportable": True})
    refused(sb, "backup/bk-exp", None, "plaintext backup is disallowed on the policy", "GET")
    refused(sb, "backup/bk-none", None, 'key "bk-none" not found', "GET")
    refused(sb, "restore", {}, "'backup' must be supplied")
    refused(sb, "restore", {"backup": "!!"}, "illegal base64 data at input byte 0")
    refused(sb, "restore", {"backup": b64("{}")}, "invalid backup: not a key backup")


@pytest.mark.parametrize("typ", ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"])
def test_keys_and_ciphertext_move_between_openbao_and_sealbox(sb, bao, typ):
    """A key backed up in OpenBao restores in Sealbox (and back): each decrypts
    the other's ciphertext, and with a convergent key both produce the very
    same ciphertext and HMAC, byte for byte (HKDF, the v3 nonce, the layout)."""
    opts = {"type": typ, "derived": True, "convergent_encryption": True, "exportable": True,
            "allow_plaintext_backup": True}
    name = "move-" + typ
    ok(bao, "POST", "keys/" + name, opts)
    ok(bao, "POST", "keys/" + name + "/rotate")
    st, _ = call(sb, "POST", "restore", {"backup": ok(bao, "GET", "backup/" + name)["backup"]})
    assert st == 204
    for version in (1, 2):
        body = {"plaintext": b64("moved %d" % version), "context": b64("ctx"), "key_version": version,
                "associated_data": b64("aad")}
        from_bao = ok(bao, "POST", "encrypt/" + name, body)["ciphertext"]
        assert ok(sb, "POST", "encrypt/" + name, body)["ciphertext"] == from_bao
        back = ok(sb, "POST", "decrypt/" + name, {"ciphertext": from_bao, "context": b64("ctx"),
                                                  "associated_data": b64("aad")})
        assert back["plaintext"] == b64("moved %d" % version)
    mac = {"input": b64("m"), "algorithm": "sha2-384"}
    assert ok(sb, "POST", "hmac/" + name, mac) == ok(bao, "POST", "hmac/" + name, mac)

    ok(sb, "POST", "keys/back-" + typ, {"type": typ, "exportable": True, "allow_plaintext_backup": True})
    ct = ok(sb, "POST", "encrypt/back-" + typ, {"plaintext": b64("to bao")})["ciphertext"]
    st, resp = call(bao, "POST", "restore", {"backup": ok(sb, "GET", "backup/back-" + typ)["backup"]})
    assert st == 204, resp
    assert ok(bao, "POST", "decrypt/back-" + typ, {"ciphertext": ct})["plaintext"] == b64("to bao")


# ------------------------------------------------------------------ against OpenBao


# Requests whose answers must match OpenBao's: status, error words and the
# set of response keys (values differ where keys or times do).
SCENARIO = [
    ("POST", "keys/cmp", {}),
    ("POST", "keys/cmp-d", {"derived": True, "type": "aes128-gcm96"}),
    ("POST", "keys/cmp-h", {"type": "hmac", "key_size": 48}),
    ("GET", "keys/cmp", None),
    ("GET", "keys/cmp-h", None),
    ("GET", "keys/absent", None),
    ("POST", "keys/cmp/rotate", {}),
    ("POST", "keys/cmp/config", {"min_decryption_version": 2, "min_encryption_version": 1}),
    ("POST", "keys/cmp/config", {"min_encryption_version": 9}),
    ("POST", "keys/cmp/config", {"min_decryption_version": -1}),
    ("POST", "keys/cmp/trim", {"min_available_version": 1}),
    ("POST", "keys/cmp", {"type": "bogus"}),
    ("POST", "keys/cmp-x", {"auto_rotate_period": "10m"}),
    ("POST", "keys/cmp-r", {"auto_rotate_period": "2h"}),
    ("GET", "keys/cmp-r", None),
    ("POST", "keys/cmp-r/config", {"auto_rotate_period": "30m"}),
    ("DELETE", "keys/cmp", None),
    ("POST", "encrypt/cmp", {"plaintext": b64("x")}),
    ("POST", "encrypt/cmp", {"plaintext": b64("x"), "key_version": -1}),
    ("POST", "encrypt/cmp-d", {"plaintext": b64("x")}),
    ("POST", "encrypt/cmp-d", {"batch_input": [{"plaintext": b64("x"), "context": b64("c")}, {"plaintext": "%"}]}),
    ("POST", "encrypt/cmp-h", {"plaintext": b64("x")}),
    ("POST", "decrypt/cmp", {"ciphertext": "vault:v0:AAAA"}),
    ("POST", "decrypt/cmp", {"batch_input": [{"ciphertext": "junk", "reference": "q"}]}),
    ("POST", "rewrap/cmp", {"batch_input": [{"ciphertext": "junk"}]}),
    ("POST", "datakey/wrapped/cmp", {"bits": 512}),
    ("POST", "hmac/cmp", {"input": b64("x"), "key_version": 1}),
    ("POST", "hmac/cmp", {"input": b64("x"), "key_version": 7}),
    ("POST", "hmac/cmp-h/sha2-384", {"input": b64("x")}),
    ("POST", "hmac/cmp", {"batch_input": [{"input": b64("x")}, {"input": "!!"}]}),
    ("POST", "verify/cmp", {"input": b64("x"), "hmac": "vault:v9:AAAA"}),
    ("POST", "verify/cmp", {"input": b64("x"), "hmac": "vault:v2"}),
    ("POST", "verify/cmp", {"input": b64("x"), "hmac": "vault:v2:!!"}),
    ("POST", "verify/cmp", {"input": b64("x"), "hmac": "vault:v2:AAAA", "signature": "s"}),
    ("POST", "hash/sha3-256", {"input": b64("x")}),
    ("POST", "hash", {"input": b64("x"), "format": "x"}),
    ("POST", "random/x", {}),
    ("POST", "random", {"format": "x"}),
    ("GET", "export/encryption-key/cmp", None),
    ("POST", "keys/cmp-ec", {"type": "ecdsa-p256"}),
    ("GET", "keys/cmp-ec", None),
    ("POST", "sign/cmp-ec", {"input": b64("x")}),
    ("POST", "sign/cmp-ec", {"input": b64("x"), "marshaling_algorithm": "jws"}),
    ("POST", "sign/cmp-ec", {"input": b64("x"), "marshaling_algorithm": "x"}),
    ("POST", "sign/cmp-ec", {"input": b64("x"), "hash_algorithm": "md5"}),
    ("POST", "sign/cmp", {"input": b64("x")}),
    ("POST", "sign/absent", {"input": b64("x")}),
    ("POST", "verify/cmp-ec", {"input": b64("x"), "signature": "junk"}),
    ("POST", "verify/cmp-ec", {"input": b64("x"), "signature": "vault:v1:AAAA"}),
    ("POST", "verify/cmp-ec", {"input": b64("x"), "signature": "vault:v1:!!"}),
    ("POST", "verify/cmp-ec", {"input": b64("x"), "signature": "vault:v9:AAAA"}),
    ("POST", "verify/cmp-ec", {"batch_input": [{"input": b64("x"), "signature": "junk"}]}),
    ("GET", "export/encryption-key/absent", None),
]


# Envelope fields that may differ: ids, and Vault's mount_type that OpenBao
# dropped (compatibility.md, "Known differences").
UNCOMPARED = {"request_id", "mount_type"}


def shape(value):
    """Keys and types, recursively: what must match when key bytes differ."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k not in UNCOMPARED}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def test_same_answers_as_openbao(sb, bao):
    """The scenario in order on a mount of its own on each server; every
    mismatch is reported at once."""
    for server in (sb, bao):
        st, body = server.root("POST", "/v1/sys/mounts/cmp", {"type": "transit"})
        assert st == 204, body
    assert_same_answers(sb, bao, "cmp", SCENARIO)


def assert_same_answers(sb, bao, mount, scenario):
    """Plays (method, path, body) in order under /v1/<mount>/ on both servers:
    errors must match word for word, other answers in status and shape. Every
    mismatch is reported at once."""
    mismatches = []
    for method, path, body in scenario:
        answers = [server.root(method, "/v1/%s/%s" % (mount, path), body) for server in (sb, bao)]
        (sb_status, sb_body), (bao_status, bao_body) = answers
        if isinstance(bao_body, dict) and "errors" in bao_body:
            same = sb_status == bao_status and isinstance(sb_body, dict) and sb_body.get("errors") == bao_body["errors"]
        else:
            same = sb_status == bao_status and shape(sb_body) == shape(bao_body)
        if not same:
            mismatches.append((method, path, sb_status, sb_body, bao_status, bao_body))
    assert not mismatches, "\n".join(map(repr, mismatches))


@pytest.mark.parametrize("typ", ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"])
def test_ciphertext_layout_matches_openbao(sb, bao, typ):
    """Same prefix, same decoded length (nonce 12 + plaintext + tag 16) and the
    same determinism for convergent keys: the layout Vault decrypts."""
    for server in (sb, bao):
        ok(server, "POST", "keys/layout-" + typ, {"type": typ, "derived": True, "convergent_encryption": True})
    for plaintext in (b"", b"x" * 5, b"y" * 1000):
        body = {"plaintext": b64(plaintext), "context": b64("c")}
        cts = [ok(server, "POST", "encrypt/layout-" + typ, body)["ciphertext"] for server in (sb, bao)]
        assert [c[:9] for c in cts] == ["vault:v1:"] * 2
        assert [len(base64.b64decode(c[9:])) for c in cts] == [12 + len(plaintext) + 16] * 2
        assert ok(sb, "POST", "encrypt/layout-" + typ, body)["ciphertext"] == cts[0]
