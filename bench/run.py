"""The benchmark suite's one command:

    python bench/run.py [--scenarios S1,S3] [--repeats 3] [--size full|quick]
                        [--only LABEL-SUBSTRING] [--no-peers] [--no-report]

Each contestant of each scenario (`bench/scenarios.py`) runs in a fresh
subprocess, with every framework's telemetry off. Repeats are interleaved
(every contestant once, then every contestant again, in a rotated order),
so a slow minute of the machine hurts all of them alike; each figure is the
median over the repeats. The peers run in their own environment, made on
first use from `bench/requirements-peers.txt` (never project
dependencies). Results go to `bench/results/` (every repeat, as JSON), and
the tables and plots of `docs/benchmarks.md` are written anew from them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _common import NOT_MINE, TELEMETRY_OFF
from machine import describe_machine
from peers_env import ensure_peers_env, python_of
from scenarios import SCENARIOS, Contestant, Scenario

RESULTS = BENCH / "results"


def run_one(scenario: Scenario, c: Contestant, params: dict[str, Any]) -> dict[str, Any]:
    """One repeat of one contestant, in a fresh process: its RESULT, or why none."""
    python = python_of(c.env)
    argv = [python, str(BENCH / "contestants" / f"{c.script}.py"), scenario.key]
    argv += ["--params", json.dumps({**params, **c.params})]
    # The scenarios measure the platform on the offline model, extra installed or not.
    env = {**os.environ, **TELEMETRY_OFF, "SWARMYARD_LOCAL_MODEL": "off"}
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            argv,
            env=env,
            cwd=BENCH.parent,
            capture_output=True,
            text=True,
            timeout=scenario.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {scenario.timeout_s:g} s"}
    elapsed = time.perf_counter() - started
    if proc.returncode == NOT_MINE:
        return {"skipped": (proc.stderr.strip().splitlines() or ["not available"])[-1]}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    result["process_s"] = elapsed
    return result


def order(contestants: tuple[Contestant, ...], repeat: int) -> list[Contestant]:
    """Every contestant once per repeat, rotated so none always goes first."""
    k = repeat % len(contestants)
    return list(contestants[k:] + contestants[:k])


def median_metrics(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each numeric metric over the repeats that reported it."""
    keys: dict[str, list[float]] = {}
    other: dict[str, Any] = {}
    for r in repeats:
        for k, v in r.get("metrics", {}).items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                other.setdefault(k, v)
            elif not math.isnan(v):
                keys.setdefault(k, []).append(float(v))
    return {**other, **{k: statistics.median(v) for k, v in keys.items()}}


def run_scenario(scenario: Scenario, repeats: int, size: str, only: str | None) -> dict[str, Any]:
    params = scenario.full if size == "full" else scenario.quick
    chosen = tuple(c for c in scenario.contestants if not only or only.lower() in c.label.lower())
    raw: dict[str, list[dict[str, Any]]] = {c.label: [] for c in chosen}
    for rep in range(repeats):
        for c in order(chosen, rep):
            print(f"[{scenario.key} {rep + 1}/{repeats}] {c.label} …", flush=True)
            result = run_one(scenario, c, params)
            raw[c.label].append(result)
            shown = result.get("error") or result.get("skipped") or result.get("metrics")
            print(f"    {shown}", flush=True)
            if "skipped" in result:
                break
    out = {"key": scenario.key, "params": params, "contestants": {}}
    for c in chosen:
        got = [r for r in raw[c.label] if "metrics" in r]
        problems = [r.get("error") or r.get("skipped") for r in raw[c.label] if "metrics" not in r]
        out["contestants"][c.label] = {
            **asdict(c),
            "repeats": len(got),
            "median": median_metrics(got),
            "versions": got[0]["versions"] if got else {},
            "notes": got[0].get("notes", []) if got else [],
            "problems": problems,
            "raw": raw[c.label],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scenarios", default=",".join(s.key for s in SCENARIOS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", choices=("full", "quick"), default="full")
    parser.add_argument("--only", help="only contestants whose label contains this")
    parser.add_argument(
        "--no-peers", action="store_true", help="skip the peers (no environment made)"
    )
    parser.add_argument(
        "--no-report", action="store_true", help="do not rewrite docs/benchmarks.md"
    )
    args = parser.parse_args()
    wanted = {k.strip().upper() for k in args.scenarios.split(",") if k.strip()}
    unknown = wanted - {s.key for s in SCENARIOS}
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: S1 … S6")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    envs = {"project"} | (set() if args.no_peers else ensure_peers_env())
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    suite: dict[str, Any] = {
        "started": started,
        "size": args.size,
        "repeats": args.repeats,
        "machine": describe_machine(),
        "scenarios": {},
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{started.replace(':', '')}.json"
    for scenario in SCENARIOS:
        if scenario.key not in wanted:
            continue
        chosen = _runnable(scenario, envs)
        suite["scenarios"][scenario.key] = run_scenario(chosen, args.repeats, args.size, args.only)
        # After each scenario: a run stopped later keeps what it measured.
        path.write_text(json.dumps(suite, indent=1))
    print(f"results: {path}")
    if not args.no_report:
        from report import write_report  # only when reporting: it needs more

        write_report(suite, path)


def _runnable(scenario: Scenario, envs: set[str]) -> Scenario:
    """The scenario with only the contestants whose environment is there."""
    from dataclasses import replace

    return replace(scenario, contestants=tuple(c for c in scenario.contestants if c.env in envs))


if __name__ == "__main__":
    main()
