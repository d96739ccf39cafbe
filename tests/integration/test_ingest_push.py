"""End-of-call pushes that are stored: encodings, auth, exactly-once."""
import json
import os

from harness import (FIXTURES, IngestCase, qs, query, read_fixture, request, row, scalar)

ANSWERED = json.loads(read_fixture(FIXTURES, "generic", "answered.json"))


class StoredPushes(IngestCase):
    def test_generic_json_push_is_stored_as_sent(self):
        r = self.push(ANSWERED)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "stored")
        self.assertFalse(r.json()["duplicate"])
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'gen-0001'")
        self.assertEqual(r.json()["id"], c["id"])
        self.assertEqual(c["direction"], "in")
        self.assertEqual(c["disposition"], "answered")
        self.assertEqual(c["caller"], "+36 30 123 4567")
        self.assertEqual(c["caller_e164"], "36301234567")
        self.assertEqual(c["callee_e164"], "3614567890")
        self.assertEqual(c["agent"], "1002")
        self.assertEqual(c["started_at"].isoformat(), "2025-06-16T09:20:05+00:00")
        self.assertEqual(c["answered_at"].isoformat(), "2025-06-16T09:20:22+00:00")
        self.assertEqual(c["duration_s"], 204)
        self.assertEqual(c["billable_s"], 187)
        self.assertEqual(c["raw"], ANSWERED)  # nothing the PBX sent is dropped
        rec = row("SELECT * FROM recordings WHERE call_id = %s", c["id"])
        self.assertEqual((rec["state"], rec["remote_ref"], rec["remote_url"]),
                         ("remote", "rec-8c1f", "https://pbx.example.hu/rec/rec-8c1f.wav"))

    def test_form_body_with_plus_and_percent20(self):
        body = read_fixture(FIXTURES, "generic", "missed-naive.form").strip()
        r = self.push(body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r)
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'gen-0002'")
        self.assertEqual(c["caller"], "06 30 765 4321")
        self.assertEqual(c["caller_e164"], "36307654321")
        self.assertEqual(c["disposition"], "missed")
        self.assertEqual(c["raw"]["disposition"], "no answer")

    def test_query_string_get(self):
        params = qs(call_id="get-1", direction="out", callee="+36 1 456 7890",
                    started_at="1750065605", billsec="12", key=self.SECRET)
        r = self.push(method="GET", path="/v1/cdr/acme?" + params, auth=False)
        self.assertEqual(r.status, 200, r)
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'get-1'")
        self.assertEqual(c["direction"], "out")
        self.assertEqual(c["callee_e164"], "3614567890")
        self.assertEqual(c["disposition"], "answered")  # billable seconds, no word needed
        # the key is a secret: it is not kept with the call
        self.assertNotIn("key", c["raw"])
        self.assertEqual(c["raw"]["billsec"], "12")

    def test_post_query_parameters_join_the_payload(self):
        body = dict(ANSWERED, call_id="q-1")
        r = self.push(body, path="/v1/cdr/acme?uuid=abc&call_id=ignored")
        self.assertEqual(r.status, 200, r)
        raw = scalar("SELECT raw FROM calls WHERE pbx_call_id = 'q-1'")
        self.assertEqual(raw["uuid"], "abc")
        self.assertEqual(raw["call_id"], "q-1")  # the body wins

    def test_naive_times_are_read_in_the_source_zone_across_dst(self):
        # Budapest: CET (+1) before 2025-03-30 02:00, CEST (+2) after;
        # back to CET on 2025-10-26 at 03:00.
        cases = {
            "dst-1": ("2025-03-30 01:59:59", "2025-03-30T00:59:59+00:00"),
            "dst-2": ("2025-03-30 03:00:00", "2025-03-30T01:00:00+00:00"),
            "dst-3": ("2025-10-26 01:30:00", "2025-10-25T23:30:00+00:00"),
            "dst-4": ("2025-10-26 03:30:00", "2025-10-26T02:30:00+00:00"),
            "dst-5": ("2025-01-15 12:00:00", "2025-01-15T11:00:00+00:00"),
        }
        for call_id, (local, _) in cases.items():
            r = self.push({"call_id": call_id, "direction": "in", "started_at": local})
            self.assertEqual(r.status, 200, r)
        for call_id, (_, utc) in cases.items():
            got = scalar("SELECT started_at FROM calls WHERE pbx_call_id = %s", call_id)
            self.assertEqual(got.isoformat(), utc, call_id)

    def test_same_push_twice_is_a_duplicate(self):
        first = self.push(ANSWERED)
        before = row("SELECT * FROM calls WHERE pbx_call_id = 'gen-0001'")
        again = self.push(ANSWERED)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertTrue(again.json()["duplicate"])
        self.assertEqual(again.json()["id"], first.json()["id"])
        after = row("SELECT * FROM calls WHERE pbx_call_id = 'gen-0001'")
        self.assertEqual(before, after)  # nothing changed, not even updated_at
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 1)
        self.assertEqual(scalar("SELECT count(*) FROM call_revisions"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM recordings"), 1)

    def test_same_content_in_another_encoding_is_a_duplicate(self):
        self.push({"call_id": "enc-1", "direction": "in", "started_at": "1750065605"})
        r = self.push("call_id=enc-1&direction=in&started_at=1750065605",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.json()["status"], "duplicate")

    def test_changed_push_updates_and_keeps_the_old_payload(self):
        self.push(ANSWERED)
        changed = dict(ANSWERED, billsec=190, disposition="answered", agent="1003")
        r = self.push(changed)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "updated")
        self.assertFalse(r.json()["duplicate"])
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'gen-0001'")
        self.assertEqual((c["billable_s"], c["agent"], c["revision"]), (190, "1003", 2))
        self.assertEqual(c["raw"], changed)
        rev = row("SELECT * FROM call_revisions WHERE call_id = %s", c["id"])
        self.assertEqual((rev["revision"], rev["kind"]), (1, "replaced"))
        self.assertEqual(rev["raw"], ANSWERED)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 1)

    def test_in_progress_after_the_end_is_kept_but_not_applied(self):
        self.push(ANSWERED)
        late = {"call_id": "gen-0001", "direction": "in", "started_at": ANSWERED["started_at"],
                "disposition": "in_progress"}
        r = self.push(late)
        self.assertEqual(r.json()["status"], "ignored")
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'gen-0001'")
        self.assertEqual((c["disposition"], c["revision"]), ("answered", 1))
        self.assertEqual(scalar("SELECT raw FROM call_revisions WHERE kind = 'ignored'"), late)

    def test_same_call_id_in_two_sources_is_two_calls(self):
        from harness import add_source
        add_source("other", "other-secret-123")
        self.push(ANSWERED)
        r = self.push(ANSWERED, path="/v1/cdr/other", auth=False,
                      headers={"X-Api-Key": "other-secret-123"})
        self.assertEqual(r.json()["status"], "stored")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'gen-0001'"), 2)


