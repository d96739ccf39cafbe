"""What the query API tests share: a clean database with source `acme`, a
running fetcherd and a token, and calls inserted directly for bulk fixtures."""
import json
import unittest
import urllib.parse

from harness import add_source, fetcherd, new_token, query, request, reset_database, scalar


def insert_call(pbx_id, started_at, source="acme", direction="in", disposition="answered",
                caller=None, caller_e164=None, callee=None, callee_e164=None, did=None,
                agent=None, agent_name=None, lead_id=None, duration=60, billable=50):
    """One call row, as ingest would store it; returns its id."""
    return scalar("""INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller,
                         caller_e164, callee, callee_e164, did, agent, agent_name, started_at,
                         duration_s, billable_s, lead_id, raw)
                     VALUES ((SELECT id FROM sources WHERE name = %s), %s, %s, %s, %s, %s, %s, %s,
                             %s, %s, %s, %s, %s, %s, %s, '{}') RETURNING id""",
                  source, pbx_id, direction, disposition, caller, caller_e164, callee,
                  callee_e164, did, agent, agent_name, started_at, duration, billable, lead_id)


def insert_lead(phone, name="", company="", **kw):
    cols = ["phone", "name", "company", *kw]
    return scalar(f"INSERT INTO leads ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
                  " RETURNING id", phone, name, company, *kw.values())


class FetcherCase(unittest.TestCase):
    """A clean database, source acme (Budapest, +36), one fetcherd for the
    class and a bearer token."""

    FLAGS = ()

    @classmethod
    def setUpClass(cls):
        reset_database()
        add_source("acme", "acme-push-secret-1", "--time-zone", "Europe/Budapest",
                   "--country-code", "36", "--trunk-prefix", "06")
        cls.daemon = fetcherd(cls.__name__, *cls.FLAGS)
        cls.port = cls.daemon.port
        cls.token = new_token(cls.__name__)

    @classmethod
    def tearDownClass(cls):
        code = cls.daemon.stop()
        assert code == 0, f"fetcherd exit status {code}:\n{cls.daemon.output()}"

    def setUp(self):
        query("TRUNCATE call_revisions, recordings, tasks, calls, leads, agents RESTART IDENTITY CASCADE")

    def get(self, path, token=True, **params):
        if params:
            path += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": f"Bearer {self.token}"} if token else {}
        return request(self.port, "GET", path, headers=headers)

    def post(self, path, body=None, **kw):
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        headers.update(kw.pop("headers", {}))
        return request(self.port, "POST", path, body, headers, **kw)

    def ok(self, path, **params):
        r = self.get(path, **params)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def bad(self, path, code, parameter=None, **params):
        r = self.get(path, **params)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"], code, r)
        if parameter:
            self.assertEqual(r.json()["parameter"], parameter, r)
        return r.json()
