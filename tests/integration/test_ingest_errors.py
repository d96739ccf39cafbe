"""Bad input gets a clear JSON error, and what is refused is kept byte for byte."""
import socket

from harness import IngestCase, execute, query, request, ringlog, row, scalar


class Refusals(IngestCase):
    def dead_letter(self, dead_letter_id):
        return row("SELECT * FROM dead_letters WHERE id = %s", dead_letter_id)

    def test_unparseable_json_is_400_and_kept_byte_for_byte(self):
        body = b'{"call_id": "x", "direction": "in",\xff "started_at": '
        r = self.push(body, headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"], "invalid_json")
        self.assertIn("JSON", r.json()["message"])
        dl = self.dead_letter(r.json()["dead_letter_id"])
        self.assertEqual(bytes(dl["body"]), body)
        self.assertEqual((dl["reason"], dl["source_name"], dl["method"], dl["status"]),
                         ("invalid_json", "acme", "POST", "new"))
        self.assertEqual(dl["content_type"], "application/json")
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)

    def test_json_that_is_not_an_object_is_400(self):
        for body in (b"[1, 2]", b'"text"', b'{"a": 1} {"b": 2}', b'{"a": 1,}'):
            r = self.push(body, headers={"Content-Type": "application/json"})
            self.assertEqual((r.status, r.json()["error"]), (400, "invalid_json"), body)
            self.assertEqual(bytes(self.dead_letter(r.json()["dead_letter_id"])["body"]), body)

    def test_malformed_form_is_400(self):
        body = b"call_id=x&direction=%zz&started_at=1750065605"
        r = self.push(body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_form"), r)
        self.assertEqual(bytes(self.dead_letter(r.json()["dead_letter_id"])["body"]), body)

    def test_missing_required_field_is_422_naming_it(self):
        for missing in ("call_id", "direction", "started_at"):
            body = {"call_id": "m-1", "direction": "in", "started_at": 1750065605}
            del body[missing]
            r = self.push(body)
            self.assertEqual(r.status, 422, r)
            self.assertEqual(r.json()["error"], "missing_field")
            self.assertEqual(r.json()["field"], missing)
            self.assertIn(missing, r.json()["message"])
            dl = self.dead_letter(r.json()["dead_letter_id"])
            self.assertEqual((dl["reason"], dl["field"]), ("missing_field", missing))

    def test_invalid_field_is_422_naming_it(self):
        cases = {
            "direction": {"direction": "sideways"},
            "started_at": {"started_at": "next tuesday"},
            "billsec": {"billsec": -4},
            "disposition": {"disposition": "exploded"},
            "ended_at": {"ended_at": "2025-06-16T08:00:00Z"},
        }
        for field, change in cases.items():
            body = {"call_id": "i-1", "direction": "in", "started_at": "2025-06-16T09:00:00Z", **change}
            r = self.push(body)
            self.assertEqual((r.status, r.json()["error"], r.json()["field"]),
                             (422, "invalid_field", field), r)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), len(cases))

    def test_a_nul_character_cannot_be_stored_and_is_422(self):
        r = self.push(b'{"call_id":"n-1","direction":"in","started_at":1750065605,"note":"a\\u0000b"}',
                      headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.json()["error"]), (422, "invalid_field"), r)

    def test_unsupported_media_type_is_415_and_kept(self):
        r = self.push(b"<cdr/>", headers={"Content-Type": "application/xml"})
        self.assertEqual((r.status, r.json()["error"]), (415, "unsupported_media_type"), r)
        self.assertEqual(bytes(self.dead_letter(r.json()["dead_letter_id"])["body"]), b"<cdr/>")

    def test_unknown_source_is_404_and_not_kept(self):
        r = self.push({"call_id": "u-1"}, path="/v1/cdr/nobody")
        self.assertEqual((r.status, r.json()["error"]), (404, "unknown_source"))
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 0)

    def raw_post(self, head, body=b""):
        """Sends a request on a raw socket; returns what came back (b"" if reset)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall(head)
            if body:
                s.sendall(body)
            return s.recv(65536)
        except OSError:
            return b""
        finally:
            s.close()

    def test_body_over_the_limit_is_413_before_it_is_sent(self):
        # As libcurl (and so FreeSWITCH) sends a large body: Expect: 100-continue.
        head = (b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + self.SECRET.encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n"
                b"Expect: 100-continue\r\n\r\n")
        answer = self.raw_post(head)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:100])
        self.assertIn(b'"error":"body_too_large"', answer)

    def test_body_over_the_limit_without_length_is_refused(self):
        # Chunked, no length announced: refused once it passes the limit.
        chunk = b"x" * 65536
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
        head = (b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + self.SECRET.encode()
                + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        answer = self.raw_post(head, body)
        if answer:  # the answer may be lost to a reset while we still send; never a 2xx
            self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:100])
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)
        ok = self.push({"call_id": "after", "direction": "in", "started_at": 1750065605})
        self.assertEqual(ok.status, 200)  # the daemon is still fine

    def test_wrong_method_is_405_with_allow(self):
        r = self.push(method="DELETE")
        self.assertEqual((r.status, r.json()["error"]), (405, "method_not_allowed"))
        self.assertEqual(set(r.header("Allow").split(",")), {"POST", "GET", "PUT"})

    def test_unknown_path_is_404(self):
        r = request(self.port, "GET", "/v2/whatever")
        self.assertEqual((r.status, r.json()["error"]), (404, "not_found"))

    def test_the_key_parameter_is_not_kept_in_a_dead_letter(self):
        r = self.push(b"not json", auth=False, path=f"/v1/cdr/acme?key={self.SECRET}&x=1",
                      headers={"Content-Type": "application/json"})
        dl = self.dead_letter(r.json()["dead_letter_id"])
        self.assertEqual(dl["query"], "x=1")


class Replay(IngestCase):
    def test_replay_stores_a_dead_letter_after_the_fix(self):
        # A fault on our side: the database refuses this call for now.
        execute("ALTER TABLE calls ADD CONSTRAINT test_block CHECK (pbx_call_id <> 'blocked-1')")
        try:
            body = {"call_id": "blocked-1", "direction": "in", "started_at": 1750065605}
            r = self.push(body)
            self.assertEqual((r.status, r.json()["error"]), (500, "store_failed"), r)
            dl_id = r.json()["dead_letter_id"]
        finally:
            execute("ALTER TABLE calls DROP CONSTRAINT test_block")
        out = ringlog("dead-letters", "list")
        self.assertIn("store_failed", out.stdout)
        shown = ringlog("dead-letters", "show", str(dl_id))
        self.assertIn("blocked-1", ringlog("dead-letters", "show", str(dl_id), "--body").stdout)
        self.assertIn("reason        store_failed", shown.stdout)
        replayed = ringlog("dead-letters", "replay", str(dl_id))
        self.assertIn("replayed", replayed.stdout)
        call = row("SELECT * FROM calls WHERE pbx_call_id = 'blocked-1'")
        self.assertIsNotNone(call)
        dl = row("SELECT * FROM dead_letters WHERE id = %s", dl_id)
        self.assertEqual((dl["status"], dl["replay_call_id"]), ("replayed", call["id"]))
        # a second replay is refused: the call is already in
        again = ringlog("dead-letters", "replay", str(dl_id), check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("already replayed", again.stderr)

    def test_replay_of_a_still_broken_push_fails_and_files_nothing_new(self):
        r = self.push(b"{broken", headers={"Content-Type": "application/json"})
        dl_id = r.json()["dead_letter_id"]
        p = ringlog("dead-letters", "replay", str(dl_id), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("invalid_json", p.stderr)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 1)
        self.assertEqual(scalar("SELECT status FROM dead_letters WHERE id = %s", dl_id), "new")
