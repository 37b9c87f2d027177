"""What ``python tests/iam_record.py --write`` generates from a recording: the recording itself
(tests/iam_recorded.json), the table bluegreen reads (bluegreen/iam_actions.py) and the IAM
tables of README.md and hooks/README.md. Pure functions of the recording (plus the resource
rules in ``bluegreen.iam_resources``), so tests/test_iam.py checks the files without recording.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from iam_parts import (
    COMMAND,
    FEATURES,
    HOOK,
    HOOKS_README,
    PARTS,
    README,
    READONLY,
    RECORDED,
    RELEASE,
    SAFETY_NET,
    TABLE,
    Part,
)

from bluegreen.iam import ActionTable, build_policy
from bluegreen.iam_resources import ACTION_KINDS, DEPENDENT_ACTIONS, placeholders

Recording = Mapping[str, Sequence[str]]
"""Each part's key (``Part.key``) and its sorted actions."""

WHY = {
    "application-autoscaling:DescribeScalableTargets": "the service's scalable targets now",
    "application-autoscaling:RegisterScalableTarget": "put the recorded `SuspendedState` back",
    "cloudwatch:DeleteAlarms": "delete the analysis's alarm nets whose deployment ended",
    "cloudwatch:DescribeAlarms": "find the service's alarm nets (`bluegreen-net-*`)",
    "cloudwatch:ListTagsForResource": "read which deployment an alarm net watches",
    "codedeploy:GetDeployment": "the deployment's group (the safety net: its status and rollback)",
    "codedeploy:GetDeploymentGroup": "the group's listeners, or its ECS service",
    "codedeploy:ListDeployments": "whether the record's deployment is still in flight",
    "codedeploy:PutLifecycleEventHookExecutionStatus": "report the hook's result",
    "ecs:DescribeServices": "the service's ARN and tags (the scaling record); a native service's "
    "listener rules",
    "ecs:DescribeServiceDeployments": "the native deployment's step and weights",
    "ecs:DescribeServiceRevisions": "green's target group",
    "ecs:ListServiceDeployments": "the deployment of an event without resourceArn",
    "cloudwatch:GetMetricData": "the step's target-group metrics",
    "elasticloadbalancing:DescribeRules": "a native service's listener rule (headers, weights)",
    "ecs:ListTagsForResource": "read the scaling record",
    "ecs:TagResource": "rewrite the scaling record",
    "ecs:UntagResource": "remove the scaling record once restored",
    "ecs:UpdateService": "none is made: Application Auto Scaling checks the caller may update "
    "the service before `RegisterScalableTarget`",
    "elasticloadbalancing:DescribeListeners": "the listener's port and protocol",
    "elasticloadbalancing:DescribeLoadBalancers": "the load balancer's DNS name",
}
"""Why a hook needs an action, for hooks/README.md (an action missing here gets no reason)."""


class MissingRuleError(Exception):
    """A recorded action has no resource rule in ``bluegreen.iam_resources.ACTION_KINDS``."""


# -- the data ----------------------------------------------------------------------------------


def load() -> dict[str, list[str]]:
    """The recording in tests/iam_recorded.json."""
    document = json.loads(RECORDED.read_text())
    return {key: list(part["actions"]) for key, part in document["parts"].items()}


def recording_text(recorded: Recording) -> str:
    parts = {p.key: {"features": list(p.features), "actions": list(recorded[p.key])} for p in PARTS}
    document = {"generated_by": COMMAND, "parts": parts}
    return json.dumps(document, indent=2) + "\n"


def feature_actions(recorded: Recording) -> dict[str, tuple[str, ...]]:
    """Each feature's actions: the union of its parts'."""
    found: dict[str, set[str]] = {feature: set() for feature in FEATURES}
    for part in PARTS:
        for feature in part.features:
            found[feature].update(recorded[part.key])
    return {feature: tuple(sorted(found[feature])) for feature in sorted(found)}


def action_table(recorded: Recording) -> ActionTable:
    """The features' actions and, for each (and each one they depend on), its resource kinds.

    Raises:
        MissingRuleError: an action has no rule in ``ACTION_KINDS``.
    """
    features = feature_actions(recorded)
    actions = {a for called in features.values() for a in called}
    actions |= {d for a in actions for d in DEPENDENT_ACTIONS.get(a, {})}
    missing = sorted(actions - set(ACTION_KINDS))
    if missing:
        raise MissingRuleError(
            f"no resource rule for {', '.join(missing)}: add each to ACTION_KINDS in "
            "bluegreen/iam_resources.py (where the Service Authorization Reference lets it be "
            "granted: its 'Resource types' column; empty means ANY), then run " + COMMAND
        )
    resources = {a: tuple(ACTION_KINDS[a]) for a in sorted(actions)}
    return ActionTable(features=features, resources=resources)


def uncovered(targets: Mapping[str, Iterable[str]]) -> list[str]:
    """A sentence for each resource kind a call named that its action's rule does not grant."""
    return [
        f"{action} was called on a {kind}, which ACTION_KINDS in bluegreen/iam_resources.py "
        f"does not grant it on: add {kind!r} to its kinds, then run {COMMAND}"
        for action, kinds in sorted(targets.items())
        for kind in sorted(kinds)
        if kind not in ACTION_KINDS.get(action, (kind,))
    ]


# -- bluegreen/iam_actions.py ------------------------------------------------------------------


