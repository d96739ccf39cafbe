"""Audio every browser plays: telephone codecs browsers cannot all play (GSM
6.10, µ-law, A-law, IMA and MS ADPCM in WAV; raw GSM, µ-law, A-law), made
here with libsndfile and audioop, are transcoded to MP3 when stored (inline
or fetched), the original's SHA-256 kept on the row; each stored form plays
in Chromium (currentTime advances), decodes back to the same tone, and is
served with ETag and Range. Corrupt audio fails its recording with a reason
while the call is stored. store_format = mp3 | opus stores all audio compact."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import unittest

import audio_codecs as ac
from harness import (ROOT, add_source, fetcherd, ingestd, new_token, request, reset_database, row,
                     scalar, wait_for)
from recordings import FakePBX, call_with_recording, secret_file, sha256, wav

SECRET = "acme-push-secret-1"
SECONDS, HZ = 3.0, 440
INLINE = {
    "gsm610.wav": ac.WAV | ac.GSM610,
    "ulaw.wav": ac.WAV | ac.ULAW,
    "alaw.wav": ac.WAV | ac.ALAW,
    "ima-adpcm.wav": ac.WAV | ac.IMA_ADPCM,
    "ms-adpcm.wav": ac.WAV | ac.MS_ADPCM,
    "raw.gsm": ac.RAW | ac.GSM610,   # no header: told by its frames
}
FETCHED = {  # no header, no magic: told by the name the PBX gives them
    "call-1.ulaw": ac.raw_ulaw,
    "call-2.alaw": ac.raw_alaw,
}


class Audio(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.pbx = FakePBX().start()
        add_source("acme", SECRET, "--fetch-url-template", cls.pbx.base() + "/rec/{ref}",
                   "--fetch-auth", "basic", "--fetch-user", "crm", "--fetch-secret-file", secret_file(),
                   "--fetch-plain-http", "yes")  # the fake PBX is plain http on loopback
        cls.ingest = ingestd("audio-ingest", "--max-body", "8M")
        cls.fetch = fetcherd("audio-fetch", "--fetch-retry-base", "0")
        cls.auth = {"Authorization": "Bearer " + new_token("audio")}
        cls.samples = ac.tone(SECONDS, 8000, HZ)
        cls.inputs, cls.rids, cls.first_plays = {}, {}, {}
        for name, fmt in INLINE.items():
            cls.inputs[name] = ac.encode(cls.samples, fmt)
            cls.rids[name] = cls.push(cls.ingest.port, "in-" + name, cls.inputs[name])
        for name, make in FETCHED.items():
            cls.inputs[name] = make(cls.samples)
            cls.pbx.add(name, cls.inputs[name])
            cls.rids[name] = call_with_recording(ref=name)
            # fetched on the first play, which waits for the stored MP3
            cls.first_plays[name] = cls.play(cls.rids[name])
            wait_for(lambda: scalar("SELECT state FROM recordings WHERE id = %s", cls.rids[name]) == "stored")

    @classmethod
    def tearDownClass(cls):
        codes = (cls.ingest.stop(), cls.fetch.stop())
        cls.pbx.stop()
        assert codes == (0, 0), (codes, cls.ingest.output()[-3000:], cls.fetch.output()[-3000:])

    @classmethod
    def push(cls, port, call_id, audio):
        body = {"call_id": call_id, "direction": "in", "started_at": "2025-06-16T09:20:05Z",
                "recording_base64": base64.b64encode(audio).decode()}
        r = request(port, "POST", "/v1/cdr/acme", body, {"X-Api-Key": SECRET})
        assert r.status == 200, r
        return scalar("SELECT r.id FROM recordings r JOIN calls c ON c.id = r.call_id"
                      " WHERE c.pbx_call_id = %s", call_id)

    @classmethod
    def play(cls, rid, method="GET", **headers):
        return request(cls.fetch.port, method, f"/v1/recordings/{rid}", headers={**cls.auth, **headers})

    def signed_url(self, rid):
        with open(os.path.join(self.fetch.dir, "signing.key"), "rb") as f:
            key = f.read()
        expires = int(time.time()) + 900
        sig = hmac.new(key, f"recording:{rid}:{expires}".encode(), hashlib.sha256).hexdigest()
        return f"http://127.0.0.1:{self.fetch.port}/v1/recordings/{rid}?expires={expires}&sig={sig}"

    def assert_tone(self, data, what):
        rate, samples = ac.decode(data)
        self.assertEqual(rate, 8000, what)
        self.assertAlmostEqual(len(samples) / rate, SECONDS, delta=0.15, msg=what)
        self.assertAlmostEqual(ac.dominant_hz(samples, rate), HZ, delta=HZ * 0.03, msg=what)

    def test_each_codec_is_stored_as_mp3_that_decodes_back(self):
        for name, rid in self.rids.items():
            original = self.inputs[name]
            r = row("SELECT * FROM recordings WHERE id = %s", rid)
            self.assertEqual(r["state"], "stored", name)
            self.assertEqual(r["mime_type"], "audio/mpeg", name)
            self.assertEqual(bytes(r["original_sha256"]).hex(), sha256(original), name)
            self.assertEqual(r["original_size_bytes"], len(original), name)
            self.assertNotEqual(r["blob_key"], sha256(original), name)
            self.assertEqual(bytes(r["sha256"]).hex(), r["blob_key"], name)
            p = self.play(rid)
            self.assertEqual((p.status, p.header("Content-Type")), (200, "audio/mpeg"), name)
            self.assertEqual(sha256(p.body), r["blob_key"], name)
            self.assertLess(len(p.body), 24000 / 8 * SECONDS * 1.3, name)  # 24 kbit/s
            self.assert_tone(p.body, name)

    def test_the_first_play_of_a_fetched_recording_is_the_stored_mp3(self):
        for name, first in self.first_plays.items():
            self.assertEqual((first.status, first.header("Content-Type")), (200, "audio/mpeg"), name)
            key = row("SELECT blob_key FROM recordings WHERE id = %s", self.rids[name])["blob_key"]
            self.assertEqual(sha256(first.body), key, name)

    def test_the_stored_form_has_etag_range_and_head(self):
        rid = self.rids["gsm610.wav"]
        full = self.play(rid)
        key = row("SELECT blob_key FROM recordings WHERE id = %s", rid)["blob_key"]
        self.assertEqual(full.header("ETag"), f'"{key}"')
        part = self.play(rid, Range="bytes=100-4099")
        self.assertEqual((part.status, part.body), (206, full.body[100:4100]))
        self.assertEqual(part.header("Content-Range"), f"bytes 100-4099/{len(full.body)}")
        head = self.play(rid, "HEAD")
        self.assertEqual(head.header("Content-Length"), str(len(full.body)))
        self.assertEqual(self.play(rid, **{"If-None-Match": f'"{key}"'}).status, 304)

    def test_the_original_is_on_record_in_the_call(self):
        raw = scalar("SELECT raw FROM calls WHERE pbx_call_id = 'in-gsm610.wav'")
        ref = raw["recording_base64"]
        self.assertEqual(ref["original_sha256"], sha256(self.inputs["gsm610.wav"]))
        self.assertEqual(ref["original_mime_type"], "audio/wav")
        self.assertEqual(ref["mime_type"], "audio/mpeg")

    def test_pcm_wav_plays_everywhere_and_is_kept_as_it_came(self):
        audio = wav(1.0, seed=7)
        rid = self.push(self.ingest.port, "pcm", audio)
        r = row("SELECT * FROM recordings WHERE id = %s", rid)
        self.assertEqual((r["mime_type"], r["blob_key"]), ("audio/wav", sha256(audio)))
        self.assertEqual(bytes(r["original_sha256"]).hex(), sha256(audio))
        self.assertEqual(self.play(rid).body, audio)

    def test_chromium_plays_every_stored_form(self):
        urls = [self.signed_url(rid) for rid in self.rids.values()]
        # the control: the GSM WAV itself, which Chromium cannot play
        control = "data:audio/wav;base64," + base64.b64encode(self.inputs["gsm610.wav"]).decode()
        env = dict(os.environ, RINGLOG_BROWSER=json.dumps(
            {"origin": f"http://127.0.0.1:{self.fetch.port}", "urls": urls + [control]}))
        browser_dir = os.path.join(ROOT, "tests", "browser")
        p = subprocess.run(["node", os.path.join(browser_dir, "playaudio.mjs")], capture_output=True,
                           text=True, env=env, timeout=180, cwd=browser_dir)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        got = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertNotIn("error", got)
        *plays, gsm = got["plays"]
        for name, play in zip(self.rids, plays):
            self.assertIsNone(play["error"], name)
            self.assertGreater(play["currentTime"], 0.5, name)
            self.assertAlmostEqual(play["duration"], SECONDS, delta=0.2, msg=name)
        self.assertIsNotNone(gsm["error"], gsm)  # what the transcoding is for
        self.assertEqual(gsm["currentTime"], 0)

    def test_corrupt_audio_fails_the_recording_but_the_call_is_stored(self):
        good = ac.encode(self.samples, ac.WAV | ac.GSM610)
        bad = good[:20] + b"\xff" * 16 + good[36:200]  # a WAV whose fmt chunk is garbage
        rid = self.push(self.ingest.port, "corrupt", bad)
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'corrupt'"), 1)
        r = row("SELECT * FROM recordings WHERE id = %s", rid)
        self.assertEqual((r["state"], r["last_error_code"]), ("failed", "audio_corrupt"))
        self.assertIn("cannot be decoded", r["last_error"])
        self.assertEqual(r["blob_key"], sha256(bad))  # kept as it came
        p = self.play(rid)
        self.assertEqual((p.status, p.json()["error"]), (422, "audio_corrupt"))
        # fetched from the PBX: the same
        self.pbx.add("bad.wav", bad)
        frid = call_with_recording(ref="bad.wav")
        self.play(frid)
        wait_for(lambda: scalar("SELECT state FROM recordings WHERE id = %s", frid) == "failed")
        self.assertEqual(scalar("SELECT last_error_code FROM recordings WHERE id = %s", frid), "audio_corrupt")


class StoreFormat(unittest.TestCase):
    def test_opus_and_mp3_store_everything_compact(self):
        reset_database()
        add_source("acme", SECRET)
        audio = wav(3.0, freq=HZ)
        for fmt, mime in (("opus", "audio/ogg"), ("mp3", "audio/mpeg")):
            d = ingestd(f"format-{fmt}", "--recordings-store-format", fmt)
            try:
                rid = Audio.push(d.port, "fmt-" + fmt, audio)
            finally:
                self.assertEqual(d.stop(), 0, d.output()[-3000:])
            r = row("SELECT * FROM recordings WHERE id = %s", rid)
            self.assertEqual(r["mime_type"], mime)
            self.assertEqual(bytes(r["original_sha256"]).hex(), sha256(audio))
            self.assertLess(r["size_bytes"], len(audio) / 4, fmt)  # 128 kbit/s PCM: far smaller
            from recordings import blob_path
            with open(blob_path(r["blob_key"]), "rb") as f:
                stored = f.read()
            rate, samples = ac.decode(stored)
            self.assertAlmostEqual(len(samples) / rate, 3.0, delta=0.15)
            self.assertAlmostEqual(ac.dominant_hz(samples, rate), HZ, delta=HZ * 0.03)

    def test_an_unknown_store_format_is_refused_at_start(self):
        from harness import Daemon, WORK
        bad = Daemon("ringlog-ingestd", "format-bad", "--spool-dir", os.path.join(WORK, "format-bad"),
                     "--recordings-store-format", "flac").start(expect_ready=False)
        self.assertNotEqual(bad.wait_exit(), 0)
        self.assertIn("store_format", bad.output())


if __name__ == "__main__":
    unittest.main()
