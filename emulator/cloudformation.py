"""A CloudFormation lifecycle driver for the project's custom resources, on emulated AWS.

It plays CloudFormation for a synthesised template, inside ``moto.mock_aws``:

* "deploys" the ordinary resources the custom resources refer to (buckets, keys, Rekognition projects,
  roles, functions) into moto, and resolves the template's intrinsic functions;
* builds Create / Update / Delete events for every ``Custom::*`` resource, with a ResponseURL served by a
  local HTTPS server (crhelper answers over HTTPS only);
* calls the real ``index.handler`` from the function's asset directory, with the function's environment,
  credentials of its role (STS assume-role, so the emulator sees the right account and principal) and a
  Lambda context whose remaining time counts down on the simulated clock;
* invokes it asynchronously, as CloudFormation does: the event waits in Lambda's queue, a cold start
  runs the init phase, a failed or timed-out invocation is retried (twice, or as the template's
  AWS::Lambda::EventInvokeConfig says); see ``lambda_runtime``;
* fires the EventBridge schedules crhelper creates, at their rate on the simulated clock, with the
  target Input as the event (delivered twice with the probability ``duplicate_schedule_deliveries``);
* follows CloudFormation's rules: replacement when an Update answers a new physical id (Delete of the old
  one afterwards unless UpdateReplacePolicy is Retain); rollback after a failure (Deletes after a failed
  Create; after a failed Update, Updates back to the old properties sent to the physical id the stack
  holds, then Deletes of what the update created or the rollback superseded), ending *_FAILED when a
  rollback request fails; no Delete for DeletionPolicy Retain; a FAILED resource when no answer arrives
  within ServiceTimeout, counted from when the request was sent;
* asserts the protocol: exactly one response per request, well-formed bodies, physical id rules, and no
  polling rule left behind once a request is answered. Violations are collected in ``violations``
  (``audit()`` adds responses that arrived late).

The simulated clock is shared with the Custom Labels emulator, so a 20-minute copy takes milliseconds.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import random
import re
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from emulator.iam import ensure_aws_managed_policy, ensure_role, missing_principals
from emulator.lambda_runtime import (
    DEFAULT_COLD_START,
    DEFAULT_MAX_EVENT_AGE,
    DEFAULT_MAX_RETRY_ATTEMPTS,
    DEFAULT_QUEUE_DELAY,
    Function,
    Invocation,
    LambdaRuntime,
)

CUSTOM_PREFIX = "Custom::"
MAX_RESPONSE_BYTES = 4096
MAX_PHYSICAL_ID = 1024
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


class DriverError(Exception):
    """The template or the simulation cannot be carried out (not a resource failure)."""


# --------------------------------------------------------------------------------------------------------
# The ResponseURL: a local HTTPS server
# --------------------------------------------------------------------------------------------------------
def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class ResponseServer:
    """Receives the custom resource responses PUT to presigned-looking HTTPS URLs on 127.0.0.1.

    ``now`` gives the (simulated) time a response arrives: the handler PUTs from inside an invocation,
    so the simulated clock reads the moment CloudFormation would have received it.
    """

    def __init__(self, now: Callable[[], float] | None = None) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="cfn-driver-")
        self.cert_file, key_file = _self_signed_certificate(Path(self._directory.name))
        self.bodies: dict[str, list[dict[str, Any]]] = {}
        self.raw_sizes: dict[str, list[int]] = {}
        self.times: dict[str, list[float]] = {}
        self._now = now or (lambda: 0.0)
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                request_id = self.path.split("?")[0].rstrip("/").split("/")[-1]
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_unparseable": raw.decode(errors="replace")}
                with server._lock:
                    server.bodies.setdefault(request_id, []).append(body)
                    server.raw_sizes.setdefault(request_id, []).append(len(raw))
                    server.times.setdefault(request_id, []).append(server._now())
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, key_file)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url_for(self, stack_name: str, request_id: str) -> str:
        """A ResponseURL shaped like CloudFormation's presigned S3 URL (the query string is a secret)."""
        return (
            f"https://localhost:{self.port}/cloudformation-custom-resource-response-useast1/"
            f"{stack_name}/{request_id}?X-Amz-Signature=SECRET{uuid.uuid4().hex}"
        )

    def responses(self, request_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.bodies.get(request_id, []))

    def arrival_times(self, request_id: str) -> list[float]:
        with self._lock:
            return list(self.times.get(request_id, []))

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._directory.cleanup()


# --------------------------------------------------------------------------------------------------------
# Stacks, resources and events
# --------------------------------------------------------------------------------------------------------
@dataclass
class StackEvent:
    """One line of a stack's event history, as CloudFormation shows it."""

    time: float
    stack: str
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""
    physical_id: str = ""


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


@dataclass
class Request:
    """A custom resource request in flight.

    Times (simulated epoch seconds): ``sent`` when CloudFormation invoked the function (asynchronously);
    ``deadline`` = sent + ServiceTimeout, when CloudFormation gives up; ``answered`` when the response it
    took arrived; ``reached`` (property) when the request first reached the handler, after Lambda's queue
    and any cold start. Before ``send``, ``deadline`` counts from when the request was made.
    """

    stack: Stack
    logical_id: str
    event: dict[str, Any]
    function: Function
    deadline: float
    response: dict[str, Any] | None = None
    deliveries: int = 1  # Lambda's asynchronous invocation may deliver an event more than once
    service_timeout: float = 3600.0
    sent: float | None = None
    answered: float | None = None

    @property
    def reached(self) -> float | None:
        """When the handler was first called with this request (not counting polls)."""
        request_id = self.event["RequestId"]
        times = [i.started for i in self.stack.cloud.invocations if i.request_id == request_id and not i.poll]
        return min(times, default=None)


