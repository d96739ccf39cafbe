"""kill -9 of ringlog-ingestd under load, then a restart on the same port:
every push that was answered 2xx is in the database (the client-side log of
acknowledged call ids against the calls table), with the database up and
while pushes are being spooled because it is down."""
import os
import time
import unittest

from harness import (WORK, Daemon, add_source, free_port, pg_start, pg_stop, reset_database,
                     scalar, wait_for)
from load import Load

SECRET = "chaos-kill-secret-1"


class KillNine(unittest.TestCase):
    def setUp(self):
        reset_database()
        add_source("acme", SECRET)
        self.name = self.id().rsplit(".", 1)[-1]
        self.dir = os.path.join(WORK, self.name)
        self.spool = os.path.join(self.dir, "spool")
        self.port = free_port()
        self.daemon = None

    def tearDown(self):
        pg_start()
        if self.daemon:
            self.daemon.stop()

    def start(self):
        self.daemon = Daemon("ringlog-ingestd", self.name, "--spool-dir", self.spool,
                             "--listen", f"127.0.0.1:{self.port}").start()
        return self.daemon

    def kill(self):
        self.daemon.proc.kill()
        self.daemon.proc.wait()
        self.daemon.log.close()

    def spooled(self):
        return [f for f in os.listdir(self.spool) if f.endswith(".push")]

    def test_kill_9_under_load_loses_no_acknowledged_push(self):
        self.start()
        load = Load(self.port, SECRET, os.path.join(self.dir, "acked.log"), tag="kill").start()
        for _ in range(3):
            time.sleep(0.8)
            self.kill()
            self.start()
        time.sleep(0.8)
        load.stop()
        wait_for(lambda: not self.spooled(), what="an empty spool")
        f = load.report("kill -9 x3 under load, database up")
        self.assertGreater(f["acknowledged"], 100)
        self.assertEqual(f["missing"], [])
        self.assertEqual(f["duplicate_rows"], 0)
        self.assertEqual(self.daemon.stop(), 0, self.daemon.output())

    def test_kill_9_while_spooling_loses_no_acknowledged_push(self):
        self.start()
        pg_stop()
        load = Load(self.port, SECRET, os.path.join(self.dir, "acked.log"), tag="spoolkill").start()
        time.sleep(1.5)
        self.kill()  # in the middle of fsyncing spool files
        time.sleep(0.3)
        load.stop()
        acked = load.acknowledged()
        self.assertGreater(len(acked), 20)
        # every acknowledged push is a whole file in the spool, waiting
        self.assertGreaterEqual(len(self.spooled()), len(acked))
        pg_start()
        self.start()  # the daemon starts only once the database answers
        wait_for(lambda: not self.spooled(), what="the spool to drain")
        self.assertEqual([f for f in os.listdir(self.spool) if not f.startswith(".lock")], [])
        f = load.report("kill -9 while spooling (database down), restart, drain")
        self.assertEqual(f["missing"], [])
        self.assertEqual(f["duplicate_rows"], 0)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 0)
        self.assertEqual(self.daemon.stop(), 0, self.daemon.output())


if __name__ == "__main__":
    unittest.main()
