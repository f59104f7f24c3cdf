"""The facts the construct library shares with the handler asset it deploys.

The handler (``lambda/contract.py``, shipped as the Lambda code) cannot import this package, so it states
the same facts; ``tests/test_contract.py`` fails when the two disagree. Change both together.
"""

from __future__ import annotations

#: The custom resource types (the ``Type`` in a template).
MODEL_COPY_TYPE = "Custom::RekognitionModelCopy"
PROJECT_POLICY_TYPE = "Custom::RekognitionProjectPolicy"

#: The tag the handler puts on each copy it makes (whose copy it is); reserved, refused as a user tag.
OWNER_TAG = "rekognition-model-copy:owner"

#: The tag the handler puts on each copy made with a KmsKeyId: the ARN of that key (DescribeProjectVersions
#: may not report a copy's key). Reserved like the owner tag; with it a copy holds two tags of the handler.
KMS_KEY_TAG = "rekognition-model-copy:kms-key"

#: The tag the handler puts on a copy that an Update made again under the name of the copy the stack held,
#: that copy being gone (deleted outside CloudFormation): which update made it (a digest of its two property
#: sets and the gone copy's id) and the gone copy's timestamp, so that the rollback of exactly that update
#: goes back to the gone copy. An Update made in place removes it. Reserved like the owner tag.
REMADE_TAG = "rekognition-model-copy:remade"

#: The tag the handler puts on a copy it takes as its stack's although it exists already (an adoption: a
#: redelivered Create, a deploy of the same copy again): when, in milliseconds since the epoch. A cleanup left
#: for the copy before that moment (a copy still in progress that a request had to remove) leaves it alone.
#: Reserved like the owner tag.
TAKEN_TAG = "rekognition-model-copy:taken"

#: The handler's environment variable naming the polling rules' prefix (the role is scoped to it).
POLL_RULE_PREFIX_ENV = "POLL_RULE_PREFIX"

#: The environment variable that carries the function's ReservedConcurrentExecutions when it has one: the
#: executions the handler can count on (its fast path is short in a small pool).
RESERVED_CONCURRENCY_ENV = "RESERVED_CONCURRENCY"
