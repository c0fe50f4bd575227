"""The shared vocabulary: what sources, probes, rules and formats pass to each other."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from gccheck.neutral import neutralise


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


class Verdict(str, enum.Enum):
    """What one deployment comes to. Judged once (`TargetReport.judge`) and read by every
    format, the exit code, the termination message, the progress bar and the demo.

    The four verdicts partition a fleet: a deployment that is ready but has an advisory that
    warns is READY_WITH_ADVISORIES, not also READY.
    """

    READY = "ready"
    READY_WITH_ADVISORIES = "ready-with-advisories"
    NOT_READY = "not-ready"
    UNVERIFIED = "unverified"

    @property
    def ready(self) -> bool:
        """True for both kinds of ready: nothing required fails or is unknown."""
        return self in (Verdict.READY, Verdict.READY_WITH_ADVISORIES)

    @property
    def exit_code(self) -> int:
        """0 ready (with or without advisories), 1 not ready, 3 unverified."""
        return _EXIT_CODES[self]

    @property
    def words(self) -> str:
        """'ready', 'ready with advisories', 'not ready' or 'unverified'."""
        return self.value.replace("-", " ")


_EXIT_CODES = {Verdict.READY: EXIT_READY, Verdict.READY_WITH_ADVISORIES: EXIT_READY,
               Verdict.NOT_READY: EXIT_FAIL, Verdict.UNVERIFIED: EXIT_UNKNOWN}
# Worst first: the fleet's verdict is the worst of its deployments'.
_SEVERITY = (Verdict.NOT_READY, Verdict.UNVERIFIED, Verdict.READY_WITH_ADVISORIES,
             Verdict.READY)


class FailOn(str, enum.Enum):
    """What makes the exit code non-zero (--fail-on; --warn-only is NEVER)."""

    UNKNOWN = "unknown"  # 1 for a failure, 3 for an unverified requirement
    FAIL = "fail"  # only failures
    NEVER = "never"  # always 0: the report still says what is wrong

    @classmethod
    def of(cls, fail_on: str = "unknown", *, warn_only: bool = False) -> FailOn:
        """The policy the command line asked for: --warn-only wins (cli refuses both)."""
        return cls.NEVER if warn_only else cls(fail_on)


@dataclass(frozen=True)
class Judgement:
    """A deployment's verdict and the results it is made of."""

    verdict: Verdict
    failing: tuple[Result, ...]  # required items that fail; under --strict also warned ones
    unknown: tuple[Result, ...]  # required items that could not be verified
    warned: tuple[Result, ...]  # advisories that warn

    @property
    def named(self) -> tuple[Result, ...]:
        """The items the verdict names: the failing ones, else the unknown ones."""
        return self.failing or self.unknown


@dataclass(frozen=True)
class TargetReport:
    """Every verdict for one deployment."""

    name: str
    hosting: str
    provider: str | None
    bucket: str | None  # masked URL
    results: tuple[Result, ...]
    notes: tuple[str, ...] = ()

    def judge(self, strict: bool = False) -> Judgement:
        """The one place a deployment's verdict is decided: a failing requirement makes it
        not ready, else an unknown one unverified; under strict an advisory that warns fails."""
        required = [r for r in self.results if r.kind is Kind.REQUIREMENT]
        failing = tuple(r for r in required if r.status is Status.FAIL)
        unknown = tuple(r for r in required if r.status is Status.UNKNOWN)
        warned = tuple(r for r in self.results if r.status is Status.WARN)
        if strict:
            failing += warned
        if failing:
            verdict = Verdict.NOT_READY
        elif unknown:
            verdict = Verdict.UNVERIFIED
        elif warned:
            verdict = Verdict.READY_WITH_ADVISORIES
        else:
            verdict = Verdict.READY
        return Judgement(verdict, failing, unknown, warned)

    def verdict(self, strict: bool = False) -> Verdict:
        return self.judge(strict).verdict

    def exit_code(self, strict: bool = False) -> int:
        """0 ready, 1 a requirement fails (or, with strict, an advisory warns), 3 unknown."""
        return self.verdict(strict).exit_code

    def ready(self, strict: bool = False) -> bool:
        return self.verdict(strict).ready


