"""A copy whose backing function has every setting compliance scanners ask for (README, "Compliance").

One stack in the production account: a Rekognition project, an output bucket and a copy, with the stack's
model-copy function set up first, by :meth:`RekognitionModelCopyProvider.of`, before the copy:

- in a VPC without internet access (isolated subnets), reaching the services the handler calls through VPC
  endpoints: Rekognition, EventBridge and KMS (interface endpoints) and S3 (a gateway endpoint: the
  presigned URL CloudFormation gives for the custom resource's answer);
- reserved concurrency (each copy in flight holds one execution);
- its own log group, encrypted with a customer managed key and kept one year;
- its environment encrypted with that key;
- a dead-letter queue (standard SQS, encrypted with the key) for asynchronous invocations that fail.

``python examples/compliant_app.py`` synthesises it; importing this module has no side effects
(:func:`build_app`).
"""

from __future__ import annotations

from aws_cdk import App, ArnFormat, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from rekognition_model_copy import RekognitionModelCopy, RekognitionModelCopyProvider

STACK_NAME = "CompliantModelCopy"
ENV = Environment(account="222222222222", region="us-east-1")
SOURCE_PROJECT = "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects"
RESERVED_CONCURRENCY = 10

ENDPOINTS = {
    "Rekognition": ec2.InterfaceVpcEndpointAwsService.REKOGNITION,
    "EventBridge": ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
}
"""The interface endpoints the function needs in a VPC without a NAT gateway (S3 is a gateway endpoint)."""


def build_stack(app: App) -> Stack:
    stack = Stack(app, STACK_NAME, env=ENV)
    key = kms.Key(stack, "Key", enable_key_rotation=True, description="Model-copy logs, environment, DLQ")
    # CloudWatch Logs encrypts the log group with the key only if the key policy lets it
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
            + ["kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
    for name, service in ENDPOINTS.items():
        vpc.add_interface_endpoint(name, service=service)

    RekognitionModelCopyProvider.of(
        stack,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        reserved_concurrent_executions=RESERVED_CONCURRENCY,
        log_group=logs.LogGroup(
            stack, "ModelCopyLogs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR
        ),
        environment_encryption=key,
        dead_letter_queue=sqs.Queue(
            stack,
            "ModelCopyDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        ),
    )

    project = rekognition.CfnProject(stack, "Project", project_name="prod-defects")
    project.apply_removal_policy(RemovalPolicy.RETAIN)
    bucket = s3.Bucket(stack, "Output", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    RekognitionModelCopy(
        stack,
        "DefectsModel",
        source_project_arn=f"{SOURCE_PROJECT}/1700000000000",
        source_project_version_arn=f"{SOURCE_PROJECT}/version/defects.2026-11-01/1700000000001",
        destination_project=project,
        version_name="defects-prod-1",
        output_bucket=bucket,
    )
    return stack


def build_app(*, outdir: str | None = None) -> App:
    app = App(outdir=outdir)
    build_stack(app)
    return app


if __name__ == "__main__":
    build_app().synth()
