"""/audit as the web UI's audit page reads it: filters, a `since` that names
no zone, and paging with the cursor."""

from __future__ import annotations

import httpx

TEMPLATE = {"title": "Nightly audit", "type": "security-audit"}


async def test_since_without_a_zone_is_utc(api: httpx.AsyncClient) -> None:
    await api.post("/schedules", json={"name": "n", "cron": "0 2 * * *", "task": TEMPLATE})
    for since in ("2000-01-01", "2000-01-01T00:00:00", "2000-01-01T00:00:00+02:00"):
        r = await api.get("/audit", params={"since": since, "action": "schedule."})
        assert r.status_code == 200, (since, r.text)
        assert [e["action"] for e in r.json()["items"]] == ["schedule.create"]
    assert (await api.get("/audit", params={"since": "2999-01-01"})).json()["items"] == []
    r = await api.get("/audit", params={"since": "yesterday"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_failed"


async def test_pages_follow_the_cursor_newest_first(api: httpx.AsyncClient) -> None:
    for i in range(5):
        await api.post("/projects", json={"name": f"p{i}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"action": "project.create", "limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/audit", params=params)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    everything = (await api.get("/audit", params={"action": "project.create"})).json()["items"]
    assert [e["id"] for e in everything] == seen
    actor = everything[0]["actor"]
    mine = (await api.get("/audit", params={"actor": actor})).json()["items"]
    assert mine
    assert {e["actor"] for e in mine} == {actor}
    assert (await api.get("/audit", params={"actor": "user:nobody"})).json()["items"] == []
