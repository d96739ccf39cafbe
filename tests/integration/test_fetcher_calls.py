"""GET /v1/calls and /v1/calls/{id}: every filter, keyset pagination while
calls arrive, leads and recordings with signed play URLs, bearer auth."""
import json
import re
import subprocess

from fetcher_fixtures import FetcherCase, insert_call, insert_lead
from harness import (FIXTURES, add_source, execute, ingestd, read_fixture, request, ringlog, scalar,
                     wait_for)


def ids(page):
    return [c["call_id"] for c in page["calls"]]


class CallFilters(FetcherCase):
    def setUp(self):
        super().setUp()
        self.lead = insert_lead("36301110001", "Kovács Éva", "Acme")
        execute("""INSERT INTO agents (source_id, extension, crm_user, name)
                   VALUES ((SELECT id FROM sources WHERE name = 'acme'), '1002', 'anna', 'Anna')""")
        insert_call("a", "2025-06-01 08:00+00", caller="+36 30 111 0001", caller_e164="36301110001",
                    agent="1002", lead_id=self.lead)
        insert_call("b", "2025-06-02 08:00+00", direction="out", callee="06301110001",
                    callee_e164="36301110001", agent="1003", lead_id=self.lead)
        insert_call("c", "2025-06-03 08:00+00", disposition="missed", caller="+36 1 222 3333",
                    caller_e164="3612223333")
        insert_call("d", "2025-06-03 22:30+00", direction="internal", caller="1002", callee="1003",
                    agent="1002")
        rec = insert_call("e", "2025-06-04 08:00+00", caller_e164="3612223333", agent="1003")
        execute("INSERT INTO recordings (call_id, position, state, remote_ref) VALUES (%s, 0, 'remote', 'r1')", rec)

    def test_no_filter_is_newest_first(self):
        self.assertEqual(ids(self.ok("/v1/calls")), ["e", "d", "c", "b", "a"])

    def test_lead_id(self):
        self.assertEqual(ids(self.ok("/v1/calls", lead_id=self.lead)), ["b", "a"])
        self.assertEqual(ids(self.ok("/v1/calls", lead_id=999)), [])

    def test_phone_matches_either_party_however_written(self):
        for written in ("+36 30 111 0001", "0036301110001", "36301110001"):
            self.assertEqual(ids(self.ok("/v1/calls", phone=written)), ["b", "a"], written)
        # a national number needs a source to be read in its plan
        self.assertEqual(ids(self.ok("/v1/calls", phone="06 30 111 0001", source="acme")), ["b", "a"])
        self.bad("/v1/calls", "invalid_parameter", "phone", phone="06 30 111 0001")

    def test_agent_by_extension_or_crm_user(self):
        self.assertEqual(ids(self.ok("/v1/calls", agent="1002")), ["d", "a"])
        self.assertEqual(ids(self.ok("/v1/calls", agent="anna")), ["d", "a"])
        self.assertEqual(ids(self.ok("/v1/calls", agent="1003")), ["e", "b"])

    def test_source(self):
        self.assertEqual(len(self.ok("/v1/calls", source="acme")["calls"]), 5)
        self.bad("/v1/calls", "unknown_source", "source", source="nope")

    def test_from_and_to_with_and_without_a_zone(self):
        # dates are whole days, `to` included; read in tz
        self.assertEqual(ids(self.ok("/v1/calls", **{"from": "2025-06-02", "to": "2025-06-03"})),
                         ["d", "c", "b"])
        # 22:30 UTC on the 3rd is already the 4th in Budapest
        self.assertEqual(ids(self.ok("/v1/calls", tz="Europe/Budapest",
                                     **{"from": "2025-06-02", "to": "2025-06-03"})), ["c", "b"])
        # a time with an offset is absolute; `to` as a time is exclusive
        self.assertEqual(ids(self.ok("/v1/calls", **{"from": "2025-06-03T10:00:00+02:00",
                                                     "to": "2025-06-04T08:00:00Z"})), ["d", "c"])
        self.bad("/v1/calls", "unknown_time_zone", "tz", tz="Mars/Olympus")
        self.bad("/v1/calls", "invalid_parameter", "from", **{"from": "yesterday"})
        self.bad("/v1/calls", "invalid_parameter", "to", to="2025-02-30")

    def test_direction_disposition_has_recording(self):
        self.assertEqual(ids(self.ok("/v1/calls", direction="out")), ["b"])
        self.assertEqual(ids(self.ok("/v1/calls", direction="internal")), ["d"])
        self.assertEqual(ids(self.ok("/v1/calls", disposition="missed")), ["c"])
        self.assertEqual(ids(self.ok("/v1/calls", has_recording="true")), ["e"])
        self.assertEqual(ids(self.ok("/v1/calls", has_recording="false")), ["d", "c", "b", "a"])
        self.bad("/v1/calls", "invalid_parameter", "direction", direction="sideways")

    def test_filters_combine(self):
        self.assertEqual(ids(self.ok("/v1/calls", phone="+3612223333", has_recording="1")), ["e"])

    def test_bad_parameters_are_named(self):
        self.bad("/v1/calls", "unknown_parameter", "lead", lead=1)
        self.bad("/v1/calls", "invalid_parameter", "limit", limit=0)
        self.bad("/v1/calls", "invalid_parameter", "limit", limit=1001)
        self.bad("/v1/calls", "invalid_parameter", "lead_id", lead_id="x")
        self.assertEqual(len(self.ok("/v1/calls", limit=1000)["calls"]), 5)


