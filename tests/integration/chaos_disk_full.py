"""The spool's disk full (a 512 KiB tmpfs) while PostgreSQL is away: pushes
past it are answered 503 with Retry-After, nothing half-written is left or
acknowledged, and every acknowledged push reaches the table when the
database is back; then the freed disk takes pushes again."""
import os
import subprocess
import unittest

from harness import (IngestCase, WORK, ingestd, pg_start, pg_stop, request, scalar, wait_for)
from load import Load

MAGIC = b"ringlog-spool 1\n"


class DiskFull(IngestCase):
    def setUp(self):
        super().setUp()
        self.daemon.stop()
        self.mount = os.path.join(WORK, "spool-tmpfs")
        os.makedirs(self.mount, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", self.mount],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.daemon = None
            self.skipTest(f"cannot mount a tmpfs here ({p.stderr.strip()}); the spool_max "
                          "limit is tested in test_ingest_outage instead")
        self.addCleanup(subprocess.run, ["umount", "-l", self.mount])
        self.spool = os.path.join(self.mount, "spool")
        self.daemon = ingestd("disk-full", "--spool-dir", self.spool)  # spool_max 1G: the disk ends first
        self.port = self.daemon.port

    def tearDown(self):
        pg_start()
        if self.daemon:
            super().tearDown()

    def files(self):
        return sorted(os.listdir(self.spool))

    def test_full_spool_disk_is_503_and_corrupts_nothing(self):
        pg_stop()
        load = Load(self.port, self.SECRET, os.path.join(WORK, "disk-full-acked.log"),
                    threads=3, pad=3000, tag="full")
        load.start()
        wait_for(lambda: load.refused.get(503, 0) >= 30, timeout=30, what="503s from a full disk")
        load.stop()
        acked = load.acknowledged()
        r = self.push({"call_id": "full-x", "direction": "in", "started_at": 1750065605})
        self.assertEqual((r.status, r.json()["error"]), (503, "unavailable"), r)
        self.assertEqual(r.header("Retry-After"), "30")
        self.assertIn("No space left on device", r.json()["message"])
        # What is on disk: whole spool files only, one per acknowledged push.
        names = self.files()
        self.assertEqual([n for n in names if n.startswith(".tmp-") or n.endswith(".corrupt")], [])
        pushes = [n for n in names if n.endswith(".push")]
        self.assertEqual(len(pushes), len(acked))
        for n in pushes:
            with open(os.path.join(self.spool, n), "rb") as f:
                self.assertTrue(f.read().startswith(MAGIC), n)
        metrics = request(self.port, "GET", "/metrics").body.decode()
        self.assertIn(f"ringlog_spool_pushes {len(acked)}", metrics)

        pg_start()
        wait_for(lambda: not [n for n in self.files() if n.endswith(".push")], timeout=60,
                 what="the spool to drain")
        f = load.report("spool disk full (512 KiB tmpfs), database down")
        self.assertEqual(f["missing"], [])
        self.assertEqual(f["duplicate_rows"], 0)
        self.assertEqual(set(f["refused"]), {503})
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 0)
        r = self.push({"call_id": "after-full", "direction": "in", "started_at": 1750065605})
        self.assertEqual((r.status, r.json()["status"]), (200, "stored"), r)


if __name__ == "__main__":
    unittest.main()
