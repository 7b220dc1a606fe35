"""The assignment formula, pinned with hand-computed numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from swarmyard.domain import Agent, Candidate, LearningProfile, choose, score

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def agent(ident: str, replicas: int = 2, running: int = 0) -> Agent:
    return Agent(
        ident, "ws", ident, "developer", "1.0.0", "developer", replicas, T0, running=running
    )


def profile(agent_id: str, task_type: str, n: int, rate: float) -> LearningProfile:
    return LearningProfile(
        "ws", agent_id, task_type, executions=n, success_rate=rate, confidence=min(1.0, n / 20)
    )


def test_formula_with_load() -> None:
    # success 0.8, load 1/2: base = 0.8 / 1.5 = 0.533333
    # final = 0.3*0.533333 + 0.5*0.9 + 0.2*0.5 = 0.16 + 0.45 + 0.1 = 0.71
    a = agent("a", replicas=2, running=1)
    s = score(Candidate(a, profile("a", "*", 30, 0.8), profile("a", "feature", 10, 0.9)))
    assert s.base == pytest.approx(0.533333, abs=1e-6)
    assert s.final == pytest.approx(0.71, abs=1e-9)


def test_newcomer_scores_neutral_prior_only() -> None:
    # no history: success 0.5, expertise 0, confidence 0 -> 0.3 * 0.5 = 0.15
    assert score(Candidate(agent("n"), None, None)).final == pytest.approx(0.15)


def test_expertise_beats_idleness() -> None:
    busy_expert = agent("expert", replicas=4, running=3)  # load 0.75
    idle_novice = agent("novice", replicas=4, running=0)
    # expert: 0.3*(0.9/1.75) + 0.5*0.9 + 0.2*1.0 = 0.154286 + 0.45 + 0.2 = 0.804286
    # novice: 0.3*(0.5/1) + 0 + 0 = 0.15
    best, scores = choose(
        [
            Candidate(
                busy_expert, profile("expert", "*", 40, 0.9), profile("expert", "bugfix", 25, 0.9)
            ),
            Candidate(idle_novice, None, None),
        ]
    )
    assert best is not None
    assert best.agent_id == "expert"
    assert scores[0].final == pytest.approx(0.804286, abs=1e-6)
    assert scores[1].final == pytest.approx(0.15)


def test_full_agents_are_not_candidates() -> None:
    best, scores = choose([Candidate(agent("full", replicas=1, running=1), None, None)])
    assert best is None
    assert scores == []


def test_ties_break_on_load_then_free_slots_then_id() -> None:
    # equal success rate 0.5 and no expertise: scores differ only through load
    same = [Candidate(agent("b"), None, None), Candidate(agent("a"), None, None)]
    assert choose(same)[0].agent_id == "a"  # identical: smaller id
    wide = agent("z", replicas=4)  # same load 0, more free slots
    assert choose([*same, Candidate(wide, None, None)])[0].agent_id == "z"
