"""One plan made ready for the engine: its W&B settings, W&B's bucket, and what the engine
asks of it instead of a live probe (facts, fixes and provenance in Terraform terms;
gccheck.engine.prepared.PlannedFacts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gccheck.bucket_url import BucketLocation
from gccheck.debuglog import debug
from gccheck.model import BucketFacts, Settings, Unavailable, UnavailableKind
from gccheck.neutral import neutralise
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

    def source(self, check_id: str) -> str | None:
        """The resource address (and attribute) behind `check_id`'s verdict, if it reads
        the bucket."""
        return self.bucket.source(check_id)

    @property
    def note(self) -> str:
        """Where the facts come from, for the report's notes."""
        return neutralise(f"bucket {self.bucket.label} as planned in Terraform plan "
                          f"{self.plan.path} (nothing asked of the cloud)")

    def read(self, check_ids: Iterable[str]) -> ReadPlan:
        """Everything the engine will ask, read now: the plan itself (a fleet's plans may be
        hundreds of MB each) is then no longer held."""
        ids = tuple(check_ids)
        try:
            return ReadPlan(self.facts(), {c: f for c in ids if (f := self.fix(c)) is not None},
                            {c: s for c in ids if (s := self.source(c)) is not None}, self.note)
        except Exception as exc:  # a reader bug: this bucket unknown, the settings still judged
            debug(__name__, "reading the planned bucket failed", exc_info=True)
            missing = Unavailable(UnavailableKind.ERROR, "reading the planned bucket failed "
                                  f"unexpectedly ({type(exc).__name__})")
            return ReadPlan(BucketFacts(provider=self.bucket.provider, versioning=missing,
                                        blob_soft_delete=missing, lifecycle=missing,
                                        delete_protection=missing), note=self.note)


@dataclass(frozen=True)
class ReadPlan:
    """A planned bucket's facts, fixes and provenance, read once (the engine's PlannedFacts)."""

    _facts: BucketFacts
    fixes: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    note: str = ""

    def facts(self) -> BucketFacts:
        return self._facts

    def fix(self, check_id: str) -> str | None:
        return self.fixes.get(check_id)

    def source(self, check_id: str) -> str | None:
        return self.sources.get(check_id)


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
