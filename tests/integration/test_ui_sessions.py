"""The page's files are served from memory with caching headers, and the
CRM's backend hands browsers short-lived UI session tokens."""
import hashlib
import hmac
import os
import time
import unittest

from harness import WORK, fetcherd, new_token, request, reset_database


class UiFilesAndSessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.ui = os.path.join(WORK, "ui-test")
        os.makedirs(cls.ui, exist_ok=True)
        with open(os.path.join(cls.ui, "index.html"), "w") as f:
            f.write("<!doctype html><title>calls</title>")
        with open(os.path.join(cls.ui, "app.js"), "w") as f:
            f.write("console.log('ringlog');")
        with open(os.path.join(cls.ui, "secret.key"), "w") as f:
            f.write("not served: unknown type")
        cls.d = fetcherd("fetcher-ui", "--ui-dir", cls.ui, "--ui-frame-ancestors", "https://crm.example.com")
        cls.token = new_token("crm-backend")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def get(self, path, headers=None):
        return request(self.d.port, "GET", path, None, headers)

    def test_files_are_served_with_their_type_and_validators(self):
        r = self.get("/ui/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"<!doctype html><title>calls</title>")
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        self.assertIn("frame-ancestors https://crm.example.com", r.header("Content-Security-Policy"))
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        etag = r.header("ETag")
        self.assertEqual(self.get("/ui/", {"If-None-Match": etag}).status, 304)
        js = self.get("/ui/app.js")
        self.assertEqual((js.status, js.header("Content-Type")), (200, "text/javascript; charset=utf-8"))
        self.assertEqual(request(self.d.port, "HEAD", "/ui/app.js").body, b"")

    def test_nothing_else_is_reachable(self):
        for path in ("/ui/secret.key", "/ui/missing.js", "/ui/../sql/001_schema.sql",
                     "/ui/%2e%2e%2fetc%2fpasswd", "/ui/sub/index.html"):
            self.assertEqual(self.get(path).status, 404, path)

    def test_a_session_token_acts_for_its_user_until_it_expires(self):
        r = request(self.d.port, "POST", "/v1/ui/sessions", {"user": "dana@crm", "ttl": 600},
                    {"Authorization": "Bearer " + self.token})
        self.assertEqual(r.status, 201, r)
        token = r.json()["token"]
        self.assertAlmostEqual(r.json()["expires"], time.time() + 600, delta=5)
        ok = self.get("/v1/click2call/1", {"Authorization": "Bearer " + token})
        self.assertEqual(ok.status, 404)  # authorised: there is just no such click
        # a browser's session cannot mint more sessions
        r = request(self.d.port, "POST", "/v1/ui/sessions", {"user": "eve"},
                    {"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 403)
        # altered or expired tokens are refused, and say which
        bad = token[:-1] + ("0" if token[-1] != "0" else "1")
        r = self.get("/v1/click2call/1", {"Authorization": "Bearer " + bad})
        self.assertEqual((r.status, r.json()["error"]), (401, "unauthorized"))
        key = open(os.path.join(WORK, "fetcher-ui", "signing.key"), "rb").read()
        past = int(time.time()) - 10
        tid = int(token.split(".")[2])  # the API token that opened the session
        sig = hmac.new(key, f"ui:dana@crm:{tid}:{past}".encode(), hashlib.sha256).hexdigest()
        expired = f"uis.{b'dana@crm'.hex()}.{tid}.{past}.{sig}"
        r = self.get("/v1/click2call/1", {"Authorization": "Bearer " + expired})
        self.assertEqual(r.status, 401)
        self.assertIn("expired", r.json()["message"])

    def test_sessions_need_a_user(self):
        for body in ({}, {"user": ""}, {"user": "x", "ttl": 10}, {"user": "a\nb"}):
            r = request(self.d.port, "POST", "/v1/ui/sessions", body,
                        {"Authorization": "Bearer " + self.token})
            self.assertEqual(r.status, 400, body)
