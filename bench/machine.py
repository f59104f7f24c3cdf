"""Measured for real on this machine: synth time, template bytes per copy, handler cold start, asset size.

Each measurement runs in a fresh subprocess (``python -m bench.machine synth N`` / ``coldstart``) that prints
one JSON object, so every figure is what a fresh ``cdk synth`` or a fresh Lambda sandbox pays:

* synth: construction of an App + Stack (a Rekognition project, a bucket) with N ``RekognitionModelCopy``
  constructs and ``app.synth()``; the imports (Python modules, the jsii kernel) are timed separately and
  left out. The first construction in a process also pays the CDK's lazy loading and the handler asset's
  packaging: that fixed cost is part of the figure, as it is of every real synth. The process then
  repeats the synth warm (1 and N copies) for the marginal cost per copy, and synthesises 2 copies to
  check that the template grows by a constant per copy.
* cold start: ``time.process_time()`` around the import of ``lambda/index.py`` and around its first
  invocation (a Create against moto, the copy already complete, the fast path's first wait in simulated
  time). boto3 is imported before and timed on its own (Lambda's runtime has it, but a cold sandbox still
  imports it). The process CPU time includes moto's in-process emulation of the API calls and the local
  HTTPS server receiving the response, so it overstates the handler's own work.
* asset: the directory ``rekognition_model_copy.provider.handler_asset_dir()`` zipped with deflate.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import REPO, fake_aws_environment, run_module, use_repo_node

if TYPE_CHECKING:
    from aws_cdk import App, Stack

SOURCE_PROJECT_ARN = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
SOURCE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.v1/1700000000001"
)
ACCOUNT = "222222222222"
REGION = "us-east-1"
STACK_NAME = "BenchCopies"


# --- run in a subprocess -----------------------------------------------------------------------------------
def copies_stack(app: App, copies: int) -> Stack:
    """The stack the synth figures are about (``tests/e2e/test_scale.py`` checks it too): a Rekognition
    project, an output bucket and ``copies`` ``RekognitionModelCopy`` of one cross-account source version."""
    from aws_cdk import Environment, Stack
    from aws_cdk import aws_rekognition as rekognition
    from aws_cdk import aws_s3 as s3

    from rekognition_model_copy import RekognitionModelCopy

    stack = Stack(app, STACK_NAME, env=Environment(account=ACCOUNT, region=REGION))
    project = rekognition.CfnProject(stack, "Project", project_name="prod-bench")
    bucket = s3.Bucket(stack, "OutputBucket")
    for index in range(copies):
        RekognitionModelCopy(
            stack,
            f"Copy{index:03d}",
            source_project_arn=SOURCE_PROJECT_ARN,
            source_project_version_arn=SOURCE_VERSION_ARN,
            destination_project=project,
            version_name=f"bench-{index:03d}",
            output_bucket=bucket,
        )
    return stack


def _build_and_synth(copies: int) -> tuple[float, dict[str, Any], int]:
    """Construct an app with ``copies`` copies and synthesise it: (seconds, template, template bytes)."""
    from aws_cdk import App

    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        started = time.perf_counter()
        app = App(outdir=outdir)
        copies_stack(app, copies)
        assembly = app.synth()
        elapsed = time.perf_counter() - started
        path = Path(assembly.get_stack_by_name(STACK_NAME).template_full_path)
        return elapsed, json.loads(path.read_text()), path.stat().st_size


def asset_zip_bytes(directory: Path) -> tuple[int, int]:
    """(zipped bytes with deflate, number of files) of an asset directory."""
    buffer = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(directory.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(directory).as_posix())
                files += 1
    return len(buffer.getvalue()), files


def synth(copies: int, warm: bool) -> dict[str, Any]:
    """A fresh process's synth of ``copies`` copies; with ``warm``, also the warm and 2-copy figures."""
    use_repo_node()
    sys.path.insert(0, str(REPO / "constructs"))
    started = time.perf_counter()
    import aws_cdk  # noqa: F401 - the import (and the jsii kernel start) is timed apart
    import aws_cdk.aws_rekognition  # noqa: F401
    import aws_cdk.aws_s3  # noqa: F401

    import rekognition_model_copy  # noqa: F401

    result: dict[str, Any] = {"copies": copies, "import_s": time.perf_counter() - started}
    seconds, template, size = _build_and_synth(copies)
    resources = template.get("Resources", {}).values()
    result.update(
        synth_s=seconds,
        template_bytes=size,
        functions=sum(1 for r in resources if r.get("Type") == "AWS::Lambda::Function"),
        copies_in_template=sum(1 for r in resources if r.get("Type") == "Custom::RekognitionModelCopy"),
        managed_policies=sum(1 for r in resources if r.get("Type") == "AWS::IAM::ManagedPolicy"),
        max_depends_on=max((len(r.get("DependsOn", [])) for r in resources), default=0),
    )
    if warm:
        from rekognition_model_copy import provider

        result["warm_1_s"] = _build_and_synth(1)[0]
        result["warm_n_s"] = _build_and_synth(copies)[0]
        result["template_1_bytes"] = _build_and_synth(1)[2]
        result["template_2_bytes"] = _build_and_synth(2)[2]
        result["asset_zip_bytes"], result["asset_files"] = asset_zip_bytes(provider.handler_asset_dir())
    return result


