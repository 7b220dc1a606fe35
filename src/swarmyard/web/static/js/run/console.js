// The run console: a run's status, tokens, cost and duration, a stop
// button, and its event log. A finished run replays its stored events; a
// live one continues with the WebSocket's, from the last one read, so no
// event is missed or shown twice.

import * as api from "../core/api.js";
import { ApprovalPanel } from "./approval.js";
import { h, replace } from "../core/dom.js";
import { clock, count, duration, elapsedMs, money, statusLabel } from "../core/format.js";
import { live } from "../core/live.js";
import { showError, toast } from "../ui/notify.js";
import { SETTLING, describe } from "./events.js";

const TERMINAL = new Set(["succeeded", "failed", "stopped", "timed_out"]);
// Events after which the run's status is read again (it started, parked or goes on).
const REREAD = new Set(["started", "progress", "approval_requested", "approval_decided"]);
const PAGE = 1000;

function eventItem(event) {
  const d = describe(event);
  const detailText = d.details && Object.keys(d.details).length ? JSON.stringify(d.details, null, 2) : null;
  return h(
    "li",
    { class: ["event", `event-type-${event.type}`, d.tone ? `event-tone-${d.tone}` : null], dataset: { seq: String(event.seq), type: event.type } },
    h("span", { class: "event-seq" }, `#${event.seq}`),
    h("time", { class: "event-time", datetime: event.at }, clock(event.at)),
    h("span", { class: "event-type" }, d.label),
    h("span", { class: "event-summary" }, d.summary),
    d.text ? h("pre", { class: "event-text" }, d.text) : null,
    detailText ? h("details", {}, h("summary", {}, "Details"), h("pre", {}, detailText)) : null,
  );
}

function stat(label, key) {
  return h("div", {}, h("dt", {}, label), h("dd", { dataset: { stat: key } }, "—"));
}

export class RunConsole {
  /** `me` decides whether the stop button is offered; `heading` is the title's level. */
  constructor(container, runId, { me, heading = "h2", showTaskLink = true }) {
    this.container = container;
    this.runId = runId;
    this.me = me;
    this.heading = heading;
    this.showTaskLink = showTaskLink;
    this.run = null;
    this.lastSeq = 0;
    this.timer = 0;
    this.unsubscribe = null;
    this.follow = true;
  }

  async start() {
    this.run = await api.get(`/runs/${encodeURIComponent(this.runId)}`);
    this.build();
    this.renderRun();
    await this.replay();
    if (!TERMINAL.has(this.run.status)) {
      this.unsubscribe = live.subscribeRun(this.runId, this.lastSeq, (event) => this.onEvent(event), (message) =>
        showError(new Error(message), "The run's live events stopped"),
      );
      // A run may settle between the read above and the subscription.
      await this.refreshRun();
    }
    this.tick();
    return this;
  }

  dispose() {
    this.unsubscribe?.();
    clearInterval(this.timer);
  }

  build() {
    const Heading = this.heading;
    this.title = h(Heading, { class: "console-title" });
    this.status = h("span", { class: "badge", id: `run-status-${this.runId}`, "data-run-status": "" });
    this.stopButton = h("button", { type: "button", class: "btn btn-danger", hidden: true }, "Stop run");
    this.stopButton.addEventListener("click", () => this.stop());
    this.stats = h(
      "dl",
      { class: "console-stats" },
      stat("Status", "status"),
      stat("Steps", "steps"),
      stat("Tokens in", "tokens_in"),
      stat("Tokens out", "tokens_out"),
      stat("Cost", "cost"),
      stat("Duration", "duration"),
      stat("Model", "model"),
      stat("Attempt", "attempt"),
    );
    this.log = h("ol", { class: "event-log", role: "log", "aria-live": "polite", "aria-label": "Run events" });
    this.approval = new ApprovalPanel(this.runId, this.me, () => this.refreshRun());
    const followBox = h("input", { type: "checkbox", checked: true });
    followBox.addEventListener("change", () => {
      this.follow = followBox.checked;
    });
    this.taskLink = h("p", { class: "breadcrumbs" });
    replace(
      this.container,
      h("div", { class: "detail-head" }, this.title, this.status, h("div", { class: "detail-actions" }, this.stopButton)),
      this.showTaskLink ? this.taskLink : null,
      this.approval.el,
      this.stats,
      h("div", { class: "console-bar" }, h("h3", {}, "Event log"), h("label", {}, followBox, "Follow new events")),
      this.log,
    );
    this.container.removeAttribute("aria-busy");
  }

