"""The lead rules (DESIGN.md and Ringostat's CRM logic, FORMATS.md §2.5):
leads, missed-call tasks, agent mapping, the per-source switch, and twenty
simultaneous pushes from one new number."""
import json
import threading

from harness import (VENDORS, IngestCase, add_source, execute, fetcherd, new_token, query,
                     read_fixture, request, ringlog, row, scalar)

# Agent 201 is Alice's extension; 299 is mapped to nobody. The source's
# default responsible is "boss"; a known lead belongs to "owner".
#
#  direction, lead,  disposition, agent  -> lead's responsible, missed-call task for,
#                                            check_agent_mapping task for
RULES = [
    ("in",  "new",   "answered", "mapped",   "alice", None,    None),
    ("in",  "new",   "answered", "unmapped", "boss",  None,    "boss"),
    ("in",  "new",   "missed",   "mapped",   "boss",  "boss",  None),
    ("in",  "new",   "missed",   "unmapped", "boss",  "boss",  None),
    ("in",  "known", "answered", "mapped",   "owner", None,    None),
    ("in",  "known", "answered", "unmapped", "owner", None,    "boss"),
    ("in",  "known", "missed",   "mapped",   "owner", "owner", None),
    ("in",  "known", "missed",   "unmapped", "owner", "owner", None),
    ("out", "new",   "answered", "mapped",   "alice", None,    None),
    ("out", "new",   "answered", "unmapped", "boss",  None,    "boss"),
    ("out", "new",   "missed",   "mapped",   "alice", None,    None),
    ("out", "new",   "missed",   "unmapped", "boss",  None,    "boss"),
    ("out", "known", "answered", "mapped",   "owner", None,    None),
    ("out", "known", "answered", "unmapped", "owner", None,    "boss"),
    ("out", "known", "missed",   "mapped",   "owner", None,    None),
    ("out", "known", "missed",   "unmapped", "owner", None,    "boss"),
]


