#!/usr/bin/env python3
"""Lists the tests that skipped, and in strict mode fails on any not expected.

A skipped test passes in ctest, pytest and cargo alike, so a test that stops
running on some machine (not root, no netlink, a retry that ran out) vanished
silently. This finds the skips in what the runners report and checks each
against tests/expected-skips.txt: a skip is expected when a line's ID pattern
matches it and that line's condition holds on this machine.

Strict mode (unexpected skips fail): PROCMON_STRICT_SKIPS=1, or CI=true when
PROCMON_STRICT_SKIPS is not set (PROCMON_STRICT_SKIPS=0 turns it off there).
Otherwise every skip is still listed.

Usage: check-skips.py SOURCE...   each SOURCE one of
  ctest:FILE    ctest --output-junit FILE: tests ctest itself skipped
                (SKIP_RETURN_CODE, SKIP_REGULAR_EXPRESSION, DISABLED) and,
                in each test's output, Criterion's "[SKIP] suite::test: why"
                (printed at CRITERION_VERBOSITY_LEVEL=1) and cmocka's
                "[  SKIPPED ] test". IDs: TEST, TEST/suite::test, TEST/test.
  pytest:FILE   pytest --junit-xml FILE. IDs: pytest/module::test.
  cargo:FILE    the output of cargo test: "test NAME ... ignored". IDs: cargo/NAME.
  step:ID:WHY   a step of a test script that did not run. IDs: step/ID.
"""
import fnmatch
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "..", "tests", "expected-skips.txt")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CRITERION_SKIP = re.compile(r"^\[SKIP\] (\S+?::\S+?): (.*)$")
CMOCKA_SKIP = re.compile(r"^\[  SKIPPED \] (\S+)$")
CARGO_IGNORED = re.compile(r"^test (\S+) \.\.\. ignored(?:, (.*))?$")


def ctest_skips(path):
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        skipped = case.find("skipped")
        if skipped is not None or case.get("status") in ("notrun", "disabled"):
            why = skipped.get("message") if skipped is not None else case.get("status")
            yield name, why or "skipped by ctest"
            continue
        seen = set()
        for line in ANSI.sub("", case.findtext("system-out") or "").splitlines():
            m = CRITERION_SKIP.match(line.rstrip())
            if m and m.group(1) not in seen:
                seen.add(m.group(1))
                yield f"{name}/{m.group(1)}", m.group(2)
            m = CMOCKA_SKIP.match(line.rstrip())
            if m and m.group(1) not in seen:  # the summary lists each again
                seen.add(m.group(1))
                yield f"{name}/{m.group(1)}", "cmocka skip()"


def pytest_skips(path):
    for case in ET.parse(path).getroot().iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            yield f"pytest/{case.get('classname')}::{case.get('name')}", skipped.get("message") or "skipped"


def cargo_skips(path):
    with open(path, errors="replace") as f:
        for line in f:
            m = CARGO_IGNORED.match(ANSI.sub("", line).rstrip())
            if m:
                yield f"cargo/{m.group(1)}", m.group(2) or "#[ignore]"


def read_expected():
    """[(pattern, why, condition)] from tests/expected-skips.txt."""
    out = []
    with open(EXPECTED) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" | ")]
            if len(parts) != 3 or not all(parts):
                sys.exit(f"{EXPECTED}:{number}: want 'ID | why | condition', got: {line}")
            out.append(tuple(parts))
    return out


def strict_mode():
    setting = os.environ.get("PROCMON_STRICT_SKIPS", "")
    if setting != "":
        return setting == "1"
    return os.environ.get("CI", "") == "true"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    skips = []
    for source in sys.argv[1:]:
        kind, _, arg = source.partition(":")
        if kind == "ctest":
            skips += ctest_skips(arg)
        elif kind == "pytest":
            skips += pytest_skips(arg)
        elif kind == "cargo":
            skips += cargo_skips(arg)
        elif kind == "step":
            step, _, why = arg.partition(":")
            skips.append((f"step/{step}", why or "skipped"))
        else:
            sys.exit(f"check-skips: unknown source {source!r}\n{__doc__}")
    strict = strict_mode()
    if not skips:
        print("skips: none")
        return
    expected = read_expected()
    holds = {}  # condition -> whether it holds here (each run once)

    def condition_holds(condition):
        if condition not in holds:
            holds[condition] = subprocess.run(["sh", "-c", condition], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL).returncode == 0
        return holds[condition]

    unexpected = 0
    print(f"skips: {len(skips)} ({'strict: only those expected here pass' if strict else 'not strict'})")
    for test, why in skips:
        lines = [e for e in expected if fnmatch.fnmatchcase(test, e[0])]
        ok = [e for e in lines if condition_holds(e[2])]
        if ok:
            print(f"  expected   {test}: {why}")
        else:
            unexpected += 1
            if lines:
                print(f"  UNEXPECTED {test}: {why} (listed, but not for this machine: {lines[0][2]!r} fails here)")
            else:
                print(f"  UNEXPECTED {test}: {why} (not in tests/expected-skips.txt)")
    if unexpected and strict:
        sys.exit(f"check-skips: {unexpected} unexpected skip(s): a test that does not run here is a failure in "
                 "strict mode; make it run, or add it to tests/expected-skips.txt with the condition that explains it")


if __name__ == "__main__":
    main()
