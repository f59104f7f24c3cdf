"""The explorer: random sequences of what CloudFormation users, AWS and Lambda do to the resource, with the
guarantees (tests/invariants.py) checked after every stack event.

A Hypothesis rule-based state machine drives the CloudFormation driver with the real handler on two
accounts: the source (dev) account's stack holds the project policy that lets the destination account copy
a trained version; the destination (prod) account's stack holds the copy. Each run is under one reading of
the behaviours AWS does not document (``emulator.custom_labels.VARIANTS``). Steps: updates that change each
property kind, an update a later resource fails (a rollback), stack deletes and re-creates, Retain,
out-of-band actions (a version deleted or stopped, a project deleted, a policy deleted or replaced by hand),
faults on AWS operations (bursts of throttling, InternalServerError, LimitExceeded), Lambda timeouts (a
call slower than the function's timeout), duplicate and simultaneous deliveries, cold starts, and copies
shorter or longer than ServiceTimeout.

A violated invariant raises an exception of its own class (``I1Violation`` ...), so Hypothesis keeps and
shrinks one failing sequence per invariant. Plain templates, no CDK synth (jsii is slow in a loop).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from emulator import custom_labels
from emulator.clock import SimulatedClock
from emulator.cloudformation import CloudFormation, Stack
from emulator.templates import function_role, without_lambda_retries
from tests.conftest import DEST_ACCOUNT, LATE, REGION, REPO, SOURCE_ACCOUNT
from tests.invariants import Monitor
from tests.variants import apply, readings

FAN_OUT = ("333333333333", "444444444444", "555555555555")  # further destination accounts (I4 only)
KEY_FORMS = ("none", "key_id", "key_arn", "alias", "alias_arn")
PROD_CHANGES = (
    "tags",
    "units",
    "source",
    "version_name",
    "destination_project",
    "project_name",
    "output",
    "key",
    "service_timeout",
)
DEV_CHANGES = ("policy_name", "principals", "fan_out", "bar")
FAULT_OPERATIONS = (
    "DescribeProjectVersions",
    "CopyProjectVersion",
    "DeleteProjectVersion",
    "StartProjectVersion",
    "StopProjectVersion",
    "PutProjectPolicy",
    "DeleteProjectPolicy",
    "ListProjectPolicies",
    "TagResource",
    "ListTagsForResource",
)
TRANSIENT_CODES = ("ThrottlingException", "InternalServerError")
#: How long a copy takes (seconds): shorter and longer than the ServiceTimeouts drawn (900, 3600).
#: EXPLORE_COPY_DURATIONS (comma-separated) narrows them, e.g. to look past a known failure of long copies.
COPY_DURATIONS = tuple(
    float(d) for d in os.environ.get("EXPLORE_COPY_DURATIONS", "180,1800,5400").split(",") if d.strip()
)
#: The probabilities of a delivery twice at once drawn (EXPLORE_DUPLICATES=0: never, to look past the
#: known finding of twin deliveries that both wait).
DUPLICATES = (0.0,) if os.environ.get("EXPLORE_DUPLICATES", "1") == "0" else (0.0, 0.5)
LAMBDA_TIMEOUT = 900
#: Whether the emulator models EventBridge's rules quota (emulator/eventbridge.py, when it exists), and the
#: rules-quota step is wanted (EXPLORE_RULES_QUOTA=0 leaves it out, to look past its known findings).
HAS_RULES_QUOTA = (
    importlib.util.find_spec("emulator.eventbridge") is not None
    and os.environ.get("EXPLORE_RULES_QUOTA", "1") != "0"
)


class I1Violation(AssertionError):
    """A stack ended *_FAILED for a cause not on the allowed list (or a transient one)."""


class I2Violation(AssertionError):
    """A version stopped or deleted by a request of a resource that does not own it."""


class I3Violation(AssertionError):
    """Something the stack created outlived its DELETE_COMPLETE."""


class I4Violation(AssertionError):
    """A destination the deployed template lists could not copy during a policy update."""


class I5Violation(AssertionError):
    """A protocol violation: answers, timing, size, Reason."""


class DriverCrash(AssertionError):
    """The driver raised instead of playing CloudFormation (a template CloudFormation would take)."""


VIOLATIONS = {"I1": I1Violation, "I2": I2Violation, "I3": I3Violation, "I4": I4Violation, "I5": I5Violation}


@dataclass
class ProdShape:
    """What the destination stack's template declares (each explorer update changes one field)."""

    tags: dict[str, str] = field(default_factory=lambda: {"team": "vision"})
    units: int | None = None
    source: str = "v1"
    version_name: str = "defects-prod-1"
    destination: str = "Project"
    project_name: str = "prod-defects"
    output_prefix: str = "copies/"
    key: str = "none"
    service_timeout: int = 3600
    retain: bool = False
    breaker: bool = False  # a later resource that fails: the operation rolls back


