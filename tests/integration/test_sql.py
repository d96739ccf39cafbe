"""The SQL layer on its own: the pgTAP files of tests/sql (one test each),
the upgrade of a database at migration 007 with its data, and `ringlog
migrate` refusing a migration edited after it was applied."""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import unittest

from harness import DB, ROOT, WORK, FIXTURES, connect, ringlog

SQL_TESTS = os.path.join(ROOT, "tests", "sql")
SCHEMA_007 = os.path.join(FIXTURES, "schema-007")


def psql(database, *args, input=None):
    return subprocess.run(["psql", "-X", "-At", "-q", "-v", "ON_ERROR_STOP=1", database, *args],
                          input=input, capture_output=True, text=True, timeout=120)


def fresh_database(name):
    conn = connect()
    conn.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
    conn.cursor().execute(f"CREATE DATABASE {name}")
    conn.close()
    return DB.replace("dbname=ringlog", f"dbname={name}")


class PgTap(unittest.TestCase):
    """Each tests/sql/*.sql runs in a transaction it rolls back."""

    def run_tap(self, path):
        p = psql(DB, "-f", path)
        out = p.stdout.splitlines()
        self.assertEqual(p.returncode, 0, p.stderr)
        plan = [l for l in out if re.match(r"^1\.\.\d+$", l)]
        self.assertEqual(len(plan), 1, p.stdout)
        oks = [l for l in out if l.startswith("ok ")]
        bad = [l for l in out if l.startswith("not ok")]
        self.assertEqual(bad, [], "\n".join(out))
        self.assertEqual(len(oks), int(plan[0][3:]), "\n".join(out))


for _path in sorted(glob.glob(os.path.join(SQL_TESTS, "*.sql"))):
    _name = "test_" + os.path.basename(_path)[:-4]
    setattr(PgTap, _name, lambda self, p=_path: self.run_tap(p))


