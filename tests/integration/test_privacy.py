"""Privacy (README "Privacy"): `ringlog erase` and POST /v1/erase remove a
number from every table and its recordings from the blob store, leave a
tombstone so an erased call never comes back, keep what is on legal hold,
and race safely with pushes of the same number; the audit trail names who
played (signed link or session), downloaded and exported."""
import base64
import json
import os
import threading
import time
import urllib.parse

from harness import (BLOBS, WORK, IngestCase, connect, execute, fetcherd, query, request, ringlog,
                     row, scalar)
from recordings import blob_path, sha256, wav

NUMBER = "36301234567"   # +36 30 123 4567, national 06 30 123 4567
KEY_FILE = os.path.join(WORK, "privacy.key")


def traces(pattern):
    """Every text, jsonb, bytea and array column of every table holding PATTERN."""
    found = []
    for table, column, kind in query(
            """SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
                 JOIN information_schema.tables t USING (table_schema, table_name)
                WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                  AND c.data_type IN ('text', 'jsonb', 'json', 'bytea', 'character varying', 'ARRAY')"""):
        if kind == "bytea":
            n = scalar(f'SELECT count(*) FROM "{table}" WHERE position(convert_to(%s, \'UTF8\') IN "{column}") > 0',
                       pattern)
        else:
            n = scalar(f'SELECT count(*) FROM "{table}" WHERE strpos("{column}"::text, %s) > 0', pattern)
        if n:
            found.append(f"{table}.{column}")
    return found


