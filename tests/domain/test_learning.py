"""Recency weighting and confidence, pinned with hand-computed numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.domain import Execution, compute_profile, recency_weight

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def ex(days_ago: float, success: bool, duration: float = 10.0, cost: int = 0) -> Execution:
    return Execution("agent_1", "feature", NOW - timedelta(days=days_ago), success, duration, cost)


def test_recent_executions_weigh_three_times_with_decay() -> None:
    assert recency_weight(0) == pytest.approx(3.0)
    assert recency_weight(7) == pytest.approx(3 * math.exp(-1))  # 1.103638…
    assert recency_weight(7.001) == pytest.approx(math.exp(-7.001 / 7))
    assert recency_weight(14) == pytest.approx(math.exp(-2))  # 0.135335…


def test_success_rate_is_recency_weighted() -> None:
    # success today (w=3), failure 14 days ago (w=e^-2=0.135335):
    # rate = 3 / (3 + 0.135335) = 0.956836
    p = compute_profile("ws", "agent_1", "feature", [ex(0, True), ex(14, False)], NOW)
    assert p.success_rate == pytest.approx(0.956836, abs=1e-6)
    # the reverse: an old success does not outweigh a fresh failure
    q = compute_profile("ws", "agent_1", "feature", [ex(0, False), ex(14, True)], NOW)
    assert q.success_rate == pytest.approx(0.043164, abs=1e-6)


def test_three_day_old_failure_against_two_recent_successes() -> None:
    # successes at 1 and 2 days: 3e^(-1/7)=2.600634, 3e^(-2/7)=2.254432
    # failure at 3 days: 3e^(-3/7)=1.954317 -> 4.855066 / 6.809383 = 0.712996
    p = compute_profile("ws", "agent_1", "feature", [ex(1, True), ex(2, True), ex(3, False)], NOW)
    assert p.success_rate == pytest.approx(0.712996, abs=1e-6)


def test_confidence_grows_to_one_at_twenty_executions() -> None:
    assert compute_profile("ws", "a", "t", [], NOW).confidence == 0.0
    assert compute_profile("ws", "a", "t", [ex(0, True)] * 5, NOW).confidence == 0.25
    assert compute_profile("ws", "a", "t", [ex(0, True)] * 20, NOW).confidence == 1.0
    assert compute_profile("ws", "a", "t", [ex(0, True)] * 45, NOW).confidence == 1.0


def test_averages_and_empty_profile() -> None:
    p = compute_profile("ws", "a", "t", [ex(0, True, 10, 100), ex(1, False, 30, 300)], NOW)
    assert (p.executions, p.avg_duration_s, p.avg_cost_microusd) == (2, 20.0, 200.0)
    empty = compute_profile("ws", "a", "t", [], NOW)
    assert (empty.executions, empty.success_rate, empty.expertise) == (0, 0.5, 0.0)