class Migrations(unittest.TestCase):
    def database_at_007(self):
        """A database as `ringlog migrate` of 007 left it, with data."""
        db = fresh_database("ringlog_at_007")
        files = sorted(glob.glob(os.path.join(SCHEMA_007, "*.sql")))
        self.assertEqual(len(files), 7)
        psql(db, "-c", "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                       " sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for f in files:
            p = psql(db, "-f", f)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(f, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            base = os.path.basename(f)
            psql(db, "-c", f"INSERT INTO schema_migrations VALUES ({int(base[:3])}, '{base}', '{digest}')")
        p = psql(db, "-c", """
            INSERT INTO sources (name, auth_mode) VALUES ('old', 'none');
            SELECT ringlog_upsert_lead('{"phone": "972528812345", "crm_id": "c-1", "name": "Moshe"}');
            SELECT outcome FROM ringlog_ingest_call(1, 'old-1', 'in', 'answered', '0528812345',
                '972528812345', NULL, '1002', NULL, '035551234', '1002', NULL,
                '2025-06-16 09:00:00+00', NULL, NULL, 'UTC', 60, 50, '[]', '{"a": 1}', now(), NULL);
            SELECT outcome FROM ringlog_ingest_call(1, 'old-2', 'in', 'missed', '0547001122',
                '972547001122', NULL, '1002', NULL, NULL, NULL, NULL,
                '2025-06-16 10:00:00+00', NULL, NULL, 'UTC', 10, 0, '[]', '{"a": 2}', now(), NULL);""")
        self.assertEqual(p.returncode, 0, p.stderr)
        return db

    def test_a_007_database_upgrades_in_place_with_its_data(self):
        db = self.database_at_007()
        out = ringlog("migrate", database=db).stdout
        self.assertIn("applied 008_one_home.sql", out)
        self.assertIn("functions of sql/functions", out)
        # The data is there, by month, and the rules run on it.
        self.assertEqual(psql(db, "-c", "SELECT count(*), count(lead_id) FROM calls").stdout.strip(), "2|2")
        self.assertEqual(psql(db, "-c", "SELECT string_agg(tableoid::regclass || ':' || id, ',' ORDER BY id)"
                                        " FROM calls").stdout.strip(), "calls_2025_06:1,calls_2025_06:2")
        self.assertEqual(psql(db, "-c", "SELECT string_agg(call_id || ':' || pbx_call_id, ',' ORDER BY call_id)"
                                        " FROM call_keys").stdout.strip(), "1:old-1,2:old-2")
        self.assertEqual(psql(db, "-c", "SELECT count(*) FROM tasks WHERE kind = 'missed_call'").stdout.strip(), "1")
        self.assertEqual(psql(db, "-c", "SELECT proname FROM pg_proc WHERE proname LIKE 'ringlog_upsert_lead%'"
                                        " ORDER BY 1").stdout.split(), ["ringlog_upsert_lead", "ringlog_upsert_leads"])
        # One version of each function, the text of its file.
        self.assertEqual(psql(db, "-c", "SELECT count(*) FROM pg_proc WHERE proname = 'ringlog_ingest_call'")
                         .stdout.strip(), "1")
        with open(os.path.join(ROOT, "sql", "functions", "ringlog_lead_lock.sql")) as f:
            self.assertIn(psql(db, "-c", "SELECT prosrc FROM pg_proc WHERE proname = 'ringlog_lead_lock'")
                          .stdout.strip().splitlines()[1].strip(), f.read())
        p = psql(db, "-c", "SELECT outcome FROM ringlog_ingest_call(1, 'old-1', 'in', 'answered', '0528812345',"
                           " '972528812345', NULL, '1002', NULL, NULL, '1002', NULL, '2025-06-16 09:00:00+00',"
                           " NULL, NULL, 'UTC', 60, 50, '[]', '{\"a\": 1, \"b\": 2}', now(), NULL);"
                           " SELECT did FROM calls WHERE pbx_call_id = 'old-1'")
        self.assertEqual(p.stdout.split(), ["updated", "035551234"], p.stderr)
        p = psql(db, "-c", "SELECT call_id FROM ringlog_ingest_call(1, 'new-1', 'in', 'missed', NULL, NULL, NULL,"
                           " NULL, NULL, NULL, NULL, NULL, '2025-06-17 09:00:00+00', NULL, NULL, 'UTC', 5, 0,"
                           " '[]', '{}', now(), NULL)")
        self.assertGreater(int(p.stdout.strip()), 2, p.stderr)  # ids continue after the old ones
        self.assertEqual(ringlog("migrate", "--status", database=db).stdout.strip(),
                         "schema is up to date (0 pending of %d)" % len(
                             glob.glob(os.path.join(ROOT, "sql", "[0-9]*.sql"))))

    def test_an_edited_migration_is_refused_by_name(self):
        db = fresh_database("ringlog_edited")
        sql = os.path.join(WORK, "sql-edited")
        shutil.rmtree(sql, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "sql"), sql)
        ringlog("migrate", "--dir", sql, database=db)
        with open(os.path.join(sql, "006_click2call.sql"), "a") as f:
            f.write("CREATE INDEX nobody_sees_me ON click2calls (agent);\n")
        with open(os.path.join(sql, "functions", "ringlog_csv_text.sql"), "a") as f:
            f.write("-- a function file may change\n")
        p = ringlog("migrate", "--dir", sql, database=db, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("migration 006_click2call.sql was edited after it was applied", p.stderr)
        self.assertEqual(psql(db, "-c", "SELECT count(*) FROM pg_indexes WHERE indexname = 'nobody_sees_me'")
                         .stdout.strip(), "0")

    def test_a_changed_function_file_is_applied_and_its_old_signature_dropped(self):
        db = fresh_database("ringlog_functions")
        sql = os.path.join(WORK, "sql-functions")
        shutil.rmtree(sql, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "sql"), sql)
        ringlog("migrate", "--dir", sql, database=db)
        self.assertIn("up to date", ringlog("migrate", "--dir", sql, database=db).stdout)
        path = os.path.join(sql, "functions", "ringlog_csv_text.sql")
        with open(path, "w") as f:
            f.write("CREATE OR REPLACE FUNCTION ringlog_csv_text(t text, quote text) RETURNS text\n"
                    "LANGUAGE sql IMMUTABLE AS $$ SELECT quote || t $$;\n")
        self.assertIn("pending the functions", ringlog("migrate", "--status", "--dir", sql, database=db).stdout)
        p = ringlog("migrate", "--dir", sql, database=db, check=False)
        # The export still calls the one-argument version: the change is refused as a whole.
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("ringlog_export_calls.sql", p.stderr)
        with open(path, "a") as f:
            f.write("CREATE OR REPLACE FUNCTION ringlog_csv_text(t text) RETURNS text\n"
                    "LANGUAGE sql IMMUTABLE AS $$ SELECT '!' || t $$;\n")
        ringlog("migrate", "--dir", sql, database=db)
        self.assertEqual(psql(db, "-c", "SELECT ringlog_csv_text('a'), ringlog_csv_text('a', '?'),"
                                        " (SELECT count(*) FROM pg_proc WHERE proname = 'ringlog_csv_text')")
                         .stdout.strip(), "!a|?a|2")


if __name__ == "__main__":
    unittest.main()
