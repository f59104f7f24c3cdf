"""Property-based: whatever ResourceProperties and event shape arrive, the handler answers exactly once,
with a well-formed body (the driver's protocol checks), and never hangs."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEST_ACCOUNT, MODEL_COPY_PROPERTIES, REGION
from tests.handler.conftest import prepared

scalars = st.one_of(st.text(max_size=40), st.integers().map(str), st.booleans().map(str).map(str.lower))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=8,
)
KNOWN = [*MODEL_COPY_PROPERTIES, "MinF1Score", "ProjectArn", "PolicyName", "PolicyDocument"]
properties = st.dictionaries(st.one_of(st.sampled_from(KNOWN), st.text(max_size=20)), values, max_size=8)
physical_ids = st.one_of(
    st.text(min_size=1, max_size=200),
    st.just(f"arn:aws:rekognition:{REGION}:{DEST_ACCOUNT}:project/prod-defects/version/v/1700000000000"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    request_type=st.sampled_from(["Create", "Update", "Delete"]),
    resource_type=st.sampled_from(
        ["Custom::RekognitionModelCopy", "Custom::RekognitionProjectPolicy", "Custom::X"]
    ),
    props=properties,
    old_props=properties,
    physical_id=physical_ids,
)
def test_any_event_gets_exactly_one_well_formed_answer(
    cloud, source_version, request_type, resource_type, props, old_props, physical_id
):
    stack = _stack(cloud, source_version)
    definition = {"Type": resource_type}
    token = stack.resources["Handler"].attributes["Arn"]
    full: dict[str, Any] = {**props, "ServiceToken": token, "ServiceTimeout": "900"}
    request = stack.custom_request(
        "Fuzzed",
        request_type,
        definition,
        full,
        None if request_type == "Create" else physical_id,
        {**old_props, "ServiceToken": token} if request_type == "Update" else None,
    )

    cloud.run([request])

    bodies = cloud.server.responses(request.event["RequestId"])
    assert len(bodies) == 1, bodies
    assert bodies[0]["Status"] in ("SUCCESS", "FAILED")
    if bodies[0]["Status"] == "FAILED":
        assert bodies[0]["Reason"]
    assert cloud.violations == []


_STACKS: dict[int, Any] = {}


def _stack(cloud: Any, source: tuple[str, str]) -> Any:
    """One prepared stack per driver (hypothesis runs many examples on one fixture instance)."""
    if id(cloud) not in _STACKS:
        _STACKS.clear()
        _STACKS[id(cloud)] = prepared(cloud, source, "fuzz")
    return _STACKS[id(cloud)]
