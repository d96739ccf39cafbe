"""The push path as one straight walk (issue 12): one typed contract with SQL
(a JSON batch in, checked outcomes out), a batch stored by one statement,
the `erased` outcome, and refused pushes filed by the writers."""
import json
import os
import threading
import time

from harness import (ROOT, IngestCase, add_source, execute, query, request, row, scalar,
                     wait_for)

SECRET = "push-path-secret"
BATCH_FN = os.path.join(ROOT, "sql", "functions", "ringlog_ingest_calls.sql")


def element(call_id, raw, source_id=1, **fields):
    e = {"source_id": source_id, "call_id": call_id, "direction": "in",
         "disposition": "answered", "caller": "1001", "callee": "1002",
         "started_at": "2025-06-16 09:00:00+00", "time_zone": "UTC", "duration_s": 60,
         "billable_s": 50, "recordings": [], "raw": raw,
         "received_at": "2025-06-16 09:01:00+00", "transport": []}
    e.update(fields)
    return e


class Contract(IngestCase):
    SECRET = SECRET

    def batch(self, elements):
        return query("SELECT idx, call_id, outcome FROM ringlog_ingest_calls(%s::jsonb)",
                     json.dumps(elements))

    def test_a_batch_holding_one_call_twice_makes_one_call_and_a_revision(self):
        out = self.batch([element("twice", {"v": 1}), element("other", {"v": 1}),
                          element("twice", {"v": 2}), element("twice", {"v": 2})])
        self.assertEqual([(i, o) for i, _, o in out],
                         [(1, "stored"), (2, "stored"), (3, "updated"), (4, "duplicate")])
        self.assertEqual(out[0][1], out[2][1])
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'twice'"), 1)
        self.assertEqual(scalar("SELECT raw->>'v' FROM calls WHERE pbx_call_id = 'twice'"), "2")
        self.assertEqual(scalar("SELECT count(*) FROM call_revisions"), 1)
        # ... and across batches: the same key again is the same call.
        again = self.batch([element("twice", {"v": 3})])
        self.assertEqual((again[0][1], again[0][2]), (out[0][1], "updated"))

    def test_absent_keys_are_null_and_nothing_known_is_erased(self):
        self.batch([element("n1", {"v": 1}, caller_name="Anna")])
        e = element("n1", {"v": 2})
        del e["duration_s"]
        self.assertEqual(self.batch([e])[0][2], "updated")
        c = row("SELECT caller_name, duration_s FROM calls WHERE pbx_call_id = 'n1'")
        self.assertEqual((c["caller_name"], c["duration_s"]), ("Anna", 60))

    def test_an_outcome_the_daemon_does_not_know_is_an_error_not_ignored(self):
        execute("""CREATE OR REPLACE FUNCTION ringlog_ingest_calls(p_batch jsonb)
                   RETURNS TABLE (idx integer, call_id bigint, outcome text)
                   LANGUAGE sql AS $$ SELECT 1, 1::bigint, 'merged'::text $$""")
        try:
            r = self.push({"call_id": "odd-1", "direction": "in", "started_at": 1750065605})
        finally:
            with open(BATCH_FN, encoding="utf-8") as f:
                execute(f.read().replace("%", "%%"))
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.json()["error"], "bad_outcome")
        self.assertIn("merged", r.json()["message"])
        self.assertEqual(scalar("SELECT reason FROM dead_letters"), "bad_outcome")
        # The real function is back: the same push is stored.
        self.assertEqual(self.push({"call_id": "odd-1", "direction": "in",
                                    "started_at": 1750065605}).json()["status"], "stored")


