"""The benchmark suite as data: each scenario's contestants, their parameters
in the full and the quick size, the figures the report compares and the
targets they are held to.

A contestant entry names its script (`bench/contestants/<script>.py`), the
environment it runs in (`project`: this interpreter, with Swarmyard;
`peers`, `peers-optional`: the separate environments made from
`requirements-peers.txt`, see peers_env.py), its part in
the comparison (`swarmyard`, `peer`, `floor` or `limit`) and the
parameters it gets on top of the scenario's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["SCENARIOS", "Contestant", "Figure", "Scenario"]

Part = Literal["swarmyard", "peer", "floor", "limit"]


@dataclass(frozen=True, slots=True)
class Contestant:
    label: str
    script: str
    part: Part
    env: Literal["project", "peers", "peers-optional"] = "project"
    params: dict[str, Any] = field(default_factory=dict)
    # Slow to install: its absence is reported, not a failure of the suite.
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Figure:
    """One compared figure: a metric key, how it reads, and its target."""

    metric: str
    title: str
    unit: str
    lower_is_better: bool = True
    target: float | None = None
    # A target that differs by contestant (label → target), over `target`.
    targets: dict[str, float] = field(default_factory=dict)

    def target_for(self, label: str) -> float | None:
        return self.targets.get(label, self.target)


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    what: str
    contestants: tuple[Contestant, ...]
    figures: tuple[Figure, ...]
    full: dict[str, Any]
    quick: dict[str, Any]
    timeout_s: float = 900.0


# Peers that cannot take S2's 10,000 runs in a suite's time run it with
# fewer. CrewAI's steps call the model in asyncio's default thread pool (a
# few threads), so its runs go through a few at a time: 10,000 one-second
# runs would take about an hour. The OpenAI Agents SDK's wall time grows
# faster than the number of runs: 10,000 at once took 612 s (306× ideal)
# here, 2,000 (the size the reference figures were taken at) take
# seconds.
CREWAI_S2_RUNS = 200
OPENAI_AGENTS_S2_RUNS = 2000


def _loop_peers(scenario: str) -> tuple[Contestant, ...]:
    """The agent frameworks and the floor, in S2 and S3 alike."""
    s2 = scenario == "S2"
    crewai = {"runs": CREWAI_S2_RUNS} if s2 else {}
    openai_agents = {"runs": OPENAI_AGENTS_S2_RUNS} if s2 else {}
    return (
        Contestant("bare asyncio loop", "floor_bare_loop", "floor"),
        Contestant("pydantic-ai Agent.run", "peer_pydantic_ai", "peer", "peers"),
        Contestant("LangGraph create_react_agent", "peer_langgraph", "peer", "peers"),
        Contestant(
            "OpenAI Agents SDK Runner.run",
            "peer_openai_agents",
            "peer",
            "peers",
            params=openai_agents,
        ),
        Contestant("CrewAI", "peer_crewai", "peer", "peers-optional", params=crewai, optional=True),
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "S1",
        "End to end over HTTP",
        "tasks submitted over HTTP, each run (tool call + answer) persisted step by step "
        "and streamed; submit → done observed on the workspace WebSocket",
        (
            Contestant(
                "Swarmyard embedded", "swarmyard_pipeline", "swarmyard", params={"mode": "embedded"}
            ),
            Contestant(
                "Swarmyard cluster", "swarmyard_pipeline", "swarmyard", params={"mode": "cluster"}
            ),
            Contestant(
                "limit harness SQLite", "limit_pipeline", "limit", params={"mode": "embedded"}
            ),
            Contestant(
                "limit harness PostgreSQL+NATS",
                "limit_pipeline",
                "limit",
                params={"mode": "cluster"},
            ),
        ),
        (
            Figure(
                "tasks_per_s",
                "throughput",
                "tasks/s",
                lower_is_better=False,
                targets={"Swarmyard embedded": 1500.0, "Swarmyard cluster": 1000.0},
            ),
            Figure("p50_ms", "submit → done p50", "ms"),
            Figure("p99_ms", "submit → done p99", "ms", target=50.0),
            Figure("server_cpu_ms_per_task", "platform CPU per task", "ms"),
        ),
        full={"tasks": 10000, "concurrency": 64},
        quick={"tasks": 300, "concurrency": 32},
        timeout_s=1800.0,
    ),
    Scenario(
        "S2",
        "Mass concurrency",
        "runs started at once, the fake model sleeping per call (2 calls: ideal = 2 × sleep)",
        (
            Contestant(
                "Swarmyard (SQLite, events persisted)",
                "swarmyard_loop",
                "swarmyard",
                params={"store": "sqlite"},
            ),
            *_loop_peers("S2"),
        ),
        (
            Figure("wall_over_ideal", "wall time ÷ ideal", "×", target=1.5),
            Figure("rss_kib_per_run", "memory per run", "KiB", target=20 * 1000 / 1024),
            Figure("cpu_s_per_run", "CPU per run", "s"),
            Figure("lost", "runs lost", "runs", target=0.0),
        ),
        full={"runs": 10000, "sleep_s": 1.0},
        quick={"runs": 500, "sleep_s": 0.5},
        timeout_s=900.0,
    ),
    Scenario(
        "S3",
        "Loop overhead",
        "one run = one tool call + final answer, in process, no HTTP, fake model answering at once",
        (
            Contestant(
                "Swarmyard (memory store)",
                "swarmyard_loop",
                "swarmyard",
                params={"store": "memory"},
            ),
            Contestant(
                "Swarmyard (SQLite store)",
                "swarmyard_loop",
                "swarmyard",
                params={"store": "sqlite", "runs": 500},
            ),
            *_loop_peers("S3"),
        ),
        (
            Figure("run_us_p50", "run p50", "µs", target=250.0),
            Figure("run_us_p99", "run p99", "µs"),
            Figure("cpu_s_per_run", "CPU per run", "s"),
            Figure("instantiate_us", "agent instantiation", "µs"),
            Figure("instantiate_kib", "agent instantiation memory", "KiB"),
        ),
        full={"runs": 2000, "warmup": 200, "instances": 200},
        quick={"runs": 300, "warmup": 50, "instances": 20},
    ),
    Scenario(
        "S4",
        "Router decision",
        "one routing decision with budgets on (role budget at 85%: economy tier), no network",
        (Contestant("Swarmyard router", "swarmyard_router", "swarmyard"),),
        tuple(
            Figure(
                f"{kind}_us_{n}",
                f"{label}, {n} candidates",
                "µs",
                target=10.0 if kind == "decision" else None,
            )
            for kind, label in (
                ("decision", "decision"),
                ("preview", "decision + snapshot + budgets read"),
            )
            for n in (2, 10, 100)
        ),
        full={"rounds": 5, "seconds": 0.3},
        quick={"rounds": 3, "seconds": 0.1},
    ),
    Scenario(
        "S5",
        "Event fan-out",
        "subscribers on one run's events over WebSocket and SSE: publish → last subscriber",
        (
            Contestant("Swarmyard", "swarmyard_fanout", "swarmyard"),
            Contestant("limit harness (Starlette broadcaster)", "limit_fanout", "limit"),
        ),
        tuple(
            Figure(f"{t}_{n}_{m}", f"{t.upper()} {n} subscribers {label}", unit, target=tgt)
            for t in ("ws", "sse")
            for n in (100, 1000)
            for m, label, unit, tgt in (
                ("p99_ms", "p99", "ms", 5.0 if n == 100 else None),
                ("lost", "events lost", "events", 0.0),
            )
        ),
        full={"subscribers": [100, 1000], "events": 200, "transports": ["ws", "sse"]},
        quick={"subscribers": [100], "events": 50, "transports": ["ws", "sse"]},
    ),
    Scenario(
        "S6",
        "Dispatch (cluster)",
        "submit → worker pickup with 2 worker processes on PostgreSQL + NATS JetStream",
        (
            Contestant("Swarmyard cluster", "swarmyard_pipeline", "swarmyard"),
            Contestant("limit harness PostgreSQL+NATS", "limit_pipeline", "limit"),
        ),
        (
            Figure("pickup_ms_p50", "pickup p50", "ms", target=1.0),
            Figure("pickup_ms_p99", "pickup p99", "ms"),
            Figure(
                "tasks_per_s",
                "dispatch throughput",
                "tasks/s",
                lower_is_better=False,
                target=3000.0,
            ),
        ),
        full={"tasks": 3000, "workers": 2},
        quick={"tasks": 300, "workers": 2},
        timeout_s=1200.0,
    ),
)
