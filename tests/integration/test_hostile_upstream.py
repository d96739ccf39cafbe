"""Hostile review, issue 19: PBX credentials never reach API users (item
3), fetch templates do not trust {ref} (item 9)."""
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import (add_source, fetcherd, new_token, request, reset_database, ringlog, row,
                     scalar)
from recordings import call_with_recording, secret_file

SECRET = "Pbx-Pa55-zq81"


class EchoPBX:
    """A PBX that quotes the whole request (path, query, credentials) in
    its error pages, as some do."""

    def __init__(self):
        self.requests = []
        pbx = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                pbx.requests.append((self.path, self.headers.get("Authorization")))
                path = urllib.parse.urlsplit(self.path).path
                status = 200 if path.startswith("/ok") or path.startswith("/api/") else 404
                body = f"<html><b>Error</b> for http://crm:{SECRET}@pbx{self.path} (auth" \
                       f" {self.headers.get('Authorization')})</html>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Leaks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.pbx = EchoPBX()
        add_source("pathkey", "push-1", "--fetch-url-template", cls.pbx.base() + "/rec/{secret}/{ref}",
                   "--fetch-auth", "query", "--fetch-user", "crm", "--fetch-plain-http", "yes",
                   "--fetch-secret-file", secret_file(SECRET))
        add_source("querykey", "push-2", "--fetch-url-template", cls.pbx.base() + "/ok?id={ref}",
                   "--fetch-auth", "query", "--fetch-user", "crm", "--fetch-plain-http", "yes",
                   "--fetch-secret-file", secret_file(SECRET))
        add_source("c2c", "push-3", "--click2call-style", "url_template", "--click2call-user", "crm",
                   "--click2call-url", cls.pbx.base() + "/api/call?user={user}&pass={password}&ext={extension}")
        ringlog("source", "update", "c2c", "--click2call-secret-file", "-", input=SECRET + "\n")
        cls.d = fetcherd("fetcher-hostile-upstream", "--fetch-retry-base", "0")
        cls.token = new_token("crm-leaks")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.pbx.close()

    def get(self, path):
        return request(self.d.port, "GET", path, None, {"Authorization": "Bearer " + self.token})

    def assert_clean(self, text):
        self.assertNotIn(SECRET, text)
        self.assertNotIn("Pbx-Pa55", text)

    def test_a_secret_in_the_template_path_is_not_shown(self):
        rid = call_with_recording(source="pathkey", ref="r1")
        r = self.get(f"/v1/recordings/{rid}")
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_rejected_ref"), r)
        self.assert_clean(r.body.decode())
        self.assertNotIn("127.0.0.1", r.json()["message"])
        self.assertNotIn("Error for", r.json()["message"])  # no upstream body for API users
        again = self.get(f"/v1/recordings/{rid}")  # answered from the row
        self.assert_clean(again.body.decode())
        rec = row("SELECT * FROM recordings WHERE id = %s", rid)
        self.assert_clean(rec["last_error"])
        self.assertIn("/rec/***/r1", rec["last_error"])  # operators still see what was asked
        call = scalar("SELECT call_id FROM recordings WHERE id = %s", rid)
        self.assert_clean(self.get(f"/v1/calls/{call}").body.decode())
        self.assert_clean(ringlog("recordings", "show", str(rid)).stdout)
        self.assert_clean(self.d.output())

    def test_an_error_page_echoing_the_url_is_redacted(self):
        rid = call_with_recording(source="querykey", ref="r2")
        r = self.get(f"/v1/recordings/{rid}")
        self.assertEqual(r.status, 502, r)
        self.assert_clean(r.body.decode())
        rec = row("SELECT * FROM recordings WHERE id = %s", rid)
        self.assert_clean(rec["last_error"])
        self.assertNotIn("user=crm", rec["last_error"])  # no query values
        self.assertNotIn("crm:", rec["last_error"])      # no user info
        self.assert_clean(self.d.output())

    def test_a_click_to_call_refusal_is_not_relayed(self):
        r = request(self.d.port, "POST", "/v1/click2call", {"agent": "1001", "target": "+3612345678"},
                    {"Authorization": "Bearer " + self.token})
        self.assertEqual((r.status, r.json()["error"]), (502, "pbx_refused"), r)
        self.assert_clean(r.body.decode())
        self.assertNotIn("Error for", r.json()["message"])
        k = row("SELECT * FROM click2calls ORDER BY id DESC LIMIT 1")
        self.assert_clean(k["message"] or "")
        shown = self.get(f"/v1/click2call/{k['id']}")
        self.assert_clean(shown.body.decode())
        out = self.d.output()
        self.assert_clean(out)
        self.assertIn("pass=***", out)  # the excerpt is kept for operators, redacted


