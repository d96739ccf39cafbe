"""PostgreSQL stopped, crashed (immediate shutdown) and restarted while
pushes keep coming: every push is answered (stored or spooled), the spool
drains, and every acknowledged call is in the table exactly once. The short
version of this runs in `make test` (test_ingest_outage)."""
import os
import time
import unittest

from harness import IngestCase, pg_crash, pg_start, pg_stop, wait_for
from load import Load
from test_ingest_outage import spool_files


class PostgresRestarts(IngestCase):
    def tearDown(self):
        pg_start()
        super().tearDown()

    def test_stop_and_crash_under_load_lose_nothing_acknowledged(self):
        load = Load(self.port, self.SECRET, os.path.join(self.daemon.dir, "acked.log"),
                    threads=6, tag="pg").start()
        for down in (pg_stop, pg_crash, pg_stop, pg_crash):
            time.sleep(0.7)
            down()
            time.sleep(1.0)
            pg_start()
        time.sleep(0.7)
        load.stop()
        wait_for(lambda: not spool_files(self.daemon), timeout=60, what="the spool to drain")
        f = load.report("PostgreSQL stopped/crashed 4x under load")
        self.assertGreater(f["acknowledged"], 200)
        self.assertEqual((f["refused"], f["unanswered"]), ({}, 0))
        self.assertEqual(f["missing"], [])
        self.assertEqual(f["duplicate_rows"], 0)
        self.assertEqual(f["stored_unacknowledged"], 0)


if __name__ == "__main__":
    unittest.main()
