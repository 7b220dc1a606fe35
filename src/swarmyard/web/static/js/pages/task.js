// The task page: what the task is, what it waits for, what it delegated,
// its runs, and the console of its latest run, all kept live by the board's
// WebSocket messages (the task, its subtasks and its dependencies).

import * as api from "../core/api.js";
import { $, h, replace } from "../core/dom.js";
import { live } from "../core/live.js";
import { RunConsole } from "../run/console.js";
import { facts, runsTable, statusBadge, taskList } from "../task/parts.js";
import { confirmAction } from "../ui/confirm.js";
import { renderFatal, showError, toast } from "../ui/notify.js";
import { boot } from "../ui/shell.js";

const me = await boot();
const root = $("#task");
const taskId = root.dataset.taskId;
const path = `/tasks/${encodeURIComponent(taskId)}`;

let task = null;
let agents = new Map();
const related = { deps: new Map(), subtasks: new Map() };
let runConsole = null;

const parts = {
  title: h("h1", {}),
  status: h("span", {}),
  actions: h("div", { class: "detail-actions" }),
  facts: h("div", {}),
  waiting: h("p", { class: "notice", role: "status", hidden: true }),
  description: h("p", { class: "prose" }),
  result: h("section", { class: "section", hidden: true, "aria-labelledby": "result-title" }),
  deps: h("div", {}),
  subtasks: h("div", {}),
  runs: h("div", {}),
  console: h("div", { class: "detail", "aria-busy": "true" }),
};

function section(id, title, body) {
  return h("section", { class: "section", "aria-labelledby": id }, h("h2", { id }, title), body);
}

function layout() {
  replace(
    root,
    h("p", { class: "breadcrumbs" }, h("a", { href: "/board" }, "Board"), " / task"),
    h("div", { class: "detail-head" }, parts.title, parts.status, parts.actions),
    parts.facts,
    parts.waiting,
    section("description-title", "Description", parts.description),
    parts.result,
    section("deps-title", "Depends on", parts.deps),
    section("subtasks-title", "Subtasks", parts.subtasks),
    section("runs-title", "Runs", parts.runs),
    section("console-title", "Latest run", parts.console),
  );
  root.removeAttribute("aria-busy");
}

function who(t) {
  if (!t.assignee_agent_id) return "—";
  const agent = agents.get(t.assignee_agent_id);
  return agent ? `${agent.name} (${agent.role})` : t.assignee_agent_id;
}

async function cancelTask() {
  const yes = await confirmAction({
    title: "Cancel this task?",
    message: `“${task.title}”, its open subtasks and their runs will be stopped. This cannot be undone.`,
    confirm: "Cancel the task",
  });
  if (!yes) return;
  try {
    showTask(await api.del(path));
    toast("The task is cancelled.");
  } catch (err) {
    showError(err, "Could not cancel the task");
  }
}

function showTask(next) {
  if (task && next.version < task.version) return;
  const statusChanged = !task || task.status !== next.status || task.attempts !== next.attempts;
  task = next;
  document.title = `${task.title} · Swarmyard`;
  parts.title.textContent = task.title;
  replace(parts.status, statusBadge(task.status));
  replace(parts.facts, facts(task, who(task)));
  parts.waiting.hidden = !task.waiting_reason;
  parts.waiting.textContent = task.waiting_reason ? `Waiting: ${task.waiting_reason}` : "";
  parts.description.textContent = task.description || "No description.";
  parts.result.hidden = !task.result;
  replace(parts.result, h("h2", { id: "result-title" }, "Result"), h("pre", { class: "prose" }, task.result || ""));
  const cancellable = me.can("task.cancel") && !["done", "cancelled"].includes(task.status);
  replace(parts.actions, cancellable ? h("button", { type: "button", class: "btn btn-danger", id: "cancel-task", onClick: cancelTask }, "Cancel task") : null);
  if (statusChanged) loadRuns().catch((err) => showError(err, "Could not read the runs"));
}

function showRelated() {
  const sorted = (map) => [...map.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  replace(parts.deps, taskList(sorted(related.deps), "No dependencies."));
  replace(parts.subtasks, taskList(sorted(related.subtasks), "No subtasks."));
}

// One read at a time: two at once could each start a console for the same run.
let runsRead = Promise.resolve();
function loadRuns() {
  runsRead = runsRead.catch(() => {}).then(readRuns);
  return runsRead;
}

async function readRuns() {
  const runs = (await api.get(`${path}/runs`)).items;
  replace(parts.runs, runsTable(runs));
  const latest = runs.reduce((a, b) => (!a || b.created_at > a.created_at ? b : a), null);
  if (!latest) {
    replace(parts.console, h("p", { class: "muted" }, "The console appears once an agent takes the task."));
    parts.console.removeAttribute("aria-busy");
    return;
  }
  if (runConsole && runConsole.runId === latest.id) return;
  runConsole?.dispose();
  runConsole = new RunConsole(parts.console, latest.id, { me, heading: "h3" });
  await runConsole.start();
}

// A dependency that cannot be read (gone, or never ours) is named, not fatal.
function readDependency(id) {
  return api.get(`/tasks/${encodeURIComponent(id)}`).catch(() => ({
    id,
    title: id,
    status: "unknown",
    type: "?",
    cost_usd: 0,
    version: -1,
    created_at: "",
  }));
}

async function loadAll() {
  const [t, agentList, subtasks] = await Promise.all([
    api.get(path),
    api.listAll("/agents"),
    api.listAll(`/tasks?parent=${encodeURIComponent(taskId)}`),
  ]);
  const deps = await Promise.all(t.depends_on.map(readDependency));
  agents = new Map(agentList.map((a) => [a.id, a]));
  related.subtasks = new Map(subtasks.map((s) => [s.id, s]));
  related.deps = new Map(deps.map((d) => [d.id, d]));
  task = null; // a fresh read is the truth, whatever version was shown before
  showTask(t);
  showRelated();
}

function onBoardMessage(message) {
  if (message.kind !== "task" || !message.task) return;
  const changed = message.task;
  if (changed.id === taskId) {
    showTask(changed);
    return;
  }
  const keep = (map) => {
    const known = map.get(changed.id);
    if (!known || known.version <= changed.version) map.set(changed.id, changed);
  };
  if (changed.parent_id === taskId) keep(related.subtasks);
  else if (related.deps.has(changed.id)) keep(related.deps);
  else return;
  showRelated();
}

live.subscribeBoard(onBoardMessage);
live.onResync(() => loadAll().catch((err) => showError(err, "Could not read the task again")));

try {
  layout();
  await loadAll();
} catch (err) {
  renderFatal(root, err, "This task could not be loaded");
}
