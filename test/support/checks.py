"""One line per check (`ok   ...` / `FAIL ...`) and the exit status, for the Python tests."""

import sys


class Checks:
    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def exit_code(self):
        """Prints the summary; 1 when a check failed."""
        n = len(self.failures)
        print(f"{n} failure(s)" if n else "all checks passed", file=sys.stdout, flush=True)
        return 1 if n else 0
