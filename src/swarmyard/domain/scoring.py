"""Choosing the agent for a task.

``base = success_rate / (1 + load)``;
``final = 0.3·base + 0.5·expertise + 0.2·confidence``, where success_rate is
the agent's recency-weighted success over all task types, expertise and
confidence come from its profile for the task's type, and load is the share
of its slots in use. Ties go to the lower load, then more free slots, then
the smaller agent id, so the same state always gives the same choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .agent import Agent
from .learning import NEUTRAL_SUCCESS_RATE, LearningProfile

__all__ = ["W_BASE", "W_CONFIDENCE", "W_EXPERTISE", "Candidate", "Score", "choose", "score"]

W_BASE = 0.3
W_EXPERTISE = 0.5
W_CONFIDENCE = 0.2


@dataclass(frozen=True, slots=True)
class Candidate:
    agent: Agent
    overall: LearningProfile | None  # the agent's "*" profile
    for_type: LearningProfile | None  # the agent's profile for the task's type


@dataclass(frozen=True, slots=True)
class Score:
    agent_id: str
    final: float
    base: float
    success_rate: float
    expertise: float
    confidence: float
    load: float
    free_slots: int

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "agent_id": self.agent_id,
            "score": round(self.final, 6),
            "base": round(self.base, 6),
            "success_rate": round(self.success_rate, 6),
            "expertise": round(self.expertise, 6),
            "confidence": round(self.confidence, 6),
            "load": round(self.load, 6),
            "free_slots": self.free_slots,
        }


def score(c: Candidate) -> Score:
    success_rate = (
        c.overall.success_rate if c.overall and c.overall.executions else (NEUTRAL_SUCCESS_RATE)
    )
    expertise = c.for_type.expertise if c.for_type else 0.0
    confidence = c.for_type.confidence if c.for_type else 0.0
    load = c.agent.load
    base = success_rate / (1.0 + load)
    final = W_BASE * base + W_EXPERTISE * expertise + W_CONFIDENCE * confidence
    return Score(
        c.agent.id, final, base, success_rate, expertise, confidence, load, c.agent.free_slots
    )


def _rank_key(s: Score) -> tuple[float, float, int, str]:
    return (-s.final, s.load, -s.free_slots, s.agent_id)


def choose(candidates: Sequence[Candidate]) -> tuple[Score | None, list[Score]]:
    """Score every candidate with a free slot; return the winner and all scores, best first."""
    scores = sorted((score(c) for c in candidates if c.agent.free_slots > 0), key=_rank_key)
    return (scores[0] if scores else None), scores
