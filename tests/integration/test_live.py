"""Calls in progress: the screen-pop events ingestd records feed
GET /v1/calls/live and its Server-Sent Events stream; a call leaves on
hangup, or when a ringing call has not been heard of for a while."""
import http.client
import json
import threading
import time
import unittest

from harness import (add_source, fetcherd, ingestd, new_token, request, reset_database, ringlog,
                     wait_for)

SECRET = "live-push-secret"


def pop(port, ivrid, status, station, phone="0528812345"):
    q = f"phone={phone}&ivrid={ivrid}&extenUser={station}&did=0733750100&statusCall={status}&key={SECRET}"
    r = request(port, "GET", "/v1/screenpop/vc?" + q)
    assert r.status == 200, r


class LiveCalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        add_source("vc", SECRET, "--vendor", "voicenter", "--country-code", "972",
                   "--time-zone", "Asia/Jerusalem")
        ringlog("lead", "add", "0528812345", "--source", "vc", "--name", "משה פרץ")
        cls.ingest = ingestd("ingest-live")
        cls.fetcher = fetcherd("fetcher-live", "--live-ringing-timeout", "10")
        cls.auth = {"Authorization": "Bearer " + new_token("live")}

    @classmethod
    def tearDownClass(cls):
        cls.ingest.stop()
        assert cls.fetcher.stop() == 0, cls.fetcher.output()

    def live(self):
        r = request(self.fetcher.port, "GET", "/v1/calls/live", None, self.auth)
        self.assertEqual(r.status, 200, r)
        return {c["call_id"]: c for c in r.json()["calls"]}

    def test_ringing_stations_then_talking_then_hangup(self):
        for station in ("Rk7pQ2xL", "Ab12Cd34"):
            pop(self.ingest.port, "L-1", "Ringing", station)
        call = wait_for(lambda: self.live().get("L-1"), what="the ringing call")
        self.assertEqual((call["status"], call["lead_name"], call["phone_e164"], call["source"]),
                         ("ringing", "משה פרץ", "972528812345", "vc"))
        self.assertEqual(sorted(call["ringing"]), ["Ab12Cd34", "Rk7pQ2xL"])
        # One time format in every answer (RFC 3339, UTC, to the second), and
        # the JSON written as every other answer writes it.
        for key in ("started_at", "updated_at"):
            self.assertRegex(call[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        body = request(self.fetcher.port, "GET", "/v1/calls/live", None, self.auth).body
        self.assertNotIn(b'" : ', body)
        pop(self.ingest.port, "L-1", "Talking", "Rk7pQ2xL")
        wait_for(lambda: self.live().get("L-1", {}).get("status") == "talking", what="talking")
        self.assertEqual(self.live()["L-1"]["agent"], "Rk7pQ2xL")
        pop(self.ingest.port, "L-1", "Hangup", "Rk7pQ2xL")
        wait_for(lambda: "L-1" not in self.live(), what="the call to leave")

    def test_a_ringing_call_nobody_hears_of_again_leaves_after_its_timeout(self):
        pop(self.ingest.port, "L-2", "Ringing", "Rk7pQ2xL", phone="0541112233")
        wait_for(lambda: "L-2" in self.live(), what="the ringing call")
        wait_for(lambda: "L-2" not in self.live(), timeout=20, interval=0.5, what="the timeout")

    def test_the_events_without_a_call_id_are_one_call(self):
        # A PBX that sends no ivrid (or an empty one): the source's id-less
        # events are one call, beside the calls with an id.
        q = f"phone=0531234567&ivrid={{}}&extenUser={{}}&statusCall={{}}&key={SECRET}"
        for ivrid, station, status in (("", "Rk7pQ2xL", "Ringing"), ("", "Ab12Cd34", "Ringing"),
                                       ("", "Ab12Cd34", "Talking")):
            self.assertEqual(request(self.ingest.port, "GET", "/v1/screenpop/vc?" +
                                     q.format(ivrid, station, status)).status, 200)
        pop(self.ingest.port, "L-4", "Ringing", "Zz99Yy88", phone="0539876543")
        wait_for(lambda: None in self.live() and "L-4" in self.live(), what="both calls")
        call = self.live()[None]
        self.assertEqual((call["status"], call["agent"], sorted(call["ringing"])),
                         ("talking", "Ab12Cd34", ["Ab12Cd34", "Rk7pQ2xL"]))
        self.assertLessEqual(call["started_at"], call["updated_at"])
        request(self.ingest.port, "GET", "/v1/screenpop/vc?" + q.format("", "Ab12Cd34", "Hangup"))
        wait_for(lambda: None not in self.live(), what="the id-less call to leave")
        self.assertEqual(self.live()["L-4"]["ringing"], ["Zz99Yy88"])

    def test_the_stream_sends_the_list_at_once_and_on_every_change(self):
        token = request(self.fetcher.port, "POST", "/v1/ui/sessions", {"user": "manager"},
                        self.auth).json()["token"]
        conn = http.client.HTTPConnection("127.0.0.1", self.fetcher.port, timeout=15)
        conn.request("GET", "/v1/calls/live/stream?token=" + token)
        r = conn.getresponse()
        self.assertEqual((r.status, r.getheader("Content-Type")), (200, "text/event-stream"))
        events = []

        def read():
            data = None
            for raw in r:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and data is not None:
                    events.append(data)
                    data = None
                    if any(c["call_id"] == "L-3" and c["status"] == "talking" for c in events[-1]["calls"]):
                        return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_for(lambda: events, what="the first list")
        pop(self.ingest.port, "L-3", "Ringing", "Rk7pQ2xL", phone="0547778899")
        pop(self.ingest.port, "L-3", "Talking", "Rk7pQ2xL", phone="0547778899")
        reader.join(timeout=15)
        self.assertFalse(reader.is_alive(), events)
        conn.close()

    def test_the_stream_needs_a_token(self):
        r = request(self.fetcher.port, "GET", "/v1/calls/live/stream")
        self.assertEqual(r.status, 401)
