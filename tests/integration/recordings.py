"""What the recordings tests share: a fake PBX, a fetcherd with a token,
recordings rows made straight in the database, signed play URLs, audio."""
import hashlib
import hmac
import io
import math
import os
import struct
import sys
import time
import unittest
import wave

from harness import (BLOBS, ROOT, WORK, add_source, execute, fetcherd, new_token, request,
                     reset_database, ringlog, scalar)

sys.path.insert(0, os.path.join(ROOT, "tests"))
from fakepbx import FakePBX  # noqa: E402

FETCH_SECRET = "pbx-secret"


def wav(seconds=1.0, rate=8000, freq=440, seed=0):
    """A real PCM WAV of SECONDS (distinct content per SEED)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * (freq + seed) * i / rate)))
                               for i in range(n)))
    return out.getvalue()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def blob_path(key):
    return os.path.join(BLOBS, key[:2], key[2:4], key)


def secret_file(secret=FETCH_SECRET):
    path = os.path.join(WORK, "fetch-secret")
    with open(path, "w") as f:
        f.write(secret + "\n")
    return path


def call_with_recording(source="acme", ref=None, url=None, call_id=None):
    """A call of SOURCE with one remote recording; returns the recording id."""
    call_id = call_id or f"c-{time.monotonic_ns()}"
    cid = scalar("""INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)
                    SELECT id, %s, 'in', 'answered', now(), '{}' FROM sources WHERE name = %s
                    RETURNING id""", call_id, source)
    return scalar("""INSERT INTO recordings (call_id, position, state, remote_ref, remote_url)
                     VALUES (%s, 0, 'remote', %s, %s) RETURNING id""", cid, ref, url)


class RecordingCase(unittest.TestCase):
    """A clean database, a fake PBX, source `acme` fetching from it with
    Basic auth, a fetcherd and a bearer token."""

    PBX = {"auth": "basic"}
    FETCH = ("--fetch-auth", "basic", "--fetch-user", "crm")
    TEMPLATE = "/rec/{ref}"
    FETCHER_FLAGS = ("--fetch-timeout", "2", "--fetch-retry-base", "0")

    def setUp(self):
        reset_database()
        self.pbx = FakePBX(**self.PBX).start()
        self.addCleanup(self.pbx.stop)
        # the fake PBX speaks plain http: say so, as an operator must
        options = ["--fetch-url-template", self.pbx.base() + self.TEMPLATE, *self.FETCH,
                   "--fetch-plain-http", "yes",
                   "--fetch-secret-file", secret_file(),
                   "--fetch-allow-host", "127.0.0.2"]
        add_source("acme", "push-secret-123", *options)
        self.token = new_token()
        self.fetcher = self.start_fetcher(self.id().rsplit(".", 1)[-1])

    def start_fetcher(self, name, *flags):
        d = fetcherd(name, *self.FETCHER_FLAGS, *flags)
        self.addCleanup(self.stop_daemon, d)
        return d

    def stop_daemon(self, d):
        code = d.stop()
        self.assertEqual(code, 0, f"{d.program} exit status {code}:\n{d.output()}")

    def play(self, rid, method="GET", headers=None, query="", port=None, auth=True, timeout=30):
        h = dict(headers or {})
        if auth:
            h["Authorization"] = "Bearer " + self.token
        return request(port or self.fetcher.port, method, f"/v1/recordings/{rid}{query}", headers=h,
                       timeout=timeout)

    def signed_query(self, rid, expires=None, daemon=None):
        d = daemon or self.fetcher
        with open(os.path.join(d.dir, "signing.key"), "rb") as f:
            key = f.read()
        expires = expires if expires is not None else int(time.time()) + 900
        sig = hmac.new(key, f"recording:{rid}:{expires}".encode(), hashlib.sha256).hexdigest()
        return f"?expires={expires}&sig={sig}"

    def row(self, rid):
        from harness import row
        return row("SELECT * FROM recordings WHERE id = %s", rid)


__all__ = ["FakePBX", "RecordingCase", "blob_path", "call_with_recording", "execute", "ringlog",
           "secret_file", "sha256", "wav", "BLOBS"]
