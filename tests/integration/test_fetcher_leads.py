"""Leads and tasks: the CRM syncs its contacts in (by its id or by phone),
looks them up by phone, and works through missed-call tasks."""
from fetcher_fixtures import FetcherCase, insert_call, insert_lead
from harness import execute, row, scalar


class LeadSync(FetcherCase):
    def test_create_then_update_by_crm_id(self):
        # earlier calls of the number, with no lead yet, join the new lead
        insert_call("in-1", "2025-06-01 08:00+00", caller="+36 30 999 0001", caller_e164="36309990001")
        insert_call("out-1", "2025-06-02 08:00+00", direction="out", callee_e164="36309990001")
        insert_call("other", "2025-06-02 09:00+00", caller_e164="36309990002")
        r = self.post("/v1/leads", {"crm_id": "crm-1", "phone": "+36 30 999 0001", "name": "Шевченко Олена",
                                    "company": "Київ Ltd", "crm_url": "https://crm.example/c/1",
                                    "responsible": "anna"})
        self.assertEqual(r.status, 201, r)
        lead = r.json()["lead"]
        self.assertEqual(r.json()["status"], "created")
        self.assertEqual(r.json()["linked_calls"], 2)
        self.assertEqual((lead["phone"], lead["name"], lead["origin"]), ("36309990001", "Шевченко Олена", "crm"))
        self.assertEqual(sorted(c["call_id"] for c in self.ok("/v1/calls", lead_id=lead["id"])["calls"]),
                         ["in-1", "out-1"])

        r = self.post("/v1/leads", {"crm_id": "crm-1", "company": None, "status": "closed"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "updated")
        after = r.json()["lead"]
        self.assertEqual((after["id"], after["name"], after["company"], after["status"]),
                         (lead["id"], "Шевченко Олена", "", "closed"))  # absent kept, null cleared
        again = self.post("/v1/leads", {"crm_id": "crm-1", "status": "closed"})
        self.assertEqual(again.json()["status"], "unchanged")
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 1)

    def test_by_phone_updates_the_open_lead_and_adopts_ringlogs_own(self):
        own = insert_lead("36309990003", "36309990003", origin="ringlog")
        r = self.post("/v1/leads", {"phone": "06 30 999 0003", "name": "Nagy Péter"}, path_query="acme")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["status"], r.json()["lead"]["id"]), ("updated", own))
        # a new CRM id on ringlog's lead of that number: adopted, not duplicated
        r = self.post("/v1/leads", {"crm_id": 42, "phone": "+36309990003"})
        self.assertEqual((r.status, r.json()["lead"]["id"], r.json()["lead"]["crm_id"]), (200, own, "42"))
        # another CRM contact with the same number is another lead
        r = self.post("/v1/leads", {"crm_id": "43", "phone": "+36309990003", "name": "Nagy Anna"})
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json()["lead"]["id"], own)
        found = self.ok("/v1/leads", phone="06309990003", source="acme")["leads"]
        self.assertEqual([l["crm_id"] for l in found], ["42", "43"])

    def test_a_batch_is_all_or_nothing(self):
        good = {"crm_id": "b-1", "phone": "+36309990010", "name": "Kiss, \"Jóska\""}
        r = self.post("/v1/leads", [good, {"crm_id": "b-2", "phone": "not a number"}])
        self.assertEqual(r.status, 422, r)
        self.assertEqual((r.json()["error"], r.json()["field"], r.json()["index"]), ("invalid_field", "phone", 1))
        # no phone for an unknown crm_id: found out by the database, still nothing kept
        r = self.post("/v1/leads", [good, {"crm_id": "b-3", "name": "x"}])
        self.assertEqual((r.status, r.json()["index"]), (422, 1))
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        r = self.post("/v1/leads", [good, dict(good, name="Kiss József"), {"crm_id": "b-4", "phone": "+972528812345"}])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["status"] for x in r.json()["results"]], ["created", "updated", "created"])
        self.assertEqual(row("SELECT name FROM leads WHERE crm_id = 'b-1'")["name"], "Kiss József")

    def test_refusals(self):
        cases = [({"phone": "+36309990011", "colour": "red"}, "colour"),
                 ({"name": "nobody"}, "phone"),
                 ({"phone": "+36309990011", "crm_url": "javascript:alert(1)"}, "crm_url"),
                 ({"phone": "+36309990011", "status": "gone"}, "status"),
                 ({"phone": "+36309990011", "name": 7}, "name"),
                 ({"crm_id": "", "phone": "+36309990011"}, "crm_id")]
        for body, field in cases:
            r = self.post("/v1/leads", body)
            self.assertEqual((r.status, r.json().get("field")), (422, field), (body, r))
            self.assertNotIn("index", r.json())
        r = self.post("/v1/leads", '{"phone": ', headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.json()["error"]), (400, "invalid_json"))
        r = self.post("/v1/leads", "phone=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 415, r)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)

    def post(self, path, body=None, path_query=None, **kw):
        return super().post(path + (f"?source={path_query}" if path_query else ""), body, **kw)


class LeadLookup(FetcherCase):
    def test_by_phone_crm_id_status_and_pages(self):
        a = insert_lead("36301110001", "A", crm_id="x1")
        b = insert_lead("36301110001", "B", status="closed")
        c = insert_lead("36301110002", "C")
        self.assertEqual([l["id"] for l in self.ok("/v1/leads", phone="+36 30 111 0001")["leads"]], [a, b])
        self.assertEqual([l["id"] for l in self.ok("/v1/leads", phone="+36301110001", status="open")["leads"]], [a])
        self.assertEqual([l["id"] for l in self.ok("/v1/leads", crm_id="x1")["leads"]], [a])
        first = self.ok("/v1/leads", limit=2)
        second = self.ok("/v1/leads", limit=2, cursor=first["next_cursor"])
        self.assertEqual([l["id"] for l in first["leads"] + second["leads"]], [a, b, c])
        self.assertIsNone(second["next_cursor"])
        self.bad("/v1/leads", "invalid_parameter", "phone", phone="12")
        self.bad("/v1/leads", "invalid_cursor", "cursor", cursor="x" * 43)

    def test_one_lead_with_its_numbers(self):
        lead = insert_lead("36301110003", "Cohen", crm_id="c-3")
        insert_call("1", "2025-06-01 08:00+00", lead_id=lead)
        call = insert_call("2", "2025-06-03 08:00+00", lead_id=lead, disposition="missed")
        execute("INSERT INTO tasks (lead_id, call_id, assignee) VALUES (%s, %s, 'anna')", lead, call)
        got = self.ok(f"/v1/leads/{lead}")
        self.assertEqual((got["name"], got["crm_id"], got["calls_total"], got["open_tasks"], got["last_call_at"]),
                         ("Cohen", "c-3", 2, 1, "2025-06-03T08:00:00Z"))
        self.assertEqual(self.get("/v1/leads/999").status, 404)


class Tasks(FetcherCase):
    def setUp(self):
        super().setUp()
        self.lead = insert_lead("36301110004", "Task Lead")
        self.call = insert_call("m", "2025-06-01 08:00+00", disposition="missed", lead_id=self.lead)
        for i, who in enumerate(["anna", "bob", "anna", "anna"]):
            execute("""INSERT INTO tasks (lead_id, call_id, assignee, created_at)
                       VALUES (%s, %s, %s, timestamptz '2025-06-01 09:00+00' + %s * interval '1 minute')""",
                    self.lead, self.call, who, i)

    def test_open_tasks_of_an_assignee_oldest_first_in_pages(self):
        first = self.ok("/v1/tasks", assignee="anna", limit=2)
        second = self.ok("/v1/tasks", assignee="anna", limit=2, cursor=first["next_cursor"])
        self.assertEqual([t["id"] for t in first["tasks"] + second["tasks"]], [1, 3, 4])
        self.assertIsNone(second["next_cursor"])
        t = first["tasks"][0]
        self.assertEqual((t["status"], t["lead"]["name"], t["call"]["id"], t["call"]["disposition"]),
                         ("open", "Task Lead", self.call, "missed"))
        self.assertEqual([t["id"] for t in self.ok("/v1/tasks", lead_id=self.lead, assignee="bob")["tasks"]], [2])
        self.bad("/v1/tasks", "invalid_parameter", "status", status="later")

    def test_done_once_and_for_all(self):
        r = self.post("/v1/tasks/3/done")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "done")
        done_at = r.json()["done_at"]
        self.assertIsNotNone(done_at)
        again = self.post("/v1/tasks/3/done")
        self.assertEqual((again.status, again.json()["done_at"]), (200, done_at))
        self.assertEqual([t["id"] for t in self.ok("/v1/tasks", assignee="anna")["tasks"]], [1, 4])
        self.assertEqual([t["id"] for t in self.ok("/v1/tasks", status="done")["tasks"]], [3])
        self.assertEqual(len(self.ok("/v1/tasks", status="all")["tasks"]), 4)
        self.assertEqual(self.post("/v1/tasks/99/done").status, 404)
        self.assertEqual(self.get("/v1/tasks/3/done").status, 405)
