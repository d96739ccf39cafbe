"""Every vendor example stores what the payloads README table says, in every
encoding docs/vendors.md describes (the examples in tests/fixtures/vendors)."""
import base64
import json
import urllib.parse

from harness import (FIXTURES, VENDORS, IngestCase, add_source, query, read_fixture, ringlog,
                     row, scalar)

SECRET = "vendor-push-secret"


def fixture(name):
    return read_fixture(VENDORS, name)


def iso(t):
    return t.isoformat() if t else None


class Vendors(IngestCase):
    """One source per vendor, configured as its README row says."""

    def add(self, name, *options):
        add_source(name, SECRET, *options)

    def send(self, source, body, content_type="application/json", path_query="", **kw):
        headers = {"Content-Type": content_type, "X-Api-Key": SECRET}
        return self.push(body, path=f"/v1/cdr/{source}{path_query}", auth=False,
                         headers=headers, **kw)

    def call(self, call_id):
        return row("SELECT * FROM calls WHERE pbx_call_id = %s", call_id)

    def recordings(self, call):
        return query("SELECT position, remote_ref, remote_url FROM recordings"
                     " WHERE call_id = %s ORDER BY position", call["id"])

    # ---- Voicenter -----------------------------------------------------------

    def voicenter(self):
        self.add("vc", "--vendor", "voicenter", "--time-zone", "Asia/Jerusalem",
                 "--country-code", "972", "--trunk-prefix", "0")

    def test_voicenter_answered(self):
        self.voicenter()
        r = self.send("vc", fixture("voicenter-cdr-answered.json"))
        self.assertEqual(r.status, 200, r)
        # Voicenter's own acknowledgement, exactly.
        self.assertEqual(r.json(), json.loads(fixture("voicenter-cdr-ack-response.json")))
        c = self.call("20250615104512031207c4a19be2f05d")
        self.assertEqual(c["direction"], "in")
        self.assertEqual((c["caller"], c["callee"], c["did"]), ("0528812345", "0733750100", "0733750100"))
        self.assertEqual(c["caller_e164"], "972528812345")
        self.assertEqual(iso(c["started_at"]), "2025-06-15T07:45:12+00:00")
        self.assertEqual((c["billable_s"], c["duration_s"]), (142, 166))
        self.assertEqual(c["disposition"], "answered")
        self.assertEqual((c["agent"], c["agent_name"]), ("Rk7pQ2xL", "דנה כהן"))
        self.assertEqual(self.recordings(c), [(0, None, "https://cpanel.voicenter.co.il/CallsHistory/"
                                                        "PlayRecord/20250615104512031207c4a19be2f05d-aws.mp3")])
        self.assertEqual(c["raw"]["IVR"][1]["layer_name"], "מכירות")

    def test_voicenter_missed_with_ivr_as_a_string(self):
        self.voicenter()
        r = self.send("vc", fixture("voicenter-cdr-missed.json"))
        self.assertEqual(r.status, 200, r)
        c = self.call("2025061518024008e41b7d03a6c2f9b4")
        self.assertEqual(c["disposition"], "missed")  # ABANDONE: a queue abandon
        self.assertEqual(iso(c["started_at"]), "2025-06-15T15:02:40+00:00")
        self.assertEqual((c["billable_s"], c["duration_s"]), (0, 47))
        self.assertIsNone(c["agent"])
        self.assertEqual(self.recordings(c), [])
        # The JSON-encoded IVR path is kept as the array it encodes.
        self.assertEqual(c["raw"]["IVR"][0]["layer_name"], "תפריט ראשי")

    def test_voicenter_form_and_query_string(self):
        """The answered example as a form post (+ and %20) and as a GET."""
        self.voicenter()
        payload = json.loads(fixture("voicenter-cdr-answered.json"))
        flat = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else str(v))
                for k, v in payload.items()}
        form = urllib.parse.urlencode(dict(flat, ivruniqueid="vc-form"))
        r = self.send("vc", form, "application/x-www-form-urlencoded")
        self.assertEqual(r.status, 200, r)
        pct = urllib.parse.urlencode(dict(flat, ivruniqueid="vc-get"), quote_via=urllib.parse.quote)
        r = self.push(method="GET", path=f"/v1/cdr/vc?{pct}&key={SECRET}", auth=False)
        self.assertEqual(r.status, 200, r)
        for call_id in ("vc-form", "vc-get"):
            c = self.call(call_id)
            self.assertEqual(iso(c["started_at"]), "2025-06-15T07:45:12+00:00", call_id)
            self.assertEqual((c["billable_s"], c["disposition"]), (142, "answered"), call_id)
            self.assertEqual(c["agent_name"], "דנה כהן", call_id)
            self.assertEqual(c["raw"]["queuename"], "מכירות", call_id)
            self.assertEqual(c["raw"]["IVR"][0]["layer_id"], 8650, call_id)

    # ---- Ringostat -----------------------------------------------------------

    def test_ringostat_start_then_end(self):
        self.add("rs", "--vendor", "ringostat", "--time-zone", "Europe/Kyiv",
                 "--country-code", "380", "--trunk-prefix", "0")
        r = self.send("rs", fixture("ringostat-call-start.json"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "stored")
        c = self.call("ua-1750071807.48213")
        self.assertEqual(c["disposition"], "in_progress")  # a call start is never a missed call
        self.assertEqual(iso(c["started_at"]), "2025-06-16T11:03:27+00:00")
        self.assertEqual((c["caller"], c["callee"]), ("380671234567", "380443334455"))
        r = self.send("rs", fixture("ringostat-call-end.json"))
        self.assertEqual(r.json()["status"], "updated")
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 1)
        c = self.call("ua-1750071807.48213")
        self.assertEqual(c["disposition"], "answered")  # PROPER
        self.assertEqual((c["billable_s"], c["duration_s"]), (187, 204))
        self.assertEqual(iso(c["started_at"]), "2025-06-16T11:03:27+00:00")
        self.assertEqual((c["agent"], c["agent_name"]), ("mebliua_olena", "Олена Коваленко"))
        self.assertEqual(c["raw"]["employee_number"], "101")
        self.assertEqual(self.recordings(c), [
            (0, None, "https://records.ringostat.example/ua-1750071807.48213.mp3"),
            (1, None, "https://records.ringostat.example/ua-1750071807.48213.wav")])
        # A late "before the call" webhook does not undo the end.
        r = self.send("rs", fixture("ringostat-call-start.json"))
        self.assertEqual(r.json()["status"], "ignored")

    def test_ringostat_keys_under_additional_call_data(self):
        self.add("rs", "--vendor", "ringostat", "--time-zone", "Europe/Kyiv",
                 "--country-code", "380", "--trunk-prefix", "0")
        body = {"uniqueid": "ua-2", "calldate": "2025-06-16 14:03:27",
                "additional_call_data": {"call_type": "in", "dst": "0443334455", "disposition": "NO ANSWER",
                                         "billsec": "0", "duration": "31"},
                "caller": "0671234567"}
        r = self.send("rs", json.dumps(body))
        self.assertEqual(r.status, 200, r)
        c = self.call("ua-2")
        self.assertEqual((c["direction"], c["disposition"], c["duration_s"]), ("in", "missed", 31))
        self.assertEqual((c["caller_e164"], c["callee_e164"]), ("380671234567", "380443334455"))

    # ---- FreeSWITCH ----------------------------------------------------------

    def freeswitch(self):
        self.add("fs", "--vendor", "freeswitch", "--time-zone", "Europe/Budapest",
                 "--country-code", "36", "--trunk-prefix", "06")

    def check_fs_a_leg(self):
        c = self.call("3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41")
        self.assertEqual(c["direction"], "in")
        self.assertEqual((c["caller"], c["caller_name"], c["callee"]), ("+36301234567", "Kovács Éva", "3614567890"))
        self.assertEqual((c["caller_e164"], c["callee_e164"]), ("36301234567", "3614567890"))
        self.assertEqual(iso(c["started_at"]), "2025-06-16T09:20:05+00:00")
        self.assertEqual((c["billable_s"], c["duration_s"]), (187, 204))
        self.assertEqual(c["disposition"], "answered")
        self.assertEqual((c["agent"], c["agent_name"]), ("1002", "Tóth Gábor"))
        self.assertEqual(self.recordings(c), [(0, "/var/lib/freeswitch/recordings/pbx.example.hu/archive/2025/"
                                                  "Jun/16/3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41.wav", None)])
        self.assertIsNone(c["leg_of"])
        return c

    def test_freeswitch_json_and_its_form_twin_are_one_row(self):
        self.freeswitch()
        q = "?uuid=3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41"
        r = self.push(fixture("freeswitch-json-cdr.json"), path="/v1/cdr/fs" + q, auth=False,
                      headers={"Content-Type": "application/json",
                               "User-Agent": "freeswitch-json/1.0"}, basic=("freeswitch", SECRET))
        self.assertEqual(r.json()["status"], "stored", r)
        first = self.check_fs_a_leg()
        r = self.send("fs", fixture("freeswitch-json-cdr-urlencoded.form").strip(),
                      "application/x-www-form-urlencoded", q)
        self.assertEqual(r.json()["status"], "duplicate", r)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 1)
        self.assertEqual(self.check_fs_a_leg()["raw"], first["raw"])

    def test_freeswitch_base64(self):
        self.freeswitch()
        b64 = base64.b64encode(fixture("freeswitch-json-cdr.json")).decode()
        r = self.send("fs", "cdr=" + b64, "application/x-www-form-base64-encoded")
        self.assertEqual(r.status, 200, r)
        self.check_fs_a_leg()

    def test_freeswitch_encoded_values_in_raw_json(self):
        """encode=false, encode-values=true: variables percent-encoded."""
        self.freeswitch()
        form = fixture("freeswitch-json-cdr-urlencoded.form").decode().strip()
        inner = urllib.parse.parse_qs(form)["cdr"][0]
        self.assertIn("Kov%C3%A1cs", inner)
        r = self.send("fs", inner)
        self.assertEqual(r.status, 200, r)
        self.check_fs_a_leg()

    def test_freeswitch_b_leg_is_kept_apart(self):
        self.freeswitch()
        self.send("fs", fixture("freeswitch-json-cdr.json"))
        b = json.loads(fixture("freeswitch-json-cdr.json"))
        b["channel_data"]["direction"] = "outbound"
        b["variables"].update(uuid="9e1d7c3b-2a4f-4e8d-b6c5-1f0e9d8c7b62", direction="outbound",
                              originating_leg_uuid="3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41",
                              destination_number="1002")
        r = self.send("fs", json.dumps(b))
        self.assertEqual(r.json()["status"], "stored", r)
        leg = self.call("9e1d7c3b-2a4f-4e8d-b6c5-1f0e9d8c7b62")
        self.assertEqual(leg["leg_of"], "3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41")
        self.assertIsNone(leg["lead_id"])
        a = self.check_fs_a_leg()
        self.assertIsNotNone(a["lead_id"])
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)

    # ---- Asterisk ------------------------------------------------------------

    def asterisk(self, name="ast"):
        self.add(name, "--vendor", "asterisk", "--time-zone", "Europe/Budapest",
                 "--country-code", "36", "--trunk-prefix", "06")

    def test_asterisk_json(self):
        self.asterisk()
        r = self.send("ast", fixture("asterisk-cdr.json"))
        self.assertEqual(r.status, 200, r)
        c = self.call("1750065605.2731")
        self.assertEqual(c["direction"], "in")
        self.assertEqual((c["caller"], c["caller_name"], c["callee"], c["did"]),
                         ("36301234567", "Nagy Péter", "1002", "3614567890"))
        self.assertEqual(iso(c["started_at"]), "2025-06-16T09:20:05+00:00")  # 11:20:05 in Budapest
        self.assertEqual((c["billable_s"], c["duration_s"], c["disposition"]), (187, 204, "answered"))
        self.assertEqual(c["agent"], "1002")
        self.assertEqual(self.recordings(c), [
            (0, "external-1002-36301234567-20250616-112005-1750065605.2731.wav", None)])

    def test_asterisk_master_csv_lines(self):
        self.asterisk()
        lines = fixture("asterisk-master.csv").decode().splitlines(keepends=True)
        for line in lines:
            r = self.send("ast", line, "text/csv")
            self.assertEqual(r.status, 200, r)
        c = self.call("1750065605.2731")
        self.assertEqual((c["caller_name"], c["callee"], c["agent"], c["disposition"]),
                         ("Nagy Péter", "1002", "1002", "answered"))
        self.assertEqual(iso(c["started_at"]), "2025-06-16T09:20:05+00:00")
        c = self.call("1750085271.2790")
        self.assertEqual((c["disposition"], c["billable_s"], c["answered_at"]), ("missed", 0, None))
        self.assertEqual(c["raw"]["clid"], '"Szabó Ádám" <36209876543>')
        r = self.send("ast", "".join(lines), "text/csv")
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_csv"))

    def test_asterisk_ami_cdr_event_as_text(self):
        self.asterisk()
        self.voicenter()
        event = fixture("asterisk-ami-cdr.txt")
        r = self.send("ast", event, "text/plain")
        self.assertEqual((r.status, r.json()["status"]), (200, "stored"), r)
        c = self.call("1750065605.2731")
        self.assertEqual((c["direction"], c["caller"], c["caller_name"], c["callee"], c["agent"]),
                         ("in", "36301234567", "Nagy Péter", "1002", "1002"))
        self.assertEqual(iso(c["started_at"]), "2025-06-16T09:20:05+00:00")  # 11:20:05 in Budapest
        self.assertEqual((c["billable_s"], c["duration_s"], c["disposition"]), (187, 204, "answered"))
        self.assertEqual((c["raw"]["Event"], c["raw"]["AccountCode"]), ("Cdr", ""))
        # LF line ends and a charset are the same event: nothing new
        r = self.send("ast", event.replace(b"\r\n", b"\n"), "text/plain; charset=utf-8")
        self.assertEqual((r.status, r.json()["status"]), (200, "duplicate"), r)
        # another profile does not read AMI events; other text is not a push
        r = self.send("vc", event, "text/plain")
        self.assertEqual((r.status, r.json()["error"]), (415, "unsupported_media_type"), r)
        r = self.send("ast", "hello, this is not a CDR\n", "text/plain")
        self.assertEqual((r.status, r.json()["error"]), (415, "unsupported_media_type"), r)
        self.assertIn("Key: Value", r.json()["message"])
        r = self.send("ast", event + b"Event: Cdr\r\nUniqueID: 2\r\n", "text/plain")
        self.assertEqual((r.status, r.json()["error"]), (415, "unsupported_media_type"), r)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 3)
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 1)

    def test_csv_to_a_vendor_without_columns_is_refused(self):
        self.voicenter()
        r = self.send("vc", "a,b,c\n", "text/csv")
        self.assertEqual((r.status, r.json()["error"]), (415, "unsupported_media_type"))
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 1)

    # ---- custom mappings -----------------------------------------------------

    def test_vipex_with_a_custom_mapping(self):
        mapping = f"{FIXTURES}/custom/vipex-mapping.json"
        self.add("vipex", "--vendor", "custom", "--mapping-file", mapping,
                 "--time-zone", "Europe/Budapest", "--country-code", "36", "--trunk-prefix", "06")
        r = self.send("vipex", read_fixture(FIXTURES, "custom", "vipex-push.json"))
        self.assertEqual(r.status, 200, r)
        c = self.call("vpx-20250616-000123")
        self.assertEqual((c["direction"], c["disposition"]), ("in", "answered"))
        self.assertEqual((c["caller_e164"], c["callee_e164"]), ("36301234567", "3614567890"))
        self.assertEqual((c["agent"], c["agent_name"]), ("201", "Tóth Gábor"))
        self.assertEqual(iso(c["started_at"]), "2025-06-16T09:20:05+00:00")
        self.assertEqual(self.recordings(c), [(0, "ZXh0LTIwMS0xNzUwMDY1NjA1", None)])

    def test_a_bad_mapping_is_refused_by_the_cli(self):
        bad = f"{self.daemon.dir}/bad-mapping.json"
        with open(bad, "w") as f:
            json.dump({"fields": {"call_id": "id", "started": "start"}}, f)
        p = ringlog("source", "add", "vx", "--vendor", "custom", "--mapping-file", bad,
                    "--secret-file", "-", input="s3cret\n", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("fields.started: not a canonical field", p.stderr)
        self.assertIsNone(scalar("SELECT 1 FROM sources WHERE name = 'vx'"))
        p = ringlog("source", "add", "vy", "--vendor", "custom", "--secret-file", "-",
                    input="s3cret\n", check=False)
        self.assertIn("needs a mapping", p.stderr)
