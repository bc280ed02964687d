#!/usr/bin/env python3
"""Summarizes an Autobahn|Testsuite fuzzingclient report (index.json).

Prints how many cases ended with each behavior and lists the cases that are not
acceptable; exits 1 when there is any. Acceptable: OK, NON-STRICT and INFORMATIONAL,
plus UNIMPLEMENTED for sections 12 and 13 (permessage-deflate, optional in our
contract). A close behavior (behaviorClose) of FAILED fails the case too.
"""
import json
import sys

ACCEPTED = {"OK", "NON-STRICT", "INFORMATIONAL"}
ORDER = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]


def case_key(case_id):
    return [int(p) if p.isdigit() else p for p in case_id.split(".")]


def acceptable(case_id, result):
    behavior = result.get("behavior")
    if result.get("behaviorClose") == "FAILED":
        return False
    if behavior in ACCEPTED:
        return True
    return behavior == "UNIMPLEMENTED" and case_id.split(".")[0] in ("12", "13")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py REPORT_DIR/index.json")
    with open(sys.argv[1]) as f:
        index = json.load(f)
    if not index:
        sys.exit("autobahn: the report lists no agent: did any case run?")
    bad = False
    for agent, cases in sorted(index.items()):
        counts = {}
        failing = []
        for case_id in sorted(cases, key=case_key):
            result = cases[case_id]
            behavior = result.get("behavior", "MISSING")
            counts[behavior] = counts.get(behavior, 0) + 1
            if not acceptable(case_id, result):
                failing.append(
                    "%s (%s, close %s)"
                    % (case_id, behavior, result.get("behaviorClose", "?"))
                )
        names = ORDER + sorted(set(counts) - set(ORDER))
        summary = ", ".join("%s %d" % (n, counts.get(n, 0)) for n in names)
        print("autobahn %s: %d cases: %s" % (agent, len(cases), summary))
        if not cases:
            bad = True
            print("autobahn %s: no case ran" % agent)
        if failing:
            bad = True
            print("autobahn %s: not acceptable:" % agent)
            for line in failing:
                print("  " + line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
