"""What the integration tests share: the throwaway cluster started by `run`,
the daemons as real processes on port 0, HTTP over loopback, the CLI.

Every daemon is started with a path under RINGLOG_TEST_WORK in its argv, so
the runner's trap can find and stop it even when a test dies.
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.parse

import psycopg2
import psycopg2.extras

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("RINGLOG_BUILD", "build/default"))
BIN = os.path.join(BUILD, "bin")
WORK = os.environ["RINGLOG_TEST_WORK"]
DB = os.environ["RINGLOG_TEST_DB"]
PG_DIR = os.environ["RINGLOG_TEST_PG"]
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
BLOBS = os.path.join(WORK, "blobs")  # the recordings blob store both daemons share
VENDORS = os.path.join(FIXTURES, "vendors")  # vendor examples (docs/vendors.md, its README)


# ---- the database -----------------------------------------------------------

def connect():
    conn = psycopg2.connect(DB)
    conn.autocommit = True
    return conn


def query(sql, *args):
    """All rows of SQL with %s parameters, as tuples."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def row(sql, *args):
    """The one row of SQL as a dict (None when there is none)."""
    conn = connect()
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, args)
        r = cur.fetchone()
    conn.close()
    return dict(r) if r else None


def scalar(sql, *args):
    rows = query(sql, *args)
    return rows[0][0] if rows else None


def execute(sql, *args):
    query(sql, *args)


def reset_database():
    """Empties every table but the schema's own bookkeeping."""
    execute("""TRUNCATE call_revisions, recordings, tasks, calls, leads, agents,
               dead_letters, api_tokens, sources, call_events RESTART IDENTITY CASCADE""")
    execute("TRUNCATE holds, erased_calls, erasures, audit_log RESTART IDENTITY")


def pg_stop():
    subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", PG_DIR], check=True)


def pg_crash():
    """Stops PostgreSQL as a crash would (immediate: no checkpoint, recovery at start)."""
    subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "crash", PG_DIR], check=True)


def free_port():
    """A TCP port free on loopback right now, for a daemon restarted on the same one."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_start():
    subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", PG_DIR], check=True,
                   stdout=subprocess.DEVNULL)


# ---- the admin command ------------------------------------------------------

def ringlog(*args, input=None, check=True, database=DB):
    """Runs `ringlog --database DB ARGS`; returns the CompletedProcess."""
    p = subprocess.run([os.path.join(BIN, "ringlog"), "--database", database, *args],
                       input=input, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"ringlog {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def add_source(name, secret="s3cret-" + "x" * 8, *options):
    """Adds a source through the CLI (secret on stdin, as an operator would)."""
    ringlog("source", "add", name, "--secret-file", "-", *options, input=secret + "\n")
    return secret


# ---- daemons ----------------------------------------------------------------

class Daemon:
    """A ringlog daemon on port 0; its stderr goes to a log file in WORK."""

    def __init__(self, program, name, *flags, env=None):
        self.program = program
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, "stderr.log")
        self.flags = list(flags)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.port = None

    def start(self, expect_ready=True, timeout=15):
        args = [os.path.join(BIN, self.program), "--database-url", DB, "--listen", "127.0.0.1:0",
                *self.flags]
        self.log = open(self.log_path, "ab")
        self.log_offset = self.log.tell()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=self.env,
                                     cwd=self.dir)
        if not expect_ready:
            return self
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"listening on [^ ]*:(\d+)", self.output())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.program} exited {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.02)
        raise AssertionError(f"{self.program} did not start:\n{self.output()}")

    def output(self):
        """What the daemon has written since this start."""
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode("utf-8", "replace")

    def wait_exit(self, timeout=20):
        return self.proc.wait(timeout=timeout)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def ingestd(name="ingestd", *flags, **kw):
    """A started ringlog-ingestd with its own spool directory."""
    spool = os.path.join(WORK, name, "spool")
    return Daemon("ringlog-ingestd", name, "--spool-dir", spool, "--recordings-blob-dir", BLOBS,
                  *flags, **kw).start()


def fetcherd(name="fetcherd", *flags, **kw):
    """A started ringlog-fetcherd with its own signing key."""
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    key = os.path.join(d, "signing.key")
    if not os.path.exists(key):
        with open(key, "wb") as f:
            f.write(base64.b64encode(os.urandom(32)) + b"\n")
    return Daemon("ringlog-fetcherd", name, "--signing-key-file", key,
                  "--recordings-blob-dir", BLOBS, *flags, **kw).start()


def new_token(name="crm"):
    """A fresh API token, through the CLI as an operator makes one."""
    return ringlog("token", "add", name).stdout.splitlines()[1]


# ---- HTTP -------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(port, method, path, body=None, headers=None, basic=None, timeout=30):
    """One HTTP/1.1 request on a fresh connection; BODY is bytes, str or a dict (JSON)."""
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def qs(**params):
    return urllib.parse.urlencode(params)


def wait_for(predicate, timeout=20, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


# ---- /metrics -----------------------------------------------------------------

def metric_value(text, series):
    """The value of SERIES (name{labels} as printed) in a /metrics answer, or None."""
    m = re.search("^" + re.escape(series) + r" ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else None


def promtool_check(text):
    """What `promtool check metrics` says of TEXT, as (exit status, output)."""
    tool = shutil.which("promtool")
    if tool is None:
        raise AssertionError("promtool is missing (scripts/deps.sh test installs prometheus)")
    p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def read_fixture(*parts, mode="rb"):
    with open(os.path.join(*parts), mode) as f:
        return f.read()


class IngestCase(unittest.TestCase):
    """A test with a clean database, one source `acme` and a running ingestd."""

    SECRET = "acme-push-secret-1"
    SOURCE_OPTIONS = ("--time-zone", "Europe/Budapest", "--country-code", "36",
                      "--trunk-prefix", "06")
    DAEMON_FLAGS = ()

    def setUp(self):
        reset_database()
        add_source("acme", self.SECRET, *self.SOURCE_OPTIONS)
        self.daemon = ingestd(self.id().rsplit(".", 1)[-1], *self.DAEMON_FLAGS)
        self.port = self.daemon.port

    def tearDown(self):
        code = self.daemon.stop()
        self.assertEqual(code, 0, f"ingestd exit status {code}:\n{self.daemon.output()}")

    def push(self, body=None, method="POST", path="/v1/cdr/acme", auth=True, headers=None, **kw):
        headers = dict(headers or {})
        if auth:
            headers["X-Api-Key"] = self.SECRET
        return request(self.port, method, path, body, headers, **kw)
