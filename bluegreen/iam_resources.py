"""Where each IAM action bluegreen needs may be granted: the resource-scoping rules.

Which actions a feature needs is recorded from its calls (``bluegreen/iam_actions.py``,
generated); where each may be granted is AWS's decision, written down here from the Service
Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/,
the pages for ECS, CodeDeploy, Elastic Load Balancing V2, Application Auto Scaling,
CloudWatch, Lambda, IAM and STS). An action whose "Resource types" column is empty takes only
``"*"``; the others take the ARN of the resource kind named below. docs/iam.md lists the
rules with their sources.

``ResourceArns`` holds the ARNs of one service's resources (read by ``bluegreen.iam``) or
placeholders in capitals (``REGION``, ``ACCOUNT``, ``CLUSTER``...) that match nothing until
replaced, so a policy pasted unedited grants nothing it should not.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = [
    "ACTION_KINDS",
    "ANY",
    "ARGUMENT_ACTIONS",
    "DEPENDENT_ACTIONS",
    "KINDS",
    "PASSED_TO_SERVICE",
    "RELEASE_ROLE_PLACEHOLDER",
    "Kind",
    "ResourceArns",
    "placeholders",
]

ANY = "*"
"""The kind of an action that supports no resource-level permission."""


@attrs.frozen
class Kind:
    """A kind of resource an action is granted on: its statement id and, for a wildcard, why."""

    sid: str
    why: str | None = None


KINDS: Mapping[str, Kind] = {
    "service": Kind("EcsService"),
    "service-deployment": Kind(
        "EcsServiceDeployments",
        "ECS gives each deployment of an ECS-native service an id of its own, known only once "
        "the deployment exists: every deployment of the service "
        "(service-deployment/CLUSTER/SERVICE/*)",
    ),
    "service-revision": Kind(
        "EcsServiceRevisions",
        "ECS gives each revision of an ECS-native service an id of its own, known only once "
        "the revision exists: every revision of the service (service-revision/CLUSTER/SERVICE/*)",
    ),
    "task-definition": Kind("TaskDefinitionFamily"),
    "deployment-group": Kind("DeploymentGroup"),
    "application": Kind("CodeDeployApplication"),
    "any-application": Kind(
        "FindDeploymentGroup",
        "finding a service's deployment group by a scan reads every application's groups; "
        "tag the service bluegreen:deployment-group (deploy does it after a scan) or give "
        "--application/--deployment-group and this statement can go",
    ),
    "deployment-config": Kind(
        "DeploymentConfigs",
        "a deployment may use any config of the account (--config, --canary, --linear, "
        "CodeDeployDefault.*), and a custom one is created under its own name",
    ),
    "alarm": Kind("GroupAlarms"),
    "net-alarm": Kind("AnalysisAlarmNets"),
    "scalable-target": Kind("ScalableTarget"),
    "hook-function": Kind("HookFunctions"),
    "task-role": Kind("PassTaskRoles"),
    "release-role": Kind("AssumeReleaseRoles"),
    "listener": Kind("GroupListeners"),
    "listener-rule": Kind(
        "GroupListenerRules",
        "the rules `bluegreen migrate apply` creates get their ids only once created: every "
        "rule of the group's listeners (listener-rule/.../LISTENER_ID/*); revert deletes only "
        "those tagged bluegreen:migration with the service's ARN",
    ),
    "infrastructure-role": Kind("InfrastructureRole"),
    "pass-infrastructure-role": Kind(
        "PassInfrastructureRole",
        "UpdateService passes the infrastructure role (advancedConfiguration.roleArn) and the "
        "hook role (lifecycleHooks roleArn) to ECS (granted only for ecs.amazonaws.com)",
    ),
    ANY: Kind(
        "NoResourceLevelPermissions",
        "these actions support no resource-level permission (their 'Resource types' column "
        'in the Service Authorization Reference is empty), so they take only "*"',
    ),
}
"""Every resource kind, in the order statements are written."""

ACTION_KINDS: Mapping[str, tuple[str, ...]] = {
    # Amazon ECS (ECS-native deployments: resource types service-deployment*, service-revision*
    # and, for ListServiceDeployments, service*)
    "ecs:ContinueServiceDeployment": ("service-deployment",),
    "ecs:DeregisterTaskDefinition": (ANY,),
    "ecs:DescribeServiceDeployments": ("service-deployment",),
    "ecs:DescribeServiceRevisions": ("service-revision",),
    "ecs:DescribeServices": ("service",),
    "ecs:DescribeTaskDefinition": (ANY,),
    "ecs:DescribeTaskSets": ("service",),
    "ecs:ListServiceDeployments": ("service",),
    "ecs:ListTagsForResource": ("service",),
    "ecs:ListTaskDefinitionFamilies": (ANY,),
    "ecs:ListTaskDefinitions": (ANY,),
    "ecs:RegisterTaskDefinition": ("task-definition",),  # task-definition* since 2025
    "ecs:StopServiceDeployment": ("service-deployment",),
    "ecs:TagResource": ("service", "task-definition"),
    "ecs:UntagResource": ("service",),
    "ecs:UpdateService": ("service",),
    # AWS CodeDeploy
    "codedeploy:BatchGetApplications": ("any-application",),
    "codedeploy:BatchGetDeploymentGroups": ("any-application",),
    "codedeploy:BatchGetDeploymentTargets": (ANY,),
    "codedeploy:BatchGetDeployments": ("deployment-group",),
    "codedeploy:ContinueDeployment": (ANY,),
    "codedeploy:CreateDeployment": ("deployment-group",),
    "codedeploy:CreateDeploymentConfig": ("deployment-config",),
    "codedeploy:GetApplication": ("application",),
    "codedeploy:GetApplicationRevision": ("application",),
    "codedeploy:GetDeployment": ("deployment-group",),
    "codedeploy:GetDeploymentConfig": ("deployment-config",),
    "codedeploy:GetDeploymentGroup": ("deployment-group",),
    "codedeploy:GetDeploymentTarget": (ANY,),
    "codedeploy:ListApplicationRevisions": ("application",),
    "codedeploy:ListApplications": (ANY,),
    "codedeploy:ListDeploymentConfigs": (ANY,),
    "codedeploy:ListDeploymentGroups": ("any-application",),
    "codedeploy:ListDeploymentTargets": (ANY,),
    "codedeploy:ListDeployments": ("deployment-group",),
    "codedeploy:ListTagsForResource": ("deployment-group", "application"),
    "codedeploy:PutLifecycleEventHookExecutionStatus": (ANY,),
    "codedeploy:RegisterApplicationRevision": ("application",),
    "codedeploy:SkipWaitTimeForInstanceTermination": (ANY,),
    "codedeploy:StopDeployment": (ANY,),
    "codedeploy:TagResource": ("deployment-group", "application"),
    "codedeploy:UntagResource": ("deployment-group", "application"),
    "codedeploy:UpdateDeploymentGroup": ("deployment-group",),
    # Elastic Load Balancing V2: every Describe* takes only "*"
    "elasticloadbalancing:AddTags": ("listener-rule",),  # tags on create (CreateRule Tags)
    "elasticloadbalancing:CreateRule": ("listener",),
    "elasticloadbalancing:DeleteRule": ("listener-rule",),
    "elasticloadbalancing:DescribeListeners": (ANY,),
    "elasticloadbalancing:DescribeLoadBalancers": (ANY,),
    "elasticloadbalancing:DescribeRules": (ANY,),
    "elasticloadbalancing:DescribeTags": (ANY,),
    "elasticloadbalancing:DescribeTargetGroups": (ANY,),
    "elasticloadbalancing:DescribeTargetHealth": (ANY,),
    "elasticloadbalancing:ModifyListener": ("listener",),
    # Application Auto Scaling
    "application-autoscaling:DescribeScalableTargets": (ANY,),
    "application-autoscaling:DescribeScalingActivities": (ANY,),
    "application-autoscaling:DescribeScalingPolicies": (ANY,),
    "application-autoscaling:DescribeScheduledActions": (ANY,),
    "application-autoscaling:ListTagsForResource": ("scalable-target",),
    "application-autoscaling:RegisterScalableTarget": ("scalable-target",),
    "application-autoscaling:TagResource": ("scalable-target",),
    "application-autoscaling:UntagResource": ("scalable-target",),
    # CloudWatch, Lambda, IAM
    "cloudwatch:DeleteAlarms": ("net-alarm",),
    "cloudwatch:DescribeAlarms": ("alarm", "net-alarm"),
    "cloudwatch:GetMetricData": (ANY,),
    "cloudwatch:ListTagsForResource": ("net-alarm",),
    "cloudwatch:PutMetricAlarm": ("net-alarm",),
    "cloudwatch:TagResource": ("net-alarm",),
    "lambda:GetFunction": ("hook-function",),
    "lambda:GetFunctionConfiguration": ("hook-function",),
    "iam:PassRole": ("task-role", "pass-infrastructure-role"),
    # IAM: the infrastructure role `bluegreen migrate` reads, creates and deletes (role*)
    "iam:CreateRole": ("infrastructure-role",),
    "iam:DeleteRole": ("infrastructure-role",),
    "iam:DeleteRolePolicy": ("infrastructure-role",),
    "iam:GetRole": ("infrastructure-role",),
    "iam:ListRolePolicies": ("infrastructure-role",),
    "iam:ListRoleTags": ("infrastructure-role",),
    "iam:PutRolePolicy": ("infrastructure-role",),
    "iam:TagRole": ("infrastructure-role",),
    # AWS Security Token Service: resource type role* (arn:...:iam::ACCOUNT:role/NAME)
    "sts:AssumeRole": ("release-role",),
}
"""The resource kinds each action is granted on (``ANY``: only ``"*"``). The kinds a tagging
call really names are recorded too, and the generator refuses a kind missing here."""

DEPENDENT_ACTIONS: Mapping[str, Mapping[str, str]] = {
    "codedeploy:CreateDeployment": {
        "codedeploy:RegisterApplicationRevision": "CreateDeployment registers the deployment's "
        "revision (its AppSpec) with the application, and CodeDeploy refuses a caller without "
        "this action on the application",
    },
    "ecs:RegisterTaskDefinition": {
        "iam:PassRole": "registering a task definition that names a task role or an "
        "execution role passes them to ECS tasks (granted only for ecs-tasks.amazonaws.com)",
        "ecs:TagResource": "registering a task definition with tags (bluegreen keeps the "
        "current revision's) needs it on the new revision (ECS authorizes tags on create)",
    },
    "application-autoscaling:RegisterScalableTarget": {
        "ecs:UpdateService": "Application Auto Scaling checks that the caller may update the "
        "ECS service before it registers (or suspends) its scalable target (permissions "
        "validation; the ECS guide's 'IAM permissions required for service auto scaling')",
    },
    "cloudwatch:PutMetricAlarm": {
        "cloudwatch:TagResource": "PutMetricAlarm with Tags (the alarm net's cluster, service "
        "and release) needs it on the alarm",
    },
}
"""Actions no call makes but that a call needs the caller to hold: ``{called: {needed: why}}``."""

ARGUMENT_ACTIONS: Mapping[str, Mapping[str, str]] = {
    "codedeploy:CreateDeployment": {
        "overrideAlarmConfiguration": "codedeploy:UpdateDeploymentGroup",
    },
    "elasticloadbalancing:CreateRule": {"Tags": "elasticloadbalancing:AddTags"},
    "iam:CreateRole": {"Tags": "iam:TagRole"},
    "ecs:UpdateService": {
        "loadBalancers": "iam:PassRole",
        "deploymentConfiguration": "iam:PassRole",
    },
}
"""Actions a call needs only when it passes an argument: ``{called: {argument: needed}}``,
recorded with the call (AWS: "If you specify an overrideAlarmConfiguration, you need the
UpdateDeploymentGroup IAM permission when calling CreateDeployment"; a create with ``Tags``
needs the tagging action on what it creates (ELB's and IAM's tag-on-create); UpdateService
with ``loadBalancers`` passes their ``advancedConfiguration.roleArn``, as `bluegreen migrate`
sends it, to ECS; with ``deploymentConfiguration``, its lifecycle hooks' ``roleArn``, as an
ECS-native deploy with ``--hook``/``--hook-role`` or a new strategy sends it)."""

PASSED_TO_SERVICE = "ecs-tasks.amazonaws.com"
"""The service ``iam:PassRole`` on task roles is granted for (``iam:PassedToService``)."""

PASSED_TO_ECS = "ecs.amazonaws.com"
"""The service ``iam:PassRole`` on an infrastructure or hook role is granted for."""

SCALABLE_DIMENSION = "ecs:service:DesiredCount"

RELEASE_ROLE_PLACEHOLDER = "arn:aws:iam::ROLE_ACCOUNT:role/RELEASE_ROLE"
"""What ``sts:AssumeRole`` is granted on unless the roles are named: a placeholder that
matches no role, so a release assumes none until you name yours (``roles=``, ``--role``)."""


@attrs.frozen(kw_only=True)
class ResourceArns:
    """The ARNs a policy scopes its statements to, per resource kind's inputs.

    Build it with ``placeholders()`` or from a discovered service (``bluegreen.iam``).
    """

    partition: str
    region: str
    account: str
    service_arns: tuple[str, ...]
    families: tuple[str, ...]
    deployment_groups: tuple[tuple[str, str], ...]
    """(application, group) pairs."""
    alarms: tuple[str, ...]
    scalable_targets: tuple[str, ...] | None
    """Scalable target ARNs; None: not known, any ECS service's target (with conditions)."""
    hook_functions: tuple[str, ...]
    task_roles: tuple[str, ...]
    release_roles: tuple[str, ...] = (RELEASE_ROLE_PLACEHOLDER,)
    """The roles a release assumes for its services' accounts (a manifest's ``role:``)."""
    listeners: tuple[str, ...] = ()
    """The deployment group's (or ECS-native service's) production and test listeners, which
    `bluegreen migrate` adds rules to and points at the live target group."""
    infrastructure_roles: tuple[str, ...] = ()
    """The roles `bluegreen migrate` reads, creates, passes to ECS and deletes (ARNs)."""
    service_kind: str | None = None
    """``"codedeploy"`` or ``"ecs"`` (ECS-native) when the service was read, else None (either).
    A CodeDeploy service has no service deployments or revisions to grant anything on; an
    ECS-native one no deployment group to scan for and no CodeDeploy deployment config."""

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"

    def arns(self, kind: str) -> tuple[str, ...]:
        """The Resource list of a statement of ``kind``; empty: there is none to grant."""
        codedeploy = "codedeploy"
        if kind == ANY:
            return ("*",)
        if kind == "service":
            return self.service_arns
        if kind in _CODEDEPLOY_ONLY and self.service_kind == "ecs":
            return ()
        if kind in ("service-deployment", "service-revision"):
            if self.service_kind == "codedeploy":
                return ()
            return tuple(_under_service(arn, kind) for arn in self.service_arns)
        if kind == "task-definition":
            return tuple(self._arn("ecs", f"task-definition/{f}:*") for f in self.families)
        if kind == "deployment-group":
            return tuple(
                self._arn(codedeploy, f"deploymentgroup:{a}/{g}") for a, g in self.deployment_groups
            )
        if kind == "application":
            names = dict.fromkeys(a for a, _ in self.deployment_groups)
            return tuple(self._arn(codedeploy, f"application:{a}") for a in names)
        if kind == "any-application":
            return (
                self._arn(codedeploy, "application:*"),
                self._arn(codedeploy, "deploymentgroup:*"),
            )
        if kind == "deployment-config":
            return (self._arn(codedeploy, "deploymentconfig:*"),)
        if kind == "alarm":
            return tuple(self._arn("cloudwatch", f"alarm:{name}") for name in self.alarms)
        if kind == "net-alarm":
            return tuple(
                self._arn("cloudwatch", f"alarm:{_net_pattern(arn)}") for arn in self.service_arns
            )
        if kind == "scalable-target":
            if self.scalable_targets is None:
                return (self._arn("application-autoscaling", "scalable-target/*"),)
            return self.scalable_targets
        if kind == "hook-function":
            return tuple(
                name if name.startswith("arn:") else self._arn("lambda", f"function:{name}")
                for name in self.hook_functions
            )
        if kind == "task-role":
            return self.task_roles
        if kind == "release-role":
            return self.release_roles
        if kind == "listener":
            return self.listeners
        if kind == "listener-rule":
            return tuple(_rules_of(arn) for arn in self.listeners)
        if kind in ("infrastructure-role", "pass-infrastructure-role"):
            return self.infrastructure_roles
        raise KeyError(kind)

    def absent(self, kind: str) -> str:
        """Why a statement of ``kind`` names no resource (``arns(kind)`` is empty)."""
        if self.service_kind == "ecs" and kind in _CODEDEPLOY_ONLY | {
            "deployment-group",
            "application",
        }:
            return "an ECS-native service has no CodeDeploy deployment group"
        if self.service_kind == "codedeploy" and kind in ("service-deployment", "service-revision"):
            return "a CodeDeploy service has no ECS service deployments or revisions"
        if kind in ("listener", "listener-rule"):
            return "the service's deployment group names no listener"
        return f"the service has no {kind} to use"

    def condition(self, kind: str) -> dict[str, dict[str, str]] | None:
        """The statement's Condition for ``kind``, when its ARNs alone are too wide."""
        if kind == "task-role":
            return {"StringEquals": {"iam:PassedToService": PASSED_TO_SERVICE}}
        if kind == "pass-infrastructure-role":
            return {"StringEquals": {"iam:PassedToService": PASSED_TO_ECS}}
        if kind == "scalable-target" and self.scalable_targets is None:
            return {
                "StringEquals": {
                    "application-autoscaling:service-namespace": "ecs",
                    "application-autoscaling:scalable-dimension": SCALABLE_DIMENSION,
                }
            }
        return None


