"""A real etcd cluster (Debian's etcd-server 3.4) on loopback for the etcd
storage and HA tests: three members by default, each on free client and peer
ports with its own temp data dir, started and checked healthy with bounded
waits. Members can be killed (SIGKILL) and started again on their data;
`etcdctl` reads what Sealbox stored. Optionally TLS on the client port with
client certificates (the peers talk plain HTTP on loopback).
"""

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import urllib.request

import harness

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


def make_client_cert(d, ca, name):
    """A client certificate `name`.pem/.key signed by the CA of make_certs."""
    key, csr, pem = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".pem"))

    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial",
        "-days", "2", "-extfile", ext, "-out", pem)
    return pem, key


class EtcdCluster:
    # Raft timing: etcd's defaults (100 ms, 1 s) call elections on a loaded
    # 2-core machine; these keep one leader there and still elect in seconds.
    HEARTBEAT_MS = 200
    ELECTION_MS = 2000

    def __init__(self, size=3, tls=False, extra_args=()):
        """`extra_args` go to every member (e.g. --quota-backend-bytes)."""
        self.dir = tempfile.mkdtemp(prefix="sealbox-etcd-")
        self.tls = tls
        self.extra_args = list(extra_args)
        self.scheme = "https" if tls else "http"
        if tls:
            self.ca = harness.make_certs(self.dir)  # server.pem for 127.0.0.1
            self.client_cert, self.client_key = make_client_cert(self.dir, self.ca, "client")
        self.members = []
        for i in range(size):
            self.members.append({"name": "m%d" % i, "client": harness.free_port(), "peer": harness.free_port(),
                                 "data": os.path.join(self.dir, "m%d" % i), "proc": None,
                                 "log": os.path.join(self.dir, "m%d.log" % i)})
        self.initial = ",".join("%s=http://127.0.0.1:%d" % (m["name"], m["peer"]) for m in self.members)
        for i in range(size):
            self._spawn(i)
        self.wait_healthy()

    # --- addresses ---
    def client_url(self, i):
        return "%s://127.0.0.1:%d" % (self.scheme, self.members[i]["client"])

    def address(self):
        """Vault's `address`: every member's client URL, comma-separated."""
        return ",".join(self.client_url(i) for i in range(len(self.members)))

    def storage_block(self, path, extra=""):
        """A storage "etcd" block for harness.Server(storage=...)."""
        tls = ""
        if self.tls:
            tls = '  tls_ca_file = "%s"\n  tls_cert_file = "%s"\n  tls_key_file = "%s"\n' % (
                self.ca, self.client_cert, self.client_key)
        return 'storage "etcd" {\n  address = "%s"\n  path = "%s"\n%s%s}\n' % (self.address(), path, tls, extra)

    # --- process control ---
    def _spawn(self, i):
        m = self.members[i]
        url = self.client_url(i)
        args = [ETCD, "--name", m["name"], "--data-dir", m["data"],
                "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", "http://127.0.0.1:%d" % m["peer"],
                "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % m["peer"],
                "--initial-cluster", self.initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", os.path.basename(self.dir),
                "--heartbeat-interval", str(self.HEARTBEAT_MS), "--election-timeout", str(self.ELECTION_MS),
                "--logger", "zap", "--log-level", "warn"]
        args += self.extra_args
        if self.tls:
            args += ["--cert-file", os.path.join(self.dir, "server.pem"),
                     "--key-file", os.path.join(self.dir, "server.key"),
                     "--trusted-ca-file", self.ca, "--client-cert-auth"]
        log = open(m["log"], "ab")
        m["proc"] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def _health(self, i):
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca)
            ctx.load_cert_chain(self.client_cert, self.client_key)
        try:
            with urllib.request.urlopen(self.client_url(i) + "/health", timeout=2, context=ctx) as r:
                return json.loads(r.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def wait_healthy(self, members=None, timeout=60):
        for i in members if members is not None else range(len(self.members)):
            proc = self.members[i]["proc"]

            def healthy(i=i, proc=proc):
                if proc.poll() is not None:
                    raise RuntimeError("etcd member %d exited with %s:\n%s" % (i, proc.returncode, self.log(i)))
                return self._health(i)

            harness.wait_until(healthy, timeout, 0.1, what="etcd member %d to be healthy" % i)

    def leader(self):
        """The index of the member that leads, or None."""
        ids = {}
        leader_id = None
        for i in range(len(self.members)):
            if self.members[i]["proc"].poll() is not None:
                continue
            try:
                out = json.loads(self._etcdctl_at(i, "endpoint", "status", "-w", "json"))
            except (RuntimeError, ValueError):
                continue
            for st in out:
                ids[st["Status"]["header"]["member_id"]] = i
                leader_id = st["Status"]["leader"] or leader_id
        return ids.get(leader_id)

    def kill(self, i):
        proc = self.members[i]["proc"]
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def start(self, i):
        """Starts a killed member again on its data (it rejoins the cluster)."""
        self._spawn(i)

    def kill_all(self):
        for i in range(len(self.members)):
            self.kill(i)

    def start_all(self):
        for i in range(len(self.members)):
            if self.members[i]["proc"].poll() is not None:
                self._spawn(i)
        self.wait_healthy()

    def log(self, i):
        with open(self.members[i]["log"], "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def cleanup(self):
        self.kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- reading what is stored ---
    def etcdctl(self, *args, timeout=30):
        return self._etcdctl_at(None, *args, timeout=timeout)

    def _etcdctl_at(self, member, *args, timeout=30, user=None):
        endpoints = self.address() if member is None else self.client_url(member)
        cmd = [ETCDCTL, "--endpoints", endpoints, "--command-timeout", "10s"]
        if user:
            cmd += ["--user", user]
        if self.tls:
            cmd += ["--cacert", self.ca, "--cert", self.client_cert, "--key", self.client_key]
        r = subprocess.run(cmd + list(args), env=dict(os.environ, ETCDCTL_API="3"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("etcdctl %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout

    def reclaim_space(self):
        """An operator's answer to the NOSPACE alarm: compact to the current
        revision, defragment every member, disarm the alarm."""
        status = json.loads(self.etcdctl("endpoint", "status", "-w", "json"))
        revision = max(st["Status"]["header"]["revision"] for st in status)
        self.etcdctl("compact", str(revision))
        self.etcdctl("defrag")
        self.etcdctl("alarm", "disarm")

    def get_prefix(self, prefix):
        """Every key under `prefix` with its value, as bytes."""
        return self.get_prefix_as(None, prefix)

    def get_prefix_as(self, user, prefix):
        """get_prefix as an etcd user ("name:password") once auth is on."""
        out = json.loads(self._etcdctl_at(None, "get", "--prefix", prefix, "-w", "json", user=user))
        return {base64.b64decode(kv["key"]): base64.b64decode(kv.get("value", ""))
                for kv in out.get("kvs", [])}
