"""ringlog agent and ringlog lead, as an operator seeds a CRM's people and
leads."""
import os
import unittest

from harness import WORK, add_source, query, reset_database, ringlog, row, scalar


class Agents(unittest.TestCase):
    def setUp(self):
        reset_database()
        add_source("pbx", "s3cret")

    def test_add_list_update_remove(self):
        self.assertIn("agent 1002 of pbx -> gabor@crm added",
                      ringlog("agent", "add", "pbx", "1002", "gabor@crm", "--name", "Tóth Gábor").stdout)
        ringlog("agent", "add", "pbx", "mebliua_olena", "olena@crm")
        self.assertIn("updated", ringlog("agent", "add", "pbx", "1002", "eva@crm").stdout)
        self.assertEqual(query("SELECT extension, crm_user, name FROM agents ORDER BY extension"),
                         [("1002", "eva@crm", "Tóth Gábor"), ("mebliua_olena", "olena@crm", None)])
        listed = ringlog("agent", "list", "pbx").stdout.splitlines()
        self.assertEqual(len(listed), 3)
        self.assertIn("eva@crm", listed[1])
        ringlog("agent", "remove", "pbx", "1002")
        self.assertEqual(scalar("SELECT count(*) FROM agents"), 1)

    def test_mistakes(self):
        p = ringlog("agent", "add", "nope", "1002", "x", check=False)
        self.assertEqual((p.returncode, p.stderr.strip()), (1, 'ringlog: no source is called "nope"'))
        p = ringlog("agent", "remove", "pbx", "9999", check=False)
        self.assertEqual(p.returncode, 1)
        p = ringlog("agent", "add", "pbx", "1002", check=False)
        self.assertEqual(p.returncode, 2)


class Leads(unittest.TestCase):
    def setUp(self):
        reset_database()
        add_source("il", "s3cret", "--country-code", "972", "--trunk-prefix", "0")

    def csv(self, name, text):
        path = os.path.join(WORK, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_add_and_list(self):
        out = ringlog("lead", "add", "052-881-2345", "--source", "il", "--name", "משה פרץ",
                      "--company", "פרץ ובניו", "--crm-id", "5521", "--responsible", "dana").stdout
        self.assertIn("+972528812345", out)
        lead = row("SELECT * FROM leads")
        self.assertEqual((lead["phone"], lead["name"], lead["crm_id"], lead["origin"], lead["status"]),
                         ("972528812345", "משה פרץ", "5521", "crm", "open"))
        ringlog("lead", "add", "06 30 123 4567", "--country-code", "36", "--trunk-prefix", "06")
        self.assertEqual(scalar("SELECT count(*) FROM leads WHERE phone = '36301234567'"), 1)
        listed = ringlog("lead", "list", "--phone", "0528812345", "--source", "il").stdout
        self.assertIn("משה פרץ", listed)
        self.assertNotIn("36301234567", listed)

    def test_a_national_number_needs_a_plan(self):
        p = ringlog("lead", "add", "0528812345", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("international form", p.stderr)
        p = ringlog("lead", "add", "1002", "--source", "il", check=False)
        self.assertIn("not a public phone number", p.stderr)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)

    def test_import_is_an_upsert(self):
        path = self.csv("leads.csv", "\ufeffPhone;Name;Company;CRM_ID;Responsible\n"
                                     "052-881-2345;משה פרץ;\"פרץ ובניו בע\"\"מ\";5521;dana\n"
                                     "+972 54 700 1122;Avi;;;\n"
                                     "\n"
                                     "0733750100;Office;;;yoni\n")
        out = ringlog("lead", "import", path, "--source", "il", "--delimiter", ";").stdout
        self.assertIn("3 leads imported: 3 added, 0 updated", out)
        self.assertEqual(row("SELECT name, company, responsible FROM leads WHERE crm_id = '5521'"),
                         {"name": "משה פרץ", "company": 'פרץ ובניו בע"מ', "responsible": "dana"})
        # Again, with a change: nothing is duplicated; empty cells keep values.
        path = self.csv("leads2.csv", "phone;name;crm_id;status\n"
                                      "0528812345;Moshe Peretz;5521;\n"
                                      "0547001122;;;closed\n")
        out = ringlog("lead", "import", path, "--source", "il", "--delimiter", ";").stdout
        self.assertIn("2 leads imported: 0 added, 2 updated", out)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 3)
        self.assertEqual(row("SELECT name, responsible FROM leads WHERE crm_id = '5521'"),
                         {"name": "Moshe Peretz", "responsible": "dana"})
        self.assertEqual(row("SELECT name, status FROM leads WHERE phone = '972547001122'"),
                         {"name": "Avi", "status": "closed"})

    def test_invalid_rows_stop_the_import(self):
        path = self.csv("bad.csv", "phone,name,status\n0528812345,A,open\n1002,Ext,open\n"
                                   "0501234567,B,maybe\n,C,\n")
        p = ringlog("lead", "import", path, "--source", "il", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("line 3:", p.stderr)
        self.assertIn("line 4: status", p.stderr)
        self.assertIn("line 5: no phone", p.stderr)
        self.assertIn("3 invalid rows: nothing was imported", p.stderr)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        out = ringlog("lead", "import", path, "--source", "il", "--dry-run", "--skip-invalid").stdout
        self.assertIn("dry run", out)
        self.assertEqual(scalar("SELECT count(*) FROM leads"), 0)
        out = ringlog("lead", "import", path, "--source", "il", "--skip-invalid").stdout
        self.assertIn("1 leads imported: 1 added", out)
        p = ringlog("lead", "import", self.csv("nohdr.csv", "0528812345,A\n"), "--source", "il", check=False)
        self.assertIn("one of them \"phone\"", p.stderr)


if __name__ == "__main__":
    unittest.main()
