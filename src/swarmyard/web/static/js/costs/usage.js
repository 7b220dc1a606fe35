// Where the money went: the ledger grouped by provider, model, role and day,
// and the most expensive tasks and runs.

import * as api from "../core/api.js";
import { h } from "../core/dom.js";
import { count, money } from "../core/format.js";
import { barChart, columnChart } from "../ui/charts.js";

export const DAYS = 30;
const TOP = 10;

function sinceDate(days) {
  const date = new Date(Date.now() - (days - 1) * 86_400_000);
  return date.toISOString().slice(0, 10);
}

function query(groupBy, limit = 100) {
  return `/usage?group_by=${groupBy}&since=${sinceDate(DAYS)}&limit=${limit}`;
}

function rowText(row) {
  return `${money(row.cost_usd)} · ${count(row.calls)} calls · ${count(row.tokens_in + row.tokens_out)} tokens`;
}

function bars(rows, label, { name = (r) => r.key || "—", href = null } = {}) {
  return barChart(
    rows.map((r) => ({ label: name(r), value: r.cost_usd, text: rowText(r), href: href ? href(r) : null })),
    { label, empty: "No model call in this period." },
  );
}

/** Every day of the period, the quiet ones too, oldest first. */
function days(rows) {
  const byDay = new Map(rows.map((r) => [r.key, r]));
  const out = [];
  for (let i = DAYS - 1; i >= 0; i -= 1) {
    const day = new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10);
    const row = byDay.get(day);
    out.push({ label: day.slice(5), value: row ? row.cost_usd : 0, text: row ? rowText(row) : "nothing" });
  }
  return out;
}

async function titles(rows) {
  const found = await Promise.all(
    rows.map((r) => (r.key ? api.get(`/tasks/${encodeURIComponent(r.key)}`).catch(() => null) : null)),
  );
  return new Map(found.filter(Boolean).map((t) => [t.id, t.title]));
}

export async function readUsage() {
  const [byProvider, byModel, byRole, byDay, byTask, byRun] = await Promise.all([
    api.get(query("provider")),
    api.get(query("model")),
    api.get(query("role")),
    api.get(query("day")),
    api.get(query("task", TOP)),
    api.get(query("run", TOP)),
  ]);
  return { byProvider, byModel, byRole, byDay, byTask, byRun, taskTitles: await titles(byTask.items) };
}

function total(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

export function totals(usage) {
  const t = usage.byModel.totals;
  return h(
    "dl",
    { class: "console-stats" },
    total(`Cost, last ${DAYS} days`, money(t.cost_usd)),
    total("Model calls", count(t.calls)),
    total("Failed calls", count(t.failed_calls)),
    total("Tokens in", count(t.tokens_in)),
    total("Tokens out", count(t.tokens_out)),
  );
}

export function usageCharts(usage) {
  const chart = (id, title, body) => h("section", { class: "usage-chart", "aria-labelledby": id }, h("h3", { id }, title), body);
  return [
    chart("by-day-title", "By day", columnChart(days(usage.byDay.items), { label: "Cost by day" })),
    h(
      "div",
      { class: "usage-grid" },
      chart("by-provider-title", "By provider", bars(usage.byProvider.items, "Cost by provider")),
      chart("by-model-title", "By model", bars(usage.byModel.items, "Cost by model")),
      chart("by-role-title", "By role", bars(usage.byRole.items, "Cost by role")),
    ),
  ];
}

export function mostExpensive(usage) {
  const taskName = (r) => usage.taskTitles.get(r.key) || r.key || "—";
  return h(
    "div",
    { class: "usage-grid" },
    h(
      "section",
      { class: "usage-chart", "aria-labelledby": "top-tasks-title" },
      h("h3", { id: "top-tasks-title" }, "Tasks"),
      bars(usage.byTask.items, "Most expensive tasks", { name: taskName, href: (r) => (r.key ? `/tasks/${encodeURIComponent(r.key)}` : null) }),
    ),
    h(
      "section",
      { class: "usage-chart", "aria-labelledby": "top-runs-title" },
      h("h3", { id: "top-runs-title" }, "Runs"),
      bars(usage.byRun.items, "Most expensive runs", { href: (r) => (r.key ? `/runs/${encodeURIComponent(r.key)}` : null) }),
    ),
  );
}
