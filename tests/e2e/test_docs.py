"""The docs cannot rot: every fenced block opened with ```sh test in docs/
(and the README) is run, in order, against a fresh dev server, with the
sealbox binary first on PATH and VAULT_ADDR, VAULT_CACERT and VAULT_TOKEN
set, plus SEALBOX_UNSEAL_KEY (the dev server's unseal key). The blocks of
one file run as one bash script (`set -euo pipefail`) in a scratch
directory, so a block may use files and variables an earlier block made."""
import glob
import os
import re
import subprocess
import tempfile

import pytest

import harness

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FENCE = re.compile(r"^```sh test[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def runnable_blocks(path):
    with open(path) as f:
        return FENCE.findall(f.read())


DOCS = sorted(p for p in glob.glob(os.path.join(ROOT, "docs", "*.md")) + [os.path.join(ROOT, "README.md")]
              if runnable_blocks(p))


def test_docs_have_runnable_blocks():
    names = {os.path.basename(p) for p in DOCS}
    # The guides whose commands matter most must stay tested.
    for required in ("quickstart.md", "operations.md", "external-secrets.md", "csi.md"):
        assert required in names, "%s has no ```sh test block" % required


@pytest.mark.parametrize("doc", DOCS, ids=[os.path.relpath(p, ROOT) for p in DOCS])
def test_doc_commands_run(doc):
    dev = harness.DevServer()
    work = tempfile.mkdtemp(prefix="sealbox-docs-")
    try:
        script = ["set -euo pipefail"]
        for i, block in enumerate(runnable_blocks(doc)):
            script.append("echo '>>> block %d' >&2" % (i + 1))
            script.append(block)
        env = {"PATH": os.path.dirname(harness.sealbox_bin()) + ":" + os.environ.get("PATH", ""),
               "HOME": work, "VAULT_ADDR": dev.url, "VAULT_CACERT": dev.cacert, "VAULT_TOKEN": dev.root_token,
               "SEALBOX_UNSEAL_KEY": dev.unseal_key or "", "LANG": "C.UTF-8"}
        p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, "%s failed (exit %d)\n--- stdout\n%s\n--- stderr\n%s" % (
            os.path.relpath(doc, ROOT), p.returncode, p.stdout[-4000:], p.stderr[-4000:])
    finally:
        dev.stop()
        subprocess.run(["rm", "-rf", work])