def table_text(recorded: Recording) -> str:
    table = action_table(recorded)
    lines = [
        '"""The IAM actions bluegreen calls, recorded on the simulator: do not edit, run',
        f"``{COMMAND}``.",
        "",
        "``FEATURES``: the IAM actions of the calls each feature makes, failure routes included",
        "(tests/iam_recorded.json has them per command, hook and route). ``RESOURCES``: the",
        "resource kinds each of those actions, and each action they depend on, is granted on",
        "(the rules of ``bluegreen.iam_resources``).",
        '"""',
        "",
        "FEATURES: dict[str, tuple[str, ...]] = {",
    ]
    for feature, actions in table.features.items():
        lines.append(f'    "{feature}": (')
        lines += [f'        "{action}",' for action in actions]
        lines.append("    ),")
    lines += ["}", "", "RESOURCES: dict[str, tuple[str, ...]] = {"]
    for action, kinds in table.resources.items():
        quoted = ", ".join(json.dumps(kind) for kind in kinds) + ("," if len(kinds) == 1 else "")
        lines.append(f'    "{action}": ({quoted}),')
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- the markdown tables -----------------------------------------------------------------------


def _compact(actions: Iterable[str]) -> str:
    """``ecs: DescribeServices, ListTagsForResource; codedeploy: GetDeployment``."""
    by_prefix: dict[str, list[str]] = {}
    for action in sorted(actions):
        prefix, _, name = action.partition(":")
        by_prefix.setdefault(prefix, []).append(name)
    return "; ".join(f"`{p}`: {', '.join(names)}" for p, names in by_prefix.items()) or "none"


def _rows(recorded: Recording, features: Sequence[str]) -> list[str]:
    """One row per part name: its actions, then what each of its routes calls besides."""
    rows = []
    seen: dict[str, Part] = {}
    for part in PARTS:
        if part.when is None and not part.handler and set(part.features) & set(features):
            seen[part.name] = part
    for name, base in seen.items():
        more = []
        for part in PARTS:
            if part.name == name and part.when is not None:
                extra = set(recorded[part.key]) - set(recorded[base.key])
                more.append(f"{part.when}: {_compact(extra) if extra else 'nothing more'}")
        rows.append(
            f"| `{name}` | {', '.join(base.features)} | {_compact(recorded[base.key])} "
            f"| {'<br>'.join(more)} |"
        )
    return rows


def readme_block(recorded: Recording) -> str:
    table = action_table(recorded)
    called = set(table.features[RELEASE])
    needed = sorted({d for a in called for d in DEPENDENT_ACTIONS.get(a, {})} - called)
    lines = [
        "| command | feature | IAM actions its calls need | and on these routes |",
        "|---|---|---|---|",
        *_rows(recorded, (RELEASE, READONLY, HOOK)),
        "",
        f"Besides the calls, `release` needs {', '.join(f'`{a}`' for a in needed)}: see "
        "[docs/iam.md](docs/iam.md).",
    ]
    return "\n".join(lines)


def hooks_table(recorded: Recording) -> str:
    columns = [
        ("`analysis_gate`", "analysis_gate"),
        ("`verify_test_listener`", "verify_test_listener"),
        ("`verify_production`", "verify_production"),
        ("`restore_scaling.hook_handler`", "restore_scaling.hook_handler"),
        ("`restore_scaling.handler` (EventBridge)", "restore_scaling.handler"),
    ]
    calls = {
        key: {a for p in PARTS if p.name == key for a in recorded[p.key]} for _, key in columns
    }
    actions = sorted(set().union(*calls.values()))
    lines = [
        f"| action | {' | '.join(title for title, _ in columns)} | why |",
        f"|---|{'---|' * len(columns)}---|",
    ]
    for action in actions:
        marks = " | ".join("yes" if action in calls[key] else "" for _, key in columns)
        lines.append(f"| `{action}` | {marks} | {WHY.get(action, '')} |")
    return "\n".join(lines)


def policy_block(recorded: Recording, feature: str) -> str:
    policy = build_policy(feature, placeholders(), table=action_table(recorded))
    return f"```json\n{policy.to_json()}\n```"


def _replace(text: str, name: str, block: str, path: Path) -> str:
    start = f"<!-- {name}: generated by {COMMAND}, do not edit -->"
    end = f"<!-- end of {name} -->"
    pattern = re.compile(re.escape(start) + r"\n.*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise AssertionError(f"{path.name} lacks the markers {start!r} ... {end!r}")
    return pattern.sub(lambda _: f"{start}\n{block}\n{end}", text, count=1)


def generated(recorded: Recording) -> dict[Path, str]:
    """The new text of every generated file."""
    readme = _replace(README.read_text(), "iam-table", readme_block(recorded), README)
    hooks = HOOKS_README.read_text()
    hooks = _replace(hooks, "iam-hooks-table", hooks_table(recorded), HOOKS_README)
    hooks = _replace(hooks, "iam-hook-policy", policy_block(recorded, HOOK), HOOKS_README)
    hooks = _replace(
        hooks, "iam-safety-net-policy", policy_block(recorded, SAFETY_NET), HOOKS_README
    )
    return {
        RECORDED: recording_text(recorded),
        TABLE: table_text(recorded),
        README: readme,
        HOOKS_README: hooks,
    }


def stale(recorded: Recording) -> list[Path]:
    """The generated files whose text differs from what ``recorded`` generates."""
    return [path for path, text in generated(recorded).items() if path.read_text() != text]
