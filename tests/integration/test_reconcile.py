"""Reconciliation (issue 15): `ringlog reconcile` pulls the PBX's own call
log (fake Voicenter hub/cdr and Ringostat calls/list servers here) and fills
in the calls whose pushes were lost, through the push path."""
import datetime
import json
import subprocess
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from harness import (BIN, DB, FIXTURES, WORK, add_source, execute, ingestd, metric_value, promtool_check, query,
                     request, reset_database, ringlog, row, scalar, wait_for)

PULL_KEY = "pull-key-0123456789"


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


DAY = int(datetime.datetime(2025, 6, 16, tzinfo=datetime.timezone.utc).timestamp())


class FakePbx:
    """A call log: Voicenter (POST JSON, GMT dates) or Ringostat (GET,
    Auth-key, wall-clock times in Europe/Kyiv), CAP records per answer."""

    def __init__(self, vendor, records, cap=10000):
        self.vendor, self.records, self.cap = vendor, records, cap
        self.requests, self.fail_next, self.delay = [], [], 0
        self.rate_limited_next = 0  # Voicenter: answers of ERROR_NUMBER 1 (its rate limit) first
        self.hold_from, self.release = None, threading.Event()  # requests past hold_from: no answer
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                fake.handle(self, json.loads(self.rfile.read(n)))

            def do_GET(self):
                fake.handle(self, None)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/" + (
            "hub/cdr/" if vendor == "voicenter" else "calls/list")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def handle(self, h, body):
        self.requests.append(body)
        if self.hold_from is not None and len(self.requests) > self.hold_from:
            self.release.wait(60)
            return None
        time.sleep(self.delay)
        if self.fail_next:
            status, headers = self.fail_next.pop(0)
            return h.answer(status, {"error": status}, headers)
        if self.vendor == "voicenter":
            if body.get("code") != PULL_KEY:
                return h.answer(200, {"ERROR_NUMBER": 2, "ERROR_DESCRIPTION": "auth"})
            if self.rate_limited_next:
                self.rate_limited_next -= 1
                return h.answer(200, {"ERROR_NUMBER": 1, "ERROR_DESCRIPTION": "Too many requests"})
            lo = datetime.datetime.fromisoformat(body["search"]["fromdate"] + "+00:00").timestamp()
            hi = datetime.datetime.fromisoformat(body["search"]["todate"] + "+00:00").timestamp()
            hits = [r for r in self.records if lo <= r["DateEpoch"] <= hi]
            return h.answer(200, {"ERROR_NUMBER": 0, "TOTAL_HITS": len(hits),
                                  "RETURN_HITS": min(len(hits), self.cap),
                                  "CDR_LIST": hits[:self.cap]})
        if h.headers.get("Auth-key") != PULL_KEY:
            return h.answer(401, {"error": "unauthorized"})
        q = {k: v[0] for k, v in parse_qs(urlparse(h.path).query).items()}
        kyiv = datetime.timezone(datetime.timedelta(hours=3))  # June: EEST
        lo = datetime.datetime.strptime(q["from"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=kyiv)
        hi = datetime.datetime.strptime(q["to"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=kyiv)
        hits = [r for r in self.records
                if lo <= datetime.datetime.strptime(r["calldate"], "%Y-%m-%d %H:%M:%S")
                .replace(tzinfo=kyiv) <= hi]
        return h.answer(200, hits[:self.cap])


def voicenter_record(n, at, status="ANSWER", caller="0528812345", cdr_type=1):
    return {"CallID": f"vc-{n}", "CallerNumber": caller, "TargetNumber": "0733750100",
            "Date": iso(at), "DateEpoch": at, "Duration": 60, "DialStatus": status,
            "CdrType": cdr_type, "Type": "Incoming Call", "DID": "0733750100",
            "TargetExtension": "201", "RepresentativeName": "Dana", "RecordURL": ""}


class ReconcileCase(unittest.TestCase):
    def setUp(self):
        reset_database()
        execute("TRUNCATE reconcile_state")
        add_source("vc", "push-secret-123456", "--vendor", "voicenter", "--time-zone",
                   "Asia/Jerusalem", "--country-code", "972", "--trunk-prefix", "0")
        self.fakes = []

    def tearDown(self):
        for f in self.fakes:
            f.close()

    def fake(self, vendor, records, source="vc", cap=10000, key=PULL_KEY):
        f = FakePbx(vendor, records, cap)
        self.fakes.append(f)
        ringlog("source", "update", source, "--pull-url", f.url, "--pull-secret-file", "-",
                input=key + "\n")
        return f

    def reconcile(self, *args, source="vc", check=True):
        return ringlog("reconcile", source, "--pace", "0", *args, check=check)

    def push_like_the_pbx(self, rec, **extra):
        """The CDR Notification for REC, stored as a push would be."""
        body = {"ivruniqueid": rec["CallID"], "caller": rec["CallerNumber"],
                "target": rec["TargetNumber"], "did": rec["DID"], "time": rec["DateEpoch"] + 3 * 3600,
                "duration": rec["Duration"], "status": rec["DialStatus"], "direction": "incoming",
                "targetextension": "201", **extra}
        out = query("SELECT outcome FROM ringlog_ingest_calls(%s::jsonb)", json.dumps([{
            "source_id": scalar("SELECT id FROM sources WHERE name = 'vc'"),
            "call_id": rec["CallID"], "direction": "in", "disposition": "answered",
            "caller": rec["CallerNumber"], "started_at": "2025-06-16 10:00:00+00",
            "time_zone": "UTC", "duration_s": 60, "recordings": [], "raw": body,
            "received_at": "2025-06-16 10:01:00+00", "transport": []}]))
        self.assertEqual(out[0][0], "stored")


class Reconcile(ReconcileCase):
    def test_a_day_of_lost_pushes_is_filled_and_what_was_pushed_is_kept(self):
        recs = [voicenter_record(i, DAY + 3600 * (i + 1)) for i in range(5)]
        recs[3] = voicenter_record(3, DAY + 4 * 3600, status="NOANSWER", caller="0547001122")
        # vc-0 was pushed with more than the log holds: it must stay as pushed.
        self.push_like_the_pbx(recs[0], representative_name="Dana Levi", aiData={"summary": "x"})
        before = row("SELECT raw, revision, updated_at FROM calls WHERE pbx_call_id = 'vc-0'")
        self.fake("voicenter", recs)
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        self.assertIn("vc: 5 seen, 1 already stored, 4 filled, 0 refused", p.stdout)
        self.assertEqual(row("SELECT raw, revision, updated_at FROM calls WHERE pbx_call_id = 'vc-0'"),
                         before)
        self.assertEqual(query("SELECT pbx_call_id, origin FROM calls ORDER BY pbx_call_id"),
                         [("vc-0", "push")] + [(f"vc-{i}", "reconcile") for i in range(1, 5)])
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'vc-2'")
        self.assertEqual((c["direction"], c["disposition"], c["caller_e164"], c["agent"]),
                         ("in", "answered", "972528812345", "201"))
        self.assertEqual(c["started_at"].timestamp(), DAY + 3 * 3600)  # GMT in the log
        # The lead rules apply: the missed call opened its task.
        self.assertEqual(scalar("SELECT count(*) FROM tasks t JOIN calls c ON c.id = t.call_id"
                                " WHERE c.pbx_call_id = 'vc-3' AND t.kind = 'missed_call'"), 1)
        # Again: nothing new.
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        self.assertIn("5 seen, 5 already stored, 0 filled", p.stdout)
        st = row("SELECT * FROM reconcile_state")
        self.assertEqual((st["filled"], st["seen"], st["errors"]), (4, 10, {}))
        self.assertIsNotNone(st["last_ok_at"])
        show = ringlog("source", "show", "vc").stdout
        self.assertRegex(show, r"filled by pulls\s+4")
        self.assertNotIn(PULL_KEY, show)

    def test_dry_run_stores_nothing(self):
        self.fake("voicenter", [voicenter_record(i, DAY + 60 * i) for i in range(3)])
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17", "--dry-run")
        self.assertIn("dry run: vc: 3 seen, 0 already stored, 3 would be filled", p.stdout)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM reconcile_state"), 0)

    def test_an_answer_that_may_be_cut_is_read_again_in_halves(self):
        recs = [voicenter_record(i, DAY + 600 * i) for i in range(9)]
        f = self.fake("voicenter", recs, cap=2)
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17", "--page-size", "2")
        self.assertIn("9 seen, 0 already stored, 9 filled", p.stdout)
        self.assertGreater(len(f.requests), 5)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 9)

    def test_the_window_edges(self):
        since, until = DAY + 3600, DAY + 7200
        recs = [voicenter_record(1, since - 1), voicenter_record(2, since),
                voicenter_record(3, until - 1), voicenter_record(4, until)]
        self.fake("voicenter", recs)
        p = self.reconcile("--since", "2025-06-16T01:00:00Z", "--until", "2025-06-16T02:00:00Z")
        self.assertIn("2 seen", p.stdout)
        self.assertEqual([r[0] for r in query("SELECT pbx_call_id FROM calls ORDER BY 1")],
                         ["vc-2", "vc-3"])

    def test_429_waits_as_retry_after_says(self):
        f = self.fake("voicenter", [voicenter_record(1, DAY + 60)])
        f.fail_next = [(429, [("Retry-After", "1")]), (503, [])]
        t0 = time.monotonic()
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        self.assertIn("1 filled", p.stdout)
        self.assertEqual(len(f.requests), 3)

    def test_voicenter_rate_limit_error_is_waited_out_with_backoff(self):
        f = self.fake("voicenter", [voicenter_record(1, DAY + 60)])
        f.rate_limited_next = 2  # Voicenter says "rate limit" in a 200 answer
        t0 = time.monotonic()
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        self.assertGreaterEqual(time.monotonic() - t0, 3.0)  # 1 s, then 2 s
        self.assertIn("1 filled", p.stdout)
        self.assertEqual(len(f.requests), 3)
        self.assertEqual(row("SELECT errors FROM reconcile_state")["errors"], {})

    def test_refused_credentials_are_an_auth_error_counted_by_kind(self):
        self.fake("voicenter", [voicenter_record(1, DAY + 60)], key="wrong-key")
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("(auth)", p.stderr)
        self.assertNotIn("wrong-key", p.stderr + p.stdout)
        self.assertEqual(scalar("SELECT errors FROM reconcile_state"), {"auth": 1})
        self.assertIsNone(scalar("SELECT last_ok_at FROM reconcile_state"))
        self.assertRegex(ringlog("source", "show", "vc").stdout, r'pull errors\s+\{"auth": 1\}')

    def test_an_unmappable_record_is_a_dead_letter(self):
        bad = voicenter_record(2, DAY + 120)
        del bad["CallID"]
        self.fake("voicenter", [voicenter_record(1, DAY + 60), bad])
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        self.assertIn("2 seen, 0 already stored, 1 filled, 1 refused", p.stdout)
        self.assertEqual(scalar("SELECT reason FROM dead_letters"), "missing_field")
        self.assertEqual(scalar("SELECT request_id FROM dead_letters"), "reconcile")

    def test_one_pull_of_a_source_at_a_time(self):
        f = self.fake("voicenter", [voicenter_record(1, DAY + 60)])
        f.delay = 1.5
        cmd = [f"{BIN}/ringlog", "--database", DB, "reconcile", "vc", "--pace", "0",
               "--since", "2025-06-16", "--until", "2025-06-17"]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        outs = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
        self.assertEqual(sorted(o[2] for o in outs), [0, 1], outs)
        self.assertIn("being reconciled elsewhere", "".join(o[1] for o in outs))
        self.assertEqual(len(f.requests), 1)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 1)

    def test_ringostat_with_its_auth_key_and_wall_clock_window(self):
        add_source("rs", "push-secret-654321", "--vendor", "ringostat", "--time-zone",
                   "Europe/Kyiv", "--country-code", "380", "--trunk-prefix", "0")
        recs = [{"uniqueid": "rs-1", "calldate": "2025-06-16 02:30:00", "caller": "0671234567",
                 "dst": "0443334455", "disposition": "NO ANSWER", "duration": 20, "billsec": 0,
                 "call_type": "in"},
                {"uniqueid": "rs-2", "calldate": "2025-06-16 04:00:00", "caller": "0671234568",
                 "dst": "0443334455", "disposition": "ANSWERED", "duration": 80, "billsec": 60,
                 "call_type": "in", "employee_number": "12"}]
        f = self.fake("ringostat", recs, source="rs")
        # 23:00-01:00 UTC is 02:00-04:00 in Kyiv: rs-1 (02:30) in, rs-2 (04:00) at the edge, out.
        p = self.reconcile("--since", "2025-06-15T23:00:00Z", "--until", "2025-06-16T01:00:00Z",
                           source="rs")
        self.assertIn("rs: 1 seen, 0 already stored, 1 filled", p.stdout)
        self.assertEqual(scalar("SELECT started_at FROM calls WHERE pbx_call_id = 'rs-1'").timestamp(),
                         DAY - 30 * 60)
        self.assertEqual(len(f.requests), 1)

    def test_due_pulls_each_source_once_per_period_over_its_window(self):
        now = int(time.time())
        f = self.fake("voicenter", [voicenter_record(1, now - 3600), voicenter_record(2, now - 50 * 3600)])
        ringlog("source", "update", "vc", "--reconcile", "15m", "--reconcile-window", "48h")
        self.assertRegex(ringlog("source", "show", "vc").stdout,
                         r"reconcile\s+every 00:15:00, window 48:00:00")
        p = ringlog("reconcile", "--due")
        self.assertIn("vc: 1 seen, 0 already stored, 1 filled", p.stdout)  # 50 h ago: outside
        asked = len(f.requests)
        self.assertEqual(ringlog("reconcile", "--due").stdout, "")  # not due again yet
        self.assertEqual(len(f.requests), asked)
        execute("UPDATE reconcile_state SET last_run_at = now() - interval '16 minutes'")
        self.assertIn("1 already stored", ringlog("reconcile", "--due").stdout)


