"""Remote recordings: fetched from the PBX on the first play with the
source's credentials, stored, then served locally; one upstream GET however
many players (and fetcher processes) ask at once; redirects and pushed URLs
kept to the allowed hosts, credentials to their own; prefetch."""
import concurrent.futures
import threading
import time

from harness import add_source, wait_for
from recordings import RecordingCase, blob_path, call_with_recording, secret_file, sha256, wav


def stored(case, rid):
    return wait_for(lambda: (r := case.row(rid))["state"] == "stored" and r, what="the row stored")


class Fetch(RecordingCase):
    def test_first_play_fetches_then_plays_are_local(self):
        audio = wav(2.0)
        self.pbx.add("r-1", audio)
        rid = call_with_recording(ref="r-1")
        r = self.play(rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sha256(r.body), sha256(audio))
        self.assertEqual(r.header("Content-Type"), "audio/wav")
        self.assertEqual(self.pbx.count("r-1"), 1)
        # the body was streamed as it came; the row follows the blob's commit
        row = stored(self, rid)
        self.assertEqual(row["blob_key"], sha256(audio))
        self.assertEqual(bytes(row["sha256"]).hex(), sha256(audio))
        self.assertEqual(row["size_bytes"], len(audio))
        self.assertEqual(row["mime_type"], "audio/wav")
        self.assertEqual(row["attempts"], 1)
        self.assertIsNone(row["lease_owner"])
        with open(blob_path(row["blob_key"]), "rb") as f:
            self.assertEqual(f.read(), audio)
        for _ in range(3):
            again = self.play(rid)
            self.assertEqual(again.status, 200)
            self.assertEqual(again.body, audio)
            self.assertEqual(again.header("ETag"), '"%s"' % sha256(audio))
        self.assertEqual(self.pbx.count("r-1"), 1)  # served locally from now on

    def test_twenty_concurrent_cold_plays_make_one_upstream_get(self):
        audio = wav(3.0)
        self.pbx.add("r-20", audio, mode="drip")  # arrives over ~400 ms
        rid = call_with_recording(ref="r-20")
        start = threading.Barrier(20)

        def one(_):
            start.wait()
            return self.play(rid)

        with concurrent.futures.ThreadPoolExecutor(20) as ex:
            answers = list(ex.map(one, range(20)))
        for a in answers:
            self.assertEqual(a.status, 200, a)
            self.assertEqual(sha256(a.body), sha256(audio))
        self.assertEqual(self.pbx.count("r-20"), 1)
        self.assertEqual(stored(self, rid)["attempts"], 1)

    def test_two_fetcher_processes_share_one_upstream_get(self):
        audio = wav(3.0, seed=2)
        self.pbx.add("r-x", audio, mode="drip")
        rid = call_with_recording(ref="r-x")
        other = self.start_fetcher("second-fetcher")
        start = threading.Barrier(10)

        def one(i):
            start.wait()
            return self.play(rid, port=(self.fetcher.port if i % 2 else other.port))

        with concurrent.futures.ThreadPoolExecutor(10) as ex:
            answers = list(ex.map(one, range(10)))
        for a in answers:
            self.assertEqual(a.status, 200, a)
            self.assertEqual(a.body, audio)
        self.assertEqual(self.pbx.count("r-x"), 1)

    def test_an_answer_without_length_is_streamed_and_stored(self):
        audio = wav(1.5, seed=3)
        self.pbx.add("r-chunked", audio, mode="chunked")
        rid = call_with_recording(ref="r-chunked")
        r = self.play(rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, audio)
        self.assertEqual(stored(self, rid)["size_bytes"], len(audio))

    def test_a_range_on_a_cold_recording(self):
        audio = wav(1.0, seed=4)
        self.pbx.add("r-range", audio, mode="drip")
        rid = call_with_recording(ref="r-range")
        r = self.play(rid, headers={"Range": "bytes=0-1"})  # Safari's first request
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, audio[:2])
        self.assertEqual(r.header("Content-Range"), f"bytes 0-1/{len(audio)}")
        self.assertEqual(self.play(rid, headers={"Range": "bytes=100-"}).body, audio[100:])
        self.assertEqual(self.pbx.count("r-range"), 1)


