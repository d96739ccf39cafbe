"""The routes ringlog-fetcherd serves and the operations documented in
docs/openapi-fetcher.yaml are the same set.

The daemon's side comes from `ringlog-fetcherd --list-routes`, which prints
the very route table the server is started with (no source parsing, nothing
to drift). Path parameters are compared by position only ("{id}" and a
prefix route's "{...}" are both "{}"). A documented path marked
`x-ringlog-planned` belongs to work not merged yet and must NOT be served;
the marker goes when it lands.
"""
import os
import re
import subprocess
import unittest

import yaml

from harness import BIN, ROOT

METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}


def normal(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


def served():
    out = subprocess.run([os.path.join(BIN, "ringlog-fetcherd"), "--list-routes"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return {(m, normal(p)) for m, p in (line.split(" ", 1) for line in out.splitlines())}


def documented():
    with open(os.path.join(ROOT, "docs", "openapi-fetcher.yaml")) as f:
        doc = yaml.safe_load(f)
    ops, planned = set(), set()
    for path, item in doc["paths"].items():
        for method in item.keys() & METHODS:
            (planned if item.get("x-ringlog-planned") else ops).add((method.upper(), normal(path)))
    return doc, ops, planned


class OpenApiMatchesRoutes(unittest.TestCase):
    def test_served_and_documented_are_the_same_set(self):
        doc, ops, planned = documented()
        self.assertTrue(doc["openapi"].startswith("3."))
        have = served()
        self.assertIn(("GET", "/v1/calls/{}"), have)  # the listing works at all
        self.assertEqual(sorted(have - ops - planned), [], "served but not documented")
        self.assertEqual(sorted(ops - have), [], "documented but not served")
        self.assertEqual(sorted(planned & have), [],
                         "served now: remove x-ringlog-planned from these paths")

    def test_every_operation_says_what_it_answers(self):
        doc, _, _ = documented()
        for path, item in doc["paths"].items():
            for method in item.keys() & METHODS:
                op = item[method]
                self.assertTrue(op.get("summary"), (method, path))
                self.assertTrue(op.get("responses"), (method, path))
                for p in re.findall(r"\{([^}]*)\}", path):
                    # on the operation, or on the path for all its operations
                    names = [x.get("name") or x.get("$ref", "").rsplit("/", 1)[-1]
                             for x in item.get("parameters", []) + op.get("parameters", [])]
                    self.assertIn(p, names, (method, path))
