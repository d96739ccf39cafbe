"""What the query API links to: a play_url only where playing can work
(issue 10, part 9), with a reason a CRM can show otherwise; a lead's crm_url
falling back to its source's --crm-url-template (issue 10, part 13); and the
call log's search `q` by number or name (issue 16, part 1)."""
from fetcher_fixtures import FetcherCase, insert_call, insert_lead
from harness import add_source, execute, ringlog, scalar, wait_for


def ids(page):
    return [c["call_id"] for c in page["calls"]]


class PlayLinks(FetcherCase):
    FLAGS = ("--source-refresh", "1")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_source("freeswitch", "fs-push-secret-12")
        cls.setUp(cls)
        cid = cls.recording(cls, "freeswitch", ref="probe")
        wait_for(lambda: cls.get(cls, f"/v1/calls/{cid}").json()["recordings"][0]["play_url"] is None,
                 timeout=10, what="fetcherd to load the new source")

    def recording(self, source, ref=None, url=None):
        cid = insert_call("c-" + source + str(ref) + str(url), "2025-06-01 08:00+00", source=source)
        execute("INSERT INTO recordings (call_id, position, state, remote_ref, remote_url)"
                " VALUES (%s, 0, 'remote', %s, %s)", cid, ref, url)
        return cid

    def test_no_play_url_where_no_fetch_is_set_up_and_the_reason_names_the_source(self):
        cid = self.recording("freeswitch", ref="/var/lib/freeswitch/recordings/a.wav")
        [rec] = self.ok(f"/v1/calls/{cid}")["recordings"]
        self.assertIsNone(rec["play_url"])
        self.assertEqual(rec["unavailable_reason"], "fetch_not_configured")
        self.assertIn("ask your administrator to set up recording fetch for source freeswitch",
                      rec["unavailable_message"])
        self.assertNotIn("/var/lib", rec["unavailable_message"])
        self.assertNotIn("_ref", rec)
        # the list says the same
        [listed] = self.ok("/v1/calls", source="freeswitch")["calls"][0]["recordings"]
        self.assertEqual((listed["play_url"], listed["unavailable_reason"]), (None, "fetch_not_configured"))
        # a pushed URL on no allowed host cannot be fetched either
        cid = self.recording("freeswitch", url="https://pbx.example/rec/1.wav")
        [rec] = self.ok(f"/v1/calls/{cid}")["recordings"]
        self.assertEqual((rec["play_url"], rec["unavailable_reason"]), (None, "fetch_not_allowed"))
        self.assertNotIn("pbx.example", rec["unavailable_message"])

        # once the administrator sets fetch up, the same recordings have a play_url
        ringlog("source", "update", "freeswitch", "--fetch-allow-host", "pbx.example")
        wait_for(lambda: self.ok(f"/v1/calls/{cid}")["recordings"][0]["play_url"], timeout=10,
                 what="play_url after --fetch-allow-host")
        ringlog("source", "update", "freeswitch", "--fetch-url-template", "https://pbx.example/r?f={ref}")
        first = scalar("SELECT min(id) FROM calls WHERE source_id = (SELECT id FROM sources WHERE name = 'freeswitch')")
        wait_for(lambda: self.ok(f"/v1/calls/{first}")["recordings"][0]["play_url"], timeout=10,
                 what="play_url after --fetch-url-template")
        rec = self.ok(f"/v1/calls/{first}")["recordings"][0]
        self.assertIsNone(rec["unavailable_reason"])

    def test_a_stored_recording_always_plays_and_a_failed_one_says_what_to_do(self):
        cid = insert_call("st", "2025-06-01 08:00+00")
        execute("""INSERT INTO recordings (call_id, position, state, remote_ref, last_error,
                                              last_error_code, blob_key, size_bytes)
                   VALUES (%s, 0, 'stored', NULL, NULL, NULL, repeat('a', 64), 10),
                          (%s, 1, 'failed', 'r', 'PBX said 401', 'upstream_auth_failed', NULL, NULL)""",
                cid, cid)
        stored, failed = self.ok(f"/v1/calls/{cid}")["recordings"]
        self.assertTrue(stored["play_url"])
        self.assertIsNone(failed["play_url"])
        self.assertEqual(failed["unavailable_reason"], "upstream_auth_failed")
        self.assertIn("ask your administrator", failed["unavailable_message"])
        self.assertIn("acme", failed["unavailable_message"])


