// The agents page: what is installed (kept live through the workspace
// WebSocket's agent messages) and the catalogue to install from.
//
// Both halves are drawn again from the API after every change, here or
// elsewhere; focus and open learning panels are carried over, so a person
// working through the page with the keyboard keeps their place.

import * as api from "../core/api.js";
import { $, debounce, replace } from "../core/dom.js";
import { live } from "../core/live.js";
import { catalogueGrid } from "../agents/catalogue.js";
import { installedList } from "../agents/installed.js";
import { renderFatal, showError } from "../ui/notify.js";
import { boot } from "../ui/shell.js";

const me = await boot();
const root = $("#agents");
const installedSlot = $("#installed-agents");
const catalogueSlot = $("#catalogue");
let manifests = [];

// Where focus was, to put it back on the same control of the redrawn card:
// by id (inputs), else by its place among the card's controls (a Pause
// button is a Resume button once it worked), else the card's first control.
const CONTROLS = "a[href], button, input, select, summary";

function placeOf(el) {
  const card = el && el.closest ? el.closest(".agent-card, .manifest-card") : null;
  if (!card) return null;
  const key = card.dataset.id ? `[data-id="${CSS.escape(card.dataset.id)}"]` : `[data-manifest="${CSS.escape(card.dataset.manifest)}"]`;
  return { key, id: el.id || null, index: Array.from(card.querySelectorAll(CONTROLS)).indexOf(el) };
}

function restore(place) {
  const card = place && root.querySelector(place.key);
  if (!card) return;
  const controls = card.querySelectorAll(CONTROLS);
  const byId = place.id ? document.getElementById(place.id) : null;
  (byId || controls[place.index] || controls[0])?.focus();
}

async function draw() {
  const [agents, catalog] = await Promise.all([api.listAll("/agents"), api.get("/catalog")]);
  manifests = catalog.items;
  const ceilings = new Map(manifests.map((m) => [m.id, m.max_concurrent_tasks]));
  const place = placeOf(document.activeElement);
  const open = new Set(Array.from(installedSlot.querySelectorAll("details[open]"), (d) => d.closest("[data-id]")?.dataset.id));
  replace(installedSlot, installedList(agents, me, refresh, ceilings));
  replace(catalogueSlot, catalogueGrid(manifests, agents, me, refresh));
  for (const id of open) {
    const details = installedSlot.querySelector(`[data-id="${CSS.escape(id)}"] details`);
    if (details) details.open = true;
  }
  restore(place);
  root.removeAttribute("aria-busy");
}

const refresh = debounce(() => draw().catch((err) => showError(err, "Could not read the agents")), 100);

live.subscribeBoard((message) => {
  if (message.kind === "agent") refresh();
});
live.onResync(refresh);

try {
  await draw();
} catch (err) {
  renderFatal(root, err, "The agents could not be loaded");
}
