"""The data directory is the server's alone (issue 20, item 7): a local user
could read secret names from a 0755 directory of 0644 files. The server runs
with umask 077, creates its data directory 0700, and tightens a wider one at
start with a warning."""
import os
import stat

from harness import Server


def group_or_other_bits(root):
    """Paths under root (root included) that someone else may read."""
    found = []
    for base, dirs, files in os.walk(root):
        for p in [base] + [os.path.join(base, f) for f in files]:
            mode = stat.S_IMODE(os.lstat(p).st_mode)
            if mode & 0o077:
                found.append("%s %04o" % (os.path.relpath(p, root), mode))
    return found


def use_secrets(s):
    assert s.root("POST", "/v1/sys/mounts/team-secrets", {"type": "kv", "options": {"version": "2"}})[0] == 204
    assert s.root("POST", "/v1/team-secrets/data/payroll-db", {"data": {"password": "payroll-pw-8812"}})[0] == 200
    # Files written since the start: RocksDB's log, tables and manifest.
    assert s.stop() == 0
    s.start()
    s.unseal()


def test_new_data_directory_and_its_files_are_owner_only():
    s = Server()
    try:
        s.start()
        s.init()
        s.unseal()
        use_secrets(s)
        assert stat.S_IMODE(os.stat(s.data_dir).st_mode) == 0o700
        assert group_or_other_bits(s.data_dir) == []
        assert os.listdir(s.data_dir)
    finally:
        s.cleanup()


def test_wider_existing_data_directory_is_tightened_with_a_warning():
    s = Server()
    try:
        # As an older version (or an installer's mkdir) left it.
        os.makedirs(s.data_dir)
        os.chmod(s.data_dir, 0o755)
        s.start()
        s.init()
        s.unseal()
        assert s.stop() == 0
        for name in os.listdir(s.data_dir):
            p = os.path.join(s.data_dir, name)
            if os.path.isfile(p):
                os.chmod(p, 0o644)
        os.chmod(s.data_dir, 0o755)
        s.start()
        assert "data directory %s was open to other users (mode 0755); tightened" % s.data_dir in s.log()
        assert stat.S_IMODE(os.stat(s.data_dir).st_mode) == 0o700
        s.unseal()
        use_secrets(s)
        assert group_or_other_bits(s.data_dir) == []
    finally:
        s.cleanup()
