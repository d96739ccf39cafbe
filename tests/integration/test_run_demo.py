"""`make run` (scripts/run-demo) as a newcomer sees it: the page it points
to shows the demo lead's calls, its recording, an open missed-call task and
Open in CRM; Ctrl-C stops everything."""
import json
import os
import re
import queue
import signal
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import BUILD, ROOT, WORK, request

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")


class RunDemo(unittest.TestCase):
    def setUp(self):
        self.run_dir = os.path.join(WORK, "demo-run")
        env = dict(os.environ, RINGLOG_RUN_DIR=self.run_dir, RINGLOG_BUILD=os.path.relpath(BUILD, ROOT))
        # As from a terminal, where Ctrl-C reaches it: a suite started in the
        # background (CI) runs with SIGINT ignored, and a shell cannot trap a
        # signal it was started ignoring.
        self.demo = subprocess.Popen([os.path.join(ROOT, "scripts", "run-demo")], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.out = []

    def tearDown(self):
        if self.demo.poll() is None:
            self.demo.send_signal(signal.SIGINT)
            try:
                self.demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.demo.kill()

    def read_banner(self, timeout=180):
        self.lines = lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in self.demo.stdout] and None,
                         daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            self.out.append(line)
            if "Ctrl-C stops everything." in line and any("== ringlog is running ==" in x for x in self.out):
                return "".join(self.out)
        self.fail("run-demo did not print its banner:\n" + "".join(self.out[-40:]))

    def test_the_demo_page_shows_an_open_missed_call_task(self):
        banner = self.read_banner()
        page = re.search(r"(http://127\.0\.0\.1:(\d+)/ui/\?lead_id=(\d+))#token=(\S+)", banner)
        token = re.search(r"API token for this run: (\S+)\)", banner).group(1)
        self.assertIsNotNone(page, banner)
        base, port, lead, session = page.group(1), int(page.group(2)), int(page.group(3)), page.group(4)
        auth = {"Authorization": "Bearer " + token}
        tasks = request(port, "GET", f"/v1/tasks?lead_id={lead}&status=open", headers=auth).json()["tasks"]
        self.assertEqual([t["kind"] for t in tasks], ["missed_call"], banner)
        lead_json = request(port, "GET", f"/v1/leads/{lead}", headers=auth).json()
        self.assertEqual(lead_json["crm_url"], f"https://crm.example.com/leads/{lead}")

        # the page itself, in Chromium
        env = dict(os.environ, RINGLOG_BROWSER=json.dumps({
            "url": f"http://127.0.0.1:{port}", "token": urllib.parse.unquote(session), "lead_id": lead}))
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "calllog.mjs"), "calllog"],
                           capture_output=True, text=True, env=env, timeout=120, cwd=BROWSER_DIR)
        got = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(got["ok"], got.get("error"))
        self.assertEqual(got["console"], [])
        self.assertEqual(len(got["tasks"]), 1)
        self.assertIn("Missed call", got["tasks"][0])
        self.assertEqual(got["crm"], f"https://crm.example.com/leads/{lead}")
        self.assertEqual(sum(r["audio"] for r in got["rows"]), 1)   # the recorded call plays

        # Ctrl-C stops everything
        self.demo.send_signal(signal.SIGINT)
        try:
            self.demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            said = []
            while not self.lines.empty():
                said.append(self.lines.get())
            stuck = subprocess.run(["pgrep", "-af", self.run_dir], capture_output=True, text=True).stdout
            self.fail("run-demo did not stop within 60 s of Ctrl-C; it said after the banner:\n" +
                      "".join(said[-40:]) + "still running:\n" + stuck)
        left = subprocess.run(["pgrep", "-f", self.run_dir], capture_output=True, text=True).stdout
        self.assertEqual(left, "", "processes of the demo are still running")
