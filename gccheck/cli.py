"""Command line: options in, exit code out.

Parses and checks the options (a deployment's come from the table in gccheck.options), hands
them to gccheck.commands, which does the work and picks the exit code, and turns every error
into one line on stderr.
"""

# Ctrl-C is caught (_catch_interrupts) before the heavy imports further down.
# ruff: noqa: E402
from __future__ import annotations

# The C half of `signal`, loaded with the interpreter: `import signal` would first import
# enum (~3 ms in which a Ctrl-C is a traceback).
import _signal  # type: ignore[import-not-found]
import os
import sys


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: one line and exit 130 at once, from wherever the main thread is.

    Raising KeyboardInterrupt would unwind through imports in progress, wait for worker
    threads stuck on dead sockets and for the SDK import lock at exit, and print a traceback
    when it lands outside main()'s try.
    """
    output = sys.modules.get("gccheck.output")
    if output is not None:
        output.remove_partial()  # no half-written --output temp file left behind
    try:
        try:
            # On a terminal, erase the progress bar's line first.
            os.write(2, (b"\r\x1b[K" if os.isatty(2) else b"") + b"gccheck: interrupted\n")
        finally:  # also when stderr is closed
            children = sys.modules.get("gccheck.children")
            if children is not None:
                children.stop_all()  # the demo's Azurite: os._exit skips its clean-up
    finally:
        os._exit(130)


def _catch_interrupts() -> object | None:
    """Install `_interrupted` for SIGINT; returns the handler it replaced, or None when it
    left things alone: SIGINT ignored (nohup, a background job) stays ignored, and only the
    main thread may set handlers."""
    try:
        current: object = _signal.getsignal(_signal.SIGINT)
        if current not in (_signal.default_int_handler, _signal.SIG_DFL):
            return None
        _signal.signal(_signal.SIGINT, _interrupted)
    except ValueError:  # not the main thread
        return None
    return current


def _started_as_gccheck() -> bool:
    """Whether this process is the gccheck program (console script or python -m gccheck),
    not a program that imports gccheck."""
    main_module = sys.modules.get("__main__")
    spec = getattr(main_module, "__spec__", None)
    if spec is not None:
        return bool(spec.name == "gccheck.__main__")
    script = os.path.basename(getattr(main_module, "__file__", None) or "")
    return script.removesuffix(".exe").removesuffix("-script.py") == "gccheck"


_PROGRAM = _started_as_gccheck()
if _PROGRAM:
    _catch_interrupts()

import contextlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from gccheck import __version__
from gccheck.debuglog import route_warnings
from gccheck.errors import InputError
from gccheck.formats import AUDIT_FORMATS, CHECK_FORMATS
from gccheck.masking import Redactor
from gccheck.model import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED
from gccheck.options import (
    DEFAULT_TIMEOUT,
    HOSTING,
    NAME,
    TARGET_OPTIONS,
    TIMEOUT,
    Option,
    OptionError,
    spec_fields,
)
from gccheck.suggest import did_you_mean

if TYPE_CHECKING:  # generic from click 8.2; subscripting them fails at run time in 8.1
    _ParamTypeBase = click.ParamType[Any]
    _ChoiceBase = click.Choice[str]
else:
    _ParamTypeBase = click.ParamType
    _ChoiceBase = click.Choice


@dataclass
class RunState:
    """Per-invocation state: the secrets to hide and whether to show tracebacks."""

    redactor: Redactor = field(default_factory=Redactor)
    debug: bool = False


def _setup_logging(state: RunState, debug: bool) -> None:
    state.debug = state.debug or debug
    if state.debug:
        from gccheck.debuglog import configure

        configure(state.redactor)


def _state() -> RunState:
    state: RunState = click.get_current_context().ensure_object(RunState)
    return state


class _BadValue(click.BadParameter):
    """A value the options table refused; its message already names the flag."""

    def format_message(self) -> str:
        return self.message


class _Checked(_ParamTypeBase):
    """A flag's value checked by its option's own validator, as a fleet key's is."""

    def __init__(self, option: Option) -> None:
        self.option = option
        self.name = option.metavar or option.key

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        try:
            return self.option.check(value, f"--{self.option.key}")
        except OptionError as exc:
            raise _BadValue(str(exc), ctx, param) from None


