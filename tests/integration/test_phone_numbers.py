"""Phone numbers as libphonenumber reads them (issue 17): a source's region,
the hard cases through a real push, withheld and invalid callers, numbers
for people in the API and the export, and re-reading stored numbers."""
import csv
import io
import re

from fetcher_fixtures import FetcherCase, insert_call, insert_lead
from harness import IngestCase, add_source, query, request, ringlog, row, scalar


def metric(port, name, labels):
    body = request(port, "GET", "/metrics").body.decode()
    m = re.search(r"^%s\{%s\} (\d+)$" % (re.escape(name), re.escape(labels)), body, re.M)
    return int(m.group(1)) if m else None


class Pushes(IngestCase):
    """Source acme: Budapest, --country-code 36 --trunk-prefix 06 (region HU
    from the country code); others get --region."""

    def call(self, call_id, caller, source="acme", secret=None, direction="in", callee="1002"):
        body = {"call_id": call_id, "direction": direction, "disposition": "answered",
                "started_at": "2025-06-16T09:20:05Z", "billsec": 30,
                "caller": caller, "callee": callee, "agent": "1002"}
        r = self.push(body, path=f"/v1/cdr/{source}",
                      headers={"X-Api-Key": secret} if secret else None, auth=secret is None)
        self.assertEqual(r.status, 200, r)
        return row("SELECT c.*, l.phone AS lead_phone FROM calls c LEFT JOIN leads l ON l.id = c.lead_id"
                   " JOIN sources s ON s.id = c.source_id WHERE s.name = %s AND pbx_call_id = %s",
                   source, call_id)

    def test_seed_countries_and_hard_cases_make_one_lead_each(self):
        add_source("ar", "ar-push-secret-1", "--region", "ar")
        add_source("it", "it-push-secret-1", "--region", "IT")
        add_source("us", "us-push-secret-1", "--region", "US")
        add_source("il", "il-push-secret-1", "--country-code", "972", "--trunk-prefix", "0")
        add_source("ua", "ua-push-secret-1", "--country-code", "380", "--trunk-prefix", "0")
        cases = [  # source, secret, raw, E.164
            ("acme", None, "06 30 123 4567", "36301234567"),
            ("il", "il-push-secret-1", "052-881-2345", "972528812345"),
            ("ua", "ua-push-secret-1", "067 123 45 67", "380671234567"),
            ("it", "it-push-secret-1", "06 1234 5678", "390612345678"),
            ("us", "us-push-secret-1", "1 (202) 555-0100", "12025550100"),
            ("us", "us-push-secret-1", "011 36 30 123 4567", "36301234567"),
            ("ar", "ar-push-secret-1", "011 15 2345 6789", "5491123456789"),
        ]
        for i, (source, secret, raw, e164) in enumerate(cases):
            c = self.call(f"hard-{i}", raw, source, secret)
            self.assertEqual((c["caller"], c["caller_e164"], c["lead_phone"]), (raw, e164, e164), source)
        # +54 9 11 ... from anywhere is the Argentine lead already there.
        c = self.call("hard-again", "+54 9 11 2345 6789")
        self.assertEqual(scalar("SELECT count(*) FROM leads WHERE phone = '5491123456789'"), 1)
        self.assertEqual(c["lead_phone"], "5491123456789")
        # The Hungarian mobile dialled from the US source is the same person.
        self.assertEqual(scalar("SELECT count(*) FROM leads WHERE phone = '36301234567'"), 1)

    def test_withheld_callers_never_become_leads(self):
        for i, raw in enumerate(["anonymous", "Anonymous", "unknown", "Restricted", "PRIVATE",
                                 "112", "*31#", "sip:anonymous@anonymous.invalid"]):
            c = self.call(f"withheld-{i}", raw)
            self.assertEqual((c["caller"], c["caller_e164"], c["lead_id"]), (raw, None, None), raw)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        self.assertEqual(metric(self.port, "ringlog_phone_invalid_total", 'source="acme"'), None)

    def test_a_number_valid_nowhere_is_kept_as_sent_and_counted(self):
        # An older ringlog made these digits a lead; they match nothing now.
        query("INSERT INTO leads (phone, name) VALUES ('36991234567', 'old')")
        c = self.call("invalid-1", "06 99 123 4567")
        self.assertEqual((c["caller"], c["caller_e164"], c["lead_id"]), ("06 99 123 4567", None, None))
        c = self.call("invalid-2", "+999 123 4567", direction="out", callee="+999 123 4567")
        self.assertEqual((c["callee"], c["callee_e164"], c["lead_id"]), ("+999 123 4567", None, None))
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)
        self.assertEqual(metric(self.port, "ringlog_phone_invalid_total", 'source="acme"'), 3)
        c = self.call("valid-1", "06 30 123 4567")
        self.assertEqual(metric(self.port, "ringlog_phone_invalid_total", 'source="acme"'), 3)


