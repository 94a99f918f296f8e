#!/usr/bin/env python3
"""Dynamic PostgreSQL credentials issued per second at 16 concurrent clients:
Sealbox against OpenBao (one node, integrated raft storage, the same
certificate, the same PostgreSQL, the same role and statements, 16 pooled
connections each) and pgbench running the same CREATE ROLE + GRANT directly
over libpq. Rounds interleave pgbench, Sealbox and OpenBao. Figures only, not
a test.

  SEALBOX_BIN=build/server/sealbox bench/database/run.py [seconds] [rounds]

Each credential is leased (1 h) by both servers. Runs under the venv python
(.venv/bin/python; bench/common.py re-executes with it).
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402
from pg_harness import PG_BIN, Postgres  # noqa: E402  (tests/e2e, on the path common sets)

SECONDS = sys.argv[1] if len(sys.argv) > 1 else "5"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
CREATE = ("CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; "
          "GRANT pg_read_all_data TO \"{{name}}\";")


def configure(server, pg):
    common.must(server.root("POST", "/v1/sys/mounts/database", {"type": "database"}))
    common.must(server.root("POST", "/v1/database/config/pg", {
        "plugin_name": "postgresql-database-plugin", "connection_url": pg.url(), "username": "sealbox",
        "password": "rootpw", "allowed_roles": ["ro"],
        "max_open_connections": 16}))  # as many sessions as pgbench's clients
    common.must(server.root("POST", "/v1/database/roles/ro", {"db_name": "pg", "default_ttl": "1h",
                                                              "creation_statements": [CREATE]}))
    common.must(server.root("GET", "/v1/database/creds/ro"), 200)


def pgbench(pg):
    script = os.path.join(pg.dir, "create.sql")
    with open(script, "w") as f:
        f.write("\\set r random(1, 2000000000)\nBEGIN;\n"
                "CREATE ROLE ref_:r WITH LOGIN PASSWORD 'A1a-0123456789abcdef' VALID UNTIL '2099-01-01';\n"
                "GRANT pg_read_all_data TO ref_:r;\nCOMMIT;\n")
    os.chmod(script, 0o644)
    ref = subprocess.run(["runuser", "-u", "postgres", "--", PG_BIN + "/pgbench", "-h", pg.dir, "-p",
                          str(pg.port), "-U", "postgres", "-n", "-M", "simple", "-c", "16", "-j", "2", "-T",
                          SECONDS, "-f", script, "postgres"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    lat = float(re.search(r"latency average = ([0-9.]+) ms", ref.stdout).group(1))
    aborted = len(re.findall(r"aborted", ref.stdout))
    return {"rps": float(re.search(r"tps = ([0-9.]+)", ref.stdout).group(1)), "p50": lat, "p99": float("nan"),
            "non2xx": aborted, "errors": 0, "cpu_us": None}


def main():
    pg = Postgres()
    s, b = common.pair()
    try:
        configure(s, pg)
        configure(b, pg)
        print("dynamic PostgreSQL credentials, 16 clients, %s s per run, %d rounds "
              "(pgbench: p50 column is its average latency; non-2xx: aborted clients)" % (SECONDS, ROUNDS))
        rep = common.Report()
        for _ in range(ROUNDS):
            rep.add("pgbench-create-role", pgbench(pg))
            for label, srv in (("sealbox-creds", s), ("openbao-creds", b)):
                rep.add(label, common.wrk(srv.url + "/v1/database/creds/ro", SECONDS, pid=srv.proc.pid,
                                          conns=16, token=srv.root_token))
        rep.table()
        print()
        rep.ratio("sealbox-creds/openbao-creds>=1")
        rep.ratio("sealbox-creds/pgbench-create-role>=0.8")
        rep.ratio("openbao-creds/pgbench-create-role")
    finally:
        b.cleanup()
        s.cleanup()
        pg.cleanup()


if __name__ == "__main__":
    main()
