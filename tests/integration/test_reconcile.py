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
from urllib.parse import parse_qs, urlparse

from harness import (BIN, DB, add_source, execute, ingestd, metric_value, promtool_check, query,
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
