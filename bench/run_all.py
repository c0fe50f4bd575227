"""Run every benchmark, one after the other: `python bench/run_all.py` (from any folder).

Uses the Python it runs with (gccheck's environment, e.g. .venv/bin/python) and installs
nothing. bench/setup_awscli.sh, run once beforehand, provides the AWS CLI for one_bucket.py
(without it that benchmark says it was skipped). Extra arguments go to every script
(e.g. --runs 5).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = ("startup.py", "hostile_files.py", "one_bucket.py", "fleet.py", "request_cost.py",
           "terraform_plan.py")


def main() -> int:
    failed = []
    for script in SCRIPTS:
        code = subprocess.run([sys.executable, str(BENCH / script), *sys.argv[1:]], cwd=BENCH,
                              check=False).returncode
        if code:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
