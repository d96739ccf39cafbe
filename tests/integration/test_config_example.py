"""etc/ringlog.conf, the example installed for operators, against the key
tables the programs print with --help: every key is there, in its section,
with the program's own default, and nothing else is."""
import os
import re
import subprocess
import unittest

from harness import BIN, ROOT, WORK

EXAMPLE = os.path.join(ROOT, "etc", "ringlog.conf")
DAEMONS = ("ringlog-ingestd", "ringlog-fetcherd")


def table_keys(program):
    """{(section, key): default or None} from PROGRAM --help."""
    out = subprocess.run([os.path.join(BIN, program), "--help"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    keys, default = {}, None
    for line in out.splitlines():
        m = re.search(r"\(default: (.*)\)$", line)
        if m:
            default = None if m.group(1) == "none" else m.group(1)
            continue
        m = re.match(r"\s+\[(\w+)\] (\w+), \$RINGLOG_", line)
        if m:
            keys[(m.group(1), m.group(2))] = default
    return keys


def example_keys():
    """{(section, key): value} of the example, commented-out or not."""
    keys, section = {}, None
    with open(EXAMPLE) as f:
        for line in f:
            m = re.match(r"\[(\w+)\]\s*$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"[;#]?(\w+)\s*=\s*(.*?)\s*$", line)
            if m and section:
                keys[(section, m.group(1))] = m.group(2)
    return keys


class Example(unittest.TestCase):
    def test_every_key_of_every_program_is_documented_with_its_default(self):
        example = example_keys()
        known = {}
        for program in DAEMONS:
            for key, default in table_keys(program).items():
                known[key] = default
                self.assertIn(key, example, f"{program}: [{key[0]}] {key[1]} is not in etc/ringlog.conf")
                if default is not None:
                    self.assertEqual(example[key], default,
                                     f"[{key[0]}] {key[1]}: the example says {example[key]!r}, "
                                     f"{program} uses {default!r}")
        # [maintain] is read by `ringlog maintain` (cli/main.c), not a daemon.
        known.update({k: None for k in example if k[0] == "maintain"})
        self.assertEqual(sorted(set(example) - set(known)), [], "keys no program knows")

    def test_the_example_loads_as_is_and_uncommented(self):
        uncommented = os.path.join(WORK, "example-uncommented.conf")
        with open(EXAMPLE) as f, open(uncommented, "w") as out:
            for line in f:
                # tls_* name files; every other default is a valid value
                if re.match(r";\w+ =", line) and not line.startswith(";tls_"):
                    line = line[1:]
                out.write(line)
        for program in DAEMONS:
            for path in (EXAMPLE, uncommented):
                p = subprocess.run([os.path.join(BIN, program), "--config", path, "--check-config"],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 0, f"{program} --config {path}: {p.stderr}")
        p = subprocess.run([os.path.join(BIN, "ringlog"), "--config", uncommented, "migrate", "--help"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main()
