"""Upstream failures told apart: each answered as JSON with its code and
status, kept on the row (attempts, last error, next attempt), retried with
backoff, and failed for good after the last attempt."""
import http.client
import socket
import time

from harness import add_source, execute, request
from recordings import RecordingCase, call_with_recording, wav


class Failures(RecordingCase):
    def expect(self, mode, status, code, words):
        ref = f"e-{mode}"
        self.pbx.add(ref, wav(0.5), mode=mode)
        rid = call_with_recording(ref=ref)
        r = self.play(rid)
        self.assertEqual(r.status, status, r)
        body = r.json()
        self.assertEqual(body["error"], code)
        self.assertEqual(body["recording_id"], rid)
        self.assertNotIn(words, body["message"])  # the PBX's words stay on the row
        self.assertNotIn("127.0.0.1", body["message"])
        row = self.row(rid)
        self.assertEqual(row["state"], "remote")  # retried later
        self.assertEqual(row["attempts"], 1)
        self.assertEqual(row["last_error_code"], code)
        self.assertIn(words, row["last_error"])
        self.assertIsNotNone(row["next_attempt_at"])
        self.assertIsNone(row["lease_owner"])
        self.assertIsNone(row["blob_key"])
        self.assertNotIn("pbx-secret", row["last_error"])
        return rid

    def test_bad_credentials(self):
        self.expect("unauthorized", 502, "upstream_auth_failed", "answered 401")

    def test_an_error_page_about_credentials(self):
        self.expect("auth_200", 502, "upstream_auth_failed", "ERROR: authentication failed")

    def test_a_reference_the_pbx_cannot_decode(self):
        self.expect("bad_ref", 502, "upstream_rejected_ref", "cannot decode recording id")

    def test_an_error_page_instead_of_audio(self):
        self.expect("bad_ref_200", 502, "upstream_rejected_ref", "answered 200 with no audio")

    def test_a_timeout(self):
        t0 = time.monotonic()
        self.expect("slow", 504, "upstream_timeout", "timed out")
        self.assertLess(time.monotonic() - t0, 2.9)  # fetch_timeout is 2 s

    def test_a_server_error(self):
        self.expect("error_500", 502, "upstream_error", "answered 500")

    def test_a_connection_closed_mid_body(self):
        audio = wav(2.0)
        self.pbx.add("e-cut", audio, mode="close_mid_body")
        rid = call_with_recording(ref="e-cut")
        conn = http.client.HTTPConnection("127.0.0.1", self.fetcher.port, timeout=30)
        conn.request("GET", f"/v1/recordings/{rid}", headers={"Authorization": "Bearer " + self.token})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)  # streaming had begun
        with self.assertRaises(http.client.IncompleteRead):
            resp.read()
        conn.close()
        time.sleep(0.2)
        row = self.row(rid)
        self.assertEqual((row["state"], row["last_error_code"]), ("remote", "upstream_error"))
        self.assertIsNone(row["blob_key"])
        # the PBX is fine again: the next play fetches it whole
        self.pbx.modes["e-cut"] = None
        r = self.play(rid)
        self.assertEqual(r.body, audio)

    def test_unknown_recordings(self):
        self.assertEqual(self.play(999999).status, 404)
        self.assertEqual(self.play("abc").status, 404)
        self.assertEqual(self.play("01").status, 404)


class Backoff(RecordingCase):
    FETCHER_FLAGS = ("--fetch-timeout", "2", "--fetch-retry-base", "60", "--fetch-max-attempts", "3")

    def test_retries_wait_their_turn_then_fail_for_good(self):
        self.pbx.add("b-1", wav(0.5), mode="error_500")
        rid = call_with_recording(ref="b-1")
        self.assertEqual(self.play(rid).status, 502)
        again = self.play(rid)  # within the backoff: the PBX is left alone
        self.assertEqual((again.status, again.json()["error"]), (502, "upstream_error"))
        self.assertGreater(int(again.header("Retry-After")), 30)
        self.assertEqual(self.pbx.count("b-1"), 1)
        for attempt in (2, 3):
            execute("UPDATE recordings SET next_attempt_at = now() WHERE id = %s", rid)
            self.assertEqual(self.play(rid).status, 502)
            self.assertEqual(self.row(rid)["attempts"], attempt)
        row = self.row(rid)
        self.assertEqual((row["state"], row["next_attempt_at"]), ("failed", None))
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_error"))
        self.assertIsNone(r.header("Retry-After"))
        self.assertEqual(self.pbx.count("b-1"), 3)
        # an operator can start it over
        self.pbx.modes["b-1"] = None
        self.assertIn("1 recording", ringlog_retry(rid))
        self.assertEqual(self.play(rid).status, 200)


def ringlog_retry(rid):
    from harness import ringlog
    return ringlog("recordings", "retry", str(rid)).stdout


class Limits(RecordingCase):
    FETCHER_FLAGS = ("--fetch-timeout", "2", "--recordings-max-size", "4K")

    def test_too_large(self):
        self.pbx.add("big", wav(2.0))
        rid = call_with_recording(ref="big")
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_too_large"))
        self.assertEqual(self.row(rid)["state"], "failed")

    def test_a_reference_without_a_template(self):
        add_source("bare", "push-secret-789")
        rid = call_with_recording(source="bare", ref="x")
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_not_configured"))
        self.assertEqual(self.row(rid)["state"], "failed")
        self.assertEqual(self.pbx.count(), 0)


class Unreachable(RecordingCase):
    FETCHER_FLAGS = ("--fetch-timeout", "2", "--fetch-connect-timeout", "1")

    def test_a_pbx_that_is_not_there(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        rid = call_with_recording(url=f"http://127.0.0.2:{port}/files/x")
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_error"), r)
        self.assertEqual(self.row(rid)["last_error_code"], "upstream_error")
