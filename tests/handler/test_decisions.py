"""Fast unit tests of the handler's decisions (plain functions over typed state), with botocore's Stubber
where a call is made. The lifecycle tests show the same decisions through CloudFormation."""

from __future__ import annotations

import sys
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "lambda"))
from cfn import time_budget  # noqa: E402
from outcome import Deadline  # noqa: E402
from resources import copy_calls as calls  # noqa: E402
from resources import copy_decisions as dec  # noqa: E402
from resources import copy_properties as cp  # noqa: E402
from resources import model_copy as mc  # noqa: E402
from resources import project_policy as pp  # noqa: E402
from resources.errors import ResourceError  # noqa: E402

PROJECT = "arn:aws:rekognition:us-east-1:222222222222:project/prod/1700000000000"
SOURCE_PROJECT = "arn:aws:rekognition:us-east-1:111111111111:project/dev/1600000000000"
SOURCE = "arn:aws:rekognition:us-east-1:111111111111:project/dev/version/v1/1600000000001"
OTHER_SOURCE = "arn:aws:rekognition:us-east-1:111111111111:project/dev/version/v2/1600000000002"


def version(name: str, project: str = "prod") -> str:
    return f"arn:aws:rekognition:us-east-1:222222222222:project/{project}/version/{name}/1700000000001"


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "SourceProjectArn": SOURCE_PROJECT,
        "SourceProjectVersionArn": SOURCE,
        "DestinationProjectArn": PROJECT,
        "VersionName": "v-prod",
        "OutputConfig": {"S3Bucket": "bucket", "S3KeyPrefix": "copies/"},
    }
    return {**base, **overrides}


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


# --- properties -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        {"Tags": {"aws:team": "x"}},
        {"Tags": {cp.OWNER_TAG: "x"}},
        {"Tags": [{"Key": "a", "Value": "b"}]},
        {"Tags": {f"k{i}": "v" for i in range(200)}},
        {"MinInferenceUnits": "3", "MaxInferenceUnits": "2"},
        {"VersionName": "has space"},
        {"DestinationProjectArn": "arn:aws:rekognition:us-east-1:222222222222:project/prod"},
        {"SourceProjectArn": "arn:aws:rekognition:us-east-1:111111111111:project/other/1"},
    ],
)
def test_parse_rejects_what_can_never_be_valid(bad: dict[str, Any]) -> None:
    with pytest.raises(ResourceError):
        cp.CopyProperties.parse(props(**bad))
    assert cp.identity_of(props(**bad)) is None  # nothing was ever made from them


def test_199_tags_fit_with_the_owner_marker() -> None:
    copy = cp.CopyProperties.parse(props(Tags={f"k{i}": "v" for i in range(199)}))
    assert len(copy.copy_request("owner")["Tags"]) == 200


KEY_ARN = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_copy_with_a_key_carries_the_key_marker_and_198_tags_fit() -> None:
    copy = cp.CopyProperties.parse(props(KmsKeyId="alias/models", Tags={f"k{i}": "v" for i in range(198)}))
    tags = copy.copy_request("owner", KEY_ARN)["Tags"]
    assert len(tags) == 200 and tags[cp.KMS_KEY_TAG] == KEY_ARN and tags[cp.OWNER_TAG] == "owner"
    assert copy.copy_request("owner")["Tags"][cp.KMS_KEY_TAG] == "alias/models"  # not resolved
    assert cp.KMS_KEY_TAG not in cp.CopyProperties.parse(props()).copy_request("owner", KEY_ARN)["Tags"]
    with pytest.raises(ResourceError, match="key marker.*at most 198"):
        cp.CopyProperties.parse(props(KmsKeyId="alias/models", Tags={f"k{i}": "v" for i in range(199)}))


@pytest.mark.parametrize("marker", [cp.OWNER_TAG, cp.KMS_KEY_TAG])
def test_the_markers_are_refused_as_user_tags(marker: str) -> None:
    with pytest.raises(ResourceError, match="reserved"):
        cp.CopyProperties.parse(props(Tags={marker: "x"}))


