"""Deploy the model-copy function for plain CloudFormation templates: one stack per account and Region.

The stack (``RekognitionModelCopyProvider``, :class:`RekognitionModelCopyProviderStack`) exports the
function's ARN as ``RekognitionModelCopy-ServiceToken``; templates such as ``examples/model-copy.yaml``
import it as the ``ServiceToken`` of their ``Custom::RekognitionModelCopy`` resources::

    npx cdk deploy --app "python examples/provider_app.py" \\
        -c account=222222222222 -c region=us-east-1 \\
        -c destination_project_names=prod-defects -c output_bucket_names=prod-model-output \\
        -c source_project_arns=arn:aws:rekognition:us-east-1:111111111111:project/dev-defects/1700000000000
    aws cloudformation deploy --template-file examples/model-copy.yaml --stack-name prod-model \\
        --parameter-overrides SourceProjectArn=... SourceProjectVersionArn=... VersionName=defects-prod-1

Context keys (all optional; lists are comma-separated):

- ``account``, ``region``: where to deploy. Default: the CLI's current account and Region;
- ``export_name``: Default ``RekognitionModelCopy-ServiceToken``;
- ``destination_project_names``, ``source_project_arns``, ``output_bucket_names``, ``kms_key_arns``: what
  the function may touch. Default ``*`` each: every project, bucket and key. Narrow them for production;
  an empty value (``-c kms_key_arns=``) grants nothing of that kind;
- ``source_kms_key_arns``: customer managed keys the source models were trained with (read rights only).
  Default: none (``kms_key_arns`` of ``*`` covers them);
- ``role_name``: a fixed name for the function's role, to name it in a source account's project policy.

Importing this module has no side effects: :func:`build_app` builds the app, running it synthesises.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment

from rekognition_model_copy import DEFAULT_EXPORT_NAME, RekognitionModelCopyProviderStack

STACK_NAME = "RekognitionModelCopyProvider"


def _list(value: Any) -> list[str]:
    """A context value as a list: a JSON list as is, a string split at commas (empty: no items)."""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> App:
    """Build the app. ``context`` adds to (and overrides) the context of cdk.json and ``-c``."""
    app = App(context=dict(context) if context else None, outdir=outdir)

    def ctx(key: str, default: Any) -> Any:
        value = app.node.try_get_context(key)
        return default if value is None else value

    def scope(key: str, default: str = "*") -> list[str]:
        return _list(ctx(key, default))

    RekognitionModelCopyProviderStack(
        app,
        STACK_NAME,
        env=Environment(
            account=ctx("account", os.environ.get("CDK_DEFAULT_ACCOUNT")),
            region=ctx("region", os.environ.get("CDK_DEFAULT_REGION")),
        ),
        export_name=str(ctx("export_name", DEFAULT_EXPORT_NAME)),
        role_name=ctx("role_name", None),
        destination_project_names=scope("destination_project_names"),
        source_project_arns=scope("source_project_arns"),
        output_bucket_names=scope("output_bucket_names"),
        kms_key_arns=scope("kms_key_arns"),
        source_kms_key_arns=scope("source_kms_key_arns", ""),
    )
    return app


if __name__ == "__main__":
    build_app().synth()
