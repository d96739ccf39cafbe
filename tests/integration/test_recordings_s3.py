"""Recordings in an S3-compatible object store (s3rver on loopback, which
checks SigV4): two ingestd and two fetcherd on one database and one bucket
serve each other's inline audio and fetched recordings with Range, HEAD and
ETag; large recordings go up in parts; gc deletes from the bucket; every
request's Authorization is what the independent aws4 signer computes; and
`ringlog recordings move --to s3` moves a directory store while plays go on."""
import base64
import os
import re
import subprocess
import threading
import time
import unittest

from harness import (BIN, DB, WORK, add_source, fetcherd, ingestd, new_token, request, reset_database,
                     scalar, wait_for)
from recordings import FakePBX, call_with_recording, secret_file, sha256, wav
from s3 import S3Server

SECRET = "acme-push-secret-1"
_server = None


def setUpModule():
    global _server
    _server = S3Server(buckets=("recordings", "moved"))


def tearDownModule():
    _server.stop()


def local_blobs(root):
    """Blob files (64 hex names) under ROOT."""
    return [f for _, _, fs in os.walk(root) for f in fs if re.fullmatch(r"[0-9a-f]{64}", f)]


def cli(s3, *args, bucket="recordings", blob_dir=None):
    return subprocess.run([os.path.join(BIN, "ringlog"), "--database", DB, *args],
                          capture_output=True, text=True, timeout=120,
                          env=s3.env(bucket=bucket, blob_dir=blob_dir))


def push(port, call_id, audio):
    body = {"call_id": call_id, "direction": "in", "started_at": "2025-06-16T09:20:05Z",
            "recording_base64": base64.b64encode(audio).decode()}
    r = request(port, "POST", "/v1/cdr/acme", body, {"X-Api-Key": SECRET})
    assert r.status == 200, r
    return scalar("SELECT r.id FROM recordings r JOIN calls c ON c.id = r.call_id"
                  " WHERE c.pbx_call_id = %s", call_id)


class TwoNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reset_database()
        cls.s3 = _server
        cls.pbx = FakePBX().start()
        add_source("acme", SECRET, "--fetch-url-template", cls.pbx.base() + "/rec/{ref}",
                   "--fetch-auth", "basic", "--fetch-user", "crm", "--fetch-secret-file", secret_file(),
                   "--fetch-plain-http", "yes")  # the fake PBX is plain http on loopback
        cls.daemons = []
        for node in ("a", "b"):
            staging = os.path.join(WORK, f"s3-node-{node}")  # each node's own disk
            flags = cls.s3.flags("recordings", staging, "--recordings-s3-part-size", "5M")
            cls.daemons.append(ingestd(f"s3-ingest-{node}", "--max-body", "32M", *flags))
            cls.daemons.append(fetcherd(f"s3-fetch-{node}", *flags))
        cls.ingest_a, cls.fetch_a, cls.ingest_b, cls.fetch_b = cls.daemons
        cls.auth = {"Authorization": "Bearer " + new_token("s3")}

    @classmethod
    def tearDownClass(cls):
        codes = {d.program + " " + d.dir: d.stop() for d in cls.daemons}
        cls.pbx.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        assert not bad, bad  # a sanitizer's report is an exit status too

    def play(self, daemon, rid, method="GET", **headers):
        return request(daemon.port, method, f"/v1/recordings/{rid}", headers={**self.auth, **headers})

    def assert_served(self, daemon, rid, audio):
        r = self.play(daemon, rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, audio)
        etag = r.header("ETag")
        self.assertEqual(etag, '"%s"' % sha256(audio))
        part = self.play(daemon, rid, Range="bytes=1000-1999")
        self.assertEqual(part.status, 206)
        self.assertEqual(part.body, audio[1000:2000])
        self.assertEqual(part.header("Content-Range"), f"bytes 1000-1999/{len(audio)}")
        tail = self.play(daemon, rid, Range="bytes=-100")
        self.assertEqual((tail.status, tail.body), (206, audio[-100:]))
        head = self.play(daemon, rid, "HEAD")
        self.assertEqual((head.status, head.header("Content-Length")), (200, str(len(audio))))
        self.assertEqual(self.play(daemon, rid, **{"If-None-Match": etag}).status, 304)
        self.assertEqual(self.play(daemon, rid, Range=f"bytes={len(audio)}-").status, 416)

    def test_inline_audio_stored_by_one_node_plays_from_the_other(self):
        for i, (ingest, fetch) in enumerate(((self.ingest_a, self.fetch_b), (self.ingest_b, self.fetch_a))):
            audio = wav(2.0, seed=10 + i)
            rid = push(ingest.port, f"s3-inline-{i}", audio)
            # in the bucket, byte for byte, under its hash; on no node's disk
            with open(self.s3.object_path(sha256(audio)), "rb") as f:
                self.assertEqual(f.read(), audio)
            for node in ("a", "b"):
                self.assertEqual(local_blobs(os.path.join(WORK, f"s3-node-{node}")), [])
            self.assert_served(fetch, rid, audio)

    def test_a_fetched_recording_is_served_by_the_other_node(self):
        audio = wav(1.5, seed=20)
        self.pbx.add("r-s3", audio)
        rid = call_with_recording(ref="r-s3")
        first = self.play(self.fetch_a, rid)
        self.assertEqual((first.status, first.body), (200, audio))
        wait_for(lambda: scalar("SELECT state FROM recordings WHERE id = %s", rid) == "stored")
        self.assert_served(self.fetch_b, rid, audio)
        self.assertEqual(self.pbx.count("r-s3"), 1)

    def test_a_large_recording_goes_up_in_parts(self):
        audio = wav(400.0, seed=30)  # 6.4 MB: two parts of 5 MiB
        before = len(self.s3.requests())
        rid = push(self.ingest_b.port, "s3-large", audio)
        sent = self.s3.requests()[before:]
        self.assertTrue(any(r["method"] == "POST" and r["path"].endswith("?uploads=") for r in sent), sent)
        self.assertEqual(sorted(re.search(r"partNumber=(\d+)", r["path"]).group(1)
                                for r in sent if "partNumber=" in r["path"]), ["1", "2"])
        with open(self.s3.object_path(sha256(audio)), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(audio))
        self.assert_served(self.fetch_a, rid, audio)
        end = self.play(self.fetch_a, rid, Range=f"bytes={len(audio) - 3000000}-")
        self.assertEqual((end.status, end.body), (206, audio[-3000000:]))

    def test_gc_deletes_unreferenced_objects_from_the_bucket(self):
        audio = wav(0.5, seed=40)
        push(self.ingest_a.port, "s3-gone", audio)
        scalar("DELETE FROM calls WHERE pbx_call_id = 's3-gone' RETURNING id")
        self.assertTrue(os.path.exists(self.s3.object_path(sha256(audio))))
        time.sleep(1.1)
        p = cli(self.s3, "recordings", "gc", "--min-age", "0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"\b1 unreferenced removed")
        self.assertFalse(os.path.exists(self.s3.object_path(sha256(audio))))
        self.assertTrue(any(r["method"] == "DELETE" for r in self.s3.requests()))

    def test_virtual_hosted_addressing_with_a_key_prefix(self):
        # BUCKET.s3.localhost: libcurl resolves *.localhost to loopback, and
        # s3rver (serviceEndpoint "localhost") takes the bucket from the host
        flags = ["--recordings-store", "s3", "--recordings-s3-endpoint", f"http://s3.localhost:{self.s3.port}",
                 "--recordings-s3-addressing", "virtual", "--recordings-s3-prefix", "calls/2026",
                 "--recordings-s3-bucket", "recordings",
                 "--recordings-s3-credentials-file", self.s3.credentials,
                 "--recordings-blob-dir", os.path.join(WORK, "s3-virtual")]
        ingest = ingestd("s3-virtual-ingest", *flags)
        fetch = fetcherd("s3-virtual-fetch", *flags)
        try:
            before = len(self.s3.requests())
            audio = wav(1.0, seed=60)
            rid = push(ingest.port, "s3-virtual", audio)
            sent = self.s3.requests()[before:]
            self.assertTrue(sent)
            for r in sent:
                self.assertEqual(r["headers"]["host"], f"recordings.s3.localhost:{self.s3.port}")
                self.assertTrue(r["path"].startswith("/calls/2026/"), r["path"])
            found = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(self.s3.data, "recordings"))
                     for f in fs if f == sha256(audio) + "._S3rver_object"]
            self.assertEqual(len(found), 1)
            self.assertIn(os.path.join("calls", "2026"), found[0])
            self.assert_served(fetch, rid, audio)
        finally:
            self.assertEqual(ingest.stop(), 0)
            self.assertEqual(fetch.stop(), 0)

    def test_z_every_signature_is_what_aws4_computes(self):
        got = self.s3.verify_signatures()
        self.assertEqual(got["mismatches"], [])
        self.assertEqual(got["unsigned"], 0)
        self.assertGreater(got["checked"], 20)
        for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
            self.assertIn(method, got["methods"])


