// The table of schedules: when each runs, the task it creates, what it last
// did, and (for those who may) pause, resume and delete. On a phone each
// row becomes a card: every cell carries its column's name in data-label.

import * as api from "../core/api.js";
import { h } from "../core/dom.js";
import { dateTime } from "../core/format.js";
import { confirmAction } from "../ui/confirm.js";
import { showError, toast } from "../ui/notify.js";
import { describe, inZone } from "./cron.js";

const path = (s) => `/schedules/${encodeURIComponent(s.id)}`;

function cell(label, ...children) {
  return h("td", { dataset: { label } }, h("div", { class: "cell-body" }, ...children));
}

function whenCell(s) {
  const words = describe(s.cron);
  return cell("When", h("code", {}, s.cron), words ? h("span", { class: "hint" }, ` ${words}`) : null, h("div", { class: "hint" }, s.timezone));
}

function taskCell(s) {
  const t = s.task || {};
  return cell(
    "Task",
    h("span", { class: "schedule-task-title" }, t.title || "—"),
    " ",
    h("span", { class: "badge" }, t.type || "?"),
    t.priority && t.priority !== "normal" ? [" ", h("span", { class: ["badge", `badge-priority-${t.priority}`] }, t.priority)] : null,
    h("div", { class: "hint" }, t.required_role ? `for a ${t.required_role}` : "any role"),
  );
}

function stateCell(s) {
  return cell(
    "State",
    h("span", { class: ["badge", s.enabled ? "badge-schedule-active" : "badge-schedule-paused"], dataset: { scheduleState: s.enabled ? "active" : "paused" } }, s.enabled ? "Active" : "Paused"),
  );
}

function nextCell(s) {
  if (!s.enabled) return cell("Next run", h("span", { class: "muted" }, "— (paused)"));
  return cell("Next run", h("time", { datetime: s.next_run_at, title: `${dateTime(s.next_run_at)} your time` }, inZone(s.next_run_at, s.timezone)));
}

function lastCell(s) {
  if (!s.last_run_at) return cell("Last run", h("span", { class: "muted" }, "never"));
  const task = s.last_task_id ? h("a", { href: `/tasks/${encodeURIComponent(s.last_task_id)}` }, "its task") : null;
  return cell("Last run", h("time", { datetime: s.last_run_at }, dateTime(s.last_run_at)), task ? [" · ", task] : null, h("div", { class: "hint" }, `${s.runs} task${s.runs === 1 ? "" : "s"} so far`));
}

function actionsCell(s, me, onChanged) {
  const buttons = [];
  if (me.can("schedule.pause")) {
    const toggle = h("button", { type: "button", class: "btn btn-small", "aria-label": `${s.enabled ? "Pause" : "Resume"} ${s.name}` }, s.enabled ? "Pause" : "Resume");
    // Not disabled while the API answers: a disabled button drops the focus,
    // and the keyboard's place is what the redraw keeps.
    toggle.addEventListener("click", async () => {
      if (toggle.getAttribute("aria-disabled") === "true") return;
      toggle.setAttribute("aria-disabled", "true");
      try {
        const changed = await api.patch(path(s), { enabled: !s.enabled });
        toast(changed.enabled ? `“${s.name}” runs again.` : `“${s.name}” is paused.`);
        onChanged(changed);
      } catch (err) {
        showError(err, `Could not ${s.enabled ? "pause" : "resume"} “${s.name}”`);
      } finally {
        toggle.removeAttribute("aria-disabled");
      }
    });
    buttons.push(toggle);
  }
  if (me.can("schedule.delete")) {
    const remove = h("button", { type: "button", class: "btn btn-small btn-danger-outline", "aria-label": `Delete ${s.name}` }, "Delete");
    remove.addEventListener("click", async () => {
      const yes = await confirmAction({
        title: "Delete this schedule?",
        message: `“${s.name}” will create no more tasks. Tasks it already created stay on the board.`,
        confirm: "Delete the schedule",
      });
      if (!yes) {
        remove.focus();
        return;
      }
      try {
        await api.del(path(s));
        toast(`“${s.name}” is deleted.`);
        onChanged(null, s.id);
      } catch (err) {
        showError(err, `Could not delete “${s.name}”`);
        remove.focus();
      }
    });
    buttons.push(remove);
  }
  return buttons.length ? cell("Actions", h("div", { class: "schedule-actions" }, buttons)) : null;
}

/**
 * The table, or a sentence when there is nothing to list. `onChanged(schedule)`
 * after a pause or resume, `onChanged(null, id)` after a delete.
 */
export function scheduleTable(schedules, me, onChanged) {
  if (!schedules.length) {
    const hint = me.can("schedule.create") ? " Create one with New schedule." : "";
    return h("p", { class: "muted" }, `No schedule yet.${hint}`);
  }
  const acts = me.can("schedule.pause") || me.can("schedule.delete");
  const heads = ["Name", "When", "Task", "State", "Next run", "Last run", ...(acts ? ["Actions"] : [])];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "schedule-table", "aria-labelledby": "schedule-list-title" },
      h("thead", {}, h("tr", {}, heads.map((name) => h("th", { scope: "col" }, name)))),
      h(
        "tbody",
        {},
        schedules.map((s) =>
          h(
            "tr",
            { dataset: { id: s.id } },
            h("th", { scope: "row", dataset: { label: "Name" } }, s.name),
            whenCell(s),
            taskCell(s),
            stateCell(s),
            nextCell(s),
            lastCell(s),
            acts ? actionsCell(s, me, onChanged) : null,
          ),
        ),
      ),
    ),
  );
}
