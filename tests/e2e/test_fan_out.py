"""Fan-out on emulated AWS: one dev version promoted to several prod accounts, then one account removed.

The real templates (the fan-out example, synthesised in-process) run on the CloudFormation driver with the
real handler. A driver ``on_event`` hook reads the dev project's policies (ListProjectPolicies, as the dev
account) at every stack event, so "throughout" is checked at every step CloudFormation takes: no moment in
which a remaining destination account lacks its permission on the version. The second test packs 60
accounts into two policies (real limits: 2000 characters) and removes the first account, which changes
both parts: the new parts are put before the old ones are deleted, and the project never holds more than
5 policies. The third goes from one part (53 accounts, the plain name) to two and back.

Every test runs under each reading of DeleteProjectPolicy's PolicyRevisionId (refused when stale, or
ignored: the policy of that name deleted whatever its revision), which AWS does not document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator import custom_labels
from emulator.clock import SimulatedClock
from emulator.cloudformation import CloudFormation
from tests.conftest import LATE, REGION
from tests.variants import each_reading, variant_fixture  # noqa: F401 - the variant fixture

DEV = "111111111111"
PRODS = ("222222222222", "333333333333", "444444444444")
ASSET_METADATA = {"aws:cdk:enable-asset-metadata": True}
pytestmark = each_reading("delete_policy_revision")  # through ``watch``, which takes the variant


@dataclass
class Watch:
    """What the dev project allowed at each stack event: (event, allowed principals, policy names)."""

    driver: CloudFormation
    version_arn: str = ""
    project_arn: str = ""
    seen: list[tuple[str, set[str], list[str]]] = field(default_factory=list)

    def policies(self) -> list[dict[str, Any]]:
        client = self.driver.session(DEV, REGION).client("rekognition")
        found: list[dict[str, Any]] = client.list_project_policies(ProjectArn=self.project_arn)[
            "ProjectPolicies"
        ]
        return found

    def allowed(self) -> set[str]:
        """The principals the project's policies allow to copy the version."""
        principals: set[str] = set()
        for policy in self.policies():
            for statement in json.loads(policy["PolicyDocument"])["Statement"]:
                if statement["Effect"] == "Allow" and statement["Resource"] == self.version_arn:
                    value = statement["Principal"]["AWS"]
                    principals.update([value] if isinstance(value, str) else value)
        return principals

    def observe(self, event: Any) -> None:
        if self.project_arn:
            names = [p["PolicyName"] for p in self.policies()]
            self.seen.append((f"{event.stack} {event.logical_id} {event.status}", self.allowed(), names))

    def since(self, mark: int) -> list[tuple[str, set[str], list[str]]]:
        return self.seen[mark:]


@pytest.fixture
def watch(clock: SimulatedClock, variant: dict[str, Any]) -> Iterator[Watch]:
    """A driver whose every stack event is observed (as the ``cloud`` fixture, with ``on_event``), under
    the test's reading of the undocumented behaviours (``variant``)."""
    holder: list[Watch] = []
    with CloudFormation(clock, on_event=lambda event: holder[0].observe(event)) as driver:
        custom_labels.set_clock(driver.runtime.service_clock())
        holder.append(Watch(driver))
        holder[0].project_arn, holder[0].version_arn = custom_labels.seed_trained_version(
            DEV, REGION, "dev-defects", "defects.v1"
        )
        yield holder[0]
        driver.settle(LATE)
        assert driver.audit() == []


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def synth_fan_out(watch: Watch, accounts: tuple[str, ...], outdir: Path) -> tuple[dict[str, Any], Path]:
    """The fan-out example's templates by stack name (the dev stack first) and its assembly directory."""
    from examples import fan_out_app

    built = fan_out_app.build_fan_out(
        prod_accounts=accounts,
        outdir=str(outdir),
        source=fan_out_app.Source(watch.project_arn, watch.version_arn),
        context=ASSET_METADATA,
    )
    assembly = built.app.synth()
    names = [built.dev.stack_name, *(prod.stack_name for prod in built.prods)]
    return {n: dict(assembly.get_stack_by_name(n).template) for n in names}, Path(assembly.directory)


