"""Custom::RekognitionProjectPolicy: a project policy on a (source) project, for cross-account copies.

Project policies carry no tags, so what a stack owns is recorded in its physical id:

* ``<project ARN>/policy/<name>/revision/<revision id>``: this resource put the policy, and owns it as
  long as the policy is at that revision. Each put (Create, a document change) answers the new revision;
  the Delete that follows (CloudFormation's cleanup, or the stack's delete) first reads the policy and
  deletes it only while it is still at the revision the id names. Whether DeleteProjectPolicy itself
  refuses a stale PolicyRevisionId is not documented (it may delete by name whatever the revision), so the
  handler never relies on it: the cleanup of an in-place update, whose old id names the previous revision,
  leaves the policy the update put; a policy someone else put under the same name after an out-of-band
  delete, or edited since, or joined since (see below), is never deleted by this stack.
* ``<project ARN>/policy/<name>/revision/<revision id>/replaces/<old name>/revision/<old revision>``: as
  above, put by an update that renamed the policy (a new name, or a fan-out part whose content changed)
  while this resource held ``<old name>`` at ``<old revision>``. A rollback of that update to the old name
  finds the old policy still there (CloudFormation deletes it only in the cleanup after a successful
  update) and, while it is still at that revision, takes it back as this resource's own: the stack's
  delete then removes it.
* ``<project ARN>/policy/<name>/adopted``: the policy was already there with this very document (another
  stack declares it too): this resource shares it and never changes its permissions. The resources that
  share a policy are listed in the policy itself, as the ``Sid`` of its first statement without one
  (:data:`SHARED_SID`: ``RMCshared`` then one entry per resource, ``R`` and 16 hex of a hash of the
  revision the resource that put it holds, or ``O`` and 16 hex of a sharing resource's owner marker;
  IAM's grammar allows letters and digits in a Sid). Joining puts the same document again with the list;
  each Delete takes its own entry out, and the last one deletes the policy. So the stack that put a
  shared policy never deletes it while another stack declares it, and nothing is left once all of them
  are deleted. A document too long for the list (PutProjectPolicy allows 2000 characters) cannot be
  shared: that Create fails, naming the limit.
* ``<project ARN>/policy/<name>``: written by earlier versions of this handler; deleted as before.

One answer per request, however many deliveries of it run: each document this resource puts carries the
mark of the request that puts it (:data:`PUT_SID`: ``RMCput`` and 16 hex of a hash of the RequestId, the
``Sid`` of its first statement without one). Lambda may deliver a request twice, at the same moment or
one delivery after the other has answered (asynchronous invocation is at least once:
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html). A delivery that finds the policy
already put by its own request (the mark, the same document) answers what that put answered: the same
physical id and revision, never an adoption of its twin's policy. Two deliveries that both find no policy
both put it; the second put fails (a put without a PolicyRevisionId on a policy that exists, or with a
revision that is no longer current), and that delivery reads the policy again and answers as its twin
did. A document with every statement named, or too long for the mark, is put as declared (unmarked).

A new project or policy name is a replacement. All of it is synchronous: every outcome is complete at once.

With ``MinF1Score`` (``quality_gate.py``), a Create first reads every version the document lets another
account copy, and refuses (nothing put, nothing relied on) a version that does not meet the bar. An Update
checks the versions the project's current policy does not allow yet; those it allows already are checked
again only when the bar is raised, and then refused only for a known score below it (see ``_gate``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

import contract
from outcome import Outcome
from resources import quality_gate
from resources.copy_calls import check_version
from resources.copy_decisions import Version
from resources.copy_properties import PROJECT_ARN, VERSION_ARN
from resources.errors import ResourceError, failure

RESOURCE_TYPE = contract.PROJECT_POLICY_TYPE
_SEPARATOR = "/policy/"
_REVISION = "/revision/"
_REPLACES = "/replaces/"
_ADOPTED = "/adopted"
_HELD = re.compile(
    r"^(?P<name>[a-zA-Z0-9_.\-]{1,128})"
    r"(?:(?P<adopted>/adopted)|/revision/(?P<revision>[0-9A-Fa-f]{1,64})"
    r"(?:/replaces/(?P<old_name>[a-zA-Z0-9_.\-]{1,128})/revision/(?P<old_revision>[0-9A-Fa-f]{1,64}))?)?$"
)
POLICY_NAME = re.compile(r"^[a-zA-Z0-9_.\-]{1,128}$")
SHARED_SID = "RMCshared"
PUT_SID = "RMCput"
_PUT = re.compile(r"^RMCput[0-9a-f]{16}$")
_SHARED = re.compile(r"^RMCshared((?:[RO][0-9a-f]{16})+)$")
_ENTRY = 17  # a sharing entry's characters: R or O, 16 hex
MAX_SHARING = (128 - len(SHARED_SID)) // _ENTRY  # a Sid has at most 128 characters
MAX_DOCUMENT = 2000  # PutProjectPolicy's PolicyDocument
MAX_POLICIES = 5  # per project, a hard limit (PutProjectPolicy)
COPY_ACTION = "rekognition:copyprojectversion"  # IAM action names are case-insensitive


@dataclass(frozen=True)
class Held:
    """What a physical id says this resource holds."""

    project_arn: str
    policy_name: str
    revision: str | None  # the revision it put (owned), or None
    adopted: bool  # relies on a policy another stack put
    #: (name, revision) of the policy of the same project this resource held before it was renamed
    replaces: tuple[str, str] | None = None


def physical_id(
    project_arn: str, policy_name: str, revision: str | None, replaces: tuple[str, str] | None = None
) -> str:
    """The physical id for a policy this resource put at ``revision`` (None: adopted as it was), after
    holding ``replaces`` (name, revision) of the same project."""
    base = f"{project_arn}{_SEPARATOR}{policy_name}"
    if not revision:
        return f"{base}{_ADOPTED}"
    after = f"{_REPLACES}{replaces[0]}{_REVISION}{replaces[1]}" if replaces else ""
    return f"{base}{_REVISION}{revision}{after}"


def held(physical: str) -> Held | None:
    """Parse a physical id (None: not one of ours, e.g. the generated id of a failed Create)."""
    if _SEPARATOR not in (physical or ""):
        return None
    project_arn, rest = physical.split(_SEPARATOR, 1)
    match = _HELD.match(rest)
    if match is None:
        return None
    old_name, old_revision = match.group("old_name"), match.group("old_revision")
    return Held(
        project_arn,
        match.group("name"),
        match.group("revision"),
        bool(match.group("adopted")),
        (old_name, old_revision) if old_name and old_revision else None,
    )


@dataclass(frozen=True)
class Declared:
    """The properties being applied, checked."""

    project_arn: str
    policy_name: str
    document: str
    bar: float | None  # MinF1Score


def _parse(props: Mapping[str, Any]) -> Declared:
    values = []
    for name in ("ProjectArn", "PolicyName", "PolicyDocument"):
        value = props.get(name)
        if not isinstance(value, str) or not value:
            raise ResourceError(f"Property {name} is required and must be a non-empty string.")
        values.append(value)
    if not PROJECT_ARN.match(values[0]):
        raise ResourceError(f"Property ProjectArn is not a Rekognition project ARN: {values[0][:300]!r}.")
    if not POLICY_NAME.match(values[1]):
        raise ResourceError(
            f"Property PolicyName is not valid (1-128 of a-z A-Z 0-9 _ . -): {values[1][:130]!r}."
        )
    try:
        json.loads(values[2])
    except ValueError as error:
        raise ResourceError(f"Property PolicyDocument is not valid JSON: {error}") from error
    return Declared(values[0], values[1], values[2], quality_gate.min_f1_score(props))


def allowed_versions(document: str, project_arn: str) -> list[str]:
    """The versions the document lets another account copy (its Allow statements'
    rekognition:CopyProjectVersion resources), in order; ResourceError for a resource the quality gate
    cannot check (a wildcard, not a version ARN, a version of another project)."""
    parsed = json.loads(document)
    statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatch(COPY_ACTION, str(a).lower()) for a in actions):
            continue
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            match = VERSION_ARN.match(str(resource))
            if match is None or match.group("project") != project_arn.rsplit("/", 1)[0]:
                raise ResourceError(
                    f"With {quality_gate.PROPERTY}, every resource the policy allows to copy must be a "
                    f"version of {project_arn}, named exactly (no wildcard), so that it can be checked "
                    f"against the bar; the policy allows {str(resource)[:300]!r}."
                )
            if resource not in found:
                found.append(str(resource))
    return found


def current_policy(client: Any, project_arn: str, policy_name: str) -> dict[str, Any] | None:
    """The project's policy of that name (document and revision id), or None."""
    kwargs: dict[str, Any] = {"ProjectArn": project_arn}
    try:
        while True:
            page = client.list_project_policies(**kwargs)
            for policy in page.get("ProjectPolicies", []):
                if policy.get("PolicyName") == policy_name:
                    return dict(policy)
            if not page.get("NextToken"):
                return None
            kwargs["NextToken"] = page["NextToken"]
    except (ClientError, ParamValidationError) as error:
        raise failure("ListProjectPolicies", error) from error


