"""Two deliveries of one project-policy request that run at the same moment (Lambda's asynchronous
invocation is at least once) both find no policy and both put it: the second put meets the first's
policy, and both must answer alike (the claim rule is a check and a write, so both may pass it). The
handler's functions are called directly, on the emulator, with the second delivery's put run between the
first delivery's read and its put."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, REPO, SOURCE_ACCOUNT
from tests.handler.conftest import granted, policies, policy_document
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture

sys.path.insert(0, str(REPO / "lambda"))
from resources import project_policy as pp  # noqa: E402
from resources.errors import ResourceError  # noqa: E402

PROD = f"arn:aws:iam::{DEST_ACCOUNT}:root"
OTHER = "arn:aws:iam::333333333333:root"
OWNER = "stack/Policy"


class _RacedClient:
    """The Rekognition client of one delivery: before its first PutProjectPolicy, ``twin`` runs (the other
    delivery, which read and put in the meantime)."""

    def __init__(self, client: Any, twin: Callable[[], None]) -> None:
        self._client, self._twin = client, twin

    def put_project_policy(self, **kwargs: Any) -> Any:
        twin, self._twin = self._twin, lambda: None
        twin()
        return self._client.put_project_policy(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def dev(cloud):
    project_arn, version_arn = custom_labels.seed_trained_version(SOURCE_ACCOUNT, REGION, "dev-defects", "v1")
    return project_arn, version_arn, cloud.session(SOURCE_ACCOUNT, REGION).client("rekognition")


def _props(project_arn: str, document: str) -> dict[str, Any]:
    return {"ProjectArn": project_arn, "PolicyName": "promote-to-prod", "PolicyDocument": document}


@each_reading("delete_policy_revision")
def test_two_deliveries_of_a_create_that_both_put_answer_alike(variant, dev):
    project_arn, version_arn, client = dev
    props = _props(project_arn, policy_document(version_arn, PROD))
    answers: list[Any] = []

    def twin() -> None:
        answers.append(pp.create(client, props, OWNER, request="request-1"))

    answers.append(pp.create(_RacedClient(client, twin), props, OWNER, request="request-1"))

    assert len(answers) == 2 and answers[0] == answers[1]
    stored = policies(client, project_arn)["promote-to-prod"]
    assert answers[0].physical_id.endswith(f"/revision/{stored['PolicyRevisionId']}")
    assert granted(stored["PolicyDocument"]) == granted(props["PolicyDocument"])
    # owned, not adopted: the resource's Delete removes it
    assert pp.delete(client, props, answers[0].physical_id, OWNER).complete
    assert policies(client, project_arn) == {}


@each_reading("delete_policy_revision")
def test_two_deliveries_of_an_in_place_update_that_both_put_answer_alike(variant, dev):
    project_arn, version_arn, client = dev
    before = _props(project_arn, policy_document(version_arn, PROD))
    physical = pp.create(client, before, OWNER, request="request-1").physical_id
    after = _props(project_arn, policy_document(version_arn, OTHER))
    answers: list[Any] = []

    def twin() -> None:
        answers.append(pp.update(client, after, before, physical, OWNER, request="request-2"))

    answers.append(pp.update(_RacedClient(client, twin), after, before, physical, OWNER, request="request-2"))

    assert len(answers) == 2 and answers[0] == answers[1] and answers[0].physical_id != physical
    # CloudFormation's cleanup deletes the old id: the policy the update put stays
    assert pp.delete(client, before, physical, OWNER).complete
    stored = policies(client, project_arn)["promote-to-prod"]
    assert answers[0].physical_id.endswith(f"/revision/{stored['PolicyRevisionId']}")
    assert granted(stored["PolicyDocument"]) == granted(after["PolicyDocument"])


def test_a_put_that_meets_another_requests_policy_fails_and_leaves_it(dev):
    project_arn, version_arn, client = dev
    props = _props(project_arn, policy_document(version_arn, PROD))
    theirs: list[Any] = []

    def other_stack() -> None:
        theirs.append(pp.create(client, props, "other/Policy", request="request-9"))

    with pytest.raises(ResourceError, match="PutProjectPolicy"):
        pp.create(_RacedClient(client, other_stack), props, OWNER, request="request-1")
    stored = policies(client, project_arn)["promote-to-prod"]
    assert theirs[0].physical_id.endswith(f"/revision/{stored['PolicyRevisionId']}")
