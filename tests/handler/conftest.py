"""Helpers shared by the handler tests: the polling rules left, a stack prepared for tests that send the
custom resource's requests themselves, and (re-exported from the root conftest) the stack events and the
destination project's versions. Plain functions: import them from here."""

from __future__ import annotations

from typing import Any

from tests.conftest import DEST_ACCOUNT, REGION, REPO, copy_template
from tests.conftest import reasons as reasons
from tests.conftest import statuses as statuses
from tests.conftest import versions as versions


def rules_left(cloud: Any) -> list[str]:
    """The EventBridge rules that exist in the destination account."""
    client = cloud.session(DEST_ACCOUNT, REGION).client("events")
    return [r["Name"] for r in client.list_rules()["Rules"]]


def prepared(cloud: Any, source: tuple[str, str], name: str = "prod") -> Any:
    """A stack with everything but the custom resource, for tests that send its requests themselves."""
    stack = cloud.stack(name, account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
    stack.deploy_plain_resources(copy_template(source))
    return stack
