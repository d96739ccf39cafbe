"""The admin command, as an operator uses it."""
import hashlib
import os
import subprocess
import unittest

from harness import BIN, DB, reset_database, ringlog, row, scalar


class Sources(unittest.TestCase):
    def setUp(self):
        reset_database()

    def test_add_show_list_update_remove(self):
        p = ringlog("source", "add", "pbx-1", "--vendor", "generic", "--secret-file", "-",
                    "--time-zone", "Asia/Jerusalem", "--country-code", "972",
                    "--default-responsible", "manager@crm", input="push-secret\n")
        self.assertIn("source pbx-1 added", p.stdout)
        s = row("SELECT * FROM sources WHERE name = 'pbx-1'")
        self.assertEqual(bytes(s["secret_sha256"]), hashlib.sha256(b"push-secret").digest())
        self.assertEqual((s["time_zone"], s["country_code"], s["default_responsible"]),
                         ("Asia/Jerusalem", "972", "manager@crm"))
        shown = ringlog("source", "show", "pbx-1").stdout
        self.assertIn("secret                set", shown)
        self.assertNotIn("push-secret", shown)
        self.assertIn("pbx-1", ringlog("source", "list").stdout)
        ringlog("source", "update", "pbx-1", "--no-leads", "--default-responsible", "")
        s = row("SELECT * FROM sources WHERE name = 'pbx-1'")
        self.assertEqual((s["create_leads"], s["default_responsible"], s["time_zone"]),
                         (False, None, "Asia/Jerusalem"))
        ringlog("source", "remove", "pbx-1")
        self.assertEqual(scalar("SELECT count(*) FROM sources"), 0)

    def test_generated_secret_is_printed_once_and_only_its_hash_kept(self):
        out = ringlog("source", "add", "gen", "--generate-secret").stdout
        secret = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("secret: ")][0]
        self.assertGreaterEqual(len(secret), 40)
        self.assertEqual(bytes(scalar("SELECT secret_sha256 FROM sources")),
                         hashlib.sha256(secret.encode()).digest())

    def test_mistakes_are_refused_with_a_reason(self):
        cases = [
            (("source", "add", "Bad Name", "--generate-secret"), "must be 1-63"),
            (("source", "add", "tz", "--generate-secret", "--time-zone", "Mars/Olympus"), "time zone"),
            (("source", "add", "nosecret"), "--secret-file"),
            (("source", "add", "v", "--generate-secret", "--vendor", "acme-pbx"), "vendor"),
            (("source", "show", "missing"), "no source"),
            (("source", "update", "missing", "--no-leads"), "no source"),
        ]
        for args, words in cases:
            p = ringlog(*args, check=False)
            self.assertEqual(p.returncode, 1, args)
            self.assertIn(words, p.stderr, args)
        self.assertEqual(scalar("SELECT count(*) FROM sources"), 0)

    def test_secrets_never_come_from_argv(self):
        # there is no --secret VALUE: what follows names a file (getopt takes
        # "--secret" for "--secret-file"), so a secret typed there is not used
        p = ringlog("source", "add", "x", "--secret", "hunter2", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot read the secret from hunter2", p.stderr)
        self.assertEqual(scalar("SELECT count(*) FROM sources"), 0)

    def test_remove_refuses_a_source_with_calls_without_force(self):
        ringlog("source", "add", "busy", "--auth", "none")
        sid = scalar("SELECT id FROM sources")
        scalar("INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)"
               " VALUES (%s, 'c', 'in', 'missed', now(), '{}') RETURNING id", sid)
        p = ringlog("source", "remove", "busy", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("--force", p.stderr)
        ringlog("source", "remove", "busy", "--force")
        self.assertEqual(scalar("SELECT count(*) FROM calls"), 0)


class Tokens(unittest.TestCase):
    def setUp(self):
        reset_database()

    def test_token_printed_once_hash_stored_revocable(self):
        out = ringlog("token", "add", "crm-backend").stdout
        token = out.splitlines()[1]
        self.assertTrue(token.startswith("rl_"))
        self.assertEqual(bytes(scalar("SELECT token_sha256 FROM api_tokens")),
                         hashlib.sha256(token.encode()).digest())
        listing = ringlog("token", "list").stdout
        self.assertIn("crm-backend", listing)
        self.assertNotIn(token, listing)
        ringlog("token", "revoke", "crm-backend")
        self.assertIsNotNone(scalar("SELECT revoked_at FROM api_tokens"))
        self.assertEqual(ringlog("token", "revoke", "crm-backend", check=False).returncode, 1)


class Help(unittest.TestCase):
    def test_help_everywhere_and_usage_errors_exit_2(self):
        for args in ([], ["source"], ["token"], ["dead-letters"], ["migrate", "--bogus"]):
            p = subprocess.run([os.path.join(BIN, "ringlog"), "--database", DB, *args],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn("usage", p.stderr)
        for args in (["--help"], ["source", "--help"], ["token", "--help"],
                     ["dead-letters", "--help"], ["migrate", "--help"]):
            p = subprocess.run([os.path.join(BIN, "ringlog"), *args], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, args)
            self.assertIn("usage", p.stdout)

    def test_unreachable_database_is_a_clear_error(self):
        p = subprocess.run([os.path.join(BIN, "ringlog"), "--database", "host=/nonexistent port=1",
                            "source", "list"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("database unavailable", p.stderr)
