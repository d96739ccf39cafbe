"""ringlog dead-letters replay in bulk: after a fix, every dead letter a
filter picks runs again (oldest first), with progress on a terminal and a
summary; --dry-run changes nothing."""
import json
import os
import pty
import subprocess

from harness import BIN, DB, IngestCase, add_source, query, ringlog, scalar


class BulkReplay(IngestCase):
    def refused(self, source, call_id, secret=None):
        r = self.push({"call_id": call_id, "direction": "sideways", "started_at": "2025-06-16T09:00:00Z",
                       "caller": "+36 30 123 4567"}, path=f"/v1/cdr/{source}", auth=False,
                      headers={"X-Api-Key": secret or self.SECRET})
        self.assertEqual((r.status, r.json()["error"]), (422, "invalid_field"), r)
        return r.json()["dead_letter_id"]

    def fix(self, source):
        path = os.path.join(self.daemon.dir, "words.json")
        with open(path, "w") as f:
            json.dump({"directions": {"sideways": "in"}}, f)
        ringlog("source", "update", source, "--mapping-file", path)

    def setUp(self):
        super().setUp()
        add_source("other", "other-push-secret", "--country-code", "36")
        self.ids = [self.refused("acme", f"b-{i}") for i in range(3)]
        self.other = self.refused("other", "o-1", "other-push-secret")
        r = self.push(b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.bad = r.json()["dead_letter_id"]

    def test_dry_run_changes_nothing(self):
        self.fix("acme")
        p = ringlog("dead-letters", "replay", "--source", "acme", "--dry-run")
        self.assertIn("4 dead letters would be replayed", p.stdout)
        self.assertRegex(p.stdout, r"acme\s+invalid_field\s+3")
        self.assertRegex(p.stdout, r"acme\s+invalid_json\s+1")
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE status = 'new'"), 5)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)

    def test_replay_a_source_after_a_fix(self):
        self.fix("acme")
        p = ringlog("dead-letters", "replay", "--source", "acme", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)  # one still fails
        self.assertIn("4 dead letters: 3 replayed (3 stored), 1 still failing (1 invalid_json)", p.stdout)
        self.assertEqual(sorted(r[0] for r in query("SELECT pbx_call_id FROM calls")), ["b-0", "b-1", "b-2"])
        self.assertEqual(query("SELECT id, status FROM dead_letters ORDER BY id"),
                         [(i, "replayed") for i in self.ids] + [(self.other, "new"), (self.bad, "new")])
        # the other source was not asked; a second run finds only what still fails
        p = ringlog("dead-letters", "replay", "--source", "acme", check=False)
        self.assertIn("1 dead letters: 0 replayed, 1 still failing (1 invalid_json)", p.stdout)

    def test_by_reason_and_since_with_progress_on_a_terminal(self):
        self.fix("acme")
        self.fix("other")
        master, slave = pty.openpty()
        p = subprocess.run([os.path.join(BIN, "ringlog"), "--database", DB, "dead-letters", "replay",
                            "--reason", "invalid_field", "--since", "2000-01-01"],
                           stdout=subprocess.PIPE, stderr=slave, text=True, timeout=60)
        os.close(slave)
        progress = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            progress += chunk
        os.close(master)
        progress = progress.decode().replace("\r\n", "\n")
        self.assertEqual(p.returncode, 0, progress)
        self.assertIn("\rreplaying 4/4 (100%): 4 replayed, 0 still failing\n", progress)
        self.assertIn("4 dead letters: 4 replayed (4 stored), 0 still failing", p.stdout)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 4)
        # piped, there is no progress line; nothing newer than tomorrow
        p = ringlog("dead-letters", "replay", "--source", "acme", "--since", "tomorrow", check=False)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertIn("0 dead letters: 0 replayed, 0 still failing", p.stdout)

    def test_a_filter_is_required_and_a_bad_time_is_named(self):
        p = ringlog("dead-letters", "replay", "--dry-run", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--all, or --source", p.stderr)
        p = ringlog("dead-letters", "replay", "--since", "next tuesday", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("next tuesday", p.stderr)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE status = 'new'"), 5)
