"""Hostile review, issue 19: unambiguous HTTP framing (item 11) and
deadlines for a request's head and body however slowly they trickle in
(item 5; the many-address attack is in chaos_slowloris.py)."""
import socket
import time

from harness import IngestCase, scalar

BODY = b'{"call_id":"f-1","direction":"in","started_at":1750065605}'


class Requests(IngestCase):
    def head(self, *lines):
        return (b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Api-Key: "
                + self.SECRET.encode() + b"\r\n" + b"".join(l + b"\r\n" for l in lines) + b"\r\n")


class Framing(Requests):
    def raw(self, data, timeout=3):
        """Sends DATA; returns everything the server says until it closes."""
        s = socket.create_connection(("127.0.0.1", self.port))
        s.settimeout(timeout)
        out = b""
        try:
            s.sendall(data)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            out += b"<not closed>"
        except (ConnectionResetError, BrokenPipeError):
            pass
        finally:
            s.close()
        return out

    def test_ambiguous_framing_is_one_clean_400(self):
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
        cases = {
            "two lengths": self.head(b"Content-Length: %d" % len(BODY), b"Content-Length: 5") + BODY,
            "the same length twice": self.head(b"Content-Length: %d" % len(BODY),
                                               b"Content-Length: %d" % len(BODY)) + BODY,
            "length and chunked": self.head(b"Content-Length: 5", b"Transfer-Encoding: chunked") + chunked,
            "chunked and length": self.head(b"Transfer-Encoding: chunked", b"Content-Length: 5") + chunked,
        }
        for name, req in cases.items():
            # a second request pipelined behind: it must not be served either
            out = self.raw(req + self.head(b"Content-Length: %d" % len(BODY)) + BODY)
            self.assertEqual(out.count(b"HTTP/1.1 "), 1, (name, out))
            self.assertTrue(out.startswith(b"HTTP/1.1 400 "), (name, out))
            self.assertIn(b'"error":"bad_request"', out, name)
            self.assertIn(b"Connection: close", out, name)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)

    def test_a_length_that_is_not_a_number_is_refused_and_the_connection_closed(self):
        # libmicrohttpd answers these itself, before any handler (see README)
        for value in (b"-1", b"99999999999999999999999", b"1x"):
            out = self.raw(self.head(b"Content-Length: " + value) + self.head(b"Content-Length: %d" % len(BODY))
                           + BODY)
            self.assertRegex(out, rb"^HTTP/1.1 (400|413) ", value)
            self.assertNotIn(b"<not closed>", out, value)
            self.assertNotIn(b'"status"', out, value)  # the pipelined push was not served
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)


class Deadlines(Requests):
    DAEMON_FLAGS = ("--header-timeout", "2", "--min-body-rate", "1k", "--timeout", "30")

    def trickle(self, first, step, every=1.0, limit=12):
        """Sends FIRST, then STEP every EVERY seconds; returns the seconds until
        the server hung up (or LIMIT)."""
        s = socket.create_connection(("127.0.0.1", self.port))
        t0 = time.monotonic()
        try:
            s.sendall(first)
            while time.monotonic() - t0 < limit:
                time.sleep(every)
                s.sendall(step)
                s.settimeout(0.01)
                try:
                    if s.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            s.close()
        return time.monotonic() - t0

    def test_a_head_that_trickles_is_cut_at_the_header_timeout(self):
        took = self.trickle(b"POST /v1/cdr/acme HTTP/1.1\r\n", b"X-Slow: 1\r\n")
        self.assertLess(took, 5, "a header line a second kept the connection")

    def test_a_body_that_trickles_is_cut(self):
        took = self.trickle(b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + self.SECRET.encode()
                            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                            b"1\r\n \r\n")
        self.assertLess(took, 6, "a byte a second kept the body open")

    def test_ordinary_requests_are_not_hurried(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        for i in range(3):  # a kept-alive connection, a request a second
            req = self.head(b"Content-Length: %d" % len(BODY)) + BODY
            s.sendall(req)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200"))
            time.sleep(0.5)
        s.close()
