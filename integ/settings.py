"""What the integration tests (``integ_*.py``, run by ``@aws-cdk/integ-runner``) deploy against.

A copy needs a TRAINED source model version (training one takes about an hour), so the tests do not make
one: they are given its ARN and its project's ARN, as CDK context (``cdk synth --app "python
integ/integ_model_copy.py" -c source_version_arn=...``) or, because integ-runner passes no ``-c`` of its
own to the apps it runs, as environment variables (``make integ`` sets them from its arguments):

=========================  ================================  ==========================================
context key                environment variable              meaning
=========================  ================================  ==========================================
``source_version_arn``     ``INTEG_SOURCE_VERSION_ARN``      the trained model version to copy
``source_project_arn``     ``INTEG_SOURCE_PROJECT_ARN``      its project (the ARN with its timestamp)
``destination_account``    ``INTEG_DESTINATION_ACCOUNT``     the promotion's second account (prod)
=========================  ================================  ==========================================

The source account and the Region are those of the version ARN: the same-account copy deploys into the
source account, the promotion's policy stack too, its copy stack into the destination account.

Without them the tests synthesise with :data:`PLACEHOLDER_SOURCE_VERSION_ARN` and friends: well-formed
ARNs of a model that does not exist (account 111111111111, project ``integ-placeholder``). That is what the
committed snapshots (``integ_*.py.snapshot/``) hold, so ``make test`` compares them offline, without AWS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_rekognition as rekognition
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest
from constructs import Node

from rekognition_model_copy import RekognitionModelCopy, RekognitionModelCopyProvider
from rekognition_model_copy.validation import PROJECT_VERSION_ARN_PATTERN

ENV_SOURCE_VERSION_ARN = "INTEG_SOURCE_VERSION_ARN"
ENV_SOURCE_PROJECT_ARN = "INTEG_SOURCE_PROJECT_ARN"
ENV_DESTINATION_ACCOUNT = "INTEG_DESTINATION_ACCOUNT"
INPUT_ENV_VARS = (ENV_SOURCE_VERSION_ARN, ENV_SOURCE_PROJECT_ARN, ENV_DESTINATION_ACCOUNT)

PLACEHOLDER_SOURCE_PROJECT_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/integ-placeholder/1700000000000"
)
PLACEHOLDER_SOURCE_VERSION_ARN = (
    "arn:aws:rekognition:us-east-1:111111111111:project/integ-placeholder/version/"
    "placeholder.not-a-real-model/1700000000001"
)
PLACEHOLDER_DESTINATION_ACCOUNT = "222222222222"

APP_CONTEXT = {
    # The assertion stack reads the project and the copy of the test stack (a cross-stack reference): keep
    # CloudFormation exports ("strong", the default today), stated so the CDK does not warn every synth.
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
}
"""Context of both test apps."""

COPY_VERSION_NAME = "integ-copy"
"""Name of the copy in the test's own (new) destination project."""


@dataclass(frozen=True)
class Inputs:
    """The source model version and the accounts and Region the tests deploy to."""

    source_project_arn: str
    source_version_arn: str
    source_account: str
    region: str
    destination_account: str
    placeholders: bool
    """True when no source version was given: synthesis for the snapshot, nothing to deploy."""


def read_inputs(node: Node, environ: Mapping[str, str] | None = None) -> Inputs:
    """The inputs from ``node``'s context, else the environment, else the placeholders.

    :raises ValueError: a version ARN without its project ARN (or the reverse), or an ARN that is not a
        project version ARN; the construct library checks the rest (same Region, same project, ...).
    """
    env = os.environ if environ is None else environ

    def value(key: str, variable: str) -> str:
        found = node.try_get_context(key)
        return str(found) if found is not None else env.get(variable, "").strip()

    version_arn = value("source_version_arn", ENV_SOURCE_VERSION_ARN)
    project_arn = value("source_project_arn", ENV_SOURCE_PROJECT_ARN)
    destination = value("destination_account", ENV_DESTINATION_ACCOUNT)
    if bool(version_arn) != bool(project_arn):
        raise ValueError(
            f"Give both the source version ARN ({ENV_SOURCE_VERSION_ARN} or -c source_version_arn) and its "
            f"project's ARN ({ENV_SOURCE_PROJECT_ARN} or -c source_project_arn), or neither (placeholders, "
            "for the snapshot)."
        )
    placeholders = not version_arn
    version_arn = version_arn or PLACEHOLDER_SOURCE_VERSION_ARN
    project_arn = project_arn or PLACEHOLDER_SOURCE_PROJECT_ARN
    match = PROJECT_VERSION_ARN_PATTERN.match(version_arn)
    if match is None:
        raise ValueError(
            f"The source version ARN {version_arn!r} is not a Rekognition project version ARN "
            "(arn:aws:rekognition:<region>:<account>:project/<project>/version/<version>/<timestamp>)."
        )
    return Inputs(
        source_project_arn=project_arn,
        source_version_arn=version_arn,
        source_account=match["account"],
        region=match["region"],
        destination_account=destination or PLACEHOLDER_DESTINATION_ACCOUNT,
        placeholders=placeholders,
    )


def discard_provider_logs(*stacks: Stack) -> None:
    """Delete the backing functions' log groups with the test stacks (the library keeps them by default),
    so that a test run leaves no log group of its own behind."""
    for stack in stacks:
        RekognitionModelCopyProvider.of(stack).log_group.apply_removal_policy(RemovalPolicy.DESTROY)


def integ_test(
    app: App,
    name: str,
    test_cases: list[Stack],
    assertions_stack: Stack,
    region: str,
    project: rekognition.CfnProject,
    copy: RekognitionModelCopy,
) -> IntegTest:
    """The test and its assertions: the custom resource answers only once the copy is COPYING_COMPLETED;
    the assertion checks that in the service's own words, polling briefly (eventual consistency), then
    that the ARN the resource returned is the copy's."""
    integ = IntegTest(
        app,
        name,
        test_cases=test_cases,
        assertion_stack=assertions_stack,
        regions=[region],
        # The committed snapshot holds placeholder ARNs: deploying it first (the update workflow) cannot work.
        stack_update_workflow=False,
    )
    request = {"ProjectArn": project.attr_arn, "VersionNames": [copy.version_name]}
    describe = integ.assertions.aws_api_call("Rekognition", "describeProjectVersions", request)
    # assert_at_path also limits the data returned to that path (a custom resource may return 4 KB at most).
    describe.assert_at_path("ProjectVersionDescriptions.0.Status", ExpectedResult.exact("COPYING_COMPLETED"))
    describe.wait_for_assertions(interval=Duration.seconds(15), total_timeout=Duration.minutes(5))
    describe.next(
        integ.assertions.aws_api_call("Rekognition", "describeProjectVersions", request).assert_at_path(
            "ProjectVersionDescriptions.0.ProjectVersionArn", ExpectedResult.exact(copy.project_version_arn)
        )
    )
    return integ
