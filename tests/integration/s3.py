"""An S3-compatible object store for the tests: s3rver (npm, pinned in
tests/s3) on loopback, port 0, behind a proxy that logs every request so
that tests/s3/verify.mjs can re-sign it with the aws4 signer."""
import json
import os
import subprocess
import time

from harness import ROOT, WORK

S3_DIR = os.path.join(ROOT, "tests", "s3")
ACCESS_KEY = SECRET_KEY = "S3RVER"  # what s3rver checks signatures with


class S3Server:
    def __init__(self, name="s3", buckets=("recordings",)):
        self.dir = os.path.join(WORK, name)  # in WORK: the runner's trap stops it
        os.makedirs(self.dir, exist_ok=True)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.credentials = os.path.join(self.dir, "credentials")
        with open(self.credentials, "w") as f:
            f.write(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
        self.out = open(os.path.join(self.dir, "server.out"), "w+")
        self.proc = subprocess.Popen(["node", os.path.join(S3_DIR, "server.mjs"), self.data, self.log,
                                      *buckets], stdout=self.out, stderr=subprocess.STDOUT, cwd=S3_DIR)
        deadline = time.time() + 30
        while time.time() < deadline:
            self.out.seek(0)
            line = self.out.readline()
            if line.startswith("{"):
                info = json.loads(line)
                self.port, self.direct_port = info["port"], info["direct"]
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.out.seek(0)
        raise AssertionError("s3rver did not start:\n" + self.out.read())

    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def flags(self, bucket="recordings", blob_dir=None, *extra):
        """The daemons' and the CLI's flags for this store."""
        f = ["--recordings-store", "s3", "--recordings-s3-endpoint", self.endpoint(),
             "--recordings-s3-bucket", bucket, "--recordings-s3-credentials-file", self.credentials]
        if blob_dir:
            f += ["--recordings-blob-dir", blob_dir]
        return f + list(extra)

    def env(self, bucket="recordings", blob_dir=None):
        """The same as RINGLOG_* environment (for the CLI)."""
        e = dict(os.environ, RINGLOG_RECORDINGS_STORE="s3",
                 RINGLOG_RECORDINGS_S3_ENDPOINT=self.endpoint(),
                 RINGLOG_RECORDINGS_S3_BUCKET=bucket,
                 RINGLOG_RECORDINGS_S3_CREDENTIALS_FILE=self.credentials)
        if blob_dir:
            e["RINGLOG_RECORDINGS_BLOB_DIR"] = blob_dir
        return e

    def object_path(self, key, bucket="recordings"):
        """Where s3rver keeps object KEY's bytes (its file store layout)."""
        return os.path.join(self.data, bucket, key + "._S3rver_object")

    def requests(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def verify_signatures(self):
        p = subprocess.run(["node", os.path.join(S3_DIR, "verify.mjs"), self.log, ACCESS_KEY, SECRET_KEY],
                           capture_output=True, text=True, timeout=60, cwd=S3_DIR)
        if p.returncode != 0:
            raise AssertionError(p.stderr)
        return json.loads(p.stdout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
