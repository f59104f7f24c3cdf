"""Custom::RekognitionModelCopy: copy a Custom Labels model version, wait for it, delete it again.

This module holds the resource's entry points: :func:`create`, :func:`update`, :func:`delete` (the first
invocation of a request) and :func:`advance` (each poll), each returning an ``Outcome``; ``index.py``
wires them to crhelper. They read the properties (``copy_properties.py``), take the decisions (plain
functions over a small typed state, ``copy_decisions.py``: in place or a new copy, adoption, the serving
goal and the next call towards it, what a failure removes) and carry them out over a Rekognition client
(``copy_calls.py``). Errors are raised as ``ResourceError`` with a Reason written for the person reading
the stack events. With ``MinF1Score`` the source version is checked against that quality bar
(``quality_gate.py``) before anything is done.

Three rules hold throughout:

* what is validated is the properties being applied (``ResourceProperties``); the rejected properties a
  rollback carries (``OldResourceProperties``) are only read, leniently, to find a copy left behind;
* the version named by the request's PhysicalResourceId is never removed by an Update (the stack holds
  it; CloudFormation deletes it itself once it no longer does);
* a version is taken as this resource's only when it carries this resource's owner marker and was
  copied from the source version the properties name.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

import contract
from outcome import NO_DEADLINE, Deadline, Outcome, service_timeout
from resources.copy_calls import (
    Progress,
    check_source,
    cleanup_step,
    converge_step,
    describe_version,
    find_owned,
    key_resolver,
    now_ms,
    owned_by,
    removal_step,
    start_copy,
    stray_copies,
    update_tags,
    version_tags,
)
from resources.copy_decisions import (
    Kind,
    Version,
    Work,
    checks_source,
    mismatches,
    plan_update,
    serving_goal,
    to_remove_on_failure,
)
from resources.copy_properties import (
    KMS_KEY_TAG,
    PROJECT_ARN,
    REMADE_TAG,
    VERSION_ARN,
    CopyProperties,
    gone_copy_of,
    identity_of,
    project_of,
    remade_mark,
    version_name_of,
)
from resources.errors import ResourceError, failure

RESOURCE_TYPE = contract.MODEL_COPY_TYPE
logger = logging.getLogger(__name__)


# The Status attribute of a resource whose copy is gone (deleted outside CloudFormation), after a rollback
# back to it.
GONE = "DELETED"


def _data(version_arn: str, status: str) -> dict[str, str]:
    return {"ProjectVersionArn": version_arn, "VersionName": version_name_of(version_arn), "Status": status}


# --- Create ---------------------------------------------------------------------------------------------
def create(client: Any, props: Mapping[str, Any], owner: str) -> Outcome:
    """Start the copy; the polls (:func:`advance`) wait for it and start the model when asked to."""
    copy = CopyProperties.parse(props)
    if checks_source(copy, Kind.CREATE):
        check_source(client, copy)
    target, made = start_copy(client, copy, owner)
    work = Work.towards(Kind.CREATE, target, copy, serving_goal(copy), made, owner=owner)
    return _first_step(client, work, target.arn, "COPYING_IN_PROGRESS", target.arn)


def _first_step(client: Any, work: Work, answer_id: str, status: str, physical_id: str) -> Outcome:
    """The request's first step, at once (a Delete of a version already gone, a tag change, answer in
    this call); the Work goes along for the polls when it is not done."""
    data = work.to_data()
    if not work.made:  # a copy just started is not worth a look yet
        step = advance(client, data, physical_id, NO_DEADLINE)
        if step.complete:
            return step
    if work.kind is not Kind.DELETE:
        data = {**_data(work.target.arn, status), **data}
    return Outcome(answer_id, data)


# --- Update ---------------------------------------------------------------------------------------------
def makes_no_copy(props: Mapping[str, Any], physical_id: str) -> bool:
    """Whether an Update with ``props`` of the resource holding ``physical_id`` is made in place (tags,
    units, or a rollback to the copy it holds): it starts no copy, so it needs no schedule for one."""
    try:
        return plan_update(CopyProperties.parse(props), physical_id) is Kind.IN_PLACE
    except ResourceError:
        return False  # the Update itself says what is wrong


def update(
    client: Any,
    props: Mapping[str, Any],
    old_props: Mapping[str, Any],
    physical_id: str,
    owner: str,
    rolling_back: Callable[[], bool | str] = lambda: False,
    copy_refused: Callable[[], str] = lambda: "",
) -> Outcome:
    """Apply ``props`` to the resource the stack holds (``physical_id``): in place when that version is
    the declared copy, else a new copy (or this resource's own copy of that name, in a rollback). A copy
    of this resource that the rejected ``old_props`` name and the stack does not hold is removed.

    ``rolling_back`` says whether the stack is rolling back an update (True, False, or why it cannot
    tell); it is asked only where the request alone does not tell, after drift (the copy deleted outside
    CloudFormation): a forward update makes the copy again (marked with which update made it, REMADE_TAG),
    a rollback goes back to the copy that was gone, without copying (:func:`_back_to_the_gone_copy`; for
    the rollback of the update that made it again, the mark on the copy it made names the gone copy).
    ``copy_refused`` says why no copy may be started now ("" when one may: a copy that outlasts this
    invocation needs a schedule, which EventBridge's rules quota may leave no room for); the request alone
    tells that only when the copy is declared, not when the held copy is gone."""
    rolling_back_once = functools.cache(rolling_back)  # one DescribeStacks per try, however often asked
    desired = CopyProperties.parse(props)
    kind = plan_update(desired, physical_id)
    if checks_source(desired, kind, old_props):  # before anything changes: the copy stays as it is
        check_source(client, desired, copied=kind is Kind.IN_PLACE)
    description: dict[str, Any] | None = None
    if kind is Kind.IN_PLACE:
        try:
            description = describe_version(client, Version(desired.destination_project_arn, physical_id))
        except ClientError as error:
            raise failure("DescribeProjectVersions", error) from error
        if description is not None and description.get("Status") == "DELETING":
            description = None  # being deleted outside CloudFormation: as good as gone
    gone = kind is Kind.IN_PLACE and description is None
    if gone and rolling_back_once() is True:
        return _back_to_the_gone_copy(client, props, old_props, physical_id, owner)
    strays = stray_copies(client, old_props, physical_id, owner)
    if strays and rolling_back_once() is False:
        # A copy the rejected properties name is left over only in a rollback (a forward update's previous
        # properties name the copy the stack holds): outside one, this is a late delivery of a rollback
        # answered already, and the copy may be the one the stack's update in progress takes. Nothing is
        # removed, nothing answered.
        raise ResourceError(
            f"Not rolling back, yet {', '.join(s.arn for s in strays)} is named as the rejected copy: a late "
            "delivery of a rollback answered already",
            stale=True,
        )
    if gone:
        # Drift: the copy the stack holds was deleted outside CloudFormation. The Update makes the copy
        # again (a replacement: CloudFormation's Delete of the old id then finds nothing).
        refused = copy_refused()
        if refused:  # before anything is made: the copy made again may need a schedule
            raise ResourceError(
                f"The version {physical_id} this resource holds no longer exists (deleted outside "
                f"CloudFormation), and copying it again may outlast this invocation: {refused}"
            )
        logger.warning("The version %s no longer exists: copying it again", physical_id)
        kind = Kind.REPLACE
    if kind is Kind.IN_PLACE and description is not None:
        target = Version(desired.destination_project_arn, physical_id)
        tags = version_tags(client, physical_id)
        marker = tags.get(KMS_KEY_TAG)
        resolve = key_resolver(client)
        changed = mismatches(desired, description, marker, resolve)
        rejected_copy = changed and _remade_by_rejected(old_props, physical_id, description, marker, resolve)
        # the gone copy a rollback of the update that made this copy goes back to (its mark names both)
        gone_id = gone_copy_of(tags.get(REMADE_TAG), props, old_props, physical_id) if rejected_copy else None
        # Whether the stack is rolling back is asked only here, where the mark matches: the answer of a
        # request must not depend on when it is read (a second delivery of a refused forward update, run
        # while the stack rolls it back, must refuse it the same way).
        rollback = rolling_back_once() if gone_id else False
        if gone_id and rollback is True:
            # The rejected update made this copy again, under the name of the copy the stack held before
            # it, that copy being gone (its mark says so): the stack goes back to that gone copy, and
            # CloudFormation deletes this one, now the rejected update's, as it deletes any replacement.
            logger.warning("Rolling back to %s, gone before the update that made %s", gone_id, physical_id)
            return Outcome(gone_id, _data(gone_id, GONE), complete=True)
        if changed:
            unknown = ""
            if isinstance(rollback, str):
                unknown = (
                    " If this is the rollback of an update that made the copy again after it was deleted "
                    f"outside CloudFormation (the stack's status could not be read to tell: {rollback}), "
                    "continue the rollback skipping this resource."
                )
            elif rejected_copy and not gone_id:
                # The held copy is the one the request's previous properties declare. In a rollback that
                # most likely means the rejected update made it again, under the name of the copy before
                # it, that copy being gone; going back would need that name. Without the update's mark (a
                # copy with no room for another tag, or made before the mark existed) nothing tells it for
                # sure (an update in place may have changed how the key is declared), so the copy stays.
                unknown = (
                    " If this is the rollback of an update that made this copy again after the one before "
                    "was deleted outside CloudFormation: continue the rollback skipping this resource (this "
                    "copy stays), then give the copy a new version name."
                )
            raise ResourceError(
                f"Changing {', '.join(changed)} needs a new copy, which CloudFormation creates before it "
                f"deletes the old one, but the version name {desired.version_name} is still taken by the old "
                f"copy. Give the copy a new version name in the same change.{unknown}"
            )
        update_tags(client, physical_id, desired.tags)
        work = Work.towards(
            Kind.IN_PLACE, target, desired, serving_goal(desired, old_props), strays=strays, owner=owner
        )
        status = str(description.get("Status"))
    else:
        # a copy made again under the held copy's name is marked with the update that made it
        remade = {REMADE_TAG: remade_mark(props, old_props, physical_id)} if gone else None
        try:
            target, made = start_copy(client, desired, owner, remade)
        except ResourceError as error:
            if plan_update(desired, physical_id) is not Kind.IN_PLACE:  # not a copy made again
                raise
            raise ResourceError(
                f"The version {physical_id} this resource holds no longer exists (deleted outside "
                f"CloudFormation), and copying it again failed: {error}",
                transient=error.transient,
            ) from error
        others = tuple(s for s in strays if s.arn != target.arn)
        work = Work.towards(Kind.REPLACE, target, desired, serving_goal(desired), made, others, owner)
        status = "COPYING_IN_PROGRESS" if made else "UPDATING"
    return _first_step(client, work, target.arn, status, physical_id)


def _remade_by_rejected(
    old_props: Mapping[str, Any],
    physical_id: str,
    description: Mapping[str, Any],
    marker: str | None,
    resolve: Callable[[str], str | None],
) -> bool:
    """Whether the held copy, which does not match the properties applied, is exactly the copy the
    rejected properties declare under the same name: what a rollback meets after the rejected update made
    the copy again, the copy before it deleted outside CloudFormation (a forward update cannot make a copy
    under the name of the copy the stack holds). A forward update back to those properties looks the same;
    only the stack's status tells them apart."""
    try:
        rejected = CopyProperties.parse(old_props)
    except ResourceError:
        return False
    if plan_update(rejected, physical_id) is not Kind.IN_PLACE:  # they name another version
        return False
    return not mismatches(rejected, description, marker, resolve)


def _back_to_the_gone_copy(
    client: Any, props: Mapping[str, Any], old_props: Mapping[str, Any], physical_id: str, owner: str
) -> Outcome:
    """The rollback of an update of a resource whose copy was gone before it (deleted outside
    CloudFormation): the resource keeps what it held, and the copy the rejected update made
    (if it left one, such as a copy that outlasted its time, or one it was deleting) is removed first."""
    strays = stray_copies(client, old_props, physical_id, owner, held_exists=False)
    logger.warning("Rolling back to %s, whose copy was gone before the update: no copy is made", physical_id)
    if not strays:
        return Outcome(physical_id, _data(physical_id, GONE), complete=True)
    timeout = service_timeout(props)
    work = Work(Kind.DELETE, strays[0], strays=strays[1:], timeout=timeout, owner=owner, keeps=physical_id)
    return _first_step(client, work, physical_id, "DELETING", physical_id)


# --- Delete ---------------------------------------------------------------------------------------------
def delete(client: Any, props: Mapping[str, Any], physical_id: str, owner: str) -> Outcome:
    """Stop the version if it serves, delete it, and report complete once it is gone.

    The version is the physical id; when the physical id is not a version ARN (a Create that failed, or
    is still running and never answered) it is the version the properties name, if this resource made it
    from that source: a copy still in progress is waited for and removed, not left behind. Properties
    that could never have made a copy mean nothing was made: nothing is sent to the service.
    """
    identity = identity_of(props)
    project = props.get("DestinationProjectArn")
    target: Version | None = None
    if VERSION_ARN.match(physical_id or "") and isinstance(project, str) and PROJECT_ARN.match(project):
        if project_of(physical_id) == project.rsplit("/", 1)[0]:
            target = Version(project, physical_id)
            if not owned_by(client, physical_id, owner):  # gone, or another resource's: left untouched
                logger.warning("Delete of %s: not this resource's copy, or gone; left as it is", physical_id)
                return Outcome(physical_id, complete=True)
    elif identity is not None:
        target = find_owned(client, identity, owner)
        if target is not None and not physical_id:
            # After a Create that never answered there is no id to answer with but the empty one, and no
            # poll can answer with it: answer now, and leave the copy's removal to a cleanup.
            return Outcome(physical_id, complete=True, cleanup=_leave_to_cleanup([target], owner))
    if target is None:
        return Outcome(physical_id, complete=True)
    work = Work(Kind.DELETE, target, timeout=service_timeout(props), owner=owner)
    return _first_step(client, work, physical_id, "DELETING", physical_id)


# --- the polls ------------------------------------------------------------------------------------------
def advance(client: Any, data: Mapping[str, Any], physical_id: str, deadline: Deadline) -> Outcome:
    """One poll of a request: a step on each copy to remove and on the target. Complete when all are
    there; ResourceError when the service says it cannot get there, or when time is up (``deadline``),
    after one step of taking away what the failed request made (:func:`to_remove_on_failure`)."""
    work = Work.from_data(data)
    answer_id = physical_id if work.kind is Kind.DELETE else work.target.arn
    try:
        if deadline.no_time_for_step():  # no time for another round of calls
            if work.kind is Kind.DELETE:
                # Nothing more can be learnt in time: what is left of the resource's versions goes to a
                # cleanup (it checks each one's owner marker, and removes it once the service lets it).
                left = [*work.strays, work.target]
                kept = _data(work.keeps, GONE) if work.keeps else {}
                return Outcome(answer_id, kept, complete=True, cleanup=_leave_to_cleanup(left, work.owner))
            raise _give_up(work, Progress(False, "unknown"))
        progress = [removal_step(client, stray) for stray in work.strays]
        if work.kind is Kind.DELETE:
            progress.append(removal_step(client, work.target))
        else:
            progress.append(converge_step(client, work.target, work.serving, work.source))
        # A copy still in progress that the service will not delete yet is waited for while time is left
        # (the stack may delete its project next, which the service refuses while the project has
        # versions); what is left of it at the last round is left to a cleanup, and the request is done.
        last_round = deadline.no_time_for_next_round()
        target = progress[-1]
        if all(p.done or (p.deferred and last_round) for p in progress):
            data = {} if work.kind is Kind.DELETE else _data(work.target.arn, target.status)
            if work.keeps:  # a rollback to the copy that was gone: its attributes, as before
                data = _data(work.keeps, GONE)
            versions = [*work.strays, work.target]
            left = [v for v, p in zip(versions, progress, strict=True) if p.deferred and not p.done]
            return Outcome(answer_id, data, complete=True, cleanup=_leave_to_cleanup(left, work.owner))
        if last_round:
            raise _give_up(work, next((p for p in progress if not (p.done or p.deferred)), target))
        return Outcome(answer_id, {})
    except ResourceError:
        for version in to_remove_on_failure(work, physical_id):
            try:
                removal_step(client, version)  # best effort; a rollback's Update finishes it
            except ResourceError:
                pass
        raise


# --- what is left for later ---------------------------------------------------------------------------
def _leave_to_cleanup(versions: list[Version], owner: str) -> dict[str, str]:
    """The cleanup of copies still in progress that the service would not delete yet ({}: none), and when
    it was left: a copy a stack takes as its own after that (an adoption marks it, ``TAKEN_TAG``) stays."""
    if not versions:
        return {}
    body = {"owner": owner, "versions": [[v.project_arn, v.arn] for v in versions], "left": now_ms()}
    return {"ModelCopies": json.dumps(body, separators=(",", ":"))}


def cleanup(client: Any, data: Mapping[str, str]) -> bool:
    """One tick of a cleanup left by a request (:func:`_leave_to_cleanup`): each copy is deleted as soon as
    the service lets it, and only when it still carries this resource's owner marker and no stack took it
    since the cleanup was left (a cleanup of an earlier handler has no time: any such mark counts). True
    when done."""
    body = json.loads(str(data["ModelCopies"]))
    owner = str(body["owner"])
    left = int(body.get("left", 0))
    done = [cleanup_step(client, Version(*pair), owner, left) for pair in body["versions"]]
    return all(done)


def _give_up(work: Work, progress: Progress) -> ResourceError:
    timeout = f"{work.timeout:g} s"
    what = f"the version {work.target.arn} was {progress.status}"
    if progress.note:
        what += f" (last answer: {progress.note})"
    if work.kind is Kind.DELETE:
        advice = (
            "The model may still be running or copying; delete the stack again once it has left that "
            "status (see the function's log group)."
        )
    else:
        advice = "The Rekognition operation may still be running; see the function's log group."
    return ResourceError(
        f"Gave up waiting: the resource's timeout (ServiceTimeout, {timeout}) is nearly over and {what}. "
        f"{advice}"
    )
