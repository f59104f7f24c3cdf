"""The provider stack as a plain CloudFormation template: no CDK, no bootstrap, the code from a zip in S3.

It is generated from :class:`RekognitionModelCopyProviderStack` itself: the stack is synthesised with no
narrowed permissions at all (the function, its role, log group, the polling rules' statement and
EventBridge's invoke permission), the CDK-only parts are taken out (asset metadata, ``CDKMetadata``, the
bootstrap version parameter and rule), the function's ``Code`` becomes the ``CodeS3Bucket``/``CodeS3Key``
parameters, and the statements that the CDK stack derives in Python from its scope arguments are added as
CloudFormation expressions over list parameters of the same names and meaning. CloudFormation has no
loops, so each list is read item by item (``Fn::Select`` over the list padded with empty items): up to
:data:`MAX_ITEMS` items per list. ``tests/e2e/test_dist.py`` deploys the template with the same values as
the CDK stack and compares the permissions the role gets, so the two never drift apart.
"""

from __future__ import annotations

from typing import Any

from rekognition_model_copy import permissions
from rekognition_model_copy.contract import RESERVED_CONCURRENCY_ENV
from rekognition_model_copy.provider import DEAD_LETTER_ACTIONS as DLQ_ACTIONS
from rekognition_model_copy.provider import VPC_ACCESS_ACTIONS


def zip_name(version: str) -> str:
    """The function code's zip of release ``version``."""
    return f"rekognition-model-copy-handler-{version}.zip"


MAX_ITEMS = 10
"""The most items each list parameter is read for."""

P, R, A = "${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}"
NO_VALUE = {"Ref": "AWS::NoValue"}

# parameter name -> (CDK argument, description)
LISTS: dict[str, tuple[str, str, str]] = {
    "DestinationProjectNames": (
        "destination_project_names",
        "*",
        "Names of this account's projects that copies go into (wildcards * and ? allowed); * for every "
        "project; empty for no copies",
    ),
    "SourceProjectArns": (
        "source_project_arns",
        "*",
        "ARNs of the projects copies are made from (this or another account of the Region; project "
        "policies and quality bars on this account's ones); * for any; empty for no copies and no policies",
    ),
    "OutputBucketNames": (
        "output_bucket_names",
        "*",
        "Buckets of the copies' OutputConfig (wildcards allowed); * for every bucket",
    ),
    "KmsKeyArns": (
        "kms_key_arns",
        "*",
        "Key ARNs of KmsKeyId and of SSE-KMS output buckets; * for every key of the Region; empty for "
        "none (AWS owned keys, SSE-S3)",
    ),
    "SourceKmsKeyArns": (
        "source_kms_key_arns",
        "",
        "Customer managed keys the source models were trained with (read only); empty for none",
    ),
}


WITH_ANY = ("SourceProjectArns", "KmsKeyArns", "SourceKmsKeyArns")
"""The lists whose ``*`` item stands for a pattern (the others' ``*`` is a wildcard in place)."""


def _padded(parameter: str) -> dict[str, Any]:
    """The list with MAX_ITEMS empty items after it, so ``Fn::Select`` of any index < MAX_ITEMS exists."""
    return {
        "Fn::Split": [
            ",",
            {"Fn::Join": [",", [{"Fn::Join": [",", {"Ref": parameter}]}, "," * (MAX_ITEMS - 1)]]},
        ]
    }


def _item(parameter: str, index: int) -> dict[str, Any]:
    return {"Fn::Select": [index, _padded(parameter)]}


def _has(parameter: str, index: int) -> str:
    return f"{parameter}{index}"


def _any(parameter: str, index: int) -> str:
    return f"{parameter}{index}Any"


def _named(parameter: str, index: int) -> str:
    return f"{parameter}{index}Named"


def _if(condition: str, value: Any) -> dict[str, Any]:
    return {"Fn::If": [condition, value, NO_VALUE]}


