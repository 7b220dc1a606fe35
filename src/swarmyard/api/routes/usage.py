"""/usage: where the money went, summed from the ledger by one grouping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from ...domain import Principal, Problem, ValidationFailed
from ...services.views import usage_row_view
from ..context import ContainerDep, acting
from ..responses import MAX_LIMIT, json_response

router = APIRouter(tags=["usage"])


@router.get("/usage")
async def usage(  # noqa: PLR0917 (one parameter per query filter)
    c: ContainerDep,
    p: Annotated[Principal, acting("usage.read")],
    group_by: Annotated[str, Query(max_length=20)] = "model",
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    task_type: Annotated[str | None, Query(max_length=40)] = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
    project: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Response:
    problems: list[Problem] = []
    start = _moment("since", since, problems)
    end = _moment("until", until, problems, day_end=True)
    if problems:
        raise ValidationFailed("usage query", problems)
    report = await c.usage.report(
        p.workspace_id,
        group_by,
        since=start,
        until=end,
        role=role,
        task_type=task_type,
        provider=provider,
        project_id=project,
        limit=limit,
    )
    totals = usage_row_view(report.totals)
    del totals["key"]
    return json_response(
        {
            "group_by": report.group_by.value,
            "items": [usage_row_view(r) for r in report.rows],
            "totals": totals,
        }
    )


def _moment(
    name: str, raw: str | None, problems: list[Problem], *, day_end: bool = False
) -> datetime | None:
    """An ISO date or date-time; UTC unless it names its zone. A bare date as
    `until` takes that whole day in, which is what `--until 2026-11-30` means
    to a person (the ledger query itself is end-exclusive)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:  # YYYY-MM-DD
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if day_end else moment
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):  # not a date, or the day after 9999-12-31
        problems.append(
            Problem(name, f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time")
        )
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