@dataclass(frozen=True)
class Tally:
    """How many deployments got each verdict. The four counts add up to `total`."""

    ready: int = 0  # ready with no advisory warning
    ready_with_advisories: int = 0
    not_ready: int = 0
    unverified: int = 0

    @classmethod
    def of(cls, verdicts: Iterable[Verdict]) -> Tally:
        tally = cls()
        for verdict in verdicts:
            tally = tally.plus(verdict)
        return tally

    def plus(self, verdict: Verdict) -> Tally:
        """This tally with one more deployment (the progress bar counts as they finish)."""
        field_name = verdict.value.replace("-", "_")
        return replace(self, **{field_name: getattr(self, field_name) + 1})

    def __getitem__(self, verdict: Verdict) -> int:
        count: int = getattr(self, verdict.value.replace("-", "_"))
        return count

    @property
    def total(self) -> int:
        return self.ready + self.ready_with_advisories + self.not_ready + self.unverified

    @property
    def all_ready(self) -> int:
        """Ready deployments, with or without advisories."""
        return self.ready + self.ready_with_advisories

    @property
    def worst(self) -> Verdict:
        """The fleet's verdict: not ready beats unverified beats ready (an empty fleet is
        ready)."""
        return next((v for v in _SEVERITY if self[v]), Verdict.READY)

    def exit_code(self, fail_on: FailOn = FailOn.UNKNOWN) -> int:
        """The exit policy, in one place: the worst verdict's code, as --fail-on allows."""
        if fail_on is FailOn.NEVER:
            return EXIT_READY
        code = self.worst.exit_code
        if fail_on is FailOn.FAIL and code == EXIT_UNKNOWN:
            return EXIT_READY
        return code


@dataclass(frozen=True)
class Report:
    """The outcome of one `check` (one target) or one `audit` (many)."""

    targets: tuple[TargetReport, ...]
    version: str
    strict: bool = False
    generated_at: float = 0.0  # Unix time

    def judgements(self) -> tuple[Judgement, ...]:
        """Each target's judgement (in target order), under this report's --strict."""
        return tuple(t.judge(self.strict) for t in self.targets)

    def verdicts(self) -> tuple[Verdict, ...]:
        return tuple(j.verdict for j in self.judgements())

    def tally(self) -> Tally:
        """How many deployments are ready, ready with advisories, not ready, unverified."""
        return Tally.of(self.verdicts())

    @property
    def ready(self) -> bool:
        return all(v.ready for v in self.verdicts())

    def exit_code(self, fail_on: FailOn = FailOn.UNKNOWN) -> int:
        """The worst target's code: fail beats unknown beats ready, as --fail-on allows."""
        return self.tally().exit_code(fail_on)

    def neutralised(self) -> Report:
        """This report with every text in it shown safely (`gccheck.neutral.neutralise`):
        control characters and undecodable bytes escaped, lengths capped. Every format
        renders this, never the report as the engine built it."""
        return self._with_texts(_one_line, _multiline)

    def redacted(self, redact: Callable[[str], str]) -> Report:
        """This report with `redact` (the run's Redactor) applied to every text in it, before
        any format escapes it: a format's own escaping (Markdown's backslashes, ...) can then
        never turn a secret into a form the Redactor does not know."""
        return self._with_texts(redact, redact)

    def _with_texts(self, one_line: Callable[[str], str],
                    multiline: Callable[[str], str]) -> Report:
        def result(r: Result) -> Result:
            return replace(
                r, id=one_line(r.id), summary=one_line(r.summary), detail=one_line(r.detail),
                source=None if r.source is None else one_line(r.source),
                remediation=None if r.remediation is None else multiline(r.remediation))

        def target(t: TargetReport) -> TargetReport:
            return replace(
                t, name=one_line(t.name), hosting=one_line(t.hosting),
                provider=None if t.provider is None else one_line(t.provider),
                bucket=None if t.bucket is None else one_line(t.bucket),
                notes=tuple(one_line(n) for n in t.notes),
                results=tuple(result(r) for r in t.results))

        return replace(self, version=one_line(self.version),
                       targets=tuple(target(t) for t in self.targets))


