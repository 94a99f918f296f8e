"""The Dockerfile's stages, run on this machine (CI has no Docker engine):
the build stage's cmake/ninja/strip commands as written, then the runtime
stage's promises: every shared library the stripped binary needs comes from
the runtime stage's package list (or the base image), and the binary runs as
the image's non-root user with its layout and answers the HEALTHCHECK."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402

# Packages of debian:12-slim itself: their libraries are always there.
BASE_IMAGE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblz4-1", "libbz2-1.0", "liblzma5",
              "libcrypt1", "libselinux1", "libpcre2-8-0", "libgmp10", "libacl1", "libattr1"}


def stages():
    text = open(os.path.join(ROOT, "Dockerfile")).read().replace("\\\n", " ")
    parts = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(parts) == 2, "expected a build and a runtime stage"
    return parts


def runs(stage):
    return [m.strip() for m in re.findall(r"^RUN (.*)$", stage, flags=re.M)]


@pytest.fixture(scope="module")
def built():
    build_stage, _ = stages()
    cmds = [c for r in runs(build_stage) for c in r.split("&&") if "cmake" in c or "ninja" in c or "strip" in c]
    assert any(c.strip().startswith("cmake -S . -B build") for c in cmds), cmds
    # The stage's build directory sits where scripts/build's does (directly in
    # the checkout, ignored as build*/) and ccache runs with scripts/build's
    # settings, so each compile command equals the plain build's and hits its cache.
    out = tempfile.mkdtemp(prefix="build-docker-", dir=ROOT)
    env = dict(os.environ, CCACHE_BASEDIR=ROOT, CCACHE_NOHASHDIR="1", CCACHE_DIR=os.environ.get(
        "CCACHE_DIR", os.path.expanduser("~/.cache/sealbox-ccache")))
    for c in cmds:
        c = c.strip().replace(" build", " " + out)
        c = c.replace("-o /sealbox", "-o " + os.path.join(out, "sealbox.stripped"))
        p = subprocess.run(c, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
        assert p.returncode == 0, "%s\n%s" % (c, p.stdout[-3000:] + p.stderr[-3000:])
    yield os.path.join(out, "sealbox.stripped")
    shutil.rmtree(out, ignore_errors=True)


def test_runtime_packages_cover_every_library(built):
    _, runtime = stages()
    install = [r for r in runs(runtime) if "apt-get install" in r][0]
    pkgs = set(re.findall(r"\b(lib[\w.+-]+|ca-certificates|curl)\b", install.split("install", 1)[1].split("&&")[0]))
    assert {"librocksdb7.8", "libssl3", "libpq5"} <= pkgs, pkgs
    ldd = subprocess.run(["ldd", built], capture_output=True, text=True, check=True).stdout
    missing = []
    for lib in re.findall(r"=> (\S+) \(", ldd):
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True)
        pkg = owner.stdout.split(":")[0].strip()
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
            pkg = owner.stdout.split(":")[0].strip()
        if pkg in BASE_IMAGE or pkg in pkgs:
            continue
        # A runtime package's own dependencies come with it: accept what apt would pull in.
        deps = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                               "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"] + sorted(pkgs),
                              capture_output=True, text=True).stdout
        if re.search(r"^\s*(Depends: )?%s$" % re.escape(pkg), deps, re.M):
            continue
        missing.append((lib, pkg))
    assert not missing, "libraries not provided by the runtime stage: %s" % missing
    size = os.path.getsize(built)
    print("\nstripped binary: %.1f MB" % (size / 1e6))
    assert size < 20e6


def test_runs_as_the_image_user_and_passes_the_healthcheck(built):
    _, runtime = stages()
    uid = int(re.search(r"--uid (\d+)", runtime).group(1))
    assert re.search(r"^USER %d:%d$" % (uid, uid), runtime, re.M)
    assert 'ENTRYPOINT ["sealbox"]' in runtime
    assert 'CMD ["server", "-config", "/sealbox/config/sealbox.hcl"]' in runtime
    health = re.search(r"CMD (curl .*?) \|\| exit 1", runtime).group(1)

    root = tempfile.mkdtemp(prefix="sealbox-image-")
    os.chmod(root, 0o755)
    try:
        for d in ("data", "config", "audit", "tls"):
            os.makedirs(os.path.join(root, d))
        harness.make_certs(os.path.join(root, "tls"))
        port = harness.free_port()
        with open(os.path.join(root, "config", "sealbox.hcl"), "w") as f:
            f.write('storage "rocksdb" { path = "%s/data" }\nlistener "tcp" {\n  address = "127.0.0.1:%d"\n'
                    '  tls_cert_file = "%s/tls/server.pem"\n  tls_key_file = "%s/tls/server.key"\n}\n'
                    'disable_mlock = true\n' % (root, port, root, root))
        subprocess.run(["chown", "-R", "%d:%d" % (uid, uid), root], check=True)
        binary = os.path.join(root, "sealbox")
        shutil.copy(built, binary)
        os.chmod(binary, 0o755)
        proc = subprocess.Popen(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", binary,
                                 "server", "-config", os.path.join(root, "config", "sealbox.hcl")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            cmd = shlex.split(health.replace("127.0.0.1:8200", "127.0.0.1:%d" % port))

            def healthy():
                assert proc.poll() is None, proc.stdout.read()
                return subprocess.run(cmd, capture_output=True).returncode == 0

            harness.wait_until(healthy, 30, what="the HEALTHCHECK to pass")
            owners = {os.stat(os.path.join(root, "data", f)).st_uid for f in os.listdir(os.path.join(root, "data"))}
            assert owners == {uid}
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(root, ignore_errors=True)
