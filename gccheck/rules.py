"""Pure evaluation: (matrix, hosting type, settings, bucket, bucket facts) -> results.

A rule is one small function registered under the name matrix.yaml uses in `check:`.
Rules never touch the network or an SDK; probes gather facts, rules judge them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gccheck.bucket_url import BucketLocation
from gccheck.catalog import Entry, load_catalog
from gccheck.masking import describe_value
from gccheck.matrix import Check, HostingType, Matrix
from gccheck.model import (
    BucketFacts,
    DeleteProtection,
    Kind,
    LifecycleRule,
    Result,
    Setting,
    Settings,
    SoftDelete,
    Status,
    Unavailable,
    VersioningState,
)


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at."""

    matrix: Matrix
    hosting: HostingType
    settings: Settings
    bucket: BucketLocation | None
    facts: BucketFacts | None
    # Why there is no bucket to judge ("no bucket given ..."), when bucket is None.
    no_bucket_reason: str = "no bucket given: pass --bucket URL or set BUCKET"


Rule = Callable[[Check, Kind, Context], Result]
RULES: dict[str, Rule] = {}
# Rules that judge what the live bucket says: a required one makes the bucket worth probing.
READS_BUCKET: set[str] = set()


def rule(name: str, *, reads_bucket: bool = False) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        if reads_bucket:
            READS_BUCKET.add(name)
        return fn

    return register


def _entry(check: Check) -> Entry | None:
    return load_catalog().get(check.id)


def _fix(check: Check, ctx: Context) -> str | None:
    entry = _entry(check)
    if entry is None or ctx.bucket is None:
        return None
    b = ctx.bucket
    return entry.fix_for(b.provider, bucket=b.bucket, endpoint=b.endpoint_url, account=b.account,
                         container=b.bucket if b.account else None)


def _result(check: Check, kind: Kind, status: Status, summary: str, detail: str = "",
            remediation: str | None = None, source: str | None = None) -> Result:
    return Result(check.id, kind, status, summary, detail, remediation, source)


def _unavailable(check: Check, kind: Kind, what: Unavailable, notes: str = "") -> Result:
    # The probe's notes (which Azure plane was used, ...) help to act on an unknown too.
    detail = "; ".join(part for part in (
        f"missing permission: {what.permission}" if what.permission else "", notes) if part)
    return _result(check, kind, Status.UNKNOWN, what.reason, detail)


def _bucket_detail(ctx: Context) -> str:
    return "; ".join(ctx.facts.notes) if ctx.facts is not None else ""


def _bucket_precheck(check: Check, kind: Kind, ctx: Context) -> Result | None:
    """The verdict when there is no bucket, no facts or no bucket at all on the provider."""
    if ctx.bucket is None:
        return _result(check, kind, Status.UNKNOWN, ctx.no_bucket_reason)
    if ctx.facts is None:
        return _result(check, kind, Status.UNKNOWN, "the bucket was not probed")
    if ctx.facts.missing:
        return _result(check, kind, Status.FAIL,
                       ctx.facts.missing_reason or f"bucket {ctx.bucket.display_name} does not exist",
                       _bucket_detail(ctx),
                       "check the bucket name in BUCKET (or --bucket), and the endpoint, region or "
                       "account it is looked up in; W&B needs the bucket to exist")
    return None


# ---- requirements -------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (small strings only: variable names)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _same_words(name: str, variable: str) -> bool:
    """Another spelling of the same idea: WANDB_ARTIFACT_GC_ENABLED, GORILLA_GC_ENABLED, ..."""
    words = set(name.split("_"))
    return "GC" in words and bool(words & {"ENABLED", "ENABLE"}) and bool(
        words & {"ARTIFACT", "ARTIFACTS", "GORILLA"}) and "BATCH" not in words


# Names compared in full (edit distance) in one search: far more than any real settings source
# holds, and a bound on what a hostile file with thousands of look-alike names can cost.
MAX_COMPARED = 2000


def _within_two_edits(a: str, b: str) -> bool:
    """edit_distance(a, b) <= 2, looking only at the diagonal band that can stay within it."""
    if abs(len(a) - len(b)) > 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [3] * len(b)
        for j in range(max(1, i - 2), min(len(b), i + 2) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ca != b[j - 1]))
        if min(current) > 2:
            return False
        previous = current
    return previous[-1] <= 2


