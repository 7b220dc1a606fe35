// The installed agents: status, health, load, uptime, work done and cost,
// and the controls the session may use: scale, pause/resume, uninstall.

import * as api from "../core/api.js";
import { h } from "../core/dom.js";
import { count, duration, money } from "../core/format.js";
import { confirmAction } from "../ui/confirm.js";
import { showError, toast } from "../ui/notify.js";
import { learningPanel } from "./learning.js";
import { badge, fact, replicasInput } from "./parts.js";

const STATUS_TONE = { active: "ok", inactive: "muted", error: "danger", updating: "info", scaling: "info" };
const HEALTH_TONE = { healthy: "ok", degraded: "warn", unhealthy: "danger" };

function agentPath(agent) {
  return `/agents/${encodeURIComponent(agent.id)}`;
}

async function uninstall(agent, onChanged) {
  const yes = await confirmAction({
    title: `Uninstall ${agent.name}?`,
    message: "It takes no more work; its finished runs and their costs stay on record.",
    confirm: "Uninstall",
  });
  if (!yes) return;
  try {
    await api.del(agentPath(agent));
  } catch (err) {
    // Refused because others depend on it or it has runs: both can be forced.
    const forcible = err.code === "has_dependants" || Boolean(err.details && err.details.runs);
    if (!forcible) return showError(err, `Could not uninstall ${agent.name}`);
    const force = await confirmAction({
      title: `Uninstall ${agent.name} anyway?`,
      message: `${err.message}. Uninstalling it anyway stops its runs.`,
      confirm: "Uninstall anyway",
    });
    if (!force) return;
    try {
      await api.del(`${agentPath(agent)}?force=true`);
    } catch (again) {
      return showError(again, `Could not uninstall ${agent.name}`);
    }
  }
  toast(`${agent.name} is uninstalled.`);
  onChanged();
}

async function change(agent, body, done, onChanged) {
  try {
    await api.patch(agentPath(agent), body);
    toast(done);
    onChanged();
  } catch (err) {
    showError(err, `Could not change ${agent.name}`);
  }
}

function controls(agent, me, onChanged, ceiling) {
  const parts = [];
  if (me.can("agent.scale")) {
    const id = `replicas-${agent.id}`;
    const input = replicasInput(id, agent.replicas, ceiling, `Replicas of ${agent.name}`);
    const form = h(
      "form",
      { class: "inline-form", "aria-label": `Scale ${agent.name}` },
      h("label", { for: id }, "Replicas"),
      input,
      h("button", { type: "submit", class: "btn btn-small" }, "Scale"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!input.reportValidity()) return;
      const replicas = Number(input.value);
      change(agent, { replicas }, `${agent.name} now runs ${replicas} at once.`, onChanged);
    });
    parts.push(form);
  }
  if (me.can("agent.pause")) {
    const paused = agent.status === "inactive";
    const button = h("button", { type: "button", class: "btn btn-small" }, paused ? "Resume" : "Pause");
    button.addEventListener("click", () =>
      change(
        agent,
        { status: paused ? "active" : "inactive" },
        paused ? `${agent.name} takes work again.` : `${agent.name} is paused: it takes no new work.`,
        onChanged,
      ),
    );
    parts.push(button);
  }
  if (me.can("agent.uninstall")) {
    const button = h("button", { type: "button", class: "btn btn-small btn-danger-outline" }, "Uninstall");
    button.addEventListener("click", () => uninstall(agent, onChanged));
    parts.push(button);
  }
  return parts.length ? h("div", { class: "agent-controls" }, parts) : null;
}

function loadText(agent) {
  return `${Math.round(agent.load * 100)}% · ${agent.running} of ${agent.replicas} running`;
}

export function agentCard(agent, me, onChanged, ceiling) {
  return h(
    "article",
    { class: "agent-card", dataset: { id: agent.id }, "aria-labelledby": `agent-${agent.id}` },
    h(
      "header",
      { class: "agent-card-head" },
      h("h3", { id: `agent-${agent.id}` }, agent.name),
      badge(agent.status, STATUS_TONE[agent.status]),
      badge(agent.health, HEALTH_TONE[agent.health]),
    ),
    h("p", { class: "muted" }, `${agent.role} · ${agent.manifest_id} ${agent.manifest_version}`),
    h(
      "dl",
      { class: "facts facts-tight" },
      fact("Load", loadText(agent)),
      fact("Uptime", agent.uptime_seconds ? duration(agent.uptime_seconds * 1000) : "—"),
      fact("Tasks", `${count(agent.tasks_succeeded)} done · ${count(agent.tasks_failed)} failed`),
      fact("Tokens", count(agent.tokens_in + agent.tokens_out)),
      fact("Cost", money(agent.cost_usd)),
    ),
    controls(agent, me, onChanged, ceiling),
    learningPanel(agent),
  );
}

/** `ceilings`: manifest id -> the most tasks its agents may run at once (the replicas limit). */
export function installedList(agents, me, onChanged, ceilings) {
  if (!agents.length) {
    return h("p", { class: "muted" }, "No agent is installed: install one from the catalogue below.");
  }
  return h("div", { class: "agent-grid" }, agents.map((a) => agentCard(a, me, onChanged, ceilings.get(a.manifest_id))));
}