# --- update: in place or another version --------------------------------------------------------------------
def test_plan_update() -> None:
    desired = cp.CopyProperties.parse(props())
    assert dec.plan_update(desired, version("v-prod")) is dec.Kind.IN_PLACE
    assert dec.plan_update(desired, version("v-old")) is dec.Kind.REPLACE
    assert dec.plan_update(desired, version("v-prod", project="elsewhere")) is dec.Kind.REPLACE
    assert dec.plan_update(desired, "prod-ModelCopy-ABC") is dec.Kind.REPLACE


def test_mismatches_compare_with_the_version_not_the_old_properties() -> None:
    desired = cp.CopyProperties.parse(props())
    same = {
        "SourceProjectVersionArn": SOURCE,
        "OutputConfig": {"S3Bucket": "bucket", "S3KeyPrefix": "copies/"},
    }
    assert dec.mismatches(desired, same) == []
    other = {**same, "SourceProjectVersionArn": OTHER_SOURCE, "KmsKeyId": "arn:aws:kms:x:1:key/k"}
    assert dec.mismatches(desired, other) == ["SourceProjectVersionArn", "KmsKeyId"]


def test_an_undescribed_key_is_the_key_marker_of_the_copy() -> None:
    output = {"S3Bucket": "bucket", "S3KeyPrefix": "copies/"}
    described = {"SourceProjectVersionArn": SOURCE, "OutputConfig": output}
    keyed = cp.CopyProperties.parse(props(KmsKeyId="alias/models"))
    arns = {"alias/models": KEY_ARN, KEY_ARN: KEY_ARN, "alias/other": KEY_ARN.replace("1234abcd", "9999abcd")}
    assert dec.mismatches(keyed, described, KEY_ARN, arns.get) == []
    assert dec.mismatches(keyed, described, None, arns.get) == ["KmsKeyId"]  # made without a key
    other = cp.CopyProperties.parse(props(KmsKeyId="alias/other"))
    assert dec.mismatches(other, described, KEY_ARN, arns.get) == ["KmsKeyId"]
    assert dec.mismatches(cp.CopyProperties.parse(props()), described, KEY_ARN, arns.get) == ["KmsKeyId"]
    assert dec.mismatches(keyed, {**described, "KmsKeyId": KEY_ARN}, None, arns.get) == []  # described wins


# --- adoption -----------------------------------------------------------------------------------------
def test_adoption_needs_the_owner_marker_and_the_same_source() -> None:
    description = {"SourceProjectVersionArn": SOURCE}
    assert dec.adoption(description, {cp.OWNER_TAG: "me"}, "me", SOURCE) is dec.Adoption.ADOPT
    assert dec.adoption(description, {cp.OWNER_TAG: "them"}, "me", SOURCE) is dec.Adoption.NOT_OWNED
    assert dec.adoption(description, {}, "me", SOURCE) is dec.Adoption.NOT_OWNED
    assert dec.adoption(description, {cp.OWNER_TAG: "me"}, "me", OTHER_SOURCE) is dec.Adoption.OTHER_SOURCE


def test_resource_in_use_without_a_version_of_that_name_passes_the_service_message_on(client: Any) -> None:
    copy = cp.CopyProperties.parse(props())
    with Stubber(client) as stub:
        stub.add_client_error(
            "copy_project_version", "ResourceInUseException", "The source is TRAINING_IN_PROGRESS."
        )
        stub.add_response("describe_project_versions", {"ProjectVersionDescriptions": []})
        with pytest.raises(ResourceError) as raised:
            calls.start_copy(client, copy, "me")
        stub.assert_no_pending_responses()
    assert "TRAINING_IN_PROGRESS" in str(raised.value) and "version name" not in str(raised.value)


def test_a_redelivered_create_adopts_its_own_copy(client: Any) -> None:
    copy = cp.CopyProperties.parse(props())
    with Stubber(client) as stub:
        stub.add_client_error("copy_project_version", "ResourceInUseException", "Name taken.")
        stub.add_response(
            "describe_project_versions",
            {
                "ProjectVersionDescriptions": [
                    {"ProjectVersionArn": version("v-prod"), "SourceProjectVersionArn": SOURCE}
                ]
            },
        )
        stub.add_response("list_tags_for_resource", {"Tags": {cp.OWNER_TAG: "me"}})
        stub.add_response("tag_resource", {})  # marked as taken: a cleanup left before leaves it
        target, made = calls.start_copy(client, copy, "me")
        stub.assert_no_pending_responses()
    assert (target.arn, made) == (version("v-prod"), False)