class CallPagination(FetcherCase):
    def test_pages_neither_skip_nor_repeat_while_calls_arrive(self):
        # 40 calls, many sharing a start second (the id breaks the tie)
        for i in range(40):
            insert_call(f"old-{i:02}", f"2025-06-01 08:00:{i // 4:02}+00")
        expected = [f"old-{i:02}" for i in range(39, -1, -1)]  # (started_at, id) descending
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
            page = self.ok("/v1/calls", **params)
            seen += ids(page)
            pages += 1
            # between pages, newer calls arrive (they belong before page 1)...
            insert_call(f"new-{pages}", f"2025-06-02 09:00:{pages:02}+00")
            if pages == 2:  # ...and a late push of an older one, still to come
                insert_call("late-old", "2025-05-01 08:00+00")
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, expected + ["late-old"])  # every one, once, in order
        self.assertEqual(pages, 6)

    def test_a_late_call_older_than_the_cursor_appears_on_a_later_page(self):
        for i in range(6):
            insert_call(f"c{i}", f"2025-06-01 08:00:{10 * i:02}+00")
        first = self.ok("/v1/calls", limit=3)
        self.assertEqual(ids(first), ["c5", "c4", "c3"])
        insert_call("late", "2025-06-01 08:00:05+00")
        rest = self.ok("/v1/calls", limit=10, cursor=first["next_cursor"])
        self.assertEqual(ids(rest), ["c2", "c1", "late", "c0"])
        self.assertIsNone(rest["next_cursor"])

    def test_a_forged_or_damaged_cursor_is_refused(self):
        for i in range(3):
            insert_call(f"c{i}", f"2025-06-01 08:00:0{i}+00")
        cursor = self.ok("/v1/calls", limit=1)["next_cursor"]
        self.assertRegex(cursor, r"^[A-Za-z0-9_-]{43}$")
        damaged = cursor[:20] + ("A" if cursor[20] != "A" else "B") + cursor[21:]
        for bad in (damaged, cursor[:-1], cursor + "A", "0" * 43, "not a cursor"):
            self.bad("/v1/calls", "invalid_cursor", "cursor", cursor=bad)
        # a cursor of another list is not a calls cursor
        execute("INSERT INTO tasks (assignee) SELECT 'x' FROM generate_series(1, 2)")
        task_cursor = self.ok("/v1/tasks", limit=1)["next_cursor"]
        self.bad("/v1/calls", "invalid_cursor", "cursor", cursor=task_cursor)