def _not_empty(parameter: str) -> dict[str, Any]:
    return {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": parameter}]}, ""]}]}


def _or(conditions: list[str]) -> dict[str, Any]:
    return {"Fn::Or": [{"Condition": c} for c in conditions]}


def conditions() -> dict[str, Any]:
    """Per list and item: present, ``*``, named; and what the statements hang on."""
    out: dict[str, Any] = {}
    for parameter in LISTS:
        out[f"Has{parameter}"] = _not_empty(parameter)
        for i in range(MAX_ITEMS):
            item = _item(parameter, i)
            out[_has(parameter, i)] = {"Fn::Not": [{"Fn::Equals": [item, ""]}]}
            if parameter in WITH_ANY:
                out[_any(parameter, i)] = {"Fn::Equals": [item, "*"]}
            if parameter == "SourceProjectArns":
                out[_named(parameter, i)] = {
                    "Fn::And": [
                        {"Condition": _has(parameter, i)},
                        {"Fn::Not": [{"Condition": _any(parameter, i)}]},
                    ]
                }
    for i in range(MAX_ITEMS):
        # A project policy can only be put by the project's own account: the ARN's 5th field.
        account = {
            "Fn::Select": [
                4,
                {"Fn::Split": [":", {"Fn::Join": ["", [_item("SourceProjectArns", i), ":::::"]]}]},
            ]
        }
        out[f"SourceProjectArns{i}Own"] = {
            "Fn::And": [
                {"Condition": _named("SourceProjectArns", i)},
                {"Fn::Equals": [account, {"Ref": "AWS::AccountId"}]},
            ]
        }
        out[f"SourceProjectArns{i}Policy"] = _or([_any("SourceProjectArns", i), f"SourceProjectArns{i}Own"])
    out["HasPolicyProjects"] = _or([f"SourceProjectArns{i}Policy" for i in range(MAX_ITEMS)])
    out["HasCopies"] = {
        "Fn::And": [{"Condition": "HasDestinationProjectNames"}, {"Condition": "HasSourceProjectArns"}]
    }
    for parameter in ("OutputBucketNames", "KmsKeyArns", "SourceKmsKeyArns"):
        out[f"Copies{parameter}"] = {
            "Fn::And": [{"Condition": "HasCopies"}, {"Condition": f"Has{parameter}"}]
        }
    out["HasRoleName"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": "RoleName"}, ""]}]}
    return out


# parameter -> (Type, Default, pattern or None, description): the provider options of
# RekognitionModelCopyProvider.of that a plain template can take, each optional ("" or 0: not set).
OPTIONS: dict[str, tuple[str, str, str | None, str]] = {
    "SubnetIds": (
        "CommaDelimitedList",
        "",
        None,
        "Subnets to run the function in (vpc_subnets; with SecurityGroupIds); they must reach Rekognition, "
        "EventBridge, KMS and S3 (README, In a VPC); empty: not in a VPC",
    ),
    "SecurityGroupIds": (
        "CommaDelimitedList",
        "",
        None,
        "The function's security groups in the subnets' VPC (security_groups); with SubnetIds",
    ),
    "RoleArn": (
        "String",
        "",
        "^(arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@-]{1,64})?$",
        "Your own execution role (role; no path), trusting lambda.amazonaws.com: the template attaches its "
        "policy to it and creates no role; not with RoleName; empty: a role of the template",
    ),
    "ReservedConcurrentExecutions": (
        "Number",
        "0",
        None,
        "The function's reserved concurrency (reserved_concurrent_executions); 0: none, the account's "
        "unreserved pool",
    ),
    "LogGroupName": (
        "String",
        "",
        "^[.\\-_/#A-Za-z0-9]{0,512}$",
        "An existing log group for the function (log_group, e.g. encrypted with your key); empty: a log "
        "group of the template, kept one month",
    ),
    "EnvironmentKmsKeyArn": (
        "String",
        "",
        "^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+)?$",
        "A customer managed key for the function's environment (environment_encryption); empty: Lambda's "
        "AWS managed key",
    ),
    "DeadLetterQueueArn": (
        "String",
        "",
        "^(arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80})?$",
        "A standard SQS queue (not FIFO) for failed asynchronous invocations (dead_letter_queue; a queue "
        "encrypted with a customer managed key also needs that key in KmsKeyArns); empty: none",
    ),
}


def _no_items(parameter: str) -> dict[str, Any]:
    """A rule's test that a CommaDelimitedList parameter is left empty (its default "" is [""])."""
    return {"Fn::Contains": [{"Ref": parameter}, ""]}


def option_conditions() -> dict[str, Any]:
    """Per option: set or not."""
    out: dict[str, Any] = {}
    for name, (kind, default, _, _) in OPTIONS.items():
        if name == "SecurityGroupIds":
            continue  # given with SubnetIds, as the VPC configuration
        if kind == "CommaDelimitedList":
            out[f"Has{name}"] = _not_empty(name)
        else:
            out[f"Has{name}"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": name}, default]}]}
    out["NoRoleArn"] = {"Fn::Not": [{"Condition": "HasRoleArn"}]}
    out["NoLogGroupName"] = {"Fn::Not": [{"Condition": "HasLogGroupName"}]}
    return out


DECRYPT = permissions.ENVIRONMENT_KEY_ACTIONS


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def option_statements() -> list[Any]:
    """What the options add to the function's policy (:class:`RekognitionModelCopyProvider`'s)."""
    return [
        _statement("HasSubnetIds", "VpcNetworkInterfaces", VPC_ACCESS_ACTIONS, ["*"]),
        _statement("HasEnvironmentKmsKeyArn", "DecryptEnvironment", DECRYPT, [_ref("EnvironmentKmsKeyArn")]),
        _statement("HasDeadLetterQueueArn", "DeadLetterQueue", DLQ_ACTIONS, [_ref("DeadLetterQueueArn")]),
    ]


def _apply_options(resources: dict[str, Any], outputs: dict[str, Any], ids: dict[str, str]) -> None:
    """The option parameters in the function, its role, policy, log group and the RoleArn output."""
    function = resources[ids["function"]]["Properties"]
    role, log_group = ids["role"], ids["log_group"]
    resources[role]["Condition"] = "NoRoleArn"
    resources[log_group]["Condition"] = "NoLogGroupName"
    role_arn = {"Fn::If": ["HasRoleArn", {"Ref": "RoleArn"}, {"Fn::GetAtt": [role, "Arn"]}]}
    function["Role"] = role_arn
    outputs["RoleArn"]["Value"] = role_arn
    policy = resources[ids["policy"]]["Properties"]
    own_name = {"Fn::Select": [1, {"Fn::Split": [":role/", {"Ref": "RoleArn"}]}]}
    policy["Roles"] = [{"Fn::If": ["HasRoleArn", own_name, {"Ref": role}]}]
    given_log_group = {"Fn::Sub": f"arn:{P}:logs:{R}:{A}:log-group:${{LogGroupName}}:*"}
    for statement in policy["PolicyDocument"]["Statement"]:
        if statement.get("Resource") == {"Fn::GetAtt": [log_group, "Arn"]}:
            statement["Resource"] = {"Fn::If": ["HasLogGroupName", given_log_group, statement["Resource"]]}
    function["LoggingConfig"]["LogGroup"] = {
        "Fn::If": ["HasLogGroupName", {"Ref": "LogGroupName"}, function["LoggingConfig"]["LogGroup"]]
    }
    function["VpcConfig"] = _if(
        "HasSubnetIds", {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}
    )
    function["ReservedConcurrentExecutions"] = _if(
        "HasReservedConcurrentExecutions", {"Ref": "ReservedConcurrentExecutions"}
    )
    function["KmsKeyArn"] = _if("HasEnvironmentKmsKeyArn", {"Ref": "EnvironmentKmsKeyArn"})
    # The handler counts on its reservation without asking Lambda (see the library's provider).
    function["Environment"]["Variables"][RESERVED_CONCURRENCY_ENV] = _if(
        "HasReservedConcurrentExecutions", {"Ref": "ReservedConcurrentExecutions"}
    )
    function["DeadLetterConfig"] = _if("HasDeadLetterQueueArn", {"TargetArn": {"Ref": "DeadLetterQueueArn"}})


def _each(parameter: str, template: str, *, any_value: str | None = None) -> list[Any]:
    """One resource per item: ``template`` with ``${Item}`` the item (``any_value`` for a ``*`` item)."""
    resources = []
    for i in range(MAX_ITEMS):
        value: Any = {"Fn::Sub": [template, {"Item": _item(parameter, i)}]}
        if any_value is not None:
            value = {"Fn::If": [_any(parameter, i), {"Fn::Sub": any_value}, value]}
        resources.append(_if(_has(parameter, i), value))
    return resources


def _statement(condition: str, sid: str, actions: tuple[str, ...], resources: list[Any], **extra: Any) -> Any:
    return _if(
        condition,
        {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources, **extra},
    )


def narrowed_statements() -> list[Any]:
    """What :meth:`RekognitionModelCopyProviderStack._statements` grants, as CloudFormation expressions."""
    src = "SourceProjectArns"
    own_projects = f"arn:{P}:rekognition:{R}:{A}:project/*"
    policy_projects = [
        _if(
            f"{src}{i}Policy",
            {"Fn::If": [_any(src, i), {"Fn::Sub": own_projects}, _item(src, i)]},
        )
        for i in range(MAX_ITEMS)
    ]
    sources = []
    versions = []
    for i in range(MAX_ITEMS):
        parts = {"Fn::Split": ["/", {"Fn::Join": ["", [_item(src, i), "/-/-"]]}]}
        sources.append(
            _if(
                _has(src, i),
                {
                    "Fn::If": [
                        _any(src, i),
                        {"Fn::Sub": f"arn:{P}:rekognition:{R}:*:project/*"},
                        _item(src, i),
                    ]
                },
            )
        )
        versions.append(
            _if(
                _named(src, i),
                {
                    "Fn::Sub": [
                        "${Project}/${Name}/version/*",
                        {"Project": {"Fn::Select": [0, parts]}, "Name": {"Fn::Select": [1, parts]}},
                    ]
                },
            )
        )
    destinations = _each("DestinationProjectNames", f"arn:{P}:rekognition:{R}:{A}:project/${{Item}}/*")
    destination_versions = _each(
        "DestinationProjectNames", f"arn:{P}:rekognition:{R}:{A}:project/${{Item}}/version/*"
    )
    buckets = _each("OutputBucketNames", f"arn:{P}:s3:::${{Item}}")
    objects = _each("OutputBucketNames", f"arn:{P}:s3:::${{Item}}/*")
    any_key = f"arn:{P}:kms:{R}:*:key/*"
    keys = _each("KmsKeyArns", "${Item}", any_value=any_key)
    source_keys = _each("SourceKmsKeyArns", "${Item}", any_value=any_key)
    grant = {"Condition": permissions.GRANT_FOR_AWS_RESOURCE}
    # The owned-version statements: every version (and project) of this account and Region, versions only
    # under the owner marker condition, whatever the destination lists say (a Delete after the role was
    # narrowed to another project). The patterns and their reasons are permissions.OWNED_WILDCARDS'.
    owned = {p: {"Fn::Sub": f"arn:{P}:rekognition:{R}:{A}:{p}"} for p in permissions.OWNED_WILDCARDS}
    owned_versions, owned_projects = owned["project/*/version/*"], owned["project/*"]
    return [
        _statement("HasPolicyProjects", "ManageProjectPolicies", permissions.POLICY_ACTIONS, policy_projects),
        _statement("HasPolicyProjects", "CheckSourceQuality", permissions.GATE_ACTIONS, policy_projects),
        # CopyProjectVersion on the sources here, on the destinations with the destination projects' other
        # actions: the destination list once, so ten items of every list fit IAM's inline policy quota.
        _statement("HasCopies", "CopyProjectVersion", permissions.COPY_ACTIONS, sources + versions),
        _statement(
            "HasCopies",
            "DestinationProjects",
            permissions.COPY_ACTIONS + permissions.DESTINATION_PROJECT_ACTIONS,
            destinations,
        ),
        _statement("HasCopies", "ManageCopiedVersions", permissions.VERSION_ACTIONS, destination_versions),
        _statement(
            "HasCopies",
            "RemoveOwnedVersions",
            permissions.OWNED_VERSION_ACTIONS,
            [owned_versions],
            Condition=permissions.OWNER_MARKER,
        ),
        _statement("HasCopies", "ReadOwnedVersions", permissions.OWNED_PROJECT_ACTIONS, [owned_projects]),
        _statement(
            "HasCopies",
            "ReadStackStatus",
            permissions.STACK_STATUS_ACTIONS,
            [{"Fn::Sub": f"arn:{P}:cloudformation:{R}:{A}:stack/*"}],
        ),
        _statement("CopiesOutputBucketNames", "OutputBuckets", permissions.BUCKET_ACTIONS, buckets),
        _statement("CopiesOutputBucketNames", "OutputObjects", permissions.OBJECT_ACTIONS, objects),
        _statement("CopiesKmsKeyArns", "UseKeys", permissions.KEY_USE_ACTIONS, keys),
        _statement(
            "CopiesSourceKmsKeyArns", "ReadSourceKeys", permissions.SOURCE_KEY_USE_ACTIONS, source_keys
        ),
        _statement(
            "CopiesKmsKeyArns", "GrantKeysToAwsResources", permissions.KEY_GRANT_ACTIONS, keys, **grant
        ),
        _statement(
            "CopiesSourceKmsKeyArns",
            "GrantSourceKeysToAwsResources",
            permissions.KEY_GRANT_ACTIONS,
            source_keys,
            **grant,
        ),
    ]


def _plain(value: Any) -> Any:
    """CDK's synthesised values as plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def provider_template(version: str) -> dict[str, Any]:
    """The plain template of release ``version``."""
    from aws_cdk import App, DefaultStackSynthesizer

    from rekognition_model_copy import DEFAULT_EXPORT_NAME, RekognitionModelCopyProviderStack

    app = App(context={"aws:cdk:version-reporting": False})
    description = (
        f"rekognition-model-copy {version}: the backing function of Custom::RekognitionModelCopy and "
        "Custom::RekognitionProjectPolicy; exports its ServiceToken"
    )
    stack = RekognitionModelCopyProviderStack(
        app,
        "RekognitionModelCopyProvider",
        synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        description=description,
        export_name="RekognitionModelCopy-ServiceToken",  # replaced by the ExportName parameter below
        destination_project_names=[],
        source_project_arns=[],
        output_bucket_names=[],
        kms_key_arns=[],
        source_kms_key_arns=[],
    )
    template: dict[str, Any] = _plain(app.synth().get_stack_by_name(stack.stack_name).template)

    parameters: dict[str, Any] = {
        "CodeS3Bucket": {
            "Type": "String",
            "Description": f"Bucket (of this Region) holding the function's code, {zip_name(version)}",
            "MinLength": 3,
        },
        "CodeS3Key": {
            "Type": "String",
            "Description": "Key of the zip in CodeS3Bucket",
            "Default": zip_name(version),
            "MinLength": 1,
        },
        "ExportName": {
            "Type": "String",
            "Description": "Name of the export holding the ServiceToken (!ImportValue it in your templates)",
            "Default": DEFAULT_EXPORT_NAME,
            "AllowedPattern": "^[A-Za-z0-9:-]{1,255}$",
        },
    }
    for name, (argument, default, text) in LISTS.items():
        parameters[name] = {
            "Type": "CommaDelimitedList",
            "Description": f"{text} (comma-separated, at most {MAX_ITEMS}; {argument} of the CDK stack)",
            "Default": default,
        }
    parameters["RoleName"] = {
        "Type": "String",
        "Description": "A fixed name for the function's role, to name it in a source project's policy; "
        "empty for a generated name",
        "Default": "",
        "AllowedPattern": "^[\\w+=,.@-]{0,64}$",
    }
    for name, (kind, default, pattern, text) in OPTIONS.items():
        parameters[name] = {"Type": kind, "Description": text, "Default": default}
        if pattern is not None:
            parameters[name]["AllowedPattern"] = pattern
        if kind == "Number":
            parameters[name]["MinValue"] = 0
    template["Parameters"] = parameters
    template["Conditions"] = {**conditions(), **option_conditions()}
    template["Rules"] = {
        "RoleNameOrRoleArn": {
            "Assertions": [
                {
                    "Assert": {
                        "Fn::Or": [
                            {"Fn::Equals": [{"Ref": "RoleName"}, ""]},
                            {"Fn::Equals": [{"Ref": "RoleArn"}, ""]},
                        ]
                    },
                    "AssertDescription": "RoleName names the template's role; with RoleArn there is none",
                }
            ]
        },
        # Lambda takes a VPC configuration as subnets and security groups together.
        "SubnetIdsWithSecurityGroupIds": {
            "Assertions": [
                {
                    "Assert": {
                        "Fn::Or": [
                            {"Fn::And": [_no_items("SubnetIds"), _no_items("SecurityGroupIds")]},
                            {
                                "Fn::And": [
                                    {"Fn::Not": [_no_items("SubnetIds")]},
                                    {"Fn::Not": [_no_items("SecurityGroupIds")]},
                                ]
                            },
                        ]
                    },
                    "AssertDescription": "SubnetIds and SecurityGroupIds go together: give both or neither",
                }
            ]
        },
    }
    template["Description"] = description

    resources: dict[str, Any] = template["Resources"]
    resources.pop("CDKMetadata", None)
    (function_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    (role_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role"]
    (policy_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Policy"]
    for resource in resources.values():
        resource.pop("Metadata", None)
    resources[function_id]["Properties"]["Code"] = {
        "S3Bucket": {"Ref": "CodeS3Bucket"},
        "S3Key": {"Ref": "CodeS3Key"},
    }
    depends = [d for d in resources[function_id].get("DependsOn", []) if d != role_id]  # its GetAtt does
    resources[function_id]["DependsOn"] = depends
    resources[role_id]["Properties"]["RoleName"] = {"Fn::If": ["HasRoleName", {"Ref": "RoleName"}, NO_VALUE]}
    resources[policy_id]["Properties"]["PolicyDocument"]["Statement"] += narrowed_statements()
    resources[policy_id]["Properties"]["PolicyDocument"]["Statement"] += option_statements()
    (log_group_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"]
    ids = {"function": function_id, "role": role_id, "policy": policy_id, "log_group": log_group_id}
    _apply_options(resources, template["Outputs"], ids)
    template["Outputs"]["ServiceToken"]["Export"] = {"Name": {"Ref": "ExportName"}}
    order = [
        "AWSTemplateFormatVersion",
        "Description",
        "Parameters",
        "Rules",
        "Conditions",
        "Resources",
        "Outputs",
    ]
    template.setdefault("AWSTemplateFormatVersion", "2010-09-09")
    return {key: template[key] for key in order if key in template}
