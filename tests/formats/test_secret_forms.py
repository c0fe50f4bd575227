"""Every form in which gccheck itself writes a secret is redacted (issue 15, item 4).

gccheck shows values quoted with repr() (quotes and backslashes escaped), neutralised, and
then each format escapes them again (JSON, HTML, XML, Markdown, URL-encoding). The redactor
must know each of these forms, and the keys of the bucket URL whatever their length: a hostile
server may echo a 3-character MinIO access key back into an error message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.faults import scripted_server

from gccheck.formats import get_format
from gccheck.masking import MASK, Redactor
from gccheck.model import Kind, Report, Result, Status, TargetReport

FORMATS = ("table", "json", "markdown", "junit", "html", "prometheus")
# Quotes and a backslash: repr() escapes them, and so do JSON, HTML and XML, differently.
# Every written form holds the fragment below; base64 (not written) is checked apart.
QUOTED_SECRET = "Kq'7\"z\\Yrd99secret"
FRAGMENT = "Yrd99"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_secret_expanded_into_a_shown_value_is_hidden_in_every_format(
        tmp_path: Path, gccheck_inproc: Any, fmt: str) -> None:
    # The GC variable names the secret; the kubelet's $(VAR) expansion makes it the shown value.
    values = tmp_path / "values.yaml"
    yaml_secret = QUOTED_SECRET.replace("'", "''")
    values.write_text("global:\n  extraEnv:\n"
                      f"    AWS_SECRET_ACCESS_KEY: '{yaml_secret}'\n"
                      '    GORILLA_ARTIFACT_GC_ENABLED: "$(AWS_SECRET_ACCESS_KEY)"\n')
    if fmt in ("html", "prometheus"):  # audit's formats
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(json.dumps({"deployments": [
            {"name": "wandb", "hosting": "on-prem", "values": str(values)}]}))
        run = gccheck_inproc("audit", str(fleet), "--format", fmt)
    else:
        run = gccheck_inproc("check", "--hosting", "on-prem", "--values", str(values),
                             "--format", fmt)
    assert run.code == 1, run.err
    assert FRAGMENT not in run.out + run.err
    assert fmt == "prometheus" or "GORILLA_ARTIFACT_GC_ENABLED" in run.out
    if fmt == "table":
        assert "GORILLA_ARTIFACT_GC_ENABLED is '***'" in run.out


@pytest.mark.parametrize("fmt", ("table", "json", "junit"))
def test_an_env_value_with_backslashes_is_hidden_escaped(
        tmp_path: Path, gccheck_inproc: Any, fmt: str) -> None:
    # repr() doubles the backslashes: 'C:\\\\dir\\\\Yrd99' was printed as it is.
    env = tmp_path / "wandb.env"
    env.write_text("AWS_SECRET_ACCESS_KEY=C:\\dir\\Yrd99key\n"
                   "GORILLA_ARTIFACT_GC_ENABLED=C:\\dir\\Yrd99key\n")
    run = gccheck_inproc("check", "--hosting", "on-prem", "--env-file", str(env),
                         "--format", fmt)
    assert run.code == 1, run.err
    assert FRAGMENT not in run.out + run.err


SHORT_KEY = "mk3"  # a MinIO access key can be this short


def _echoing_report(echo: str) -> Report:
    """A report whose reason quotes what a hostile server sent back."""
    result = Result("bucket-versioning", Kind.REQUIREMENT, Status.UNKNOWN,
                    f"the server answered: {echo}", detail=echo)
    return Report((TargetReport("wandb", "on-prem", "s3-compatible", "s3://***:***@h/b",
                                (result,)),), "test")


@pytest.mark.parametrize("fmt", FORMATS)
def test_keys_learnt_from_the_bucket_url_are_hidden_whatever_their_length(fmt: str) -> None:
    redactor = Redactor()
    redactor.add_settings({"BUCKET": f"s3://{SHORT_KEY}:{QUOTED_SECRET}@127.0.0.1:9000/b"})
    echo = (f"<Message>The access key {SHORT_KEY} with secret {QUOTED_SECRET!r} "
            f"({QUOTED_SECRET}) is unknown</Message>")
    text = redactor.redact(get_format(fmt).render(_echoing_report(echo)))
    assert FRAGMENT not in text and SHORT_KEY not in text
    assert fmt == "prometheus" or f"key {MASK}" in text  # metrics carry no reasons


def test_short_keys_are_hidden_only_where_they_stand_alone() -> None:
    redactor = Redactor()
    redactor.add_settings({"BUCKET": f"s3://{SHORT_KEY}:pw@host:9000/b", "MY_TOKEN": "t0k"})
    assert redactor.redact(f"key {SHORT_KEY}, token t0k; bucket {SHORT_KEY}x-t0k2") == \
        f"key {MASK}, token {MASK}; bucket {SHORT_KEY}x-t0k2"
    # Flag words stay readable, however the value was learnt.
    redactor.add_settings({"BUCKET": "s3://true:no@host:9000/b"})
    assert redactor.redact("versioning true, lock no") == "versioning true, lock no"


@pytest.mark.parametrize("shown", [repr(QUOTED_SECRET), repr("C:\\dir\\Yrd99key")])
def test_the_repr_form_is_known_to_the_redactor(shown: str) -> None:
    redactor = Redactor([QUOTED_SECRET, "C:\\dir\\Yrd99key"])
    assert FRAGMENT not in redactor.redact(f"value is {shown}")


def _echo_keys(method: str, path: str, headers: dict[str, str]
               ) -> tuple[int, dict[str, str], bytes]:
    """An S3 endpoint that sends the caller's Authorization header back in its error."""
    if method != "GET":
        return 501, {}, b""
    auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
    # 'AWS4-HMAC-SHA256 Credential=mk3/20260101/...': the key id on its own, as well.
    key = auth.partition("Credential=")[2].partition("/")[0]
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{key}</Code>'
            f"<Message>key {key} denied ({auth})</Message></Error>").encode()
    return 403, {"Content-Type": "application/xml"}, body


@pytest.mark.parametrize("fmt", ("table", "json", "markdown", "junit"))
def test_a_short_key_echoed_by_a_hostile_server_is_hidden(gccheck_inproc: Any,
                                                          fmt: str) -> None:
    with scripted_server(_echo_keys) as server:
        port = server.server_address[1]
        run = gccheck_inproc("check", "--hosting", "on-prem", "--timeout", "5", "--bucket",
                             f"s3://{SHORT_KEY}:{QUOTED_SECRET}@127.0.0.1:{port}/wandb",
                             "--format", fmt, "--debug",
                             env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert run.code == 3, run.out + run.err  # unverified: the server answered with an error
    assert SHORT_KEY not in run.out + run.err and FRAGMENT not in run.out + run.err


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_is_redacted_before_any_format_escapes_it(fmt: str) -> None:
    """The CLI hands formats `report.redacted(...)`: a format's escaping cannot turn a secret
    into a form the redactor does not know, whatever characters the secret holds."""
    odd = "k#*_`[x]|<Yrd99>&amp;\\"
    redactor = Redactor([odd])
    report = _echoing_report(f"denied for {odd} and '{odd}'").redacted(redactor.redact)
    text = get_format(fmt).render(report)
    assert "Yrd99" not in text
    assert fmt == "prometheus" or MASK in text
