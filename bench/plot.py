"""One PNG per scenario from `docs/benchmarks/results.json`:
`python bench/plot.py docs/benchmarks/results.json`.

A panel per compared figure, a bar per contestant coloured by its part
(Swarmyard, peer, floor, limit), the target as a dashed line; a log scale
where the bars span more than two orders of magnitude, so a 100× gap
stays readable. Runs where matplotlib is (the peers' environment has it).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenarios import SCENARIOS

COLOURS = {"swarmyard": "#2a6fdb", "peer": "#9a9a9a", "floor": "#3c9d5d", "limit": "#e08a1e"}


def plot(store_path: Path) -> None:
    store = json.loads(store_path.read_text())
    out_dir = store_path.parent
    for scenario in SCENARIOS:
        run = store["scenarios"].get(scenario.key)
        if not run:
            continue
        present = [c for c in scenario.contestants if c.label in run["contestants"]]
        panels = []
        for fig in scenario.figures:
            bars = [
                (c, v)
                for c in present
                if isinstance(
                    v := run["contestants"][c.label]["median"].get(fig.metric), int | float
                )
            ]
            if bars and any(v for _, v in bars):
                panels.append((fig, bars))
        if not panels:
            continue
        cols = min(3, len(panels))
        rows = math.ceil(len(panels) / cols)
        figure, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
        for ax in axes.flat[len(panels) :]:
            ax.axis("off")
        for ax, (fig, bars) in zip(axes.flat, panels, strict=False):
            labels = [c.label.replace(" ", "\n", 2) for c, _ in bars]
            values = [v for _, v in bars]
            ax.bar(labels, values, color=[COLOURS[c.part] for c, _ in bars])
            positive = [v for v in values if v > 0]
            if positive and max(positive) / min(positive) > 100:
                ax.set_yscale("log")
            targets = {fig.target_for(c.label) for c, _ in bars} - {None}
            for t in targets:
                if t:
                    ax.axhline(t, linestyle="--", color="#c0392b", linewidth=1)
            ax.set_title(f"{fig.title} ({fig.unit})", fontsize=9)
            ax.tick_params(axis="x", labelsize=6)
            ax.tick_params(axis="y", labelsize=7)
        figure.suptitle(
            f"{scenario.key} — {scenario.title} ({run['size']}, {run['started']})", fontsize=10
        )
        figure.tight_layout()
        figure.savefig(out_dir / f"{scenario.key}.png", dpi=110)
        plt.close(figure)


if __name__ == "__main__":
    plot(Path(sys.argv[1]))
