"""Screen pop (Voicenter's Pop-Up Screen contract, FORMATS.md §1.5) and
smart-forwarding routes: known and unknown callers in the three encodings,
CORS for the Chrome extension, ringing recorded but creating nothing."""
import json
import threading
import time
import urllib.parse

from harness import (VENDORS, IngestCase, execute, query, read_fixture, request, ringlog, row,
                     scalar, wait_for)

EXTENSION = "chrome-extension://ifiaikfdhcagbagdeflffjdammidpbio"
QUERY = read_fixture(VENDORS, "voicenter-screenpop.query").decode().strip()
KNOWN = json.loads(read_fixture(VENDORS, "voicenter-screenpop-response-known.json"))
UNKNOWN = json.loads(read_fixture(VENDORS, "voicenter-screenpop-response-unknown.json"))


class ScreenPop(IngestCase):
    SOURCE_OPTIONS = ("--vendor", "voicenter", "--time-zone", "Asia/Jerusalem",
                      "--country-code", "972", "--trunk-prefix", "0",
                      "--crm-url-template", "https://crm.example.co.il/contacts/{id}",
                      "--crm-new-url-template", "https://crm.example.co.il/contacts/new?phone={phone}")

    def lead(self):
        """The README's lead: "משה פרץ" of פרץ ובניו בע"מ on 0528812345."""
        ringlog("lead", "add", "0528812345", "--source", "acme", "--name", "משה פרץ",
                "--company", 'פרץ ובניו בע"מ', "--crm-id", "5521")

    def pop(self, method="GET", query=QUERY, body=None, headers=None, key=True):
        path = "/v1/screenpop/acme?" + query + (f"&key={self.SECRET}" if key else "")
        return request(self.port, method, path, body, headers)

    def test_known_caller_in_all_three_encodings(self):
        self.lead()
        r = self.pop()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), KNOWN)
        self.assertEqual(r.json()["STATUS"], "OK")
        # POST form: Voicenter sends `status` there, not `statusCall`.
        form = QUERY.replace("statusCall=", "status=")
        r = self.pop("POST", "", form, {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.json(), KNOWN)
        # POST JSON, one request per phase, the number international.
        body = {"phone": "972528812345", "callerName": "", "ivrid": "20250615104512031207c4a19be2f05d",
                "extenUser": "Rk7pQ2xL", "did": "0733750100", "status": "Talking", "direction": "Incoming",
                "isAnswered": True, "currentCall": {"callstatus": "Talking"}}
        r = self.pop("POST", "", body)
        self.assertEqual(r.json(), KNOWN)

    def test_unknown_caller(self):
        r = self.pop()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), UNKNOWN)
        r = self.pop("POST", "", QUERY.replace("statusCall=", "status="),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.json(), UNKNOWN)
        r = self.pop("POST", "", dict(urllib.parse.parse_qsl(QUERY)))
        self.assertEqual(r.json(), UNKNOWN)
        # An extension or a withheld number is never a lead.
        r = self.pop(query="phone=anonymous&statusCall=Ringing")
        self.assertEqual((r.json()["STATUS"], r.json()["TOTAL"]), ("OK", 0))

    def test_every_open_lead_of_the_number_counts(self):
        self.lead()
        execute("INSERT INTO leads (phone, name) VALUES ('972528812345', 'שני')")
        execute("INSERT INTO leads (phone, name, status) VALUES ('972528812345', 'closed one', 'closed')")
        r = self.pop()
        self.assertEqual((r.json()["TOTAL"], r.json()["CLIENTNAME"]), (2, "משה פרץ"))

    def test_the_lead_url_wins_over_the_template(self):
        ringlog("lead", "add", "+972528812345", "--name", "X", "--crm-url", "https://crm.example/x?id=1")
        # The daemon answers from memory, told of the new lead by NOTIFY
        # (README: within 100 ms; a loaded machine is given a second).
        pop = wait_for(lambda: (lambda j: j if j["TOTAL"] else None)(self.pop().json()), timeout=1,
                       what="the new lead in screen pop")
        self.assertEqual(pop["URL"], "https://crm.example/x?id=1")

    def test_ringing_is_recorded_once_per_station_and_creates_nothing(self):
        stations = ["Rk7pQ2xL", "Ab12Cd34", "Zz99Yy88"]
        threads = [threading.Thread(target=self.pop, kwargs={
            "query": QUERY.replace("extenUser=Rk7pQ2xL", f"extenUser={s}")}) for s in stations]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.pop(query=QUERY.replace("statusCall=Ringing", "statusCall=Talking"))
        # Events are written in batches, a fraction of a second later.
        wait_for(lambda: scalar("SELECT count(*) FROM call_events") == 4, what="4 events")
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM tasks"), 0)
        events = query("SELECT pbx_call_id, status, agent, phone, phone_e164, did FROM call_events"
                       " ORDER BY at, agent")
        self.assertEqual(sorted(e[2] for e in events if e[1] == "ringing"), sorted(stations))
        self.assertEqual([e[1] for e in events].count("talking"), 1)
        self.assertEqual({(e[0], e[3], e[4], e[5]) for e in events},
                         {("20250615104512031207c4a19be2f05d", "0528812345", "972528812345", "0733750100")})

    def test_an_event_keeps_what_was_sent(self):
        """Text with tabs, newlines and backslashes, the lead shown, the time."""
        self.lead()
        name = 'דנה\tכהן\n"C:\\x" \\N'
        before = time.time()
        self.pop("POST", "", json.dumps({"phone": "0528812345", "ivrid": "ev-1", "extenUser": "a\\b",
                                         "callerName": name, "statusCall": "Ringing"}),
                 {"Content-Type": "application/json"})
        wait_for(lambda: scalar("SELECT count(*) FROM call_events") == 1, what="the event")
        ev = row("SELECT * FROM call_events")
        self.assertEqual((ev["pbx_call_id"], ev["status"], ev["caller_name"], ev["agent"], ev["did"]),
                         ("ev-1", "ringing", name, "a\\b", None))
        self.assertEqual(ev["lead_id"], scalar("SELECT id FROM leads WHERE crm_id = '5521'"))
        self.assertLessEqual(abs(ev["at"].timestamp() - before), 5)

    def test_cors_for_the_chrome_extension(self):
        r = self.pop(headers={"Origin": EXTENSION})
        self.assertEqual(r.header("Access-Control-Allow-Origin"), EXTENSION)
        self.assertIn("Origin", r.header("Vary"))
        r = self.pop(headers={"Origin": "https://evil.example"})
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        # The preflight of a JSON POST: no key needed, nothing looked up.
        r = request(self.port, "OPTIONS", "/v1/screenpop/acme", headers={
            "Origin": EXTENSION, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), EXTENSION)
        self.assertIn("POST", r.header("Access-Control-Allow-Methods"))
        self.assertIn("Content-Type", r.header("Access-Control-Allow-Headers"))
        # An error can be read by the plug-in too.
        r = self.pop(key=False, headers={"Origin": EXTENSION})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), EXTENSION)

    def test_refusals(self):
        self.assertEqual(self.pop(key=False).status, 401)
        r = request(self.port, "GET", f"/v1/screenpop/nope?{QUERY}&key={self.SECRET}")
        self.assertEqual((r.status, r.json()["error"]), (404, "unknown_source"))
        r = self.pop(query="ivrid=x&statusCall=Ringing")
        self.assertEqual((r.status, r.json()["error"]), (400, "missing_field"))
        r = self.pop("POST", "", "{not json", {"Content-Type": "application/json"})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_json"))
        r = request(self.port, "DELETE", "/v1/screenpop/acme")
        self.assertEqual(r.status, 405)

    def test_metrics_count_lookups(self):
        self.lead()
        self.pop()
        self.pop(query="phone=0501111111")
        m = request(self.port, "GET", "/metrics").body.decode()
        self.assertIn('ringlog_lookups_total{endpoint="screenpop",result="known"} 1', m)
        self.assertIn('ringlog_lookups_total{endpoint="screenpop",result="unknown"} 1', m)
        wait_for(lambda: 'ringlog_call_events_total{result="written"} 2' in
                 request(self.port, "GET", "/metrics").body.decode(), what="2 events written")

    def test_events_are_written_before_the_daemon_stops(self):
        for i in range(5):
            self.pop(query=QUERY.replace("ivrid=", f"ivrid={i}-"))
        self.daemon.stop()
        self.assertEqual(scalar("SELECT count(*) FROM call_events"), 5)
        self.assertEqual(scalar("SELECT count(DISTINCT at) FROM call_events"), 5)
        self.daemon.start()


