// Pieces both halves of the agents page use.

import { messageOf } from "../core/errors.js";
import { h } from "../core/dom.js";

export function badge(text, tone) {
  return h("span", { class: ["badge", tone && `badge-${tone}`] }, text);
}

export function fact(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

/** An error shown where the thing it is about would be. */
export function renderInlineError(err, doing) {
  return h("p", { class: "notice notice-error", role: "alert" }, `${doing}: ${messageOf(err)}`);
}

/** The number input of a replicas count, labelled for its agent or manifest. */
export function replicasInput(id, value, max, label) {
  return h("input", {
    id,
    type: "number",
    inputmode: "numeric",
    min: 1,
    max,
    step: 1,
    value,
    required: true,
    class: "replicas-input",
    "aria-label": label,
  });
}
