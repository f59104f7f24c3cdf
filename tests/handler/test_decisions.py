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
import model_copy as mc  # noqa: E402
import polling  # noqa: E402
import project_policy as pp  # noqa: E402
from errors import ResourceError  # noqa: E402
from outcome import Deadline  # noqa: E402

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
        {"Tags": {mc.OWNER_TAG: "x"}},
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
        mc.CopyProperties.parse(props(**bad))
    assert mc.identity_of(props(**bad)) is None  # nothing was ever made from them


def test_199_tags_fit_with_the_owner_marker() -> None:
    copy = mc.CopyProperties.parse(props(Tags={f"k{i}": "v" for i in range(199)}))
    assert len(copy.copy_request("owner")["Tags"]) == 200


# --- update: in place or another version --------------------------------------------------------------------
def test_plan_update() -> None:
    desired = mc.CopyProperties.parse(props())
    assert mc.plan_update(desired, version("v-prod")) is mc.Kind.IN_PLACE
    assert mc.plan_update(desired, version("v-old")) is mc.Kind.REPLACE
    assert mc.plan_update(desired, version("v-prod", project="elsewhere")) is mc.Kind.REPLACE
    assert mc.plan_update(desired, "prod-ModelCopy-ABC") is mc.Kind.REPLACE


def test_mismatches_compare_with_the_version_not_the_old_properties() -> None:
    desired = mc.CopyProperties.parse(props())
    same = {
        "SourceProjectVersionArn": SOURCE,
        "OutputConfig": {"S3Bucket": "bucket", "S3KeyPrefix": "copies/"},
    }
    assert mc.mismatches(desired, same) == []
    other = {**same, "SourceProjectVersionArn": OTHER_SOURCE, "KmsKeyId": "arn:aws:kms:x:1:key/k"}
    assert mc.mismatches(desired, other) == ["SourceProjectVersionArn", "KmsKeyId"]


# --- adoption -----------------------------------------------------------------------------------------
def test_adoption_needs_the_owner_marker_and_the_same_source() -> None:
    description = {"SourceProjectVersionArn": SOURCE}
    assert mc.adoption(description, {mc.OWNER_TAG: "me"}, "me", SOURCE) is mc.Adoption.ADOPT
    assert mc.adoption(description, {mc.OWNER_TAG: "them"}, "me", SOURCE) is mc.Adoption.NOT_OWNED
    assert mc.adoption(description, {}, "me", SOURCE) is mc.Adoption.NOT_OWNED
    assert mc.adoption(description, {mc.OWNER_TAG: "me"}, "me", OTHER_SOURCE) is mc.Adoption.OTHER_SOURCE


def test_resource_in_use_without_a_version_of_that_name_passes_the_service_message_on(client: Any) -> None:
    copy = mc.CopyProperties.parse(props())
    with Stubber(client) as stub:
        stub.add_client_error(
            "copy_project_version", "ResourceInUseException", "The source is TRAINING_IN_PROGRESS."
        )
        stub.add_response("describe_project_versions", {"ProjectVersionDescriptions": []})
        with pytest.raises(ResourceError) as raised:
            mc.start_copy(client, copy, "me")
        stub.assert_no_pending_responses()
    assert "TRAINING_IN_PROGRESS" in str(raised.value) and "version name" not in str(raised.value)


def test_a_redelivered_create_adopts_its_own_copy(client: Any) -> None:
    copy = mc.CopyProperties.parse(props())
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
        stub.add_response("list_tags_for_resource", {"Tags": {mc.OWNER_TAG: "me"}})
        target, made = mc.start_copy(client, copy, "me")
        stub.assert_no_pending_responses()
    assert (target.arn, made) == (version("v-prod"), False)


# --- serving ------------------------------------------------------------------------------------------
def test_serving_goal() -> None:
    running = mc.CopyProperties.parse(props(MinInferenceUnits="2", MaxInferenceUnits="3"))
    plain = mc.CopyProperties.parse(props())
    assert mc.serving_goal(running) == mc.Serving(mc.Goal.RUN, 2, 3)
    assert mc.serving_goal(plain, {"MinInferenceUnits": "1"}) == mc.Serving(mc.Goal.STOP)
    assert mc.serving_goal(plain, {"MinInferenceUnits": "garbage"}) == mc.Serving(mc.Goal.STOP)
    assert mc.serving_goal(plain, {}) == mc.Serving(mc.Goal.LEAVE)


RUN_1 = mc.Serving(mc.Goal.RUN, 1, None)


@pytest.mark.parametrize(
    ("status", "description", "serving", "action"),
    [
        ("COPYING_IN_PROGRESS", {}, RUN_1, mc.Action.WAIT),
        ("COPYING_FAILED", {}, RUN_1, mc.Action.COPY_FAILED),
        ("COPYING_COMPLETED", {}, mc.Serving(), mc.Action.DONE),
        ("COPYING_COMPLETED", {}, RUN_1, mc.Action.START),
        ("STARTING", {}, RUN_1, mc.Action.WAIT),
        ("RUNNING", {"MinInferenceUnits": 1}, RUN_1, mc.Action.DONE),
        ("RUNNING", {"MinInferenceUnits": 2}, RUN_1, mc.Action.STOP),
        ("RUNNING", {}, mc.Serving(mc.Goal.STOP), mc.Action.STOP),
        ("STOPPED", {}, mc.Serving(mc.Goal.STOP), mc.Action.DONE),
        ("FAILED", {}, RUN_1, mc.Action.START_FAILED),
        ("DELETING", {}, RUN_1, mc.Action.UNEXPECTED),
    ],
)
def test_serving_action(status: str, description: dict[str, Any], serving: Any, action: Any) -> None:
    assert mc.serving_action(status, description, serving) is action


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (None, mc.Action.GONE),
        ("COPYING_IN_PROGRESS", mc.Action.WAIT),  # never deleted while copying
        ("STARTING", mc.Action.WAIT),
        ("DELETING", mc.Action.WAIT),
        ("RUNNING", mc.Action.STOP),
        ("STOPPED", mc.Action.DELETE),
        ("COPYING_FAILED", mc.Action.DELETE),
        ("COPYING_COMPLETED", mc.Action.DELETE),
    ],
)
def test_removal_action(status: str | None, action: Any) -> None:
    assert mc.removal_action(status) is action


