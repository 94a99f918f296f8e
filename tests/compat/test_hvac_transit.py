"""hvac 2.4's Transit methods (`client.secrets.transit.*`) against Sealbox:
what a Python application using hvac's own calls sees, end to end (issue 26).
"""
import base64

import hvac
import pytest

from common import harness


def b64(s):
    return base64.b64encode(s.encode()).decode()


@pytest.fixture(scope="module")
def transit():
    s = harness.Server(log_level="warn").start()
    s.init(1, 1)
    s.unseal(s.keys)
    c = s.hvac()
    c.sys.enable_secrets_engine("transit")
    yield c.secrets.transit
    s.cleanup()


def test_keys(transit):
    transit.create_key("app", exportable=True, key_type="aes256-gcm96")
    transit.create_key("conv", derived=True, convergent_encryption=True, key_type="chacha20-poly1305")
    assert {"app", "conv"} <= set(transit.list_keys()["data"]["keys"])
    read = transit.read_key("conv")["data"]
    assert read["type"] == "chacha20-poly1305" and read["derived"] and read["convergent_encryption"]
    transit.rotate_key("app")
    transit.update_key_configuration("app", min_decryption_version=1, min_encryption_version=2, deletion_allowed=True)
    transit.trim_key("app", min_version=1)
    read = transit.read_key("app")["data"]
    assert read["latest_version"] == 2 and read["min_encryption_version"] == 2 and read["deletion_allowed"]
    exported = transit.export_key("app", key_type="encryption-key", version="latest")["data"]
    assert list(exported["keys"]) == ["2"]
    transit.create_key("gone")
    transit.update_key_configuration("gone", deletion_allowed=True)
    transit.delete_key("gone")
    with pytest.raises(hvac.exceptions.InvalidPath):
        transit.read_key("gone")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="not exportable"):
        transit.export_key("conv", key_type="encryption-key")


def test_backup_restore(transit):
    transit.create_key("bk", exportable=True, allow_plaintext_backup=True)
    ct = transit.encrypt_data("bk", plaintext=b64("saved"))["data"]["ciphertext"]
    backup = transit.backup_key("bk")["data"]["backup"]
    transit.restore_key(backup, name="bk-restored")
    assert transit.decrypt_data("bk-restored", ciphertext=ct)["data"]["plaintext"] == b64("saved")
    with pytest.raises(hvac.exceptions.InvalidRequest, match="already exists"):
        transit.restore_key(backup, name="bk-restored")
    transit.restore_key(backup, name="bk-restored", force=True)


def test_encrypt_decrypt_rewrap(transit):
    transit.create_key("enc")
    ct = transit.encrypt_data("enc", plaintext=b64("hi"), associated_data=b64("aad"))["data"]["ciphertext"]
    assert transit.decrypt_data("enc", ciphertext=ct, associated_data=b64("aad"))["data"]["plaintext"] == b64("hi")
    batch = transit.encrypt_data("enc", batch_input=[{"plaintext": b64("a")}, {"plaintext": b64("b")}])
    cts = [r["ciphertext"] for r in batch["data"]["batch_results"]]
    out = transit.decrypt_data("enc", batch_input=[{"ciphertext": c} for c in cts])["data"]["batch_results"]
    assert [r["plaintext"] for r in out] == [b64("a"), b64("b")]
    transit.rotate_key("enc")
    # hvac's rewrap_data sends no associated_data: rewrap a value sealed without it.
    rewrapped = transit.rewrap_data("enc", ciphertext=cts[0])["data"]
    assert rewrapped["ciphertext"].startswith("vault:v2:") and rewrapped["key_version"] == 2
    assert transit.decrypt_data("enc", ciphertext=rewrapped["ciphertext"])["data"]["plaintext"] == b64("a")
    one = transit.encrypt_data("conv", plaintext=b64("same"), context=b64("c"))["data"]["ciphertext"]
    two = transit.encrypt_data("conv", plaintext=b64("same"), context=b64("c"))["data"]["ciphertext"]
    assert one == two
    with pytest.raises(hvac.exceptions.InvalidRequest, match="message authentication failed"):
        transit.decrypt_data("conv", ciphertext=one, context=b64("other"))


def test_datakey_hmac_hash_random(transit):
    transit.create_key("misc")
    dk = transit.generate_data_key("misc", key_type="plaintext", bits=512)["data"]
    assert len(base64.b64decode(dk["plaintext"])) == 64
    assert transit.decrypt_data("misc", ciphertext=dk["ciphertext"])["data"]["plaintext"] == dk["plaintext"]
    assert "plaintext" not in transit.generate_data_key("misc", key_type="wrapped")["data"]
    mac = transit.generate_hmac("misc", hash_input=b64("m"), algorithm="sha2-512")["data"]["hmac"]
    verified = transit.verify_signed_data("misc", hash_input=b64("m"), hmac=mac, hash_algorithm="sha2-512")
    assert verified["data"]["valid"] is True
    assert transit.verify_signed_data("misc", hash_input=b64("x"), hmac=mac, hash_algorithm="sha2-512")["data"] == \
        {"valid": False}
    digest = transit.hash_data(b64("hello world"), algorithm="sha2-256", output_format="hex")["data"]["sum"]
    assert digest == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    rnd = transit.generate_random_bytes(n_bytes=16, output_format="hex")["data"]["random_bytes"]
    assert len(rnd) == 32


def test_sign_verify(transit):
    transit.create_key("signer", key_type="ecdsa-p256")
    sig = transit.sign_data("signer", hash_input=b64("doc"), hash_algorithm="sha2-384")["data"]["signature"]
    ok = transit.verify_signed_data("signer", hash_input=b64("doc"), signature=sig, hash_algorithm="sha2-384")
    assert ok["data"]["valid"] is True
    transit.create_key("rsa", key_type="rsa-2048")
    sig = transit.sign_data("rsa", hash_input=b64("doc"), signature_algorithm="pkcs1v15")["data"]["signature"]
    assert transit.verify_signed_data("rsa", hash_input=b64("doc"), signature=sig,
                                      signature_algorithm="pkcs1v15")["data"]["valid"] is True
