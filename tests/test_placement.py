"""bluegreen.placement: the awsvpc network and the capacity-provider strategy."""

from bluegreen.placement import AwsVpcConfiguration, CapacityProviderStrategyItem, strategy_problems


def test_the_network_is_read_from_ecs_and_rendered_with_appspec_spelling():
    network = AwsVpcConfiguration.from_ecs(
        {"subnets": ["subnet-1"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}
    )

    assert network.to_appspec() == {
        "Subnets": ["subnet-1"],
        "SecurityGroups": ["sg-1"],
        "AssignPublicIp": "ENABLED",
    }
    assert network.problems() == []


def test_a_network_without_subnets_or_with_a_bad_public_ip_setting_says_both():
    problems = AwsVpcConfiguration(subnets=(), security_groups=("",), assign_public_ip="YES")

    assert len(problems.problems()) == 3


def test_a_strategy_needs_a_weight_one_base_and_distinct_providers():
    item = CapacityProviderStrategyItem.from_ecs({"capacityProvider": "FARGATE", "base": 1})
    spot = CapacityProviderStrategyItem(capacity_provider="FARGATE_SPOT", base=1, weight=0)

    problems = "\n".join(strategy_problems([item, spot, item]))

    assert "more than once" in problems
    assert "only one capacity provider may set a Base" in problems
    assert "at least one provider needs Weight > 0" in problems
    assert strategy_problems([]) == [
        "CapacityProviderStrategy is empty: omit it or list a provider"
    ]
    assert strategy_problems([CapacityProviderStrategyItem(capacity_provider="A", weight=1)]) == []