# --- serving ------------------------------------------------------------------------------------------
def test_serving_goal() -> None:
    running = cp.CopyProperties.parse(props(MinInferenceUnits="2", MaxInferenceUnits="3"))
    plain = cp.CopyProperties.parse(props())
    assert dec.serving_goal(running) == dec.Serving(dec.Goal.RUN, 2, 3)
    assert dec.serving_goal(plain, {"MinInferenceUnits": "1"}) == dec.Serving(dec.Goal.STOP)
    assert dec.serving_goal(plain, {"MinInferenceUnits": "garbage"}) == dec.Serving(dec.Goal.STOP)
    assert dec.serving_goal(plain, {}) == dec.Serving(dec.Goal.LEAVE)


RUN_1 = dec.Serving(dec.Goal.RUN, 1, None)


@pytest.mark.parametrize(
    ("status", "description", "serving", "action"),
    [
        ("COPYING_IN_PROGRESS", {}, RUN_1, dec.Action.WAIT),
        ("COPYING_FAILED", {}, RUN_1, dec.Action.COPY_FAILED),
        ("COPYING_COMPLETED", {}, dec.Serving(), dec.Action.DONE),
        ("COPYING_COMPLETED", {}, RUN_1, dec.Action.START),
        ("STARTING", {}, RUN_1, dec.Action.WAIT),
        ("RUNNING", {"MinInferenceUnits": 1}, RUN_1, dec.Action.DONE),
        ("RUNNING", {"MinInferenceUnits": 2}, RUN_1, dec.Action.STOP),
        ("RUNNING", {}, dec.Serving(dec.Goal.STOP), dec.Action.STOP),
        ("STOPPED", {}, dec.Serving(dec.Goal.STOP), dec.Action.DONE),
        ("FAILED", {}, RUN_1, dec.Action.START_FAILED),
        ("DELETING", {}, RUN_1, dec.Action.UNEXPECTED),
    ],
)
def test_serving_action(status: str, description: dict[str, Any], serving: Any, action: Any) -> None:
    assert dec.serving_action(status, description, serving) is action


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (None, dec.Action.GONE),
        ("COPYING_IN_PROGRESS", dec.Action.DELETE),  # tried: refused, it is left to a cleanup
        ("STARTING", dec.Action.WAIT),
        ("DELETING", dec.Action.WAIT),
        ("RUNNING", dec.Action.STOP),
        ("STOPPED", dec.Action.DELETE),
        ("COPYING_FAILED", dec.Action.DELETE),
        ("COPYING_COMPLETED", dec.Action.DELETE),
    ],
)
def test_removal_action(status: str | None, action: Any) -> None:
    assert dec.removal_action(status) is action


# --- what a failure removes ---------------------------------------------------------------------------
def test_a_failure_never_removes_the_held_version() -> None:
    held, new, stray = (dec.Version(PROJECT, version(n)) for n in ("held", "new", "stray"))
    replace = dec.Work(dec.Kind.REPLACE, new, made=True, strays=(stray,))
    assert dec.to_remove_on_failure(replace, held.arn) == [stray, new]
    adopted = dec.Work(dec.Kind.REPLACE, held, made=False)  # a rollback adopting the old copy
    assert dec.to_remove_on_failure(adopted, new.arn) == []
    in_place = dec.Work(dec.Kind.IN_PLACE, held, strays=(held,))
    assert dec.to_remove_on_failure(in_place, held.arn) == []
    create = dec.Work(dec.Kind.CREATE, new, made=True)  # the Delete CloudFormation sends removes it
    assert dec.to_remove_on_failure(create, new.arn) == []


def test_work_survives_the_trip_through_data() -> None:
    work = dec.Work(
        dec.Kind.REPLACE,
        dec.Version(PROJECT, version("new")),
        dec.Serving(dec.Goal.RUN, 1, 2),
        True,
        (dec.Version(PROJECT, version("stray")),),
        SOURCE,
        600.0,
    )
    assert dec.Work.from_data(work.to_data()) == work


# --- waiting ------------------------------------------------------------------------------------------
class FixedClock:
    def __init__(self, now: float) -> None:
        self.time = now

    def now(self) -> float:
        return self.time