def _pieces(variable: str) -> tuple[str, ...]:
    """`variable` cut into three parts: two edits leave at least one of them whole
    (pigeonhole), so a name that contains none of them is more than two edits away."""
    if len(variable) < 3:
        return ("",)  # every name contains "": no filter
    third = len(variable) // 3
    return (variable[:third], variable[third:2 * third], variable[2 * third:])


def near_misses(variable: str, known: tuple[str, ...], names: list[str]) -> list[str]:
    """Names that look like a mistyped `variable`: other case, a known near-miss, 1-2 edits.

    Linear in the number of names: a name is compared in full only when it has the right
    length and holds a third of `variable` as it is, and at most MAX_COMPARED are.
    """
    found = []
    pieces = _pieces(variable)
    compared = 0
    for name in names:
        if name == variable:
            continue
        upper = name.upper()
        if upper == variable or name in known or _same_words(upper, variable):
            found.append(name)
        elif (abs(len(upper) - len(variable)) <= 2 and compared < MAX_COMPARED
              and any(piece in upper for piece in pieces)):
            compared += 1
            if _within_two_edits(upper, variable):
                found.append(name)
    return sorted(found)


def _chart_variables(values: Mapping[str, Setting], names: list[str]) -> tuple[list[str], str]:
    """Split off the names W&B's charts set but W&B does not document (charts.yaml), with a
    hint that says what they are: they are not misspellings."""
    from gccheck.sources.chart.knowledge import load_knowledge

    known = load_knowledge().chart_variables
    hint = "".join(
        f"; {n} (set to {describe_value(values[n].value or '')} in {values[n].origin}) "
        f"is a chart variable: {known[n]}" for n in names if n in known and n in values)
    return [n for n in names if n not in known], hint


def _misspelt(check: Check, variable: str, values: Mapping[str, Setting]) -> str:
    """What the settings hold instead of `variable`: near misses, and chart variables."""
    similar, hint = _chart_variables(values, near_misses(variable, check.near_misses,
                                                         list(values)))
    if not similar:
        return hint
    return "; did you mean " + ", ".join(
        f"{n} (set to {describe_value(values[n].value or '')} in {values[n].origin})"
        for n in similar) + f"? W&B reads only {variable}" + hint


def _is_true(setting: Setting | None, value: str) -> bool:
    return (setting is not None and setting.value is not None
            and setting.value.strip().lower() == value)


def _every_workload(check: Check, kind: Kind, ctx: Context, variable: str) -> Result:
    """`variable` must be true in every container that runs the W&B server."""
    value = "true"
    workloads = ctx.settings.workloads
    failing, unknown, fixes = [], [], []
    for workload in workloads:
        setting = workload.setting(variable)
        if setting is not None and setting.unresolved:
            unknown.append(f"{workload.label}: cannot be read: {setting.unresolved} "
                           f"({setting.origin})")
        elif not _is_true(setting, value):
            template = setting.fix if setting is not None and setting.fix else (
                workload.fix_missing)
            fixes.append(template.replace("{name}", variable).replace("{value}", value))
            if setting is None:
                failing.append(f"{workload.label}: not set{_misspelt(check, variable, workload.values)}")
            else:
                found = ("empty" if not (setting.value or "").strip()
                         else describe_value(setting.value or ""))
                failing.append(f"{workload.label}: {found} (from {setting.origin})")
    detail = "; ".join(ctx.settings.notes)
    total = len(workloads)
    if failing:
        summary = (f"{variable} needs \"true\" in every W&B server container; {len(failing)} of "
                   f"{total} do not: " + "; ".join(failing + unknown))
        return _result(check, kind, Status.FAIL, summary, detail,
                       "\n".join(dict.fromkeys(fixes)))
    if unknown:
        return _result(check, kind, Status.UNKNOWN, "; ".join(unknown), detail)
    return _result(check, kind, Status.PASS, f"{variable} is 'true' in every W&B server container "
                   f"({', '.join(w.label for w in workloads)})", detail,
                   source=ctx.settings.description)


