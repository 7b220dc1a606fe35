"""The benchmark suite's runner and report: a contestant's result is read
from its own process, repeats are interleaved and reduced to medians, and
the report's ratios read one way ("× ahead": above 1 Swarmyard leads)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import report  # noqa: E402
import run  # noqa: E402
from scenarios import SCENARIOS, Contestant, Figure, Scenario  # noqa: E402

S4 = next(s for s in SCENARIOS if s.key == "S4")
S5 = next(s for s in SCENARIOS if s.key == "S5")


def test_a_contestant_reports_from_a_fresh_process() -> None:
    result = run.run_one(S4, S4.contestants[0], {"rounds": 1, "seconds": 0.01})
    metrics = result["metrics"]
    # Every figure the scenario compares came back as a measured number.
    for fig in S4.figures:
        assert isinstance(metrics[fig.metric], float)
        assert metrics[fig.metric] > 0
    assert result["versions"]["swarmyard"]
    assert result["process_s"] > 0


@pytest.mark.parametrize("contestant", S5.contestants, ids=lambda c: c.script)
def test_every_fan_out_subscriber_gets_every_event(contestant: Contestant) -> None:
    params = {"subscribers": [5], "events": 5, "interval_s": 0.005, "transports": ["ws", "sse"]}
    result = run.run_one(S5, contestant, params)
    metrics = result.get("metrics")
    assert metrics is not None, result
    for transport in ("ws", "sse"):
        assert metrics[f"{transport}_5_lost"] == 0
        assert metrics[f"{transport}_5_p99_ms"] > 0


def test_a_scenario_a_contestant_does_not_take_is_skipped_not_failed() -> None:
    other = Scenario("S3", "x", "x", S4.contestants, S4.figures, {}, {})
    assert "skipped" in run.run_one(other, S4.contestants[0], {})


def test_a_contestant_that_fails_is_reported_with_its_words() -> None:
    bad = run.run_one(S4, S4.contestants[0], {"rounds": "many"})
    assert bad["error"].startswith("exit 1")
    assert "many" in bad["error"]


def test_repeats_are_interleaved_in_a_rotated_order() -> None:
    cs = tuple(Contestant(name, name, "peer") for name in "abc")
    orders = ["".join(c.label for c in run.order(cs, rep)) for rep in range(3)]
    assert orders == ["abc", "bca", "cab"]


def test_medians_are_taken_per_metric_over_the_repeats_that_reported_it() -> None:
    repeats: list[dict[str, Any]] = [
        {"metrics": {"p50": 3.0, "lost": 0, "mode": "embedded"}},
        {"metrics": {"p50": 1.0, "lost": 2, "mode": "embedded"}},
        {"metrics": {"p50": 2.0, "mode": "embedded", "p99": float("nan")}},
    ]
    assert run.median_metrics(repeats) == {"p50": 2.0, "lost": 1.0, "mode": "embedded"}


@pytest.mark.parametrize(
    ("lower", "ours", "theirs", "ahead"),
    [
        (True, 100.0, 400.0, 4.0),  # a quarter of the time: 4× ahead
        (True, 400.0, 100.0, 0.25),
        (False, 3000.0, 1000.0, 3.0),  # three times the throughput
        (False, 500.0, 1000.0, 0.5),
    ],
)
def test_ahead_reads_the_same_for_both_directions(
    lower: bool, ours: float, theirs: float, ahead: float
) -> None:
    fig = Figure("m", "m", "u", lower_is_better=lower)
    assert report.advantage(fig, ours, theirs) == pytest.approx(ahead)


def test_the_summary_compares_with_the_best_peer_and_the_limit_of_the_same_mode() -> None:
    fig = Figure("tasks_per_s", "throughput", "tasks/s", lower_is_better=False, target=100.0)
    scenario = Scenario(
        "S1",
        "t",
        "w",
        (
            Contestant("ours e", "s", "swarmyard", params={"mode": "embedded"}),
            Contestant("ours c", "s", "swarmyard", params={"mode": "cluster"}),
            Contestant("lim e", "l", "limit", params={"mode": "embedded"}),
            Contestant("lim c", "l", "limit", params={"mode": "cluster"}),
        ),
        (fig,),
        {},
        {},
    )
    values = {"ours e": 50.0, "ours c": 200.0, "lim e": 500.0, "lim c": 400.0}
    the_run = {"contestants": {k: {"median": {"tasks_per_s": v}} for k, v in values.items()}}
    rows = report.summary_rows(scenario, the_run)
    assert [r[0] for r in rows] == ["S1 ours e", "S1 ours c"]
    assert rows[0][5:8] == ["500 (lim e)", "0.10×", "≥ 100: not met"]
    assert rows[1][5:8] == ["400 (lim c)", "0.50×", "≥ 100: met"]
