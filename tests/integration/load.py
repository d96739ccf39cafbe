"""Push load for the fault tests: threads push calls with unique ids as a
PBX would, and keep a client-side log of every id answered 2xx (what the
PBX was told is safe). After the fault, that log is compared with the calls
table: every acknowledged id must be there."""
import http.client
import json
import os
import threading
import time

from harness import query


class Load:
    def __init__(self, port, secret, log_path, source="acme", threads=4, pad=0, tag="load"):
        """PORT is a number or a function returning the current one."""
        self.port = port if callable(port) else (lambda: port)
        self.secret = secret
        self.path = f"/v1/cdr/{source}"
        self.log_path = log_path
        self.nthreads = threads
        self.pad = pad
        self.tag = tag
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.refused = {}   # status -> count (answered, not 2xx)
        self.unanswered = 0  # connection refused, reset, timed out
        self.threads = []

    def _push(self, call_id):
        body = {"call_id": call_id, "direction": "in", "started_at": 1750065605, "billsec": 7}
        if self.pad:
            body["pad"] = "x" * self.pad
        conn = http.client.HTTPConnection("127.0.0.1", self.port(), timeout=10)
        try:
            conn.request("POST", self.path, body=json.dumps(body),
                         headers={"Content-Type": "application/json", "X-Api-Key": self.secret})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    def _run(self, n, log):
        i = 0
        while not self.stop_event.is_set():
            call_id = f"{self.tag}-{n}-{i}"
            i += 1
            try:
                status = self._push(call_id)
            except OSError:
                status = None
            with self.lock:
                self.sent += 1
                if status is None:
                    self.unanswered += 1
                elif 200 <= status < 300:
                    log.write(call_id + "\n")
                    log.flush()
                else:
                    self.refused[status] = self.refused.get(status, 0) + 1
            if status is None:
                time.sleep(0.02)  # a PBX backs off a little when nobody answers

    def start(self):
        self.log = open(self.log_path, "a")
        self.threads = [threading.Thread(target=self._run, args=(n, self.log), daemon=True)
                        for n in range(self.nthreads)]
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=30)
        self.log.close()
        return self

    def acknowledged(self):
        """The ids answered 2xx, from the client-side log."""
        if not os.path.exists(self.log_path):
            return set()
        with open(self.log_path) as f:
            return {line.strip() for line in f if line.strip()}

    def report(self, what):
        """Compares the log with the calls table; prints and returns the figures."""
        acked = self.acknowledged()
        ids = [r for (r,) in query("SELECT pbx_call_id FROM calls WHERE pbx_call_id LIKE %s",
                                   self.tag + "-%")]
        stored = set(ids)
        figures = {
            "sent": self.sent,
            "acknowledged": len(acked),
            "stored": len(stored),
            "acknowledged_and_stored": len(acked & stored),
            "missing": sorted(acked - stored),
            "stored_unacknowledged": len(stored - acked),
            "duplicate_rows": len(ids) - len(stored),
            "refused": dict(self.refused),
            "unanswered": self.unanswered,
        }
        print(f"\n  [{what}] sent {self.sent}, acknowledged {len(acked)}, stored "
              f"{len(acked & stored)} of them, missing {len(acked - stored)}, stored without "
              f"an answer {len(stored - acked)}, duplicate rows {figures['duplicate_rows']}, "
              f"refused {self.refused or 0}, unanswered {self.unanswered}", flush=True)
        return figures