def _closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything ``start`` depends on, directly or not."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        item = todo.pop()
        if item not in seen:
            seen.add(item)
            todo.extend(graph.get(item, ()))
    return seen


def _references(value: Any) -> set[str]:
    """Logical ids named by Ref, Fn::GetAtt and Fn::Sub anywhere inside a value."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else arg.split(".")[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found.update(token.split(".")[0] for token in re.findall(r"\$\{([^}!][^}]*)\}", text))
                if not isinstance(arg, str):
                    found |= _references(arg[1])
            else:
                found |= _references(arg)
    return found


class Stack:
    """A deployed stack: its template, its resources and its event history."""

    def __init__(
        self, cloud: CloudFormation, name: str, account_id: str, region: str, asset_root: Path
    ) -> None:
        self.cloud = cloud
        self.name = name
        self.account_id = account_id
        self.region = region
        self.asset_root = asset_root
        self.stack_id = f"arn:aws:cloudformation:{region}:{account_id}:stack/{name}/{uuid.uuid4()}"
        self.template: dict[str, Any] = {}
        self.resources: dict[str, Resource] = {}
        self.status = "NOT_CREATED"
        self.outputs: dict[str, Any] = {}

    # -- helpers ------------------------------------------------------------------------------------------
    def event(
        self, logical_id: str, resource_type: str, status: str, reason: str = "", physical_id: str = ""
    ) -> None:
        self.cloud.record(
            StackEvent(
                self.cloud.clock.now(), self.name, logical_id, resource_type, status, reason, physical_id
            )
        )

    def _stack_event(self, status: str, reason: str = "") -> None:
        self.status = status
        self.event(self.name, "AWS::CloudFormation::Stack", status, reason)

    def session(self) -> boto3.Session:
        return self.cloud.session(self.account_id, self.region)

    # -- intrinsic functions ---------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Resolve intrinsic functions against the deployed resources."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(name, attribute)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::ImportValue":
                export = self.resolve(arg)
                if export not in self.cloud.exports:
                    raise DriverError(f"No export named {export}")
                return self.cloud.exports[export]
            if key.startswith("Fn::"):
                raise DriverError(f"{key} is not supported by the lifecycle driver")
        return {k: self.resolve(v) for k, v in value.items()}

    def _pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::StackId": self.stack_id,
            "AWS::NoValue": "",
        }

    def _ref(self, name: str) -> Any:
        pseudo = self._pseudo()
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.template["Parameters"][name].get("Default", "")
        if name not in self.resources:
            raise DriverError(f"{self.name}: Ref to {name}, which is not deployed (yet)")
        return self.resources[name].physical_id

    def _get_att(self, name: str, attribute: str) -> Any:
        if name not in self.resources:
            raise DriverError(f"{self.name}: GetAtt of {name}, which is not deployed (yet)")
        attributes = self.resources[name].attributes
        if attribute not in attributes:
            raise DriverError(f"{self.name}: {name} has no attribute {attribute} (has {sorted(attributes)})")
        return attributes[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(variables[token])
            if "." in token:
                return str(self._get_att(*token.split(".", 1)))
            return str(self._ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # -- ordering ---------------------------------------------------------------------------------------
    @staticmethod
    def dependencies(template: dict[str, Any]) -> dict[str, set[str]]:
        """For each resource, the resources it refers to (Ref, Fn::GetAtt, Fn::Sub) or DependsOn."""
        resources = template.get("Resources", {})
        graph: dict[str, set[str]] = {}
        for logical_id, definition in resources.items():
            found = _references(definition.get("Properties", {}))
            depends = definition.get("DependsOn", [])
            found.update([depends] if isinstance(depends, str) else depends)
            graph[logical_id] = found & set(resources)
        return graph

    @classmethod
    def waves(cls, template: dict[str, Any]) -> list[list[str]]:
        """Resources in dependency order, grouped in waves CloudFormation could run in parallel."""
        graph = cls.dependencies(template)
        done: set[str] = set()
        waves: list[list[str]] = []
        while len(done) < len(graph):
            wave = sorted(r for r, deps in graph.items() if r not in done and deps <= done)
            if not wave:
                raise DriverError(f"Circular dependency among {sorted(set(graph) - done)}")
            waves.append(wave)
            done.update(wave)
        return waves

    # -- ordinary resources ------------------------------------------------------------------------------
    def _unique_name(self, logical_id: str, limit: int = 63, lower: bool = False) -> str:
        name = f"{self.name}-{logical_id}"[: limit - 13] + "-" + uuid.uuid4().hex[:12].upper()
        return name.lower() if lower else name

    def _deploy_plain(self, logical_id: str, definition: dict[str, Any]) -> Resource:
        kind = definition["Type"]
        props = self.resolve(definition.get("Properties", {}))
        session = self.session()
        arn_base = f"arn:aws:{{}}:{self.region}:{self.account_id}:"
        resource = Resource(
            logical_id,
            kind,
            "",
            props,
            deletion_policy=definition.get("DeletionPolicy", "Delete"),
            update_replace_policy=definition.get("UpdateReplacePolicy", "Delete"),
        )
        if kind == "AWS::S3::Bucket":
            name = props.get("BucketName") or self._unique_name(logical_id, lower=True)
            client = session.client("s3")
            if self.region == "us-east-1":
                client.create_bucket(Bucket=name)
            else:
                client.create_bucket(
                    Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
                )
            resource.physical_id = name
            resource.attributes = {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
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
        elif kind == "AWS::S3::BucketPolicy":
            missing = missing_principals(props["PolicyDocument"])
            if missing:
                raise DriverError(f"{logical_id}: a bucket policy naming missing principals {missing}")
            session.client("s3").put_bucket_policy(
                Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
            )
            resource.physical_id = self._unique_name(logical_id)
        elif kind == "AWS::Rekognition::Project":
            arn = session.client("rekognition").create_project(ProjectName=props["ProjectName"])["ProjectArn"]
            resource.physical_id = props["ProjectName"]
            resource.attributes = {"Arn": arn}
        elif kind == "AWS::IAM::Role":
            # The role exactly as the template defines it: its identity policies are what the emulator
            # evaluates every call of the function against (emulator.custom_labels.authz).
            iam = session.client("iam")
            name = props.get("RoleName") or self._unique_name(logical_id, limit=64)
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
                    ensure_aws_managed_policy(self.account_id, policy_arn)
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
            resource.physical_id = self._unique_name(logical_id)
        elif kind == "AWS::IAM::ManagedPolicy":
            iam = session.client("iam")
            policy = iam.create_policy(
                PolicyName=props.get("ManagedPolicyName") or self._unique_name(logical_id, limit=128),
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
            name = props.get("FunctionName") or self._unique_name(logical_id, limit=64)
            asset = definition.get("Metadata", {}).get("aws:asset:path")
            s3_key = str(definition.get("Properties", {}).get("Code", {}).get("S3Key", ""))
            if not asset and s3_key.endswith(".zip"):
                asset = f"asset.{s3_key[:-4]}"  # the cloud assembly's directory for that asset hash
            if not asset or not (self.asset_root / asset).is_dir():
                raise DriverError(f"{logical_id}: a function without an aws:asset:path cannot run here")
            arn = f"{arn_base.format('lambda')}function:{name}"
            self.cloud.functions[arn] = Function(
                name=name,
                arn=arn,
                account_id=self.account_id,
                region=self.region,
                role_arn=str(props.get("Role")),
                asset_dir=self.asset_root / asset,
                environment={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
            )
            resource.physical_id = name
            resource.attributes = {"Arn": arn}
        else:
            name = self._unique_name(logical_id)
            service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
            resource.physical_id = name
            resource.attributes = {"Arn": f"{arn_base.format(service)}{name}"}
        return resource

    def _update_identity_policy(self, logical_id: str, definition: dict[str, Any]) -> None:
        """An ``AWS::IAM::Policy`` whose document changed is put again before the resources that depend on
        it are updated, as CloudFormation does (other ordinary resources are not updated by this driver)."""
        current = self.resources.get(logical_id)
        props = self.resolve(definition.get("Properties", {}))
        if definition["Type"] != "AWS::IAM::Policy" or current is None or props == current.properties:
            return
        self.event(logical_id, definition["Type"], "UPDATE_IN_PROGRESS")
        iam = self.session().client("iam")
        for role_name in current.properties.get("Roles", []):
            if current.properties["PolicyName"] != props["PolicyName"] or role_name not in props.get(
                "Roles", []
            ):
                iam.delete_role_policy(RoleName=role_name, PolicyName=current.properties["PolicyName"])
        for role_name in props.get("Roles", []):
            iam.put_role_policy(
                RoleName=role_name,
                PolicyName=props["PolicyName"],
                PolicyDocument=json.dumps(props["PolicyDocument"]),
            )
        current.properties = props
        self.event(logical_id, definition["Type"], "UPDATE_COMPLETE", physical_id=current.physical_id)

    def _delete_plain(self, resource: Resource) -> str:
        """Delete an ordinary resource in the emulated account; returns a failure reason or ''."""
        session = self.session()
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
            elif resource.type == "AWS::KMS::Key":
                session.client("kms").schedule_key_deletion(KeyId=resource.physical_id, PendingWindowInDays=7)
            elif resource.type == "AWS::Lambda::Function":
                self.cloud.functions.pop(resource.attributes["Arn"], None)
        except Exception as error:  # noqa: BLE001 - reported as the resource's DELETE_FAILED reason
            return str(error)
        return ""

    # -- custom resources ---------------------------------------------------------------------------------
    def _request(
        self,
        logical_id: str,
        request_type: str,
        definition: dict[str, Any],
        properties: dict[str, Any],
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> Request:
        token = properties.get("ServiceToken")
        if token not in self.cloud.functions:
            raise DriverError(f"{logical_id}: ServiceToken {token!r} is not a function this driver deployed")
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": token,
            "ResponseURL": self.cloud.server.url_for(self.name, request_id),
            "StackId": self.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": definition["Type"],
            "ResourceProperties": properties,
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        timeout = float(properties.get("ServiceTimeout") or 3600)
        return Request(
            self,
            logical_id,
            event,
            self.cloud.functions[token],
            self.cloud.clock.now() + timeout,
            service_timeout=timeout,
        )

    def request(
        self, logical_id: str, request_type: str, *, physical_id: str | None = None, deliveries: int = 1
    ) -> Request:
        """A request for one custom resource of the current template (for tests that drive requests one
        by one: ``cloud.send([...])``, ``cloud.wait([...])``)."""
        definition = self.template["Resources"][logical_id]
        properties = self._stringify(self.resolve(definition.get("Properties", {})))
        old = self.resources.get(logical_id)
        request = self._request(
            logical_id,
            request_type,
            definition,
            properties,
            physical_id if physical_id is not None else (old.physical_id if old else None),
            old.properties if request_type == "Update" and old else None,
        )
        request.deliveries = deliveries
        return request

    def deploy_plain_resources(self, template: dict[str, Any]) -> None:
        """Create only the ordinary resources of a template (for tests that send requests themselves)."""
        self.template = template
        for wave in self.waves(template):
            for logical_id in wave:
                definition = template["Resources"][logical_id]
                if not definition["Type"].startswith(CUSTOM_PREFIX):
                    self.resources[logical_id] = self._deploy_plain(logical_id, definition)
                    self.cloud.configure(self.resources[logical_id])

    def _custom(self, requests: list[Request]) -> list[Request]:
        """Send requests together (CloudFormation works on a wave in parallel), wait for every answer
        (or ServiceTimeout) and record the resource events."""
        for request in requests:
            self.event(
                request.logical_id,
                request.event["ResourceType"],
                f"{request.event['RequestType'].upper()}_IN_PROGRESS",
                physical_id=request.event.get("PhysicalResourceId", ""),
            )
        self.cloud.run(requests)
        for request in requests:
            response = request.response or {}
            ok = response.get("Status") == "SUCCESS"
            self.event(
                request.logical_id,
                request.event["ResourceType"],
                f"{request.event['RequestType'].upper()}_{'COMPLETE' if ok else 'FAILED'}",
                "" if ok else str(response.get("Reason", "")),
                str(response.get("PhysicalResourceId", "")),
            )
        return requests

    @staticmethod
    def _stringify(value: Any) -> Any:
        """CloudFormation passes every scalar property value to a custom resource as a string."""
        if isinstance(value, dict):
            return {k: Stack._stringify(v) for k, v in value.items()}
        if isinstance(value, list):
            return [Stack._stringify(v) for v in value]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _custom_resource(
        self,
        logical_id: str,
        definition: dict[str, Any],
        response: dict[str, Any],
        properties: dict[str, Any],
    ) -> Resource:
        data = response.get("Data") or {}
        return Resource(
            logical_id,
            definition["Type"],
            str(response["PhysicalResourceId"]),
            properties,
            attributes={str(k): v for k, v in data.items()},
            deletion_policy=definition.get("DeletionPolicy", "Delete"),
            update_replace_policy=definition.get("UpdateReplacePolicy", "Delete"),
        )

    # -- operations ---------------------------------------------------------------------------------------
    # CloudFormation's stack operations and their rollbacks. Documented behaviour (stack status codes:
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html; custom
    # resource replacement: .../aws-resource-cloudformation-customresource.html) is followed; where the
    # documentation is silent the stricter plausible behaviour is chosen and says so.
    def create(self, template: dict[str, Any]) -> str:
        """CREATE the stack; on failure roll back: every resource made so far is deleted (a failed custom
        resource with the id its FAILED answer carried). ROLLBACK_FAILED when a Delete fails."""
        self.template = template
        self._stack_event("CREATE_IN_PROGRESS")
        failure = self._deploy_waves(template, {}, [])
        if failure:
            self._stack_event("ROLLBACK_IN_PROGRESS", failure)
            failures = self._delete_resources(set(self.resources))
            self._stack_event("ROLLBACK_FAILED" if failures else "ROLLBACK_COMPLETE", "; ".join(failures))
        else:
            self._collect_outputs()
            self._stack_event("CREATE_COMPLETE")
        return self.status

    def _deploy_waves(
        self, template: dict[str, Any], old: dict[str, Resource], updates: list[Request]
    ) -> str:
        """Create new resources and update changed ones, wave by wave, stopping after the first wave with
        a failure. Every Update request sent is appended to ``updates``. A SUCCESS answer sets the
        physical id the stack holds; a FAILED answer to an Update leaves it unchanged. Returns the first
        failure's reason, or ''."""
        resources = template.get("Resources", {})
        for wave in self.waves(template):
            creates: list[Request] = []
            wave_updates: list[Request] = []
            for logical_id in wave:
                definition = resources[logical_id]
                if not definition["Type"].startswith(CUSTOM_PREFIX) and definition["Type"] != (
                    "AWS::CloudFormation::CustomResource"
                ):
                    if logical_id not in old:
                        self.event(logical_id, definition["Type"], "CREATE_IN_PROGRESS")
                        self.resources[logical_id] = self._deploy_plain(logical_id, definition)
                        self.cloud.configure(self.resources[logical_id])
                        self.event(
                            logical_id,
                            definition["Type"],
                            "CREATE_COMPLETE",
                            physical_id=self.resources[logical_id].physical_id,
                        )
                    else:
                        self._update_identity_policy(logical_id, definition)
                    continue
                properties = self._stringify(self.resolve(definition.get("Properties", {})))
                if logical_id not in old:
                    creates.append(self._request(logical_id, "Create", definition, properties))
                elif properties != old[logical_id].properties:
                    wave_updates.append(
                        self._request(
                            logical_id,
                            "Update",
                            definition,
                            properties,
                            old[logical_id].physical_id,
                            old[logical_id].properties,
                        )
                    )
            updates.extend(wave_updates)
            self._custom(creates + wave_updates)
            for request in creates:
                response = request.response or {}
                if response.get("Status") == "SUCCESS":
                    self.resources[request.logical_id] = self._custom_resource(
                        request.logical_id,
                        resources[request.logical_id],
                        response,
                        request.event["ResourceProperties"],
                    )
                else:
                    # CloudFormation records the failed resource with the id it answered; rollback deletes it
                    self.resources[request.logical_id] = Resource(
                        request.logical_id,
                        request.event["ResourceType"],
                        str(response.get("PhysicalResourceId")),
                        request.event["ResourceProperties"],
                    )
            for request in wave_updates:
                response = request.response or {}
                if response.get("Status") == "SUCCESS":
                    self.resources[request.logical_id] = self._custom_resource(
                        request.logical_id,
                        resources[request.logical_id],
                        response,
                        request.event["ResourceProperties"],
                    )
            failed = [r for r in creates + wave_updates if (r.response or {}).get("Status") != "SUCCESS"]
            if failed:
                first = failed[0]
                return f"{first.logical_id}: {(first.response or {}).get('Reason', 'no response')}"
        return ""

    def update(self, template: dict[str, Any]) -> str:
        """UPDATE the stack to a new template; on failure roll back to the old one.

        Success: UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes what was replaced (unless UpdateReplacePolicy
        is Retain) and what the new template removed, then UPDATE_COMPLETE (a failed cleanup Delete is
        recorded as DELETE_FAILED; the stack stays UPDATE_COMPLETE, as CloudFormation does).

        Failure: UPDATE_ROLLBACK_IN_PROGRESS sends every custom resource this update sent an Update to
        (answered or not) an Update back: ResourceProperties = its previous properties,
        OldResourceProperties = the rejected ones, PhysicalResourceId = the id the stack holds now (the new
        id of an accepted replacement; the old one when the Update failed). A rollback answering another id
        is a replacement: the id the stack held is deleted in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS,
        with the resources this update created. UPDATE_ROLLBACK_COMPLETE only if every rollback Update and
        every cleanup Delete answers SUCCESS, else UPDATE_ROLLBACK_FAILED with the reasons. (Stricter than
        CloudFormation for the cleanup Deletes, whose failure it may only record as DELETE_FAILED.)
        """
        old_template, old_resources = self.template, dict(self.resources)
        self.template = template
        self._stack_event("UPDATE_IN_PROGRESS")
        updates: list[Request] = []
        failure = self._deploy_waves(template, old_resources, updates)
        if not failure:
            self._stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            replaced = [
                old_resources[r.logical_id]
                for r in updates
                if self.resources[r.logical_id].physical_id != old_resources[r.logical_id].physical_id
                and self.resources[r.logical_id].update_replace_policy != "Retain"
            ]
            self._delete_held(replaced)
            removed = set(old_resources) - set(template.get("Resources", {}))
            self._delete_resources(removed, pool=old_resources, template=old_template)
            self._collect_outputs()
            self._stack_event("UPDATE_COMPLETE")
            return self.status
        self._stack_event("UPDATE_ROLLBACK_IN_PROGRESS", failure)
        self.template = old_template
        failures, superseded = self._roll_back_updates(old_template, old_resources, updates)
        if failures:
            self._stack_event("UPDATE_ROLLBACK_FAILED", "; ".join(failures))
            return self.status
        self._stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        failures = self._delete_held(superseded)
        created = set(self.resources) - set(old_resources)
        failures += self._delete_resources(created, template=template)
        self._stack_event(
            "UPDATE_ROLLBACK_FAILED" if failures else "UPDATE_ROLLBACK_COMPLETE", "; ".join(failures)
        )
        return self.status

    def _roll_back_updates(
        self, old_template: dict[str, Any], old_resources: dict[str, Resource], updates: list[Request]
    ) -> tuple[list[str], list[Resource]]:
        """The rollback Updates (see ``update``), wave by wave in the old template's order, stopping after
        a wave with a failure. Returns the failure reasons and the held resources a rollback superseded."""
        sent = {request.logical_id: request for request in updates}
        failures: list[str] = []
        superseded: list[Resource] = []
        for wave in self.waves(old_template):
            rollbacks = [
                self._request(
                    logical_id,
                    "Update",
                    old_template["Resources"][logical_id],
                    old_resources[logical_id].properties,
                    self.resources[logical_id].physical_id,
                    sent[logical_id].event["ResourceProperties"],
                )
                for logical_id in wave
                if logical_id in sent
            ]
            for request in self._custom(rollbacks):
                response = request.response or {}
                if response.get("Status") != "SUCCESS":
                    failures.append(f"{request.logical_id}: {response.get('Reason')}")
                    continue
                held = self.resources[request.logical_id]
                current = self._custom_resource(
                    request.logical_id,
                    old_template["Resources"][request.logical_id],
                    response,
                    request.event["ResourceProperties"],
                )
                if current.physical_id != held.physical_id and current.update_replace_policy != "Retain":
                    superseded.append(held)
                self.resources[request.logical_id] = current
            if failures:
                break
        return failures, superseded

    def delete(self) -> str:
        """DELETE the stack: custom resources get a Delete unless their DeletionPolicy is Retain; what a
        resource that fails to delete depends on is kept. DELETE_FAILED when a Delete fails."""
        self._stack_event("DELETE_IN_PROGRESS")
        failures = self._delete_resources(set(self.resources))
        self._stack_event("DELETE_FAILED" if failures else "DELETE_COMPLETE", "; ".join(failures))
        return self.status

    def _delete_held(self, resources: list[Resource]) -> list[str]:
        """Delete requests, sent together, for custom resources the stack no longer holds (replaced or
        superseded ids). Returns failure reasons."""
        requests = [
            self._request(r.logical_id, "Delete", {"Type": r.type}, r.properties, r.physical_id)
            for r in resources
            if r.type.startswith(CUSTOM_PREFIX)
        ]
        self._custom(requests)
        return [
            f"{r.logical_id}: {(r.response or {}).get('Reason')}"
            for r in requests
            if (r.response or {}).get("Status") != "SUCCESS"
        ]

    def _delete_resources(
        self,
        logical_ids: set[str],
        pool: dict[str, Resource] | None = None,
        template: dict[str, Any] | None = None,
    ) -> list[str]:
        """Delete resources in reverse dependency order (of ``template``, default the stack's)."""
        pool = self.resources if pool is None else pool
        definitions = (template or self.template).get("Resources", {})
        template = {
            "Resources": {k: definitions.get(k, {"Type": pool[k].type}) for k in logical_ids if k in pool}
        }
        failures: list[str] = []
        graph = self.dependencies(template)
        kept: set[str] = (
            set()
        )  # what a resource that failed to delete depends on is kept, as CloudFormation does
        for wave in reversed(self.waves(template)):
            requests: list[Request] = []
            for logical_id in wave:
                resource = pool[logical_id]
                if logical_id in kept:
                    continue
                if resource.deletion_policy == "Retain":
                    self.event(logical_id, resource.type, "DELETE_SKIPPED", physical_id=resource.physical_id)
                elif resource.type.startswith(CUSTOM_PREFIX):
                    requests.append(
                        self._request(
                            logical_id,
                            "Delete",
                            {"Type": resource.type},
                            resource.properties,
                            resource.physical_id,
                        )
                    )
                else:
                    failure = self._delete_plain(resource)
                    if failure:
                        failures.append(f"{logical_id}: {failure}")
                    else:
                        self.cloud.unconfigure(resource)
                    self.event(
                        logical_id,
                        resource.type,
                        "DELETE_FAILED" if failure else "DELETE_COMPLETE",
                        failure,
                        resource.physical_id,
                    )
            for request in self._custom(requests):
                if (request.response or {}).get("Status") != "SUCCESS":
                    failures.append(f"{request.logical_id}: {(request.response or {}).get('Reason')}")
            for logical_id in wave:
                if any(f.startswith(f"{logical_id}:") for f in failures):
                    kept |= _closure(graph, logical_id)
            for logical_id in wave:
                if logical_id not in kept and not any(f.startswith(f"{logical_id}:") for f in failures):
                    pool.pop(logical_id, None)
                    self.resources.pop(logical_id, None)
        return failures

    def _collect_outputs(self) -> None:
        self.outputs = {}
        for name, output in self.template.get("Outputs", {}).items():
            value = self.resolve(output["Value"])
            self.outputs[name] = value
            export = output.get("Export", {}).get("Name")
            if export:
                self.cloud.exports[self.resolve(export)] = value


