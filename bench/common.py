"""Shared by the benchmarks in bench/: servers, wrk runs, /proc figures and
the report of interleaved rounds.

Runs under the project virtual environment's python (.venv/bin/python, made
by scripts/deps: it has the OpenBao peer and the e2e harness's imports);
importing this module from another interpreter re-executes the script with it.

Python benches use `pair()` (Sealbox and OpenBao on one certificate), `wrk()`
and `Report`. Shell benches source bench/common.sh, which calls this file as
`python bench/common.py wrk-summary [TICKS0 TICKS1] < wrk-output` and
`python bench/common.py report RESULTS SPEC...`.
"""

import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PY = os.path.join(ROOT, ".venv", "bin", "python")
if os.path.exists(VENV_PY) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(ROOT, ".venv")):
    os.execv(VENV_PY, [VENV_PY] + sys.argv)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))

HZ = os.sysconf("SC_CLK_TCK")
VALUE_1K = "s" * 1000  # the 1 KiB secret of every KV bench


# --- /proc -------------------------------------------------------------------
def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (0 if no pid)."""
    if not pid:
        return 0
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kb(pid, field="VmRSS"):
    """A kB field of /proc/<pid>/status: VmRSS, or RssAnon (heap, without
    mapped files such as bbolt's mmap or RocksDB's)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s for pid %d" % (field, pid))


# --- wrk ---------------------------------------------------------------------
def _ms(tok):
    m = re.match(r"([\d.]+)(us|ms|s)$", tok)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def parse_wrk(out):
    """rps, p50/p99 (ms), requests, non-2xx and socket errors of one wrk run."""
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
         "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
         "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
         "n": int(re.search(r"(\d+) requests in", out).group(1))}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = sum(int(x) for x in sock.groups()) if sock else 0
    if r["non2xx"]:  # count only the requests that did the work
        r["rps"] *= (r["n"] - r["non2xx"]) / r["n"]
    return r


def wrk_cmd(url, seconds, conns=64, threads=2, token=None, script=None, args=(), timeout="10s", headers=()):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ss" % seconds, "--latency", "--timeout", timeout]
    if token:
        cmd += ["-H", "X-Vault-Token: " + token]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    return cmd + (["--"] + list(args) if args else [])


def wrk(url, seconds, pid=None, also=(), **kw):
    """One wrk run (keep-alive, --latency); the CPU per request of `pid` and
    of the processes in `also` (a request's other hops) is added.
    kw: conns, threads, token, script, args, timeout, headers (see wrk_cmd)."""
    pids = [p for p in (pid, *also) if p]
    t0 = sum(cpu_ticks(p) for p in pids)
    p = subprocess.run(wrk_cmd(url, seconds, **kw), capture_output=True, text=True, timeout=float(seconds) + 120)
    if p.returncode != 0 or "Requests/sec" not in p.stdout:
        raise RuntimeError("wrk failed (%d): %s %s" % (p.returncode, p.stdout, p.stderr))
    r = parse_wrk(p.stdout)
    used = sum(cpu_ticks(p) for p in pids) - t0
    r["cpu_us"] = used * 1e6 / HZ / r["n"] if pids and r["n"] else None
    r["out"] = p.stdout
    return r


# --- servers -----------------------------------------------------------------
def pair(log_level="warn"):
    """Sealbox (durable RocksDB) and OpenBao (raft), TLS with one certificate,
    each initialised with one share and unsealed."""
    import harness
    from openbao import OpenBao

    s = harness.Server(log_level=log_level).start()
    s.init(shares=1, threshold=1)
    s.unseal()
    b = OpenBao(cert=os.path.join(s.dir, "server.pem"), key=os.path.join(s.dir, "server.key"), cacert=s.cacert)
    try:
        b.start()
        b.init(shares=1, threshold=1)
        b.unseal(threshold=1)
    except Exception:
        b.cleanup()
        s.cleanup()
        raise
    return s, b


def must(resp, *ok):
    st, body = resp
    if st not in (ok or (200, 204)):
        raise RuntimeError("unexpected answer %s: %s" % (st, body))
    return body


def kv_secret(server):
    """Mounts KV v2 at secret/ and writes the 1 KiB secret secret/bench.
    OpenBao upgrades a new KV v2 mount in the background: retry until ready."""
    must(server.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}))
    deadline = time.time() + 30
    while server.root("POST", "/v1/secret/data/bench", {"data": {"password": VALUE_1K}})[0] != 200:
        if time.time() > deadline:
            raise RuntimeError("KV v2 mount not ready")
        time.sleep(0.1)


def pid_of(server):
    return server.proc.pid