def copied_version(stack: Any) -> dict[str, Any]:
    """The destination account's description of the stack's copied version."""
    (copy,) = [r for r in stack.resources.values() if r.type == "Custom::RekognitionModelCopy"]
    project_stem, version_name = copy.physical_id.split("/version/")[0], copy.physical_id.split("/")[-2]
    client = stack.session().client("rekognition")
    (project,) = [
        p["ProjectArn"]
        for p in client.describe_projects()["ProjectDescriptions"]
        if p["ProjectArn"].startswith(project_stem + "/")
    ]
    (description,) = client.describe_project_versions(ProjectArn=project, VersionNames=[version_name])[
        "ProjectVersionDescriptions"
    ]
    return dict(description)


def test_three_prod_accounts_then_one_removed_keep_copies_and_permissions_throughout(
    watch: Watch, tmp_path: Path
) -> None:
    from examples import fan_out_app

    templates, assembly = synth_fan_out(watch, PRODS, tmp_path / "three")
    stacks = {}
    for name, template in templates.items():  # the dev stack first: the prod stacks depend on it
        account = DEV if name == fan_out_app.DEV_STACK_NAME else name.rsplit("-", 1)[1]
        stacks[name] = watch.driver.stack(name, account_id=account, region=REGION, asset_root=assembly)
        assert stacks[name].create(template) == "CREATE_COMPLETE", name
    assert watch.allowed() == {root(a) for a in PRODS}
    prods = {a: stacks[fan_out_app.prod_stack_name(a)] for a in PRODS}
    copies = {a: copied_version(prods[a]) for a in PRODS}
    for account, copy in copies.items():
        assert copy["SourceProjectVersionArn"] == watch.version_arn, account
        assert copy["Status"] == "COPYING_COMPLETED", account

    # Remove the middle account: update the dev stack (and the others: unchanged), then delete its stack.
    remaining, removed = (PRODS[0], PRODS[2]), PRODS[1]
    mark = len(watch.seen)
    templates, assembly = synth_fan_out(watch, remaining, tmp_path / "two")
    for name, template in templates.items():
        stacks[name].asset_root = assembly
        assert stacks[name].update(template) == "UPDATE_COMPLETE", name
    assert prods[removed].delete() == "DELETE_COMPLETE"

    during = watch.since(mark)
    assert len(during) > 4  # the hook really saw the update and the delete
    for event, allowed, _ in during:
        assert {root(a) for a in remaining} <= allowed, event
    assert watch.allowed() == {root(a) for a in remaining}
    for account in remaining:
        copy = copied_version(prods[account])
        assert copy["ProjectVersionArn"] == copies[account]["ProjectVersionArn"]
        assert copy["Status"] == "COPYING_COMPLETED"
    client = watch.driver.session(removed, REGION).client("rekognition")
    projects = client.describe_projects()["ProjectDescriptions"]
    assert all(
        client.describe_project_versions(ProjectArn=p["ProjectArn"])["ProjectVersionDescriptions"] == []
        for p in projects
    )

    for name in [n for n in templates if n != fan_out_app.DEV_STACK_NAME] + [fan_out_app.DEV_STACK_NAME]:
        assert stacks[name].delete() == "DELETE_COMPLETE", name
    assert watch.policies() == []


def policy_template(watch: Watch, accounts: list[str], outdir: Path) -> tuple[dict[str, Any], Path]:
    """A dev stack whose one project policy allows ``accounts`` to copy the version."""
    from aws_cdk import App, Environment, Stack

    from rekognition_model_copy import RekognitionProjectPolicy

    app = App(outdir=str(outdir), context=ASSET_METADATA)
    stack = Stack(app, "FanOutDev", env=Environment(account=DEV, region=REGION))
    policy = RekognitionProjectPolicy(stack, "Prod", project=watch.project_arn)
    for account in accounts:
        policy.add_copy_permission(principal=account, source_project_version_arn=watch.version_arn)
    assembly = app.synth()
    return dict(assembly.get_stack_by_name("FanOutDev").template), Path(assembly.directory)


def part_names(template: dict[str, Any]) -> set[str]:
    resources: dict[str, Any] = template["Resources"]
    return {
        r["Properties"]["PolicyName"]
        for r in resources.values()
        if r["Type"] == "Custom::RekognitionProjectPolicy"
    }