class LeadRules(IngestCase):
    SOURCE_OPTIONS = ("--time-zone", "Europe/Budapest", "--country-code", "36",
                      "--trunk-prefix", "06", "--default-responsible", "boss")

    def setUp(self):
        super().setUp()
        ringlog("agent", "add", "acme", "201", "alice", "--name", "Alice Kiss")

    def call(self, call_id, direction, number, disposition, agent, **extra):
        body = {"call_id": call_id, "direction": direction, "disposition": disposition,
                "started_at": "2025-06-16T09:20:05Z", "agent": agent,
                "billsec": 60 if disposition == "answered" else 0}
        if direction == "in":
            body.update(caller=number, callee="06 1 456 7890")
        else:
            body.update(caller=agent, callee=number)
        body.update(extra)
        r = self.push(body)
        self.assertEqual(r.status, 200, r)
        return row("SELECT * FROM calls WHERE pbx_call_id = %s", call_id)

    def test_rules_table(self):
        for i, (direction, lead, disposition, agent, responsible, missed_for, check_for) in enumerate(RULES):
            case = f"{direction} {lead} {disposition} {agent}"
            number = f"06 30 555 {1000 + i:04d}"
            e164 = f"3630555{1000 + i:04d}"
            if lead == "known":
                execute("INSERT INTO leads (phone, name, responsible) VALUES (%s, 'Known', 'owner')", e164)
            extension = "201" if agent == "mapped" else "299"
            execute("DELETE FROM tasks WHERE kind = 'check_agent_mapping'")
            c = self.call(f"rule-{i}", direction, number, disposition, extension)
            leads = query("SELECT id, responsible, origin FROM leads WHERE phone = %s", e164)
            self.assertEqual(len(leads), 1, case)
            self.assertEqual(c["lead_id"], leads[0][0], case)
            self.assertEqual(leads[0][1], responsible, case)
            self.assertEqual(leads[0][2], "ringlog" if lead == "new" else "crm", case)
            missed = query("SELECT assignee FROM tasks WHERE kind = 'missed_call' AND call_id = %s", c["id"])
            self.assertEqual(missed, [(missed_for,)] if missed_for else [], case)
            check = query("SELECT assignee, extension FROM tasks WHERE kind = 'check_agent_mapping'")
            self.assertEqual(check, [(check_for, "299")] if check_for else [], case)

    def test_new_lead_is_named_by_the_caller(self):
        c = self.call("n-1", "in", "+36 30 555 7777", "answered", "201", caller_name="Kovács Éva")
        self.assertEqual(scalar("SELECT name FROM leads WHERE id = %s", c["lead_id"]), "Kovács Éva")
        c = self.call("n-2", "out", "+36 30 555 7778", "answered", "201")
        self.assertEqual(scalar("SELECT name FROM leads WHERE id = %s", c["lead_id"]), "+36305557778")

    def test_one_open_missed_task_per_lead_closed_by_an_answered_call(self):
        for i in range(3):
            self.call(f"m-{i}", "in", "06 30 555 8888", "missed", "201",
                      started_at=f"2025-06-16T09:2{i}:00Z")
        self.assertEqual(query("SELECT status, assignee FROM tasks WHERE kind = 'missed_call'"),
                         [("open", "boss")])
        # The call back: the task is done.
        self.call("m-back", "out", "06 30 555 8888", "answered", "201", started_at="2025-06-16T09:40:00Z")
        self.assertEqual(scalar("SELECT status FROM tasks WHERE kind = 'missed_call'"), "done")
        # An older answered call arriving late does not close a newer task.
        self.call("m-4", "in", "06 30 555 8888", "missed", "201", started_at="2025-06-16T10:00:00Z")
        self.call("m-old", "in", "06 30 555 8888", "answered", "201", started_at="2025-06-16T08:00:00Z")
        self.assertEqual(scalar("SELECT count(*) FROM tasks WHERE kind = 'missed_call' AND status = 'open'"), 1)

    def test_an_unmapped_extension_gets_one_settings_task(self):
        for i in range(3):
            self.call(f"u-{i}", "in", f"06 30 555 60{i:02d}", "answered", "299")
        self.assertEqual(query("SELECT assignee, extension, status FROM tasks"
                               " WHERE kind = 'check_agent_mapping'"), [("boss", "299", "open")])

    def test_no_lead_for_extensions_short_numbers_or_calls_in_progress(self):
        self.call("x-1", "in", "1002", "missed", "201")
        self.call("x-2", "in", "112", "answered", "201")
        self.call("x-3", "internal", "1003", "answered", "201", caller="201", callee="1003")
        self.call("x-4", "in", "06 30 555 9999", "in_progress", "201", billsec=None)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM tasks WHERE kind = 'missed_call'"), 0)
        # The call ends: now it is a missed call of a new lead.
        c = self.call("x-4", "in", "06 30 555 9999", "missed", "201")
        self.assertIsNotNone(c["lead_id"])
        self.assertEqual(scalar("SELECT count(*) FROM tasks WHERE kind = 'missed_call'"), 1)

    def test_switched_off_leads_are_only_linked(self):
        ringlog("source", "update", "acme", "--no-leads")
        execute("INSERT INTO leads (phone, name, responsible) VALUES ('36305550001', 'K', 'owner')")
        known = self.call("o-1", "in", "06 30 555 0001", "missed", "299")
        new = self.call("o-2", "in", "06 30 555 0002", "missed", "299")
        self.assertIsNotNone(known["lead_id"])
        self.assertIsNone(new["lead_id"])
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)
        self.assertEqual(scalar("SELECT count(*) FROM tasks"), 0)

    def test_the_national_and_international_forms_are_one_lead(self):
        a = self.call("f-1", "in", "06 30 555 4321", "answered", "201")
        b = self.call("f-2", "in", "+36305554321", "missed", "201")
        c = self.call("f-3", "out", "0036 30 555 4321", "answered", "201")
        self.assertEqual({a["lead_id"], b["lead_id"], c["lead_id"]}, {a["lead_id"]})

    def test_twenty_simultaneous_pushes_from_a_new_number_make_one_lead(self):
        answers = {}

        def send(i):
            body = {"call_id": f"c-{i}", "direction": "in", "caller": "+36 30 999 0000",
                    "callee": "061 456 7890", "disposition": "missed" if i % 2 else "answered",
                    "started_at": f"2025-06-16T09:{i:02d}:00Z", "agent": "201",
                    "billsec": 0 if i % 2 else 30}
            answers[i] = request(self.port, "POST", "/v1/cdr/acme", body, {"X-Api-Key": self.SECRET})

        threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(a.status for a in answers.values()), [200] * 20,
                         {i: a.body[:200] for i, a in answers.items() if a.status != 200})
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)
        lead = scalar("SELECT id FROM leads")
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE lead_id = %s", lead), 20)
        self.assertLessEqual(scalar("SELECT count(*) FROM tasks WHERE kind = 'missed_call'"
                                    " AND status = 'open'"), 1)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 0)

    def test_a_crm_sync_and_a_push_of_one_new_number_make_one_lead(self):
        """The CRM posts a new contact while its first call is being pushed:
        whichever comes first makes the lead, the other finds it."""
        fetcher = fetcherd("leads-race")
        token = new_token("leads-race")
        answers = []

        def push(i):
            answers.append(request(self.port, "POST", "/v1/cdr/acme", {
                "call_id": f"race-{i}", "direction": "in", "caller": f"+36 30 555 {i:04d}",
                "callee": "061 456 7890", "disposition": "missed",
                "started_at": "2025-06-16T09:00:00Z", "billsec": 0}, {"X-Api-Key": self.SECRET}))

        def sync(i):
            answers.append(request(fetcher.port, "POST", "/v1/leads",
                                   {"crm_id": f"crm-{i}", "phone": f"+36305550{i:03d}"},
                                   {"Authorization": f"Bearer {token}"}))

        try:
            for i in range(40):
                threads = [threading.Thread(target=f, args=(i,)) for f in (push, sync)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        finally:
            self.assertEqual(fetcher.stop(), 0)
        self.assertTrue(all(a.status in (200, 201) for a in answers),
                        [a.body[:200] for a in answers if a.status not in (200, 201)])
        per_number = query("SELECT phone, count(*) FROM leads WHERE status = 'open' GROUP BY phone")
        self.assertEqual(len(per_number), 40)
        self.assertEqual([(phone, n) for phone, n in per_number if n != 1], [])
        self.assertEqual(scalar("SELECT count(*) FROM leads WHERE crm_id IS NULL"), 0)
        self.assertEqual(scalar("SELECT count(*) FROM calls WHERE lead_id IS NULL"), 0)


class RingostatLeads(IngestCase):
    """README: a new caller answered -> a lead owned by the answering agent."""
    SOURCE_OPTIONS = ("--vendor", "ringostat", "--time-zone", "Europe/Kyiv", "--country-code", "380",
                      "--trunk-prefix", "0", "--default-responsible", "top-manager")

    def test_call_start_creates_nothing_the_end_a_lead_for_the_answerer(self):
        ringlog("agent", "add", "acme", "mebliua_olena", "olena@crm", "--name", "Олена Коваленко")
        r = self.push(read_fixture(VENDORS, "ringostat-call-start.json"),
                      headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        r = self.push(read_fixture(VENDORS, "ringostat-call-end.json"),
                      headers={"Content-Type": "application/json"})
        self.assertEqual(r.json()["status"], "updated", r)
        lead = row("SELECT * FROM leads")
        self.assertEqual((lead["phone"], lead["responsible"]), ("380671234567", "olena@crm"))
        self.assertEqual(scalar("SELECT lead_id FROM calls"), lead["id"])
        self.assertEqual(scalar("SELECT count(*) FROM tasks"), 0)

    def test_an_unmapped_answering_account_tasks_the_default_responsible(self):
        self.push(read_fixture(VENDORS, "ringostat-call-end.json"), headers={"Content-Type": "application/json"})
        self.assertEqual(scalar("SELECT responsible FROM leads"), "top-manager")
        self.assertEqual(query("SELECT kind, assignee, extension FROM tasks"),
                         [("check_agent_mapping", "top-manager", "mebliua_olena")])



class VoicenterLeads(IngestCase):
    """README: a new caller missed -> a lead and a task for the missed-call owner."""
    SOURCE_OPTIONS = ("--vendor", "voicenter", "--time-zone", "Asia/Jerusalem", "--country-code", "972",
                      "--trunk-prefix", "0", "--default-responsible", "top-manager")

    def test_a_missed_call_from_a_new_caller(self):
        r = self.push(read_fixture(VENDORS, "voicenter-cdr-missed.json"),
                      headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        lead = row("SELECT * FROM leads")
        self.assertEqual((lead["phone"], lead["responsible"]), ("972547001122", "top-manager"))
        self.assertEqual(query("SELECT kind, assignee, lead_id FROM tasks"),
                         [("missed_call", "top-manager", lead["id"])])
