"""bluegreen.routing: target groups, the pair, and the listeners' weights."""

from bluegreen import ListenerRoute, TargetGroup, TargetGroupPair
from bluegreen.routing import name_from_arn

BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123"
GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/4567"


def forward(*weights: tuple[str, int]) -> list[dict]:
    groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def test_a_listener_says_each_target_groups_share_of_its_traffic():
    route = ListenerRoute.from_api(
        {
            "ListenerArn": "arn:listener/prod",
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": forward((BLUE, 90), (GREEN, 10)),
        }
    )

    assert (route.percent(BLUE), route.percent(GREEN), route.percent("other")) == (90, 10, 0)
    assert route.serving() == (BLUE, GREEN)
    assert route.describe() == ":80 HTTP  web-blue 90% | web-green 10%"
    assert not route.is_network


def test_rules_that_forward_are_kept_and_the_default_rule_is_not():
    route = ListenerRoute.from_api(
        {"ListenerArn": "l", "Protocol": "TCP", "DefaultActions": forward((BLUE, 1))},
        rules=[
            {"RuleArn": "r1", "Priority": "1", "Actions": forward((GREEN, 1))},
            {"RuleArn": "r2", "Priority": "default", "IsDefault": True, "Actions": forward()},
        ],
    )

    assert [r.arn for r in route.rules] == ["r1"]
    assert route.is_network


def test_the_pair_names_the_other_member():
    pair = TargetGroupPair(
        first=TargetGroup(arn=BLUE, name="web-blue"),
        second=TargetGroup(arn=GREEN, name="web-green"),
    )

    assert pair.other(BLUE) == pair.second
    assert pair.other("elsewhere") is None
    assert pair.by_arn(GREEN) == pair.second
    assert pair.arns == (BLUE, GREEN)
    assert name_from_arn(GREEN) == "web-green"
