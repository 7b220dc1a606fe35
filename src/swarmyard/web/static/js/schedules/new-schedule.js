// The "new schedule" dialog: a name, when it runs (with the cron helper's
// presets and next ticks), and the task each tick puts on the board.

import * as api from "../core/api.js";
import { $, h, replace } from "../core/dom.js";
import { ApiError, messageOf } from "../core/errors.js";
import { toast } from "../ui/notify.js";
import { installCronHelper } from "./cron.js";

function bodyOf(form) {
  const data = new FormData(form);
  const text = (name) => String(data.get(name) || "").trim();
  const task = { title: text("title"), type: data.get("type"), priority: data.get("priority") };
  if (text("required_role")) task.required_role = text("required_role");
  return {
    name: text("name"),
    cron: text("cron"),
    timezone: text("timezone") || "UTC",
    missed: data.get("missed"),
    task,
  };
}

function problemsView(err) {
  const lines = err instanceof ApiError ? err.problems : [];
  return [h("span", {}, messageOf(err)), lines.length ? h("ul", {}, lines.map((l) => h("li", {}, l))) : null];
}

/** Show the New schedule button to those who may, and run its dialog. */
export function installNewSchedule({ me, roles, onCreated }) {
  const button = $("#new-schedule");
  const dialog = $("#new-schedule-dialog");
  const form = $("#new-schedule-form");
  const errorBox = $("#ns-error");
  if (!me.can("schedule.create")) return;
  button.hidden = false;

  const roleSelect = form.elements.required_role;
  roleSelect.append(...roles.map((r) => h("option", { value: r }, r)));
  const helper = installCronHelper({
    presets: $("#ns-presets"),
    cron: form.elements.cron,
    timezone: form.elements.timezone,
    output: $("#ns-preview"),
  });

  button.addEventListener("click", () => {
    form.reset();
    errorBox.textContent = "";
    dialog.showModal();
    form.elements.name.focus();
    helper.refresh();
  });
  $("[data-close]", dialog).addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => button.focus());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const create = $("#ns-create");
    create.disabled = true;
    errorBox.textContent = "";
    try {
      const schedule = await api.post("/schedules", bodyOf(form));
      dialog.close();
      onCreated(schedule);
      toast(`Created the schedule “${schedule.name}”`);
    } catch (err) {
      replace(errorBox, problemsView(err));
    } finally {
      create.disabled = false;
    }
  });
}
