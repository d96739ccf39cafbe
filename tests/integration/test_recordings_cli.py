"""The operator's side of recordings: ringlog recordings list|show|retry|gc,
a dead-lettered inline push replayed by the CLI, and a daemon that stops
while a download is still running."""
import base64
import os
import signal
import threading
import time

from harness import (BLOBS, DB, WORK, IngestCase, execute, ringlog, row, scalar, wait_for)
from recordings import RecordingCase, blob_path, call_with_recording, sha256, wav


def cli_config():
    path = os.path.join(WORK, "cli.conf")
    with open(path, "w") as f:
        f.write(f"[recordings]\nblob_dir = {BLOBS}\n")
    return path


class Commands(RecordingCase):
    def test_list_show_and_gc(self):
        audio = wav(0.5, seed=30)
        self.pbx.add("l-1", audio)
        rid = call_with_recording(ref="l-1")
        self.assertEqual(self.play(rid).status, 200)
        wait_for(lambda: self.row(rid)["state"] == "stored", what="stored")
        listing = ringlog("recordings", "list", "--state", "stored").stdout
        self.assertIn(f"{rid} ", listing)
        shown = ringlog("recordings", "show", str(rid)).stdout
        self.assertIn(sha256(audio), shown)
        self.assertIn("audio/wav", shown)
        # an orphan: its call is gone (or its push never committed)
        orphan = wav(0.5, seed=31)
        self.pbx.add("l-2", orphan)
        rid2 = call_with_recording(ref="l-2")
        self.assertEqual(self.play(rid2).status, 200)
        wait_for(lambda: self.row(rid2)["state"] == "stored", what="stored")
        execute("DELETE FROM calls WHERE id = (SELECT call_id FROM recordings WHERE id = %s)", rid2)
        conf = ("--config", cli_config())
        young = ringlog(*conf, "recordings", "gc").stdout
        self.assertIn("0 unreferenced removed", young)  # younger than a day: left alone
        # (the store is shared by the whole run: earlier tests left orphans too)
        dry = ringlog(*conf, "recordings", "gc", "--min-age", "0", "--dry-run").stdout
        self.assertRegex(dry, r"[1-9][0-9]* unreferenced would be removed")
        self.assertTrue(os.path.exists(blob_path(sha256(orphan))))
        ringlog(*conf, "recordings", "gc", "--min-age", "0")
        self.assertFalse(os.path.exists(blob_path(sha256(orphan))))
        self.assertTrue(os.path.exists(blob_path(sha256(audio))))
        self.assertEqual(self.play(rid).body, audio)

    def test_retry_by_source_after_fixing_credentials(self):
        self.pbx.add("f-1", wav(0.5), mode="unauthorized")
        rid = call_with_recording(ref="f-1")
        execute("UPDATE recordings SET state = 'failed', last_error_code = 'upstream_auth_failed',"
                " last_error = 'x', attempts = 10 WHERE id = %s", rid)
        self.assertEqual(self.play(rid).json()["error"], "upstream_auth_failed")
        self.pbx.modes["f-1"] = None
        out = ringlog("recordings", "retry", "--failed", "--source", "acme").stdout
        self.assertIn("1 recording will be fetched again", out)
        self.assertEqual(self.row(rid)["attempts"], 0)
        self.assertEqual(self.play(rid).status, 200)
        bad = ringlog("recordings", "retry", check=False)
        self.assertEqual(bad.returncode, 2)


class Stopping(RecordingCase):
    FETCHER_FLAGS = ("--fetch-timeout", "20", "--shutdown-grace", "0")

    def test_stopping_during_a_download_exits_cleanly(self):
        self.pbx.slow_seconds = 10
        self.pbx.add("s-1", wav(0.5), mode="slow")
        rid = call_with_recording(ref="s-1")
        answers = []

        def play():
            try:
                answers.append(self.play(rid))
            except ConnectionError:  # the answer may be lost with the closing connection
                pass

        t = threading.Thread(target=play)
        t.start()
        wait_for(lambda: self.pbx.count("s-1") == 1, what="the download to start")
        t0 = time.monotonic()
        self.fetcher.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.fetcher.wait_exit(), 0, self.fetcher.output())
        self.assertLess(time.monotonic() - t0, 5)
        t.join(10)
        if answers:
            self.assertEqual(answers[0].status, 503)
        row_ = self.row(rid)
        self.assertEqual((row_["state"], row_["attempts"], row_["lease_owner"]), ("remote", 0, None))


class Replay(IngestCase):
    DAEMON_FLAGS = ("--max-body", "4M")

    def test_a_dead_lettered_inline_push_is_replayed_by_the_cli(self):
        audio = wav(1.0, seed=32)
        execute("ALTER TABLE calls ADD CONSTRAINT test_block CHECK (pbx_call_id <> 'dl-1')")
        try:
            r = self.push({"call_id": "dl-1", "direction": "in", "started_at": 1750065605,
                           "recording_base64": base64.b64encode(audio).decode()})
        finally:
            execute("ALTER TABLE calls DROP CONSTRAINT test_block")
        self.assertEqual(r.status, 500, r)
        os.remove(blob_path(sha256(audio)))  # as if gc took it meanwhile
        dl = r.json()["dead_letter_id"]
        out = ringlog("--config", cli_config(), "dead-letters", "replay", str(dl)).stdout
        self.assertIn("replayed", out)
        rec = row("SELECT * FROM recordings")
        self.assertEqual((rec["state"], rec["blob_key"]), ("stored", sha256(audio)))
        with open(blob_path(rec["blob_key"]), "rb") as f:
            self.assertEqual(f.read(), audio)
