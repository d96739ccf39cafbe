"""A fake CRM webhook endpoint for the webhook tests: records every request
(headers and raw body) and answers as told: 200, 500, 410, hang (no answer
until released), or reset (the connection closed with a TCP RST)."""
import http.server
import json
import socket
import struct
import threading
import time


class FakeCRM:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []       # dicts: id, timestamp, signature, body (str), answer
        self.plan = []           # answers to give first, in order ("500", "hang", ...)
        self.default = "200"
        self.release = threading.Event()
        crm = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8")
                with crm.lock:
                    answer = crm.plan.pop(0) if crm.plan else crm.default
                    crm.requests.append({"id": self.headers.get("webhook-id"),
                                         "timestamp": self.headers.get("webhook-timestamp"),
                                         "signature": self.headers.get("webhook-signature"),
                                         "body": body, "answer": answer, "at": time.time(),
                                         "path": self.path})
                if answer == "hang":
                    crm.release.wait(60)
                    self.close_connection = True
                    return
                if answer == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                code = int(answer)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self):
        """The requests answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.requests if r["answer"].startswith("2")]

    def all(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