def _gate(client: Any, declared: Declared, on_project: str | None = None, raised: bool = True) -> None:
    """Raise ResourceError unless every version the declared document allows meets the bar (if any).

    ``on_project``: the document the project holds now under this name. A version it allows already was
    promoted: it is checked again only when the bar is ``raised`` (new or higher than the previous
    properties'), and then refused only for a known F1 score below it (``held``), so that a change of
    principals, or the rollback of a refused document, never fails on a version deleted since."""
    if declared.bar is None:
        return
    try:
        allowed_now = set(allowed_versions(on_project, declared.project_arn)) if on_project else set()
    except (ResourceError, ValueError):
        allowed_now = set()  # a document put outside the stack that the gate cannot read: nothing held
    for version_arn in allowed_versions(declared.document, declared.project_arn):
        held = version_arn in allowed_now
        if held and not raised:
            continue
        check_version(
            client,
            Version(declared.project_arn, version_arn),
            declared.bar,
            "it is not promoted (the project policy is not put).",
            held=held,
        )


def _put(
    client: Any,
    declared: Declared,
    revision_id: str | None,
    replaces: tuple[str, str] | None = None,
    document: str | None = None,
) -> Outcome:
    """Put the declared document (checked against the bar by :func:`_gate` before), or ``document`` (the
    declared one with a sharing list); ``replaces``: the (name, revision) this resource held before a
    rename, recorded in the physical id."""
    project_arn, policy_name = declared.project_arn, declared.policy_name
    document = declared.document if document is None else document
    request = {"ProjectArn": project_arn, "PolicyName": policy_name, "PolicyDocument": document}
    if revision_id:
        request["PolicyRevisionId"] = revision_id
    try:
        response = client.put_project_policy(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "LimitExceededException":
            raise ResourceError(
                f"PutProjectPolicy failed: the project {project_arn} already has {MAX_POLICIES} project "
                f"policies, the most a project can have (a fixed limit, not a quota to raise). Delete one "
                "it no longer needs, or reuse one of them, then deploy again."
            ) from error
        raise failure("PutProjectPolicy", error) from error
    except ParamValidationError as error:
        raise failure("PutProjectPolicy", error) from error
    revision = str(response.get("PolicyRevisionId", ""))
    return Outcome(
        physical_id(project_arn, policy_name, revision, replaces),
        {"PolicyRevisionId": revision},
        complete=True,
    )


def _revision_entry(revision: str) -> str:
    return "R" + hashlib.sha256(revision.encode()).hexdigest()[:16]


def _owner_entry(owner: str) -> str:
    return "O" + hashlib.sha256(owner.encode()).hexdigest()[:16]


def _statements(parsed: Any) -> list[Any]:
    statements = parsed.get("Statement", []) if isinstance(parsed, dict) else []
    return statements if isinstance(statements, list) else [statements]


def sharing(document: str) -> list[str]:
    """The entries of the sharing list a document carries ([]: not shared)."""
    try:
        parsed = json.loads(document)
    except ValueError:
        return []
    for statement in _statements(parsed):
        match = _SHARED.match(str(statement.get("Sid", ""))) if isinstance(statement, dict) else None
        if match:
            body = match.group(1)
            return [body[i : i + _ENTRY] for i in range(0, len(body), _ENTRY)]
    return []


def _unmarked(document: str) -> Any:
    """The parsed document without its sharing list."""
    parsed = json.loads(document)
    for statement in _statements(parsed):
        sid = str(statement.get("Sid", "")) if isinstance(statement, dict) else ""
        if _SHARED.match(sid) or _PUT.match(sid):
            del statement["Sid"]
    return parsed


def _put_mark(request: str) -> str:
    return PUT_SID + hashlib.sha256(request.encode()).hexdigest()[:16]


def _with_put_mark(document: str, request: str) -> str:
    """The document with the mark of the request that puts it (compact JSON), or as it is when it has
    no statement without a Sid or the mark would make it longer than PutProjectPolicy allows."""
    if not request:
        return document
    try:
        parsed = _unmarked(document)
    except ValueError:
        return document
    target = next((st for st in _statements(parsed) if isinstance(st, dict) and "Sid" not in st), None)
    if target is None:
        return document
    target["Sid"] = _put_mark(request)
    marked = json.dumps(parsed, separators=(",", ":"))
    return marked if len(marked) <= MAX_DOCUMENT else document


def _twin(
    declared: Declared, existing: Mapping[str, Any], request: str, replaces: tuple[str, str] | None
) -> Outcome | None:
    """What another delivery of this very request answered when it put the policy found (its mark, the
    declared document, not shared since), or None: the policy is not this request's."""
    document = str(existing.get("PolicyDocument", ""))
    if not request or sharing(document) or not _same_document(document, declared.document):
        return None
    try:
        sids = {str(st.get("Sid", "")) for st in _statements(json.loads(document)) if isinstance(st, dict)}
    except ValueError:
        return None
    if _put_mark(request) not in sids:
        return None
    revision = str(existing.get("PolicyRevisionId", ""))
    return Outcome(
        physical_id(declared.project_arn, declared.policy_name, revision, replaces),
        {"PolicyRevisionId": revision},
        complete=True,
    )


def _put_marked(
    client: Any,
    declared: Declared,
    revision_id: str | None,
    request: str,
    replaces: tuple[str, str] | None = None,
) -> Outcome:
    """Put the declared document with this request's mark. When the put fails because the policy changed
    since it was read (another delivery of this request put it meanwhile), the policy is read again and,
    when it is that delivery's, its answer is this one's too."""
    try:
        return _put(client, declared, revision_id, replaces, _with_put_mark(declared.document, request))
    except ResourceError as error:
        cause = error.__cause__
        if not request or not (isinstance(cause, ClientError) and _code(cause) in _RACED):
            raise
        existing = current_policy(client, declared.project_arn, declared.policy_name)
        twin = None if existing is None else _twin(declared, existing, request, replaces)
        if twin is None:
            raise
        return twin


# What a put meets when the policy changed between the read and the put: the API reference names
# InvalidPolicyRevisionIdException for a revision id that is not the current one; which error a put
# without a revision id meets when the policy exists is not documented (ResourceAlreadyExistsException is
# one of PutProjectPolicy's errors).
_RACED = ("InvalidPolicyRevisionIdException", "ResourceAlreadyExistsException")


def _marked(document: str, entries: list[str]) -> str:
    """The document with the sharing list ``entries`` (compact JSON); ResourceError if it cannot hold it."""
    parsed = _unmarked(document)
    if len(entries) > MAX_SHARING:
        raise ResourceError(
            f"A project policy can be shared by at most {MAX_SHARING} resources; this one is shared by "
            f"{len(entries) - 1} already. Give this stack's policy its own name."
        )
    target = next((st for st in _statements(parsed) if isinstance(st, dict) and "Sid" not in st), None)
    if target is None:
        raise ResourceError(
            "This project policy is declared by another stack too, and sharing it needs one statement "
            "without a Sid to carry the list of the resources that share it. Give this stack's policy its "
            "own name, or leave the Sid out of one statement."
        )
    target["Sid"] = SHARED_SID + "".join(entries)
    marked = json.dumps(parsed, separators=(",", ":"))
    if len(marked) > MAX_DOCUMENT:
        raise ResourceError(
            f"This project policy is declared by another stack too, and sharing it needs the list of the "
            f"resources that share it in the document: {len(marked)} characters, more than the "
            f"{MAX_DOCUMENT} PutProjectPolicy allows. Give this stack's policy its own name."
        )
    return marked


def _put_document(client: Any, project_arn: str, name: str, document: str, revision: str) -> None:
    """Put a policy's document again (its sharing list changed); ResourceError when that fails."""
    try:
        client.put_project_policy(
            ProjectArn=project_arn, PolicyName=name, PolicyDocument=document, PolicyRevisionId=revision
        )
    except (ClientError, ParamValidationError) as error:
        raise failure("PutProjectPolicy", error) from error


def _leave(
    client: Any, holding: Held, existing: Mapping[str, Any], mine: set[str], physical: str
) -> Outcome:
    """Take this resource's entries (``mine``) out of a shared policy's list: put it again without them,
    or delete the policy when they were the last (nothing: this resource is not on the list)."""
    document = str(existing.get("PolicyDocument", ""))
    entries = sharing(document)
    if not mine & set(entries):
        return Outcome(physical, complete=True)
    remaining = [e for e in entries if e not in mine]
    revision = str(existing.get("PolicyRevisionId", ""))
    if remaining:
        _put_document(
            client, holding.project_arn, holding.policy_name, _marked(document, remaining), revision
        )
        return Outcome(physical, complete=True)
    _delete_policy(client, holding.project_arn, holding.policy_name, revision)
    return Outcome(physical, complete=True)


def _delete_policy(client: Any, project_arn: str, name: str, revision: str | None) -> None:
    request = {"ProjectArn": project_arn, "PolicyName": name}
    if revision:
        request["PolicyRevisionId"] = revision
    try:
        client.delete_project_policy(**request)
    except ClientError as error:
        if _code(error) not in ("ResourceNotFoundException", "InvalidPolicyRevisionIdException"):
            raise failure("DeleteProjectPolicy", error) from error
    except ParamValidationError:
        pass  # an id this handler never wrote: nothing of ours to delete


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _same_document(a: str, b: str) -> bool:
    """Whether two documents grant the same (a sharing list is not a grant)."""
    try:
        return bool(_unmarked(a) == _unmarked(b))
    except ValueError:
        return a == b


def _join(client: Any, declared: Declared, existing: Mapping[str, Any], owner: str) -> Outcome:
    """Share a policy another resource put with this very document: put it again with this resource on
    its sharing list (the resource that put it first, when the policy was not shared yet)."""
    document = str(existing.get("PolicyDocument", ""))
    revision = str(existing.get("PolicyRevisionId", ""))
    entries = sharing(document) or [_revision_entry(revision)]
    physical = physical_id(declared.project_arn, declared.policy_name, None)
    if _owner_entry(owner) in entries:
        return Outcome(physical, {"PolicyRevisionId": revision}, complete=True)  # joined already
    marked = _marked(document, [*entries, _owner_entry(owner)])
    try:
        response = client.put_project_policy(
            ProjectArn=declared.project_arn,
            PolicyName=declared.policy_name,
            PolicyDocument=marked,
            PolicyRevisionId=revision,
        )
    except (ClientError, ParamValidationError) as error:
        raise failure("PutProjectPolicy", error) from error
    return Outcome(physical, {"PolicyRevisionId": str(response.get("PolicyRevisionId", ""))}, True)


def create(
    client: Any,
    props: Mapping[str, Any],
    owner: str = "",
    replaces: tuple[str, str] | None = None,
    request: str = "",
) -> Outcome:
    """Attach the policy. A policy of that name already there with this very document (another stack
    declares it too) is relied on, never owned; any other document fails the Create and is left alone.
    ``replaces``: what this resource held before a rename (an Update), recorded in the new physical id;
    ``request``: the RequestId, whose mark the put document carries (see the module docstring)."""
    declared = _parse(props)
    project_arn, policy_name, document = declared.project_arn, declared.policy_name, declared.document
    existing = current_policy(client, project_arn, policy_name)
    _gate(client, declared)  # also before relying on a policy that is there already
    if existing is not None:
        twin = _twin(declared, existing, request, replaces)
        if twin is not None:
            return twin  # put by another delivery of this request: its answer
        if _same_document(str(existing.get("PolicyDocument", "")), document):
            return _join(client, declared, existing, owner)
        raise ResourceError(
            f"The project {project_arn} already has a policy named {policy_name} that this stack did not "
            "create; choose another policy name, or delete that policy first."
        )
    return _put_marked(client, declared, None, request, replaces)


def _taken_back(client: Any, declared: Declared, holding: Held) -> Outcome | None:
    """The rollback of a rename: the policy this resource held before (``holding.replaces``) under the
    declared name, still at the revision it put, is its own again (None: it is not)."""
    if holding.replaces is None or holding.replaces[0] != declared.policy_name:
        return None
    existing = current_policy(client, declared.project_arn, declared.policy_name)
    if existing is None or str(existing.get("PolicyRevisionId", "")) != holding.replaces[1]:
        return None
    if not _same_document(str(existing.get("PolicyDocument", "")), declared.document):
        return None  # changed in place since; a put would need the bar checked: the ordinary path does
    revision = holding.replaces[1]
    return Outcome(
        physical_id(declared.project_arn, declared.policy_name, revision),
        {"PolicyRevisionId": revision},
        complete=True,
    )


def update(
    client: Any,
    props: Mapping[str, Any],
    old_props: Mapping[str, Any],
    physical: str,
    owner: str = "",
    request: str = "",
) -> Outcome:
    """A new project or name is a new policy (replacement); otherwise the document, in place (with the
    revision the project has now, so an edit made outside the stack does not fail the update)."""
    declared = _parse(props)
    project_arn, policy_name, document = declared.project_arn, declared.policy_name, declared.document
    holding = held(physical)
    if holding is None or (holding.project_arn, holding.policy_name) != (project_arn, policy_name):
        if holding is not None and holding.project_arn == project_arn:
            taken_back = _taken_back(client, declared, holding)
            if taken_back is not None:
                return taken_back
        replaces = None
        if holding is not None and holding.project_arn == project_arn and holding.revision:
            replaces = (holding.policy_name, holding.revision)
        return create(client, props, owner, replaces, request)
    existing = current_policy(client, project_arn, policy_name)
    if existing is None:
        _gate(client, declared)
        return _put_marked(client, declared, None, request)
    twin = None if holding.adopted else _twin(declared, existing, request, None)
    if twin is not None:
        return twin  # put by another delivery of this request: its answer
    on_project = str(existing.get("PolicyDocument", ""))
    _gate(client, declared, on_project, quality_gate.raised(declared.bar, old_props))
    if holding.adopted:
        if _same_document(str(existing.get("PolicyDocument", "")), document):
            return Outcome(physical, {"PolicyRevisionId": str(existing.get("PolicyRevisionId", ""))}, True)
        raise ResourceError(
            f"The policy {policy_name} on {project_arn} was put by another stack (this one relies on it as "
            "it is); changing its document here would change theirs. Choose another policy name."
        )
    current = str(existing.get("PolicyRevisionId") or "") or None
    if _same_document(on_project, document):
        return Outcome(physical, {"PolicyRevisionId": current or ""}, complete=True)  # nothing to put
    entries = sharing(on_project)
    if not entries:
        return _put_marked(client, declared, current, request)
    # A shared policy changes for every stack that shares it; this resource stays on its list (by its
    # owner marker: the revision it will hold is not known before the put).
    mine = {_owner_entry(owner), *([_revision_entry(holding.revision)] if holding.revision else [])}
    kept = [e for e in entries if e not in mine]
    return _put(client, declared, current, document=_marked(document, [*kept, _owner_entry(owner)]))


def delete(client: Any, props: Mapping[str, Any], physical: str, owner: str = "") -> Outcome:
    """Remove the policy this resource put, only while it is at the revision it put; gone already, changed
    since (a later revision of this resource, an edit), or never made (a failed create) leaves the project
    as it is. A shared policy loses this resource from its list, and is deleted by the last one."""
    holding = held(physical)
    if holding is None:
        return Outcome(physical, complete=True)
    if not holding.revision and not holding.adopted:  # an id of earlier versions: deleted by name
        _delete_policy(client, holding.project_arn, holding.policy_name, None)
        return Outcome(physical, complete=True)
    # Read first: DeleteProjectPolicy may delete by name whatever the PolicyRevisionId given (not
    # documented either way). Passing it too keeps an edit made between the read and the delete.
    try:
        existing = current_policy(client, holding.project_arn, holding.policy_name)
    except ResourceError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and _code(cause) == "ResourceNotFoundException":
            return Outcome(physical, complete=True)  # the project is gone, and its policies with it
        raise
    if existing is None:
        return Outcome(physical, complete=True)
    mine = {_owner_entry(owner)}
    if holding.adopted:
        return _leave(client, holding, existing, mine, physical)
    assert holding.revision is not None
    mine.add(_revision_entry(holding.revision))
    unchanged = str(existing.get("PolicyRevisionId", "")) == holding.revision
    if unchanged and not sharing(str(existing.get("PolicyDocument", ""))):
        _delete_policy(client, holding.project_arn, holding.policy_name, holding.revision)
        return Outcome(physical, complete=True)
    return _leave(client, holding, existing, mine, physical)
