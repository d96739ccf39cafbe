"""The sd_notify protocol the units rely on (Type=notify, WatchdogSec=),
spoken to a socket of the test's own, as systemd would listen on it."""
import os
import signal
import socket
import time
import unittest

from harness import WORK, Daemon, fetcherd, ingestd, reset_database, wait_for


class NotifySocket:
    def __init__(self, name):
        self.path = os.path.join(WORK, name + ".notify")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages = []

    def env(self, watchdog_usec=None):
        env = {"NOTIFY_SOCKET": self.path}
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        return env

    def poll(self):
        while True:
            try:
                self.messages += self.sock.recv(4096).decode().split("\n")
            except (socket.timeout, BlockingIOError):
                return self.messages

    def wait(self, message, count=1, timeout=10):
        return wait_for(lambda: self.poll().count(message) >= count, timeout=timeout,
                        what=f"{count} x {message}")

    def close(self):
        self.sock.close()
        os.unlink(self.path)


class Notify(unittest.TestCase):
    def setUp(self):
        reset_database()

    def check_life_cycle(self, factory, name):
        n = NotifySocket(name)
        try:
            d = factory(name, env=n.env(watchdog_usec=2_000_000))
            n.wait("READY=1")
            self.assertIn("listening on", d.output())  # READY only once serving
            # pinged at least every second, well within the 2 s watchdog
            start = time.time()
            n.wait("WATCHDOG=1", count=2, timeout=5)
            self.assertLess(time.time() - start, 3)
            d.proc.send_signal(signal.SIGHUP)
            n.wait("RELOADING=1")
            n.wait("READY=1", count=2)
            self.assertEqual(d.stop(), 0, d.output())
            n.wait("STOPPING=1")
            msgs = [m for m in n.poll() if m and m != "WATCHDOG=1"]
            self.assertEqual(msgs, ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"])
        finally:
            n.close()

    def test_ingestd_notifies_ready_watchdog_reloading_stopping(self):
        self.check_life_cycle(ingestd, "notify-ingestd")

    def test_fetcherd_notifies_ready_watchdog_reloading_stopping(self):
        self.check_life_cycle(fetcherd, "notify-fetcherd")

    def test_no_ready_while_the_database_does_not_answer(self):
        n = NotifySocket("notify-nodb")
        try:
            d = Daemon("ringlog-ingestd", "notify-nodb", "--spool-dir",
                       os.path.join(WORK, "notify-nodb", "spool"),
                       "--database-url", "host=127.0.0.1 port=1 connect_timeout=2",
                       env=n.env()).start(expect_ready=False)
            self.assertNotEqual(d.wait_exit(), 0)  # Restart=on-failure tries again
            d.stop()
            self.assertNotIn("READY=1", n.poll())
            self.assertIn("cannot start", d.output())
        finally:
            n.close()


if __name__ == "__main__":
    unittest.main()
