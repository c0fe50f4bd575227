"""Fleet: `gccheck audit` over 1,000 S3 buckets behind a proxy adding 50 ms to every request.

Compared, in the same run, with `--concurrency 1` (on a subset, extrapolated: at 50 ms a
request the full run would take about a minute) and with the lower bound
ceil(requests / requests in flight) x 50 ms, where each deployment's three calls run at once
(requests in flight = 3 x --concurrency). The buckets are served by bench/servers.py's stub
(a third each: versioned, suspended, never versioned), and the report's verdicts are checked
against that. Also measured: the same calls from boto3 alone (bench/boto3_floor.py), the
floor for any tool built on boto3. Targets: under 2.5 s wall and under 250 MB peak memory.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml
from common import PYTHON, Sample, bench_env, machine, median, ms, repeat, run, server, table

CALLS = 3  # versioning, lifecycle, object lock
STATES = ("enabled", "suspended", "never")
KEY, SECRET = "AKIABENCH00000000000", "benchsecret0000000000000000000000000000"
TARGET_WALL, TARGET_RSS = 2.5, 250.0


def write_fleet(folder: Path, count: int, port: int, distinct_keys: bool = False) -> Path:
    """A fleet file; with distinct_keys every deployment has its own access key and secret."""

    def keys(i: int) -> str:
        if not distinct_keys:
            return f"{KEY}:{SECRET}"
        return f"AKIABENCH{i:011d}:benchsecret{i:028d}"

    deployments = [{"name": f"wandb-{i:04d}",
                    "bucket": f"s3://{keys(i)}@127.0.0.1:{port}/"
                              f"wandb-{i:04d}-{STATES[i % 3]}?region=us-east-1"}
                   for i in range(count)]
    path = folder / f"fleet-{count}{'-keys' if distinct_keys else ''}.yaml"
    path.write_text(yaml.safe_dump({
        "defaults": {"hosting": "on-prem", "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"},
                     "timeout": 30},
        "deployments": deployments}))
    return path


def check_verdicts(sample: Sample, count: int) -> str:
    data = json.loads(sample.out)
    got = Counter(next(r["status"] for r in t["results"] if r["id"] == "bucket-versioning")
                  for t in data["targets"])
    want = Counter({"pass": len(range(0, count, 3)), "fail": count - len(range(0, count, 3))})
    if got != want:
        raise SystemExit(f"wrong verdicts: {dict(got)}, expected {dict(want)}")
    return f"{got['pass']} pass, {got['fail']} fail"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serial-subset", type=int, default=100,
                        help="buckets for the --concurrency 1 run (extrapolated)")
    parser.add_argument("--keys-subset", type=int, default=50,
                        help="buckets for the run where each has its own keys (0: skip)")
    args = parser.parse_args()
    env = bench_env()
    with tempfile.TemporaryDirectory() as tmp, server("stub") as stub, \
            server("proxy", str(stub), str(args.delay)) as proxy:
        folder = Path(tmp)
        fleet = write_fleet(folder, args.buckets, proxy)
        subset = write_fleet(folder, args.serial_subset, proxy)
        audit = [PYTHON, "-m", "gccheck", "audit", "--format", "json", "--quiet"]
        concurrent = repeat([*audit, str(fleet), "--concurrency", str(args.concurrency)], env,
                            args.runs, warmup=1)
        verdicts = check_verdicts(concurrent[-1], args.buckets)
        # The same calls from boto3 alone, as many in flight as the audit has.
        floor = repeat([PYTHON, str(Path(__file__).with_name("boto3_floor.py")), str(proxy),
                        str(args.buckets), str(CALLS * args.concurrency)], env, args.runs,
                       warmup=1)
        serial = run([*audit, str(subset), "--concurrency", "1"], env)
        check_verdicts(serial, args.serial_subset)
        keyed = None
        if args.keys_subset:
            keyed_fleet = write_fleet(folder, args.keys_subset, proxy, distinct_keys=True)
            keyed = run([*audit, str(keyed_fleet), "--concurrency", str(args.concurrency)], env)
            check_verdicts(keyed, args.keys_subset)

    requests = CALLS * args.buckets
    in_flight = CALLS * args.concurrency
    bound = math.ceil(requests / in_flight) * args.delay
    wall = median([s.wall for s in concurrent])
    rss = median([s.peak_rss_mb for s in concurrent])
    cpu = median([s.cpu for s in concurrent])
    floor_wall = median([s.wall for s in floor])
    serial_wall = serial.wall * args.buckets / args.serial_subset
    rows = [
        [f"gccheck audit, --concurrency {args.concurrency}", ms(wall), f"{cpu:.2f} s",
         f"{rss:.0f} MB", "1.0x", f"{wall / bound:.1f}x"],
        [f"gccheck audit, --concurrency 1 ({args.serial_subset} buckets x "
         f"{args.buckets // args.serial_subset}, extrapolated)", f"{serial_wall:.1f} s",
         f"{serial.cpu * args.buckets / args.serial_subset:.2f} s",
         f"{serial.peak_rss_mb:.0f} MB", f"{serial_wall / wall:.1f}x", f"{serial_wall / bound:.1f}x"],
        [f"boto3 alone, the same {CALLS * args.buckets} calls, {CALLS * args.concurrency} "
         "threads, no gccheck", ms(floor_wall), f"{median([s.cpu for s in floor]):.2f} s",
         f"{median([s.peak_rss_mb for s in floor]):.0f} MB", f"{floor_wall / wall:.2f}x",
         f"{floor_wall / bound:.1f}x"],
        [f"lower bound ceil({requests}/{in_flight}) x {ms(args.delay)}", ms(bound), "", "",
         f"{bound / wall:.2f}x", "1.0x"],
    ]
    if keyed is not None:
        scale = args.buckets / args.keys_subset
        rows.append([f"--concurrency {args.concurrency}, each deployment its own keys "
                     f"({args.keys_subset} buckets x {scale:g}, extrapolated)",
                     f"{keyed.wall * scale:.1f} s", f"{keyed.cpu * scale:.2f} s",
                     f"{keyed.peak_rss_mb:.0f} MB", f"{keyed.wall * scale / wall:.1f}x",
                     f"{keyed.wall * scale / bound:.1f}x"])
    print(f"## fleet: {args.buckets} S3 buckets, +{ms(args.delay)} per request "
          f"({args.runs} runs, medians; {machine()})\n")
    print(table(["case", "wall", "CPU", "peak RSS", "vs audit", "vs bound"], rows))
    print(f"\nrequests: {requests}; gccheck CPU per request: {cpu / requests * 1000:.2f} ms; "
          f"verdicts checked: {verdicts}")
    ok_wall, ok_rss = wall < TARGET_WALL, rss < TARGET_RSS
    print(f"targets: wall {ms(wall)} {'meets' if ok_wall else 'MISSES'} < {TARGET_WALL:g} s; "
          f"peak RSS {rss:.0f} MB {'meets' if ok_rss else 'MISSES'} < {TARGET_RSS:g} MB\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
