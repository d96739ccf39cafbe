"""`make install` into a DESTDIR as a Debian package build does, then the
installed programs run from there: migrations found next to the binary, the
installed example config accepted, the units hardened."""
import os
import re
import shutil
import stat
import subprocess
import unittest

import psycopg2

from harness import DB, ROOT, BUILD, WORK, Daemon, request, wait_for

PREFIX = "/usr"


def make_install(destdir, build):
    """Builds into BUILD (apart from the tree under test) and installs."""
    san = ["SAN=1"] if os.path.basename(BUILD) == "san" else []
    p = subprocess.run(["make", "-s", "-j2", "-C", ROOT, "install", f"PREFIX={PREFIX}",
                        f"DESTDIR={destdir}", f"BUILD={build}", *san],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise AssertionError(f"make install failed:\n{p.stdout}\n{p.stderr}")


def fresh_database(name):
    """A new empty database on the test cluster; returns its connection string."""
    conn = psycopg2.connect(DB)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return re.sub(r"dbname=\S+", f"dbname={name}", DB)


class Install(unittest.TestCase):
    """Steps in order (test_1 ... test_6) on one DESTDIR and one fresh database."""

    @classmethod
    def setUpClass(cls):
        cls.dest = os.path.join(WORK, "destdir")
        make_install(cls.dest, os.path.join(WORK, "build-install"))
        cls.db = fresh_database("ringlog_installed")

    def path(self, *parts):
        return os.path.join(self.dest, *[p.lstrip("/") for p in parts])

    def run_installed(self, program, *args, check=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("RINGLOG_")}
        p = subprocess.run([self.path(program), *args], capture_output=True, text=True,
                           timeout=60, env=env, cwd="/")
        if check and p.returncode != 0:
            raise AssertionError(f"{program} {args} failed ({p.returncode}): {p.stdout}{p.stderr}")
        return p

    def test_1_files_land_where_debian_expects_them(self):
        for f in ("/usr/bin/ringlog", "/usr/sbin/ringlog-ingestd", "/usr/sbin/ringlog-fetcherd"):
            self.assertTrue(os.access(self.path(f), os.X_OK), f)
        for f in ("/usr/share/ringlog/sql/001_schema.sql", "/usr/share/doc/ringlog/README.md",
                  "/usr/share/doc/ringlog/examples/ringlog.conf",
                  "/usr/lib/sysusers.d/ringlog.conf", "/usr/lib/tmpfiles.d/ringlog.conf",
                  "/lib/systemd/system/ringlog-ingestd.service",
                  "/lib/systemd/system/ringlog-fetcherd.service"):
            self.assertTrue(os.path.isfile(self.path(f)), f)
        conf = os.stat(self.path("/etc/ringlog/ringlog.conf"))
        self.assertEqual(stat.S_IMODE(conf.st_mode), 0o640)
        with open(self.path("/lib/systemd/system/ringlog-ingestd.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/sbin/ringlog-ingestd\n", unit)
        self.assertIn("Type=notify\n", unit)
        self.assertNotIn("@SBINDIR@", unit)
        self.assertNotIn("@DOCDIR@", unit)

    def test_2_units_are_hardened(self):
        for unit in ("ringlog-ingestd.service", "ringlog-fetcherd.service"):
            p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20",
                                self.path("/lib/systemd/system", unit)],
                               capture_output=True, text=True, timeout=60)
            m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout)
            self.assertIsNotNone(m, p.stdout + p.stderr)
            self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_3_postinst_makes_the_user_directories_and_signing_key(self):
        env = dict(os.environ, SYSUSERSDIR="/usr/lib/sysusers.d", TMPFILESDIR="/usr/lib/tmpfiles.d")
        for _ in range(2):  # idempotent
            subprocess.run([os.path.join(ROOT, "scripts", "postinst.sh"), "--root", self.dest],
                           check=True, capture_output=True, env=env, timeout=60)
        with open(self.path("/etc/passwd")) as f:
            user = [l for l in f if l.startswith("ringlog:")]
        self.assertEqual(len(user), 1)
        gid = int(user[0].split(":")[3])
        for d in ("/var/spool/ringlog", "/var/lib/ringlog"):
            st = os.stat(self.path(d))
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o750, gid), d)
        for f in ("/etc/ringlog/signing.key", "/etc/ringlog/privacy.key", "/etc/ringlog/ringlog.conf"):
            st = os.stat(self.path(f))
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o640, 0, gid), f)
        self.assertGreaterEqual(os.path.getsize(self.path("/etc/ringlog/signing.key")), 32)
        self.assertGreaterEqual(os.path.getsize(self.path("/etc/ringlog/privacy.key")), 32)
        self.assertNotEqual(open(self.path("/etc/ringlog/signing.key")).read(),
                            open(self.path("/etc/ringlog/privacy.key")).read())

    def test_4_installed_migrate_finds_the_installed_migrations(self):
        sql = self.path("/usr/share/ringlog/sql")
        files = sorted(f for f in os.listdir(sql) if f.endswith(".sql"))
        # Proof of where it reads them: hide the newest installed one for a moment.
        hidden = os.path.join(WORK, files[-1])
        shutil.move(os.path.join(sql, files[-1]), hidden)
        try:
            out = self.run_installed("/usr/bin/ringlog", "--database", self.db, "migrate", "--status").stdout
        finally:
            shutil.move(hidden, os.path.join(sql, files[-1]))
        self.assertIn(f"pending of {len(files) - 1})", out)
        out = self.run_installed("/usr/bin/ringlog", "--database", self.db, "migrate").stdout
        for f in files:
            self.assertIn(f"applied {f}", out)
        secret_file = os.path.join(WORK, "installed.secret")
        with open(secret_file, "w") as f:
            f.write("installed-secret-1\n")
        self.run_installed("/usr/bin/ringlog", "--database", self.db, "source", "add", "installed",
                           "--secret-file", secret_file)

    def test_5_installed_daemons_serve_with_the_installed_config(self):
        conf = self.path("/etc/ringlog/ringlog.conf")
        for d in ("/usr/sbin/ringlog-ingestd", "/usr/sbin/ringlog-fetcherd"):
            p = self.run_installed(d, "--config", conf, "--check-config")
            self.assertIn("[database]", p.stdout)
        ingest = Daemon(self.path("/usr/sbin/ringlog-ingestd"), "installed-ingestd", "--config", conf,
                        "--database-url", self.db,
                        "--spool-dir", os.path.join(WORK, "installed-spool")).start()
        try:
            r = request(ingest.port, "POST", "/v1/cdr/installed",
                        {"call_id": "inst-1", "direction": "in", "started_at": 1750065605},
                        headers={"X-Api-Key": "installed-secret-1"})
            self.assertEqual((r.status, r.json()["status"]), (200, "stored"), r)
        finally:
            self.assertEqual(ingest.stop(), 0, ingest.output())
        fetch = Daemon(self.path("/usr/sbin/ringlog-fetcherd"), "installed-fetcherd", "--config", conf,
                       "--database-url", self.db,
                       "--signing-key-file", self.path("/etc/ringlog/signing.key")).start()
        try:
            self.assertEqual(request(fetch.port, "GET", "/readyz").status, 200)
        finally:
            self.assertEqual(fetch.stop(), 0, fetch.output())

    def test_6_uninstall_keeps_configuration(self):
        p = subprocess.run(["make", "-s", "-C", ROOT, "uninstall", f"PREFIX={PREFIX}",
                            f"DESTDIR={self.dest}", f"BUILD={os.path.join(WORK, 'build-install')}"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(self.path("/usr/sbin/ringlog-ingestd")))
        self.assertFalse(os.path.exists(self.path("/usr/share/ringlog")))
        self.assertTrue(os.path.exists(self.path("/etc/ringlog/ringlog.conf")))


if __name__ == "__main__":
    unittest.main()
