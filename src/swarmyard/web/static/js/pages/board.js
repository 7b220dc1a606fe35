// The board page: the columns, live through the workspace WebSocket.
//
// The board subscription is made before the snapshot is read, and every copy
// of a task is kept newest-version-wins, so nothing that changes while the
// page loads is lost. After a reconnect the snapshot is read again.

import * as api from "../core/api.js";
import { $ } from "../core/dom.js";
import { statusLabel } from "../core/format.js";
import { live } from "../core/live.js";
import { BoardState } from "../board/state.js";
import { BoardView } from "../board/view.js";
import { installFilters, readFilters } from "../board/filters.js";
import { installMoves } from "../board/moves.js";
import { installNewTask } from "../board/new-task.js";
import { boot } from "../ui/shell.js";
import { renderFatal, showError } from "../ui/notify.js";

const me = await boot();
const root = $("#board");
const state = new BoardState();
const canMove = me.can("task.move");
const view = new BoardView(root, state, { canMove });
let filters = readFilters();

function show(task) {
  if (state.apply(task)) view.upsert(state.get(task.id));
}

async function loadBoard() {
  const query = filters.project ? `?project=${encodeURIComponent(filters.project)}` : "";
  const board = await api.get(`/board${query}`);
  for (const tasks of Object.values(board.columns)) for (const task of tasks) show(task);
}

async function loadAgents() {
  state.setAgents(await api.listAll("/agents"));
  for (const task of state.tasks.values()) view.upsert(task);
}

async function send(taskId, status) {
  const task = state.get(taskId);
  if (!task || task.status === status) return;
  view.placeTentatively(taskId, status);
  try {
    show(await api.patch(`/tasks/${encodeURIComponent(taskId)}`, { status }));
  } catch (err) {
    view.snapBack(state.get(taskId));
    showError(err, `“${task.title}” cannot go to ${statusLabel(status)}`);
  }
}

// One move at a time per card: a second key press while the first move is
// with the API is sent once the first is answered, from where it left the card.
const inFlight = new Map(); // task id -> the last move sent for it

function move(taskId, status) {
  const next = (inFlight.get(taskId) || Promise.resolve()).then(() => send(taskId, status));
  inFlight.set(taskId, next);
  next.finally(() => {
    if (inFlight.get(taskId) === next) inFlight.delete(taskId);
  });
  return next;
}

function onBoardMessage(message) {
  if (message.kind === "task" && message.task) show(message.task);
  else if (message.kind === "agent") loadAgents().catch((err) => showError(err, "Could not read the agents"));
}

live.subscribeBoard(onBoardMessage);
live.onResync(() => loadBoard().catch((err) => showError(err, "Could not read the board again")));

try {
  const [, agents, projects, catalog] = await Promise.all([
    loadBoard(),
    api.listAll("/agents"),
    api.listAll("/projects"),
    api.get("/catalog"),
  ]);
  state.setAgents(agents);
  const roles = [...new Set(catalog.items.map((m) => m.role))].sort();
  view.setFilters(filters);
  for (const task of state.tasks.values()) view.upsert(task);
  installFilters({
    projects,
    roles,
    initial: filters,
    onChange: (next, field) => {
      filters = next;
      view.setFilters(filters);
      if (field === "project") {
        state.clear();
        view.clear();
        loadBoard().catch((err) => showError(err, "Could not read the board"));
      }
    },
  });
  installMoves(view, move, { canMove });
  installNewTask({ me, state, roles, projects, onCreated: show });
  // Only now does the board answer every control: typing a filter earlier would be lost.
  root.removeAttribute("aria-busy");
} catch (err) {
  renderFatal(root, err, "The board could not be loaded");
}
