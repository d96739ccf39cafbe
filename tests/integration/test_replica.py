"""[fetcher] database_read_url: the call log, leads, tasks and the export
read from a streaming replica; every write stays on the primary. The
replica is real: pg_basebackup of the suite's cluster, a second cluster
started here as a hot standby on loopback."""
import os
import shutil
import subprocess

import psycopg2

from fetcher_fixtures import FetcherCase, insert_call
from harness import PG_DIR, ROOT, WORK, free_port, scalar, wait_for

PG_SH = os.path.join(ROOT, "scripts", "pg.sh")
STANDBY = os.path.join(WORK, "standby")


def as_postgres(*cmd):
    if os.getuid() == 0:
        cmd = ("runuser", "-u", "postgres", "--") + cmd
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def start_standby():
    shutil.rmtree(STANDBY, ignore_errors=True)
    os.makedirs(STANDBY)
    if os.getuid() == 0:
        shutil.chown(STANDBY, "postgres", "postgres")
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(PG_DIR, "port")) as f:
        port = f.read().strip()
    as_postgres(os.path.join(bindir, "pg_basebackup"), "-D", os.path.join(STANDBY, "data"), "-R",
                "-X", "stream", "-c", "fast", "-h", PG_DIR, "-p", port, "-U", "ringlog")
    with open(os.path.join(STANDBY, "port"), "w") as f:
        f.write(f"{free_port()}\n")
    subprocess.run([PG_SH, "start", STANDBY], check=True, capture_output=True, timeout=120)
    return subprocess.run([PG_SH, "url", STANDBY], check=True, capture_output=True,
                          text=True).stdout.strip()


def on_replica(url, sql):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


class Replica(FetcherCase):
    @classmethod
    def setUpClass(cls):
        cls.replica = start_standby()
        cls.FLAGS = ("--database-read-url", cls.replica)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            subprocess.run([PG_SH, "stop", STANDBY], capture_output=True, timeout=60)
            shutil.rmtree(STANDBY, ignore_errors=True)

    def replicated(self, call_id):
        wait_for(lambda: on_replica(self.replica, f"SELECT 1 FROM calls WHERE pbx_call_id = '{call_id}'"),
                 what=f"{call_id} on the replica")

    def calls(self):
        return [c["call_id"] for c in self.ok("/v1/calls")["calls"]]

    def test_reads_come_from_the_replica_and_writes_go_to_the_primary(self):
        self.assertEqual(on_replica(self.replica, "SELECT pg_is_in_recovery()"), [(True,)])
        insert_call("r1", "2025-06-16 09:00+00", caller="+36 30 111 0001", caller_e164="36301110001")
        task = scalar("INSERT INTO tasks (kind, assignee) VALUES ('check_agent_mapping', 'anna') RETURNING id")
        self.replicated("r1")
        self.assertEqual(self.calls(), ["r1"])
        # Replay paused: what the primary gets now, the API does not show ...
        on_replica(self.replica, "SELECT pg_wal_replay_pause()")
        try:
            insert_call("r2", "2025-06-17 09:00+00")
            r = self.post("/v1/leads", {"phone": "+36301110002", "name": "Written"})
            self.assertEqual(r.status, 201, r)  # ... while writes go to the primary
            self.assertEqual(scalar("SELECT name FROM leads WHERE phone = '36301110002'"), "Written")
            self.assertEqual(self.calls(), ["r1"])
            self.assertEqual(self.ok("/v1/leads", phone="+36301110002")["leads"], [])
            r = self.post(f"/v1/tasks/{task}/done")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(scalar("SELECT status FROM tasks WHERE id = %s", task), "done")
            self.assertEqual([t["status"] for t in self.ok("/v1/tasks")["tasks"]], ["open"])
            export = self.get("/v1/export.csv", **{"from": "2025-06-01", "to": "2025-07-01"})
            self.assertEqual(export.status, 200, export)
            self.assertIn(b"r1", export.body)
            self.assertNotIn(b"r2", export.body)
            self.assertTrue(on_replica(self.replica, "SELECT 1 FROM pg_stat_activity"
                                                     " WHERE application_name = 'ringlog-fetcherd read'"))
        finally:
            on_replica(self.replica, "SELECT pg_wal_replay_resume()")
        self.replicated("r2")
        self.assertEqual(self.calls(), ["r2", "r1"])
        self.assertEqual(len(self.ok("/v1/leads", phone="+36301110002")["leads"]), 1)
        self.assertEqual(self.ok("/v1/tasks")["tasks"], [])
