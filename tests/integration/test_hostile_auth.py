"""Hostile review, issue 19: the push secret under any spelling (item 1), a
UI session token with a long user (item 2), and UI sessions kept to what
their page does, as their own user, for as long as their API token lives
(item 6)."""
import hashlib
import hmac
import os
import time
import unittest

from harness import (WORK, IngestCase, fetcherd, new_token, query, request, reset_database,
                     ringlog, scalar, wait_for)


class PushSecretSpellings(IngestCase):
    """libmicrohttpd matches ?KEY= like ?key=: no spelling may be stored."""

    def test_the_key_is_never_stored_whatever_its_case(self):
        for i, name in enumerate(("key", "Key", "KEY", "kEy", "k%45y")):
            q = f"{name}={self.SECRET}&call_id=k-{i}&direction=in&started_at=2025-06-16T11:20:05Z"
            r = self.push(method="GET", path="/v1/cdr/acme?" + q, auth=False)
            self.assertEqual(r.status, 200, (name, r))
        # a new revision of a known call, and a refused push (a dead letter)
        r = self.push(method="GET", auth=False, path="/v1/cdr/acme?KEY=" + self.SECRET +
                      "&call_id=k-0&direction=in&started_at=2025-06-16T11:20:05Z&billsec=3")
        self.assertEqual(r.status, 200, r)
        r = self.push(method="GET", auth=False, path="/v1/cdr/acme?Key=" + self.SECRET + "&direction=in")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 5)
        stored = [str(x) for x in query("SELECT raw::text FROM calls UNION ALL "
                                         "SELECT raw::text FROM call_revisions UNION ALL "
                                         "SELECT coalesce(query, '') FROM dead_letters")]
        self.assertTrue(stored)
        for text in stored:
            self.assertNotIn(self.SECRET, text)
        dl = scalar("SELECT id FROM dead_letters")
        shown = ringlog("dead-letters", "show", str(dl)).stdout
        self.assertNotIn(self.SECRET, shown)
        self.assertIn("direction=in", shown)


class Sessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.d = fetcherd("fetcher-hostile-auth")
        cls.key = open(os.path.join(WORK, "fetcher-hostile-auth", "signing.key"), "rb").read()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def session(self, token, user):
        r = request(self.d.port, "POST", "/v1/ui/sessions", {"user": user, "ttl": 600},
                    {"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 201, r)
        return r.json()["token"]

    def call(self, method, path, token, body=None):
        return request(self.d.port, method, path, body, {"Authorization": "Bearer " + token})

    def signed(self, token_id, user, expires):
        sig = hmac.new(self.key, f"ui:{user}:{token_id}:{expires}".encode(), hashlib.sha256).hexdigest()
        return f"uis.{user.encode().hex()}.{token_id}.{expires}.{sig}"

    # item 2
    def test_a_long_user_is_refused_or_signed_whole_never_overread(self):
        token = new_token("crm-long")
        tid = scalar("SELECT id FROM api_tokens WHERE name = 'crm-long'")
        exp = int(time.time()) + 300
        forged = f"uis.{('u' * 200).encode().hex()}.{tid}.{exp}.{'ab' * 32}"
        self.assertEqual(self.call("GET", "/v1/calls", forged).status, 401)
        forged_old = f"uis.{('u' * 200).encode().hex()}.{exp}.{'ab' * 32}"
        self.assertEqual(self.call("GET", "/v1/calls", forged_old).status, 401)
        genuine = self.signed(tid, "u" * 200, exp)
        r = self.call("GET", "/v1/calls", genuine)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(self.d.proc.poll(), "the fetcher died")
        wait_for(lambda: "user=" + "u" * 100 in self.d.output(), what="the request's log line")
        del token

    # item 6
    def test_a_session_does_only_what_its_page_does(self):
        token = new_token("crm-scope")
        alice = self.session(token, "alice@crm")
        self.assertEqual(self.call("GET", "/v1/calls", alice).status, 200)
        self.assertEqual(self.call("GET", "/v1/tasks", alice).status, 200)
        self.assertEqual(self.call("GET", "/v1/calls/live", alice).status, 200)
        r = self.call("GET", "/v1/export.csv?from=2025-01-01&to=2025-01-02", alice)
        self.assertEqual((r.status, r.json()["error"]), (403, "forbidden"))
        r = self.call("POST", "/v1/leads", alice, {"phone": "+36301234567", "name": "x"})
        self.assertEqual((r.status, r.json()["error"]), (403, "forbidden"))
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        self.assertEqual(self.call("POST", "/v1/ui/sessions", alice, {"user": "bob@crm"}).status, 403)
        # the backend's token still does all of it
        r = self.call("GET", "/v1/export.csv?from=2025-01-01&to=2025-01-02", token)
        self.assertEqual(r.status, 200, r)

    def test_a_session_clicks_to_call_only_as_itself(self):
        token = new_token("crm-c2c")
        alice = self.session(token, "alice@crm")
        for body in ({"target": "+36301234567", "agent": "bob@crm", "clicked_by": "bob@crm"},
                     {"target": "+36301234567", "agent": "bob@crm"},
                     {"target": "+36301234567", "clicked_by": "bob@crm"}):
            r = self.call("POST", "/v1/click2call", alice, body)
            self.assertEqual((r.status, r.json()["error"]), (403, "forbidden"), body)
        self.assertEqual(scalar("SELECT count(*) FROM click2calls"), 0)
        # as itself it goes on (here to "no source is set up")
        r = self.call("POST", "/v1/click2call", alice, {"target": "+36301234567", "agent": "alice@crm"})
        self.assertNotEqual(r.status, 403, r)

    def test_a_session_closes_only_its_own_tasks(self):
        token = new_token("crm-tasks")
        alice = self.session(token, "alice@crm")
        bobs = scalar("INSERT INTO tasks (kind, assignee) VALUES ('missed_call', 'bob@crm') RETURNING id")
        mine = scalar("INSERT INTO tasks (kind, assignee) VALUES ('missed_call', 'alice@crm') RETURNING id")
        self.assertEqual(self.call("POST", f"/v1/tasks/{bobs}/done", alice).status, 404)
        self.assertEqual(scalar("SELECT status FROM tasks WHERE id = %s", bobs), "open")
        r = self.call("POST", f"/v1/tasks/{mine}/done", alice)
        self.assertEqual((r.status, r.json()["status"]), (200, "done"))
        self.assertEqual(self.call("POST", f"/v1/tasks/{bobs}/done", token).status, 200)

    def test_revoking_the_token_ends_its_sessions(self):
        token = new_token("crm-revoke")
        other = new_token("crm-other")
        s1 = self.session(token, "alice@crm")
        s2 = self.session(other, "alice@crm")
        self.assertEqual(self.call("GET", "/v1/calls", s1).status, 200)
        ringlog("token", "revoke", "crm-revoke")
        r = self.call("GET", "/v1/calls", s1)
        self.assertEqual(r.status, 401, r)
        self.assertIn("revoked", r.json()["message"])
        self.assertEqual(self.call("GET", "/v1/calls", s2).status, 200)

    def test_no_session_outlives_the_cap(self):
        new_token("crm-cap")
        tid = scalar("SELECT id FROM api_tokens WHERE name = 'crm-cap'")
        far = self.signed(tid, "alice@crm", int(time.time()) + 30 * 86400)
        self.assertEqual(self.call("GET", "/v1/calls", far).status, 401)
        near = self.signed(tid, "alice@crm", int(time.time()) + 3600)
        self.assertEqual(self.call("GET", "/v1/calls", near).status, 200)


if __name__ == "__main__":
    unittest.main()