@dataclass
class DevShape:
    """What the source stack's template declares."""

    policy_name: str = "promote-to-prod"
    role_principal: bool = False  # the destination's function role rather than its account
    fan_out: int = 0
    bar: float | None = None


def dev_template(shape: DevShape, project_arn: str, versions: dict[str, str]) -> dict[str, Any]:
    principals = [
        f"arn:aws:iam::{DEST_ACCOUNT}:role/prod-model-copy" if shape.role_principal else DEST_ACCOUNT,
        *FAN_OUT[: shape.fan_out],
    ]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principals if len(principals) > 1 else principals[0]},
                "Action": "rekognition:CopyProjectVersion",
                "Resource": sorted(versions.values()),
            }
        ],
    }
    properties: dict[str, Any] = {
        "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
        "ProjectArn": project_arn,
        "PolicyName": shape.policy_name,
        "PolicyDocument": json.dumps(document),
    }
    if shape.bar is not None:
        properties["MinF1Score"] = shape.bar
    # the backing function as the construct makes it: no Lambda retries
    template: dict[str, Any] = {
        "Resources": {
            "Role": function_role(),
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Timeout": LAMBDA_TIMEOUT,
                    "Environment": {"Variables": {"POLL_RULE_PREFIX": "rmc-dev-"}},
                },
                "Metadata": {"aws:asset:path": "lambda"},
            },
            "Policy": {"Type": "Custom::RekognitionProjectPolicy", "Properties": properties},
        }
    }
    return without_lambda_retries(template)


def prod_template(shape: ProdShape, project_arn: str, versions: dict[str, str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
        "SourceProjectArn": project_arn,
        "SourceProjectVersionArn": versions[shape.source],
        "DestinationProjectArn": {"Fn::GetAtt": [shape.destination, "Arn"]},
        "VersionName": shape.version_name,
        "OutputConfig": {"S3Bucket": {"Ref": "Output"}, "S3KeyPrefix": shape.output_prefix},
        "Tags": shape.tags,
        "ServiceTimeout": shape.service_timeout,
    }
    if shape.units is not None:
        properties["MinInferenceUnits"] = shape.units
    key = {
        "key_id": {"Ref": "Key"},
        "key_arn": {"Fn::GetAtt": ["Key", "Arn"]},
        "alias": "alias/prod-models",
        "alias_arn": {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:alias/prod-models"},
    }.get(shape.key)
    if key is not None:
        properties["KmsKeyId"] = key
    copy: dict[str, Any] = {"Type": "Custom::RekognitionModelCopy", "Properties": properties}
    if shape.retain:
        copy["DeletionPolicy"] = copy["UpdateReplacePolicy"] = "Retain"
    resources: dict[str, Any] = {
        "Project": {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": shape.project_name}},
        "Project2": {"Type": "AWS::Rekognition::Project", "Properties": {"ProjectName": "prod-defects-b"}},
        "Output": {"Type": "AWS::S3::Bucket"},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Alias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/prod-models", "TargetKeyId": {"Ref": "Key"}},
        },
        "Role": function_role("prod-model-copy"),
        "Handler": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Timeout": LAMBDA_TIMEOUT,
                "Environment": {"Variables": {"POLL_RULE_PREFIX": "rmc-prod-"}},
            },
            "Metadata": {"aws:asset:path": "lambda"},
        },
        "ModelCopy": copy,
    }
    if shape.key in ("alias", "alias_arn"):
        copy["DependsOn"] = "Alias"
    if shape.breaker:
        # a later resource the handler refuses (bad input): the operation fails after ModelCopy succeeded
        resources["Breaker"] = {
            "Type": "Custom::RekognitionModelCopy",
            "DependsOn": "ModelCopy",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}, "VersionName": "bad name!"},
        }
    return without_lambda_retries({"Resources": resources})  # the backing function as the construct's


