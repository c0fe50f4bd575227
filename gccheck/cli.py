"""Command line: options in, exit code out. No logic of its own."""

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
        # On a terminal, erase the progress bar's line first.
        os.write(2, (b"\r\x1b[K" if os.isatty(2) else b"") + b"gccheck: interrupted\n")
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
from typing import Any

import click
from click.core import ParameterSource

from gccheck import __version__
from gccheck.debuglog import route_warnings
from gccheck.errors import InputError
from gccheck.formats import AUDIT_FORMATS, CHECK_FORMATS
from gccheck.masking import Redactor
from gccheck.model import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED

HOSTING_HELP = ("shared-cloud, shared-cloud-ssc, dedicated-cloud, dedicated-cloud-ssc, "
                "customer-managed-cloud or on-prem (types in matrix.yaml)")


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


class _Seconds(click.FloatRange):
    """0.1 to 600 seconds; FloatRange alone lets NaN through (every comparison with it is
    false)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if seconds != seconds:
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return seconds


_TIMEOUT = _Seconds(min=0.1, max=600)


def _printable_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # Escapes and newlines would reach the terminal, and break JUnit's XML, as they are.
    if not value.strip() or not value.isprintable():
        raise click.BadParameter("must be one line of printable characters", ctx, param)
    return value.strip()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gccheck")
def cli() -> None:
    """Check that W&B Server's artifact garbage collection will work on a deployment.

    Reads the deployment's settings and its bucket's live configuration, judges them against
    W&B's hosting matrix (matrix.yaml) and says what to fix.
    """


def _common_output(fn: Any) -> Any:
    for option in reversed([
        click.option("--matrix", "matrix_path", envvar="GCCHECK_MATRIX", metavar="PATH",
                     type=click.Path(dir_okay=False), help="Use another matrix.yaml."),
        click.option("--output", "-o", envvar="GCCHECK_OUTPUT", metavar="FILE",
                     help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--timeout", envvar="GCCHECK_TIMEOUT", type=_TIMEOUT, default=10.0,
                     show_default=True, metavar="SECONDS",
                     help="Connect/read timeout of each request, and the longest wait for "
                          "one bucket."),
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


@cli.command()
@click.option("--hosting", envvar="GCCHECK_HOSTING", required=True, metavar="TYPE",
              help=f"Hosting type: {HOSTING_HELP}.")
@click.option("--bucket", envvar="GCCHECK_BUCKET", metavar="URL",
              help="W&B bucket URL (default: BUCKET from the settings source).")
@click.option("--env-file", envvar="GCCHECK_ENV_FILE", metavar="PATH",
              help="Read settings from a dotenv file instead of the process environment.")
@click.option("--values", "-f", "values", envvar="GCCHECK_VALUES", multiple=True,
              metavar="FILE", help="W&B Helm values file or WeightsAndBiases resource "
                                   "(repeatable, merged in order like helm -f).")
@click.option("--workload", envvar="GCCHECK_WORKLOAD", metavar="[NS/]KIND/NAME[:CONTAINER]",
              help="Read settings from a live Deployment/StatefulSet ('auto' finds W&B's).")
@click.option("--kubeconfig", envvar="GCCHECK_KUBECONFIG", metavar="PATH",
              help="Kubeconfig for --workload (default: KUBECONFIG, ~/.kube/config, "
                   "in-cluster).")
@click.option("--context", "kube_context", envvar="GCCHECK_CONTEXT", metavar="NAME",
              help="Kubeconfig context for --workload.")
@click.option("--endpoint-url", envvar="GCCHECK_ENDPOINT_URL", metavar="URL",
              help="S3 endpoint (MinIO, ...); also settles how s3://AK:SK@x/y is read.")
@click.option("--aws-profile", envvar="GCCHECK_AWS_PROFILE", metavar="NAME",
              help="AWS profile for S3 buckets without keys in the URL.")
@click.option("--azure-subscription", envvar=["GCCHECK_AZURE_SUBSCRIPTION",
                                               "AZURE_SUBSCRIPTION_ID"], metavar="ID",
              help="Azure subscription: enables the management-plane check.")
@click.option("--azure-resource-group", envvar="GCCHECK_AZURE_RESOURCE_GROUP", metavar="NAME",
              help="Resource group of the storage account (skips the search).")
@click.option("--azure-plane", envvar="GCCHECK_AZURE_PLANE", type=click.Choice(["mgmt", "data"]),
              help="Force the Azure management or data plane (default: choose).")
@click.option("--azure-blob-endpoint", envvar="GCCHECK_AZURE_BLOB_ENDPOINT", metavar="URL",
              help="Blob endpoint (sovereign clouds, Azurite).")
@click.option("--azure-arm-endpoint", envvar="GCCHECK_AZURE_ARM_ENDPOINT", metavar="URL",
              help="Azure Resource Manager endpoint (sovereign clouds).")
@click.option("--name", envvar="GCCHECK_NAME", default="wandb", show_default=True,
              callback=_printable_name,
              help="Name of the deployment in the report.")
@click.option("--format", "fmt", envvar="GCCHECK_FORMAT", default="table", show_default=True,
              type=click.Choice(CHECK_FORMATS))
@click.option("--fail-on", envvar="GCCHECK_FAIL_ON", default="unknown", show_default=True,
              type=click.Choice(["fail", "unknown", "never"]),
              help="What makes the exit code non-zero: 'unknown' (1 for a failure, 3 for an "
                   "unverified requirement), 'fail' (only failures), 'never' (= --warn-only).")
@click.option("--termination-message", envvar="GCCHECK_TERMINATION_MESSAGE", metavar="PATH",
              help="Also write the one-line verdict to PATH (a Kubernetes termination "
                   "message file, e.g. /dev/termination-log).")
@_common_output
def check(hosting: str, bucket: str | None, env_file: str | None, values: tuple[str, ...],
          workload: str | None, kubeconfig: str | None, kube_context: str | None,
          endpoint_url: str | None, aws_profile: str | None, azure_subscription: str | None,
          azure_resource_group: str | None, azure_plane: str | None,
          azure_blob_endpoint: str | None, azure_arm_endpoint: str | None, name: str,
          fmt: str, fail_on: str, termination_message: str | None, matrix_path: str | None,
          output: str | None, timeout: float, strict: bool, warn_only: bool,
          debug: bool) -> int:
    """Check one deployment against the hosting matrix.

    \b
    Exit codes: 0 ready, 1 a requirement fails, 3 a requirement could not be verified,
    2 bad usage or input. --warn-only turns 1 and 3 into 0.
    """
    from gccheck.commands import run_check
    from gccheck.target import TargetSpec

    given = [flag for flag, value in (("--env-file", env_file), ("--values", values),
                                      ("--workload", workload)) if value]
    if len(given) > 1:
        raise click.UsageError(f"give only one of --env-file, --values, --workload "
                               f"(got {', '.join(given)})")
    _one_exit_policy(warn_only, fail_on)
    state = _state()
    _setup_logging(state, debug)
    spec = TargetSpec(
        name=name, hosting=hosting, bucket=bucket, env_file=env_file, values=values,
        workload=workload, kubeconfig=kubeconfig, context=kube_context,
        endpoint_url=endpoint_url, aws_profile=aws_profile,
        azure_subscription=azure_subscription, azure_resource_group=azure_resource_group,
        azure_plane=azure_plane, azure_blob_endpoint=azure_blob_endpoint,
        azure_arm_endpoint=azure_arm_endpoint, timeout=timeout)
    return run_check(spec, state.redactor, matrix_path=matrix_path, fmt=fmt, output=output,
                     strict=strict, warn_only=warn_only or fail_on == "never",
                     ignore_unknown=fail_on == "fail", termination_message=termination_message)


@cli.command()
@click.argument("fleet", envvar="GCCHECK_FLEET", metavar="FLEET.yaml",
                type=click.Path(dir_okay=False))
# GCCHECK_AUDIT_FORMAT first: html and prometheus are audit's only, and GCCHECK_FORMAT set to
# one of them would break `check` in the same environment.
@click.option("--format", "fmt", envvar=["GCCHECK_AUDIT_FORMAT", "GCCHECK_FORMAT"],
              default="table", show_default=True, type=click.Choice(AUDIT_FORMATS))
@click.option("--concurrency", "-j", envvar="GCCHECK_CONCURRENCY", type=click.IntRange(1, 256),
              default=32, show_default=True, metavar="N",
              help="Deployments checked at once (each runs its bucket's calls concurrently).")
@click.option("--quiet", "-q", envvar="GCCHECK_QUIET", is_flag=True,
              help="No progress bar and no summary line on stderr.")
@click.option("--fail-on", envvar="GCCHECK_FAIL_ON", default="unknown", show_default=True,
              type=click.Choice(["fail", "unknown", "never"]),
              help="What makes the exit code non-zero: 'unknown' (1 for a failure, 3 for an "
                   "unverified requirement), 'fail' (only failures), 'never' (= --warn-only).")
@_common_output
def audit(fleet: str, fmt: str, concurrency: int, quiet: bool, fail_on: str,
          matrix_path: str | None, output: str | None, timeout: float, strict: bool,
          warn_only: bool, debug: bool) -> int:
    """Check every deployment of a fleet file (docs/audit.md) concurrently.

    \b
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
                     warn_only=warn_only or fail_on == "never",
                     ignore_unknown=fail_on == "fail", quiet=quiet)