@rule("env-true")
def env_true(check: Check, kind: Kind, ctx: Context) -> Result:
    variable = check.variable or ""
    if len(ctx.settings.workloads) > 1:
        return _every_workload(check, kind, ctx, variable)
    setting = ctx.settings.setting(variable)
    value = "true"
    if setting is not None and setting.unresolved:
        return _result(check, kind, Status.UNKNOWN, f"{variable} cannot be read: {setting.unresolved}",
                       source=setting.origin)
    if setting is not None and setting.value is not None and setting.value.strip().lower() == value:
        return _result(check, kind, Status.PASS, f"{variable} is {describe_value(setting.value)}",
                       source=setting.origin)
    fix_template = (setting.fix if setting is not None and setting.fix else ctx.settings.fix_missing)
    remediation = fix_template.replace("{name}", variable).replace("{value}", value)
    hint = _misspelt(check, variable, ctx.settings.values)
    notes = "; ".join(ctx.settings.notes)  # a known chart trap, with the way out
    if setting is None:
        summary = f"{variable} is not set in the {ctx.settings.description}{hint}"
        return _result(check, kind, Status.FAIL, summary, notes, remediation=remediation)
    found = "empty" if not (setting.value or "").strip() else describe_value(setting.value or "")
    summary = f"{variable} is {found}, needs \"true\"{hint}"
    return _result(check, kind, Status.FAIL, summary, notes, remediation=remediation,
                   source=setting.origin)


_VERSIONING_FAIL = {
    VersioningState.SUSPENDED: "versioning is suspended on bucket {}",
    VersioningState.NEVER_ENABLED: "versioning was never enabled on bucket {}",
    VersioningState.DISABLED: "versioning is disabled on bucket {}",
}


@rule("bucket-versioning", reads_bucket=True)
def bucket_versioning(check: Check, kind: Kind, ctx: Context) -> Result:
    early = _bucket_precheck(check, kind, ctx)
    if early is not None:
        return early
    assert ctx.facts is not None and ctx.bucket is not None
    state = ctx.facts.versioning
    name = ctx.bucket.display_name
    detail = _bucket_detail(ctx)
    if isinstance(state, Unavailable):
        return _unavailable(check, kind, state, detail)
    if state is None:
        return _result(check, kind, Status.UNKNOWN, f"the {ctx.bucket.provider} probe does not "
                       "report versioning", detail)
    if state is VersioningState.ENABLED:
        return _result(check, kind, Status.PASS, f"versioning is enabled on bucket {name}", detail)
    return _result(check, kind, Status.FAIL, _VERSIONING_FAIL[state].format(name), detail,
                   _fix(check, ctx))


@rule("blob-soft-delete", reads_bucket=True)
def blob_soft_delete(check: Check, kind: Kind, ctx: Context) -> Result:
    early = _bucket_precheck(check, kind, ctx)
    if early is not None:
        return early
    assert ctx.facts is not None and ctx.bucket is not None
    policy = ctx.facts.blob_soft_delete
    account = ctx.bucket.account or ctx.bucket.bucket
    detail = _bucket_detail(ctx)
    if isinstance(policy, Unavailable):
        return _unavailable(check, kind, policy, detail)
    if not isinstance(policy, SoftDelete):
        return _result(check, kind, Status.UNKNOWN, f"the {ctx.bucket.provider} probe does not "
                       "report blob soft delete", detail)
    if policy.enabled:
        days = f" ({policy.days:g} days retention)" if policy.days is not None else ""
        return _result(check, kind, Status.PASS,
                       f"blob soft delete is enabled on account {account}{days}", detail)
    return _result(check, kind, Status.FAIL, f"blob soft delete is disabled on account {account}",
                   detail, _fix(check, ctx))


@rule("ssc-provider")
def ssc_provider(check: Check, kind: Kind, ctx: Context) -> Result:
    if ctx.bucket is None:
        return _result(check, kind, Status.UNKNOWN, ctx.no_bucket_reason)
    offered = sorted(ctx.matrix.ssc_providers)
    titles = ", ".join(ctx.matrix.providers[p].title for p in offered) or "no provider"
    provider = ctx.bucket.provider
    title = ctx.matrix.provider_title(provider)
    if provider in ctx.matrix.ssc_providers:
        return _result(check, kind, Status.PASS,
                       f"the secure storage connector is offered on {title}")
    entry = _entry(check)
    return _result(check, kind, Status.FAIL,
                   f"the secure storage connector is not offered on {title} (only on {titles})",
                   remediation=entry.fix_for(None) if entry else None)