class Outage(unittest.TestCase):
    def test_a_push_is_not_acknowledged_before_its_audio_is_in_the_bucket(self):
        reset_database()
        add_source("acme", SECRET)
        from harness import free_port
        flags = ["--recordings-store", "s3", "--recordings-s3-endpoint", f"http://127.0.0.1:{free_port()}",
                 "--recordings-s3-bucket", "recordings", "--recordings-s3-credentials-file",
                 _server.credentials, "--recordings-blob-dir", os.path.join(WORK, "s3-down")]
        ingest = ingestd("s3-down-ingest", *flags)
        try:
            body = {"call_id": "s3-down", "direction": "in", "started_at": "2025-06-16T09:20:05Z",
                    "recording_base64": base64.b64encode(wav(0.5, seed=70)).decode()}
            r = request(ingest.port, "POST", "/v1/cdr/acme", body, {"X-Api-Key": SECRET})
            self.assertEqual(r.status, 500, r)
            self.assertEqual(r.json()["error"], "recording_store_failed")
            self.assertIn("object store", r.json()["message"])
            self.assertNotIn("S3RVER", r.body.decode())  # no credentials in what is said
            self.assertEqual(scalar("SELECT count(*) FROM calls WHERE pbx_call_id = 's3-down'"), 0)
            # kept, byte for byte, to be replayed once the store is back
            self.assertEqual(scalar("SELECT count(*) FROM dead_letters WHERE reason = 'recording_store_failed'"), 1)
        finally:
            self.assertEqual(ingest.stop(), 0)
        self.assertNotIn("S3RVER", ingest.output())


class Move(unittest.TestCase):
    def test_move_to_s3_is_resumable_and_no_play_fails(self):
        reset_database()
        add_source("acme", SECRET)
        local = os.path.join(WORK, "move-blobs")
        ingest = ingestd("move-ingest", "--recordings-blob-dir", local)
        audios = [wav(1.0, seed=50 + i) for i in range(4)]
        rids = [push(ingest.port, f"mv-{i}", a) for i, a in enumerate(audios)]
        self.assertEqual(ingest.stop(), 0, ingest.output()[-3000:])
        self.assertEqual(len(local_blobs(local)), 4)
        # the daemons switched first: the bucket, falling back to the directory
        fetch = fetcherd("move-fetch", *_server.flags("moved", local))
        self.addCleanup(lambda: self.assertEqual(fetch.stop(), 0, fetch.output()[-3000:]))
        auth = {"Authorization": "Bearer " + new_token("mv")}
        failures, plays, done = [], [0], threading.Event()

        def player():
            while not done.is_set():
                for rid, audio in zip(rids, audios):
                    r = request(fetch.port, "GET", f"/v1/recordings/{rid}", headers=auth)
                    plays[0] += 1
                    if r.status != 200 or r.body != audio:
                        failures.append((rid, r.status))

        t = threading.Thread(target=player)
        t.start()
        try:
            first = cli(_server, "recordings", "move", "--to", "s3", "--limit", "2", bucket="moved",
                        blob_dir=local)
            self.assertEqual(first.returncode, 0, first.stderr)
            self.assertIn("moved 2/4 blobs", first.stdout)
            self.assertEqual(len(local_blobs(local)), 2)
            again = cli(_server, "recordings", "move", "--to", "s3", bucket="moved", blob_dir=local)
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertIn("moved 2/2 blobs", again.stdout)
            self.assertIn("done", again.stdout)
            time.sleep(0.5)
        finally:
            done.set()
            t.join()
        self.assertEqual(failures, [])
        self.assertGreater(plays[0], 8)
        self.assertEqual(local_blobs(local), [])
        for rid, audio in zip(rids, audios):
            self.assertTrue(os.path.exists(_server.object_path(sha256(audio), "moved")))
            r = request(fetch.port, "GET", f"/v1/recordings/{rid}", headers=auth)
            self.assertEqual((r.status, r.body), (200, audio))
        # nothing left: a third run moves nothing and says so
        last = cli(_server, "recordings", "move", "--to", "s3", bucket="moved", blob_dir=local)
        self.assertIn("moved 0/0 blobs", last.stdout)


if __name__ == "__main__":
    unittest.main()