def write_lines(path, lines):
    """A pool file for bench/k8s/wrk.lua: one entry per line."""
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def kube_jwt_pool(kube, directory, n):
    """n projected tokens of the stand-in's prod/app service account
    (audience "vault"), written as a pool file; returns (path, first)."""
    kube.sa("prod", "app")
    jwts = [kube.token("prod", "app", audiences=["vault"]) for _ in range(n)]
    return write_lines(os.path.join(directory, "jwts"), jwts), jwts[0]


def login_round(rep, sealbox, openbao, seconds, conns, script, args):
    """One round of the same login load on Sealbox, then on OpenBao."""
    for label, srv in (("sealbox-login", sealbox), ("openbao-login", openbao)):
        rep.add(label, wrk(srv.url, seconds, pid=srv.proc.pid, conns=conns, script=script, args=args))


# --- report ------------------------------------------------------------------
class Report:
    """Figures of interleaved rounds: label -> one wrk result per round."""

    def __init__(self):
        self.runs = {}

    def add(self, label, r, show=True):
        self.runs.setdefault(label, []).append(r)
        if show:
            print(fmt_run(label, r), flush=True)

    def median(self, label, key="rps"):
        vals = [r[key] for r in self.runs[label] if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def table(self):
        print("\n%-24s %10s %8s %8s %8s  %s" % ("median of rounds", "req/s", "p50 ms", "p99 ms", "CPU us",
                                              "req/s per round"))
        for label in self.runs:
            per = " ".join("%.0f" % r["rps"] for r in self.runs[label])
            cpu = self.median(label, "cpu_us")
            print("%-24s %10.0f %8.2f %8.2f %8s  %s" % (
                label, self.median(label), self.median(label, "p50"), self.median(label, "p99"),
                "-" if cpu is None else "%.1f" % cpu, per))

    def ratio(self, spec):
        """spec "a/b", "a/b>=4" or "cpu_us:a/b": per round and median pair."""
        key, _, rest = spec.rpartition(":")
        key = key or "rps"
        m = re.match(r"([^/<>=]+)/([^/<>=]+)(.*)$", rest)
        a, b, target = m.groups()
        per = [x[key] / y[key] for x, y in zip(self.runs[a], self.runs[b])]
        med = statistics.median(per)
        goal = ""
        if target:
            op, val = re.match(r"(>=|<=)([\d.]+)", target).groups()
            met = med >= float(val) if op == ">=" else med <= float(val)
            goal = "  (target %s %s: %s)" % (op, val, "met" if met else "not met")
        name = ("%s %s/%s" % (key, a, b)) if key != "rps" else "%s/%s" % (a, b)
        print("ratio %-46s median %6.2f%s   per round %s" % (name, med, goal, " ".join("%.2f" % x for x in per)))
        return med


def fmt_run(label, r):
    cpu = r.get("cpu_us")
    return "%-24s %9.0f /s  p50 %7.2f ms  p99 %7.2f ms  non-2xx %d  socket errors %d%s%s" % (
        label, r["rps"], r["p50"], r["p99"], r["non2xx"], r["errors"],
        "" if cpu is None else "  server CPU %.1f us/req" % cpu,
        "" if not (r["non2xx"] or r["errors"]) else "  (errors: not comparable)")


# --- entry points for bench/common.sh ------------------------------------------
def _main(argv):
    if argv[:1] == ["wrk-summary"]:  # wrk output on stdin, CPU ticks before/after in argv
        r = parse_wrk(sys.stdin.read())
        t = int(argv[2]) - int(argv[1]) if len(argv) > 2 and argv[1] != "-" else None
        cpu = "%.1f" % (t * 1e6 / HZ / r["n"]) if t is not None else "-"
        print("%.0f %.2f %.2f %d %d %s" % (r["rps"], r["p50"], r["p99"], r["non2xx"], r["errors"], cpu))
    elif argv[:1] == ["report"]:  # lines "label rps p50 p99 non2xx errors cpu" in run order
        rep = Report()
        with open(argv[1]) as f:
            for line in f:
                lab, rps, p50, p99, bad, err, cpu = line.split()
                rep.add(lab, {"rps": float(rps), "p50": float(p50), "p99": float(p99), "non2xx": int(bad),
                              "errors": int(err), "cpu_us": None if cpu == "-" else float(cpu)}, show=False)
        rep.table()
        print()
        for spec in argv[2:]:
            rep.ratio(spec)
    else:
        sys.exit("usage: common.py wrk-summary [TICKS0 TICKS1] < wrk-output | report FILE SPEC...")


if __name__ == "__main__":
    _main(sys.argv[1:])
