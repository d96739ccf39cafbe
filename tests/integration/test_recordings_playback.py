"""Playback done right: Range (206, 416, Safari's probe, suffixes), strong
ETag, If-None-Match, If-Range, Last-Modified, HEAD, the true Content-Type,
Content-Disposition, and who may play: bearer tokens and signed URLs."""
import email.utils
import time

from harness import execute, ringlog, wait_for
from recordings import RecordingCase, call_with_recording, sha256, wav


class Playback(RecordingCase):
    def setUp(self):
        super().setUp()
        self.audio = wav(2.0)
        self.size = len(self.audio)
        self.pbx.add("pb", self.audio)
        self.rid = call_with_recording(ref="pb")
        self.assertEqual(self.play(self.rid).status, 200)
        wait_for(lambda: self.row(self.rid)["state"] == "stored", what="stored")
        self.etag = '"%s"' % sha256(self.audio)

    def range(self, spec, **headers):
        return self.play(self.rid, headers={"Range": spec, **headers})

    def test_whole_file_and_its_headers(self):
        r = self.play(self.rid)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.audio)
        self.assertEqual(r.header("Content-Type"), "audio/wav")
        self.assertEqual(r.header("Content-Length"), str(self.size))
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertEqual(r.header("ETag"), self.etag)
        self.assertEqual(r.header("Content-Disposition"), f'inline; filename="recording-{self.rid}.wav"')
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        stored_at = self.row(self.rid)["stored_at"].timestamp()
        self.assertEqual(email.utils.parsedate_to_datetime(r.header("Last-Modified")).timestamp(),
                         int(stored_at))
        d = self.play(self.rid, query="?download=1")
        self.assertEqual(d.header("Content-Disposition"), f'attachment; filename="recording-{self.rid}.wav"')
        self.assertEqual(d.body, self.audio)

    def test_ranges(self):
        n = self.size
        cases = [
            ("bytes=0-1", 0, 1),            # Safari's probe
            ("bytes=0-", 0, n - 1),         # Chrome's first request
            ("bytes=100-199", 100, 199),
            ("bytes=1000-", 1000, n - 1),
            ("bytes=-500", n - 500, n - 1),  # the last 500 bytes
            ("bytes=-999999999", 0, n - 1),
            ("bytes=10-999999999", 10, n - 1),
            (f"bytes={n - 1}-{n - 1}", n - 1, n - 1),
        ]
        for spec, first, last in cases:
            r = self.range(spec)
            self.assertEqual(r.status, 206, spec)
            self.assertEqual(r.header("Content-Range"), f"bytes {first}-{last}/{n}", spec)
            self.assertEqual(r.header("Content-Length"), str(last - first + 1), spec)
            self.assertEqual(r.body, self.audio[first:last + 1], spec)
            self.assertEqual(r.header("ETag"), self.etag)

    def test_unsatisfiable_ranges(self):
        for spec in (f"bytes={self.size}-", f"bytes={self.size + 5}-{self.size + 9}", "bytes=-0"):
            r = self.range(spec)
            self.assertEqual(r.status, 416, spec)
            self.assertEqual(r.header("Content-Range"), f"bytes */{self.size}")
            self.assertEqual(r.json()["error"], "range_not_satisfiable")

    def test_ranges_that_are_ignored(self):
        for spec in ("bytes=0-1,5-9", "bytes=5-1", "pages=1-2", "bytes=x-"):
            r = self.range(spec)
            self.assertEqual((r.status, r.body), (200, self.audio), spec)

    def test_head(self):
        r = self.play(self.rid, method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Content-Length"), str(self.size))
        self.assertEqual(r.header("ETag"), self.etag)
        r = self.play(self.rid, method="HEAD", headers={"Range": "bytes=0-1"})
        self.assertEqual(r.status, 200)  # Range is for GET

    def test_if_none_match_and_if_modified_since(self):
        for inm in (self.etag, f'"nope", {self.etag}', "W/" + self.etag, "*"):
            r = self.play(self.rid, headers={"If-None-Match": inm})
            self.assertEqual(r.status, 304, inm)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("ETag"), self.etag)
        self.assertEqual(self.play(self.rid, headers={"If-None-Match": '"other"'}).status, 200)
        lm = self.play(self.rid).header("Last-Modified")
        self.assertEqual(self.play(self.rid, headers={"If-Modified-Since": lm}).status, 304)
        old = "Sun, 06 Nov 1994 08:49:37 GMT"
        self.assertEqual(self.play(self.rid, headers={"If-Modified-Since": old}).status, 200)
        # If-None-Match wins over If-Modified-Since
        self.assertEqual(self.play(self.rid, headers={"If-None-Match": '"other"',
                                                      "If-Modified-Since": lm}).status, 200)

    def test_if_range(self):
        r = self.range("bytes=0-1", **{"If-Range": self.etag})
        self.assertEqual((r.status, r.body), (206, self.audio[:2]))
        r = self.range("bytes=0-1", **{"If-Range": '"changed"'})
        self.assertEqual((r.status, r.body), (200, self.audio))
        r = self.range("bytes=0-1", **{"If-Range": "W/" + self.etag})  # weak never matches
        self.assertEqual(r.status, 200)
        lm = self.play(self.rid).header("Last-Modified")
        self.assertEqual(self.range("bytes=0-1", **{"If-Range": lm}).status, 206)
        self.assertEqual(self.range("bytes=0-1", **{"If-Range": "Sun, 06 Nov 1994 08:49:37 GMT"}).status, 200)

    def test_if_match(self):
        self.assertEqual(self.play(self.rid, headers={"If-Match": self.etag}).status, 200)
        self.assertEqual(self.play(self.rid, headers={"If-Match": '"other"'}).status, 412)

    def test_the_type_is_the_contents(self):
        with open(self.fixture("tone.mp3"), "rb") as f:
            mp3 = f.read()
        self.pbx.add("an-mp3", mp3)
        rid = call_with_recording(ref="an-mp3")
        r = self.play(rid)
        self.assertEqual(r.header("Content-Type"), "audio/mpeg")  # the PBX said audio/wav
        wait_for(lambda: self.row(rid)["state"] == "stored", what="stored")
        r = self.play(rid)
        self.assertEqual((r.header("Content-Type"), r.body), ("audio/mpeg", mp3))
        self.assertIn(".mp3", r.header("Content-Disposition"))

    def fixture(self, name):
        import os
        from harness import FIXTURES
        return os.path.join(FIXTURES, "audio", name)


