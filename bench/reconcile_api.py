"""A call-log API for bench/reconcile.sh: N calls spread over 2025-06-16
(UTC), served VIPeX-style (GET ?from=&to=&page=&per_page=, epoch times,
{"data": {"calls": [{"cdr": PUSH, "logged_at": EPOCH}]}}) or Voicenter-style
(POST hub/cdr, {"CDR_LIST": [...]}) from pages built once. Prints its port."""
import datetime
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

N = int(sys.argv[1])
DAY = 1750032000
BUDAPEST = datetime.timezone(datetime.timedelta(hours=2))
records = []
for i in range(N):
    at = DAY + i * 86400 // N
    start = datetime.datetime.fromtimestamp(at, BUDAPEST).strftime("%Y-%m-%d %H:%M:%S")
    records.append({"cdr": {"call": {
        "id": f"bench-{i}", "direction": "bejövő", "status": "fogadott" if i % 5 else "nem fogadott",
        "caller": {"number": f"06 30 {100 + i % 900} {1000 + i % 9000}"},
        "called": {"number": "06 1 456 7890"}, "extension": {"number": str(200 + i % 20)},
        "start": start, "duration": "60", "billsec": "50" if i % 5 else "0"}}, "logged_at": at})
pages = {}


class Api(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        q = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        lo, hi, per, page = int(q["from"]), int(q["to"]), int(q["per_page"]), int(q["page"])
        key = (lo, hi, per, page)
        if key not in pages:
            hits = [r for r in records if lo <= r["logged_at"] <= hi]
            pages[key] = json.dumps({"data": {"calls": hits[(page - 1) * per:page * per]}}).encode()
        data = pages[key]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
print(server.server_port, flush=True)
server.serve_forever()
