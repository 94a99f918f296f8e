"""TLS (issue 9): RSA as well as ECDSA certificates, AEAD suites only on TLS
1.2, the certificate reloaded on SIGHUP (a broken one keeps the old), and
no core dumps (RLIMIT_CORE 0; PR_SET_DUMPABLE is set alongside)."""
import os
import signal
import socket
import ssl
import subprocess

import harness


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rsa_cert(d, name, ca_cert, ca_key, cn="127.0.0.1"):
    key, csr, pem = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn, "-keyout", key, "-out", csr)
    ext = os.path.join(d, "san.ext")
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
            "-extfile", ext, "-out", pem)
    return pem, key


def peer_serial(s):
    ctx = ssl.create_default_context(cafile=s.cacert)
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
            return der, tls.version(), tls.cipher()[0]


def s_client(s, *args):
    return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, "-CAfile", s.cacert,
                           "-verify_return_error"] + list(args), input=b"", capture_output=True, timeout=20)


def test_rsa_certificate_aead_only_and_sighup_reload():
    s = harness.Server()
    try:
        # Replace the harness's ECDSA server certificate with an RSA one from the same CA.
        d = s.dir
        pem, key = rsa_cert(d, "rsa1", s.cacert, os.path.join(d, "ca.key"))
        os.replace(pem, os.path.join(d, "server.pem"))
        os.replace(key, os.path.join(d, "server.key"))
        s.start()
        der1, version, cipher = peer_serial(s)
        assert version == "TLSv1.3"
        ok = s_client(s, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
        assert ok.returncode == 0, ok.stdout[-500:]
        for weak in ("AES128-SHA", "ECDHE-RSA-AES128-SHA", "AES256-GCM-SHA384"):  # CBC, or no forward secrecy
            r = s_client(s, "-tls1_2", "-cipher", weak)
            assert r.returncode != 0, weak

        # SIGHUP: a new certificate for new connections, without a restart.
        pem, key = rsa_cert(d, "rsa2", s.cacert, os.path.join(d, "ca.key"))
        os.replace(pem, os.path.join(d, "server.pem"))
        os.replace(key, os.path.join(d, "server.key"))
        s.proc.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: peer_serial(s)[0] != der1, 10, what="the new certificate after SIGHUP")
        der2 = peer_serial(s)[0]

        # A broken certificate on SIGHUP: the old one stays, the error is logged.
        with open(os.path.join(d, "server.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        s.proc.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: "TLS reload failed, keeping the previous certificate" in s.log(), 10,
                           what="the reload error in the log")
        assert peer_serial(s)[0] == der2
        assert s.raw("GET", "/v1/sys/health")[0] in (200, 501)
    finally:
        s.cleanup()


def test_no_core_dumps():
    s = harness.Server().start()
    try:
        with open("/proc/%d/limits" % s.proc.pid) as f:
            core = [l for l in f if l.startswith("Max core file size")][0].split()
        assert core[4:6] == ["0", "0"], core
    finally:
        s.cleanup()
