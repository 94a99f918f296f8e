"""End to end: the Transit engine's asymmetric keys (issue 26) against OpenBao
2.7 (`bao server`): RSA encryption (OAEP, SHA-256), ecdsa-p521, derived
ed25519 keys, and signing keys moved both ways by backup and restore, each
side then verifying the other's signatures and decrypting the other's RSA
ciphertext. Statuses, error words and response shapes are compared with
OpenBao's; where OpenBao answers 500 for a deterministic refusal Sealbox
answers 400 with the same words (compatibility.md, "Transit").

Run: SEALBOX_BIN=build/server/sealbox .venv/bin/python -m pytest tests/e2e/test_transit_asym.py
"""

import base64

import pytest

from test_transit import assert_same_answers, b64, bao, call, ok, refused, sb  # noqa: F401  (sb, bao: the module's servers)

# Requests whose answers must match OpenBao's: status, error words, shapes.
SCENARIO = [
    ("POST", "keys/r", {"type": "rsa-2048"}),
    ("GET", "keys/r", None),
    ("POST", "encrypt/r", {"plaintext": b64("x")}),
    ("POST", "encrypt/r", {"plaintext": b64("x"), "context": b64("ignored")}),
    ("POST", "encrypt/r", {"plaintext": b64("x"), "associated_data": b64("a")}),
    ("POST", "encrypt/r", {"batch_input": [{"plaintext": b64("x"), "reference": "q"}, {"plaintext": b64("y")}]}),
    ("POST", "decrypt/r", {"ciphertext": "vault:v1:!!"}),
    ("POST", "decrypt/r", {"ciphertext": "vault:v9:AAAA"}),
    ("POST", "decrypt/r", {"ciphertext": "vault:v1:AAAA", "associated_data": b64("a")}),
    # A batch item refused for associated data is reported, yet the batch answers 200.
    ("POST", "encrypt/r", {"batch_input": [{"plaintext": b64("x")}, {"plaintext": b64("y"), "associated_data": b64("a")}]}),
    ("POST", "decrypt/r", {"batch_input": [{"ciphertext": "vault:v1:AAAA", "associated_data": b64("a")}]}),
    ("POST", "rewrap/r", {"batch_input": [{"ciphertext": "junk"}]}),
    ("POST", "datakey/plaintext/r", {}),
    ("POST", "datakey/wrapped/r", {"bits": 512}),
    ("POST", "encrypt/absent", {"plaintext": b64("x"), "type": "rsa-2048"}),
    ("POST", "sign/r", {"input": b64("x"), "salt_length": "hash"}),
    ("POST", "sign/r", {"input": b64("x"), "salt_length": "222"}),
    ("POST", "sign/r", {"input": b64("x"), "salt_length": "x"}),
    ("POST", "sign/r", {"input": b64("x"), "salt_length": "-5"}),
    ("POST", "sign/r", {"input": b64("x"), "salt_length": "hash", "signature_algorithm": "pkcs1v15"}),
    ("POST", "keys/p5", {"type": "ecdsa-p521"}),
    ("GET", "keys/p5", None),
    ("POST", "sign/p5", {"input": b64("x")}),
    ("POST", "sign/p5/sha2-512", {"input": b64("x"), "marshaling_algorithm": "jws"}),
    ("POST", "encrypt/p5", {"plaintext": b64("x")}),
    ("POST", "encrypt/p5", {"plaintext": b64("x"), "associated_data": b64("a")}),
    ("GET", "export/public-key/p5", None),
    ("POST", "keys/ed", {"type": "ed25519"}),
    ("POST", "sign/ed", {"input": b64("x")}),
    ("POST", "sign/ed", {"batch_input": [{"input": b64("x")}]}),
    ("POST", "keys/edd", {"type": "ed25519", "derived": True}),
    ("GET", "keys/edd", None),
    ("GET", "keys/edd?context=" + b64("c"), None),
    ("GET", "keys/edd?context=!!", None),
    ("POST", "sign/edd", {"input": b64("x"), "context": b64("c")}),
    ("POST", "sign/edd", {"batch_input": [{"input": b64("x"), "context": b64("c")}, {"input": b64("x"), "context": b64("d")}]}),
    ("POST", "verify/edd", {"input": b64("x"), "context": b64("c"), "signature": "vault:v1:" + b64(b"\0" * 64)}),
    ("GET", "export/public-key/edd", None),
]


def test_same_answers_as_openbao(sb, bao):
    for server in (sb, bao):
        st, body = server.root("POST", "/v1/sys/mounts/asym", {"type": "transit"})
        assert st == 204, body
    assert_same_answers(sb, bao, "asym", SCENARIO)


