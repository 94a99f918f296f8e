"""End to end: Transit key import (BYOK) as Vault's, against OpenBao 2.7.
Keys are wrapped client-side here with the openssl CLI, the way Vault's docs
tell users to: RSA-OAEP (SHA-256 unless hash_function says otherwise) of an
ephemeral AES-256 key under the mount's wrapping key, followed by the target
key wrapped with AES-KWP (RFC 5649). The same key imported into OpenBao and
into Sealbox must give the same HMACs and ed25519 signatures, and each must
open the other's ciphertext; OpenBao's refusals (500 there, 400 here) must
carry the same words.

Run: SEALBOX_BIN=build/server/sealbox .venv/bin/python -m pytest tests/e2e/test_transit_import.py
"""

import base64
import os
import subprocess
import tempfile

import pytest

from test_transit import b64, bao, call, ok, refused, sb  # noqa: F401  (sb, bao: the module's servers)


def run(*args, data=None):
    return subprocess.run(args, input=data, check=True, capture_output=True).stdout


def pkcs8(*genpkey_args):
    """A fresh private key as PKCS#8 DER."""
    pem = run("openssl", "genpkey", *genpkey_args)
    return run("openssl", "pkcs8", "-topk8", "-nocrypt", "-outform", "DER", data=pem)


def public_pem(private_der):
    return run("openssl", "pkey", "-inform", "DER", "-pubout", data=private_der).decode()


RSA = ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")


def wrap(server, target, hash_name="sha256"):
    """The import ciphertext of `target` for `server`'s wrapping key."""
    pem = ok(server, "GET", "wrapping_key")["public_key"]
    ephemeral = os.urandom(32)
    with tempfile.TemporaryDirectory() as d:
        key_path = os.path.join(d, "wrap.pem")
        with open(key_path, "w") as f:
            f.write(pem)
        wrapped_ephemeral = run("openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", key_path,
                                "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + hash_name,
                                "-pkeyopt", "rsa_mgf1_md:" + hash_name, data=ephemeral)
    wrapped_target = run("openssl", "enc", "-id-aes256-wrap-pad", "-K", ephemeral.hex(), "-iv", "A65959A6",
                         data=target)
    return base64.b64encode(wrapped_ephemeral + wrapped_target).decode()


def imported(server, path, body):
    st, resp = call(server, "POST", path, body)
    assert st == 204, (path, st, resp)


def import_both(sb, bao, name, target, **opts):
    for server in (sb, bao):
        imported(server, "keys/%s/import" % name, dict(opts, ciphertext=wrap(server, target)))


def test_wrapping_key_is_a_stable_rsa_4096_key(sb):
    pem = ok(sb, "GET", "wrapping_key")["public_key"]
    assert pem == ok(sb, "GET", "wrapping_key")["public_key"]
    assert b"4096 bit" in run("openssl", "pkey", "-pubin", "-text", "-noout", data=pem.encode())
    assert "import/" in ok(sb, "LIST", "keys")["keys"]  # where Vault keeps it too


@pytest.mark.parametrize("typ,size", [("aes256-gcm96", 32), ("aes128-gcm96", 16), ("chacha20-poly1305", 32)])
def test_imported_symmetric_keys_work_as_openbaos(sb, bao, typ, size):
    key = os.urandom(size)
    name = "imp-" + typ
    import_both(sb, bao, name, key, type=typ, exportable=True)
    assert ok(sb, "GET", "export/encryption-key/%s/1" % name)["keys"]["1"] == b64(key)
    read = ok(sb, "GET", "keys/" + name)
    assert read["imported_key"] is True and read["imported_key_allow_rotation"] is False
    body = {"plaintext": b64("byok"), "associated_data": b64("aad")}
    for source, target in ((sb, bao), (bao, sb)):
        ct = ok(source, "POST", "encrypt/" + name, body)["ciphertext"]
        assert ok(target, "POST", "decrypt/" + name, {"ciphertext": ct, "associated_data": b64("aad")})["plaintext"] \
            == b64("byok")


