"""Reading manifests from mappings, TOML and JSON: every mistake named with its path."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from swarmyard.catalog import builtin_manifests, load_manifest_file, parse_manifest
from swarmyard.domain import AgentManifest, Complexity, Problem, ValidationFailed

VALID_TOML = textwrap.dedent(
    """\
    id = "rust-developer"
    name = "Rust Developer"
    version = "1.2.0"
    role = "developer"
    system_prompt = "You write Rust."
    allowed_tools = ["read_task", "fs.read"]

    [[capabilities]]
    id = "rust"
    name = "Rust implementation"
    complexity = "high"
    task_types = ["implementation", "bugfix"]

    [[dependencies]]
    role = "code-reviewer"
    min_version = "1.0.0"
    optional = true
    """
)

# Six mistakes at once; a refusal must name every one of them.
INVALID_TOML = textwrap.dedent(
    """\
    id = "broken"
    name = "Broken"
    version = "1.0"
    role = "developer"
    system_prompt = "x"
    max_concurrent_tasks = -2
    colour = "blue"

    [[capabilities]]
    id = "build"
    name = "Build"
    complexity = "extreme"
    task_types = ["implementation", "coding"]

    [[dependencies]]
    role = "tester"
    agent = "tester"
    """
)


def valid_dict(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "rust-developer",
        "name": "Rust Developer",
        "version": "1.2.0",
        "role": "developer",
        "system_prompt": "You write Rust.",
        "capabilities": [{"id": "rust", "name": "Rust", "task_types": ["implementation"]}],
    }
    data.update(changes)
    return data


def problems_of(data: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_manifest(data, **kwargs)
    assert caught.value.code == "validation_failed"
    assert caught.value.details == [p.as_dict() for p in caught.value.problems]
    return {p.path: p.reason for p in caught.value.problems}


def test_valid_toml_parses() -> None:
    manifest = parse_manifest(VALID_TOML)
    assert manifest.id == "rust-developer"
    assert manifest.version_tuple == (1, 2, 0)
    assert manifest.capabilities[0].complexity is Complexity.HIGH
    assert manifest.dependencies[0].min_version == "1.0.0"
    assert manifest.builtin is False


def test_every_problem_is_named_with_its_path() -> None:
    problems = problems_of(INVALID_TOML, source="broken.toml")
    assert set(problems) == {
        "version",
        "capabilities.0.complexity",
        "max_concurrent_tasks",
        "colour",
        "dependencies.0",
        "capabilities.0.task_types.1",
    }
    assert "MAJOR.MINOR.PATCH" in problems["version"]
    assert "'1.0'" in problems["version"]
    assert "'critical'" in problems["capabilities.0.complexity"]
    assert "'extreme'" in problems["capabilities.0.complexity"]
    assert "greater than or equal to 1" in problems["max_concurrent_tasks"]
    assert "-2" in problems["max_concurrent_tasks"]
    assert problems["colour"].startswith("unknown key")
    assert "exactly one of 'role' or 'agent'" in problems["dependencies.0"]
    assert "unknown task type 'coding'" in problems["capabilities.0.task_types.1"]


def test_the_message_lists_every_problem_and_paths_sort_naturally() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_manifest(
            valid_dict(
                capabilities=[
                    {"id": f"cap-{i}", "name": "C", "task_types": ["docs"]} for i in range(11)
                ]
                + [{"id": "last", "name": "L", "task_types": ["nope"]}],
                skills="not a list",
            )
        )
    paths = [p.path for p in caught.value.problems]
    assert paths == ["capabilities.11.task_types.0", "skills"]
    assert caught.value.message.startswith("invalid manifest: capabilities.11.task_types.0: ")
    assert "skills: Input should be a valid list (got 'not a list')" in caught.value.message


def test_unknown_keys_suggest_the_intended_one() -> None:
    problems = problems_of(
        valid_dict(
            max_stesp=3,
            capabilities=[{"id": "x-y", "name": "X", "complexty": "low"}],
            health_check={"interval": 5},
        )
    )
    assert "did you mean 'max_steps'?" in problems["max_stesp"]
    assert "did you mean 'complexity'?" in problems["capabilities.0.complexty"]
    assert "allowed keys: interval_seconds" in problems["health_check.interval"]


def test_missing_required_fields_and_bad_ids() -> None:
    problems = problems_of({"id": "Not_A_Slug"})
    assert problems["id"].startswith("must be 2 to 63 lowercase letters")
    for field in ("name", "version", "role", "capabilities", "system_prompt"):
        assert problems[field] == "required field is missing"


def test_semantic_rules_of_the_schema_are_problems_too() -> None:
    # The paths accept both where the schema reports these today (the whole
    # manifest, the dependency) and the field itself.
    twice = [{"id": "same", "name": "A"}, {"id": "same", "name": "B"}]
    [(path, reason)] = problems_of(valid_dict(capabilities=twice)).items()
    assert path in ("", "capabilities")
    assert "capability ids repeat: same" in reason
    [(path, reason)] = problems_of(valid_dict(dependencies=[{"role": "developer"}])).items()
    assert path in ("", "dependencies")
    assert "cannot depend on itself" in reason
    bad_min = valid_dict(dependencies=[{"role": "tester", "min_version": "latest"}])
    [(path, reason)] = problems_of(bad_min).items()
    assert path in ("dependencies.0", "dependencies.0.min_version")
    assert "'latest' is not a MAJOR.MINOR.PATCH" in reason


def test_toml_syntax_errors_name_line_and_column() -> None:
    text = 'id = "x"\nname = "y"\nversion = = "1.0.0"\n'
    problems = problems_of(text, source="m.toml")
    assert list(problems) == [""]
    assert problems[""].startswith("TOML syntax error at line 3, column 11 in m.toml: ")


def test_toml_error_at_the_end_of_the_document_still_names_a_line() -> None:
    reason = problems_of('id = "x"\nskills = ["a",\n', fmt="toml")[""]
    assert "at line 3, column 1 (end of document)" in reason


def test_json_syntax_errors_name_line_and_column() -> None:
    text = '{\n  "id": "x",\n  "name": "y",,\n}'
    reason = problems_of(text)[""]
    assert reason.startswith("JSON syntax error at line 3, column 15: ")


def test_json_duplicate_keys_are_refused() -> None:
    reason = problems_of('{"id": "a-b", "id": "c-d"}')[""]
    assert "key 'id' appears more than once" in reason


def test_format_comes_from_fmt_then_extension_then_content() -> None:
    as_json = json.dumps(valid_dict())
    assert parse_manifest(as_json).id == "rust-developer"
    assert parse_manifest(as_json.encode(), source="x.json").id == "rust-developer"
    assert parse_manifest(VALID_TOML.encode(), source="x.toml").id == "rust-developer"
    # A JSON file read as TOML fails as TOML: the explicit choice wins.
    assert problems_of(as_json, fmt="toml")[""].startswith("TOML syntax error")
    assert problems_of(VALID_TOML, source="x.json")[""].startswith("JSON syntax error")
    assert "unknown manifest format 'yaml'" in problems_of(VALID_TOML, fmt="yaml")[""]


def test_text_edge_cases() -> None:
    assert parse_manifest(b"\xef\xbb\xbf" + VALID_TOML.encode()).id == "rust-developer"
    assert "not UTF-8" in problems_of(b"id = \xff\xfe")[""]
    assert "not a list" in problems_of("[1, 2]", fmt="json")[""]
    assert "required field is missing" in problems_of("")["name"]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "{",
        "}",
        "[[[",
        "null",
        '"text"',
        "42",
        '{"capabilities": 3}',
        '{"capabilities": [3, {"task_types": 7}, {"task_types": [1, null]}]}',
        '{"dependencies": [{"role": 1, "agent": []}]}',
        '{"model": {"tier": {"x": 1}}, "health_check": []}',
        b"\x00\x01",
        "id = 1\nid = 2",
        "[capabilities]\n[[capabilities]]",
        {"capabilities": [{"id": None}], 3: "non-string key"},
        [1, 2],
        None,
        bytearray(b"id = ["),
    ],
)
def test_no_parser_or_pydantic_exception_escapes(garbage: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_manifest(garbage)
    assert caught.value.problems
    assert all(isinstance(p, Problem) and p.reason for p in caught.value.problems)


def test_builtin_manifests_round_trip_through_json_and_dict() -> None:
    for manifest in builtin_manifests():
        dumped = manifest.model_dump(mode="json")
        assert parse_manifest(dumped) == manifest
        assert parse_manifest(json.dumps(dumped), source=f"{manifest.id}.json") == manifest


def test_load_manifest_file(tmp_path: Path) -> None:
    toml_file = tmp_path / "rust.toml"
    toml_file.write_text(VALID_TOML)
    json_file = tmp_path / "rust.json"
    json_file.write_text(json.dumps(valid_dict()))
    loaded = [load_manifest_file(toml_file), load_manifest_file(str(json_file))]
    assert all(isinstance(m, AgentManifest) and m.id == "rust-developer" for m in loaded)


def test_load_manifest_file_problems_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ValidationFailed) as caught:
        load_manifest_file(missing)
    assert str(missing) in caught.value.message
    assert "does not exist" in caught.value.message
    with pytest.raises(ValidationFailed) as caught:
        load_manifest_file(tmp_path)
    assert "is a directory" in caught.value.message
    broken = tmp_path / "broken.toml"
    broken.write_text("id = \n")
    with pytest.raises(ValidationFailed) as caught:
        load_manifest_file(broken)
    assert f"in {broken}" in caught.value.message
