"""Running the daemon: config, schema check, health, metrics, graceful stop."""
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import (BIN, DB, Daemon, IngestCase, WORK, connect, ingestd, request, ringlog,
                     reset_database, row, scalar, wait_for)


class Lifecycle(IngestCase):
    def test_health_readiness_and_metrics(self):
        self.assertEqual(request(self.port, "GET", "/healthz").json(), {"status": "ok"})
        self.assertEqual(request(self.port, "GET", "/readyz").json(), {"status": "ready"})
        self.push({"call_id": "m-1", "direction": "in", "started_at": 1750065605})
        self.push({"call_id": "m-1", "direction": "in", "started_at": 1750065605})
        self.push(b"{", headers={"Content-Type": "application/json"})
        r = request(self.port, "GET", "/metrics")
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"))
        text = r.body.decode()
        self.assertIn('ringlog_pushes_total{outcome="stored"} 1', text)
        self.assertIn('ringlog_pushes_total{outcome="duplicate"} 1', text)
        self.assertIn('ringlog_pushes_total{outcome="rejected"} 1', text)
        self.assertIn("ringlog_dead_letters_total 1", text)
        self.assertIn("# TYPE ringlog_push_duration_seconds histogram", text)
        self.assertIn('ringlog_push_duration_seconds_bucket{le="+Inf"} 3', text)
        self.assertIn("ringlog_push_duration_seconds_count 3", text)

    def test_one_log_line_per_request_with_its_id(self):
        r = self.push({"call_id": "log-1", "direction": "in", "started_at": 1750065605},
                      headers={"X-Request-Id": "pbx-req-42"})
        self.assertEqual(r.header("X-Request-Id"), "pbx-req-42")
        line = wait_for(lambda: [l for l in self.daemon.output().splitlines() if "pbx-req-42" in l],
                        what="the log line")
        self.assertEqual(len(line), 1)
        self.assertRegex(line[0], r"^<6>ringlog-ingestd: request id=pbx-req-42 method=POST "
                                  r"path=/v1/cdr/acme status=200 source=acme call_id=log-1 "
                                  r"outcome=stored ms=\d+\.\d+$")

    def test_sigterm_finishes_the_request_in_flight(self):
        body = b'{"call_id": "term-1", "direction": "in", "started_at": 1750065605}'
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"X-Api-Key: " + self.SECRET.encode() + b"\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        time.sleep(0.2)
        self.daemon.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping" in self.daemon.output(), what="the stop to begin")
        # no new connections once stopping ...
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).recv(1)
        # ... but the one in flight is finished and acknowledged
        s.sendall(body[10:])
        answer = s.recv(4096)
        s.close()
        self.assertIn(b"200 OK", answer)
        self.assertEqual(self.daemon.wait_exit(), 0)
        self.assertIsNotNone(row("SELECT id FROM calls WHERE pbx_call_id = 'term-1'"))


class StopWhileStoring(IngestCase):
    DAEMON_FLAGS = ("--shutdown-grace", "1")

    def test_a_push_stuck_in_its_writer_past_the_grace_is_still_stored(self):
        """The writer holds the push beyond the grace: the daemon waits for
        the COMMIT before closing the connection, and exits cleanly."""
        blocker = connect()
        blocker.autocommit = False
        blocker.cursor().execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
        body = b'{"call_id": "late-1", "direction": "in", "started_at": 1750065605}'
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"POST /v1/cdr/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"X-Api-Key: " + self.SECRET.encode() + b"\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        wait_for(lambda: scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                " AND application_name LIKE %s", "ringlog-ingestd%") == 1,
                 what="the writer waiting for the lock")
        self.daemon.proc.send_signal(signal.SIGTERM)
        time.sleep(2)  # past the grace
        self.assertIsNone(self.daemon.proc.poll(), "the daemon left a push in its writer")
        blocker.rollback()
        blocker.close()
        self.assertEqual(self.daemon.wait_exit(), 0)
        s.close()
        self.assertIsNotNone(row("SELECT id FROM calls WHERE pbx_call_id = 'late-1'"))


class Startup(unittest.TestCase):
    def test_refuses_an_older_schema_and_says_what_to_run(self):
        conn = connect()
        conn.cursor().execute("DROP DATABASE IF EXISTS ringlog_old")
        conn.cursor().execute("CREATE DATABASE ringlog_old")
        conn.close()
        old = DB.replace("dbname=ringlog", "dbname=ringlog_old")
        only_first = os.path.join(WORK, "sql-first")
        os.makedirs(only_first, exist_ok=True)
        src = os.path.join(os.path.dirname(BIN), "..", "..", "sql", "001_schema.sql")
        with open(src) as f, open(os.path.join(only_first, "001_schema.sql"), "w") as g:
            g.write(f.read())
        ringlog("migrate", "--dir", only_first, database=old)
        p = subprocess.run([os.path.join(BIN, "ringlog-ingestd"), "--database-url", old,
                            "--listen", "127.0.0.1:0", "--spool-dir", os.path.join(WORK, "old-spool")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("lacks migration 2, ", p.stderr)
        self.assertIn("run `ringlog migrate`", p.stderr)
        ringlog("migrate", database=old)  # the fix it names works
        self.assertEqual(ringlog("migrate", "--status", database=old).stdout.strip(),
                         "schema is up to date (0 pending of %d)" % len(
                             [f for f in os.listdir(os.path.dirname(src)) if f.endswith(".sql")]))

    def test_check_config_reads_file_then_environment_then_flags(self):
        conf = os.path.join(WORK, "check.conf")
        with open(conf, "w") as f:
            f.write("[database]\nurl = host=/nowhere\n[ingest]\nthreads = 3\nmax_body = 2M\n"
                    "listen = 127.0.0.1:9000\n")
        env = dict(os.environ, RINGLOG_INGEST_THREADS="5")
        p = subprocess.run([os.path.join(BIN, "ringlog-ingestd"), "--config", conf, "--check-config",
                            "--listen", "127.0.0.1:9100"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("threads = 5", p.stdout)          # environment over file
        self.assertIn("listen = 127.0.0.1:9100", p.stdout)  # flag over environment and file
        self.assertIn("max_body = 2097152", p.stdout)   # file over default
        self.assertIn("url = host=/nowhere", p.stdout)

    def test_bad_config_is_refused_with_the_reason(self):
        conf = os.path.join(WORK, "bad.conf")
        with open(conf, "w") as f:
            f.write("[ingest]\nthreads = lots\n")
        p = subprocess.run([os.path.join(BIN, "ringlog-ingestd"), "--config", conf, "--check-config"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("ingest.threads: not a number", p.stderr)
        p = subprocess.run([os.path.join(BIN, "ringlog-ingestd"), "--no-such-flag", "1"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("unknown option --no-such-flag", p.stderr)

    def test_help_lists_every_key(self):
        p = subprocess.run([os.path.join(BIN, "ringlog-ingestd"), "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for key in ("--listen", "--threads", "--max-body", "--spool-dir", "--database-url"):
            self.assertIn(key, p.stdout)
