"""tap.py: the result lines of the tests/source/check_*.py scripts, as
tests/run.sh counts them: `ok - NAME` or `not ok - NAME: DETAIL`."""
import sys

failures = 0


def result(ok, name, detail=""):
    global failures
    if ok:
        print(f"ok - {name}")
    else:
        failures += 1
        print(f"not ok - {name}: {detail}")


def finish():
    """Exit 1 when any result failed, else 0."""
    sys.exit(1 if failures else 0)
