"""The page routes: each renders a shell; the browser fetches the data.

A page is a route, a template and, when it belongs in the navigation, one
`NavItem` in `NAV`: adding the agents or costs page later touches nothing
else. Shells carry no workspace data (the server does not know who is
signed in: credentials live in the browser), only ids from the URL and the
fixed vocabularies of the domain, which the forms offer as choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

from ..authz import ACTIONS
from ..domain import TASK_TYPES, Complexity, MissedTicks, Priority, TaskStatus
from ._assets import StaticAssets

__all__ = ["NAV", "NavItem", "Pages"]

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class NavItem:
    page: str
    label: str
    href: str
    # The action a session needs to be shown the item: the shell cannot know
    # who asks, so the item is rendered hidden and ui/shell.js shows it when
    # the session's /auth/me lists the action.
    action: str | None = None


NAV: tuple[NavItem, ...] = (
    NavItem("board", "Board", "/board"),
    NavItem("agents", "Agents", "/agents"),
    NavItem("costs", "Costs", "/costs"),
    NavItem("schedules", "Schedules", "/schedules"),
    NavItem("audit", "Audit", "/audit", action="audit.read"),
)

# The flow of work, left to right; the others are where work stops, shown apart.
LANES = (
    TaskStatus.BACKLOG,
    TaskStatus.TODO,
    TaskStatus.IN_PROGRESS,
    TaskStatus.REVIEW,
    TaskStatus.DONE,
)
ASIDE = (TaskStatus.BLOCKED, TaskStatus.FAILED, TaskStatus.CANCELLED)
STATUS_LABELS = {
    TaskStatus.BACKLOG: "Backlog",
    TaskStatus.TODO: "To do",
    TaskStatus.IN_PROGRESS: "In progress",
    TaskStatus.REVIEW: "Review",
    TaskStatus.DONE: "Done",
    TaskStatus.BLOCKED: "Blocked",
    TaskStatus.FAILED: "Failed",
    TaskStatus.CANCELLED: "Cancelled",
}

# The shell names the assets of its own version; a cached one would name stale ones.
_NO_CACHE = {"cache-control": "no-cache"}


def _column(status: TaskStatus) -> dict[str, str]:
    return {"status": status.value, "label": STATUS_LABELS[status]}


@cache
def _timezones() -> list[str]:
    """The zones the server knows, which are the ones a schedule may use."""
    return sorted(available_timezones())


@cache
def _audit_actions() -> list[str]:
    """Suggestions for the audit filter: each kind ("task.", which the API
    takes as a prefix) and each action of the catalogue."""
    kinds = {name.split(".", 1)[0] + "." for name in ACTIONS}
    return sorted(kinds) + sorted(ACTIONS)


class Pages:
    """The templates and the routes that render them."""

    def __init__(self, assets: StaticAssets) -> None:
        self.templates = Jinja2Templates(directory=TEMPLATES_DIR)
        self.templates.env.globals.update(
            asset=assets.url,
            nav=NAV,
            lanes=[_column(s) for s in LANES],
            aside=[_column(s) for s in ASIDE],
            statuses=[_column(s) for s in (*LANES, *ASIDE)],
            task_types=TASK_TYPES,
            priorities=[p.value for p in Priority],
            complexities=[c.value for c in Complexity],
        )
        self.router = self._routes()

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers=_NO_CACHE
        )

    def not_found(self, request: Request) -> Response:
        return self.render(
            request, "not_found.html", 404, page="", module="plain", title="Not found"
        )

    def _routes(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        render = self.render

        @router.get("/")
        async def home() -> RedirectResponse:
            return RedirectResponse("/board", status_code=302)

        @router.get("/login")
        async def login(request: Request) -> Response:
            return render(request, "login.html", page="login", title="Sign in")

        @router.get("/board")
        async def board(request: Request) -> Response:
            return render(request, "board.html", page="board", title="Board")

        @router.get("/agents")
        async def agents(request: Request) -> Response:
            return render(request, "agents.html", page="agents", title="Agents")

        @router.get("/costs")
        async def costs(request: Request) -> Response:
            return render(request, "costs.html", page="costs", title="Costs")

        @router.get("/schedules")
        async def schedules(request: Request) -> Response:
            return render(
                request,
                "schedules.html",
                page="schedules",
                title="Schedules",
                timezones=_timezones(),
                missed_policies=[m.value for m in MissedTicks],
            )

        @router.get("/audit")
        async def audit(request: Request) -> Response:
            return render(
                request, "audit.html", page="audit", title="Audit log", actions=_audit_actions()
            )

        # Any id is rendered (escaped) into the shell: the API answers for
        # ids that name nothing, and the page shows its answer.
        @router.get("/tasks/{task_id}")
        async def task(request: Request, task_id: str) -> Response:
            return render(request, "detail.html", page="task", title="Task", item_id=task_id)

        @router.get("/runs/{run_id}")
        async def run(request: Request, run_id: str) -> Response:
            return render(request, "detail.html", page="run", title="Run", item_id=run_id)

        return router