def test_rsa_encryption(sb):
    key = ok(sb, "POST", "keys/rsa-enc", {"type": "rsa-3072", "exportable": True})
    assert key["supports_encryption"] and key["supports_decryption"] and not key["supports_derivation"]
    ct = ok(sb, "POST", "encrypt/rsa-enc", {"plaintext": b64("secret")})["ciphertext"]
    assert ct.startswith("vault:v1:") and len(base64.b64decode(ct[9:])) == 384  # one 3072-bit block
    assert ok(sb, "POST", "decrypt/rsa-enc", {"ciphertext": ct})["plaintext"] == b64("secret")
    ok(sb, "POST", "keys/rsa-enc/rotate")
    rewrapped = ok(sb, "POST", "rewrap/rsa-enc", {"ciphertext": ct, "associated_data": b64("ignored")})["ciphertext"]
    assert rewrapped.startswith("vault:v2:")
    batch = ok(sb, "POST", "decrypt/rsa-enc", {"batch_input": [{"ciphertext": ct, "reference": "a"},
                                                                {"ciphertext": rewrapped}]})["batch_results"]
    assert [r["plaintext"] for r in batch] == [b64("secret")] * 2 and batch[0]["reference"] == "a"
    dk = ok(sb, "POST", "datakey/plaintext/rsa-enc", {"bits": 256})
    assert ok(sb, "POST", "decrypt/rsa-enc", {"ciphertext": dk["ciphertext"]})["plaintext"] == dk["plaintext"]
    pem = ok(sb, "GET", "export/encryption-key/rsa-enc/1")["keys"]["1"]
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    # OpenBao answers these deterministic failures 500 with the same words.
    refused(sb, "sign/rsa-enc", {"input": b64("x"), "salt_length": "351"}, "requested salt length 351 is invalid")
    refused(sb, "encrypt/rsa-enc", {"plaintext": b64("x" * 400)},
            "failed to RSA encrypt the plaintext: crypto/rsa: message too long for RSA key size")
    tampered = ct[:20] + ("A" if ct[20] != "A" else "B") + ct[21:]
    refused(sb, "decrypt/rsa-enc", {"ciphertext": tampered},
            "failed to RSA decrypt the ciphertext: crypto/rsa: decryption error")


def test_derived_ed25519_signs_per_context(sb):
    ok(sb, "POST", "keys/ed-ctx", {"type": "ed25519", "derived": True})
    signed = {c: ok(sb, "POST", "sign/ed-ctx", {"input": b64("m"), "context": b64(c)}) for c in ("a", "b")}
    assert signed["a"]["public_key"] != signed["b"]["public_key"]
    read = ok(sb, "GET", "keys/ed-ctx?context=" + b64("a"))
    assert read["keys"]["1"]["public_key"] == signed["a"]["public_key"] and read["supports_derivation"]
    for ctx, valid in (("a", True), ("b", False)):
        body = {"input": b64("m"), "context": b64(ctx), "signature": signed["a"]["signature"]}
        assert ok(sb, "POST", "verify/ed-ctx", body)["valid"] is valid
    missing = ("error deriving key: missing 'context' for key derivation; the key was created using a derived key, "
               "which means additional, per-request information must be included in order to perform operations "
               "with the key")
    refused(sb, "sign/ed-ctx", {"input": b64("m")}, missing)  # OpenBao: 500, same words
    refused(sb, "keys/ed-conv", {"type": "ed25519", "derived": True, "convergent_encryption": True},
            "convergent encryption not supported for keys of type ed25519")


MOVED = ["rsa-2048", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519", "ed25519-derived"]


def create_two_versions(server, name, typ):
    opts = {"type": typ.replace("-derived", ""), "exportable": True, "allow_plaintext_backup": True,
            "derived": typ.endswith("-derived")}
    ok(server, "POST", "keys/" + name, opts)
    ok(server, "POST", "keys/" + name + "/rotate")


def public_keys(server, name):
    return {v: k["public_key"] for v, k in ok(server, "GET", "keys/%s?context=%s" % (name, b64("ctx")))["keys"].items()}


def signature_checks(signer, verifier, name, typ):
    """Each version's signature by `signer` verifies on `verifier`; RSA
    ciphertext of each version decrypts there."""
    for version in (1, 2):
        body = {"input": b64("moved"), "key_version": version, "context": b64("ctx")}
        sig = ok(signer, "POST", "sign/" + name, body)["signature"]
        check = {"input": b64("moved"), "signature": sig, "context": b64("ctx")}
        assert ok(verifier, "POST", "verify/" + name, check)["valid"] is True, (typ, version)
        if typ.startswith("ed25519"):  # deterministic: the very same signature
            assert ok(verifier, "POST", "sign/" + name, body)["signature"] == sig
        if typ.startswith("rsa"):  # PSS with a chosen salt length: valid only with that length
            salted = ok(signer, "POST", "sign/" + name, dict(body, salt_length="20"))["signature"]
            for salt, valid in (("20", True), ("auto", True), ("hash", False)):
                check = {"input": b64("moved"), "signature": salted, "salt_length": salt}
                assert ok(verifier, "POST", "verify/" + name, check)["valid"] is valid, (salt, version)
            ct = ok(signer, "POST", "encrypt/" + name, {"plaintext": b64("v%d" % version), "key_version": version})
            assert ok(verifier, "POST", "decrypt/" + name, ct)["plaintext"] == b64("v%d" % version)


@pytest.mark.parametrize("typ", MOVED)
def test_signing_keys_move_between_openbao_and_sealbox(sb, bao, typ):
    """A signing key backed up in OpenBao restores in Sealbox with the same
    public keys, and one backed up in Sealbox restores in OpenBao."""
    for source, target, name in ((bao, sb, "from-bao-" + typ), (sb, bao, "from-sb-" + typ)):
        create_two_versions(source, name, typ)
        st, resp = call(target, "POST", "restore", {"backup": ok(source, "GET", "backup/" + name)["backup"]})
        assert st == 204, resp
        assert public_keys(target, name) == public_keys(source, name)
        signature_checks(source, target, name, typ)
        signature_checks(target, source, name, typ)
