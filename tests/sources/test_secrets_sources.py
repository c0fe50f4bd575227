"""No secret from a settings source leaves gccheck: not on stdout, stderr, --output or the
termination message, in any format, with --debug on, on the happy path and on error paths.

Planted secrets: S3 keys inline in Helm values (`global.bucket.accessKey/secretKey`), in a
WeightsAndBiases v2 resource and in the legacy chart's bucket URL; Kubernetes Secrets read
through `secretKeyRef` (the bucket keys) and `envFrom` `secretRef` (a license, a password, a
near-miss of the GC variable's name); the kubeconfig's bearer token. Values that are themselves
a secret base64- or URL-encoded are planted where gccheck reports values. Error paths: a
bucket endpoint that refuses connections, a malformed bucket URL (exit 2), Secrets the role may
not read (403), a cluster that cannot be reached, a cluster that refuses the token (401). Each
secret is looked for raw, URL-encoded and base64-encoded.

The runs happen concurrently (a few at a time) when the module starts; each is its own test.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml
from support.k8s_api import KubeAPI, config_map, deployment, secret, start, write_kubeconfig
from support.ports import closed_port
from support.run import run_gccheck
from support.s3 import S3Server, make_bucket

GC = "GORILLA_ARTIFACT_GC_ENABLED"
CHECK_FORMATS = ("table", "json", "markdown", "junit")
AUDIT_FORMATS = (*CHECK_FORMATS, "html", "prometheus")
WORKERS = 4

ACCESS_KEY = "AKIAPLANTED0KEY12345"
SECRET_KEY = "Planted/Secret+Key0123456789abcdefGHIJklmn"
LICENSE = "planted-license.eyJzdWIiOiJ3YW5kYiJ9.c2lnbmF0dXJl"
PASSWORD = "Pl4nted-mysql-passw0rd!"
NEAR_MISS = "planted-near-miss-value-5f3a9c"  # the value of GORILLA_ARTIFACT_GC_ENABLE
K8S_TOKEN = "planted-kube-token-0123456789abcdef"
SECRETS = (ACCESS_KEY, SECRET_KEY, LICENSE, PASSWORD, NEAR_MISS, K8S_TOKEN)


def forms(value: str) -> set[str]:
    """The secret as it could be printed: raw, URL-encoded, base64-encoded."""
    raw = value.encode()
    found = {value, quote(value, safe=""), quote(value), quote_plus(value),
             base64.b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("="),
             base64.urlsafe_b64encode(raw).decode()}
    return {f for f in found if len(f) >= 8}


def assert_no_leak(texts: dict[str, str]) -> None:
    needles = {form for value in SECRETS for form in forms(value)}
    for where, text in texts.items():
        leaked = sorted(n for n in needles if n in text)
        # Never print the secret itself in the failure message.
        assert not leaked, f"{len(leaked)} secret form(s) in {where}, e.g. ...{leaked[0][:5]}..."


def test_the_leak_check_finds_every_form() -> None:
    for value in SECRETS:
        for form in forms(value):
            with pytest.raises(AssertionError, match="secret form"):
                assert_no_leak({"stdout": f"before {form} after"})
    assert_no_leak({"stdout": "nothing here"})


# ---- the scenarios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    source: dict[str, Any]  # fleet-file keys: values / workload + kubeconfig
    code: int  # 0 ready, 1 a failure, 3 unknown, 2 input error
    expect: str  # a word the output must contain, so the run is not vacuous
    hosting: str = "customer-managed-cloud"

    def check_args(self) -> list[str]:
        args = ["--hosting", self.hosting, "--timeout", "10"]
        for key, value in self.source.items():
            for item in value if isinstance(value, list) else [value]:
                args += [f"--{key}", str(item)]
        return args


@dataclass
class World:
    tmp: Path
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    def file(self, name: str, data: Any) -> str:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(data))
        return str(path)


def values_scenarios(world: World, s3: S3Server, versioned: str) -> list[Scenario]:
    moto = f"{s3.host}:{s3.port}"
    dead = f"127.0.0.1:{closed_port()}"

    def operator(host: str, gc: str, **extra: Any) -> dict[str, Any]:
        return {"global": {"bucket": {"provider": "s3", "name": host, "path": versioned,
                                      "region": "us-east-1", "accessKey": ACCESS_KEY,
                                      "secretKey": SECRET_KEY},
                           "extraEnv": {GC: gc, "MYSQL_PASSWORD": PASSWORD}}, **extra}

    encoded = operator(moto, base64.b64encode(SECRET_KEY.encode()).decode(), app={"env": {
        "GORILLA_ARTIFACTS_GC_ENABLED": quote(SECRET_KEY, safe=""),
        "GORILLA_ARTIFACT_GC_ENABLE": quote_plus(ACCESS_KEY)}})
    v2 = {"apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases",
          "metadata": {"name": "wandb"},
          "spec": {"wandb": {"retention": {"artifactGarbageCollection": True}},
                   "objectStore": {"default": {"externalObjectStore": {
                       "endpoint": {"value": f"http://{dead}"}, "bucket": {"value": "wandb"},
                       "accessKey": {"value": ACCESS_KEY},
                       "secretKey": {"value": SECRET_KEY}}}}}}
    legacy = {"bucket": f"s3://{ACCESS_KEY}:{quote(SECRET_KEY, safe='')}@{moto}/{versioned}"
                        "?region=us-east-1",
              "extraEnv": [{"name": GC, "value": "true"},
                           {"name": "MYSQL_PASSWORD", "value": PASSWORD}]}
    return [
        # The bucket is read with the planted keys; the GC variable holds an encoded secret.
        Scenario("values-encoded", {"values": world.file("encoded.yaml", encoded)}, 1,
                 "did you mean GORILLA_ARTIFACTS_GC_ENABLED"),  # only from the values file
        Scenario("values-endpoint-refused",
                 {"values": world.file("dead.yaml", operator(dead, "true"))}, 3,
                 "could not connect"),
        Scenario("values-malformed-url",
                 {"values": world.file("bad.yaml", operator("minio.corp:notaport", "true"))}, 2,
                 "error"),
        Scenario("cr-v2-endpoint-refused", {"values": world.file("cr.yaml", v2)}, 3,
                 "could not connect"),
        Scenario("legacy-ready", {"values": world.file("legacy.yaml", legacy)}, 0,
                 "versioning is enabled"),
    ]


def install(api: KubeAPI, host: str, bucket: str) -> None:
    """A W&B app whose bucket keys, license, password and a near-miss variable are Secrets."""
    api.add(secret("wandb-bucket", {"ACCESS_KEY": ACCESS_KEY, "SECRET_KEY": SECRET_KEY}))
    api.add(secret("wandb-global-secret", {"LICENSE": LICENSE, "MYSQL_PASSWORD": PASSWORD,
                                           "GORILLA_ARTIFACT_GC_ENABLE": NEAR_MISS}))
    api.add(config_map("wandb-glue", {"GORILLA_GLUE_ARTIFACT_GC_ENABLED": "false"}))
    ref = {"name": "wandb-bucket"}
    api.add(deployment("wandb-app", containers=[{
        "name": "app", "image": "wandb/local:0.70.0",
        "envFrom": [{"configMapRef": {"name": "wandb-glue"}},
                    {"secretRef": {"name": "wandb-global-secret"}}],
        "env": [
            {"name": "BUCKET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {**ref,
                                                                         "key": "ACCESS_KEY"}}},
            {"name": "BUCKET_SECRET_KEY", "valueFrom": {"secretKeyRef": {**ref,
                                                                         "key": "SECRET_KEY"}}},
            {"name": "BUCKET", "value": "s3://$(BUCKET_ACCESS_KEY):$(BUCKET_SECRET_KEY)@"
                                        f"{host}/{bucket}?region=us-east-1"},
            # The Deployment itself quoting a Secret's value, encoded (a copy-paste).
            {"name": "GORILLA_ARTIFACTS_GC_ENABLED",
             "value": base64.b64encode(PASSWORD.encode()).decode()},
        ]}], labels={"app.kubernetes.io/name": "app"}))


def workload_scenarios(world: World, s3: S3Server, versioned: str,
                       kubes: dict[str, str]) -> list[Scenario]:
    def kubeconfig(name: str, url: str, token: str = K8S_TOKEN) -> str:
        return str(write_kubeconfig(world.tmp / f"{name}.kubeconfig", url, token=token))

    dead = f"http://127.0.0.1:{closed_port()}"
    workload = "wandb/deployment/wandb-app"
    return [
        # Secrets readable, the bucket read with the keys from the Secret; GC missing, the
        # near-miss (a Secret's value) is named.
        Scenario("workload-secrets-read",
                 {"workload": workload, "kubeconfig": kubeconfig("ok", kubes["ok"])}, 1,
                 "GORILLA_ARTIFACT_GC_ENABLE"),
        Scenario("workload-auto-bucket-refused",
                 {"workload": "auto", "kubeconfig": kubeconfig("deadbucket", kubes["deadbucket"])},
                 1, "could not connect"),
        Scenario("workload-secrets-forbidden",
                 {"workload": workload, "kubeconfig": kubeconfig("forbidden",
                                                                 kubes["forbidden"])},
                 3, "get secrets"),
        Scenario("workload-cluster-unreachable",
                 {"workload": workload, "kubeconfig": kubeconfig("unreachable", dead)}, 2,
                 "could not connect to the Kubernetes API"),
        Scenario("workload-token-refused",
                 {"workload": workload,
                  "kubeconfig": kubeconfig("refused", kubes["ok"], token=K8S_TOKEN[::-1])}, 2,
                 "refused the credentials"),
    ]


SCENARIOS = ["values-encoded", "values-endpoint-refused", "values-malformed-url",
             "cr-v2-endpoint-refused", "legacy-ready", "workload-secrets-read",
             "workload-auto-bucket-refused", "workload-secrets-forbidden",
             "workload-cluster-unreachable", "workload-token-refused"]
CHECK_CASES = [f"check/{name}/{fmt}" for name in SCENARIOS for fmt in CHECK_FORMATS]
AUDIT_CASES = [f"audit/{fleet}/{fmt}" for fleet in ("fleet", "malformed")
               for fmt in AUDIT_FORMATS]
# The audit of every scenario but the malformed one (an input error stops a whole audit):
# some deployments fail.
AUDIT_CODE = 1


@dataclass(frozen=True)
class Written:
    code: int
    texts: dict[str, str]


def run_case(case: str, world: World, fleets: dict[str, str]) -> Written:
    command, name, fmt = case.split("/")
    where = world.tmp / "out" / case.replace("/", "-")
    where.mkdir(parents=True)
    output, termination = where / f"report.{fmt}", where / "termination-log"
    # Every format goes to stdout in some cases and to --output in the others.
    to_file = (len(name) + len(fmt)) % 2 == 1
    if command == "check":
        args = ["check", *world.scenarios[name].check_args(), "--termination-message",
                str(termination)]
    else:
        args = ["audit", fleets[name], "--timeout", "10"]
    args += ["--format", fmt, "--debug"] + (["--output", str(output)] if to_file else [])
    run = run_gccheck(*args)
    texts = {"stdout": run.out, "stderr": run.err}
    for path in (output, termination):
        if path.exists():
            texts[path.name] = path.read_text("utf-8", errors="replace")
    return Written(run.code, texts)


@pytest.fixture(scope="module")
def world(moto_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    versioned = make_bucket(moto_server, "Enabled")
    moto = f"{moto_server.host}:{moto_server.port}"
    servers = {"ok": start(KubeAPI(token=K8S_TOKEN)),
               "deadbucket": start(KubeAPI(token=K8S_TOKEN)),
               "forbidden": start(KubeAPI(token=K8S_TOKEN))}
    install(servers["ok"].api, moto, versioned)
    install(servers["deadbucket"].api, f"127.0.0.1:{closed_port()}", "wandb")
    install(servers["forbidden"].api, moto, versioned)
    servers["forbidden"].api.forbid("secrets", "wandb")
    try:
        built = World(tmp_path_factory.mktemp("secrets-sources"))
        for scenario in (*values_scenarios(built, moto_server, versioned),
                         *workload_scenarios(built, moto_server, versioned,
                                             {k: s.url for k, s in servers.items()})):
            built.scenarios[scenario.name] = scenario
        yield built
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="module")
def written(request: pytest.FixtureRequest, world: World) -> dict[str, Written]:
    """Run every selected case, WORKERS at a time."""
    fleets = {}
    for fleet, names in (("fleet", [n for n in SCENARIOS if world.scenarios[n].code != 2]),
                         ("malformed", ["legacy-ready", "values-malformed-url"])):
        path = world.tmp / f"{fleet}.yaml"
        path.write_text(yaml.safe_dump({"deployments": [
            {"name": name, "hosting": world.scenarios[name].hosting,
             **world.scenarios[name].source} for name in names]}))
        fleets[fleet] = str(path)
    selected = [item.callspec.params["case"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")
                and "case" in item.callspec.params]
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(selected, pool.map(lambda c: run_case(c, world, fleets), selected),
                        strict=True))


@pytest.mark.parametrize("case", CHECK_CASES)
def test_check_writes_no_secret(case: str, written: dict[str, Written], world: World) -> None:
    got = written[case]
    scenario = world.scenarios[case.split("/")[1]]
    everything = "\n".join(got.texts.values())
    assert got.code == scenario.code, (got.code, got.texts["stderr"][-2000:])
    assert scenario.expect in everything, (scenario.expect, everything[-3000:])
    assert_no_leak(got.texts)


@pytest.mark.parametrize("case", AUDIT_CASES)
def test_audit_writes_no_secret(case: str, written: dict[str, Written], world: World) -> None:
    got = written[case]
    everything = "\n".join(got.texts.values())
    if case.split("/")[1] == "malformed":
        assert got.code == 2, got.texts["stderr"][-2000:]
        assert "values-malformed-url" in got.texts["stderr"]
    else:
        assert got.code == AUDIT_CODE, got.texts["stderr"][-2000:]
        # Every deployment is in the report, whichever way it ended.
        for name, scenario in world.scenarios.items():
            if scenario.code != 2:
                assert name in everything, name
    assert_no_leak(got.texts)
