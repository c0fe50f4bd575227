"""No GCS or Azure secret leaves gccheck: not on stdout, stderr, --output or the termination
message, in any format, with --debug on, on the happy path and on every error path.

Planted secrets: a real RSA service account key (in gs:// URLs, an env file's BUCKET, and a
GOOGLE_APPLICATION_CREDENTIALS key file), Azure account keys (in az:// URLs, AZURE_STORAGE_KEY,
connection strings), a SAS token (in a connection string) and an ARM access token. Error paths:
a key the server rejects, a key that cannot be read, an unreachable endpoint (with the SAS in
the request URL, where connection errors quote it), a token endpoint that cannot be reached, a
rejected access token, and malformed URLs (input error, exit 2). Each secret is looked for
raw, URL-encoded and base64-encoded, and the PEM key also line by line.

The runs happen concurrently (a few at a time) when the module starts; each is its own test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from support.cloud_servers import (
    ArmAccount,
    account_key,
    arm_server,
    azurite,
    fake_azure_cli,
    gcs_emulator,
    json_server,
)
from support.constants import GC_ON
from support.ports import closed_port
from support.run import run_gccheck

FORMATS = ("table", "json", "markdown", "junit")
WORKERS = 3
EMAIL = "wandb-gc@example-project.iam.gserviceaccount.com"
ACCOUNT = "gcsecrets"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
# What Azurite knows as the account's key: every key planted below is another one.
REAL_KEY = account_key("the-real-one")
PLANTED_KEY = account_key("Planted+Secret/Key")
ARM_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.plantedArmToken.c2VjcmV0c2lnbmF0dXJl"


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


PEM = _pem()
PEM_LINES = [line for line in PEM.splitlines() if line and "-----" not in line]


def forms(secret: str) -> set[str]:
    """The secret as it could be printed: raw, URL-encoded, base64-encoded."""
    raw = secret.encode()
    found = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret),
             base64.b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("="),
             base64.urlsafe_b64encode(raw).decode()}
    return {f for f in found if len(f) >= 8}


@dataclass(frozen=True)
class Scenario:
    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    secrets: tuple[str, ...]  # each is looked for in all its forms()
    code: int  # 3: unknown (the error path ended as a fact); 1: a failure; 2: input error
    pieces: tuple[str, ...] = ()  # looked for as they are (PEM body lines)
    expect: str = ""  # a word the report must contain, so the run is not vacuous

    @property
    def needs_azurite(self) -> bool:
        return self.expect == "rejected the account key"


def _token_endpoint_refusing(method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """Google's token endpoint answering a signed assertion from an unknown key."""
    return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}


