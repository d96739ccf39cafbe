"""GET /v1/export.csv: read back with a real CSV parser, hostile names,
delimiters and BOM, local times across DST in two zones, filters, refusals,
and a client that leaves mid-stream."""
import csv
import http.client
import io
import re
import socket
import time

from fetcher_fixtures import FetcherCase, insert_call, insert_lead
from harness import add_source, execute, query, request, wait_for

COLUMNS = ["date", "time", "direction", "caller", "callee", "did", "agent", "lead_name", "company",
           "duration_s", "billable_s", "disposition", "has_recording", "call_id"]


def rows_of(body, delimiter=","):
    text = body.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


class ExportContent(FetcherCase):
    def export(self, **params):
        r = self.get("/v1/export.csv", **params)
        self.assertEqual(r.status, 200, r)
        return r

    def test_names_in_three_scripts_and_hostile_cells_survive_a_csv_parser(self):
        leads = {
            "he": ("כהן, \"שרה\"", "חברה בע\"מ"),
            "uk": ("Шевченко Олена\nдруга лінія", "ТОВ «Київ»; філія"),
            "hu": ("Kovács Éva", "Árvíztűrő Tükörfúrógép Kft."),
            "evil": ("=cmd|' /C calc'!A0", "+SUM(1;2)"),
            "evil2": ("@HYPERLINK(\"http://x\")", "-2+3"),
        }
        for i, (key, (name, company)) in enumerate(leads.items()):
            lead = insert_lead(f"3630555000{i}", name, company)
            insert_call(key, f"2025-06-10 08:00:0{i}+00", caller=f"+36 30 555 000{i}",
                        caller_e164=f"3630555000{i}", lead_id=lead, did="+36 1 456 7890",
                        agent="1002", agent_name="Tóth, Gábor" if i else "=Tóth")
        insert_call("raw", "2025-06-10 08:00:09+00", caller="=2+5", callee="-1003", duration=0, billable=0)
        for delimiter, sep in ((",", ","), (";", ";"), ("\t", "\t"), ("tab", "\t")):
            r = self.export(**{"from": "2025-06-10", "to": "2025-06-10", "delimiter": delimiter})
            self.assertEqual(r.header("Content-Type"), "text/csv; charset=utf-8; header=present")
            self.assertEqual(r.header("Content-Disposition"),
                             'attachment; filename="calls-2025-06-10_2025-06-10.csv"')
            self.assertTrue(r.body.endswith(b"\r\n"))
            rows = rows_of(r.body, sep)
            self.assertEqual(list(rows[0].keys()), COLUMNS)
            by_id = {x["call_id"]: x for x in rows}
            self.assertEqual(list(by_id), ["he", "uk", "hu", "evil", "evil2", "raw"])
            self.assertEqual((by_id["he"]["lead_name"], by_id["he"]["company"]), leads["he"])
            self.assertEqual((by_id["uk"]["lead_name"], by_id["uk"]["company"]), leads["uk"])
            self.assertEqual((by_id["hu"]["lead_name"], by_id["hu"]["company"]), leads["hu"])
            # free text that a spreadsheet would run is defused...
            self.assertEqual(by_id["evil"]["lead_name"], "'=cmd|' /C calc'!A0")
            self.assertEqual(by_id["evil"]["company"], "'+SUM(1;2)")
            self.assertEqual(by_id["evil2"]["lead_name"], "'@HYPERLINK(\"http://x\")")
            self.assertEqual(by_id["evil2"]["company"], "'-2+3")
            self.assertEqual(by_id["he"]["agent"], "'=Tóth")
            self.assertEqual(by_id["raw"]["caller"], "'=2+5")
            self.assertEqual(by_id["raw"]["callee"], "'-1003")  # not a phone number: text
            # ...numbers never are
            self.assertEqual(by_id["evil"]["caller"], "+36305550003")
            self.assertEqual(by_id["evil"]["did"], "+36 1 456 7890")
            self.assertEqual(by_id["raw"]["duration_s"], "0")
            self.assertEqual((by_id["hu"]["duration_s"], by_id["hu"]["billable_s"]), ("60", "50"))
            self.assertEqual((by_id["hu"]["date"], by_id["hu"]["time"]), ("2025-06-10", "08:00:02"))
            self.assertEqual(by_id["hu"]["agent"], "Tóth, Gábor")
            self.assertEqual((by_id["hu"]["direction"], by_id["hu"]["disposition"], by_id["hu"]["has_recording"]),
                             ("in", "answered", "no"))

    def test_a_phone_number_is_exported_as_the_number_and_formulas_stay_guarded(self):
        cells = {"auto": ("+972528812345", "+1+1"), "f1": ("-2+3", "+SUM(1;2)"),
                 "f2": ("=1+1", "@A1"), "f3": ("+36 30 123", "+1234567890123456")}
        for i, (key, (name, company)) in enumerate(cells.items()):
            lead = insert_lead(f"97252881234{i}", name, company)
            insert_call(key, f"2025-06-11 08:00:0{i}+00", lead_id=lead)
        by_id = {x["call_id"]: x for x in rows_of(self.export(**{"from": "2025-06-11", "to": "2025-06-11"}).body)}
        # an auto-created lead is named by its number: that is a number, not a formula
        self.assertEqual(by_id["auto"]["lead_name"], "+972528812345")
        self.assertEqual(by_id["auto"]["company"], "'+1+1")
        self.assertEqual((by_id["f1"]["lead_name"], by_id["f1"]["company"]), ("'-2+3", "'+SUM(1;2)"))
        self.assertEqual((by_id["f2"]["lead_name"], by_id["f2"]["company"]), ("'=1+1", "'@A1"))
        # spaces (Excel's intersection operator) and more than E.164's 15 digits are not a number
        self.assertEqual((by_id["f3"]["lead_name"], by_id["f3"]["company"]), ("'+36 30 123", "'+1234567890123456"))

    def test_bom_for_excel(self):
        insert_call("x", "2025-06-10 08:00+00")
        plain = self.export(**{"from": "2025-06-10", "to": "2025-06-10"}).body
        bom = self.export(**{"from": "2025-06-10", "to": "2025-06-10", "bom": "1"}).body
        self.assertFalse(plain.startswith(b"\xef\xbb\xbf"))
        self.assertEqual(bom, b"\xef\xbb\xbf" + plain)
        self.assertEqual(plain.split(b"\r\n")[0], ",".join(COLUMNS).encode())

    def test_local_times_across_dst_in_two_zones(self):
        # Europe/Budapest springs forward on 2025-03-30 (02:00 -> 03:00),
        # America/New_York on 2025-03-09; both fall back later in the year.
        instants = {"bp-before": "2025-03-30 00:30+00", "bp-after": "2025-03-30 01:30+00",
                    "ny-before": "2025-03-09 06:30+00", "ny-after": "2025-03-09 07:30+00",
                    "bp-fall-1": "2025-10-26 00:30+00", "bp-fall-2": "2025-10-26 01:30+00"}
        for pbx_id, at in instants.items():
            insert_call(pbx_id, at)
        want = {
            "Europe/Budapest": {"ny-before": ("2025-03-09", "07:30:00"), "ny-after": ("2025-03-09", "08:30:00"),
                                "bp-before": ("2025-03-30", "01:30:00"), "bp-after": ("2025-03-30", "03:30:00"),
                                "bp-fall-1": ("2025-10-26", "02:30:00"), "bp-fall-2": ("2025-10-26", "02:30:00")},
            "America/New_York": {"ny-before": ("2025-03-09", "01:30:00"), "ny-after": ("2025-03-09", "03:30:00"),
                                 "bp-before": ("2025-03-29", "20:30:00"), "bp-after": ("2025-03-29", "21:30:00"),
                                 "bp-fall-1": ("2025-10-25", "20:30:00"), "bp-fall-2": ("2025-10-25", "21:30:00")},
        }
        for tz, expected in want.items():
            rows = rows_of(self.export(**{"from": "2025-03-01", "to": "2025-10-31", "tz": tz}).body)
            got = {r["call_id"]: (r["date"], r["time"]) for r in rows}
            self.assertEqual(got, expected, tz)
            # in true time order, even where the wall clock repeats an hour
            self.assertEqual([r["call_id"] for r in rows][-2:], ["bp-fall-1", "bp-fall-2"])
        # a day is a local day: the 30th of March in Budapest has 23 hours
        rows = rows_of(self.export(**{"from": "2025-03-30", "to": "2025-03-30", "tz": "Europe/Budapest"}).body)
        self.assertEqual([r["call_id"] for r in rows], ["bp-before", "bp-after"])
        rows = rows_of(self.export(**{"from": "2025-03-29", "to": "2025-03-29", "tz": "America/New_York"}).body)
        self.assertEqual([r["call_id"] for r in rows], ["bp-before", "bp-after"])
        # zone names in any case, as PostgreSQL spells them
        r = self.export(**{"from": "2025-03-30", "to": "2025-03-30", "tz": "europe/budapest"})
        self.assertEqual(len(rows_of(r.body)), 2)

    def test_filters(self):
        execute("""INSERT INTO agents (source_id, extension, crm_user)
                   VALUES ((SELECT id FROM sources WHERE name = 'acme'), '1002', 'anna')""")
        insert_call("in-anna", "2025-06-10 08:00+00", agent="1002")
        insert_call("out-anna", "2025-06-10 09:00+00", direction="out", agent="1002")
        insert_call("in-bob", "2025-06-10 10:00+00", agent="1003")
        rec = insert_call("rec", "2025-06-10 11:00+00", agent="1003")
        execute("INSERT INTO recordings (call_id, position, state, remote_ref) VALUES (%s, 0, 'remote', 'r')", rec)
        day = {"from": "2025-06-10", "to": "2025-06-10"}
        pick = lambda **p: [r["call_id"] for r in rows_of(self.export(**day, **p).body)]
        self.assertEqual(pick(), ["in-anna", "out-anna", "in-bob", "rec"])
        self.assertEqual(pick(agent="anna"), ["in-anna", "out-anna"])
        self.assertEqual(pick(agent="1003", direction="in"), ["in-bob", "rec"])
        self.assertEqual(pick(direction="out"), ["out-anna"])
        self.assertEqual(pick(source="acme"), ["in-anna", "out-anna", "in-bob", "rec"])
        self.assertEqual(rows_of(self.export(**day).body)[3]["has_recording"], "yes")

    def test_agent_means_what_it_means_in_the_call_log(self):
        # an extension on any source, or a CRM user: each of its extensions on its own source
        add_source("beta", "beta-push-secret-1")
        execute("""INSERT INTO agents (source_id, extension, crm_user)
                   SELECT id, CASE name WHEN 'acme' THEN '1002' ELSE '2002' END, 'anna'
                     FROM sources WHERE name IN ('acme', 'beta')""")
        insert_call("acme-1002", "2025-06-10 08:00+00", agent="1002")
        insert_call("beta-2002", "2025-06-10 09:00+00", source="beta", agent="2002")
        insert_call("acme-2002", "2025-06-10 10:00+00", agent="2002")
        insert_call("beta-1002", "2025-06-10 11:00+00", source="beta", agent="1002")
        insert_call("named-anna", "2025-06-10 12:00+00", agent="anna")
        day = {"from": "2025-06-10", "to": "2025-06-10"}
        for agent in ("anna", "1002", "2002"):
            exported = [r["call_id"] for r in rows_of(self.export(**day, agent=agent).body)]
            listed = [c["call_id"] for c in self.ok("/v1/calls", agent=agent)["calls"]]
            self.assertEqual(exported, listed[::-1], agent)
        self.assertEqual(exported, ["beta-2002", "acme-2002"])

    def test_refusals(self):
        self.bad("/v1/export.csv", "unknown_time_zone", "tz", tz="Europe/Atlantis",
                 **{"from": "2025-06-01", "to": "2025-06-30"})
        self.bad("/v1/export.csv", "missing_parameter", "from", to="2025-06-30")
        self.bad("/v1/export.csv", "missing_parameter", "to", **{"from": "2025-06-01"})
        self.bad("/v1/export.csv", "invalid_parameter", "to", **{"from": "2025-06-30", "to": "2025-06-01"})
        self.bad("/v1/export.csv", "invalid_parameter", "delimiter", delimiter="|",
                 **{"from": "2025-06-01", "to": "2025-06-30"})
        self.bad("/v1/export.csv", "unknown_source", "source", source="nope",
                 **{"from": "2025-06-01", "to": "2025-06-30"})
        self.bad("/v1/export.csv", "unknown_parameter", "format", format="xlsx",
                 **{"from": "2025-06-01", "to": "2025-06-30"})


