"""`make demo`: a dev -> prod model promotion, run locally on emulated AWS in simulated time.

1. Synthesises the example app (``app.py``) with the CDK, as ``cdk synth`` would.
2. Creates in emulated accounts what must exist beforehand: the dev account's project with a trained
   model version, and its project policy letting the prod account copy that version.
3. Plays CloudFormation for the prod stack: create (the copy), an update (a new version name: a new copy
   replaces the old one), and delete; the real Lambda handler and crhelper do the work.
4. Prints the stack events as CloudFormation shows them, with simulated time, and a summary.

No credentials, no network, a few seconds of real time. Exits non-zero if anything failed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DEV_ACCOUNT = "111111111111"
PROD_ACCOUNT = "222222222222"
COPY_MINUTES = 4


def _fake_credentials() -> None:
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION
    )


def synthesise(context: dict[str, str], outdir: Path) -> tuple[dict[str, Any], Path]:
    """Synthesise app.py into ``outdir``; returns the promotion stack's template and the assembly dir."""
    sys.path.insert(0, str(REPO))
    import app as example

    os.environ["CDK_OUTDIR"] = str(outdir)
    # what the cdk CLI sets: asset metadata tells the driver which directory a function runs from
    assembly = example.build_app({**context, "aws:cdk:enable-asset-metadata": True}).synth()
    stack = assembly.get_stack_by_name(example.STACK_NAME)
    return dict(stack.template), Path(assembly.directory)


class Timeline:
    """Prints stack events like the CloudFormation console, and a progress line while waiting."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.start = clock.now()
        self.live = sys.stdout.isatty()
        self.failed: list[str] = []
        self._progress = False

    def _elapsed(self, at: float) -> str:
        seconds = int(at - self.start)
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def _clear(self) -> None:
        if self._progress:
            sys.stdout.write("\r\033[K")
            self._progress = False

    def on_event(self, event: Any) -> None:
        self._clear()
        if event.status.endswith("FAILED"):
            self.failed.append(f"{event.logical_id} {event.status}: {event.reason}")
        reason = f"  {event.reason}" if event.reason else ""
        print(
            f"  +{self._elapsed(event.time)}  {event.logical_id:<46} {event.resource_type:<30} "
            f"{event.status}{reason}",
            flush=True,
        )

    def on_wait(self, requests: list[Any]) -> None:
        if not self.live:
            return
        names = ", ".join(f"{r.logical_id} ({r.event['RequestType']})" for r in requests)
        sys.stdout.write(f"\r\033[K  ... +{self._elapsed(self.clock.now())}  waiting for {names}")
        sys.stdout.flush()
        self._progress = True

    def heading(self, text: str) -> None:
        self._clear()
        print(f"\n== {text}", flush=True)


def main() -> int:
    """Run the demo; returns the process exit code."""
    _fake_credentials()
    from moto import mock_aws

    from emulator import custom_labels
    from emulator.clock import SimulatedClock
    from emulator.cloudformation import CloudFormation

    wall = time.perf_counter()
    clock = SimulatedClock()
    custom_labels.reset()
    custom_labels.set_clock(clock)
    custom_labels.config.copy_duration = COPY_MINUTES * 60
    timeline = Timeline(clock)
    with mock_aws(), CloudFormation(clock, on_event=timeline.on_event, on_wait=timeline.on_wait) as cloud:
        timeline.heading(f"Dev account {DEV_ACCOUNT}: a trained model and its project policy (prerequisites)")
        project_arn, version_arn = custom_labels.seed_trained_version(
            DEV_ACCOUNT, REGION, "dev-defects", "defects.2026-11-01"
        )
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{PROD_ACCOUNT}:root"},
                    "Action": "rekognition:CopyProjectVersion",
                    "Resource": version_arn,
                }
            ],
        }
        cloud.session(DEV_ACCOUNT, REGION).client("rekognition").put_project_policy(
            ProjectArn=project_arn, PolicyName="promote-to-prod", PolicyDocument=json.dumps(policy)
        )
        print(
            f"  source version  {version_arn}\n  project policy  promote-to-prod: {PROD_ACCOUNT} may copy it"
        )

        context = {
            "account": PROD_ACCOUNT,
            "region": REGION,
            "source_project_arn": project_arn,
            "source_version_arn": version_arn,
        }
        with tempfile.TemporaryDirectory(prefix="demo-cdk-out-") as out:
            timeline.heading("cdk synth app.py")
            template, assembly = synthesise({**context, "version_name": "defects-prod-1"}, Path(out) / "v1")
            customs = [k for k, v in template["Resources"].items() if v["Type"].startswith("Custom::")]
            print(f"  {len(template['Resources'])} resources, custom resources: {', '.join(customs)}")
            stack = cloud.stack(
                "RekognitionModelPromotion", account_id=PROD_ACCOUNT, region=REGION, asset_root=assembly
            )

            timeline.heading(f"Prod account {PROD_ACCOUNT}: create stack (a {COPY_MINUTES}-minute copy)")
            results = [("create", stack.create(template))]
            if stack.status == "CREATE_COMPLETE":
                print(f"  outputs: {json.dumps(stack.outputs, indent=None)}")
                timeline.heading("Update: a new version name, so a new copy replaces the old one")
                template2, assembly2 = synthesise(
                    {**context, "version_name": "defects-prod-2"}, Path(out) / "v2"
                )
                stack.asset_root = assembly2
                results.append(("update", stack.update(template2)))
                print(f"  outputs: {json.dumps(stack.outputs, indent=None)}")
                timeline.heading("Delete stack: the copied model is deleted with it")
                results.append(("delete", stack.delete()))
            client = cloud.session(PROD_ACCOUNT, REGION).client("rekognition")
            prod_project = client.describe_projects(ProjectNames=["prod-defects"])["ProjectDescriptions"]
            remaining = (
                [
                    d["ProjectVersionArn"]
                    for d in client.describe_project_versions(ProjectArn=prod_project[0]["ProjectArn"])[
                        "ProjectVersionDescriptions"
                    ]
                ]
                if prod_project
                else []
            )

        rekognition_calls = custom_labels.calls.count(account_id=PROD_ACCOUNT)
        timeline.heading("Summary")
        for operation, status in results:
            print(f"  {operation:<8} {status}")
        print(
            f"  simulated time {timeline._elapsed(clock.now())}, "
            f"real time {time.perf_counter() - wall:.1f} s; "
            f"{len(cloud.invocations)} handler invocations, {rekognition_calls} Rekognition calls in prod"
        )
        if remaining:
            print(f"  versions left in prod: {remaining}")
        problems = timeline.failed + cloud.violations
        expected = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"]
        if [status for _, status in results] != expected or problems:
            for problem in problems:
                print(f"  PROBLEM: {problem}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