_CODEDEPLOY_ONLY = frozenset({"any-application", "deployment-config"})
"""The kinds only a CodeDeploy service's deployments use (its group's and application's
kinds are empty without a group already)."""


def _under_service(service_arn: str, kind: str) -> str:
    """Every ``kind`` (``service-deployment``, ``service-revision``) of a service:
    ``arn:...:<kind>/<cluster>/<service>/*``; of any cluster when the ARN is of the old format
    (``service/<service>``, no cluster)."""
    head, _, resource = service_arn.partition(":service/")
    names = resource.split("/")
    cluster, service = names if len(names) == 2 else ("*", names[-1])
    return f"{head}:{kind}/{cluster}/{service}/*"


def _rules_of(listener_arn: str) -> str:
    """Every rule of a listener: ``...:listener-rule/app/<lb>/<lb-id>/<listener-id>/*``."""
    head, _, resource = listener_arn.partition(":listener/")
    return f"{head}:listener-rule/{resource}/*"


def _net_pattern(service_arn: str) -> str:
    """The names of a service's alarm nets (``bluegreen.analysis_alarm``): ``bluegreen-net-
    <cluster>-<service>-*``; any service's when the ARN does not name one."""
    from bluegreen.analysis_alarm import NET_PREFIX, net_prefix

    resource = service_arn.split(":", 5)[-1].split("/")
    if len(resource) != 3:
        return f"{NET_PREFIX}*"
    return net_prefix(resource[1], resource[2]) + "*"


HOOK_FUNCTION_PATTERN = "CodeDeployHook_*"
"""The hook functions ``lambda:GetFunction`` is granted on unless named: the names CodeDeploy's
managed role AWSCodeDeployRoleForECSLimited lets CodeDeploy invoke."""


def placeholders(
    *, hook_functions: tuple[str, ...] = (), release_roles: tuple[str, ...] = ()
) -> ResourceArns:
    """ARNs with a capitalised placeholder for everything a service would tell (the release
    roles: ``RELEASE_ROLE_PLACEHOLDER`` unless named)."""
    return ResourceArns(
        partition="aws",
        region="REGION",
        account="ACCOUNT",
        service_arns=("arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE",),
        families=("FAMILY",),
        deployment_groups=(("APPLICATION", "DEPLOYMENT_GROUP"),),
        alarms=("ALARM",),
        scalable_targets=None,
        hook_functions=hook_functions or (HOOK_FUNCTION_PATTERN,),
        task_roles=(
            "arn:aws:iam::ACCOUNT:role/TASK_ROLE",
            "arn:aws:iam::ACCOUNT:role/EXECUTION_ROLE",
        ),
        release_roles=release_roles or (RELEASE_ROLE_PLACEHOLDER,),
    )