class CrmLinks(FetcherCase):
    FLAGS = ("--source-refresh", "1")

    def test_a_lead_without_crm_url_gets_the_sources_template(self):
        ringlog("source", "update", "acme", "--crm-url-template", "https://crm.example/leads/{id}?tel={e164}")
        wait_for(lambda: True)
        own = insert_lead("36301110001", "Kovács Éva", crm_id="K 7")
        plain = insert_lead("36301110002", "Szabó Anna")
        kept = insert_lead("36301110003", "Tóth Béla", crm_url="https://crm.example/custom/3")
        for lead, phone in ((own, "36301110001"), (plain, "36301110002"), (kept, "36301110003")):
            insert_call("call-" + phone, "2025-06-01 08:00+00", caller_e164=phone, lead_id=lead)
        want = {own: "https://crm.example/leads/K%207?tel=36301110001",
                plain: f"https://crm.example/leads/{plain}?tel=36301110002",
                kept: "https://crm.example/custom/3"}

        def urls():
            return {c["lead"]["id"]: c["lead"]["crm_url"] for c in self.ok("/v1/calls")["calls"]}
        wait_for(lambda: urls() == want, timeout=10, what="crm_url from the template")
        for lead, url in want.items():
            self.assertEqual(self.ok(f"/v1/leads/{lead}")["crm_url"], url)
        self.assertEqual({l["id"]: l["crm_url"] for l in self.ok("/v1/leads")["leads"]}, want)
        # a lead with no call yet: the source asked for decides
        alone = insert_lead("36301110004", "Új Ügyfél")
        self.assertIsNone(self.ok(f"/v1/leads/{alone}")["crm_url"])
        [listed] = self.ok("/v1/leads", phone="+36301110004", source="acme")["leads"]
        self.assertEqual(listed["crm_url"], f"https://crm.example/leads/{alone}?tel=36301110004")


class Search(FetcherCase):
    def setUp(self):
        super().setUp()
        lead = insert_lead("972523344556", "משה פרץ", "פרץ ובניו")
        execute("""INSERT INTO agents (source_id, extension, crm_user, name)
                   VALUES ((SELECT id FROM sources WHERE name = 'acme'), '1002', 'dana@crm', 'Dana Cohen')""")
        insert_call("a", "2025-06-01 08:00+00", caller="0523344556", caller_e164="972523344556",
                    lead_id=lead, agent="1002")
        insert_call("b", "2025-06-02 08:00+00", caller="+36 30 111 0001", caller_e164="36301110001")
        insert_call("c", "2025-06-03 08:00+00", direction="out", callee="06 1 222 3333",
                    callee_e164="3612223333", agent="1003", agent_name="Kovács_100%")

    def test_by_number_however_written(self):
        for q in ("0523344556", "+972 52-334-4556", "334 4556", "52334"):
            self.assertEqual(ids(self.ok("/v1/calls", q=q)), ["a"], q)
        self.assertEqual(ids(self.ok("/v1/calls", q="06 1 222")), ["c"])
        self.assertEqual(ids(self.ok("/v1/calls", q="1110001")), ["b"])

    def test_by_name_of_lead_company_agent(self):
        self.assertEqual(ids(self.ok("/v1/calls", q="משה")), ["a"])
        self.assertEqual(ids(self.ok("/v1/calls", q="ובניו")), ["a"])
        self.assertEqual(ids(self.ok("/v1/calls", q="dana")), ["a"])      # the agent's name, any case
        self.assertEqual(ids(self.ok("/v1/calls", q="kovács_100%")), ["c"])
        # LIKE's wildcards are only characters
        self.assertEqual(ids(self.ok("/v1/calls", q="%%")), [])
        self.assertEqual(ids(self.ok("/v1/calls", q="a_a")), [])

    def test_search_combines_with_filters_and_is_bounded(self):
        self.assertEqual(ids(self.ok("/v1/calls", q="dana", direction="out")), [])
        self.bad("/v1/calls", "invalid_parameter", "q", q="x")
        self.bad("/v1/calls", "invalid_parameter", "q", q="x" * 65)