class ReconcileSignal(ReconcileCase):
    """What operators alert on (issue 15, part 4): ringlog-ingestd's /metrics
    says, per source, the calls pulls filled, the last good pull and the
    failed pulls by kind, from the database (the pulls run from the CLI);
    `ringlog source show` says the same."""

    def scrape(self):
        """/metrics of an ingestd started for it: what it shows can only come
        from the database, as after a restart."""
        d = ingestd("ingestd-reconcile")
        try:
            r = request(d.port, "GET", "/metrics")
        finally:
            self.assertEqual(d.stop(), 0, d.output())
        self.assertEqual(r.status, 200)
        text = r.body.decode()
        status, said = promtool_check(text)
        self.assertEqual(status, 0, said)
        return text

    def metric(self, text, name, source="vc", **labels):
        return metric_value(text, name + '{source="' + source + '"' +
                            "".join(f',{k}="{v}"' for k, v in labels.items()) + "}")

    def filled(self, text, source="vc"):
        return self.metric(text, "ringlog_reconcile_filled_calls_total", source)

    def last_ok(self, text, source="vc"):
        return self.metric(text, "ringlog_reconcile_last_success_timestamp_seconds", source)

    def errors(self, text, kind):
        return self.metric(text, "ringlog_reconcile_errors_total", kind=kind)

    def show(self, source="vc"):
        """`ringlog source show SOURCE` as {label: value}."""
        out = ringlog("source", "show", source).stdout
        return {line[:21].strip(): line[22:] for line in out.splitlines()}

    def same_time(self, text, epoch):
        """True when TEXT (as `source show` prints a time) is the time EPOCH."""
        return scalar("SELECT %s::timestamptz = to_timestamp(%s)", text, epoch)

    def test_filled_calls_per_source_and_source_show_says_the_same(self):
        add_source("rs", "push-secret-654321", "--vendor", "ringostat", "--time-zone", "Europe/Kyiv")
        add_source("quiet", "push-secret-000000")
        ringlog("source", "update", "rs", "--reconcile", "15m")  # set, never pulled yet
        recs = [voicenter_record(i, DAY + 3600 * (i + 1)) for i in range(4)]
        self.push_like_the_pbx(recs[0])
        self.fake("voicenter", recs)
        before = time.time()
        self.assertIn("3 filled", self.reconcile("--since", "2025-06-16", "--until", "2025-06-17").stdout)
        text = self.scrape()
        self.assertEqual(self.filled(text), 3)
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE origin = 'reconcile'"), 3)
        self.assertGreaterEqual(self.last_ok(text), int(before))
        self.assertLessEqual(self.last_ok(text), time.time())
        for kind in ("auth", "rate_limited", "timeout", "http", "bad_answer", "database"):
            self.assertEqual(self.errors(text, kind), 0, kind)  # every kind from zero
        self.assertEqual(self.filled(text, "rs"), 0)
        self.assertEqual(self.last_ok(text, "rs"), 0)  # never
        self.assertNotIn('source="quiet"', text)  # neither set to be pulled nor pulled
        for family, kind in (("ringlog_reconcile_filled_calls_total", "counter"),
                             ("ringlog_reconcile_errors_total", "counter"),
                             ("ringlog_reconcile_last_success_timestamp_seconds", "gauge")):
            self.assertRegex(text, f"(?m)^# TYPE {family} {kind}$")
        show = self.show()
        self.assertEqual(show["filled by pulls"], "3")
        self.assertTrue(self.same_time(show["last good pull"], self.last_ok(text)), show)
        self.assertEqual(show["pull errors"], "{}")
        self.assertEqual((self.show("rs")["filled by pulls"], self.show("rs")["last good pull"]),
                         ("0", "never"))

    def test_failed_pulls_count_by_kind_and_leave_the_last_good_pull(self):
        f = self.fake("voicenter", [voicenter_record(1, DAY + 60)])
        self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        good = self.last_ok(self.scrape())
        self.assertGreater(good, 0)

        f.fail_next = [(401, [])]
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17", check=False)
        self.assertIn("(auth)", p.stderr)
        f.fail_next = [(429, [("Retry-After", "0")])] * 5  # every try: the retries run out
        p = self.reconcile("--since", "2025-06-16", "--until", "2025-06-17", check=False)
        self.assertIn("(rate_limited)", p.stderr)
        text = self.scrape()
        self.assertEqual(self.errors(text, "auth"), 1)
        self.assertEqual(self.errors(text, "rate_limited"), 1)
        for kind in ("timeout", "http", "bad_answer", "database"):
            self.assertEqual(self.errors(text, kind), 0, kind)
        self.assertEqual(self.last_ok(text), good)
        self.assertEqual(self.filled(text), 1)
        show = self.show()
        self.assertRegex(show["pull errors"], r'^\{"auth": 1, "rate_limited": 1\} \(last: gave up after 5 tries')
        self.assertTrue(self.same_time(show["last good pull"], good), show)

        # A 429 the retries get past is no error; the good pull moves the time.
        f.fail_next = [(429, [("Retry-After", "0")])] * 2
        f.records.append(voicenter_record(2, DAY + 120))
        self.reconcile("--since", "2025-06-16", "--until", "2025-06-17")
        text = self.scrape()
        self.assertGreater(self.last_ok(text), good)
        self.assertEqual(self.errors(text, "rate_limited"), 1)
        self.assertEqual(self.filled(text), 2)
        self.assertTrue(self.same_time(self.show()["last good pull"], self.last_ok(text)))

    def test_calls_a_pull_stored_count_even_when_it_dies_before_its_end(self):
        f = self.fake("voicenter", [voicenter_record(1, DAY + 60), voicenter_record(2, DAY + 120),
                                    voicenter_record(3, DAY + 86400 + 60)])
        f.hold_from = 1  # the second day's request never answers
        p = subprocess.Popen([f"{BIN}/ringlog", "--database", DB, "reconcile", "vc", "--pace", "0",
                              "--since", "2025-06-16", "--until", "2025-06-18"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: len(f.requests) == 2, what="the second day's request")
        finally:
            p.kill()
            p.communicate()
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE origin = 'reconcile'"), 2)
        text = self.scrape()
        self.assertEqual(self.filled(text), 2)
        self.assertEqual(self.last_ok(text), 0)  # it never read its whole window
        self.assertEqual(self.show()["filled by pulls"], "2")


# ---- a PBX described by a custom mapping's "pull" (VIPeX style) ----------------

VIPEX_MAPPING = f"{FIXTURES}/custom/vipex-pull-mapping.json"
BUDAPEST = datetime.timezone(datetime.timedelta(hours=2))  # June: CEST


def vipex_push(n, at, status="fogadott", caller="06 30 123 4567"):
    """The push VIPeX sends for a call at AT (epoch): wall-clock times of Budapest."""
    start = datetime.datetime.fromtimestamp(at, BUDAPEST).strftime("%Y-%m-%d %H:%M:%S")
    return {"call": {"id": f"vpx-{n}", "direction": "bejövő", "status": status,
                     "caller": {"number": caller}, "called": {"number": "06 1 456 7890"},
                     "extension": {"number": "201", "user": "Tóth Gábor"}, "start": start,
                     "duration": "60", "billsec": "50" if status == "fogadott" else "0"}}


class FakeVipex:
    """A VIPeX-style call log: GET /api/v1/calls with `Authorization: Bearer
    KEY`, the window in FROM_FORMAT ("epoch", "iso" or a Budapest wall-clock
    pattern), answers of at most per_page records as
    {"data": {"calls": [{"cdr": PUSH, "logged_at": EPOCH}]}, "meta":
    {"next_cursor"}, "links": {"next"}}: pages by number (`page`), by
    cursor (`cursor`) or by a next URL (`offset`, on next_base)."""

    def __init__(self, records, time_format="epoch"):
        self.records = sorted(records, key=lambda r: r["logged_at"])
        self.time_format = time_format
        self.requests, self.fail_next = [], []
        self.next_base = None  # where links.next points (None: here)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                status, body, headers = fake.handle(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.url = self.base + "/api/v1/calls"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def when(self, text):
        if self.time_format == "epoch":
            return int(text)
        if self.time_format == "iso":
            return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        return datetime.datetime.strptime(text, self.time_format).replace(tzinfo=BUDAPEST).timestamp()

    def handle(self, h):
        q = {k: v[0] for k, v in parse_qs(urlparse(h.path).query).items()}
        self.requests.append({"path": h.path, "query": q, "auth": h.headers.get("Authorization")})
        if self.fail_next:
            status, headers = self.fail_next.pop(0)
            return status, {"error": status}, headers
        if h.headers.get("Authorization") != f"Bearer {PULL_KEY}" and q.get("api_key") != PULL_KEY:
            return 401, {"error": "invalid token"}, []
        lo, hi = self.when(q["from"]), self.when(q["to"])
        hits = [r for r in self.records if lo <= r["logged_at"] <= hi]
        per = int(q.get("per_page", 100))
        if "page" in q:
            start = (int(q["page"]) - 1) * per
        else:
            start = int(q.get("cursor") or q.get("offset") or 0)
        more = start + per < len(hits)
        nxt = None
        if more:
            nxt = (self.next_base or self.base) + "/api/v1/calls?" + urlencode(
                {"from": q["from"], "to": q["to"], "offset": start + per, "per_page": per})
        return 200, {"data": {"calls": hits[start:start + per]},
                     "meta": {"next_cursor": str(start + per) if more else None},
                     "links": {"next": nxt}}, []


def vipex_record(n, at, **kw):
    return {"cdr": vipex_push(n, at, **kw), "logged_at": at}


class ReconcileCustom(ReconcileCase):
    """A PBX without a built-in profile: its custom mapping describes its
    call-log API ("pull"), and each record is mapped by the same mapping as
    its pushes."""

    def setUp(self):
        super().setUp()
        self.mapping = json.load(open(VIPEX_MAPPING, encoding="utf-8"))
        add_source("vipex", "push-secret-vipex1", "--vendor", "custom", "--mapping-file", VIPEX_MAPPING,
                   "--time-zone", "Europe/Budapest", "--country-code", "36", "--trunk-prefix", "06",
                   "--default-responsible", "boss")

    def vipex(self, records, pull=None, time_format="epoch", key=PULL_KEY):
        """A fake VIPeX API, the source's mapping with PULL changes, its URL and key."""
        f = FakeVipex(records, time_format)
        self.fakes.append(f)
        if pull is not None:
            self.set_pull(pull)
        ringlog("source", "update", "vipex", "--pull-url", f.url, "--pull-secret-file", "-",
                input=key + "\n")
        return f

    def set_pull(self, changes, check=True):
        m = json.loads(json.dumps(self.mapping))
        m["pull"].update(changes)
        for k in [k for k, v in changes.items() if v is None]:
            del m["pull"][k]
        path = f"{WORK}/vipex-mapping-{len(self.fakes)}.json"
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(m, fh, ensure_ascii=False)
        return ringlog("source", "update", "vipex", "--mapping-file", path, check=check)

    def pull(self, *args, check=True):
        return self.reconcile("--since", "2025-06-16", "--until", "2025-06-17", *args,
                              source="vipex", check=check)

    def push(self, rec):
        d = ingestd("ingestd-vipex")
        try:
            r = request(d.port, "POST", "/v1/cdr/vipex", rec["cdr"], headers={"X-Api-Key": "push-secret-vipex1"})
        finally:
            self.assertEqual(d.stop(), 0, d.output())
        self.assertEqual(r.status, 200, r.body)

    def test_page_numbers_across_pages_fill_what_the_push_lost(self):
        recs = [vipex_record(i, DAY + 3600 * (i + 1)) for i in range(5)]
        recs[3] = vipex_record(3, DAY + 4 * 3600, status="nem fogadott", caller="06 20 555 1234")
        self.push(recs[0])
        before = row("SELECT raw, revision, updated_at, origin FROM calls WHERE pbx_call_id = 'vpx-0'")
        f = self.vipex(recs)
        p = self.pull("--page-size", "2")
        self.assertIn("vipex: 5 seen, 1 already stored, 4 filled, 0 refused (3 requests)", p.stdout)
        self.assertEqual([(r["query"]["page"], r["query"]["per_page"]) for r in f.requests],
                         [("1", "2"), ("2", "2"), ("3", "2")])
        self.assertEqual({r["query"]["from"] for r in f.requests}, {str(DAY)})
        self.assertEqual({r["query"]["to"] for r in f.requests}, {str(DAY + 86399)})
        self.assertEqual({r["auth"] for r in f.requests}, {f"Bearer {PULL_KEY}"})
        # The pushed call is a duplicate: nothing of it changed.
        self.assertEqual(row("SELECT raw, revision, updated_at, origin FROM calls WHERE pbx_call_id = 'vpx-0'"),
                         before)
        self.assertEqual(before["origin"], "push")
        self.assertEqual(query("SELECT pbx_call_id, origin FROM calls ORDER BY pbx_call_id"),
                         [("vpx-0", "push")] + [(f"vpx-{i}", "reconcile") for i in range(1, 5)])
        # Mapped by the source's mapping, as a push is: its words, its zone, its numbers.
        c = row("SELECT * FROM calls WHERE pbx_call_id = 'vpx-2'")
        self.assertEqual((c["direction"], c["disposition"], c["caller_e164"], c["agent"], c["agent_name"]),
                         ("in", "answered", "36301234567", "201", "Tóth Gábor"))
        self.assertEqual(c["started_at"].timestamp(), DAY + 3 * 3600)
        self.assertEqual(c["raw"], recs[2]["cdr"])
        # The lead rules apply: the missed call made its lead and its task.
        self.assertEqual(scalar("SELECT l.responsible FROM leads l JOIN calls c ON c.lead_id = l.id"
                                " WHERE c.pbx_call_id = 'vpx-3'"), "boss")
        self.assertEqual(scalar("SELECT count(*) FROM tasks t JOIN calls c ON c.id = t.call_id"
                                " WHERE c.pbx_call_id = 'vpx-3' AND t.kind = 'missed_call'"), 1)
        # Again: nothing new; the secret is shown nowhere.
        self.assertIn("5 seen, 5 already stored, 0 filled", self.pull("--page-size", "2").stdout)
        show = ringlog("source", "show", "vipex").stdout
        self.assertRegex(show, r"filled by pulls\s+4")
        self.assertRegex(show, r"pull secret\s+set")
        self.assertNotIn(PULL_KEY, show)

    def test_an_empty_page_ends_a_window_without_page_size(self):
        f = self.vipex([vipex_record(i, DAY + 60 * i) for i in range(3)],
                       {"page_size": None, "url": "{pull_url}?from={from}&to={to}&page={page}"})
        p = self.pull()
        self.assertIn("3 seen, 0 already stored, 3 filled", p.stdout)
        # per_page stays the API's (100): page 1 has all three, page 2 is empty.
        self.assertEqual([r["query"]["page"] for r in f.requests], ["1", "2"])

    def test_a_cursor_and_wall_clock_times_of_the_source(self):
        f = self.vipex([vipex_record(i, DAY + 600 * i) for i in range(5)], {
            "url": "{pull_url}?from={from}&to={to}&cursor={cursor}&per_page={page_size}",
            "time_format": "%Y-%m-%d %H:%M:%S", "next": {"cursor": "meta.next_cursor"}},
            time_format="%Y-%m-%d %H:%M:%S")
        p = self.pull("--page-size", "2")
        self.assertIn("5 seen, 0 already stored, 5 filled", p.stdout)
        self.assertEqual([r["query"].get("cursor", "") for r in f.requests], ["", "2", "4"])
        # 00:00 UTC is 02:00 in Budapest; the window's last second is 01:59:59 next day.
        self.assertEqual((f.requests[0]["query"]["from"], f.requests[0]["query"]["to"]),
                         ("2025-06-16 02:00:00", "2025-06-17 01:59:59"))
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE origin = 'reconcile'"), 5)

    def test_next_urls_are_followed_on_the_same_host_only(self):
        recs = [vipex_record(i, DAY + 600 * i) for i in range(5)]
        pull = {"url": "{pull_url}?from={from}&to={to}&per_page={page_size}", "time_format": "iso",
                "next": {"url": "links.next"}}
        f = self.vipex(recs, pull, time_format="iso")
        self.assertIn("5 seen, 0 already stored, 5 filled, 0 refused (3 requests)", self.pull("--page-size", "2").stdout)
        self.assertEqual([r["query"].get("offset") for r in f.requests], [None, "2", "4"])
        self.assertEqual({r["auth"] for r in f.requests}, {f"Bearer {PULL_KEY}"})
        self.assertEqual(f.requests[0]["query"]["from"], "2025-06-16T00:00:00Z")

        # A next URL on another host (another fake: it must never be asked).
        elsewhere = FakeVipex(recs, "iso")
        self.fakes.append(elsewhere)
        f.next_base = elsewhere.base.replace("127.0.0.1", "localhost")
        f.requests.clear()
        p = self.pull("--page-size", "2", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not followed with the pull secret (bad_answer)", p.stderr)
        self.assertIn("2 seen, 2 already stored, 0 filled", p.stdout)  # the first page is read
        self.assertEqual((len(f.requests), elsewhere.requests), (1, []))
        self.assertEqual(scalar("SELECT errors FROM reconcile_state"), {"bad_answer": 1})

    def test_the_key_in_a_query_parameter(self):
        f = self.vipex([vipex_record(1, DAY + 60)], {"auth": {"query": "api_key"}})
        p = self.pull()
        self.assertIn("1 seen, 0 already stored, 1 filled", p.stdout)
        self.assertEqual(f.requests[0]["query"]["api_key"], PULL_KEY)
        self.assertIsNone(f.requests[0]["auth"])
        self.assertNotIn(PULL_KEY, p.stdout + p.stderr)

    def test_refused_credentials_are_an_auth_error(self):
        self.vipex([vipex_record(1, DAY + 60)], key="not-the-key")
        p = self.pull(check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("the PBX refused the pull credentials (HTTP 401) (auth)", p.stderr)
        self.assertNotIn("not-the-key", p.stdout + p.stderr)
        self.assertEqual(scalar("SELECT errors FROM reconcile_state"), {"auth": 1})
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)

    def test_429_waits_as_retry_after_says(self):
        f = self.vipex([vipex_record(i, DAY + 60 * i) for i in range(3)])
        f.fail_next = [(429, [("Retry-After", "1")])]
        t0 = time.monotonic()
        p = self.pull("--page-size", "2")
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        self.assertIn("3 seen, 0 already stored, 3 filled, 0 refused (3 requests)", p.stdout)
        self.assertEqual([r["query"]["page"] for r in f.requests], ["1", "1", "2"])
        self.assertEqual(row("SELECT errors FROM reconcile_state")["errors"], {})

    def test_the_pulls_pace(self):
        f = self.vipex([vipex_record(i, DAY + 60 * i) for i in range(3)], {"pace_ms": 700})
        t0 = time.monotonic()
        ringlog("reconcile", "vipex", "--since", "2025-06-16", "--until", "2025-06-17", "--page-size", "1")
        self.assertEqual(len(f.requests), 4)  # 1, 1, 1, then an empty page
        self.assertGreaterEqual(time.monotonic() - t0, 3 * 0.7)

    def test_a_record_the_mapping_cannot_read_is_a_dead_letter(self):
        bad = vipex_record(2, DAY + 120)
        del bad["cdr"]["call"]["id"]
        self.vipex([vipex_record(1, DAY + 60), bad])
        p = self.pull()
        self.assertIn("2 seen, 0 already stored, 1 filled, 1 refused", p.stdout)
        self.assertEqual(scalar("SELECT reason FROM dead_letters"), "missing_field")

    def test_max_pages_bounds_a_window(self):
        self.vipex([vipex_record(i, DAY + 60 * i) for i in range(5)], {"max_pages": 2})
        p = self.pull("--page-size", "2", check=False)
        self.assertIn("took more than 2 pages", p.stderr)
        self.assertIn("(bad_answer)", p.stderr)

    def test_a_mapping_without_pull_says_so(self):
        m = dict(self.mapping)
        del m["pull"]
        path = f"{WORK}/vipex-no-pull.json"
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(m, fh)
        ringlog("source", "update", "vipex", "--mapping-file", path)
        p = self.pull(check=False)
        self.assertIn("neither its vendor nor its mapping describes a call log to pull", p.stderr)

    def test_mistakes_in_pull_are_refused_at_source_update(self):
        before = scalar("SELECT mapping FROM sources WHERE name = 'vipex'")
        for changes, said in [
            ({"uri": "x"}, 'pull: unknown key "uri"'),
            ({"records": None}, "pull.records: the path of the list of records in the answer is missing"),
            ({"records": "data..calls"}, 'pull.records: "data..calls" is not a path'),
            ({"url": "{pull_url}?since={from}&page={page}"}, "pull.url: the request must hold {from} and {to}"),
            ({"page_size": None}, "pull.page_size: {page_size} needs a page_size"),
            ({"url": "{pull_url}?from={from}&to={to}&p={pg}"}, "pull.url: {pg} is not a placeholder here"),
            ({"url": "ftp://pbx/{from}/{to}"}, "pull.url: must begin with {pull_url}"),
            ({"next": {"pages": {}}}, 'pull.next: unknown key "pages"'),
            ({"next": {"cursor": "meta.next"}}, "pull.next: a cursor needs {cursor}"),
            ({"next": {"page": {"first": 1}, "url": "links.next"}}, "pull.next: one of"),
            ({"next": None}, "pull.url: {page} needs \"next\""),
            ({"auth": {"header": "Authorization", "value": "Bearer 0123"}}, "pull.auth.value: must hold {secret}"),
            ({"auth": None}, "pull.auth: say how the pull secret is sent"),
            ({"time_format": "%Y-%m-%d %I"}, "pull.time_format: %I is not one of"),
            ({"page_size": 0}, "pull.page_size: a whole number from 1 to 100000"),
            ({"method": "PUT"}, 'pull.method: "GET" (the default) or "POST"'),
            ({"body": {"from": "{from}"}}, 'pull.body: a JSON object or array, with "method": "POST"'),
        ]:
            p = self.set_pull(changes, check=False)
            self.assertEqual(p.returncode, 1, changes)
            self.assertIn("the mapping does not fit: " + said, p.stderr, changes)
        self.assertEqual(scalar("SELECT mapping FROM sources WHERE name = 'vipex'"), before)
        # And one that is right: a POST with the window in its JSON body.
        self.set_pull({"method": "POST", "url": "{pull_url}",
                       "body": {"range": {"from": "{from}", "to": "{to}"}, "page": "{page}"}})

    def test_a_post_with_the_window_in_a_json_body(self):
        seen = []

        class Api(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen.append((body, self.headers.get("Content-Type")))
                calls = [vipex_record(1, DAY + 60)] if body["page"] == 0 else []
                data = json.dumps({"result": calls}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            self.set_pull({"method": "POST", "url": f"http://127.0.0.1:{server.server_port}/log",
                           "body": {"key": "{secret}", "range": ["{from}", "{to}"], "page": "{page}"},
                           "auth": None, "records": "result", "next": {"page": {"first": 0}},
                           "page_size": None})
            ringlog("source", "update", "vipex", "--pull-secret-file", "-", input="k\"ey\n")
            p = self.pull()
        finally:
            server.shutdown()
            server.server_close()
        self.assertIn("1 seen, 0 already stored, 1 filled", p.stdout)
        self.assertEqual(seen[0], ({"key": 'k"ey', "range": [DAY, DAY + 86399], "page": 0},
                                   "application/json"))
        self.assertEqual(len(seen), 2)


class ReconcileMappedVendor(ReconcileCase):
    def test_a_ringostat_source_with_renamed_keys_is_pulled_with_ringostats_api(self):
        add_source("rs", "push-secret-654321", "--vendor", "ringostat", "--time-zone", "Europe/Kyiv",
                   "--mapping-file", f"{FIXTURES}/custom/ringostat-renamed-mapping.json")
        recs = [{"uniqueid": "rs-1", "calldate": "2025-06-16 02:30:00", "caller": "0671234567",
                 "dst": "0443334455", "disposition": "ANSWERED", "duration": 20, "billsec": 10,
                 "call_type": "in"}]
        self.fake("ringostat", recs, source="rs")
        p = self.reconcile("--since", "2025-06-15T23:00:00Z", "--until", "2025-06-16T01:00:00Z",
                           source="rs")
        self.assertIn("rs: 1 seen, 0 already stored, 1 filled", p.stdout)
