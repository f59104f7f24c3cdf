"""Two deliveries of one request running at the same moment that both fail answer alike (I5): the id of a
FAILED Create that made nothing is derived from the RequestId, not drawn at random."""

from __future__ import annotations

import json

from emulator import custom_labels
from emulator.cloudformation import CloudFormation
from tests.conftest import DEST_ACCOUNT, REGION, REPO, copy_template


def test_a_create_refused_for_its_input_delivered_twice_at_once_answers_alike(clock, source_version):
    with CloudFormation(clock, duplicate_deliveries=1.0) as cloud:
        custom_labels.set_clock(cloud.runtime.service_clock())
        stack = cloud.stack("prod", account_id=DEST_ACCOUNT, region=REGION, asset_root=REPO)
        template = json.loads(json.dumps(copy_template(source_version, version_name="bad name!")))

        assert stack.create(template) == "ROLLBACK_COMPLETE"
        cloud.settle(1200)

        (create,) = [r for r in cloud.all_requests if r.event["RequestType"] == "Create"]
        answers = cloud.server.responses(create.event["RequestId"])
        assert len(answers) == 2  # both deliveries answered, the same answer
        assert len({(a["Status"], a["PhysicalResourceId"]) for a in answers}) == 1
        # the autouse invariants monitor (tests/conftest.py) checks I5 too: identical answers are tolerated
