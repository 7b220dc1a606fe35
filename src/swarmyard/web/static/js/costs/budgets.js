// Budgets: each scope's windows with utilisation against the 80% (economy)
// and 100% marks; admins set, change and remove them. Limits travel as
// whole cents (the API's unit) and are shown and typed in dollars.

import * as api from "../core/api.js";
import { h, replace } from "../core/dom.js";
import { money } from "../core/format.js";
import { confirmAction } from "../ui/confirm.js";
import { utilisationBar } from "../ui/charts.js";
import { showError, toast } from "../ui/notify.js";

const SCOPES = [
  ["workspace", "The whole workspace"],
  ["role", "A role"],
  ["project", "A project"],
  ["agent", "An agent"],
];
const TIER_TEXT = {
  normal: "normal",
  economy: "economy: cheaper models from here on",
  exhausted: "exhausted",
};

function dollars(cents) {
  return cents === null || cents === undefined ? "" : (cents / 100).toFixed(2);
}

export function scopeName(budget, names) {
  if (budget.scope === "workspace") return "Whole workspace";
  const label = { role: "Role", project: "Project", agent: "Agent" }[budget.scope] || budget.scope;
  return `${label}: ${names.get(`${budget.scope}:${budget.scope_id}`) || budget.scope_id}`;
}

function windowRow(budget, window, name) {
  const spent = window.spent_cents / 100;
  const reserved = window.reserved_cents / 100;
  const limit = window.limit_cents / 100;
  const period = window.period === "month" ? "This month" : "This week";
  return h(
    "li",
    { class: ["budget-window", `tier-${window.tier}`] },
    h("span", { class: "budget-period" }, period),
    utilisationBar(window.utilisation, { label: `${name}, ${period.toLowerCase()}` }),
    h(
      "span",
      { class: "budget-figures" },
      `${money(spent)} of ${money(limit)}`,
      reserved ? ` (+${money(reserved)} held)` : "",
      ` · ${Math.round(window.utilisation * 100)}% · ${TIER_TEXT[window.tier] || window.tier}`,
    ),
  );
}

function centsOf(input) {
  const text = input.value.trim();
  return text === "" ? null : Math.round(Number(text) * 100);
}

function moneyInput(id, value, label) {
  return h("input", { id, type: "number", min: 0, step: "0.01", inputmode: "decimal", value, class: "money-input", "aria-label": label });
}

/** The form that sets a budget: for a new one (scope chosen) or an existing one. */
function budgetForm({ budget = null, choices, onSaved }) {
  const key = budget ? `${budget.scope}-${budget.scope_id || "ws"}` : "new";
  const scope = h(
    "select",
    { id: `budget-scope-${key}`, "aria-label": "Scope", disabled: Boolean(budget) },
    SCOPES.map(([value, text]) => h("option", { value, selected: budget ? budget.scope === value : value === "role" }, text)),
  );
  const target = h("select", { id: `budget-target-${key}`, "aria-label": "Which one", disabled: Boolean(budget) });
  const monthly = moneyInput(`budget-monthly-${key}`, dollars(budget?.monthly_cents), "Monthly limit in dollars");
  const weekly = moneyInput(`budget-weekly-${key}`, dollars(budget?.weekly_cents), "Weekly limit in dollars");
  const onExceed = h(
    "select",
    { id: `budget-exceed-${key}`, "aria-label": "When it is spent" },
    h("option", { value: "fallback", selected: budget?.on_exceed !== "refuse" }, "fall back to the cheapest model"),
    h("option", { value: "refuse", selected: budget?.on_exceed === "refuse" }, "refuse the call"),
  );
  const fillTargets = () => {
    const options = budget ? [[budget.scope_id, budget.scope_id]] : choices[scope.value] || [];
    replace(target, options.map(([value, text]) => h("option", { value }, text)));
    target.hidden = scope.value === "workspace";
  };
  scope.addEventListener("change", fillTargets);
  fillTargets();
  const save = h("button", { type: "submit", class: "btn btn-small btn-primary" }, budget ? "Save" : "Set budget");
  const form = h(
    "form",
    { class: "budget-form", "aria-label": budget ? "Change this budget" : "Set a budget" },
    budget ? null : h("label", { for: scope.id }, "Scope"),
    budget ? null : scope,
    budget ? null : target,
    h("label", { for: monthly.id }, "Monthly $"),
    monthly,
    h("label", { for: weekly.id }, "Weekly $"),
    weekly,
    h("label", { for: onExceed.id }, "When spent"),
    onExceed,
    save,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      scope: budget ? budget.scope : scope.value,
      scope_id: budget ? budget.scope_id || "" : scope.value === "workspace" ? "" : target.value,
      monthly_cents: centsOf(monthly),
      weekly_cents: centsOf(weekly),
      on_exceed: onExceed.value,
    };
    save.disabled = true;
    try {
      await api.put("/budgets", body);
      toast(budget ? "The budget is changed." : "The budget is set.");
      onSaved();
    } catch (err) {
      showError(err, "Could not set the budget");
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

async function remove(budget, name, onSaved) {
  const yes = await confirmAction({
    title: "Remove this budget?",
    message: `${name} will have no limit. What it spent stays on record.`,
    confirm: "Remove",
  });
  if (!yes) return;
  const path = budget.scope === "workspace" ? "/budgets/workspace" : `/budgets/${encodeURIComponent(budget.scope)}/${encodeURIComponent(budget.scope_id)}`;
  try {
    await api.del(path);
    toast("The budget is removed.");
    onSaved();
  } catch (err) {
    showError(err, "Could not remove the budget");
  }
}

function budgetCard(budget, { me, names, choices, onSaved }) {
  const name = scopeName(budget, names);
  const canWrite = me.can("budget.write");
  const removeButton = canWrite ? h("button", { type: "button", class: "btn btn-small btn-danger-outline" }, "Remove") : null;
  removeButton?.addEventListener("click", () => remove(budget, name, onSaved));
  return h(
    "article",
    { class: "budget", dataset: { scope: `${budget.scope}:${budget.scope_id || ""}` }, "aria-label": name },
    h(
      "header",
      { class: "budget-head" },
      h("h3", {}, name),
      h("span", { class: "muted" }, budget.on_exceed === "refuse" ? "refuses calls once spent" : "falls back to the cheapest model once spent"),
      removeButton,
    ),
    h("ul", { class: "budget-windows" }, budget.windows.map((w) => windowRow(budget, w, name))),
    canWrite ? h("details", { class: "budget-edit" }, h("summary", {}, "Change"), budgetForm({ budget, choices, onSaved })) : null,
  );
}

/** `choices`: scope -> [[id, label]] for the new-budget form; `names`: "scope:id" -> label. */
export function budgetsSection(budgets, context) {
  const list = budgets.length
    ? h("div", { class: "budget-list" }, budgets.map((b) => budgetCard(b, context)))
    : h("p", { class: "muted" }, "No budget is set: models may cost anything.");
  const adder = context.me.can("budget.write")
    ? h("div", { class: "budget-new" }, h("h3", {}, "Set a budget"), budgetForm({ choices: context.choices, onSaved: context.onSaved }))
    : null;
  return [list, adder];
}
