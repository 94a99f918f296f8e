"""Hostile and malformed input gets a clear error and the server keeps serving
(issue 2 bad-input list; contract decisions 1, 2 and 8)."""

import re
import socket
import ssl
import subprocess
import time

from harness import server  # noqa: F401  (fixture)


def raw_request(s, request_bytes, read_timeout=10):
    """Sends bytes as they are over TLS (no client normalisation); returns the
    response head line and the whole response."""
    ctx = ssl.create_default_context(cafile=s.cacert)
    with socket.create_connection(("127.0.0.1", s.port), timeout=read_timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls.sendall(request_bytes)
            data = b""
            while True:
                try:
                    chunk = tls.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    head, _, rest = data.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        k, _, v = line.partition(b":")
                        if k.strip().lower() == b"content-length":
                            length = int(v.strip())
                    if len(rest) >= length:
                        break
    return data.split(b"\r\n", 1)[0].decode(), data


def status_of(line):
    return int(line.split(" ")[1])


def test_malformed_json_and_limits(server):
    s = server
    st, b = s.raw("POST", "/v1/sys/mounts/kvbad", s.root_token, raw_body="{\"type\": \"kv\",,}",
                  headers={"Content-Type": "application/json"})
    assert st == 400 and b == {"errors": ["error parsing JSON"]}
    deep = "[" * 200 + "]" * 200
    st, b = s.raw("POST", "/v1/secret/x", s.root_token, raw_body='{"a":' + deep + "}")
    assert st in (400, 413), b
    many = "{" + ",".join('"k%d":"v"' % i for i in range(3000)) + "}"
    t0 = time.time()
    st, b = s.raw("POST", "/v1/secret/x", s.root_token, raw_body=many)
    assert st in (400, 413) and time.time() - t0 < 5
    # Unauthenticated hostile body: refused before any token check costs anything.
    st, _ = s.raw("PUT", "/v1/sys/unseal", raw_body="[" * 100000)
    assert st in (400, 413)
    assert s.raw("GET", "/v1/sys/health")[0] == 200


def test_huge_body_413_and_server_survives(server):
    s = server
    size = 40 * 1024 * 1024
    head = ("POST /v1/secret/big HTTP/1.1\r\nHost: x\r\nX-Vault-Token: %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (s.root_token, size)).encode()
    ctx = ssl.create_default_context(cafile=s.cacert)
    with socket.create_connection(("127.0.0.1", s.port), timeout=20) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls.sendall(head)
            # The limit is checked against Content-Length before any of the
            # 40 MiB is read: the answer comes at once and nothing is buffered.
            tls.sendall(b'{"data":"' + b"a" * 65536)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(4096)
                assert chunk, "connection closed without a response"
                data += chunk
    assert status_of(data.split(b"\r\n", 1)[0].decode()) == 413
    assert b"request body too large" in data or b"errors" in data
    # Chunked bodies have no Content-Length: the limit trips while reading.
    st, b = s.raw("POST", "/v1/secret/big", s.root_token, raw_body=(b"x" * (33 * 1024 * 1024)),
                  headers={"Content-Type": "application/json"})
    assert st == 413
    assert s.raw("GET", "/v1/sys/health")[0] == 200
    assert s.raw("GET", "/v1/auth/token/lookup-self", s.root_token)[0] == 200


def test_paths_methods_headers(server):
    s = server
    t = s.root_token
    assert s.raw("GET", "/v1/no/such/mount", t)[0] == 404
    assert s.raw("GET", "/elsewhere", t) == (404, {"errors": []})
    line, _ = raw_request(s, ("FOO /v1/sys/health HTTP/1.1\r\nHost: x\r\nX-Vault-Token: %s\r\n"
                              "Content-Length: 0\r\n\r\n" % t).encode())
    assert status_of(line) == 405
    for path in ["/v1/secret/data/ok/../forbidden", "/v1/secret/%2e%2e/x", "/v1/secret/%2E/x", "/v1/secret//x",
                 "/v1/secret/./x", "/v1/secret/x%01y", "/v1/secret/a%2fb", "/v1/sys/../sys/seal"]:
        line, data = raw_request(s, ("GET %s HTTP/1.1\r\nHost: x\r\nX-Vault-Token: %s\r\n\r\n" % (path, t)).encode())
        assert status_of(line) == 400, (path, data)
    st, b = s.raw("GET", "/v1/sys/mounts", t, headers={"X-Vault-Namespace": "ns1"})
    assert (st, b) == (400, {"errors": ["namespaces are not supported"]})
    assert s.raw("GET", "/v1/sys/mounts", t, headers={"X-Vault-Namespace": "root"})[0] == 200
    st, b = s.raw("GET", "/v1/auth/token/lookup-self", t, headers={"X-Vault-Wrap-TTL": "6o"})
    assert (st, b) == (400, {"errors": ['error parsing X-Vault-Wrap-TTL header: time: invalid duration "6o"']})
    st, b = s.raw("PATCH", "/v1/secret/data/x", t, body={"data": {"a": 1}})
    assert st == 415, b
    assert s.raw("GET", "/v1/sys/mounts?list=maybe", t)[0] == 400
    # Error bodies never echo what was submitted.
    marker = "SUBMITTED-MARKER-7f3a"
    st, b = s.raw("POST", "/v1/sys/mounts/" + marker, t, body={"type": marker})
    assert st >= 400 and marker not in str(b)


def test_unseal_garbage_while_sealed(server):
    s = server
    assert s.raw("PUT", "/v1/sys/seal", s.root_token)[0] == 204
    for body in [{"key": "not base64 !!"}, {"key": 12345}, {"key": ""}, {"key": "00"}]:
        st, b = s.raw("PUT", "/v1/sys/unseal", body=body)
        assert st == 400, (body, b)
    assert s.raw("GET", "/v1/sys/seal-status")[1]["sealed"] is True
    s.unseal()


def _s_client(s, version_flag):
    return subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, version_flag, "-CAfile", s.cacert,
         "-cipher", "DEFAULT@SECLEVEL=0", "-verify_return_error"],
        input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)


