"""A fake PBX that serves call recordings the ways real ones do, for the
integration tests and the benchmark.

Two listeners stand for two hosts: "main" on 127.0.0.1 (the PBX) and
"other" on 127.0.0.2 (somewhere a redirect may lead). Recordings are served
by reference:

    GET /rec?id=REF[&user=U&password=P]   VIPeX style: the encoded id as a parameter
    GET /rec/REF                           the id in the path
    GET /files/REF                         no authentication (pushed URLs, redirect targets)

/rec checks the credentials configured (auth = "basic", "query" or
"header"); /files never does. What a reference answers can be set per
reference with a mode:

    None             200 with the audio and its Content-Length
    "unauthorized"   401 whatever the credentials
    "bad_ref"        404 {"error": "cannot decode recording id"}
    "bad_ref_200"    200 text/plain "ERROR: cannot decode recording id" (as VIPeX answers)
    "auth_200"       200 text/plain "ERROR: authentication failed"
    "slow"           waits `slow_seconds` before answering
    "redirect_other" 302 to the same reference under /files on the other host
    "redirect_same"  302 to /rec/REF?hop=1 on this host (answered there)
    "close_mid_body" announces the whole length, sends half, closes
    "chunked"        no Content-Length, sent in pieces (connection closed at the end)
    "drip"           the whole length announced, the body sent in 8 pieces 50 ms apart
    "error_500"      500

Every request is recorded (host, path, query, headers) and can be counted.
In-process: FakePBX(...).start(). As a process (the benchmark), with the
work directory in its argv so a runner can find and stop it:

    python3 tests/fakepbx.py --work DIR --file rec.wav [--latency-ms 50]
prints "main PORT other PORT" and serves until killed.
"""
import argparse
import base64
import http.server
import json
import socketserver
import sys
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    @property
    def pbx(self):
        return self.server.pbx

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.pbx.note(self.server.name, url.path, query, dict(self.headers))
        if self.pbx.latency:
            time.sleep(self.pbx.latency)
        if url.path == "/rec":
            ref = query.get("id")
            authed = self.pbx.authorized(self.headers, query)
        elif url.path.startswith("/rec/"):
            ref = urllib.parse.unquote(url.path[5:])
            authed = self.pbx.authorized(self.headers, query)
        elif url.path.startswith("/files/"):
            ref = urllib.parse.unquote(url.path[7:])
            authed = True
        else:
            return self.send(404, b"not found", "text/plain")
        mode = self.pbx.modes.get(ref)
        if mode == "unauthorized" or not authed:
            return self.send(401, b'{"error": "bad credentials"}', "application/json",
                             [("WWW-Authenticate", 'Basic realm="pbx"')])
        self.answer(ref, mode, url.path, query)

    def answer(self, ref, mode, path, query):
        data = self.pbx.recordings.get(ref)
        if mode == "bad_ref" or data is None:
            return self.send(404, b'{"error": "cannot decode recording id"}', "application/json")
        if mode == "bad_ref_200":
            return self.send(200, b"ERROR: cannot decode recording id", "text/plain")
        if mode == "auth_200":
            return self.send(200, b"ERROR: authentication failed", "text/plain")
        if mode == "error_500":
            return self.send(500, b"internal error", "text/plain")
        if mode == "slow":
            time.sleep(self.pbx.slow_seconds)
        if mode == "redirect_other" and not path.startswith("/files/"):
            target = f"http://127.0.0.2:{self.pbx.ports['other']}/files/{urllib.parse.quote(ref)}"
            return self.send(302, b"", "text/plain", [("Location", target)])
        if mode == "redirect_same" and "hop" not in query:
            return self.send(302, b"", "text/plain",
                             [("Location", "/rec/" + urllib.parse.quote(ref) + "?hop=1")])
        if mode == "close_mid_body":
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(data), 4096):
                self.wfile.write(data[i:i + 4096])
            self.close_connection = True
            return
        if mode == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            step = max(1, len(data) // 8)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.send(200, data, "audio/wav")

    def send(self, status, body, ctype, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakePBX:
    def __init__(self, auth="basic", user="crm", password="pbx-secret", header="Auth-key",
                 latency_ms=0, slow_seconds=3.0):
        self.auth = auth
        self.user = user
        self.password = password
        self.header = header
        self.latency = latency_ms / 1000.0
        self.slow_seconds = slow_seconds
        self.recordings = {}
        self.modes = {}
        self.requests = []
        self.lock = threading.Lock()
        self.servers = {}
        self.ports = {}

    # -- setup ---------------------------------------------------------------
    def add(self, ref, data, mode=None):
        self.recordings[ref] = data
        self.modes[ref] = mode
        return ref

    def start(self):
        for name, host in (("main", "127.0.0.1"), ("other", "127.0.0.2")):
            srv = Server((host, 0), Handler)
            srv.pbx = self
            srv.name = name
            self.servers[name] = srv
            self.ports[name] = srv.server_address[1]
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        for srv in self.servers.values():
            srv.shutdown()
            srv.server_close()

    def base(self, name="main"):
        host = "127.0.0.1" if name == "main" else "127.0.0.2"
        return f"http://{host}:{self.ports[name]}"

    # -- what happened -------------------------------------------------------
    def authorized(self, headers, query):
        if self.auth == "basic":
            want = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return headers.get("Authorization") == want
        if self.auth == "query":
            return query.get("user") == self.user and query.get("password") == self.password
        if self.auth == "header":
            return headers.get(self.header) == self.password
        return True

    def note(self, host, path, query, headers):
        with self.lock:
            self.requests.append({"host": host, "path": path, "query": query, "headers": headers})

    def count(self, ref=None, host=None):
        with self.lock:
            return sum(1 for r in self.requests
                       if (host is None or r["host"] == host)
                       and (ref is None or r["query"].get("id") == ref
                            or urllib.parse.unquote(r["path"]).endswith("/" + ref)))

    def requests_to(self, host):
        with self.lock:
            return [r for r in self.requests if r["host"] == host]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="the work directory (for the runner's cleanup)")
    ap.add_argument("--file", required=True, help="served as every reference")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--auth", default="none")
    args = ap.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()

    class Every(dict):
        def get(self, key, default=None):
            return data

    pbx = FakePBX(auth=args.auth, latency_ms=args.latency_ms)
    pbx.recordings = Every()
    pbx.start()
    print(f"main {pbx.ports['main']} other {pbx.ports['other']}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
