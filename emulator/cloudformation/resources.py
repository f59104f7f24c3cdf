"""Ordinary (not custom) resources: deployed into moto as the template defines them (buckets, keys,
projects, roles and policies, functions), an identity policy updated in place, and deleted."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from emulator.iam import ensure_aws_managed_policy, missing_principals

from .lambda_runtime import Function
from .template import DriverError, Rejected


class Site(Protocol):
    """Where an ordinary resource is deployed: the stack's identity and account, its asset directory, the
    cloud's functions, and resolving against it. :class:`.stack.Stack` is one."""

    name: str
    account_id: str
    region: str
    asset_root: Path

    @property
    def functions(self) -> dict[str, Function]: ...

    def resolve(self, value: Any) -> Any: ...

    def reservation_error(self, function: Function, reserved: int | None) -> str | None: ...

    def session(self) -> Any: ...


@dataclass
class Resource:
    """A deployed resource: what Ref and Fn::GetAtt give, and the properties it was deployed with."""

    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"


def unique_name(stack: Site, logical_id: str, limit: int = 63, lower: bool = False) -> str:
    """A name CloudFormation would generate: stack-logical id-random, within ``limit`` characters."""
    name = f"{stack.name}-{logical_id}"[: limit - 13] + "-" + uuid.uuid4().hex[:12].upper()
    return name.lower() if lower else name


