"""HTTPS with the daemons' own TLS, checked with curl against a CA made here;
certificates and configuration reloaded on SIGHUP."""
import http.client
import os
import signal
import ssl
import subprocess
import unittest

from harness import (WORK, Daemon, add_source, fetcherd, ingestd, reset_database, wait_for)

SECRET = "tls-push-secret-1"


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


class TestCA:
    """A throwaway certificate authority and the server certificates it signs."""

    def __init__(self, name):
        self.dir = os.path.join(WORK, "ca-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.cert = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", "/CN=ringlog test CA")

    def issue(self, cn, days=1):
        """A certificate for 127.0.0.1 named CN: (cert path, key path)."""
        base = os.path.join(self.dir, cn)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", base + ".key", "-out", base + ".csr", "-subj", f"/CN={cn}")
        openssl("x509", "-req", "-in", base + ".csr", "-CA", self.cert, "-CAkey", self.key,
                "-CAcreateserial", "-out", base + ".pem", "-days", str(days), "-extfile", ext)
        return base + ".pem", base + ".key"


def install(src, dst):
    """Replaces DST atomically, as certbot and ansible do."""
    with open(src, "rb") as f:
        data = f.read()
    with open(dst + ".new", "wb") as f:
        f.write(data)
    os.rename(dst + ".new", dst)