class Erased(IngestCase):
    """A tombstone (issue 18) is a BEFORE INSERT trigger on call_keys that
    suppresses the key: the push is answered 200 "erased", nothing kept."""
    SECRET = SECRET

    def setUp(self):
        super().setUp()
        add_source("il", SECRET, "--country-code", "972", "--trunk-prefix", "0")
        execute("""CREATE FUNCTION pg_temp_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN IF NEW.pbx_call_id LIKE 'gone-%%' THEN RETURN NULL; END IF;
                   RETURN NEW; END $$""")
        execute("""CREATE TRIGGER test_tombstone BEFORE INSERT ON call_keys
                   FOR EACH ROW EXECUTE FUNCTION pg_temp_tombstone()""")

    def tearDown(self):
        execute("DROP TRIGGER test_tombstone ON call_keys")
        execute("DROP FUNCTION pg_temp_tombstone()")
        super().tearDown()

    def send(self, body):
        return self.push(body, path="/v1/cdr/il")

    def test_an_erased_call_is_answered_erased_and_nothing_is_stored(self):
        missed = {"call_id": "gone-1", "direction": "in", "caller": "0528812345",
                  "callee": "1002", "started_at": "2025-06-16T09:00:00Z", "duration": 30,
                  "disposition": "no_answer"}
        r = self.send(missed)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "erased")
        self.assertNotIn("id", r.json())
        for table in ("calls", "call_keys", "leads", "tasks", "dead_letters", "recordings"):
            self.assertEqual(scalar(f"SELECT count(*) FROM {table}"), 0, table)
        # Again: still erased, never a duplicate of something kept.
        self.assertEqual(self.send(missed).json()["status"], "erased")
        # Another call of the same number is stored as usual, with its lead.
        missed["call_id"] = "kept-1"
        self.assertEqual(self.send(missed).json()["status"], "stored")
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)
        metrics = request(self.port, "GET", "/metrics").body.decode()
        self.assertIn('outcome="erased"} 2', metrics)


class RefusedOnTheWriters(IngestCase):
    """A refused push's dead letter is written by a writer: the HTTP threads
    open no database connection for a push."""
    SECRET = SECRET
    DAEMON_FLAGS = ("--threads", "4")

    def backends(self):
        return sorted(r[0] for r in query("SELECT application_name FROM pg_stat_activity"
                                          " WHERE application_name LIKE 'ringlog-ingestd%%'"
                                          "   AND application_name <> 'ringlog-ingestd writer'"))

    def test_refused_pushes_open_no_connection_on_the_http_threads(self):
        self.assertEqual(self.push({"call_id": "ok-1", "direction": "in",
                                    "started_at": 1750065605}).status, 200)
        before = self.backends()
        answers = []

        def bad():
            answers.append(self.push(b"{not json", headers={"Content-Type": "application/json"}))

        threads = [threading.Thread(target=bad) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([a.status for a in answers], [400] * 8)
        self.assertTrue(all(a.json().get("dead_letter_id") for a in answers))
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 8)
        self.assertEqual(self.backends(), before)