def build(tmp: Path, gcs_url: str, blob_url: str, token_url: str, arm_url: str,
          arm_ca: str) -> dict[str, Scenario]:
    pem_q = quote(PEM, safe="")
    dead = f"http://127.0.0.1:{closed_port()}"
    # Token requests for a key in the URL go to Google: send them to a closed port instead,
    # so that nothing leaves this machine (and the token endpoint is unreachable).
    no_egress = {"HTTPS_PROXY": dead, "https_proxy": dead, "NO_PROXY": "127.0.0.1",
                 "no_proxy": "127.0.0.1"}
    key_file = tmp / "service-account.json"
    key_file.write_text(json.dumps({
        "type": "service_account", "project_id": "example-project", "private_key_id": "0" * 40,
        "private_key": PEM, "client_email": EMAIL, "client_id": "1" * 21,
        "token_uri": f"{token_url}/token"}))
    env_url_key = tmp / "gcs-url.env"
    env_url_key.write_text(f"BUCKET=gs://{quote(EMAIL, safe='')}:{pem_q}@wandb-secrets\n"
                           "GORILLA_ARTIFACT_GC_ENABLED=true\n")
    env_key_file = tmp / "gcs-keyfile.env"
    env_key_file.write_text(f"BUCKET=gs://wandb-secrets\nGOOGLE_APPLICATION_CREDENTIALS={key_file}\n"
                            "GORILLA_ARTIFACT_GC_ENABLED=true\n")
    connection = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                  f"AccountKey={PLANTED_KEY};BlobEndpoint={blob_url}/{ACCOUNT};")
    sas_sig = "c2FzLXNpZ25hdHVyZS1wbGFudGVkLWhlcmU+/="
    sas = f"sv=2022-11-02&ss=b&srt=sc&sp=r&se=2099-01-01T00:00:00Z&sig={quote(sas_sig, safe='')}"
    env_key = tmp / "azure-key.env"
    env_key.write_text(f"BUCKET=az://{ACCOUNT}/wandb\nAZURE_STORAGE_KEY={PLANTED_KEY}\n"
                       "GORILLA_ARTIFACT_GC_ENABLED=true\n")
    env_conn = tmp / "azure-conn.env"
    env_conn.write_text(f"BUCKET=az://{ACCOUNT}/wandb\nGORILLA_ARTIFACT_GC_ENABLED=true\n"
                        f'AZURE_STORAGE_CONNECTION_STRING="{connection}"\n')
    az_url = f"az://:{quote(PLANTED_KEY, safe='')}@{ACCOUNT}/wandb"
    # Secrets already encoded, where gccheck reads and reports values: a near-miss name of
    # the GC variable, and the GC variable itself (a paste gone wrong).
    env_encoded = tmp / "encoded.env"
    env_encoded.write_text(
        f"BUCKET={az_url}\n"
        f"GORILLA_ARTIFACTS_GC_ENABLED={base64.b64encode(PLANTED_KEY.encode()).decode()}\n"
        f"GORILLA_ARTIFACT_GC_ENABLED={quote(connection, safe='')}\n"
        f"GORILLA_GLUE_ARTIFACT_GC_ENABLED={base64.b64encode(PEM.encode()).decode()}\n")
    gs_url = f"gs://{quote(EMAIL, safe='')}:{pem_q}@wandb-secrets"
    common = ("--hosting", "on-prem", "--timeout", "3")
    pem_secret = (PEM, PEM.strip())
    scenarios = [
        # GCS: a readable key whose token endpoint cannot be reached.
        Scenario("gcs-url-key-token-unreachable", (*common, "--bucket", gs_url),
                 {**GC_ON, **no_egress, "STORAGE_EMULATOR_HOST": gcs_url}, pem_secret, 3,
                 tuple(PEM_LINES), "token"),
        # GCS: a key that is not a key (cannot be read), raw PEM markers URL-encoded.
        Scenario("gcs-url-key-unreadable",
                 (*common, "--bucket", f"gs://{quote(EMAIL, safe='')}:"
                  f"{quote(PEM[:400], safe='')}@wandb-secrets"),
                 {**GC_ON, **no_egress, "STORAGE_EMULATOR_HOST": gcs_url}, (PEM[:400],), 3,
                 tuple(PEM_LINES[:4]), "could not be read"),
        # GCS: the key in an env file's BUCKET, the endpoint unreachable.
        Scenario("gcs-env-file-url-key", (*common, "--env-file", str(env_url_key)),
                 {**no_egress, "STORAGE_EMULATOR_HOST": dead}, pem_secret, 3,
                 tuple(PEM_LINES), "@wandb-secrets"),  # only from the env file's BUCKET
        # GCS: a key file named by the env file; the (local) token endpoint rejects it.
        Scenario("gcs-key-file-rejected", (*common, "--env-file", str(env_key_file)),
                 dict(no_egress), pem_secret, 3, tuple(PEM_LINES), "token"),
        # GCS: malformed URLs with the key in them.
        Scenario("gcs-malformed-url", (*common, "--bucket", gs_url.replace("@wandb-secrets", "@")),
                 dict(GC_ON), pem_secret, 2, tuple(PEM_LINES), "invalid bucket URL"),
        Scenario("gcs-wrong-scheme", (*common, "--bucket", gs_url.replace("gs://", "gcs://")),
                 dict(GC_ON), pem_secret, 2, tuple(PEM_LINES), "invalid bucket URL"),
        # Azure data plane: keys the storage account rejects.
        Scenario("azure-url-key-rejected",
                 (*common, "--bucket", az_url, "--azure-blob-endpoint", blob_url),
                 dict(GC_ON), (PLANTED_KEY,), 3, (), "rejected the account key"),
        Scenario("azure-env-file-key-rejected",
                 (*common, "--env-file", str(env_key), "--azure-blob-endpoint", blob_url),
                 {}, (PLANTED_KEY,), 3, (), "rejected the account key"),
        Scenario("azure-env-file-connection-string", (*common, "--env-file", str(env_conn)),
                 {}, (PLANTED_KEY, connection), 3, (), "rejected the account key"),
        Scenario("azure-process-env-connection-string",
                 (*common, "--bucket", f"az://{ACCOUNT}/wandb"),
                 {**GC_ON, "AZURE_STORAGE_CONNECTION_STRING": connection},
                 (PLANTED_KEY, connection), 3, (), "rejected the account key"),
        # Azure: a SAS in the request URL, the endpoint unreachable (errors quote URLs).
        Scenario("azure-sas-unreachable", (*common, "--bucket", f"az://{ACCOUNT}/wandb"),
                 {**GC_ON, "AZURE_STORAGE_CONNECTION_STRING":
                  f"BlobEndpoint={dead}/{ACCOUNT};SharedAccessSignature={sas}"},
                 (sas, sas_sig, quote(sas_sig, safe="")), 3, (), "could not connect"),
        Scenario("azure-url-key-unreachable",
                 (*common, "--bucket", az_url, "--azure-blob-endpoint", dead),
                 dict(GC_ON), (PLANTED_KEY,), 3, (), "could not connect"),
        # Secrets pre-encoded in values gccheck judges and names.
        Scenario("azure-encoded-values", (*common, "--env-file", str(env_encoded),
                                          "--azure-blob-endpoint", dead),
                 {}, (PLANTED_KEY, connection, PEM), 1, tuple(PEM_LINES), "not shown"),
        # Azure: malformed URLs with the key in them.
        Scenario("azure-malformed-url", (*common, "--bucket", az_url.replace("/wandb", "")),
                 dict(GC_ON), (PLANTED_KEY,), 2, (), "invalid bucket URL"),
        Scenario("azure-wrong-scheme", (*common, "--bucket", az_url.replace("az://", "azure://")),
                 dict(GC_ON), (PLANTED_KEY,), 2, (), "invalid bucket URL"),
        # Azure management plane: an access token ARM rejects.
        Scenario("azure-mgmt-token-rejected",
                 (*common, "--bucket", f"az://{ACCOUNT}/wandb", "--azure-plane", "mgmt",
                  "--azure-subscription", SUBSCRIPTION, "--azure-arm-endpoint", arm_url),
                 {**GC_ON, **fake_azure_cli(tmp / "az", token=ARM_TOKEN),
                  "REQUESTS_CA_BUNDLE": arm_ca}, (ARM_TOKEN,), 3, (), "access token"),
    ]
    return {s.name: s for s in scenarios}


