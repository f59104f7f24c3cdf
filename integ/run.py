"""``make integ``: deploy the integration tests into real AWS accounts, assert, destroy.

    INTEG_SOURCE_VERSION_ARN=arn:aws:rekognition:...:project/<p>/version/<v>/<ts> \\
    INTEG_SOURCE_PROJECT_ARN=arn:aws:rekognition:...:project/<p>/<ts> \\
    INTEG_DESTINATION_ACCOUNT=222222222222 \\
    python integ/run.py [integ_model_copy.py] [integ_promotion.py] [--keep]

For each test app it does what integ-runner does for a test that needs deploying (integ-runner itself
cannot read aws-cdk-lib 2.275.0's cloud assemblies yet, see snapshot.py): ``cdk deploy --all`` of the test
and assertion stacks with the project's own CDK CLI, checks the assertion results in the stack outputs,
then ``cdk destroy --all --force`` (also after a failure; ``--keep`` leaves the stacks for inspection).

Before deploying anything it checks what it needs and stops (exit status 2) if something is missing:
the inputs (see settings.py), AWS credentials (any the AWS CLI would use: AWS_PROFILE, environment
variables, SSO, an instance role), and the ``cdk`` command (``make setup``). It does not check bootstrap:
``cdk deploy`` says which account and Region are not bootstrapped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
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
    if shutil.which("cdk") is None:
        raise NotReady(
            "No `cdk` command on PATH: run `make setup` (it installs the CDK CLI under node_modules/)."
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


def _cdk(arguments: Sequence[str], app: str, environ: Mapping[str, str]) -> int:
    command = ["cdk", *arguments, "--app", app]
    print("+ " + shlex.join(command), flush=True)
    return subprocess.call(command, cwd=REPO_ROOT, env=dict(environ))


def assertion_failures(outputs: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The failed assertions among the stack outputs (integ-tests-alpha writes one ``AssertionResults*``
    output per assertion, ``{"status": "success"|"fail", "message": ...}``)."""
    failures = []
    for stack, values in outputs.items():
        for key, value in values.items():
            if not key.startswith("AssertionResults"):
                continue
            try:
                result = json.loads(value)
            except ValueError:
                failures.append(f"{stack}.{key}: not an assertion result: {value!r}")
                continue
            if result.get("status") != "success":
                failures.append(f"{stack}.{key}: {result.get('message', result)}")
    return failures


def run_test(test: str, environ: Mapping[str, str], keep: bool) -> tuple[bool, str]:
    """Deploy, assert, destroy one test app; (passed, summary)."""
    started = time.monotonic()
    app = f"{shlex.quote(sys.executable)} {shlex.quote(str(INTEG_DIR / test))}"
    with tempfile.TemporaryDirectory(prefix="integ-run-") as workdir:
        outputs_file = Path(workdir) / "outputs.json"
        common = ["--output", str(Path(workdir) / "cdk.out")]
        passed = False
        detail = ""
        try:
            status = _cdk(
                [
                    "deploy",
                    "--all",
                    "--require-approval",
                    "never",
                    "--outputs-file",
                    str(outputs_file),
                    *common,
                ],
                app,
                environ,
            )
            if status != 0:
                detail = f"cdk deploy failed (exit {status}); the stack events above say why"
            else:
                outputs = json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
                failures = assertion_failures(outputs)
                passed = not failures
                detail = "; ".join(failures) if failures else "assertions passed"
        finally:
            if keep:
                detail += "; stacks KEPT (--keep): destroy them with cdk destroy --all --app " + shlex.quote(
                    app
                )
            else:
                status = _cdk(["destroy", "--all", "--force", *common], app, environ)
                if status != 0:
                    passed = False
                    detail += f"; cdk destroy FAILED (exit {status}): delete the stacks by hand"
    return passed, f"{'PASS' if passed else 'FAIL'} {test} ({time.monotonic() - started:.0f} s): {detail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", help=f"of {', '.join(ALL_TESTS)} (default: both)")
    parser.add_argument("--keep", action="store_true", help="do not destroy the stacks afterwards")
    args = parser.parse_args(argv)
    selected = list(dict.fromkeys(args.tests)) or list(ALL_TESTS)
    unknown = [test for test in selected if test not in ALL_TESTS]
    if unknown:
        parser.error(f"unknown test(s) {', '.join(unknown)}; choose from {', '.join(ALL_TESTS)}")
    try:
        preflight(os.environ, selected)
    except NotReady as error:
        print(f"make integ: nothing deployed. {error}\n\n{NEEDS}", file=sys.stderr)
        return EXIT_NOT_READY
    results = [run_test(test, os.environ, args.keep) for test in selected]
    print("\n".join(summary for _, summary in results))
    return 0 if all(passed for passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
