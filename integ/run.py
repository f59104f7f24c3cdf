"""``make integ``: deploy the integration tests into real AWS accounts, assert, destroy.

    INTEG_SOURCE_VERSION_ARN=arn:aws:rekognition:...:project/<p>/version/<v>/<ts> \\
    INTEG_SOURCE_PROJECT_ARN=arn:aws:rekognition:...:project/<p>/<ts> \\
    INTEG_DESTINATION_ACCOUNT=222222222222 \\
    python integ/run.py [integ_model_copy.py] [integ_promotion.py] [--keep]

It runs ``@aws-cdk/integ-runner`` (pinned in package.json) on the selected test apps with ``--force``: each
is deployed even though its snapshot is current (the test and assertion stacks, through the CDK bootstrap
roles of their accounts), its assertions are evaluated, and its stacks are destroyed (also after a failure;
``--keep`` passes ``--no-clean`` and leaves them for inspection). integ-runner runs on a scratch copy of
``integ/``, so a run with real ARNs never rewrites the committed snapshots. The apps run with this Python
(``make integ`` uses the floor environment: integ-runner 2.197.10 reads cloud assemblies up to schema 53,
which aws-cdk-lib up to 2.257.0 writes).

Before deploying anything it checks what it needs and stops (exit status 2) if something is missing:
the inputs (see settings.py), AWS credentials (any the AWS CLI would use: AWS_PROFILE, environment
variables, SSO, an instance role), and the ``integ-runner`` command (``make setup``). It does not check
bootstrap: the deployment says which account and Region are not bootstrapped.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

INTEG_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEG_DIR.parent
MODEL_COPY = "integ_model_copy.py"
PROMOTION = "integ_promotion.py"
ALL_TESTS = (MODEL_COPY, PROMOTION)
ENV_SOURCE_VERSION_ARN = "INTEG_SOURCE_VERSION_ARN"
ENV_SOURCE_PROJECT_ARN = "INTEG_SOURCE_PROJECT_ARN"
ENV_DESTINATION_ACCOUNT = "INTEG_DESTINATION_ACCOUNT"
EXIT_NOT_READY = 2

NEEDS = f"""\
make integ deploys real stacks; it needs:
  - {ENV_SOURCE_VERSION_ARN}: a TRAINED Rekognition Custom Labels model version (training takes about an
    hour; the tests do not train one), e.g.
    arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001
  - {ENV_SOURCE_PROJECT_ARN}: its project, e.g.
    arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000
  - {ENV_DESTINATION_ACCOUNT} (for {PROMOTION}): a second account, the promotion's destination
  - AWS credentials (AWS_PROFILE=..., or the variables or SSO session the AWS CLI uses); the stacks of an
    account the credentials are not for are deployed through that account's CDK bootstrap roles
  - both accounts bootstrapped in the version's Region, the other account trusting the credentials' one:
      npx cdk bootstrap aws://<source account>/<region>
      npx cdk bootstrap aws://<destination account>/<region> --trust <source account> \\
          --cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess
Run only the same-account copy with: make integ INTEG_TESTS={MODEL_COPY}
See README.md, "Verify in your accounts"."""


class NotReady(Exception):
    """Something make integ needs is missing; nothing was deployed."""


# The shape only, to find the account and Region before anything runs (importing the construct library's
# own pattern would start the CDK's runtime); the test apps validate the ARNs fully when they synthesise.
_VERSION_ARN = re.compile(
    r"^arn:[a-z0-9-]+:rekognition:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):project/[^/]+/version/[^/]+/\d+$"
)


def _parse_version_arn(arn: str) -> tuple[str, str]:
    """(account, region) of a project version ARN."""
    match = _VERSION_ARN.match(arn)
    if match is None:
        raise NotReady(f"{ENV_SOURCE_VERSION_ARN}={arn!r} is not a Rekognition project version ARN.")
    return match["account"], match["region"]


def preflight(environ: Mapping[str, str], selected: Sequence[str]) -> tuple[str, str]:
    """Check inputs, tools and credentials; return (caller account, region). Raises NotReady."""
    missing = [
        name for name in (ENV_SOURCE_VERSION_ARN, ENV_SOURCE_PROJECT_ARN) if not environ.get(name, "").strip()
    ]
    if PROMOTION in selected and not environ.get(ENV_DESTINATION_ACCOUNT, "").strip():
        missing.append(ENV_DESTINATION_ACCOUNT)
    if missing:
        raise NotReady(f"Not set: {', '.join(missing)}.")
    if shutil.which("integ-runner") is None:
        raise NotReady(
            "No `integ-runner` command on PATH: run `make setup` (it installs it under node_modules/)."
        )
    source_account, region = _parse_version_arn(environ[ENV_SOURCE_VERSION_ARN].strip())
    destination = environ.get(ENV_DESTINATION_ACCOUNT, "").strip()
    if PROMOTION in selected and destination == source_account:
        raise NotReady(
            f"{ENV_DESTINATION_ACCOUNT} must be another account than the source's ({source_account})."
        )

    import boto3  # late: only a run that got this far needs it
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        identity = boto3.client("sts", region_name=region).get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise NotReady(f"No usable AWS credentials ({type(error).__name__}: {error}).") from error
    caller_account = str(identity["Account"])
    print(f"Credentials: {identity['Arn']} (account {caller_account}); Region {region}.")
    others = sorted({source_account, destination} - {caller_account, ""})
    if others:
        print(
            f"Account(s) {', '.join(others)} will be deployed through their CDK bootstrap roles: they "
            f"must trust account {caller_account} (cdk bootstrap --trust {caller_account})."
        )
    return caller_account, region


INPUT_ENV_VARS = (ENV_SOURCE_VERSION_ARN, ENV_SOURCE_PROJECT_ARN, ENV_DESTINATION_ACCOUNT)
INTEG_RUNNER_MAX_SCHEMA = 53
"""The newest cloud assembly schema (major version) integ-runner 2.197.10 reads; aws-cdk-lib up to 2.257.0
writes it or an older one."""
SNAPSHOT_KEPT_OUT = ("tree.json", "asset.*")
"""What ``make integ-snapshot`` removes from the snapshots integ-runner writes: the construct tree and the
asset directories (integ-tests-alpha's bundled handler). The snapshot check compares templates and
manifests only, and asset hashes are not compared (integ-runner's default); the update workflow, which
would deploy the committed snapshot with its assets, is off (``--no-update-workflow``)."""


def snapshot_command(directory: Path, python: str, *, update: bool = False) -> list[str]:
    """integ-runner's snapshot check of the apps in ``directory``, offline: each app is synthesised with the
    placeholder inputs and compared with its ``<app>.snapshot/``; a difference fails, nothing is deployed.
    With ``update``, the snapshots that differ are rewritten, still without deploying (``--dry-run``)."""
    return [
        *_runner(directory, python),
        "--no-update-workflow",
        *(["--update-on-failed", "--dry-run"] if update else []),
    ]


def _runner(directory: Path, python: str, *tests: str) -> list[str]:
    """integ-runner on the Python apps of ``directory`` (``tests``: only those), run with ``python``."""
    return [
        "integ-runner",
        *tests,
        "--directory",
        str(directory),
        "--language",
        "python",
        "--app",
        f"{shlex.quote(python)} {{filePath}}",
    ]


def snapshot_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of a snapshot synthesis: without the real inputs (the snapshots hold placeholders)
    and without CDK context from the caller."""
    return {k: v for k, v in environ.items() if k not in INPUT_ENV_VARS and k != "CDK_CONTEXT_JSON"}


def update_snapshots(python: str) -> int:
    """``make integ-snapshot``: rewrite the snapshots that differ, then drop :data:`SNAPSHOT_KEPT_OUT`."""
    status = subprocess.call(
        snapshot_command(INTEG_DIR, python, update=True), cwd=REPO_ROOT, env=snapshot_env(os.environ)
    )
    for snapshot in INTEG_DIR.glob("*.snapshot"):
        for pattern in SNAPSHOT_KEPT_OUT:
            for path in snapshot.glob(pattern):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    return status


def integ_runner_command(
    tests: Sequence[str], directory: Path, region: str, python: str, keep: bool
) -> list[str]:
    """The integ-runner command line that deploys, asserts and destroys ``tests`` (of ``directory``)."""
    return [
        *_runner(directory, python, *tests),
        # Deploy even when the snapshot is current (without it a matching snapshot is a pass, no deploy).
        "--force",
        # The Region of the source version: the apps pin their stacks to it.
        "--parallel-regions",
        region,
        # Do not first deploy the committed snapshot (it holds placeholder ARNs).
        "--no-update-workflow",
        *(["--no-clean"] if keep else []),
    ]


def run_tests(tests: Sequence[str], environ: Mapping[str, str], region: str, keep: bool) -> int:
    """Run integ-runner on a scratch copy of integ/ (apps, settings.py, snapshots); its exit status."""
    with tempfile.TemporaryDirectory(prefix="integ-run-") as workdir:
        directory = Path(workdir) / "integ"
        shutil.copytree(INTEG_DIR, directory, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
        command = integ_runner_command(tests, directory, region, sys.executable, keep)
        print("+ " + shlex.join(command), flush=True)
        status = subprocess.call(command, cwd=REPO_ROOT, env=dict(environ))
    if keep:
        print("Stacks KEPT (--keep): delete them with cdk destroy or in the CloudFormation console.")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", help=f"of {', '.join(ALL_TESTS)} (default: both)")
    parser.add_argument("--keep", action="store_true", help="do not destroy the stacks afterwards")
    parser.add_argument(
        "--update-snapshots", action="store_true", help="rewrite the snapshots offline (deploys nothing)"
    )
    args = parser.parse_args(argv)
    if args.update_snapshots:
        return update_snapshots(sys.executable)
    selected = list(dict.fromkeys(args.tests)) or list(ALL_TESTS)
    unknown = [test for test in selected if test not in ALL_TESTS]
    if unknown:
        parser.error(f"unknown test(s) {', '.join(unknown)}; choose from {', '.join(ALL_TESTS)}")
    try:
        _, region = preflight(os.environ, selected)
    except NotReady as error:
        print(f"make integ: nothing deployed. {error}\n\n{NEEDS}", file=sys.stderr)
        return EXIT_NOT_READY
    return run_tests(selected, os.environ, region, args.keep)


if __name__ == "__main__":
    sys.exit(main())
