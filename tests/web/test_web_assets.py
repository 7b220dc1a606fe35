"""The static files themselves: every module import resolves, and nothing in
them needs what the Content-Security-Policy forbids or builds markup from text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swarmyard.web._assets import STATIC_DIR, asset_version

MODULES = sorted((STATIC_DIR / "js").rglob("*.js"))
IMPORT = re.compile(
    r"""(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']"""
)

# What would break the policy (eval, inline styles) or let API text become markup.
FORBIDDEN = {
    "innerHTML": re.compile(r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML"),
    "document.write": re.compile(r"document\.write"),
    "eval": re.compile(r"\beval\(|new Function\("),
    "inline style": re.compile(r"\.style\.|setAttribute\(\s*[\"']style"),
    "string timer": re.compile(r"set(?:Timeout|Interval)\(\s*[\"'`]"),
}


def test_there_are_modules() -> None:
    assert len(MODULES) > 10


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(STATIC_DIR).as_posix())
def test_imports_resolve_to_shipped_files(module: Path) -> None:
    for match in IMPORT.finditer(module.read_text()):
        target = match.group(1) or match.group(2)
        assert target.startswith("."), f"{module.name}: {target!r} is not ours (no bare imports)"
        assert (module.parent / target).resolve().is_file(), f"{module.name}: {target} is missing"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(STATIC_DIR).as_posix())
def test_modules_use_nothing_the_policy_forbids(module: Path) -> None:
    text = module.read_text()
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert found == [], f"{module.name} uses {found}"


def test_no_third_party_or_remote_code() -> None:
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".js", ".css"):
            # A namespace name (SVG's) is an identifier, not an address anything loads.
            text = path.read_text().replace('"http://www.w3.org/2000/svg"', "")
            assert not re.search(r"https?://", text), path
            assert ".min." not in path.name, path


def test_the_version_changes_with_any_file(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("one")
    before = asset_version(tmp_path)
    (tmp_path / "a.js").write_text("two")
    assert asset_version(tmp_path) != before
    assert before.startswith("v-")