class _Context:
    function_name = "bench-cold-start"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:bench-cold-start"
    memory_limit_in_mb = 128
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench-cold-start"
    log_stream_name = "bench"

    def __init__(self, clock: Any) -> None:
        self._deadline = clock.now() + 900
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - self._clock.now()) * 1000)


class _HandlerClock:
    def __init__(self, clock: Any) -> None:
        self._clock = clock

    def now(self) -> float:
        return float(self._clock.now())

    def sleep(self, seconds: float) -> None:
        self._clock.sleep(seconds)


def cold_start() -> dict[str, Any]:
    """CPU time of importing the handler and of its first invocation, in this (fresh) process."""
    fake_aws_environment()
    started = time.process_time()
    import boto3
    import botocore.config  # noqa: F401

    boto_s = time.process_time() - started
    from moto import mock_aws

    from emulator import custom_labels
    from emulator.clock import SimulatedClock
    from emulator.cloudformation import ResponseServer

    server = ResponseServer()
    os.environ["SSL_CERT_FILE"] = str(server.cert_file)
    os.environ["POLL_RULE_PREFIX"] = "rmc-bench-"
    custom_labels.reset()
    try:
        with mock_aws():
            clock = SimulatedClock()
            custom_labels.set_clock(clock)
            custom_labels.config.copy_duration = 0.0
            source = custom_labels.seed_trained_version("123456789012", REGION, "dev", "v1")
            setup = boto3.session.Session(region_name=REGION)  # the handler's default session stays cold
            destination = setup.client("rekognition").create_project(ProjectName="prod")["ProjectArn"]
            setup.client("s3").create_bucket(Bucket="prod-bench-output")
            boto3.DEFAULT_SESSION = None
            event = {
                "RequestType": "Create",
                "ServiceToken": _Context.invoked_function_arn,
                "ResponseURL": server.url_for("bench", "cold-start"),
                "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/bench/1",
                "RequestId": "cold-start",
                "LogicalResourceId": "Copy",
                "ResourceType": "Custom::RekognitionModelCopy",
                "ResourceProperties": {
                    "ServiceToken": _Context.invoked_function_arn,
                    "SourceProjectArn": source[0],
                    "SourceProjectVersionArn": source[1],
                    "DestinationProjectArn": destination,
                    "VersionName": "bench-cold",
                    "OutputConfig": {"S3Bucket": "prod-bench-output", "S3KeyPrefix": "copies/"},
                    "ServiceTimeout": "3600",
                },
            }
            sys.path.insert(0, str(REPO / "lambda"))
            started = time.process_time()
            import index

            import_s = time.process_time() - started
            polling: Any = sys.modules["cfn.polling"]
            polling.CLOCK = _HandlerClock(clock)
            started = time.process_time()
            index.handler(event, _Context(clock))
            invoke_s = time.process_time() - started
            answered = server.responses("cold-start")
    finally:
        server.close()
        custom_labels.reset()
    status = answered[0].get("Status") if answered else "no response"
    return {"boto3_import_s": boto_s, "import_s": import_s, "invoke_s": invoke_s, "status": status}


# --- the parent's side -------------------------------------------------------------------------------------
def in_fresh_process(*args: str) -> dict[str, Any]:
    """One measurement, ``python -m bench.machine ARGS`` (``synth N [--warm]`` or ``coldstart``), in a
    fresh process: the JSON object it prints."""
    return run_module("bench.machine", *args, timeout=600, label=f"bench.machine {' '.join(args)}")


def measure(copies: int, repeats: int) -> dict[str, Any]:
    """Fresh-process synth of 1 and of ``copies`` copies (median of ``repeats``), cold start, asset size."""
    ones: list[dict[str, Any]] = []
    manys: list[dict[str, Any]] = []
    colds: list[dict[str, Any]] = []
    for _ in range(repeats):  # interleaved, so a slow moment of the machine hits both sizes alike
        ones.append(in_fresh_process("synth", "1"))
        manys.append(in_fresh_process("synth", str(copies), "--warm"))
        colds.append(in_fresh_process("coldstart"))
    last = manys[-1]
    median = statistics.median
    return {
        "copies": copies,
        "repeats": repeats,
        "import_s": median(r["import_s"] for r in ones + manys),
        "synth_1_s": median(r["synth_s"] for r in ones),
        "synth_n_s": median(r["synth_s"] for r in manys),
        "warm_1_s": median(r["warm_1_s"] for r in manys),
        "warm_n_s": median(r["warm_n_s"] for r in manys),
        "template_1_bytes": last["template_1_bytes"],
        "template_2_bytes": last["template_2_bytes"],
        "template_n_bytes": last["template_bytes"],
        "functions_n": last["functions"],
        "copies_in_template": last["copies_in_template"],
        "managed_policies_n": last["managed_policies"],
        "max_depends_on_n": last["max_depends_on"],
        "asset_zip_bytes": last["asset_zip_bytes"],
        "asset_files": last["asset_files"],
        "boto3_import_s": median(r["boto3_import_s"] for r in colds),
        "handler_import_s": median(r["import_s"] for r in colds),
        "first_invoke_s": median(r["invoke_s"] for r in colds),
        "cold_status": colds[-1]["status"],
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["synth"]:
        print(json.dumps(synth(int(argv[1]), warm="--warm" in argv)))
    elif argv[:1] == ["coldstart"]:
        print(json.dumps(cold_start()))
    else:
        raise SystemExit("usage: python -m bench.machine synth N [--warm] | coldstart")


if __name__ == "__main__":
    main(sys.argv[1:])
