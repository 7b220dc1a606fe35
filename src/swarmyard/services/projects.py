"""Projects: group tasks and hold the working directory agents write into."""

from __future__ import annotations

from ..domain import Conflict, Problem, Project, ValidationFailed
from ..ports import Page, TaskFilter
from .deps import Deps

__all__ = ["ProjectService"]


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 200:
        raise ValidationFailed("project", [Problem("name", "must be 1 to 200 characters")])


class ProjectService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def create(
        self, workspace_id: str, *, name: str, description: str = "", workdir: str | None = None
    ) -> Project:
        _check_name(name)
        now = self._d.clock.now()
        project = Project(
            self._d.ids.new("proj"),
            workspace_id,
            name.strip(),
            now,
            description=description,
            workdir=workdir,
            updated_at=now,
        )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.projects.add(project)
            await uow.commit()
        return project

    async def list(self, workspace_id: str, page: Page) -> list[Project]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.projects.list(page)

    async def get(self, workspace_id: str, project_id: str) -> Project:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.projects.get(project_id)

    async def update(
        self,
        workspace_id: str,
        project_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        workdir: str | None = None,
    ) -> Project:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            project = await uow.projects.get(project_id)
            if name is not None:
                _check_name(name)
                project.name = name.strip()
            if description is not None:
                project.description = description
            if workdir is not None:
                project.workdir = workdir or None
            project.updated_at = self._d.clock.now()
            await uow.projects.update(project)
            await uow.commit()
        return project

    async def delete(self, workspace_id: str, project_id: str) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.projects.get(project_id)
            if await uow.tasks.list(TaskFilter(project_id=project_id), Page(limit=1)):
                raise Conflict(
                    "the project still has tasks; cancel or move them first",
                    details={"project_id": project_id},
                )
            await uow.projects.delete(project_id)
            await uow.commit()
