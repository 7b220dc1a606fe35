"""Dependencies between manifests: what installing or removing an agent needs.

A manifest may require another role (any manifest of that role will do) or a
specific manifest id, optionally from a minimum version. Installing checks
that every required dependency is already installed, so the required
dependencies must never form a loop: the agents on a loop could not be
installed in any order. These helpers are pure so the registry service, the
API and the CLI give the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ..domain import AgentManifest, Dependency, parse_version

__all__ = [
    "Installed",
    "dependants",
    "find_dependency_cycle",
    "missing_dependencies",
    "satisfies",
]


class Installed(NamedTuple):
    """What dependency checks need to know about one installed agent."""

    role: str
    manifest_id: str
    version: str


def satisfies(dependency: Dependency, role: str, manifest_id: str, version: str) -> bool:
    """Whether an agent (or manifest) with these attributes meets `dependency`."""
    if dependency.role is not None and dependency.role != role:
        return False
    if dependency.agent is not None and dependency.agent != manifest_id:
        return False
    if dependency.min_version is None:
        return True
    try:
        return parse_version(version) >= parse_version(dependency.min_version)
    except ValueError:
        # An installed version that is not semver cannot be shown to be recent enough.
        return False


def missing_dependencies(
    manifest: AgentManifest, installed: Iterable[tuple[str, str, str]]
) -> list[Dependency]:
    """The required dependencies of `manifest` no installed agent satisfies.

    `installed` holds ``(role, manifest_id, version)`` of each installed agent
    (`Installed` rows, or plain tuples). Optional dependencies never count as
    missing: the agent works without them, only less well.
    """
    agents = [Installed(*row) for row in installed]
    return [
        dep
        for dep in manifest.dependencies
        if not dep.optional and not any(satisfies(dep, *agent) for agent in agents)
    ]


def dependants(
    target: AgentManifest | str,
    installed: Iterable[AgentManifest],
    *,
    include_optional: bool = False,
) -> list[AgentManifest]:
    """The installed manifests that depend on `target`, sorted by id.

    `target` is a manifest (dependencies on its role or on its id count) or
    a bare role or manifest id. Callers removing an agent ask this only when
    it is the last one able to satisfy those dependencies.
    """
    if isinstance(target, AgentManifest):
        names = {target.role, target.id}
        exclude = target.id
    else:
        names = {target}
        exclude = None
    found = {
        m.id: m
        for m in installed
        if m.id != exclude
        and any(
            (include_optional or not dep.optional) and dep.target in names for dep in m.dependencies
        )
    }
    return [found[key] for key in sorted(found)]


def find_dependency_cycle(manifests: Iterable[AgentManifest]) -> list[AgentManifest] | None:
    """A loop of required dependencies that keeps manifests from ever installing.

    Returns it as a path whose last element repeats the first, or None.
    A role dependency is met by any manifest of that role, so a manifest only
    counts as stuck when *every* provider of one of its requirements is stuck
    too; requirements nobody in `manifests` provides are left to the install
    check (`missing_dependencies`), since such a provider may be added later.
    """
    nodes = list(manifests)
    requirements = [_providers_of_requirements(m, nodes) for m in nodes]
    installable: set[int] = set()
    grew = True
    while grew:
        grew = False
        for i, needs in enumerate(requirements):
            if i not in installable and all(installable.intersection(p) for p in needs):
                installable.add(i)
                grew = True
    stuck = [i for i in range(len(nodes)) if i not in installable]
    if not stuck:
        return None
    # Each stuck manifest has a requirement whose providers are all stuck;
    # following such requirements must come back to a manifest already seen.
    path = [stuck[0]]
    position = {stuck[0]: 0}
    while True:
        blocked = next(p for p in requirements[path[-1]] if not installable.intersection(p))
        nxt = blocked[0]
        if nxt in position:
            return [nodes[i] for i in path[position[nxt] :]] + [nodes[nxt]]
        position[nxt] = len(path)
        path.append(nxt)


def _providers_of_requirements(
    manifest: AgentManifest, nodes: Sequence[AgentManifest]
) -> list[list[int]]:
    needs: list[list[int]] = []
    for dep in manifest.dependencies:
        if dep.optional:
            continue
        providers = [
            i
            for i, other in enumerate(nodes)
            if other.id != manifest.id and satisfies(dep, other.role, other.id, other.version)
        ]
        if providers:
            needs.append(providers)
    return needs