class Privacy(IngestCase):
    @classmethod
    def setUpClass(cls):
        with open(KEY_FILE, "wb") as f:
            f.write(base64.b64encode(os.urandom(32)) + b"\n")
        os.environ["RINGLOG_PRIVACY_KEY_FILE"] = KEY_FILE
        os.environ["RINGLOG_RECORDINGS_BLOB_DIR"] = BLOBS

    @classmethod
    def tearDownClass(cls):
        os.environ.pop("RINGLOG_PRIVACY_KEY_FILE", None)
        os.environ.pop("RINGLOG_RECORDINGS_BLOB_DIR", None)
        execute("TRUNCATE erased_calls, erasures, holds, audit_log")

    def setUp(self):
        execute("TRUNCATE erased_calls, erasures, holds, audit_log, click2calls")
        super().setUp()

    def call(self, call_id, caller="06301234567", disposition="answered", **extra):
        body = {"call_id": call_id, "direction": "in", "caller": caller, "callee": "1002",
                "agent": "1002", "disposition": disposition,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
                "duration": 30, **extra}
        r = self.push(body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def person(self):
        """Calls of the number with a revision, a missed-call task, inline recordings, a
        dead letter, a screen pop, a click-to-call; and someone else's call."""
        audio = wav(0.5, seed=18)
        self.call("p-1", recording_base64=base64.b64encode(audio).decode(), note="first")
        self.call("p-1", recording_base64=base64.b64encode(audio).decode(), note="again")
        self.call("p-2", disposition="missed")
        self.call("other-1", caller="0612345678")
        bad = self.push(b'{"call_id": "p-3", "caller": "06 30 123 4567",', headers={
            "Content-Type": "application/json"})
        self.assertEqual(bad.status, 400, bad)
        execute("""INSERT INTO call_events (source_id, pbx_call_id, status, phone, phone_e164, at)
                   VALUES (1, 'p-1', 'ringing', '06301234567', %s, now())""", NUMBER)
        execute("""INSERT INTO click2calls (source_id, action, agent, extension, target, target_e164,
                   outcome) VALUES (1, 'call', 'anna', '1002', '+36301234567', %s, 'calling')""", NUMBER)
        return audio

    def test_erase_leaves_nothing_of_the_number_and_deletes_its_blob(self):
        audio = self.person()
        blob = blob_path(sha256(audio))
        self.assertTrue(os.path.exists(blob))
        self.assertIn("calls.caller_e164", traces("301234567"))
        dry = ringlog("erase", "--phone", "+36 30 123 4567", "--dry-run").stdout
        self.assertIn("would remove calls 2, revisions 1, recordings 1", dry)
        self.assertIn("dead_letters 1, click2calls 1, leads 1", dry)
        self.assertRegex(dry, r"calls: \d+ \d+\n")
        self.assertTrue(os.path.exists(blob))
        self.assertEqual(scalar("SELECT count(*) FROM erasures"), 0)

        out = ringlog("erase", "--phone", "+36301234567").stdout
        self.assertIn("removed calls 2, revisions 1, recordings 1", out)
        self.assertIn("1 blobs deleted", out)
        self.assertEqual(traces("301234567"), [])
        self.assertFalse(os.path.exists(blob), "the recording's blob is gone from the store")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'other-1'"), 1)
        e = row("SELECT * FROM erasures")
        self.assertTrue(e["erased_by"].startswith("cli:"))
        self.assertEqual(e["removed"]["calls"], 2)
        self.assertEqual(len(bytes(e["phone_hash"])), 32)
        self.assertEqual(scalar("SELECT count(*) FROM erased_calls"), 2)

        # An erased call never comes back; a new call of the person is new data.
        self.call("p-1", note="a retry of the PBX")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'p-1'"), 0)
        self.call("p-new")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'p-new'"), 1)

    def test_an_ingest_node_without_the_key_will_not_start_once_calls_were_erased(self):
        from harness import BLOBS, Daemon, ingestd
        self.call("k-1")
        no_key = {"RINGLOG_PRIVACY_KEY_FILE": os.path.join(WORK, "no-such-privacy.key")}

        def node(name, env=None):
            return Daemon("ringlog-ingestd", name, "--spool-dir", os.path.join(WORK, name, "spool"),
                          "--recordings-blob-dir", BLOBS, env=env)
        node("ingestd-no-key-before", no_key).start().stop()  # nothing erased yet: it starts
        ringlog("erase", "--phone", "+36301234567")
        d = node("ingestd-no-key", no_key).start(expect_ready=False)
        self.assertNotEqual(d.wait_exit(), 0)
        self.assertIn("no privacy key", d.output())
        self.assertIn("[privacy] key_file", d.output())
        # With the key it starts, and the erased call's push is dropped.
        with_key = ingestd("ingestd-key")
        r = request(with_key.port, "POST", "/v1/cdr/acme", json.dumps({
            "call_id": "k-1", "direction": "in", "caller": "06301234567", "callee": "1002",
            "started_at": "2025-06-16T09:00:00Z"}).encode(), {"X-Api-Key": self.SECRET})
        with_key.stop()
        self.assertEqual((r.status, r.json()["status"]), (200, "erased"), r)
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 'k-1'"), 0)

    def test_held_call_survives_erasure_and_retention(self):
        self.person()
        held = scalar("SELECT id FROM calls WHERE pbx_call_id = 'p-2'")
        out = ringlog("hold", "add", "call", str(held), "--reason", "complaint 2026-114").stdout
        self.assertIn("kept past retention and erasure", out)
        self.assertIn("complaint 2026-114", ringlog("hold", "list").stdout)
        out = ringlog("erase", "--phone", "+36301234567").stdout
        self.assertIn(f"kept call {held}: on hold: complaint 2026-114", out)
        self.assertRegex(out, r"kept lead \d+: other calls refer to it")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE caller_e164 = %s", NUMBER), 1)
        self.assertEqual(row("SELECT kept FROM erasures")["kept"][0]["id"], held)
        # Retention: a source keeping calls for an hour removes all but the held one.
        ringlog("source", "update", "acme", "--keep-calls", "1h")
        execute("UPDATE calls SET started_at = started_at - interval '2 days'")
        ringlog("maintain")
        self.assertEqual([r[0] for r in query("SELECT id FROM calls")], [held])
        ringlog("hold", "remove", "call", str(held))
        ringlog("maintain")
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)

    def test_erase_through_the_api_needs_the_scope(self):
        self.person()
        d = fetcherd("privacy-api")
        self.addCleanup(d.stop)
        plain = ringlog("token", "add", "crm").stdout.splitlines()[1]
        dpo = ringlog("token", "add", "dpo", "--scope", "erase").stdout.splitlines()[1]
        self.assertIn("active (erase)", ringlog("token", "list").stdout)
        body = {"phone": "+36301234567", "dry_run": True}
        r = request(d.port, "POST", "/v1/erase", body, {"Authorization": "Bearer " + plain})
        self.assertEqual((r.status, r.json()["error"]), (403, "insufficient_scope"))
        r = request(d.port, "GET", "/v1/calls", headers={"Authorization": "Bearer " + plain})
        self.assertEqual(r.status, 200, "a token without scopes does what it did")
        r = request(d.port, "POST", "/v1/erase", body, {"Authorization": "Bearer " + dpo})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["removed"]["calls"], 2)
        self.assertEqual(len(r.json()["calls"]), 2)
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE caller_e164 = %s", NUMBER), 2)
        r = request(d.port, "POST", "/v1/erase", {"phone": "06301234567", "source": "acme"},
                    {"Authorization": "Bearer " + dpo})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["removed"]["calls"], r.json()["blobs_deleted"]), (2, 1))
        self.assertEqual(traces("301234567"), [])
        self.assertEqual(row("SELECT erased_by, source_name FROM erasures"),
                         {"erased_by": "token:dpo", "source_name": "acme"})

    def test_concurrent_erase_and_pushes_of_the_number(self):
        for i in range(30):
            self.call(f"old-{i}", disposition="missed" if i % 3 == 0 else "answered")
        results, stop = [], threading.Event()

        def pusher(name):
            i = 0
            while not stop.is_set() and i < 200:
                r = self.push({"call_id": f"race-{name}-{i}", "direction": "in", "caller": "06301234567",
                               "callee": "1002", "agent": "1002",
                               "disposition": "missed" if i % 2 else "answered",
                               "started_at": "2026-01-05T10:00:00Z", "duration": 5})
                results.append(r.status)
                i += 1
        threads = [threading.Thread(target=pusher, args=(n,)) for n in "ab"]
        for t in threads:
            t.start()
        time.sleep(0.2)
        erased = []
        for _ in range(3):
            out = ringlog("erase", "--phone", "+36301234567", "--json").stdout
            erased.append(json.loads(out)["removed"]["calls"])
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(set(results), {200}, "every push was acknowledged")
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 0)
        # Whatever was pushed is either erased (counted) or whole: no half-erased state.
        pushed = 30 + len(results)
        left = scalar("SELECT count(*) FROM calls WHERE caller_e164 = %s", NUMBER)
        self.assertEqual(sum(erased) + left, pushed, "every call is counted once: erased or left")
        self.assertEqual(scalar("""SELECT count(*) FROM calls c WHERE c.caller_e164 = %s
                                   AND NOT EXISTS (SELECT 1 FROM call_keys k WHERE k.call_id = c.id)""",
                                NUMBER), 0, "every call left is whole: its key")
        self.assertEqual(scalar("""SELECT count(*) FROM calls c WHERE c.caller_e164 = %s
                                   AND c.lead_id IS NOT NULL
                                   AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = c.lead_id)""",
                                NUMBER), 0, "and no erased lead")
        self.assertEqual(scalar("""SELECT count(*) FROM tasks t WHERE t.kind = 'missed_call'
                                   AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = t.lead_id)"""), 0)
        last = json.loads(ringlog("erase", "--phone", "+36301234567", "--json").stdout)
        self.assertEqual(last["removed"]["calls"], left)
        self.assertEqual(traces("301234567"), [])