# Per field, far above what gccheck itself writes, so text neutralised where it entered
# (at neutral.DEFAULT_LIMIT, then quoted in a sentence) is never cut a second time.
_FIELD_LIMIT = 2048
_FIX_LIMIT = 8192
_LINE_BREAKS = re.compile(r"[\r\n\t]+")


def _one_line(text: str) -> str:
    # A line break inside a one-line field is only a space (a server's message over lines).
    return neutralise(_LINE_BREAKS.sub(" ", text), _FIELD_LIMIT)


def _multiline(text: str) -> str:
    return neutralise(text, _FIX_LIMIT, multiline=True)


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
class Storage:
    """What a source found about the storage service, besides the bucket URL (BUCKET).

    Each is the Setting it came from: a variable of the deployment (named as written, e.g.
    AWS_ENDPOINT_URL_S3), or a value gccheck derived from another setting (named for what it is;
    its origin says from what). None when the source says nothing.
    """

    endpoint: Setting | None = None  # the S3 API endpoint of an s3:// or cw:// bucket
    region: Setting | None = None  # the AWS region, when the bucket URL names none


@dataclass(frozen=True)
class Unread:
    """A source of variables that could not be read (an envFrom Secret without 'get secrets'):
    any variable not found elsewhere may be set there."""

    origin: str
    reason: str


def _setting(values: Mapping[str, Setting], unread: Unread | None, name: str) -> Setting | None:
    found = values.get(name)
    if found is not None or unread is None:
        return found
    return Setting(name, None, unread.origin, unresolved=f"not set explicitly, and {unread.reason}")


@dataclass(frozen=True)
class WorkloadEnv:
    """One container that runs the W&B server, when a deployment has several (operator-wandb's
    app, api and glue pods): each is judged on its own."""

    label: str  # "Deployment/wandb-glue container glue"
    values: Mapping[str, Setting] = field(default_factory=dict)
    # How to add a variable this container does not set; {name} and {value} are filled in.
    fix_missing: str = "set {name}={value} in the container's env"
    unread: Unread | None = None

    def setting(self, name: str) -> Setting | None:
        """As Settings.setting, for this container."""
        return _setting(self.values, self.unread, name)


@dataclass(frozen=True)
class Settings:
    """The environment a W&B deployment gets, with where each value came from."""

    description: str  # "process environment", "env file .env", ...
    # The variables found, by name: `in` and `get` agree (see `setting` for unread sources).
    values: Mapping[str, Setting] = field(default_factory=dict)
    # How to add a variable that is not set at all; {name} and {value} are filled in.
    fix_missing: str = "set {name}={value} in the W&B server's environment"
    # Secrets the source resolved (keys from Secrets): used for the bucket, never printed.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    storage: Storage = field(default_factory=Storage)
    unread: Unread | None = None
    # Every container that runs the W&B server, when the source knows them (a rendered chart,
    # `--workload auto`): the rules judge each; `values` is then the one that gives the bucket.
    workloads: tuple[WorkloadEnv, ...] = ()
    # What the source learned that the report should say (a chart version known to break GC).
    notes: tuple[str, ...] = ()

    def setting(self, name: str) -> Setting | None:
        """The variable as the W&B server sees it: found; unresolved when it may come from a
        source that could not be read; None when it is not set."""
        return _setting(self.values, self.unread, name)

    def get(self, name: str) -> str | None:
        setting = self.setting(name)
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
