"""An invocation whose own EventBridge write half-happened (PutRule done, PutTargets failed) must not take
the rule it changed for a twin's and stand down: it is the only delivery there is, so it answers."""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.events import models

from emulator import custom_labels
from tests.conftest import DEST_ACCOUNT, REGION, copy_template
from tests.handler.conftest import prepared, reasons, rules_left, versions

_original_put_targets = models.EventsBackend.put_targets


def _failing_put_targets(marker: str, times: int):
    """PutTargets throttled ``times`` times (more than botocore tries) when a target's Input
    contains ``marker``."""
    left = {"n": times}

    def put_targets(self: Any, name: str, event_bus_arn: Any, targets: list[dict[str, Any]]) -> None:
        if left["n"] > 0 and any(marker in str(t.get("Input", "")) for t in targets):
            left["n"] -= 1
            raise JsonRESTError("ThrottlingException", "Rate exceeded")
        return _original_put_targets(self, name, event_bus_arn, targets)

    return put_targets


def test_a_cleanup_whose_schedule_half_failed_is_still_answered(cloud, source_version, monkeypatch):
    # A Create that was never answered left a copy; the Delete (empty physical id) answers at once and
    # leaves the copy's removal to a cleanup, its rule turned into the cleanup's schedule. PutRule works,
    # PutTargets is throttled past botocore's retries: the Delete fails, saying so (polling.py
    # _leave_cleanup) -- it must answer.
    stack = prepared(cloud, source_version)
    custom_labels.config.start_duration = 60
    create = stack.request("ModelCopy", "Create")
    cloud.run([create])
    monkeypatch.setattr(models.EventsBackend, "put_targets", _failing_put_targets("RmcCleanupRule", 8))

    delete = stack.request("ModelCopy", "Delete", physical_id="")
    cloud.run([delete])

    assert delete.response is not None and delete.answered - delete.sent < 60, (
        f"answered {delete.answered - delete.sent:g} s after it was sent: "
        f"{(delete.response or {}).get('Reason')!r}; rules left {rules_left(cloud)}; "
        f"versions {list(versions(stack))}"
    )
    assert delete.response["Status"] == "FAILED"
    assert "its schedule could not be kept" in delete.response["Reason"]
    assert rules_left(cloud) == []  # the half-made schedule went with the answer
    # echoing the request's empty id is the answer to such a Delete (as in test_deletes.py)
    flagged = f"{delete.where}: PhysicalResourceId"
    cloud.violations[:] = [v for v in cloud.violations if not v.startswith(flagged)]


def test_a_handover_whose_schedule_half_failed_is_still_answered(cloud, deploy, source_version, monkeypatch):
    # The first invocation of a Create is about to time out in a call (time is left): the timer hands the
    # request over, turning its claim into a schedule (PutRule: works) whose target runs it again
    # (PutTargets: throttled past botocore's retries). The handover failed, so the timer answers FAILED
    # (polling.py _timeout), although the rule now says "handed-over", written by this invocation itself.

    template = copy_template(source_version)
    template["Resources"]["Handler"]["Properties"]["Timeout"] = 20
    custom_labels.faults.inject_latency("CopyProjectVersion", 25)  # the invocation times out in the call
    monkeypatch.setattr(models.EventsBackend, "put_targets", _failing_put_targets("RmcRestartRule", 8))

    stack = deploy(template)

    create = next(r for r in cloud.all_requests if r.event["RequestType"] == "Create")
    assert create.response is not None and create.answered - create.sent < 120, (
        f"answered {create.answered - create.sent:g} s after it was sent: "
        f"{(create.response or {}).get('Reason')!r}; rules left {rules_left(cloud)}"
    )
    assert "The function timed out" in reasons(cloud)
    assert stack.status == "ROLLBACK_COMPLETE"
    # the answer's tombstone (the answered mark) replaced the half-made handover
    client = cloud.session(DEST_ACCOUNT, REGION).client("events")
    assert [r.get("Description") for r in client.list_rules()["Rules"]] == ["answered"]
