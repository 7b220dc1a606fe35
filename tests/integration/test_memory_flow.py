"""Memory across tasks, end to end on the embedded platform: what an agent
saves in one task it finds with `memory.search` in a later one; what it
shares, another role's agent finds too, but not the first agent's own
memory. Provenance links the items to the run that wrote them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from pydantic_ai.messages import ModelResponse
from test_policy_gate import settled, submit, tool_call, tool_results
from test_run_control import OneModel, ScriptedModel, answer

from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import TaskStatus
from swarmyard.ports import ModelCall
from swarmyard.runtime.wiring import build
from swarmyard.testing import embedded_settings, wait_for_task

DECIDE = "Choose the ledger export format"
DECISION = "The ledger export uses CSV with a header row"
WHERE = "Ledger exports land in the exports bucket"


def script(call: ModelCall) -> ModelResponse:
    seen = tool_results(call)
    if call.task_title == DECIDE:
        if "save-1" not in seen:
            return tool_call("memory.save", "save-1", text=DECISION, kind="decision")
        if "share-1" not in seen:
            return tool_call("context.share", "share-1", text=WHERE, tags=["ledger"])
        return answer("decided and recorded")
    if "search-1" not in seen:
        return tool_call("memory.search", "search-1", query="ledger export format")
    found = json.loads(seen["search-1"])["items"]
    return answer(json.dumps([i["text"] for i in found]))


async def test_a_later_task_finds_what_an_earlier_one_saved(tmp_path: Path) -> None:
    c = build(embedded_settings(tmp_path), models=OneModel(ScriptedModel(script)))
    await c.start()
    try:
        await c.registry.install(WS, "developer")
        await c.registry.install(WS, "devops")
        first = await submit(c, DECIDE, "design", "developer")
        assert (await wait_for_task(c, WS, first.id, settled)).status is TaskStatus.DONE

        later = await submit(c, "Write the export job", "feature", "developer")
        recalled = await wait_for_task(c, WS, later.id, settled)
        assert recalled.status is TaskStatus.DONE
        # Its own decision (two of the words) before the shared note (one).
        assert json.loads(recalled.result or "[]") == [DECISION, WHERE]

        other = await submit(c, "Deploy the export job", "deploy", "devops")
        theirs = await wait_for_task(c, WS, other.id, settled)
        assert json.loads(theirs.result or "[]") == [WHERE]  # shared, not the developer's own

        (run,) = await c.runs.for_task(WS, first.id)
        items = await c.memory.search(WS, limit=10)
        assert {(i.text, i.run_id, i.task_id) for i in items} == {
            (DECISION, run.id, first.id),
            (WHERE, run.id, first.id),
        }
        graph = (await c.task_graphs.graph(WS, first.id)).as_dict()
        edges = {(e["from"], e["kind"]) for e in graph["edges"] if e["to"].startswith("mem")}
        assert edges == {(run.id, "decided"), (run.id, "produced")}
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)
