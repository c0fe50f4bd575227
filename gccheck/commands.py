"""What each CLI command does, apart from parsing options (kept out of cli.py for tests)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from gccheck.catalog import ANY, load_catalog
from gccheck.engine import prepare, run
from gccheck.errors import InputError
from gccheck.formats import render, terminal_width
from gccheck.formats.layout import wrap, wrap_fix
from gccheck.formats.matrix import render_matrix
from gccheck.formats.text import tally_words
from gccheck.formats.text import termination_line as _termination_line
from gccheck.masking import Redactor
from gccheck.matrix import Check, Matrix, load_matrix
from gccheck.model import FailOn, Report
from gccheck.neutral import neutralise
from gccheck.output import emit, printable
from gccheck.rules import RULES
from gccheck.target import TargetSpec


def load(matrix_path: str | None) -> Matrix:
    return load_matrix(matrix_path, RULES)


def termination_line(report: Report) -> str:
    """The one-line verdict for a Kubernetes termination message (formats/text.py)."""
    return _termination_line(report)


def quick_exit() -> None:
    """Let the interpreter skip its last full garbage collections when the process exits.

    Once boto3 (or another SDK) is loaded they take 0.1-0.3 s, more than the checks
    themselves; everything is written by then. Registered with atexit, so a caller that
    imports gccheck keeps its normal garbage collection for as long as it runs.
    """
    import atexit
    import gc

    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def write_termination_message(path: str, line: str) -> None:
    """Write in place: the kubelet bind-mounts this file, so a temp file + rename would fail."""
    try:
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        raise InputError(f"--termination-message {path}: cannot write "
                         f"({exc.strerror or exc})") from None


def exit_code(report: Report, warn_only: bool, fail_on: str) -> int:
    """The process's exit code: the report's own policy (model.FailOn); --warn-only is never."""
    return report.exit_code(FailOn.of(fail_on, warn_only=warn_only))


def run_check(spec: TargetSpec, redactor: Redactor, *, matrix_path: str | None, fmt: str,
              output: str | None, strict: bool, warn_only: bool, fail_on: str = "unknown",
              termination_message: str | None = None) -> int:
    matrix = load(matrix_path)
    prepared = prepare(spec, matrix, os.environ, redactor)
    report = run([prepared], matrix, concurrency=1, strict=strict)
    quick_exit()
    emit(render(fmt, report.redacted(redactor.redact), output), redactor, output)
    if termination_message:
        try:
            write_termination_message(termination_message,
                                      redactor.redact(termination_line(report.redacted(redactor.redact))))
        except InputError as exc:
            # The verdict is in the report and the exit code; a missing message file must not
            # turn "report only" (--fail-on never) into a blocked release.
            stderr(f"gccheck: warning: {exc}", redactor)
    return exit_code(report, warn_only, fail_on)


def audit_summary(report: Report, output: str | None) -> str:
    """One line for stderr: how many deployments are ready, and where the report went."""
    line = f"gccheck audit: {tally_words(report.tally())}"
    if output and output != "-":
        line += f"; report written to {output}"
    return line


def run_audit(fleet_path: str, redactor: Redactor, *, matrix_path: str | None, fmt: str,
              output: str | None, timeout: float, concurrency: int, strict: bool,
              warn_only: bool, fail_on: str = "unknown", quiet: bool = False) -> int:
    """Audit every deployment of a fleet file; the worst deployment sets the exit code."""
    from gccheck.audit import audit
    from gccheck.fleet import load_fleet
    from gccheck.progress import progress_for

    matrix = load(matrix_path)
    fleet = load_fleet(fleet_path, matrix, default_timeout=timeout)
    progress = progress_for(len(fleet.specs), sys.stderr, quiet=quiet, strict=strict)
    try:
        report = audit(fleet.specs, matrix, os.environ, redactor, concurrency=concurrency,
                       strict=strict, on_done=progress.advance)
    finally:
        progress.close()
    quick_exit()
    emit(render(fmt, report.redacted(redactor.redact), output), redactor, output)
    if not quiet:
        stderr(audit_summary(report, output), redactor)
    return exit_code(report, warn_only, fail_on)


def show_matrix(fmt: str, matrix_path: str | None, redactor: Redactor) -> int:
    emit(render_matrix(load(matrix_path), fmt, terminal_width(None)), redactor)
    return 0


def _provider_title(matrix: Matrix, provider: str) -> str:
    if provider == ANY:
        return "any provider"
    return matrix.provider_title(provider)


def list_checks(matrix_path: str | None, redactor: Redactor) -> int:
    """`gccheck explain` without an id: every id it takes, with its title."""
    matrix = load(matrix_path)
    width = terminal_width(None)

    def listed(checks: Mapping[str, Check]) -> list[str]:
        # A custom matrix.yaml is outside text: shown escaped.
        lines: list[str] = []
        for c in checks.values():
            head = f"  {neutralise(c.id, 60):<26} "
            title = wrap(neutralise(c.title, 120), width, head, hanging="")
            lines += [title[0], *(" " * len(head) + line.lstrip() for line in title[1:])]
        return lines

    lines = ["Requirements:", *listed(matrix.requirements)]
    if matrix.advisories:
        lines += ["", "Advisories (warn):", *listed(matrix.advisories)]
    lines += ["", *wrap("Run 'gccheck explain ID' for what, why, the fix and the permissions.",
                        width)]
    emit("\n".join(lines) + "\n", redactor)
    return 0


def explain_check(check_id: str, matrix_path: str | None, redactor: Redactor) -> int:
    """`gccheck explain ID`: what a check asks, why, the fix per provider and the read-only
    permissions gccheck needs; fitted to a terminal's width, whole for a pipe or a file."""
    matrix = load(matrix_path)
    check = matrix.check(check_id)
    entry = load_catalog().get(check_id)
    width = terminal_width(None)
    kind = "requirement" if check_id in matrix.requirements else "advisory (warn)"
    required_by = [h.id for h in matrix.hosting_types.values() if check_id in h.requires]
    lines = [*wrap(f"{check_id}: {check.title} [{kind}]", width), ""]
    if entry is not None:
        lines += [*wrap(entry.what, width, hanging=""), "",
                  *wrap("Why: " + entry.why, width, hanging="     "), ""]
    if kind == "requirement":
        lines += wrap("Required for: " + (", ".join(required_by) or "no hosting type"), width)
    if check.providers:
        lines += wrap("Applies to buckets on: " + ", ".join(
            matrix.providers[p].title for p in sorted(check.providers)), width)
    lines.append(f"Judged by rule: {check.check}")
    if entry is None:
        # A requirement added in a custom matrix.yaml: the rules know it, the catalog does not.
        lines += ["", "No explanation, fix or permission list is shipped for this id."]
    else:
        lines += ["", "Fix:"]
        for provider, ways in entry.fix.items():
            lines.append(f"  {_provider_title(matrix, provider)}:")
            for way, text in ways.items():
                lines.append(f"    {way}:")
                # Shell lines continue with a backslash, so that a wrapped fix still runs.
                for line in text.rstrip().splitlines():
                    lines += wrap_fix(line, width, " " * 8)
        lines += ["", "Permissions gccheck needs to check it (read-only):"]
        for provider, perms in entry.permissions.items():
            lines.append(f"  {_provider_title(matrix, provider)}:")
            lines += [line for perm in perms for line in wrap(f"- {perm}", width, "    ")]
    emit("\n".join(lines) + "\n", redactor)
    return 0


def stderr(message: str, redactor: Redactor) -> None:
    """One line on stderr, redacted, a name's undecodable bytes shown escaped (`\\udcff`)."""
    sys.stderr.write(printable(redactor.redact(message)) + "\n")