  renderRun() {
    const run = this.run;
    this.title.textContent = `Run ${run.id} · ${run.role}`;
    this.status.textContent = statusLabel(run.status);
    this.status.className = `badge badge-status-${run.status}`;
    replace(this.taskLink, "Task: ", h("a", { href: `/tasks/${encodeURIComponent(run.task_id)}` }, run.task_id));
    const set = (key, value) => {
      const el = this.stats.querySelector(`[data-stat="${key}"]`);
      if (el) el.textContent = value;
    };
    set("status", statusLabel(run.status));
    set("steps", count(run.steps));
    set("tokens_in", count(run.tokens_in));
    set("tokens_out", count(run.tokens_out));
    set("cost", money(run.cost_usd));
    set("duration", duration(elapsedMs(run.started_at, run.finished_at)));
    set("model", run.model || "—");
    set("attempt", String(run.attempt));
    const stoppable = this.me.can("run.stop") && !TERMINAL.has(run.status);
    this.stopButton.hidden = !stoppable;
    if (run.stop_requested && stoppable) {
      this.stopButton.disabled = true;
      this.stopButton.textContent = "Stopping…";
    }
    if (run.error && TERMINAL.has(run.status)) this.status.title = run.error;
    this.approval.update(run);
  }

  tick() {
    clearInterval(this.timer);
    if (TERMINAL.has(this.run.status)) return;
    // Only the clock on screen moves; nothing is fetched.
    this.timer = setInterval(() => {
      const el = this.stats.querySelector('[data-stat="duration"]');
      if (el) el.textContent = duration(elapsedMs(this.run.started_at, this.run.finished_at));
    }, 1000);
  }

  async replay() {
    for (;;) {
      const page = await api.get(`/runs/${encodeURIComponent(this.runId)}/events?after=${this.lastSeq}&limit=${PAGE}`);
      for (const event of page.items) this.append(event);
      if (page.next_after === null || page.next_after === undefined || !page.items.length) break;
    }
    if (!this.log.children.length) this.log.append(h("li", { class: "event-empty" }, "No events yet."));
  }

  append(event) {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.log.querySelector(".event-empty")?.remove();
    this.log.append(eventItem(event));
    if (this.follow) this.log.scrollTop = this.log.scrollHeight;
  }

  onEvent(event) {
    this.append(event);
    const p = event.payload || {};
    if (event.type === "llm_call") {
      this.run.tokens_in += p.tokens_in || 0;
      this.run.tokens_out += p.tokens_out || 0;
      if (p.run_cost_usd !== undefined) this.run.cost_usd = p.run_cost_usd;
      this.run.model = p.provider ? `${p.provider}:${p.model}` : p.model;
    } else if (event.type === "step") {
      this.run.steps = Math.max(this.run.steps, p.step || 0);
    } else if (event.type === "started" && this.run.status === "pending") {
      this.run.status = "running";
      this.run.started_at = this.run.started_at || event.at;
    }
    this.renderRun();
    if (SETTLING.has(event.type) || REREAD.has(event.type)) this.refreshRun();
  }

  async refreshRun() {
    try {
      this.run = await api.get(`/runs/${encodeURIComponent(this.runId)}`);
      this.renderRun();
      this.tick();
      if (TERMINAL.has(this.run.status)) this.unsubscribe?.();
    } catch (err) {
      showError(err, "Could not read the run");
    }
  }

  async stop() {
    this.stopButton.disabled = true;
    this.stopButton.textContent = "Stopping…";
    try {
      this.run = await api.post(`/runs/${encodeURIComponent(this.runId)}/stop`);
      this.renderRun();
      toast("Stop requested: the run stops after its current step.");
    } catch (err) {
      this.stopButton.disabled = false;
      this.stopButton.textContent = "Stop run";
      showError(err, "Could not stop the run");
    }
  }
}
