"""The lead rules have one home (sql/functions/ringlog_upsert_leads.sql and
friends): `lead add`, `lead import`, the CRM sync and ingest behave alike.
And a re-push never erases what was known (issue 10, part 6)."""
import json
import os
import threading
import time

import psycopg2

from harness import (DB, VENDORS, WORK, IngestCase, add_source, connect, query, read_fixture,
                     ringlog, row, scalar)

SECRET = "lead-rules-secret"


class Rules(IngestCase):
    SECRET = SECRET

    def send(self, source, body, content_type="application/json", path_query=""):
        return self.push(body, path=f"/v1/cdr/{source}{path_query}", auth=False,
                         headers={"Content-Type": content_type, "X-Api-Key": SECRET})

    def il(self, *options):
        add_source("il", SECRET, "--country-code", "972", "--trunk-prefix", "0", *options)

    def csv(self, name, text):
        path = os.path.join(WORK, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # ---- lead add --------------------------------------------------------

    def test_lead_add_links_the_earlier_calls_of_its_number(self):
        self.il("--no-leads")
        call = {"call_id": "before-1", "direction": "in", "caller": "0528812345", "callee": "1002",
                "started_at": "2025-06-16T09:00:00Z", "duration": 30, "billsec": 20}
        self.assertEqual(self.send("il", json.dumps(call)).status, 200)
        self.assertIsNone(scalar("SELECT lead_id FROM calls"))
        out = ringlog("lead", "add", "0528812345", "--source", "il", "--name", "Moshe").stdout
        self.assertIn("1 earlier calls linked", out)
        self.assertEqual(scalar("SELECT lead_id FROM calls"), scalar("SELECT id FROM leads"))
        # The same number again is the same lead, updated, not a second one.
        out = ringlog("lead", "add", "0528812345", "--source", "il", "--name", "Moshe Peretz").stdout
        self.assertIn("updated", out)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)

    def test_lead_add_waits_for_the_number_lock(self):
        """A push creating the lead of a number holds its lock: lead add waits, then finds it."""
        self.il()
        holder = connect()
        holder.autocommit = False
        cur = holder.cursor()
        cur.execute("SELECT ringlog_lead_lock('972528812345', true)")
        cur.execute("INSERT INTO leads (phone, name, origin) VALUES ('972528812345', 'from a push', 'ringlog')")
        done = {}
        t = threading.Thread(target=lambda: done.update(p=ringlog("lead", "add", "+972528812345",
                                                                  "--crm-id", "c-9")))
        t.start()
        time.sleep(1.0)
        self.assertTrue(t.is_alive(), "lead add did not wait for the number's lock")
        holder.commit()
        holder.close()
        t.join(30)
        self.assertIn("updated", done["p"].stdout)
        self.assertEqual(query("SELECT name, crm_id FROM leads"), [("from a push", "c-9")])

    def test_crm_syncs_lock_per_number_only(self):
        self.il()
        first = connect()
        first.autocommit = False
        first.cursor().execute("SELECT * FROM ringlog_upsert_leads('[{\"phone\": \"972528812345\"}]')")
        other = connect()
        other.autocommit = False
        cur = other.cursor()
        cur.execute("SET lock_timeout = '2s'")
        # Another number goes through while the first sync is open ...
        cur.execute("SELECT outcome FROM ringlog_upsert_leads('[{\"phone\": \"972547001122\"}]')")
        self.assertEqual(cur.fetchone()[0], "created")
        other.commit()
        # ... the same number waits for it.
        cur.execute("SET lock_timeout = '300ms'")
        with self.assertRaises(psycopg2.errors.LockNotAvailable):
            cur.execute("SELECT outcome FROM ringlog_upsert_leads('[{\"phone\": \"972528812345\"}]')")
        other.rollback()
        other.close()
        first.commit()
        first.close()

    # ---- lead import -----------------------------------------------------

    def test_import_twice_changes_nothing_and_says_so(self):
        self.il()
        path = self.csv("twice.csv", "phone,name,crm_id\n0528812345,Moshe,5521\n0547001122,Avi,\n")
        self.assertIn("2 leads imported: 2 added, 0 updated, 0 unchanged",
                      ringlog("lead", "import", path, "--source", "il").stdout)
        before = query("SELECT id, updated_at FROM leads ORDER BY id")
        self.assertIn("2 leads imported: 0 added, 0 updated, 2 unchanged",
                      ringlog("lead", "import", path, "--source", "il").stdout)
        self.assertEqual(query("SELECT id, updated_at FROM leads ORDER BY id"), before)

    def test_import_dry_run_shows_what_it_would_do(self):
        self.il()
        ringlog("lead", "add", "0528812345", "--source", "il", "--name", "Moshe")
        path = self.csv("dry.csv", "phone,name\n0528812345,Moshe Peretz\n0547001122,Avi\n0733750100,\n")
        out = ringlog("lead", "import", path, "--source", "il", "--dry-run").stdout
        self.assertIn("3 leads checked (dry run, nothing written): 2 would be added, 1 updated, 0 unchanged",
                      out)
        self.assertIn("would add +972547001122  Avi", out)
        self.assertIn("would add +972733750100", out)
        self.assertIn("would update +972528812345  Moshe Peretz", out)
        self.assertEqual(query("SELECT phone, name FROM leads"), [("972528812345", "Moshe")])

    # ---- re-push (issue 10, part 6) --------------------------------------

    def test_asterisk_master_csv_after_json_keeps_the_did(self):
        add_source("ast", SECRET, "--vendor", "asterisk", "--time-zone", "Europe/Budapest",
                   "--country-code", "36", "--trunk-prefix", "06")
        self.assertEqual(self.send("ast", read_fixture(VENDORS, "asterisk-cdr.json")).status, 200)
        line = read_fixture(VENDORS, "asterisk-master.csv").decode().splitlines(keepends=True)[0]
        r = self.send("ast", line, "text/csv")
        self.assertEqual(r.json()["status"], "updated", r)
        c = row("SELECT did, answered_at, agent FROM calls WHERE pbx_call_id = '1750065605.2731'")
        self.assertEqual((c["did"], c["agent"]), ("3614567890", "1002"))
        self.assertIsNotNone(c["answered_at"])

    def test_times_follow_from_durations(self):
        add_source("vc", SECRET, "--vendor", "voicenter", "--time-zone", "Asia/Jerusalem",
                   "--country-code", "972", "--trunk-prefix", "0")
        self.assertEqual(self.send("vc", read_fixture(VENDORS, "voicenter-cdr-answered.json")).status, 200)
        c = row("SELECT started_at, answered_at, ended_at, duration_s, billable_s FROM calls")
        self.assertIsNotNone(c["ended_at"])
        self.assertEqual((c["ended_at"] - c["started_at"]).total_seconds(), c["duration_s"])
        self.assertEqual((c["ended_at"] - c["answered_at"]).total_seconds(), c["billable_s"])

    def test_freeswitch_uuid_parameter_is_not_content(self):
        add_source("fs", SECRET, "--vendor", "freeswitch", "--time-zone", "Europe/Budapest",
                   "--country-code", "36", "--trunk-prefix", "06")
        body = read_fixture(VENDORS, "freeswitch-json-cdr.json")
        r = self.send("fs", body, path_query="?uuid=3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41")
        self.assertEqual(r.json()["status"], "stored", r)
        r = self.send("fs", body)
        self.assertEqual(r.json()["status"], "duplicate", r)
        r = self.send("fs", body, path_query="?uuid=3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41")
        self.assertEqual(r.json()["status"], "duplicate", r)
        self.assertEqual(scalar("SELECT revision FROM calls"), 1)
