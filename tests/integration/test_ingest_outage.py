"""PostgreSQL away: pushes are spooled, acknowledged, and drained in order."""
import os
import time

from harness import (IngestCase, pg_start, pg_stop, request, row, scalar, wait_for)
from load import Load


def spool_files(daemon):
    spool = os.path.join(daemon.dir, "spool")
    return sorted(f for f in os.listdir(spool) if f.endswith(".push"))


class Outage(IngestCase):
    def tearDown(self):
        pg_start()  # whatever happened, the next test has its database
        super().tearDown()

    def test_pushes_are_spooled_while_the_database_is_down_and_drained_after(self):
        pg_stop()
        first = {"call_id": "o-1", "direction": "in", "started_at": 1750065605, "billsec": 10}
        second = dict(first, billsec=20)  # the same call, pushed again with new content
        r1, r2 = self.push(first), self.push(second)
        for r in (r1, r2):
            self.assertEqual(r.status, 200, r)  # an exact 200: some PBXs accept nothing else
            self.assertEqual(r.json()["status"], "spooled")
        bad = self.push(b"{oops", headers={"Content-Type": "application/json"})
        self.assertEqual((bad.status, bad.json()["error"]), (400, "invalid_json"))
        self.assertEqual(len(spool_files(self.daemon)), 3)
        self.assertEqual(request(self.port, "GET", "/readyz").status, 503)
        metrics = request(self.port, "GET", "/metrics").body.decode()
        self.assertIn('ringlog_pushes_total{outcome="spooled"} 2', metrics)
        self.assertIn("ringlog_spool_pushes 3", metrics)

        pg_start()
        wait_for(lambda: not spool_files(self.daemon), timeout=90, what="the spool to drain")
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'o-1'")
        # drained in arrival order: the second push is the current content
        self.assertEqual((c["billable_s"], c["revision"]), (20, 2))
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE reason = 'invalid_json'"), 1)
        self.assertEqual(request(self.port, "GET", "/readyz").status, 200)
        wait_for(lambda: "ringlog_spool_pushes 0" in request(self.port, "GET", "/metrics").body.decode(),
                 what="the spool gauge")

    def test_the_drain_stores_the_spool_in_batches_in_order(self):
        # A spool of hundreds of pushes drains in a few transactions (the
        # writers' batches), not one per push, and keeps arrival order.
        pg_stop()
        n = 300
        for i in range(n):
            r = self.push({"call_id": "b-%d" % (i % 250), "direction": "in",
                           "started_at": 1750065605 + i, "billsec": i})
            self.assertEqual(r.json()["status"], "spooled", r)
        pg_start()
        wait_for(lambda: not spool_files(self.daemon), timeout=90, what="the spool to drain")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id LIKE 'b-%%'"), 250)
        # the 50 calls pushed twice hold their second push
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id LIKE 'b-%%' "
                                "AND revision = 2 AND billable_s >= 250"), 50)
        # each call row carries the id of the transaction that wrote it
        transactions = scalar("SELECT count(DISTINCT xmin::text) FROM calls WHERE pbx_call_id LIKE 'b-%%'")
        self.assertLessEqual(transactions, n // 20, "the drain stored one push per transaction")

    def test_spool_full_is_503_with_retry_after(self):
        self.daemon.stop()
        from harness import ingestd
        self.daemon = ingestd("spool-full", "--spool-max", "2048")
        self.port = self.daemon.port
        pg_stop()
        small = self.push({"call_id": "f-1", "direction": "in", "started_at": 1750065605})
        self.assertEqual(small.status, 200, small)
        big = {"call_id": "f-2", "direction": "in", "started_at": 1750065605, "pad": "x" * 4000}
        r = self.push(big)
        self.assertEqual((r.status, r.json()["error"]), (503, "unavailable"), r)
        self.assertEqual(r.header("Retry-After"), "30")
        pg_start()
        wait_for(lambda: scalar("SELECT count(*) FROM calls") == 1, what="the drain")

    def test_every_acknowledged_push_survives_a_database_restart_under_load(self):
        # (chaos_postgres.py does this longer, with crashes; `make chaos`)
        load = Load(self.port, self.SECRET, os.path.join(self.daemon.dir, "acked.log"),
                    tag="load").start()
        time.sleep(0.5)
        pg_stop()
        time.sleep(1.0)
        pg_start()
        time.sleep(0.5)
        load.stop()
        wait_for(lambda: not spool_files(self.daemon), timeout=90, what="the spool to drain")
        f = load.report("PostgreSQL restarted under load")
        self.assertGreater(f["acknowledged"], 20)
        self.assertEqual((f["refused"], f["unanswered"]), ({}, 0))
        self.assertEqual(f["missing"], [])  # nothing acknowledged is lost
