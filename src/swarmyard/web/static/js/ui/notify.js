// Telling people what happened: toasts for events and failed actions, an
// error panel when a page cannot show what it is for. Nothing fails silently
// and no failure leaves a blank page.

import { ApiError, messageOf } from "../core/errors.js";
import { h, replace } from "../core/dom.js";

const INFO_MS = 5000;
const ERROR_MS = 12000;

function region() {
  let el = document.getElementById("toasts");
  if (!el) {
    el = h("div", { id: "toasts", class: "toasts", role: "region", "aria-label": "Notifications" });
    document.body.append(el);
  }
  return el;
}

function details(err) {
  const lines = err instanceof ApiError ? err.problems : [];
  return lines.length ? h("ul", {}, lines.map((line) => h("li", {}, line))) : null;
}

export function toast(message, { kind = "info", extra = null } = {}) {
  const error = kind === "error";
  const item = h(
    "div",
    { class: ["toast", `toast-${kind}`], role: error ? "alert" : "status" },
    h("div", { class: "toast-body" }, message, extra),
  );
  const close = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Dismiss" }, "✕");
  close.addEventListener("click", () => item.remove());
  item.append(close);
  region().append(item);
  setTimeout(() => item.remove(), error ? ERROR_MS : INFO_MS);
  return item;
}

/** A failed action: what was attempted, and the API's reason. */
export function showError(err, doing = "") {
  const text = doing ? `${doing}: ${messageOf(err)}` : messageOf(err);
  return toast(text, { kind: "error", extra: details(err) });
}

/** Replace `container` with an error panel: the page could not load what it shows. */
export function renderFatal(container, err, title = "This page could not be loaded") {
  const code = err instanceof ApiError && err.code !== "error" ? h("p", { class: "muted" }, `(${err.code})`) : null;
  container.removeAttribute("aria-busy");
  replace(
    container,
    h(
      "section",
      { class: "panel panel-error", role: "alert" },
      h("h1", {}, title),
      h("p", {}, messageOf(err)),
      details(err),
      code,
      h("p", {}, h("a", { href: "/board" }, "Back to the board")),
    ),
  );
}

/** Whatever escapes a handler still reaches the person. */
export function catchStrays() {
  window.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason;
    if (reason instanceof ApiError && reason.code === "session_expired") return;
    showError(reason, "Something went wrong");
  });
  window.addEventListener("error", (event) => {
    showError(event.error || event.message, "Something went wrong");
  });
}
