"""The leak check every Server runs at cleanup (harness.assert_no_secret_leaked)
really runs at trace level and really catches a secret: a test that can
fail, checked here."""
import os

import pytest

import harness


def test_trace_log_has_requests_but_no_secrets_and_the_check_bites():
    s = harness.Server()  # trace by default
    try:
        s.start()
        s.init(1, 1)
        s.unseal(s.keys)
        assert s.root("POST", "/v1/sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})[0] == 204
        marker = "leak-marker-" + os.urandom(8).hex()
        assert s.root("POST", "/v1/secret/data/app", {"data": {"password": marker}})[0] == 200
        assert s.root("PUT", "/v1/sys/audit/file", {"type": "file", "options": {
            "file_path": os.path.join(s.dir, "audit.log")}})[0] == 204
        assert s.root("GET", "/v1/secret/data/app")[1]["data"]["data"]["password"] == marker
        st, b = s.root("POST", "/v1/auth/token/create", {"policies": ["default"]})
        child = b["auth"]["client_token"]
        assert s.raw("POST", "/v1/auth/token/renew/" + child, s.root_token, {})[0] == 200
        log = s.log()
        assert "request method=GET path=/v1/secret/data/app status=200 duration_ms=" in log  # request lines
        assert "path=/v1/auth/token/renew/<redacted>" in log
        assert "admin: mount enabled path=sys/mounts/secret" in log  # administrative changes
        assert "admin: audit device enabled path=sys/audit/file" in log
        for secret in (marker, s.root_token, child, s.keys[0], s.keys_b64[0]):
            assert secret in harness.SECRETS
        harness.assert_no_secret_leaked(s.dir)  # audit file and log are clean

        with open(os.path.join(s.dir, "planted.txt"), "w") as f:
            f.write("oops " + marker)
        with pytest.raises(AssertionError, match="planted.txt"):
            harness.assert_no_secret_leaked(s.dir)
        os.remove(os.path.join(s.dir, "planted.txt"))
    finally:
        s.cleanup()
