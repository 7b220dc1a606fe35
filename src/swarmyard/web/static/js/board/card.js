// One card: title, type, priority, who works on it, cost so far, and a dot
// that says whether a run is working on it right now.

import { h } from "../core/dom.js";
import { money } from "../core/format.js";

function dot(task) {
  if (task.status === "in_progress" && task.waiting_reason) {
    // In progress but parked: its run waits for a person's approval.
    const text = `Needs a decision: ${task.waiting_reason}`;
    return h("span", { class: "dot dot-approval", role: "img", "aria-label": text, title: text });
  }
  if (task.status === "in_progress") {
    return h("span", { class: "dot dot-running", role: "img", "aria-label": "A run is working on it", title: "Running" });
  }
  if (task.status === "failed") {
    return h("span", { class: "dot dot-failed", role: "img", "aria-label": "Failed", title: "Failed" });
  }
  if (task.waiting_reason && task.status === "todo") {
    const text = `Waiting: ${task.waiting_reason}`;
    return h("span", { class: "dot dot-waiting", role: "img", "aria-label": text, title: text });
  }
  return null;
}

/** `who(task)` names the assignee or role; `canMove` adds the drag handle and the move button. */
export function renderCard(task, { who, canMove }) {
  const title = h("a", { class: "card-title", href: `/tasks/${encodeURIComponent(task.id)}` }, task.title);
  const move = canMove
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-ghost btn-small card-move",
          "aria-haspopup": "menu",
          "aria-expanded": "false",
          "aria-label": `Move “${task.title}”`,
          title: "Move to another column (M)",
        },
        "⇄",
      )
    : null;
  const waiting = task.waiting_reason ? h("span", { class: "visually-hidden" }, `, ${task.waiting_reason}`) : null;
  return h(
    "li",
    {
      class: ["card", `card-priority-${task.priority}`],
      dataset: { id: task.id, status: task.status, created: task.created_at || "" },
      draggable: canMove ? "true" : null,
      "aria-describedby": canMove ? "board-keys" : null,
    },
    h("div", { class: "card-head" }, dot(task), title, move),
    h(
      "div",
      { class: "card-meta" },
      h("span", { class: "badge", title: "Type" }, task.type),
      h("span", { class: ["badge", `badge-priority-${task.priority}`], title: "Priority" }, task.priority),
      task.parent_id ? h("span", { class: "badge", title: "Delegated from another task" }, "subtask") : null,
      task.status === "in_progress" && task.waiting_reason
        ? h("span", { class: "badge badge-status-awaiting_approval", title: task.waiting_reason }, "awaiting approval")
        : null,
    ),
    h(
      "div",
      { class: "card-foot" },
      h("span", { class: "card-who", title: "Assignee or role" }, who(task), waiting),
      h("span", { class: "card-cost", title: "Cost so far" }, money(task.cost_usd)),
    ),
  );
}
