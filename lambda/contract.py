"""The facts the handler shares with the construct library that deploys it.

The handler asset cannot import the library (it ships on its own in the Lambda package), so the library
states the same facts in ``rekognition_model_copy/contract.py``; ``tests/test_contract.py`` fails when
the two disagree. Change both together.
"""

from __future__ import annotations

#: The resource types the handler serves (``ResourceType`` of the request).
MODEL_COPY_TYPE = "Custom::RekognitionModelCopy"
PROJECT_POLICY_TYPE = "Custom::RekognitionProjectPolicy"

#: The tag the handler puts on each copy it makes: whose copy it is (stack id and logical id). The
#: library refuses it as a user tag.
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

#: The environment variable that names the prefix of the polling rules; the library scopes the role's
#: EventBridge permissions to it.
POLL_RULE_PREFIX_ENV = "POLL_RULE_PREFIX"

#: The environment variable that carries the function's ReservedConcurrentExecutions when it has one: the
#: executions the handler can count on (its fast path is short in a small pool).
RESERVED_CONCURRENCY_ENV = "RESERVED_CONCURRENCY"
