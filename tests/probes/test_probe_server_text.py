"""Text a server sends is neutralised where a probe first reads it (issue 15, item 2).

A hostile endpoint puts terminal escapes (ESC]0;...BEL retitles a terminal, ESC[2J clears it),
NUL, and 200 KB of text into the fields a report shows: S3's error <Code>, Azure's
x-ms-error-code header, GCS lifecycle conditions. The facts must hold them escaped and cut.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from support.cloud_servers import account_key
from support.faults import scripted_server

from gccheck.bucket_url import parse_bucket_url
from gccheck.model import BucketFacts, Setting, Settings, Unavailable
from gccheck.neutral import is_safe
from gccheck.probes.interface import ProbeOptions

TITLE, CLEAR = "\x1b]0;pwned\x07", "\x1b[2J"
HOSTILE = f"{TITLE}{CLEAR}\x00Denied"
LONG = "A" * 200_000
KEY = account_key("server-text")


def _texts(facts: BucketFacts) -> list[str]:
    """Every text in the facts a format could show."""
    texts = [*facts.notes, facts.missing_reason]
    for fact in (facts.versioning, facts.blob_soft_delete, facts.lifecycle,
                 facts.delete_protection):
        if isinstance(fact, Unavailable):
            texts.append(fact.reason)
        elif isinstance(fact, tuple):
            texts += [text for rule in fact for text in (rule.id, rule.description)]
        elif fact is not None and hasattr(fact, "description"):
            texts.append(fact.description)
    return texts


def _assert_safe(facts: BucketFacts) -> None:
    for text in _texts(facts):
        assert is_safe(text), text
        assert len(text) < 2000, len(text)


def test_s3_a_long_error_code_is_cut() -> None:
    from gccheck.probes.s3 import Probe

    body = f"<Error><Code>{LONG}</Code><Message>{LONG}</Message></Error>".encode()
    with scripted_server(lambda *_: (400, {"Content-Type": "application/xml"}, body)) as server:
        facts = Probe().probe(parse_bucket_url(f"s3://AK:SK@{server.url[7:]}/wandb"),
                              Settings("test"), ProbeOptions(timeout=5))
    assert isinstance(facts.versioning, Unavailable)
    assert "AAAA" in facts.versioning.reason  # the code is shown, cut
    _assert_safe(facts)


def test_s3_escapes_in_a_lifecycle_rule_are_shown_escaped() -> None:
    from gccheck.probes.s3 import Probe

    # XML 1.0 cannot carry ESC or NUL; what it can carry (bidirectional overrides that
    # reorder what a terminal shows, and length) must still come out safe.
    rule_id = "\u202eevil" + "B" * 5000

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        if "lifecycle" in path:
            return 200, {"Content-Type": "application/xml"}, (
                f"<LifecycleConfiguration><Rule><ID>{rule_id}</ID><Status>Enabled</Status>"
                f"<Filter><Prefix>\u202ex</Prefix></Filter><Expiration><Days>3</Days>"
                f"</Expiration></Rule></LifecycleConfiguration>").encode()
        return 200, {"Content-Type": "application/xml"}, (
            b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")

    with scripted_server(script) as server:
        facts = Probe().probe(parse_bucket_url(f"s3://AK:SK@{server.url[7:]}/wandb"),
                              Settings("test"), ProbeOptions(timeout=5))
    assert isinstance(facts.lifecycle, tuple) and facts.lifecycle, facts.lifecycle
    assert facts.lifecycle[0].id.startswith("\\u202eevil")
    _assert_safe(facts)


def test_gcs_a_hostile_lifecycle_condition_is_escaped() -> None:
    from gccheck.probes.gcs import Probe

    body = json.dumps({"kind": "storage#bucket", "name": "wandb",
                       "versioning": {"enabled": True},
                       "lifecycle": {"rule": [{"action": {"type": "Delete"},
                                               "condition": {"age": 1, "matchesPrefix":
                                                             [HOSTILE, LONG]}}]}}).encode()
    with scripted_server(lambda *_: (200, {"Content-Type": "application/json"}, body)) as server:
        settings = Settings("test", {"STORAGE_EMULATOR_HOST": Setting(
            "STORAGE_EMULATOR_HOST", server.url, "test")})
        facts = Probe().probe(parse_bucket_url("gs://wandb"), settings, ProbeOptions(timeout=5))
    assert isinstance(facts.lifecycle, tuple) and facts.lifecycle, facts.lifecycle
    assert "\\x1b]0;pwned\\x07" in facts.lifecycle[0].description
    _assert_safe(facts)


def test_azure_a_hostile_error_code_header_is_escaped() -> None:
    from gccheck.probes.azure import Probe

    header = f"{TITLE}{CLEAR}Denied{'C' * 3000}"

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        return 403, {"x-ms-error-code": header, "x-ms-request-id": "1",
                     "Content-Type": "application/xml"}, b""

    with scripted_server(script) as server:
        facts = Probe().probe(parse_bucket_url(f"az://:{quote(KEY, safe='')}@acct/wandb"),
                              Settings("test"),
                              ProbeOptions(timeout=5, azure_blob_endpoint=server.url))
    assert isinstance(facts.blob_soft_delete, Unavailable)
    assert "\\x1b]0;pwned\\x07" in facts.blob_soft_delete.reason
    _assert_safe(facts)


def test_through_the_cli_no_escape_reaches_the_terminal() -> None:
    from support.run import run_gccheck

    def script(method: str, path: str, _: dict[str, str]) -> Any:
        return 403, {"x-ms-error-code": HOSTILE.replace("\x00", ""), "x-ms-request-id": "1"}, b""

    with scripted_server(script) as server:
        run = run_gccheck("check", "--hosting", "on-prem", "--timeout", "5",
                          "--bucket", f"az://:{quote(KEY, safe='')}@acct/wandb",
                          "--azure-blob-endpoint", server.url,
                          env={"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert "\x1b" not in run.out + run.err
    assert "pwned" in run.out, run.out
