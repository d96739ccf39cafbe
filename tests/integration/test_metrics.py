"""/metrics as operators expect it: pushes per source (configured sources
only), ringlog_build_info, process metrics, dead letters pending and
recordings by state, requests by `code`, event streams kept out of the
request-duration histogram; both daemons' output passes
`promtool check metrics`."""
import http.client
import re
import time

from harness import (IngestCase, add_source, execute, fetcherd, new_token, promtool_check, request,
                     scalar, wait_for)
from harness import metric_value as value


class Metrics(IngestCase):
    def metrics(self, port):
        r = request(port, "GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        return r.body.decode()

    def promtool(self, text):
        status, said = promtool_check(text)
        self.assertEqual(status, 0, said)

    def test_ingest(self):
        add_source("other", "other-push-secret")
        ok = {"call_id": "m-1", "direction": "in", "started_at": "2025-06-16T09:00:00Z", "billsec": 5}
        self.assertEqual(self.push(ok).status, 200)
        self.assertEqual(self.push(ok).status, 200)  # duplicate
        self.assertEqual(self.push(b"{bad", headers={"Content-Type": "application/json"}).status, 400)
        r = request(self.port, "POST", "/v1/cdr/other", ok, {"X-Api-Key": "wrong"})
        self.assertEqual(r.status, 401)
        for name in ("nobody", "x\"y"):
            self.assertEqual(request(self.port, "POST", f"/v1/cdr/{name}", ok).status, 404)
        text = self.metrics(self.port)
        self.promtool(text)
        self.assertEqual(value(text, 'ringlog_source_pushes_total{source="acme",outcome="stored"}'), 1)
        self.assertEqual(value(text, 'ringlog_source_pushes_total{source="acme",outcome="duplicate"}'), 1)
        self.assertEqual(value(text, 'ringlog_source_pushes_total{source="acme",outcome="rejected"}'), 1)
        self.assertEqual(value(text, 'ringlog_source_pushes_total{source="other",outcome="unauthorized"}'), 1)
        self.assertNotIn('source="nobody"', text)  # a name in a URL makes no series
        self.assertEqual(value(text, 'ringlog_pushes_total{outcome="unknown_source"}'), 2)
        self.assertEqual(value(text, "ringlog_dead_letters_pending"), 1)
        self.assertRegex(text, r'(?m)^ringlog_build_info\{program="ringlog-ingestd",version="[^"]+"\} 1$')
        self.assertIsNotNone(value(text, "process_cpu_seconds_total"))
        for series in ("process_resident_memory_bytes", "process_open_fds",
                       "process_max_fds", "process_start_time_seconds"):
            self.assertGreater(value(text, series) or 0, 0, series)
        self.assertGreater(value(text, "process_resident_memory_bytes"), 1 << 20)
        self.assertEqual(value(text, 'ringlog_http_requests_total{code="401"}'), 1)
        self.assertEqual(value(text, 'ringlog_http_requests_total{code="404"}'), 2)
        self.assertNotIn("class=", text)

    def test_fetcher_recordings_and_streams(self):
        fetcher = fetcherd("fetcher-metrics")
        try:
            call = scalar("INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)"
                          " SELECT id, 'r-1', 'in', 'answered', now(), '{}' FROM sources RETURNING id")
            execute("INSERT INTO recordings (call_id, position, state, remote_ref) VALUES"
                    " (%s, 0, 'remote', 'a'), (%s, 1, 'failed', 'b')", call, call)
            auth = {"Authorization": "Bearer " + new_token("metrics")}
            token = request(fetcher.port, "POST", "/v1/ui/sessions", {"user": "manager"}, auth).json()["token"]
            conn = http.client.HTTPConnection("127.0.0.1", fetcher.port, timeout=15)
            conn.request("GET", "/v1/calls/live/stream?token=" + token)
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            r.readline()
            time.sleep(1.2)
            conn.close()
            # the stream ended (counted with its code, 200: token, session,
            # stream), but its duration is not a request's latency
            wait_for(lambda: "outcome=stream" in fetcher.output(), what="the stream to end")
            text = self.metrics(fetcher.port)
            answered = sum(float(n) for n in re.findall(r'(?m)^ringlog_http_requests_total\{code="[^"]+"\} (\d+)$', text))
            self.assertEqual(value(text, "ringlog_http_request_duration_seconds_count"), answered - 1)
            self.assertEqual(value(text, 'ringlog_http_request_duration_seconds_bucket{le="+Inf"}'),
                             value(text, "ringlog_http_request_duration_seconds_count"))
            self.promtool(text)
            self.assertEqual(value(text, 'ringlog_recordings{state="remote"}'), 1)
            self.assertEqual(value(text, 'ringlog_recordings{state="failed"}'), 1)
            self.assertEqual(value(text, 'ringlog_recordings{state="stored"}'), 0)
            self.assertRegex(text, r'(?m)^ringlog_build_info\{program="ringlog-fetcherd",version="[^"]+"\} 1$')
            self.assertGreater(value(text, "process_open_fds"), 0)
        finally:
            self.assertEqual(fetcher.stop(), 0, fetcher.output())
