"""The catalogue one workspace sees: the built-in roles plus its own manifests.

The marketplace, the registry and the orchestrator all ask the same
questions (which manifests exist, which version is the latest, what does
installing or removing one require), and they must get the same answers.
`Catalog` answers them from memory without I/O; services build one from the
built-ins and the custom manifests their store holds.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from ..domain import AgentManifest, Dependency, NotFound, Problem, ValidationFailed
from .dependencies import dependants, find_dependency_cycle, missing_dependencies
from .loader import builtin_manifests

__all__ = ["Catalog"]

_Versions = dict[str, AgentManifest]


class Catalog:
    """Built-in and custom manifests, by id and version. Immutable.

    Custom manifests may not take a built-in id (a workspace cannot shadow
    the shipped roles), may not claim to be built-in, and may not close a
    loop of required dependencies. Breaking any rule raises
    `ValidationFailed` naming every offending manifest.
    """

    def __init__(
        self,
        custom: Iterable[AgentManifest] = (),
        *,
        builtin: Iterable[AgentManifest] | None = None,
    ) -> None:
        shipped = builtin_manifests() if builtin is None else builtins.list(builtin)
        self._builtin: dict[str, _Versions] = {}
        for manifest in shipped:
            self._builtin.setdefault(manifest.id, {})[manifest.version] = manifest
        self._custom: dict[str, _Versions] = {}
        problems = [p for m in custom for p in self._admit(m)]
        cycle = find_dependency_cycle(self._all())
        if cycle is not None:
            loop = " → ".join(f"{m.id}@{m.version}" for m in cycle)
            problems.append(
                Problem(
                    "dependencies",
                    f"required dependencies form a loop, so none of these agents could be "
                    f"installed first: {loop}",
                )
            )
        if problems:
            raise ValidationFailed("manifest", problems)

    def get(self, manifest_id: str, version: str | None = None) -> AgentManifest:
        """That version of a manifest, or its latest (by semver) when `version` is None.

        Raises `NotFound("manifest", id)`, or with ``id@version`` when only the
        version is missing.
        """
        versions = self._versions_of(manifest_id)
        if version is None:
            return max(versions.values(), key=lambda m: m.version_tuple)
        try:
            return versions[version]
        except KeyError:
            raise NotFound("manifest", f"{manifest_id}@{version}") from None

    def list(self) -> builtins.list[AgentManifest]:
        """The latest version of every manifest: built-ins, then custom, each by id."""
        return [self.get(i) for i in sorted(self._builtin)] + [
            self.get(i) for i in sorted(self._custom)
        ]

    def roles(self) -> builtins.list[str]:
        """Every role some manifest (latest version) provides, sorted."""
        return sorted({m.role for m in self.list()})

    def versions(self, manifest_id: str) -> builtins.list[str]:
        """The versions of a manifest, oldest first. Raises `NotFound`."""
        found = self._versions_of(manifest_id).values()
        return [m.version for m in sorted(found, key=lambda m: m.version_tuple)]

    def is_builtin(self, manifest_id: str) -> bool:
        return manifest_id in self._builtin

    def __contains__(self, manifest_id: object) -> bool:
        return manifest_id in self._builtin or manifest_id in self._custom

    def with_custom(self, manifests: Iterable[AgentManifest]) -> Catalog:
        """A new catalogue with `manifests` added to this one's custom manifests.

        Adding a manifest identical to one already present changes nothing;
        the same id and version with different content is refused.
        """
        current = [m for versions in self._custom.values() for m in versions.values()]
        shipped = [m for versions in self._builtin.values() for m in versions.values()]
        return Catalog([*current, *manifests], builtin=shipped)

    @staticmethod
    def missing_dependencies(
        manifest: AgentManifest, installed: Iterable[tuple[str, str, str]]
    ) -> builtins.list[Dependency]:
        """Required dependencies not met by `installed` ``(role, manifest_id, version)`` rows."""
        return missing_dependencies(manifest, installed)

    @staticmethod
    def dependants(
        target: AgentManifest | str,
        installed: Iterable[AgentManifest],
        *,
        include_optional: bool = False,
    ) -> builtins.list[AgentManifest]:
        """Installed manifests depending on `target` (a manifest, role or id)."""
        return dependants(target, installed, include_optional=include_optional)

    def _admit(self, manifest: AgentManifest) -> builtins.list[Problem]:
        problems: builtins.list[Problem] = []
        if manifest.id in self._builtin:
            problems.append(
                Problem(
                    "id",
                    f"{manifest.id!r} is the id of a built-in manifest; "
                    "a custom manifest needs an id of its own",
                )
            )
        if manifest.builtin:
            problems.append(
                Problem("builtin", f"{manifest.id!r}: only shipped manifests can be built-in")
            )
        versions = self._custom.setdefault(manifest.id, {})
        existing = versions.get(manifest.version)
        if existing is not None and existing != manifest:
            problems.append(
                Problem(
                    "version",
                    f"{manifest.id!r} version {manifest.version} is given twice "
                    "with different content",
                )
            )
        if not problems:
            versions[manifest.version] = manifest
        elif not versions:
            del self._custom[manifest.id]
        return problems

    def _versions_of(self, manifest_id: str) -> _Versions:
        versions = self._builtin.get(manifest_id) or self._custom.get(manifest_id)
        if not versions:
            raise NotFound("manifest", manifest_id)
        return versions

    def _all(self) -> builtins.list[AgentManifest]:
        return [
            m
            for table in (self._builtin, self._custom)
            for versions in table.values()
            for m in versions.values()
        ]
