"""docs/authorization.md shows the catalogue as it is, not as it was."""

from __future__ import annotations

from pathlib import Path

from swarmyard.authz import actions_markdown_table

DOC = Path(__file__).parents[2] / "docs" / "authorization.md"
START = "<!-- actions-table:start (generated from swarmyard.authz.ACTIONS) -->"
END = "<!-- actions-table:end -->"


def test_the_docs_table_is_the_generated_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text, f"{DOC} lost its table start marker"
    assert END in text, f"{DOC} lost its table end marker"
    table = text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert table == actions_markdown_table(), (
        "docs/authorization.md is out of date; paste between its markers the output of "
        "swarmyard.authz.actions_markdown_table()"
    )
