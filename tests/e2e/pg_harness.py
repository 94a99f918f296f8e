"""A real PostgreSQL 15 (Debian's server) for the database tests, started by
the harness as the postgres user on a temp dir and a free loopback port
(PostgreSQL refuses to run as root), stopped at the end."""

import os
import shutil
import subprocess
import tempfile

import harness

PG_BIN = "/usr/lib/postgresql/15/bin"


class Postgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sealbox-pg-")
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = os.path.join(self.dir, "data")
        self.port = harness.free_port()
        self.run(PG_BIN + "/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self.psql("CREATE ROLE sealbox WITH LOGIN SUPERUSER PASSWORD 'rootpw';")
        self.psql("CREATE TABLE public.things (id int); INSERT INTO public.things VALUES (1);")
        # Password logins for everything but the postgres superuser on the socket.
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        self.psql("SELECT pg_reload_conf();")

    def run(self, *args, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--"] + list(args), check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)

    def start(self):
        self.run(PG_BIN + "/pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", os.path.join(self.dir, "pg.log"),
                 "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off" % (self.port, self.dir), "start")

    def stop(self):
        self.run(PG_BIN + "/pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop", check=False)

    def psql(self, sql, user="postgres", password=None, db="postgres"):
        """Runs SQL; returns (returncode, output). As postgres over the socket,
        or as `user` over TCP with a password."""
        env = dict(os.environ)
        if password is not None:
            env["PGPASSWORD"] = password
            cmd = [PG_BIN + "/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, "-d", db]
        else:
            cmd = ["runuser", "-u", "postgres", "--", PG_BIN + "/psql", "-h", self.dir, "-p", str(self.port),
                   "-U", user, "-d", db]
        r = subprocess.run(cmd + ["-v", "ON_ERROR_STOP=1", "-tAc", sql], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60)
        return r.returncode, r.stdout.strip()

    def url(self):
        return "postgresql://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable" % self.port

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
