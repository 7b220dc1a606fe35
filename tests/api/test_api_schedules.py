"""/schedules beyond create and delete: the preview of an expression's next
ticks (what the web UI's cron helper shows), and pausing and resuming."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

TEMPLATE = {"title": "Weekly dependency review", "type": "docs"}


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    assert body["message"]
    return body


async def test_the_preview_answers_the_next_ticks_in_the_zone(api: httpx.AsyncClient) -> None:
    r = await api.get(
        "/schedules/preview", params={"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["cron"], body["timezone"]) == ("0 9 * * 1-5", "Europe/Berlin")
    assert len(body["ticks"]) == 5  # the default count
    moments = [datetime.fromisoformat(t["at"]) for t in body["ticks"]]
    assert moments == sorted(set(moments))
    for tick, moment in zip(body["ticks"], moments, strict=True):
        local = datetime.fromisoformat(tick["local"])
        assert tick["at"].endswith("+00:00")
        assert local == moment  # the same instant, written in the zone
        assert (local.hour, local.minute) == (9, 0)
        assert local.isoweekday() <= 5
    r = await api.get("/schedules/preview", params={"cron": "@hourly", "count": 2})
    assert len(r.json()["ticks"]) == 2
    assert (await api.get("/schedules")).json()["items"] == []  # nothing was created


async def test_a_bad_expression_is_refused_naming_the_problem(api: httpx.AsyncClient) -> None:
    cases = {
        "0 25 * * *": "the hour field '25' is not valid (it takes 0-23",
        "0 9 * * 8": "the day of week field '8' is not valid",
        "every hour": "has 2 field(s); a cron expression has 5",
        "0 9 31 2 *": "never fires",
        "* * * * * */10": "the minimum interval is 60 s",
    }
    for cron, reason in cases.items():
        r = await api.get("/schedules/preview", params={"cron": cron})
        err = error_of(r, 422, "validation_failed")
        assert [p["path"] for p in err["details"]] == ["cron"], cron
        assert reason in err["details"][0]["reason"], (cron, err)
        assert reason in err["message"], (cron, err)
    err = error_of(
        await api.get("/schedules/preview", params={"cron": "0 9 * * *", "timezone": "Mars/Base"}),
        422,
        "validation_failed",
    )
    assert err["details"] == [{"path": "timezone", "reason": "unknown time zone 'Mars/Base'"}]
    error_of(await api.get("/schedules/preview"), 422, "validation_failed")
    error_of(
        await api.get("/schedules/preview", params={"cron": "@daily", "count": 21}),
        422,
        "validation_failed",
    )
    # Creating a schedule says the same as the preview.
    r = await api.post("/schedules", json={"name": "never", "cron": "0 9 31 2 *", "task": TEMPLATE})
    assert "never fires" in error_of(r, 422, "validation_failed")["message"]


async def test_a_schedule_is_paused_and_resumed(api: httpx.AsyncClient) -> None:
    made = await api.post(
        "/schedules", json={"name": "weekly", "cron": "0 9 * * 1", "task": TEMPLATE}
    )
    assert made.status_code == 201, made.text
    schedule = made.json()
    assert schedule["enabled"] is True
    assert schedule["next_run_at"]
    path = f"/schedules/{schedule['id']}"

    paused = await api.patch(path, json={"enabled": False})
    assert paused.status_code == 200, paused.text
    assert (paused.json()["enabled"], paused.json()["next_run_at"]) == (False, None)
    assert (await api.get(path)).json()["enabled"] is False
    again = await api.patch(path, json={"enabled": False})  # pausing twice changes nothing
    assert again.json() == paused.json()

    resumed = (await api.patch(path, json={"enabled": True})).json()
    assert resumed["enabled"] is True
    assert resumed["next_run_at"] == schedule["next_run_at"]  # the same Monday, still ahead

    error_of(await api.patch(path, json={}), 422, "validation_failed")
    error_of(await api.patch(path, json={"paused": True}), 422, "validation_failed")
    error_of(await api.patch("/schedules/sched_nope", json={"enabled": False}), 404, "not_found")
    audit = (await api.get("/audit", params={"action": "schedule.update"})).json()["items"]
    assert [(e["resource"], e["result"]) for e in audit][:3] == [
        ("schedule:sched_nope", "failed: not_found"),
        (f"schedule:{schedule['id']}", "ok"),
        (f"schedule:{schedule['id']}", "ok"),
    ]


async def test_members_pause_and_viewers_may_not(api: httpx.AsyncClient) -> None:
    schedule = (
        await api.post(
            "/schedules", json={"name": "nightly", "cron": "0 2 * * *", "task": TEMPLATE}
        )
    ).json()
    keys = {}
    for role in ("viewer", "member"):
        keys[role] = (await api.post("/api-keys", json={"name": role, "role": role})).json()["key"]
    path = f"/schedules/{schedule['id']}"
    viewer = {"Authorization": f"Bearer {keys['viewer']}"}
    member = {"Authorization": f"Bearer {keys['member']}"}
    err = error_of(await api.patch(path, json={"enabled": False}, headers=viewer), 403, "forbidden")
    assert err["details"]["action"] == "schedule.pause"
    assert (await api.get("/schedules/preview?cron=@daily", headers=viewer)).status_code == 200
    r = await api.patch(path, json={"enabled": False}, headers=member)
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False
