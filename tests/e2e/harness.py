"""Shared end-to-end harness: the real `sealbox` binary over real HTTPS.

`Server` runs `sealbox server -config` over a temp dir that survives restarts
(its own CA and certificate made with the openssl CLI, RocksDB data, unseal
keys, root token), so a test can stop it, kill -9 it and start it again on the
same data. Readiness is a bounded poll of sys/seal-status, never a fixed sleep.

Environment: SEALBOX_BINARY or SEALBOX_BIN (set by ctest), else build/server/sealbox.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sealbox_bin():
    cand = os.environ.get("SEALBOX_BINARY") or os.environ.get("SEALBOX_BIN") or os.path.join(
        os.environ.get("SEALBOX_BUILD_DIR", os.path.join(ROOT, "build")), "server", "sealbox")
    if not os.access(cand, os.X_OK):
        pytest.fail("no sealbox binary at %s (build it or set SEALBOX_BINARY)" % cand)
    return cand


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(cond, timeout=20.0, interval=0.05, what="condition"):
    """Polls cond() until it is truthy or the deadline passes (then fails)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


def make_certs(d):
    """An ECDSA P-256 CA and a server certificate for 127.0.0.1/localhost."""

    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ca = os.path.join(d, "ca.pem")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", "/CN=sealbox e2e CA", "-keyout", os.path.join(d, "ca.key"), "-out", ca)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(d, "server.key"), "-out", os.path.join(d, "server.csr"))
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", os.path.join(d, "server.csr"), "-CA", ca, "-CAkey",
        os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", os.path.join(d, "san.ext"),
        "-out", os.path.join(d, "server.pem"))
    return ca


def https_request(port, cacert, method, path, token=None, body=None, headers=None, raw_body=None, timeout=30):
    """One request to 127.0.0.1:port over TLS, the path sent verbatim; returns
    (status, headers dict lowercased, bytes). Shared with tests/peers."""
    ctx = ssl.create_default_context(cafile=cacert)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    h = dict(headers or {})
    if token:
        h["X-Vault-Token"] = token
    data = raw_body
    if body is not None:
        data = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
    finally:
        conn.close()


# --- secrets never leak -----------------------------------------------------
# Every secret the tests send or receive through Server.raw() (values written
# to KV, passwords, JWTs, tokens, unseal and recovery keys) is remembered;
# when a server is cleaned up, its log (trace level by default) and every
# file in its directory (audit files included; RocksDB's ciphertext and the
# test's own key material excepted) must contain none of them.
SECRETS = set()
SECRET_FIELDS = {"password", "jwt", "token", "client_token", "root_token", "id", "key", "secret", "api_key",
                 "db_password", "value", "pw", "connection_url", "token_reviewer_jwt", "otp", "encoded_token",
                 "encoded_root_token", "plaintext"}
# Only in sys/init answers are "keys" secrets (elsewhere they are LIST results).
INIT_FIELDS = {"keys", "keys_base64", "recovery_keys", "recovery_keys_base64"}
MIN_SECRET_LEN = 8


