"""Write the suite's figures into `docs/benchmarks.md` and its plots.

The newest run of each scenario is kept in `docs/benchmarks/results.json`
(a run of some scenarios replaces only theirs), and the generated part of
the page — between its two marker lines — is rewritten from that file,
with one plot per scenario drawn by `plot.py` (matplotlib, from the peers'
environment when the project's has none).

Ratios read the same way everywhere: "× ahead" is how many times better
Swarmyard's figure is than the other's (faster, fewer, less memory; more
throughput), so above 1 Swarmyard leads and below 1 it trails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from peers_env import PEERS_PYTHON
from scenarios import SCENARIOS, Figure, Scenario

__all__ = ["advantage", "render", "write_report"]

DOCS = BENCH.parent / "docs"
PAGE = DOCS / "benchmarks.md"
STORE = DOCS / "benchmarks" / "results.json"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def advantage(fig: Figure, ours: float, theirs: float) -> float | None:
    """How many times better ours is (>1: ahead); None when it cannot be said."""
    if ours is None or theirs is None:
        return None
    if fig.lower_is_better:
        if ours == 0:
            return None if theirs == 0 else float("inf")
        return theirs / ours
    return None if theirs == 0 else ours / theirs


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if v == float("inf"):
        return "∞"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 0.01 or v == 0:
        return f"{v:.2f}"
    return f"{v:.2g}"


def _ratio(v: float | None) -> str:
    return "—" if v is None else f"{_fmt(v)}×"


def _met(fig: Figure, label: str, value: float | None) -> str:
    target = fig.target_for(label)
    if target is None or value is None:
        return ""
    ok = value <= target if fig.lower_is_better else value >= target
    sign = "≤" if fig.lower_is_better else "≥"
    return f"{sign} {_fmt(target)}: {'met' if ok else 'not met'}"


def _value(run: dict[str, Any], label: str, metric: str) -> float | None:
    c = run["contestants"].get(label)
    if not c:
        return None
    v = c["median"].get(metric)
    return v if isinstance(v, int | float) else None


def _best(
    scenario: Scenario, run: dict[str, Any], fig: Figure, part: str
) -> tuple[str, float] | None:
    found = [
        (c.label, v)
        for c in scenario.contestants
        if c.part == part and (v := _value(run, c.label, fig.metric)) is not None
    ]
    if not found:
        return None
    return (min if fig.lower_is_better else max)(found, key=lambda lv: lv[1])


def _reference(
    scenario: Scenario, run: dict[str, Any], fig: Figure, ours: Any
) -> tuple[str, float] | None:
    """The limit (or floor) that goes with one of our contestants: same mode, if any."""
    refs = [c for c in scenario.contestants if c.part in ("limit", "floor")]
    mode = ours.params.get("mode")
    same = [c for c in refs if c.params.get("mode") == mode] or refs
    for c in same:
        v = _value(run, c.label, fig.metric)
        if v is not None:
            return c.label, v
    return None


def summary_rows(scenario: Scenario, run: dict[str, Any]) -> list[list[str]]:
    rows = []
    for ours in (c for c in scenario.contestants if c.part == "swarmyard"):
        for fig in scenario.figures:
            mine = _value(run, ours.label, fig.metric)
            if mine is None:
                continue
            peer = _best(scenario, run, fig, "peer")
            ref = _reference(scenario, run, fig, ours)
            rows.append(
                [
                    f"{scenario.key} {ours.label}",
                    f"{fig.title} ({fig.unit})",
                    _fmt(mine),
                    f"{_fmt(peer[1])} ({peer[0]})" if peer else "—",
                    _ratio(advantage(fig, mine, peer[1])) if peer else "—",
                    f"{_fmt(ref[1])} ({ref[0]})" if ref else "—",
                    _ratio(advantage(fig, mine, ref[1])) if ref else "—",
                    _met(fig, ours.label, mine),
                ]
            )
    return rows


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def scenario_section(scenario: Scenario, run: dict[str, Any]) -> list[str]:
    labels = [c.label for c in scenario.contestants if c.label in run["contestants"]]
    lines = [f"### {scenario.key} — {scenario.title}", "", f"{scenario.what}.", ""]
    lines.append("Parameters: " + ", ".join(f"`{k}={v}`" for k, v in run["params"].items()) + ".")
    lines.append("")
    rows = []
    for fig in scenario.figures:
        cells = [_fmt(_value(run, label, fig.metric)) for label in labels]
        if all(c == "—" for c in cells):
            continue
        rows.append([f"{fig.title} ({fig.unit})", *cells])
    lines += _table(["figure (median)", *labels], rows)
    lines.append("")
    for label in labels:
        c = run["contestants"][label]
        bits = [f"{c['repeats']} repeats"] + [f"{k} {v}" for k, v in c["versions"].items()]
        lines.append(f"- **{label}**: " + ", ".join(bits) + ".")
        lines += [f"  - {n}" for n in c["notes"]]
        lines += [f"  - not measured: {p}" for p in c["problems"] if p]
    lines += ["", f"![{scenario.key}](benchmarks/{scenario.key}.png)", ""]
    return lines


def render(store: dict[str, Any]) -> str:
    lines = [START, ""]
    runs = store.get("scenarios", {})
    rows: list[list[str]] = []
    for scenario in SCENARIOS:
        if scenario.key in runs:
            rows += summary_rows(scenario, runs[scenario.key])
    head = [
        "scenario",
        "figure",
        "Swarmyard",
        "best peer",
        "× ahead",
        "limit / floor",
        "× ahead",
        "target",
    ]
    lines += _table(head, rows)
    lines.append("")
    for scenario in SCENARIOS:
        run = runs.get(scenario.key)
        if run:
            m = run["machine"]
            lines += scenario_section(scenario, run)
            lines.append(
                f"Measured {run['started']}, size `{run['size']}`, on {m['cores']} cores "
                f"({m['cpu']}), {m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}."
            )
            lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_report(suite: dict[str, Any], results_path: Path) -> None:
    store = json.loads(STORE.read_text()) if STORE.exists() else {"scenarios": {}}
    for key, run in suite["scenarios"].items():
        slim = {
            **run,
            "contestants": {k: {**v, "raw": None} for k, v in run["contestants"].items()},
        }
        store["scenarios"][key] = {
            **slim,
            "started": suite["started"],
            "size": suite["size"],
            "machine": suite["machine"],
            "source": results_path.name,
        }
    STORE.parent.mkdir(parents=True, exist_ok=True)
    STORE.write_text(json.dumps(store, indent=1, sort_keys=True) + "\n")
    page = PAGE.read_text()
    head, _, rest = page.partition(START)
    _, _, tail = rest.partition(END)
    PAGE.write_text(head + render(store) + tail)
    python = PEERS_PYTHON if PEERS_PYTHON.exists() else Path(sys.executable)
    done = subprocess.run([str(python), str(BENCH / "plot.py"), str(STORE)], check=False)
    if done.returncode != 0:
        print("plots not drawn (matplotlib missing?)", file=sys.stderr)
    print(f"report: {PAGE}")