class Redirects(RecordingCase):
    def test_a_redirect_to_another_host_carries_no_credentials(self):
        audio = wav(1.0, seed=5)
        self.pbx.add("r-away", audio, mode="redirect_other")
        rid = call_with_recording(ref="r-away")
        r = self.play(rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, audio)
        first, = self.pbx.requests_to("main")
        self.assertTrue(first["headers"].get("Authorization", "").startswith("Basic "))
        away, = self.pbx.requests_to("other")
        self.assertNotIn("Authorization", away["headers"])
        self.assertNotIn("password", away["query"])

    def test_a_redirect_on_the_same_host_keeps_them(self):
        audio = wav(1.0, seed=6)
        self.pbx.add("r-same", audio, mode="redirect_same")
        rid = call_with_recording(ref="r-same")
        r = self.play(rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, audio)
        hops = self.pbx.requests_to("main")
        self.assertEqual([h["query"] for h in hops], [{}, {"hop": "1"}])
        for h in hops:
            self.assertTrue(h["headers"].get("Authorization", "").startswith("Basic "))

    def test_a_redirect_to_a_host_not_allowed_is_not_followed(self):
        self.pbx.add("r-off", wav(0.5), mode="redirect_other")
        add_source("closed", "push-secret-456", "--fetch-url-template",
                   self.pbx.base() + "/rec/{ref}", "--fetch-auth", "basic", "--fetch-user", "crm",
                   "--fetch-plain-http", "yes", "--fetch-secret-file", secret_file())
        rid = call_with_recording(source="closed", ref="r-off")
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_not_allowed"), r)
        self.assertEqual(self.pbx.requests_to("other"), [])
        self.assertEqual(self.row(rid)["state"], "failed")


class PushedUrls(RecordingCase):
    def test_a_pushed_url_outside_the_allow_list_is_refused(self):
        self.pbx.add("evil", wav(0.5))
        rid = call_with_recording(url=f"http://127.0.0.3:{self.pbx.ports['main']}/files/evil")
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_not_allowed"), r)
        self.assertEqual(self.pbx.count(), 0)  # no request left the daemon
        row = self.row(rid)
        self.assertEqual((row["state"], row["last_error_code"]), ("failed", "upstream_not_allowed"))

    def test_a_pushed_url_on_an_allowed_host_is_fetched_without_credentials(self):
        audio = wav(1.0, seed=7)
        self.pbx.add("pushed", audio)
        rid = call_with_recording(url=self.pbx.base("other") + "/files/pushed")
        r = self.play(rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, audio)
        req, = self.pbx.requests_to("other")
        self.assertNotIn("Authorization", req["headers"])

    def test_a_pushed_url_on_the_templates_host_gets_the_credentials(self):
        audio = wav(1.0, seed=8)
        self.pbx.add("own", audio)
        rid = call_with_recording(url=self.pbx.base() + "/rec/own")
        self.assertEqual(self.play(rid).body, audio)


class QueryAuth(RecordingCase):
    """VIPeX: the encoded id and the credentials as URL parameters."""
    PBX = {"auth": "query"}
    FETCH = ("--fetch-auth", "query", "--fetch-user", "crm")
    TEMPLATE = "/rec?id={ref}&user={user}&password={secret}"

    def test_reference_and_credentials_are_url_escaped(self):
        audio = wav(1.0, seed=9)
        ref = "a b/c?d&e=%ű"
        self.pbx.add(ref, audio)
        rid = call_with_recording(ref=ref)
        r = self.play(rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, audio)
        req, = self.pbx.requests
        self.assertEqual(req["query"], {"id": ref, "user": "crm", "password": "pbx-secret"})
        # the secret never reaches the row or the log
        self.assertNotIn("pbx-secret", self.fetcher.output())


class HeaderAuth(RecordingCase):
    """Ringostat: an Auth-key header."""
    PBX = {"auth": "header"}
    FETCH = ("--fetch-auth", "header", "--fetch-header", "Auth-key")

    def test_the_key_goes_in_the_header(self):
        audio = wav(1.0, seed=10)
        self.pbx.add("rs-1", audio)
        rid = call_with_recording(ref="rs-1")
        self.assertEqual(self.play(rid).body, audio)
        self.assertEqual(self.pbx.requests[0]["headers"]["Auth-key"], "pbx-secret")


class Prefetch(RecordingCase):
    FETCHER_FLAGS = ("--fetch-timeout", "2", "--fetch-retry-base", "60", "--prefetch", "yes",
                     "--prefetch-concurrency", "2", "--prefetch-interval", "1")

    def test_remote_recordings_are_fetched_before_anyone_plays_them(self):
        audios = {f"p-{i}": wav(0.5, seed=20 + i) for i in range(6)}
        rids = {}
        for ref, audio in audios.items():
            self.pbx.add(ref, audio)
            rids[ref] = call_with_recording(ref=ref)
        self.pbx.add("p-bad", b"", mode="bad_ref")
        bad = call_with_recording(ref="p-bad")
        for ref, rid in rids.items():
            self.assertEqual(stored(self, rid)["blob_key"], sha256(audios[ref]))
        # the claim counts the attempt before the fetch; wait for its outcome
        wait_for(lambda: self.row(bad)["last_error_code"] is not None, what="the bad one tried")
        row = self.row(bad)
        self.assertEqual(row["attempts"], 1)
        self.assertEqual((row["state"], row["last_error_code"]), ("remote", "upstream_rejected_ref"))
        self.assertGreater(row["next_attempt_at"].timestamp(), time.time() + 30)  # backoff
        self.assertEqual(self.pbx.count(), 7)  # once each; the bad one waits for its retry
        for ref, rid in rids.items():
            self.assertEqual(self.play(rid).body, audios[ref])
        self.assertEqual(self.pbx.count(), 7)
