"""Hostile review, issue 19 item 8: dead letters have a byte budget per
source. Refusals past it are answered and counted, with a log line and a
metric, but not kept."""
import re

from harness import IngestCase, add_source, request, ringlog, scalar

MB = 1 << 20


class Budget(IngestCase):
    DAEMON_FLAGS = ("--max-body", "2M", "--dead-letters-max", "2M")

    def refuse(self, n, path="/v1/cdr/acme", secret=None):
        body = b"{" + b"x" * (MB - 1)  # not JSON: 400, kept as a dead letter while there is room
        codes = [request(self.port, "POST", path, body, {"Content-Type": "application/json",
                                                          "X-Api-Key": secret or self.SECRET}).status
                 for _ in range(n)]
        self.assertEqual(codes, [400] * n)

    def metric(self, name):
        text = request(self.port, "GET", "/metrics").body.decode()
        m = re.search(rf"^{name} (\d+)", text, re.M)
        return int(m.group(1)) if m else 0

    def test_refusals_past_the_budget_are_answered_counted_not_kept(self):
        self.refuse(20)
        kept = scalar("SELECT count(*) FROM dead_letters WHERE source_name = 'acme'")
        size = scalar("SELECT coalesce(sum(octet_length(body)), 0) FROM dead_letters")
        self.assertEqual(kept, 2)
        self.assertLessEqual(size, 2 * MB)
        self.assertEqual(self.metric("ringlog_dead_letters_dropped_total"), 18)
        self.assertEqual(self.metric("ringlog_dead_letters_total"), 2)
        self.assertIn("dead letter not kept", self.daemon.output())
        self.assertIn("source=acme", self.daemon.output())
        # the budget is full: a small refusal is answered as ever, not kept
        r = self.push({"direction": "in"})
        self.assertEqual((r.status, r.json()["error"]), (422, "missing_field"))
        self.assertNotIn("dead_letter_id", r.json())
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters"), 2)

    def test_a_source_has_its_own_budget(self):
        add_source("big", "big-secret-123")
        ringlog("source", "update", "big", "--dead-letters-max", "5M")
        self.assertIn("5242880", ringlog("source", "show", "big").stdout)
        self.daemon.proc.send_signal(1)  # reload the sources
        import time
        time.sleep(0.3)
        self.refuse(8, "/v1/cdr/big", "big-secret-123")
        self.refuse(4)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE source_name = 'big'"), 5)
        self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE source_name = 'acme'"), 2)
        # "" goes back to the daemon's budget; a bad size is refused
        ringlog("source", "update", "big", "--dead-letters-max", "")
        self.assertIsNone(scalar("SELECT dead_letters_max FROM sources WHERE name = 'big'"))
        self.assertNotEqual(ringlog("source", "update", "big", "--dead-letters-max", "lots",
                                    check=False).returncode, 0)
