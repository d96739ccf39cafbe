"""docs/openapi-ingest.yaml and docs/openapi-fetcher.yaml are valid OpenAPI
(swagger-parser, pinned in tests/openapi), and real answers of every
documented operation of both daemons, successes and refusals, match the
schemas documented for their status (ajv). A `format: date-time` must be
written YYYY-MM-DDTHH:MM:SSZ."""
import json
import os
import re
import subprocess
import unittest

import yaml

import fake_click2call as fake
from harness import (ROOT, WORK, add_source, execute, fetcherd, ingestd, new_token, request,
                     reset_database, ringlog, scalar)

METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}
SPECS = ["docs/openapi-ingest.yaml", "docs/openapi-fetcher.yaml"]
SECRET = "openapi-push-secret"


def check(answers=None):
    args = ["node", "tests/openapi/check.mjs", *SPECS]
    if answers is not None:
        path = os.path.join(WORK, "openapi-answers.json")
        with open(path, "w") as f:
            json.dump(answers, f)
        args.append(path)
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def documented():
    ops = set()
    for spec in SPECS:
        with open(os.path.join(ROOT, spec)) as f:
            doc = yaml.safe_load(f)
        for path, item in doc["paths"].items():
            if not item.get("x-ringlog-planned"):
                ops |= {f"{os.path.basename(spec)} {m.upper()} {path}" for m in item.keys() & METHODS}
    return ops


class OpenApiValid(unittest.TestCase):
    def test_both_files_are_valid_openapi(self):
        p = check()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.count(" is valid OpenAPI 3."), 2, p.stdout)