def curl(ca, url, *args):
    """curl over HTTPS trusting CA; returns (exit code, stdout)."""
    cmd = ["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}\n%{certs}"]
    if ca:
        cmd += ["--cacert", ca]
    p = subprocess.run([*cmd, *args, url], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout


def subject(out):
    for line in out.splitlines():
        if line.startswith("Subject:"):
            return line.split("CN", 1)[1].strip(" =")
    return None


class HTTPS(unittest.TestCase):
    def setUp(self):
        reset_database()
        add_source("acme", SECRET)
        self.ca = TestCA(self.id().rsplit(".", 1)[-1])
        self.dir = os.path.join(WORK, "tls-" + self.id().rsplit(".", 1)[-1])
        os.makedirs(self.dir, exist_ok=True)
        self.cert, self.key = os.path.join(self.dir, "tls.pem"), os.path.join(self.dir, "tls.key")
        first = self.ca.issue("first")
        install(first[0], self.cert)
        install(first[1], self.key)
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            self.assertEqual(d.stop(), 0, d.output())

    def start(self, factory, name):
        d = factory(name, "--tls-cert", self.cert, "--tls-key", self.key)
        self.daemons.append(d)
        return d

    def url(self, d, path):
        return f"https://127.0.0.1:{d.port}{path}"

    def test_ingestd_serves_https_and_takes_a_push(self):
        d = self.start(ingestd, "ingest-https")
        self.assertIn("https: subject CN=first", d.output())
        rc, out = curl(self.ca.cert, self.url(d, "/healthz"))
        self.assertEqual((rc, out.splitlines()[1], subject(out)), (0, "200", "first"), out)
        rc, out = curl(self.ca.cert, self.url(d, "/v1/cdr/acme"), "-H", f"X-Api-Key: {SECRET}",
                       "-H", "Content-Type: application/json",
                       "-d", '{"call_id":"tls-1","direction":"in","started_at":1750065605}')
        self.assertEqual(rc, 0, out)
        self.assertIn('"status":"stored"', out)
        # curl trusts only the system CAs by default: ours is unknown to it
        rc, _ = curl(None, self.url(d, "/healthz"))
        self.assertEqual(rc, 60)
        # plain HTTP on the HTTPS port gets no answer
        rc, _ = curl(None, f"http://127.0.0.1:{d.port}/healthz")
        self.assertNotEqual(rc, 0)

    def test_old_protocols_are_refused(self):
        d = self.start(ingestd, "ingest-tls11")
        rc, _ = curl(self.ca.cert, self.url(d, "/healthz"), "--tlsv1.1", "--tls-max", "1.1")
        self.assertNotEqual(rc, 0)
        rc, out = curl(self.ca.cert, self.url(d, "/healthz"), "--tlsv1.2", "--tls-max", "1.2")
        self.assertEqual(rc, 0, out)

    def test_sighup_reloads_the_certificate_without_dropping_connections(self):
        d = self.start(ingestd, "ingest-reload")
        ctx = ssl.create_default_context(cafile=self.ca.cert)
        kept = http.client.HTTPSConnection("127.0.0.1", d.port, context=ctx, timeout=10)
        kept.request("GET", "/healthz")
        self.assertEqual(kept.getresponse().read(), b'{"status":"ok"}')

        second = self.ca.issue("second")
        install(second[0], self.cert)
        install(second[1], self.key)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "https: reloaded: subject CN=second" in d.output(), what="the reload")
        rc, out = curl(self.ca.cert, self.url(d, "/healthz"))
        self.assertEqual((rc, subject(out)), (0, "second"), out)
        # the connection opened before the reload goes on with its session
        kept.request("GET", "/healthz")
        self.assertEqual(kept.getresponse().status, 200)
        kept.close()

        # a key that is not the certificate's: refused, the served one stays
        third = self.ca.issue("third")
        install(third[0], self.cert)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "certificate not reloaded" in d.output(), what="the refusal")
        self.assertIn("does not belong to the certificate", d.output())
        rc, out = curl(self.ca.cert, self.url(d, "/healthz"))
        self.assertEqual((rc, subject(out)), (0, "second"), out)

    def test_fetcherd_serves_https_and_reloads(self):
        d = self.start(fetcherd, "fetcher-https")
        rc, out = curl(self.ca.cert, self.url(d, "/healthz"))
        self.assertEqual((rc, subject(out)), (0, "first"), out)
        second = self.ca.issue("second")
        install(second[0], self.cert)
        install(second[1], self.key)
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "https: reloaded: subject CN=second" in d.output(), what="the reload")
        rc, out = curl(self.ca.cert, self.url(d, "/healthz"))
        self.assertEqual((rc, subject(out)), (0, "second"), out)

    def test_unusable_certificates_stop_the_start(self):
        other = self.ca.issue("other")
        for cert, key, says in ((self.cert, other[1], "does not belong to the certificate"),
                                (self.cert, self.cert, "not an unencrypted PEM private key"),
                                (self.key, self.key, "not a PEM certificate chain"),
                                (self.cert, "", "needs both a certificate and a key")):
            d = Daemon("ringlog-ingestd", "tls-bad", "--spool-dir", os.path.join(self.dir, "spool"),
                       "--tls-cert", cert, "--tls-key", key).start(expect_ready=False)
            self.assertNotEqual(d.wait_exit(), 0)
            d.stop()
            self.assertIn(says, d.output())


class ConfigReload(unittest.TestCase):
    """SIGHUP reads the configuration again: what can change now does."""

    def test_log_level_is_applied_and_other_changes_wait_for_a_restart(self):
        reset_database()
        path = os.path.join(WORK, "reload.conf")
        with open(path, "w") as f:
            f.write("[ingest]\nlog_level = info\nthreads = 4\n")
        d = ingestd("reload", "--config", path)
        from harness import request
        request(d.port, "GET", "/readyz")
        wait_for(lambda: "path=/readyz" in d.output(), what="the request log line")
        with open(path, "w") as f:
            f.write("[ingest]\nlog_level = warning\nthreads = 8\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "ingest.threads changed" in d.output(), what="the reload")
        self.assertIn("takes effect at the next restart", d.output())
        before = d.output().count("path=/readyz")
        request(d.port, "GET", "/readyz")
        request(d.port, "GET", "/healthz")
        self.assertEqual(d.output().count("path=/readyz"), before)  # info lines are off now

        with open(path, "w") as f:
            f.write("[ingest]\nlog_level = loud\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "configuration not reloaded" in d.output(), what="the refusal")
        self.assertEqual(d.stop(), 0, d.output())


if __name__ == "__main__":
    unittest.main()
