"""The combined catalogue: versions, custom manifests and dependency checks."""

from __future__ import annotations

from typing import Any

import pytest

from swarmyard.catalog import (
    Catalog,
    Installed,
    builtin_manifests,
    dependants,
    find_dependency_cycle,
    missing_dependencies,
    parse_manifest,
)
from swarmyard.domain import AgentManifest, NotFound, ValidationFailed


def manifest(
    manifest_id: str,
    version: str = "1.0.0",
    *,
    role: str | None = None,
    deps: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> AgentManifest:
    return parse_manifest(
        {
            "id": manifest_id,
            "name": manifest_id.title(),
            "version": version,
            "role": role or manifest_id,
            "system_prompt": f"You are {manifest_id}.",
            "capabilities": [{"id": "work", "name": "Work"}],
            "dependencies": deps or [],
            **extra,
        }
    )


BUILTIN_IDS = sorted(m.id for m in builtin_manifests())


def test_default_catalog_lists_the_builtins() -> None:
    catalog = Catalog()
    assert [m.id for m in catalog.list()] == BUILTIN_IDS
    assert catalog.roles() == BUILTIN_IDS
    assert catalog.get("developer").builtin
    assert catalog.is_builtin("developer")
    assert "developer" in catalog
    assert "nobody" not in catalog


def test_latest_version_is_chosen_by_semver_not_by_text() -> None:
    versions = [manifest("rust-dev", v, role="developer") for v in ("1.9.0", "1.10.0", "1.2.3")]
    catalog = Catalog().with_custom(versions)
    assert catalog.get("rust-dev").version == "1.10.0"
    assert catalog.get("rust-dev", "1.2.3").version == "1.2.3"
    assert catalog.versions("rust-dev") == ["1.2.3", "1.9.0", "1.10.0"]
    assert [m.version for m in catalog.list() if m.id == "rust-dev"] == ["1.10.0"]


def test_unknown_ids_and_versions_are_not_found() -> None:
    catalog = Catalog()
    with pytest.raises(NotFound) as caught:
        catalog.get("nobody")
    assert (caught.value.kind, caught.value.ident) == ("manifest", "nobody")
    with pytest.raises(NotFound) as caught:
        catalog.get("developer", "9.9.9")
    assert caught.value.ident == "developer@9.9.9"
    with pytest.raises(NotFound):
        catalog.versions("nobody")


def test_list_puts_builtins_first_then_custom_by_id() -> None:
    catalog = Catalog().with_custom(
        [manifest("zeta", role="developer"), manifest("alpha", role="writer")]
    )
    assert [m.id for m in catalog.list()] == [*BUILTIN_IDS, "alpha", "zeta"]
    assert "writer" in catalog.roles()


def test_with_custom_returns_a_new_catalog() -> None:
    base = Catalog()
    extended = base.with_custom([manifest("alpha", role="writer")])
    again = extended.with_custom([manifest("alpha", "2.0.0", role="writer")])
    assert "alpha" not in base
    assert extended.versions("alpha") == ["1.0.0"]
    assert again.versions("alpha") == ["1.0.0", "2.0.0"]


def test_custom_manifest_may_not_reuse_a_builtin_id() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Catalog().with_custom([manifest("developer", "2.0.0")])
    [problem] = caught.value.problems
    assert problem.path == "id"
    assert "'developer' is the id of a built-in manifest" in problem.reason
    # A custom manifest may still offer a built-in role under its own id.
    assert Catalog().with_custom([manifest("py-dev", role="developer")]).get("py-dev")


def test_custom_manifest_may_not_claim_to_be_builtin() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Catalog([manifest("sneaky", builtin=True)])
    assert [p.path for p in caught.value.problems] == ["builtin"]


def test_same_version_twice_is_fine_only_when_identical() -> None:
    first = manifest("alpha", role="writer")
    assert Catalog([first, first]).versions("alpha") == ["1.0.0"]
    changed = manifest("alpha", role="writer", description="different")
    with pytest.raises(ValidationFailed) as caught:
        Catalog([first]).with_custom([changed])
    assert [p.path for p in caught.value.problems] == ["version"]


def test_every_bad_custom_manifest_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Catalog().with_custom([manifest("tester", "3.0.0"), manifest("architect", "3.0.0")])
    reasons = [p.reason for p in caught.value.problems]
    assert len(reasons) == 2
    assert "'tester'" in reasons[0]
    assert "'architect'" in reasons[1]


def test_a_loop_of_required_dependencies_is_refused() -> None:
    a = manifest("alpha", role="writer", deps=[{"agent": "beta"}])
    b = manifest("beta", role="editor", deps=[{"role": "writer"}])
    with pytest.raises(ValidationFailed) as caught:
        Catalog().with_custom([a, b])
    [problem] = caught.value.problems
    assert problem.path == "dependencies"
    assert "alpha@1.0.0 → beta@1.0.0 → alpha@1.0.0" in problem.reason
    # Optional dependencies never make a loop.
    b_optional = manifest("beta", role="editor", deps=[{"role": "writer", "optional": True}])
    assert Catalog().with_custom([a, b_optional]).get("beta")


def test_a_loop_through_a_builtin_is_refused_unless_another_provider_breaks_it() -> None:
    # The built-in tester requires a developer. A developer that requires a
    # tester is installable only because the built-in developer needs nothing.
    needs_tester = manifest("strict-dev", role="developer", deps=[{"role": "tester"}])
    assert Catalog().with_custom([needs_tester]).get("strict-dev")
    without_builtin_developer = [m for m in builtin_manifests() if m.id != "developer"]
    with pytest.raises(ValidationFailed) as caught:
        Catalog([needs_tester], builtin=without_builtin_developer)
    [problem] = caught.value.problems
    assert problem.path == "dependencies"
    assert "strict-dev@1.0.0 → tester@1.0.0 → strict-dev@1.0.0" in problem.reason


def test_cycle_search_ignores_requirements_nobody_provides() -> None:
    waiting = manifest("alpha", role="writer", deps=[{"role": "not-yet-published"}])
    assert find_dependency_cycle([waiting]) is None
    assert Catalog([waiting]).get("alpha")


def test_min_version_decides_which_provider_counts() -> None:
    old = manifest("beta", "1.0.0", role="editor", deps=[{"agent": "alpha"}])
    new = manifest("beta", "2.0.0", role="editor")
    a = manifest("alpha", role="writer", deps=[{"agent": "beta", "min_version": "2.0.0"}])
    # alpha needs beta>=2 (which needs nothing): no loop even though beta 1.0.0 needs alpha.
    assert find_dependency_cycle([old, new, a]) is None
    a_any = manifest("alpha", role="writer", deps=[{"agent": "beta"}])
    cycle = find_dependency_cycle([old, a_any])
    assert cycle is not None
    assert [f"{m.id}@{m.version}" for m in cycle] == ["beta@1.0.0", "alpha@1.0.0", "beta@1.0.0"]


def test_missing_dependencies_honours_min_version() -> None:
    wants = manifest(
        "alpha",
        role="writer",
        deps=[
            {"role": "developer", "min_version": "1.2.0"},
            {"agent": "linter", "min_version": "2.0.0"},
            {"role": "tester", "optional": True},
        ],
    )
    assert [d.target for d in missing_dependencies(wants, [])] == ["developer", "linter"]
    too_old = [Installed("developer", "developer", "1.1.9"), ("linting", "linter", "1.9.9")]
    assert [d.target for d in missing_dependencies(wants, too_old)] == ["developer", "linter"]
    new_enough = [("developer", "py-dev", "1.10.0"), Installed("linting", "linter", "2.0.0")]
    assert missing_dependencies(wants, new_enough) == []
    assert Catalog.missing_dependencies(wants, new_enough) == []
    # A dependency on a manifest id is not met by another manifest of the same role.
    impostor = [("developer", "developer", "5.0.0"), ("linting", "other-linter", "9.0.0")]
    assert [d.target for d in missing_dependencies(wants, impostor)] == ["linter"]
    broken_version = [("developer", "developer", "dev"), ("linting", "linter", "2.0.0")]
    assert [d.target for d in missing_dependencies(wants, broken_version)] == ["developer"]


def test_builtin_code_reviewer_needs_an_installed_developer() -> None:
    catalog = Catalog()
    reviewer = catalog.get("code-reviewer")
    assert [d.target for d in catalog.missing_dependencies(reviewer, [])] == ["developer"]
    assert catalog.missing_dependencies(reviewer, [("developer", "developer", "1.0.0")]) == []
    # The developer's own dependencies are optional: it installs on an empty workspace.
    assert catalog.missing_dependencies(catalog.get("developer"), []) == []


def test_dependants_for_uninstall_checks() -> None:
    catalog = Catalog()
    installed = [catalog.get(i) for i in ("developer", "code-reviewer", "tester", "architect")]
    assert [m.id for m in dependants("developer", installed)] == ["code-reviewer", "tester"]
    assert [m.id for m in catalog.dependants(catalog.get("developer"), installed)] == [
        "code-reviewer",
        "tester",
    ]
    with_optional = catalog.dependants("developer", installed, include_optional=True)
    assert [m.id for m in with_optional] == ["architect", "code-reviewer", "tester"]
    assert dependants("tester", installed) == []
    by_id = manifest("alpha", role="writer", deps=[{"agent": "py-dev"}])
    py_dev = manifest("py-dev", role="developer")
    assert [m.id for m in dependants(py_dev, [by_id, py_dev])] == ["alpha"]
