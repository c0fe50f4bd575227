"""One S3 bucket fully checked by gccheck vs one `aws s3api get-bucket-versioning`.

Both against the same local moto server on 127.0.0.1. gccheck reads versioning, lifecycle and
object lock (three calls, concurrently) and judges them; the AWS CLI makes its one call.
The AWS CLI comes from bench/.venv-awscli (bench/setup_awscli.sh installs it, once): nothing is
installed here. Target: gccheck no slower than the AWS CLI's single call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import BENCH, PYTHON, bench_env, machine, median, ms, repeat, server, table
from startup import gccheck_command

KEY, SECRET = "AKIABENCH00000000000", "benchsecret0000000000000000000000000000"
AWS = BENCH / ".venv-awscli" / "bin" / "aws"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not AWS.exists():
        print("## one bucket: skipped: the AWS CLI is not installed; run bench/setup_awscli.sh "
              "once (it installs a pinned awscli into bench/.venv-awscli)\n")
        return 0
    with server("moto", "wandb-bench") as port:
        endpoint = f"http://127.0.0.1:{port}"
        aws_env = bench_env({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
                             "AWS_DEFAULT_REGION": "us-east-1"})
        aws = repeat([str(AWS), "s3api", "get-bucket-versioning", "--bucket", "wandb-bench",
                      "--endpoint-url", endpoint], aws_env, args.runs, warmup=2, ok=(0,))
        assert '"Enabled"' in aws[-1].out, aws[-1].out
        gc_env = bench_env({"GORILLA_ARTIFACT_GC_ENABLED": "true"})
        url = f"s3://{KEY}:{SECRET}@127.0.0.1:{port}/wandb-bench?region=us-east-1"
        gccheck = repeat([*gccheck_command(), "check", "--hosting", "on-prem", "--bucket", url],
                         gc_env, args.runs, warmup=2)
        codes = sorted({s.code for s in gccheck})
        base = repeat([PYTHON, "-c", "pass"], gc_env, args.runs)
    aws_wall = median([s.wall for s in aws])
    rows = []
    for name, samples in (("python -c pass", base),
                          ("aws s3api get-bucket-versioning (1 call)", aws),
                          ("gccheck check, S3 bucket fully checked (3 calls)", gccheck)):
        wall = median([s.wall for s in samples])
        rows.append([name, ms(wall), f"{median([s.cpu for s in samples]) * 1000:.0f} ms",
                     f"{median([s.peak_rss_mb for s in samples]):.0f} MB",
                     f"{wall / aws_wall:.2f}x"])
    print(f"## one bucket vs the AWS CLI ({args.runs} runs each, medians, moto on 127.0.0.1; "
          f"{machine()})\n")
    print(table(["command", "wall", "CPU", "peak RSS", "vs aws"], rows))
    ratio = median([s.wall for s in gccheck]) / aws_wall
    verdict = "meets" if ratio <= 1.0 else "MISSES"
    print(f"\ngccheck exit code(s): {codes}; gccheck/aws = {ratio:.2f}, {verdict} the target "
          f"(<= 1.0). AWS CLI: {Path(AWS).parent.parent.name}, see bench/setup_awscli.sh\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
