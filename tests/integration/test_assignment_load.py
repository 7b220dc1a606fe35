"""Many tasks at once: slots are respected and every choice follows the scoring."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from swarmyard.domain import ALL_TYPES, LearningProfile, RunStatus, TaskStatus
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.runtime.wiring import build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task


async def test_hundred_tasks_on_three_developers_with_two_replicas(tmp_path: Path) -> None:
    c = build(embedded_settings(tmp_path, offline_delay_ms=20, orchestrator_interval=0.05))
    await c.start()
    try:
        strong = await c.registry.install(WS, "developer", replicas=2, name="strong")
        medium = await c.registry.install(WS, "developer", replicas=2, name="medium")
        fresh = await c.registry.install(WS, "developer", replicas=2, name="fresh")
        now = c.deps.clock.now()
        async with c.store.unit_of_work(WS) as uow:
            for agent, rate, n in ((strong, 0.95, 40), (medium, 0.6, 10)):
                for task_type in ("bugfix", ALL_TYPES):
                    await uow.learning.save_profile(
                        LearningProfile(
                            WS,
                            agent.id,
                            task_type,
                            executions=n,
                            success_rate=rate,
                            confidence=min(1.0, n / 20),
                            updated_at=now,
                        )
                    )
            await uow.commit()

        tasks = await asyncio.gather(
            *(c.tasks.create(WS, NewTask(title=f"Fix bug {i}", type="bugfix")) for i in range(100))
        )
        for t in tasks:
            await wait_for_task(c, WS, t.id, lambda x: x.status is TaskStatus.DONE, timeout=60)

        runs = [r for t in tasks for r in await c.runs.for_task(WS, t.id)]
        assert len(runs) == 100
        assert all(r.status is RunStatus.SUCCEEDED for r in runs)

        # never more than 6 at once: sweep the [started, finished] intervals
        edges = sorted(
            [(r.started_at, 1) for r in runs] + [(r.finished_at, -1) for r in runs],
            key=lambda e: (e[0], e[1]),
        )
        running = peak = 0
        for _, step in edges:
            running += step
            peak = max(peak, running)
        assert peak <= 6
        assert peak >= 4, "the three agents should have worked side by side"

        # every run went to the best-scoring agent that had a free slot
        for r in runs:
            scores = r.assignment["scores"]
            assert r.agent_id == r.assignment["chosen"] == scores[0]["agent_id"]
            finals = [s["score"] for s in scores]
            assert finals == sorted(finals, reverse=True)
            for s in scores:
                base = s["success_rate"] / (1 + s["load"])
                expected = 0.3 * base + 0.5 * s["expertise"] + 0.2 * s["confidence"]
                assert abs(s["score"] - expected) < 1e-5
        counts = {a: sum(r.agent_id == a for r in runs) for a in (strong.id, medium.id, fresh.id)}
        assert counts[strong.id] >= counts[medium.id] >= counts[fresh.id] > 0, counts
        for agent_id in counts:
            assert (await c.registry.get(WS, agent_id)).running == 0
        assert max(r.finished_at - r.started_at for r in runs) < timedelta(seconds=30)
    finally:
        await c.stop()
