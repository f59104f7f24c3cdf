"""The quality gate: the resource property ``MinF1Score``, and whether a model version meets it (plain
functions; the read is ``copy_calls.check_version``, one DescribeProjectVersions).

Both resource types take the optional property ``MinF1Score`` (a number, which CloudFormation delivers as
a string; 0 < x <= 1). With it, the version to be promoted is read with DescribeProjectVersions before
anything is done (``Custom::RekognitionProjectPolicy``: each version the document lets another account
copy, before PutProjectPolicy; ``Custom::RekognitionModelCopy``: the source version, before
CopyProjectVersion), and the request fails, with nothing done, when the version is missing, not trained,
has no evaluation result, or its ``EvaluationResult.F1Score`` is below the bar. The read needs
``rekognition:DescribeProjectVersions`` on the version's project, in the account of the function (the
source account reads its own versions; a destination cannot read another account's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from resources.errors import ResourceError

PROPERTY = "MinF1Score"
# A version has finished training (and keeps its evaluation) in these statuses: TRAINING_COMPLETED and
# COPYING_COMPLETED (a copy's); a version that was started since (STARTING, RUNNING, STOPPING,
# STOPPED) completed training too and keeps its EvaluationResult: refusing those would refuse every model
# that was tried out in dev before its promotion. Every other status (TRAINING_IN_PROGRESS,
# TRAINING_FAILED, COPYING_IN_PROGRESS, COPYING_FAILED, FAILED, DELETING, DEPRECATED, EXPIRED ...) is
# refused, naming it.
TRAINED = ("TRAINING_COMPLETED", "COPYING_COMPLETED", "STARTING", "RUNNING", "STOPPING", "STOPPED")


def min_f1_score(props: Mapping[str, Any]) -> float | None:
    """The bar the properties set (None: no bar); ResourceError for a value that is not 0 < x <= 1."""
    value = props.get(PROPERTY)
    if value is None or value == "":
        return None
    try:
        number = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        bar = float(value) if number else -1.0
    except ValueError:
        bar = -1.0
    if math.isnan(bar) or not 0 < bar <= 1:
        raise ResourceError(
            f"Property {PROPERTY} must be a number greater than 0 and at most 1 (an F1 score, e.g. 0.9), "
            f"got {str(value)[:40]!r}."
        )
    return bar


def raised(bar: float | None, previous: Mapping[str, Any]) -> bool:
    """Whether ``bar`` is set and new or higher than the one the ``previous`` properties set (read
    leniently: an invalid previous bar counts as none). What met a bar needs no check against a lower or
    equal one, and a rollback to the bar it had then never fails on it."""
    if bar is None:
        return False
    try:
        before = min_f1_score(previous)
    except ResourceError:
        before = None
    return before is None or bar > before


def verdict(
    version_arn: str, description: Mapping[str, Any] | None, bar: float, *, held: bool = False
) -> str | None:
    """Why the described version does not meet the bar (None: it does). ``description`` is its
    ProjectVersionDescription, None when it does not exist.

    ``held``: the version was already promoted (the project's policy allows it already, or the copy
    exists): only a known F1 score below the bar refuses it then. A held version that was deleted, expired
    or lost its evaluation since cannot be promoted again anyway, and refusing it would fail an update that
    only changes something else, or the rollback of one (UPDATE_ROLLBACK_FAILED)."""
    score = ((description or {}).get("EvaluationResult") or {}).get("F1Score")
    if held and not (isinstance(score, (int, float)) and score < bar):
        return None
    if description is None:
        return (
            f"The model version {version_arn} does not exist, so it cannot be checked against "
            f"{PROPERTY} {bar:g}"
        )
    status = str(description.get("Status"))
    if status not in TRAINED:
        return (
            f"The model version {version_arn} is {status}: only a trained version ({', '.join(TRAINED)}) can "
            f"be checked against {PROPERTY} {bar:g}"
        )
    if not isinstance(score, (int, float)):
        missing = (
            f"The model version {version_arn} ({status}) has no evaluation result "
            f"(EvaluationResult.F1Score), so it cannot be checked against {PROPERTY} {bar:g}"
        )
        source = description.get("SourceProjectVersionArn")
        if source:
            # Whether a copy shows its source's EvaluationResult is not documented (the API reference
            # returns it "only if training is successful"; a copy was not trained): say so, and where the
            # bar can be checked instead.
            return (
                f"{missing}: it is a copy of {source}, and Rekognition does not show an evaluation for it "
                f"(AWS does not document whether a copy carries its source's). Put the bar where the model "
                f"was trained (promote or copy {source} itself with {PROPERTY}), or remove {PROPERTY} here "
                "to promote the copy unchecked"
            )
        return (
            f"{missing}. Promote a version whose evaluation shows an F1 score, or remove {PROPERTY} to "
            "promote this one unchecked"
        )
    if score < bar:
        return (
            f"The model version {version_arn} has an F1 score of {score}, below the quality bar "
            f"{PROPERTY} {bar:g}"
        )
    return None
