#!/usr/bin/env python3
"""Dynamic credentials issued per second at 16 concurrent clients, against a
reference measured in the same run: pgbench running the same CREATE ROLE +
GRANT statements directly over libpq. Figures only, not a test.

  SEALBOX_BIN=build/server/sealbox bench/database/run.py [seconds]
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e"))
import harness  # noqa: E402
from pg_harness import PG_BIN, Postgres  # noqa: E402

SECONDS = sys.argv[1] if len(sys.argv) > 1 else "5"
CREATE = ("CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; "
          "GRANT pg_read_all_data TO \"{{name}}\";")


def main():
    pg = Postgres()
    s = harness.Server(log_level="warn").start()
    s.init()
    s.unseal()
    try:
        t = s.root_token
        s.raw("POST", "/v1/sys/mounts/database", t, {"type": "database"})
        s.raw("POST", "/v1/database/config/pg", t, {"plugin_name": "postgresql-database-plugin",
                                                     "connection_url": pg.url(), "username": "sealbox",
                                                     "password": "rootpw", "allowed_roles": ["ro"],
                                                     # as many sessions as pgbench's clients
                                                     "max_open_connections": 16})
        s.raw("POST", "/v1/database/roles/ro", t, {"db_name": "pg", "default_ttl": "1h",
                                                    "creation_statements": [CREATE]})
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
        ref_tps = float(re.search(r"tps = ([0-9.]+)", ref.stdout).group(1))
        aborted = len(re.findall(r"aborted", ref.stdout))
        wrk = subprocess.run(["wrk", "-t2", "-c16", "-d%ss" % SECONDS, "--latency", "-H", "X-Vault-Token: " + t,
                              s.url + "/v1/database/creds/ro"], stdout=subprocess.PIPE, text=True)
        rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", wrk.stdout).group(1))
        failed = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
        total = float(re.search(r"(\d+) requests in", wrk.stdout).group(1))
        if failed:  # count only credentials actually issued
            rps *= (total - int(failed.group(1))) / total
        p50 = re.search(r"50%\s+(\S+)", wrk.stdout).group(1)
        p99 = re.search(r"99%\s+(\S+)", wrk.stdout).group(1)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
        print("dynamic PostgreSQL credentials, 16 clients, %s s each" % SECONDS)
        print("%-34s %9.0f /s%s" % ("pgbench CREATE ROLE + GRANT (ref)", ref_tps,
                                    "  (%d clients aborted on errors)" % aborted if aborted else ""))
        print("%-34s %9.0f /s  p50 %s  p99 %s%s" % ("sealbox database/creds (leased)", rps, p50, p99,
                                                  "  non-2xx %s" % non2xx.group(1) if non2xx else ""))
        print("ratio sealbox/reference: %.2f (target >= 0.8)" % (rps / ref_tps))
    finally:
        s.cleanup()
        pg.cleanup()


if __name__ == "__main__":
    main()
