"""Oversize requests: headers, URIs and bodies past their limits are
refused, the daemon keeps serving, and its memory stays bounded."""
import socket
import time

from harness import IngestCase, request

PUSH_HEAD = (b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nX-Api-Key: acme-push-secret-1\r\n"
             b"Content-Type: application/json\r\n")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def exchange(port, head, chunks=(), timeout=10):
    """Sends HEAD then CHUNKS (as far as the server reads them); returns the
    answer's status (0 when the server hung up without one)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        for c in chunks:
            try:
                s.sendall(c)
            except (BrokenPipeError, ConnectionResetError):
                break
        data = b""
        while b"\r\n" not in data:
            try:
                d = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not d:
                break
            data += d
        return int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else 0
    finally:
        s.close()


def chunked(total, size=65536):
    piece = b"%x\r\n" % size + b"a" * size + b"\r\n"
    for _ in range(total // size):
        yield piece
    yield b"0\r\n\r\n"


class Limits(IngestCase):
    DAEMON_FLAGS = ("--max-body", "64k")

    def still_serves(self):
        r = self.push({"call_id": f"ok-{time.time()}", "direction": "in", "started_at": 1750065605})
        self.assertEqual(r.status, 200, r)

    def test_oversize_header_line_header_count_and_uri(self):
        self.assertEqual(exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
                                  + b"a" * 100_000 + b"\r\n\r\n"), 431)
        many = b"".join(b"X-%d: %s\r\n" % (i, b"b" * 40) for i in range(5000))
        self.assertEqual(exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"), 431)
        self.assertEqual(exchange(self.port, b"GET /healthz?" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n"), 414)
        self.still_serves()

    def test_declared_oversize_body_is_refused_before_it_is_sent(self):
        status = exchange(self.port, PUSH_HEAD + b"Content-Length: 100000000\r\n\r\n")
        self.assertEqual(status, 413)
        r = self.push(b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.json()["error"]), (413, "body_too_large"))
        self.still_serves()

    def test_chunked_oversize_body_is_413_or_cut_off_and_memory_stays_bounded(self):
        # a little over the limit: read to its end and answered 413
        status = exchange(self.port, PUSH_HEAD + b"Transfer-Encoding: chunked\r\n\r\n",
                          chunked(128 * 1024))
        self.assertEqual(status, 413)
        before = rss_kib(self.daemon.proc.pid)
        # far over: the connection is cut once 4 bodies' worth were thrown away
        for _ in range(5):
            status = exchange(self.port, PUSH_HEAD + b"Transfer-Encoding: chunked\r\n\r\n",
                              chunked(32 * 1024 * 1024))
            self.assertIn(status, (0, 413))
        grown = rss_kib(self.daemon.proc.pid) - before
        self.assertLess(grown, 16 * 1024, f"RSS grew by {grown} KiB for 160 MiB of refused bodies")
        self.assertIn("outcome=body_too_large", self.daemon.output())
        self.still_serves()
