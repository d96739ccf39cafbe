"""Hostile review, issue 19 item 4: live-stream subscribers that never read
cost a bounded amount of memory (only the latest list waits for each), and
one that takes nothing for live_stall_timeout seconds is cut."""
import os
import socket
import time
import unittest

from harness import execute, fetcherd, new_token, reset_database, scalar, wait_for

CALLS = 800          # live calls in the list: about 0.5 MB of JSON
SUBSCRIBERS = 20


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class StalledSubscribers(unittest.TestCase):
    STALL = 14

    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.source = scalar("INSERT INTO sources (name, vendor, auth_mode) VALUES ('live', 'voicenter', 'none')"
                            " RETURNING id")
        execute("INSERT INTO call_events (source_id, pbx_call_id, status, phone, caller_name, agent, at)"
                " SELECT %s, 'c-' || i, 'ringing', '0528812345', repeat('n', 400), '10' || i, now()"
                " FROM generate_series(1, %s) i", cls.source, CALLS)
        # (an ASan build keeps freed memory in quarantine: measure without it)
        asan = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
        cls.d = fetcherd("fetcher-hostile-live", "--live-stall-timeout", str(cls.STALL),
                         env={"ASAN_OPTIONS": asan})
        cls.token = new_token("crm-live")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def subscribe(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a client that never reads
        s.connect(("127.0.0.1", self.d.port))
        s.sendall(f"GET /v1/calls/live/stream?token={self.token} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        return s

    def change(self, i):
        execute("INSERT INTO call_events (source_id, pbx_call_id, status, phone, agent, at)"
                " VALUES (%s, %s, 'ringing', '0528812345', '99', now())", self.source, f"new-{i}")

    def test_memory_stays_bounded_and_stalled_subscribers_are_cut(self):
        socks = [self.subscribe() for _ in range(SUBSCRIBERS)]
        try:
            pid = self.d.proc.pid
            t0 = time.monotonic()
            i = 0
            while time.monotonic() - t0 < 4:
                self.change(i := i + 1)
                time.sleep(0.5)
            early = rss_kib(pid)
            while time.monotonic() - t0 < self.STALL - 2:
                self.change(i := i + 1)
                time.sleep(0.5)
            late = rss_kib(pid)
            grown = (late - early) / 1024
            print(f"\n  live: {SUBSCRIBERS} stalled subscribers, ~{CALLS} calls, list changing each second:"
                  f" RSS {early / 1024:.0f} MiB at 4 s, {late / 1024:.0f} MiB at {self.STALL - 2} s"
                  f" (+{grown:.1f} MiB)")
            self.assertLess(grown, 8, "memory grew with every list")
            # past the stall timeout every one of them has been cut
            wait_for(lambda: self.d.output().count("path=/v1/calls/live/stream") >= SUBSCRIBERS,
                     timeout=self.STALL + 20, what="the stalled subscribers cut")
            self.assertEqual(self.d.output().count("(connection closed early)"), SUBSCRIBERS)
        finally:
            for s in socks:
                s.close()
