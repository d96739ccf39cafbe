"""Inline recordings: base64 audio in the push, with or without a data: URI
prefix and line breaks, checked strictly, typed from its magic bytes, stored
once in the blob store before the call commits, kept out of `raw`, and
played back byte for byte."""
import base64
import json
import os
import urllib.parse

from harness import (BLOBS, FIXTURES, IngestCase, fetcherd, new_token, pg_start, pg_stop, qs,
                     request, row, scalar, query, wait_for)
from recordings import blob_path, sha256, wav


def audio_fixture(name):
    with open(os.path.join(FIXTURES, "audio", name), "rb") as f:
        return f.read()


def lines(text, width=76, sep="\r\n"):
    return sep.join(text[i:i + width] for i in range(0, len(text), width))


def b64(data):
    return base64.b64encode(data).decode()


class Inline(IngestCase):
    DAEMON_FLAGS = ("--max-body", "16M", "--body-spill", "64K", "--recordings-max-size", "8M")

    def push_call(self, call_id, value, **extra):
        body = {"call_id": call_id, "direction": "in", "started_at": "2025-06-16T09:20:05Z",
                "recording_base64": value, **extra}
        return self.push(body)

    def fetcher(self):
        d = fetcherd("inline-fetcher")
        self.addCleanup(d.stop)
        return d, new_token("inline")

    def test_stored_before_the_answer_and_played_back_identical(self):
        audio = wav(2.0)
        r = self.push_call("in-1", "data:audio/mpeg;base64," + lines(b64(audio)))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "stored")
        rec = row("""SELECT r.* FROM recordings r JOIN calls c ON c.id = r.call_id
                     WHERE c.pbx_call_id = 'in-1'""")
        self.assertEqual(rec["state"], "stored")
        self.assertEqual(rec["blob_key"], sha256(audio))
        self.assertEqual(rec["size_bytes"], len(audio))
        self.assertEqual(rec["mime_type"], "audio/wav")  # the bytes, not the data: URI's word
        self.assertIsNotNone(rec["stored_at"])
        with open(blob_path(rec["blob_key"]), "rb") as f:  # durable before the 200
            self.assertEqual(f.read(), audio)
        raw = scalar("SELECT raw FROM calls WHERE pbx_call_id = 'in-1'")
        self.assertEqual(raw["recording_base64"], {"blob_sha256": sha256(audio),
                                                   "size_bytes": len(audio), "mime_type": "audio/wav"})
        self.assertLess(len(json.dumps(raw)), 1000)  # the audio is not in raw
        d, token = self.fetcher()
        p = request(d.port, "GET", f"/v1/recordings/{rec['id']}",
                    headers={"Authorization": "Bearer " + token})
        self.assertEqual(p.status, 200)
        self.assertEqual(sha256(p.body), sha256(audio))
        self.assertEqual(p.header("Content-Type"), "audio/wav")

    def test_formats_are_told_by_their_magic_bytes(self):
        for name, mime in (("tone.mp3", "audio/mpeg"), ("frames.mp3", "audio/mpeg"),
                           ("tone.opus.ogg", "audio/ogg"), ("tone.flac", "audio/flac"),
                           ("tone.m4a", "audio/mp4"), ("error-page.html", "application/octet-stream")):
            r = self.push_call("fmt-" + name, "data:audio/wav;base64," + b64(audio_fixture(name)))
            self.assertEqual(r.status, 200, r)
            got = scalar("""SELECT r.mime_type FROM recordings r JOIN calls c ON c.id = r.call_id
                            WHERE c.pbx_call_id = %s""", "fmt-" + name)
            self.assertEqual(got, mime, name)

    def test_the_same_audio_twice_is_stored_once(self):
        audio = wav(1.0, seed=1)
        for cid, text in (("same-1", b64(audio)), ("same-2", lines(b64(audio), 72, "\n"))):
            self.assertEqual(self.push_call(cid, text).status, 200)
        keys = query("SELECT DISTINCT blob_key FROM recordings")
        self.assertEqual(keys, [(sha256(audio),)])
        files = [f for _, _, fs in os.walk(BLOBS) for f in fs if not f.endswith(".part")]
        self.assertEqual(files.count(sha256(audio)), 1)
        # the same push again is a duplicate, not a new revision
        self.assertEqual(self.push_call("same-1", b64(audio)).json()["status"], "duplicate")

    def test_invalid_base64_is_422_and_dead_lettered(self):
        audio = wav(0.2, seed=2)
        good = b64(audio)
        cases = {
            "outside": good[:40] + "*" + good[41:],
            "urlsafe": good[:40] + "-" + good[41:],
            "space": good[:40] + " " + good[40:],
            "padding": good + "=",
            "cut": good[:-3] if good.endswith("=") else good[:-1] + "A=A",
            "nodata": "data:audio/wav," + good,
            "number": 12345,
        }
        for name, value in cases.items():
            r = self.push_call("bad-" + name, value)
            self.assertEqual(r.status, 422, (name, r))
            body = r.json()
            self.assertEqual((body["error"], body["field"]), ("invalid_field", "recording_base64"), name)
            self.assertIn("dead_letter_id", body)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE reason = 'invalid_field'"),
                         len(cases))

    def test_a_recording_over_the_limit_is_413(self):
        big = os.urandom(9 << 20)  # recordings.max_size is 8M
        r = self.push_call("too-big", b64(big)[: (12 << 20)])
        self.assertEqual((r.status, r.json()["error"]), (413, "recording_too_large"), r)

    def test_a_large_push_goes_through_the_spill_file(self):
        audio = wav(120.0, seed=3)  # ~1.9 MB of audio, 2.6 MB of base64: past body_spill
        r = self.push_call("big-1", lines(b64(audio)), caller="+36 1 234 5678")
        self.assertEqual(r.status, 200, r)
        rec = row("SELECT * FROM recordings")
        self.assertEqual((rec["blob_key"], rec["size_bytes"]), (sha256(audio), len(audio)))
        self.assertEqual(scalar("SELECT caller_e164 FROM calls"), "3612345678")

    def test_form_and_query_string_pushes(self):
        audio = wav(0.3, seed=4)
        form = urllib.parse.urlencode({"call_id": "form-1", "direction": "in",
                                       "started_at": "1750065605", "recording_base64": b64(audio)})
        r = self.push(form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r)
        small = wav(0.05, seed=5)
        r = self.push(method="GET", auth=False, path="/v1/cdr/acme?" + qs(
            call_id="get-1", direction="in", started_at="1750065605", recording_base64=b64(small),
            key=self.SECRET))
        self.assertEqual(r.status, 200, r)
        got = dict(query("""SELECT c.pbx_call_id, r.blob_key FROM recordings r
                            JOIN calls c ON c.id = r.call_id"""))
        self.assertEqual(got, {"form-1": sha256(audio), "get-1": sha256(small)})
        raw = scalar("SELECT raw FROM calls WHERE pbx_call_id = 'get-1'")
        self.assertEqual(raw["recording_base64"]["blob_sha256"], sha256(small))

    def test_a_push_without_audio_is_untouched(self):
        r = self.push_call("none-1", "", recording_id="ref-1")
        self.assertEqual(r.status, 200, r)
        rec = row("SELECT * FROM recordings")
        self.assertEqual((rec["state"], rec["remote_ref"]), ("remote", "ref-1"))
        self.assertEqual(scalar("SELECT raw->>'recording_base64' FROM calls"), "")

    def test_a_large_push_spooled_while_the_database_is_away(self):
        audio = wav(90.0, seed=6)  # past body_spill: spooled from its file, not from memory
        pg_stop()
        try:
            r = self.push_call("spooled-1", b64(audio))
            self.assertEqual((r.status, r.json()["status"]), (200, "spooled"), r)
        finally:
            pg_start()
        rec = wait_for(lambda: row("SELECT * FROM recordings"), timeout=30, what="the drain")
        self.assertEqual((rec["state"], rec["blob_key"]), ("stored", sha256(audio)))
        with open(blob_path(rec["blob_key"]), "rb") as f:
            self.assertEqual(f.read(), audio)
