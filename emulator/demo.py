"""`make demo`: a dev -> prod model promotion across two accounts, run locally on emulated AWS.

1. Synthesises the example app (``app.py``) with the CDK, as ``cdk synth`` would: a dev stack (the
   project policy on the source project) and a prod stack (project, key, bucket, the model copy).
2. Creates in the emulated dev account what must exist beforehand: a project with a trained model whose
   evaluation (F1 score) is below the promotion's quality bar.
3. Plays CloudFormation, every call authorized as AWS would (the function's role as synthesised, the
   project, key and bucket policies): first the prod stack alone, to show the copy is denied without the
   policy; then the dev stack with a quality bar (MinF1Score), which refuses to let that model be copied;
   a better model is trained, and the dev stack (policy) and the prod stack (copy, started and RUNNING)
   deploy; an update with a new version name (a new copy replaces the old, running one); and finally
   deletes both stacks.
4. Prints the stack events as CloudFormation shows them, with simulated time, and a summary.

The real Lambda handler and crhelper do the work. No credentials, no network, a few seconds of real
time. Exits non-zero if anything did not end as expected.
"""

from __future__ import annotations

import json
import logging
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
MIN_F1_SCORE = 0.9
"""The promotion's quality bar."""
FIRST_F1, BETTER_F1 = 0.812, 0.934
"""The F1 scores of the first model and of the better one trained next."""


def _fake_credentials() -> None:
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION
    )


def synthesise(context: dict[str, Any], outdir: Path) -> tuple[dict[str, dict[str, Any]], Path]:
    """Synthesise app.py into ``outdir``; returns the templates by stack name and the assembly dir."""
    sys.path.insert(0, str(REPO))
    import app as example

    os.environ["CDK_OUTDIR"] = str(outdir)
    # what the cdk CLI sets: asset metadata tells the driver which directory a function runs from
    assembly = example.build_app({**context, "aws:cdk:enable-asset-metadata": True}).synth()
    return {s.stack_name: dict(s.template) for s in assembly.stacks}, Path(assembly.directory)