NAMES = ["gcs-url-key-token-unreachable", "gcs-url-key-unreadable", "gcs-env-file-url-key",
         "gcs-key-file-rejected", "gcs-malformed-url", "gcs-wrong-scheme",
         "azure-url-key-rejected", "azure-env-file-key-rejected",
         "azure-env-file-connection-string", "azure-process-env-connection-string",
         "azure-sas-unreachable", "azure-url-key-unreachable", "azure-encoded-values",
         "azure-malformed-url",
         "azure-wrong-scheme", "azure-mgmt-token-rejected"]
CASES = [f"{name}/{fmt}" for name in NAMES for fmt in FORMATS]


@dataclass(frozen=True)
class Written:
    code: int
    texts: dict[str, str]  # where -> what was written there
    scenario: Scenario
    skipped: str = ""  # why this case could not run here


def run_case(case: str, scenarios: dict[str, Scenario], tmp: Path,
             no_azurite: str = "") -> Written:
    name, fmt = case.split("/")
    scenario = scenarios[name]
    if scenario.needs_azurite and no_azurite:
        return Written(0, {}, scenario, no_azurite)
    where = tmp / case.replace("/", "-")
    where.mkdir(parents=True, exist_ok=True)
    # Every format goes to stdout in some scenarios and to --output in the others.
    to_file = (NAMES.index(name) + FORMATS.index(fmt)) % 2 == 1
    output, termination = where / f"report.{fmt}", where / "termination-log"
    args = [*scenario.args, "--format", fmt, "--debug", "--termination-message", str(termination)]
    if to_file:
        args += ["--output", str(output)]
    run = run_gccheck("check", *args, env=scenario.env)
    texts = {"stdout": run.out, "stderr": run.err}
    for path in (output, termination):
        if path.exists():
            texts[path.name] = path.read_text("utf-8", errors="replace")
    return Written(run.code, texts, scenario)


