"""Prints the figures of a schemathesis JSON report (--report json) in one block:
operations, test cases, failures and errors per kind, time. Exits 1 when the run
was incomplete or found anything, so the caller can rely on it as well as on
schemathesis's own exit code.

    python3 summarize.py REPORT.json
"""

import json
import sys


def main(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    ops = report.get("operations", {})
    cases = report.get("test_cases", {})
    failures = report.get("failures", [])
    errors = report.get("errors", [])
    failed = sum(f.get("count", 0) for f in failures)
    print(
        "schemathesis: {tested}/{total} operations, {generated} test cases, "
        "{failed} failures, {errors} errors, {secs:.0f} s (seed {seed}, {reason})".format(
            tested=ops.get("tested", 0),
            total=ops.get("total", 0),
            generated=cases.get("generated", 0),
            failed=failed,
            errors=len(errors),
            secs=report.get("running_time", 0.0),
            seed=report.get("seed"),
            reason=report.get("stop_reason", "?"),
        )
    )
    for failure in failures:
        print(
            "  {code} {title}: {count} in {ops}".format(
                code=failure.get("code"),
                title=failure.get("title"),
                count=failure.get("count"),
                ops=", ".join(failure.get("operations", [])),
            )
        )
    for error in errors:
        print("  error: {}".format(json.dumps(error)[:300]))
    for phase, info in sorted(report.get("phases", {}).items()):
        print("  phase {}: {}".format(phase, info.get("status")))
    ok = report.get("complete", False) and failed == 0 and not errors
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
