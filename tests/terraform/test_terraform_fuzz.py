"""Bad plans never crash: any part of a real-shaped plan replaced by random JSON ends in facts,
settings and a bucket choice, or in gccheck's own InputError, never in another exception."""

from __future__ import annotations

import contextlib
import copy
import json
import os
from pathlib import Path
from typing import Any

from fixtures.terraform import plans
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gccheck.errors import InputError
from gccheck.model import BucketFacts
from gccheck.terraform import load_plan

FAST = settings(max_examples=int(os.environ.get("GCCHECK_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
BASES = [plans.aws_create(), plans.gcp_create(), plans.azure_create(), plans.aws_state()]

scalars = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(max_size=12) | st.sampled_from(
    ["Enabled", "Suspended", "Disabled", "Delete", "ARCHIVED", "var.x", "local.y",
     "aws_s3_bucket.file_storage.id", "module.file_storage.bucket_name", "module.a[0]",
     "global: {extraEnv: {GORILLA_ARTIFACT_GC_ENABLED: 'true'}}", "[", "spec", "wandb-cr",
     "WeightsAndBiases", "apps.wandb.com/v1", "apps.wandb.com/v2"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["after", "after_unknown", "references", "constant_value", "expressions",
                     "status", "versioning", "set", "values", "spec", "name", "value", "x"])
    | st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*path, i))
    return found


PATHS = [(i, p) for i, base in enumerate(BASES) for p in _paths(base) if p]


def _replaced(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _exercise(path: str) -> None:
    try:
        plan = load_plan(path)
    except InputError:
        return
    for bucket in plan.buckets():
        assert isinstance(bucket.facts(), BucketFacts)
        for check in ("bucket-versioning", "blob-soft-delete", "gc-env-var"):
            bucket.fix(check)
        assert bucket.label and bucket.location()
    for hint in (None, "wandb-vpc-flow-logs", "module.wandb.module.storage.azurerm_storage_"
                 "container.default", "s3://elsewhere"):
        with contextlib.suppress(InputError):
            plan.select_bucket(hint, None)
    with contextlib.suppress(InputError):
        plan.settings()


@FAST
@given(st.sampled_from(PATHS), json_values)
def test_any_part_replaced_by_random_json(tmp_path: Path, where: tuple[int, tuple[Any, ...]],
                                          value: Any) -> None:
    index, path = where
    target = tmp_path / "plan.json"
    target.write_text(json.dumps(_replaced(BASES[index], path, value)))
    _exercise(str(target))