def test_imported_hmac_key_macs_as_openbaos(sb, bao):
    import_both(sb, bao, "imp-hmac", os.urandom(64), type="hmac", hash_function="SHA256")
    assert ok(sb, "GET", "keys/imp-hmac")["key_size"] == 64
    mac = {"input": b64("m"), "algorithm": "sha2-512"}
    assert ok(sb, "POST", "hmac/imp-hmac", mac) == ok(bao, "POST", "hmac/imp-hmac", mac)


def test_imported_signing_keys_sign_as_openbaos(sb, bao):
    import_both(sb, bao, "imp-ed", pkcs8("-algorithm", "ed25519"), type="ed25519")
    body = {"input": b64("m")}
    assert ok(sb, "POST", "sign/imp-ed", body) == ok(bao, "POST", "sign/imp-ed", body)  # deterministic
    # A derived ed25519 key from an imported one (OpenBao imports it but cannot sign with it).
    imported(sb, "keys/imp-edd/import", {"ciphertext": wrap(sb, pkcs8("-algorithm", "ed25519")), "type": "ed25519",
                                         "derived": True})
    derived = {"input": b64("m"), "context": b64("tenant")}
    sig = ok(sb, "POST", "sign/imp-edd", derived)["signature"]
    assert ok(sb, "POST", "verify/imp-edd", dict(derived, signature=sig))["valid"] is True
    for typ, args in (("ecdsa-p521", ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521")),
                      ("rsa-2048", RSA)):
        name = "imp-" + typ
        import_both(sb, bao, name, pkcs8(*args), type=typ)
        assert ok(sb, "GET", "keys/" + name)["keys"]["1"]["public_key"] == \
            ok(bao, "GET", "keys/" + name)["keys"]["1"]["public_key"]
        sig = ok(sb, "POST", "sign/" + name, body)["signature"]
        assert ok(bao, "POST", "verify/" + name, dict(body, signature=sig))["valid"] is True
    ct = ok(bao, "POST", "encrypt/imp-rsa-2048", {"plaintext": b64("to sealbox")})["ciphertext"]
    assert ok(sb, "POST", "decrypt/imp-rsa-2048", {"ciphertext": ct})["plaintext"] == b64("to sealbox")


def test_rotation_and_new_versions_of_imported_keys(sb):
    imported(sb, "keys/fixed/import", {"ciphertext": wrap(sb, os.urandom(32))})
    refused(sb, "keys/fixed/rotate", {}, "imported key fixed does not allow rotation within Vault")
    second = os.urandom(32)
    imported(sb, "keys/fixed/import_version", {"ciphertext": wrap(sb, second, "sha512"), "hash_function": "SHA512"})
    assert ok(sb, "GET", "keys/fixed")["latest_version"] == 2
    assert ok(sb, "POST", "encrypt/fixed", {"plaintext": b64("x")})["ciphertext"].startswith("vault:v2:")

    imported(sb, "keys/mobile/import", {"ciphertext": wrap(sb, os.urandom(32)), "allow_rotation": True,
                                        "auto_rotate_period": "2h"})
    rotated = ok(sb, "POST", "keys/mobile/rotate")
    assert rotated["latest_version"] == 2 and rotated["imported_key"] is False  # as OpenBao
    refused(sb, "keys/mobile/import_version", {"ciphertext": wrap(sb, os.urandom(32))},
            "the import_version endpoint can only be used with an imported key")


def test_a_public_key_alone_verifies_and_encrypts(sb, bao):
    """OpenBao holds the private key, Sealbox its public key alone."""
    private = pkcs8(*RSA)
    imported(bao, "keys/half/import", {"ciphertext": wrap(bao, private), "type": "rsa-2048"})
    imported(sb, "keys/half/import", {"public_key": public_pem(private), "type": "rsa-2048", "exportable": True})
    read = ok(sb, "GET", "keys/half")
    assert read["keys"]["1"]["public_key"] == ok(bao, "GET", "keys/half")["keys"]["1"]["public_key"]
    assert read["imported_key"] is True and read["supports_signing"] is True
    ct = ok(sb, "POST", "encrypt/half", {"plaintext": b64("for the holder")})["ciphertext"]
    assert ok(bao, "POST", "decrypt/half", {"ciphertext": ct})["plaintext"] == b64("for the holder")
    sig = ok(bao, "POST", "sign/half", {"input": b64("m")})["signature"]
    assert ok(sb, "POST", "verify/half", {"input": b64("m"), "signature": sig})["valid"] is True
    assert ok(sb, "GET", "export/signing-key/half")["keys"] == {"1": ""}  # no private half, as OpenBao
    refused(sb, "sign/half", {"input": b64("m")}, "requested version for signing does not contain a private part")
    refused(sb, "decrypt/half", {"ciphertext": ct}, "cannot decrypt ciphertext, key version does not have a private counterpart")
    # The private half completes the version that holds its public half (as OpenBao).
    imported(sb, "keys/half/import_version", {"ciphertext": wrap(sb, private)})
    assert ok(sb, "GET", "keys/half")["latest_version"] == 1
    assert ok(sb, "POST", "decrypt/half", {"ciphertext": ct})["plaintext"] == b64("for the holder")
    ec = pkcs8("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
    imported(sb, "keys/half-ec/import", {"public_key": public_pem(ec), "type": "ecdsa-p384"})
    imported(sb, "keys/half-ec/import_version", {"public_key": public_pem(pkcs8("-algorithm", "EC", "-pkeyopt",
                                                                                "ec_paramgen_curve:P-384"))})
    assert ok(sb, "GET", "keys/half-ec")["latest_version"] == 2
    imported(sb, "keys/half-ec/import_version", {"ciphertext": wrap(sb, ec), "version": 1})
    assert ok(sb, "POST", "sign/half-ec", {"input": b64("m"), "key_version": 1})["key_version"] == 1


KEYGEN = {"rsa-2048": RSA, "ecdsa-p256": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
          "ed25519": ("-algorithm", "ed25519")}


@pytest.mark.parametrize("typ", sorted(KEYGEN))
def test_public_keys_alone_move_by_backup(sb, bao, typ):
    """A version holding a public key alone backs up as Vault writes it
    (rsa_public_key, a point without ec_d, ed25519's public_key) both ways."""
    private = pkcs8(*KEYGEN[typ])
    opts = {"public_key": public_pem(private), "type": typ, "exportable": True, "allow_plaintext_backup": True}
    imported(sb, "keys/signer-%s/import" % typ, {"ciphertext": wrap(sb, private), "type": typ})
    sig = ok(sb, "POST", "sign/signer-" + typ, {"input": b64("m")})["signature"]
    for source, target in ((sb, bao), (bao, sb)):
        name = "pub-%s-%d" % (typ, source is sb)
        imported(source, "keys/%s/import" % name, opts)
        st, resp = call(target, "POST", "restore", {"backup": ok(source, "GET", "backup/" + name)["backup"]})
        assert st == 204, resp
        assert ok(target, "GET", "keys/" + name)["keys"]["1"]["public_key"] == \
            ok(source, "GET", "keys/" + name)["keys"]["1"]["public_key"]
        assert ok(target, "POST", "verify/" + name, {"input": b64("m"), "signature": sig})["valid"] is True
        if target is sb:  # OpenBao: the same words, with 500
            refused(sb, "sign/" + name, {"input": b64("m")}, "requested version for signing does not contain a private part")


# Refusals whose words must be OpenBao's (it answers most with 500, Sealbox 400).
PUBLIC = public_pem(pkcs8(*RSA))


def refusals(server):
    good = wrap(server, os.urandom(32))
    short = base64.b64encode(base64.b64decode(good)[:515]).decode()
    tampered = bytearray(base64.b64decode(good))
    tampered[-3] ^= 1
    return [
        ("keys/r-exists/import", {"ciphertext": good}),  # made by the setup below
        ("keys/r1/import", {"ciphertext": good, "type": "aes128-gcm96"}),
        ("keys/r2/import", {"ciphertext": good, "hash_function": "MD5"}),
        ("keys/r3/import", {"ciphertext": good, "type": "bogus"}),
        ("keys/r4/import", {"ciphertext": good, "hash_function": "SHA1"}),
        ("keys/r5/import", {"ciphertext": "!!"}),
        ("keys/r6/import", {"ciphertext": "AAAA"}),
        ("keys/r7/import", {"ciphertext": short}),
        ("keys/r8/import", {"ciphertext": base64.b64encode(bytes(tampered)).decode()}),
        ("keys/r9/import", {}),
        ("keys/r10/import", {"ciphertext": good, "auto_rotate_period": "2h"}),
        ("keys/r11/import", {"ciphertext": good, "derived": True, "convergent_encryption": True}),
        ("keys/r12/import", {"ciphertext": good, "type": "ecdsa-p256"}),
        ("keys/r13/import", {"public_key": "junk", "type": "ecdsa-p256"}),
        ("keys/r14/import", {"public_key": PUBLIC, "type": "aes256-gcm96"}),
        ("keys/r15/import", {"public_key": PUBLIC, "type": "rsa-3072"}),
        ("keys/r16/import", {"public_key": public_pem(pkcs8("-algorithm", "ed25519")), "type": "ed25519",
                             "derived": True}),
        ("sign/r-pub", {"input": b64("x")}),
        ("decrypt/r-pub", {"ciphertext": "vault:v1:" + b64(b"\0" * 256)}),
        ("keys/absent/import_version", {"ciphertext": good}),
        ("keys/r-plain/import_version", {"ciphertext": good}),
        ("keys/r-exists/import_version", {"ciphertext": wrap(server, os.urandom(16))}),
        ("keys/r-exists/import_version", {"ciphertext": good, "version": 1}),
        ("keys/r-pub/import_version", {"ciphertext": wrap(server, pkcs8(*RSA)), "version": 1}),
        ("keys/r-pub/import_version", {"ciphertext": good, "version": 7}),
        ("keys/r-full/import_version", {"version": 1}),
    ]


PARSE_ERROR = "error importing key: error parsing asymmetric key: "


def words(errors):
    """Error words without go-multierror's wrapping, and without the detail of
    a DER parse failure (Go's asn1 package's words, not reproduced)."""
    out = [e.replace("1 error occurred:\n\t* ", "").strip() for e in errors]
    return [PARSE_ERROR if e.startswith(PARSE_ERROR) else e for e in out]


def test_refusals_say_what_openbao_says(sb, bao):
    answers = {}
    for server in (sb, bao):
        ok(server, "POST", "keys/r-plain", {})
        imported(server, "keys/r-exists/import", {"ciphertext": wrap(server, os.urandom(32))})
        imported(server, "keys/r-pub/import", {"public_key": PUBLIC, "type": "rsa-2048"})
        imported(server, "keys/r-full/import", {"ciphertext": wrap(server, pkcs8(*RSA)), "type": "rsa-2048"})
        answers[server] = [call(server, "POST", path, body) for path, body in refusals(server)]
    mismatches = []
    for (path, _), (sb_st, sb_body), (bao_st, bao_body) in zip(refusals(sb), answers[sb], answers[bao]):
        if sb_st != 400 or bao_st not in (400, 500) or words(sb_body.get("errors", [])) != words(bao_body["errors"]):
            mismatches.append((path, sb_st, sb_body, bao_st, bao_body))
    assert not mismatches, "\n".join(map(repr, mismatches))
