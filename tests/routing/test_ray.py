"""The two Ray paths, kept small: one shared snapshot for many queries, one portfolio."""
import pytest

from routing import search, search_many
from routing.vrp import PORTFOLIO, portfolio_solve, violations
from tests.factories.routing import at, courier, flight, network, query, random_day

pytestmark = pytest.mark.ray


def test_search_many_on_ray_answers_like_the_local_search(ray_session):
    legs = [flight(f"f{h}", "apt:A", "apt:B", at(h), at(h + 3), per_kg=1000 + 100 * h) for h in range(0, 24, 2)]
    legs += [flight("bc", "apt:B", "apt:C", at(12), at(14))]
    net = network(["apt:A", "apt:B", "apt:C", "addr:c"], legs, [courier("last", "apt:C", "addr:c", 45, 900)])
    queries = [query("apt:A", dest, ready=at(h)) for h in range(0, 12) for dest in ("apt:B", "addr:c")]

    remote = search_many(queries, net, chunk_size=5)

    assert [r.itineraries for r in remote] == [search(q, net).itineraries for q in queries]
    assert all(r.found for r in remote[:8])


def test_portfolio_on_ray_keeps_the_best_feasible_run(ray_session):
    problem = random_day(8, 3, 2)
    result = portfolio_solve(problem, 0.3, PORTFOLIO[:2], use_ray=True)

    assert len(result.runs) == 2
    assert result.best.key == min(r.key for r in result.runs)
    assert violations(problem, result.best) == []
