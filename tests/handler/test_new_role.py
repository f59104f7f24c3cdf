"""An Update served by a function whose role the same update replaces: IAM's eventual consistency keeps the
new role's policies out of force for a while (``iam_propagation_delay``). Its claim and its calls are
denied at first, like those of a delivery that runs after the stack deleted the role; it must still
answer. The emulator dates a role's policies when it first sees the role; here a role is seen when IAM
creates it (empty), so the policies put right after take the delay to take effect, as in IAM."""

from __future__ import annotations

import pytest
from moto.iam.models import IAMBackend

from emulator.custom_labels.authz import observe_role
from emulator.templates import function_role
from tests.conftest import copy_template
from tests.handler.conftest import reasons
from tests.variants import variant_fixture  # noqa: F401 - the variant fixture


@pytest.fixture
def roles_seen_when_created(monkeypatch):
    original = IAMBackend.create_role
    on: list[bool] = []

    def create_role(self, *args, **kwargs):
        role = original(self, *args, **kwargs)
        if on:
            observe_role(role.arn)
        return role

    monkeypatch.setattr(IAMBackend, "create_role", create_role)
    return on


def _with_new_role(template):
    resources = template["Resources"]
    resources["Role2"] = function_role()
    resources["Handler"]["Properties"]["Role"] = {"Fn::GetAtt": ["Role2", "Arn"]}
    return template


@pytest.mark.variant(iam_propagation_delay=30.0)
@pytest.mark.parametrize("timeout", [60, 3600])
def test_an_update_served_by_a_function_with_a_new_role_is_answered(
    variant, cloud, deploy, source_version, roles_seen_when_created, timeout
):
    # ServiceTimeout 60: no time to wait out a denial's patience, so the denial is the answer (FAILED, with
    # its Reason); 3600: the new role's policies take effect while it waits, and the update goes through.
    stack = deploy(copy_template(source_version, tags={"a": "1"}))
    cloud.settle(60)
    roles_seen_when_created.append(True)  # the stack's new role, from now on

    template = copy_template(source_version, tags={"b": "2"}, service_timeout=timeout)
    status = stack.update(_with_new_role(template))

    assert cloud.violations == []  # one answer, before ServiceTimeout
    if timeout == 60:
        assert status == "UPDATE_ROLLBACK_COMPLETE"
        assert "AccessDeniedException" in reasons(cloud)
    else:
        assert status == "UPDATE_COMPLETE"
