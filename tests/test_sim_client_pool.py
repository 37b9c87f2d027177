"""The simulator's clients are shared by every simulator in the process, and a shared client
behaves as a new one: a handler registered on one never reaches the next test's clients."""

from bluegreen.testing import Simulator


def _calls_seen_by(clients, event: str) -> list[str]:
    seen: list[str] = []
    clients.ecs.meta.events.register(event, lambda **kw: seen.append(event))
    return seen


def test_simulators_share_clients_and_each_reaches_the_running_one() -> None:
    with Simulator() as first:
        ecs = first.clients().ecs
        ecs.create_cluster(clusterName="first")
    with Simulator() as second:
        assert second.clients().ecs is ecs
        assert [c["clusterName"] for c in _describe(ecs)] == []  # the running one's account
        ecs.create_cluster(clusterName="second")
        assert [c["clusterName"] for c in _describe(ecs)] == ["second"]


def _describe(ecs) -> list[dict]:
    return ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]


def test_a_client_with_a_handler_leaves_the_pool_and_the_next_one_has_none() -> None:
    with Simulator() as sim:
        changed = sim.clients()
        seen = _calls_seen_by(changed, "before-call.ecs.ListClusters")
        changed.ecs.list_clusters()
        assert seen == ["before-call.ecs.ListClusters"]

        fresh = sim.clients().ecs
        assert fresh is not changed.ecs
        fresh.list_clusters()
        assert seen == ["before-call.ecs.ListClusters"]  # the handler stayed on its client


def test_a_handler_on_the_shared_session_reaches_clients_made_after_it_until_removed() -> None:
    with Simulator() as sim:
        before = sim.clients().ecs
        events = sim.clients().session.events
        seen: list[str] = []

        def handler(**kwargs) -> None:
            seen.append("called")

        events.register("before-call.ecs.ListClusters", handler)
        try:
            after = sim.clients().ecs
            assert after is not before
            after.list_clusters()
            assert seen == ["called"]
        finally:
            events.unregister("before-call.ecs.ListClusters", handler)
        sim.clients().ecs.list_clusters()
        assert seen == ["called"]  # gone from the clients made after its removal
