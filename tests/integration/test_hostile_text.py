"""Hostile review, issue 19: terminal escapes never reach operators raw,
one validator for lead fields on every path (item 10); errors in ringlog's
words for bytes PostgreSQL would refuse, strict numbers (item 12)."""
import os

from harness import WORK, IngestCase, fetcherd, new_token, request, ringlog, scalar

ESC = "\x1b[2J\x1b]0;owned\x07"


class TerminalEscapes(IngestCase):
    def test_dead_letters_are_printed_escaped(self):
        r = self.push({"call_id": "esc-1", "direction": "in" + ESC, "started_at": "2025-06-16T11:20:05Z"})
        self.assertEqual(r.status, 422, r)
        dl = str(r.json()["dead_letter_id"])
        for args in (("dead-letters", "list"), ("dead-letters", "show", dl)):
            out = ringlog(*args).stdout
            self.assertNotIn("\x1b", out, args)
            self.assertNotIn("\x07", out, args)
            self.assertIn("\\x1b[2J", out, args)
        # --body is the bytes as they came, for a file or a pipe
        self.assertIn(b"\\u001b", ringlog("dead-letters", "show", dl, "--body").stdout.encode())

    def test_lead_names_kept_before_the_check_are_printed_escaped(self):
        scalar("INSERT INTO leads (phone, name, company, origin) VALUES ('36301234567', %s, %s, 'crm')"
               " RETURNING id", "Eve" + ESC, "\x9b31m")
        out = ringlog("lead", "list").stdout
        self.assertIn("Eve\\x1b[2J", out)
        self.assertIn("\\u009b31m", out)
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\x9b", out)

    def test_the_cli_refuses_what_the_api_refuses(self):
        bad = [("--crm-url", "javascript:alert(1)"), ("--name", "a" + ESC), ("--company", "x\x9b2J"),
               ("--responsible", "r\x00"[:1] + "\x07"), ("--crm-id", "id\n2")]
        for opt, value in bad:
            p = ringlog("lead", "add", "+36301234567", opt, value, check=False)
            self.assertNotEqual(p.returncode, 0, (opt, value))
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        path = os.path.join(WORK, "hostile-leads.csv")
        for row in ("+36301234568,Ok,https://crm.example/1", "+36301234569,Bad,javascript:alert(1)",
                    "+36301234570,Esc\x1b[2J,https://crm.example/2"):
            with open(path, "w") as f:
                f.write("phone,name,crm_url\n" + row + "\n")
            p = ringlog("lead", "import", path, check=False)
            self.assertEqual(p.returncode != 0, "Ok" not in row, (row, p.stdout, p.stderr))
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)
        ringlog("lead", "add", "+36301234571", "--name", "Kovács Éva", "--crm-url", "https://crm.example/3")

    def test_the_api_refuses_control_characters_in_leads(self):
        fetcher = fetcherd("fetcher-hostile-text")
        try:
            auth = {"Authorization": "Bearer " + new_token("crm-text")}
            for body in ({"phone": "+36301234567", "responsible": "bob\x85"},
                         {"phone": "+36301234567", "name": "a" + ESC},
                         {"phone": "+36301234567", "company": "b\x9b"},
                         {"phone": "+36301234567", "crm_url": "javascript:alert(1)"}):
                r = request(fetcher.port, "POST", "/v1/leads", body, auth)
                self.assertEqual((r.status, r.json()["error"]), (422, "invalid_field"), (body, r))
            self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        finally:
            fetcher.stop()


class RingologsWords(IngestCase):
    def test_bytes_postgresql_would_refuse_are_refused_in_ringlogs_words(self):
        # every way a PBX can send text: the answer names the problem, not a statement parameter
        cases = [
            ("application/x-www-form-urlencoded",
             b"call_id=u-1&direction=in&started_at=2025-06-16T11:20:05Z&caller_name=%C3%28+Eve"),
            ("application/json", b'{"call_id": "u-2", "direction": "in", "started_at": "2025-06-16T11:20:05Z",'
                                 b' "caller_name": "\xc3\x28 Eve"}'),
            ("application/json", b'{"call_id": "u-3", "direction": "in", "started_at": "2025-06-16T11:20:05Z",'
                                 b' "caller_name": "a\\u0000b"}'),
        ]
        for ctype, body in cases:
            r = self.push(body, headers={"Content-Type": ctype})
            self.assertIn(r.status, (400, 422), (body, r))
            self.assertNotIn("push_ingest_call", r.json()["message"])
            self.assertNotIn("parameter $", r.json()["message"])
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)

    def test_numbers_are_decimal_and_numbers(self):
        base = {"direction": "in", "started_at": "2025-06-16T11:20:05Z"}
        for i, (field, value) in enumerate((("duration", "0x10"), ("billsec", "1e3"), ("duration", "inf"),
                                            ("billsec", {"s": 5}), ("duration", [5]),
                                            ("answered_at", {"t": 1}))):
            r = self.push(dict(base, call_id=f"n-{i}", **{field: value}))
            self.assertEqual((r.status, r.json()["error"], r.json()["field"]), (422, "invalid_field", field),
                             (field, value, r))
        r = self.push(dict(base, call_id="n-ok", duration="16", billsec="12.4"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(scalar("SELECT duration_s || '/' || billable_s FROM calls"), "16/12")
