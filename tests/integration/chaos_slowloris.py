"""Slow clients holding many connections (slowloris): from four loopback
addresses (127.0.0.2-5) they open far more connections than allowed and
dribble header and body bytes to stay just inside the idle timeout. The
per-address limit turns most away; pushes from 127.0.0.1 are still served
promptly, the daemon's memory stays bounded, and the slow connections are
closed once they fall silent."""
import socket
import threading
import time

from harness import IngestCase, fetcherd, new_token, request
from test_limits import rss_kib

ATTACKERS = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
PER_ADDRESS = 300
HEAD = b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


class Slowloris(IngestCase):
    DAEMON_FLAGS = ("--max-connections", "400", "--max-connections-per-ip", "64", "--timeout", "3")

    def open_slow(self, addr, n, body=False):
        socks = []
        for _ in range(n):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.bind((addr, 0))
                s.connect(("127.0.0.1", self.port))
                s.sendall(HEAD + (b"Content-Length: 1000000\r\n\r\n{" if body else b""))
                socks.append(s)
            except OSError:
                s.close()
        return socks

    def dribble(self, socks, stop):
        """One byte per connection every second; drops the ones the server closed."""
        while not stop.is_set():
            for s in list(socks):
                try:
                    s.sendall(b" ")
                except OSError:
                    socks.remove(s)
                    s.close()
            stop.wait(1.0)

    def alive(self, socks):
        n = 0
        for s in socks:
            s.setblocking(False)
            try:
                n += s.recv(1) != b""
            except BlockingIOError:
                n += 1
            except OSError:
                pass
        return n

    def test_slow_clients_cannot_starve_others(self):
        rss0 = rss_kib(self.daemon.proc.pid)
        socks = []
        for i, addr in enumerate(ATTACKERS):
            socks += self.open_slow(addr, PER_ADDRESS, body=i % 2 == 1)
        stop = threading.Event()
        t = threading.Thread(target=self.dribble, args=(socks, stop), daemon=True)
        t.start()
        time.sleep(1.5)
        held = self.alive(socks)
        self.assertLessEqual(held, 64 * len(ATTACKERS))
        worst = 0.0
        for i in range(40):
            t0 = time.time()
            r = self.push({"call_id": f"loris-{i}", "direction": "in", "started_at": 1750065605},
                          timeout=5)
            worst = max(worst, time.time() - t0)
            self.assertEqual(r.status, 200, r)
        print(f"\n  [slowloris] {len(ATTACKERS) * PER_ADDRESS} slow connections tried from "
              f"{len(ATTACKERS)} addresses, {held} held (limit 64 each); 40 pushes from another "
              f"address all 200, slowest {worst * 1000:.0f} ms; RSS +{rss_kib(self.daemon.proc.pid) - rss0} KiB",
              flush=True)
        self.assertLess(worst, 1.0)
        self.assertLess(rss_kib(self.daemon.proc.pid) - rss0, 64 * 1024)
        # Silent now: the idle timeout (3 s) closes every one of them.
        stop.set()
        t.join()
        deadline = time.time() + 10
        while self.alive(socks) and time.time() < deadline:
            time.sleep(0.5)
        self.assertEqual(self.alive(socks), 0)
        for s in socks:
            s.close()
        self.assertEqual(request(self.port, "GET", "/healthz").status, 200)


class ManyAddresses(IngestCase):
    """Issue 19: five addresses, 256 connections each (more than the 1024
    connections the daemon takes with its default limits), each sending a
    header line every 8 s and reconnecting at once when cut. Header
    deadlines and making room under pressure keep real requests within 1 s."""

    NAME = "ingestd, POST /v1/cdr"
    ADDRESSES = [f"127.0.0.{i}" for i in range(2, 7)]
    PER_ADDRESS = 256
    SECONDS = 20

    FIRST_LINE = b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\n"

    def target(self):
        return self.port

    def real_request(self, i):
        return self.push({"call_id": f"many-{i}", "direction": "in", "started_at": 1750065605}, timeout=5)

    def attack(self, addr, stop, counts):
        socks = []
        port = self.target()

        def connect():
            s = socket.socket()
            s.setblocking(True)
            s.settimeout(1)
            try:
                s.bind((addr, 0))
                s.connect(("127.0.0.1", port))
                s.sendall(self.FIRST_LINE)
                s.setblocking(False)
                socks.append([s, time.monotonic()])
                counts["opened"] += 1
            except OSError:
                s.close()

        while not stop.is_set():
            while len(socks) < self.PER_ADDRESS and not stop.is_set():
                connect()
            now = time.monotonic()
            for entry in list(socks):
                s, last = entry
                try:
                    if s.recv(1) == b"":
                        raise OSError("closed")
                except BlockingIOError:
                    pass
                except OSError:
                    socks.remove(entry)
                    s.close()
                    continue
                if now - last >= 8:
                    try:
                        s.send(b"X-Slow: 1\r\n")
                        entry[1] = now
                    except OSError:
                        socks.remove(entry)
                        s.close()
            stop.wait(0.2)
        for s, _ in socks:
            s.close()

    def test_five_addresses_never_delay_a_real_request_by_a_second(self):
        stop = threading.Event()
        counts = {"opened": 0}
        threads = [threading.Thread(target=self.attack, args=(a, stop, counts), daemon=True)
                   for a in self.ADDRESSES]
        for t in threads:
            t.start()
        time.sleep(3)  # the attack is at full strength
        latencies, failures = [], 0
        t_end = time.monotonic() + self.SECONDS
        i = 0
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            try:
                r = self.real_request(i)
                failures += r.status != 200
            except OSError:
                failures += 1
            latencies.append(time.monotonic() - t0)
            i += 1
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        latencies.sort()
        print(f"\n  [slowloris, 5 addresses, {self.NAME}] {len(self.ADDRESSES)} x {self.PER_ADDRESS} slow connections "
              f"(a header line every 8 s, reconnecting when cut; {counts['opened']} opened in all); "
              f"{len(latencies)} requests from 127.0.0.1: {failures} failed, median "
              f"{latencies[len(latencies) // 2] * 1000:.0f} ms, slowest {latencies[-1] * 1000:.0f} ms",
              flush=True)
        self.assertEqual(failures, 0)
        self.assertLess(latencies[-1], 1.0)


class ManyAddressesFetcher(ManyAddresses):
    """The same against ringlog-fetcherd: GET /v1/calls stays within 1 s."""

    NAME = "fetcherd, GET /v1/calls"
    FIRST_LINE = b"GET /v1/calls HTTP/1.1\r\nHost: x\r\n"

    def setUp(self):
        super().setUp()
        self.fetcher = fetcherd("slowloris-fetcher")
        self.token = new_token("crm-slowloris")

    def tearDown(self):
        self.fetcher.stop()
        super().tearDown()

    def target(self):
        return self.fetcher.port

    def real_request(self, i):
        return request(self.fetcher.port, "GET", "/v1/calls?limit=5", None,
                       {"Authorization": "Bearer " + self.token}, timeout=5)