def _leaves(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from _leaves(x)
    elif isinstance(v, list):
        for x in v:
            yield from _leaves(x)
    elif isinstance(v, str):
        yield v


def _note_fields(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in SECRET_FIELDS:
                SECRETS.update(x for x in _leaves(v) if len(x) >= MIN_SECRET_LEN)
            elif isinstance(v, (dict, list)):
                _note_fields(v)
    elif isinstance(obj, list):
        for v in obj:
            _note_fields(v)


def note_secrets(path, request_body, response_body):
    if "/v1/identity/" in path:  # entity and alias ids are names, not secrets
        return
    if isinstance(request_body, dict):
        _note_fields(request_body)
        if "/data/" in path and isinstance(request_body.get("data"), dict):  # KV v2 values
            SECRETS.update(x for x in _leaves(request_body["data"]) if len(x) >= MIN_SECRET_LEN)
    if isinstance(response_body, dict):
        if path.rstrip("/").endswith(("/sys/init", "/sys/rekey/update", "/sys/rekey-recovery-key/update")):
            for k in INIT_FIELDS:
                SECRETS.update(x for x in _leaves(response_body.get(k)) if len(x) >= MIN_SECRET_LEN)
        auth = response_body.get("auth")
        if isinstance(auth, dict) and isinstance(auth.get("client_token"), str):
            SECRETS.add(auth["client_token"])
        _note_fields({k: v for k, v in response_body.items() if k != "auth"})


def assert_no_secret_leaked(directory):
    leaks = []
    for base, dirs, files in os.walk(directory):
        if os.path.abspath(base) == os.path.abspath(os.path.join(directory, "data")):
            dirs[:] = []  # ciphertext only (test_barrier scans it on purpose)
            continue
        for name in files:
            if name.endswith((".pem", ".key", ".crt")) or name.startswith("key"):
                continue
            p = os.path.join(base, name)
            try:
                if not os.path.isfile(p) or os.path.islink(p):  # FIFOs and sockets would block
                    continue
                if os.path.getsize(p) > 64 << 20:
                    continue
                with open(p, "rb") as f:
                    text = f.read().decode(errors="replace")
            except OSError:
                continue
            for secret in SECRETS:
                if secret in text:
                    leaks.append("%s contains %s..." % (os.path.relpath(p, directory), secret[:6]))
    assert not leaks, "secrets leaked: %s" % leaks[:10]


class Server:
    def __init__(self, extra_config="", listener_extra="", log_level="trace", storage=None):
        """`storage` replaces the RocksDB block (etcd_harness's storage_block)."""
        self.dir = tempfile.mkdtemp(prefix="sealbox-e2e-")
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.cacert = make_certs(self.dir)
        self.data_dir = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "sealbox.hcl")
        if storage is None:
            storage = 'storage "rocksdb" {\n  path = "%s"\n}\n' % self.data_dir
        with open(self.config, "w") as f:
            f.write('%s'
                    'listener "tcp" {\n  address = "127.0.0.1:%d"\n  tls_cert_file = "%s"\n'
                    '  tls_key_file = "%s"\n%s}\n'
                    'api_addr = "%s"\nlog_level = "%s"\ndisable_mlock = true\n%s\n'
                    % (storage, self.port, os.path.join(self.dir, "server.pem"),
                       os.path.join(self.dir, "server.key"), listener_extra, self.url, log_level, extra_config))
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        self.keys = []
        self.keys_b64 = []
        self.root_token = None

    # --- process control ---
    def start(self):
        # free_port() only finds a port that was free a moment ago; another
        # test process may take it first. Then move to a new port and retry.
        for attempt in range(5):
            try:
                return self._start_once()
            except RuntimeError as e:
                if "Address already in use" not in str(e) or attempt == 4:
                    raise
                old_port, self.port = self.port, free_port()
                self.url = "https://127.0.0.1:%d" % self.port
                with open(self.config) as f:
                    text = f.read().replace(":%d\"" % old_port, ":%d\"" % self.port)
                with open(self.config, "w") as f:
                    f.write(text)

    def _start_once(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sealbox_bin(), "server", "-config", self.config],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("sealbox exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                return self.raw("GET", "/v1/sys/seal-status")[0] == 200
            except OSError:
                return False

        wait_until(ready, 30, what="sealbox to listen")
        return self

    def stop(self):
        """SIGTERM; returns the exit code (0 on a clean shutdown)."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("sealbox did not stop within 20 s of SIGTERM")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            assert_no_secret_leaked(self.dir)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    # --- lifecycle ---
    def init(self, shares=5, threshold=3):
        st, body = self.raw("PUT", "/v1/sys/init", body={"secret_shares": shares, "secret_threshold": threshold})
        assert st == 200, body
        self.keys, self.keys_b64, self.root_token = body["keys"], body["keys_base64"], body["root_token"]
        return body

    def unseal(self, keys=None):
        body = None
        for k in keys or self.keys[:3]:
            st, body = self.raw("PUT", "/v1/sys/unseal", body={"key": k})
            assert st == 200, body
        assert body["sealed"] is False, body
        return body

    # --- HTTP ---
    def raw(self, method, path, token=None, body=None, headers=None, raw_body=None, timeout=30):
        """One request with the path sent verbatim (no client-side
        normalisation); returns (status, parsed JSON / text / None)."""
        status, _, data = self.request(method, path, token, body, headers, raw_body, timeout)
        if not data:
            note_secrets(path, body, None)
            return status, None
        try:
            parsed = json.loads(data)
        except ValueError:
            return status, data.decode(errors="replace")
        note_secrets(path, body, parsed)
        return status, parsed

    def request(self, method, path, token=None, body=None, headers=None, raw_body=None, timeout=30):
        """Like raw() but returns (status, headers dict lowercased, bytes)."""
        return https_request(self.port, self.cacert, method, path, token, body, headers, raw_body, timeout)

    def root(self, method, path, body=None, headers=None):
        return self.raw(method, path, self.root_token, body, headers)

    def hvac(self, token=None):
        import hvac
        return hvac.Client(url=self.url, token=token if token is not None else self.root_token, verify=self.cacert)


class DevServer:
    """A `sealbox server -dev` child process (dev mode: generated CA, already
    initialised and unsealed); knows its URL, CA and root token. raw() returns
    (status, bytes)."""

    def __init__(self):
        self.port = free_port()
        self.root_token = "e2e-tokens-root"
        self.proc = subprocess.Popen(
            [sealbox_bin(), "server", "-dev", "-dev-root-token-id=" + self.root_token,
             "-dev-listen-address=127.0.0.1:%d" % self.port, "-log-level=warn"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = "https://127.0.0.1:%d" % self.port
        self.cacert = None
        self.unseal_key = None
        deadline = time.time() + 30
        out = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            out.append(line)
            m = re.search(r"VAULT_CACERT='([^']+)'", line)
            if m:
                self.cacert = m.group(1)
            m = re.match(r"Unseal Key: (\S+)", line)
            if m:
                self.unseal_key = m.group(1)
            if line.startswith("Root Token:"):
                break
        if self.cacert is None:
            self.stop()
            raise RuntimeError("sealbox dev server did not start:\n" + "".join(out))

    def client(self, token=None):
        import hvac
        return hvac.Client(url=self.url, token=token, verify=self.cacert)

    def raw(self, method, path, token=None, body=None):
        """Sends `path` byte for byte (no client-side dot-segment cleaning)."""
        ctx = ssl.create_default_context(cafile=self.cacert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        headers = {"X-Vault-Token": token} if token else {}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def fresh_server():
    """A started server that is not initialised."""
    s = Server().start()
    yield s
    s.cleanup()


@pytest.fixture
def server():
    """A started, initialised (5/3) and unsealed server."""
    s = Server().start()
    s.init()
    s.unseal()
    yield s
    s.cleanup()