# --------------------------------------------------------------------------------------------------------
# The cloud: accounts, functions, schedules, the event loop
# --------------------------------------------------------------------------------------------------------
@dataclass
class _Schedule:
    account_id: str
    region: str
    rule: str
    period: float
    next_fire: float


class CloudFormation:
    """Plays CloudFormation (and Lambda, and EventBridge's scheduler) on a simulated clock.

    Use inside ``moto.mock_aws()``. ``on_event`` receives every StackEvent as it happens; ``on_wait``
    is called with the requests in flight whenever the simulated clock jumps forward.

    Knobs: ``queue_delay`` and ``cold_start`` (seconds; see lambda_runtime) are Lambda's latencies, which
    count against CloudFormation's timeout; ``duplicate_schedule_deliveries`` is the probability that
    EventBridge delivers a scheduled invocation twice (it delivers at least once:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html), drawn from a random
    generator seeded with ``seed`` so runs are repeatable.
    """

    def __init__(
        self,
        clock: Any,
        *,
        on_event: Callable[[StackEvent], None] | None = None,
        on_wait: Callable[[list[Request]], None] | None = None,
        queue_delay: float = DEFAULT_QUEUE_DELAY,
        cold_start: float = DEFAULT_COLD_START,
        duplicate_schedule_deliveries: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.clock = clock
        self.server = ResponseServer(clock.now)
        self.duplicate_schedule_deliveries = duplicate_schedule_deliveries
        self.random = random.Random(seed)
        self.duplicated: list[dict[str, Any]] = []  # scheduled events EventBridge delivered twice
        self.functions: dict[str, Function] = {}
        self.exports: dict[str, Any] = {}
        self.events: list[StackEvent] = []
        self.violations: list[str] = []
        self.responses: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._on_event = on_event
        self._on_wait = on_wait
        self._sessions: dict[tuple[str, str, str], boto3.Session] = {}
        self._events_clients: dict[tuple[str, str], Any] = {}
        self._schedules: dict[tuple[str, str, str], _Schedule] = {}
        self.all_requests: list[Request] = []
        self._counted: dict[str, int] = {}  # responses counted in a violation already, by RequestId
        self.peak_rules = 0  # the most polling schedules (EventBridge rules) that existed at once
        self.runtime = LambdaRuntime(
            clock, self._environment_for, queue_delay=queue_delay, cold_start=cold_start
        )

    def close(self) -> None:
        with self._host_restored():
            self.runtime.close()
        self.server.close()

    @contextlib.contextmanager
    def _host_restored(self) -> Iterator[None]:
        """Invocations switch os.environ and boto3's default session to their sandbox's: restore ours."""
        saved_env, saved_session = dict(os.environ), boto3.DEFAULT_SESSION
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            boto3.DEFAULT_SESSION = saved_session

    def __enter__(self) -> CloudFormation:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def record(self, event: StackEvent) -> None:
        self.events.append(event)
        if self._on_event:
            self._on_event(event)

    def session(self, account_id: str, region: str, role_arn: str | None = None) -> boto3.Session:
        """A boto3 session whose credentials moto maps to the account (and role) given."""
        role_arn = role_arn or f"arn:aws:iam::{account_id}:role/cloudformation-driver"
        key = (account_id, region, role_arn)
        if key not in self._sessions:
            if role_arn.endswith(":role/cloudformation-driver"):  # the driver acts as an admin role
                ensure_role(account_id, "cloudformation-driver")
            credentials = boto3.client("sts", region_name=region).assume_role(
                RoleArn=role_arn, RoleSessionName=role_arn.split("/")[-1][:64] or "driver"
            )["Credentials"]
            self._sessions[key] = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
        return self._sessions[key]

    def stack(self, name: str, *, account_id: str, region: str, asset_root: Path | str) -> Stack:
        """A new, not yet created stack; call ``create(template)`` on it."""
        return Stack(self, name, account_id, region, Path(asset_root))

    # -- Lambda ---------------------------------------------------------------------------------------------
    def _environment_for(self, function: Function) -> dict[str, str]:
        """What Lambda puts in a function's environment: its variables, Region and role credentials."""
        credentials = self.session(function.account_id, function.region, function.role_arn).get_credentials()
        return {
            **function.environment,
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_SESSION_TOKEN": credentials.token or "",
            "SSL_CERT_FILE": str(self.server.cert_file),
        }

    def configure(self, resource: Resource) -> None:
        """Apply an ordinary resource that changes how Lambda runs a function: EventInvokeConfig."""
        if resource.type != "AWS::Lambda::EventInvokeConfig":
            return
        function = self._function_named(str(resource.properties.get("FunctionName", "")))
        retries = int(resource.properties.get("MaximumRetryAttempts", DEFAULT_MAX_RETRY_ATTEMPTS))
        age = float(resource.properties.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE))
        if not 0 <= retries <= 2 or not 60 <= age <= 21600:
            raise DriverError(
                f"{resource.logical_id}: MaximumRetryAttempts must be 0-2 and MaximumEventAgeInSeconds "
                f"60-21600, not {retries} and {age:g}"
            )
        function.max_retry_attempts, function.max_event_age = retries, age

    def unconfigure(self, resource: Resource) -> None:
        """A deleted EventInvokeConfig: Lambda's defaults apply again."""
        if resource.type == "AWS::Lambda::EventInvokeConfig":
            name = str(resource.properties.get("FunctionName", ""))
            with contextlib.suppress(DriverError):
                function = self._function_named(name)
                function.max_retry_attempts = DEFAULT_MAX_RETRY_ATTEMPTS
                function.max_event_age = DEFAULT_MAX_EVENT_AGE

    def _function_named(self, name_or_arn: str) -> Function:
        for function in self.functions.values():
            if name_or_arn in (function.name, function.arn):
                return function
        raise DriverError(f"EventInvokeConfig of {name_or_arn!r}, a function this driver did not deploy")

    @property
    def invocations(self) -> list[Invocation]:
        """Every handler invocation so far, in the order they started."""
        return self.runtime.invocations

    def _run_ready(self) -> None:
        with self._host_restored():
            self.runtime.run_ready()

    # -- EventBridge schedules -------------------------------------------------------------------------------
    def _events(self, account_id: str, region: str) -> Any:
        """The driver's EventBridge client for an account (one each: the scan runs after every step)."""
        key = (account_id, region)
        if key not in self._events_clients:
            self._events_clients[key] = self.session(account_id, region).client("events")
        return self._events_clients[key]

    def _scan_schedules(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        for account_id, region in {(f.account_id, f.region) for f in self.functions.values()}:
            pages = self._events(account_id, region).get_paginator("list_rules").paginate()
            for rule in [r for page in pages for r in page.get("Rules", [])]:
                key = (account_id, region, rule["Name"])
                match = RATE.match(rule.get("ScheduleExpression", ""))
                if not match or rule.get("State") != "ENABLED":
                    continue
                seen.add(key)
                if key not in self._schedules:
                    period = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
                    self._schedules[key] = _Schedule(
                        account_id, region, rule["Name"], period, self.clock.now() + period
                    )
        for key in set(self._schedules) - seen:
            del self._schedules[key]
        self.peak_rules = max(self.peak_rules, len(self._schedules))

    def _fire(self, schedule: _Schedule) -> None:
        schedule.next_fire += schedule.period
        client = self._events(schedule.account_id, schedule.region)
        try:
            targets = client.list_targets_by_rule(Rule=schedule.rule).get("Targets", [])
        except client.exceptions.ResourceNotFoundException:
            return
        for target in targets:
            function = self.functions.get(target["Arn"])
            if function is None:
                self.violations.append(f"rule {schedule.rule} targets an unknown function {target['Arn']}")
                continue
            event = json.loads(target.get("Input") or "{}")
            self.runtime.invoke_async(function, event)
            if self.random.random() < self.duplicate_schedule_deliveries:
                self.duplicated.append(event)  # the same event again, a little later
                self.runtime.invoke_async(
                    function, event, delay=self.runtime.queue_delay + self.random.uniform(0, 5)
                )

    def rules_by_request(self) -> dict[str, list[str]]:
        """The polling rules that exist now, by the RequestId in their target Input."""
        found: dict[str, list[str]] = {}
        for account_id, region, name in list(self._schedules):
            client = self.session(account_id, region).client("events")
            for target in client.list_targets_by_rule(Rule=name).get("Targets", []):
                request_id = json.loads(target.get("Input") or "{}").get("RequestId", "")
                found.setdefault(request_id, []).append(name)
        return found

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self, requests: list[Request]) -> None:
        """Send the requests together, then let simulated time pass until every one is answered."""
        self.send(requests)
        self.wait(requests)

    def send(self, requests: list[Request]) -> None:
        """Invoke the requests' functions asynchronously (each ``deliveries`` times) without waiting.

        CloudFormation's timeout runs from now: the time the event waits in Lambda's queue, a cold start
        and the response PUT all count against it."""
        self.all_requests.extend(requests)
        for request in requests:
            request.sent = self.clock.now()
            request.deadline = request.sent + request.service_timeout
            for _ in range(request.deliveries):
                self.runtime.invoke_async(request.function, request.event)
        self._run_ready()

    def wait(self, requests: list[Request]) -> None:
        """Let simulated time pass until every request is answered.

        Time jumps to the next thing due: an invocation waking up, a polling schedule firing, a Lambda
        retry or timeout, or a request's ServiceTimeout (after which CloudFormation gives up on it).
        """
        while True:
            for request in requests:
                self._collect(request)
            waiting = [r for r in requests if r.response is None]
            if not waiting:
                break
            self._scan_schedules()
            candidates = [r.deadline for r in waiting]
            candidates += [s.next_fire for s in self._schedules.values()]
            wake = self.runtime.next_wake()
            if wake is not None:
                candidates.append(wake)
            self.clock.advance(max(min(candidates) - self.clock.now(), 0))
            if self._on_wait:
                self._on_wait(waiting)
            self.runtime.wake_due()
            for schedule in sorted(self._schedules.values(), key=lambda s: s.next_fire):
                if schedule.next_fire <= self.clock.now():
                    self._fire(schedule)
            self._run_ready()
            for request in waiting:
                self._collect(request)
                if request.response is None and request.deadline <= self.clock.now():
                    self._time_out(request)
        self._scan_schedules()
        rules = self.rules_by_request()
        for request in requests:
            self._check_done(request, rules.get(request.event["RequestId"], []))

    def settle(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass with nothing new sent (late invocations, schedules)."""
        until = self.clock.now() + seconds
        while True:
            self._scan_schedules()
            candidates = [s.next_fire for s in self._schedules.values()]
            wake = self.runtime.next_wake()
            if wake is not None:
                candidates.append(wake)
            due = min([c for c in candidates if c <= until], default=None)
            if due is None:
                break
            self.clock.advance(max(due - self.clock.now(), 0))
            self.runtime.wake_due()
            for schedule in list(self._schedules.values()):
                if schedule.next_fire <= self.clock.now():
                    self._fire(schedule)
            self._run_ready()
        self.clock.advance(max(until - self.clock.now(), 0))

    def sent_requests(self, logical_id: str | None = None, request_type: str | None = None) -> list[Request]:
        """The requests sent so far (by stack operations or by tests), in order, optionally only those of
        one logical id and/or RequestType."""
        return [
            r
            for r in self.all_requests
            if logical_id in (None, r.logical_id) and request_type in (None, r.event["RequestType"])
        ]

    def audit(self) -> list[str]:
        """Protocol checks over every request so far (late duplicates included); returns violations."""
        for request in self.all_requests:
            count = len(self.server.responses(request.event["RequestId"]))
            if count > 1 and self._counted.get(request.event["RequestId"], 0) < count:
                self._counted[request.event["RequestId"]] = count  # reported once per count
                where = f"{request.logical_id} {request.event['RequestType']}"
                self.violations.append(f"{where}: {count} responses to one request")
        return self.violations

    def _collect(self, request: Request) -> None:
        """Take the first response, if it arrived before CloudFormation's timeout."""
        bodies = self.server.responses(request.event["RequestId"])
        if bodies and request.response is None:
            arrived = self.server.arrival_times(request.event["RequestId"])[0]
            if arrived > request.deadline:
                self._time_out(request)  # too late: CloudFormation had given up already
                return
            request.response, request.answered = bodies[0], arrived
            self.responses.append((request.event, bodies[0]))
            self._check_response(request, bodies[0])

    def _time_out(self, request: Request) -> None:
        """CloudFormation gives up on a request at its ServiceTimeout (counted from when it was sent)."""
        physical_id = request.event.get("PhysicalResourceId")
        if physical_id is None:
            # A Create never answered has no id; CloudFormation's rollback still sends a Delete. Its id is
            # not documented: a generated one (stack-logical-random), never an id the handler made, is the
            # stricter choice.
            physical_id = f"{request.stack.name}-{request.logical_id}-{uuid.uuid4().hex[:12].upper()}"
        request.response = {
            "Status": "FAILED",
            "Reason": (
                "CloudFormation did not receive a response from your Custom Resource within the "
                "ServiceTimeout; it may not have been created or deleted correctly."
            ),
            "PhysicalResourceId": physical_id,
        }
        request.answered = request.deadline
        where = f"{request.logical_id} {request.event['RequestType']}"
        self.violations.append(f"{where}: no response before ServiceTimeout")

    def _check_response(self, request: Request, body: dict[str, Any]) -> None:
        event, where = request.event, f"{request.logical_id} {request.event['RequestType']}"
        size = self.server.raw_sizes[event["RequestId"]][0]
        if size > MAX_RESPONSE_BYTES:
            self.violations.append(f"{where}: response of {size} bytes, over {MAX_RESPONSE_BYTES}")
        if body.get("Status") not in ("SUCCESS", "FAILED"):
            self.violations.append(f"{where}: Status {body.get('Status')!r}")
        if body.get("Status") == "FAILED" and not body.get("Reason"):
            self.violations.append(f"{where}: FAILED without a Reason")
        physical_id = str(body.get("PhysicalResourceId") or "")
        if not physical_id or len(physical_id) > MAX_PHYSICAL_ID:
            self.violations.append(f"{where}: PhysicalResourceId {physical_id!r} empty or too long")
        for key in ("StackId", "RequestId", "LogicalResourceId"):
            if body.get(key) != event.get(key):
                self.violations.append(f"{where}: {key} {body.get(key)!r} does not echo the request")
        if event["RequestType"] == "Delete" and physical_id != event.get("PhysicalResourceId"):
            self.violations.append(f"{where}: Delete answered another PhysicalResourceId {physical_id!r}")
        if (
            event["RequestType"] == "Update"
            and body.get("Status") == "FAILED"
            and physical_id != event.get("PhysicalResourceId")
        ):
            # The driver keeps the held id; what CloudFormation does with another id in a FAILED Update is
            # not documented (reports say it may record it and Delete it later): answer the held id.
            self.violations.append(
                f"{where}: FAILED Update answered another PhysicalResourceId {physical_id!r}"
            )
        if "ResponseURL" in json.dumps(body.get("Data", {})) or "X-Amz-Signature" in json.dumps(body):
            self.violations.append(f"{where}: the response leaks the ResponseURL")

    def _check_done(self, request: Request, left: list[str]) -> None:
        where = f"{request.logical_id} {request.event['RequestType']}"
        bodies = self.server.responses(request.event["RequestId"])
        if len(bodies) > 1:  # also when the event was delivered more than once: one answer per request
            self._counted[request.event["RequestId"]] = len(bodies)
            self.violations.append(f"{where}: {len(bodies)} responses to one request")
        answers = {(b.get("Status"), b.get("PhysicalResourceId")) for b in bodies}
        if len(answers) > 1:
            self.violations.append(f"{where}: contradicting responses {sorted(map(str, answers))}")
        if left:
            self.violations.append(f"{where}: polling rule(s) left behind: {left}")
