#!/usr/bin/env bash
# One-time setup for bench/one_bucket.py: the AWS CLI in a virtualenv of its own.
# awscli pins botocore exactly; resolving it together with gccheck's boto3 makes pip backtrack
# for many minutes, so it never shares gccheck's environment. The version is pinned so the
# numbers in bench/README.md can be reproduced.
set -euo pipefail
cd "$(dirname "$0")"
AWSCLI_VERSION="${AWSCLI_VERSION:-1.46.2}"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-awscli/bin/aws ]; then
  "$PYTHON" -m venv .venv-awscli
  .venv-awscli/bin/pip install -q --disable-pip-version-check "awscli==${AWSCLI_VERSION}"
fi
.venv-awscli/bin/aws --version
