"""Worst-case settings files: parsing must stay linear and bounded (issue 15, item 7).

Each case writes a hostile file at half and at full size (the full size just under gccheck's
bound) and times `gccheck check --hosting on-prem` over it, as a fresh process. Printed: the
medians, the ratio to the baseline (the same command over a small, ordinary file of the same
kind, measured in the same run), and full / half: about 2 for linear work, 4 for quadratic.
Files just over a bound are refused (exit 2) in about the baseline's time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import PYTHON, bench_env, machine, median, ms, repeat, table

ENV_BOUND = 2 * 1024 * 1024
VALUES_BOUND = 1024 * 1024
VALUES_NODES = 50_000
URL_BOUND = 16 * 1024


def gccheck_command() -> list[str]:
    script = Path(PYTHON).parent / "gccheck"
    return [str(script)] if script.exists() else [PYTHON, "-m", "gccheck"]


def ordinary_env(size: int) -> str:
    return "GORILLA_ARTIFACT_GC_ENABLED=true\nWANDB_SETTING=value\n"


def unclosed_quote(size: int) -> str:
    return 'GORILLA_ARTIFACT_GC_ENABLED="true\n' + "SOME_NAME=some value\n" * (size // 21 - 2)


def long_spaces(size: int) -> str:
    return "GORILLA_ARTIFACT_GC_ENABLED=true" + " " * (size - 40) + "x\n"


def many_lines(size: int) -> str:
    return "".join(f"GORILLA_SETTING_{i}=value\n" for i in range(size // 30))


def hostile_bucket(size: int) -> str:
    # Masked in the error; a URL over 16 KiB is refused unseen.
    return "BUCKET=" + "a://" * (size // 4) + "\n"


def ordinary_values(size: int) -> str:
    return 'global:\n  extraEnv:\n    GORILLA_ARTIFACT_GC_ENABLED: "true"\n'


def many_env_values(count: int) -> str:
    return "global:\n  extraEnv:\n" + "".join(f'    SETTING_{i}: "v{i}"\n' for i in range(count))


def dense_list(count: int) -> str:
    return "global: {}\nx: [" + "1," * count + "1]\n"


def alias_bomb(size: int) -> str:
    # Expands to about `size` values (the expanded bound is 250,000).
    width = max(2, int((size // 10) ** (1 / 3)))
    lines = ["global: {}", "a: &a [" + ",".join(["1"] * width) + "]",
             "b: &b [" + ",".join(["*a"] * width) + "]", "c: [" + ",".join(["*b"] * width) + "]"]
    return "\n".join(lines) + "\n"


# name, option, generator, full size (bytes, or values for the values cases: the bound that
# matters there), how many copies of the file are given (merge cases)
Case = tuple[str, str, Callable[[int], str], int, int]
CASES: list[Case] = [
    ("env: unclosed quote", "--env-file", unclosed_quote, ENV_BOUND - 1024, 1),
    ("env: a line of spaces", "--env-file", long_spaces, ENV_BOUND - 1024, 1),
    ("env: many lines", "--env-file", many_lines, ENV_BOUND - 1024, 1),
    ("env: BUCKET of a:// (masked in the error)", "--env-file", hostile_bucket,
     URL_BOUND - 64, 1),
    ("values: 2 files merged, 25k values each", "--values", many_env_values,
     VALUES_NODES // 2 - 10, 2),
    ("values: dense flow list, 50k values", "--values", dense_list, VALUES_NODES - 10, 1),
    ("values: alias bomb (expanded)", "--values", alias_bomb, 2_400_000, 1),
]
OVER: list[tuple[str, str, str]] = [
    ("env file over 2 MiB", "--env-file", "#" * (ENV_BOUND + 1)),
    ("values file over 1 MiB", "--values", "#" * (VALUES_BOUND + 1)),
    ("values file over 50,000 values", "--values", "x: [" + "1," * (VALUES_NODES + 1) + "1]\n"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = bench_env()
    gccheck = gccheck_command()
    ok = (0, 1, 2, 3)
    with tempfile.TemporaryDirectory() as folder:
        def argv(option: str, text: str, name: str, copies: int) -> list[str]:
            path = Path(folder) / name
            path.write_text(text)
            return [*gccheck, "check", "--hosting", "on-prem",
                    *[arg for _ in range(copies) for arg in (option, str(path))]]

        def wall(command: list[str]) -> float:
            return median([s.wall for s in repeat(command, env, args.runs, ok=ok)])

        base = {"--env-file": wall(argv("--env-file", ordinary_env(0), "base.env", 1)),
                "--values": wall(argv("--values", ordinary_values(0), "base.yaml", 1))}
        rows = []
        for name, option, make, full, copies in CASES:
            half_text, full_text = make(full // 2), make(full)
            half = wall(argv(option, half_text, "half", copies))
            whole = wall(argv(option, full_text, "full", copies))
            rows.append([name, f"{len(full_text.encode()) // 1024} KiB", ms(half), ms(whole),
                         f"{whole / base[option]:.1f}x", f"{whole / half:.1f}"])
        for name, option, text in OVER:
            refused = wall(argv(option, text, "over", 1))
            rows.append([name + " (refused)", f"{len(text) // 1024} KiB", "", ms(refused),
                         f"{refused / base[option]:.1f}x", ""])
    print(f"## hostile settings files ({args.runs} runs each, medians; {machine()})\n")
    print(f"baseline: ordinary env file {ms(base['--env-file'])}, ordinary values file "
          f"{ms(base['--values'])}\n")
    print(table(["case", "size", "half size", "full size", "vs baseline", "full / half"], rows))
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
