"""Start-up: `gccheck --help` and an env-only `gccheck check` vs a bare `python -c pass`.

No network: the env-only check reads GORILLA_ARTIFACT_GC_ENABLED from the environment and has
no bucket to probe. Target: the env-only check within 0.15 s wall.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import PYTHON, bench_env, machine, median, ms, repeat, table

TARGET = 0.15


def gccheck_command() -> list[str]:
    """The console script next to this Python (as users run it), else `python -m gccheck`."""
    script = Path(PYTHON).parent / "gccheck"
    return [str(script)] if script.exists() else [PYTHON, "-m", "gccheck"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = bench_env({"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    gccheck = gccheck_command()
    cases = [
        ("python -c pass", [PYTHON, "-c", "pass"]),
        ("gccheck --help", [*gccheck, "--help"]),
        ("gccheck check --hosting on-prem (env only)", [*gccheck, "check", "--hosting",
                                                        "on-prem"]),
    ]
    results = {name: repeat(argv, env, args.runs, warmup=2) for name, argv in cases}
    base = median([s.wall for s in results["python -c pass"]])
    rows = []
    for name, samples in results.items():
        wall = median([s.wall for s in samples])
        rows.append([name, ms(wall), f"{median([s.peak_rss_mb for s in samples]):.0f} MB",
                     f"{wall / base:.1f}x", f"+{ms(wall - base)}"])
    print(f"## start-up ({args.runs} runs each, medians; {machine()})\n")
    print(table(["command", "wall", "peak RSS", "vs python -c pass", "over python"], rows))
    check = median([s.wall for s in results["gccheck check --hosting on-prem (env only)"]])
    verdict = "meets" if check <= TARGET else "MISSES"
    print(f"\nenv-only check: {ms(check)} wall, {verdict} the {ms(TARGET)} target\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