class RealAnswers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pbx = fake.FakeClick2Call()
        reset_database()
        add_source("acme", SECRET, "--country-code", "36", "--trunk-prefix", "06",
                   "--time-zone", "Europe/Budapest", "--crm-url-template", "https://crm.example/leads/{id}")
        add_source("vc", SECRET, "--vendor", "voicenter", "--country-code", "972",
                   "--time-zone", "Asia/Jerusalem", "--click2call-style", "voicenter",
                   "--click2call-url", cls.pbx.url("/ForwardDialer/click2call.aspx"))
        ringlog("source", "update", "vc", "--click2call-secret-file", "-", input=fake.CODE + "\n")
        ringlog("agent", "add", "acme", "1002", "gabor@crm", "--name", "Tóth Gábor")
        ringlog("agent", "add", "vc", "Rk7pQ2xL", "dana@crm")
        cls.ingest = ingestd("ingest-openapi")
        cls.fetcher = fetcherd("fetcher-openapi")
        cls.token = new_token("openapi")

    @classmethod
    def tearDownClass(cls):
        cls.ingest.stop()
        cls.fetcher.stop()
        cls.pbx.close()

    def test_every_operation_answers_as_documented(self):
        answers = []

        def ask(api, port, method, path, body=None, headers=None, auth=None):
            headers = dict(headers or {})
            if auth == "push":
                headers["X-Api-Key"] = SECRET
            elif auth == "token":
                headers["Authorization"] = "Bearer " + self.token
            r = request(port, method, path, body, headers)
            ctype = r.header("Content-Type") or ""
            parsed = None
            if ctype.startswith("application/json") and r.body:
                parsed = json.loads(r.body)
            answers.append({"api": api, "method": method, "path": path, "status": r.status,
                            "content_type": ctype, "body": parsed})
            return r

        ing = lambda *a, **kw: ask("openapi-ingest.yaml", self.ingest.port, *a, **kw)
        fet = lambda *a, **kw: ask("openapi-fetcher.yaml", self.fetcher.port, *a, **kw)
        call = {"call_id": "oa-1", "direction": "in", "caller": "+36 30 123 4567", "callee": "1002",
                "agent": "1002", "started_at": "2025-06-16T11:20:05+02:00", "billsec": 60,
                "recording_url": "https://pbx.example/r.wav"}
        # ingest: pushes in every method, the vendor's own answer, refusals
        self.assertEqual(ing("POST", "/v1/cdr/acme", call, auth="push").status, 200)
        ing("POST", "/v1/cdr/acme", call, auth="push")  # duplicate
        ing("PUT", "/v1/cdr/acme", {**call, "billsec": 61}, auth="push")  # updated
        ing("GET", "/v1/cdr/acme?call_id=oa-2&direction=out&callee=0612345678&started_at=1750065605"
            "&disposition=missed", auth="push")
        ing("POST", "/v1/cdr/vc", {"ivruniqueid": "vc-1", "caller": "0528812345", "did": "0733750100",
                                   "time": 1750063512, "status": "ANSWER", "type": "incoming",
                                   "duration": 20, "actualCallDuration": 12}, auth="push")
        ing("POST", "/v1/cdr/acme", b"{bad", {"Content-Type": "application/json"}, auth="push")
        ing("POST", "/v1/cdr/acme", {"call_id": "x"}, auth="push")  # 422
        ing("POST", "/v1/cdr/acme", b"<x/>", {"Content-Type": "application/xml"}, auth="push")
        ing("POST", "/v1/cdr/acme", call)  # 401
        ing("POST", "/v1/cdr/nobody", call, auth="push")
        ing("GET", "/v1/screenpop/acme?phone=%2B36301234567&ivrid=oa-3&extenUser=1002&statusCall=Ringing",
            auth="push")
        ing("POST", "/v1/screenpop/acme", {"phone": "0611111111", "status": "Ringing"}, auth="push")
        ing("OPTIONS", "/v1/screenpop/acme", headers={"Origin": "chrome-extension://ifiaikfdhcagbagdeflffjdammidpbio",
                                                      "Access-Control-Request-Method": "GET"})
        ing("GET", "/v1/screenpop/acme", auth="push")  # no phone: 400
        lead = scalar("SELECT id FROM leads WHERE phone = '36301234567'")
        execute("UPDATE leads SET responsible = 'gabor@crm' WHERE id = %s", lead)
        ing("GET", "/v1/route/acme?phone=%2B36301234567", auth="push")
        ing("POST", "/v1/route/acme", b"phone=%2B36301234567", {"Content-Type": "application/x-www-form-urlencoded"},
            auth="push")
        ing("POST", "/v1/route/acme", {"phone": "+36 1 999 9999"}, auth="push")  # 404 no_route
        for path in ("/healthz", "/readyz", "/metrics"):
            ing("GET", path)
        # fetcher: the CRM's API with its data, and refusals
        cid = scalar("SELECT id FROM calls WHERE pbx_call_id = 'oa-1'")
        rec = scalar("SELECT id FROM recordings WHERE call_id = %s", cid)
        fet("GET", "/v1/calls", auth="token")
        fet("GET", "/v1/calls?from=nonsense", auth="token")
        fet("GET", "/v1/calls")  # 401
        fet("GET", f"/v1/calls/{cid}", auth="token")
        fet("GET", "/v1/calls/999999", auth="token")
        fet("GET", f"/v1/recordings/{rec}", auth="token")  # not allowed host: 502
        fet("HEAD", f"/v1/recordings/{rec}", auth="token")
        fet("GET", "/v1/export.csv?from=2025-06-01&to=2025-06-30", auth="token")
        fet("GET", "/v1/export.csv", auth="token")  # 400
        fet("GET", "/v1/leads?phone=%2B36301234567", auth="token")
        fet("GET", f"/v1/leads/{lead}", auth="token")
        fet("POST", "/v1/leads", {"crm_id": "C-1", "phone": "+36 30 555 0000", "name": "Új Ügyfél"}, auth="token")
        fet("POST", "/v1/leads", json.dumps([{"phone": "not a phone"}]), {"Content-Type": "application/json"},
            auth="token")
        fet("GET", "/v1/tasks", auth="token")
        task = scalar("SELECT id FROM tasks ORDER BY id LIMIT 1")
        fet("POST", f"/v1/tasks/{task}/done", auth="token")
        fet("POST", "/v1/tasks/999999/done", auth="token")
        fet("GET", "/v1/calls/live", auth="token")
        fet("GET", "/v1/calls/live/stream")  # 401 without a token
        r = fet("POST", "/v1/click2call", {"agent": "dana@crm", "target": "0523344556", "source": "vc"},
                auth="token")
        fet("GET", f"/v1/click2call/{r.json().get('click2call_id', 0)}", auth="token")
        fet("POST", "/v1/click2call", {"agent": "dana@crm"}, auth="token")
        fet("POST", "/v1/ui/sessions", {"user": "gabor@crm"}, auth="token")
        # webhooks (README "Webhooks") and erasure (README "Privacy")
        w = fet("POST", "/v1/webhooks", {"name": "oa", "url": "https://crm.example/hooks",
                                          "events": ["lead.created", "call.missed"]}, auth="token")
        wid = w.json().get("id", 0)
        fet("POST", "/v1/webhooks", {"name": "bad", "url": "https://crm.example/h", "events": ["nope"]},
            auth="token")  # 400
        fet("GET", "/v1/webhooks", auth="token")
        fet("GET", f"/v1/webhooks/{wid}", auth="token")
        fet("POST", f"/v1/webhooks/{wid}/rotate-secret", {"overlap_s": 60}, auth="token")
        fet("DELETE", f"/v1/webhooks/{wid}", auth="token")
        fet("GET", f"/v1/webhooks/{wid}", auth="token")  # 404
        fet("POST", "/v1/erase", {"phone": "+36301234567", "dry_run": True}, auth="token")  # 403
        dpo = ringlog("token", "add", "oa-dpo", "--scope", "erase").stdout.splitlines()[1]
        fet("POST", "/v1/erase", {"phone": "+36301234567", "dry_run": True},
            {"Authorization": "Bearer " + dpo})
        fet("GET", "/ui/")
        fet("HEAD", "/ui/app.js")
        for path in ("/healthz", "/readyz", "/metrics"):
            fet("GET", path)
        p = check(answers)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        seen = {line.strip() for line in p.stdout.splitlines() if line.startswith("     ")}
        missing = documented() - seen - {"openapi-fetcher.yaml GET /v1/calls/live/stream"}  # an event stream
        self.assertEqual(sorted(missing), [], "documented operations no answer was checked against")
