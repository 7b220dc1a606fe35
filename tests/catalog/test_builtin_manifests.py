"""The 13 built-in role manifests: they load, validate and route every task type once."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from swarmyard.catalog import (
    builtin_manifests,
    find_dependency_cycle,
    parse_manifest,
    route_task_type,
    task_type_routes,
)
from swarmyard.domain import TASK_TYPES, AgentManifest, Complexity, ModelTier

ROLES = {
    "architect",
    "developer",
    "code-reviewer",
    "tester",
    "documenter",
    "marketer",
    "presenter",
    "devops",
    "monitor",
    "security",
    "project-manager",
    "decision-maker",
    "orchestrator",
}

# The role a default install sends each task type to.
EXPECTED_ROUTES = {
    "feature": "architect",
    "design": "architect",
    "research": "architect",
    "implementation": "developer",
    "bugfix": "developer",
    "refactor": "developer",
    "review": "code-reviewer",
    "test": "tester",
    "docs": "documenter",
    "deploy": "devops",
    "monitoring": "monitor",
    "incident": "monitor",
    "security-audit": "security",
    "marketing": "marketer",
    "presentation": "presenter",
    "planning": "project-manager",
    "decision": "decision-maker",
    "coordination": "orchestrator",
}

EXPECTED_TIERS = {
    "architect": ModelTier.PREMIUM,
    "security": ModelTier.PREMIUM,
    "decision-maker": ModelTier.PREMIUM,
    "developer": ModelTier.MID,
    "code-reviewer": ModelTier.MID,
    "tester": ModelTier.MID,
    "devops": ModelTier.MID,
    "project-manager": ModelTier.MID,
    "orchestrator": ModelTier.MID,
    "monitor": ModelTier.FAST,
}

# Tools of this release and the names later releases add.
KNOWN_TOOLS = {
    "delegate",
    "read_task",
    "list_tasks",
    "fs.read",
    "fs.write",
    "fs.list",
    "fs.search",
    "git.status",
    "git.diff",
    "git.commit",
    "sandbox.run",
    "http.fetch",
    "memory.search",
    "memory.save",
    "context.share",
    "agent.request_help",
    "agent.request_decision",
}

# (dependant, dependency role, optional)
EXPECTED_DEPENDENCIES = {
    ("code-reviewer", "developer", False),
    ("tester", "developer", False),
    ("developer", "code-reviewer", True),
    ("developer", "tester", True),
    ("architect", "developer", True),
    ("devops", "developer", True),
    ("orchestrator", "project-manager", True),
    ("presenter", "documenter", True),
}

MANIFEST_DIR = Path(__file__).parents[2] / "src" / "swarmyard" / "catalog" / "manifests"


@pytest.fixture(scope="module")
def manifests() -> dict[str, AgentManifest]:
    return {m.id: m for m in builtin_manifests()}


def test_all_thirteen_roles_ship_and_validate(manifests: dict[str, AgentManifest]) -> None:
    assert set(manifests) == ROLES
    for manifest_id, manifest in manifests.items():
        assert manifest.role == manifest_id
        assert manifest.version == "1.0.0"
        assert manifest.builtin is True
        assert manifest.name
        assert manifest.description


def test_each_file_parses_on_its_own() -> None:
    files = sorted(MANIFEST_DIR.glob("*.toml"))
    assert {f.stem for f in files} == ROLES
    for file in files:
        manifest = parse_manifest(file.read_bytes(), source=str(file))
        assert manifest.id == file.stem


def test_builtins_are_read_once_and_handed_out_as_fresh_lists() -> None:
    first, second = builtin_manifests(), builtin_manifests()
    assert first is not second
    assert all(a is b for a, b in zip(first, second, strict=True))
    first.clear()
    assert len(builtin_manifests()) == len(ROLES)


def test_model_tiers(manifests: dict[str, AgentManifest]) -> None:
    for role, tier in EXPECTED_TIERS.items():
        assert manifests[role].model.tier is tier, role
    for role in ("documenter", "marketer", "presenter"):
        assert manifests[role].model.tier in (ModelTier.MID, ModelTier.FAST)
    for manifest in manifests.values():
        assert manifest.model.preferred, manifest.id


def test_capabilities_are_complete(manifests: dict[str, AgentManifest]) -> None:
    for manifest in manifests.values():
        for cap in manifest.capabilities:
            assert cap.name, (manifest.id, cap.id)
            assert cap.description, (manifest.id, cap.id)
            assert isinstance(cap.complexity, Complexity)
            assert set(cap.task_types) <= set(TASK_TYPES), (manifest.id, cap.id)
        assert manifest.capabilities[0].task_types, f"{manifest.id}: primary claims no type"


def test_every_task_type_is_claimed_by_exactly_one_role(
    manifests: dict[str, AgentManifest],
) -> None:
    claims = {t: sorted(m.id for m in manifests.values() if t in m.task_types) for t in TASK_TYPES}
    assert {t: roles for t, roles in claims.items() if len(roles) != 1} == {}
    assert {t: roles[0] for t, roles in claims.items()} == EXPECTED_ROUTES


def test_routing_follows_the_claims() -> None:
    assert task_type_routes() == EXPECTED_ROUTES
    for task_type, role in EXPECTED_ROUTES.items():
        assert route_task_type(task_type) == role
    assert route_task_type("no-such-type") is None


def test_routed_types_are_in_the_role_s_matching_capability(
    manifests: dict[str, AgentManifest],
) -> None:
    for task_type, role in EXPECTED_ROUTES.items():
        capability = manifests[role].capability_for(task_type)
        assert capability is not None
        # The first capability listing the type is the one that claims it.
        first = next(c for c in manifests[role].capabilities if task_type in c.task_types)
        assert capability is first


def test_tools_are_known_and_every_role_can_read_tasks(
    manifests: dict[str, AgentManifest],
) -> None:
    for manifest in manifests.values():
        assert set(manifest.allowed_tools) <= KNOWN_TOOLS, manifest.id
        assert len(set(manifest.allowed_tools)) == len(manifest.allowed_tools), manifest.id
        assert {"read_task", "list_tasks", "delegate"} <= set(manifest.allowed_tools)


def test_only_building_roles_write_or_commit(manifests: dict[str, AgentManifest]) -> None:
    committers = {m.id for m in manifests.values() if "git.commit" in m.allowed_tools}
    assert committers == {"developer", "tester", "documenter", "devops"}
    runners = {m.id for m in manifests.values() if "sandbox.run" in m.allowed_tools}
    assert "orchestrator" not in runners
    assert "decision-maker" not in runners


def test_system_prompts_are_substantial(manifests: dict[str, AgentManifest]) -> None:
    for manifest in manifests.values():
        prompt = manifest.system_prompt
        paragraphs = [p for p in prompt.split("\n\n") if p.strip()]
        assert len(paragraphs) >= 4, manifest.id
        assert "\nOutput:" in prompt, manifest.id
        assert "`delegate`" in prompt, manifest.id
        # Every tool a prompt tells the agent to use is one it is allowed.
        named_tools = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", prompt)) & KNOWN_TOOLS
        assert named_tools <= set(manifest.allowed_tools), (manifest.id, named_tools)


def test_prompts_delegate_only_to_roles_that_exist(manifests: dict[str, AgentManifest]) -> None:
    for manifest in manifests.values():
        called_roles = set(re.findall(r"`([a-z-]+)`\s+role", manifest.system_prompt))
        assert called_roles <= ROLES - {manifest.role}, (manifest.id, called_roles)
        named = set(re.findall(r"`([a-z-]+)`", manifest.system_prompt)) & ROLES
        assert named, f"{manifest.id} names no role to hand work to"
        assert manifest.role not in named, manifest.id


def test_declared_dependencies(manifests: dict[str, AgentManifest]) -> None:
    declared = {
        (m.id, dep.target, dep.optional) for m in manifests.values() for dep in m.dependencies
    }
    assert declared >= EXPECTED_DEPENDENCIES
    for manifest in manifests.values():
        for dep in manifest.dependencies:
            assert dep.role in ROLES, (manifest.id, dep)
    required = {(a, b) for a, b, optional in declared if not optional}
    assert required == {("code-reviewer", "developer"), ("tester", "developer")}


def test_no_cycle_among_required_dependencies(manifests: dict[str, AgentManifest]) -> None:
    assert find_dependency_cycle(manifests.values()) is None
    # The same check on the role graph directly, without the catalogue's helper.
    edges = {
        m.role: {d.target for d in m.dependencies if not d.optional} for m in manifests.values()
    }
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(role: str) -> None:
        assert role not in visiting, f"cycle through {role}"
        if role in done:
            return
        visiting.add(role)
        for nxt in edges[role]:
            visit(nxt)
        visiting.discard(role)
        done.add(role)

    for role in edges:
        visit(role)


def test_builtins_load_from_a_zipped_package(tmp_path: Path) -> None:
    """importlib.resources, not file paths: the catalogue works from a wheel or zip."""
    package = Path(__file__).parents[2] / "src" / "swarmyard"
    archive = tmp_path / "swarmyard.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in package.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                zf.write(file, file.relative_to(package.parent).as_posix())
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import swarmyard.catalog as c; "
        "assert c.__file__.startswith(sys.argv[1]), c.__file__; "
        "print(len(c.builtin_manifests()), c.route_task_type('review'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(archive)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["13", "code-reviewer"]
