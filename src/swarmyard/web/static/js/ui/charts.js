// Small charts drawn from data as SVG. Sizes are attributes in percent
// (the policy forbids style attributes), so a chart takes the width its CSS
// gives it. Every chart also says its numbers in text: the bars are for the
// eye, the text for reading and for screen readers.

import { h, svg } from "../core/dom.js";

function percent(fraction) {
  return `${(Math.max(0, Math.min(1, fraction)) * 100).toFixed(2)}%`;
}

function bar(fraction, tone) {
  return svg(
    "svg",
    { class: "bar", "aria-hidden": "true", focusable: "false" },
    svg("rect", { class: "bar-track", width: "100%", height: "100%", rx: 3 }),
    svg("rect", { class: ["bar-fill", tone && `bar-${tone}`].filter(Boolean).join(" "), width: percent(fraction), height: "100%", rx: 3 }),
  );
}

/**
 * One row per item: its label, a bar as long as its share of the largest,
 * and the value in words. items: [{label, value, text?, tone?, href?}].
 * `max`: the value of a full bar (default: the largest value).
 */
export function barChart(items, { label, format = String, empty = "Nothing yet.", max = null } = {}) {
  if (!items.length) return h("p", { class: "muted" }, empty);
  const full = max ?? (Math.max(...items.map((i) => Number(i.value) || 0)) || 1);
  const rows = items.map((item) =>
    h(
      "li",
      {},
      h("span", { class: "bar-label", title: item.label }, item.href ? h("a", { href: item.href }, item.label) : item.label),
      bar((Number(item.value) || 0) / full, item.tone),
      h("span", { class: "bar-value" }, item.text ?? format(item.value)),
    ),
  );
  return h("div", { class: "chart" }, h("ul", { class: "bar-chart", "aria-label": label }, rows));
}

/**
 * Columns over time (one per day), tallest = the largest value. items:
 * [{label, value, text}]. Every `labelEvery`-th column and the last are
 * labelled under the axis; every column says its label and value to screen
 * readers and in its tooltip.
 */
export function columnChart(items, { label, format = String, empty = "Nothing yet.", labelEvery = 7 } = {}) {
  if (!items.length) return h("p", { class: "muted" }, empty);
  const max = Math.max(...items.map((i) => Number(i.value) || 0)) || 1;
  const last = items.length - 1;
  const columns = items.map((item, index) => {
    const share = (Number(item.value) || 0) / max;
    const text = item.text ?? format(item.value);
    return h(
      "li",
      { title: `${item.label}: ${text}` },
      svg(
        "svg",
        { class: "column", "aria-hidden": "true", focusable: "false" },
        svg("rect", { class: "bar-fill", x: "15%", width: "70%", y: percent(1 - share), height: percent(share), rx: 2 }),
      ),
      h("span", { class: "column-label", "aria-hidden": "true" }, (last - index) % labelEvery === 0 ? item.label : ""),
      h("span", { class: "visually-hidden" }, `${item.label}: ${text}`),
    );
  });
  return h("ul", { class: "column-chart", "aria-label": label }, columns);
}

// A budget may run past its limit; the scale shows up to 125% so both marks fit.
const SCALE = 1.25;

/** A budget window's utilisation, with the 80% (economy) and 100% (exhausted) marks. */
export function utilisationBar(utilisation, { label }) {
  const u = Math.max(0, Number(utilisation) || 0);
  const tone = u >= 1 ? "danger" : u >= 0.8 ? "warn" : "ok";
  return h(
    "div",
    {
      class: "utilisation",
      role: "meter",
      "aria-label": label,
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": Math.round(u * 100),
      "aria-valuetext": `${Math.round(u * 100)}% used`,
    },
    svg(
      "svg",
      { class: "bar bar-wide", "aria-hidden": "true", focusable: "false" },
      svg("rect", { class: "bar-track", width: "100%", height: "100%", rx: 3 }),
      svg("rect", { class: `bar-fill bar-${tone}`, width: percent(u / SCALE), height: "100%", rx: 3 }),
      svg("line", { class: "bar-mark", x1: percent(0.8 / SCALE), x2: percent(0.8 / SCALE), y1: 0, y2: "100%" }),
      svg("line", { class: "bar-mark bar-mark-limit", x1: percent(1 / SCALE), x2: percent(1 / SCALE), y1: 0, y2: "100%" }),
    ),
    h(
      "div",
      { class: "utilisation-scale", "aria-hidden": "true" },
      h("span", { class: "mark-80" }, "80%"),
      h("span", { class: "mark-100" }, "100%"),
    ),
  );
}