class Access(RecordingCase):
    def setUp(self):
        super().setUp()
        self.audio = wav(0.5)
        self.pbx.add("acc", self.audio)
        self.rid = call_with_recording(ref="acc")

    def test_a_signed_url_plays_without_a_token(self):
        r = self.play(self.rid, query=self.signed_query(self.rid), auth=False)
        self.assertEqual((r.status, r.body), (200, self.audio))
        r = self.play(self.rid, query=self.signed_query(self.rid) + "&download=1", auth=False)
        self.assertTrue(r.header("Content-Disposition").startswith("attachment"))

    def test_expired_and_altered_signatures_are_403(self):
        expired = self.play(self.rid, query=self.signed_query(self.rid, int(time.time()) - 1), auth=False)
        self.assertEqual((expired.status, expired.json()["error"]), (403, "url_expired"))
        good = self.signed_query(self.rid)
        sig = good.rsplit("=", 1)[1]
        bad_sig = good[:-1] + ("0" if sig[-1] != "0" else "1")
        for q in (bad_sig, good.replace("expires=", "expires=1"), self.signed_query(self.rid + 1),
                  "?expires=9999999999&sig=", "?sig=" + sig, "?expires=abc&sig=" + sig):
            r = self.play(self.rid, query=q, auth=False)
            self.assertEqual((r.status, r.json()["error"]), (403, "invalid_signature"), q)
        # an altered link that also expired is still "invalid", not "expired"
        old = self.signed_query(self.rid, int(time.time()) - 10)
        r = self.play(self.rid, query=old[:-1] + ("0" if old[-1] != "0" else "1"), auth=False)
        self.assertEqual(r.json()["error"], "invalid_signature")
        self.assertEqual(self.pbx.count(), 0)

    def test_tokens(self):
        r = self.play(self.rid, auth=False)
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"))
        self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="ringlog"')
        r = self.play(self.rid, headers={"Authorization": "Bearer rl_not-a-token"}, auth=False)
        self.assertEqual(r.status, 401)
        ringlog("token", "revoke", "crm")
        r = self.play(self.rid)
        self.assertEqual((r.status, r.json()["error"]), (403, "token_revoked"))
        self.assertEqual(self.pbx.count(), 0)