@dataclass
class Figures:
    """What a run explored: sequences (examples), steps, and each rule's count."""

    sequences: int = 0
    steps: int = 0
    rules: Counter[str] = field(default_factory=Counter)


class Explorer(RuleBasedStateMachine):
    """See the module. Subclasses set ``variant`` (``{field: reading}``) and ``figures``."""

    variant: dict[str, Any] = {}
    figures = Figures()

    def __init__(self) -> None:
        super().__init__()
        self.figures.sequences += 1
        # ids the driver, moto and the handler draw (RequestIds, names) from a seeded generator: the same
        # sequence runs the same way every time, so shrinking and EXPLORE_SEED are reproducible
        ids = random.Random(self.figures.sequences)
        self._uuid4 = uuid.uuid4
        uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)
        self._environment = dict(os.environ)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
            }
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        custom_labels.reset()
        self._mock = mock_aws()
        self._mock.start()
        self.clock = SimulatedClock()
        custom_labels.set_clock(self.clock)
        apply(self.variant)  # the variant's readings, checked against VARIANTS
        self.cloud: CloudFormation | None = None
        self.monitor = Monitor(transient_faults_only=True)
        self.dev_shape, self.prod_shape = DevShape(), ProdShape()
        self.dev: Stack | None = None
        self.prod: Stack | None = None
        self.project_arn = ""
        self.versions: dict[str, str] = {}

    # -- helpers ------------------------------------------------------------------------------------------
    def _step(self, name: str) -> None:
        self.figures.steps += 1
        self.figures.rules[name] += 1

    def _operate(self, action: Any) -> str:
        try:
            return str(action())
        except Exception as error:
            if isinstance(error, AssertionError):
                raise
            raise DriverCrash(f"{type(error).__name__}: {error}") from error

    def _check(self) -> None:
        if self.monitor.violations:
            invariant_name, text = self.monitor.violations[0]
            raise VIOLATIONS[invariant_name](f"{invariant_name}: {text}")

    def _live(self, stack: Stack | None) -> bool:
        return stack is not None and stack.status not in (
            "NOT_CREATED",
            "DELETE_COMPLETE",
            "ROLLBACK_COMPLETE",
        )

    def _dev_template(self) -> dict[str, Any]:
        return dev_template(self.dev_shape, self.project_arn, self.versions)

    def _prod_template(self) -> dict[str, Any]:
        return prod_template(self.prod_shape, self.project_arn, self.versions)

    # -- the start ------------------------------------------------------------------------------------------
    @initialize(
        copy_duration=st.sampled_from(COPY_DURATIONS),
        service_timeout=st.sampled_from([3600, 900]),
        duplicates=st.sampled_from(DUPLICATES),
        units=st.sampled_from([None, 1]),
    )
    def start(self, copy_duration: float, service_timeout: int, duplicates: float, units: int | None) -> None:
        """Both accounts' stacks; a copy that takes ``copy_duration`` against ``service_timeout``."""
        self._step("start")
        custom_labels.config.copy_duration = copy_duration
        self.cloud = CloudFormation(
            self.clock, duplicate_schedule_deliveries=duplicates, duplicate_deliveries=duplicates, seed=7
        )
        custom_labels.set_clock(self.cloud.runtime.service_clock())
        self.monitor.attach(self.cloud)
        self.project_arn, v1 = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1")
        _, v2 = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v2")
        self.versions = {"v1": v1, "v2": v2}
        self.prod_shape.service_timeout, self.prod_shape.units = service_timeout, units
        self.dev = self.cloud.stack("dev", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
        self._operate(lambda: self.dev.create(self._dev_template()))
        self.prod = self.cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
        self._operate(lambda: self.prod.create(self._prod_template()))
        self._check()

    # -- stack operations ---------------------------------------------------------------------------------
    @precondition(lambda self: self._live(self.prod))
    @rule(change=st.sampled_from(PROD_CHANGES), fails_later=st.booleans())
    def update_prod(self, change: str, fails_later: bool) -> None:
        """An update of the copy's stack changing one property kind (rolled back when ``fails_later``)."""
        self._step(f"update_prod:{change}{':rollback' if fails_later else ''}")
        shape = self.prod_shape
        if change == "tags":
            shape.tags = {"team": "vision", "build": str(len(shape.tags) + 1)}
        elif change == "units":
            shape.units = None if shape.units else 1
        elif change == "source":
            shape.source = "v2" if shape.source == "v1" else "v1"
        elif change == "version_name":
            shape.version_name = shape.version_name + "x"
        elif change == "destination_project":
            shape.destination = "Project2" if shape.destination == "Project" else "Project"
        elif change == "project_name":
            shape.project_name = "prod-defects-c" if shape.project_name == "prod-defects" else "prod-defects"
        elif change == "output":
            shape.output_prefix = "copies/again/" if shape.output_prefix == "copies/" else "copies/"
        elif change == "key":
            shape.key = KEY_FORMS[(KEY_FORMS.index(shape.key) + 1) % len(KEY_FORMS)]
        elif change == "service_timeout":
            shape.service_timeout = 900 if shape.service_timeout == 3600 else 3600
        shape.breaker = fails_later
        prod = self.prod
        assert prod is not None
        status = self._operate(lambda: prod.update(self._prod_template()))
        shape.breaker = False
        if status == "UPDATE_ROLLBACK_COMPLETE":
            self.prod_shape = _shape_of(prod, self.prod_shape, change)
        self._check()

    @precondition(lambda self: self._live(self.dev))
    @rule(change=st.sampled_from(DEV_CHANGES))
    def update_dev(self, change: str) -> None:
        """An update of the policy's stack: its name, principals, fan-out accounts or quality bar."""
        self._step(f"update_dev:{change}")
        shape = self.dev_shape
        if change == "policy_name":
            shape.policy_name = (
                "promote-again" if shape.policy_name == "promote-to-prod" else "promote-to-prod"
            )
        elif change == "principals":
            shape.role_principal = not shape.role_principal
        elif change == "fan_out":
            shape.fan_out = (shape.fan_out + 1) % (len(FAN_OUT) + 1)
        elif change == "bar":
            shape.bar = None if shape.bar is not None else 0.5
        dev = self.dev
        assert dev is not None
        self._operate(lambda: dev.update(self._dev_template()))
        self._check()

    @precondition(lambda self: self._live(self.prod))
    @rule()
    def retain(self) -> None:
        """DeletionPolicy and UpdateReplacePolicy Retain on the copy (a template change only)."""
        self._step("retain")
        self.prod_shape.retain = not self.prod_shape.retain
        prod = self.prod
        assert prod is not None
        self._operate(lambda: prod.update(self._prod_template()))
        self._check()

    @precondition(lambda self: self._live(self.prod))
    @rule()
    def delete_prod(self) -> None:
        self._step("delete_prod")
        prod = self.prod
        assert prod is not None
        self._operate(prod.delete)
        self._check()

    @precondition(lambda self: self._live(self.dev))
    @rule()
    def delete_dev(self) -> None:
        self._step("delete_dev")
        dev = self.dev
        assert dev is not None
        self._operate(dev.delete)
        self._check()

    @precondition(lambda self: self.cloud is not None and not self._live(self.prod))
    @rule()
    def create_prod_again(self) -> None:
        self._step("create_prod_again")
        assert self.cloud is not None
        self.prod = self.cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
        prod = self.prod
        self._operate(lambda: prod.create(self._prod_template()))
        self._check()

    @precondition(lambda self: self.cloud is not None and not self._live(self.dev))
    @rule()
    def create_dev_again(self) -> None:
        self._step("create_dev_again")
        assert self.cloud is not None
        self.dev = self.cloud.stack("dev", account_id=SOURCE_ACCOUNT, region=REGION, asset_root=REPO)
        dev = self.dev
        self._operate(lambda: dev.create(self._dev_template()))
        self._check()

    # -- out of band ----------------------------------------------------------------------------------------
    def _prod_client(self) -> Any:
        assert self.cloud is not None
        return self.cloud.session(DEST_ACCOUNT, REGION).client("rekognition")

    def _dev_client(self) -> Any:
        assert self.cloud is not None
        return self.cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")

    def _held_copy(self) -> str:
        resource = self.prod.resources.get("ModelCopy") if self.prod else None
        return resource.physical_id if resource and "/version/" in resource.physical_id else ""

    @precondition(lambda self: self.cloud is not None)
    @rule(what=st.sampled_from(["delete_version", "stop_version", "delete_project"]))
    def by_hand_prod(self, what: str) -> None:
        """Someone deletes or stops the copy, or deletes its project, outside CloudFormation."""
        self._step(f"by_hand:{what}")
        client, arn = self._prod_client(), self._held_copy()
        try:
            if what == "stop_version" and arn:
                client.stop_project_version(ProjectVersionArn=arn)
            elif what == "delete_version" and arn:
                client.delete_project_version(ProjectVersionArn=arn)
            elif what == "delete_project" and self.prod and "Project" in self.prod.resources:
                project = self.prod.resources[self.prod_shape.destination].attributes["Arn"]
                for version in client.describe_project_versions(ProjectArn=project)[
                    "ProjectVersionDescriptions"
                ]:
                    client.delete_project_version(ProjectVersionArn=version["ProjectVersionArn"])
                self.clock.advance(custom_labels.config.delete_duration + 1)
                client.delete_project(ProjectArn=project)
        except client.exceptions.ClientError:
            pass  # the service refused (in use, not found): nothing changed
        self._check()

    @precondition(lambda self: self.cloud is not None)
    @rule(what=st.sampled_from(["delete_policy", "replace_policy"]))
    def by_hand_dev(self, what: str) -> None:
        """Someone deletes or rewrites the source project's policy outside CloudFormation."""
        self._step(f"by_hand:{what}")
        client = self._dev_client()
        try:
            for policy in client.list_project_policies(ProjectArn=self.project_arn)["ProjectPolicies"]:
                if what == "delete_policy":
                    client.delete_project_policy(ProjectArn=self.project_arn, PolicyName=policy["PolicyName"])
                else:
                    # the destination account (or its role) replaced by another account's root
                    document = re.sub(
                        rf"arn:aws:iam::{DEST_ACCOUNT}:[^\"]*|\b{DEST_ACCOUNT}\b",
                        "arn:aws:iam::999999999999:root",
                        policy["PolicyDocument"],
                    )
                    client.put_project_policy(
                        ProjectArn=self.project_arn,
                        PolicyName=policy["PolicyName"],
                        PolicyRevisionId=policy["PolicyRevisionId"],
                        PolicyDocument=document,
                    )
        except client.exceptions.ClientError:
            pass  # the person's call failed (a fault injected for the handler, a refused document)
        self._check()

    @precondition(lambda self: self._live(self.prod))
    @rule()
    def foreign_delete(self) -> None:
        """A Delete of another logical id, whose physical id is the held copy's ARN, sent straight to the
        function (an event invoked by hand, or another stack's resource): the copy is not its to delete."""
        self._step("foreign_delete")
        prod, arn = self.prod, self._held_copy()
        assert prod is not None and self.cloud is not None
        if not arn:
            return
        held = prod.resources["ModelCopy"]
        request = prod.custom_request("Intruder", "Delete", {"Type": held.type}, dict(held.properties), arn)
        self._operate(lambda: self.cloud.run([request]) if self.cloud else None)
        self._check()

    # -- faults -----------------------------------------------------------------------------------------
    @precondition(lambda self: self.cloud is not None)
    @rule(
        operation=st.sampled_from(FAULT_OPERATIONS),
        code=st.sampled_from(TRANSIENT_CODES),
        times=st.integers(min_value=1, max_value=12),
    )
    def transient_fault(self, operation: str, code: str, times: int) -> None:
        """The next ``times`` calls of an operation (any account) fail with a transient error."""
        self._step("transient_fault")
        custom_labels.faults.inject(operation, code, times=times)

    @precondition(lambda self: self.cloud is not None)
    @rule(operation=st.sampled_from(["CopyProjectVersion", "StartProjectVersion", "PutProjectPolicy"]))
    def limit_exceeded(self, operation: str) -> None:
        """The next call of an operation hits a quota (a cause a stack may fail for, with a clear Reason)."""
        self._step("limit_exceeded")
        custom_labels.faults.inject(operation, "LimitExceededException", times=1)

    @precondition(lambda self: self.cloud is not None)
    @rule(
        operation=st.sampled_from(["DescribeProjectVersions", "CopyProjectVersion", "DeleteProjectVersion"])
    )
    def lambda_timeout(self, operation: str) -> None:
        """The next call of an operation takes longer than the function's timeout: Lambda stops the
        invocation (and does not retry it: the construct's function has no retries)."""
        self._step("lambda_timeout")
        custom_labels.faults.inject_latency(operation, LAMBDA_TIMEOUT + 60)

    @precondition(lambda self: self.cloud is not None)
    @rule()
    def cold_starts(self) -> None:
        """Every warm container is gone: the next invocations start cold."""
        self._step("cold_starts")
        assert self.cloud is not None
        for function in self.cloud.functions.values():
            function.idle.clear()

    @precondition(lambda self: self.cloud is not None and HAS_RULES_QUOTA)
    @rule()
    def rules_quota(self) -> None:
        """EventBridge's rules quota is reached (when the emulator models it: emulator/eventbridge.py)."""
        self._step("rules_quota")
        eventbridge = importlib.import_module("emulator.eventbridge")
        assert self.cloud is not None
        events = self.cloud.session(DEST_ACCOUNT, REGION).client("events")
        present = sum(len(page["Rules"]) for page in events.get_paginator("list_rules").paginate())
        # the destination account's bus is full: no rule can be added until a rule goes
        eventbridge.set_rules_quota(eventbridge.DEFAULT_RULES_PER_BUS)
        room = eventbridge.DEFAULT_RULES_PER_BUS - present
        eventbridge.fill_rules(DEST_ACCOUNT, REGION, room, prefix=f"other-{present}-")

    # -- checks -----------------------------------------------------------------------------------------
    @invariant()
    def guarantees_hold(self) -> None:
        self._check()

    def teardown(self) -> None:
        """Delete what is left (the copy's stack first), let deferred work finish, then the end checks."""
        try:
            if self.cloud is not None:
                custom_labels.faults.clear()
                if HAS_RULES_QUOTA:
                    importlib.import_module("emulator.eventbridge").set_rules_quota(None)
                for stack in (self.prod, self.dev):
                    if stack is not None and self._live(stack) and not stack.status.endswith("_FAILED"):
                        self._operate(stack.delete)
                self.cloud.settle(LATE)
                self.monitor.finish()
                self._check()
        finally:
            self.monitor.detach()
            if self.cloud is not None:
                self.cloud.close()
            self._mock.stop()
            uuid.uuid4 = self._uuid4
            custom_labels.reset()
            os.environ.clear()
            os.environ.update(self._environment)


def _shape_of(stack: Stack, shape: ProdShape, change: str) -> ProdShape:
    """After a rollback the stack's template is the old one: undo the change in the shape."""
    properties = stack.template["Resources"]["ModelCopy"]["Properties"]
    restored = ProdShape(**{**shape.__dict__})
    restored.tags = dict(properties.get("Tags", {}))
    restored.units = int(properties["MinInferenceUnits"]) if "MinInferenceUnits" in properties else None
    restored.version_name = str(properties["VersionName"])
    restored.output_prefix = str(properties["OutputConfig"]["S3KeyPrefix"])
    restored.service_timeout = int(properties["ServiceTimeout"])
    restored.destination = properties["DestinationProjectArn"]["Fn::GetAtt"][0]
    restored.project_name = str(stack.template["Resources"]["Project"]["Properties"]["ProjectName"])
    source = properties["SourceProjectVersionArn"]
    restored.source = "v2" if "/version/v2/" in str(source) else "v1"
    key = properties.get("KmsKeyId")
    restored.key = (
        "none"
        if key is None
        else "key_id"
        if key == {"Ref": "Key"}
        else "key_arn"
        if isinstance(key, dict) and "Fn::GetAtt" in key
        else "alias"
        if key == "alias/prod-models"
        else "alias_arn"
    )
    return restored


def machine_for(variant: dict[str, Any], figures: Figures | None = None) -> type[Explorer]:
    """The explorer under one variant (``{field: reading}``; {} for the emulator's defaults)."""
    name = "Explorer_" + ("_".join(f"{k}_{v}" for k, v in variant.items()) or "defaults")
    return type(name, (Explorer,), {"variant": dict(variant), "figures": figures or Figures()})


def replay(variant: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """Run one sequence (``start`` first, as Hypothesis printed it: (rule, arguments)) under a variant,
    the teardown included; returns the violations found ((invariant, text); the first one stops it)."""
    machine = machine_for(variant)()
    try:
        try:
            for name, arguments in steps:
                getattr(machine, name)(**arguments)
                machine.guarantees_hold()
        finally:
            machine.teardown()
    except AssertionError as error:
        name = next((k for k, v in VIOLATIONS.items() if isinstance(error, v)), type(error).__name__)
        return [(name, str(error))]
    return []


def variants() -> list[dict[str, Any]]:
    """The defaults, then each field of VARIANTS at each of its other readings."""
    found: list[dict[str, Any]] = [{}]
    for name in custom_labels.VARIANTS:
        found.extend(readings(name)[1:])
    return found
