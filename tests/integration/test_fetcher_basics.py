"""ringlog-fetcherd starts like ingestd: config, key, schema, health."""
import os
import subprocess
import unittest

from harness import BIN, DB, WORK, fetcherd, request, reset_database


class FetcherStartup(unittest.TestCase):
    def test_serves_health_and_readiness(self):
        reset_database()
        d = fetcherd("fetcher-basic")
        try:
            self.assertEqual(request(d.port, "GET", "/healthz").json(), {"status": "ok"})
            self.assertEqual(request(d.port, "GET", "/readyz").json(), {"status": "ready"})
            self.assertIn("ringlog_http_requests_total", request(d.port, "GET", "/metrics").body.decode())
        finally:
            self.assertEqual(d.stop(), 0)

    def test_refuses_to_start_without_a_usable_signing_key(self):
        short = os.path.join(WORK, "short.key")
        with open(short, "w") as f:
            f.write("too short")
        for key, words in ((os.path.join(WORK, "missing.key"), "cannot read the signing key"),
                           (short, "shorter than 32 bytes")):
            p = subprocess.run([os.path.join(BIN, "ringlog-fetcherd"), "--database-url", DB,
                                "--listen", "127.0.0.1:0", "--signing-key-file", key],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertIn(words, p.stderr)
