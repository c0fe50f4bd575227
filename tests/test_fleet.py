"""The fleet file: every key reaches TargetSpec; every mistake is one line naming the entry."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.constants import FIXTURES
from support.run import run_gccheck

from gccheck.errors import InputError
from gccheck.fleet import ENTRY_KEYS, load_fleet, parse_fleet
from gccheck.matrix import Matrix, load_matrix
from gccheck.rules import RULES
from gccheck.target import (
    EnvFile,
    InlineEnv,
    RenderedChart,
    TargetSpec,
    TerraformPlan,
    ValuesFiles,
    Workload,
)

FLEET = FIXTURES / "fleet"
KUBECONFIG = FLEET / "kube" / "config"


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(None, RULES)


def parse(data: Any, matrix: Matrix, **kwargs: Any) -> tuple[TargetSpec, ...]:
    return parse_fleet(data, "fleet.yaml", matrix, base=Path("/base"), **kwargs).specs


def test_mixed_fleet_every_source_and_cloud(matrix: Matrix) -> None:
    fleet = load_fleet(FLEET / "mixed.yaml", matrix, default_timeout=10)
    by_name = {s.name: s for s in fleet.specs}
    assert [s.name for s in fleet.specs] == ["aws-prod", "minio-lab", "gcs-research", "azure-eu",
                                             "helm-managed", "live", "saas"]
    aws = by_name["aws-prod"]
    assert aws.hosting == "customer-managed-cloud" and aws.bucket == "s3://wandb-prod-files"
    assert aws.aws_profile == "prod" and aws.timeout == 5.0
    assert aws.source == InlineEnv({"GORILLA_ARTIFACT_GC_ENABLED": "true"})
    lab = by_name["minio-lab"]
    # A deployment naming its own settings source does not inherit the default env.
    assert lab.source == EnvFile(str(FLEET.resolve() / "lab.env"))
    assert lab.hosting == "on-prem" and lab.endpoint_url == "http://127.0.0.1:9000"
    azure = by_name["azure-eu"]
    assert (azure.azure_subscription, azure.azure_resource_group, azure.azure_plane) == (
        "00000000-0000-0000-0000-000000000000", "wandb-eu", "mgmt")
    helm = by_name["helm-managed"]
    assert helm.source == ValuesFiles((str(FLEET.resolve() / "values.yaml"),
                                       str(FLEET.resolve() / "values-prod.yaml")))
    live = by_name["live"]
    assert live.source == Workload("wandb/deployment/wandb-app", context="prod",
                                   kubeconfig=str(FLEET.resolve() / "kube/config"))
    assert live.timeout == 20.0
    assert by_name["saas"].hosting == "shared-cloud"


def test_every_key_reaches_target_spec(matrix: Matrix) -> None:
    entry = {
        "name": "all", "hosting": "on-prem", "bucket": "az://acct123/files",
        "workload": "wandb/deployment/app", "kubeconfig": str(KUBECONFIG), "context": "c",
        "endpoint-url": "https://s3.example.com",
        "aws-profile": "p", "azure-subscription": "sub", "azure-resource-group": "rg",
        "azure-plane": "data", "azure-blob-endpoint": "https://acct123.blob.example.com",
        "azure-arm-endpoint": "https://arm.example.com", "timeout": 3,
    }
    assert set(entry) | {"env", "values", "env-file", "terraform-plan", "chart", "release-name",
                         "namespace"} == set(ENTRY_KEYS)
    (spec,) = parse({"deployments": [entry]}, matrix)
    assert spec == TargetSpec(
        name="all", hosting="on-prem", bucket="az://acct123/files",
        source=Workload("wandb/deployment/app", kubeconfig=str(KUBECONFIG), context="c"),
        endpoint_url="https://s3.example.com", aws_profile="p",
        azure_subscription="sub", azure_resource_group="rg", azure_plane="data",
        azure_blob_endpoint="https://acct123.blob.example.com",
        azure_arm_endpoint="https://arm.example.com", timeout=3.0)
    sources = {"env": ({"A": "1"}, InlineEnv({"A": "1"})),
               "env-file": ("a.env", EnvFile("/base/a.env")),
               "values": (["v.yaml"], ValuesFiles(("/base/v.yaml",))),
               "terraform-plan": ("plans/p.json", TerraformPlan("/base/plans/p.json")),
               "chart": ("charts/ow.tgz", RenderedChart("/base/charts/ow.tgz"))}
    for key, (value, source) in sources.items():
        (spec,) = parse({"deployments": [{"name": "s", "hosting": "on-prem", key: value}]},
                        matrix)
        assert spec.source == source, key


def test_a_plans_bucket_is_an_address_not_a_url(matrix: Matrix) -> None:
    address = "module.wandb.module.file_storage.aws_s3_bucket.file_storage"
    (spec,) = parse({"deployments": [{"name": "p", "hosting": "customer-managed-cloud",
                                      "terraform-plan": "p.json", "bucket": address}]}, matrix)
    assert spec.source == TerraformPlan("/base/p.json") and spec.bucket == address
    # The same value for a live deployment is a bad bucket URL.
    with pytest.raises(InputError, match="bucket URL"):
        parse({"deployments": [{"name": "l", "hosting": "customer-managed-cloud",
                                "bucket": address}]}, matrix)
    # A plan is one settings source among the others; the default env is not inherited.
    with pytest.raises(InputError, match="only one settings source"):
        parse({"deployments": [{"name": "p", "hosting": "on-prem", "terraform-plan": "p.json",
                                "values": "v.yaml"}]}, matrix)
    (spec,) = parse({"defaults": {"env": {"A": "1"}}, "deployments": [
        {"name": "p", "hosting": "on-prem", "terraform-plan": "p.json"}]}, matrix)
    assert spec.source == TerraformPlan("/base/p.json")


def test_a_chart_renders_with_its_values_release_and_namespace(matrix: Matrix) -> None:
    (spec,) = parse({"deployments": [{
        "name": "c", "hosting": "on-prem", "chart": "charts/operator-wandb",
        "values": ["v.yaml", "/abs/w.yaml"], "release-name": "prod", "namespace": "wandb"}]},
        matrix)
    assert spec.source == RenderedChart("/base/charts/operator-wandb",
                                        ("/base/v.yaml", "/abs/w.yaml"), "prod", "wandb")
    # release-name and namespace go with a chart: alone, they are an error.
    with pytest.raises(InputError, match=r"deployment 1 \('v'\): namespace needs chart \(the "
                                         r"namespace the chart is rendered in\)"):
        parse({"deployments": [{"name": "v", "hosting": "on-prem", "values": "v.yaml",
                                "namespace": "wandb"}]}, matrix)
    with pytest.raises(InputError, match=r"release-name: 'Prod' is not a Helm release name"):
        parse({"deployments": [{"name": "c", "hosting": "on-prem", "chart": "c",
                                "release-name": "Prod"}]}, matrix)
    with pytest.raises(InputError, match=r"only one settings source .* \(got env-file, chart\)"):
        parse({"deployments": [{"name": "c", "hosting": "on-prem", "chart": "c",
                                "env-file": "a.env"}]}, matrix)


def test_defaults_give_a_chart_its_release_and_namespace(matrix: Matrix) -> None:
    data = {"defaults": {"hosting": "on-prem", "chart": "ow.tgz", "namespace": "wandb",
                         "values": "common.yaml"},
            "deployments": [
                {"name": "all"},  # the default chart with the default values
                {"name": "own-values", "values": ["prod.yaml"]},  # the default chart
                {"name": "own-chart", "chart": "other", "release-name": "r"},
                {"name": "env", "env": {"A": "1"}},  # another source: no chart keys
                {"name": "file", "env-file": "a.env"}]}
    specs = {spec.name: spec.source for spec in parse(data, matrix)}
    assert specs == {
        "all": RenderedChart("/base/ow.tgz", ("/base/common.yaml",), "wandb", "wandb"),
        "own-values": RenderedChart("/base/ow.tgz", ("/base/prod.yaml",), "wandb", "wandb"),
        "own-chart": RenderedChart("/base/other", (), "r", "wandb"),
        "env": InlineEnv({"A": "1"}), "file": EnvFile("/base/a.env")}
    # A namespace under defaults is for the deployments that render a chart.
    specs = {spec.name: spec.source for spec in parse({
        "defaults": {"hosting": "on-prem", "namespace": "wandb"},
        "deployments": [{"name": "c", "chart": "c"}, {"name": "v", "values": "v.yaml"}]},
        matrix)}
    assert specs == {"c": RenderedChart("/base/c", (), "wandb", "wandb"),
                     "v": ValuesFiles(("/base/v.yaml",))}


def test_defaults_merge_env_and_timeout_falls_back_to_the_cli(matrix: Matrix) -> None:
    data = {"defaults": {"hosting": "on-prem", "env": {"A": "1", "GORILLA_ARTIFACT_GC_ENABLED": True}},
            "deployments": [{"name": "x", "env": {"A": "2", "N": 5}},
                            {"name": "y", "values": "v.yaml", "hosting": "shared-cloud"}]}
    x, y = parse(data, matrix, default_timeout=7.5)
    assert x.source == InlineEnv({"A": "2", "GORILLA_ARTIFACT_GC_ENABLED": "true", "N": "5"})
    assert x.timeout == 7.5
    assert y.source == ValuesFiles(("/base/v.yaml",)) and y.hosting == "shared-cloud"


ERRORS = [
    ([], "fleet file fleet.yaml: expected a mapping with a 'deployments:' list, got a list"),
    ({"deployment": []}, "top level: unknown key 'deployment'"),
    ({"version": 2, "deployments": [{"name": "a", "hosting": "on-prem"}]},
     "version: only version 1 is known, got int 2"),
    ({}, "deployments: expected a non-empty list of deployments, got nothing"),
    ({"deployments": []}, "deployments: expected a non-empty list of deployments, got an empty list"),
    ({"deployments": "a"}, "deployments: expected a non-empty list"),
    ({"defaults": [], "deployments": [{"name": "a"}]}, "defaults: expected a mapping, got a list"),
    ({"defaults": {"name": "x"}, "deployments": [{"name": "a"}]}, "defaults: unknown key 'name'"),
    ({"defaults": {"hosting": "cloud"}, "deployments": [{"name": "a"}]},
     "defaults: hosting: unknown hosting type 'cloud'"),
    ({"deployments": ["a"]}, "deployment 1: expected a mapping with at least 'name', got 'a'"),
    ({"deployments": [{"hosting": "on-prem"}]}, "deployment 1: 'name' is missing"),
    ({"deployments": [{"name": ""}]}, "deployment 1: name: expected a non-empty string"),
    ({"deployments": [{"name": "a\nb", "hosting": "on-prem"}]}, "deployment 1: name: must be on one line"),
    ({"deployments": [{"name": "a", "hosting": "on-prem"}, {"name": "a", "hosting": "on-prem"}]},
     "deployment 2 ('a'): duplicate name: deployment 1 is also called 'a'"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "env_file": "x"}]},
     "deployment 1 ('a'): unknown key 'env_file' (did you mean 'env-file'?)"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "buckt": "s3://b"}]},
     "deployment 1 ('a'): unknown key 'buckt' (did you mean 'bucket'?)"),
    ({"defaults": {"endpoint": "http://x"}, "deployments": [{"name": "a"}]},
     "defaults: unknown key 'endpoint' (did you mean 'endpoint-url'?)"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "region": "x"}]},
     "deployment 1 ('a'): unknown key 'region'; known keys: name, hosting, bucket"),
    ({"deployments": [{"name": "a", "hosting": "onprem"}]},
     "deployment 1 ('a'): hosting: unknown hosting type 'onprem' (did you mean 'on-prem'?) "
     "(one of: shared-cloud"),
    ({"deployments": [{"name": "a"}]},
     "deployment 1 ('a'): 'hosting' is missing (set it here or under defaults)"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "timeout": "10s"}]},
     "deployment 1 ('a'): timeout: expected a number of seconds, got '10s'"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "timeout": True}]},
     "timeout: expected a number of seconds, got bool True"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "timeout": 0}]},
     "deployment 1 ('a'): timeout: 0 is outside 0.1..600 seconds"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "env": {"A": "1"}, "values": ["v"]}]},
     "deployment 1 ('a'): give only one settings source of env, env-file, values, workload, "
     "terraform-plan, chart (got env, values)"),
    ({"defaults": {"env-file": "e", "workload": "auto"}, "deployments": [{"name": "a"}]},
     "defaults: give only one settings source"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "env": ["A=1"]}]},
     "deployment 1 ('a'): env: expected a mapping of NAME: value, got a list"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "env": {"A": None}}]},
     "deployment 1 ('a'): env A: expected a string value, got nothing"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "env": {"A B": "1"}}]},
     "deployment 1 ('a'): env: 'A B' is not a variable name"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "values": []}]},
     "deployment 1 ('a'): values: expected a file or a list of files, got a list"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "values": ["ok", 3]}]},
     "deployment 1 ('a'): values[1]: expected a non-empty string, got int 3"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "bucket": "gcs://b"}]},
     "deployment 1 ('a'): invalid bucket URL 'gcs://b'"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "bucket": 5}]},
     "deployment 1 ('a'): bucket: expected a non-empty string, got int 5"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "azure-plane": "both"}]},
     "deployment 1 ('a'): azure-plane: expected one of mgmt, data, got 'both'"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "workload": "wandb/pod/x"}]},
     "deployment 1 ('a'): workload: 'wandb/pod/x': unknown kind 'pod'"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "workload": "auto",
                       "kubeconfig": "nope/config"}]},
     "deployment 1 ('a'): kubeconfig /base/nope/config: no such file"),
    ({"deployments": [{"name": "a", "hosting": "on-prem", "endpoint-url": "minio:9000"}]},
     "deployment 1 ('a'): endpoint-url: 'minio:9000' must be an http:// or https:// URL"),
]


@pytest.mark.parametrize(("data", "message"), ERRORS)
def test_each_mistake_is_an_input_error_naming_the_entry(data: Any, message: str,
                                                         matrix: Matrix) -> None:
    with pytest.raises(InputError) as raised:
        parse(data, matrix)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_secret_in_a_bad_value_is_not_quoted(matrix: Matrix) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with pytest.raises(InputError) as raised:
        parse({"deployments": [{"name": "a", "hosting": "on-prem", "timeout": secret}]}, matrix)
    assert secret not in str(raised.value) and "40-character value (not shown)" in str(raised.value)


def test_file_errors_name_the_file(tmp_path: Path, matrix: Matrix) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text("deployments:\n  - name: a\n   hosting: x\n")
    with pytest.raises(InputError, match=r"fleet file .*fleet.yaml: line 3: not valid YAML"):
        load_fleet(bad, matrix)
    with pytest.raises(InputError, match=r"fleet file .*missing.yaml: no such file"):
        load_fleet(tmp_path / "missing.yaml", matrix)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[int]]]:
    """A TCP port that counts connections: proves nothing was sent."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_cli_rejects_a_bad_entry_before_any_network_call(tmp_path: Path,
                                                         listener: tuple[int, list[int]]) -> None:
    port, accepted = listener
    fleet = {"deployments": [
        {"name": "first", "hosting": "on-prem", "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"},
         "bucket": f"s3://AKIAEXAMPLE:secretsecret@127.0.0.1:{port}/bucket"},
        {"name": "second", "hosting": "on-prem", "timeout": -1},
    ]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    run = run_gccheck("audit", str(path))
    assert run.code == 2
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith("gccheck: error: fleet file ") and "deployment 2 ('second'): timeout" \
        in run.err
    assert accepted == []


