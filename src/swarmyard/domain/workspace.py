"""Workspaces (tenants) and projects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["DEFAULT_WORKSPACE", "Project", "Workspace"]

# Embedded mode works in this workspace when nobody says otherwise.
DEFAULT_WORKSPACE = "default"


@dataclass(slots=True)
class Workspace:
    id: str
    name: str
    created_at: datetime


@dataclass(slots=True)
class Project:
    id: str
    workspace_id: str
    name: str
    created_at: datetime
    description: str = ""
    # Where agents' artifacts land (a git repository), if the project has one.
    workdir: str | None = None
    updated_at: datetime | None = field(default=None)
