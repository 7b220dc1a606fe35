"""The built-in skill packs: they load and validate, name tools that exist, and
never offer a role a tool its built-in manifest does not already allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.adapters.tools import builtin_tools
from swarmyard.catalog import builtin_manifests, builtin_skill_packs, parse_skill_pack
from swarmyard.domain import FakeClock, SequentialIds, ValidationFailed
from swarmyard.domain.skill import SkillPack
from swarmyard.runtime.wiring import host_tools
from swarmyard.services.deps import Deps
from swarmyard.services.memory_index import MemoryIndex
from swarmyard.testing import embedded_settings

PACKS = {"repo-navigation", "git-workflow", "web-research", "sandboxed-testing"}
SKILL_DIR = Path(__file__).parents[2] / "src" / "swarmyard" / "catalog" / "skills"


@pytest.fixture(scope="module")
def packs() -> dict[str, SkillPack]:
    return {p.id: p for p in builtin_skill_packs()}


def test_the_built_in_packs_ship_and_validate(packs: dict[str, SkillPack]) -> None:
    assert set(packs) == PACKS
    for pack in packs.values():
        assert pack.builtin is True
        assert pack.version == "1.0.0"
        assert pack.name
        assert pack.description
        assert len(pack.instructions) > 400, pack.id
        assert pack.tools, pack.id
    assert [p.id for p in builtin_skill_packs()] == sorted(PACKS)


def test_each_file_parses_on_its_own() -> None:
    files = sorted(SKILL_DIR.glob("*.toml"))
    assert {f.stem for f in files} == PACKS
    for file in files:
        assert parse_skill_pack(file.read_bytes(), source=str(file), fmt="toml").id == file.stem


def test_every_tool_named_exists(packs: dict[str, SkillPack], tmp_path: Path) -> None:
    store = MemoryStore()
    deps = Deps(store=store, bus=MemoryBus(), clock=FakeClock(), ids=SequentialIds())
    tools = {
        *builtin_tools(store, memory=MemoryIndex(deps), clock=deps.clock, ids=deps.ids),
        *host_tools(embedded_settings(tmp_path)),
    }
    for pack in packs.values():
        assert set(pack.tools) <= tools, (pack.id, set(pack.tools) - tools)


def test_a_pack_widens_no_role_s_tools(packs: dict[str, SkillPack]) -> None:
    manifests = {m.role: m for m in builtin_manifests()}
    for pack in packs.values():
        assert pack.roles, f"{pack.id} names its roles"
        for role in pack.roles:
            allowed = set(manifests[role].allowed_tools)
            assert set(pack.tools) <= allowed, (pack.id, role, set(pack.tools) - allowed)


def test_a_broken_pack_names_every_problem() -> None:
    text = 'id = "Bad"\nname = "x"\nversion = "one"\ntools = ["*"]\nextra = 1\n'
    with pytest.raises(ValidationFailed) as err:
        parse_skill_pack(text, source="bad.toml")
    paths = [p.path for p in err.value.problems]
    assert paths == ["extra", "id", "instructions", "tools", "version"]
    assert str(err.value).startswith("invalid skill pack: ")
    assert "allowed keys: id, name, version" in str(err.value)
    assert "lowercase letters" in str(err.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('id = "x', "TOML syntax error at line 1"),
        ('{"id": ', "JSON syntax error at line 1"),
        ("[1, 2]", "not a list"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unreadable_text_is_named(text: str | bytes, reason: str) -> None:
    fmt = "json" if isinstance(text, str) and text.startswith("[") else None
    with pytest.raises(ValidationFailed, match=reason):
        parse_skill_pack(text, fmt=fmt)