class Route(IngestCase):
    SOURCE_OPTIONS = ("--time-zone", "Europe/Budapest", "--country-code", "36", "--trunk-prefix", "06")

    def route(self, phone, extra=""):
        q = urllib.parse.urlencode({"phone": phone, "key": self.SECRET})
        return request(self.port, "GET", f"/v1/route/acme?{q}{extra}")

    def test_the_responsible_agents_extension(self):
        ringlog("agent", "add", "acme", "1002", "gabor@crm", "--name", "Tóth Gábor")
        ringlog("lead", "add", "+36 30 123 4567", "--name", "Kovács Éva", "--responsible", "gabor@crm")
        r = self.route("06 30 123 4567")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["extension"], r.json()["agent"]), ("1002", "gabor@crm"))
        self.assertEqual(r.json()["lead_name"], "Kovács Éva")
        r = self.route("+36301234567", "&format=text")
        self.assertEqual((r.status, r.body, r.header("Content-Type")),
                         (200, b"1002", "text/plain; charset=utf-8"))

    def test_no_route(self):
        ringlog("lead", "add", "+36 30 123 4567", "--responsible", "nobody@crm")
        for phone in ("+36 30 123 4567", "+36 30 765 4321", "1002"):
            r = self.route(phone)
            self.assertEqual((r.status, r.json()["error"]), (404, "no_route"), phone)
        r = request(self.port, "GET", f"/v1/route/acme?key={self.SECRET}")
        self.assertEqual(r.status, 400)
        r = request(self.port, "GET", "/v1/route/acme?phone=1")
        self.assertEqual(r.status, 401)
