"""The copy's work for the baselines, in four steps, done by the project's own ``model_copy`` functions.

The baselines differ from the project only in how they wait, so they call the same code for the work:
start the copy, check it once, start the delete, check it once. Each check is one DescribeProjectVersions
filtered to the version, as in the project's handler.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_LAMBDA_DIR = Path(__file__).resolve().parents[3] / "lambda"
if str(_LAMBDA_DIR) not in sys.path:
    sys.path.append(str(_LAMBDA_DIR))

from resources import model_copy  # noqa: E402
from resources.copy_calls import describe_version, removal_step  # noqa: E402
from resources.copy_decisions import COPY_DONE, Version, Work  # noqa: E402
from resources.copy_properties import owner_of  # noqa: E402, F401 - the baseline's index uses copy_steps.owner_of


class CopyFailed(Exception):
    """The copy ended COPYING_FAILED or the version disappeared; the message is the Reason."""


def start_copy(client: Any, props: Mapping[str, Any], owner: str) -> tuple[str, dict[str, str]]:
    """CopyProjectVersion: (the new version's ARN, the resource's Data)."""
    outcome = model_copy.create(client, props, owner)
    data = {k: str(v) for k, v in outcome.data.items() if not k.startswith("_")}
    return outcome.physical_id, data


def copy_finished(client: Any, project_arn: str, version_arn: str) -> bool:
    """One check: True once the copy is done, CopyFailed if it failed."""
    description = describe_version(client, Version(project_arn, version_arn))
    if description is None:
        raise CopyFailed(f"The copied version {version_arn} disappeared while the copy was in progress.")
    status = str(description.get("Status"))
    if status == "COPYING_FAILED":
        raise CopyFailed(f"The copy failed (COPYING_FAILED): {description.get('StatusMessage')}")
    return status in COPY_DONE


def start_delete(client: Any, props: Mapping[str, Any], physical_id: str, owner: str) -> str | None:
    """Stop or delete the version; the version to wait for, or None when it is already gone."""
    outcome = model_copy.delete(client, props, physical_id, owner)
    if outcome.complete:
        return None
    return Work.from_data(outcome.data).target.arn


def delete_finished(client: Any, project_arn: str, version_arn: str) -> bool:
    """One check (and the next step: delete once stopped): True once the version is gone."""
    return removal_step(client, Version(project_arn, version_arn)).done
