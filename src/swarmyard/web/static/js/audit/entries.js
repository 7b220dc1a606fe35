// The audit log's rows: when, who (by name where the workspace knows the
// actor), what, on what, with what outcome, and the entry's details.

import { h } from "../core/dom.js";
import { dateTime } from "../core/format.js";

/** Names for actors: "user:<id>" and "api_key:<id>" → a person or a key. */
export function actorNames(members, keys) {
  const names = new Map();
  for (const m of members) names.set(`user:${m.user_id}`, m.name || m.email);
  for (const k of keys) names.set(`api_key:${k.id}`, `key “${k.name}”`);
  return names;
}

function actorCell(actor, names) {
  const name = names.get(actor);
  return h("td", {}, name ? [h("span", {}, name), h("div", { class: "hint mono" }, actor)] : h("span", { class: "mono" }, actor));
}

function resultCell(result) {
  const ok = result === "ok";
  return h("td", {}, h("span", { class: ["badge", ok ? "badge-audit-ok" : "badge-audit-failed"] }, result || "—"));
}

function detailsCell(details) {
  const empty = details === null || details === undefined || (typeof details === "object" && !Object.keys(details).length);
  if (empty) return h("td", { class: "muted" }, "—");
  return h("td", {}, h("details", {}, h("summary", {}, "Details"), h("pre", {}, JSON.stringify(details, null, 2))));
}

export function entryRow(e, names) {
  return h(
    "tr",
    { dataset: { id: e.id } },
    h("td", {}, h("time", { datetime: e.at }, dateTime(e.at))),
    actorCell(e.actor, names),
    h("td", {}, h("code", {}, e.action)),
    h("td", { class: "audit-resource" }, h("code", {}, e.resource)),
    resultCell(e.result),
    h("td", { class: "mono" }, e.ip || "—"),
    detailsCell(e.details),
  );
}

/** An empty table whose body the page appends pages of rows to. */
export function entriesTable() {
  const body = h("tbody", {});
  const table = h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "audit-entries-title" },
    h(
      "table",
      { class: "audit-table" },
      h("thead", {}, h("tr", {}, ["When", "Actor", "Action", "Resource", "Result", "Address", "Details"].map((name) => h("th", { scope: "col" }, name)))),
      body,
    ),
  );
  return { table, body };
}