class Templates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.pbx = EchoPBX()
        cls.d = fetcherd("fetcher-hostile-templates", "--fetch-retry-base", "0")
        cls.token = new_token("crm-templates")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.pbx.close()

    def play(self, rid):
        return request(self.d.port, "GET", f"/v1/recordings/{rid}", None,
                       {"Authorization": "Bearer " + self.token})

    def test_placeholders_in_scheme_host_or_port_are_refused(self):
        add_source("t1", "push-t1")
        for tmpl in ("http://127.0.0.{ref}:18251/", "http://{ref}/x", "http://127.0.0.1:{ref}/x",
                     "{ref}://127.0.0.1/", "http://{user}:{secret}@127.0.0.1/x", "ftp://h/{ref}"):
            p = ringlog("source", "update", "t1", "--fetch-url-template", tmpl, check=False)
            self.assertNotEqual(p.returncode, 0, tmpl)
            self.assertIn("template", p.stderr)
            p = ringlog("source", "add", "t2", "--auth", "none", "--fetch-url-template", tmpl, check=False)
            self.assertNotEqual(p.returncode, 0, tmpl)
        self.assertIsNone(scalar("SELECT fetch_url_template FROM sources WHERE name = 't1'"))
        self.assertIsNone(scalar("SELECT id FROM sources WHERE name = 't2'"))
        ringlog("source", "update", "t1", "--fetch-url-template", self.pbx.base() + "/rec/{ref}.wav")

    def test_a_template_with_ref_in_its_host_already_kept_is_not_fetched(self):
        add_source("old", "push-old", "--fetch-auth", "none")
        scalar("UPDATE sources SET fetch_url_template = %s WHERE name = 'old' RETURNING id",
               "http://127.0.0.{ref}:%d/x" % self.pbx.port)
        self.d.proc.send_signal(1)
        time.sleep(0.3)
        rid = call_with_recording(source="old", ref="1")
        n = len(self.pbx.requests)
        r = self.play(rid)
        self.assertEqual((r.status, r.json()["error"]), (502, "upstream_not_allowed"), r)
        self.assertEqual(len(self.pbx.requests), n)

    def test_dot_segments_do_not_climb_and_http_gets_no_credentials_unless_told(self):
        add_source("dots", "push-dots", "--fetch-url-template", self.pbx.base() + "/rec/{ref}",
                   "--fetch-auth", "basic", "--fetch-user", "crm", "--fetch-secret-file", secret_file(SECRET))
        self.d.proc.send_signal(1)
        time.sleep(0.3)
        self.pbx.requests.clear()
        for ref in ("..", "."):
            self.play(call_with_recording(source="dots", ref=ref))
        self.assertEqual([p for p, _ in self.pbx.requests], ["/rec/%2E%2E", "/rec/%2E"])
        # plain http: no Basic credentials until the source says so
        self.assertEqual([a for _, a in self.pbx.requests], [None, None])
        ringlog("source", "update", "dots", "--fetch-plain-http", "yes")
        self.d.proc.send_signal(1)
        time.sleep(0.3)
        self.pbx.requests.clear()
        self.play(call_with_recording(source="dots", ref="r"))
        self.assertTrue(self.pbx.requests[0][1].startswith("Basic "), self.pbx.requests)


if __name__ == "__main__":
    unittest.main()
