"""Runs the integration test modules and prints one line per test and a total.

Usage: runner.py [module ...]  (default: every tests/integration/test_*.py)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main(argv):
    loader = unittest.TestLoader()
    if argv:
        suite = unittest.TestSuite(loader.loadTestsFromName(m.removesuffix(".py")) for m in argv)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    summary = os.environ.get("RINGLOG_INTEGRATION_SUMMARY")
    if summary:
        with open(summary, "w") as f:
            f.write(f"{passed} {failed}\n")
    print(f"integration: {passed} passed, {failed} failed, {len(result.skipped)} skipped")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
