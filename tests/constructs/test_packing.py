"""The packer of project policy documents (``rekognition_model_copy.packing``): sizes, merging, splitting,
next-fit stability when a grant is removed, the error at the limits, and the stated maximum."""

from __future__ import annotations

import json
import re

import pytest

from rekognition_model_copy import ModelCopyValidationError, packing
from rekognition_model_copy.packing import Grant, PolicyPackingError

VERSION = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001"
)
OTHER_VERSION = (
    "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-12-01/1700000000002"
)
COPY = "rekognition:CopyProjectVersion"
STATED_MAXIMUM = {1: 53, 2: 106, 5: 265}
"""Destination accounts (account roots) one version reaches within 1, 2 (the wiring's bound) or 5 parts."""


def root(n: int) -> str:
    return f"arn:aws:iam::{200000000000 + n:012d}:root"


def grants(count: int, version: str = VERSION) -> list[Grant]:
    return [Grant(version, root(n)) for n in range(count)]


def principals_by_document(documents: list[str]) -> list[list[str]]:
    """Each document's principals, in order (a string principal counts as a list of one)."""
    result = []
    for document in documents:
        names: list[str] = []
        for statement in json.loads(document)["Statement"]:
            value = statement["Principal"]["AWS"]
            names.extend([value] if isinstance(value, str) else value)
        result.append(names)
    return result


def test_one_grant_renders_todays_statement_form() -> None:
    (document,) = packing.pack([Grant(VERSION, root(0))])
    assert document == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'
        + root(0)
        + '"},"Action":"rekognition:CopyProjectVersion","Resource":"'
        + VERSION
        + '"}]}'
    )


def test_grants_of_one_version_share_one_statement_and_repeats_count_once() -> None:
    (document,) = packing.pack([*grants(3), Grant(VERSION, root(1))])
    (statement,) = json.loads(document)["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"AWS": [root(0), root(1), root(2)]},
        "Action": COPY,
        "Resource": VERSION,
    }


def test_other_versions_and_actions_get_their_own_statements() -> None:
    two_actions = (COPY, "rekognition:Other")  # the packer does not judge actions; validation does
    (document,) = packing.pack(
        [Grant(VERSION, root(0)), Grant(OTHER_VERSION, root(0)), Grant(VERSION, root(1), two_actions)]
    )
    statements = json.loads(document)["Statement"]
    assert [(s["Resource"], s["Action"], s["Principal"]["AWS"]) for s in statements] == [
        (VERSION, COPY, root(0)),
        (OTHER_VERSION, COPY, root(0)),
        (VERSION, list(two_actions), root(1)),
    ]


def test_leading_statements_open_the_first_document_as_given_and_count_towards_it() -> None:
    deny = {
        "Sid": "NoOld",
        "Effect": "Deny",
        "Principal": {"AWS": root(99)},
        "Action": COPY,
        "Resource": VERSION,
    }
    documents = packing.pack(grants(53), leading=[deny])
    assert json.loads(documents[0])["Statement"][0] == deny
    first, second = principals_by_document(documents)
    assert first[0] == root(99) and first[1:] + second == [root(n) for n in range(53)]
    assert second  # the Deny took room: the 53 principals of one document no longer fit in the first
    assert packing.pack([], leading=[deny]) == [packing.render([deny])]
    with pytest.raises(PolicyPackingError, match="as they are"):
        packing.pack([], leading=[deny] * 20)


def test_every_document_is_compact_json_within_the_limit_and_a_full_one_is_near_it() -> None:
    documents = packing.pack(grants(150), max_documents=5)
    assert len(documents) == 3
    for document in documents:
        assert len(document) <= 2000
        assert document == json.dumps(json.loads(document), separators=(",", ":"))
    # full documents are full: one more principal (33 characters) would not fit
    assert all(2000 - len(document) < len(root(0)) + 3 for document in documents[:-1])


def test_packed_statements_follow_the_rules_of_project_policies() -> None:
    """What the construct checks of every statement (one action, account or role principals, an exact
    version ARN, no wildcard) holds for packed, merged statements too; the documents are within the limit."""
    from rekognition_model_copy import policy_validation, validation

    project = validation.parse_project_arn(
        "project", "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000"
    )
    role = "arn:aws:iam::222222222222:role/RekognitionModelPromotion-ModelCopy-us-east-1"
    documents = packing.pack([*grants(70), Grant(OTHER_VERSION, role)], max_documents=2)
    for document in documents:
        assert len(document) <= policy_validation.MAX_POLICY_DOCUMENT_LENGTH
        for statement in json.loads(document)["Statement"]:
            policy_validation.check_policy_statement(statement, project, "dev-defects")


