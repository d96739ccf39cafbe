"""Click-to-call: the CRM asks, the PBX rings the agent then dials; the
click is kept and the CDR that follows is linked to it."""
import time
import unittest

import fake_click2call as fake
from harness import (add_source, fetcherd, ingestd, new_token, request, reset_database, ringlog,
                     row, scalar)


class Click2Call(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pbx = fake.FakeClick2Call()

    @classmethod
    def tearDownClass(cls):
        cls.pbx.close()

    def setUp(self):
        reset_database()
        self.pbx.requests.clear()
        add_source("vc", "vc-push-secret", "--country-code", "972", "--time-zone", "Asia/Jerusalem",
                   "--click2call-style", "voicenter",
                   "--click2call-url", self.pbx.url("/ForwardDialer/click2call.aspx"))
        ringlog("source", "update", "vc", "--click2call-secret-file", "-", input=fake.CODE + "\n")
        scalar("INSERT INTO agents (source_id, extension, crm_user, name)"
               " SELECT id, 'Rk7pQ2xL', 'dana@crm', 'דנה כהן' FROM sources WHERE name = 'vc' RETURNING id")
        self.lead = scalar("INSERT INTO leads (phone, name, crm_id) VALUES ('972523344556', 'משה פרץ', 'L-5521')"
                           " RETURNING id")
        self.token = new_token()
        self.d = fetcherd("fetcher-c2c", "--click2call-timeout", "2")

    def tearDown(self):
        self.assertEqual(self.d.stop(), 0)

    def click(self, body, token=None):
        return request(self.d.port, "POST", "/v1/click2call", body,
                       {"Authorization": "Bearer " + (token or self.token)})

    def test_a_click_rings_the_agent_of_the_crm_user_then_dials(self):
        r = self.click({"agent": "dana@crm", "target": "0523344556", "record": True,
                        "vars": {"crmLeadId": "L-5521"}, "clicked_by": "dana@crm"})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual((got["status"], got["extension"], got["source"]), ("calling", "Rk7pQ2xL", "vc"))
        self.assertEqual(got["lead_id"], self.lead)  # found by the target's number
        path, q = self.pbx.requests[-1]
        self.assertEqual(q, {"code": fake.CODE, "phone": "Rk7pQ2xL", "target": "0523344556",
                             "action": "call", "format": "json", "record": "true",
                             "var_crmLeadId": "L-5521"})
        k = row("SELECT * FROM click2calls WHERE id = %s", got["click2call_id"])
        self.assertEqual((k["outcome"], k["pbx_call_id"], k["clicked_by"], k["target_e164"]),
                         ("calling", got["pbx_call_id"], "dana@crm", "972523344556"))

    def test_the_cdr_that_follows_is_linked_to_the_click(self):
        got = self.click({"agent": "Rk7pQ2xL", "target": "0523344556", "lead_id": self.lead,
                          "clicked_by": "dana@crm"}).json()
        ingest = ingestd("ingest-c2c")
        try:
            r = request(ingest.port, "POST", "/v1/cdr/vc",
                        {"call_id": got["pbx_call_id"], "direction": "out", "callee": "0523344556",
                         "agent": "Rk7pQ2xL", "started_at": "2025-01-20T09:14:52+02:00", "billsec": 64},
                        {"X-Api-Key": "vc-push-secret"})
            self.assertEqual(r.status, 200, r)
        finally:
            ingest.stop()
        answer = request(self.d.port, "GET", f"/v1/click2call/{got['click2call_id']}", None,
                         {"Authorization": "Bearer " + self.token})
        shown = answer.json()
        # One time format in every answer (RFC 3339, UTC, to the second), and
        # the JSON written as every other answer writes it.
        self.assertRegex(shown["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(shown["call"]["started_at"], "2025-01-20T07:14:52Z")
        self.assertNotIn(b'" : ', answer.body)
        self.assertEqual((shown["clicked_by"], shown["lead_id"], shown["outcome"]),
                         ("dana@crm", self.lead, "calling"))
        self.assertEqual(shown["call"]["billable_s"], 64)
        self.assertEqual(shown["call"]["lead_id"], self.lead)
        self.assertEqual(shown["call"]["id"], scalar("SELECT id FROM calls"))

    def test_each_pbx_error_code_has_its_own_answer(self):
        expected = {1: (422, "invalid_params"), 2: (502, "pbx_error"),
                    3: (409, "agent_offline"), 4: (403, "agent_blocked")}
        for code, (status, error) in expected.items():
            r = self.click({"agent": "dana@crm", "target": "052000000%d" % code})
            self.assertEqual((r.status, r.json()["error"]), (status, error), code)
            self.assertTrue(r.json()["message"])  # ringlog's words, for a person
            k = row("SELECT * FROM click2calls WHERE id = %s", r.json()["click2call_id"])
            self.assertEqual(k["error"], error)
            self.assertIsNone(k["pbx_call_id"])

    def test_a_pbx_that_does_not_answer_in_time_is_504(self):
        started = time.monotonic()
        r = self.click({"agent": "dana@crm", "target": "0520000099"})
        self.assertEqual((r.status, r.json()["error"]), (504, "upstream_timeout"))
        self.assertLess(time.monotonic() - started, fake.SLOW)  # our timeout, not theirs
        self.assertEqual(scalar("SELECT outcome FROM click2calls"), "failed", self.d.output())

    def test_terminate_hangs_up(self):
        r = self.click({"action": "terminate", "agent": "dana@crm"})
        self.assertEqual((r.status, r.json()["status"]), (200, "terminated"), r)
        self.assertEqual(self.pbx.requests[-1][1]["action"], "terminate")
        self.assertEqual(self.pbx.requests[-1][1]["phone"], "Rk7pQ2xL")

    def test_bad_requests_name_the_problem_and_reach_no_pbx(self):
        cases = [
            ({"target": "0523344556"}, 400, "agent"),
            ({"agent": "dana@crm"}, 400, "target"),
            ({"agent": "dana@crm", "target": "call me"}, 400, "target"),
            ({"agent": "dana@crm", "target": "052", "action": "transfer"}, 400, "action"),
            ({"agent": "dana@crm", "target": "0523344556", "vars": {"bad key": 1}}, 400, "vars"),
            ({"agent": "dana@crm", "target": "0523344556", "source": "nope"}, 404, "source"),
            ({"agent": "dana@crm", "target": "0523344556", "lead_id": 999999}, 422, "lead"),
        ]
        for body, status, word in cases:
            r = self.click(body)
            self.assertEqual(r.status, status, (body, r))
            self.assertIn(word, r.json()["message"], body)
        self.assertEqual(self.pbx.requests, [])
        self.assertEqual(request(self.d.port, "POST", "/v1/click2call", {"agent": "x"}).status, 401)

    def test_a_url_template_pbx(self):
        ringlog("source", "update", "vc", "--click2call-style", "url_template", "--click2call-user", "crm",
                "--click2call-url", self.pbx.url("/api/call?user={user}&pass={password}&ext={extension}&num={target}"),
                "--click2call-secret-file", "-", input=fake.PASSWORD + "\n")
        self.d.proc.send_signal(1)  # reload the sources
        time.sleep(0.3)
        r = self.click({"agent": "dana@crm", "target": "+972 52-334-4556"})
        self.assertEqual((r.status, r.json()["status"]), (200, "calling"), r)
        self.assertEqual(self.pbx.requests[-1][1], {"user": "crm", "pass": fake.PASSWORD,
                                                     "ext": "Rk7pQ2xL", "num": "+972 52-334-4556"})
        r = self.click({"agent": "999", "target": "0523344556"})
        self.assertEqual((r.status, r.json()["error"]), (502, "pbx_refused"))
        self.assertNotIn("unknown extension", r.json()["message"])  # never the PBX's body
        self.assertIn("unknown extension", self.d.output())  # it is in the log, for operators
        self.assertNotIn(fake.PASSWORD, self.d.output())  # credentials never logged
