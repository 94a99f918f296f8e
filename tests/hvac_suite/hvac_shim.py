"""pytest plugin (-p hvac_shim) that runs hvac's own integration tests, from
its unpacked sdist, against Sealbox instead of the `vault` they start.

The seam is hvac's ServerManager (tests/utils/server_manager.py): its
start_vault() launches `vault server` on a JSON copy of
tests/config_files/vault-tls.hcl. Here it starts the real `sealbox` through
our e2e harness with that file's settings (TLS with hvac's own test
certificate, 768h lease TTLs); hvac's own initialize() and unseal() then
run unchanged through its own client (create_client, with its client
certificate). Nothing in hvac's files is edited.

The other seams, outside ServerManager:
- hvac's tests ask `vault -version` (skip decorators, at import) and run
  `vault operator generate-root -decode`: a `vault` on PATH is the sealbox
  binary (whose CLI takes the same flags), and the version is the Vault API
  level Sealbox mirrors, so the version gates pick the current-Vault paths.
- Secrets: what hvac's requests send and receive goes through the harness's
  note_secrets (requests.Session.request wrapped), so when a server stops,
  its trace log and files are checked for every token, key share, password
  and secret-id the tests used, as for our own e2e tests.
- Deselection: deselected.txt beside this file lists test ids with a reason
  each; an entry that matches no collected test is an error (a stale list
  must not hide a renamed test).
"""

import os
import re
import shutil
import sys
import tempfile
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402


def vault_api_version():
    """base/version.h's kVaultApiVersion without its build suffix ("1.17.0")."""
    with open(os.path.join(harness.ROOT, "base", "version.h")) as f:
        m = re.search(r'kVaultApiVersion = "(\d+\.\d+\.\d+)', f.read())
    if not m:
        raise pytest.UsageError("no kVaultApiVersion in base/version.h")
    return m.group(1)


# vault-tls.hcl's settings besides its listener and inmem storage.
VAULT_TLS_SETTINGS = 'default_lease_ttl = "768h"\nmax_lease_ttl = "768h"\n'
# Vault serves the token-free break-glass endpoints that hvac's key tests
# call; Sealbox, as OpenBao 2.5+, only when the listener says so
# (docs/compatibility.md).
VAULT_LISTENER_SETTINGS = ('  disable_unauthed_generate_root_endpoints = false\n'
                           '  disable_unauthed_rekey_endpoints = false\n')


def read_deselected(path=os.path.join(HERE, "deselected.txt")):
    """{test id: reason} from lines `<id>  # <reason>`; a reason is required."""
    entries = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(\S+)\s+#\s*(\S.*)$", line)
            if not m:
                raise pytest.UsageError("deselected.txt:%d: want `<test id>  # <reason>`" % n)
            entries[m.group(1)] = m.group(2)
    return entries


def sealbox_as_vault(bin_dir):
    """A `vault` on PATH that is the sealbox binary."""
    os.symlink(harness.sealbox_bin(), os.path.join(bin_dir, "vault"))
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def patch_server_manager():
    from tests.utils import create_client, get_config_file_path
    from tests.utils.server_manager import ServerManager

    def start_vault(self, *, consul_config=None, **_):
        if consul_config is not None:
            raise pytest.UsageError("hvac's HA (consul) mode is not shimmed")
        server = harness.Server(extra_config=VAULT_TLS_SETTINGS, listener_extra=VAULT_LISTENER_SETTINGS)
        shutil.copyfile(get_config_file_path("server-cert.pem"), os.path.join(server.dir, "server.pem"))
        shutil.copyfile(get_config_file_path("server-key.pem"), os.path.join(server.dir, "server.key"))
        server.cacert = get_config_file_path("server-cert.pem")
        self._sealbox = server
        server.start()
        if self.client is None:
            self.client = create_client(url=server.url)

    def stop(self):
        self.client = None
        server, self._sealbox = getattr(self, "_sealbox", None), None
        if server is not None:
            try:
                assert server.stop() == 0, "sealbox did not shut down cleanly:\n" + server.log()[-4000:]
            finally:
                server.cleanup()

    def get_active_vault_addresses(self):
        server = getattr(self, "_sealbox", None)
        return [server.url] if server is not None else []

    ServerManager.start_vault = start_vault
    ServerManager.stop = stop
    ServerManager.get_active_vault_addresses = get_active_vault_addresses


def note_hvac_secrets():
    import requests

    send = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        resp = send(self, method, url, *args, **kwargs)
        try:
            answer = resp.json() if resp.content else None
        except ValueError:
            answer = None
        harness.note_secrets(urllib.parse.urlsplit(url).path, kwargs.get("json"), answer)
        return resp

    requests.Session.request = request


def pytest_configure(config):
    import tests.utils

    tests.utils.get_vault_version_string.cache = vault_api_version()
    config._hvac_shim_bin = tempfile.mkdtemp(prefix="hvac-suite-bin-")
    sealbox_as_vault(config._hvac_shim_bin)
    patch_server_manager()
    note_hvac_secrets()


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_hvac_shim_bin", ""), ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    deselected = read_deselected()
    matched = set()
    keep, drop = [], []
    for item in items:
        if item.nodeid in deselected:
            matched.add(item.nodeid)
            drop.append(item)
        else:
            keep.append(item)
    stale = sorted(set(deselected) - matched)
    if stale:
        raise pytest.UsageError("deselected.txt names tests that were not collected: %s" % stale)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
