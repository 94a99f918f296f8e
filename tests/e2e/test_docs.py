"""The docs cannot rot: every fenced block opened with ```sh test in docs/
(and the README) is run, in order, against a fresh dev server, with the
sealbox binary first on PATH and VAULT_ADDR, VAULT_CACERT and VAULT_TOKEN
set, plus SEALBOX_UNSEAL_KEY (the dev server's unseal key). The blocks of
one file run as one bash script (`set -euo pipefail`) in a scratch
directory, so a block may use files and variables an earlier block made.

Each file runs twice: with the sealbox CLI, and with the vault CLI (OpenBao's
`bao`, SEALBOX_BAO) typed wherever a vault user would type it, i.e. every
`sealbox` command but the Sealbox-only ones (SEALBOX_ONLY). bao reads the same
VAULT_* variables; `set -e` and explicit `rc` checks hold both to the exit
codes the docs promise."""
import glob
import os
import re
import subprocess
import sys
import tempfile

import pytest

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "peers"))
from openbao import bao_bin  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FENCE = re.compile(r"^```sh test[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def runnable_blocks(path):
    with open(path) as f:
        return FENCE.findall(f.read())


# Commands the vault CLI does not have: under the vault CLI they stay `sealbox`.
SEALBOX_ONLY = ("server", "kms-plugin", "audit verify")
VAULT_COMMAND = re.compile(r"\bsealbox(?= +(?!(?:%s)\b))" % "|".join(SEALBOX_ONLY))

DOCS = sorted(p for p in glob.glob(os.path.join(ROOT, "docs", "*.md")) + [os.path.join(ROOT, "README.md")]
              if runnable_blocks(p))


def test_docs_have_runnable_blocks():
    names = {os.path.basename(p) for p in DOCS}
    # The guides whose commands matter most must stay tested.
    for required in ("quickstart.md", "operations.md", "external-secrets.md", "csi.md"):
        assert required in names, "%s has no ```sh test block" % required


def doc_script(doc, cli="sealbox"):
    """The blocks of doc as one bash script; with cli="bao", every command a
    vault user would type runs as `bao` instead of `sealbox`."""
    script = ["set -euo pipefail"]
    for i, block in enumerate(runnable_blocks(doc)):
        script.append("echo '>>> block %d' >&2" % (i + 1))
        script.append(block if cli == "sealbox" else VAULT_COMMAND.sub(cli, block))
    return "\n".join(script)


def run_doc(doc, cli="sealbox", path_dirs=()):
    dev = harness.DevServer()
    work = tempfile.mkdtemp(prefix="sealbox-docs-")
    try:
        path = list(path_dirs) + [os.path.dirname(harness.sealbox_bin()), os.environ.get("PATH", "")]
        env = {"PATH": ":".join(path), "HOME": work, "VAULT_ADDR": dev.url, "VAULT_CACERT": dev.cacert,
               "VAULT_TOKEN": dev.root_token, "SEALBOX_UNSEAL_KEY": dev.unseal_key or "", "LANG": "C.UTF-8"}
        p = subprocess.run(["bash", "-c", doc_script(doc, cli)], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, "%s with %s failed (exit %d)\n--- stdout\n%s\n--- stderr\n%s" % (
            os.path.relpath(doc, ROOT), cli, p.returncode, p.stdout[-4000:], p.stderr[-4000:])
    finally:
        dev.stop()
        subprocess.run(["rm", "-rf", work])


# `cmd | grep -q` under pipefail fails (141, SIGPIPE) when grep exits on its
# match while cmd still writes: the Go vault CLI writes a table or a JSON
# document and then its newline, curl writes in chunks. Blocks capture such
# output first; a -field value is written at once.
PIPE_INTO_GREP_Q = re.compile(r"^(?P<producer>.*)\|\s*grep\s+-q", re.M)


def test_docs_capture_output_before_grep_q():
    racy = ["%s: %s" % (os.path.relpath(doc, ROOT), m.group(0)) for doc in DOCS for block in runnable_blocks(doc)
            for m in PIPE_INTO_GREP_Q.finditer(block) if "-field=" not in m.group("producer")]
    assert not racy, racy


@pytest.mark.parametrize("doc", DOCS, ids=[os.path.relpath(p, ROOT) for p in DOCS])
def test_doc_commands_run(doc):
    run_doc(doc)


@pytest.fixture(scope="module")
def bao_dir():
    """A directory holding `bao` (OpenBao's CLI, the vault CLI) for PATH."""
    bao = bao_bin()  # a missing binary fails the test with its RuntimeError
    d = tempfile.mkdtemp(prefix="sealbox-docs-bao-")
    os.symlink(bao, os.path.join(d, "bao"))
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.mark.parametrize("doc", DOCS, ids=[os.path.relpath(p, ROOT) for p in DOCS])
def test_doc_commands_run_with_the_vault_cli(doc, bao_dir):
    script = doc_script(doc, "bao")
    # Only the Sealbox-only commands are left to sealbox.
    assert "bao " in script
    left = re.findall(r"sealbox +\S+ *\S*", script)
    assert all(re.match(r"sealbox +(%s)\b" % "|".join(SEALBOX_ONLY), m) for m in left), left
    run_doc(doc, "bao", [bao_dir])