def test_a_statement_that_does_not_fit_continues_in_the_next_document() -> None:
    documents = packing.pack(grants(60), max_documents=2)
    assert principals_by_document(documents) == [
        [root(n) for n in range(53)],
        [root(n) for n in range(53, 60)],
    ]
    assert all(len(json.loads(d)["Statement"]) == 1 for d in documents)


def test_removing_a_grant_only_moves_later_grants_to_earlier_or_the_same_documents() -> None:
    mixed = [Grant(VERSION if n % 3 else OTHER_VERSION, root(n)) for n in range(120)]

    def document_of(documents: list[str]) -> dict[tuple[str, str], int]:
        placed = {}
        for index, document in enumerate(documents):
            for statement in json.loads(document)["Statement"]:
                value = statement["Principal"]["AWS"]
                for principal in [value] if isinstance(value, str) else value:
                    placed[(statement["Resource"], principal)] = index
        return placed

    before = document_of(packing.pack(mixed, max_documents=50))
    moved_earlier = 0
    for removed in (0, 1, 40, 59, 119):
        after = document_of(
            packing.pack(mixed[:removed] + mixed[removed + 1 :], max_documents=50)
        )
        for grant in mixed[removed + 1 :]:
            key = (grant.version_arn, grant.principal)
            assert after[key] <= before[key], (removed, grant)
            moved_earlier += after[key] < before[key]
        for grant in mixed[:removed]:  # earlier grants stay where they were
            assert after[(grant.version_arn, grant.principal)] == before[(grant.version_arn, grant.principal)]
    assert moved_earlier > 0  # the property is not vacuous: some grants did move


def test_too_many_grants_raise_an_error_naming_both_limits() -> None:
    with pytest.raises(PolicyPackingError, match=r"more than 2 project policy document\(s\) of at most 2000"):
        packing.pack(grants(107), max_documents=2)
    assert issubclass(PolicyPackingError, ModelCopyValidationError)


def test_one_grant_longer_than_a_document_is_refused() -> None:
    long_role = "arn:aws:iam::222222222222:role/" + "p/" * 900 + "r"
    with pytest.raises(
        PolicyPackingError, match="more than 2000 characters, the most PutProjectPolicy allows"
    ):
        packing.pack([Grant(VERSION, long_role)])


@pytest.mark.parametrize("max_documents", sorted(STATED_MAXIMUM))
def test_the_stated_maximum_fits_and_one_more_does_not(max_documents: int) -> None:
    maximum = packing.max_destination_accounts(VERSION, max_documents)
    assert maximum == STATED_MAXIMUM[max_documents]
    assert len(packing.pack(grants(maximum), max_documents=max_documents)) == max_documents
    with pytest.raises(PolicyPackingError):
        packing.pack(grants(maximum + 1), max_documents=max_documents)


def test_max_parts_leaves_room_for_old_and_new_parts_during_an_update() -> None:
    assert [packing.max_parts(other) for other in range(5)] == [2, 2, 1, 1, 1]
    with pytest.raises(PolicyPackingError, match="at most 5"):
        packing.max_parts(5)
    for other in range(4):  # parts + changed parts never exceed the project's free places
        parts = packing.max_parts(other)
        assert parts == 1 or 2 * parts <= 5 - other


def test_part_names_keep_one_part_plain_and_name_several_by_position_and_content() -> None:
    documents = packing.pack(grants(60), max_documents=2)
    assert packing.part_names("Dev.Promote", documents[:1]) == ["Dev.Promote"]
    names = packing.part_names("Dev.Promote", documents)
    assert [re.fullmatch(r"Dev\.Promote-([12])-[0-9a-f]{8}", n)[1] for n in names] == ["1", "2"]  # type: ignore[index]
    # a changed document is a new name (a replacement); an unchanged one keeps its name
    changed = packing.pack(grants(61), max_documents=2)
    assert packing.part_names("Dev.Promote", changed)[0] == names[0]
    assert packing.part_names("Dev.Promote", changed)[1] != names[1]
    assert all(len(n) <= 128 for n in packing.part_names("x" * 128, documents))