# ---- advisories ---------------------------------------------------------------------------


def _lifecycle(check: Check, kind: Kind,
               ctx: Context) -> tuple[Result | None, tuple[LifecycleRule, ...]]:
    early = _bucket_precheck(check, kind, ctx)
    if early is not None:
        return early, ()
    assert ctx.facts is not None
    rules = ctx.facts.lifecycle
    if isinstance(rules, Unavailable):
        return _unavailable(check, kind, rules), ()
    return None, tuple(rules or ())


@rule("lifecycle-expires-current", reads_bucket=True)
def lifecycle_expires_current(check: Check, kind: Kind, ctx: Context) -> Result:
    early, rules = _lifecycle(check, kind, ctx)
    if early is not None:
        return early
    hazards = [r for r in rules if r.enabled and r.expires_current]
    if not hazards:
        return _result(check, kind, Status.PASS, "no lifecycle rule expires current objects")
    names = ", ".join(f"{r.id!r}" + (f" ({r.description})" if r.description else "")
                      for r in hazards)
    return _result(check, kind, Status.WARN,
                   f"lifecycle rule {names} expires current objects W&B may still reference",
                   remediation=_fix(check, ctx))


@rule("noncurrent-never-expire", reads_bucket=True)
def noncurrent_never_expire(check: Check, kind: Kind, ctx: Context) -> Result:
    early, rules = _lifecycle(check, kind, ctx)
    if early is not None:
        return early
    freeing = [r for r in rules if r.enabled and r.expires_noncurrent]
    if freeing:
        return _result(check, kind, Status.PASS, "noncurrent versions expire (rule "
                       + ", ".join(repr(r.id) for r in freeing) + ")")
    return _result(check, kind, Status.WARN,
                   "no lifecycle rule expires noncurrent versions: deleted files keep costing "
                   "storage", remediation=_fix(check, ctx))


@rule("delete-protection", reads_bucket=True)
def delete_protection(check: Check, kind: Kind, ctx: Context) -> Result:
    early = _bucket_precheck(check, kind, ctx)
    if early is not None:
        return early
    assert ctx.facts is not None
    protection = ctx.facts.delete_protection
    if isinstance(protection, Unavailable):
        return _unavailable(check, kind, protection)
    if isinstance(protection, DeleteProtection) and protection.active:
        return _result(check, kind, Status.WARN,
                       f"{protection.description}: GC cannot delete protected versions until it "
                       "ends", remediation=_fix(check, ctx))
    description = protection.description if isinstance(protection, DeleteProtection) else ""
    return _result(check, kind, Status.PASS, description or f"no {check.title.lower()}")


# ---- evaluation ---------------------------------------------------------------------------


def _not_required(check: Check, kind: Kind, why: str) -> Result:
    return Result(check.id, kind, Status.NOT_REQUIRED, why)


def needs_probe(matrix: Matrix, hosting: HostingType, provider: str) -> bool:
    """Whether any required check on this provider needs facts from the live bucket."""
    return any(matrix.requirements[r].check in READS_BUCKET
               and matrix.requirements[r].applies_to(provider) for r in hosting.requires)


def evaluate(ctx: Context) -> tuple[Result, ...]:
    """Every requirement of the matrix (in its order), then the advisories that apply."""
    results: list[Result] = []
    provider = ctx.bucket.provider if ctx.bucket is not None else None
    for check in ctx.matrix.requirements.values():
        if check.id not in ctx.hosting.requires:
            results.append(_not_required(check, Kind.REQUIREMENT,
                                         f"not required for {ctx.hosting.title.lower()}"))
        elif not check.applies_to(provider):
            title = ctx.matrix.provider_title(provider) if provider else ""
            results.append(_not_required(check, Kind.REQUIREMENT, f"does not apply to {title}"))
        else:
            results.append(RULES[check.check](check, Kind.REQUIREMENT, ctx))
    if ctx.facts is not None and not ctx.facts.missing and provider is not None:
        for check in ctx.matrix.advisories.values():
            if check.providers is not None and provider in check.providers:
                results.append(RULES[check.check](check, Kind.ADVISORY, ctx))
    return tuple(results)