class Authentication(IngestCase):
    def test_every_way_a_pbx_can_send_the_secret(self):
        body = {"call_id": "a-1", "direction": "in", "started_at": 1750065605}
        self.assertEqual(self.push(body, auth=False, basic=("pbx", self.SECRET)).status, 200)
        body["call_id"] = "a-2"
        self.assertEqual(self.push(body).status, 200)  # X-Api-Key
        body["call_id"] = "a-3"
        r = self.push(body, auth=False, path="/v1/cdr/acme?key=" + self.SECRET)
        self.assertEqual(r.status, 200)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 3)

    def test_wrong_or_missing_secret_is_401_and_nothing_is_kept(self):
        body = {"call_id": "a-9", "direction": "in", "started_at": 1750065605}
        attempts = [
            dict(auth=False),
            dict(auth=False, basic=("pbx", "wrong")),
            dict(auth=False, headers={"X-Api-Key": self.SECRET + "x"}),
            dict(auth=False, path="/v1/cdr/acme?key=" + self.SECRET[:-1]),
        ]
        for kw in attempts:
            r = self.push(body, **kw)
            self.assertEqual(r.status, 401, kw)
            self.assertEqual(r.json()["error"], "unauthorized")
            self.assertIn("Basic", r.header("WWW-Authenticate"))
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 0)
        self.assertNotIn(self.SECRET, self.daemon.output())  # secrets are never logged

    def test_a_basic_only_source_refuses_other_ways(self):
        from harness import ringlog
        ringlog("source", "update", "acme", "--auth", "basic", "--user", "freeswitch")
        self.daemon.proc.send_signal(1)  # SIGHUP reloads the sources at once
        from harness import wait_for
        wait_for(lambda: "reloaded" in self.daemon.output(), what="reload")
        body = {"call_id": "b-1", "direction": "in", "started_at": 1750065605}
        self.assertEqual(request(self.port, "POST", "/v1/cdr/acme?key=" + self.SECRET, body).status, 401)
        self.assertEqual(self.push(body).status, 401)
        self.assertEqual(self.push(body, auth=False, basic=("other", self.SECRET)).status, 401)
        self.assertEqual(self.push(body, auth=False, basic=("freeswitch", self.SECRET)).status, 200)


class GroupCommit(IngestCase):
    """Concurrent pushes share transactions; one bad push does not sink the others."""
    DAEMON_FLAGS = ("--writers", "1", "--batch-max", "64")

    def test_concurrent_pushes_are_committed_together_and_a_failure_is_isolated(self):
        import threading
        from harness import execute, request as req
        execute("ALTER TABLE calls ADD CONSTRAINT test_block CHECK (pbx_call_id <> 'gc-13')")
        barrier, answers = threading.Barrier(40), {}

        def push(i):
            body = {"call_id": f"gc-{i}", "direction": "in", "started_at": 1750065605}
            barrier.wait()
            answers[i] = self.push(body)

        try:
            threads = [threading.Thread(target=push, args=(i,)) for i in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            execute("ALTER TABLE calls DROP CONSTRAINT test_block")
        self.assertEqual(answers[13].status, 500)
        self.assertEqual(answers[13].json()["error"], "store_failed")
        bad = {i: a.body[:300] for i, a in answers.items() if i != 13 and a.status != 200}
        self.assertFalse(bad, str(bad))
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 39)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE reason = 'store_failed'"), 1)
        metrics = req(self.port, "GET", "/metrics").body.decode()
        transactions = int([l for l in metrics.splitlines()
                            if l.startswith("ringlog_db_transactions_total ")][0].split()[1])
        self.assertLess(transactions, 40)  # batched: fewer commits than pushes