def test_throttling_while_waiting_is_a_wait_not_a_failure(client: Any) -> None:
    target = dec.Version(PROJECT, version("v-prod"))
    with Stubber(client) as stub:
        stub.add_client_error("describe_project_versions", "ThrottlingException", "Slow down.")
        progress = calls.converge_step(client, target, dec.Serving(), SOURCE)
    assert not progress.done and "ThrottlingException" in progress.note


def test_advance_gives_up_in_time_and_names_the_status(client: Any) -> None:
    target = dec.Version(PROJECT, version("v-prod"))
    work = dec.Work(dec.Kind.DELETE, target, timeout=300)
    clock = FixedClock(1000.0)
    deadline = Deadline(answer_by=1050.0, clock=clock, step=20.0, round=60.0)  # no time for another look
    with Stubber(client) as stub:
        stub.add_response(
            "describe_project_versions",
            {"ProjectVersionDescriptions": [{"ProjectVersionArn": target.arn, "Status": "STARTING"}]},
        )
        with pytest.raises(ResourceError) as raised:
            mc.advance(client, work.to_data(), target.arn, deadline)
    assert "Gave up waiting" in str(raised.value) and "STARTING" in str(raised.value)


@pytest.mark.parametrize("timeout", [10, 40, 60, 120, 3600])
def test_the_answer_is_due_15_s_or_a_quarter_of_the_timeout_early(timeout: int) -> None:
    assert time_budget.answer_by(0.0, timeout) == timeout - min(15, timeout / 4)


@pytest.mark.parametrize("seconds", [3, 10, 25, 60, 200])
def test_a_client_retry_budget_fits_in_the_time_left(seconds: float) -> None:
    config = time_budget.fitted_config(seconds)
    budget = time_budget.retry_budget(
        config.retries["max_attempts"], config.connect_timeout, config.read_timeout
    )
    assert budget <= max(seconds, time_budget.retry_budget(1, 1.0, 2.0))


# --- project policies ---------------------------------------------------------------------------------
def test_policy_ownership_is_read_from_the_physical_id() -> None:
    owned = pp.physical_id(SOURCE_PROJECT, "promote", "abc123")
    adopted = pp.physical_id(SOURCE_PROJECT, "promote", None)
    assert pp.held(owned) == pp.Held(SOURCE_PROJECT, "promote", "abc123", False)
    assert pp.held(adopted) == pp.Held(SOURCE_PROJECT, "promote", None, True)
    assert pp.held(f"{SOURCE_PROJECT}/policy/promote") == pp.Held(SOURCE_PROJECT, "promote", None, False)
    assert pp.held("dev-Policy-XYZ") is None
    renamed = pp.physical_id(SOURCE_PROJECT, "promote-v2", "def456", ("promote", "abc123"))
    assert renamed == f"{SOURCE_PROJECT}/policy/promote-v2/revision/def456/replaces/promote/revision/abc123"
    assert pp.held(renamed) == pp.Held(SOURCE_PROJECT, "promote-v2", "def456", False, ("promote", "abc123"))


def test_a_policy_delete_reads_the_revision_first_and_names_it(client: Any) -> None:
    def listed(revision: str) -> dict[str, Any]:
        policy = {"ProjectArn": SOURCE_PROJECT, "PolicyName": "promote", "PolicyDocument": "{}"}
        return {"ProjectPolicies": [{**policy, "PolicyRevisionId": revision}]}

    with Stubber(client) as stub:
        stub.add_response("list_project_policies", listed("def4"))
        outcome = pp.delete(client, {}, pp.physical_id(SOURCE_PROJECT, "promote", "abc1"))
        stub.assert_no_pending_responses()  # another revision now: left alone, no DeleteProjectPolicy at all
    assert outcome.complete
    with Stubber(client) as stub:
        stub.add_response("list_project_policies", listed("abc1"))
        stub.add_response(
            "delete_project_policy",
            {},
            {"ProjectArn": SOURCE_PROJECT, "PolicyName": "promote", "PolicyRevisionId": "abc1"},
        )
        assert pp.delete(client, {}, pp.physical_id(SOURCE_PROJECT, "promote", "abc1")).complete
        stub.assert_no_pending_responses()
