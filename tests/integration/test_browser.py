"""The call-log page in a real browser (Debian's Chromium, driven by
playwright-core from tests/browser/) against the real daemons and database:
the page lists a lead's calls, plays a recording and seeks in it, explains
an expired link, calls the lead back, and follows calls in progress.
A screenshot of the page is kept in build/artifacts/ as a test artifact."""
import base64
import hashlib
import hmac
import io
import json
import math
import os
import struct
import subprocess
import time
import unittest
import wave

import fake_click2call as fake
from harness import (BUILD, ROOT, WORK, add_source, fetcherd, ingestd, new_token, request,
                     reset_database, ringlog, scalar)

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
ARTIFACTS = os.path.join(os.path.dirname(BUILD), "artifacts")
LEAD_PHONE = "972523344556"


def tone(seconds=60, rate=44100):
    """A WAV the browser can really play: 441 Hz, CD quality, so that the
    middle (5 MB in) is not buffered yet when the test seeks there."""
    period = b"".join(struct.pack("<hh", v, v) for v in
                      (int(8000 * math.sin(2 * math.pi * i / 100)) for i in range(100)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(period * (seconds * rate // 100))
    return out.getvalue()


class Browser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.pbx = fake.FakeClick2Call()
        add_source("vc", "vc-push-secret", "--country-code", "972", "--time-zone", "Asia/Jerusalem",
                   "--click2call-style", "voicenter",
                   "--click2call-url", cls.pbx.url("/ForwardDialer/click2call.aspx"))
        ringlog("source", "update", "vc", "--click2call-secret-file", "-", input=fake.CODE + "\n")
        scalar("INSERT INTO agents (source_id, extension, crm_user, name)"
               " SELECT id, 'Rk7pQ2xL', 'dana@crm', 'דנה כהן' FROM sources RETURNING id")
        cls.fetcher = fetcherd("fetcher-browser", "--ui-dir", os.path.join(ROOT, "ui"))
        cls.ingest = ingestd("ingest-browser", "--max-body", "32M")
        token = new_token("crm-backend")
        auth = {"Authorization": "Bearer " + token}
        r = request(cls.fetcher.port, "POST", "/v1/leads",
                    {"crm_id": "L-5521", "phone": "+" + LEAD_PHONE, "name": "משה פרץ",
                     "company": "פרץ ובניו בע\"מ", "crm_url": "https://crm.example.co.il/contacts/5521"}, auth)
        assert r.status in (200, 201), r
        cls.lead = r.json()["lead"]["id"]
        cls.push({"call_id": "b-1", "direction": "in", "caller": "0523344556", "agent": "Rk7pQ2xL",
                  "agent_name": "דנה כהן", "started_at": "2025-06-15T10:45:12+03:00",
                  "answered_at": "2025-06-15T10:45:30+03:00", "ended_at": "2025-06-15T10:47:52+03:00",
                  "recording_base64": base64.b64encode(tone()).decode()})
        cls.push({"call_id": "b-2", "direction": "in", "caller": "0523344556",
                  "started_at": "2025-06-16T09:00:00+03:00", "disposition": "missed"})
        cls.push({"call_id": "b-3", "direction": "out", "callee": "+972 52-334-4556", "agent": "Rk7pQ2xL",
                  "started_at": "2025-06-17T12:00:00+03:00", "billsec": 64})
        if not scalar("SELECT count(*) FROM tasks WHERE lead_id = %s AND status = 'open'", cls.lead):
            scalar("INSERT INTO tasks (kind, lead_id, call_id, assignee)"
                   " SELECT 'missed_call', %s, id, 'dana@crm' FROM calls WHERE pbx_call_id = 'b-2'"
                   " RETURNING id", cls.lead)
        r = request(cls.fetcher.port, "POST", "/v1/ui/sessions", {"user": "dana@crm"}, auth)
        cls.session = r.json()["token"]
        os.makedirs(ARTIFACTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.ingest.stop()
        cls.fetcher.stop()
        cls.pbx.close()

    @classmethod
    def push(cls, body):
        r = request(cls.ingest.port, "POST", "/v1/cdr/vc", body, {"X-Api-Key": "vc-push-secret"})
        assert r.status == 200, r

    def browse(self, scenario, **settings):
        env = dict(os.environ, RINGLOG_BROWSER=json.dumps({
            "url": f"http://127.0.0.1:{self.fetcher.port}", "token": self.session,
            "lead_id": self.lead, "screenshot": os.path.join(ARTIFACTS, "calllog.png"), **settings}))
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "calllog.mjs"), scenario],
                           capture_output=True, text=True, env=env, timeout=90, cwd=BROWSER_DIR)
        result = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}
        self.assertEqual(p.returncode, 0, f"{scenario}: {result.get('error')}\n{p.stderr[-2000:]}")
        self.assertEqual(result.get("console"), [], "the page logged errors")
        return result

    def test_the_page_shows_the_leads_calls_and_tasks(self):
        got = self.browse("calllog")
        self.assertEqual((got["lead"], got["leadDir"]), ("משה פרץ", "auto"))
        self.assertEqual([r["id"] for r in got["rows"]],
                         [scalar("SELECT id FROM calls WHERE pbx_call_id = %s", c) for c in ("b-3", "b-2", "b-1")])
        newest, missed, answered = got["rows"]
        self.assertEqual(newest["cells"][0], "↗")
        self.assertIn("17", newest["cells"][1])          # 17 June, in the browser's zone
        self.assertIn("1:04", newest["cells"][4])        # 64 s
        self.assertIn("missed", missed["cells"][5])
        self.assertIn("דנה כהן", answered["cells"][3])  # the agent, in Hebrew
        self.assertEqual(answered["audio"], 1)
        self.assertGreater(answered["dirAuto"], 0)
        self.assertEqual(len(got["tasks"]), 1)
        self.assertTrue(os.path.getsize(os.path.join(ARTIFACTS, "calllog.png")) > 10000)

    def test_play_advances_and_seeking_is_a_range_request(self):
        got = self.browse("play")
        self.assertAlmostEqual(got["duration"], 60, delta=0.2)
        self.assertGreater(got["after_seek_time"], 30)
        ranged = [r for r in got["responses"] if r["status"] == 206 and r["range"]
                  and not r["range"].startswith("bytes=0-")]
        self.assertTrue(ranged, got["responses"])  # the middle came by a 206

    def test_an_expired_link_says_so(self):
        rec = scalar("SELECT r.id FROM recordings r JOIN calls c ON c.id = r.call_id"
                     " WHERE c.pbx_call_id = 'b-1'")
        key = open(os.path.join(WORK, "fetcher-browser", "signing.key"), "rb").read()
        past = int(time.time()) - 60
        sig = hmac.new(key, f"recording:{rec}:{past}".encode(), hashlib.sha256).hexdigest()
        got = self.browse("expired", expired_url=f"/v1/recordings/{rec}?expires={past}&sig={sig}")
        self.assertIn("expired", got["message"])

    def test_call_back_reaches_the_pbx_for_the_agent(self):
        self.pbx.requests.clear()
        got = self.browse("callback")
        self.assertIn("ringing", got["status"])
        path, q = self.pbx.requests[-1]
        self.assertEqual((q["phone"], q["target"], q["action"]), ("Rk7pQ2xL", "+" + LEAD_PHONE, "call"))
        self.assertEqual(scalar("SELECT clicked_by FROM click2calls ORDER BY id DESC LIMIT 1"), "dana@crm")

    def test_a_ringing_call_appears_live_and_leaves_on_hangup(self):
        env = dict(os.environ, RINGLOG_BROWSER=json.dumps({
            "url": f"http://127.0.0.1:{self.fetcher.port}", "token": self.session, "ivrid": "live-1"}))
        p = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "calllog.mjs"), "live"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             cwd=BROWSER_DIR)
        try:
            def say(status):
                q = (f"phone=0523344556&ivrid=live-1&extenUser=Rk7pQ2xL&did=0733750100"
                     f"&statusCall={status}&key=vc-push-secret")
                self.assertEqual(request(self.ingest.port, "GET", "/v1/screenpop/vc?" + q).status, 200)

            self.assertEqual(json.loads(p.stdout.readline()), {"ready": True})
            say("Ringing")
            self.assertEqual(json.loads(p.stdout.readline()), {"shown": True})
            say("Hangup")
            result = json.loads(p.stdout.readline())
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertTrue(result["ok"], result.get("error"))
        self.assertIn("משה פרץ", result["shown"])  # the lead's name, live
        self.assertEqual(result["console"], [])