class Audit(IngestCase):
    """Who listened, downloaded, exported: one audit row each, with the right user."""

    def setUp(self):
        execute("TRUNCATE audit_log")
        super().setUp()
        audio = wav(0.5, seed=7)
        r = self.push({"call_id": "a-1", "direction": "in", "caller": "0612345678", "callee": "1002",
                       "started_at": "2026-03-02T10:00:00Z", "duration": 5,
                       "recording_base64": base64.b64encode(audio).decode()})
        self.assertEqual(r.status, 200, r)
        self.call_id = scalar("SELECT id FROM calls WHERE pbx_call_id = 'a-1'")
        self.rec_id = scalar("SELECT id FROM recordings")
        self.d = fetcherd("audit-fetcher")
        self.addCleanup(self.d.stop)
        self.token = ringlog("token", "add", "crm-backend").stdout.splitlines()[1]

    def get(self, path, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return request(self.d.port, "GET", path, headers=h)

    def play_url(self, token):
        r = self.get(f"/v1/calls/{self.call_id}", token)
        self.assertEqual(r.status, 200, r)
        return r.json()["recordings"][0]["play_url"]

    def audit(self):
        return query("""SELECT actor, auth, action, call_id, recording_id, source_name
                          FROM audit_log ORDER BY id""")

    def test_plays_are_audited_with_the_user_who_asked(self):
        url = self.play_url(self.token)
        self.assertIn("&u=" + b"crm-backend".hex(), url)
        self.assertEqual(self.get(url).status, 200)
        # a seek and a HEAD are not new plays
        self.assertEqual(self.get(url, headers={"Range": "bytes=100-"}).status, 206)
        self.assertEqual(request(self.d.port, "HEAD", url).status, 200)
        # a browser's session: its user
        r = request(self.d.port, "POST", "/v1/ui/sessions", {"user": "anna@crm"},
                    {"Authorization": "Bearer " + self.token})
        session = r.json()["token"]
        surl = self.play_url(session)
        self.assertEqual(self.get(surl, headers={"Range": "bytes=0-"}).status, 206)
        self.assertEqual(self.get(f"/v1/recordings/{self.rec_id}?download=1", session).status, 200)
        rows = self.audit()
        src = "acme"
        self.assertEqual(rows, [
            ("crm-backend", "signed_url", "play", self.call_id, self.rec_id, src),
            ("anna@crm", "signed_url", "play", self.call_id, self.rec_id, src),
            ("anna@crm", "session", "download", self.call_id, self.rec_id, src)])
        # a link made for one user cannot be passed off as another's
        forged = surl.replace("u=" + b"anna@crm".hex(), "u=" + b"bob".hex())
        self.assertEqual(self.get(forged).status, 403)
        stripped = urllib.parse.urlsplit(surl)
        q = [p for p in stripped.query.split("&") if not p.startswith("u=")]
        self.assertEqual(self.get(stripped.path + "?" + "&".join(q)).status, 403)
        out = ringlog("audit", "list", "--user", "anna@crm").stdout
        self.assertEqual(len(out.splitlines()), 3, out)
        out = ringlog("audit", "list", "--call", str(self.call_id), "--since", "1h").stdout
        self.assertEqual(len(out.splitlines()), 4, out)

    def test_an_export_records_its_filters_and_rows(self):
        r = self.get("/v1/export.csv?from=2026-03-01&to=2026-03-31&tz=Europe/Budapest&source=acme",
                     self.token)
        self.assertEqual(r.status, 200, r)
        a = wait_for_row("SELECT * FROM audit_log WHERE action = 'export' AND row_count IS NOT NULL")
        self.assertEqual((a["actor"], a["auth"], a["source_name"], a["row_count"]),
                         ("crm-backend", "token", "acme", 1))
        self.assertEqual(a["filters"], {"from": "2026-03-01", "to": "2026-03-31", "tz": "Europe/Budapest",
                                        "source": "acme", "outcome": "complete"})
        self.assertIn("export", ringlog("audit", "list").stdout)

    def test_maintain_removes_the_audit_trail_past_its_keep(self):
        self.assertEqual(self.get(self.play_url(self.token)).status, 200)
        execute("INSERT INTO audit_log (at, actor, auth, action) VALUES (now() - interval '3 years', 'old', 'token', 'play')")
        out = ringlog("maintain").stdout
        self.assertIn("removed 1 audit rows older than 730d", out)
        self.assertEqual([r[0] for r in query("SELECT actor FROM audit_log")], ["crm-backend"])


def wait_for_row(sql, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = row(sql)
        if r:
            return r
        time.sleep(0.05)
    raise AssertionError("no row: " + sql)