class OrFilters(FetcherCase):
    """phone (caller or callee) and agent (an extension, or a CRM user: each
    of its extensions on its own source) are each served in branches: every
    call that matches once, in order, on every page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_source("beta", "beta-push-secret-1")

    def agents(self, *rows):
        for source, extension, user in rows:
            execute("""INSERT INTO agents (source_id, extension, crm_user)
                       VALUES ((SELECT id FROM sources WHERE name = %s), %s, %s)""", source, extension, user)

    def all_pages(self, limit, **params):
        seen, cursor = [], None
        while True:
            page = self.ok("/v1/calls", limit=limit, **params, **({"cursor": cursor} if cursor else {}))
            seen += ids(page)
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    def test_a_crm_user_is_each_of_its_extensions_on_its_own_source(self):
        self.agents(("acme", "1002", "anna"), ("beta", "2002", "anna"), ("beta", "1002", "bob"))
        insert_call("acme-1002", "2025-06-01 08:00+00", agent="1002")
        insert_call("beta-2002", "2025-06-01 09:00+00", source="beta", agent="2002")
        insert_call("acme-2002", "2025-06-01 10:00+00", agent="2002")            # not anna's on acme
        insert_call("beta-1002", "2025-06-01 11:00+00", source="beta", agent="1002")  # bob's
        insert_call("named-anna", "2025-06-01 12:00+00", agent="anna")           # an extension "anna"
        self.assertEqual(ids(self.ok("/v1/calls", agent="anna")), ["named-anna", "beta-2002", "acme-1002"])
        self.assertEqual(ids(self.ok("/v1/calls", agent="anna", source="acme")), ["named-anna", "acme-1002"])
        self.assertEqual(ids(self.ok("/v1/calls", agent="bob")), ["beta-1002"])
        # an extension names its calls on every source, whoever it maps to
        self.assertEqual(ids(self.ok("/v1/calls", agent="1002")), ["beta-1002", "acme-1002"])
        self.assertEqual(ids(self.ok("/v1/calls", agent="2002")), ["acme-2002", "beta-2002"])

    def test_an_extension_named_as_its_crm_user_is_listed_once(self):
        self.agents(("acme", "3003", "3003"), ("beta", "4004", "3003"))
        insert_call("ext", "2025-06-01 08:00+00", agent="3003")
        insert_call("user", "2025-06-01 09:00+00", source="beta", agent="4004")
        self.assertEqual(ids(self.ok("/v1/calls", agent="3003")), ["user", "ext"])

    def test_a_call_to_its_own_number_is_listed_once(self):
        insert_call("self", "2025-06-01 08:00+00", caller_e164="36301110001", callee_e164="36301110001")
        insert_call("to", "2025-06-01 09:00+00", caller_e164="3612223333", callee_e164="36301110001")
        insert_call("from", "2025-06-01 10:00+00", caller_e164="36301110001", callee_e164="3612223333")
        self.assertEqual(ids(self.ok("/v1/calls", phone="+36301110001")), ["from", "to", "self"])

    def test_phone_and_agent_together(self):
        self.agents(("acme", "1002", "anna"))
        insert_call("caller-ext", "2025-06-01 08:00+00", caller_e164="36301110001", agent="anna")
        insert_call("callee-ext", "2025-06-01 09:00+00", callee_e164="36301110001", agent="anna")
        insert_call("caller-user", "2025-06-01 10:00+00", caller_e164="36301110001", agent="1002")
        insert_call("callee-user", "2025-06-01 11:00+00", callee_e164="36301110001", agent="1002")
        insert_call("other-phone", "2025-06-01 12:00+00", caller_e164="3612223333", agent="1002")
        insert_call("other-agent", "2025-06-01 13:00+00", caller_e164="36301110001", agent="1003")
        self.assertEqual(ids(self.ok("/v1/calls", phone="+36301110001", agent="anna")),
                         ["callee-user", "caller-user", "callee-ext", "caller-ext"])

    def test_pages_through_an_or_filter_neither_skip_nor_repeat(self):
        self.agents(("acme", "1002", "anna"), ("beta", "2002", "anna"))
        expected = []
        for i in range(30):  # three calls a second: the id breaks the ties
            at = f"2025-06-01 08:00:{i // 3:02}+00"
            source, agent = ("acme", "1002") if i % 2 else ("beta", "2002")
            if i % 5 == 0:
                agent = "anna"  # the extension branch
            caller, callee = ("36301110001", "3612223333") if i % 3 else ("3612223333", "36301110001")
            if i % 7 == 0:
                callee = caller = "36301110001"
            expected.append(f"c{i:02}")
            insert_call(f"c{i:02}", at, source=source, agent=agent, caller_e164=caller, callee_e164=callee)
            insert_call(f"x{i:02}", at, source=source, agent="1003", caller_e164="3619999999")
        expected.reverse()
        for filters in ({"phone": "+36301110001"}, {"agent": "anna"}, {"phone": "+36301110001", "agent": "anna"}):
            for limit in (1, 4, 7):
                self.assertEqual(self.all_pages(limit, **filters), expected, (filters, limit))


class CallDetail(FetcherCase):
    def test_a_pushed_call_comes_with_its_lead_and_a_signed_play_url(self):
        lead = insert_lead("36301234567", "Kovács Éva", "Acme Kft", crm_id="crm-7")
        # the pushed recording_url can be fetched only from an allowed host
        ringlog("source", "update", "acme", "--fetch-allow-host", "pbx.example.hu")
        ingest = ingestd("calls-detail-ingestd")
        try:
            body = json.loads(read_fixture(FIXTURES, "generic", "answered.json"))
            r = request(ingest.port, "POST", "/v1/cdr/acme", body, {"X-Api-Key": "acme-push-secret-1"})
            self.assertEqual(r.status, 200, r)
        finally:
            ingest.stop()
        call_id = r.json()["id"]
        wait_for(lambda: self.ok(f"/v1/calls/{call_id}")["recordings"][0]["play_url"], timeout=15,
                 what="fetcherd to reload the source")
        call = self.ok(f"/v1/calls/{call_id}")
        self.assertEqual(call["call_id"], "gen-0001")
        self.assertEqual(call["source"], "acme")
        self.assertEqual(call["started_at"], "2025-06-16T09:20:05Z")
        self.assertEqual((call["duration_s"], call["billable_s"]), (204, 187))
        self.assertEqual(call["lead"]["id"], lead)
        self.assertEqual(call["lead"]["name"], "Kovács Éva")
        [rec] = call["recordings"]
        self.assertEqual(rec["state"], "remote")
        self.assertEqual(rec["duration_s"], 187)  # not measured yet: the billable seconds
        m = re.fullmatch(r"/v1/recordings/(\d+)\?expires=(\d+)&u=([0-9a-f]+)&sig=([0-9a-f]{64})", rec["play_url"])
        self.assertIsNotNone(m, rec["play_url"])
        self.assertEqual(int(m.group(1)), rec["id"])
        self.assertEqual(self.ok("/v1/calls", lead_id=lead)["calls"][0]["recordings"][0]["id"], rec["id"])

    def test_a_failed_recording_says_why_and_has_no_play_url(self):
        cid = insert_call("x", "2025-06-01 08:00+00")
        execute("""INSERT INTO recordings (call_id, position, state, remote_ref, last_error_code, last_error,
                                              blob_key, size_bytes)
                   VALUES (%s, 0, 'failed', 'r', 'upstream_rejected_ref', 'http://pbx/?key=x said no',
                           NULL, NULL),
                          (%s, 1, 'stored', NULL, NULL, NULL, repeat('a', 64), 1234)""", cid, cid)
        failed, stored = self.ok(f"/v1/calls/{cid}")["recordings"]
        self.assertIsNone(failed["play_url"])
        self.assertEqual(failed["error"], "upstream_rejected_ref")
        self.assertEqual(stored["size_bytes"], 1234)
        self.assertTrue(stored["play_url"].startswith(f"/v1/recordings/{stored['id']}?"))

    def test_unknown_call(self):
        for path in ("/v1/calls/999", "/v1/calls/0", "/v1/calls/abc"):
            r = self.get(path)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json()["error"], "not_found")


class BearerAuth(FetcherCase):
    PATHS = [("GET", "/v1/calls"), ("GET", "/v1/calls/1"), ("GET", "/v1/export.csv"),
             ("GET", "/v1/leads"), ("GET", "/v1/leads/1"), ("POST", "/v1/leads"),
             ("GET", "/v1/tasks"), ("POST", "/v1/tasks/1/done")]

    def test_every_endpoint_needs_a_token_but_health(self):
        for method, path in self.PATHS:
            for headers in ({}, {"Authorization": "Bearer rl_unknown"}, {"Authorization": "Basic eDp5"}):
                r = request(self.port, method, path, headers=headers)
                self.assertEqual(r.status, 401, (method, path, r))
                self.assertEqual(r.json()["error"], "unauthorized")
                self.assertTrue(r.header("WWW-Authenticate").startswith("Bearer"))
        for path in ("/healthz", "/readyz", "/metrics"):
            self.assertEqual(request(self.port, "GET", path).status, 200, path)

    def test_a_revoked_token_is_forbidden(self):
        token = ringlog("token", "add", "leaver").stdout.splitlines()[1]
        ok = request(self.port, "GET", "/v1/calls", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(ok.status, 200, ok)
        ringlog("token", "revoke", "leaver")
        for method, path in self.PATHS:
            r = request(self.port, method, path, headers={"Authorization": f"Bearer {token}"})
            self.assertEqual(r.status, 403, (method, path, r))
            self.assertEqual(r.json()["error"], "token_revoked")