# --- what a failure removes ---------------------------------------------------------------------------
def test_a_failure_never_removes_the_held_version() -> None:
    held, new, stray = (mc.Version(PROJECT, version(n)) for n in ("held", "new", "stray"))
    replace = mc.Work(mc.Kind.REPLACE, new, made=True, strays=(stray,))
    assert mc.to_remove_on_failure(replace, held.arn) == [stray, new]
    adopted = mc.Work(mc.Kind.REPLACE, held, made=False)  # a rollback adopting the old copy
    assert mc.to_remove_on_failure(adopted, new.arn) == []
    in_place = mc.Work(mc.Kind.IN_PLACE, held, strays=(held,))
    assert mc.to_remove_on_failure(in_place, held.arn) == []
    create = mc.Work(mc.Kind.CREATE, new, made=True)  # the Delete CloudFormation sends removes it
    assert mc.to_remove_on_failure(create, new.arn) == []


def test_work_survives_the_trip_through_data() -> None:
    work = mc.Work(
        mc.Kind.REPLACE,
        mc.Version(PROJECT, version("new")),
        mc.Serving(mc.Goal.RUN, 1, 2),
        True,
        (mc.Version(PROJECT, version("stray")),),
        SOURCE,
        600.0,
    )
    assert mc.Work.from_data(work.to_data()) == work


# --- waiting ------------------------------------------------------------------------------------------
class FixedClock:
    def __init__(self, now: float) -> None:
        self.time = now

    def now(self) -> float:
        return self.time


def test_throttling_while_waiting_is_a_wait_not_a_failure(client: Any) -> None:
    target = mc.Version(PROJECT, version("v-prod"))
    with Stubber(client) as stub:
        stub.add_client_error("describe_project_versions", "ThrottlingException", "Slow down.")
        progress = mc.converge_step(client, target, mc.Serving(), SOURCE)
    assert not progress.done and "ThrottlingException" in progress.note


def test_advance_gives_up_in_time_and_names_the_status(client: Any) -> None:
    target = mc.Version(PROJECT, version("v-prod"))
    work = mc.Work(mc.Kind.DELETE, target, timeout=300)
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
    assert polling.answer_by(0.0, timeout) == timeout - min(15, timeout / 4)


@pytest.mark.parametrize("seconds", [3, 10, 25, 60, 200])
def test_a_client_retry_budget_fits_in_the_time_left(seconds: float) -> None:
    config = polling.fitted_config(seconds)
    budget = polling.retry_budget(config.retries["max_attempts"], config.connect_timeout, config.read_timeout)
    assert budget <= max(seconds, polling.retry_budget(1, 1.0, 2.0))


# --- project policies ---------------------------------------------------------------------------------
def test_policy_ownership_is_read_from_the_physical_id() -> None:
    owned = pp.physical_id(SOURCE_PROJECT, "promote", "abc123")
    adopted = pp.physical_id(SOURCE_PROJECT, "promote", None)
    assert pp.held(owned) == pp.Held(SOURCE_PROJECT, "promote", "abc123", False)
    assert pp.held(adopted) == pp.Held(SOURCE_PROJECT, "promote", None, True)
    assert pp.held(f"{SOURCE_PROJECT}/policy/promote") == pp.Held(SOURCE_PROJECT, "promote", None, False)
    assert pp.held("dev-Policy-XYZ") is None


def test_a_policy_delete_names_the_revision_it_put(client: Any) -> None:
    with Stubber(client) as stub:
        stub.add_client_error("delete_project_policy", "InvalidPolicyRevisionIdException", "Changed.")
        outcome = pp.delete(client, {}, pp.physical_id(SOURCE_PROJECT, "promote", "abc123"))
        stub.assert_no_pending_responses()
    assert outcome.complete  # someone else's revision now: left alone


# --- the crhelper contract polling.py relies on ----------------------------------------------------------
def test_the_crhelper_methods_polling_overrides_still_exist() -> None:
    import inspect

    from crhelper import resource_helper

    for name in polling.CRHELPER_OVERRIDES:
        ours = inspect.signature(getattr(polling.PollingResource, name)).parameters
        theirs = inspect.signature(getattr(resource_helper.CfnResource, name)).parameters
        assert list(ours) == list(theirs), name
    # the timer is made through the module's threading (what a test driver virtualises)
    crhelper: Any = resource_helper.CfnResource  # its stubs declare only the public API
    assert "threading.Timer" in inspect.getsource(crhelper._set_timeout)
    assert "_set_timeout()" in inspect.getsource(crhelper._crhelper_init)
