"""The shared vocabulary: what sources, probes, rules and formats pass to each other."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Status(str, enum.Enum):
    """The verdict on one requirement or advisory."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"  # could not be verified: no permission, unreachable, timeout
    WARN = "warn"  # advisories only
    NOT_REQUIRED = "not-required"


class Kind(str, enum.Enum):
    REQUIREMENT = "requirement"
    ADVISORY = "advisory"


@dataclass(frozen=True)
class Result:
    """One line of a report."""

    id: str
    kind: Kind
    status: Status
    summary: str
    detail: str = ""
    remediation: str | None = None
    # Where the judged value came from (process environment, values.yaml: ..., ...).
    source: str | None = None


# Exit codes, documented in the README.
EXIT_READY = 0
EXIT_FAIL = 1
EXIT_INPUT = 2
EXIT_UNKNOWN = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class TargetReport:
    """Every verdict for one deployment."""

    name: str
    hosting: str
    provider: str | None
    bucket: str | None  # masked URL
    results: tuple[Result, ...]
    notes: tuple[str, ...] = ()

    def exit_code(self, strict: bool = False) -> int:
        """0 ready, 1 a requirement fails (or, with strict, an advisory warns), 3 unknown."""
        required = [r for r in self.results if r.kind is Kind.REQUIREMENT]
        if any(r.status is Status.FAIL for r in required):
            return EXIT_FAIL
        if strict and any(r.status is Status.WARN for r in self.results):
            return EXIT_FAIL
        if any(r.status is Status.UNKNOWN for r in required):
            return EXIT_UNKNOWN
        return EXIT_READY

    def ready(self, strict: bool = False) -> bool:
        return self.exit_code(strict) == EXIT_READY


_SEVERITY = {EXIT_READY: 0, EXIT_UNKNOWN: 1, EXIT_FAIL: 2}


@dataclass(frozen=True)
class Report:
    """The outcome of one `check` (one target) or one `audit` (many)."""

    targets: tuple[TargetReport, ...]
    version: str
    strict: bool = False
    generated_at: float = 0.0  # Unix time

    @property
    def ready(self) -> bool:
        return all(t.ready(self.strict) for t in self.targets)

    def exit_code(self, warn_only: bool = False) -> int:
        """The worst target's code: fail beats unknown beats ready."""
        codes = [t.exit_code(self.strict) for t in self.targets] or [EXIT_READY]
        worst = max(codes, key=_SEVERITY.__getitem__)
        return EXIT_READY if warn_only else worst


# ---- Settings: what the deployment is told (sources produce these) -------------------------


@dataclass(frozen=True)
class Setting:
    """One environment variable as the W&B app would see it."""

    name: str
    value: str | None  # None when it could not be resolved
    origin: str  # "process environment", "values.yaml: global.extraEnv.X", ...
    # Why the value is not known (a Secret we may not read, ...): the result becomes unknown.
    unresolved: str | None = None
    # How to change it where it was found; {name} and {value} are filled in.
    fix: str | None = None


@dataclass(frozen=True)
class Settings:
    """The environment a W&B deployment gets, with where each value came from."""

    description: str  # "process environment", "env file .env", ...
    values: Mapping[str, Setting] = field(default_factory=dict)
    # How to add a variable that is not set at all; {name} and {value} are filled in.
    fix_missing: str = "set {name}={value} in the W&B server's environment"
    # Secrets the source resolved (keys from Secrets): used for the bucket, never printed.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def get(self, name: str) -> str | None:
        setting = self.values.get(name)
        return setting.value if setting else None


# ---- Facts: what the cloud says about the bucket (probes produce these) ----------------------


class UnavailableKind(str, enum.Enum):
    DENIED = "denied"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    NO_CREDENTIALS = "no-credentials"
    NO_PROBE = "no-probe"
    ERROR = "error"


@dataclass(frozen=True)
class Unavailable:
    """A fact that could not be read, and why."""

    kind: UnavailableKind
    reason: str  # one line, already masked
    permission: str | None = None  # the permission that was missing, for DENIED


class VersioningState(str, enum.Enum):
    ENABLED = "enabled"
    SUSPENDED = "suspended"
    NEVER_ENABLED = "never-enabled"
    DISABLED = "disabled"  # GCS has no suspended state


@dataclass(frozen=True)
class SoftDelete:
    """Azure blob soft delete (deleteRetentionPolicy) or GCS soft delete."""

    enabled: bool
    days: float | None = None


@dataclass(frozen=True)
class LifecycleRule:
    """A lifecycle rule reduced to what matters for GC."""

    id: str
    enabled: bool
    expires_current: bool  # can delete live objects W&B still references
    expires_noncurrent: bool  # frees the space of deleted (noncurrent) versions
    description: str = ""


@dataclass(frozen=True)
class DeleteProtection:
    """Something that stops deletes before a date: object lock, retention, legal hold."""

    active: bool
    description: str


# The facts a probe can report, by field name.
FACTS = ("versioning", "blob_soft_delete", "lifecycle", "delete_protection")


@dataclass(frozen=True)
class BucketFacts:
    """What the provider says about a bucket. None means the provider has no such thing."""

    provider: str
    missing: bool = False
    missing_reason: str = ""
    versioning: VersioningState | Unavailable | None = None
    blob_soft_delete: SoftDelete | Unavailable | None = None
    lifecycle: tuple[LifecycleRule, ...] | Unavailable | None = None
    delete_protection: DeleteProtection | Unavailable | None = None
    notes: tuple[str, ...] = ()  # information: plane used, soft delete duration, ...

    @classmethod
    def unavailable(cls, provider: str, why: Unavailable, *, notes: tuple[str, ...] = (),
                    facts: tuple[str, ...] = FACTS) -> BucketFacts:
        """Every fact (or only those named in `facts`) unavailable for one reason."""
        unknown = set(facts) - set(FACTS)
        if unknown:
            raise ValueError(f"not a fact: {', '.join(sorted(unknown))}")
        def fact(name: str) -> Unavailable | None:
            return why if name in facts else None

        return cls(provider=provider, versioning=fact("versioning"),
                   blob_soft_delete=fact("blob_soft_delete"), lifecycle=fact("lifecycle"),
                   delete_protection=fact("delete_protection"), notes=notes)
