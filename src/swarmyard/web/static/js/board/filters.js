// The filter bar: project, role, type and text, mirrored in the address so
// a filtered board can be bookmarked or shared.

import { $, debounce, h } from "../core/dom.js";

const FIELDS = ["project", "role", "type", "q"];

export function readFilters() {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(FIELDS.map((f) => [f, params.get(f) || ""]));
}

function writeFilters(filters) {
  const params = new URLSearchParams();
  for (const f of FIELDS) if (filters[f]) params.set(f, filters[f]);
  const query = params.toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}`);
}

/** Fill the choices, show the current filters, call `onChange(filters, field)` on every change. */
export function installFilters({ projects, roles, initial, onChange }) {
  const form = $("#filters");
  const fields = {
    project: $("#filter-project"),
    role: $("#filter-role"),
    type: $("#filter-type"),
    q: $("#filter-text"),
  };
  fields.project.append(...projects.map((p) => h("option", { value: p.id }, p.name)));
  fields.role.append(...roles.map((r) => h("option", { value: r }, r)));
  for (const f of FIELDS) fields[f].value = initial[f];
  const current = () => Object.fromEntries(FIELDS.map((f) => [f, fields[f].value.trim()]));
  const changed = (field) => {
    const filters = current();
    writeFilters(filters);
    onChange(filters, field);
  };
  for (const f of ["project", "role", "type"]) fields[f].addEventListener("change", () => changed(f));
  fields.q.addEventListener("input", debounce(() => changed("q"), 150));
  form.addEventListener("submit", (event) => event.preventDefault());
}