def test_sixty_accounts_in_two_parts_then_one_removed_puts_new_parts_before_deleting_old(
    watch: Watch, tmp_path: Path
) -> None:
    accounts = [f"{300000000000 + n:012d}" for n in range(60)]
    template, assembly = policy_template(watch, accounts, tmp_path / "sixty")
    old_names = part_names(template)
    assert len(old_names) == 2
    stack = watch.driver.stack("FanOutDev", account_id=DEV, region=REGION, asset_root=assembly)
    assert stack.create(template) == "CREATE_COMPLETE"
    assert watch.allowed() == {root(a) for a in accounts}
    assert sorted(p["PolicyName"] for p in watch.policies()) == sorted(old_names)

    # Removing the first account moves every later grant earlier: both parts change, both are replaced.
    mark = len(watch.seen)
    template, assembly = policy_template(watch, accounts[1:], tmp_path / "fifty-nine")
    new_names = part_names(template)
    assert len(new_names) == 2 and not new_names & old_names
    stack.asset_root = assembly
    assert stack.update(template) == "UPDATE_COMPLETE"

    during = watch.since(mark)
    for event, allowed, names in during:
        assert {root(a) for a in accounts[1:]} <= allowed, event
        assert len(names) <= 4, event  # old and new parts together, within the 5 policies of a project
    steps = [event for event, _, _ in during]
    both = next(i for i, (_, _, names) in enumerate(during) if set(names) == old_names | new_names)
    cleanup = next(i for i, step in enumerate(steps) if step.endswith("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
    assert both < cleanup  # every new part was put before any old one was deleted
    assert all(set(names) >= old_names for _, _, names in during[:cleanup])
    assert sorted(p["PolicyName"] for p in watch.policies()) == sorted(new_names)
    assert watch.allowed() == {root(a) for a in accounts[1:]}

    assert stack.delete() == "DELETE_COMPLETE"
    assert watch.policies() == []


def test_one_part_to_two_and_back_keeps_every_remaining_account_allowed(watch: Watch, tmp_path: Path) -> None:
    """53 account roots fill one document (the plain name); a 54th needs a second part (both named by
    content: the plain-named policy is replaced); removing it again goes back to the plain name."""
    accounts = [f"{400000000000 + n:012d}" for n in range(54)]
    template, assembly = policy_template(watch, accounts[:53], tmp_path / "one")
    assert part_names(template) == {"FanOutDev.Prod"}
    stack = watch.driver.stack("FanOutDev", account_id=DEV, region=REGION, asset_root=assembly)
    assert stack.create(template) == "CREATE_COMPLETE"
    for step, kept in (("two", accounts), ("back", accounts[:53])):
        mark = len(watch.seen)
        template, assembly = policy_template(watch, kept, tmp_path / step)
        assert len(part_names(template)) == (2 if step == "two" else 1)
        stack.asset_root = assembly
        assert stack.update(template) == "UPDATE_COMPLETE", step
        for event, allowed, names in watch.since(mark):
            assert {root(a) for a in accounts[:53]} <= allowed, (step, event)
            assert len(names) <= 3, (step, event)  # 1 + 2 during the update, either way
        assert sorted(p["PolicyName"] for p in watch.policies()) == sorted(part_names(template))
        assert watch.allowed() == {root(a) for a in kept}
    assert stack.delete() == "DELETE_COMPLETE"


def test_a_document_that_moves_to_an_earlier_part_is_put_again_not_lost(watch: Watch, tmp_path: Path) -> None:
    """106 accounts fill two parts exactly; keeping the second half and adding ten moves the second part's
    very document to part 1. Its name carries the position, so part 1 puts it as a new policy, and the
    cleanup's Delete of the old part 2 cannot remove what part 1 now relies on."""
    accounts = [f"{300000000000 + n:012d}" for n in range(200)]
    before, after = accounts[:106], accounts[53:106] + accounts[150:160]
    template, assembly = policy_template(watch, before, tmp_path / "before")
    stack = watch.driver.stack("FanOutDev", account_id=DEV, region=REGION, asset_root=assembly)
    assert stack.create(template) == "CREATE_COMPLETE"
    mark = len(watch.seen)
    template, assembly = policy_template(watch, after, tmp_path / "after")
    stack.asset_root = assembly
    assert stack.update(template) == "UPDATE_COMPLETE"
    for event, allowed, _ in watch.since(mark):
        assert {root(a) for a in accounts[53:106]} <= allowed, event
    assert watch.allowed() == {root(a) for a in after}
    assert sorted(p["PolicyName"] for p in watch.policies()) == sorted(part_names(template))
