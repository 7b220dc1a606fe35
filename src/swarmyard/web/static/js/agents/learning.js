// An agent's learning profile: per task type, the recency-weighted success
// rate the orchestrator scores it by, with how much that figure is worth
// (executions, confidence) and what the work cost on average.

import * as api from "../core/api.js";
import { h, replace } from "../core/dom.js";
import { count, money } from "../core/format.js";
import { barChart } from "../ui/charts.js";
import { renderInlineError } from "./parts.js";

function pct(x) {
  return `${Math.round((Number(x) || 0) * 100)}%`;
}

function chart(profiles, allTypes) {
  const byType = profiles.filter((p) => p.task_type !== allTypes);
  const overall = profiles.find((p) => p.task_type === allTypes);
  if (!byType.length) return h("p", { class: "muted" }, "No finished run yet: nothing learned.");
  const items = byType.map((p) => ({
    label: p.task_type,
    value: p.success_rate,
    tone: p.success_rate >= 0.8 ? "ok" : p.success_rate >= 0.5 ? "warn" : "danger",
    text: `${pct(p.success_rate)} of ${count(p.executions)} · confidence ${pct(p.confidence)} · ${money(p.avg_cost_usd)} avg`,
  }));
  return h(
    "div",
    { class: "learning" },
    barChart(items, { label: "Success rate by task type", max: 1 }),
    overall
      ? h(
          "p",
          { class: "muted" },
          `All types: ${pct(overall.success_rate)} success over ${count(overall.executions)} runs, ${overall.avg_duration_s.toFixed(1)} s on average.`,
        )
      : null,
  );
}

/** A disclosure that reads the profile when first opened, and again when reopened. */
export function learningPanel(agent) {
  const body = h("div", { class: "learning-body" }, h("p", { class: "muted" }, "Loading…"));
  const panel = h("details", { class: "agent-learning" }, h("summary", {}, "Learning profile"), body);
  panel.addEventListener("toggle", async () => {
    if (!panel.open) return;
    try {
      const answer = await api.get(`/agents/${encodeURIComponent(agent.id)}/learning`);
      replace(body, chart(answer.items, answer.all_types));
    } catch (err) {
      replace(body, renderInlineError(err, "The learning profile could not be read"));
    }
  });
  return panel;
}
