// The "new task" dialog: the estimate (role, model, likely cost) is asked
// for as the form changes, so the cost is on screen before anything is created.

import * as api from "../core/api.js";
import { $, debounce, h, replace } from "../core/dom.js";
import { ApiError, messageOf } from "../core/errors.js";
import { money, statusLabel } from "../core/format.js";
import { toast } from "../ui/notify.js";

const ESTIMATE_DELAY_MS = 300;

function bodyOf(form) {
  const data = new FormData(form);
  const body = {
    title: String(data.get("title") || "").trim(),
    description: String(data.get("description") || ""),
    type: data.get("type"),
    priority: data.get("priority"),
    complexity: data.get("complexity"),
    status: data.get("status"),
    depends_on: data.getAll("depends_on").map(String),
  };
  const role = String(data.get("required_role") || "");
  const project = String(data.get("project_id") || "");
  if (role) body.required_role = role;
  if (project) body.project_id = project;
  return body;
}

function estimateView(e) {
  const range = e.low_usd !== undefined && e.high_usd !== undefined ? ` (likely ${money(e.low_usd)} – ${money(e.high_usd)})` : "";
  return [
    h("p", { class: "estimate-cost" }, h("strong", {}, `≈ ${money(e.expected_usd)}`), range),
    h(
      "p",
      { class: "hint" },
      `${e.role} · ${e.model} (${e.tier} tier, budget ${e.budget})`,
      e.agent_id ? "" : " · no agent of this role is installed yet",
    ),
    h("p", { class: "hint" }, `${e.reason}. Based on ${e.basis}; one call costs at most ${money(e.max_per_call_usd)}.`),
  ];
}

function problemsView(err) {
  const lines = err instanceof ApiError ? err.problems : [];
  return [h("span", { class: "form-error" }, messageOf(err)), lines.length ? h("ul", {}, lines.map((l) => h("li", {}, l))) : null];
}

function fillSelect(select, options, keepFirst = true) {
  const first = keepFirst ? select.options[0] : null;
  select.replaceChildren(...(first ? [first] : []), ...options);
}

export function installNewTask({ me, state, roles, projects, onCreated }) {
  const button = $("#new-task");
  const dialog = $("#new-task-dialog");
  const form = $("#new-task-form");
  const output = $("#nt-estimate");
  const errorBox = $("#nt-error");
  if (!me.can("task.create")) return;
  button.hidden = false;

  fillSelect(form.elements.required_role, roles.map((r) => h("option", { value: r }, r)));
  fillSelect(form.elements.project_id, projects.map((p) => h("option", { value: p.id }, p.name)));

  let inflight = null;
  const estimate = async () => {
    const body = bodyOf(form);
    inflight?.abort();
    if (!body.title) {
      replace(output, "Give the task a title to see what it would cost.");
      return;
    }
    const controller = new AbortController();
    inflight = controller;
    replace(output, "Estimating…");
    try {
      const answer = await api.post("/tasks/estimate", body, { signal: controller.signal });
      if (inflight === controller) replace(output, estimateView(answer));
    } catch (err) {
      if (err && err.name === "AbortError") return;
      if (inflight === controller) replace(output, problemsView(err));
    }
  };
  const later = debounce(estimate, ESTIMATE_DELAY_MS);
  form.addEventListener("input", later);
  form.addEventListener("change", later);

  button.addEventListener("click", () => {
    form.reset();
    errorBox.textContent = "";
    const open = Array.from(state.tasks.values())
      .filter((t) => t.status !== "cancelled")
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
      .slice(0, 300);
    fillSelect(form.elements.depends_on, open.map((t) => h("option", { value: t.id }, `${t.title} (${statusLabel(t.status)})`)), false);
    replace(output, "Give the task a title to see what it would cost.");
    dialog.showModal();
    form.elements.title.focus();
  });
  $("[data-close]", dialog).addEventListener("click", () => dialog.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const create = $("#nt-create");
    create.disabled = true;
    errorBox.textContent = "";
    try {
      const task = await api.post("/tasks", bodyOf(form));
      dialog.close();
      onCreated(task);
      toast(`Created “${task.title}”`);
    } catch (err) {
      replace(errorBox, problemsView(err));
    } finally {
      create.disabled = false;
    }
  });
}
