"""/memory and /tasks/{id}/graph over HTTP: add, search, remove; bad input is
422 naming every field and stores nothing; the graph of a finished task."""

from __future__ import annotations

import httpx

from swarmyard.adapters.embeddings import HashingEmbedder
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import TaskStatus
from swarmyard.runtime.wiring import Container
from swarmyard.testing import wait_for_task


async def test_add_search_and_remove(api: httpx.AsyncClient) -> None:
    agent = (await api.post("/agents", json={"manifest": "developer"})).json()
    shared = await api.post(
        "/memory",
        json={"text": "Releases are cut on Thursdays", "kind": "decision", "tags": ["release"]},
    )
    assert shared.status_code == 201, shared.text
    item = shared.json()
    assert item["shared"] is True
    assert item["agent_id"] is None
    assert item["source"].startswith("api_key:")
    assert item["expires_at"] is None
    own = await api.post(
        "/memory",
        json={"text": "Release notes go in CHANGES.md", "agent_id": agent["id"], "ttl_days": 30},
    )
    assert own.status_code == 201, own.text
    assert own.json()["kind"] == "note"
    assert own.json()["expires_at"] is not None

    def texts(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [i["text"] for i in r.json()["items"]]

    assert texts(await api.get("/memory", params={"q": "thursdays"})) == [
        "Releases are cut on Thursdays"
    ]
    assert set(texts(await api.get("/memory", params={"q": "release"}))) == {
        "Releases are cut on Thursdays",  # by its tag
        "Release notes go in CHANGES.md",
    }
    assert texts(await api.get("/memory", params={"kind": "decision"})) == [
        "Releases are cut on Thursdays"
    ]
    assert len(texts(await api.get("/memory", params={"agent_id": agent["id"]}))) == 2
    assert texts(await api.get("/memory", params={"agent_id": "someone-else"})) == [
        "Releases are cut on Thursdays"
    ]
    assert len(texts(await api.get("/memory", params={"limit": 1}))) == 1

    assert (await api.delete(f"/memory/{item['id']}")).status_code == 204
    again = await api.delete(f"/memory/{item['id']}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"
    assert texts(await api.get("/memory", params={"q": "thursdays"})) == []


async def test_bad_input_names_every_field_and_stores_nothing(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/memory",
        json={
            "text": " ",
            "kind": "gossip",
            "tags": [""] * 11,
            "ttl_days": 0,
            "agent_id": "agent_nope",
        },
    )
    assert r.status_code == 422, r.text
    paths = {p["path"] for p in r.json()["error"]["details"]}
    assert {"text", "kind", "tags", "tags.0", "ttl_days", "agent_id"} <= paths
    r = await api.post("/memory", json={"text": "x", "workspace_id": "other"})
    assert r.status_code == 422
    assert [p["path"] for p in r.json()["error"]["details"]] == ["workspace_id"]
    r = await api.post("/memory", json={"text": "x" * 4001})
    assert [p["path"] for p in r.json()["error"]["details"]] == ["text"]
    r = await api.get("/memory", params={"kind": "gossip"})
    assert r.status_code == 422
    assert [p["path"] for p in r.json()["error"]["details"]] == ["kind"]
    r = await api.get("/memory", params={"limit": 0})
    assert r.status_code == 422
    assert [p["path"] for p in r.json()["error"]["details"]] == ["limit"]
    assert (await api.get("/memory")).json()["items"] == []


async def test_the_graph_of_a_finished_task(api: httpx.AsyncClient, platform: Container) -> None:
    agent = (await api.post("/agents", json={"manifest": "developer"})).json()
    task = (await api.post("/tasks", json={"title": "Fix the export", "type": "bugfix"})).json()
    done = await wait_for_task(
        platform, WS, task["id"], lambda t: t.status in (TaskStatus.DONE, TaskStatus.REVIEW)
    )
    r = await api.get(f"/tasks/{done.id}/graph")
    assert r.status_code == 200, r.text
    graph = r.json()
    kinds = {n["id"]: n["kind"] for n in graph["nodes"]}
    runs = [i for i, k in kinds.items() if k == "run"]
    assert kinds[task["id"]] == "task"
    assert kinds[agent["id"]] == "agent"
    assert runs
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert (task["id"], runs[0], "run") in edges
    assert (runs[0], agent["id"], "by") in edges
    assert (runs[0], f"output:{runs[0]}", "produced") in edges
    missing = await api.get("/tasks/task_nope/graph")
    assert missing.status_code == 404


async def test_reindex_gives_older_items_vectors(
    api: httpx.AsyncClient, platform: Container
) -> None:
    off = await api.post("/memory/reindex")
    assert off.status_code == 409, off.text
    assert "SWARMYARD_MEMORY_EMBEDDINGS" in off.text
    saved = await api.post("/memory", json={"text": "Deployment needs two approvals"})
    assert saved.status_code == 201, saved.text
    # Turned on afterwards (as by a restart with the setting): the item has no vector yet.
    platform.deps.embedder = HashingEmbedder()
    assert (await api.get("/memory", params={"q": "deploying"})).json()["items"] == []
    done = await api.post("/memory/reindex", params={"limit": 10})
    assert done.status_code == 200, done.text
    assert done.json() == {"indexed": 1, "failed": 0, "error": None}
    found = (await api.get("/memory", params={"q": "deploying"})).json()["items"]
    assert [i["text"] for i in found] == ["Deployment needs two approvals"]
    assert (await api.post("/memory/reindex", params={"limit": 0})).status_code == 422
