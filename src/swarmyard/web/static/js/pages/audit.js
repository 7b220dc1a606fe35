// The audit log page (admins): the entries newest first, filtered by actor,
// action and moment (kept in the address, so a filtered view can be shared),
// read a page at a time with the API's cursor. Whoever the API refuses gets
// a panel saying so, not an empty table.

import * as api from "../core/api.js";
import { $, h, replace } from "../core/dom.js";
import { actorNames, entriesTable, entryRow } from "../audit/entries.js";
import { renderFatal, showError } from "../ui/notify.js";
import { boot } from "../ui/shell.js";

const PAGE_SIZE = 50;
const FIELDS = ["actor", "action", "since"];

const me = await boot();
const root = $("#audit");
const form = $("#audit-filters");
const section = $("#audit-entries-section");
const slot = $("#audit-entries");
const state = $("#audit-state");
const summary = $("#audit-summary");
const more = $("#audit-more");

let filters = fromAddress();
let names = new Map();
let cursor = null;
let shown = 0;
let body = null;
let generation = 0; // a newer filter's answer wins over a slower, older one

function fromAddress() {
  const query = new URLSearchParams(location.search);
  return Object.fromEntries(FIELDS.map((f) => [f, (query.get(f) || "").trim()]));
}

const pad = (n) => String(n).padStart(2, "0");

/** An ISO moment as a datetime-local input shows it (the browser's clock). */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value) {
  const d = new Date(value);
  return value && !Number.isNaN(d.getTime()) ? d.toISOString() : "";
}

function fillForm() {
  form.elements.actor.value = filters.actor;
  form.elements.action.value = filters.action;
  form.elements.since.value = toLocalInput(filters.since);
}

function readForm() {
  return {
    actor: form.elements.actor.value.trim(),
    action: form.elements.action.value.trim(),
    since: fromLocalInput(form.elements.since.value),
  };
}

function keepInAddress() {
  const query = new URLSearchParams();
  for (const f of FIELDS) if (filters[f]) query.set(f, filters[f]);
  const text = query.toString();
  history.replaceState(null, "", `${location.pathname}${text ? `?${text}` : ""}`);
}

function pathOf(after) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const f of FIELDS) if (filters[f]) query.set(f, filters[f]);
  if (after) query.set("cursor", after);
  return `/audit?${query}`;
}

function filtered() {
  return FIELDS.some((f) => filters[f]);
}

async function readPage(first) {
  const mine = generation;
  const page = await api.get(pathOf(first ? null : cursor));
  if (mine !== generation) return;
  if (first) {
    shown = 0;
    const made = entriesTable();
    body = made.body;
    replace(slot, page.items.length ? made.table : h("p", { class: "muted" }, filtered() ? "No entry matches these filters." : "The audit log is empty."));
  }
  body.append(...page.items.map((e) => entryRow(e, names)));
  shown += page.items.length;
  cursor = page.next_cursor;
  more.hidden = !cursor;
  summary.textContent = shown ? `${shown} entr${shown === 1 ? "y" : "ies"}${cursor ? ", newest first; older ones follow" : ""}.` : "";
}

function refusal(err) {
  return h(
    "section",
    { class: "panel panel-error audit-refusal", role: "alert", "aria-labelledby": "audit-refused-title" },
    h("h2", { id: "audit-refused-title" }, "Only admins can read the audit log"),
    h("p", {}, `Your role in this workspace is ${me.role}. Admins and owners can read who changed what and when; ask one of them if you need an entry.`),
    h("p", { class: "muted" }, `The server answered: ${err.message}`),
    h("p", {}, h("a", { href: "/board" }, "Back to the board")),
  );
}

async function actorChoices() {
  const [members, keys] = await Promise.allSettled([api.listAll(`/workspaces/${encodeURIComponent(me.workspaceId)}/members`), api.listAll("/api-keys")]);
  names = actorNames(members.status === "fulfilled" ? members.value : [], keys.status === "fulfilled" ? keys.value : []);
  replace($("#audit-actors"), [...names].map(([actor, name]) => h("option", { value: actor }, name)));
}

function apply(next) {
  filters = next;
  keepInAddress();
  generation += 1;
  return readPage(true).catch((err) => showError(err, "Could not read the audit log"));
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  apply(readForm());
});
$("#audit-clear").addEventListener("click", () => {
  form.reset();
  apply({ actor: "", action: "", since: "" });
  form.elements.actor.focus();
});
more.addEventListener("click", async () => {
  more.disabled = true;
  try {
    await readPage(false);
  } catch (err) {
    showError(err, "Could not read older entries");
  } finally {
    more.disabled = false;
    if (more.hidden) slot.querySelector(".table-wrap")?.focus();
  }
});

try {
  await actorChoices();
  await readPage(true);
  fillForm();
  form.hidden = false;
  section.hidden = false;
  state.replaceChildren();
  root.removeAttribute("aria-busy");
} catch (err) {
  root.removeAttribute("aria-busy");
  if (err && err.status === 403) replace(state, refusal(err));
  else renderFatal(state, err, "The audit log could not be loaded");
}
