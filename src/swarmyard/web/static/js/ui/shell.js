// What every signed-in page does first: theme, stray-error reporting, the
// session (or a trip to the sign-in page), the header's session controls
// and the live connection's state.

import { $$, h, replace } from "../core/dom.js";
import { live } from "../core/live.js";
import { requireSession, signOut, switchWorkspace, watchExpiry } from "../core/session.js";
import { catchStrays, renderFatal } from "./notify.js";
import { installThemeToggle } from "./theme.js";

const LIVE_TEXT = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
};

function workspaceSwitcher(me) {
  if (me.kind !== "password" || me.workspaces.length < 2) {
    return h("span", { class: "badge", title: "Workspace" }, me.workspaceId);
  }
  const select = h(
    "select",
    { id: "workspace-switcher", "aria-label": "Workspace" },
    me.workspaces.map((ws) =>
      h("option", { value: ws.id, selected: ws.id === me.workspaceId }, `${ws.name || ws.id} (${ws.role})`),
    ),
  );
  select.addEventListener("change", () => switchWorkspace(select.value));
  return select;
}

function sessionControls(me) {
  const out = h("button", { type: "button", class: "btn btn-small", id: "sign-out" }, "Sign out");
  out.addEventListener("click", () => signOut());
  return [
    workspaceSwitcher(me),
    h("span", { class: "who" }, me.principal.name || me.principal.id),
    h("span", { class: "badge", id: "role-badge", title: "Your role in this workspace" }, me.role),
    out,
  ];
}

/** Navigation items that need an action (data-action) are shown only to sessions that have it. */
function showAllowedNav(me) {
  for (const item of $$(".main-nav [data-action]")) item.hidden = !me.can(item.dataset.action);
}

function showLiveState() {
  const el = document.getElementById("live-status");
  if (!el) return;
  live.onStatus((state) => {
    el.hidden = state === "idle";
    el.dataset.state = state;
    el.textContent = LIVE_TEXT[state] || "";
  });
}

/** Boot a signed-in page; answers the `Me` of the session (see core/session.js). */
export async function boot() {
  installThemeToggle();
  catchStrays();
  watchExpiry();
  try {
    const me = await requireSession();
    document.body.dataset.role = me.role;
    replace(document.getElementById("session-slot"), sessionControls(me));
    showAllowedNav(me);
    showLiveState();
    return me;
  } catch (err) {
    if (err && err.code === "session_expired") return new Promise(() => {});
    renderFatal(document.getElementById("main"), err, "Your session could not be loaded");
    throw err;
  }
}
