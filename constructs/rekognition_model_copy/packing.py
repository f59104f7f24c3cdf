"""Packing copy grants into project policy documents (PutProjectPolicy's limits), as plain values.

A source project holds at most :data:`~.policy_validation.MAX_POLICIES_PER_PROJECT` (5) project policies
of at most :data:`~.policy_validation.MAX_POLICY_DOCUMENT_LENGTH` (2000) characters each, counted on the
``PolicyDocument`` string as sent: the compact JSON this module renders
(``json.dumps(document, separators=(",", ":"))``).
Promoting one model version to many accounts needs one principal per account; :func:`pack` puts them into as
few documents as the limits allow:

- grants with the same version ARN and actions share one statement, ``"Principal": {"AWS": [...]}``; a
  statement with one principal names it as a string, ``"Principal": {"AWS": "<arn>"}``, the form
  :class:`RekognitionProjectPolicy` renders today (no ``Sid``, ``Action`` a string for the one action);
- documents fill **next-fit** in the order the grants are given: a grant goes into the current document, or,
  when the document would grow past 2000 characters, starts the next one (a statement's principal list is
  then continued in a statement of the next document). Removing a grant therefore never moves a later
  grant to a later document: it stays in the same document or moves to an earlier one (proof sketch in
  :func:`pack`);
- more documents than ``max_documents`` raise :class:`PolicyPackingError`, naming both limits.

No CDK constructs here: the functions take and return strings and numbers, so the construct
(:class:`RekognitionProjectPolicy`), the tests and the benchmark share one definition.

How ``RekognitionProjectPolicy`` and ``RekognitionModelPromotion`` use it:

- A policy whose statements fit ONE document as they are (:func:`render`, one statement per permission)
  keeps today's name (``policy_name``) and document, and is updated in place with PutProjectPolicy and the
  current revision id, exactly as before; only beyond that are its copy permissions packed (:func:`pack`),
  after the statements added with ``add_statement``, as they are (``leading``).
- A packed policy of SEVERAL documents names each part by its position and content (:func:`part_names`:
  ``<name>-<position>-<first 8 hex of sha256 of the document>``), so any change to a part is a
  *replacement* of that part's ``Custom::RekognitionProjectPolicy`` resource. The handler
  (``lambda/resources/project_policy.py``) treats a new name as a replacement and its Delete removes only the
  revision it put; CloudFormation creates the new resource (PutProjectPolicy of the new document) during
  the update and deletes the old one only in the cleanup phase after every resource was updated. So no
  destination that remains in the policy is without its permission at any moment: the new document that
  allows it is put before the old one is deleted.
- The cost: during an update the old and the new parts exist together. A project holds 5 policies, so
  ``parts + changed parts <= 5 - (other policies of the project)``; since a removal can change every later
  part, the safe bound is ``2 * parts <= 5 - other`` (:func:`max_parts`): at most 2 parts when the project
  has no other policies. Going from one part (plain name) to two (content names) needs 1 + 2 = 3 policies
  during the update, from two to one 2 + 1 = 3: both fit.
- :func:`max_destination_accounts` states the largest number of destination accounts (account-root
  principals) one version can be promoted to within ``max_documents`` parts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import policy_validation, validation

POLICY_VERSION = "2012-10-17"
"""The IAM policy language version of every document."""
MAX_DOCUMENT_LENGTH = policy_validation.MAX_POLICY_DOCUMENT_LENGTH
MAX_DOCUMENTS = policy_validation.MAX_POLICIES_PER_PROJECT
DIGEST_LENGTH = 8
"""Hex characters of the document's sha256 in a part's name."""
_MAX_NAME = 128
_PARTITION = re.compile(r"^arn:(?P<partition>[a-z\d-]+):")


class PolicyPackingError(validation.ModelCopyValidationError):
    """The grants do not fit in the documents allowed (or one grant does not fit in a document)."""


@dataclass(frozen=True)
class Grant:
    """One principal allowed ``actions`` on one model version (a project policy's resource)."""

    version_arn: str
    principal: str
    actions: tuple[str, ...] = (policy_validation.COPY_ACTION,)


@dataclass
class _Statement:
    version_arn: str
    actions: tuple[str, ...]
    principals: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        principal: str | list[str] = (
            self.principals[0] if len(self.principals) == 1 else list(self.principals)
        )
        action: str | list[str] = self.actions[0] if len(self.actions) == 1 else list(self.actions)
        return {
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": action,
            "Resource": self.version_arn,
        }


def render(statements: Iterable[Mapping[str, object]]) -> str:
    """A policy document as PutProjectPolicy receives it: compact JSON, the form whose length counts."""
    document = {"Version": POLICY_VERSION, "Statement": [dict(s) for s in statements]}
    return json.dumps(document, separators=(",", ":"))


@dataclass
class _Document:
    """A document being filled: statements kept as given (``leading``, first document only), then grants."""

    leading: list[dict[str, object]] = field(default_factory=list)
    statements: list[_Statement] = field(default_factory=list)

    def render(self) -> str:
        return render([*self.leading, *(s.as_json() for s in self.statements)])

    def add(self, grant: Grant) -> None:
        for statement in self.statements:
            if statement.version_arn == grant.version_arn and statement.actions == grant.actions:
                statement.principals.append(grant.principal)
                return
        self.statements.append(_Statement(grant.version_arn, grant.actions, [grant.principal]))

    def fits(self, grant: Grant) -> bool:
        """Whether the document with ``grant`` added is within the limit (the document is left unchanged)."""
        before = [(s, len(s.principals)) for s in self.statements]
        self.add(grant)
        fits = len(self.render()) <= MAX_DOCUMENT_LENGTH
        self.statements = [s for s, _ in before]
        for statement, count in before:
            del statement.principals[count:]
        return fits

    @property
    def empty(self) -> bool:
        return not self.leading and not self.statements


def pack(
    grants: Iterable[Grant],
    *,
    max_documents: int = MAX_DOCUMENTS,
    leading: Sequence[Mapping[str, object]] = (),
) -> list[str]:
    """The grants as policy documents (compact JSON strings of at most 2000 characters), next-fit in order.

    Repeated grants count once (the first occurrence keeps its place). Statements appear in the order of
    their first grant within a document, principals in the order given.

    Why removal only moves later grants earlier: while packing, compare the packing without a grant to the
    one with it, grant by grant after the removed one. Invariant: the current document's index is never
    higher without the grant, and when it is the same, its grants are a subset of the other's (the document
    started at the same grant or later). A document's length only grows with its grants, so whatever fits
    in the larger document fits in the smaller one; the invariant holds for the next grant too.

    :param max_documents: the most documents allowed (1-5; see :func:`max_parts`).
    :param leading: statements put first, as given, in the first document (e.g. those of
        ``add_statement``: a Deny, a statement with a Sid); they count towards its length.
    :raises PolicyPackingError: one grant alone (with ``leading`` in the first document) is longer than a
        document may be, or the grants need more than ``max_documents`` documents.
    :raises ValueError: ``max_documents`` below 1.
    """
    if max_documents < 1:
        raise ValueError(f"max_documents must be at least 1; got {max_documents}.")
    documents: list[_Document] = []
    current = _Document([dict(statement) for statement in leading])
    if len(current.render()) > MAX_DOCUMENT_LENGTH:
        raise PolicyPackingError(
            f"The statements given as they are render a project policy document of {len(current.render())} "
            f"characters; PutProjectPolicy allows {MAX_DOCUMENT_LENGTH}. Remove some of them."
        )
    seen: set[Grant] = set()
    for grant in grants:
        if grant in seen:
            continue
        seen.add(grant)
        if current.fits(grant):
            current.add(grant)
            continue
        if current.empty:
            raise _too_long(grant)
        documents.append(current)
        current = _Document()
        if not current.fits(grant):
            raise _too_long(grant)
        current.add(grant)
        if len(documents) + 1 > max_documents:
            raise PolicyPackingError(
                f"The copy permissions need more than {max_documents} project policy document(s) of at most "
                f"{MAX_DOCUMENT_LENGTH} characters each ({len(seen)} grants so far; at most {max_documents} "
                f"documents are allowed for this project, of the {MAX_DOCUMENTS} policies a project can "
                "hold). Promote to fewer destination accounts from this version, name account roots rather "
                "than roles, or remove other policies of the project."
            )
    if not current.empty:
        documents.append(current)
    return [document.render() for document in documents]


def _too_long(grant: Grant) -> PolicyPackingError:
    return PolicyPackingError(
        f"The grant of {grant.principal!r} on {grant.version_arn!r} alone renders a project policy document "
        f"of more than {MAX_DOCUMENT_LENGTH} characters, the most PutProjectPolicy allows. Use a shorter "
        "principal (the account root instead of a role with a path) or version ARN."
    )


def account_root(partition: str, account: str) -> str:
    """The account root principal ``arn:<partition>:iam::<account>:root``."""
    return f"arn:{partition}:iam::{account}:root"


def max_destination_accounts(version_arn: str, max_documents: int) -> int:
    """The most destination accounts (account-root principals) that :func:`pack` fits for one version.

    Every account root of a partition has the same length, so each full document holds the same number of
    them: the count that fills one document, times ``max_documents``.
    """
    match = _PARTITION.match(version_arn)
    partition = match["partition"] if match else "aws"
    document = _Document()
    count = 0
    while True:
        grant = Grant(version_arn, account_root(partition, f"{count:012d}"))
        if not document.fits(grant):
            break
        document.add(grant)
        count += 1
    return count * max_documents


def max_parts(other_policies: int = 0) -> int:
    """The most content-named parts a packed policy may have when the project holds ``other_policies``
    other policies: old and new parts coexist during an update, ``2 * parts <= 5 - other_policies``.

    At least 1 while a policy fits at all (a single part keeps its name and is updated in place).
    """
    free = MAX_DOCUMENTS - other_policies
    if free < 1:
        raise PolicyPackingError(
            f"The project already holds {other_policies} other policies; a project holds at most "
            f"{MAX_DOCUMENTS}. Remove one of them to add this policy."
        )
    return max(1, free // 2)


def part_names(name: str, documents: Sequence[str]) -> list[str]:
    """The policy names of the parts: ``[name]`` for one document, else ``<name>-<n>-<8 hex of sha256>``
    for part ``n`` (1, 2, ...).

    The position is part of the name because the parts' logical ids are positions (``Resource``,
    ``Part2``): a name then only ever belongs to one logical id. Without it, a document that moves from
    part 2 to part 1 would be created under part 1 with the name part 2 holds (the handler relies on a
    policy of that name and document, never puts it), and the cleanup's Delete of the old part 2 would then
    delete it. A name over 128 characters is cut so the suffix fits.
    """
    if len(documents) == 1:
        return [name]
    stem = name[: _MAX_NAME - DIGEST_LENGTH - 2 - len(str(len(documents)))]
    return [
        f"{stem}-{position}-{hashlib.sha256(document.encode('utf-8')).hexdigest()[:DIGEST_LENGTH]}"
        for position, document in enumerate(documents, start=1)
    ]
