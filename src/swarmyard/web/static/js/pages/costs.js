// The costs page: budgets with their utilisation, and where the money went.
// Spending changes as runs finish, so the page reads itself again after the
// board's task messages (at most once a second), not on a timer.

import * as api from "../core/api.js";
import { $, debounce, replace } from "../core/dom.js";
import { live } from "../core/live.js";
import { budgetsSection } from "../costs/budgets.js";
import { mostExpensive, readUsage, totals, usageCharts } from "../costs/usage.js";
import { renderFatal, showError } from "../ui/notify.js";
import { boot } from "../ui/shell.js";

const me = await boot();
const root = $("#costs");
const slots = {
  budgets: $("#budgets"),
  totals: $("#usage-totals"),
  charts: $("#usage-charts"),
  top: $("#most-expensive"),
};

/** What a new budget may be for, and the names to show for ids. */
async function scopes() {
  const [catalog, projects, agents] = await Promise.all([
    api.get("/catalog"),
    api.listAll("/projects"),
    api.listAll("/agents"),
  ]);
  const roles = [...new Set(catalog.items.map((m) => m.role))].sort();
  const choices = {
    workspace: [],
    role: roles.map((r) => [r, r]),
    project: projects.map((p) => [p.id, p.name]),
    agent: agents.map((a) => [a.id, `${a.name} (${a.role})`]),
  };
  const names = new Map();
  for (const [scope, list] of Object.entries(choices)) for (const [id, label] of list) names.set(`${scope}:${id}`, label);
  return { choices, names };
}

let scopeInfo = null;

async function drawBudgets() {
  scopeInfo = scopeInfo || (await scopes());
  const budgets = (await api.get("/budgets")).items;
  // A form being filled in is not redrawn under the person's hands.
  if (slots.budgets.contains(document.activeElement) && document.activeElement.matches("input, select")) return;
  replace(slots.budgets, budgetsSection(budgets, { me, ...scopeInfo, onSaved: () => drawBudgets().catch(failed) }));
}

async function drawUsage() {
  const usage = await readUsage();
  replace(slots.totals, totals(usage));
  replace(slots.charts, usageCharts(usage));
  replace(slots.top, mostExpensive(usage));
}

function failed(err) {
  showError(err, "Could not read the costs");
}

const refresh = debounce(() => Promise.all([drawBudgets(), drawUsage()]).catch(failed), 1000);

live.subscribeBoard((message) => {
  if (message.kind === "task") refresh();
});
live.onResync(refresh);

try {
  await Promise.all([drawBudgets(), drawUsage()]);
  root.removeAttribute("aria-busy");
} catch (err) {
  renderFatal(root, err, "The costs could not be loaded");
}
