"""``IProjectVersion``: a Rekognition Custom Labels model version, made by this app or elsewhere.

The construct interface of the AWS CDK design guidelines
(https://github.com/aws/aws-cdk/blob/main/docs/DESIGN_GUIDELINES.md: "Construct Interface", imports
"From-attributes", grants and metrics on the interface): what a copy (:class:`RekognitionModelCopy`)
and an imported version (:meth:`ProjectVersion.from_project_version_attributes`, say the trained source
model of another account) have in common: their ARNs, grants, and the CloudWatch metrics of a served model.

Metrics: Rekognition publishes Custom Labels metrics in the ``AWS/Rekognition`` namespace with the
dimensions ``ProjectName`` and ``VersionName``: among them ``InServiceInferenceUnits`` and
``DesiredInferenceUnits`` (statistic ``Average``), and the request counts ``SuccessfulRequestCount``,
``ThrottledCount``, ``UserErrorCount``, ``ServerErrorCount`` (``Sum``)
(https://docs.aws.amazon.com/rekognition/latest/dg/cloudwatch-metricsdim.html; the dimensions as in the
graph of https://docs.aws.amazon.com/rekognition/latest/customlabels-dg/rm-model-usage.html). The pages
list the two dimensions for Custom Labels without saying which of the request counts carry them; only the
inference-unit graph shows them in use. A model that is not running publishes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aws_cdk import Duration, Fn, Resource, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct, Node

from . import permissions, validation

if TYPE_CHECKING:
    # Moved to aws_cdk.interfaces in later releases than the floor (aws_cdk.ResourceEnvironment there).
    from aws_cdk.interfaces import ResourceEnvironment

METRIC_NAMESPACE = "AWS/Rekognition"
"""The CloudWatch namespace of Rekognition's metrics."""


@runtime_checkable
class IProjectVersion(Protocol):
    """A Rekognition Custom Labels model version (``IResource``): its ARNs, grants on it, its metrics.

    Implemented by :class:`RekognitionModelCopy` and by the versions
    :meth:`ProjectVersion.from_project_version_attributes` imports; pass either as ``source=`` of a copy or
    a promotion, or type a reference with it to grant an application access.
    """

    @property
    def node(self) -> Node:
        """The construct's node (``IConstruct``)."""
        ...

    @property
    def stack(self) -> Stack:
        """The stack the construct is defined in (``IResource``)."""
        ...

    @property
    def env(self) -> ResourceEnvironment:
        """The version's account and Region (``IResource``): an imported version's are its ARN's."""
        ...

    @property
    def project_version_arn(self) -> str:
        """ARN of the model version."""
        ...

    @property
    def project_arn(self) -> str:
        """ARN of the project the version belongs to."""
        ...

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Allow ``grantee`` the Rekognition ``actions`` on this version only."""
        ...

    def grant_detect_custom_labels(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` (the application using the model) DetectCustomLabels on this version."""
        ...

    def metric(self, metric_name: str, **options: Any) -> cloudwatch.Metric:
        """The metric ``metric_name`` of this version (namespace ``AWS/Rekognition``)."""
        ...

    def metric_in_service_inference_units(self, **options: Any) -> cloudwatch.Metric:
        """Inference units the running model uses (``InServiceInferenceUnits``)."""
        ...

    def metric_desired_inference_units(self, **options: Any) -> cloudwatch.Metric:
        """Inference units Rekognition is scaling the model to (``DesiredInferenceUnits``)."""
        ...

    def metric_successful_request_count(self, **options: Any) -> cloudwatch.Metric:
        """Successful requests (``SuccessfulRequestCount``)."""
        ...

    def metric_throttled_count(self, **options: Any) -> cloudwatch.Metric:
        """Throttled requests (``ThrottledCount``)."""
        ...

    def metric_user_error_count(self, **options: Any) -> cloudwatch.Metric:
        """Requests failed with a 4xx error (``UserErrorCount``)."""
        ...

    def metric_server_error_count(self, **options: Any) -> cloudwatch.Metric:
        """Requests failed with a 5xx error (``ServerErrorCount``)."""
        ...


def arn_part(arn: str, index: int) -> str:
    """Part ``index`` of the ``/``-separated resource of a project (version) ARN: 1 is the project's name,
    3 the version's; split in the template when the ARN is a token."""
    if Token.is_unresolved(arn):
        return Fn.select(index, Fn.split("/", arn))
    return arn.split("/")[index]