def deploy(stack: Site, logical_id: str, definition: dict[str, Any]) -> Resource:
    """Create an ordinary resource in the stack's account as the template defines it."""
    kind = definition["Type"]
    props = stack.resolve(definition.get("Properties", {}))
    session = stack.session()
    arn_base = f"arn:aws:{{}}:{stack.region}:{stack.account_id}:"
    resource = Resource(
        logical_id,
        kind,
        "",
        props,
        deletion_policy=definition.get("DeletionPolicy", "Delete"),
        update_replace_policy=definition.get("UpdateReplacePolicy", "Delete"),
    )
    if kind == "AWS::S3::Bucket":
        name = props.get("BucketName") or unique_name(stack, logical_id, lower=True)
        client = session.client("s3")
        if stack.region == "us-east-1":
            client.create_bucket(Bucket=name)
        else:
            client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": stack.region})
        resource.physical_id = name
        resource.attributes = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{stack.region}.amazonaws.com",
        }
    elif kind == "AWS::KMS::Key":
        key_args: dict[str, Any] = {"Description": props.get("Description", "")}
        if props.get("KeyPolicy"):  # without one, KMS gives the default policy (the account root)
            missing = missing_principals(props["KeyPolicy"])
            if missing:
                raise DriverError(f"{logical_id}: a key policy naming missing principals {missing}")
            key_args["Policy"] = json.dumps(props["KeyPolicy"])
        metadata = session.client("kms").create_key(**key_args)["KeyMetadata"]
        resource.physical_id = metadata["KeyId"]
        resource.attributes = {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}
    elif kind == "AWS::KMS::Alias":
        session.client("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        resource.physical_id = props["AliasName"]  # Ref of an alias is its name
    elif kind == "AWS::S3::BucketPolicy":
        missing = missing_principals(props["PolicyDocument"])
        if missing:
            raise DriverError(f"{logical_id}: a bucket policy naming missing principals {missing}")
        session.client("s3").put_bucket_policy(
            Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
        )
        resource.physical_id = unique_name(stack, logical_id)
    elif kind == "AWS::Rekognition::Project":
        arn = session.client("rekognition").create_project(ProjectName=props["ProjectName"])["ProjectArn"]
        resource.physical_id = props["ProjectName"]
        resource.attributes = {"Arn": arn}
    elif kind == "AWS::IAM::Role":
        # The role exactly as the template defines it: its identity policies are what the emulator
        # evaluates every call of the function against (emulator.custom_labels.authz, emulator.eventbridge).
        iam = session.client("iam")
        name = props.get("RoleName") or unique_name(stack, logical_id, limit=64)
        role = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
            Path=props.get("Path", "/"),
        )["Role"]
        for inline in props.get("Policies", []):
            iam.put_role_policy(
                RoleName=name,
                PolicyName=inline["PolicyName"],
                PolicyDocument=json.dumps(inline["PolicyDocument"]),
            )
        for policy_arn in props.get("ManagedPolicyArns", []):
            if policy_arn.split(":")[4:5] == ["aws"]:  # an AWS managed policy: make it attachable
                ensure_aws_managed_policy(stack.account_id, policy_arn)
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        resource.physical_id = name
        resource.attributes = {"Arn": role["Arn"], "RoleId": role["RoleId"]}
    elif kind == "AWS::IAM::Policy":
        iam = session.client("iam")
        document, policy_name = json.dumps(props["PolicyDocument"]), props["PolicyName"]
        for role_name in props.get("Roles", []):
            iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=document)
        for user_name in props.get("Users", []):
            iam.put_user_policy(UserName=user_name, PolicyName=policy_name, PolicyDocument=document)
        for group_name in props.get("Groups", []):
            iam.put_group_policy(GroupName=group_name, PolicyName=policy_name, PolicyDocument=document)
        resource.physical_id = unique_name(stack, logical_id)
    elif kind == "AWS::IAM::ManagedPolicy":
        iam = session.client("iam")
        policy = iam.create_policy(
            PolicyName=props.get("ManagedPolicyName") or unique_name(stack, logical_id, limit=128),
            Path=props.get("Path", "/"),
            PolicyDocument=json.dumps(props["PolicyDocument"]),
            Description=props.get("Description", ""),
        )["Policy"]
        for role_name in props.get("Roles", []):
            iam.attach_role_policy(RoleName=role_name, PolicyArn=policy["Arn"])
        for user_name in props.get("Users", []):
            iam.attach_user_policy(UserName=user_name, PolicyArn=policy["Arn"])
        for group_name in props.get("Groups", []):
            iam.attach_group_policy(GroupName=group_name, PolicyArn=policy["Arn"])
        resource.physical_id = policy["Arn"]  # Ref of a managed policy is its ARN
        resource.attributes = {"PolicyArn": policy["Arn"]}
    elif kind == "AWS::Lambda::Function":
        name = props.get("FunctionName") or unique_name(stack, logical_id, limit=64)
        asset = definition.get("Metadata", {}).get("aws:asset:path")
        s3_key = str(definition.get("Properties", {}).get("Code", {}).get("S3Key", ""))
        if not asset and s3_key.endswith(".zip"):
            asset = f"asset.{s3_key[:-4]}"  # the cloud assembly's directory for that asset hash
        if not asset or not (stack.asset_root / asset).is_dir():
            asset = code_from_s3(stack, logical_id, props.get("Code", {}))
        arn = f"{arn_base.format('lambda')}function:{name}"
        stack.functions[arn] = Function(
            name=name,
            arn=arn,
            account_id=stack.account_id,
            region=stack.region,
            role_arn=str(props.get("Role")),
            asset_dir=stack.asset_root / asset,
            environment={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
        )
        stack.functions[arn].dead_letter_arn = str(props.get("DeadLetterConfig", {}).get("TargetArn", ""))
        try:
            _reserve(stack, stack.functions[arn], props)
        except Rejected:
            del stack.functions[arn]  # not created
            raise
        resource.physical_id = name
        resource.attributes = {"Arn": arn}
    else:
        name = unique_name(stack, logical_id)
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
        resource.physical_id = name
        resource.attributes = {"Arn": f"{arn_base.format(service)}{name}"}
    return resource


def _reserve(stack: Site, function: Function, props: dict[str, Any]) -> None:
    """ReservedConcurrentExecutions: taken from the account's pool, or refused as Lambda refuses it."""
    value = props.get("ReservedConcurrentExecutions")
    reserved = None if value is None else int(value)
    error = stack.reservation_error(function, reserved)
    if error:
        raise Rejected(f"{function.name}: {error}")
    function.reserved_concurrency = reserved


def code_from_s3(stack: Site, logical_id: str, code: dict[str, Any]) -> str:
    """A function whose ``Code`` is a zip in the stack's (emulated) S3: the object is read as Lambda reads
    it at create time (``S3ObjectVersion`` when given) and unpacked under the asset root; returns the
    directory's name there."""
    bucket, key = code.get("S3Bucket"), code.get("S3Key")
    if not bucket or not key:
        raise DriverError(f"{logical_id}: a function needs an aws:asset:path or Code S3Bucket and S3Key")
    request = {"Bucket": str(bucket), "Key": str(key)}
    if code.get("S3ObjectVersion"):
        request["VersionId"] = str(code["S3ObjectVersion"])
    try:
        body = stack.session().client("s3").get_object(**request)["Body"].read()
    except Exception as error:  # the function cannot be created: CloudFormation reports the S3 error
        location = f"s3://{bucket}/{key}"
        raise DriverError(f"{logical_id}: the function's code {location} cannot be read: {error}") from error
    name = f"s3-code.{hashlib.sha256(body).hexdigest()[:16]}"
    target = stack.asset_root / name
    if not target.is_dir():
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            archive.extractall(target)
    return name


#: The properties whose change needs a new physical resource, by type ("Update requires: Replacement" in
#: the CloudFormation resource reference, e.g. https://docs.aws.amazon.com/AWSCloudFormation/latest/
#: UserGuide/aws-resource-rekognition-project.html for ProjectName). A change of any other property is made
#: in place (as far as this driver models the resource).
REPLACEMENT_PROPERTIES: dict[str, frozenset[str]] = {
    "AWS::Rekognition::Project": frozenset({"ProjectName"}),
    "AWS::S3::Bucket": frozenset({"BucketName"}),
    "AWS::S3::BucketPolicy": frozenset({"Bucket"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::IAM::ManagedPolicy": frozenset({"ManagedPolicyName", "Path"}),
    "AWS::Lambda::Function": frozenset({"FunctionName"}),
    "AWS::Lambda::EventInvokeConfig": frozenset({"FunctionName", "Qualifier"}),
    "AWS::KMS::Alias": frozenset({"AliasName"}),
}


def needs_replacement(kind: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether changing ``old`` properties to ``new`` replaces a resource of type ``kind``."""
    return any(old.get(name) != new.get(name) for name in REPLACEMENT_PROPERTIES.get(kind, ()))


def update(stack: Site, resource: Resource, props: dict[str, Any]) -> None:
    """Update an ordinary resource in place to ``props`` (resolved), as CloudFormation would for a change
    that needs no replacement: a role's inline and managed policies and trust policy, an identity policy's
    document, a function's environment, timeout, memory and role, a bucket policy, an alias's key, a
    managed policy's document. Other changes are recorded only (the emulator models nothing of them)."""
    session, old = stack.session(), resource.properties
    kind = resource.type
    if kind == "AWS::IAM::Role":
        iam, name = session.client("iam"), resource.physical_id
        new_inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        for inline in old.get("Policies", []):
            if inline["PolicyName"] not in new_inline:
                iam.delete_role_policy(RoleName=name, PolicyName=inline["PolicyName"])
        for policy_name, document in new_inline.items():
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        old_managed, new_managed = (
            set(old.get("ManagedPolicyArns", [])),
            set(props.get("ManagedPolicyArns", [])),
        )
        for policy_arn in sorted(old_managed - new_managed):
            iam.detach_role_policy(RoleName=name, PolicyArn=policy_arn)
        for policy_arn in sorted(new_managed - old_managed):
            if policy_arn.split(":")[4:5] == ["aws"]:
                ensure_aws_managed_policy(stack.account_id, policy_arn)
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        if props.get("AssumeRolePolicyDocument") != old.get("AssumeRolePolicyDocument"):
            iam.update_assume_role_policy(
                RoleName=name, PolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {}))
            )
    elif kind == "AWS::IAM::Policy":
        iam = session.client("iam")
        for role_name in old.get("Roles", []):
            if old["PolicyName"] != props["PolicyName"] or role_name not in props.get("Roles", []):
                iam.delete_role_policy(RoleName=role_name, PolicyName=old["PolicyName"])
        for role_name in props.get("Roles", []):
            iam.put_role_policy(
                RoleName=role_name,
                PolicyName=props["PolicyName"],
                PolicyDocument=json.dumps(props["PolicyDocument"]),
            )
    elif kind == "AWS::IAM::ManagedPolicy" and props.get("PolicyDocument") != old.get("PolicyDocument"):
        iam = session.client("iam")
        for version in iam.list_policy_versions(PolicyArn=resource.physical_id)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=resource.physical_id, VersionId=version["VersionId"])
        iam.create_policy_version(
            PolicyArn=resource.physical_id,
            PolicyDocument=json.dumps(props["PolicyDocument"]),
            SetAsDefault=True,
        )
    elif kind == "AWS::Lambda::Function":
        function = stack.functions[resource.attributes["Arn"]]
        function.environment = {
            k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()
        }
        function.timeout = int(props.get("Timeout", 3))
        function.memory = int(props.get("MemorySize", 128))
        function.role_arn = str(props.get("Role"))
        function.dead_letter_arn = str(props.get("DeadLetterConfig", {}).get("TargetArn", ""))
        _reserve(stack, function, props)
        function.idle.clear()  # Lambda starts new instances with the new configuration
    elif kind == "AWS::S3::BucketPolicy":
        missing = missing_principals(props["PolicyDocument"])
        if missing:
            raise DriverError(f"{resource.logical_id}: a bucket policy naming missing principals {missing}")
        session.client("s3").put_bucket_policy(
            Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
        )
    elif kind == "AWS::KMS::Alias":
        session.client("kms").update_alias(AliasName=resource.physical_id, TargetKeyId=props["TargetKeyId"])
    resource.properties = props


#: Error codes meaning the resource is not there: CloudFormation counts its Delete as done.
NOT_FOUND = frozenset(
    {
        "NoSuchEntity",
        "NoSuchBucket",
        "NoSuchBucketPolicy",
        "ResourceNotFoundException",
        "NotFoundException",
        "NotFound",
    }
)


def delete(stack: Site, resource: Resource) -> str:
    """Delete an ordinary resource in the emulated account; returns a failure reason or ''."""
    session = stack.session()
    try:
        if resource.type == "AWS::Rekognition::Project":
            session.client("rekognition").delete_project(ProjectArn=resource.attributes["Arn"])
        elif resource.type == "AWS::IAM::Role":
            iam = session.client("iam")
            for name in iam.list_role_policies(RoleName=resource.physical_id)["PolicyNames"]:
                iam.delete_role_policy(RoleName=resource.physical_id, PolicyName=name)
            for attached in iam.list_attached_role_policies(RoleName=resource.physical_id)[
                "AttachedPolicies"
            ]:
                iam.detach_role_policy(RoleName=resource.physical_id, PolicyArn=attached["PolicyArn"])
            iam.delete_role(RoleName=resource.physical_id)
        elif resource.type == "AWS::IAM::Policy":
            iam = session.client("iam")
            name = resource.properties["PolicyName"]
            for role_name in resource.properties.get("Roles", []):
                iam.delete_role_policy(RoleName=role_name, PolicyName=name)
            for user_name in resource.properties.get("Users", []):
                iam.delete_user_policy(UserName=user_name, PolicyName=name)
            for group_name in resource.properties.get("Groups", []):
                iam.delete_group_policy(GroupName=group_name, PolicyName=name)
        elif resource.type == "AWS::IAM::ManagedPolicy":
            iam = session.client("iam")
            for role_name in resource.properties.get("Roles", []):
                iam.detach_role_policy(RoleName=role_name, PolicyArn=resource.physical_id)
            for user_name in resource.properties.get("Users", []):
                iam.detach_user_policy(UserName=user_name, PolicyArn=resource.physical_id)
            for group_name in resource.properties.get("Groups", []):
                iam.detach_group_policy(GroupName=group_name, PolicyArn=resource.physical_id)
            iam.delete_policy(PolicyArn=resource.physical_id)
        elif resource.type == "AWS::S3::BucketPolicy":
            session.client("s3").delete_bucket_policy(Bucket=resource.properties["Bucket"])
        elif resource.type == "AWS::S3::Bucket":
            client = session.client("s3")
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=resource.physical_id):
                for item in page.get("Contents", []):
                    client.delete_object(Bucket=resource.physical_id, Key=item["Key"])
            client.delete_bucket(Bucket=resource.physical_id)
        elif resource.type == "AWS::KMS::Alias":
            session.client("kms").delete_alias(AliasName=resource.physical_id)
        elif resource.type == "AWS::KMS::Key":
            session.client("kms").schedule_key_deletion(KeyId=resource.physical_id, PendingWindowInDays=7)
        elif resource.type == "AWS::Lambda::Function":
            deleted = stack.functions.pop(resource.attributes["Arn"], None)
            if deleted is not None:
                deleted.deleted = True  # its queued events and retries are dropped (lambda_runtime)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return ""  # deleted already (by hand): CloudFormation's Delete succeeds
        return str(error)
    except Exception as error:  # noqa: BLE001 - reported as the resource's DELETE_FAILED reason
        return str(error)
    return ""