def test_cli_bad_settings_file_is_exit_2_naming_the_deployment(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("deployments:\n  - {name: lab, hosting: on-prem, env-file: nope.env}\n")
    run = run_gccheck("audit", str(path))
    assert run.code == 2
    assert run.err.strip() == (f"gccheck: error: deployment 'lab': env file {tmp_path}/nope.env: "
                               "no such file")


def _aws_config(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n[profile prod]\nregion = us-east-1\n"
                      "aws_access_key_id = AKIAPROD\naws_secret_access_key = prodsecretprodsecret\n")
    return {"AWS_CONFIG_FILE": str(config)}


def test_check_with_an_undefined_aws_profile_is_an_input_error(
        tmp_path: Path, listener: tuple[int, list[int]]) -> None:
    port, accepted = listener
    run = run_gccheck("check", "--hosting", "on-prem", "--aws-profile", "prdo",
                      "--bucket", f"s3://127.0.0.1:{port}/bucket",
                      env={**_aws_config(tmp_path), "GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert run.code == 2, run.err
    assert run.err == ("gccheck: error: --aws-profile: AWS profile 'prdo' is not defined in the "
                       "AWS config or credentials files (defined: default, prod)\n")
    assert accepted == []


def test_a_defined_aws_profile_passes_and_reaches_the_bucket(
        tmp_path: Path, listener: tuple[int, list[int]]) -> None:
    port, accepted = listener
    run = run_gccheck("check", "--hosting", "on-prem", "--aws-profile", "prod", "--timeout", "3",
                      "--bucket", f"s3://127.0.0.1:{port}/bucket", "--format", "json",
                      env={**_aws_config(tmp_path), "GORILLA_ARTIFACT_GC_ENABLED": "true"})
    assert run.code == 3, run.err  # the listener never answers: unknown, not an input error
    assert accepted != []


def test_fleet_aws_profile_is_checked_only_where_boto3_reads_the_bucket(
        tmp_path: Path, listener: tuple[int, list[int]]) -> None:
    port, accepted = listener
    fleet = {"defaults": {"hosting": "on-prem", "aws-profile": "prdo",
                          "env": {"GORILLA_ARTIFACT_GC_ENABLED": "true"}},
             "deployments": [{"name": "gcs", "bucket": "gs://bucket", "hosting": "dedicated-cloud"},
                             {"name": "minio", "bucket": f"s3://127.0.0.1:{port}/bucket"}]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    run = run_gccheck("audit", str(path), env=_aws_config(tmp_path))
    assert run.code == 2
    assert run.err.startswith("gccheck: error: deployment 'minio': --aws-profile: AWS profile "
                              "'prdo' is not defined")
    assert accepted == []
