"""Retention per source: `ringlog source update S --keep-*`, defaults in
[maintain] of the config, `ringlog maintain [--dry-run]`; a blob goes only
after the rows that used it."""
import hashlib
import os
import unittest

from harness import BLOBS, WORK, add_source, execute, query, reset_database, ringlog, scalar


def blob(content):
    key = hashlib.sha256(content).hexdigest()
    d = os.path.join(BLOBS, key[:2], key[2:4])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, key), "wb") as f:
        f.write(content)
    return key, os.path.join(d, key)


class Maintain(unittest.TestCase):
    def setUp(self):
        reset_database()
        self.conf = os.path.join(WORK, "maintain.conf")
        with open(self.conf, "w") as f:
            f.write(f"[recordings]\nblob_dir = {BLOBS}\n[maintain]\nkeep_dead_letters = 7d\n")
        add_source("kept", "s3cret-kept-1")
        add_source("short", "s3cret-short-1")
        ringlog("--config", self.conf, "source", "update", "short", "--keep-calls", "400d",
                "--keep-recordings", "90d", "--keep-dead-letters", "30d")
        self.old_blob, self.old_path = blob(b"old audio")
        self.shared_blob, self.shared_path = blob(b"shared audio")
        for src, cid, age in (("kept", "k-old", "500 days"), ("short", "s-old", "500 days"),
                              ("short", "s-mid", "100 days"), ("short", "s-new", "1 day")):
            execute("INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)"
                    " SELECT id, %s, 'in', 'answered', now() - %s::interval, '{}' FROM sources WHERE name = %s",
                    cid, age, src)
        rec = ("INSERT INTO recordings (call_id, position, state, blob_key, size_bytes)"
               " SELECT id, %s, 'stored', %s, 9 FROM calls WHERE pbx_call_id = %s")
        execute(rec, 0, self.old_blob, "s-old")
        execute(rec, 0, self.shared_blob, "s-mid")
        execute(rec, 0, self.shared_blob, "s-new")
        for src, age in (("short", "40 days"), ("short", "1 day"), ("kept", "10 days")):
            execute("INSERT INTO dead_letters (source_name, reason, message, method, body, received_at)"
                    " VALUES (%s, 'bad', 'm', 'POST', 'x', now() - %s::interval)", src, age)

    def maintain(self, *args):
        return ringlog("--config", self.conf, "maintain", *args).stdout

    def test_dry_run_says_what_would_go_and_changes_nothing(self):
        out = self.maintain("--dry-run")
        self.assertIn("short: would remove 1 calls", out)
        self.assertIn("short: would remove 2 recordings", out)
        self.assertIn("short: would remove 1 dead_letters", out)
        self.assertIn("kept: would remove 1 dead_letters", out)  # the config's 7 days
        self.assertNotIn("kept: would remove 1 calls", out)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 4)
        self.assertEqual(scalar("SELECT count(*) FROM recordings"), 3)
        self.assertTrue(os.path.exists(self.old_path))

    def test_expired_rows_then_their_unused_blobs_go(self):
        out = self.maintain()
        self.assertIn('ringlog_maintain_removed{kind="calls"} 1', out)
        self.assertIn("1 blobs deleted", out)
        self.assertEqual(sorted(r[0] for r in query("SELECT pbx_call_id FROM calls")),
                         ["k-old", "s-mid", "s-new"])
        # s-mid's recording expired; s-new still uses the shared blob.
        self.assertEqual(query("SELECT c.pbx_call_id FROM recordings r JOIN calls c ON c.id = r.call_id"),
                         [("s-new",)])
        self.assertFalse(os.path.exists(self.old_path))
        self.assertTrue(os.path.exists(self.shared_path))
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 1)
        # Nothing is left to do.
        self.assertIn("removed 0 calls, 0 recordings, 0 dead letters", self.maintain())


if __name__ == "__main__":
    unittest.main()
