"""Paths and values every test file may need; defined here and nowhere else."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"

# Credentials for the local servers only.
TEST_KEY = "AKIATESTKEY000000000"
TEST_SECRET = "testsecret/with+slash000000000000000000"

# The W&B setting that turns artifact garbage collection on.
GC_ON = {"GORILLA_ARTIFACT_GC_ENABLED": "true"}

# The lifecycle rule that expires noncurrent versions (what a GC-ready S3 bucket has).
NONCURRENT_RULE = {"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {},
                   "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