class SourceRegion(IngestCase):
    def test_region_is_set_shown_checked_and_cleared(self):
        ringlog("source", "update", "acme", "--region", "hu")
        self.assertEqual(scalar("SELECT region FROM sources WHERE name = 'acme'"), "HU")
        self.assertRegex(ringlog("source", "show", "acme").stdout, r"(?m)^region +HU$")
        p = ringlog("source", "update", "acme", "--region", "XX", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a region libphonenumber knows", p.stderr)
        ringlog("source", "update", "acme", "--region", "")
        self.assertIsNone(scalar("SELECT region FROM sources WHERE name = 'acme'"))

    def test_lead_cli_reads_in_a_region(self):
        out = ringlog("lead", "add", "011 15 2345 6789", "--region", "AR").stdout
        self.assertIn("+5491123456789", out)
        p = ringlog("lead", "add", "06 99 123 4567", "--source", "acme", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a public phone number", p.stderr)


class ForPeople(FetcherCase):
    def test_calls_and_leads_carry_display_and_type(self):
        lead = insert_lead("36301234567", "Kovács Éva")
        insert_call("a", "2025-06-10 08:00:00+00", caller="06301234567", caller_e164="36301234567",
                    callee="1002", lead_id=lead)
        insert_call("b", "2025-06-10 09:00:00+00", direction="out", caller="1002",
                    callee="06 80 123 456", callee_e164="3680123456")
        insert_call("c", "2025-06-10 10:00:00+00", caller="anonymous")
        calls = {c["call_id"]: c for c in self.ok("/v1/calls")["calls"]}
        a = calls["a"]
        self.assertEqual((a["caller_display"], a["caller_type"]), ("+36 30 123 4567", "mobile"))
        self.assertEqual((a["callee_display"], a["callee_type"]), ("1002", None))
        self.assertEqual((a["lead"]["phone_display"], a["lead"]["phone_type"]),
                         ("+36 30 123 4567", "mobile"))
        self.assertEqual((calls["b"]["callee_display"], calls["b"]["callee_type"]),
                         ("+36 80 123 456", "toll_free"))
        self.assertEqual((calls["c"]["caller_display"], calls["c"]["caller_type"]), ("anonymous", None))
        one = self.ok(f"/v1/calls/{a['id']}")
        self.assertEqual(one["caller_display"], "+36 30 123 4567")
        leads = self.ok("/v1/leads", phone="+36301234567")["leads"]
        self.assertEqual(leads[0]["phone_display"], "+36 30 123 4567")
        self.assertEqual(self.ok(f"/v1/leads/{lead}")["phone_type"], "mobile")

    def export(self, **params):
        r = self.get("/v1/export.csv", **{"from": "2025-06-10", "to": "2025-06-10", **params})
        self.assertEqual(r.status, 200, r)
        return list(csv.DictReader(io.StringIO(r.body.decode(), newline=""),
                                   delimiter=params.get("delimiter", ",")))

    def test_export_phone_format(self):
        insert_call("a", "2025-06-10 08:00:00+00", caller="06301234567", caller_e164="36301234567",
                    callee="1002", did="+36 1 456 7890")
        insert_call("b", "2025-06-10 09:00:00+00", direction="out", caller="1002",
                    callee="+44 20 7946 0958", callee_e164="442079460958")
        insert_call("c", "2025-06-10 10:00:00+00", caller="+999 123 4567", callee="1002")
        want = {
            None: ("+36301234567", "+442079460958"),
            "e164": ("+36301234567", "+442079460958"),
            "international": ("+36 30 123 4567", "+44 20 7946 0958"),
            "national": ("06 30 123 4567", "020 7946 0958"),
        }
        for fmt, (hu, uk) in want.items():
            for delimiter in (",", ";"):
                params = {"delimiter": delimiter}
                if fmt:
                    params["phone_format"] = fmt
                rows = {r["call_id"]: r for r in self.export(**params)}
                self.assertEqual((rows["a"]["caller"], rows["b"]["callee"]), (hu, uk), fmt)
                # What is no valid number, extensions and the DID stay as sent.
                self.assertEqual(rows["c"]["caller"], "+999 123 4567")
                self.assertEqual((rows["a"]["callee"], rows["a"]["did"]), ("1002", "+36 1 456 7890"))
        # National with a source: foreign numbers as dialled from Hungary.
        rows = {r["call_id"]: r for r in self.export(phone_format="national", source="acme")}
        self.assertEqual((rows["a"]["caller"], rows["b"]["callee"]),
                         ("06 30 123 4567", "00 44 20 7946 0958"))
        self.bad("/v1/export.csv", "invalid_parameter", "phone_format",
                 **{"from": "2025-06-10", "to": "2025-06-10", "phone_format": "pretty"})


class Renormalize(IngestCase):
    """Numbers an older ringlog stored with country code and trunk prefix
    alone: Argentine mobiles without their 9 and with their 15."""

    def setUp(self):
        super().setUp()
        add_source("ar", "ar-push-secret-1", "--country-code", "54", "--trunk-prefix", "0")

    def old_call(self, pbx_id, raw, old_e164, source="ar", lead=None):
        return scalar("""INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller,
                             caller_e164, callee, started_at, lead_id, raw)
                         VALUES ((SELECT id FROM sources WHERE name = %s), %s, 'in', 'answered',
                                 %s, %s, '1002', '2025-06-10 08:00:00+00', %s, '{}') RETURNING id""",
                      source, pbx_id, raw, old_e164, lead)

    def test_batches_resume_and_duplicates_are_listed(self):
        old = scalar("INSERT INTO leads (phone, name, origin) VALUES ('54111523456789', 'old', 'ringlog')"
                     " RETURNING id")
        crm = scalar("INSERT INTO leads (phone, name, crm_id) VALUES ('5491123456789', 'Juan', 'c-1')"
                     " RETURNING id")
        ids = [self.old_call(f"ar-{i}", "011 15 2345 6789", "54111523456789", lead=old) for i in range(5)]
        ids.append(self.old_call("hu-ok", "06 30 123 4567", "36301234567", source="acme"))
        ids.append(self.old_call("hu-bad", "06 99 123 4567", "36991234567", source="acme"))
        # A run that stopped after the first three calls: the rest is done now.
        query("INSERT INTO phone_renormalize (target, last_id) VALUES ('calls', %s)", ids[2])
        out = ringlog("phones", "renormalize", "--batch", "2").stdout
        self.assertIn("calls: 4 read, 3 changed, 1 valid for no region", out)
        self.assertIn("leads: 2 read, 1 changed, 0 valid for no region", out)
        self.assertIn("1 numbers have more than one open lead", out)
        e164 = dict(query("SELECT pbx_call_id, caller_e164 FROM calls"))
        self.assertEqual([e164[f"ar-{i}"] for i in range(5)], ["54111523456789"] * 3 + ["5491123456789"] * 2)
        self.assertEqual((e164["hu-ok"], e164["hu-bad"]), ("36301234567", None))
        self.assertEqual(row("SELECT last_id, rows_seen, finished_at IS NOT NULL AS done"
                             " FROM phone_renormalize WHERE target = 'calls'"),
                         {"last_id": ids[-1], "rows_seen": 4, "done": True})
        # Both leads are kept, open, and listed.
        self.assertEqual(query("SELECT id, phone, status FROM leads ORDER BY id"),
                         [(old, "5491123456789", "open"), (crm, "5491123456789", "open")])
        dup = ringlog("lead", "duplicates").stdout
        self.assertRegex(dup, r"\+54 9 11 2345-6789 +%d +old" % old)
        self.assertRegex(dup, r"(?m)^ +%d +Juan +c-1" % crm)
        self.assertIn("1 number with more than one open lead", dup)
        # Done: a second run reads nothing; --restart reads everything again.
        out = ringlog("phones", "renormalize").stdout
        self.assertIn("calls: 0 read", out)
        self.assertIn("already done", out)
        out = ringlog("phones", "renormalize", "--restart", "--batch", "1000").stdout
        self.assertIn("calls: 7 read, 3 changed", out)
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE caller_e164 = '54111523456789'"), 0)
        p = ringlog("phones", "renormalize", "--batch", "0", check=False)
        self.assertEqual(p.returncode, 2)
