// The schedules page: every cron schedule of the workspace, a dialog to
// create one with the cron helper, and pause, resume and delete for those
// whose role may. A tick puts a task on the board, which the workspace
// WebSocket announces: the list is read again then (at most once a second),
// so "last run" and "next run" follow without a timer.

import * as api from "../core/api.js";
import { $, debounce, replace } from "../core/dom.js";
import { live } from "../core/live.js";
import { scheduleTable } from "../schedules/list.js";
import { installNewSchedule } from "../schedules/new-schedule.js";
import { renderFatal, showError } from "../ui/notify.js";
import { boot } from "../ui/shell.js";

const me = await boot();
const root = $("#schedules");
const slot = $("#schedule-list");
let schedules = [];

// Focus survives a redraw: the same control of the same row (a Pause button
// is a Resume button once it worked), else the row's first control.
function placeOf(el) {
  const row = el && el.closest ? el.closest("tr[data-id]") : null;
  if (!row) return null;
  return { id: row.dataset.id, index: Array.from(row.querySelectorAll("a, button")).indexOf(el) };
}

function restore(place) {
  const row = place && slot.querySelector(`tr[data-id="${CSS.escape(place.id)}"]`);
  if (!row) return;
  const controls = row.querySelectorAll("a, button");
  (controls[place.index] || controls[0])?.focus();
}

function draw() {
  const place = placeOf(document.activeElement);
  replace(slot, scheduleTable(schedules, me, changed));
  restore(place);
}

function changed(schedule, deletedId) {
  if (schedule) schedules = schedules.map((s) => (s.id === schedule.id ? schedule : s));
  else schedules = schedules.filter((s) => s.id !== deletedId);
  draw();
  if (!schedule) $("#schedule-list-title").focus();
}

async function load() {
  schedules = await api.listAll("/schedules");
  draw();
}

const refresh = debounce(() => load().catch((err) => showError(err, "Could not read the schedules")), 1000);
live.subscribeBoard((message) => {
  if (message.kind === "task") refresh();
});
live.onResync(refresh);

try {
  const [, catalog] = await Promise.all([load(), api.get("/catalog")]);
  const roles = [...new Set(catalog.items.map((m) => m.role))].sort();
  installNewSchedule({
    me,
    roles,
    onCreated: (schedule) => {
      schedules = [...schedules.filter((s) => s.id !== schedule.id), schedule];
      draw();
    },
  });
  root.removeAttribute("aria-busy");
} catch (err) {
  renderFatal(root, err, "The schedules could not be loaded");
}
