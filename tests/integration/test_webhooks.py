"""Webhooks (issue 14): subscriptions through the CLI, events written by
triggers in the transaction of the change, delivered by ringlog-fetcherd to a
fake CRM, signed per Standard Webhooks and verified with the spec's reference
library (npm standardwebhooks, tests/webhooks); retries, 410, pausing,
failed events kept and replayed, kill -9 mid-delivery, a PostgreSQL
restart."""
import json
import os
import re
import subprocess
import time

import psycopg2

from fake_crm import FakeCRM
import harness
from harness import (DB, ROOT, IngestCase, execute, fetcherd, new_token, pg_crash, pg_start, query,
                     request, ringlog, scalar)

NODE_DIR = os.path.join(ROOT, "tests", "webhooks")
FAST = ("--webhook-retry-base", "1", "--webhook-retry-max", "2", "--webhook-poll-ms", "20",
        "--webhook-timeout", "2", "--webhook-connect-timeout", "1", "--source-refresh", "1")


def verify(deliveries, secret):
    """Verifies each delivery with standardwebhooks; returns the results."""
    lines = "".join(json.dumps({"secret": secret, "body": d["body"],
                                "headers": {"webhook-id": d["id"],
                                            "webhook-timestamp": d["timestamp"],
                                            "webhook-signature": d["signature"]}}) + "\n"
                    for d in deliveries)
    p = subprocess.run(["node", os.path.join(NODE_DIR, "verify.mjs")], input=lines,
                       capture_output=True, text=True, timeout=60, cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    return [json.loads(x) for x in p.stdout.splitlines()]


def add_webhook(name, url, events="all", *extra):
    out = ringlog("webhook", "add", name, "--url", url, "--events", events, *extra).stdout
    m = re.search(r"^(whsec_[A-Za-z0-9+/=]+)$", out, re.M)
    assert m, out
    return m.group(1)


CURRENT = None


def wait_for(predicate, timeout=20, what="condition"):
    try:
        return harness.wait_for(predicate, timeout=timeout, what=what)
    except AssertionError as e:
        raise AssertionError(str(e) + (CURRENT.debug() if CURRENT else "")) from None


class WebhookCase(IngestCase):
    SOURCE_OPTIONS = ("--time-zone", "UTC", "--country-code", "36", "--trunk-prefix", "06",
                      "--default-responsible", "boss")
    FETCHER_FLAGS = FAST

    def setUp(self):
        super().setUp()
        execute("TRUNCATE webhooks, webhook_events RESTART IDENTITY")
        ringlog("agent", "add", "acme", "201", "alice")
        self.crm = FakeCRM()
        self.fetcher = None
        global CURRENT
        CURRENT = self

    def tearDown(self):
        self.crm.close()
        if self.fetcher:
            code = self.fetcher.stop()
            self.assertEqual(code, 0, f"fetcherd exit status {code}:\n{self.fetcher.output()[-3000:]}")
        super().tearDown()

    def start_fetcher(self, *flags, name=None):
        self.fetcher = fetcherd(name or self.id().rsplit(".", 1)[-1] + "-f", *self.FETCHER_FLAGS, *flags)
        return self.fetcher

    def call(self, call_id, number, disposition="missed", direction="in", agent="201"):
        body = {"call_id": call_id, "direction": direction, "disposition": disposition,
                "started_at": "2025-06-16T09:20:05Z", "agent": agent,
                "billsec": 60 if disposition == "answered" else 0,
                "caller": number, "callee": "06 1 456 7890"}
        r = self.push(body)
        self.assertEqual(r.status, 200, r)
        return r

    def debug(self):
        return (f"\nCRM: {[(r['answer'], json.loads(r['body'])['type'] if r['body'] else None) for r in self.crm.all()]}"
                f"\nevents: {query('SELECT id, type, state, lead_id, attempts, last_status, last_error FROM webhook_events ORDER BY id')}"
                f"\nfetcher: {self.fetcher.output()[-3000:] if self.fetcher else ''}")

    def types(self, reqs):
        return [json.loads(r["body"])["type"] for r in reqs]


class Subscriptions(WebhookCase):
    def test_cli_add_list_show_rotate_remove(self):
        secret = add_webhook("crm", self.crm.url(), "lead.created,task.created", "--source", "acme")
        self.assertTrue(secret.startswith("whsec_"))
        listed = ringlog("webhook", "list").stdout
        self.assertIn("crm", listed)
        self.assertIn("lead.created,task.created", listed)
        shown = ringlog("webhook", "show", "crm").stdout
        self.assertIn("acme", shown)
        self.assertNotIn(secret[6:], shown + listed)  # the secret is shown once only
        # Unknown events, sources and duplicate names are refused.
        p = ringlog("webhook", "add", "x", "--url", self.crm.url(), "--events", "call.nope", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown event type", p.stderr)
        p = ringlog("webhook", "add", "y", "--url", self.crm.url(), "--events", "all", "--source", "nope",
                    check=False)
        self.assertNotEqual(p.returncode, 0)
        p = ringlog("webhook", "add", "crm", "--url", self.crm.url(), "--events", "all", check=False)
        self.assertNotEqual(p.returncode, 0)
        p = ringlog("webhook", "add", "z", "--url", "ftp://x/", "--events", "all", check=False)
        self.assertNotEqual(p.returncode, 0)
        out = ringlog("webhook", "rotate-secret", "crm").stdout
        new = re.search(r"^(whsec_\S+)$", out, re.M).group(1)
        self.assertNotEqual(new, secret)
        self.assertIn("both the old and the new secret until", out)
        ringlog("webhook", "remove", "crm")
        self.assertEqual(scalar("SELECT count(*) FROM webhooks"), 0)
        self.assertNotEqual(ringlog("webhook", "remove", "crm", check=False).returncode, 0)

    def test_the_same_through_the_api_for_token_holders(self):
        self.start_fetcher()
        token = new_token()
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        port = self.fetcher.port
        self.assertEqual(request(port, "GET", "/v1/webhooks").status, 401)
        r = request(port, "POST", "/v1/webhooks", json.dumps(
            {"name": "api", "url": self.crm.url(), "events": ["lead.created"], "source": "acme"}), auth)
        self.assertEqual(r.status, 201, r)
        made = r.json()
        self.assertTrue(made["secret"].startswith("whsec_"))
        self.assertEqual((made["events"], made["source"], made["state"]), (["lead.created"], "acme", "active"))
        self.assertEqual(request(port, "POST", "/v1/webhooks", json.dumps(
            {"name": "api", "url": self.crm.url(), "events": ["lead.created"]}), auth).status, 409)
        self.assertEqual(request(port, "POST", "/v1/webhooks", json.dumps(
            {"name": "b", "url": self.crm.url(), "events": ["nope"]}), auth).status, 400)
        self.assertEqual(request(port, "POST", "/v1/webhooks", json.dumps(
            {"name": "b", "url": "file:///etc/passwd", "events": ["lead.created"]}), auth).status, 400)
        listed = request(port, "GET", "/v1/webhooks", headers=auth).json()["webhooks"]
        self.assertEqual([w["name"] for w in listed], ["api"])
        self.assertNotIn("secret", listed[0])
        r = request(port, "POST", f"/v1/webhooks/{made['id']}/rotate-secret",
                    json.dumps({"overlap_s": 60}), auth)
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json()["secret"], made["secret"])
        self.assertIsNotNone(r.json()["old_secret_valid_until"])
        self.call("api1", "06 30 555 0003")
        wait_for(lambda: self.crm.delivered(), what="delivery")
        self.assertTrue(verify(self.crm.delivered(), made["secret"])[0]["ok"])
        self.assertTrue(verify(self.crm.delivered(), r.json()["secret"])[0]["ok"])
        self.assertEqual(request(port, "DELETE", f"/v1/webhooks/{made['id']}", headers=auth).status, 204)
        self.assertEqual(request(port, "GET", f"/v1/webhooks/{made['id']}", headers=auth).status, 404)

    def test_no_subscription_writes_no_events(self):
        self.call("n1", "06 30 555 0001")
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)
        self.assertEqual(scalar("SELECT count(*) FROM webhook_events"), 0)

    def test_events_only_of_the_types_and_source_asked(self):
        add_webhook("tasks", self.crm.url(), "task.created")
        execute("INSERT INTO sources (name, auth_mode) VALUES ('other', 'none')")
        add_webhook("other-calls", self.crm.url(), "call.stored", "--source", "other")
        self.call("t1", "06 30 555 0002")
        rows = query("SELECT w.name, e.type FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id")
        self.assertEqual(rows, [("tasks", "task.created")])

    def test_rolled_back_change_writes_no_event(self):
        add_webhook("crm", self.crm.url(), "lead.created")
        conn = psycopg2.connect(DB)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO leads (phone, name) VALUES ('36305550099', 'x')")
            self.assertEqual(scalar("SELECT count(*) FROM webhook_events"), 0)  # not committed yet
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO leads (phone, name) VALUES ('36305550098', 'y')")
        conn.commit()
        conn.close()
        self.assertEqual(query("SELECT type FROM webhook_events"), [("lead.created",)])