class Timeline:
    """Prints stack events like the CloudFormation console, and a progress line while waiting."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.start = clock.now()
        self.live = sys.stdout.isatty()
        self._progress = False

    def elapsed(self, at: float | None = None) -> str:
        seconds = int((self.clock.now() if at is None else at) - self.start)
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def _clear(self) -> None:
        if self._progress:
            sys.stdout.write("\r\033[K")
            self._progress = False

    def on_event(self, event: Any) -> None:
        self._clear()
        reason = f"  {_short(event.reason)}" if event.reason else ""
        logical = event.logical_id if len(event.logical_id) <= 40 else event.logical_id[:37] + "..."
        print(
            f"  +{self.elapsed(event.time)}  {event.stack:<30} {logical:<40} {event.status}{reason}",
            flush=True,
        )

    def on_wait(self, requests: list[Any]) -> None:
        if not self.live:
            return
        names = ", ".join(f"{r.logical_id} ({r.event['RequestType']})" for r in requests)
        sys.stdout.write(f"\r\033[K  ... +{self.elapsed()}  waiting for {names}")
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

    # the handler logs for CloudWatch; here the stack events tell the story (see the tests for the logs)
    logging.getLogger().addHandler(logging.NullHandler())
    wall = time.perf_counter()
    clock = SimulatedClock()
    custom_labels.reset(clock=clock)
    custom_labels.config.copy_duration = COPY_MINUTES * 60
    timeline = Timeline(clock)
    results: list[tuple[str, str, str]] = []
    with mock_aws(), CloudFormation(clock, on_event=timeline.on_event, on_wait=timeline.on_wait) as cloud:
        custom_labels.set_clock(cloud.runtime.service_clock())
        timeline.heading(f"Dev account {DEV_ACCOUNT}: a trained model (it exists before any stack)")
        project_arn, first_arn = custom_labels.seed_trained_version(
            DEV_ACCOUNT, REGION, "dev-defects", "defects.2026-11-01", f1_score=FIRST_F1
        )
        print(f"  source version  {first_arn}  (F1 score {FIRST_F1})")

        context = {
            "dev_account": DEV_ACCOUNT,
            "prod_account": PROD_ACCOUNT,
            "region": REGION,
            "source_project_arn": project_arn,
            "source_version_arn": first_arn,
            "min_inference_units": 1,
            "min_f1_score": MIN_F1_SCORE,
        }
        with tempfile.TemporaryDirectory(prefix="demo-cdk-out-") as out:
            timeline.heading("cdk synth app.py")
            templates, assembly = synthesise({**context, "version_name": "defects-prod-1"}, Path(out) / "v1")
            dev_name, prod_name = sorted(templates, key=lambda name: name != "RekognitionModelPromotion-Dev")
            for name, template in templates.items():
                customs = sorted(
                    v["Type"] for v in template["Resources"].values() if v["Type"].startswith("Custom::")
                )
                print(f"  {name}: {len(template['Resources'])} resources, {', '.join(customs)}")

            def stack(name: str, account: str) -> Any:
                return cloud.stack(name, account_id=account, region=REGION, asset_root=assembly)

            timeline.heading(
                "Prod stack alone first: without the dev account's project policy, the copy is denied"
            )
            denied = stack(prod_name, PROD_ACCOUNT)
            results.append(("prod without policy", denied.create(templates[prod_name]), "ROLLBACK_COMPLETE"))
            results.append(("delete rolled-back stack", denied.delete(), "DELETE_COMPLETE"))

            # app.py with -c min_f1_score=0.9: the dev stack's project policy carries MinF1Score, and its
            # function may read the source project's versions (DescribeProjectVersions) to check it.
            timeline.heading(
                f"Dev stack with a quality bar (MinF1Score {MIN_F1_SCORE}): the model is not good enough"
            )
            gated = stack(dev_name, DEV_ACCOUNT)
            results.append(
                (
                    "dev create, below the bar",
                    gated.create(templates[dev_name]),
                    "ROLLBACK_COMPLETE",
                )
            )
            print(f"  Reason: {_failure(cloud, 'Custom::RekognitionProjectPolicy')}")
            source = cloud.session(DEV_ACCOUNT, REGION).client("rekognition")
            put = source.list_project_policies(ProjectArn=project_arn)["ProjectPolicies"]
            print(f"  project policies on dev-defects: {len(put)}: the prod account cannot copy this model")
            results.append(("delete refused stack", gated.delete(), "DELETE_COMPLETE"))

            timeline.heading(f"A better model is trained (F1 score {BETTER_F1}); cdk synth again")
            _, version_arn = custom_labels.seed_trained_version(
                DEV_ACCOUNT, REGION, "dev-defects", "defects.2026-11-15", f1_score=BETTER_F1
            )
            print(f"  source version  {version_arn}  (F1 score {BETTER_F1})")
            context["source_version_arn"] = version_arn
            templates, assembly = synthesise({**context, "version_name": "defects-prod-1"}, Path(out) / "v1b")

            timeline.heading("Dev stack: the bar is met; the project policy lets the prod account copy it")
            dev = stack(dev_name, DEV_ACCOUNT)
            results.append(("dev create, bar met", dev.create(templates[dev_name]), "CREATE_COMPLETE"))
            policy_resource = next(
                r for r in dev.resources.values() if r.type == "Custom::RekognitionProjectPolicy"
            )
            policy = json.loads(policy_resource.properties["PolicyDocument"])
            print(
                f"  principal {policy['Statement'][0]['Principal']['AWS']} "
                "(in prod, only the copy role's own IAM policy allows this copy)"
            )

            timeline.heading(f"Prod stack: a {COPY_MINUTES}-minute copy, then started with 1 inference unit")
            prod = stack(prod_name, PROD_ACCOUNT)
            results.append(("prod create", prod.create(templates[prod_name]), "CREATE_COMPLETE"))
            print(f"  copied from {version_arn.split('/version/')[1].split('/')[0]}")
            print(f"  outputs: {json.dumps(prod.outputs)}")
            print(f"  model status: {_status(prod)}")

            timeline.heading("Update: a new version name, so a new copy replaces the old (running) one")
            templates2, assembly2 = synthesise(
                {**context, "version_name": "defects-prod-2"}, Path(out) / "v2"
            )
            prod.asset_root = assembly2
            results.append(("prod update", prod.update(templates2[prod_name]), "UPDATE_COMPLETE"))
            print(f"  outputs: {json.dumps(prod.outputs)}")
            print(f"  model status: {_status(prod)}")

            timeline.heading(
                "Delete both stacks: the running model is stopped, then deleted; the policy removed"
            )
            results.append(("prod delete", prod.delete(), "DELETE_COMPLETE"))
            results.append(("dev delete", dev.delete(), "DELETE_COMPLETE"))
            left = custom_labels.backend(PROD_ACCOUNT, REGION)
            print(f"  prod account: {len(getattr(left, 'projects', {}))} projects left")

        timeline.heading("Summary")
        for operation, status, expected in results:
            mark = "ok " if status == expected else "NOT"
            print(f"  {mark} {operation:<26} {status}")
        calls = custom_labels.calls.count(account_id=PROD_ACCOUNT)
        print(
            f"  simulated time {timeline.elapsed()}, real time {time.perf_counter() - wall:.1f} s; "
            f"{len(cloud.invocations)} handler invocations, {calls} Rekognition calls in prod"
        )
        problems = [f"{o}: {s}, expected {e}" for o, s, e in results if s != e] + cloud.audit()
        for problem in problems:
            print(f"  PROBLEM: {problem}")
        return 1 if problems else 0


def _short(reason: str, limit: int = 150) -> str:
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


def _failure(cloud: Any, resource_type: str) -> str:
    """The Reason of the last FAILED stack event of a resource of ``resource_type``, in full."""
    failed = [e for e in cloud.events if e.status.endswith("_FAILED") and e.reason]
    return str(next(e.reason for e in reversed(failed) if e.resource_type == resource_type))


def _status(stack: Any) -> str:
    copy = next(r for r in stack.resources.values() if r.type == "Custom::RekognitionModelCopy")
    return f"{copy.attributes.get('VersionName')} {copy.attributes.get('Status')}"


if __name__ == "__main__":
    sys.exit(main())