class ScreenPopFromMemory(IngestCase):
    """Open leads by number in memory, kept true by LISTEN/NOTIFY: a lead
    written anywhere is seen by every daemon within 100 ms."""
    SECRET = SECRET
    SOURCE_OPTIONS = ("--vendor", "voicenter", "--country-code", "972", "--trunk-prefix", "0",
                      "--auth", "query")

    def pop(self, port, phone):
        return request(port, "GET", f"/v1/screenpop/acme?phone={phone}&key={SECRET}")

    def hits(self, port):
        metrics = request(port, "GET", "/metrics").body.decode()
        return int(float([l for l in metrics.splitlines()
                          if l.startswith("ringlog_screenpop_cache_hits_total ")][0].split()[1]))

    def seen_within(self, port, phone, expect, limit=0.1):
        """Seconds until PORT's answer for PHONE satisfies EXPECT (< LIMIT)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2:
            r = self.pop(port, phone).json()
            if expect(r):
                return time.monotonic() - t0
            time.sleep(0.002)
        self.fail(f"not seen in 2 s: {r}")

    def test_two_daemons_see_a_new_lead_a_rename_and_a_close_within_100_ms(self):
        from harness import ingestd
        other = ingestd("other-node")
        try:
            for port in (self.port, other.port):
                wait_for(lambda: self.pop(port, "0528812345").status == 200, what="ready")
                self.assertEqual(self.pop(port, "0528812345").json()["TOTAL"], 0)
            hits = self.hits(other.port)
            # A lead from the CRM sync (any writer of leads): seen by both.
            execute("INSERT INTO leads (phone, name, company) VALUES ('972528812345', 'Moshe', 'P&S')")
            for port in (other.port, self.port):
                self.assertLess(self.seen_within(port, "0528812345", lambda r: r["TOTAL"] == 1), 0.1)
            self.assertEqual(self.pop(other.port, "0528812345").json()["CLIENTNAME"], "Moshe")
            execute("UPDATE leads SET name = 'Moshe Peretz' WHERE phone = '972528812345'")
            self.assertLess(self.seen_within(other.port, "0528812345",
                                             lambda r: r["CLIENTNAME"] == "Moshe Peretz"), 0.1)
            execute("UPDATE leads SET status = 'closed' WHERE phone = '972528812345'")
            self.assertLess(self.seen_within(other.port, "0528812345", lambda r: r["TOTAL"] == 0), 0.1)
            # A lead made by a push on one node is on the other's screen.
            add_source("gen", SECRET, "--country-code", "972", "--trunk-prefix", "0")
            r = self.push({"call_id": "pp-1", "direction": "in", "caller": "0547001122",
                           "callee": "1002", "started_at": 1750065605, "duration": 30},
                          path="/v1/cdr/gen")
            self.assertEqual(r.status, 200, r)
            self.assertLess(self.seen_within(other.port, "0547001122", lambda r: r["TOTAL"] == 1), 0.1)
            # Answered from memory, not by PostgreSQL.
            self.assertGreater(self.hits(other.port), hits)
            # TRUNCATE (tests, a restore): everything is loaded again.
            execute("TRUNCATE leads CASCADE")
            self.assertLess(self.seen_within(other.port, "0547001122", lambda r: r["TOTAL"] == 0), 0.1)
        finally:
            self.assertEqual(other.stop(), 0, other.output())

    def test_while_the_listener_is_away_look_ups_ask_postgresql(self):
        execute("INSERT INTO leads (phone, name) VALUES ('972528812345', 'Moshe')")
        self.seen_within(self.port, "0528812345", lambda r: r["TOTAL"] == 1)
        execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'ringlog-ingestd leads'")
        execute("UPDATE leads SET name = 'Moshe P' WHERE phone = '972528812345'")
        # A notification the lost listener never got: the daemon connects
        # again and loads everything (asking PostgreSQL meanwhile).
        self.assertLess(self.seen_within(self.port, "0528812345",
                                         lambda r: r["CLIENTNAME"] == "Moshe P"), 0.1)
        wait_for(lambda: scalar("SELECT count(*) FROM pg_stat_activity"
                                " WHERE application_name = 'ringlog-ingestd leads'") == 1,
                 what="the listener back")


ONE_BY_ONE = """SELECT r.outcome FROM (SELECT %s::jsonb AS j) x, LATERAL ringlog_ingest_call(
    (j->>'source_id')::bigint, j->>'call_id', j->>'direction', j->>'disposition', j->>'caller',
    j->>'caller_e164', j->>'caller_name', j->>'callee', j->>'callee_e164', j->>'did', j->>'agent',
    j->>'agent_name', j->>'started_at', j->>'answered_at', j->>'ended_at', j->>'time_zone',
    (j->>'duration_s')::int, (j->>'billable_s')::int, coalesce(j->'recordings', '[]'), j->'raw',
    (j->>'received_at')::timestamptz, j->>'leg_of', '{}') r"""


class SetBased(IngestCase):
    """A batch stored set-based ends as the same pushes sent one by one."""
    SECRET = SECRET

    def elements(self, source_id, tag):
        def e(n, direction, disposition, phone, agent=None, **kw):
            caller, callee = (phone, "972733750100") if direction == "in" else ("972733750100", phone)
            return element(f"{tag}-{n}", {"n": n, "d": disposition}, source_id=source_id,
                           direction=direction, disposition=disposition,
                           caller=caller, caller_e164=caller if direction == "in" else None,
                           callee=callee, callee_e164=callee if direction == "out" else None,
                           agent=agent, started_at=f"2025-06-16 09:{n:02d}:00+00", **kw)
        return [
            e(1, "in", "missed", "972528812301"),                # new number, missed: lead + task
            e(2, "in", "answered", "972528812302", agent="201"),  # new number, unmapped agent
            e(3, "out", "answered", "972528812303", agent="201"),  # same unmapped agent: one task
            e(4, "in", "answered", "972528812300"),               # known lead: closes its missed task
            e(5, "in", "missed", "972528812304", leg_of="x"),      # a leg: no lead
            e(6, "internal", "answered", None),                   # no other party
            e(7, "in", "in_progress", "972528812305"),            # in progress: no lead yet
            e(8, "in", "answered", "972528812306", recordings=[{"ref": "r8"}]),
            e(1, "in", "missed", "972528812301"),                # the same call again: duplicate
            e(9, "in", "answered", "972528812301"),               # same number again, answered
        ]

    def state(self, source_id):
        calls = query("SELECT pbx_call_id, direction, disposition, l.phone, revision, started_at,"
                      " answered_at, ended_at, c.origin FROM calls c LEFT JOIN leads l ON l.id = c.lead_id"
                      " WHERE c.source_id = %s ORDER BY 1", source_id)
        tasks = query("SELECT t.kind, t.status, c.pbx_call_id, t.extension, t.assignee FROM tasks t"
                      " LEFT JOIN calls c ON c.id = t.call_id WHERE t.source_id = %s"
                      " ORDER BY 1, 3", source_id)
        recs = query("SELECT c.pbx_call_id, r.position, r.state, r.remote_ref FROM recordings r"
                     " JOIN calls c ON c.id = r.call_id WHERE c.source_id = %s ORDER BY 1", source_id)
        return ([(c[0].split("-", 1)[1],) + c[1:] for c in calls],
                [(t[0], t[1], t[2] and t[2].split("-", 1)[1]) + t[3:] for t in tasks], recs and
                [(r[0].split("-", 1)[1],) + r[1:] for r in recs])

    def test_the_same_outcomes_as_one_by_one(self):
        add_source("a", SECRET, "--default-responsible", "boss")
        add_source("b", SECRET, "--default-responsible", "boss")
        a, b = (scalar("SELECT id FROM sources WHERE name = %s", n) for n in ("a", "b"))
        # A known lead with an open missed-call task, for each source's calls.
        execute("INSERT INTO leads (phone, name) VALUES ('972528812300', 'Known')")
        for sid, tag in ((a, "A"), (b, "B")):
            execute("INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at,"
                    " lead_id, raw, received_at) VALUES (%s, %s, 'in', 'missed',"
                    " '2025-06-16 08:00:00+00', (SELECT id FROM leads WHERE phone = '972528812300'),"
                    " '{}', now())", sid, f"{tag}-0")
            execute("INSERT INTO tasks (kind, lead_id, call_id, assignee, source_id)"
                    " SELECT 'missed_call', lead_id, id, 'boss', source_id FROM calls"
                    " WHERE pbx_call_id = %s", f"{tag}-0")
        together = [o for _, _, o in query("SELECT * FROM ringlog_ingest_calls(%s::jsonb)",
                                           json.dumps(self.elements(a, "A")))]
        # The reference: ringlog_ingest_call, the one-push function, per element.
        alone = [query(ONE_BY_ONE, json.dumps(e))[0][0] for e in self.elements(b, "B")]
        self.assertEqual(together, alone)
        self.assertEqual(together, ["stored"] * 8 + ["duplicate", "stored"])
        # Known is shared: A-4 closed A-0's task (and B-4 B-0's, one by one).
        sa, sb = self.state(a), self.state(b)
        self.assertEqual(sa, sb)
        self.assertIn(("missed_call", "done", "0", None, "boss"), sa[1])
        self.assertIn(("missed_call", "done", "1", None, "boss"), sa[1])  # closed by 9
        self.assertEqual(sum(1 for t in sa[1] if t[0] == "check_agent_mapping"), 1)
        self.assertEqual(sa[2], [("8", 0, "remote", "r8")])
        # One lead per new number (of the public ones), shared by both sources.
        self.assertEqual(scalar("SELECT count(*) FROM leads WHERE phone = '972528812301'"), 1)
        self.assertEqual(scalar("SELECT count(*) FROM leads WHERE phone IN"
                                " ('972528812304', '972528812305')"), 0)
