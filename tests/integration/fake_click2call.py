"""A fake click-to-call PBX for the tests: Voicenter's click2call.aspx and a
VIPeX-style URL template, in a thread of the test process.

Voicenter: GET /ForwardDialer/click2call.aspx?code=&phone=&target=&action=...
answers {"ERRORCODE": n, "ERRORMESSAGE": ..., "CALLID": ...}; the code must
be CODE. A target ending in 0001..0004 answers that ERRORCODE, one ending in
0099 answers after SLOW seconds.
Template: GET /api/call?user=&pass=&ext=&num= answers an empty body, or an
error message (wrong password, unknown extension 999).
Every request is kept in .requests (path, parsed query).
"""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CODE = "VC-CODE-1234567890"
PASSWORD = "vipex-pass"
SLOW = 4


class FakeClick2Call:
    def __init__(self):
        self.requests = []
        self.next_call = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
                fake.requests.append((url.path, q))
                if url.path == "/ForwardDialer/click2call.aspx":
                    self.reply(200, "application/json", json.dumps(fake.voicenter(q)))
                elif url.path == "/api/call":
                    self.reply(200, "text/plain", fake.template(q))
                else:
                    self.reply(404, "text/plain", "no such page")

            def reply(self, status, ctype, text):
                body = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def voicenter(self, q):
        if q.get("code") != CODE:
            return {"ERRORCODE": 1, "ERRORMESSAGE": "Invalid code"}
        target = q.get("target", "")
        if target.endswith("0099"):
            time.sleep(SLOW)
        for code, text in ((1, "Invalid parameters"), (2, "Application error"),
                           (3, "Phone is offline"), (4, "Phone is blocked for click2call")):
            if target.endswith("000%d" % code):
                return {"ERRORCODE": code, "ERRORMESSAGE": text}
        self.next_call += 1
        return {"ERRORCODE": 0, "ERRORMESSAGE": "OK",
                "CALLID": "20250120091452%018d" % self.next_call}

    def template(self, q):
        if q.get("pass") != PASSWORD:
            return "ERROR: authentication failed"
        if q.get("ext") == "999":
            return "ERROR: unknown extension"
        return ""

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
