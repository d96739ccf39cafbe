"""The call-log page in a real browser (Debian's Chromium, driven by
playwright-core from tests/browser/) against the real daemons and database:
finding a call (filters, search, more pages), listening (duration, speed,
keyboard, download, one at a time), a side panel's width, five languages
with Hebrew right to left, errors a person can act on, tasks, call back,
open in CRM, and calls in progress. Screenshots at 1280 and 400 px in
English and Hebrew are kept in build/screenshots/, each checked with
axe-core (no serious or critical violation)."""
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
from fetcher_fixtures import insert_call
from harness import (ROOT, WORK, add_source, fetcherd, ingestd, new_token, query, request,
                     reset_database, ringlog, scalar)

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
SCREENSHOTS = os.path.join(ROOT, "build", "screenshots")
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
                   "--click2call-url", cls.pbx.url("/ForwardDialer/click2call.aspx"),
                   "--crm-url-template", "https://crm.example.co.il/contacts/{id}")
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
        # a second recording (one plays at a time) and one no one can fetch
        cls.push({"call_id": "b-4", "direction": "in", "caller": "0523344556", "agent": "2001",
                  "started_at": "2025-06-14T08:00:00+03:00", "billsec": 10,
                  "recording_base64": base64.b64encode(tone(10)).decode()})
        cls.push({"call_id": "b-5", "direction": "in", "caller": "0523344556", "agent": "2001",
                  "started_at": "2025-06-13T08:00:00+03:00", "billsec": 30,
                  "recording_id": "/var/lib/freeswitch/recordings/b-5.wav"})
        # another caller: a lead made by ringlog, with no CRM URL of its own
        cls.push({"call_id": "o-1", "direction": "in", "caller": "0541234567", "caller_name": "Éva Kovács",
                  "started_at": "2025-06-12T08:00:00+03:00", "disposition": "missed"})
        cls.other_lead = scalar("SELECT lead_id FROM calls WHERE pbx_call_id = 'o-1'")
        # enough calls for more than one page
        for i in range(30):
            number = {"caller" if i % 2 == 0 else "callee": f"05000000{i:02d}",
                      "caller_e164" if i % 2 == 0 else "callee_e164": f"9725000000{i:02d}"}
            answered = i % 3 == 0
            insert_call(f"bulk-{i}", f"2025-05-{1 + i % 28:02d} {8 + i % 9}:00+03", source="vc",
                        direction=("in", "out")[i % 2], disposition=("answered", "missed", "busy")[i % 3],
                        agent=("Rk7pQ2xL", "2001", None)[i % 3], billable=50 if answered else 0, **number)
        r = request(cls.fetcher.port, "POST", "/v1/ui/sessions", {"user": "dana@crm"}, auth)
        cls.session = r.json()["token"]
        os.makedirs(SCREENSHOTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.ingest.stop()
        cls.fetcher.stop()
        cls.pbx.close()

    def setUp(self):
        # every test starts with the lead's missed-call task open
        query("UPDATE tasks SET status = 'done', done_at = now() WHERE status = 'open'")
        self.task = scalar("INSERT INTO tasks (kind, lead_id, call_id, assignee)"
                           " SELECT 'missed_call', %s, id, 'dana@crm' FROM calls WHERE pbx_call_id = 'b-2'"
                           " RETURNING id", self.lead)

    @classmethod
    def push(cls, body):
        r = request(cls.ingest.port, "POST", "/v1/cdr/vc", body, {"X-Api-Key": "vc-push-secret"})
        assert r.status == 200, r

    def call_ids(self, where="true", *args):
        return [r[0] for r in query(f"SELECT c.id FROM calls c WHERE {where}"
                                    " ORDER BY c.started_at DESC, c.id DESC", *args)]

    def call(self, pbx_id):
        return scalar("SELECT id FROM calls WHERE pbx_call_id = %s", pbx_id)

    def browse(self, scenario, **settings):
        env = dict(os.environ, RINGLOG_BROWSER=json.dumps({
            "url": f"http://127.0.0.1:{self.fetcher.port}", "token": self.session,
            "lead_id": self.lead, "screenshots": SCREENSHOTS, **settings}))
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "calllog.mjs"), scenario],
                           capture_output=True, text=True, env=env, timeout=240, cwd=BROWSER_DIR)
        result = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}
        self.assertEqual(p.returncode, 0, f"{scenario}: {result.get('error')}\n{p.stderr[-2000:]}")
        self.assertEqual(result.get("console"), [], "the page logged errors")
        return result

    def test_the_page_shows_the_leads_calls_and_tasks(self):
        got = self.browse("calllog")
        self.assertEqual((got["lead"], got["leadDir"]), ("משה פרץ", "auto"))
        self.assertEqual(got["leadPhone"], "+972 52-334-4556")  # for people, not E.164 digits
        self.assertEqual(got["crm"], "https://crm.example.co.il/contacts/5521")
        self.assertEqual(got["title"], "Calls with this contact")
        self.assertEqual([r["id"] for r in got["rows"]],
                         [self.call(c) for c in ("b-3", "b-2", "b-1", "b-4", "b-5")])
        newest, missed, answered, _, unfetchable = got["rows"]
        self.assertIn("Outgoing", newest["cells"][0])
        self.assertIn("17", newest["cells"][1])          # 17 June, in the browser's zone
        self.assertIn("1:04", newest["cells"][4])        # 64 s
        self.assertEqual(missed["cells"][5], "Missed")
        # the lead's name is at the top, not repeated in every row: the number is
        self.assertEqual(answered["cells"][2], "+972 52-334-4556")
        # the agent: the CRM's name for the extension, then the extension
        self.assertIn("דנה כהן", answered["cells"][3])
        self.assertIn("ext. Rk7pQ2xL", answered["cells"][3])
        self.assertEqual(newest["cells"][3], answered["cells"][3])
        self.assertEqual(answered["audio"], 1)
        self.assertGreater(answered["dirAuto"], 0)
        self.assertEqual(got["tasks"][0].count("Missed call"), 1)
        self.assertEqual(len(got["tasks"]), 1)
        # issue 10 part 9: no player, and what to do instead of a backend message
        self.assertEqual(unfetchable["audio"], 0)
        self.assertEqual(unfetchable["recError"],
                         "Ask your administrator to set up recording fetch for source vc.")

    def test_find_a_call_by_filters_search_and_more_pages(self):
        dana = "(c.agent = 'Rk7pQ2xL')"
        got = self.browse("filters", search_name="פרץ", search_number="054-123-4567",
                          **{"from": "2025-06-15", "to": "2025-06-16"}, me="dana@crm")
        everything = self.call_ids()
        self.assertEqual(len(everything), 36)
        self.assertEqual(got["first"], everything[:25])
        self.assertTrue(got["moreVisible"])
        self.assertEqual(got["all"], everything)       # the second page through the cursor
        self.assertFalse(got["moreAfter"])
        self.assertEqual(got["byName"], self.call_ids("c.lead_id = %s", self.lead))
        self.assertEqual(got["byNumber"], [self.call("o-1")])
        self.assertIn("q=054-123-4567", got["urlAfterSearch"])
        self.assertEqual(got["missed"], self.call_ids("c.disposition = 'missed'"))
        self.assertEqual(got["outgoing"], self.call_ids("c.direction = 'out'"))
        self.assertEqual(got["dated"], [self.call("b-2"), self.call("b-1")])
        self.assertIn("Check the dates", got["badDates"])
        self.assertEqual(got["agentOptions"][:2], [{"value": "", "text": "All"},
                                                   {"value": "dana@crm", "text": "My calls"}])
        self.assertEqual(got["mine"], self.call_ids(dana))
        self.assertIn("by_agent=dana%40crm", got["urlAfterAgent"])  # not agent=: that rings a phone
        self.assertEqual(got["afterReload"], {"agent": "dana@crm", "rows": self.call_ids(dana)[:25]})
        self.assertEqual(got["empty"], "No calls match these filters.")

    def test_listen_duration_speed_keyboard_download_one_at_a_time(self):
        got = self.browse("listen")
        self.assertEqual(got["players"], 2)
        self.assertEqual(got["before"], "0:00 / 2:22")     # the call's length, before any byte
        self.assertEqual(got["requestsBeforePlay"], 0)
        self.assertTrue(got["playLabel"].startswith("Pause"))
        self.assertAlmostEqual(got["skipped"], 5, delta=1)
        self.assertEqual(got["rates"], [["1.5×", 1.5], ["2×", 2], ["1×", 1]])
        self.assertEqual(got["onePlays"], [False, True])
        self.assertTrue(got["pausedByKey"])
        self.assertEqual(got["download"]["status"], 200)
        self.assertIn("attachment", got["download"]["disposition"])
        self.assertEqual(got["download"]["type"], "audio/wav")

    def test_play_advances_and_seeking_is_a_range_request(self):
        got = self.browse("play")
        self.assertAlmostEqual(got["duration"], 60, delta=0.2)
        self.assertGreater(got["after_seek_time"], 30)
        self.assertTrue(got["shown"].endswith("/ 1:00"), got["shown"])  # the audio's own length once known
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
        self.assertEqual(got["hasReload"], "Reload")

    def test_errors_are_words_with_a_retry(self):
        got = self.browse("errors", expected_errors=["/v1/calls?"])
        self.assertEqual(got["notice"], "ringlog cannot reach its database right now. Try again in a minute.")
        self.assertNotIn("PQconnect", got["notice"])
        self.assertTrue(got["retryVisible"])
        self.assertEqual(got["afterRetry"], 5)
        self.assertTrue(got["noticeHidden"])
        self.assertEqual(got["expired"], "Your session has expired: reload the page from the CRM.")
        self.assertFalse(got["expiredRetry"])   # trying again cannot help

    def test_an_unknown_contact_is_said_so_without_anyone_elses_calls(self):
        got = self.browse("missing", expected_errors=["/v1/leads/"])
        self.assertEqual(got["notice"], "This contact is not in ringlog yet: its calls appear after the first one.")
        self.assertEqual(got["rows"], 0)

    def test_tasks_are_shown_closed_and_called_back_from_the_page(self):
        other = scalar("INSERT INTO tasks (kind, lead_id, call_id, assignee, created_at)"
                       " SELECT 'missed_call', lead_id, id, 'dana@crm', now() + interval '1 minute'"
                       " FROM calls WHERE pbx_call_id = 'o-1' RETURNING id")
        scalar("INSERT INTO tasks (kind, lead_id, assignee) VALUES ('missed_call', %s, 'someone@crm')"
               " RETURNING id", self.other_lead)
        self.pbx.requests.clear()
        got = self.browse("tasks")
        # the session's user's open missed-call tasks, oldest first
        self.assertEqual([t["id"] for t in got["before"]], [self.task, other])
        self.assertIn("משה פרץ", got["before"][0]["text"])
        self.assertIn("+972 52-334-4556", got["before"][0]["text"])
        self.assertIn("ringing", got["callStatus"])
        self.assertEqual(self.pbx.requests[-1][1]["target"], "+" + LEAD_PHONE)
        self.assertEqual(got["after"], [other])
        self.assertEqual(scalar("SELECT status FROM tasks WHERE id = %s", self.task), "done")

    def test_open_in_crm_falls_back_to_the_sources_template(self):
        got = self.browse("crm", other_lead=self.other_lead)
        self.assertEqual(got["crm"], f"https://crm.example.co.il/contacts/{self.other_lead}")
        self.assertEqual(got["target"], "_top")

    def test_call_back_reaches_the_pbx_for_the_agent(self):
        self.pbx.requests.clear()
        got = self.browse("callback")
        self.assertIn("ringing", got["status"])
        path, q = self.pbx.requests[-1]
        self.assertEqual((q["phone"], q["target"], q["action"]), ("Rk7pQ2xL", "+" + LEAD_PHONE, "call"))
        self.assertEqual(scalar("SELECT clicked_by FROM click2calls ORDER BY id DESC LIMIT 1"), "dana@crm")

    def test_fits_a_side_panel_from_360_px(self):
        got = self.browse("narrow")
        for name, m in got["widths"].items():
            width = int(name.split("-")[0])
            self.assertLessEqual(m["scroll"], width, f"{name}: the page scrolls sideways: {m}")
            self.assertLessEqual(m["download"][1], width, f"{name}: the player is cut off: {m}")
            self.assertGreaterEqual(m["play"][0], 0, name)
            self.assertLessEqual(m["filters"], width, name)

    def test_five_languages_and_hebrew_right_to_left(self):
        got = self.browse("languages", dated_call=self.call("b-1"), dated_day="15", phone_last="4556")
        want = {"en": ("Calls with this contact", "Call back", "Missed"),
                "he": ("שיחות עם איש הקשר", "חיוג חוזר", "לא נענתה"),
                "uk": ("Дзвінки з цим контактом", "Передзвонити", "Пропущений"),
                "hu": ("Hívások ezzel az ügyféllel", "Visszahívás", "Nem fogadott"),
                "ru": ("Звонки с этим контактом", "Перезвонить", "Пропущен")}
        for lang, (title, back, _) in want.items():
            shown = got["langs"][lang]
            self.assertEqual((shown["title"], shown["callBack"], shown["htmlLang"]), (title, back, lang))
            self.assertEqual(shown["dir"], "rtl" if lang == "he" else "ltr")
            self.assertTrue(all(shown["head"][1:]), shown["head"])
            self.assertNotEqual(shown["search"], got["langs"]["en"]["search"] if lang != "en" else None)
        self.assertNotEqual(got["langs"]["he"]["head"], got["langs"]["en"]["head"])
        self.assertEqual(got["browserHu"], "Hívások ezzel az ügyféllel")
        he = got["he"]
        self.assertEqual(he["timeDir"], "ltr")
        self.assertEqual(he["dateText"], "15.06.2025, 10:45")
        self.assertLess(he["dayX"], he["yearX"])          # 15.06.2025 reads left to right
        self.assertEqual(he["phoneText"], "+972 52-334-4556")
        self.assertLess(he["plusX"], he["lastX"])         # +972 first, on the left
        self.assertEqual(he["lengthDir"], "ltr")
        self.assertGreater(he["headX"], he["whoX"])       # columns run right to left
        self.assertLess(he["playerX"][0], he["playerX"][1])   # "0:00 / 2:22", left to right
        self.assertLess(he["speedX"][0], he["speedX"][1])     # "1×"

    def test_screenshots_and_accessibility(self):
        got = self.browse("screenshots")
        self.assertEqual(len(got["shots"]), 8)
        for path in got["shots"]:
            self.assertGreater(os.path.getsize(path), 10000, path)
        serious = {page: [v for v in found if v["impact"] in ("serious", "critical")]
                   for page, found in got["axe"].items()}
        self.assertEqual({p: v for p, v in serious.items() if v}, {}, "axe-core: serious or critical violations")
        with open(os.path.join(SCREENSHOTS, "axe.json"), "w") as out:
            json.dump(got["axe"], out, indent=1)

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
        self.assertIn("דנה כהן", result["shown"])  # to whom: the agent's name
        self.assertIn("ringing", result["shown"])
        self.assertNotEqual(result["timer"][0], result["timer"][1])  # for how long, ticking
        self.assertEqual(result["console"], [])
