"""Hostile review, issue 19: one screen pop cannot lose a batch of events
(item 7); a caller whose only lead is closed is unknown (item 13)."""
import json
import urllib.parse

from harness import VENDORS, IngestCase, execute, read_fixture, request, scalar, wait_for

UNKNOWN = json.loads(read_fixture(VENDORS, "voicenter-screenpop-response-unknown.json"))
QUERY = read_fixture(VENDORS, "voicenter-screenpop.query").decode().strip()


class Pops(IngestCase):
    SOURCE_OPTIONS = ("--vendor", "voicenter", "--time-zone", "Asia/Jerusalem",
                      "--country-code", "972", "--trunk-prefix", "0",
                      "--crm-url-template", "https://crm.example.co.il/contacts/{id}",
                      "--crm-new-url-template", "https://crm.example.co.il/contacts/new?phone={phone}")

    def pop(self, **params):
        q = urllib.parse.urlencode(dict(params, key=self.SECRET))
        return request(self.port, "GET", "/v1/screenpop/acme?" + q)

    def test_a_status_cut_inside_a_character_loses_nothing(self):
        status = "x" * 31 + "é"  # 33 bytes: a 32-byte cut falls inside the é
        codes = [self.pop(phone="0528812345", ivrid=f"cut-{i}", extenUser="101",
                          statusCall=status if i % 2 else "Ringing").status for i in range(21)]
        self.assertEqual(codes, [200] * 21)
        wait_for(lambda: scalar("SELECT count(*) FROM call_events") == 21, timeout=10, what="21 events")
        self.assertEqual(scalar("SELECT count(*) FROM call_events WHERE status = %s", "x" * 31), 10)
        self.assertNotIn("not recorded", self.daemon.output())

    def test_a_caller_whose_only_lead_is_closed_is_unknown(self):
        execute("INSERT INTO leads (phone, name, crm_id, status) VALUES ('972528812345', 'gone', '77', 'closed')")
        r = request(self.port, "GET", "/v1/screenpop/acme?" + QUERY + "&key=" + self.SECRET)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), UNKNOWN)
        self.assertEqual(r.json()["TOTAL"], 0)
        self.assertNotIn("gone", r.body.decode())
        wait_for(lambda: scalar("SELECT count(*) FROM call_events") == 1, timeout=10, what="the event")
        self.assertIsNone(scalar("SELECT lead_id FROM call_events"))
        # the route look-up agrees: no open lead, no route
        r = request(self.port, "GET", "/v1/route/acme?phone=0528812345&key=" + self.SECRET)
        self.assertEqual(r.status, 404, r)
