// The cron helper: presets for the common cases, and the next ticks of
// whatever is typed, as the server computes them (GET /schedules/preview),
// so the preview and the schedule can never disagree about an expression.

import * as api from "../core/api.js";
import { debounce, h, replace } from "../core/dom.js";
import { ApiError, messageOf } from "../core/errors.js";

const PREVIEW_DELAY_MS = 250;
const PREVIEW_COUNT = 5;

export const PRESETS = [
  ["0 * * * *", "Every hour"],
  ["0 9 * * *", "Every day at 9:00"],
  ["0 9 * * 1-5", "Every weekday at 9:00"],
  ["0 9 * * 1", "Every Monday at 9:00"],
  ["0 9 1 * *", "The 1st of every month at 9:00"],
];

const normalise = (cron) => cron.trim().split(/\s+/).join(" ");

/** The preset's wording of an expression, or null. */
export function describe(cron) {
  const found = PRESETS.find(([expr]) => expr === normalise(String(cron || "")));
  return found ? found[1] : null;
}

/** A moment as read on a clock in `timeZone` (the browser's own when the zone is unknown to it). */
export function inZone(iso, timeZone) {
  if (!iso) return "—";
  const options = { weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat([], { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat([], options).format(new Date(iso));
  }
}

function problemsOf(err) {
  if (err instanceof ApiError && err.problems.length) return err.problems;
  return [messageOf(err)];
}

function ticksView(answer) {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return [
    h("p", { class: "hint" }, `The next ${answer.ticks.length} runs, ${answer.timezone} time:`),
    h(
      "ol",
      { class: "cron-ticks", "aria-label": "Next runs" },
      answer.ticks.map((tick) =>
        h(
          "li",
          {},
          h("time", { datetime: tick.at }, inZone(tick.at, answer.timezone)),
          own && own !== answer.timezone ? h("span", { class: "hint" }, ` (${inZone(tick.at, own)} your time)`) : null,
        ),
      ),
    ),
  ];
}

/**
 * Wire the helper into a form: `presets` (an empty group to fill with
 * buttons), `cron` and `timezone` inputs, `output` for the preview.
 * Answers `{refresh}` to draw the preview again (when the dialog opens).
 */
export function installCronHelper({ presets, cron, timezone, output }) {
  const buttons = PRESETS.map(([expr, label]) =>
    h("button", { type: "button", class: "btn btn-small", dataset: { cron: expr }, "aria-pressed": "false" }, label),
  );
  replace(presets, buttons);
  const markPreset = () => {
    const current = normalise(cron.value);
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.cron === current));
  };

  let inflight = null;
  const preview = async () => {
    inflight?.abort();
    markPreset();
    const expr = cron.value.trim();
    if (!expr) {
      replace(output, "Type a cron expression to see when it runs.");
      output.dataset.state = "empty";
      return;
    }
    const controller = new AbortController();
    inflight = controller;
    const query = new URLSearchParams({ cron: expr, timezone: timezone.value.trim() || "UTC", count: String(PREVIEW_COUNT) });
    try {
      const answer = await api.get(`/schedules/preview?${query}`, { signal: controller.signal });
      if (inflight !== controller) return;
      replace(output, ticksView(answer));
      output.dataset.state = "ok";
    } catch (err) {
      if ((err && err.name === "AbortError") || inflight !== controller) return;
      replace(output, h("ul", { class: "form-error cron-problems" }, problemsOf(err).map((line) => h("li", {}, line))));
      output.dataset.state = "error";
    }
  };
  const later = debounce(preview, PREVIEW_DELAY_MS);
  for (const b of buttons) {
    b.addEventListener("click", () => {
      cron.value = b.dataset.cron;
      preview();
    });
  }
  cron.addEventListener("input", later);
  timezone.addEventListener("input", later);
  timezone.addEventListener("change", later);
  return { refresh: preview };
}