class ProjectVersionBase(Resource):
    """What every :class:`IProjectVersion` does from its ARNs: grants and metrics. Subclasses set
    :attr:`project_version_arn` and :attr:`project_arn` (and may name the metric dimensions)."""

    project_version_arn: str
    """ARN of the model version."""
    project_arn: str
    """ARN of the project the version belongs to."""

    def __init__(self, scope: Construct, id: str, *, environment_from_arn: str | None = None) -> None:
        super().__init__(scope, id, environment_from_arn=environment_from_arn)

    def _metric_dimensions(self) -> dict[str, str]:
        """``ProjectName`` and ``VersionName`` of this version, from its ARN."""
        arn = self.project_version_arn
        return {"ProjectName": arn_part(arn, 1), "VersionName": arn_part(arn, 3)}

    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Allow ``grantee`` the Rekognition ``actions`` on this version only, in the grantee's identity
        policy. Rekognition has no resource policy for model versions (only project policies, for
        copying): a grantee of another account than the version's gets nothing from this."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(actions), resource_arns=[self.project_version_arn]
        )

    def grant_detect_custom_labels(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` (the application using the model) DetectCustomLabels on this version only."""
        return self.grant(grantee, *permissions.DETECT_ACTIONS)

    def metric(self, metric_name: str, **options: Any) -> cloudwatch.Metric:
        """The metric ``metric_name`` of this version: namespace ``AWS/Rekognition``, dimensions
        ``ProjectName`` and ``VersionName``. ``options`` are ``cloudwatch.Metric``'s (``statistic``,
        ``period``, ``label``, ``account``, ``region``, ...). Default statistic: ``Average``, period 5
        minutes (CloudWatch's defaults)."""
        options.setdefault("statistic", "Average")
        options.setdefault("period", Duration.minutes(5))
        return cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name=metric_name,
            dimensions_map=self._metric_dimensions(),
            **options,
        )

    def metric_in_service_inference_units(self, **options: Any) -> cloudwatch.Metric:
        """Inference units the running model uses (``InServiceInferenceUnits``, ``Average``)."""
        return self.metric("InServiceInferenceUnits", **{"statistic": "Average", **options})

    def metric_desired_inference_units(self, **options: Any) -> cloudwatch.Metric:
        """Inference units Rekognition is scaling the model to (``DesiredInferenceUnits``, ``Average``)."""
        return self.metric("DesiredInferenceUnits", **{"statistic": "Average", **options})

    def metric_successful_request_count(self, **options: Any) -> cloudwatch.Metric:
        """Successful requests (``SuccessfulRequestCount``, ``Sum``)."""
        return self.metric("SuccessfulRequestCount", **{"statistic": "Sum", **options})

    def metric_throttled_count(self, **options: Any) -> cloudwatch.Metric:
        """Throttled requests (``ThrottledCount``, ``Sum``)."""
        return self.metric("ThrottledCount", **{"statistic": "Sum", **options})

    def metric_user_error_count(self, **options: Any) -> cloudwatch.Metric:
        """Requests failed with a 4xx error (``UserErrorCount``, ``Sum``)."""
        return self.metric("UserErrorCount", **{"statistic": "Sum", **options})

    def metric_server_error_count(self, **options: Any) -> cloudwatch.Metric:
        """Requests failed with a 5xx error (``ServerErrorCount``, ``Sum``)."""
        return self.metric("ServerErrorCount", **{"statistic": "Sum", **options})


class _ImportedProjectVersion(ProjectVersionBase):
    def __init__(self, scope: Construct, id: str, *, project_arn: str, project_version_arn: str) -> None:
        super().__init__(scope, id, environment_from_arn=project_version_arn)
        self.project_arn = project_arn
        self.project_version_arn = project_version_arn


class ProjectVersion:
    """Model versions this app does not create (a trained model, say, in another account)."""

    @staticmethod
    def from_project_version_attributes(
        scope: Construct, id: str, *, project_arn: str, project_version_arn: str
    ) -> IProjectVersion:
        """Import the model version ``project_version_arn`` of the project ``project_arn``.

        Its ``env`` (account, Region) is the version ARN's. Use it as ``source=`` of a copy or a
        promotion, for grants and for metrics.

        :param project_arn: ARN of the project (``arn:<partition>:rekognition:<region>:<account>:project/
            <name>/<timestamp>``): the version ARN does not carry the project's creation timestamp.
        :param project_version_arn: ARN of the version (``...:project/<name>/version/<version>/<timestamp>``).
        :raises validation.ModelCopyValidationError: an ARN of the wrong shape, or a version of another
            project (partition, account, Region or project name). Tokens are not checked.
        """
        source_project = validation.parse_project_arn("project_arn", project_arn)
        source_version = validation.parse_project_version_arn("project_version_arn", project_version_arn)
        validation.check_source_matches_version(project_arn, source_project, source_version)
        return _ImportedProjectVersion(
            scope, id, project_arn=project_arn, project_version_arn=project_version_arn
        )
