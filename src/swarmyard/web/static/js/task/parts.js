// The pieces of the task page: facts, related tasks, the runs table.

import { h } from "../core/dom.js";
import { count, dateTime, duration, elapsedMs, money, statusLabel } from "../core/format.js";

export function statusBadge(status) {
  return h("span", { class: ["badge", `badge-status-${status}`] }, statusLabel(status));
}

function fact(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

export function facts(task, who) {
  return h(
    "dl",
    { class: "facts" },
    fact("Status", statusBadge(task.status)),
    fact("Type", task.type),
    fact("Priority", task.priority),
    fact("Complexity", task.complexity),
    fact("Role", task.required_role || "any"),
    fact("Assignee", who),
    fact("Cost so far", money(task.cost_usd)),
    fact("Tokens", `${count(task.tokens_in)} in · ${count(task.tokens_out)} out`),
    fact("Attempts", `${task.attempts} of ${task.max_attempts}`),
    fact("Created", dateTime(task.created_at)),
    fact("Finished", dateTime(task.finished_at)),
  );
}

export function taskLine(task) {
  return h(
    "li",
    { dataset: { id: task.id } },
    statusBadge(task.status),
    h("a", { href: `/tasks/${encodeURIComponent(task.id)}` }, task.title),
    h("span", { class: "muted" }, `${task.type} · ${money(task.cost_usd)}`),
  );
}

export function taskList(tasks, empty) {
  if (!tasks.length) return h("p", { class: "muted" }, empty);
  return h("ul", { class: "item-list" }, tasks.map(taskLine));
}

export function runsTable(runs) {
  if (!runs.length) return h("p", { class: "muted" }, "No run yet: the task waits for an agent.");
  const head = ["Run", "Attempt", "Role", "Status", "Model", "Tokens", "Cost", "Started", "Duration"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        runs.map((r) =>
          h(
            "tr",
            { dataset: { runId: r.id } },
            h("td", {}, h("a", { href: `/runs/${encodeURIComponent(r.id)}` }, r.id)),
            h("td", { class: "num" }, String(r.attempt)),
            h("td", {}, r.role),
            h("td", {}, statusBadge(r.status)),
            h("td", {}, r.model || "—"),
            h("td", { class: "num" }, count(r.tokens_in + r.tokens_out)),
            h("td", { class: "num" }, money(r.cost_usd)),
            h("td", {}, dateTime(r.started_at)),
            h("td", { class: "num" }, duration(elapsedMs(r.started_at, r.finished_at))),
          ),
        ),
      ),
    ),
  );
}