class ExportStreaming(FetcherCase):
    # One worker thread: the export and every other request share it, and
    # so would share its database connection if the export did not take it.
    FLAGS = ("--threads", "1", "--max-exports", "1")

    def setUp(self):
        super().setUp()
        execute("""INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller, started_at,
                                      duration_s, billable_s, raw)
                   SELECT (SELECT id FROM sources WHERE name = 'acme'), 'bulk-' || g, 'in', 'answered',
                          '+3630' || g, timestamptz '2025-06-01' + g * interval '1 second', 60, 50, '{}'
                     FROM generate_series(1, 200000) g""")

    def open_export(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        s.sendall((f"GET /v1/export.csv?from=2025-06-01&to=2025-06-30 HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {self.token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:200])
        return s

    def copies_running(self):
        return query("""SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = 'ringlog-fetcherd' AND query LIKE 'COPY%%'
                          AND state = 'active'""")[0][0]

    def test_the_whole_export_streams(self):
        r = self.get("/v1/export.csv", **{"from": "2025-06-01", "to": "2025-06-30"})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("Content-Length"))  # streamed, chunked
        rows = rows_of(r.body)
        self.assertEqual(len(rows), 200000)
        self.assertEqual((rows[0]["call_id"], rows[-1]["call_id"]), ("bulk-1", "bulk-200000"))

    def test_other_requests_are_served_while_an_export_streams(self):
        s = self.open_export()   # headers in, the body barely read
        try:
            page = self.ok("/v1/calls", limit=3)
            self.assertEqual([c["call_id"] for c in page["calls"]], ["bulk-200000", "bulk-199999", "bulk-199998"])
            busy = self.get("/v1/export.csv", **{"from": "2025-06-01", "to": "2025-06-30"})
            self.assertEqual((busy.status, busy.json()["error"]), (503, "too_many_exports"))
            self.assertEqual(busy.header("Retry-After"), "10")
        finally:
            s.close()

    def test_a_client_that_leaves_mid_stream_cancels_the_copy(self):
        s = self.open_export()
        s.recv(65536)
        s.close()
        wait_for(lambda: self.copies_running() == 0, what="the COPY to stop")
        metrics = wait_for(lambda: re.search(r'ringlog_exports_total\{outcome="cancelled"\} (\d+)',
                                             request(self.port, "GET", "/metrics").body.decode()),
                           what="the cancelled export to be counted")
        self.assertGreaterEqual(int(metrics.group(1)), 1)
        self.assertIn("outcome=cancelled", self.daemon.output())
        # the worker's connection is usable again, and so is the export
        for _ in range(5):
            self.assertEqual(len(self.ok("/v1/calls", limit=2)["calls"]), 2)
        r = self.get("/v1/export.csv", **{"from": "2025-06-01", "to": "2025-06-01"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(rows_of(r.body)), 86399)
