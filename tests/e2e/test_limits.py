"""Every listener limit (issue 9), set small in the listener block: each one
answers a clear error (or closes the offending connection) and the server
keeps serving everyone else."""
import json
import socket
import ssl
import time

import pytest

import harness

LIMITS = """  max_request_size = 4096
  max_json_depth = 10
  max_json_strings = 50
  max_header_size = 2048
  header_timeout = "2s"
  idle_timeout = "2s"
  max_request_duration = "3s"
  max_connections = 6
"""


@pytest.fixture(scope="module")
def srv():
    s = harness.Server(listener_extra=LIMITS).start()
    s.init(1, 1)
    s.unseal(s.keys)
    assert s.root("POST", "/v1/sys/mounts/kv", {"type": "kv"})[0] == 204
    yield s
    s.cleanup()


def tls_conn(s, timeout=10):
    ctx = ssl.create_default_context(cafile=s.cacert)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=timeout)
    return ctx.wrap_socket(sock, server_hostname="127.0.0.1")


def read_all(conn):
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ssl.SSLError, ConnectionResetError, socket.timeout):
        pass
    return data


def still_serving(s):
    assert s.raw("GET", "/v1/sys/health")[0] == 200
    assert s.root("GET", "/v1/kv/ok")[0] in (200, 404)


def test_body_size(srv):
    st, b = srv.root("POST", "/v1/kv/big", {"v": "x" * 5000})
    assert st == 413 and b["errors"], b
    assert srv.root("POST", "/v1/kv/ok", {"v": "x" * 1000})[0] == 204
    still_serving(srv)


def test_json_depth_and_string_count(srv):
    def nested(n):
        return "[" * n + "]" * n
    st, b = srv.raw("POST", "/v1/kv/deep", srv.root_token, raw_body='{"v":' + nested(12) + "}")
    assert st == 413 and b["errors"] == ["JSON input exceeds allowed nesting depth"], b
    assert srv.raw("POST", "/v1/kv/deep", srv.root_token, raw_body='{"v":' + nested(5) + "}")[0] == 204
    many = json.dumps({"k%d" % i: "v" for i in range(60)})
    st, b = srv.raw("POST", "/v1/kv/many", srv.root_token, raw_body=many)
    assert st == 413 and b["errors"], b
    assert srv.raw("POST", "/v1/kv/many", srv.root_token, raw_body=json.dumps({"k%d" % i: "v" for i in range(10)}))[0] == 204
    still_serving(srv)


def test_header_size_count_and_url_length(srv):
    st, b = srv.raw("GET", "/v1/sys/health", headers={"X-Big": "a" * 4096})
    assert st == 431, (st, b)
    st, b = srv.raw("GET", "/v1/sys/health", headers={"X-H%d" % i: "v" * 20 for i in range(200)})
    assert st == 431, (st, b)
    st, b = srv.raw("GET", "/v1/kv/" + "p" * 4096, srv.root_token)
    assert st in (414, 431), (st, b)
    still_serving(srv)


def trickle_until_closed(conn, byte, while_waiting=None, bound=10):
    """Sends `byte` every 0.3 s until the server closes the connection;
    returns the seconds that took (None if it stayed open `bound` s)."""
    t0 = time.time()
    conn.settimeout(0.3)
    while time.time() - t0 < bound:
        try:
            conn.sendall(byte)
            if while_waiting:
                while_waiting()
            if conn.recv(65536) == b"":
                return time.time() - t0
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            return time.time() - t0
    return None


def test_slowloris_headers_are_cut_off(srv):
    conn = tls_conn(srv)
    conn.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n")
    # One header byte at a time, others served meanwhile; the 2 s header timeout cuts it off.
    took = trickle_until_closed(conn, b"X", while_waiting=lambda: still_serving(srv))
    assert took is not None and took < 6, took
    conn.close()


def test_idle_keepalive_is_closed(srv):
    conn = tls_conn(srv)
    conn.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = conn.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    t0 = time.time()
    conn.settimeout(10)
    rest = read_all(conn)  # returns when the server closes the idle connection
    assert 1.5 < time.time() - t0 < 6 and b"HTTP/1.1" not in rest
    conn.close()


def test_slow_body_hits_the_request_duration(srv):
    # As Go's http.Server ReadTimeout does for Vault: past max_request_duration
    # the connection is closed; the half-sent write never happens.
    conn = tls_conn(srv)
    conn.sendall(("POST /v1/kv/slow HTTP/1.1\r\nHost: x\r\nX-Vault-Token: %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: 2000\r\n\r\n{" % srv.root_token).encode())
    took = trickle_until_closed(conn, b" ")
    assert took is not None and 2.5 < took < 8, took
    conn.close()
    still_serving(srv)
    assert srv.root("GET", "/v1/kv/slow")[0] == 404


def test_max_connections(srv):
    held = []
    try:
        for _ in range(6):
            c = tls_conn(srv)
            c.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.recv(65536).startswith(b"HTTP/1.1 200")
            held.append(c)
        # The 7th is closed before the TLS handshake completes.
        with pytest.raises((ssl.SSLError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError, OSError)):
            c = tls_conn(srv, timeout=5)
            c.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
            if not c.recv(65536):
                raise ConnectionResetError("closed")
    finally:
        for c in held:
            c.close()
    harness.wait_until(lambda: _health_ok(srv), 10, what="a free connection slot")
    assert "max_connections (6) reached" in srv.log()


def _health_ok(s):
    try:
        return s.raw("GET", "/v1/sys/health")[0] == 200
    except OSError:
        return False
