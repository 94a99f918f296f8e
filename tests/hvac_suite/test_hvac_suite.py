"""hvac 2.4's own integration tests (from its PyPI sdist, which scripts/deps
fetches pinned by sdist.txt into .cache/hvac-sdist) for AppRole, userpass,
response wrapping, wrapped tokens, rekey and generate-root, run against the
real sealbox. The selection is selected.txt; deselections, each with its
reason, are deselected.txt; hvac_shim.py starts Sealbox in place of vault.

Every selected test must pass: a failure, an error or a skip fails this test
(a skip would mean a version gate or a missing tool hid a test)."""

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SDIST_DIR = os.path.join(ROOT, ".cache", "hvac-sdist")


def pinned_sdist():
    """(path, sha256) of the sdist sdist.txt pins."""
    with open(os.path.join(HERE, "sdist.txt")) as f:
        line = next(l for l in f if l.strip() and not l.startswith("#"))
    m = re.match(r"^(\S+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})\s*$", line)
    assert m, "sdist.txt: want `<name>==<version> --hash=sha256:<hex>`"
    name, version, digest = m.groups()
    return os.path.join(SDIST_DIR, "%s-%s.tar.gz" % (name, version)), digest


def unpacked_sdist(dest):
    path, digest = pinned_sdist()
    if not os.path.exists(path):
        pytest.fail("%s is missing: run scripts/deps (it fetches hvac's sdist)" % path)
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest, "%s does not match sdist.txt's hash" % path
    with tarfile.open(path) as t:
        # Debian 12's Python (3.11.2) predates extraction filters; the hash pins the file.
        for m in t.getmembers():
            assert (m.isfile() or m.isdir()) and not m.name.startswith("/") and ".." not in m.name.split("/"), m.name
        t.extractall(dest)
    (top,) = os.listdir(dest)
    return os.path.join(dest, top)


# The tests selected.txt collects from hvac 2.4.0 (deselections included):
# a module that lost tests cannot pass unnoticed.
SELECTED_COUNT = 69


def selected():
    with open(os.path.join(HERE, "selected.txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def outcomes(junit_xml):
    """{test id: "passed" | "failed" | "error" | "skipped"} from pytest's junit report."""
    result = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        name = "%s::%s" % (case.get("classname"), case.get("name"))
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        result[name] = {"failure": "failed"}.get(kinds[0], kinds[0]) if kinds else "passed"
    return result


def test_hvac_own_suite(tmp_path):
    src = unpacked_sdist(str(tmp_path / "src"))
    junit = str(tmp_path / "junit.xml")
    env = dict(os.environ, PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1")
    env.pop("VAULT_ADDR", None)
    env.pop("VAULT_TOKEN", None)
    # hvac's pyproject asks for pytest-xdist (-n auto): one process here, so
    # the suite's servers do not compete for the CI's two cores.
    cmd = [sys.executable, "-m", "pytest", "-p", "hvac_shim", "-p", "no:cacheprovider", "-o", "addopts=",
           "--rootdir", src, "-q", "-rfEs", "--junitxml", junit] + selected()
    p = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True, timeout=600)
    report = (p.stdout + p.stderr)[-30000:]
    assert os.path.exists(junit), "hvac's suite did not run:\n" + report
    results = outcomes(junit)
    bad = {k: v for k, v in results.items() if v != "passed"}
    assert not bad, "hvac's own tests did not all pass: %s\n%s" % (sorted(bad.items()), report)
    assert p.returncode == 0, "hvac's suite exited with %d:\n%s" % (p.returncode, report)
    deselected = len(re.findall(r"^[^#\s]", open(os.path.join(HERE, "deselected.txt")).read(), re.M))
    assert len(results) == SELECTED_COUNT - deselected, "%d of hvac's tests ran, %d deselected, want %d:\n%s" % (
        len(results), deselected, SELECTED_COUNT, report)
