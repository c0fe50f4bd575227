"""One plan made ready for the rules: its W&B settings, W&B's bucket, and adapters to the
settings-source and probe interfaces, so the engine can treat a plan like any other target."""

from __future__ import annotations

from dataclasses import dataclass

from gccheck.bucket_url import BucketLocation
from gccheck.model import BucketFacts, Settings
from gccheck.probes.interface import ProbeOptions
from gccheck.terraform.plan import Plan, PlannedBucket, load_plan


@dataclass(frozen=True)
class PlanTarget:
    """What `check --terraform-plan PLAN [--bucket HINT]` judges."""

    plan: Plan
    settings: Settings
    bucket: PlannedBucket

    @property
    def location(self) -> BucketLocation:
        return self.bucket.location()

    def facts(self) -> BucketFacts:
        return self.bucket.facts()

    def fix(self, check_id: str) -> str | None:
        """The Terraform block for a failing check (None: keep the catalog's fix)."""
        return self.bucket.fix(check_id)


def prepare(path: str, bucket_hint: str | None = None) -> PlanTarget:
    """Read the plan, its W&B settings, and pick W&B's bucket (the hint, else the bucket the
    settings name, else the only one); InputError (exit 2) for bad input or an unclear choice."""
    plan = load_plan(path)
    settings = plan.settings()
    setting = settings.values.get("BUCKET")
    named = setting.value if setting is not None and not setting.unresolved else None
    return PlanTarget(plan, settings, plan.select_bucket(bucket_hint, named))


@dataclass(frozen=True)
class PlanSettingsSource:
    """The sources' SettingsSource interface over a plan."""

    plan: Plan

    def read(self) -> Settings:
        return self.plan.settings()


@dataclass(frozen=True)
class PlanProbe:
    """The probes' BucketProbe interface over a planned bucket: no network, no SDK."""

    bucket: PlannedBucket

    def probe(self, bucket: BucketLocation, settings: Settings,
              options: ProbeOptions) -> BucketFacts:
        return self.bucket.facts()
