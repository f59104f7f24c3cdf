"""A complete minimal app: promote a trained model version from a dev account into a prod account."""

from aws_cdk import App, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rekognition as rekognition
from aws_cdk import aws_s3 as s3

from rekognition_model_copy import IProjectVersion, ProjectVersion, RekognitionModelPromotion

app = App()
dev = Stack(app, "ModelDev", env=Environment(account="111111111111", region="us-east-1"))
prod = Stack(app, "ModelProd", env=Environment(account="222222222222", region="us-east-1"))

# The trained model, made elsewhere (in the dev account): imported by its two ARNs, checked here.
trained = ProjectVersion.from_project_version_attributes(
    dev,
    "Trained",
    project_arn="arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000",
    project_version_arn=(
        "arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/version/defects.2026-11-01/1700000000001"
    ),
)

project = rekognition.CfnProject(prod, "Project", project_name="prod-defects")
project.apply_removal_policy(RemovalPolicy.RETAIN)
bucket = s3.Bucket(prod, "Output", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)

promotion = RekognitionModelPromotion(
    id="DefectsModel",
    source_stack=dev,  # the project policy allowing the copy goes here
    destination_stack=prod,  # the copy goes here; it deploys after dev
    source=trained,
    destination_project=project,
    version_name="defects-prod-1",
    output_bucket=bucket,
)
model: IProjectVersion = promotion.copy
promotion.copy.apply_removal_policy(RemovalPolicy.RETAIN)  # keep the copied model if the stack goes

# The application that uses the model: DetectCustomLabels on the copy only.
application = iam.Role(prod, "Application", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
model.grant_detect_custom_labels(application)

app.synth()