@pytest.fixture(scope="module")
def written(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Written]]:
    """Start the servers, then run every selected case, WORKERS at a time."""
    selected = [item.callspec.params["case"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")
                and "case" in item.callspec.params]
    tmp = tmp_path_factory.mktemp("secrets")
    with ExitStack() as stack:
        gcs = stack.enter_context(gcs_emulator())
        token = stack.enter_context(json_server(_token_endpoint_refusing))
        arm = stack.enter_context(arm_server(tmp))
        arm.state.accounts[ACCOUNT] = ArmAccount(group="rg-wandb")
        # Without Azurite only the cases that need a storage account to reject a key skip.
        no_azurite, blob_url = "", f"http://127.0.0.1:{closed_port()}"
        try:
            blob = stack.enter_context(azurite({ACCOUNT: REAL_KEY}))
            blob.client(ACCOUNT).create_container("wandb")
            blob_url = blob.endpoint
        except pytest.skip.Exception as skipped:
            no_azurite = str(skipped)
        scenarios = build(tmp, gcs.endpoint, blob_url, token.url, arm.url, arm.ca_path)
        run: Callable[[str], Written] = lambda case: run_case(  # noqa: E731
            case, scenarios, tmp, no_azurite)
        with ThreadPoolExecutor(WORKERS) as pool:
            yield dict(zip(selected, pool.map(run, selected), strict=True))


@pytest.mark.parametrize("case", CASES)
def test_no_secret_is_written_anywhere(case: str, written: dict[str, Written]) -> None:
    got = written[case]
    if got.skipped:
        pytest.skip(got.skipped)
    scenario = got.scenario
    everything = "\n".join(got.texts.values())
    assert got.code == scenario.code, (got.code, got.texts["stderr"][-2000:])
    assert scenario.expect in everything, (scenario.expect, everything[-2000:])
    if scenario.code == 2:
        assert len(got.texts["stderr"].strip().splitlines()) >= 1
    assert_no_leak(got.texts, scenario.secrets, scenario.pieces)


def assert_no_leak(texts: dict[str, str], secrets: tuple[str, ...],
                   pieces: tuple[str, ...] = ()) -> None:
    needles = {form for secret in secrets for form in forms(secret)}
    needles |= {piece for piece in pieces if len(piece) >= 16}
    for where, text in texts.items():
        leaked = sorted(n for n in needles if n in text)
        # Never print the secret itself in the failure message.
        assert not leaked, f"{len(leaked)} secret form(s) in {where}, e.g. ...{leaked[0][:6]}..."


def test_the_leak_check_finds_every_form() -> None:
    for secret in (PLANTED_KEY, PEM, ARM_TOKEN):
        for form in forms(secret):
            with pytest.raises(AssertionError, match="secret form"):
                assert_no_leak({"stdout": f"before {form} after"}, (secret,))
    with pytest.raises(AssertionError, match="in stderr"):
        assert_no_leak({"stderr": f"x{PEM_LINES[3]}y"}, (), tuple(PEM_LINES))
    assert_no_leak({"stdout": "nothing here"}, (PLANTED_KEY, PEM), tuple(PEM_LINES))


# ---- the probes themselves, before any redaction --------------------------------------------------


def test_probe_facts_and_debug_logs_hold_no_secret_before_redaction(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The redactor is the last guard, not the only one: what the probes report and log (with
    the SDKs' exceptions) carries no secret of its own accord."""
    import logging

    from gccheck.bucket_url import parse_bucket_url
    from gccheck.model import Setting, Settings
    from gccheck.probes import azure, gcs
    from gccheck.probes.interface import ProbeOptions

    dead = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, dead)  # the token endpoint is unreachable, and local
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    def settings(**values: str) -> Settings:
        return Settings("test", {k: Setting(k, v, "test") for k, v in values.items()})

    sas_sig = "c2FzLXNpZ25hdHVyZS1wbGFudGVkLWhlcmU+/="
    sas = f"sv=2022-11-02&ss=b&srt=sc&sp=r&se=2099-01-01T00:00:00Z&sig={quote(sas_sig, safe='')}"
    cases: list[tuple[Any, str, Settings, dict[str, Any], tuple[str, ...]]] = [
        (gcs.Probe(), f"gs://{quote(EMAIL, safe='')}:{quote(PEM, safe='')}@wandb-secrets",
         settings(STORAGE_EMULATOR_HOST=dead), {}, (PEM,)),
        (gcs.Probe(), f"gs://{quote(EMAIL, safe='')}:{quote(PEM[:300], safe='')}@wandb-secrets",
         settings(STORAGE_EMULATOR_HOST=dead), {}, (PEM[:300],)),
        (azure.Probe(), f"az://:{quote(PLANTED_KEY, safe='')}@{ACCOUNT}/wandb", settings(),
         {"azure_blob_endpoint": dead}, (PLANTED_KEY,)),
        (azure.Probe(), f"az://{ACCOUNT}/wandb", settings(
            AZURE_STORAGE_CONNECTION_STRING=f"BlobEndpoint={dead}/{ACCOUNT};"
                                            f"SharedAccessSignature={sas}"),
         {}, (sas, sas_sig)),
    ]
    with caplog.at_level(logging.DEBUG):
        for probe, url, values, options, secrets in cases:
            facts = probe.probe(parse_bucket_url(url), values,
                                ProbeOptions(timeout=2, **options))
            assert_no_leak({"facts": repr(facts), "logs": caplog.text}, secrets,
                           tuple(PEM_LINES) if PEM in secrets else ())
    assert "Traceback" in caplog.text  # the SDKs' exceptions were logged, and searched