class _Choice(_ChoiceBase):
    """click's choice, naming the closest choice to a mistyped one (click 8.2 and later)."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        message: str = super().get_invalid_choice_message(value, ctx)
        hint = did_you_mean(value, self.choices) if isinstance(value, str) else ""
        return f"{message.rstrip('.')}{hint}" if hint else message


class _HostingOption(click.Option):
    """--hosting, whose help lists the hosting types of matrix.yaml (read only for --help)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from gccheck.commands import load

        self.help = HOSTING.help.format(hosting=", ".join(load(None).hosting_types))
        return super().get_help_record(ctx)


def _flag(option: Option, **extra: Any) -> Any:
    """The click option of a deployment option of the table."""
    decls = [f"--{option.key}", *([option.short] if option.short else []),
             option.key.replace("-", "_")]
    return click.option(*decls, envvar=list(option.envvars), metavar=option.metavar,
                        help=option.help, type=_Checked(option), multiple=option.many, **extra)


def _target_flags(fn: Any) -> Any:
    for option in reversed(TARGET_OPTIONS):
        if option is TIMEOUT or not option.flag:
            continue  # --timeout is shared with audit (_common_output)
        if option is HOSTING:
            fn = _flag(option, required=True, cls=_HostingOption)(fn)
        elif option is NAME:
            fn = _flag(option, default="wandb", show_default=True)(fn)
        else:
            fn = _flag(option)(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gccheck")
def cli() -> None:
    """Check that W&B Server's artifact garbage collection will work on a deployment.

    Reads the deployment's settings and its bucket's live configuration, judges them against
    W&B's hosting matrix (matrix.yaml) and says what to fix.
    """


_FAIL_ON = click.option(
    "--fail-on", envvar="GCCHECK_FAIL_ON", default="unknown", show_default=True,
    type=_Choice(["fail", "unknown", "never"]),
    help="What makes the exit code non-zero: 'unknown' (1 for a failure, 3 for an unverified "
         "requirement), 'fail' (only failures), 'never' (= --warn-only).")
_MATRIX = click.option("--matrix", "matrix_path", envvar="GCCHECK_MATRIX", metavar="PATH",
                       type=click.Path(dir_okay=False), help="Use another matrix.yaml.")


def _common_output(fn: Any) -> Any:
    for option in reversed([
        _MATRIX,
        click.option("--output", "-o", envvar="GCCHECK_OUTPUT", metavar="FILE",
                     help="Write the report to FILE (atomically) instead of stdout."),
        _flag(TIMEOUT, default=DEFAULT_TIMEOUT, show_default=True),
        click.option("--strict", envvar="GCCHECK_STRICT", is_flag=True,
                     help="Count advisories that warn as failures."),
        click.option("--warn-only", envvar="GCCHECK_WARN_ONLY", is_flag=True,
                     help="Exit 0 even when something fails or is unknown (the report still "
                          "says so)."),
        click.option("--debug", envvar="GCCHECK_DEBUG", is_flag=True,
                     help="Log what gccheck does (secrets redacted) and show tracebacks."),
    ]):
        fn = option(fn)
    return fn


# The exit codes are a plain paragraph, not a \b block: click wraps it to the terminal, so
# `--help` fits an 80-column one (a preformatted block kept its 90-column lines).
@cli.command()
@_target_flags
@click.option("--format", "fmt", envvar="GCCHECK_FORMAT", default="table", show_default=True,
              type=_Choice(CHECK_FORMATS))
@_FAIL_ON
@click.option("--termination-message", envvar="GCCHECK_TERMINATION_MESSAGE", metavar="PATH",
              help="Also write the one-line verdict to PATH (a Kubernetes termination "
                   "message file, e.g. /dev/termination-log).")
@_common_output
def check(fmt: str, fail_on: str, termination_message: str | None, matrix_path: str | None,
          output: str | None, timeout: float, strict: bool, warn_only: bool, debug: bool,
          **flags: Any) -> int:
    """Check one deployment against the hosting matrix.

    Exit codes: 0 ready, 1 a requirement fails, 3 a requirement could not be verified, 2 bad
    usage or input. --warn-only turns 1 and 3 into 0.
    """
    from gccheck.commands import run_check
    from gccheck.target import TargetSpec

    _one_exit_policy(warn_only, fail_on)
    state = _state()
    _setup_logging(state, debug)
    given = {key.replace("_", "-"): value for key, value in flags.items()}
    spec = TargetSpec(**spec_fields({**given, "timeout": timeout}, cli=True))
    return run_check(spec, state.redactor, matrix_path=matrix_path, fmt=fmt, output=output,
                     strict=strict, warn_only=warn_only, fail_on=fail_on,
                     termination_message=termination_message)


@cli.command(short_help="Check every deployment of a fleet file.")
@click.argument("fleet", envvar="GCCHECK_FLEET", metavar="FLEET.yaml",
                type=click.Path(dir_okay=False))
# GCCHECK_AUDIT_FORMAT first: html and prometheus are audit's only, and GCCHECK_FORMAT set to
# one of them would break `check` in the same environment.
@click.option("--format", "fmt", envvar=["GCCHECK_AUDIT_FORMAT", "GCCHECK_FORMAT"],
              default="table", show_default=True, type=_Choice(AUDIT_FORMATS))
@click.option("--concurrency", "-j", envvar="GCCHECK_CONCURRENCY", type=click.IntRange(1, 256),
              default=32, show_default=True, metavar="N",
              help="Deployments checked at once (each runs its bucket's calls concurrently).")
@click.option("--quiet", "-q", envvar="GCCHECK_QUIET", is_flag=True,
              help="No progress bar and no summary line on stderr.")
@_FAIL_ON
@_common_output
def audit(fleet: str, fmt: str, concurrency: int, quiet: bool, fail_on: str,
          matrix_path: str | None, output: str | None, timeout: float, strict: bool,
          warn_only: bool, debug: bool) -> int:
    """Check every deployment of a fleet file (docs/audit.md) concurrently.

    Exit codes: the worst deployment's, as for check: 0 all ready, 1 a requirement fails
    somewhere, 3 a requirement could not be verified, 2 bad usage or input (the fleet file is
    checked before anything is sent). --timeout bounds each deployment; a progress bar shows
    on stderr when it is a terminal.
    """
    from gccheck.commands import run_audit

    _one_exit_policy(warn_only, fail_on)
    state = _state()
    _setup_logging(state, debug)
    return run_audit(fleet, state.redactor, matrix_path=matrix_path, fmt=fmt, output=output,
                     timeout=timeout, concurrency=concurrency, strict=strict,
                     warn_only=warn_only, fail_on=fail_on, quiet=quiet)


@cli.command("matrix")
@click.option("--format", "fmt", envvar="GCCHECK_FORMAT", default="table", show_default=True,
              type=_Choice(["table", "json", "markdown"]))
@_MATRIX
def matrix_command(fmt: str, matrix_path: str | None) -> int:
    """Print the hosting matrix as W&B's documentation shows it."""
    from gccheck.commands import show_matrix

    return show_matrix(fmt, matrix_path, _state().redactor)


@cli.command(short_help="Explain a requirement or advisory (without ID: list them).")
@click.argument("check_id", metavar="[ID]", required=False)
@_MATRIX
def explain(check_id: str | None, matrix_path: str | None) -> int:
    """Explain a requirement or advisory: what, why, the fix per provider, the permissions
    gccheck needs. Without ID, list the ids."""
    from gccheck.commands import explain_check, list_checks

    if check_id is None:
        return list_checks(matrix_path, _state().redactor)
    return explain_check(check_id, matrix_path, _state().redactor)


@cli.command(short_help="Try gccheck on local S3, GCS and Azure servers.")
@click.option("--debug", envvar="GCCHECK_DEBUG", is_flag=True, help="Show debug logs.")
def demo(debug: bool) -> int:
    """Run gccheck against local S3 (and GCS, Azure) servers: no cloud account needed."""
    from gccheck.demo import run_demo

    state = _state()
    _setup_logging(state, debug)
    return run_demo(state.redactor)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _one_exit_policy(warn_only: bool, fail_on: str) -> None:
    """--warn-only is --fail-on never: both, disagreeing, would leave one silently ignored
    (a Helm hook's extraArgs against its failOn)."""
    source = click.get_current_context().get_parameter_source("fail_on")
    if warn_only and fail_on != "never" and source in (ParameterSource.COMMANDLINE,
                                                       ParameterSource.ENVIRONMENT):
        raise click.UsageError(f"--warn-only means --fail-on never, but --fail-on {fail_on} "
                               "was given too: keep one")


def _from_environment(exc: click.UsageError) -> str:
    """' (set by GCCHECK_X)' when the bad value came from a variable, not the command line."""
    param = getattr(exc, "param", None)
    if exc.ctx is None or param is None or param.name is None:
        return ""
    if exc.ctx.get_parameter_source(param.name) is not ParameterSource.ENVIRONMENT:
        return ""
    names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
    found = next((name for name in names if os.environ.get(name)), None)
    return f" (set by {found})" if found else ""


def main(argv: list[str] | None = None) -> None:
    """Entry point: turns every failure into one line on stderr and a documented exit code."""
    # A caller that imports gccheck (not the program itself) gets its own handler back.
    replaced = _catch_interrupts()
    try:
        code = _run(argv)
    finally:
        if replaced is not None:
            _signal.signal(_signal.SIGINT, replaced)
    if _PROGRAM:
        # The program ends here rather than in the interpreter's finalization, where a Ctrl-C
        # after a complete report would be "killed by SIGINT" (-2) instead of an exit code,
        # and where nothing of gccheck's is left to clean up.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe (| head)
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
    state = RunState(debug=os.environ.get("GCCHECK_DEBUG", "").lower() in ("1", "true", "yes"))
    args = sys.argv[1:] if argv is None else argv
    state.debug = state.debug or "--debug" in args
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that is not UTF-8 (PYTHONIOENCODING=ascii, LANG=C on old
        # systems): '·' and the status marks become '?' rather than an internal error.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    # An SDK's warning can quote a server's answer (escapes, echoed keys): masked and
    # neutralised like everything else gccheck prints.
    restore_warnings = route_warnings(state.redactor)
    try:
        return _dispatch(state, args)
    finally:
        restore_warnings()


def _dispatch(state: RunState, args: list[str]) -> int:
    try:
        code = cli.main(args=args, prog_name="gccheck", standalone_mode=False, obj=state)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        code = EXIT_INPUT
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "gccheck"
        message = state.redactor.redact(_one_line(exc.format_message()) + _from_environment(exc))
        _error(f"gccheck: error: {message} (see '{command} --help')")
        code = EXIT_INPUT
    except InputError as exc:
        _error(f"gccheck: error: {state.redactor.redact(str(exc))}")
        code = EXIT_INPUT
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("gccheck: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except click.ClickException as exc:
        _error(f"gccheck: error: {state.redactor.redact(_one_line(exc.format_message()))}")
        code = EXIT_INPUT
    except BrokenPipeError:
        # stdout closed early (| head): not an error worth a traceback.
        sys.stderr.close()
        code = 0
    except Exception as exc:
        if state.debug:
            import traceback

            from gccheck.debuglog import shown

            # A traceback quotes what a server or a file said: the debug records' treatment.
            _error(shown(traceback.format_exc(), state.redactor))
        click.echo(f"gccheck: internal error ({type(exc).__name__}); this is a bug, run with "
                   "--debug for details", err=True)
        code = EXIT_INTERNAL
    return code if isinstance(code, int) else 0


def _error(text: str) -> None:
    """One message on stderr. A file or variable name with bytes that are not UTF-8 (read with
    surrogateescape) is shown escaped (`\\udcff`), not as the '?' of stderr's errors=replace,
    so that the user can tell which name it is."""
    from gccheck.output import printable

    click.echo(printable(text), err=True)
