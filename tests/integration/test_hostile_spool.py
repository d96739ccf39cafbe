"""Hostile review, issue 19 item 13: the spool's fsync is what makes a 200
while PostgreSQL is away an acknowledgement. When fsync fails (an
LD_PRELOAD shim makes it), the push is answered 503 and leaves no spool
file behind."""
import os
import subprocess
import unittest

from harness import ROOT, WORK, add_source, ingestd, pg_start, pg_stop, request, reset_database

SHIM_SRC = os.path.join(ROOT, "tests", "integration", "shims", "fsync_fail.c")


def build_shim():
    out = os.path.join(WORK, "fsync_fail.so")
    if not os.path.exists(out):
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", out, SHIM_SRC, "-ldl"], check=True)
    return out


class FsyncFails(unittest.TestCase):
    SECRET = "spool-secret-123"

    def setUp(self):
        reset_database()
        add_source("acme", self.SECRET)
        self.daemons = []

    def tearDown(self):
        pg_start()
        for d in self.daemons:
            d.stop()

    def start(self, name, mode):
        env = {"LD_PRELOAD": build_shim(), "RINGLOG_SHIM_FSYNC": mode,
               # an ASan build wants its runtime first; the shim needs none
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        d = ingestd(name, env=env)
        self.daemons.append(d)
        return d

    def spool(self, d):
        return sorted(os.listdir(os.path.join(d.dir, "spool")))

    def push(self, d, call_id):
        return request(d.port, "POST", "/v1/cdr/acme",
                       {"call_id": call_id, "direction": "in", "started_at": 1750065605},
                       {"X-Api-Key": self.SECRET})

    def check(self, mode):
        d = self.start(f"fsync-{mode}", mode)
        pg_stop()
        r = self.push(d, f"fs-{mode}")
        self.assertEqual((r.status, r.json()["error"]), (503, "unavailable"), r)
        self.assertEqual(r.header("Retry-After"), "30")
        self.assertEqual([f for f in self.spool(d) if not f.startswith(".")] +
                         [f for f in self.spool(d) if f.startswith(".tmp")], [])
        self.assertIn("spool_failed", request(d.port, "GET", "/metrics").body.decode())
        pg_start()

    def test_a_push_whose_file_cannot_be_fsynced_is_503_and_leaves_no_file(self):
        self.check("file")

    def test_a_push_whose_directory_cannot_be_fsynced_is_503_and_leaves_no_file(self):
        self.check("dir")

    def test_without_the_failure_the_same_push_is_spooled(self):
        d = self.start("fsync-none", "none")
        pg_stop()
        r = self.push(d, "fs-ok")
        self.assertEqual((r.status, r.json()["status"]), (200, "spooled"), r)
        self.assertEqual(len([f for f in self.spool(d) if f.endswith(".push")]), 1)
