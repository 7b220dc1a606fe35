"""What every contestant of the benchmark suite shares: how it is called, how
it reports, and the measurements themselves (percentiles, CPU, memory).

Standard library only: contestants run under two interpreters, the
project's (Swarmyard, the limit harness) and the peers' environment made
from `requirements-peers.txt` (pydantic-ai, LangGraph, OpenAI Agents SDK,
CrewAI), where Swarmyard is not installed.

A contestant is a script `bench/contestants/<name>.py` run as

    python bench/contestants/<name>.py SCENARIO [--params JSON]

in a fresh process. It measures one repeat of one scenario and prints one
line `RESULT {json}` (the last such line counts) with `metrics`, `versions`
and optional `notes`; anything else it prints is ignored. A scenario it does
not take exits with code 3 (the runner then skips it for that scenario).
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "NOT_MINE",
    "TELEMETRY_OFF",
    "Stopwatch",
    "contestant_main",
    "cpu_seconds",
    "emit",
    "percentile",
    "rss_kib",
    "versions",
]

NOT_MINE = 3  # exit code: this contestant does not take part in that scenario

# Every contestant runs with every framework's telemetry, tracing and
# analytics switched off, so no one pays for a call home (nor tries one on a
# closed network). The runner sets these; contestants that can also switch
# tracing off in code do so.
TELEMETRY_OFF: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "OTEL_SDK_DISABLED": "true",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_CALLBACKS_BACKGROUND": "false",
    "OPENAI_AGENTS_DISABLE_TRACING": "1",
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_TRACKING": "true",
    "LOGFIRE_SEND_TO_LOGFIRE": "false",
    "LOGFIRE_IGNORE_NO_CONFIG": "1",
    "ANONYMIZED_TELEMETRY": "false",
    "HF_HUB_OFFLINE": "1",
    "PYTHONHASHSEED": "0",
}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cpu_seconds(*, children: bool = False) -> float:
    """User + system CPU seconds of this process (and, with `children`, of its
    waited-for children) so far."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def pid_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another live process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int | str = "self") -> int:
    """Resident memory of a process now, in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def versions(*distributions: str) -> dict[str, str]:
    """Installed versions of the named distributions, plus Python's."""
    out = {"python": platform.python_version()}
    for name in distributions:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class Stopwatch:
    """Wall and CPU time of one measured section: `with Stopwatch() as sw: ...`."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Stopwatch:
        gc.collect()
        self._wall0 = time.perf_counter()
        self._cpu0 = cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = cpu_seconds() - self._cpu0


def emit(metrics: dict[str, Any], *, versions: dict[str, str], notes: Iterable[str] = ()) -> None:
    """Report this repeat's figures to the runner."""
    body = {"metrics": metrics, "versions": versions, "notes": list(notes)}
    sys.stdout.write("RESULT " + json.dumps(body) + "\n")
    sys.stdout.flush()


def contestant_main(scenarios: dict[str, Callable[[dict[str, Any]], None]]) -> None:
    """Parse `SCENARIO [--params JSON]` and run that scenario's function with
    the params; exit NOT_MINE for a scenario this contestant does not take."""
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--params", default="{}", help="JSON object of scenario parameters")
    args = parser.parse_args()
    fn = scenarios.get(args.scenario)
    if fn is None:
        sys.exit(NOT_MINE)
    params = json.loads(args.params)
    if not isinstance(params, dict):
        sys.exit("--params must be a JSON object")
    fn(params)