@cli.command("matrix")
@click.option("--format", "fmt", envvar="GCCHECK_FORMAT", default="table", show_default=True,
              type=click.Choice(["table", "json", "markdown"]))
@click.option("--matrix", "matrix_path", envvar="GCCHECK_MATRIX", metavar="PATH",
              type=click.Path(dir_okay=False), help="Use another matrix.yaml.")
def matrix_command(fmt: str, matrix_path: str | None) -> int:
    """Print the hosting matrix as W&B's documentation shows it."""
    from gccheck.commands import show_matrix

    return show_matrix(fmt, matrix_path, _state().redactor)


@cli.command()
@click.argument("check_id", metavar="ID")
@click.option("--matrix", "matrix_path", envvar="GCCHECK_MATRIX", metavar="PATH",
              type=click.Path(dir_okay=False), help="Use another matrix.yaml.")
def explain(check_id: str, matrix_path: str | None) -> int:
    """Explain a requirement or advisory: what, why, the fix per provider, permissions."""
    from gccheck.commands import explain_check

    return explain_check(check_id, matrix_path, _state().redactor)


@cli.command()
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
        click.echo(f"gccheck: error: {message} (see '{command} --help')", err=True)
        code = EXIT_INPUT
    except InputError as exc:
        click.echo(f"gccheck: error: {state.redactor.redact(str(exc))}", err=True)
        code = EXIT_INPUT
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("gccheck: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except click.ClickException as exc:
        click.echo(f"gccheck: error: {state.redactor.redact(_one_line(exc.format_message()))}",
                   err=True)
        code = EXIT_INPUT
    except BrokenPipeError:
        # stdout closed early (| head): not an error worth a traceback.
        sys.stderr.close()
        code = 0
    except Exception as exc:
        if state.debug:
            import traceback

            click.echo(state.redactor.redact(traceback.format_exc()), err=True)
        click.echo(f"gccheck: internal error ({type(exc).__name__}); this is a bug, run with "
                   "--debug for details", err=True)
        code = EXIT_INTERNAL
    return code if isinstance(code, int) else 0