def test_tls_versions(server):
    s = server
    for flag in ("-tls1", "-tls1_1"):
        r = _s_client(s, flag)
        out = r.stdout.decode(errors="replace")
        assert r.returncode != 0 or "Cipher is (NONE)" in out, out[-500:]
    for flag in ("-tls1_2", "-tls1_3"):
        r = _s_client(s, flag)
        out = r.stdout.decode(errors="replace")
        assert r.returncode == 0 and "Verify return code: 0 (ok)" in out, out[-500:]


def _exchange(s, request_bytes, read_timeout=5):
    """Sends bytes over TLS and reads until the server closes (or goes
    quiet): everything it answered on that one connection."""
    ctx = ssl.create_default_context(cafile=s.cacert)
    data = b""
    with socket.create_connection(("127.0.0.1", s.port), timeout=read_timeout) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls.sendall(request_bytes)
            try:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLError, ConnectionResetError, socket.timeout):
                pass
    return data


def _status_lines(data):
    """Every response's status line (a body need not end in CRLF)."""
    return re.findall(rb"HTTP/1\.[01] \d{3}[^\r]*", data)


def test_transfer_encoding_not_ending_in_chunked_is_refused_and_closed(server):
    # Once read as a bodiless request, its chunked body then parsed as a
    # second request on the same connection (a smuggled seal-status here).
    smuggled = b"GET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n"
    for te in (b"chunked, identity", b"identity", b"gzip", b"chunked, chunked"):
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)
        data = _exchange(server, b"POST /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                         b"\r\n\r\n" + body + smuggled)
        lines = _status_lines(data)
        assert len(lines) == 1 and lines[0].startswith(b"HTTP/1.1 400"), (te, data[:400])
        assert b"connection: close" in data.lower() and b'"sealed"' not in data, (te, data[:400])
    # The same split over two fields.
    data = _exchange(server, b"POST /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n" + smuggled)
    assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 400"], data[:400]
    assert server.raw("GET", "/v1/sys/health")[0] == 200


def test_unknown_transfer_coding_is_not_implemented(server):
    data = _exchange(server, b"POST /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                             b"0\r\n\r\nGET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 501"], data[:400]
    # HTTP/1.0 has no transfer codings at all: faulty framing.
    data = _exchange(server, b"POST /v1/sys/unseal HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 400"], data[:400]
    # A plain chunked body still works, and keeps the connection.
    data = _exchange(server, b"PUT /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             b"Content-Type: application/json\r\n\r\n"
                             b"e\r\n{\"reset\":true}\r\n0\r\n\r\n"
                             b"GET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 400", b"HTTP/1.1 200"], data[:600]


def test_host_header_missing_or_repeated(server):
    for head in (b"GET /v1/sys/health HTTP/1.1\r\n\r\n",
                 b"GET /v1/sys/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                 b"GET /v1/sys/health HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"):
        data = _exchange(server, head + b"GET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n")
        assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 400"], (head, data[:400])
        assert b"Host header" in data
    # HTTP/1.0 needs no Host.
    data = _exchange(server, b"GET /v1/sys/health HTTP/1.0\r\n\r\n")
    assert _status_lines(data)[0].startswith(b"HTTP/1.0 200") or _status_lines(data)[0].startswith(b"HTTP/1.1 200")


def test_content_length_with_transfer_encoding_is_refused(server):
    # Classic CL.TE smuggling: the two lengths disagree about where the body ends.
    data = _exchange(server, b"POST /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/sys/seal-status HTTP/1.1\r\n"
                             b"Host: x\r\n\r\n")
    assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 400"], data[:400]
    data = _exchange(server, b"POST /v1/sys/unseal HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             b"Content-Length: 5\r\n\r\n{}{}")
    assert [l[:12] for l in _status_lines(data)] == [b"HTTP/1.1 400"], data[:400]