class Delivery(WebhookCase):
    def test_signed_events_in_order_verified_by_the_reference_library(self):
        secret = add_webhook("crm", self.crm.url())
        self.start_fetcher()
        self.call("m1", "06 30 555 1001", "missed")
        wait_for(lambda: len(self.crm.delivered()) >= 4, what="four events")
        self.call("a1", "06 30 555 1001", "answered")
        wait_for(lambda: len(self.crm.delivered()) >= 6, what="six events")
        time.sleep(0.3)
        got = self.crm.delivered()
        self.assertEqual(self.types(got), ["lead.created", "call.stored", "call.missed", "task.created",
                                           "call.stored", "task.done"])
        self.assertTrue(all(v["ok"] for v in verify(got, secret)), verify(got, secret))
        # A wrong secret does not verify (the check is real).
        self.assertFalse(any(v["ok"] for v in verify(got[:1], "whsec_" + "A" * 43 + "=")))
        ids = [r["id"] for r in got]
        self.assertEqual(len(set(ids)), len(ids))
        self.assertTrue(all(re.fullmatch(r"msg_\d+", i) for i in ids))
        # data is the object the API returns.
        token = new_token()
        body = json.loads(got[1]["body"])
        self.assertRegex(body["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        api = request(self.fetcher.port, "GET", f"/v1/calls/{body['data']['id']}",
                      headers={"Authorization": f"Bearer {token}"}).json()
        self.assertEqual(body["data"]["id"], api["id"])
        self.assertEqual(body["data"]["caller_e164"], api["caller_e164"])
        self.assertEqual(set(body["data"]), set(api))
        lead = json.loads(got[0]["body"])["data"]
        self.assertEqual(lead["phone"], "36305551001")
        task = json.loads(got[3]["body"])["data"]
        self.assertEqual((task["kind"], task["status"]), ("missed_call", "open"))
        self.assertEqual(json.loads(got[5]["body"])["data"]["status"], "done")
        out = ringlog("webhook", "deliveries", "crm").stdout
        self.assertEqual(out.count("delivered"), 6, out)
        metrics = request(self.fetcher.port, "GET", "/metrics").body.decode()
        self.assertIn('ringlog_webhook_deliveries_total{outcome="delivered"} 6', metrics)
        self.assertRegex(metrics, r"ringlog_webhook_delivery_seconds_count 6")
        self.assertIn("ringlog_webhook_events_pending", metrics)

    def test_rotation_sends_both_signatures(self):
        old = add_webhook("crm", self.crm.url(), "lead.created")
        out = ringlog("webhook", "rotate-secret", "crm", "--overlap", "3600").stdout
        new = re.search(r"^(whsec_\S+)$", out, re.M).group(1)
        self.start_fetcher()
        self.call("r1", "06 30 555 1002")
        wait_for(lambda: self.crm.delivered(), what="a delivery")
        d = self.crm.delivered()
        self.assertEqual(len(d[0]["signature"].split(" ")), 2)
        self.assertTrue(verify(d, old)[0]["ok"])
        self.assertTrue(verify(d, new)[0]["ok"])
        ringlog("webhook", "rotate-secret", "crm", "--overlap", "0")
        self.call("r2", "06 30 555 1003")
        wait_for(lambda: len(self.crm.delivered()) >= 2, what="a second delivery")
        self.assertEqual(len(self.crm.delivered()[1]["signature"].split(" ")), 1)
        self.assertFalse(verify(self.crm.delivered()[1:], new)[0]["ok"])

    def test_500_hang_reset_are_retried_with_the_same_id(self):
        secret = add_webhook("crm", self.crm.url(), "lead.created")
        self.crm.plan = ["500", "hang", "reset", "503"]
        self.start_fetcher()
        self.call("f1", "06 30 555 1004")
        wait_for(lambda: self.crm.delivered(), timeout=40, what="delivery after failures")
        reqs = self.crm.all()
        self.assertEqual([r["answer"] for r in reqs], ["500", "hang", "reset", "503", "200"])
        self.assertEqual(len({r["id"] for r in reqs}), 1)
        self.assertEqual(len({r["body"] for r in reqs}), 1)  # the same bytes every time
        self.assertTrue(verify(reqs[-1:], secret)[0]["ok"])
        # The first retry came within seconds.
        self.assertLess(reqs[1]["at"] - reqs[0]["at"], 3)
        metrics = request(self.fetcher.port, "GET", "/metrics").body.decode()
        self.assertIn('ringlog_webhook_failures_total{status="500"} 1', metrics)
        self.assertIn('ringlog_webhook_failures_total{status="503"} 1', metrics)
        # The hang (timeout) and the reset have no status. (libcurl itself
        # tries a request again at once on a fresh connection when a reused
        # one was reset, so the reset and the 503 may be one attempt.)
        self.assertRegex(metrics, r'ringlog_webhook_failures_total\{status="0"\} [12]\n')
        self.assertIn(scalar("SELECT attempts FROM webhook_events"), (4, 5))

    def test_410_disables_the_subscription(self):
        add_webhook("crm", self.crm.url(), "lead.created")
        self.crm.default = "410"
        self.start_fetcher()
        self.call("g1", "06 30 555 1005")
        wait_for(lambda: scalar("SELECT state FROM webhooks") == "disabled", what="disabled")
        self.call("g2", "06 30 555 1006")  # a disabled subscription gets no events
        time.sleep(0.5)
        self.assertEqual(len(self.crm.all()), 1)
        self.assertEqual(scalar("SELECT count(*) FROM webhook_events"), 1)
        self.assertIn("disabled", ringlog("webhook", "show", "crm").stdout)
        wait_for(lambda: "webhook crm disabled" in self.fetcher.output(), what="log line")
        self.crm.default = "200"
        ringlog("webhook", "resume", "crm")
        ringlog("webhook", "replay", "--failed", "--since", "2000-01-01")
        wait_for(lambda: len(self.crm.delivered()) == 1, what="delivered after resume and replay")
        self.assertEqual(self.crm.delivered()[0]["id"], self.crm.all()[0]["id"])

    def test_failing_for_long_pauses_and_failed_events_are_kept_and_replayed(self):
        add_webhook("crm", self.crm.url(), "lead.created")
        self.crm.default = "500"
        self.start_fetcher("--webhook-pause-after", "2", "--webhook-retry-for", "3")
        self.call("p1", "06 30 555 1007")
        wait_for(lambda: scalar("SELECT state FROM webhooks") == "paused", timeout=30, what="paused")
        wait_for(lambda: "webhook crm paused" in self.fetcher.output(), what="pause log line")
        metrics = request(self.fetcher.port, "GET", "/metrics").body.decode()
        self.assertIn("ringlog_webhook_paused_total 1", metrics)
        ringlog("webhook", "resume", "crm")
        wait_for(lambda: scalar("SELECT state FROM webhook_events") == "failed", timeout=30, what="failed")
        out = ringlog("webhook", "deliveries", "crm", "--failed").stdout
        self.assertIn("lead.created", out)
        self.assertIn("500", out)
        first_id = self.crm.all()[0]["id"]
        self.crm.default = "200"
        ringlog("webhook", "resume", "crm")
        out = ringlog("webhook", "replay", "--failed", "--since", "2000-01-01T00:00:00Z").stdout
        self.assertIn("replaying 1 event", out)
        wait_for(lambda: self.crm.delivered(), what="replayed")
        self.assertEqual(self.crm.delivered()[0]["id"], first_id)
        # Replay by id, of a delivered event: sent again, same id.
        eid = scalar("SELECT id FROM webhook_events")
        ringlog("webhook", "replay", str(eid))
        wait_for(lambda: len(self.crm.delivered()) == 2, what="replayed by id")
        self.assertEqual(self.crm.delivered()[1]["id"], first_id)

    def test_per_lead_order_holds_across_retries(self):
        add_webhook("crm", self.crm.url())
        self.crm.plan = ["500", "500"]  # the lead's first event fails twice
        self.start_fetcher()
        self.call("o1", "06 30 555 1008", "missed")
        wait_for(lambda: len(self.crm.delivered()) >= 4, timeout=30, what="four events")
        self.assertEqual(self.types(self.crm.delivered()),
                         ["lead.created", "call.stored", "call.missed", "task.created"])


class Chaos(WebhookCase):
    def test_kill_9_mid_delivery_delivers_later_with_the_same_id(self):
        secret = add_webhook("crm", self.crm.url(), "lead.created")
        self.crm.plan = ["hang"]
        self.start_fetcher("--webhook-timeout", "30")
        self.call("k1", "06 30 555 1009")
        wait_for(lambda: self.crm.all(), what="a delivery in flight")
        self.fetcher.proc.kill()
        self.fetcher.proc.wait()
        self.fetcher.log.close()
        first = self.crm.all()[0]["id"]
        self.assertEqual(scalar("SELECT state FROM webhook_events"), "pending")
        # A new node takes the event over when the dead one's lease ends
        # (timeout + connect timeout + 5 s).
        self.fetcher = fetcherd(self.id().rsplit(".", 1)[-1] + "-g", *FAST,
                                "--webhook-timeout", "2")
        wait_for(lambda: self.crm.delivered(), timeout=60, what="delivered after kill -9")
        d = self.crm.delivered()
        self.assertEqual(d[0]["id"], first)
        self.assertTrue(verify(d, secret)[0]["ok"])
        self.assertEqual(scalar("SELECT state FROM webhook_events"), "delivered")

    def test_postgres_restart_loses_no_event(self):
        add_webhook("crm", self.crm.url(), "call.stored")
        self.start_fetcher()
        for i in range(20):
            self.call(f"pg{i}", f"06 30 556 {i:04d}", "answered")
        pg_crash()
        try:
            for i in range(20, 30):  # answered "spooled" by ingestd meanwhile
                self.call(f"pg{i}", f"06 30 556 {i:04d}", "answered")
            time.sleep(1)
        finally:
            pg_start()
        wait_for(lambda: self.push({"call_id": "probe", "direction": "in", "disposition": "answered",
                                    "started_at": "2025-06-16T09:20:05Z", "caller": "1"}).json().get("status")
                 in ("stored", "duplicate"), timeout=30, what="ingest back")
        for i in range(30, 40):
            self.call(f"pg{i}", f"06 30 556 {i:04d}", "answered")
        # Pushes answered "spooled" during the outage drain into the database.
        wait_for(lambda: scalar("SELECT count(*) FROM calls") == 41, timeout=60, what="spool drained")
        stored = sorted(x for (x,) in query("SELECT pbx_call_id FROM calls"))

        def delivered_calls():
            return sorted({json.loads(r["body"])["data"]["call_id"] for r in self.crm.delivered()})
        wait_for(lambda: delivered_calls() == stored, timeout=90, what="every event delivered")
        # A 2xx that came while PostgreSQL was away is sent again once its
        # lease ends (at least once): then every row is delivered.
        wait_for(lambda: scalar("SELECT count(*) FROM webhook_events WHERE state <> 'delivered'") == 0,
                 timeout=30, what="every row marked delivered")
        # Repeats, if any, carry the same id and body: one id per event.
        by_id = {}
        for r in self.crm.delivered():
            by_id.setdefault(r["id"], set()).add(r["body"])
        self.assertEqual(len(by_id), 41)
        self.assertTrue(all(len(b) == 1 for b in by_id.values()))
