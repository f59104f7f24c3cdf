"""What each emulated Custom Labels operation is authorized as: IAM actions and the resources they apply to.

DATA ONLY, written from the primary source and independent of the construct's own action lists (the
construct library is never imported here), so that a grant missing from the construct fails a test
instead of being copied into both places.

Source: Service Authorization Reference, "Actions, resources, and condition keys for Amazon Rekognition"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html):

* table "API operations defined by Amazon Rekognition" (operation -> IAM actions). CopyProjectVersion ->
  rekognition:CopyProjectVersion, rekognition:CreateProjectVersion, rekognition:TagResource;
  CreateProject and CreateProjectVersion -> themselves + rekognition:TagResource; every other operation
  used here -> the action of the same name.
* table "Actions defined by Amazon Rekognition" (action -> resource types). CopyProjectVersion: project*,
  projectversion*; CreateProjectVersion: project*; DescribeProjectVersions, DeleteProject,
  Put/Delete/ListProjectPolicies: project*; Delete/Start/StopProjectVersion: projectversion*;
  TagResource, UntagResource, ListTagsForResource: project or projectversion; CreateProject and
  DescribeProjects: no resource type (Resource "*").

Which concrete ARN each action is evaluated on is not spelled out where an operation names several
resources. The emulator takes the STRICTER reading (the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html, lists
the resource types, not which ARN of a request each is): CopyProjectVersion on the
source project, the source version and the destination project; CreateProjectVersion on the destination
project; TagResource (only when the request carries Tags: the tag-on-create convention, the table lists
no condition) on the version being created.

Resource names below are request parameter names, or one of :data:`ANY` / :data:`NEW_PROJECT` /
:data:`NEW_VERSION` (computed by the emulator for the request).
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = (
    "Service Authorization Reference: Actions, resources, and condition keys for Amazon Rekognition "
    "(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrekognition.html)"
)

ANY = "*"  # the action has no resource type: evaluated on Resource "*"
NEW_PROJECT = "new:ProjectArn"  # the ARN the project being created will have
NEW_VERSION = "new:ProjectVersionArn"  # the ARN the version being created (trained or copied) will have


@dataclass(frozen=True)
class Check:
    """One IAM action the operation needs, on each of ``resources``.

    ``only_if``: a request parameter; the action is needed only when it is present and non-empty.
    ``identity_only``: names of resources on which only the identity-based policy is evaluated, even
    across accounts (resources that have no resource-based policy of their own).
    """

    action: str
    resources: tuple[str, ...]
    only_if: str | None = None
    identity_only: tuple[str, ...] = ()


#: Operation -> what it is authorized as (the Rekognition side).
OPERATIONS: dict[str, tuple[Check, ...]] = {
    "CreateProject": (
        Check("rekognition:CreateProject", (ANY,)),
        Check("rekognition:TagResource", (NEW_PROJECT,), only_if="Tags"),
    ),
    "DescribeProjects": (Check("rekognition:DescribeProjects", (ANY,)),),
    "DeleteProject": (Check("rekognition:DeleteProject", ("ProjectArn",)),),
    "CreateProjectVersion": (
        Check("rekognition:CreateProjectVersion", ("ProjectArn",)),
        Check("rekognition:TagResource", (NEW_VERSION,), only_if="Tags"),
    ),
    "DescribeProjectVersions": (Check("rekognition:DescribeProjectVersions", ("ProjectArn",)),),
    "CopyProjectVersion": (
        # The project policy of the source project is the resource-based policy of the copy; its
        # documented examples name the source VERSION ("...:project/<name>/version/*"), so across
        # accounts the source project itself is evaluated against the identity policy only.
        Check(
            "rekognition:CopyProjectVersion",
            ("SourceProjectArn", "SourceProjectVersionArn", "DestinationProjectArn"),
            identity_only=("SourceProjectArn",),
        ),
        Check("rekognition:CreateProjectVersion", ("DestinationProjectArn",)),
        Check("rekognition:TagResource", (NEW_VERSION,), only_if="Tags"),
    ),
    "DeleteProjectVersion": (Check("rekognition:DeleteProjectVersion", ("ProjectVersionArn",)),),
    "StartProjectVersion": (Check("rekognition:StartProjectVersion", ("ProjectVersionArn",)),),
    "StopProjectVersion": (Check("rekognition:StopProjectVersion", ("ProjectVersionArn",)),),
    "PutProjectPolicy": (Check("rekognition:PutProjectPolicy", ("ProjectArn",)),),
    "DeleteProjectPolicy": (Check("rekognition:DeleteProjectPolicy", ("ProjectArn",)),),
    "ListProjectPolicies": (Check("rekognition:ListProjectPolicies", ("ProjectArn",)),),
    "TagResource": (Check("rekognition:TagResource", ("ResourceArn",)),),
    "UntagResource": (Check("rekognition:UntagResource", ("ResourceArn",)),),
    "ListTagsForResource": (Check("rekognition:ListTagsForResource", ("ResourceArn",)),),
}

# --- What the service does with the CALLER's credentials --------------------------------------------------
# Custom Labels reads and writes S3 and uses KMS keys as the caller
# (https://docs.aws.amazon.com/rekognition/latest/APIReference/API_CopyProjectVersion.html; the AWS
# managed policy AmazonRekognitionCustomLabelsFullAccess grants the S3 set below plus ListAllMyBuckets,
# which lists nothing under a prefix and is not exercised). Which of them a copy exercises is not
# documented: the emulator exercises ALL of them (stricter), each scoped to the output bucket, or to the
# object the copy writes under the output prefix.

#: Bucket-level S3 actions on ``arn:aws:s3:::<OutputConfig.S3Bucket>`` (ListBucket with s3:prefix = the
#: output prefix).
OUTPUT_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:GetBucketAcl", "s3:ListBucket")
#: Object-level S3 actions on ``arn:aws:s3:::<bucket>/<prefix><object>`` for the object the copy writes.
OUTPUT_OBJECT_ACTIONS = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
)
#: The object the emulated service writes under the output prefix (the evaluation summary it reports).
OUTPUT_OBJECT = "EvaluationResultSummary.json"

#: KMS actions on the output key (KmsKeyId), from the CopyProjectVersion API page: "the caller needs
#: kms:CreateGrant, kms:DescribeKey, kms:GenerateDataKey, kms:Decrypt". Evaluated against the caller's
#: identity policy AND the key's key policy, with kms:ViaService = rekognition.<region>.amazonaws.com.
OUTPUT_KEY_ACTIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt")
#: KMS actions on the key the SOURCE version was encrypted with (customer managed key): the read side.
#: UNCONFIRMED in detail (the CopyProjectVersion page names the output key's actions only): reading the
#: source model needs Decrypt, DescribeKey and CreateGrant,
#: allowed by that key's policy in the source account.
SOURCE_KEY_ACTIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt")

#: Operations that write model output under OutputConfig (and use KmsKeyId) as the caller.
WRITES_OUTPUT = frozenset({"CopyProjectVersion", "CreateProjectVersion"})
#: Operations that read a source model (and so its customer managed key) as the caller.
READS_SOURCE_MODEL = frozenset({"CopyProjectVersion"})
